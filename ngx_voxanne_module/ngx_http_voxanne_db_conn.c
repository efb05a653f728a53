
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


/*
 * One pooled PostgreSQL connection on nginx events.  libpq owns the socket:
 * it is wrapped in an ngx_connection_t for the events only, freed with
 * ngx_free_connection() and closed by PQfinish(), never by
 * ngx_close_connection().  libpq may replace the socket while connecting
 * (next address, SSL fallback), even under the same number, so the socket
 * is compared by inode after each PQconnectPoll() and wrapped again.
 *
 * A query is one pipeline: [set_config('app.org_id')] [Parse] the statement,
 * then a Sync, sent in one write and answered in one round trip; the
 * statements up to the Sync are one implicit transaction, committed at the
 * Sync, or rolled back there if any failed.  The set_config() of a
 * tenant's query also gives the transaction a statement_timeout shorter
 * than the pool's query timeout: the server gives up first, so that a
 * write the gateway reported as timed out (a booking the caller heard fail)
 * cannot commit later.  Its cancel (SQLSTATE 57014) is a timeout too.
 *
 * Events are edge-triggered with epoll, and libpq may leave bytes unread (in
 * the socket when its buffer was full, or decrypted in OpenSSL's buffer), so
 * input is consumed until none is pending before waiting for the next event.
 */


#define NGX_HTTP_VOXANNE_DB_ROUNDS  16    /* reads per event, for fairness */


static void ngx_http_voxanne_db_event_handler(ngx_event_t *ev);
static void ngx_http_voxanne_db_timer_handler(ngx_event_t *ev);
static void ngx_http_voxanne_db_poll(ngx_http_voxanne_db_conn_t *dc);
static void ngx_http_voxanne_db_ready(ngx_http_voxanne_db_conn_t *dc);
static void ngx_http_voxanne_db_idle_read(ngx_http_voxanne_db_conn_t *dc);
static void ngx_http_voxanne_db_process(ngx_http_voxanne_db_conn_t *dc);
static ngx_int_t ngx_http_voxanne_db_results(ngx_http_voxanne_db_conn_t *dc);
static void ngx_http_voxanne_db_done(ngx_http_voxanne_db_conn_t *dc);
static void ngx_http_voxanne_db_lost(ngx_http_voxanne_db_conn_t *dc,
    ngx_uint_t status, const char *msg);
static ngx_uint_t ngx_http_voxanne_db_prepared(ngx_http_voxanne_db_conn_t *dc,
    const char *name);
static const char **ngx_http_voxanne_db_values(
    ngx_http_voxanne_db_pool_t *pool, ngx_http_voxanne_db_query_t *q);
static ngx_int_t ngx_http_voxanne_db_wrap(ngx_http_voxanne_db_conn_t *dc);
static ngx_int_t ngx_http_voxanne_db_rewrap(ngx_http_voxanne_db_conn_t *dc);
static void ngx_http_voxanne_db_unwrap(ngx_http_voxanne_db_conn_t *dc);
static ngx_int_t ngx_http_voxanne_db_arm(ngx_http_voxanne_db_conn_t *dc,
    ngx_uint_t write);
static ngx_uint_t ngx_http_voxanne_db_pending(ngx_http_voxanne_db_conn_t *dc);
static void ngx_http_voxanne_db_notice(void *arg, const PGresult *res);
static u_char *ngx_http_voxanne_db_log_error(ngx_log_t *log, u_char *buf,
    size_t len);


void
ngx_http_voxanne_db_conn_init(ngx_http_voxanne_db_conn_t *dc,
    ngx_http_voxanne_db_pool_t *pool, ngx_log_t *log)
{
    dc->pool = pool;

    dc->log = *log;
    dc->log.handler = ngx_http_voxanne_db_log_error;
    dc->log.data = dc;

    dc->timer.handler = ngx_http_voxanne_db_timer_handler;
    dc->timer.data = dc;
    dc->timer.log = &dc->log;
}


/* starts connecting; NGX_ERROR: failed at once, the pool is told */

