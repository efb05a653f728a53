
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


/*
 * The webhook routes' bodies (Twilio's forms and JSON, Vapi's JSON): read
 * with the mirror module's idiom, and always kept in memory, since the
 * route's location buffer is raised to voxanne_body_max; larger or chunked
 * bodies are refused before they are read.
 */


/* a location becomes a webhook route named for its logs, "twilio voice" */

void
ngx_http_voxanne_body_route(ngx_http_voxanne_loc_conf_t *vlcf,
    ngx_http_core_loc_conf_t *clcf, ngx_str_t *name)
{
    vlcf->clcf = clcf;
    vlcf->name = *name;
}


void
ngx_http_voxanne_body_merge(ngx_http_voxanne_loc_conf_t *prev,
    ngx_http_voxanne_loc_conf_t *conf)
{
    ngx_conf_merge_size_value(conf->body_max, prev->body_max, 64 * 1024);

    if (conf->clcf && conf->clcf->client_body_buffer_size < conf->body_max) {
        conf->clcf->client_body_buffer_size = conf->body_max;
    }
}


/* like a content handler: an error status, or NGX_DONE */

ngx_int_t
ngx_http_voxanne_body_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler)
{
    ngx_int_t                     rc;
    ngx_table_elt_t              *allow;
    ngx_http_voxanne_loc_conf_t  *vlcf;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voxanne_module);

    if (r->method != NGX_HTTP_POST) {
        allow = ngx_list_push(&r->headers_out.headers);
        if (allow == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        allow->hash = 1;
        ngx_str_set(&allow->key, "Allow");
        ngx_str_set(&allow->value, "POST");

        return NGX_HTTP_NOT_ALLOWED;
    }

    if (r->headers_in.chunked) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: %V: chunked body refused, "
                      "Content-Length is required", &vlcf->name);
        return NGX_HTTP_LENGTH_REQUIRED;
    }

    if (r->headers_in.content_length_n > (off_t) vlcf->body_max) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: %V: body of %O bytes is larger than "
                      "voxanne_body_max %uz", &vlcf->name,
                      r->headers_in.content_length_n, vlcf->body_max);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* the body, in one writable piece: the form parser decodes in place */

ngx_int_t
ngx_http_voxanne_body_get(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char                       *p;
    size_t                        len;
    ngx_buf_t                    *b;
    ngx_chain_t                  *cl;
    ngx_http_voxanne_loc_conf_t  *vlcf;

    body->len = 0;
    body->data = NULL;

    if (r->request_body == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voxanne_module);

            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "voxanne: %V: body was written to a file, "
                          "check client_body_in_file_only", &vlcf->name);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        len += b->last - b->pos;
    }

    if (len == 0) {
        return NGX_OK;
    }

    body->data = ngx_pnalloc(r->pool, len);
    if (body->data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = body->data;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    body->len = len;

    return NGX_OK;
}


/* an answer of the whole buffer, of a static content type */

ngx_int_t
ngx_http_voxanne_body_send(ngx_http_request_t *r, ngx_uint_t status,
    char *type, ngx_buf_t *b)
{
    ngx_int_t    rc;
    ngx_chain_t  out;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}
