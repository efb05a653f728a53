
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include "ngx_http_voxanne.h"


#define NGX_HTTP_VOXANNE_PARAMS_MAX   128
#define NGX_HTTP_VOXANNE_LOGGED_MAX   256
#define NGX_HTTP_VOXANNE_BUSY_SAY     "All of our lines are busy right now. " \
                                      "Please call again in a few minutes."


typedef enum {
    NGX_HTTP_VOXANNE_SIGNATURE_NONE = 0,
    NGX_HTTP_VOXANNE_SIGNATURE_OK,
    NGX_HTTP_VOXANNE_SIGNATURE_MISSING,
    NGX_HTTP_VOXANNE_SIGNATURE_INVALID
} ngx_http_voxanne_signature_e;


typedef enum {
    NGX_HTTP_VOXANNE_LIMIT_NONE = 0,
    NGX_HTTP_VOXANNE_LIMIT_PASSED,
    NGX_HTTP_VOXANNE_LIMIT_LIMITED,
    NGX_HTTP_VOXANNE_LIMIT_BUSY
} ngx_http_voxanne_limit_e;


typedef enum {
    NGX_HTTP_VOXANNE_VAR_TENANT = 0,
    NGX_HTTP_VOXANNE_VAR_CALL_SID,
    NGX_HTTP_VOXANNE_VAR_SIGNATURE,
    NGX_HTTP_VOXANNE_VAR_LIMIT,
    NGX_HTTP_VOXANNE_VAR_ROUTE
} ngx_http_voxanne_var_e;


typedef struct {
    ngx_http_voxanne_tenant_t  *tenant;
    ngx_str_t                   call_sid;
    ngx_uint_t                  signature;   /* ngx_http_voxanne_signature_e */
    ngx_uint_t                  limit;       /* ngx_http_voxanne_limit_e */
    ngx_int_t                   outcome;     /* of a voice webhook, or -1 */
    ngx_http_voxanne_param_t   *params;
    ngx_uint_t                  nparams;
} ngx_http_voxanne_twilio_ctx_t;


static ngx_int_t ngx_http_voxanne_twilio_handler(ngx_http_request_t *r);
static void ngx_http_voxanne_twilio_body(ngx_http_request_t *r);
static void ngx_http_voxanne_twilio_count(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_voxanne_twilio_process(ngx_http_request_t *r);
static ngx_http_voxanne_tenant_t *ngx_http_voxanne_twilio_tenant(
    ngx_http_request_t *r, ngx_http_voxanne_twilio_ctx_t *ctx);
static ngx_int_t ngx_http_voxanne_twilio_verify(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx, ngx_str_t *json);
static ngx_int_t ngx_http_voxanne_twilio_body_hash(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_voxanne_twilio_voice(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx);
static ngx_int_t ngx_http_voxanne_twilio_limited(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *from);
static ngx_int_t ngx_http_voxanne_twilio_connect(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx);
static ngx_int_t ngx_http_voxanne_twilio_action(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_http_voxanne_action_t *action);
static ngx_int_t ngx_http_voxanne_twilio_stream_ended(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx);
static ngx_int_t ngx_http_voxanne_twilio_status(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx);
static ngx_int_t ngx_http_voxanne_twilio_recording(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx);
static ngx_str_t *ngx_http_voxanne_twilio_param(
    ngx_http_voxanne_twilio_ctx_t *ctx, char *name);
static ngx_str_t *ngx_http_voxanne_twilio_printable(ngx_str_t *value);
static ngx_int_t ngx_http_voxanne_twilio_url(ngx_http_request_t *r,
    ngx_str_t *scheme, char *name, ngx_str_t *url);
static ngx_int_t ngx_http_voxanne_twilio_twiml(ngx_http_request_t *r,
    const char *fmt, ...);
static ngx_int_t ngx_http_voxanne_twilio_empty(ngx_http_request_t *r,
    ngx_uint_t status);
static ngx_int_t ngx_http_voxanne_twilio_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void ngx_http_voxanne_twilio_call(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t **tenant, ngx_str_t **call_sid);
static void ngx_http_voxanne_twilio_store_call(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx);


static ngx_str_t  ngx_http_voxanne_twilio_routes[] = {
    ngx_null_string,
    ngx_string("voice"),
    ngx_string("stream-ended"),
    ngx_string("status"),
    ngx_string("recording"),
    ngx_string("vapi"),
    ngx_null_string
};


static ngx_str_t  ngx_http_voxanne_twilio_signatures[] = {
    ngx_null_string,
    ngx_string("ok"),
    ngx_string("missing"),
    ngx_string("invalid")
};


static ngx_str_t  ngx_http_voxanne_twilio_limits[] = {
    ngx_null_string,
    ngx_string("passed"),
    ngx_string("limited"),
    ngx_string("busy")
};


static ngx_http_variable_t  ngx_http_voxanne_twilio_vars[] = {

    { ngx_string("voxanne_tenant"), NULL, ngx_http_voxanne_twilio_variable,
      NGX_HTTP_VOXANNE_VAR_TENANT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("voxanne_call_sid"), NULL, ngx_http_voxanne_twilio_variable,
      NGX_HTTP_VOXANNE_VAR_CALL_SID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("voxanne_signature"), NULL,
      ngx_http_voxanne_twilio_variable,
      NGX_HTTP_VOXANNE_VAR_SIGNATURE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("voxanne_limit"), NULL, ngx_http_voxanne_twilio_variable,
      NGX_HTTP_VOXANNE_VAR_LIMIT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("voxanne_route"), NULL, ngx_http_voxanne_twilio_variable,
      NGX_HTTP_VOXANNE_VAR_ROUTE, 0, 0 },

      ngx_http_null_variable
};


/* voxanne_twilio voice|stream-ended|status|recording [tenant=NAME] */

char *
ngx_http_voxanne_twilio(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voxanne_loc_conf_t *vlcf = conf;

    ngx_str_t                 *value, *route, name;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_voxanne_twilio_handler) {
        return "is duplicate";
    }

    if (clcf->handler != NULL) {
        return "conflicts with another content handler in this location";
    }

    value = cf->args->elts;

    for (route = &ngx_http_voxanne_twilio_routes[1];
         route < &ngx_http_voxanne_twilio_routes[NGX_HTTP_VOXANNE_ROUTE_VAPI];
         route++)
    {
        if (route->len == value[1].len
            && ngx_strncmp(route->data, value[1].data, value[1].len) == 0)
        {
            break;
        }
    }

    if (route == &ngx_http_voxanne_twilio_routes[NGX_HTTP_VOXANNE_ROUTE_VAPI]) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid route \"%V\", \"voice\", \"stream-ended\", "
                           "\"status\" or \"recording\" is expected",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 3) {
        if (value[2].len <= 7
            || ngx_strncmp(value[2].data, "tenant=", 7) != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        vlcf->tenant_name.data = value[2].data + 7;
        vlcf->tenant_name.len = value[2].len - 7;
    }

    vlcf->route = route - ngx_http_voxanne_twilio_routes;

    name.len = sizeof("twilio ") - 1 + route->len;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(name.data, "twilio %V", route);

    ngx_http_voxanne_body_route(vlcf, clcf, &name);

    vlcf->call = ngx_http_voxanne_twilio_call;

    clcf->handler = ngx_http_voxanne_twilio_handler;

    return NGX_CONF_OK;
}


/*
 * A route's body always stays in memory: its location's buffer is raised
 * to voxanne_body_max, and larger or chunked bodies are refused before
 * they are read.
 */

char *
ngx_http_voxanne_twilio_merge(ngx_conf_t *cf,
    ngx_http_voxanne_loc_conf_t *prev, ngx_http_voxanne_loc_conf_t *conf)
{
    ngx_http_voxanne_main_conf_t  *vmcf;

    ngx_http_voxanne_body_merge(prev, conf);

    if (conf->tenant_name.len == 0) {
        return NGX_CONF_OK;
    }

    vmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_voxanne_module);

    conf->tenant = ngx_http_voxanne_tenant_find(vmcf, &conf->tenant_name);

    if (conf->tenant) {
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown tenant \"%V\" in %s", &conf->tenant_name,
                       conf->route == NGX_HTTP_VOXANNE_ROUTE_VAPI
                       ? "voxanne_vapi" : "voxanne_twilio");

    return NGX_CONF_ERROR;
}


