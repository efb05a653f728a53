
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
#define NGX_HTTP_VOXANNE_PARTY_MAX  64          /* of From and To */
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


/* what a voice webhook decided, counted per tenant */

typedef enum {
    NGX_HTTP_VOXANNE_OUTCOME_CONNECTED = 0,
    NGX_HTTP_VOXANNE_OUTCOME_AFTER_HOURS,
    NGX_HTTP_VOXANNE_OUTCOME_BUSY,
    NGX_HTTP_VOXANNE_OUTCOME_LIMITED,
    NGX_HTTP_VOXANNE_OUTCOME_FALLBACK,
    NGX_HTTP_VOXANNE_OUTCOMES
} ngx_http_voxanne_outcome_e;


/* webhooks per tenant, route (ngx_http_voxanne_route_e) and result */

#define NGX_HTTP_VOXANNE_ROUTES  6

typedef enum {
    NGX_HTTP_VOXANNE_RESULT_OK = 0,
    NGX_HTTP_VOXANNE_RESULT_FORBIDDEN,
    NGX_HTTP_VOXANNE_RESULT_INVALID,
    NGX_HTTP_VOXANNE_RESULTS
} ngx_http_voxanne_result_e;


/* counters of the whole edge, updated without the lock */

typedef enum {
    NGX_HTTP_VOXANNE_SIGNATURE_FAILURES = 0,
    NGX_HTTP_VOXANNE_RATE_LIMITED,
    NGX_HTTP_VOXANNE_UNKNOWN_NUMBERS,
    NGX_HTTP_VOXANNE_WS_FRAMES_IN,
    NGX_HTTP_VOXANNE_WS_FRAMES_OUT,
    NGX_HTTP_VOXANNE_STORE_WRITTEN,      /* the call path's writes */
    NGX_HTTP_VOXANNE_STORE_SPOOLED,
    NGX_HTTP_VOXANNE_STORE_REPLAYED,
    NGX_HTTP_VOXANNE_STORE_FAILED,
    NGX_HTTP_VOXANNE_STORE_LOST,
    NGX_HTTP_VOXANNE_CLOSE_CODES,        /* the first of the close codes */
    NGX_HTTP_VOXANNE_RT_DROPPED = NGX_HTTP_VOXANNE_CLOSE_CODES + 9,
    NGX_HTTP_VOXANNE_RT_FAILURES,        /* the first of the 10 causes */
    NGX_HTTP_VOXANNE_RT_RECOVERED = NGX_HTTP_VOXANNE_RT_FAILURES + 10,
    NGX_HTTP_VOXANNE_COUNTERS
} ngx_http_voxanne_counter_e;


typedef struct {
    ngx_str_node_t                    sn;       /* the tenant name */
    ngx_uint_t                        active;   /* calls holding a slot */
    ngx_atomic_t                      outcomes[NGX_HTTP_VOXANNE_OUTCOMES];
    ngx_atomic_t                      webhooks[NGX_HTTP_VOXANNE_ROUTES]
                                              [NGX_HTTP_VOXANNE_RESULTS];
    u_char                            data[1];
} ngx_http_voxanne_calls_tenant_t;


/* what a stream carried, reported by its worker */

typedef struct {
    ngx_uint_t                        frames_in;
    ngx_uint_t                        frames_out;
    ngx_uint_t                        bytes_in;     /* frame payloads */
    ngx_uint_t                        bytes_out;
    ngx_uint_t                        media;        /* media messages in */
    ngx_uint_t                        marks;        /* marks sent */
    ngx_uint_t                        played;       /* marks echoed */
} ngx_http_voxanne_call_stats_t;


