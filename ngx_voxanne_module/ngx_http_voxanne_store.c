
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


#define NGX_HTTP_VOXANNE_STORE_REPLAY  1000    /* ms between replay checks */
#define NGX_HTTP_VOXANNE_STORE_BATCH   64      /* writes a batch at most */

#define NGX_HTTP_VOXANNE_STORE_NO_FUNCTION  "42883"   /* undefined_function */


/* what becomes of a batch's writes */

typedef enum {
    NGX_HTTP_VOXANNE_STORE_BATCH_SEND = 0,    /* one by one */
    NGX_HTTP_VOXANNE_STORE_BATCH_LANDED,
    NGX_HTTP_VOXANNE_STORE_BATCH_SPOOL
} ngx_http_voxanne_store_batch_e;


typedef struct {
    ngx_str_t                        name;     /* in the spool */
    const char                      *statement;
    const char                      *sql;
    ngx_uint_t                       nparams;
} ngx_http_voxanne_store_statement_t;


/* a write in flight, in a pool of its own: it outlives its request */

typedef struct {
    ngx_http_voxanne_db_query_t      q;        /* first: the handler's */
    ngx_pool_t                      *pool;
    ngx_log_t                        log;      /* the request's, detached */
    ngx_http_voxanne_main_conf_t    *vmcf;
    ngx_queue_t                      queue;    /* pending, or in a batch */
    ngx_uint_t                       statement;
    ngx_str_t                        params[NGX_HTTP_VOXANNE_STORE_PARAMS];
    unsigned                         replay:1;
} ngx_http_voxanne_store_write_t;


/*
 * Writes of one tenant queued in the same pass of the event loop, sent as
 * one statement (sql/009_write_batches.sql): one round trip, one
 * transaction.  Its writes stay whole, to be counted, spooled or sent one
 * by one when the batch cannot land.
 */

typedef struct {
    ngx_http_voxanne_db_query_t      q;        /* first: the handler's */
    ngx_pool_t                      *pool;
    ngx_log_t                        log;      /* its first write's */
    ngx_http_voxanne_main_conf_t    *vmcf;
    ngx_queue_t                      writes;
    ngx_uint_t                       n;
    ngx_str_t                        json;
} ngx_http_voxanne_store_batch_t;


/* a worker's writes queued in this pass, sent from a posted event */

struct ngx_http_voxanne_store_s {
    ngx_event_t                      flush;
    ngx_queue_t                      pending;
    ngx_http_voxanne_main_conf_t    *vmcf;
    unsigned                         unbatched:1;  /* no migration 009 */
};


/* a worker's replays, and its probe of a database that is down */

typedef struct {
    ngx_event_t                      timer;
    ngx_http_voxanne_db_query_t      probe;
    ngx_http_voxanne_main_conf_t    *vmcf;
    unsigned                         probing:1;
} ngx_http_voxanne_store_replay_t;


static ngx_http_voxanne_store_write_t *ngx_http_voxanne_store_write(
    ngx_http_voxanne_main_conf_t *vmcf, ngx_uint_t statement,
    ngx_str_t *params, ngx_log_t *log);
static void ngx_http_voxanne_store_send(ngx_http_voxanne_store_write_t *w);
static void ngx_http_voxanne_store_flush(ngx_event_t *ev);
static ngx_http_voxanne_store_batch_t *ngx_http_voxanne_store_batch(
    ngx_http_voxanne_main_conf_t *vmcf, ngx_queue_t *writes, ngx_uint_t n);
static void ngx_http_voxanne_store_batch_done(ngx_http_voxanne_db_query_t *q,
    PGresult *res);
static void ngx_http_voxanne_store_unbatch(ngx_queue_t *writes,
    ngx_uint_t then);
static json_t *ngx_http_voxanne_store_record(
    ngx_http_voxanne_store_write_t *w);
static void ngx_http_voxanne_store_now(ngx_str_t *at);
static void ngx_http_voxanne_store_done(ngx_http_voxanne_db_query_t *q,
    PGresult *res);
static void ngx_http_voxanne_store_spool(ngx_http_voxanne_store_write_t *w);
static void ngx_http_voxanne_store_finish(ngx_http_voxanne_store_write_t *w,
    ngx_uint_t counter, ngx_int_t rc);