ngx_int_t
ngx_http_voxanne_db_connect(ngx_http_voxanne_db_conn_t *dc)
{
    ngx_http_voxanne_db_conf_t  *dbcf;

    dbcf = dc->pool->conf;

    dc->log.action = "connecting to PostgreSQL";

    dc->pg = PQconnectStartParams(dbcf->keywords, dbcf->values, 0);

    if (dc->pg == NULL) {
        ngx_http_voxanne_db_connect_failed(dc, "out of memory");
        return NGX_ERROR;
    }

    if (PQstatus(dc->pg) == CONNECTION_BAD) {
        ngx_http_voxanne_db_connect_failed(dc, PQerrorMessage(dc->pg));
        return NGX_ERROR;
    }

    PQsetNoticeReceiver(dc->pg, ngx_http_voxanne_db_notice, dc);

    if (ngx_http_voxanne_db_wrap(dc) != NGX_OK) {
        ngx_http_voxanne_db_connect_failed(dc, "cannot wrap its socket");
        return NGX_ERROR;
    }

    dc->state = NGX_HTTP_VOXANNE_DB_CONNECTING;

    dc->timer.cancelable = 1;
    ngx_add_timer(&dc->timer, dbcf->connect_timeout);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &dc->log, 0,
                   "voxanne db connect fd:%d", dc->c->fd);

    /* libpq: after PQconnectStart(), wait as if polling asked to write */

    dc->want_write = 1;

    if (ngx_http_voxanne_db_arm(dc, 1) != NGX_OK) {
        ngx_http_voxanne_db_connect_failed(dc, "cannot add events");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Sends q on an idle connection: NGX_OK, or NGX_ERROR with the connection
 * closed (and logged) and q untouched.
 */

ngx_int_t
ngx_http_voxanne_db_send(ngx_http_voxanne_db_conn_t *dc,
    ngx_http_voxanne_db_query_t *q)
{
    int                          rc;
    PGconn                      *pg;
    ngx_str_t                    text;
    const char                 **values, *org;
    ngx_http_voxanne_db_pool_t  *pool;
    u_char                       buf[NGX_MAX_ERROR_STR];

    pool = dc->pool;
    pg = dc->pg;

    values = ngx_http_voxanne_db_values(pool, q);
    if (values == NULL) {
        ngx_http_voxanne_db_close(dc);
        return NGX_ERROR;
    }

    dc->log.action = "sending a query to PostgreSQL";

    dc->step = 0;
    dc->query_step = 0;
    dc->prepare_step = -1;

    if (q->org_id.len) {
        org = values[q->nparams];

        if (!PQsendQueryParams(pg, dc->pool->set_org, 1, NULL, &org, NULL,
                               NULL, 0))
        {
            goto failed;
        }

        dc->query_step++;
    }

    if (q->name == NULL) {
        rc = PQsendQueryParams(pg, q->sql, q->nparams, NULL, values, NULL,
                               NULL, 0);

    } else {
        if (!ngx_http_voxanne_db_prepared(dc, q->name)) {

            if (!PQsendPrepare(pg, q->name, q->sql, 0, NULL)) {
                goto failed;
            }

            dc->preparing_len = ngx_strlen(q->name);
            ngx_memcpy(dc->preparing, q->name, dc->preparing_len);
            dc->prepare_step = dc->query_step++;
        }

        rc = PQsendQueryPrepared(pg, q->name, q->nparams, values, NULL, NULL,
                                 0);
    }

    if (!rc || !PQpipelineSync(pg)) {
        goto failed;
    }

    rc = PQflush(pg);

    if (rc == -1) {
        goto failed;
    }

    dc->flushing = (rc == 1);

    dc->query = q;
    dc->state = NGX_HTTP_VOXANNE_DB_BUSY;
    dc->c->idle = 0;

    q->conn = dc;
    q->state = NGX_HTTP_VOXANNE_DB_QUERY_RUNNING;

    if (dc->timer.timer_set) {
        ngx_del_timer(&dc->timer);
    }

    dc->timer.cancelable = 0;
    ngx_add_timer(&dc->timer, pool->conf->query_timeout);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, &dc->log, 0,
                   "voxanne db send fd:%d steps:%i flushing:%d",
                   dc->c->fd, dc->query_step + 1, (int) dc->flushing);

    dc->log.action = "waiting for PostgreSQL";

    if (ngx_http_voxanne_db_arm(dc, dc->flushing) != NGX_OK) {
        dc->query = NULL;
        q->conn = NULL;
        q->state = NGX_HTTP_VOXANNE_DB_QUERY_NEW;
        ngx_http_voxanne_db_close(dc);
        return NGX_ERROR;
    }

    return NGX_OK;

failed:

    text = ngx_http_voxanne_db_text(buf, sizeof(buf), PQerrorMessage(pg));

    ngx_log_error(NGX_LOG_ERR, &dc->log, 0,
                  "could not send a query to PostgreSQL: %V", &text);

    ngx_http_voxanne_db_close(dc);

    return NGX_ERROR;
}


