
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/core_names.h>
#include "ngx_http_voxanne.h"


/*
 * Vapi server webhooks (protocols.md §6): the tenant from the route, the
 * called number or the last path segment; then the tenant's vapi_auth,
 * before anything in the message is acted on; then the message.
 */


#define NGX_HTTP_VOXANNE_VAPI_ID_MAX   128
#define NGX_HTTP_VOXANNE_VAPI_CALL_MAX 64       /* calls.vapi_call_id */

/*
 * A report's text per write: a spool record must fit the spool's buffer
 * even when every byte is escaped twice (7 bytes for a control character)
 */
#define NGX_HTTP_VOXANNE_VAPI_WRITE_TEXT  NGX_HTTP_VOXANNE_VAPI_TEXT_MAX
#define NGX_HTTP_VOXANNE_VAPI_CLOSED   "We are closed right now. Please call " \
                                       "again during our opening hours."
#define NGX_HTTP_VOXANNE_VAPI_NO_AGENT "Sorry, this number cannot take " \
                                       "calls right now."


typedef struct {
    ngx_http_voxanne_tenant_t     *tenant;
    ngx_str_t                      call_id;

    /* tool-calls: a tool call for each of msg's calls, pending unanswered */
    ngx_http_voxanne_vapi_msg_t   *msg;
    ngx_http_voxanne_tool_call_t  *tools;
    ngx_uint_t                     pending;
} ngx_http_voxanne_vapi_ctx_t;


typedef enum {
    NGX_HTTP_VOXANNE_VAPI_KEY_FILE = 0,
    NGX_HTTP_VOXANNE_VAPI_KEY_HEADER,
    NGX_HTTP_VOXANNE_VAPI_KEY_ALGORITHM,
    NGX_HTTP_VOXANNE_VAPI_KEY_FORMAT,
    NGX_HTTP_VOXANNE_VAPI_KEY_ENCODING,
    NGX_HTTP_VOXANNE_VAPI_KEY_PREFIX,
    NGX_HTTP_VOXANNE_VAPI_KEY_SECRET,
    NGX_HTTP_VOXANNE_VAPI_KEY_TIMESTAMP_HEADER,
    NGX_HTTP_VOXANNE_VAPI_KEY_ID_HEADER,
    NGX_HTTP_VOXANNE_VAPI_KEY_TOLERANCE
} ngx_http_voxanne_vapi_key_e;


typedef struct {
    ngx_str_t                     name;
    ngx_uint_t                    key;      /* ngx_http_voxanne_vapi_key_e */
    ngx_uint_t                    hmac;     /* for hmac only */
} ngx_http_voxanne_vapi_key_t;


static ngx_int_t ngx_http_voxanne_vapi_handler(ngx_http_request_t *r);
static void ngx_http_voxanne_vapi_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_voxanne_vapi_process(ngx_http_request_t *r,
    ngx_http_voxanne_vapi_msg_t *msg);
static ngx_http_voxanne_tenant_t *ngx_http_voxanne_vapi_tenant(
    ngx_http_request_t *r, ngx_http_voxanne_vapi_msg_t *msg);
static ngx_int_t ngx_http_voxanne_vapi_verify(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *body);
static ngx_int_t ngx_http_voxanne_vapi_assistant_request(
    ngx_http_request_t *r, ngx_http_voxanne_tenant_t *t);
static ngx_int_t ngx_http_voxanne_vapi_tool_calls(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_http_voxanne_vapi_msg_t *msg);
static ngx_int_t ngx_http_voxanne_vapi_record(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_http_voxanne_vapi_msg_t *msg);
static ngx_int_t ngx_http_voxanne_vapi_report(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_http_voxanne_vapi_msg_t *msg,
    json_t *call);
static ngx_int_t ngx_http_voxanne_vapi_set(json_t *data, const char *key,
    ngx_str_t *value);
static void ngx_http_voxanne_vapi_tool_done(ngx_http_voxanne_tool_call_t *tc);
static ngx_int_t ngx_http_voxanne_vapi_results(ngx_http_request_t *r);
static ngx_int_t ngx_http_voxanne_vapi_send(ngx_http_request_t *r,
    ngx_uint_t status, json_t *json);
static void ngx_http_voxanne_vapi_count(ngx_http_request_t *r, ngx_int_t rc);
static void ngx_http_voxanne_vapi_cleanup(void *data);
static void ngx_http_voxanne_vapi_call(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t **tenant, ngx_str_t **call_sid);
static ngx_http_voxanne_vapi_t *ngx_http_voxanne_vapi_conf(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t);
static ngx_int_t ngx_http_voxanne_vapi_id(ngx_str_t *id, size_t max);
static void ngx_http_voxanne_vapi_key_cleanup(void *data);


static ngx_str_t  ngx_http_voxanne_vapi_modes[] = {
    ngx_null_string,
    ngx_string("secret"),
    ngx_string("bearer"),
    ngx_string("hmac"),
    ngx_null_string
};