static void ngx_http_voxanne_store_timer(ngx_event_t *ev);
static void ngx_http_voxanne_store_probed(ngx_http_voxanne_db_query_t *q,
    PGresult *res);
static void ngx_http_voxanne_store_replay(ngx_http_voxanne_spool_t *sp,
    ngx_str_t *record, void *data);
static void ngx_http_voxanne_store_redact_cleanup(void *data);


static ngx_http_voxanne_store_statement_t  ngx_http_voxanne_statements[] = {

    { ngx_string("call"), "voxanne_record_call",
      "SELECT voxanne_record_call($1, $2, $3, $4, $5, "
      "to_timestamp($6::float8), $7::int)", 7 },

    { ngx_string("event"), "voxanne_record_event",
      "SELECT voxanne_record_event($1, $2, $3, $4, $5::jsonb, "
      "to_timestamp($6::float8))", 6 },

    { ngx_string("turn"), "voxanne_record_turn",
      "SELECT voxanne_record_turn($1, $2, $3::int, $4, $5, "
      "to_timestamp($6::float8))", 6 },

    { ngx_string("vapi_call"), "voxanne_record_vapi_call",
      "SELECT voxanne_record_vapi_call($1, $2, $3::jsonb, "
      "to_timestamp($4::float8))", 4 },

    { ngx_string("vapi_report"), "voxanne_record_vapi_report",
      "SELECT voxanne_record_vapi_report($1, $2, $3::jsonb, "
      "to_timestamp($4::float8))", 4 }
};


static const char  ngx_http_voxanne_store_batch_sql[] =
    "SELECT voxanne_record_writes($1::jsonb)";


void
ngx_http_voxanne_store(ngx_http_request_t *r, ngx_uint_t statement,
    ngx_str_t *params)
{
    ngx_http_voxanne_main_conf_t    *vmcf;
    ngx_http_voxanne_store_write_t  *w;

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    if (vmcf->db.pool == NULL) {
        return;
    }

    w = ngx_http_voxanne_store_write(vmcf, statement, params,
                                     r->connection->log);
    if (w == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "voxanne: store: a %s write lost: no memory",
                      ngx_http_voxanne_statements[statement].statement);

        if (vmcf->calls) {
            ngx_http_voxanne_calls_count(vmcf->calls,
                                         NGX_HTTP_VOXANNE_STORE_LOST, 1);
        }

        return;
    }

    if (vmcf->store == NULL || vmcf->store->unbatched) {
        ngx_http_voxanne_store_send(w);
        return;
    }

    ngx_queue_insert_tail(&vmcf->store->pending, &w->queue);

    if (!vmcf->store->flush.posted) {
        ngx_post_event(&vmcf->store->flush, &ngx_posted_events);
    }
}


void
ngx_http_voxanne_store_call(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *call_sid, ngx_str_t *from,
    ngx_str_t *to, ngx_str_t *status, ngx_str_t *duration)
{
    u_char     at[NGX_TIME_T_LEN + 5];
    ngx_str_t  params[NGX_HTTP_VOXANNE_STORE_PARAMS];

    if (!ngx_http_voxanne_store_on(r)) {
        return;
    }

    params[0] = t->org_id;
    params[1] = *call_sid;
    params[2] = *from;
    params[3] = *to;
    params[4] = *status;
    params[5].data = at;
    ngx_http_voxanne_store_now(&params[5]);
    params[6] = *duration;

    ngx_http_voxanne_store(r, NGX_HTTP_VOXANNE_STORE_CALL, params);
}


/* a turn of the conversation, once its transcript is complete */

