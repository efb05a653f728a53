
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_DB_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_DB_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <libpq-fe.h>


/*
 * The PostgreSQL connection pool of a worker (voxanne_db): libpq connections
 * in non-blocking and pipeline mode, each socket wrapped in an
 * ngx_connection_t and driven by nginx events, one query at a time per
 * connection, and a bounded queue of queries waiting for one.
 *
 * ngx_http_voxanne_db_conf.c: the directive;
 * ngx_http_voxanne_db.c: the pool, its queue and the API;
 * ngx_http_voxanne_db_conn.c: one connection's state machine.
 */


#define NGX_HTTP_VOXANNE_DB_NAME_MAX    63      /* PostgreSQL's NAMEDATALEN */
#define NGX_HTTP_VOXANNE_DB_PARAMS_MAX  64

#define NGX_HTTP_VOXANNE_DB_SET_ORG                                           \
    "SELECT set_config('app.org_id', $1, true), "                             \
    "set_config('statement_timeout', '%M', true)"


typedef struct ngx_http_voxanne_db_pool_s   ngx_http_voxanne_db_pool_t;
typedef struct ngx_http_voxanne_db_conn_s   ngx_http_voxanne_db_conn_t;
typedef struct ngx_http_voxanne_db_query_s  ngx_http_voxanne_db_query_t;


/* how a query ended, in q->status when its handler runs */

typedef enum {
    NGX_HTTP_VOXANNE_DB_OK = 0,       /* res: its result */
    NGX_HTTP_VOXANNE_DB_ERROR,        /* res: the server's error (SQLSTATE) */
    NGX_HTTP_VOXANNE_DB_TIMEOUT,      /* no answer or no connection in time,
                                         or the server's statement_timeout */
    NGX_HTTP_VOXANNE_DB_DOWN,         /* cannot connect, connection lost */
    NGX_HTTP_VOXANNE_DB_CLOSED        /* the worker is exiting */
} ngx_http_voxanne_db_status_e;


/*
 * Called once per accepted query, never from inside
 * ngx_http_voxanne_db_query() or _cancel().  res is cleared when it returns:
 * read what is needed from it first.  q->error holds the message of a
 * failure (trimmed, one line), valid until the handler returns.
 */

typedef void (*ngx_http_voxanne_db_handler_pt)(ngx_http_voxanne_db_query_t *q,
    PGresult *res);


typedef enum {
    NGX_HTTP_VOXANNE_DB_QUERY_NEW = 0,
    NGX_HTTP_VOXANNE_DB_QUERY_WAITING,
    NGX_HTTP_VOXANNE_DB_QUERY_RUNNING,
    NGX_HTTP_VOXANNE_DB_QUERY_DONE
} ngx_http_voxanne_db_query_state_e;


struct ngx_http_voxanne_db_query_s {
    /* set by the caller */
    const char                       *sql;
    const char                       *name;     /* a prepared statement */
    ngx_str_t                        *params;   /* text; data NULL: NULL */
    ngx_uint_t                        nparams;
    ngx_str_t                         org_id;   /* app.org_id for RLS */
    ngx_http_voxanne_db_handler_pt    handler;
    void                             *data;
    ngx_log_t                        *log;

    /* set for the handler */
    ngx_uint_t                        status;   /* _db_status_e */
    ngx_str_t                         error;

    /* private */
    ngx_uint_t                        state;    /* _db_query_state_e */
    ngx_queue_t                       queue;
    ngx_msec_t                        deadline;
    ngx_http_voxanne_db_pool_t       *pool;
    ngx_http_voxanne_db_conn_t       *conn;
};


typedef struct {
    const char                      **keywords;  /* NULL: no voxanne_db */
    const char                      **values;
    ngx_uint_t                        size;
    ngx_uint_t                        queue;
    ngx_msec_t                        connect_timeout;
    ngx_msec_t                        query_timeout;
    ngx_msec_t                        idle_timeout;
    ngx_http_voxanne_db_pool_t       *pool;      /* the worker's */
} ngx_http_voxanne_db_conf_t;


typedef struct {
    ngx_uint_t                        connections;  /* idle or busy */
    ngx_uint_t                        idle;
    ngx_uint_t                        connecting;
    ngx_uint_t                        queued;
    ngx_uint_t                        down;         /* a connect failed last */
} ngx_http_voxanne_db_stats_t;


/* private: shared by the two source files */