static ngx_http_voxanne_vapi_key_t  ngx_http_voxanne_vapi_keys[] = {
    { ngx_string("file"), NGX_HTTP_VOXANNE_VAPI_KEY_FILE, 0 },
    { ngx_string("header"), NGX_HTTP_VOXANNE_VAPI_KEY_HEADER, 0 },
    { ngx_string("algorithm"), NGX_HTTP_VOXANNE_VAPI_KEY_ALGORITHM, 1 },
    { ngx_string("format"), NGX_HTTP_VOXANNE_VAPI_KEY_FORMAT, 1 },
    { ngx_string("encoding"), NGX_HTTP_VOXANNE_VAPI_KEY_ENCODING, 1 },
    { ngx_string("prefix"), NGX_HTTP_VOXANNE_VAPI_KEY_PREFIX, 1 },
    { ngx_string("secret"), NGX_HTTP_VOXANNE_VAPI_KEY_SECRET, 1 },
    { ngx_string("timestamp_header"),
      NGX_HTTP_VOXANNE_VAPI_KEY_TIMESTAMP_HEADER, 1 },
    { ngx_string("id_header"), NGX_HTTP_VOXANNE_VAPI_KEY_ID_HEADER, 1 },
    { ngx_string("tolerance"), NGX_HTTP_VOXANNE_VAPI_KEY_TOLERANCE, 1 },
    { ngx_null_string, 0, 0 }
};


/* voxanne_vapi [tenant=NAME] */

char *
ngx_http_voxanne_vapi(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voxanne_loc_conf_t *vlcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    static ngx_str_t  name = ngx_string("vapi");

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_voxanne_vapi_handler) {
        return "is duplicate";
    }

    if (clcf->handler != NULL) {
        return "conflicts with another content handler in this location";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        if (value[1].len <= 7
            || ngx_strncmp(value[1].data, "tenant=", 7) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        vlcf->tenant_name.data = value[1].data + 7;
        vlcf->tenant_name.len = value[1].len - 7;
    }

    vlcf->route = NGX_HTTP_VOXANNE_ROUTE_VAPI;
    vlcf->call = ngx_http_voxanne_vapi_call;

    ngx_http_voxanne_body_route(vlcf, clcf, &name);

    clcf->handler = ngx_http_voxanne_vapi_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_voxanne_vapi_handler(ngx_http_request_t *r)
{
    ngx_http_voxanne_vapi_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_voxanne_vapi_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_voxanne_module);

    return ngx_http_voxanne_body_read(r, ngx_http_voxanne_vapi_body);
}


static void
ngx_http_voxanne_vapi_body(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_pool_cleanup_t           *cln;
    ngx_http_voxanne_vapi_msg_t  *msg;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_voxanne_vapi_msg_t));
    if (cln == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    msg = cln->data;
    ngx_memzero(msg, sizeof(ngx_http_voxanne_vapi_msg_t));

    cln->handler = ngx_http_voxanne_vapi_cleanup;

    rc = ngx_http_voxanne_vapi_process(r, msg);

    if (rc == NGX_DONE) {
        /* tools wait on the database: the last one to finish answers */
        return;
    }

    ngx_http_voxanne_vapi_count(r, rc);

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_voxanne_vapi_process(ngx_http_request_t *r,
    ngx_http_voxanne_vapi_msg_t *msg)
{
    ngx_int_t                     rc;
    ngx_str_t                     body, *type;
    ngx_http_voxanne_tenant_t    *t;
    ngx_http_voxanne_vapi_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);

    rc = ngx_http_voxanne_body_get(r, &body);
    if (rc != NGX_OK) {
        return rc;
    }

    type = r->headers_in.content_type ? &r->headers_in.content_type->value
                                      : NULL;

    if (type == NULL || !ngx_http_voxanne_type_is(type, "application/json")) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: vapi: unsupported content type \"%V\"",
                      type ? type : &ngx_http_voxanne_vapi_modes[0]);
        return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
    }

    if (ngx_http_voxanne_vapi_msg_parse(msg, body.data, body.len) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: vapi: %s", msg->error);

        return ngx_http_voxanne_vapi_send(r, NGX_HTTP_BAD_REQUEST,
                   json_pack("{ss}", "error", "not a Vapi server message"));
    }

    t = ngx_http_voxanne_vapi_tenant(r, msg);

    if (t == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "voxanne: vapi %V: no tenant for \"%V\"",
                      &msg->type_name, &msg->number);

        return ngx_http_voxanne_vapi_send(r, NGX_HTTP_NOT_FOUND,
                   json_pack("{ss}", "error", "unknown tenant"));
    }

    ctx->tenant = t;

    rc = ngx_http_voxanne_vapi_verify(r, t, &body);

    if (rc == NGX_DECLINED) {
        return ngx_http_voxanne_vapi_send(r, NGX_HTTP_UNAUTHORIZED,
                   json_pack("{ss}", "error", "unauthorized"));
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->call_id = msg->call_id;

    switch (msg->type) {

    case NGX_HTTP_VOXANNE_VAPI_ASSISTANT_REQUEST:
        return ngx_http_voxanne_vapi_assistant_request(r, t);

    case NGX_HTTP_VOXANNE_VAPI_TOOL_CALLS:
        return ngx_http_voxanne_vapi_tool_calls(r, t, msg);

    case NGX_HTTP_VOXANNE_VAPI_STATUS_UPDATE:
    case NGX_HTTP_VOXANNE_VAPI_END_OF_CALL_REPORT:

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: vapi %V: tenant \"%V\" call \"%V\": "
                      "status \"%V\", ended \"%V\"", &msg->type_name,
                      &t->name, &msg->call_id, &msg->status,
                      &msg->ended_reason);

        rc = ngx_http_voxanne_vapi_record(r, t, msg);

        if (rc == NGX_DECLINED) {
            return ngx_http_voxanne_vapi_send(r, NGX_HTTP_BAD_REQUEST,
                       json_pack("{ss}", "error", "invalid call id"));
        }

        if (rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        break;

    default: /* NGX_HTTP_VOXANNE_VAPI_OTHER */

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "voxanne: vapi %V: tenant \"%V\": nothing to do",
                       &msg->type_name, &t->name);
    }

    /* Vapi wants no answer to these, only a quick 200 */

    return ngx_http_voxanne_vapi_send(r, NGX_HTTP_OK, json_object());
}


