
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_MEDIA_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_MEDIA_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_VOXANNE_MEDIA_OUT            16384


typedef enum {
    NGX_HTTP_VOXANNE_MEDIA_OPEN = 0,      /* waiting for "connected" */
    NGX_HTTP_VOXANNE_MEDIA_CONNECTED,     /* waiting for "start" */
    NGX_HTTP_VOXANNE_MEDIA_STARTED,
    NGX_HTTP_VOXANNE_MEDIA_CLOSING        /* our close frame is queued */
} ngx_http_voxanne_media_state_e;


/* a Media Streams WebSocket: the stream's state, in the request's ctx */

typedef struct {
    ngx_http_voxanne_tenant_t     *tenant;
    ngx_uint_t                     state;
    ngx_http_voxanne_ws_t          ws;

    ngx_buf_t                      in;       /* read from the socket */
    ngx_buf_t                      out;      /* frames to send */
    u_char                        *msg;      /* a text message in pieces */
    size_t                         msg_len;
    size_t                         msg_size;
    u_char                         ctrl[NGX_HTTP_VOXANNE_WS_CONTROL_MAX];
    size_t                         ctrl_len;

    ngx_str_t                      stream_sid;
    ngx_str_t                      call_sid;
    u_char                         sids[2 * NGX_HTTP_VOXANNE_SID_MAX];

    ngx_http_voxanne_call_stats_t  stats;
    ngx_uint_t                     counted_in;   /* frames in the metrics */
    ngx_uint_t                     counted_out;
    time_t                         reported;     /* to the call table */
    ngx_uint_t                     close_code;

    ngx_http_voxanne_bridge_t     *bridge;   /* the realtime agent */

    unsigned                       live:1;   /* the call is in the table */
    unsigned                       stopped:1;
    unsigned                       paused:1; /* reading waits for the output */
    unsigned                       eof:1;
} ngx_http_voxanne_media_ctx_t;


char *ngx_http_voxanne_media_stream(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * For the agents.  send() queues a frame to Twilio (data may lie in
 * ctx->out already, after NGX_HTTP_VOXANNE_WS_HEADER_MAX bytes of room);
 * close() queues the stream's close frame; write() sends what is queued,
 * and may end the request.
 */

ngx_int_t ngx_http_voxanne_media_send(ngx_http_voxanne_media_ctx_t *ctx,
    ngx_uint_t opcode, u_char *data, size_t len);
void ngx_http_voxanne_media_close(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx, ngx_uint_t code, const char *reason);
void ngx_http_voxanne_media_write(ngx_http_request_t *r);


#endif /* _NGX_HTTP_VOXANNE_MEDIA_H_INCLUDED_ */