/* an idle connection, given back by the pool when nobody waits for it */

void
ngx_http_voxanne_db_park(ngx_http_voxanne_db_conn_t *dc)
{
    dc->state = NGX_HTTP_VOXANNE_DB_IDLE;
    dc->c->idle = 1;
    dc->log.action = "keeping an idle PostgreSQL connection";

    if (dc->timer.timer_set) {
        ngx_del_timer(&dc->timer);
    }

    dc->timer.cancelable = 1;
    ngx_add_timer(&dc->timer, dc->pool->conf->idle_timeout);
}


void
ngx_http_voxanne_db_close(ngx_http_voxanne_db_conn_t *dc)
{
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &dc->log, 0,
                   "voxanne db close state:%ui", dc->state);

    if (dc->timer.timer_set) {
        ngx_del_timer(&dc->timer);
    }

    if (dc->c) {
        ngx_http_voxanne_db_unwrap(dc);
    }

    if (dc->result) {
        PQclear(dc->result);
        dc->result = NULL;
    }

    if (dc->error) {
        PQclear(dc->error);
        dc->error = NULL;
    }

    if (dc->pg) {
        PQfinish(dc->pg);
        dc->pg = NULL;
    }

    if (dc->mem) {
        ngx_destroy_pool(dc->mem);
        dc->mem = NULL;
    }

    dc->query = NULL;
    dc->state = NGX_HTTP_VOXANNE_DB_FREE;
    dc->want_write = 0;
    dc->flushing = 0;
    dc->log.action = NULL;
}


static void
ngx_http_voxanne_db_event_handler(ngx_event_t *ev)
{
    ngx_connection_t            *c;
    ngx_http_voxanne_db_conn_t  *dc;

    c = ev->data;
    dc = c->data;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, ev->log, 0,
                   "voxanne db event fd:%d write:%d state:%ui",
                   c->fd, (int) ev->write, dc->state);

    switch (dc->state) {

    case NGX_HTTP_VOXANNE_DB_CONNECTING:

        /*
         * polling when libpq waits for the other direction would take a
         * connect() still in progress for done
         */

        if (ev->write == dc->want_write) {
            ngx_http_voxanne_db_poll(dc);
        }

        return;

    case NGX_HTTP_VOXANNE_DB_IDLE:

        if (c->close) {
            /* graceful shutdown: ngx_close_idle_connections() */
            ngx_http_voxanne_db_close(dc);
            return;
        }

        if (!ev->write) {
            ngx_http_voxanne_db_idle_read(dc);
        }

        return;

    case NGX_HTTP_VOXANNE_DB_BUSY:
        ngx_http_voxanne_db_process(dc);
        return;
    }
}


static void
ngx_http_voxanne_db_timer_handler(ngx_event_t *ev)
{
    ngx_http_voxanne_db_conn_t   *dc;
    ngx_http_voxanne_db_query_t  *q;

    dc = ev->data;

    switch (dc->state) {

    case NGX_HTTP_VOXANNE_DB_CONNECTING:
        ngx_http_voxanne_db_connect_failed(dc, "timed out");
        return;

    case NGX_HTTP_VOXANNE_DB_IDLE:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &dc->log, 0,
                       "voxanne db idle timeout fd:%d", dc->c->fd);
        ngx_http_voxanne_db_close(dc);
        return;

    case NGX_HTTP_VOXANNE_DB_BUSY:

        /*
         * PQcancel() would block: the connection is closed instead, and
         * the server stops the query when it notices (or at its own
         * statement_timeout)
         */

        q = dc->query;

        ngx_log_error(NGX_LOG_ERR, q ? q->log : &dc->log, 0,
                      "PostgreSQL query timed out after %M ms, "
                      "closing its connection",
                      dc->pool->conf->query_timeout);

        ngx_http_voxanne_db_lost(dc, NGX_HTTP_VOXANNE_DB_TIMEOUT,
                                 "query timed out");
        return;
    }
}


/* the connection handshake, as far as the socket allows */