/*
 * The route's own tenant, else the owner of the number Vapi answered
 * (phoneNumber.number), else the tenant the last path segment names.
 */

static ngx_http_voxanne_tenant_t *
ngx_http_voxanne_vapi_tenant(ngx_http_request_t *r,
    ngx_http_voxanne_vapi_msg_t *msg)
{
    u_char                        *p;
    ngx_str_t                      name;
    ngx_http_voxanne_tenant_t     *t;
    ngx_http_voxanne_loc_conf_t   *vlcf;
    ngx_http_voxanne_main_conf_t  *vmcf;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voxanne_module);
    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    if (vlcf->tenant) {
        return vlcf->tenant;
    }

    if (msg->number.len) {
        t = ngx_hash_find(&vmcf->numbers,
                          ngx_hash_key(msg->number.data, msg->number.len),
                          msg->number.data, msg->number.len);
        if (t) {
            return t;
        }
    }

    for (p = r->uri.data + r->uri.len; p > r->uri.data; p--) {
        if (p[-1] == '/') {
            break;
        }
    }

    name.data = p;
    name.len = r->uri.data + r->uri.len - p;

    return name.len ? ngx_http_voxanne_tenant_find(vmcf, &name) : NULL;
}


/*
 * The tenant's vapi_auth: NGX_OK, NGX_DECLINED (logged, without the values
 * presented), or NGX_ERROR.
 */

static ngx_int_t
ngx_http_voxanne_vapi_verify(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *body)
{
    u_char                   *p;
    ngx_int_t                 rc;
    ngx_str_t                 value, *url;
    const char               *reason;
    ngx_table_elt_t          *h, *ts, *id;
    ngx_http_voxanne_vapi_t  *v;
    ngx_str_t                 values[NGX_HTTP_VOXANNE_VAPI_FIELDS];

    v = t->vapi;

    if (v == NULL || v->auth == NGX_HTTP_VOXANNE_VAPI_AUTH_NONE) {
        reason = "the tenant has no vapi_auth";
        goto declined;
    }

    h = ngx_http_voxanne_header_in(r, (char *) v->header.data, v->header.len);

    if (h == NULL) {
        reason = "the credential header is missing";
        goto declined;
    }

    value = h->value;

    switch (v->auth) {

    case NGX_HTTP_VOXANNE_VAPI_AUTH_BEARER:

        if (value.len < 7
            || ngx_strncasecmp(value.data, (u_char *) "Bearer ", 7) != 0)
        {
            reason = "the credential is not a Bearer token";
            goto declined;
        }

        value.data += 7;
        value.len -= 7;

        /* fall through */

    case NGX_HTTP_VOXANNE_VAPI_AUTH_SECRET:

        if (ngx_http_voxanne_vapi_secret_verify(v->digest, &value) != NGX_OK) {
            reason = "the credential does not match";
            goto declined;
        }

        return NGX_OK;

    default: /* NGX_HTTP_VOXANNE_VAPI_AUTH_HMAC */
        break;
    }

    ngx_memzero(values, sizeof(values));

    values[NGX_HTTP_VOXANNE_VAPI_BODY] = *body;
    values[NGX_HTTP_VOXANNE_VAPI_METHOD] = r->method_name;

    if (v->signs[NGX_HTTP_VOXANNE_VAPI_TIMESTAMP]) {
        ts = ngx_http_voxanne_header_in(r, (char *) v->timestamp_header.data,
                                        v->timestamp_header.len);
        if (ts == NULL) {
            reason = "the timestamp header is missing";
            goto declined;
        }

        if (ngx_http_voxanne_vapi_timestamp(&ts->value, ngx_time(),
                                            v->tolerance)
            != NGX_OK)
        {
            reason = "the timestamp is malformed or out of tolerance";
            goto declined;
        }

        values[NGX_HTTP_VOXANNE_VAPI_TIMESTAMP] = ts->value;
    }

    if (v->signs[NGX_HTTP_VOXANNE_VAPI_SVIX_ID]) {
        id = ngx_http_voxanne_header_in(r, (char *) v->id_header.data,
                                        v->id_header.len);
        if (id == NULL) {
            reason = "the message id header is missing";
            goto declined;
        }

        values[NGX_HTTP_VOXANNE_VAPI_SVIX_ID] = id->value;
    }

    if (v->signs[NGX_HTTP_VOXANNE_VAPI_URL]) {
        url = &values[NGX_HTTP_VOXANNE_VAPI_URL];

        url->len = t->public_url[0].len + r->unparsed_uri.len;
        url->data = ngx_pnalloc(r->pool, url->len);
        if (url->data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(url->data, t->public_url[0].data, t->public_url[0].len);
        ngx_memcpy(p, r->unparsed_uri.data, r->unparsed_uri.len);
    }

    rc = ngx_http_voxanne_vapi_hmac_verify(&v->hmac, values, &value);

    if (rc == NGX_OK || rc == NGX_ERROR) {
        return rc;
    }

    reason = "the signature does not match";

declined:

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "voxanne: vapi: tenant \"%V\": %s, unauthorized",
                  &t->name, reason);

    return NGX_DECLINED;
}


