
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_CALLS_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_CALLS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The calls of every worker in one shared zone: a CallSid -> call tree for
 * the state machine of status callbacks, and a tenant -> active calls tree
 * for max_calls.  Until the PostgreSQL issue lands this is the call record;
 * each change is also logged as a call event.
 */


#define NGX_HTTP_VOXANNE_SID_MAX  64
#define NGX_HTTP_VOXANNE_CALL_MAX  (4 * 60 * 60)    /* Twilio's timeLimit */


typedef enum {
    NGX_HTTP_VOXANNE_CALL_QUEUED = 0,
    NGX_HTTP_VOXANNE_CALL_INITIATED,
    NGX_HTTP_VOXANNE_CALL_RINGING,
    NGX_HTTP_VOXANNE_CALL_IN_PROGRESS,
    NGX_HTTP_VOXANNE_CALL_COMPLETED,
    NGX_HTTP_VOXANNE_CALL_BUSY,
    NGX_HTTP_VOXANNE_CALL_FAILED,
    NGX_HTTP_VOXANNE_CALL_NO_ANSWER,
    NGX_HTTP_VOXANNE_CALL_CANCELED
} ngx_http_voxanne_call_status_e;


typedef struct ngx_http_voxanne_calls_sh_s  ngx_http_voxanne_calls_sh_t;


typedef struct {
    ngx_http_voxanne_calls_sh_t  *sh;
    ngx_slab_pool_t              *shpool;
    time_t                        ttl;     /* voxanne_stream_timeout */
} ngx_http_voxanne_calls_ctx_t;


extern ngx_str_t  ngx_http_voxanne_call_statuses[];


ngx_int_t ngx_http_voxanne_calls_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
ngx_int_t ngx_http_voxanne_calls_status_parse(ngx_str_t *s);
ngx_int_t ngx_http_voxanne_calls_start(ngx_shm_zone_t *shm_zone,
    ngx_str_t *tenant, ngx_uint_t max, ngx_str_t *sid, ngx_uint_t status,
    ngx_log_t *log);
ngx_int_t ngx_http_voxanne_calls_status(ngx_shm_zone_t *shm_zone,
    ngx_str_t *tenant, ngx_str_t *sid, ngx_uint_t status, ngx_int_t seq,
    ngx_uint_t *prev);
ngx_int_t ngx_http_voxanne_calls_stream(ngx_shm_zone_t *shm_zone,
    ngx_str_t *tenant, ngx_str_t *sid);
ngx_int_t ngx_http_voxanne_calls_end(ngx_shm_zone_t *shm_zone,
    ngx_str_t *tenant, ngx_str_t *sid);


#endif /* _NGX_HTTP_VOXANNE_CALLS_H_INCLUDED_ */