ngx_int_t
ngx_http_voxanne_twilio_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_voxanne_twilio_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_voxanne_twilio_handler(ngx_http_request_t *r)
{
    ngx_http_voxanne_twilio_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_voxanne_twilio_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->outcome = -1;

    ngx_http_set_ctx(r, ctx, ngx_http_voxanne_module);

    return ngx_http_voxanne_body_read(r, ngx_http_voxanne_twilio_body);
}


static void
ngx_http_voxanne_twilio_body(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_http_voxanne_twilio_ctx_t  *ctx;

    rc = ngx_http_voxanne_twilio_process(r);

    ngx_http_voxanne_twilio_count(r, rc);

    /* a voice webhook's decision is made: the call is recorded */

    ctx = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);

    if (ctx->outcome >= 0) {
        ngx_http_voxanne_twilio_store_call(r, ctx);
        ngx_http_voxanne_store_event(r, ctx->tenant, &ctx->call_sid, "voice",
                                     "webhook", "{ss}", "outcome",
                                     ngx_http_voxanne_call_outcomes
                                                               [ctx->outcome]);
    }

    ngx_http_finalize_request(r, rc);
}


/* the metrics of a webhook, once it is answered */

static void
ngx_http_voxanne_twilio_count(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_uint_t                      status, result;
    ngx_http_voxanne_loc_conf_t    *vlcf;
    ngx_http_voxanne_main_conf_t   *vmcf;
    ngx_http_voxanne_twilio_ctx_t  *ctx;

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);
    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voxanne_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);

    if (vmcf->calls == NULL) {
        return;
    }

    if (ctx->signature == NGX_HTTP_VOXANNE_SIGNATURE_MISSING
        || ctx->signature == NGX_HTTP_VOXANNE_SIGNATURE_INVALID)
    {
        ngx_http_voxanne_calls_count(vmcf->calls,
                                     NGX_HTTP_VOXANNE_SIGNATURE_FAILURES, 1);
    }

    if (ctx->limit == NGX_HTTP_VOXANNE_LIMIT_LIMITED) {
        ngx_http_voxanne_calls_count(vmcf->calls,
                                     NGX_HTTP_VOXANNE_RATE_LIMITED, 1);
    }

    if (ctx->tenant == NULL) {
        ngx_http_voxanne_calls_count(vmcf->calls,
                                     NGX_HTTP_VOXANNE_UNKNOWN_NUMBERS, 1);
        return;
    }

    status = (rc >= NGX_HTTP_SPECIAL_RESPONSE) ? (ngx_uint_t) rc
                                                : r->headers_out.status;

    if (status == NGX_HTTP_OK) {
        result = NGX_HTTP_VOXANNE_RESULT_OK;

    } else if (status == NGX_HTTP_FORBIDDEN) {
        result = NGX_HTTP_VOXANNE_RESULT_FORBIDDEN;

    } else {
        result = NGX_HTTP_VOXANNE_RESULT_INVALID;
    }

    ngx_http_voxanne_calls_webhook(vmcf->calls, &ctx->tenant->name,
                                   &ctx->tenant->counters, vlcf->route,
                                   result, ctx->outcome);
}