typedef enum {
    NGX_HTTP_VOXANNE_DB_FREE = 0,
    NGX_HTTP_VOXANNE_DB_CONNECTING,
    NGX_HTTP_VOXANNE_DB_IDLE,
    NGX_HTTP_VOXANNE_DB_BUSY
} ngx_http_voxanne_db_conn_state_e;


struct ngx_http_voxanne_db_conn_s {
    ngx_http_voxanne_db_pool_t       *pool;
    ngx_uint_t                        state;    /* _db_conn_state_e */
    PGconn                           *pg;
    ngx_connection_t                 *c;        /* wraps PQsocket() */
    ngx_file_uniq_t                   uniq;     /* of that socket */
    ngx_event_t                       timer;    /* connect, query, idle */
    ngx_log_t                         log;

    ngx_pool_t                       *mem;      /* the prepared names */
    ngx_array_t                       prepared; /* ngx_str_t */
    u_char                            preparing[NGX_HTTP_VOXANNE_DB_NAME_MAX];
    size_t                            preparing_len;

    ngx_http_voxanne_db_query_t      *query;    /* NULL: none or cancelled */
    ngx_int_t                         step;     /* commands answered */
    ngx_int_t                         query_step;
    ngx_int_t                         prepare_step;
    PGresult                         *result;
    PGresult                         *error;

    unsigned                          want_write:1;
    unsigned                          flushing:1;
};


struct ngx_http_voxanne_db_pool_s {
    ngx_http_voxanne_db_conf_t       *conf;
    ngx_http_voxanne_db_conn_t       *conns;    /* conf->size */
    ngx_queue_t                       waiting;
    ngx_uint_t                        nwaiting;
    ngx_event_t                       wait_timer;
    ngx_event_t                       dispatch; /* posted */
    ngx_log_t                         log;

    ngx_uint_t                        failures; /* connects in a row */
    ngx_msec_t                        retry_at;

    char                             *set_org;  /* app.org_id, timeout */
    u_char                           *scratch;  /* parameter copies */
    size_t                            scratch_size;
    u_char                            text[NGX_MAX_ERROR_STR];

    unsigned                          down:1;
    unsigned                          closed:1;
};


char *ngx_http_voxanne_db(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
void ngx_http_voxanne_db_create_conf(ngx_http_voxanne_db_conf_t *dbcf);
void ngx_http_voxanne_db_init_conf(ngx_http_voxanne_db_conf_t *dbcf);
ngx_int_t ngx_http_voxanne_db_init_process(ngx_cycle_t *cycle,
    ngx_http_voxanne_db_conf_t *dbcf);
void ngx_http_voxanne_db_exit_process(ngx_http_voxanne_db_conf_t *dbcf);

ngx_int_t ngx_http_voxanne_db_query(ngx_http_voxanne_db_pool_t *pool,
    ngx_http_voxanne_db_query_t *q);
void ngx_http_voxanne_db_cancel(ngx_http_voxanne_db_query_t *q);
void ngx_http_voxanne_db_stats(ngx_http_voxanne_db_pool_t *pool,
    ngx_http_voxanne_db_stats_t *st);

/* between the pool and its connections */

void ngx_http_voxanne_db_conn_init(ngx_http_voxanne_db_conn_t *dc,
    ngx_http_voxanne_db_pool_t *pool, ngx_log_t *log);
ngx_int_t ngx_http_voxanne_db_connect(ngx_http_voxanne_db_conn_t *dc);
ngx_int_t ngx_http_voxanne_db_send(ngx_http_voxanne_db_conn_t *dc,
    ngx_http_voxanne_db_query_t *q);
void ngx_http_voxanne_db_park(ngx_http_voxanne_db_conn_t *dc);
void ngx_http_voxanne_db_close(ngx_http_voxanne_db_conn_t *dc);

void ngx_http_voxanne_db_connected(ngx_http_voxanne_db_conn_t *dc);
void ngx_http_voxanne_db_available(ngx_http_voxanne_db_conn_t *dc);
void ngx_http_voxanne_db_connect_failed(ngx_http_voxanne_db_conn_t *dc,
    const char *msg);
void ngx_http_voxanne_db_released(ngx_http_voxanne_db_pool_t *pool);
void ngx_http_voxanne_db_finish(ngx_http_voxanne_db_query_t *q,
    ngx_uint_t status, PGresult *res, ngx_str_t *text);
ngx_str_t ngx_http_voxanne_db_text(u_char *buf, size_t size,
    const char *msg);


#endif /* _NGX_HTTP_VOXANNE_DB_H_INCLUDED_ */