/*
 * Who answers the call: the tenant's assistant while it is open; after
 * hours its after-hours assistant, else a transfer to its after-hours
 * number, else a message before Vapi hangs up.
 */

static ngx_int_t
ngx_http_voxanne_vapi_assistant_request(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t)
{
    ngx_http_voxanne_vapi_t  *v;

    v = t->vapi;

    if (ngx_http_voxanne_tenant_open(t, ngx_time())) {

        if (v->assistant.len) {
            return ngx_http_voxanne_vapi_send(r, NGX_HTTP_OK,
                       json_pack("{ss%}", "assistantId", v->assistant.data,
                                 v->assistant.len));
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "voxanne: vapi: tenant \"%V\" has no vapi_assistant",
                      &t->name);

        return ngx_http_voxanne_vapi_send(r, NGX_HTTP_OK,
                   json_pack("{ss}", "error", NGX_HTTP_VOXANNE_VAPI_NO_AGENT));
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "voxanne: vapi: tenant \"%V\": after hours", &t->name);

    if (v->after_hours.len) {
        return ngx_http_voxanne_vapi_send(r, NGX_HTTP_OK,
                   json_pack("{ss%}", "assistantId", v->after_hours.data,
                             v->after_hours.len));
    }

    if (t->after_hours.type == NGX_HTTP_VOXANNE_ACTION_DIAL) {
        return ngx_http_voxanne_vapi_send(r, NGX_HTTP_OK,
                   json_pack("{s{ssss%}}", "destination", "type", "number",
                             "number", t->after_hours.number.data,
                             t->after_hours.number.len));
    }

    return ngx_http_voxanne_vapi_send(r, NGX_HTTP_OK,
               json_pack("{ss}", "error", NGX_HTTP_VOXANNE_VAPI_CLOSED));
}


/*
 * Always 200, a result or an error for each call, in the calls' order.
 * The tools run at once; those that wait on the database hold the request
 * (NGX_DONE: it is not finalized) until the last of them is done, even
 * when the client has gone meanwhile: their pools are the request's.
 */

static ngx_int_t
ngx_http_voxanne_vapi_tool_calls(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_http_voxanne_vapi_msg_t *msg)
{
    ngx_int_t                      rc;
    ngx_uint_t                     i;
    ngx_http_voxanne_vapi_ctx_t   *ctx;
    ngx_http_voxanne_vapi_call_t  *call;
    ngx_http_voxanne_tool_call_t  *tc;

    if (msg->error) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "voxanne: vapi tool-calls: tenant \"%V\": %s",
                      &t->name, msg->error);
    }

    if (msg->ignored) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "voxanne: vapi tool-calls: tenant \"%V\": %ui calls "
                      "over %d left unanswered", &t->name, msg->ignored,
                      NGX_HTTP_VOXANNE_VAPI_CALLS);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);

    ctx->msg = msg;
    ctx->tools = ngx_pcalloc(r->pool, msg->ncalls
                                      * sizeof(ngx_http_voxanne_tool_call_t));
    if (ctx->tools == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < msg->ncalls; i++) {
        call = &msg->calls[i];

        if (call->error) {
            continue;
        }

        tc = &ctx->tools[i];

        tc->tenant = t;
        tc->name = call->name;
        tc->arguments = call->arguments;
        tc->channel = NGX_HTTP_VOXANNE_TOOL_VAPI;
        tc->call_id = msg->call_id;
        tc->caller = msg->customer;
        tc->tool_call_id = call->id;
        tc->pool = r->pool;
        tc->log = r->connection->log;
        tc->done = ngx_http_voxanne_vapi_tool_done;
        tc->data = r;

        rc = ngx_http_voxanne_tool_run(tc);

        if (rc == NGX_AGAIN) {
            ctx->pending++;
            continue;
        }

        if (rc != NGX_OK) {
            ngx_str_set(&tc->result, "The tool failed.");
            tc->failed = 1;
        }
    }

    if (ctx->pending) {
        return NGX_DONE;
    }

    return ngx_http_voxanne_vapi_results(r);
}