static ngx_int_t
ngx_http_voxanne_twilio_process(ngx_http_request_t *r)
{
    ngx_int_t                       n, rc;
    ngx_str_t                       body, *type, *sid, *account, *route;
    ngx_uint_t                      json;
    ngx_http_voxanne_tenant_t      *t;
    ngx_http_voxanne_loc_conf_t    *vlcf;
    ngx_http_voxanne_twilio_ctx_t  *ctx;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voxanne_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);

    route = &ngx_http_voxanne_twilio_routes[vlcf->route];

    rc = ngx_http_voxanne_body_get(r, &body);
    if (rc != NGX_OK) {
        return rc;
    }

    type = r->headers_in.content_type ? &r->headers_in.content_type->value
                                      : NULL;

    if (type && ngx_http_voxanne_type_is(type,
                                         "application/x-www-form-urlencoded"))
    {
        json = 0;

        ctx->params = ngx_palloc(r->pool, NGX_HTTP_VOXANNE_PARAMS_MAX
                                          * sizeof(ngx_http_voxanne_param_t));
        if (ctx->params == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        n = ngx_http_voxanne_form_parse(body.data, body.len, ctx->params,
                                        NGX_HTTP_VOXANNE_PARAMS_MAX);

        if (n == NGX_DECLINED || n == NGX_ERROR) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "voxanne: twilio %V: %s", route,
                          n == NGX_ERROR ? "malformed form body"
                                         : "too many form parameters");
            return NGX_HTTP_BAD_REQUEST;
        }

        ctx->nparams = n;

    } else if (type && ngx_http_voxanne_type_is(type, "application/json")) {
        json = 1;

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: twilio %V: unsupported content type \"%V\"",
                      route, type ? type : &ngx_http_voxanne_twilio_routes[0]);
        return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
    }

    sid = ngx_http_voxanne_twilio_param(ctx, "CallSid");

    if (sid && sid->len <= NGX_HTTP_VOXANNE_SID_MAX) {
        for (n = 0; n < (ngx_int_t) sid->len; n++) {
            if (!isalnum(sid->data[n])) {
                break;
            }
        }

        if (n == (ngx_int_t) sid->len) {
            ctx->call_sid = *sid;
        }
    }

    t = ngx_http_voxanne_twilio_tenant(r, ctx);

    if (t == NULL) {
        sid = ngx_http_voxanne_twilio_param(ctx, "To");

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "voxanne: twilio %V: no tenant for \"%V\"", route,
                      sid ? ngx_http_voxanne_twilio_printable(sid)
                          : &ngx_http_voxanne_twilio_routes[0]);

        if (vlcf->route == NGX_HTTP_VOXANNE_ROUTE_VOICE) {
            return ngx_http_voxanne_twilio_twiml(r, "<Response><Reject/>"
                                                    "</Response>\n");
        }

        return ngx_http_voxanne_twilio_empty(r, NGX_HTTP_FORBIDDEN);
    }

    ctx->tenant = t;

    account = ngx_http_voxanne_twilio_param(ctx, "AccountSid");

    if (t->account_sid.len
        && (account == NULL || account->len != t->account_sid.len
            || ngx_strncmp(account->data, t->account_sid.data,
                           account->len) != 0))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "voxanne: twilio %V: tenant \"%V\": AccountSid "
                      "\"%V\" is not the tenant's", route, &t->name,
                      account ? account : &ngx_http_voxanne_twilio_routes[0]);
        return ngx_http_voxanne_twilio_empty(r, NGX_HTTP_FORBIDDEN);
    }

    rc = ngx_http_voxanne_twilio_verify(r, ctx, json ? &body : NULL);

    if (rc == NGX_DECLINED) {
        return ngx_http_voxanne_twilio_empty(r, NGX_HTTP_FORBIDDEN);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (ctx->call_sid.len == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: twilio %V: tenant \"%V\": no valid CallSid",
                      route, &t->name);
        return NGX_HTTP_BAD_REQUEST;
    }

    switch (vlcf->route) {

    case NGX_HTTP_VOXANNE_ROUTE_VOICE:
        return ngx_http_voxanne_twilio_voice(r, ctx);

    case NGX_HTTP_VOXANNE_ROUTE_STREAM_ENDED:
        return ngx_http_voxanne_twilio_stream_ended(r, ctx);

    case NGX_HTTP_VOXANNE_ROUTE_STATUS:
        return ngx_http_voxanne_twilio_status(r, ctx);

    default: /* NGX_HTTP_VOXANNE_ROUTE_RECORDING */
        return ngx_http_voxanne_twilio_recording(r, ctx);
    }
}