static void
ngx_http_voxanne_db_poll(ngx_http_voxanne_db_conn_t *dc)
{
    ngx_uint_t                 n;
    PostgresPollingStatusType  st;

    for (n = 0; n < NGX_HTTP_VOXANNE_DB_ROUNDS; n++) {

        st = PQconnectPoll(dc->pg);

        if (st != PGRES_POLLING_FAILED
            && ngx_http_voxanne_db_rewrap(dc) != NGX_OK)
        {
            ngx_http_voxanne_db_connect_failed(dc, "cannot wrap its socket");
            return;
        }

        switch (st) {

        case PGRES_POLLING_OK:
            ngx_http_voxanne_db_ready(dc);
            return;

        case PGRES_POLLING_FAILED:
            ngx_http_voxanne_db_connect_failed(dc, PQerrorMessage(dc->pg));
            return;

        case PGRES_POLLING_WRITING:

            /*
             * libpq asks to wait for a socket it has just seen writable
             * (connected, SSL refused or established): no edge would come
             */

            if (PQstatus(dc->pg) == CONNECTION_MADE) {
                continue;
            }

            dc->want_write = 1;
            break;

        default: /* PGRES_POLLING_READING */

            if (ngx_http_voxanne_db_pending(dc)) {
                continue;
            }

            dc->want_write = 0;
            break;
        }

        if (ngx_http_voxanne_db_arm(dc, dc->want_write) != NGX_OK) {
            ngx_http_voxanne_db_connect_failed(dc, "cannot add events");
        }

        return;
    }

    /* more to read than a fair share: continue in the next cycle */

    ngx_post_event(dc->want_write ? dc->c->write : dc->c->read,
                   &ngx_posted_events);
}


static void
ngx_http_voxanne_db_ready(ngx_http_voxanne_db_conn_t *dc)
{
    /*
     * libpq connects without blocking anyway; set earlier, this would clear
     * the server's identity from the messages of a failed connect
     */

    if (PQsetnonblocking(dc->pg, 1) != 0 || !PQenterPipelineMode(dc->pg)) {
        ngx_http_voxanne_db_connect_failed(dc, PQerrorMessage(dc->pg));
        return;
    }

    dc->mem = ngx_create_pool(512, &dc->log);
    if (dc->mem == NULL) {
        ngx_http_voxanne_db_connect_failed(dc, "out of memory");
        return;
    }

    if (ngx_array_init(&dc->prepared, dc->mem, 8, sizeof(ngx_str_t))
        != NGX_OK)
    {
        ngx_http_voxanne_db_connect_failed(dc, "out of memory");
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &dc->log, 0,
                   "voxanne db connected fd:%d server:%d",
                   dc->c->fd, PQserverVersion(dc->pg));

    ngx_http_voxanne_db_connected(dc);
}


/*
 * An idle connection hears from the server only when something is wrong:
 * a shutdown, pg_terminate_backend(), idle_session_timeout (the notices go
 * to the log).
 */

static void
ngx_http_voxanne_db_idle_read(ngx_http_voxanne_db_conn_t *dc)
{
    ngx_str_t   text;
    ngx_uint_t  n;
    u_char      buf[NGX_MAX_ERROR_STR];

    for (n = 0; n < NGX_HTTP_VOXANNE_DB_ROUNDS; n++) {

        if (!PQconsumeInput(dc->pg)) {
            goto closed;
        }

        /* parses what came: a server's last words go to the notices */

        (void) PQisBusy(dc->pg);

        if (PQstatus(dc->pg) == CONNECTION_BAD) {
            goto closed;
        }

        if (!ngx_http_voxanne_db_pending(dc)) {

            if (ngx_http_voxanne_db_arm(dc, 0) != NGX_OK) {
                ngx_http_voxanne_db_close(dc);
            }

            return;
        }
    }

    ngx_post_event(dc->c->read, &ngx_posted_events);

    return;

closed:

    text = ngx_http_voxanne_db_text(buf, sizeof(buf), PQerrorMessage(dc->pg));

    ngx_log_error(NGX_LOG_WARN, &dc->log, 0,
                  "PostgreSQL closed an idle connection: %V", &text);

    ngx_http_voxanne_db_close(dc);
    ngx_http_voxanne_db_released(dc->pool);
}


/* a query in flight: flush, read, take its results */