void
ngx_http_voxanne_store_turn(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *call_sid, ngx_uint_t seq,
    char *role, ngx_str_t *text)
{
    u_char                        at[NGX_TIME_T_LEN + 5], n[NGX_INT_T_LEN];
    u_char                       *buf;
    ngx_str_t                     said;
    ngx_http_voxanne_main_conf_t *vmcf;
    ngx_str_t                     params[NGX_HTTP_VOXANNE_STORE_PARAMS];

    if (!ngx_http_voxanne_store_on(r)) {
        return;
    }

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    said = *text;

    if (ngx_http_voxanne_store_redact(vmcf, &said, &buf, r->connection->log)
        != NGX_OK)
    {
        /* never stored unredacted */

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "voxanne: store: turn %ui of call \"%V\" lost: no "
                      "memory", seq, call_sid);

        if (vmcf->calls) {
            ngx_http_voxanne_calls_count(vmcf->calls,
                                         NGX_HTTP_VOXANNE_STORE_LOST, 1);
        }

        return;
    }

    params[0] = t->org_id;
    params[1] = *call_sid;
    params[2].data = n;
    params[2].len = ngx_sprintf(n, "%ui", seq) - n;
    params[3].data = (u_char *) role;
    params[3].len = ngx_strlen(role);
    params[4] = said;
    params[5].data = at;
    ngx_http_voxanne_store_now(&params[5]);

    ngx_http_voxanne_store(r, NGX_HTTP_VOXANNE_STORE_TURN, params);

    if (buf) {
        ngx_free(buf);
    }
}


/* a Vapi message's data (released here) for a vapi_call or vapi_report */

void
ngx_http_voxanne_store_vapi(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_uint_t statement, ngx_str_t *call_id,
    json_t *data)
{
    char       *text;
    u_char      at[NGX_TIME_T_LEN + 5];
    ngx_str_t   params[NGX_HTTP_VOXANNE_STORE_PARAMS];

    if (!ngx_http_voxanne_store_on(r)) {
        json_decref(data);
        return;
    }

    text = json_dumps(data, JSON_COMPACT);
    json_decref(data);

    if (text == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "voxanne: store: no data for Vapi call \"%V\"",
                      call_id);
        return;
    }

    params[0] = t->org_id;
    params[1] = *call_id;
    params[2].data = (u_char *) text;
    params[2].len = ngx_strlen(text);
    params[3].data = at;
    ngx_http_voxanne_store_now(&params[3]);

    ngx_http_voxanne_store(r, statement, params);

    free(text);
}


/*
 * text with its card and social security numbers redacted, in *buf, which
 * the caller frees; *buf is NULL when there is nothing to redact (off, or
 * empty), and text is left as it is.  NGX_ERROR: no memory.
 */

ngx_int_t
ngx_http_voxanne_store_redact(ngx_http_voxanne_main_conf_t *vmcf,
    ngx_str_t *text, u_char **buf, ngx_log_t *log)
{
    *buf = NULL;

    if (vmcf->redact == NULL || text->len == 0) {
        return NGX_OK;
    }

    /* the text, then room for the redaction's other pass */

    *buf = ngx_alloc(2 * text->len, log);
    if (*buf == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(*buf, text->data, text->len);

    text->len = ngx_http_voxanne_redact(vmcf->redact, *buf, text->len,
                                        *buf + text->len);
    text->data = *buf;

    return NGX_OK;
}


/* voxanne_redact: the patterns, compiled once for every worker */

ngx_int_t
ngx_http_voxanne_store_init_conf(ngx_conf_t *cf,
    ngx_http_voxanne_main_conf_t *vmcf)
{
    ngx_pool_cleanup_t  *cln;

    ngx_conf_init_value(vmcf->redact_on, 1);

    if (!vmcf->redact_on) {
        return NGX_OK;
    }

    cln = ngx_pool_cleanup_add(cf->pool, sizeof(ngx_http_voxanne_redact_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_voxanne_redact_init(cln->data) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "voxanne_redact: PCRE2 cannot compile the "
                           "patterns");
        return NGX_ERROR;
    }

    cln->handler = ngx_http_voxanne_store_redact_cleanup;
    vmcf->redact = cln->data;

    return NGX_OK;
}


void
ngx_http_voxanne_store_event(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *call_sid, const char *key,
    const char *type, const char *fmt, ...)
{
    char          *text;
    u_char         at[NGX_TIME_T_LEN + 5];
    va_list        args;
    json_t        *payload;
    ngx_str_t      params[NGX_HTTP_VOXANNE_STORE_PARAMS];

    /* no payload is made when nothing is written */

    if (!ngx_http_voxanne_store_on(r)) {
        return;
    }

    va_start(args, fmt);
    payload = json_vpack_ex(NULL, 0, fmt, args);
    va_end(args);

    text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);

    if (text == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "voxanne: store: no payload for event \"%s\"", key);
        return;
    }

    params[0] = t->org_id;
    params[1] = *call_sid;
    params[2].data = (u_char *) key;
    params[2].len = ngx_strlen(key);
    params[3].data = (u_char *) type;
    params[3].len = ngx_strlen(type);
    params[4].data = (u_char *) text;
    params[4].len = ngx_strlen(text);
    params[5].data = at;
    ngx_http_voxanne_store_now(&params[5]);

    ngx_http_voxanne_store(r, NGX_HTTP_VOXANNE_STORE_EVENT, params);

    free(text);
}