/*
 * The route's own tenant when the location names one; otherwise the tenant
 * owning the called number ("To"); otherwise, for callbacks that carry no
 * "To" (recording status), the "tenant" query argument of the URL the
 * module gave Twilio.
 */

static ngx_http_voxanne_tenant_t *
ngx_http_voxanne_twilio_tenant(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx)
{
    ngx_str_t                      *to, name;
    ngx_http_voxanne_loc_conf_t    *vlcf;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voxanne_module);

    if (vlcf->tenant) {
        return vlcf->tenant;
    }

    to = ngx_http_voxanne_twilio_param(ctx, "To");

    if (to) {
        return ngx_http_voxanne_tenant_by_number(r, to);
    }

    if (ngx_http_arg(r, (u_char *) "tenant", 6, &name) != NGX_OK) {
        return NULL;
    }

    return ngx_http_voxanne_tenant_by_name(r, &name);
}


/* a request header by name, case-insensitively */

ngx_table_elt_t *
ngx_http_voxanne_header_in(ngx_http_request_t *r, char *name, size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return NULL;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, len) == 0)
        {
            return &h[i];
        }
    }
}


/*
 * X-Twilio-Signature over the tenant's public URL, the raw request URI and
 * the sorted form parameters; for a JSON body over the URL alone, whose
 * bodySHA256 argument must then be the body's hash.  NGX_DECLINED (logged)
 * when the request is not Twilio's, or an HTTP status on a failure.
 */

static ngx_int_t
ngx_http_voxanne_twilio_verify(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx, ngx_str_t *json)
{
    u_char                        *p;
    ngx_int_t                      rc;
    ngx_str_t                     *route;
    const char                    *reason;
    ngx_table_elt_t               *header;
    ngx_http_voxanne_tenant_t     *t;
    ngx_http_voxanne_loc_conf_t   *vlcf;
    ngx_http_voxanne_signature_t   sig;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voxanne_module);

    route = &ngx_http_voxanne_twilio_routes[vlcf->route];
    t = ctx->tenant;
    header = ngx_http_voxanne_header_in(r, "X-Twilio-Signature",
                                        sizeof("X-Twilio-Signature") - 1);

    if (header == NULL) {
        ctx->signature = NGX_HTTP_VOXANNE_SIGNATURE_MISSING;
        reason = "no X-Twilio-Signature";
        goto forbidden;
    }

    sig.bases = t->public_url;
    sig.nbases = 2;
    sig.keys = t->keys;
    sig.nkeys = t->nkeys;
    sig.uri = r->unparsed_uri;
    sig.token = 0;

    sig.params.len = ngx_http_voxanne_signature_params_size(ctx->params,
                                                            ctx->nparams);
    sig.params.data = ngx_pnalloc(r->pool, sig.params.len);
    if (sig.params.data == NULL && sig.params.len) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_http_voxanne_signature_params(sig.params.data, ctx->params,
                                          ctx->nparams);
    sig.params.len = p - sig.params.data;

    sig.buf = ngx_pnalloc(r->pool, ngx_http_voxanne_signature_buf_size(&sig));
    if (sig.buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_voxanne_signature_verify(&sig, &header->value);

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "voxanne: HMAC-SHA1 failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ctx->signature = NGX_HTTP_VOXANNE_SIGNATURE_INVALID;
        reason = "X-Twilio-Signature does not match";
        goto forbidden;
    }

    if (json && ngx_http_voxanne_twilio_body_hash(r, json) != NGX_OK) {
        ctx->signature = NGX_HTTP_VOXANNE_SIGNATURE_INVALID;
        reason = "the body does not match bodySHA256";
        goto forbidden;
    }

    ctx->signature = NGX_HTTP_VOXANNE_SIGNATURE_OK;

    if (sig.token > 0) {
        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "voxanne: twilio %V: tenant \"%V\": signed with the "
                      "secondary auth token", route, &t->name);
    }

    return NGX_OK;

forbidden:

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "voxanne: twilio %V: tenant \"%V\": %s, forbidden",
                  route, &t->name, reason);

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_voxanne_twilio_body_hash(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char     hex[SHA256_DIGEST_LENGTH * 2];
    u_char     md[SHA256_DIGEST_LENGTH];
    ngx_str_t  arg;

    if (ngx_http_arg(r, (u_char *) "bodySHA256", 10, &arg) != NGX_OK
        || arg.len != sizeof(hex))
    {
        return NGX_DECLINED;
    }

    if (SHA256(body->data, body->len, md) == NULL) {
        return NGX_ERROR;
    }

    ngx_hex_dump(hex, md, SHA256_DIGEST_LENGTH);

    return CRYPTO_memcmp(hex, arg.data, sizeof(hex)) == 0 ? NGX_OK
                                                          : NGX_DECLINED;
}


/*
 * An incoming call: the rate limits, the business hours, the concurrency
 * limit, then the media stream.
 */

