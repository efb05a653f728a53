
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


/*
 * Each worker's pool of PostgreSQL connections: its queue of queries waiting
 * for a connection, the connections it opens when they are needed, and the
 * backoff after failed connects.  One connection's state machine:
 * ngx_http_voxanne_db_conn.c.
 */


#define NGX_HTTP_VOXANNE_DB_BACKOFF       100      /* first retry, ms */
#define NGX_HTTP_VOXANNE_DB_BACKOFF_MAX   10000


static void ngx_http_voxanne_db_dispatch(ngx_event_t *ev);
static void ngx_http_voxanne_db_wait_handler(ngx_event_t *ev);
static void ngx_http_voxanne_db_wait_timer(ngx_http_voxanne_db_pool_t *pool);
static void ngx_http_voxanne_db_enqueue(ngx_http_voxanne_db_pool_t *pool,
    ngx_http_voxanne_db_query_t *q, ngx_uint_t first);
static ngx_http_voxanne_db_query_t *ngx_http_voxanne_db_first(
    ngx_http_voxanne_db_pool_t *pool);
static void ngx_http_voxanne_db_unqueue(ngx_http_voxanne_db_pool_t *pool,
    ngx_http_voxanne_db_query_t *q);
static void ngx_http_voxanne_db_fail_waiting(ngx_http_voxanne_db_pool_t *pool,
    ngx_uint_t status, ngx_str_t *text);


/*
 * The worker's pool starts empty: connections open when queries need them
 * and close after idle_timeout, so an idle worker holds none.
 */