typedef struct {
    ngx_str_node_t                    sn;       /* the CallSid */
    ngx_queue_t                       queue;    /* by expiry, newest first */
    ngx_uint_t                        live;     /* its stream has started */
    time_t                            expires;
    ngx_int_t                         seq;      /* the last SequenceNumber */
    ngx_uint_t                        status;
    ngx_uint_t                        active;   /* holds a tenant slot */
    ngx_http_voxanne_calls_tenant_t  *tenant;
    time_t                            started;
    ngx_pid_t                         pid;      /* the stream's worker */
    ngx_uint_t                        failed;   /* its stream failed */
    time_t                            reported; /* the stream's last report */
    ngx_http_voxanne_call_stats_t     stats;
    ngx_str_t                         from;     /* in data, after the sid */
    ngx_str_t                         to;
    size_t                            stream_len;
    u_char                            stream[NGX_HTTP_VOXANNE_SID_MAX];
    size_t                            transfer_len; /* 0: no transfer */
    u_char                            transfer[NGX_HTTP_VOXANNE_PARTY_MAX];
    u_char                            data[1];
} ngx_http_voxanne_call_t;


struct ngx_http_voxanne_calls_sh_s {
    ngx_rbtree_t                      calls;
    ngx_rbtree_node_t                 calls_sentinel;
    ngx_rbtree_t                      tenants;
    ngx_rbtree_node_t                 tenants_sentinel;
    ngx_queue_t                       queue;    /* pending and ended */
    ngx_queue_t                       live;     /* streaming, by start */
    ngx_atomic_t                      counters[NGX_HTTP_VOXANNE_COUNTERS];
};



typedef struct ngx_http_voxanne_calls_sh_s  ngx_http_voxanne_calls_sh_t;


typedef struct {
    ngx_http_voxanne_calls_sh_t  *sh;
    ngx_slab_pool_t              *shpool;
    time_t                        ttl;     /* voxanne_session_zone timeout= */
} ngx_http_voxanne_calls_ctx_t;


extern ngx_str_t   ngx_http_voxanne_call_statuses[];
extern char       *ngx_http_voxanne_call_outcomes[];
extern ngx_uint_t  ngx_http_voxanne_ws_close_codes[];


char *ngx_http_voxanne_session_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_voxanne_calls_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
ngx_int_t ngx_http_voxanne_calls_status_parse(ngx_str_t *s);
ngx_int_t ngx_http_voxanne_calls_start(ngx_shm_zone_t *shm_zone,
    ngx_str_t *tenant, ngx_uint_t max, ngx_str_t *sid, ngx_str_t *parties,
    ngx_uint_t status, ngx_log_t *log);
ngx_int_t ngx_http_voxanne_calls_status(ngx_shm_zone_t *shm_zone,
    ngx_str_t *tenant, ngx_str_t *sid, ngx_uint_t status, ngx_int_t seq,
    ngx_uint_t *prev);
ngx_int_t ngx_http_voxanne_calls_stream(ngx_shm_zone_t *shm_zone,
    ngx_str_t *tenant, ngx_str_t *sid, ngx_str_t *stream);
ngx_int_t ngx_http_voxanne_calls_report(ngx_shm_zone_t *shm_zone,
    ngx_str_t *tenant, ngx_str_t *sid, ngx_http_voxanne_call_stats_t *stats);
ngx_int_t ngx_http_voxanne_calls_end(ngx_shm_zone_t *shm_zone,
    ngx_str_t *tenant, ngx_str_t *sid, ngx_int_t failed, ngx_uint_t *ended);
ngx_int_t ngx_http_voxanne_calls_transfer(ngx_shm_zone_t *shm_zone,
    ngx_str_t *tenant, ngx_str_t *sid, ngx_str_t *number);
size_t ngx_http_voxanne_calls_number(ngx_shm_zone_t *shm_zone,
    ngx_str_t *tenant, ngx_str_t *sid, ngx_uint_t transfer, u_char *number);
void ngx_http_voxanne_calls_webhook(ngx_shm_zone_t *shm_zone,
    ngx_str_t *tenant, void **node, ngx_uint_t route, ngx_uint_t result,
    ngx_int_t outcome);
void ngx_http_voxanne_calls_count(ngx_shm_zone_t *shm_zone,
    ngx_uint_t counter, ngx_uint_t n);
void ngx_http_voxanne_calls_close(ngx_shm_zone_t *shm_zone, ngx_uint_t code);


#endif /* _NGX_HTTP_VOXANNE_CALLS_H_INCLUDED_ */