static void
ngx_http_voxanne_vapi_tool_done(ngx_http_voxanne_tool_call_t *tc)
{
    ngx_int_t                     rc;
    ngx_connection_t             *c;
    ngx_http_request_t           *r;
    ngx_http_voxanne_vapi_ctx_t  *ctx;

    r = tc->data;
    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);

    if (--ctx->pending) {
        return;
    }

    rc = ngx_http_voxanne_vapi_results(r);

    ngx_http_voxanne_vapi_count(r, rc);
    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_voxanne_vapi_results(ngx_http_request_t *r)
{
    json_t                        *results, *item;
    ngx_uint_t                     i;
    ngx_http_voxanne_vapi_ctx_t   *ctx;
    ngx_http_voxanne_vapi_call_t  *call;
    ngx_http_voxanne_tool_call_t  *tc;

    ctx = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);

    results = json_array();

    for (i = 0; i < ctx->msg->ncalls; i++) {
        call = &ctx->msg->calls[i];
        tc = &ctx->tools[i];

        if (call->error) {
            item = json_pack("{ss%ss}", "toolCallId", call->id.data,
                             call->id.len, "error", call->error);

        } else {
            item = json_pack("{ss%ss%}", "toolCallId", call->id.data,
                             call->id.len, tc->failed ? "error" : "result",
                             tc->result.data, tc->result.len);
        }

        if (json_array_append_new(results, item) != 0) {
            json_decref(results);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return ngx_http_voxanne_vapi_send(r, NGX_HTTP_OK,
                                      json_pack("{so}", "results", results));
}


/*
 * A status update or an end-of-call report of a phone call, through the
 * store: NGX_OK (written, or nothing to write), NGX_DECLINED (a call id
 * the database would refuse), NGX_ERROR.  A message without a call id, or
 * of a web call (no numbers, no phone call), is not recorded.
 */

static ngx_int_t
ngx_http_voxanne_vapi_record(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_http_voxanne_vapi_msg_t *msg)
{
    json_t     *data;
    ngx_str_t  *from, *to;
    ngx_uint_t  outbound;

    if (msg->call_id.len == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: vapi %V: tenant \"%V\": no call id, not "
                      "recorded", &msg->type_name, &t->name);
        return NGX_OK;
    }

    if (ngx_http_voxanne_vapi_id(&msg->call_id, NGX_HTTP_VOXANNE_VAPI_CALL_MAX)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: vapi %V: tenant \"%V\": invalid call id",
                      &msg->type_name, &t->name);
        return NGX_DECLINED;
    }

    if ((msg->call_type.len == 7
         && ngx_strncmp(msg->call_type.data, "webCall", 7) == 0)
        || (msg->call_type.len == 18
            && ngx_strncmp(msg->call_type.data, "vapi.websocketCall", 18)
               == 0)
        || !ngx_http_voxanne_store_on(r))
    {
        return NGX_OK;
    }

    outbound = (msg->call_type.len == 17
                && ngx_strncmp(msg->call_type.data, "outboundPhoneCall", 17)
                   == 0);

    /* the customer calls our number, or our number calls the customer */

    from = outbound ? &msg->number : &msg->customer;
    to = outbound ? &msg->customer : &msg->number;

    data = json_object();

    if (data == NULL
        || ngx_http_voxanne_vapi_set(data, "from", from) != NGX_OK
        || ngx_http_voxanne_vapi_set(data, "to", to) != NGX_OK
        || ngx_http_voxanne_vapi_set(data, "sid", &msg->provider_id) != NGX_OK
        || ngx_http_voxanne_vapi_set(data, "ended_reason", &msg->ended_reason)
           != NGX_OK
        || (outbound
            && json_object_set_new(data, "direction", json_string("outbound"))
               != 0))
    {
        goto failed;
    }

    if (msg->type == NGX_HTTP_VOXANNE_VAPI_END_OF_CALL_REPORT) {
        if (ngx_http_voxanne_vapi_report(r, t, msg, data) != NGX_OK) {
            goto failed;
        }

        json_decref(data);
        return NGX_OK;
    }

    if (ngx_http_voxanne_vapi_set(data, "status", &msg->status) != NGX_OK) {
        goto failed;
    }

    /* a forwarding call is transferred: a transfer event */

    if (msg->status.len == 10
        && ngx_strncmp(msg->status.data, "forwarding", 10) == 0
        && msg->destination.len
        && (ngx_http_voxanne_vapi_set(data, "transfer_to", &msg->destination)
            != NGX_OK
            || ngx_http_voxanne_vapi_set(data, "transfer_reason",
                                         &msg->destination_reason)
               != NGX_OK))
    {
        goto failed;
    }

    ngx_http_voxanne_store_vapi(r, t, NGX_HTTP_VOXANNE_STORE_VAPI_CALL,
                                &msg->call_id, data);
    return NGX_OK;

failed:

    json_decref(data);
    return NGX_ERROR;
}


/*
 * What an end-of-call report adds to the call's fields: its texts
 * redacted, its turns in writes of at most NGX_HTTP_VOXANNE_VAPI_WRITE_TEXT
 * bytes of text, each naming the seq of its first turn, the first with the
 * report's other fields.
 */

