
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_STORE_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_STORE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The call path's writes to PostgreSQL, never waited on: each is one of
 * the statements below (sql/004_call_writes.sql) and goes to the worker's
 * pool; one the database cannot take now (down, too slow, its queue full)
 * goes to the spool, and is replayed from there once the database answers
 * again.  Without voxanne_db nothing is written.
 *
 *     call   org, CallSid, From, To, CallStatus, at, duration
 *     event  org, CallSid, key, type, payload (JSON), at
 *     turn   org, CallSid, seq, role (caller, agent, tool), text, at
 *
 * at is Unix time in seconds (with a fraction); a NULL parameter has
 * data NULL.  store_call() and store_event() fill in the tenant and the
 * time; an event's payload is built by jansson's json_pack() from fmt.
 */


typedef enum {
    NGX_HTTP_VOXANNE_STORE_CALL = 0,
    NGX_HTTP_VOXANNE_STORE_EVENT,
    NGX_HTTP_VOXANNE_STORE_TURN,
    NGX_HTTP_VOXANNE_STORE_STATEMENTS
} ngx_http_voxanne_store_e;


#define NGX_HTTP_VOXANNE_STORE_PARAMS  7

void ngx_http_voxanne_store(ngx_http_request_t *r, ngx_uint_t statement,
    ngx_str_t *params);
void ngx_http_voxanne_store_call(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *call_sid, ngx_str_t *from,
    ngx_str_t *to, ngx_str_t *status, ngx_str_t *duration);
void ngx_http_voxanne_store_turn(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *call_sid, ngx_uint_t seq,
    char *role, ngx_str_t *text);
void ngx_http_voxanne_store_event(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *call_sid, const char *key,
    const char *type, const char *fmt, ...);
ngx_int_t ngx_http_voxanne_store_init_process(ngx_cycle_t *cycle,
    ngx_http_voxanne_main_conf_t *vmcf);
void ngx_http_voxanne_store_exit_process(ngx_http_voxanne_main_conf_t *vmcf);


#endif /* _NGX_HTTP_VOXANNE_STORE_H_INCLUDED_ */