static void
ngx_http_voxanne_db_process(ngx_http_voxanne_db_conn_t *dc)
{
    int         rc;
    ngx_int_t   done;
    ngx_uint_t  n;

    for (n = 0; n < NGX_HTTP_VOXANNE_DB_ROUNDS; n++) {

        if (dc->flushing) {
            rc = PQflush(dc->pg);

            if (rc == -1) {
                goto lost;
            }

            dc->flushing = (rc == 1);
        }

        if (!PQconsumeInput(dc->pg)) {
            goto lost;
        }

        done = ngx_http_voxanne_db_results(dc);

        if (done == NGX_ERROR) {
            goto lost;
        }

        if (done == NGX_OK) {
            ngx_http_voxanne_db_done(dc);
            return;
        }

        if (!ngx_http_voxanne_db_pending(dc)) {

            if (ngx_http_voxanne_db_arm(dc, dc->flushing) != NGX_OK) {
                goto lost;
            }

            return;
        }
    }

    ngx_post_event(dc->c->read, &ngx_posted_events);

    return;

lost:

    ngx_http_voxanne_db_lost(dc, NGX_HTTP_VOXANNE_DB_DOWN,
                             PQerrorMessage(dc->pg));
}


/*
 * Takes the results libpq has without waiting.  A NULL ends a command's
 * results (and the error of a commit at the Sync); the Sync's result ends
 * the query: NGX_OK.  The statement's own result and the first error are
 * kept until then.
 */

static ngx_int_t
ngx_http_voxanne_db_results(ngx_http_voxanne_db_conn_t *dc)
{
    PGresult   *res;
    ngx_str_t  *name;

    while (!PQisBusy(dc->pg)) {

        res = PQgetResult(dc->pg);

        if (res == NULL) {

            if (PQstatus(dc->pg) == CONNECTION_BAD
                || ++dc->step > dc->query_step + 2)
            {
                return NGX_ERROR;
            }

            continue;
        }

        switch (PQresultStatus(res)) {

        case PGRES_PIPELINE_SYNC:
            PQclear(res);
            return NGX_OK;

        case PGRES_TUPLES_OK:
        case PGRES_COMMAND_OK:
        case PGRES_EMPTY_QUERY:

            if (dc->step == dc->prepare_step) {
                name = ngx_array_push(&dc->prepared);

                if (name) {
                    name->data = ngx_pnalloc(dc->mem, dc->preparing_len);

                    if (name->data) {
                        ngx_memcpy(name->data, dc->preparing,
                                   dc->preparing_len);
                        name->len = dc->preparing_len;

                    } else {
                        dc->prepared.nelts--;
                    }
                }

            } else if (dc->step == dc->query_step && dc->result == NULL) {
                dc->result = res;
                continue;
            }

            break;

        case PGRES_FATAL_ERROR:

            if (dc->error == NULL) {
                dc->error = res;
                continue;
            }

            break;

        case PGRES_PIPELINE_ABORTED:
        case PGRES_NONFATAL_ERROR:
            break;

        default:

            /* COPY and the like: not in this protocol */

            ngx_log_error(NGX_LOG_ERR, &dc->log, 0,
                          "unexpected PostgreSQL result \"%s\"",
                          PQresStatus(PQresultStatus(res)));
            PQclear(res);
            return NGX_ERROR;
        }

        PQclear(res);
    }

    return NGX_AGAIN;
}


/* the Sync came: the connection goes on, then q hears of its result */