static ngx_int_t
ngx_http_voxanne_twilio_voice(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx)
{
    ngx_int_t                      rc, status;
    ngx_str_t                     *from, *s, busy, parties[2];
    ngx_http_voxanne_tenant_t     *t;
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    t = ctx->tenant;

    from = ngx_http_voxanne_twilio_param(ctx, "From");
    if (from == NULL) {
        from = &ngx_http_voxanne_twilio_routes[0];
    }

    if (ngx_http_voxanne_twilio_limited(r, t, from)) {
        ctx->limit = NGX_HTTP_VOXANNE_LIMIT_LIMITED;
        ctx->outcome = NGX_HTTP_VOXANNE_OUTCOME_LIMITED;
        return ngx_http_voxanne_twilio_twiml(r, "<Response><Reject "
                                                "reason=\"busy\"/>"
                                                "</Response>\n");
    }

    ctx->limit = NGX_HTTP_VOXANNE_LIMIT_PASSED;

    if (!ngx_http_voxanne_tenant_open(t, ngx_time())) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: call %V tenant \"%V\" from \"%V\": "
                      "after hours", &ctx->call_sid, &t->name,
                      ngx_http_voxanne_twilio_printable(from));

        ctx->outcome = NGX_HTTP_VOXANNE_OUTCOME_AFTER_HOURS;

        return ngx_http_voxanne_twilio_action(r, t, &t->after_hours);
    }

    s = ngx_http_voxanne_twilio_param(ctx, "CallStatus");

    status = s ? ngx_http_voxanne_calls_status_parse(s) : NGX_ERROR;
    if (status == NGX_ERROR) {
        status = NGX_HTTP_VOXANNE_CALL_RINGING;
    }

    parties[0] = *from;

    s = ngx_http_voxanne_twilio_param(ctx, "To");
    if (s) {
        parties[1] = *s;

    } else {
        ngx_str_null(&parties[1]);
    }

    rc = ngx_http_voxanne_calls_start(vmcf->calls, &t->name, t->max_calls,
                                      &ctx->call_sid, parties, status,
                                      r->connection->log);

    if (rc == NGX_BUSY) {
        ctx->limit = NGX_HTTP_VOXANNE_LIMIT_BUSY;
        ctx->outcome = NGX_HTTP_VOXANNE_OUTCOME_BUSY;

        ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                      "voxanne: call %V tenant \"%V\" from \"%V\": all "
                      "%ui lines busy", &ctx->call_sid, &t->name,
                      ngx_http_voxanne_twilio_printable(from),
                      t->max_calls);

        if (t->busy_reject) {
            return ngx_http_voxanne_twilio_twiml(r, "<Response><Reject "
                                                    "reason=\"busy\"/>"
                                                    "</Response>\n");
        }

        ngx_str_set(&busy, NGX_HTTP_VOXANNE_BUSY_SAY);

        return ngx_http_voxanne_twilio_twiml(r, "<Response><Say>%E</Say>"
                                                "<Hangup/></Response>\n",
                                             &busy);
    }

    if (rc == NGX_ERROR) {
        ctx->outcome = NGX_HTTP_VOXANNE_OUTCOME_FALLBACK;
        return ngx_http_voxanne_twilio_action(r, t, &t->fallback);
    }

    ctx->outcome = NGX_HTTP_VOXANNE_OUTCOME_CONNECTED;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "voxanne: call %V tenant \"%V\" from \"%V\": %s",
                  &ctx->call_sid, &t->name,
                  ngx_http_voxanne_twilio_printable(from),
                  rc == NGX_OK ? "connecting" : "connecting again");

    return ngx_http_voxanne_twilio_connect(r, ctx);
}


/* the tenant's limit, then its per-caller limit */

static ngx_int_t
ngx_http_voxanne_twilio_limited(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *from)
{
    u_char     *p;
    ngx_int_t   rc;
    ngx_str_t   key;

    if (t->limit.shm_zone) {
        rc = ngx_http_voxanne_limit_account(&t->limit, &t->name,
                                            r->connection->log);

        if (rc != NGX_OK) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "voxanne: tenant \"%V\": call from \"%V\" over the "
                          "tenant's limit", &t->name,
                          ngx_http_voxanne_twilio_printable(from));
            return 1;
        }
    }

    if (t->caller_limit.shm_zone == NULL) {
        return 0;
    }

    key.len = t->name.len + 1 + from->len;
    key.data = ngx_pnalloc(r->pool, key.len);
    if (key.data == NULL) {
        return 1;
    }

    p = ngx_cpymem(key.data, t->name.data, t->name.len);
    *p++ = '/';
    ngx_memcpy(p, from->data, from->len);

    rc = ngx_http_voxanne_limit_account(&t->caller_limit, &key,
                                        r->connection->log);

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "voxanne: tenant \"%V\": call from \"%V\" over the "
                      "caller limit", &t->name,
                      ngx_http_voxanne_twilio_printable(from));
        return 1;
    }

    return 0;
}


/*
 * <Connect><Stream> to the media route of the same edge, with a token
 * binding this CallSid to the tenant until the stream must have started;
 * Twilio requests stream-ended when the stream closes.
 */

