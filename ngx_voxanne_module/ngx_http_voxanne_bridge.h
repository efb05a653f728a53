
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_BRIDGE_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_BRIDGE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The realtime agent: a Media Streams call bridged to an OpenAI Realtime
 * (GA) session over ngx_http_voxanne_wsc.c.  media.c calls in at each
 * step of the stream; the bridge writes to Twilio through media.c's
 * output, and closes the stream as failed when the provider fails.
 */


/* the causes the metrics count: the client's, then an "error" event */

#define NGX_HTTP_VOXANNE_BRIDGE_ERROR   NGX_HTTP_VOXANNE_WSC_CAUSES
#define NGX_HTTP_VOXANNE_BRIDGE_CAUSES  (NGX_HTTP_VOXANNE_WSC_CAUSES + 1)


extern ngx_str_t  ngx_http_voxanne_bridge_causes[];


char *ngx_http_voxanne_bridge_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_voxanne_bridge_merge(ngx_conf_t *cf,
    ngx_http_voxanne_loc_conf_t *prev, ngx_http_voxanne_loc_conf_t *conf);

/*
 * The stream.  start(): after "start" was accepted, NGX_DECLINED when the
 * call's agent is the echo; media(): a caller's "media" payload; mark(): a
 * mark Twilio played; dtmf(): a key the caller pressed; writable(): whether
 * the next Twilio message may be read (the provider's output has room);
 * drained(): Twilio's output has drained; end(): from the request's pool
 * cleanup.
 */

ngx_int_t ngx_http_voxanne_bridge_start(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx);
void ngx_http_voxanne_bridge_media(ngx_http_voxanne_bridge_t *b,
    ngx_str_t *payload);
void ngx_http_voxanne_bridge_mark(ngx_http_voxanne_bridge_t *b,
    ngx_str_t *name);
void ngx_http_voxanne_bridge_dtmf(ngx_http_voxanne_bridge_t *b,
    ngx_str_t *digit);
ngx_uint_t ngx_http_voxanne_bridge_writable(ngx_http_voxanne_bridge_t *b);
void ngx_http_voxanne_bridge_drained(ngx_http_voxanne_bridge_t *b);
void ngx_http_voxanne_bridge_end(ngx_http_voxanne_bridge_t *b);


#endif /* _NGX_HTTP_VOXANNE_BRIDGE_H_INCLUDED_ */