ngx_int_t
ngx_http_voxanne_store_init_process(ngx_cycle_t *cycle,
    ngx_http_voxanne_main_conf_t *vmcf)
{
    ngx_http_voxanne_store_t         *st;
    ngx_http_voxanne_store_replay_t  *rp;

    if (vmcf->db.pool == NULL) {
        return NGX_OK;
    }

    st = ngx_pcalloc(cycle->pool, sizeof(ngx_http_voxanne_store_t));
    if (st == NULL) {
        return NGX_ERROR;
    }

    st->vmcf = vmcf;
    ngx_queue_init(&st->pending);

    st->flush.handler = ngx_http_voxanne_store_flush;
    st->flush.data = st;
    st->flush.log = cycle->log;

    vmcf->store = st;

    if (vmcf->spool.spool == NULL) {
        return NGX_OK;
    }

    rp = ngx_pcalloc(cycle->pool, sizeof(ngx_http_voxanne_store_replay_t));
    if (rp == NULL) {
        return NGX_ERROR;
    }

    rp->vmcf = vmcf;

    rp->timer.handler = ngx_http_voxanne_store_timer;
    rp->timer.data = rp;
    rp->timer.log = cycle->log;
    rp->timer.cancelable = 1;

    rp->probe.sql = "SELECT 1";
    rp->probe.name = "voxanne_probe";
    rp->probe.handler = ngx_http_voxanne_store_probed;
    rp->probe.data = rp;

    ngx_add_timer(&rp->timer, NGX_HTTP_VOXANNE_STORE_REPLAY);

    return NGX_OK;
}


/* the writes still queued are sent before the pool closes */

void
ngx_http_voxanne_store_exit_process(ngx_http_voxanne_main_conf_t *vmcf)
{
    if (vmcf->store == NULL) {
        return;
    }

    if (vmcf->store->flush.posted) {
        ngx_delete_posted_event(&vmcf->store->flush);
    }

    ngx_http_voxanne_store_flush(&vmcf->store->flush);

    vmcf->store = NULL;
}


/* whether writes are made at all: voxanne_db is configured */

ngx_uint_t
ngx_http_voxanne_store_on(ngx_http_request_t *r)
{
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    return vmcf->db.pool != NULL;
}


/* now, as Unix time with milliseconds, into at->data */

static void
ngx_http_voxanne_store_now(ngx_str_t *at)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    at->len = ngx_sprintf(at->data, "%T.%03M", tp->sec, tp->msec) - at->data;
}


/* the write, with its parameters copied into its own pool */