static ngx_int_t
ngx_http_voxanne_twilio_connect(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx)
{
    u_char                        *p;
    ngx_str_t                      action, stream, token, ws;
    ngx_http_voxanne_tenant_t     *t;
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    t = ctx->tenant;

    if (t->public_url[0].data[4] == 's') {
        ngx_str_set(&ws, "wss");

    } else {
        ngx_str_set(&ws, "ws");
    }

    if (ngx_http_voxanne_twilio_url(r, NULL, "stream-ended", &action)
        != NGX_OK
        || ngx_http_voxanne_twilio_url(r, &ws, "media/", &stream) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    token.data = ngx_pnalloc(r->pool, NGX_HTTP_VOXANNE_TOKEN_LEN);
    if (token.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_http_voxanne_token_create(token.data, &t->keys[0], &t->name,
                                      &ctx->call_sid,
                                      ngx_time() + vmcf->stream_timeout);
    if (p == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "voxanne: stream token HMAC failed");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    token.len = p - token.data;

    return ngx_http_voxanne_twilio_twiml(r,
               "<Response><Connect action=\"%E\">"
               "<Stream url=\"%E%E\">"
               "<Parameter name=\"tenant\" value=\"%E\"/>"
               "<Parameter name=\"token\" value=\"%E\"/>"
               "</Stream></Connect></Response>\n",
               &action, &stream, &t->name, &t->name, &token);
}


/* after hours, a fallback: voicemail, a human, or a polite hang-up */

static ngx_int_t
ngx_http_voxanne_twilio_action(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_http_voxanne_action_t *action)
{
    ngx_str_t  recording;

    switch (action->type) {

    case NGX_HTTP_VOXANNE_ACTION_DIAL:
        return ngx_http_voxanne_twilio_twiml(r, "<Response><Dial>%E</Dial>"
                                                "</Response>\n",
                                             &action->number);

    case NGX_HTTP_VOXANNE_ACTION_VOICEMAIL:

        if (ngx_http_voxanne_twilio_url(r, NULL, "recording?tenant=",
                                        &recording)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_voxanne_twilio_twiml(r,
                   "<Response><Say>%E</Say>"
                   "<Record action=\"%E%E\" maxLength=\"120\" "
                   "playBeep=\"true\" recordingStatusCallback=\"%E%E\"/>"
                   "<Hangup/></Response>\n",
                   &t->voicemail_greeting, &recording, &t->name,
                   &recording, &t->name);

    default: /* NGX_HTTP_VOXANNE_ACTION_HANGUP */
        return ngx_http_voxanne_twilio_twiml(r, "<Response><Hangup/>"
                                                "</Response>\n");
    }
}


/*
 * The media stream closed: a call the agent transferred dials the number
 * its stream's worker recorded in the session table; a normal end hangs
 * up; a stream that failed (broken, refused, silent) gets the tenant's
 * fallback: a human, voicemail or a hang-up.
 */

static ngx_int_t
ngx_http_voxanne_twilio_stream_ended(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx)
{
    ngx_int_t                      rc;
    ngx_str_t                      transfer;
    ngx_uint_t                     failed;
    ngx_http_voxanne_action_t      dial;
    ngx_http_voxanne_main_conf_t  *vmcf;
    u_char                         number[NGX_HTTP_VOXANNE_PARTY_MAX];

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    rc = ngx_http_voxanne_calls_end(vmcf->calls, &ctx->tenant->name,
                                    &ctx->call_sid, -1, &failed);

    transfer.data = number;
    transfer.len = ngx_http_voxanne_calls_number(vmcf->calls,
                                                 &ctx->tenant->name,
                                                 &ctx->call_sid, 1, number);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "voxanne: call %V tenant \"%V\": stream ended%s%s%s",
                  &ctx->call_sid, &ctx->tenant->name,
                  rc == NGX_OK ? ", line released"
                  : (rc == NGX_DECLINED ? "" : ", call not in the table"),
                  failed ? ", it failed: fallback" : "",
                  transfer.len ? ", transferred" : "");

    ngx_http_voxanne_store_event(r, ctx->tenant, &ctx->call_sid,
                                 "stream-ended", "webhook", "{sbsb}",
                                 "failed", (int) failed,
                                 "transfer", (int) (transfer.len != 0));

    if (transfer.len) {
        dial.type = NGX_HTTP_VOXANNE_ACTION_DIAL;
        dial.number = transfer;

        return ngx_http_voxanne_twilio_action(r, ctx->tenant, &dial);
    }

    if (failed) {
        return ngx_http_voxanne_twilio_action(r, ctx->tenant,
                                              &ctx->tenant->fallback);
    }

    return ngx_http_voxanne_twilio_twiml(r, "<Response><Hangup/>"
                                            "</Response>\n");
}


static ngx_int_t
ngx_http_voxanne_twilio_status(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx)
{
    u_char                         key[32];
    ngx_int_t                      rc, status, seq;
    ngx_str_t                     *s;
    ngx_uint_t                     prev;
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    s = ngx_http_voxanne_twilio_param(ctx, "CallStatus");

    status = s ? ngx_http_voxanne_calls_status_parse(s) : NGX_ERROR;

    if (status == NGX_ERROR) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: call %V tenant \"%V\": invalid CallStatus",
                      &ctx->call_sid, &ctx->tenant->name);
        return NGX_HTTP_BAD_REQUEST;
    }

    s = ngx_http_voxanne_twilio_param(ctx, "SequenceNumber");

    seq = s ? ngx_atoi(s->data, s->len) : -1;

    if (s && seq == NGX_ERROR) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: call %V tenant \"%V\": invalid "
                      "SequenceNumber", &ctx->call_sid, &ctx->tenant->name);
        return NGX_HTTP_BAD_REQUEST;
    }

    rc = ngx_http_voxanne_calls_status(vmcf->calls, &ctx->tenant->name,
                                       &ctx->call_sid, status, seq, &prev);

    if (rc == NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: call %V tenant \"%V\": %V -> %V",
                      &ctx->call_sid, &ctx->tenant->name,
                      &ngx_http_voxanne_call_statuses[prev],
                      &ngx_http_voxanne_call_statuses[status]);

    } else if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: call %V tenant \"%V\": late %V ignored, "
                      "the call is %V", &ctx->call_sid, &ctx->tenant->name,
                      &ngx_http_voxanne_call_statuses[status],
                      &ngx_http_voxanne_call_statuses[prev]);

    } else {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: call %V tenant \"%V\": %V for a call not in "
                      "the table", &ctx->call_sid, &ctx->tenant->name,
                      &ngx_http_voxanne_call_statuses[status]);
    }

    /* the database orders the statuses as the table does, late or not */

    ngx_http_voxanne_twilio_store_call(r, ctx);

    if (seq >= 0) {
        (void) ngx_sprintf(key, "status:%i%Z", seq);

    } else {
        (void) ngx_sprintf(key, "status:%V%Z",
                           &ngx_http_voxanne_call_statuses[status]);
    }

    ngx_http_voxanne_store_event(r, ctx->tenant, &ctx->call_sid,
                                 (char *) key, "status", "{sssi}", "status",
                                 ngx_http_voxanne_call_statuses[status].data,
                                 "sequence", (int) seq);

    return ngx_http_voxanne_twilio_empty(r, NGX_HTTP_OK);
}