static ngx_int_t
ngx_http_voxanne_vapi_report(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_http_voxanne_vapi_msg_t *msg,
    json_t *call)
{
    size_t                         size;
    u_char                        *buf;
    json_t                        *data, *turns, *item;
    ngx_int_t                      rc;
    ngx_str_t                      text;
    ngx_uint_t                     i;
    const char                    *role;
    ngx_http_voxanne_vapi_turn_t  *turn;
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    if (msg->turns_ignored) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "voxanne: vapi end-of-call-report: call \"%V\": %ui "
                      "turns over %d or %d bytes left out", &msg->call_id,
                      msg->turns_ignored, NGX_HTTP_VOXANNE_VAPI_TURNS,
                      NGX_HTTP_VOXANNE_VAPI_TEXT_MAX);
    }

    if (ngx_http_voxanne_vapi_set(call, "started_at", &msg->started_at)
        != NGX_OK
        || ngx_http_voxanne_vapi_set(call, "ended_at", &msg->ended_at)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    data = json_copy(call);

    if (data == NULL
        || ngx_http_voxanne_vapi_set(data, "recording_url",
                                     &msg->recording_url)
           != NGX_OK
        || (msg->cost >= 0
            && json_object_set_new(data, "cost", json_real(msg->cost)) != 0)
        || (msg->duration >= 0
            && json_object_set_new(data, "duration",
                                   json_real(msg->duration))
               != 0))
    {
        goto failed;
    }

    text = msg->summary;

    if (ngx_http_voxanne_store_redact(vmcf, &text, &buf, r->connection->log)
        != NGX_OK)
    {
        goto failed;
    }

    rc = ngx_http_voxanne_vapi_set(data, "summary", &text);

    if (buf) {
        ngx_free(buf);
    }

    if (rc != NGX_OK) {
        goto failed;
    }

    size = text.len;
    turns = NULL;

    for (i = 0; i < msg->nturns; i++) {
        turn = &msg->turns[i];

        /* the next write: the call's fields and the seq of its first turn */

        if (turns && size + turn->text.len > NGX_HTTP_VOXANNE_VAPI_WRITE_TEXT)
        {
            ngx_http_voxanne_store_vapi(r, t,
                                        NGX_HTTP_VOXANNE_STORE_VAPI_REPORT,
                                        &msg->call_id, data);

            turns = NULL;
            size = 0;

            data = json_copy(call);

            if (data == NULL
                || json_object_set_new(data, "first_seq",
                                       json_integer((json_int_t) i))
                   != 0)
            {
                goto failed;
            }
        }

        if (turns == NULL) {
            turns = json_array();

            if (json_object_set_new(data, "turns", turns) != 0) {
                goto failed;
            }
        }

        text = turn->text;

        if (ngx_http_voxanne_store_redact(vmcf, &text, &buf,
                                          r->connection->log)
            != NGX_OK)
        {
            goto failed;
        }

        role = (turn->role == NGX_HTTP_VOXANNE_VAPI_CALLER) ? "caller"
                                                              : "agent";

        item = (turn->at > 0)
               ? json_pack("{ssss%sf}", "role", role, "text", text.data,
                           text.len, "at", turn->at)
               : json_pack("{ssss%}", "role", role, "text", text.data,
                           text.len);

        if (buf) {
            ngx_free(buf);
        }

        if (item == NULL || json_array_append_new(turns, item) != 0) {
            goto failed;
        }

        size += text.len;
    }

    ngx_http_voxanne_store_vapi(r, t, NGX_HTTP_VOXANNE_STORE_VAPI_REPORT,
                                &msg->call_id, data);

    return NGX_OK;

failed:

    json_decref(data);
    return NGX_ERROR;
}


/* data's key set to value, unless it is empty */

static ngx_int_t
ngx_http_voxanne_vapi_set(json_t *data, const char *key, ngx_str_t *value)
{
    if (value->len == 0) {
        return NGX_OK;
    }

    if (json_object_set_new(data, key,
                            json_stringn((char *) value->data, value->len))
        != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* sends the JSON, which it releases */

static ngx_int_t
ngx_http_voxanne_vapi_send(ngx_http_request_t *r, ngx_uint_t status,
    json_t *json)
{
    char       *text;
    size_t      len;
    ngx_buf_t  *b;

    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    text = json_dumps(json, JSON_COMPACT);
    json_decref(json);

    if (text == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(text);

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL) {
        free(text);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, text, len);
    *b->last++ = LF;

    free(text);

    return ngx_http_voxanne_body_send(r, status, "application/json", b);
}


/* the metrics of a webhook, once it is answered */

static void
ngx_http_voxanne_vapi_count(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_uint_t                     status, result;
    ngx_http_voxanne_vapi_ctx_t   *ctx;
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);

    if (vmcf->calls == NULL || ctx->tenant == NULL) {
        return;
    }

    status = (rc >= NGX_HTTP_SPECIAL_RESPONSE) ? (ngx_uint_t) rc
                                                : r->headers_out.status;

    if (status == NGX_HTTP_OK) {
        result = NGX_HTTP_VOXANNE_RESULT_OK;

    } else if (status == NGX_HTTP_UNAUTHORIZED) {
        result = NGX_HTTP_VOXANNE_RESULT_FORBIDDEN;

    } else {
        result = NGX_HTTP_VOXANNE_RESULT_INVALID;
    }

    ngx_http_voxanne_calls_webhook(vmcf->calls, &ctx->tenant->name,
                                   &ctx->tenant->counters,
                                   NGX_HTTP_VOXANNE_ROUTE_VAPI, result, -1);
}


static void
ngx_http_voxanne_vapi_cleanup(void *data)
{
    ngx_http_voxanne_vapi_msg_free(data);
}


static void
ngx_http_voxanne_vapi_call(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t **tenant, ngx_str_t **call_sid)
{
    ngx_http_voxanne_vapi_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);

    *tenant = ctx->tenant;
    *call_sid = &ctx->call_id;
}