static void
ngx_http_voxanne_db_done(ngx_http_voxanne_db_conn_t *dc)
{
    char                         *state;
    PGresult                     *res;
    ngx_str_t                     text;
    ngx_uint_t                    status;
    ngx_http_voxanne_db_query_t  *q;

    q = dc->query;

    if (dc->error) {
        res = dc->error;

        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

        /*
         * the server's own cancel is a timeout; a connection error (class
         * 08) or a shutdown or restart of the server (57P01-57P03) is the
         * database going away, not a write it refused
         */

        if (state == NULL) {
            status = NGX_HTTP_VOXANNE_DB_ERROR;

        } else if (ngx_strcmp(state, "57014") == 0) {
            status = NGX_HTTP_VOXANNE_DB_TIMEOUT;

        } else if (ngx_strncmp(state, "08", 2) == 0
                   || ngx_strncmp(state, "57P", 3) == 0)
        {
            status = NGX_HTTP_VOXANNE_DB_DOWN;

        } else {
            status = NGX_HTTP_VOXANNE_DB_ERROR;
        }

        if (dc->result) {
            PQclear(dc->result);
        }

    } else {
        status = NGX_HTTP_VOXANNE_DB_OK;
        res = dc->result;
    }

    dc->result = NULL;
    dc->error = NULL;
    dc->query = NULL;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &dc->log, 0,
                   "voxanne db done fd:%d status:%ui", dc->c->fd, status);

    /* nothing can reach dc after this: it may be busy again, or closed */

    ngx_http_voxanne_db_available(dc);

    if (q) {
        ngx_str_null(&text);

        if (status != NGX_HTTP_VOXANNE_DB_OK) {
            text = ngx_http_voxanne_db_text(q->pool->text,
                                            sizeof(q->pool->text),
                                            PQresultErrorMessage(res));
        }

        ngx_http_voxanne_db_finish(q, status, res, &text);
    }

    if (res) {
        PQclear(res);
    }
}


/* a connection with a query in flight failed: close it, then tell q */

static void
ngx_http_voxanne_db_lost(ngx_http_voxanne_db_conn_t *dc, ngx_uint_t status,
    const char *msg)
{
    ngx_str_t                     text;
    ngx_http_voxanne_db_pool_t   *pool;
    ngx_http_voxanne_db_query_t  *q;

    pool = dc->pool;
    q = dc->query;

    /* the server may have said why before it closed the connection */

    if (status == NGX_HTTP_VOXANNE_DB_DOWN && dc->error) {
        msg = PQresultErrorMessage(dc->error);
    }

    text = ngx_http_voxanne_db_text(pool->text, sizeof(pool->text), msg);

    if (status == NGX_HTTP_VOXANNE_DB_DOWN) {
        ngx_log_error(NGX_LOG_ERR, q ? q->log : &dc->log, 0,
                      "PostgreSQL connection lost during a query: %V",
                      &text);
    }

    ngx_http_voxanne_db_close(dc);
    ngx_http_voxanne_db_released(pool);

    if (q) {
        ngx_http_voxanne_db_finish(q, status, NULL, &text);
    }
}


