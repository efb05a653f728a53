
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_TWIML_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_TWIML_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * TwiML documents from a format: "%V" copies an ngx_str_t *, "%E" copies it
 * XML-escaped (attribute values and text alike), "%%" is "%".  A pure codec:
 * with dst NULL it only counts, so the caller allocates exactly once.
 */


#define NGX_HTTP_VOXANNE_TWIML_HEADER                                         \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"


size_t ngx_http_voxanne_twiml_format(u_char *dst, const char *fmt,
    va_list args);


#endif /* _NGX_HTTP_VOXANNE_TWIML_H_INCLUDED_ */