static ngx_http_voxanne_store_write_t *
ngx_http_voxanne_store_write(ngx_http_voxanne_main_conf_t *vmcf,
    ngx_uint_t statement, ngx_str_t *params, ngx_log_t *log)
{
    size_t                              size;
    ngx_uint_t                          i;
    ngx_pool_t                         *pool;
    ngx_http_voxanne_store_write_t     *w;
    ngx_http_voxanne_store_statement_t *st;

    st = &ngx_http_voxanne_statements[statement];

    size = sizeof(ngx_http_voxanne_store_write_t);

    for (i = 0; i < st->nparams; i++) {
        size += params[i].len;
    }

    pool = ngx_create_pool(ngx_max(size + 256, NGX_MIN_POOL_SIZE),
                           ngx_cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    w = ngx_pcalloc(pool, sizeof(ngx_http_voxanne_store_write_t));
    if (w == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    /*
     * the request's log, without its context: the write may end after the
     * request and its connection are gone
     */

    w->log = *log;
    w->log.handler = NULL;
    w->log.data = NULL;
    w->log.action = NULL;

    pool->log = &w->log;

    w->pool = pool;
    w->vmcf = vmcf;
    w->statement = statement;

    for (i = 0; i < st->nparams; i++) {
        if (params[i].data == NULL) {
            continue;
        }

        w->params[i].len = params[i].len;
        w->params[i].data = ngx_pnalloc(pool, params[i].len);
        if (w->params[i].data == NULL) {
            ngx_destroy_pool(pool);
            return NULL;
        }

        ngx_memcpy(w->params[i].data, params[i].data, params[i].len);
    }

    w->q.sql = st->sql;
    w->q.name = st->statement;
    w->q.params = w->params;
    w->q.nparams = st->nparams;
    w->q.org_id = w->params[0];
    w->q.handler = ngx_http_voxanne_store_done;
    w->q.log = &w->log;

    return w;
}


static void
ngx_http_voxanne_store_send(ngx_http_voxanne_store_write_t *w)
{
    switch (ngx_http_voxanne_db_query(w->vmcf->db.pool, &w->q)) {

    case NGX_OK:
        return;

    case NGX_BUSY:     /* the queue is full */
    case NGX_DECLINED: /* the database is down */

        if (w->replay) {
            ngx_http_voxanne_store_finish(w, 0, NGX_ERROR);
            return;
        }

        ngx_http_voxanne_store_spool(w);
        return;

    default:
        ngx_http_voxanne_store_finish(w, NGX_HTTP_VOXANNE_STORE_LOST,
                                      NGX_DECLINED);
    }
}


/*
 * The writes queued in this pass, tenant by tenant in the order of each
 * one's first write: a tenant's writes, in order, as one batch (at most
 * NGX_HTTP_VOXANNE_STORE_BATCH); a single write as it is.
 */

static void
ngx_http_voxanne_store_flush(ngx_event_t *ev)
{
    ngx_str_t                        *org;
    ngx_int_t                         rc;
    ngx_uint_t                        n;
    ngx_queue_t                       writes, *qu, *next;
    ngx_http_voxanne_store_t         *st;
    ngx_http_voxanne_store_batch_t   *b;
    ngx_http_voxanne_store_write_t   *w, *first;

    st = ev->data;

    while (!ngx_queue_empty(&st->pending)) {

        qu = ngx_queue_head(&st->pending);
        first = ngx_queue_data(qu, ngx_http_voxanne_store_write_t, queue);
        org = &first->params[0];

        ngx_queue_init(&writes);
        n = 0;

        for ( /* void */ ;
             qu != ngx_queue_sentinel(&st->pending)
             && n < NGX_HTTP_VOXANNE_STORE_BATCH;
             qu = next)
        {
            next = ngx_queue_next(qu);
            w = ngx_queue_data(qu, ngx_http_voxanne_store_write_t, queue);

            if (w->params[0].len == org->len
                && ngx_memcmp(w->params[0].data, org->data, org->len) == 0)
            {
                ngx_queue_remove(qu);
                ngx_queue_insert_tail(&writes, qu);
                n++;
            }
        }

        b = (n > 1) ? ngx_http_voxanne_store_batch(st->vmcf, &writes, n)
                    : NULL;

        if (b == NULL) {

            /* one write, or no memory for a batch: one by one */

            ngx_http_voxanne_store_unbatch(&writes,
                                           NGX_HTTP_VOXANNE_STORE_BATCH_SEND);
            continue;
        }

        rc = ngx_http_voxanne_db_query(st->vmcf->db.pool, &b->q);

        if (rc == NGX_OK) {
            continue;
        }

        /* the queue is full or the database down: spooled, in order */

        ngx_http_voxanne_store_unbatch(&b->writes,
                                       rc == NGX_ERROR
                                       ? NGX_HTTP_VOXANNE_STORE_BATCH_SEND
                                       : NGX_HTTP_VOXANNE_STORE_BATCH_SPOOL);
        ngx_destroy_pool(b->pool);
    }
}


/* the batch's statement: its writes as a JSON array of spool records */

static ngx_http_voxanne_store_batch_t *
ngx_http_voxanne_store_batch(ngx_http_voxanne_main_conf_t *vmcf,
    ngx_queue_t *writes, ngx_uint_t n)
{
    char                            *text;
    json_t                          *array, *record;
    ngx_pool_t                      *pool;
    ngx_queue_t                     *qu;
    ngx_http_voxanne_store_batch_t  *b;
    ngx_http_voxanne_store_write_t  *w;

    array = json_array();
    if (array == NULL) {
        return NULL;
    }

    for (qu = ngx_queue_head(writes);
         qu != ngx_queue_sentinel(writes);
         qu = ngx_queue_next(qu))
    {
        w = ngx_queue_data(qu, ngx_http_voxanne_store_write_t, queue);

        record = ngx_http_voxanne_store_record(w);

        if (record == NULL || json_array_append_new(array, record) != 0) {
            json_decref(array);
            return NULL;
        }
    }

    text = json_dumps(array, JSON_COMPACT);
    json_decref(array);

    if (text == NULL) {
        return NULL;
    }

    w = ngx_queue_data(ngx_queue_head(writes), ngx_http_voxanne_store_write_t,
                       queue);

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, ngx_cycle->log);
    if (pool == NULL) {
        free(text);
        return NULL;
    }

    b = ngx_pcalloc(pool, sizeof(ngx_http_voxanne_store_batch_t));
    if (b == NULL) {
        goto failed;
    }

    b->log = w->log;
    pool->log = &b->log;

    b->json.len = ngx_strlen(text);
    b->json.data = ngx_pnalloc(pool, b->json.len);
    if (b->json.data == NULL) {
        goto failed;
    }

    ngx_memcpy(b->json.data, text, b->json.len);
    free(text);

    b->pool = pool;
    b->vmcf = vmcf;
    b->n = n;

    ngx_queue_init(&b->writes);
    ngx_queue_add(&b->writes, writes);

    b->q.sql = ngx_http_voxanne_store_batch_sql;
    b->q.name = "voxanne_record_writes";
    b->q.params = &b->json;
    b->q.nparams = 1;
    b->q.org_id = w->params[0];
    b->q.handler = ngx_http_voxanne_store_batch_done;
    b->q.log = &b->log;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &b->log, 0,
                   "voxanne store batch of %ui writes", n);

    return b;

failed:

    free(text);
    ngx_destroy_pool(pool);

    return NULL;
}