static ngx_uint_t
ngx_http_voxanne_db_prepared(ngx_http_voxanne_db_conn_t *dc,
    const char *name)
{
    size_t      len;
    ngx_str_t  *names;
    ngx_uint_t  i;

    len = ngx_strlen(name);
    names = dc->prepared.elts;

    for (i = 0; i < dc->prepared.nelts; i++) {
        if (names[i].len == len
            && ngx_strncmp(names[i].data, name, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * libpq wants text parameters as C strings: the query's parameters (and
 * its org id, last) copied into the pool's scratch buffer, which lives
 * until the next send.
 */

static const char **
ngx_http_voxanne_db_values(ngx_http_voxanne_db_pool_t *pool,
    ngx_http_voxanne_db_query_t *q)
{
    u_char       *p;
    size_t        size;
    ngx_str_t    *s;
    ngx_uint_t    i, n;
    const char  **values;

    n = q->nparams + 1;
    size = n * sizeof(char *) + q->org_id.len + 1;

    for (i = 0; i < q->nparams; i++) {
        size += q->params[i].len + 1;
    }

    if (size > pool->scratch_size) {
        p = ngx_alloc(size, &pool->log);
        if (p == NULL) {
            return NULL;
        }

        if (pool->scratch) {
            ngx_free(pool->scratch);
        }

        pool->scratch = p;
        pool->scratch_size = size;
    }

    values = (const char **) pool->scratch;
    p = pool->scratch + n * sizeof(char *);

    for (i = 0; i < n; i++) {
        s = (i < q->nparams) ? &q->params[i] : &q->org_id;

        if (s->data == NULL && i < q->nparams) {
            values[i] = NULL;
            continue;
        }

        values[i] = (const char *) p;

        if (s->len) {
            p = ngx_cpymem(p, s->data, s->len);
        }

        *p++ = '\0';
    }

    return values;
}


static ngx_int_t
ngx_http_voxanne_db_wrap(ngx_http_voxanne_db_conn_t *dc)
{
    ngx_socket_t       fd;
    ngx_file_info_t    fi;
    ngx_connection_t  *c;

    fd = PQsocket(dc->pg);

    if (fd == (ngx_socket_t) -1) {
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_CRIT, &dc->log, ngx_errno,
                      ngx_fd_info_n " of a PostgreSQL socket failed");
        return NGX_ERROR;
    }

    c = ngx_get_connection(fd, &dc->log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = dc;
    c->number = ngx_atomic_fetch_add(ngx_connection_counter, 1);
    c->read->handler = ngx_http_voxanne_db_event_handler;
    c->write->handler = ngx_http_voxanne_db_event_handler;
    c->read->log = &dc->log;
    c->write->log = &dc->log;

    dc->log.connection = c->number;
    dc->uniq = ngx_file_uniq(&fi);
    dc->c = c;

    return NGX_OK;
}


/* after PQconnectPoll(): the same socket, or a new one to wrap */

static ngx_int_t
ngx_http_voxanne_db_rewrap(ngx_http_voxanne_db_conn_t *dc)
{
    ngx_socket_t     fd;
    ngx_file_info_t  fi;

    fd = PQsocket(dc->pg);

    if (fd == dc->c->fd
        && ngx_fd_info(fd, &fi) != NGX_FILE_ERROR
        && ngx_file_uniq(&fi) == dc->uniq)
    {
        return NGX_OK;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, &dc->log, 0,
                   "voxanne db socket changed fd:%d -> %d", dc->c->fd, fd);

    ngx_http_voxanne_db_unwrap(dc);

    return ngx_http_voxanne_db_wrap(dc);
}


/*
 * Forgets the socket without closing it: libpq has closed it already (the
 * kernel then dropped it from epoll) or PQfinish() will close it.
 */

static void
ngx_http_voxanne_db_unwrap(ngx_http_voxanne_db_conn_t *dc)
{
    ngx_connection_t  *c;

    c = dc->c;

    if (ngx_del_conn) {
        ngx_del_conn(c, NGX_CLOSE_EVENT);

    } else {
        if (c->read->active || c->read->disabled) {
            ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
        }

        if (c->write->active || c->write->disabled) {
            ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
        }
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;
    dc->c = NULL;
}


/*
 * nginx does not see libpq's reads and writes, so its "ready" flags mean
 * nothing here: clear them so that the events are (still) wanted.
 */

static ngx_int_t
ngx_http_voxanne_db_arm(ngx_http_voxanne_db_conn_t *dc, ngx_uint_t write)
{
    ngx_connection_t  *c;

    c = dc->c;

    c->read->ready = 0;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    if (write) {
        c->write->ready = 0;
    }

    return ngx_handle_write_event(c->write, 0);
}


/* would another read find something (or an error) without waiting */

static ngx_uint_t
ngx_http_voxanne_db_pending(ngx_http_voxanne_db_conn_t *dc)
{
    u_char     ch;
    ssize_t    n;
    ngx_err_t  err;

#if (NGX_OPENSSL)
    SSL  *ssl;

    if (PQsslInUse(dc->pg)) {
        ssl = PQsslStruct(dc->pg, "OpenSSL");

        if (ssl && SSL_pending(ssl) > 0) {
            return 1;
        }
    }
#endif

    n = recv(dc->c->fd, &ch, 1, MSG_PEEK);

    if (n >= 0) {
        return 1;
    }

    err = ngx_socket_errno;

    return err != NGX_EAGAIN && err != NGX_EINTR;
}


static void
ngx_http_voxanne_db_notice(void *arg, const PGresult *res)
{
    ngx_http_voxanne_db_conn_t *dc = arg;

    char        *severity;
    ngx_log_t   *log;
    ngx_str_t    text;
    ngx_uint_t   level;
    u_char       buf[NGX_MAX_ERROR_STR];

    severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    log = dc->query ? dc->query->log : &dc->log;

    level = (severity && ngx_strcmp(severity, "WARNING") == 0)
            ? NGX_LOG_WARN : NGX_LOG_INFO;

    text = ngx_http_voxanne_db_text(buf, sizeof(buf),
                                    PQresultErrorMessage(res));

    ngx_log_error(level, log, 0, "PostgreSQL: %V", &text);
}


static u_char *
ngx_http_voxanne_db_log_error(ngx_log_t *log, u_char *buf, size_t len)
{
    if (log->action) {
        return ngx_snprintf(buf, len, " while %s", log->action);
    }

    return buf;
}
