
/*
 * Copyright (C) Voxanne Edge
 *
 * What the C tools in scripts/ (callsim, mock-realtime) share.
 */


#ifndef _TOOLS_H_INCLUDED_
#define _TOOLS_H_INCLUDED_


#include <stddef.h>

#include <libwebsockets.h>


/* a timerfd that an lws loop watches: see tools_clock_init() */

typedef struct tools_clock_s  tools_clock_t;

typedef void (*tools_clock_pt)(tools_clock_t *clock);

struct tools_clock_s {
    struct lws                *wsi;                /* NULL once closed */
    int                        fd;
    lws_usec_t                 at;                 /* armed for, or 0 */
    tools_clock_pt             tick;
    void                      *data;
    unsigned                   stopped:1;          /* arms no more */
};


char *tools_read_file(const char *prog, const char *path, size_t *len);
unsigned char tools_ulaw(int sample);
int tools_clock_init(tools_clock_t *clock, struct lws_vhost *vh,
    const char *protocol, const char *prog);
void tools_clock_arm(tools_clock_t *clock, lws_usec_t due);
int tools_clock_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len);


#endif /* _TOOLS_H_INCLUDED_ */