/*
 * Landed: each write is counted.  Refused: each write is sent alone, so
 * that only one the database refuses fails; a database without
 * voxanne_record_writes() (migration 009) gets no more batches from this
 * worker.  No answer: the writes are spooled, in order.
 */

static void
ngx_http_voxanne_store_batch_done(ngx_http_voxanne_db_query_t *q,
    PGresult *res)
{
    ngx_http_voxanne_store_batch_t *b = (ngx_http_voxanne_store_batch_t *) q;

    char        *state;
    ngx_uint_t   then;

    switch (q->status) {

    case NGX_HTTP_VOXANNE_DB_OK:
        then = NGX_HTTP_VOXANNE_STORE_BATCH_LANDED;
        break;

    case NGX_HTTP_VOXANNE_DB_ERROR:
        then = NGX_HTTP_VOXANNE_STORE_BATCH_SEND;

        state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

        if (state != NULL
            && ngx_strcmp(state, NGX_HTTP_VOXANNE_STORE_NO_FUNCTION) == 0
            && b->vmcf->store != NULL)
        {
            b->vmcf->store->unbatched = 1;

            ngx_log_error(NGX_LOG_WARN, q->log, 0,
                          "voxanne: store: the database has no "
                          "voxanne_record_writes() (migration 009), writes "
                          "are sent one by one: %V", &q->error);
            break;
        }

        ngx_log_error(NGX_LOG_WARN, q->log, 0,
                      "voxanne: store: a batch of %ui writes failed, each "
                      "is sent alone: %V", b->n, &q->error);
        break;

    default: /* timeout, down, closed */
        then = NGX_HTTP_VOXANNE_STORE_BATCH_SPOOL;
    }

    ngx_http_voxanne_store_unbatch(&b->writes, then);
    ngx_destroy_pool(b->pool);
}


/* a batch's writes, in order, as its outcome says */

