
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_STREAM_MSG_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_STREAM_MSG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>


/*
 * A Twilio Media Streams message (protocols.md, section 4.2), read into the
 * fields the edge uses.  A pure codec (libc and jansson, no I/O) so that
 * unit tests and fuzzers drive it directly; the strings point into the
 * parsed JSON, which ngx_http_voxanne_stream_msg_free() releases.
 */


typedef enum {
    NGX_HTTP_VOXANNE_MSG_CONNECTED = 0,
    NGX_HTTP_VOXANNE_MSG_START,
    NGX_HTTP_VOXANNE_MSG_MEDIA,
    NGX_HTTP_VOXANNE_MSG_DTMF,
    NGX_HTTP_VOXANNE_MSG_MARK,
    NGX_HTTP_VOXANNE_MSG_STOP,
    NGX_HTTP_VOXANNE_MSG_OTHER
} ngx_http_voxanne_stream_event_e;


typedef struct {
    ngx_uint_t   event;
    ngx_str_t    stream_sid;    /* start; every message after it */
    ngx_str_t    call_sid;      /* start */
    ngx_str_t    tenant;        /* start.customParameters */
    ngx_str_t    token;
    ngx_str_t    payload;       /* media: base64 */
    ngx_str_t    digit;         /* dtmf */
    ngx_str_t    mark;          /* mark: its name */
    const char  *error;         /* why a message was refused */
    json_t      *json;
} ngx_http_voxanne_stream_msg_t;


ngx_int_t ngx_http_voxanne_stream_msg_parse(ngx_http_voxanne_stream_msg_t *msg,
    u_char *data, size_t len);
void ngx_http_voxanne_stream_msg_free(ngx_http_voxanne_stream_msg_t *msg);

/* shared with the provider's events (ngx_http_voxanne_rt_msg.c) */

ngx_int_t ngx_http_voxanne_stream_msg_get(json_t *object, const char *name,
    const char *member, size_t max, ngx_str_t *value);
ngx_uint_t ngx_http_voxanne_stream_msg_base64(ngx_str_t *s);


#endif /* _NGX_HTTP_VOXANNE_STREAM_MSG_H_INCLUDED_ */