/*
 * The <Record> action and the recording status callback; the answer ends
 * the call after a voicemail and is ignored for a status callback.
 */

static ngx_int_t
ngx_http_voxanne_twilio_recording(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx)
{
    u_char      key[sizeof("recording::") + 2 * NGX_HTTP_VOXANNE_SID_MAX];
    ngx_str_t  *url, *status, *duration, *none, *sid, empty;

    none = &ngx_http_voxanne_twilio_routes[0];
    ngx_str_set(&empty, "");

    sid = ngx_http_voxanne_twilio_param(ctx, "RecordingSid");
    url = ngx_http_voxanne_twilio_param(ctx, "RecordingUrl");
    status = ngx_http_voxanne_twilio_param(ctx, "RecordingStatus");
    duration = ngx_http_voxanne_twilio_param(ctx, "RecordingDuration");

    if (duration == NULL) {
        duration = ngx_http_voxanne_twilio_param(ctx, "Duration");
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "voxanne: call %V tenant \"%V\": recording \"%V\" "
                  "status \"%V\" duration \"%V\"",
                  &ctx->call_sid, &ctx->tenant->name,
                  ngx_http_voxanne_twilio_printable(url ? url : none),
                  ngx_http_voxanne_twilio_printable(status ? status : none),
                  ngx_http_voxanne_twilio_printable(duration ? duration
                                                             : none));

    /* the <Record> action, then the status callback(s) of one recording */

    if (sid && sid->len <= NGX_HTTP_VOXANNE_SID_MAX
        && (status == NULL || status->len <= NGX_HTTP_VOXANNE_SID_MAX))
    {
        url = url ? url : &empty;
        duration = duration ? duration : &empty;
        status = status ? status : &empty;

        (void) ngx_sprintf(key, "recording:%V:%V%Z", sid, status);

        ngx_http_voxanne_store_event(r, ctx->tenant, &ctx->call_sid,
                                     (char *) key, "recording",
                                     "{ss%ss%ss%}",
                                     "url", url->data, url->len,
                                     "status", status->data, status->len,
                                     "duration", duration->data,
                                     duration->len);
    }

    return ngx_http_voxanne_twilio_twiml(r, "<Response><Hangup/>"
                                            "</Response>\n");
}


static ngx_str_t *
ngx_http_voxanne_twilio_param(ngx_http_voxanne_twilio_ctx_t *ctx, char *name)
{
    return ngx_http_voxanne_form_get(ctx->params, ctx->nparams, name);
}


/*
 * A peer's value as a log line may show it: a forged newline or quote
 * would let a caller write lines of its own, and a long value flood the log
 */

static ngx_str_t *
ngx_http_voxanne_twilio_printable(ngx_str_t *value)
{
    u_char            *p, *last;

    static ngx_str_t   unprintable = ngx_string("(unprintable)");

    if (value->len > NGX_HTTP_VOXANNE_LOGGED_MAX) {
        return &unprintable;
    }

    last = value->data + value->len;

    for (p = value->data; p < last; p++) {
        if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\') {
            return &unprintable;
        }
    }

    return value;
}


/*
 * The URL of a sibling route: the tenant's public URL (its scheme replaced
 * when one is given), the directory of this request's path, then name.
 */