ngx_int_t
ngx_http_voxanne_db_init_process(ngx_cycle_t *cycle,
    ngx_http_voxanne_db_conf_t *dbcf)
{
    ngx_uint_t                   i;
    ngx_http_voxanne_db_pool_t  *pool;

    if (dbcf->keywords == NULL) {
        return NGX_OK;
    }

    pool = ngx_pcalloc(cycle->pool, sizeof(ngx_http_voxanne_db_pool_t));
    if (pool == NULL) {
        return NGX_ERROR;
    }

    pool->conns = ngx_pcalloc(cycle->pool,
                              dbcf->size * sizeof(ngx_http_voxanne_db_conn_t));
    if (pool->conns == NULL) {
        return NGX_ERROR;
    }

    pool->conf = dbcf;
    pool->log = *cycle->log;

    /* the server's limit: four fifths of ours, and the commit in the rest */

    pool->set_org = ngx_pnalloc(cycle->pool,
                                sizeof(NGX_HTTP_VOXANNE_DB_SET_ORG)
                                + NGX_INT_T_LEN);
    if (pool->set_org == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf((u_char *) pool->set_org, NGX_HTTP_VOXANNE_DB_SET_ORG "%Z",
                dbcf->query_timeout - dbcf->query_timeout / 5);

    ngx_queue_init(&pool->waiting);

    pool->wait_timer.handler = ngx_http_voxanne_db_wait_handler;
    pool->wait_timer.data = pool;
    pool->wait_timer.log = &pool->log;

    pool->dispatch.handler = ngx_http_voxanne_db_dispatch;
    pool->dispatch.data = pool;
    pool->dispatch.log = &pool->log;

    for (i = 0; i < dbcf->size; i++) {
        ngx_http_voxanne_db_conn_init(&pool->conns[i], pool, cycle->log);
    }

    dbcf->pool = pool;

    return NGX_OK;
}


/* queries still running or waiting get NGX_HTTP_VOXANNE_DB_CLOSED */

void
ngx_http_voxanne_db_exit_process(ngx_http_voxanne_db_conf_t *dbcf)
{
    ngx_str_t                     text;
    ngx_uint_t                    i;
    ngx_http_voxanne_db_pool_t   *pool;
    ngx_http_voxanne_db_query_t  *q;

    pool = dbcf->pool;

    if (pool == NULL) {
        return;
    }

    pool->closed = 1;

    if (pool->dispatch.posted) {
        ngx_delete_posted_event(&pool->dispatch);
    }

    ngx_str_set(&text, "the worker is exiting");

    for (i = 0; i < dbcf->size; i++) {
        q = pool->conns[i].query;

        if (pool->conns[i].state != NGX_HTTP_VOXANNE_DB_FREE) {
            ngx_http_voxanne_db_close(&pool->conns[i]);
        }

        if (q) {
            ngx_http_voxanne_db_finish(q, NGX_HTTP_VOXANNE_DB_CLOSED, NULL,
                                       &text);
        }
    }

    ngx_http_voxanne_db_fail_waiting(pool, NGX_HTTP_VOXANNE_DB_CLOSED, &text);

    if (pool->wait_timer.timer_set) {
        ngx_del_timer(&pool->wait_timer);
    }

    if (pool->scratch) {
        ngx_free(pool->scratch);
        pool->scratch = NULL;
    }

    dbcf->pool = NULL;
}


/*
 * NGX_OK: q's handler will be called (never from here); NGX_BUSY: the queue
 * is full; NGX_DECLINED: the database is down (the last connect failed and
 * the backoff has not passed) or the worker is exiting; NGX_ERROR: q is not
 * valid.
 */

ngx_int_t
ngx_http_voxanne_db_query(ngx_http_voxanne_db_pool_t *pool,
    ngx_http_voxanne_db_query_t *q)
{
    ngx_uint_t                   i;
    ngx_http_voxanne_db_conn_t  *dc;

    if (q->sql == NULL || q->handler == NULL
        || q->state == NGX_HTTP_VOXANNE_DB_QUERY_WAITING
        || q->state == NGX_HTTP_VOXANNE_DB_QUERY_RUNNING
        || q->nparams > NGX_HTTP_VOXANNE_DB_PARAMS_MAX
        || (q->nparams && q->params == NULL)
        || (q->name
            && (q->name[0] == '\0'
                || ngx_strlen(q->name) > NGX_HTTP_VOXANNE_DB_NAME_MAX)))
    {
        ngx_log_error(NGX_LOG_ALERT, q->log ? q->log : &pool->log, 0,
                      "invalid PostgreSQL query");
        return NGX_ERROR;
    }

    if (pool->closed) {
        return NGX_DECLINED;
    }

    if (q->log == NULL) {
        q->log = &pool->log;
    }

    q->pool = pool;
    q->conn = NULL;
    q->status = NGX_HTTP_VOXANNE_DB_OK;
    ngx_str_null(&q->error);

    for (i = 0; i < pool->conf->size; i++) {
        dc = &pool->conns[i];

        if (dc->state == NGX_HTTP_VOXANNE_DB_IDLE
            && ngx_http_voxanne_db_send(dc, q) == NGX_OK)
        {
            return NGX_OK;
        }
    }

    if (pool->down
        && (ngx_msec_int_t) (pool->retry_at - ngx_current_msec) > 0)
    {
        return NGX_DECLINED;
    }

    if (pool->nwaiting >= pool->conf->queue) {
        ngx_log_error(NGX_LOG_WARN, q->log, 0,
                      "PostgreSQL queue is full, %ui queries wait",
                      pool->nwaiting);
        return NGX_BUSY;
    }

    q->deadline = ngx_current_msec + pool->conf->connect_timeout;

    ngx_http_voxanne_db_enqueue(pool, q, 0);

    if (!pool->dispatch.posted) {
        ngx_post_event(&pool->dispatch, &ngx_posted_events);
    }

    return NGX_OK;
}


/*
 * q's handler will not be called: its request is going away.  A query
 * already sent runs on, and its result is dropped.
 */

void
ngx_http_voxanne_db_cancel(ngx_http_voxanne_db_query_t *q)
{
    switch (q->state) {

    case NGX_HTTP_VOXANNE_DB_QUERY_WAITING:
        ngx_http_voxanne_db_unqueue(q->pool, q);
        break;

    case NGX_HTTP_VOXANNE_DB_QUERY_RUNNING:
        q->conn->query = NULL;
        break;

    default:
        return;
    }

    q->state = NGX_HTTP_VOXANNE_DB_QUERY_DONE;
    q->conn = NULL;
}


void
ngx_http_voxanne_db_stats(ngx_http_voxanne_db_pool_t *pool,
    ngx_http_voxanne_db_stats_t *st)
{
    ngx_uint_t  i;

    ngx_memzero(st, sizeof(ngx_http_voxanne_db_stats_t));

    for (i = 0; i < pool->conf->size; i++) {
        switch (pool->conns[i].state) {

        case NGX_HTTP_VOXANNE_DB_CONNECTING:
            st->connecting++;
            break;

        case NGX_HTTP_VOXANNE_DB_IDLE:
            st->idle++;
            st->connections++;
            break;

        case NGX_HTTP_VOXANNE_DB_BUSY:
            st->connections++;
            break;
        }
    }

    st->queued = pool->nwaiting;
    st->down = pool->down;
}


/* a new connection: the database is up */

void
ngx_http_voxanne_db_connected(ngx_http_voxanne_db_conn_t *dc)
{
    ngx_http_voxanne_db_pool_t  *pool;

    pool = dc->pool;

    if (pool->down) {
        ngx_log_error(NGX_LOG_NOTICE, &dc->log, 0,
                      "PostgreSQL is reachable again");
    }

    pool->failures = 0;
    pool->down = 0;

    ngx_http_voxanne_db_available(dc);
}


/* a connection free for the next query: the oldest waiting one, if any */

void
ngx_http_voxanne_db_available(ngx_http_voxanne_db_conn_t *dc)
{
    ngx_http_voxanne_db_pool_t   *pool;
    ngx_http_voxanne_db_query_t  *q;

    pool = dc->pool;
    q = ngx_http_voxanne_db_first(pool);

    if (q) {
        ngx_http_voxanne_db_unqueue(pool, q);

        if (ngx_http_voxanne_db_send(dc, q) == NGX_OK) {
            return;
        }

        /* dc is closed: q waits on, first */

        ngx_http_voxanne_db_enqueue(pool, q, 1);
        ngx_http_voxanne_db_released(pool);
        return;
    }

    if (ngx_exiting || ngx_terminate) {
        ngx_http_voxanne_db_close(dc);
        return;
    }

    ngx_http_voxanne_db_park(dc);
}


/*
 * A connect failed (dc is closed here): the next one waits for the backoff,
 * and without any connection left the waiting queries fail now.
 */

void
ngx_http_voxanne_db_connect_failed(ngx_http_voxanne_db_conn_t *dc,
    const char *msg)
{
    ngx_str_t                    text;
    ngx_uint_t                   i;
    ngx_msec_t                   backoff;
    ngx_http_voxanne_db_pool_t  *pool;

    pool = dc->pool;

    text = ngx_http_voxanne_db_text(pool->text, sizeof(pool->text), msg);

    ngx_log_error(NGX_LOG_ERR, &dc->log, 0,
                  "could not connect to PostgreSQL: %V", &text);

    ngx_http_voxanne_db_close(dc);

    backoff = NGX_HTTP_VOXANNE_DB_BACKOFF
              << ngx_min(pool->failures, 7);

    pool->failures++;
    pool->retry_at = ngx_current_msec
                     + ngx_min(backoff, NGX_HTTP_VOXANNE_DB_BACKOFF_MAX);

    for (i = 0; i < pool->conf->size; i++) {
        if (pool->conns[i].state != NGX_HTTP_VOXANNE_DB_FREE) {
            return;
        }
    }

    pool->down = 1;

    ngx_http_voxanne_db_fail_waiting(pool, NGX_HTTP_VOXANNE_DB_DOWN, &text);
}


/* a connection was closed: waiting queries may need a new one */

void
ngx_http_voxanne_db_released(ngx_http_voxanne_db_pool_t *pool)
{
    if (!ngx_queue_empty(&pool->waiting) && !pool->dispatch.posted) {
        ngx_post_event(&pool->dispatch, &ngx_posted_events);
    }
}


void
ngx_http_voxanne_db_finish(ngx_http_voxanne_db_query_t *q, ngx_uint_t status,
    PGresult *res, ngx_str_t *text)
{
    q->state = NGX_HTTP_VOXANNE_DB_QUERY_DONE;
    q->conn = NULL;
    q->status = status;
    q->error = *text;

    q->handler(q, res);
}


/* libpq's messages end with a newline and may hold more: one trimmed line */

ngx_str_t
ngx_http_voxanne_db_text(u_char *buf, size_t size, const char *msg)
{
    u_char     *p, *last;
    ngx_str_t   text;

    p = buf;
    last = buf + size;

    for ( /* void */ ; *msg && p < last; msg++) {

        if (*msg == '\n' || *msg == '\r' || *msg == '\t' || *msg == ' ') {
            if (p > buf && p[-1] != ' ') {
                *p++ = ' ';
            }

            continue;
        }

        *p++ = *msg;
    }

    while (p > buf && p[-1] == ' ') {
        p--;
    }

    text.data = buf;
    text.len = p - buf;

    return text;
}


/*
 * Opens the connections waiting queries need: one per query, beyond those
 * already connecting; one at a time while the database is down, and none
 * before the backoff has passed.
 */

static void
ngx_http_voxanne_db_dispatch(ngx_event_t *ev)
{
    ngx_str_t                    text;
    ngx_uint_t                   i, connecting, live;
    ngx_http_voxanne_db_pool_t  *pool;

    pool = ev->data;

    while (!ngx_queue_empty(&pool->waiting)) {

        connecting = 0;
        live = 0;

        for (i = 0; i < pool->conf->size; i++) {
            switch (pool->conns[i].state) {

            case NGX_HTTP_VOXANNE_DB_CONNECTING:
                connecting++;
                break;

            case NGX_HTTP_VOXANNE_DB_IDLE:
                if (!ngx_queue_empty(&pool->waiting)) {
                    ngx_http_voxanne_db_available(&pool->conns[i]);
                }

                live++;
                break;

            case NGX_HTTP_VOXANNE_DB_BUSY:
                live++;
                break;
            }
        }

        if (ngx_queue_empty(&pool->waiting)
            || connecting >= (pool->down ? 1 : pool->nwaiting))
        {
            return;
        }

        if ((ngx_msec_int_t) (pool->retry_at - ngx_current_msec) > 0) {

            if (live == 0 && connecting == 0) {
                ngx_str_set(&text, "PostgreSQL is down");
                ngx_http_voxanne_db_fail_waiting(pool,
                                                 NGX_HTTP_VOXANNE_DB_DOWN,
                                                 &text);
            }

            return;
        }

        for (i = 0; i < pool->conf->size; i++) {
            if (pool->conns[i].state == NGX_HTTP_VOXANNE_DB_FREE) {
                break;
            }
        }

        if (i == pool->conf->size) {
            return;
        }

        (void) ngx_http_voxanne_db_connect(&pool->conns[i]);
    }
}


/*
 * The waiting queries past their deadline, the oldest first: the database
 * is down if no connection to it is up, else too busy.
 */

static void
ngx_http_voxanne_db_wait_handler(ngx_event_t *ev)
{
    ngx_str_t                     text;
    ngx_uint_t                    i, status;
    ngx_http_voxanne_db_pool_t   *pool;
    ngx_http_voxanne_db_query_t  *q;

    pool = ev->data;

    ngx_str_set(&text, "no PostgreSQL connection in time");

    status = NGX_HTTP_VOXANNE_DB_DOWN;

    for (i = 0; i < pool->conf->size; i++) {
        if (pool->conns[i].state == NGX_HTTP_VOXANNE_DB_IDLE
            || pool->conns[i].state == NGX_HTTP_VOXANNE_DB_BUSY)
        {
            status = NGX_HTTP_VOXANNE_DB_TIMEOUT;
        }
    }

    while ((q = ngx_http_voxanne_db_first(pool)) != NULL) {

        if ((ngx_msec_int_t) (q->deadline - ngx_current_msec) > 0) {
            ngx_http_voxanne_db_wait_timer(pool);
            return;
        }

        ngx_http_voxanne_db_unqueue(pool, q);

        ngx_log_error(NGX_LOG_ERR, q->log, 0,
                      "no PostgreSQL connection within %M ms",
                      pool->conf->connect_timeout);

        ngx_http_voxanne_db_finish(q, status, NULL, &text);
    }
}


static void
ngx_http_voxanne_db_wait_timer(ngx_http_voxanne_db_pool_t *pool)
{
    ngx_msec_int_t                delay;
    ngx_http_voxanne_db_query_t  *q;

    q = ngx_queue_data(ngx_queue_head(&pool->waiting),
                       ngx_http_voxanne_db_query_t, queue);

    delay = (ngx_msec_int_t) (q->deadline - ngx_current_msec);

    ngx_add_timer(&pool->wait_timer, delay > 0 ? (ngx_msec_t) delay : 1);
}


/*
 * Only the queries waiting now fail: a handler may queue new ones, or cancel
 * others (which then leave the queue).
 */

static void
ngx_http_voxanne_db_fail_waiting(ngx_http_voxanne_db_pool_t *pool,
    ngx_uint_t status, ngx_str_t *text)
{
    ngx_uint_t                    n;
    ngx_http_voxanne_db_query_t  *q;

    for (n = pool->nwaiting; n; n--) {
        q = ngx_http_voxanne_db_first(pool);

        if (q == NULL) {
            return;
        }

        ngx_http_voxanne_db_unqueue(pool, q);
        ngx_http_voxanne_db_finish(q, status, NULL, text);
    }
}


static void
ngx_http_voxanne_db_enqueue(ngx_http_voxanne_db_pool_t *pool,
    ngx_http_voxanne_db_query_t *q, ngx_uint_t first)
{
    if (first) {
        ngx_queue_insert_head(&pool->waiting, &q->queue);

    } else {
        ngx_queue_insert_tail(&pool->waiting, &q->queue);
    }

    pool->nwaiting++;
    q->state = NGX_HTTP_VOXANNE_DB_QUERY_WAITING;

    if (!pool->wait_timer.timer_set) {
        ngx_http_voxanne_db_wait_timer(pool);
    }
}


static ngx_http_voxanne_db_query_t *
ngx_http_voxanne_db_first(ngx_http_voxanne_db_pool_t *pool)
{
    if (ngx_queue_empty(&pool->waiting)) {
        return NULL;
    }

    return ngx_queue_data(ngx_queue_head(&pool->waiting),
                          ngx_http_voxanne_db_query_t, queue);
}


/* the wait timer goes with the last waiting query: it would hold an exit */

static void
ngx_http_voxanne_db_unqueue(ngx_http_voxanne_db_pool_t *pool,
    ngx_http_voxanne_db_query_t *q)
{
    ngx_queue_remove(&q->queue);
    pool->nwaiting--;

    if (pool->nwaiting == 0 && pool->wait_timer.timer_set) {
        ngx_del_timer(&pool->wait_timer);
    }
}
