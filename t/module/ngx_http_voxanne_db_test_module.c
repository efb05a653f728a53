
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


/*
 * Tests only.  "voxanne_db_test;" runs the query its request describes
 * through the worker's pool: ?sql=...[&name=statement][&org=id]
 * [&p0=value|&n0][&p1=...|&n1]... (pN a text parameter, nN a NULL), and
 * answers 200 text/plain: "ok" and one line per row (columns joined by
 * "|", NULL as "\N"), or "error SQLSTATE message", "timeout", "down",
 * "closed", "busy" (the queue is full), "declined" (the database is down).
 */


#define NGX_HTTP_VOXANNE_DB_TEST_PARAMS  8


typedef struct {
    ngx_http_voxanne_db_query_t  query;
    ngx_str_t                    params[NGX_HTTP_VOXANNE_DB_TEST_PARAMS];
} ngx_http_voxanne_db_test_ctx_t;


static ngx_int_t ngx_http_voxanne_db_test_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_voxanne_db_test_arg(ngx_http_request_t *r,
    char *name, ngx_str_t *value);
static void ngx_http_voxanne_db_test_done(ngx_http_voxanne_db_query_t *q,
    PGresult *res);
static void ngx_http_voxanne_db_test_cleanup(void *data);
static ngx_int_t ngx_http_voxanne_db_test_send(ngx_http_request_t *r,
    const char *outcome, PGresult *res);
static char *ngx_http_voxanne_db_test(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_http_voxanne_db_test_commands[] = {

    { ngx_string("voxanne_db_test"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_voxanne_db_test,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_voxanne_db_test_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */
    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */
    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */
    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_voxanne_db_test_module = {
    NGX_MODULE_V1,
    &ngx_http_voxanne_db_test_module_ctx,  /* module context */
    ngx_http_voxanne_db_test_commands,     /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_voxanne_db_test_handler(ngx_http_request_t *r)
{
    ngx_str_t                        value;
    ngx_uint_t                       i;
    ngx_pool_cleanup_t              *cln;
    ngx_http_voxanne_db_query_t     *q;
    ngx_http_voxanne_main_conf_t    *vmcf;
    ngx_http_voxanne_db_test_ctx_t  *ctx;

    char                             arg[] = "p0";

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    if (vmcf->db.pool == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_voxanne_db_test_ctx_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (ctx == NULL || cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    q = &ctx->query;

    if (ngx_http_voxanne_db_test_arg(r, "sql", &value) != NGX_OK) {
        return NGX_HTTP_BAD_REQUEST;
    }

    q->sql = (char *) value.data;

    if (ngx_http_voxanne_db_test_arg(r, "name", &value) == NGX_OK) {
        q->name = (char *) value.data;
    }

    if (ngx_http_voxanne_db_test_arg(r, "org", &value) == NGX_OK) {
        q->org_id = value;
    }

    for (i = 0; i < NGX_HTTP_VOXANNE_DB_TEST_PARAMS; i++) {
        arg[0] = 'p';
        arg[1] = (char) ('0' + i);

        if (ngx_http_voxanne_db_test_arg(r, arg, &ctx->params[i]) != NGX_OK) {
            arg[0] = 'n';

            if (ngx_http_voxanne_db_test_arg(r, arg, &value) != NGX_OK) {
                break;
            }

            ngx_str_null(&ctx->params[i]);
        }
    }

    q->params = ctx->params;
    q->nparams = i;
    q->handler = ngx_http_voxanne_db_test_done;
    q->data = r;
    q->log = r->connection->log;

    cln->handler = ngx_http_voxanne_db_test_cleanup;
    cln->data = q;

    switch (ngx_http_voxanne_db_query(vmcf->db.pool, q)) {

    case NGX_OK:
        r->main->count++;
        r->read_event_handler = ngx_http_test_reading;
        return NGX_DONE;

    case NGX_BUSY:
        return ngx_http_voxanne_db_test_send(r, "busy", NULL);

    case NGX_DECLINED:
        return ngx_http_voxanne_db_test_send(r, "declined", NULL);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }
}


/* an argument, unescaped and NUL-terminated */

static ngx_int_t
ngx_http_voxanne_db_test_arg(ngx_http_request_t *r, char *name,
    ngx_str_t *value)
{
    u_char     *dst, *src;
    ngx_str_t   raw;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &raw) != NGX_OK) {
        return NGX_DECLINED;
    }

    value->data = ngx_pnalloc(r->pool, raw.len + 1);
    if (value->data == NULL) {
        return NGX_ERROR;
    }

    src = raw.data;
    dst = value->data;

    ngx_unescape_uri(&dst, &src, raw.len, 0);

    value->len = dst - value->data;
    *dst = '\0';

    return NGX_OK;
}


static void
ngx_http_voxanne_db_test_done(ngx_http_voxanne_db_query_t *q, PGresult *res)
{
    ngx_http_request_t *r = q->data;

    ngx_connection_t  *c;

    static const char  *outcomes[] = {
        "ok", "error", "timeout", "down", "closed"
    };

    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    r->read_event_handler = ngx_http_block_reading;

    ngx_http_finalize_request(r, ngx_http_voxanne_db_test_send(r,
                                                 outcomes[q->status], res));
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_voxanne_db_test_cleanup(void *data)
{
    ngx_http_voxanne_db_cancel(data);
}


static ngx_int_t
ngx_http_voxanne_db_test_send(ngx_http_request_t *r, const char *outcome,
    PGresult *res)
{
    int           row, col, rows, cols;
    char         *state;
    size_t        len;
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    rows = 0;
    cols = 0;
    state = "";
    len = ngx_strlen(outcome) + 2;

    if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
        rows = PQntuples(res);
        cols = PQnfields(res);

        for (row = 0; row < rows; row++) {
            for (col = 0; col < cols; col++) {
                len += PQgetlength(res, row, col) + 3;
            }
        }

    } else if (res) {
        state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        state = state ? state : "";
        len += ngx_strlen(state) + 1;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_sprintf(b->last, "%s", outcome);

    if (*state) {
        b->last = ngx_sprintf(b->last, " %s", state);
    }

    *b->last++ = '\n';

    for (row = 0; row < rows; row++) {
        for (col = 0; col < cols; col++) {
            if (col) {
                *b->last++ = '|';
            }

            if (PQgetisnull(res, row, col)) {
                b->last = ngx_cpymem(b->last, "\\N", 2);
                continue;
            }

            b->last = ngx_cpymem(b->last, PQgetvalue(res, row, col),
                                 PQgetlength(res, row, col));
        }

        *b->last++ = '\n';
    }

    b->last_buf = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "text/plain");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static char *
ngx_http_voxanne_db_test(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_voxanne_db_test_handler;

    return NGX_CONF_OK;
}