static ngx_int_t
ngx_http_voxanne_twilio_url(ngx_http_request_t *r, ngx_str_t *scheme,
    char *name, ngx_str_t *url)
{
    u_char                         *p, *dir, *host;
    size_t                          len;
    ngx_str_t                      *base;
    ngx_http_voxanne_twilio_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);

    base = &ctx->tenant->public_url[0];

    host = ngx_strlchr(base->data, base->data + base->len, ':');

    for (dir = r->uri.data + r->uri.len; dir > r->uri.data; dir--) {
        if (dir[-1] == '/') {
            break;
        }
    }

    len = (scheme ? scheme->len + (base->data + base->len - host) : base->len)
          + (dir - r->uri.data) + ngx_strlen(name);

    url->data = ngx_pnalloc(r->pool, len);
    if (url->data == NULL) {
        return NGX_ERROR;
    }

    if (scheme) {
        p = ngx_cpymem(url->data, scheme->data, scheme->len);
        p = ngx_cpymem(p, host, base->data + base->len - host);

    } else {
        p = ngx_cpymem(url->data, base->data, base->len);
    }

    p = ngx_cpymem(p, r->uri.data, dir - r->uri.data);
    p = ngx_cpymem(p, name, ngx_strlen(name));

    url->len = p - url->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_voxanne_twilio_twiml(ngx_http_request_t *r, const char *fmt, ...)
{
    size_t      len;
    va_list     args, count;
    ngx_buf_t  *b;

    va_start(args, fmt);
    va_copy(count, args);

    len = ngx_http_voxanne_twiml_format(NULL, fmt, count);

    va_end(count);

    b = ngx_create_temp_buf(r->pool,
                            sizeof(NGX_HTTP_VOXANNE_TWIML_HEADER) - 1 + len);
    if (b == NULL) {
        va_end(args);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->last, NGX_HTTP_VOXANNE_TWIML_HEADER,
                         sizeof(NGX_HTTP_VOXANNE_TWIML_HEADER) - 1);
    b->last += ngx_http_voxanne_twiml_format(b->last, fmt, args);

    va_end(args);

    return ngx_http_voxanne_body_send(r, NGX_HTTP_OK, "text/xml", b);
}


static ngx_int_t
ngx_http_voxanne_twilio_empty(ngx_http_request_t *r, ngx_uint_t status)
{
    r->headers_out.status = status;
    r->headers_out.content_length_n = 0;
    r->header_only = 1;

    return ngx_http_send_header(r);
}


static ngx_int_t
ngx_http_voxanne_twilio_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    void                           *any;
    ngx_str_t                      *s;
    ngx_http_voxanne_tenant_t      *t;
    ngx_http_voxanne_loc_conf_t    *vlcf;
    ngx_http_voxanne_twilio_ctx_t  *ctx;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voxanne_module);
    any = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);

    /* the context is of this file only in a Twilio route's location */

    ctx = (vlcf->call == ngx_http_voxanne_twilio_call) ? any : NULL;

    s = NULL;

    switch (data) {

    case NGX_HTTP_VOXANNE_VAR_ROUTE:
        s = &ngx_http_voxanne_twilio_routes[vlcf->route];
        break;

    case NGX_HTTP_VOXANNE_VAR_TENANT:
    case NGX_HTTP_VOXANNE_VAR_CALL_SID:

        if (vlcf->call == NULL || any == NULL) {
            break;
        }

        t = NULL;
        vlcf->call(r, &t, &s);

        if (data == NGX_HTTP_VOXANNE_VAR_TENANT) {
            s = t ? &t->name : NULL;
        }

        break;

    case NGX_HTTP_VOXANNE_VAR_SIGNATURE:
        s = ctx ? &ngx_http_voxanne_twilio_signatures[ctx->signature] : NULL;
        break;

    default: /* NGX_HTTP_VOXANNE_VAR_LIMIT */
        s = ctx ? &ngx_http_voxanne_twilio_limits[ctx->limit] : NULL;
        break;
    }

    if (s == NULL || s->len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = s->data;

    return NGX_OK;
}


static void
ngx_http_voxanne_twilio_call(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t **tenant, ngx_str_t **call_sid)
{
    ngx_http_voxanne_twilio_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);

    *tenant = ctx->tenant;
    *call_sid = &ctx->call_sid;
}


/* the call as this webhook saw it, to the database */

static void
ngx_http_voxanne_twilio_store_call(ngx_http_request_t *r,
    ngx_http_voxanne_twilio_ctx_t *ctx)
{
    ngx_int_t   status;
    ngx_str_t  *s, *from, *to, *duration, none;

    ngx_str_null(&none);

    s = ngx_http_voxanne_twilio_param(ctx, "CallStatus");

    status = s ? ngx_http_voxanne_calls_status_parse(s) : NGX_ERROR;
    if (status == NGX_ERROR) {
        status = NGX_HTTP_VOXANNE_CALL_RINGING;
    }

    from = ngx_http_voxanne_twilio_param(ctx, "From");
    to = ngx_http_voxanne_twilio_param(ctx, "To");
    duration = ngx_http_voxanne_twilio_param(ctx, "CallDuration");

    if (duration && ngx_atoi(duration->data, duration->len) == NGX_ERROR) {
        duration = NULL;
    }

    ngx_http_voxanne_store_call(r, ctx->tenant, &ctx->call_sid,
                                from ? from : &none, to ? to : &none,
                                &ngx_http_voxanne_call_statuses[status],
                                duration ? duration : &none);
}
