
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


#define NGX_HTTP_VOXANNE_HEX          "0123456789abcdef"
#define NGX_HTTP_VOXANNE_ZONEINFO     "/usr/share/zoneinfo/"
#define NGX_HTTP_VOXANNE_SECRET_MAX   4096
#define NGX_HTTP_VOXANNE_TZIF_MAX     (1024 * 1024)
#define NGX_HTTP_VOXANNE_GREETING     "Sorry, we can't take your call right " \
                                      "now. Please leave a message after "    \
                                      "the tone."


typedef char *(*ngx_http_voxanne_tenant_set_pt)(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);


typedef struct {
    ngx_str_t                        name;
    ngx_uint_t                       min;    /* arguments */
    ngx_uint_t                       max;
    ngx_uint_t                       repeat; /* may appear more than once */
    ngx_http_voxanne_tenant_set_pt   set;
} ngx_http_voxanne_tenant_directive_t;


typedef struct {
    ngx_http_voxanne_tenant_t       *tenant;
    ngx_uint_t                       seen;   /* a bit per directive */
} ngx_http_voxanne_tenant_parse_t;


static char *ngx_http_voxanne_tenant(ngx_conf_t *cf, ngx_command_t *dummy,
    void *conf);
static char *ngx_http_voxanne_tenant_done(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t);
static char *ngx_http_voxanne_tenant_org_id(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_numbers(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_account(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_token(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_url(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_timezone(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_hours(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_closed(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_max_calls(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_busy(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_after_hours(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_fallback(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_greeting(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_limit(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_caller_limit(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_limit_set(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_http_voxanne_limit_t *limit,
    ngx_str_t *value, ngx_uint_t n);
static char *ngx_http_voxanne_tenant_action(ngx_conf_t *cf,
    ngx_http_voxanne_action_t *action, ngx_str_t *value, ngx_uint_t n);
static void ngx_http_voxanne_tenant_key_cleanup(void *data);
static ngx_uint_t ngx_http_voxanne_e164(ngx_str_t *s);
static ngx_uint_t ngx_http_voxanne_chars(u_char *p, size_t len,
    char *allowed);


static ngx_http_voxanne_tenant_directive_t  ngx_http_voxanne_tenant_directives[]
    = {
    { ngx_string("org_id"), 1, 1, 0, ngx_http_voxanne_tenant_org_id },
    { ngx_string("numbers"), 1, 64, 1, ngx_http_voxanne_tenant_numbers },
    { ngx_string("twilio_account_sid"), 1, 1, 0,
      ngx_http_voxanne_tenant_account },
    { ngx_string("twilio_auth_token_file"), 1, 1, 1,
      ngx_http_voxanne_tenant_token },
    { ngx_string("public_url"), 1, 1, 0, ngx_http_voxanne_tenant_url },
    { ngx_string("timezone"), 1, 1, 0, ngx_http_voxanne_tenant_timezone },
    { ngx_string("hours"), 2, 64, 0, ngx_http_voxanne_tenant_hours },
    { ngx_string("closed"), 1, 366, 1, ngx_http_voxanne_tenant_closed },
    { ngx_string("max_calls"), 1, 1, 0, ngx_http_voxanne_tenant_max_calls },
    { ngx_string("busy"), 1, 1, 0, ngx_http_voxanne_tenant_busy },
    { ngx_string("after_hours"), 1, 2, 0,
      ngx_http_voxanne_tenant_after_hours },
    { ngx_string("fallback"), 1, 2, 0, ngx_http_voxanne_tenant_fallback },
    { ngx_string("voicemail_greeting"), 1, 1, 0,
      ngx_http_voxanne_tenant_greeting },
    { ngx_string("limit"), 1, 3, 0, ngx_http_voxanne_tenant_limit },
    { ngx_string("caller_limit"), 1, 3, 0,
      ngx_http_voxanne_tenant_caller_limit },
    { ngx_string("vapi_auth"), 2, 12, 0, ngx_http_voxanne_vapi_auth },
    { ngx_string("vapi_assistant"), 1, 2, 0,
      ngx_http_voxanne_vapi_assistant },
    { ngx_string("agent"), 1, 1, 0, ngx_http_voxanne_agent_type },
    { ngx_string("instructions_file"), 1, 1, 0,
      ngx_http_voxanne_agent_instructions },
    { ngx_string("voice"), 1, 1, 0, ngx_http_voxanne_agent_voice },
    { ngx_string("greeting"), 1, 1, 0, ngx_http_voxanne_agent_greeting },
    { ngx_string("language"), 1, 1, 0, ngx_http_voxanne_agent_language },
    { ngx_string("vad"), 1, 3, 0, ngx_http_voxanne_agent_vad },
    { ngx_string("tools"), 1, 16, 0, ngx_http_voxanne_agent_tools },
    { ngx_null_string, 0, 0, 0, NULL }
};


/*
 * voxanne_tenant name { ... }: parsed like map and upstream, each inner
 * directive through the table above; everything is checked here, at
 * configuration time.
 */

char *
ngx_http_voxanne_tenant_block(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voxanne_main_conf_t *vmcf = conf;

    char                             *rv;
    ngx_str_t                        *value;
    ngx_conf_t                        save;
    ngx_http_voxanne_tenant_t        *t, **tp;
    ngx_http_voxanne_tenant_parse_t   parse;

    value = cf->args->elts;

    /* the name goes into URLs, stream tokens and the shared call table */

    if (value[1].len == 0 || value[1].len > NGX_HTTP_VOXANNE_TOKEN_TENANT_MAX
        || !ngx_http_voxanne_chars(value[1].data, value[1].len,
                                   "abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789_-"))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid tenant name \"%V\", 1 to %d letters, "
                           "digits, \"_\" or \"-\" are expected", &value[1],
                           NGX_HTTP_VOXANNE_TOKEN_TENANT_MAX);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_voxanne_tenant_find(vmcf, &value[1]) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate tenant \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    t = ngx_pcalloc(cf->pool, sizeof(ngx_http_voxanne_tenant_t));
    if (t == NULL) {
        return NGX_CONF_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     t->org_id = { 0, NULL };
     *     t->account_sid = { 0, NULL };
     *     t->nkeys = 0;
     *     t->public_url[] = { 0, NULL };
     *     t->timezone = { 0, NULL };
     *     t->hours.nranges = 0;
     *     t->voicemail_greeting = { 0, NULL };
     *     t->limit.shm_zone = NULL;
     *     t->caller_limit.shm_zone = NULL;
     */

    t->name = value[1];
    t->max_calls = NGX_CONF_UNSET_UINT;
    t->busy_reject = NGX_CONF_UNSET_UINT;
    t->after_hours.type = NGX_CONF_UNSET_UINT;
    t->fallback.type = NGX_CONF_UNSET_UINT;

    ngx_http_voxanne_agent_init(&t->agent);

    if (ngx_array_init(&t->numbers, cf->pool, 4, sizeof(ngx_str_t)) != NGX_OK
        || ngx_array_init(&t->closed, cf->pool, 4, sizeof(ngx_int_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    tp = ngx_array_push(&vmcf->tenants);
    if (tp == NULL) {
        return NGX_CONF_ERROR;
    }

    *tp = t;

    parse.tenant = t;
    parse.seen = 0;

    save = *cf;
    cf->handler = ngx_http_voxanne_tenant;
    cf->handler_conf = (char *) &parse;

    rv = ngx_conf_parse(cf, NULL);

    *cf = save;

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return ngx_http_voxanne_tenant_done(cf, t);
}


ngx_http_voxanne_tenant_t *
ngx_http_voxanne_tenant_find(ngx_http_voxanne_main_conf_t *vmcf,
    ngx_str_t *name)
{
    ngx_uint_t                   i;
    ngx_http_voxanne_tenant_t  **tp;

    tp = vmcf->tenants.elts;

    for (i = 0; i < vmcf->tenants.nelts; i++) {
        if (tp[i]->name.len == name->len
            && ngx_strncmp(tp[i]->name.data, name->data, name->len) == 0)
        {
            return tp[i];
        }
    }

    return NULL;
}


/*
 * Once every tenant block is parsed: the zones the limits name must have
 * been declared (before or after the tenant), and the number -> tenant hash.
 */

char *
ngx_http_voxanne_tenant_init(ngx_conf_t *cf,
    ngx_http_voxanne_main_conf_t *vmcf)
{
    ngx_uint_t                   i, j;
    ngx_str_t                   *number;
    ngx_hash_init_t              hash;
    ngx_shm_zone_t              *zones[2];
    ngx_http_voxanne_tenant_t  **tp;

    tp = vmcf->tenants.elts;

    for (i = 0; i < vmcf->tenants.nelts; i++) {
        zones[0] = tp[i]->limit.shm_zone;
        zones[1] = tp[i]->caller_limit.shm_zone;

        for (j = 0; j < 2; j++) {
            if (zones[j] && zones[j]->data == NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "unknown voxanne_limit_zone \"%V\" "
                                   "in tenant \"%V\"",
                                   &zones[j]->shm.name, &tp[i]->name);
                return NGX_CONF_ERROR;
            }
        }

        number = tp[i]->numbers.elts;

        for (j = 0; j < tp[i]->numbers.nelts; j++) {
            if (ngx_hash_add_key(vmcf->keys, &number[j], tp[i],
                                 NGX_HASH_READONLY_KEY)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }
        }
    }

    hash.hash = &vmcf->numbers;
    hash.key = ngx_hash_key;
    hash.max_size = 65536;
    hash.bucket_size = ngx_align(64, ngx_cacheline_size);
    hash.name = "voxanne_numbers_hash";
    hash.pool = cf->pool;
    hash.temp_pool = NULL;

    if (ngx_hash_init(&hash, vmcf->keys->keys.elts, vmcf->keys->keys.nelts)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_voxanne_tenant(ngx_conf_t *cf, ngx_command_t *dummy, void *conf)
{
    ngx_http_voxanne_tenant_parse_t *parse = (void *) conf;

    ngx_str_t                            *value;
    ngx_uint_t                            n, bit;
    ngx_http_voxanne_tenant_t            *t;
    ngx_http_voxanne_tenant_directive_t  *d;

    t = parse->tenant;
    value = cf->args->elts;
    n = cf->args->nelts - 1;

    for (d = ngx_http_voxanne_tenant_directives; d->set; d++) {

        if (d->name.len != value[0].len
            || ngx_strncmp(d->name.data, value[0].data, value[0].len) != 0)
        {
            continue;
        }

        if (n < d->min || n > d->max) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid number of arguments in \"%V\" "
                               "of tenant \"%V\"", &value[0], &t->name);
            return NGX_CONF_ERROR;
        }

        bit = (ngx_uint_t) 1 << (d - ngx_http_voxanne_tenant_directives);

        if ((parse->seen & bit) && !d->repeat) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate \"%V\" in tenant \"%V\"",
                               &value[0], &t->name);
            return NGX_CONF_ERROR;
        }

        parse->seen |= bit;

        return d->set(cf, t, &value[1], n);
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown directive \"%V\" in tenant \"%V\"",
                       &value[0], &t->name);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_voxanne_tenant_done(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t)
{
    static ngx_str_t  utc = ngx_string("UTC");

    if (t->org_id.len == 0 || t->numbers.nelts == 0 || t->nkeys == 0
        || t->public_url[0].len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tenant \"%V\" needs org_id, numbers, "
                           "twilio_auth_token_file and public_url", &t->name);
        return NGX_CONF_ERROR;
    }

    if (t->timezone.len == 0
        && ngx_http_voxanne_tenant_timezone(cf, t, &utc, 1) != NGX_CONF_OK)
    {
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_uint_value(t->max_calls, 0);
    ngx_conf_init_uint_value(t->busy_reject, 0);
    ngx_conf_init_uint_value(t->after_hours.type,
                             NGX_HTTP_VOXANNE_ACTION_VOICEMAIL);
    ngx_conf_init_uint_value(t->fallback.type, NGX_HTTP_VOXANNE_ACTION_HANGUP);

    if (t->voicemail_greeting.len == 0) {
        ngx_str_set(&t->voicemail_greeting, NGX_HTTP_VOXANNE_GREETING);
    }

    return ngx_http_voxanne_agent_done(cf, t);
}


static char *
ngx_http_voxanne_tenant_org_id(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_uint_t  i;

    /* 8-4-4-4-12 lowercase hex digits */

    for (i = 0; i < value->len; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (value->data[i] != '-') {
                break;
            }

        } else if (ngx_strlchr((u_char *) NGX_HTTP_VOXANNE_HEX,
                               (u_char *) NGX_HTTP_VOXANNE_HEX + 16,
                               value->data[i])
                   == NULL)
        {
            break;
        }
    }

    if (value->len != 36 || i != 36) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid org_id \"%V\" in tenant \"%V\", "
                           "a lowercase uuid is expected", value, &t->name);
        return NGX_CONF_ERROR;
    }

    t->org_id = *value;

    return NGX_CONF_OK;
}


static char *
ngx_http_voxanne_tenant_numbers(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_str_t                     *number, *other;
    ngx_uint_t                     i, j, k;
    ngx_http_voxanne_tenant_t    **tp;
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_voxanne_module);
    tp = vmcf->tenants.elts;

    for (i = 0; i < n; i++) {

        if (!ngx_http_voxanne_e164(&value[i])) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid number \"%V\" in tenant \"%V\", "
                               "E.164 is expected (+15550100001)",
                               &value[i], &t->name);
            return NGX_CONF_ERROR;
        }

        for (j = 0; j < vmcf->tenants.nelts; j++) {
            other = tp[j]->numbers.elts;

            for (k = 0; k < tp[j]->numbers.nelts; k++) {
                if (other[k].len == value[i].len
                    && ngx_strncmp(other[k].data, value[i].data,
                                   value[i].len) == 0)
                {
                    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                       "number \"%V\" of tenant \"%V\" "
                                       "already belongs to tenant \"%V\"",
                                       &value[i], &t->name, &tp[j]->name);
                    return NGX_CONF_ERROR;
                }
            }
        }

        number = ngx_array_push(&t->numbers);
        if (number == NULL) {
            return NGX_CONF_ERROR;
        }

        *number = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_voxanne_tenant_account(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    if (value->len != 34 || ngx_strncmp(value->data, "AC", 2) != 0
        || !ngx_http_voxanne_chars(value->data + 2, 32, NGX_HTTP_VOXANNE_HEX))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid twilio_account_sid \"%V\" in tenant "
                           "\"%V\", AC and 32 hex digits are expected",
                           value, &t->name);
        return NGX_CONF_ERROR;
    }

    t->account_sid = *value;

    return NGX_CONF_OK;
}


/*
 * Up to two auth tokens, the primary first: a rotation keeps both.  Each is
 * keyed into its HMAC contexts at once, and its text is wiped.
 */

static char *
ngx_http_voxanne_tenant_token(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_str_t                token;
    ngx_pool_cleanup_t      *cln;
    ngx_http_voxanne_key_t  *key;

    if (t->nkeys == 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tenant \"%V\" has more than two "
                           "twilio_auth_token_file", &t->name);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_voxanne_tenant_secret(cf, t, "twilio_auth_token_file", value,
                                       &token)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    key = &t->keys[t->nkeys];

    if (ngx_http_voxanne_key_init(key, token.data, token.len) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "HMAC keys for tenant \"%V\" failed", &t->name);
        return NGX_CONF_ERROR;
    }

    ngx_explicit_memzero(token.data, token.len);

    cln->handler = ngx_http_voxanne_tenant_key_cleanup;
    cln->data = key;

    t->nkeys++;

    return NGX_CONF_OK;
}


static void
ngx_http_voxanne_tenant_key_cleanup(void *data)
{
    ngx_http_voxanne_key_free(data);
}


static char *
ngx_http_voxanne_tenant_url(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    u_char  *buf, *p;
    size_t   len;

    buf = ngx_pnalloc(cf->pool, value->len + 4);
    if (buf == NULL) {
        return NGX_CONF_ERROR;
    }

    if ((ngx_strncmp(value->data, "https://", 8) != 0
         && ngx_strncmp(value->data, "http://", 7) != 0)
        || ngx_http_voxanne_signature_base_variant(value, buf,
                                                   &t->public_url[1])
           != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid public_url \"%V\" in tenant \"%V\", "
                           "scheme://host[:port] is expected (http or https, "
                           "no path)", value, &t->name);
        return NGX_CONF_ERROR;
    }

    t->public_url[0] = *value;

    /* the media stream's URL, which Twilio signs with its wss:// scheme */

    p = ngx_strlchr(value->data, value->data + value->len, ':');

    len = (value->data[4] == 's' ? 3 : 2) + (value->data + value->len - p);

    t->ws_url[0].data = ngx_pnalloc(cf->pool, 2 * len + 4);
    if (t->ws_url[0].data == NULL) {
        return NGX_CONF_ERROR;
    }

    t->ws_url[0].len = ngx_sprintf(t->ws_url[0].data, "%s%*s",
                                   value->data[4] == 's' ? "wss" : "ws",
                                   value->data + value->len - p, p)
                       - t->ws_url[0].data;

    if (ngx_http_voxanne_signature_base_variant(&t->ws_url[0],
                                                t->ws_url[0].data + len,
                                                &t->ws_url[1])
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_voxanne_tenant_timezone(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    u_char     *p;
    ngx_str_t   path, data;

    if (value->len == 0 || value->data[0] == '/'
        || ngx_strstrn(value->data, "..", 1) != NULL
        || !ngx_http_voxanne_chars(value->data, value->len,
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz"
                                   "0123456789/_+-"))
    {
        goto unknown;
    }

    path.len = sizeof(NGX_HTTP_VOXANNE_ZONEINFO) - 1 + value->len;
    path.data = ngx_pnalloc(cf->pool, path.len + 1);
    if (path.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_cpymem(path.data, NGX_HTTP_VOXANNE_ZONEINFO,
                   sizeof(NGX_HTTP_VOXANNE_ZONEINFO) - 1);
    ngx_memcpy(p, value->data, value->len);
    path.data[path.len] = '\0';

    if (ngx_http_voxanne_tenant_read(cf, &path, NGX_HTTP_VOXANNE_TZIF_MAX,
                                     &data)
        != NGX_OK)
    {
        goto unknown;
    }

    if (ngx_http_voxanne_tz_parse(&t->tz, data.data, data.len) != NGX_OK) {
        goto unknown;
    }

    t->timezone = *value;

    return NGX_CONF_OK;

unknown:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown timezone \"%V\" in tenant \"%V\"",
                       value, &t->name);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_voxanne_tenant_hours(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (ngx_http_voxanne_hours_add(&t->hours, &value[i]) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid hours \"%V\" in tenant \"%V\"",
                               &value[i], &t->name);
            return NGX_CONF_ERROR;
        }
    }

    if (t->hours.nranges == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "hours of tenant \"%V\" open no time range",
                           &t->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_voxanne_tenant_closed(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t   *date;
    ngx_uint_t   i;

    for (i = 0; i < n; i++) {
        date = ngx_array_push(&t->closed);
        if (date == NULL) {
            return NGX_CONF_ERROR;
        }

        *date = ngx_http_voxanne_hours_date(&value[i]);

        if (*date == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid date \"%V\" in tenant \"%V\", "
                               "YYYY-MM-DD is expected", &value[i], &t->name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_voxanne_tenant_max_calls(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t  max;

    max = ngx_atoi(value->data, value->len);

    if (max == NGX_ERROR || max > 100000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid max_calls \"%V\" in tenant \"%V\"",
                           value, &t->name);
        return NGX_CONF_ERROR;
    }

    t->max_calls = max;

    return NGX_CONF_OK;
}


static char *
ngx_http_voxanne_tenant_busy(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    if (value->len == 3 && ngx_strncmp(value->data, "say", 3) == 0) {
        t->busy_reject = 0;

    } else if (value->len == 6 && ngx_strncmp(value->data, "reject", 6) == 0) {
        t->busy_reject = 1;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid busy \"%V\" in tenant \"%V\", "
                           "\"say\" or \"reject\" is expected",
                           value, &t->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_voxanne_tenant_after_hours(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n)
{
    return ngx_http_voxanne_tenant_action(cf, &t->after_hours, value, n);
}


static char *
ngx_http_voxanne_tenant_fallback(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    return ngx_http_voxanne_tenant_action(cf, &t->fallback, value, n);
}


static char *
ngx_http_voxanne_tenant_greeting(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    if (value->len == 0 || value->len > 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "voicemail_greeting of tenant \"%V\" must have "
                           "1 to 1024 characters", &t->name);
        return NGX_CONF_ERROR;
    }

    t->voicemail_greeting = *value;

    return NGX_CONF_OK;
}


static char *
ngx_http_voxanne_tenant_limit(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    return ngx_http_voxanne_tenant_limit_set(cf, t, &t->limit, value, n);
}


static char *
ngx_http_voxanne_tenant_caller_limit(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n)
{
    return ngx_http_voxanne_tenant_limit_set(cf, t, &t->caller_limit, value,
                                             n);
}


/* limit.c says what is wrong with which token; this adds where */

static char *
ngx_http_voxanne_tenant_limit_set(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_http_voxanne_limit_t *limit, ngx_str_t *value, ngx_uint_t n)
{
    char       *rv;
    ngx_str_t  *args;

    rv = ngx_http_voxanne_limit_parse(cf, limit, value, n);

    if (rv == NGX_CONF_OK || rv == NGX_CONF_ERROR) {
        return rv;
    }

    args = cf->args->elts;

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%s in \"%V\" of tenant \"%V\"",
                       rv, &args[0], &t->name);

    return NGX_CONF_ERROR;
}


/* "voicemail", "hangup" or "dial +15551230000" */

static char *
ngx_http_voxanne_tenant_action(ngx_conf_t *cf,
    ngx_http_voxanne_action_t *action, ngx_str_t *value, ngx_uint_t n)
{
    if (n == 1 && value[0].len == 9
        && ngx_strncmp(value[0].data, "voicemail", 9) == 0)
    {
        action->type = NGX_HTTP_VOXANNE_ACTION_VOICEMAIL;
        return NGX_CONF_OK;
    }

    if (n == 1 && value[0].len == 6
        && ngx_strncmp(value[0].data, "hangup", 6) == 0)
    {
        action->type = NGX_HTTP_VOXANNE_ACTION_HANGUP;
        return NGX_CONF_OK;
    }

    if (n == 2 && value[0].len == 4
        && ngx_strncmp(value[0].data, "dial", 4) == 0
        && ngx_http_voxanne_e164(&value[1]))
    {
        action->type = NGX_HTTP_VOXANNE_ACTION_DIAL;
        action->number = value[1];
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid action \"%V%s%V\", \"voicemail\", \"hangup\" "
                       "or \"dial +E164\" is expected", &value[0],
                       n == 2 ? " " : "", n == 2 ? &value[1] : &value[0]);

    return NGX_CONF_ERROR;
}


/* open at now, in the tenant's time zone: not a closed date, within hours */

ngx_uint_t
ngx_http_voxanne_tenant_open(ngx_http_voxanne_tenant_t *t, time_t now)
{
    ngx_int_t              today, *closed;
    ngx_uint_t             i;
    ngx_http_voxanne_tm_t  tm;

    ngx_http_voxanne_tz_local(&t->tz, now, &tm);

    today = tm.year * 10000 + tm.month * 100 + tm.mday;
    closed = t->closed.elts;

    for (i = 0; i < t->closed.nelts; i++) {
        if (closed[i] == today) {
            return 0;
        }
    }

    return t->hours.nranges == 0 || ngx_http_voxanne_hours_open(&t->hours, &tm);
}


/*
 * A secret from a file, without the line end and blanks after it; the
 * caller wipes it once used.
 */

ngx_int_t
ngx_http_voxanne_tenant_secret(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    char *directive, ngx_str_t *name, ngx_str_t *secret)
{
    if (ngx_http_voxanne_tenant_read(cf, name, NGX_HTTP_VOXANNE_SECRET_MAX,
                                     secret)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    while (secret->len && (secret->data[secret->len - 1] == '\n'
                           || secret->data[secret->len - 1] == '\r'
                           || secret->data[secret->len - 1] == ' '
                           || secret->data[secret->len - 1] == '\t'))
    {
        secret->len--;
    }

    if (secret->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s \"%V\" of tenant \"%V\" is empty", directive,
                           name, &t->name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Reads a whole small file at configuration time (a token, a time zone, a
 * conninfo, a provider key, instructions), relative to the configuration
 * prefix.
 */

ngx_int_t
ngx_http_voxanne_tenant_read(ngx_conf_t *cf, ngx_str_t *name, size_t max,
    ngx_str_t *out)
{
    u_char           *buf;
    off_t             size;
    ssize_t           n;
    ngx_str_t         path;
    ngx_file_t        file;
    ngx_file_info_t   fi;

    path = *name;

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = path;
    file.log = cf->log;

    file.fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &path);
        return NGX_ERROR;
    }

    buf = NULL;
    n = NGX_ERROR;

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", &path);
        goto done;
    }

    size = ngx_file_size(&fi);

    if ((size_t) size > max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is larger than %uz bytes", &path, max);
        goto done;
    }

    buf = ngx_pnalloc(cf->pool, size + 1);
    if (buf == NULL) {
        goto done;
    }

    n = ngx_read_file(&file, buf, size, 0);

    if (n != size) {
        if (n != NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" changed while being read", &path);
        }

        n = NGX_ERROR;
        goto done;
    }

    out->data = buf;
    out->len = n;

done:

    if (ngx_close_file(file.fd) == NGX_FILE_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, cf->log, ngx_errno,
                      ngx_close_file_n " \"%V\" failed", &path);
    }

    return (n == NGX_ERROR) ? NGX_ERROR : NGX_OK;
}


/* ^\+[1-9][0-9]{6,14}$ */

static ngx_uint_t
ngx_http_voxanne_e164(ngx_str_t *s)
{
    return s->len >= 8 && s->len <= 16 && s->data[0] == '+'
           && s->data[1] >= '1' && s->data[1] <= '9'
           && ngx_http_voxanne_chars(s->data + 2, s->len - 2, "0123456789");
}


static ngx_uint_t
ngx_http_voxanne_chars(u_char *p, size_t len, char *allowed)
{
    for ( /* void */ ; len; len--, p++) {
        if (ngx_strchr(allowed, *p) == NULL || *p == '\0') {
            return 0;
        }
    }

    return 1;
}
