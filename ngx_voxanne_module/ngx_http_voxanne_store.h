
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
 *     vapi_call    org, Vapi call id, what the message said (JSON), at
 *     vapi_report  org, Vapi call id, the end-of-call report (JSON), at
 *             (sql/008_outcomes.sql)
 *
 * at is Unix time in seconds (with a fraction); a NULL parameter has
 * data NULL.  store_call() and store_event() fill in the tenant and the
 * time; an event's payload is built by jansson's json_pack() from fmt.
 *
 * A turn's text has its card and social security numbers redacted first
 * (voxanne_redact, on by default); ngx_http_voxanne_store_redact() does
 * the same for the turns and summary of a Vapi report.
 */


typedef enum {
    NGX_HTTP_VOXANNE_STORE_CALL = 0,
    NGX_HTTP_VOXANNE_STORE_EVENT,
    NGX_HTTP_VOXANNE_STORE_TURN,
    NGX_HTTP_VOXANNE_STORE_VAPI_CALL,
    NGX_HTTP_VOXANNE_STORE_VAPI_REPORT,
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
void ngx_http_voxanne_store_vapi(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_uint_t statement, ngx_str_t *call_id,
    json_t *data);
ngx_uint_t ngx_http_voxanne_store_on(ngx_http_request_t *r);
ngx_int_t ngx_http_voxanne_store_redact(ngx_http_voxanne_main_conf_t *vmcf,
    ngx_str_t *text, u_char **buf, ngx_log_t *log);
ngx_int_t ngx_http_voxanne_store_init_conf(ngx_conf_t *cf,
    ngx_http_voxanne_main_conf_t *vmcf);
ngx_int_t ngx_http_voxanne_store_init_process(ngx_cycle_t *cycle,
    ngx_http_voxanne_main_conf_t *vmcf);
void ngx_http_voxanne_store_exit_process(ngx_http_voxanne_main_conf_t *vmcf);


#endif /* _NGX_HTTP_VOXANNE_STORE_H_INCLUDED_ */
