
/*
 * Copyright (C) Voxanne Edge
 *
 * What the C tools in scripts/ (callsim, mock-realtime) share.
 */


#ifndef _TOOLS_H_INCLUDED_
#define _TOOLS_H_INCLUDED_


#include <stddef.h>


char *tools_read_file(const char *prog, const char *path, size_t *len);
unsigned char tools_ulaw(int sample);


#endif /* _TOOLS_H_INCLUDED_ */