/*
 * vapi_auth secret|bearer|hmac file=PATH [header=NAME] and, for hmac,
 * [algorithm=sha256|sha512|sha1] [format=...] [encoding=hex|base64]
 * [prefix=...] [secret=text|base64] [timestamp_header=NAME]
 * [id_header=NAME] [tolerance=TIME]
 */

char *
ngx_http_voxanne_vapi_auth(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    char                         *digest;
    ngx_int_t                     rc;
    ngx_str_t                     file, secret, decoded, format, arg;
    ngx_uint_t                    i, mode, base64;
    ngx_pool_cleanup_t           *cln;
    ngx_http_voxanne_vapi_t      *v;
    ngx_http_voxanne_vapi_key_t  *k;

    v = ngx_http_voxanne_vapi_conf(cf, t);
    if (v == NULL) {
        return NGX_CONF_ERROR;
    }

    for (mode = 1; ngx_http_voxanne_vapi_modes[mode].len; mode++) {
        if (ngx_http_voxanne_vapi_modes[mode].len == value[0].len
            && ngx_strncmp(ngx_http_voxanne_vapi_modes[mode].data,
                           value[0].data, value[0].len) == 0)
        {
            break;
        }
    }

    if (ngx_http_voxanne_vapi_modes[mode].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid vapi_auth \"%V\" in tenant \"%V\", "
                           "\"secret\", \"bearer\" or \"hmac\" is expected",
                           &value[0], &t->name);
        return NGX_CONF_ERROR;
    }

    v->auth = mode;

    ngx_str_null(&file);
    ngx_str_set(&format, "{timestamp}.{body}");
    ngx_str_set(&v->timestamp_header, "x-timestamp");
    ngx_str_set(&v->id_header, "svix-id");
    v->tolerance = 300;

    if (mode == NGX_HTTP_VOXANNE_VAPI_AUTH_SECRET) {
        ngx_str_set(&v->header, "X-Vapi-Secret");

    } else if (mode == NGX_HTTP_VOXANNE_VAPI_AUTH_BEARER) {
        ngx_str_set(&v->header, "Authorization");

    } else {
        ngx_str_set(&v->header, "x-signature");
    }

    digest = OSSL_DIGEST_NAME_SHA2_256;
    base64 = 0;

    for (i = 1; i < n; i++) {

        for (k = ngx_http_voxanne_vapi_keys; k->name.len; k++) {
            if (value[i].len > k->name.len
                && value[i].data[k->name.len] == '='
                && ngx_strncmp(value[i].data, k->name.data, k->name.len) == 0)
            {
                break;
            }
        }

        if (k->name.len == 0
            || (k->hmac && mode != NGX_HTTP_VOXANNE_VAPI_AUTH_HMAC))
        {
            goto invalid;
        }

        arg.data = value[i].data + k->name.len + 1;
        arg.len = value[i].len - k->name.len - 1;

        switch (k->key) {

        case NGX_HTTP_VOXANNE_VAPI_KEY_FILE:
            file = arg;
            break;

        case NGX_HTTP_VOXANNE_VAPI_KEY_HEADER:
            v->header = arg;
            break;

        case NGX_HTTP_VOXANNE_VAPI_KEY_ALGORITHM:
            if (arg.len == 6 && ngx_strncmp(arg.data, "sha256", 6) == 0) {
                digest = OSSL_DIGEST_NAME_SHA2_256;

            } else if (arg.len == 6 && ngx_strncmp(arg.data, "sha512", 6) == 0)
            {
                digest = OSSL_DIGEST_NAME_SHA2_512;

            } else if (arg.len == 4 && ngx_strncmp(arg.data, "sha1", 4) == 0) {
                digest = OSSL_DIGEST_NAME_SHA1;

            } else {
                goto invalid;
            }

            break;

        case NGX_HTTP_VOXANNE_VAPI_KEY_FORMAT:
            format = arg;
            break;

        case NGX_HTTP_VOXANNE_VAPI_KEY_ENCODING:
            if (arg.len == 3 && ngx_strncmp(arg.data, "hex", 3) == 0) {
                v->hmac.base64 = 0;

            } else if (arg.len == 6 && ngx_strncmp(arg.data, "base64", 6) == 0)
            {
                v->hmac.base64 = 1;

            } else {
                goto invalid;
            }

            break;

        case NGX_HTTP_VOXANNE_VAPI_KEY_PREFIX:
            v->hmac.prefix = arg;
            break;

        case NGX_HTTP_VOXANNE_VAPI_KEY_SECRET:
            if (arg.len == 4 && ngx_strncmp(arg.data, "text", 4) == 0) {
                base64 = 0;

            } else if (arg.len == 6 && ngx_strncmp(arg.data, "base64", 6) == 0)
            {
                base64 = 1;

            } else {
                goto invalid;
            }

            break;

        case NGX_HTTP_VOXANNE_VAPI_KEY_TIMESTAMP_HEADER:
            v->timestamp_header = arg;
            break;

        case NGX_HTTP_VOXANNE_VAPI_KEY_ID_HEADER:
            v->id_header = arg;
            break;

        default: /* NGX_HTTP_VOXANNE_VAPI_KEY_TOLERANCE */
            v->tolerance = ngx_parse_time(&arg, 1);

            if (v->tolerance == (time_t) NGX_ERROR || v->tolerance == 0) {
                goto invalid;
            }
        }
    }

    if (file.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "vapi_auth of tenant \"%V\" needs file=",
                           &t->name);
        return NGX_CONF_ERROR;
    }

    if (v->header.len == 0 || v->timestamp_header.len == 0
        || v->id_header.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty header name in vapi_auth of tenant \"%V\"",
                           &t->name);
        return NGX_CONF_ERROR;
    }

    if (mode == NGX_HTTP_VOXANNE_VAPI_AUTH_HMAC) {
        if (ngx_http_voxanne_vapi_format(&v->hmac, &format) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid format \"%V\" in vapi_auth of tenant "
                               "\"%V\", placeholders are {body}, "
                               "{timestamp}, {method}, {url} and {svix-id}",
                               &format, &t->name);
            return NGX_CONF_ERROR;
        }

        for (i = 0; i < v->hmac.npieces; i++) {
            v->signs[v->hmac.pieces[i].field] = 1;
        }
    }

    if (ngx_http_voxanne_tenant_secret(cf, t, "vapi_auth file", &file,
                                       &secret)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (base64) {
        decoded.data = ngx_pnalloc(cf->pool,
                                   ngx_base64_decoded_length(secret.len));
        if (decoded.data == NULL) {
            return NGX_CONF_ERROR;
        }

        rc = ngx_decode_base64(&decoded, &secret);

        ngx_explicit_memzero(secret.data, secret.len);

        if (rc != NGX_OK || decoded.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "vapi_auth file \"%V\" of tenant \"%V\" is "
                               "not base64", &file, &t->name);
            return NGX_CONF_ERROR;
        }

        secret = decoded;
    }

    if (mode == NGX_HTTP_VOXANNE_VAPI_AUTH_HMAC) {
        v->hmac.ctx = ngx_http_voxanne_hmac_ctx(digest, secret.data,
                                                secret.len);
        rc = (v->hmac.ctx == NULL) ? NGX_ERROR : NGX_OK;

        if (rc == NGX_OK) {
            cln = ngx_pool_cleanup_add(cf->pool, 0);
            if (cln == NULL) {
                EVP_MAC_CTX_free(v->hmac.ctx);
                rc = NGX_ERROR;

            } else {
                cln->handler = ngx_http_voxanne_vapi_key_cleanup;
                cln->data = v->hmac.ctx;
            }
        }

    } else {
        rc = ngx_http_voxanne_vapi_secret_digest(v->digest, secret.data,
                                                 secret.len);
    }

    ngx_explicit_memzero(secret.data, secret.len);

    if (rc != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "vapi_auth keys of tenant \"%V\" failed", &t->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in vapi_auth %V of tenant "
                       "\"%V\"", &value[i], &value[0], &t->name);

    return NGX_CONF_ERROR;
}