static void
ngx_http_voxanne_store_unbatch(ngx_queue_t *writes, ngx_uint_t then)
{
    ngx_queue_t                     *qu;
    ngx_http_voxanne_store_write_t  *w;

    while (!ngx_queue_empty(writes)) {
        qu = ngx_queue_head(writes);
        ngx_queue_remove(qu);

        w = ngx_queue_data(qu, ngx_http_voxanne_store_write_t, queue);

        switch (then) {

        case NGX_HTTP_VOXANNE_STORE_BATCH_SEND:
            ngx_http_voxanne_store_send(w);
            break;

        case NGX_HTTP_VOXANNE_STORE_BATCH_LANDED:
            ngx_http_voxanne_store_finish(w, NGX_HTTP_VOXANNE_STORE_WRITTEN,
                                          NGX_OK);
            break;

        default:
            ngx_http_voxanne_store_spool(w);
        }
    }
}


static void
ngx_http_voxanne_store_done(ngx_http_voxanne_db_query_t *q, PGresult *res)
{
    ngx_http_voxanne_store_write_t *w = (ngx_http_voxanne_store_write_t *) q;

    switch (q->status) {

    case NGX_HTTP_VOXANNE_DB_OK:
        ngx_http_voxanne_store_finish(w, w->replay
                                         ? NGX_HTTP_VOXANNE_STORE_REPLAYED
                                         : NGX_HTTP_VOXANNE_STORE_WRITTEN,
                                      NGX_OK);
        return;

    case NGX_HTTP_VOXANNE_DB_ERROR:

        /* it would fail again: logged, not spooled */

        ngx_log_error(NGX_LOG_ERR, q->log, 0,
                      "voxanne: store: %s of call \"%V\" failed: %V",
                      ngx_http_voxanne_statements[w->statement].statement,
                      &w->params[1], &q->error);

        ngx_http_voxanne_store_finish(w, NGX_HTTP_VOXANNE_STORE_FAILED,
                                      NGX_DECLINED);
        return;

    default: /* timeout, down, closed */

        if (w->replay) {
            ngx_http_voxanne_store_finish(w, 0, NGX_ERROR);
            return;
        }

        ngx_http_voxanne_store_spool(w);
    }
}


/* the write as a spool record: ["statement", param or null, ...] */

static json_t *
ngx_http_voxanne_store_record(ngx_http_voxanne_store_write_t *w)
{
    json_t                             *record, *v;
    ngx_uint_t                          i;
    ngx_http_voxanne_store_statement_t *st;

    st = &ngx_http_voxanne_statements[w->statement];

    record = json_array();
    if (record == NULL) {
        return NULL;
    }

    v = json_stringn((char *) st->name.data, st->name.len);

    for (i = 0; v != NULL && json_array_append_new(record, v) == 0; i++) {

        if (i == st->nparams) {
            return record;
        }

        v = w->params[i].data
            ? json_stringn((char *) w->params[i].data, w->params[i].len)
            : json_null();
    }

    json_decref(record);

    return NULL;
}


static void
ngx_http_voxanne_store_spool(ngx_http_voxanne_store_write_t *w)
{
    char                               *text;
    json_t                             *record;
    ngx_int_t                           rc;
    ngx_http_voxanne_store_statement_t *st;

    st = &ngx_http_voxanne_statements[w->statement];

    text = NULL;
    record = ngx_http_voxanne_store_record(w);

    if (record != NULL) {
        text = json_dumps(record, JSON_COMPACT);
        json_decref(record);
    }

    rc = text ? ngx_http_voxanne_spool_append(w->vmcf->spool.spool,
                                              (u_char *) text,
                                              ngx_strlen(text))
              : NGX_DECLINED;

    free(text);

    if (rc == NGX_OK) {
        ngx_http_voxanne_store_finish(w, NGX_HTTP_VOXANNE_STORE_SPOOLED,
                                      NGX_OK);
        return;
    }

    ngx_log_error(NGX_LOG_ERR, w->q.log, 0,
                  "voxanne: store: %s of call \"%V\" lost: PostgreSQL "
                  "cannot take it and the spool neither",
                  st->statement, &w->params[1]);

    ngx_http_voxanne_store_finish(w, NGX_HTTP_VOXANNE_STORE_LOST,
                                  NGX_DECLINED);
}


