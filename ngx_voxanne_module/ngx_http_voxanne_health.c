
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <libpq-fe.h>
#include "ngx_http_voxanne.h"


/*
 * GET /healthz.  "voxanne_health live;" answers liveness: the worker runs.
 * "voxanne_health;" answers readiness: with voxanne_db, the worker's pool
 * runs SELECT 1 and the answer is 503 unless it succeeds, or the database
 * is down but voxanne_spool has room: the node still takes calls, their
 * writes wait in the spool ("degraded", 200).  Both tell an operator what
 * is running; each subsystem adds its own member to the JSON object.
 */


static ngx_int_t ngx_http_voxanne_health_request(ngx_http_request_t *r);
static void ngx_http_voxanne_health_db_done(ngx_http_voxanne_db_query_t *q,
    PGresult *res);
static void ngx_http_voxanne_health_cleanup(void *data);
static ngx_int_t ngx_http_voxanne_health_send(ngx_http_request_t *r,
    ngx_http_voxanne_db_pool_t *pool, const char *db);


ngx_int_t
ngx_http_voxanne_health_live_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_voxanne_health_request(r);

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_voxanne_health_send(r, NULL, NULL);
}


ngx_int_t
ngx_http_voxanne_health_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_pool_cleanup_t            *cln;
    ngx_http_voxanne_db_pool_t    *pool;
    ngx_http_voxanne_db_query_t   *q;
    ngx_http_voxanne_main_conf_t  *vmcf;

    rc = ngx_http_voxanne_health_request(r);

    if (rc != NGX_OK) {
        return rc;
    }

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);
    pool = vmcf->db.pool;

    if (pool == NULL) {
        return ngx_http_voxanne_health_send(r, NULL, NULL);
    }

    q = ngx_pcalloc(r->pool, sizeof(ngx_http_voxanne_db_query_t));
    if (q == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q->sql = "SELECT 1";
    q->name = "voxanne_health";
    q->handler = ngx_http_voxanne_health_db_done;
    q->data = r;
    q->log = r->connection->log;

    /* a request that goes away first cancels the query */

    cln->handler = ngx_http_voxanne_health_cleanup;
    cln->data = q;

    switch (ngx_http_voxanne_db_query(pool, q)) {

    case NGX_OK:
        r->main->count++;

        if (!r->discard_body) {
            r->read_event_handler = ngx_http_test_reading;
        }

        return NGX_DONE;

    case NGX_BUSY:
        return ngx_http_voxanne_health_send(r, pool, "busy");

    case NGX_DECLINED:
        return ngx_http_voxanne_health_send(r, pool, "down");

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


static ngx_int_t
ngx_http_voxanne_health_request(ngx_http_request_t *r)
{
    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    return ngx_http_discard_request_body(r);
}


static void
ngx_http_voxanne_health_db_done(ngx_http_voxanne_db_query_t *q,
    PGresult *res)
{
    ngx_http_request_t *r = q->data;

    ngx_int_t          rc;
    ngx_connection_t  *c;

    static const char  *states[] = {
        "up",          /* NGX_HTTP_VOXANNE_DB_OK */
        "error",       /* NGX_HTTP_VOXANNE_DB_ERROR */
        "timeout",     /* NGX_HTTP_VOXANNE_DB_TIMEOUT */
        "down",        /* NGX_HTTP_VOXANNE_DB_DOWN */
        "closing"      /* NGX_HTTP_VOXANNE_DB_CLOSED */
    };

    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    if (q->status == NGX_HTTP_VOXANNE_DB_ERROR) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "health check query failed: %V", &q->error);
    }

    r->read_event_handler = ngx_http_block_reading;

    rc = ngx_http_voxanne_health_send(r, q->pool, states[q->status]);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_voxanne_health_cleanup(void *data)
{
    ngx_http_voxanne_db_cancel(data);
}


/* db: NULL for liveness, else the database's state ("up": 200) */

static ngx_int_t
ngx_http_voxanne_health_send(ngx_http_request_t *r,
    ngx_http_voxanne_db_pool_t *pool, const char *db)
{
    int                              pqv;
    size_t                           len;
    ngx_buf_t                       *b;
    ngx_uint_t                       ok, spooling;
    const char                      *status;
    ngx_table_elt_t                 *cc;
    ngx_http_voxanne_db_stats_t      st;
    ngx_http_voxanne_spool_t        *sp;
    ngx_http_voxanne_main_conf_t    *vmcf;
    ngx_http_voxanne_dbt_stats_t     dst;
    ngx_http_voxanne_spool_stats_t   sst;

    static u_char  fmt[] = "{\"status\":\"%s\","
                           "\"module\":\"ngx_http_voxanne_module\","
                           "\"version\":\"" NGX_HTTP_VOXANNE_VERSION "\","
                           "\"nginx\":\"" NGINX_VERSION "\","
                           "\"pid\":%P,"
                           "\"libpq\":\"%d.%d\"";

    static u_char  db_fmt[] = ",\"db\":{\"state\":\"%s\",\"connections\":%ui,"
                              "\"idle\":%ui,\"connecting\":%ui,"
                              "\"queued\":%ui}";

    static u_char  spool_fmt[] = ",\"spool\":{\"state\":\"%s\",\"bytes\":%O,"
                                 "\"files\":%ui,\"replaying\":%s,"
                                 "\"records\":%ui,\"replayed\":%ui,"
                                 "\"lost\":%ui}";

    static u_char  dbt_fmt[] = ",\"db_tenants\":{\"state\":\"%s\","
                               "\"tenants\":%ui,\"refused\":%ui,"
                               "\"generation\":%ui,\"failures\":%ui,"
                               "\"refreshed\":%T}";

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);
    sp = vmcf->spool.spool;

    if (sp) {
        ngx_http_voxanne_spool_stats(sp, &sst);
    }

    /* with the database down, a spool with room still takes the calls */

    ok = (db == NULL || ngx_strcmp(db, "up") == 0);
    spooling = (!ok && sp && !sst.full);

    status = ok ? "ok" : (spooling ? "degraded" : "unavailable");

    len = sizeof(fmt) - 1 + sizeof("unavailable") + NGX_INT64_LEN
          + 2 * NGX_INT_T_LEN + sizeof(db_fmt) - 1 + sizeof("timeout")
          + 4 * NGX_INT_T_LEN + sizeof(spool_fmt) - 1 + sizeof("full")
          + NGX_OFF_T_LEN + 5 * NGX_INT_T_LEN + sizeof("false")
          + sizeof(dbt_fmt) - 1 + sizeof("loading") + 4 * NGX_INT_T_LEN
          + NGX_TIME_T_LEN + sizeof("}\n");

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* PQlibVersion() is 150018 for libpq 15.18 */

    pqv = PQlibVersion();

    b->last = ngx_sprintf(b->last, (char *) fmt, status, ngx_pid,
                          pqv / 10000, pqv % 10000);

    if (db) {
        ngx_http_voxanne_db_stats(pool, &st);

        b->last = ngx_sprintf(b->last, (char *) db_fmt, db, st.connections,
                              st.idle, st.connecting, st.queued);
    }

    if (sp && db) {
        b->last = ngx_sprintf(b->last, (char *) spool_fmt,
                              sst.full ? "full" : "ok", sst.size, sst.files,
                              sst.replaying ? "true" : "false", sst.records,
                              sst.replayed, sst.lost);
    }

    if (vmcf->dbt && db) {
        ngx_http_voxanne_dbt_stats(vmcf->dbt, &dst);

        b->last = ngx_sprintf(b->last, (char *) dbt_fmt, dst.state,
                              dst.tenants, dst.refused, dst.generation,
                              dst.failures, dst.refreshed);
    }

    b->last = ngx_cpymem(b->last, "}\n", 2);

    cc = ngx_list_push(&r->headers_out.headers);
    if (cc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cc->hash = 1;
    ngx_str_set(&cc->key, "Cache-Control");
    ngx_str_set(&cc->value, "no-store");

    return ngx_http_voxanne_body_send(r, (ok || spooling)
                                         ? NGX_HTTP_OK
                                         : NGX_HTTP_SERVICE_UNAVAILABLE,
                                      "application/json", b);
}