/* vapi_assistant ID [after_hours=ID] */

char *
ngx_http_voxanne_vapi_assistant(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_str_t                 id;
    ngx_http_voxanne_vapi_t  *v;

    v = ngx_http_voxanne_vapi_conf(cf, t);
    if (v == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_voxanne_vapi_id(&value[0], NGX_HTTP_VOXANNE_VAPI_ID_MAX)
        != NGX_OK)
    {
        goto invalid;
    }

    v->assistant = value[0];

    if (n == 2) {
        if (value[1].len <= 12
            || ngx_strncmp(value[1].data, "after_hours=", 12) != 0)
        {
            value = &value[1];
            goto invalid;
        }

        id.data = value[1].data + 12;
        id.len = value[1].len - 12;

        if (ngx_http_voxanne_vapi_id(&id, NGX_HTTP_VOXANNE_VAPI_ID_MAX)
            != NGX_OK)
        {
            value = &value[1];
            goto invalid;
        }

        v->after_hours = id;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid vapi_assistant \"%V\" in tenant \"%V\"",
                       &value[0], &t->name);

    return NGX_CONF_ERROR;
}


static ngx_http_voxanne_vapi_t *
ngx_http_voxanne_vapi_conf(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t)
{
    if (t->vapi == NULL) {
        t->vapi = ngx_pcalloc(cf->pool, sizeof(ngx_http_voxanne_vapi_t));
    }

    return t->vapi;
}


/* an assistant or call id: a UUID, or a name of [A-Za-z0-9_-] */

static ngx_int_t
ngx_http_voxanne_vapi_id(ngx_str_t *id, size_t max)
{
    size_t  i;

    if (id->len == 0 || id->len > max) {
        return NGX_DECLINED;
    }

    for (i = 0; i < id->len; i++) {
        if (!isalnum(id->data[i]) && id->data[i] != '-' && id->data[i] != '_')
        {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static void
ngx_http_voxanne_vapi_key_cleanup(void *data)
{
    EVP_MAC_CTX_free(data);
}
