
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <libpq-fe.h>
#include "ngx_http_voxanne.h"


/*
 * GET /healthz: a liveness answer that also tells an operator what is
 * running.  Later subsystems (database pool, realtime provider) add their
 * state here.
 */

ngx_int_t
ngx_http_voxanne_health_handler(ngx_http_request_t *r)
{
    int               pqv;
    size_t            len;
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_chain_t       out;
    ngx_table_elt_t  *cc;

    static u_char  fmt[] = "{\"status\":\"ok\","
                           "\"module\":\"ngx_http_voxanne_module\","
                           "\"version\":\"" NGX_HTTP_VOXANNE_VERSION "\","
                           "\"nginx\":\"" NGINX_VERSION "\","
                           "\"pid\":%P,"
                           "\"libpq\":\"%d.%d\"}\n";

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    len = sizeof(fmt) - 1 + NGX_INT64_LEN + 2 * NGX_INT_T_LEN;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* PQlibVersion() is 150018 for libpq 15.18 */

    pqv = PQlibVersion();

    b->last = ngx_sprintf(b->last, (char *) fmt, ngx_pid,
                          pqv / 10000, pqv % 10000);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    cc = ngx_list_push(&r->headers_out.headers);
    if (cc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cc->hash = 1;
    ngx_str_set(&cc->key, "Cache-Control");
    ngx_str_set(&cc->value, "no-store");

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