/* counted; a replayed write tells the spool how it went */

static void
ngx_http_voxanne_store_finish(ngx_http_voxanne_store_write_t *w,
    ngx_uint_t counter, ngx_int_t rc)
{
    ngx_uint_t                     replay;
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = w->vmcf;
    replay = w->replay;

    if (counter && vmcf->calls) {
        ngx_http_voxanne_calls_count(vmcf->calls, counter, 1);
    }

    ngx_destroy_pool(w->pool);

    if (replay) {
        ngx_http_voxanne_spool_next(vmcf->spool.spool, rc);
    }
}


/*
 * While the database answers, the spool is replayed.  While it is down,
 * a probe lets the pool try it again once its backoff has passed, even
 * when no call writes anything.
 */

static void
ngx_http_voxanne_store_timer(ngx_event_t *ev)
{
    ngx_http_voxanne_db_stats_t       st;
    ngx_http_voxanne_main_conf_t     *vmcf;
    ngx_http_voxanne_store_replay_t  *rp;

    rp = ev->data;
    vmcf = rp->vmcf;

    if (ngx_exiting || ngx_terminate) {
        return;
    }

    ngx_http_voxanne_db_stats(vmcf->db.pool, &st);

    if (!st.down) {
        ngx_http_voxanne_spool_replay(vmcf->spool.spool,
                                      ngx_http_voxanne_store_replay, vmcf);

    } else if (!rp->probing
               && ngx_http_voxanne_db_query(vmcf->db.pool, &rp->probe)
                  == NGX_OK)
    {
        rp->probing = 1;
    }

    ngx_add_timer(ev, NGX_HTTP_VOXANNE_STORE_REPLAY);
}


static void
ngx_http_voxanne_store_probed(ngx_http_voxanne_db_query_t *q, PGresult *res)
{
    ngx_http_voxanne_store_replay_t *rp = q->data;

    rp->probing = 0;
}


static void
ngx_http_voxanne_store_replay(ngx_http_voxanne_spool_t *sp,
    ngx_str_t *record, void *data)
{
    ngx_http_voxanne_main_conf_t *vmcf = data;

    size_t                               i, n;
    json_t                              *json, *v;
    ngx_int_t                            rc;
    ngx_str_t                            name;
    ngx_uint_t                           s;
    json_error_t                         err;
    ngx_http_voxanne_store_write_t      *w;
    ngx_http_voxanne_store_statement_t  *st;
    ngx_str_t                            params[NGX_HTTP_VOXANNE_STORE_PARAMS];

    w = NULL;
    rc = NGX_DECLINED;

    json = json_loadb((char *) record->data, record->len, 0, &err);

    n = json_array_size(json);
    v = json_array_get(json, 0);

    name.data = (u_char *) json_string_value(v);
    name.len = json_string_length(v);

    for (s = 0; name.data && s < NGX_HTTP_VOXANNE_STORE_STATEMENTS; s++) {
        st = &ngx_http_voxanne_statements[s];

        if (st->name.len != name.len
            || ngx_strncmp(st->name.data, name.data, name.len) != 0
            || n != st->nparams + 1)
        {
            continue;
        }

        for (i = 0; i < st->nparams; i++) {
            v = json_array_get(json, i + 1);

            if (json_is_null(v)) {
                ngx_str_null(&params[i]);
                continue;
            }

            if (!json_is_string(v)) {
                break;
            }

            params[i].data = (u_char *) json_string_value(v);
            params[i].len = json_string_length(v);
        }

        if (i == st->nparams) {
            w = ngx_http_voxanne_store_write(vmcf, s, params,
                                             ngx_cycle->log);

            /* no memory: the file is replayed again later */

            rc = NGX_ERROR;
        }

        break;
    }

    json_decref(json);

    if (w == NULL) {
        if (rc == NGX_DECLINED) {
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "voxanne: store: a spool record that is no write "
                          "skipped");
        }

        ngx_http_voxanne_spool_next(sp, rc);
        return;
    }

    w->replay = 1;

    ngx_http_voxanne_store_send(w);
}


static void
ngx_http_voxanne_store_redact_cleanup(void *data)
{
    ngx_http_voxanne_redact_free(data);
}
