
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


/*
 * The realtime agent (ngx_http_voxanne_bridge.h).  Audio passes through as
 * base64, re-wrapped in each side's JSON and never decoded:
 *
 *     Twilio "media" payload        -> input_audio_buffer.append audio
 *     response.output_audio.delta   -> Twilio "media" payload, then a mark
 *
 * Marks are named "{item}:{ms}", the milliseconds of the assistant item's
 * audio sent so far (8 bytes a millisecond of mu-law at 8 kHz), so that
 * their echoes say how much of it the caller has heard: on barge-in
 * (input_audio_buffer.speech_started) Twilio's buffer is cleared, the item
 * is truncated where the caller stopped hearing it, and its later deltas
 * are dropped.
 *
 * Flow control, both ways: a Twilio message is read only while the
 * provider's output has room (media.c asks writable()); a provider event
 * is taken only when Twilio's output has room for what it becomes, else
 * the client keeps it and stops reading until Twilio's output has drained.
 */


#define NGX_HTTP_VOXANNE_BRIDGE_EARLY        12288  /* ~1 s of caller audio */
#define NGX_HTTP_VOXANNE_BRIDGE_PIECE        8192   /* base64 a Twilio media */
#define NGX_HTTP_VOXANNE_BRIDGE_MAX_MESSAGE  (1024 * 1024)
#define NGX_HTTP_VOXANNE_BRIDGE_OUT          16384  /* the provider's output */
#define NGX_HTTP_VOXANNE_BRIDGE_KEY_MAX      4096
#define NGX_HTTP_VOXANNE_BRIDGE_FRAME        256    /* JSON around a payload */
#define NGX_HTTP_VOXANNE_BRIDGE_TOOL_POOL    1024
#define NGX_HTTP_VOXANNE_BRIDGE_GOODBYE      10000  /* ms, the longest */
#define NGX_HTTP_VOXANNE_BRIDGE_CONTEXT      300    /* ms the greeting waits */

/* find_customer's result for a number without a contact (sql/007) */
#define NGX_HTTP_VOXANNE_BRIDGE_NEW_CALLER   "No customer on file"


typedef enum {
    NGX_HTTP_VOXANNE_BRIDGE_CONNECTING = 0,
    NGX_HTTP_VOXANNE_BRIDGE_OPEN,
    NGX_HTTP_VOXANNE_BRIDGE_FAILED,
    NGX_HTTP_VOXANNE_BRIDGE_ENDED         /* the agent ended the call */
} ngx_http_voxanne_bridge_state_e;


/* a function call of the model's, run by ngx_http_voxanne_tools.c */

typedef struct {
    ngx_http_voxanne_tool_call_t   tc;        /* first: tc.data is not used */
    ngx_queue_t                    queue;     /* the bridge's, while waiting */
    ngx_http_voxanne_bridge_t     *bridge;    /* NULL once the call ended */
    ngx_str_t                      call_id;
} ngx_http_voxanne_bridge_tool_t;


struct ngx_http_voxanne_bridge_s {
    ngx_http_request_t            *request;
    ngx_http_voxanne_media_ctx_t  *media;
    ngx_http_voxanne_agent_t      *agent;
    ngx_http_voxanne_wsc_t        *wsc;
    ngx_uint_t                     state;

    /* caller audio before the provider is open: length, payload, ... */
    u_char                        *early;
    size_t                         early_pos;
    size_t                         early_last;
    ngx_uint_t                     dropped;

    /* the assistant's audio item playing, and one cut short */
    u_char                         item[NGX_HTTP_VOXANNE_RT_ID_MAX];
    size_t                         item_len;
    u_char                         muted[NGX_HTTP_VOXANNE_RT_ID_MAX];
    size_t                         muted_len;
    ngx_uint_t                     items;       /* names the marks */
    uint64_t                       sent;        /* mu-law bytes of it */
    uint64_t                       played;      /* ms, from mark echoes */
    size_t                         delta_off;   /* a delta sent in part */
    ngx_uint_t                     item_done;   /* its audio has all come */

    ngx_queue_t                    tools;     /* waiting for a result */
    ngx_uint_t                     responding; /* a response is on */
    ngx_uint_t                     respond;    /* one more when it is done */

    /* end_call, transfer_to_human: the call ends after the goodbye */
    ngx_uint_t                     ending;     /* NGX_HTTP_VOXANNE_TOOL_ACT_ */
    ngx_str_t                      transfer;
    ngx_str_t                      reason;
    ngx_event_t                    goodbye;    /* the wait's cap */

    /* the returning caller's context, looked up at the start */
    ngx_http_voxanne_bridge_tool_t *context;   /* while it runs */
    ngx_str_t                      known;      /* its item, if any */
    ngx_event_t                    greeting;   /* the wait's cap */

    ngx_uint_t                     deltas;
    ngx_uint_t                     barge_ins;
    ngx_uint_t                     truncations;
    ngx_uint_t                     turns;       /* transcripts stored */
};


static ngx_http_voxanne_bridge_tool_t *ngx_http_voxanne_bridge_tool_create(
    ngx_http_voxanne_bridge_t *b, ngx_str_t *name, ngx_str_t *call_id);
static void ngx_http_voxanne_bridge_context(ngx_http_voxanne_bridge_t *b);
static void ngx_http_voxanne_bridge_context_done(
    ngx_http_voxanne_tool_call_t *tc);
static void ngx_http_voxanne_bridge_context_item(ngx_http_voxanne_bridge_t *b,
    ngx_str_t *result);
static void ngx_http_voxanne_bridge_greeting_timeout(ngx_event_t *ev);
static ngx_int_t ngx_http_voxanne_bridge_greet(ngx_http_voxanne_bridge_t *b);
static ngx_int_t ngx_http_voxanne_bridge_key(ngx_conf_t *cf,
    ngx_http_voxanne_loc_conf_t *conf, ngx_http_voxanne_wsc_conf_t *wsc);
static void ngx_http_voxanne_bridge_wipe(void *data);

static void ngx_http_voxanne_bridge_opened(void *data);
static ngx_int_t ngx_http_voxanne_bridge_message(void *data, u_char *text,
    size_t len);
static void ngx_http_voxanne_bridge_provider_drained(void *data);
static void ngx_http_voxanne_bridge_closed(void *data,
    ngx_http_voxanne_wsc_end_t *end);
static ngx_int_t ngx_http_voxanne_bridge_append(ngx_http_voxanne_bridge_t *b,
    ngx_str_t *payload);
static void ngx_http_voxanne_bridge_early(ngx_http_voxanne_bridge_t *b,
    ngx_str_t *payload);
static void ngx_http_voxanne_bridge_flush(ngx_http_voxanne_bridge_t *b);
static ngx_int_t ngx_http_voxanne_bridge_delta(ngx_http_voxanne_bridge_t *b,
    ngx_http_voxanne_rt_msg_t *msg);
static ngx_int_t ngx_http_voxanne_bridge_barge_in(
    ngx_http_voxanne_bridge_t *b);
static void ngx_http_voxanne_bridge_function(ngx_http_voxanne_bridge_t *b,
    ngx_http_voxanne_rt_msg_t *msg);
static void ngx_http_voxanne_bridge_tool_done(
    ngx_http_voxanne_tool_call_t *tc);
static void ngx_http_voxanne_bridge_tool_output(ngx_http_voxanne_bridge_t *b,
    ngx_http_voxanne_bridge_tool_t *bt);
static ngx_int_t ngx_http_voxanne_bridge_send(ngx_http_voxanne_bridge_t *b,
    ngx_str_t *text);
static void ngx_http_voxanne_bridge_respond(ngx_http_voxanne_bridge_t *b);
static ngx_int_t ngx_http_voxanne_bridge_action(ngx_http_voxanne_bridge_t *b,
    ngx_http_voxanne_tool_action_t *action);
static void ngx_http_voxanne_bridge_said_goodbye(
    ngx_http_voxanne_bridge_t *b);
static void ngx_http_voxanne_bridge_goodbye_timeout(ngx_event_t *ev);
static void ngx_http_voxanne_bridge_hang_up(ngx_http_voxanne_bridge_t *b);
static void ngx_http_voxanne_bridge_close(ngx_http_voxanne_bridge_t *b,
    ngx_uint_t code, const char *reason);
static void ngx_http_voxanne_bridge_fail(ngx_http_voxanne_bridge_t *b,
    ngx_uint_t cause, const char *fmt, ...);
static void ngx_http_voxanne_bridge_twilio(ngx_http_voxanne_bridge_t *b);
static void ngx_http_voxanne_bridge_count_dropped(
    ngx_http_voxanne_bridge_t *b);


ngx_str_t  ngx_http_voxanne_bridge_causes[] = {
    ngx_string("resolve"),
    ngx_string("connect"),
    ngx_string("tls"),
    ngx_string("refused"),
    ngx_string("handshake"),
    ngx_string("timeout"),
    ngx_string("dropped"),
    ngx_string("protocol"),
    ngx_string("closed"),
    ngx_string("error"),
    ngx_null_string
};


static ngx_http_voxanne_wsc_handlers_t  ngx_http_voxanne_bridge_handlers = {
    ngx_http_voxanne_bridge_opened,
    ngx_http_voxanne_bridge_message,
    ngx_http_voxanne_bridge_provider_drained,
    ngx_http_voxanne_bridge_closed
};


/* voxanne_realtime_url ws[s]://host[:port]/path?query */

char *
ngx_http_voxanne_bridge_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voxanne_loc_conf_t *vlcf = conf;

    ngx_str_t                    *value;
    ngx_http_voxanne_wsc_conf_t  *wsc;

    if (vlcf->realtime_url) {
        return "is duplicate";
    }

    value = cf->args->elts;

    wsc = ngx_pcalloc(cf->pool, sizeof(ngx_http_voxanne_wsc_conf_t));
    if (wsc == NULL) {
        return NGX_CONF_ERROR;
    }

    vlcf->realtime_url = wsc;

    return ngx_http_voxanne_wsc_parse_url(cf, &value[1], wsc);
}


/*
 * The realtime settings are inherited as usual; a media location with a
 * URL gets a client configuration of its own: the TLS context, the key,
 * the location's resolver, and an output large enough for the largest
 * session.update of the tenants.
 */

char *
ngx_http_voxanne_bridge_merge(ngx_conf_t *cf,
    ngx_http_voxanne_loc_conf_t *prev, ngx_http_voxanne_loc_conf_t *conf)
{
    char                           *rv;
    size_t                          need;
    ngx_uint_t                      i;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_voxanne_tenant_t     **tp;
    ngx_http_voxanne_wsc_conf_t    *wsc;
    ngx_http_voxanne_main_conf_t   *vmcf;

    if (conf->realtime_url == NULL) {
        conf->realtime_url = prev->realtime_url;
    }

    ngx_conf_merge_str_value(conf->realtime_key_file,
                             prev->realtime_key_file, "");
    ngx_conf_merge_str_value(conf->realtime_certificate,
                             prev->realtime_certificate, "");
    ngx_conf_merge_value(conf->realtime_verify_depth,
                         prev->realtime_verify_depth, 2);
    ngx_conf_merge_msec_value(conf->realtime_connect_timeout,
                              prev->realtime_connect_timeout, 5000);
    ngx_conf_merge_msec_value(conf->realtime_timeout,
                              prev->realtime_timeout, 15000);

    if (!conf->media) {
        return NGX_CONF_OK;
    }

    vmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_voxanne_module);
    tp = vmcf->tenants.elts;

    if (conf->realtime_url == NULL) {

        for (i = 0; i < vmcf->tenants.nelts; i++) {
            if (tp[i]->agent.type == NGX_HTTP_VOXANNE_AGENT_REALTIME) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "tenant \"%V\" has \"agent realtime\" "
                                   "but this voxanne_media_stream has no "
                                   "voxanne_realtime_url", &tp[i]->name);
                return NGX_CONF_ERROR;
            }
        }

        return NGX_CONF_OK;
    }

    wsc = ngx_palloc(cf->pool, sizeof(ngx_http_voxanne_wsc_conf_t));
    if (wsc == NULL) {
        return NGX_CONF_ERROR;
    }

    *wsc = *conf->realtime_url;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    wsc->resolver = clcf->resolver;
    wsc->resolver_timeout = clcf->resolver_timeout;
    wsc->connect_timeout = conf->realtime_connect_timeout;
    wsc->idle_timeout = conf->realtime_timeout;
    wsc->max_message = NGX_HTTP_VOXANNE_BRIDGE_MAX_MESSAGE;
    wsc->in_size = NGX_HTTP_VOXANNE_WS_RESPONSE_MAX;

    if (wsc->tls) {
        if (conf->realtime_certificate.len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "voxanne_realtime_url \"%V\" needs "
                               "voxanne_realtime_ssl_trusted_certificate",
                               &wsc->url);
            return NGX_CONF_ERROR;
        }

        rv = ngx_http_voxanne_wsc_ssl(cf, wsc, &conf->realtime_certificate,
                                      conf->realtime_verify_depth);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    if (ngx_http_voxanne_bridge_key(cf, conf, wsc) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /*
     * Frames up to half the output are always taken (writable()): the
     * session.update and the greeting of every tenant, and the upgrade.
     */

    need = wsc->uri.len + wsc->authority.len + wsc->headers.len + 512;

    for (i = 0; i < vmcf->tenants.nelts; i++) {
        need = ngx_max(need, tp[i]->agent.session.len);
        need = ngx_max(need, tp[i]->agent.response.len);
    }

    wsc->out_size = ngx_align(2 * (need + NGX_HTTP_VOXANNE_WS_MASKED_MAX),
                              4096);
    wsc->out_size = ngx_max(wsc->out_size, NGX_HTTP_VOXANNE_BRIDGE_OUT);

    conf->realtime = wsc;

    return NGX_CONF_OK;
}


/*
 * The key file: one line, "Authorization: Bearer {key}" in the upgrade.
 * What was read is wiped; the header is wiped with the configuration.
 */

static ngx_int_t
ngx_http_voxanne_bridge_key(ngx_conf_t *cf, ngx_http_voxanne_loc_conf_t *conf,
    ngx_http_voxanne_wsc_conf_t *wsc)
{
    u_char              *p;
    size_t               i;
    ngx_str_t            key;
    ngx_pool_cleanup_t  *cln;

    if (conf->realtime_key_file.len == 0) {
        ngx_str_null(&wsc->headers);
        return NGX_OK;
    }

    if (ngx_http_voxanne_tenant_read(cf, &conf->realtime_key_file,
                                     NGX_HTTP_VOXANNE_BRIDGE_KEY_MAX, &key)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = key.data;

    while (key.len && (key.data[key.len - 1] == LF
                       || key.data[key.len - 1] == CR
                       || key.data[key.len - 1] == ' '
                       || key.data[key.len - 1] == '\t'))
    {
        key.len--;
    }

    for (i = 0; i < key.len; i++) {
        if (key.data[i] <= 0x20 || key.data[i] >= 0x7f) {
            break;
        }
    }

    if (key.len == 0 || i < key.len) {
        ngx_explicit_memzero(p, key.len);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "voxanne_realtime_key_file \"%V\" must hold one "
                           "key of printable characters",
                           &conf->realtime_key_file);
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, sizeof(ngx_str_t));
    if (cln == NULL) {
        ngx_explicit_memzero(p, key.len);
        return NGX_ERROR;
    }

    wsc->headers.len = sizeof("Authorization: Bearer " CRLF) - 1 + key.len;
    wsc->headers.data = ngx_pnalloc(cf->pool, wsc->headers.len);

    if (wsc->headers.data == NULL) {
        ngx_explicit_memzero(p, key.len);
        return NGX_ERROR;
    }

    (void) ngx_sprintf(wsc->headers.data, "Authorization: Bearer %V" CRLF,
                       &key);

    ngx_explicit_memzero(p, key.len);

    *(ngx_str_t *) cln->data = wsc->headers;
    cln->handler = ngx_http_voxanne_bridge_wipe;

    return NGX_OK;
}


static void
ngx_http_voxanne_bridge_wipe(void *data)
{
    ngx_str_t *s = data;

    ngx_explicit_memzero(s->data, s->len);
}


/*
 * After "start": the tenant's agent, by default the realtime one when the
 * location has a provider URL.
 */

ngx_int_t
ngx_http_voxanne_bridge_start(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx)
{
    ngx_uint_t                    type;
    ngx_http_voxanne_bridge_t    *b;
    ngx_http_voxanne_loc_conf_t  *vlcf;

    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voxanne_module);

    type = ctx->tenant->agent.type;

    if (type == NGX_CONF_UNSET_UINT) {
        type = vlcf->realtime ? NGX_HTTP_VOXANNE_AGENT_REALTIME
                              : NGX_HTTP_VOXANNE_AGENT_ECHO;
    }

    if (type == NGX_HTTP_VOXANNE_AGENT_ECHO || vlcf->realtime == NULL) {
        return NGX_DECLINED;
    }

    b = ngx_pcalloc(r->pool, sizeof(ngx_http_voxanne_bridge_t));
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->request = r;
    b->media = ctx;
    b->agent = &ctx->tenant->agent;

    ngx_queue_init(&b->tools);

    b->early = ngx_alloc(NGX_HTTP_VOXANNE_BRIDGE_EARLY, r->connection->log);
    if (b->early == NULL) {
        return NGX_ERROR;
    }

    b->wsc = ngx_http_voxanne_wsc_open(vlcf->realtime,
                                       &ngx_http_voxanne_bridge_handlers, b,
                                       r->connection->log);
    if (b->wsc == NULL) {
        ngx_free(b->early);
        return NGX_ERROR;
    }

    ctx->bridge = b;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "voxanne: realtime: call %V: connecting to %V",
                  &ctx->call_sid, &vlcf->realtime->url);

    ngx_http_voxanne_bridge_context(b);

    return NGX_OK;
}


/*
 * A returning caller: when the agent has find_customer and there is a
 * database, the same lookup runs while the provider connects (the number
 * is the call's, from the session record).  A known customer's line goes to the
 * model as a system message before the greeting, which waits for it at
 * most NGX_HTTP_VOXANNE_BRIDGE_CONTEXT after the provider is open; a new
 * caller, a refusal or a failure send nothing.  The result is never logged.
 */

static void
ngx_http_voxanne_bridge_context(ngx_http_voxanne_bridge_t *b)
{
    ngx_int_t                        rc;
    ngx_str_t                        name, id;
    ngx_http_voxanne_bridge_tool_t  *bt;
    ngx_http_voxanne_main_conf_t    *vmcf;

    ngx_str_set(&name, "find_customer");

    vmcf = ngx_http_get_module_main_conf(b->request, ngx_http_voxanne_module);

    if (vmcf->db.pool == NULL || !ngx_http_voxanne_agent_tool(b->agent, &name))
    {
        return;
    }

    ngx_str_set(&id, "caller-context");

    bt = ngx_http_voxanne_bridge_tool_create(b, &name, &id);
    if (bt == NULL) {
        return;
    }

    bt->tc.done = ngx_http_voxanne_bridge_context_done;
    bt->tc.arguments = json_object();

    /* the number from the session record: the calls row may come later */

    bt->tc.caller.data = ngx_pnalloc(bt->tc.pool, NGX_HTTP_VOXANNE_PARTY_MAX);

    if (bt->tc.caller.data) {
        bt->tc.caller.len = ngx_http_voxanne_calls_number(vmcf->calls,
                                                  &b->media->tenant->name,
                                                  &b->media->call_sid, 0,
                                                  bt->tc.caller.data);
    }

    rc = ngx_http_voxanne_tool_run(&bt->tc);

    if (rc == NGX_AGAIN) {
        b->context = bt;
        return;
    }

    json_decref(bt->tc.arguments);
    ngx_destroy_pool(bt->tc.pool);
}


static void
ngx_http_voxanne_bridge_context_done(ngx_http_voxanne_tool_call_t *tc)
{
    ngx_http_voxanne_bridge_tool_t *bt = (ngx_http_voxanne_bridge_tool_t *) tc;

    ngx_http_voxanne_bridge_t  *b;

    b = bt->bridge;

    if (b) {
        b->context = NULL;

        if (!tc->failed
            && (tc->result.len < sizeof(NGX_HTTP_VOXANNE_BRIDGE_NEW_CALLER) - 1
                || ngx_strncmp(tc->result.data,
                               NGX_HTTP_VOXANNE_BRIDGE_NEW_CALLER,
                               sizeof(NGX_HTTP_VOXANNE_BRIDGE_NEW_CALLER) - 1)
                   != 0))
        {
            ngx_http_voxanne_bridge_context_item(b, &tc->result);
        }
    }

    json_decref(tc->arguments);
    ngx_destroy_pool(tc->pool);

    if (b == NULL) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, b->request->connection->log, 0,
                  "voxanne: realtime: call %V: caller context %s",
                  &b->media->call_sid,
                  b->known.len ? "found" : "not found");

    if (b->greeting.timer_set) {
        (void) ngx_http_voxanne_bridge_greet(b);
    }
}


/* the context item, JSON-escaped, in the request's pool */

static void
ngx_http_voxanne_bridge_context_item(ngx_http_voxanne_bridge_t *b,
    ngx_str_t *result)
{
    char        *text;
    json_t      *item;
    u_char      *p;
    size_t       len;
    ngx_str_t    prefix;

    ngx_str_set(&prefix, "Context: the caller is a returning customer: ");

    p = ngx_pnalloc(b->request->pool, prefix.len + result->len);
    if (p == NULL) {
        return;
    }

    len = ngx_cpymem(ngx_cpymem(p, prefix.data, prefix.len), result->data,
                     result->len)
          - p;

    item = json_pack("{s:s, s:{s:s, s:s, s:[{s:s, s:s%}]}}",
                     "type", "conversation.item.create",
                     "item", "type", "message", "role", "system",
                     "content", "type", "input_text", "text", p, len);

    text = item ? json_dumps(item, JSON_COMPACT) : NULL;

    json_decref(item);

    if (text == NULL) {
        return;
    }

    len = ngx_strlen(text);

    b->known.data = ngx_pnalloc(b->request->pool, len);

    if (b->known.data) {
        ngx_memcpy(b->known.data, text, len);
        b->known.len = len;
    }

    free(text);
}


static void
ngx_http_voxanne_bridge_greeting_timeout(ngx_event_t *ev)
{
    ngx_http_voxanne_bridge_t *b = ev->data;

    ngx_log_error(NGX_LOG_INFO, b->request->connection->log, 0,
                  "voxanne: realtime: call %V: caller context too late, "
                  "the greeting goes on", &b->media->call_sid);

    (void) ngx_http_voxanne_bridge_greet(b);
}


/* the context if it came, then the greeting's response.create */

static ngx_int_t
ngx_http_voxanne_bridge_greet(ngx_http_voxanne_bridge_t *b)
{
    if (b->greeting.timer_set) {
        ngx_del_timer(&b->greeting);
    }

    if (b->state != NGX_HTTP_VOXANNE_BRIDGE_OPEN) {
        return NGX_ERROR;
    }

    if (b->known.len && ngx_http_voxanne_bridge_send(b, &b->known) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_voxanne_bridge_send(b, &b->agent->response);
}


/* the caller's audio: to the provider, or kept until it is open */

void
ngx_http_voxanne_bridge_media(ngx_http_voxanne_bridge_t *b,
    ngx_str_t *payload)
{
    if (b->state >= NGX_HTTP_VOXANNE_BRIDGE_FAILED) {
        return;
    }

    if (b->state == NGX_HTTP_VOXANNE_BRIDGE_OPEN && b->early == NULL) {
        (void) ngx_http_voxanne_bridge_append(b, payload);
        return;
    }

    ngx_http_voxanne_bridge_early(b, payload);
}


static ngx_int_t
ngx_http_voxanne_bridge_append(ngx_http_voxanne_bridge_t *b,
    ngx_str_t *payload)
{
    u_char  *p, *last;
    size_t   room;

    p = ngx_http_voxanne_wsc_buffer(b->wsc, &room);

    if (payload->len + NGX_HTTP_VOXANNE_BRIDGE_FRAME > room) {
        ngx_http_voxanne_bridge_fail(b, NGX_HTTP_VOXANNE_WSC_PROTOCOL,
                                     "a media payload of %uz bytes is too "
                                     "large for the provider's output",
                                     payload->len);
        return NGX_ERROR;
    }

    last = ngx_sprintf(p, "{\"type\":\"input_audio_buffer.append\","
                          "\"audio\":\"%V\"}", payload);

    if (ngx_http_voxanne_wsc_send(b->wsc, p, last - p) != NGX_OK) {
        ngx_http_voxanne_bridge_fail(b, NGX_HTTP_VOXANNE_WSC_DROPPED,
                                     "the append could not be queued");
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Before the provider is open (and while what was kept is sent) payloads
 * queue in a bounded buffer, each after its length; when it is full the
 * oldest go first, counted and logged.
 */

static void
ngx_http_voxanne_bridge_early(ngx_http_voxanne_bridge_t *b,
    ngx_str_t *payload)
{
    size_t    need;
    uint32_t  len;

    need = sizeof(uint32_t) + payload->len;

    if (need > NGX_HTTP_VOXANNE_BRIDGE_EARLY) {
        b->dropped++;
        return;
    }

    while (NGX_HTTP_VOXANNE_BRIDGE_EARLY - (b->early_last - b->early_pos)
           < need)
    {
        ngx_memcpy(&len, b->early + b->early_pos, sizeof(uint32_t));
        b->early_pos += sizeof(uint32_t) + len;

        if (b->dropped++ == 0) {
            ngx_log_error(NGX_LOG_NOTICE, b->request->connection->log, 0,
                          "voxanne: realtime: call %V: the provider is not "
                          "open yet, the oldest caller audio is dropped",
                          &b->media->call_sid);
        }
    }

    if (NGX_HTTP_VOXANNE_BRIDGE_EARLY - b->early_last < need) {
        ngx_memmove(b->early, b->early + b->early_pos,
                    b->early_last - b->early_pos);
        b->early_last -= b->early_pos;
        b->early_pos = 0;
    }

    len = (uint32_t) payload->len;

    ngx_memcpy(b->early + b->early_last, &len, sizeof(uint32_t));
    ngx_memcpy(b->early + b->early_last + sizeof(uint32_t), payload->data,
               payload->len);

    b->early_last += need;
}


/* what was kept goes out in order, as far as the output takes it */

static void
ngx_http_voxanne_bridge_flush(ngx_http_voxanne_bridge_t *b)
{
    uint32_t   len;
    ngx_str_t  payload;

    while (b->early_pos < b->early_last) {

        if (!ngx_http_voxanne_wsc_writable(b->wsc)) {
            return;
        }

        ngx_memcpy(&len, b->early + b->early_pos, sizeof(uint32_t));

        payload.data = b->early + b->early_pos + sizeof(uint32_t);
        payload.len = len;

        b->early_pos += sizeof(uint32_t) + len;

        if (ngx_http_voxanne_bridge_append(b, &payload) != NGX_OK) {
            return;
        }
    }

    ngx_free(b->early);
    b->early = NULL;

    ngx_http_voxanne_bridge_count_dropped(b);
}


static void
ngx_http_voxanne_bridge_count_dropped(ngx_http_voxanne_bridge_t *b)
{
    ngx_http_voxanne_main_conf_t  *vmcf;

    if (b->dropped == 0) {
        return;
    }

    vmcf = ngx_http_get_module_main_conf(b->request, ngx_http_voxanne_module);

    ngx_log_error(NGX_LOG_NOTICE, b->request->connection->log, 0,
                  "voxanne: realtime: call %V: %ui media messages dropped "
                  "before the provider opened", &b->media->call_sid,
                  b->dropped);

    ngx_http_voxanne_calls_count(vmcf->calls, NGX_HTTP_VOXANNE_RT_DROPPED,
                                 b->dropped);
    b->dropped = 0;
}


ngx_uint_t
ngx_http_voxanne_bridge_writable(ngx_http_voxanne_bridge_t *b)
{
    if (b->state != NGX_HTTP_VOXANNE_BRIDGE_OPEN) {
        return 1;
    }

    return b->early == NULL && ngx_http_voxanne_wsc_writable(b->wsc);
}


/*
 * Twilio played the audio before a mark (media.c counted it): how much of
 * the item was heard, and whether a goodbye has played out
 */

void
ngx_http_voxanne_bridge_mark(ngx_http_voxanne_bridge_t *b, ngx_str_t *name)
{
    u_char      *colon;
    ngx_int_t    item, ms;

    ngx_http_voxanne_bridge_said_goodbye(b);

    colon = ngx_strlchr(name->data, name->data + name->len, ':');

    if (colon == NULL) {
        return;
    }

    item = ngx_atoi(name->data, colon - name->data);
    ms = ngx_atoi(colon + 1, name->data + name->len - colon - 1);

    if (item == NGX_ERROR || ms == NGX_ERROR
        || (ngx_uint_t) item != b->items || b->item_len == 0)
    {
        return;
    }

    b->played = ngx_max(b->played, (uint64_t) ms);
}


/*
 * A key the caller pressed goes to the model as what the caller said,
 * "The caller pressed 3.", and the model answers it.  Keys before the
 * provider is open are not kept: the greeting comes first.
 */

void
ngx_http_voxanne_bridge_dtmf(ngx_http_voxanne_bridge_t *b, ngx_str_t *digit)
{
    u_char     buf[NGX_HTTP_VOXANNE_BRIDGE_FRAME];
    ngx_str_t  text;

    if (b->state != NGX_HTTP_VOXANNE_BRIDGE_OPEN
        || digit->len != 1
        || ngx_strlchr((u_char *) "0123456789*#ABCD",
                       (u_char *) "0123456789*#ABCD" + 16, digit->data[0])
           == NULL)
    {
        return;
    }

    text.data = buf;
    text.len = ngx_sprintf(buf, "{\"type\":\"conversation.item.create\","
                                "\"item\":{\"type\":\"message\",\"role\":"
                                "\"user\",\"content\":[{\"type\":"
                                "\"input_text\",\"text\":\"The caller "
                                "pressed %c.\"}]}}", digit->data[0])
               - buf;

    if (ngx_http_voxanne_bridge_send(b, &text) == NGX_OK) {
        ngx_http_voxanne_bridge_respond(b);
    }
}


void
ngx_http_voxanne_bridge_drained(ngx_http_voxanne_bridge_t *b)
{
    if (b->wsc) {
        ngx_http_voxanne_wsc_resume(b->wsc);
    }
}


void
ngx_http_voxanne_bridge_end(ngx_http_voxanne_bridge_t *b)
{
    ngx_queue_t                     *q;
    ngx_http_voxanne_bridge_tool_t  *bt;

    if (b->goodbye.timer_set) {
        ngx_del_timer(&b->goodbye);
    }

    if (b->greeting.timer_set) {
        ngx_del_timer(&b->greeting);
    }

    /* a tool still running finishes on its own, and frees its pool */

    if (b->context) {
        b->context->bridge = NULL;
        b->context = NULL;
    }

    while (!ngx_queue_empty(&b->tools)) {
        q = ngx_queue_head(&b->tools);
        ngx_queue_remove(q);

        bt = ngx_queue_data(q, ngx_http_voxanne_bridge_tool_t, queue);
        bt->bridge = NULL;
    }

    if (b->wsc) {
        ngx_http_voxanne_wsc_close(b->wsc, NGX_HTTP_VOXANNE_WS_NORMAL);
        b->wsc = NULL;
    }

    ngx_free(b->early);
    b->early = NULL;

    ngx_http_voxanne_bridge_count_dropped(b);

    ngx_log_error(NGX_LOG_INFO, b->request->connection->log, 0,
                  "voxanne: realtime: call %V: %ui audio deltas, %ui "
                  "barge-ins, %ui truncations", &b->media->call_sid,
                  b->deltas, b->barge_ins, b->truncations);
}


static void
ngx_http_voxanne_bridge_opened(void *data)
{
    ngx_http_voxanne_bridge_t *b = data;

    ngx_log_error(NGX_LOG_INFO, b->request->connection->log, 0,
                  "voxanne: realtime: call %V: provider open",
                  &b->media->call_sid);

    b->state = NGX_HTTP_VOXANNE_BRIDGE_OPEN;

    if (ngx_http_voxanne_bridge_send(b, &b->agent->session) != NGX_OK) {
        return;
    }

    /* the greeting's response, or one held for the caller's context */

    b->responding = 1;

    if (b->context) {
        b->greeting.handler = ngx_http_voxanne_bridge_greeting_timeout;
        b->greeting.data = b;
        b->greeting.log = b->request->connection->log;

        ngx_add_timer(&b->greeting, NGX_HTTP_VOXANNE_BRIDGE_CONTEXT);

    } else if (ngx_http_voxanne_bridge_greet(b) != NGX_OK) {
        return;
    }

    ngx_http_voxanne_bridge_provider_drained(b);
}


/* the provider's output has room: what was kept, then Twilio's reading */

static void
ngx_http_voxanne_bridge_provider_drained(void *data)
{
    ngx_http_voxanne_bridge_t *b = data;

    ngx_http_voxanne_media_ctx_t  *ctx;

    if (b->early) {
        ngx_http_voxanne_bridge_flush(b);

        if (b->early) {
            return;
        }
    }

    ctx = b->media;

    if (ctx->paused) {
        ctx->paused = 0;
        ngx_post_event(b->request->connection->read, &ngx_posted_events);
    }
}


static void
ngx_http_voxanne_bridge_closed(void *data, ngx_http_voxanne_wsc_end_t *end)
{
    ngx_http_voxanne_bridge_t *b = data;

    /* the detail names the HTTP status of a refusal, the code of a close */

    b->wsc = NULL;

    ngx_http_voxanne_bridge_fail(b, end->cause, "%V", &end->detail);
}


/*
 * A provider event.  NGX_AGAIN when Twilio's output has no room for what
 * it becomes: the client keeps it for later.
 */

static ngx_int_t
ngx_http_voxanne_bridge_message(void *data, u_char *text, size_t len)
{
    ngx_http_voxanne_bridge_t *b = data;

    u_char                        *p, *last;
    ngx_int_t                      rc;
    ngx_http_voxanne_rt_msg_t      msg;
    ngx_http_voxanne_main_conf_t  *vmcf;
    u_char                         clean[NGX_HTTP_VOXANNE_RT_TEXT_MAX];

    rc = ngx_http_voxanne_rt_msg_parse(&msg, text, len);

    if (rc != NGX_OK) {
        ngx_http_voxanne_bridge_fail(b, NGX_HTTP_VOXANNE_WSC_PROTOCOL,
                                     "an invalid event: %s", msg.error);
        goto done;
    }

    if (b->media->state == NGX_HTTP_VOXANNE_MEDIA_CLOSING) {
        goto done;
    }

    switch (msg.event) {

    case NGX_HTTP_VOXANNE_RT_AUDIO_DELTA:
        rc = ngx_http_voxanne_bridge_delta(b, &msg);
        break;

    case NGX_HTTP_VOXANNE_RT_AUDIO_DONE:

        if (msg.item_id.len == b->item_len
            && ngx_strncmp(msg.item_id.data, b->item, b->item_len) == 0)
        {
            b->item_done = 1;
        }

        break;

    case NGX_HTTP_VOXANNE_RT_SPEECH_STARTED:
        rc = ngx_http_voxanne_bridge_barge_in(b);
        break;

    case NGX_HTTP_VOXANNE_RT_RESPONSE_CREATED:
        b->responding = 1;
        break;

    case NGX_HTTP_VOXANNE_RT_RESPONSE_DONE:
        b->responding = 0;

        if (b->respond) {
            b->respond = 0;
            ngx_http_voxanne_bridge_respond(b);
        }

        ngx_http_voxanne_bridge_said_goodbye(b);
        break;

    case NGX_HTTP_VOXANNE_RT_FUNCTION_CALL:
        ngx_http_voxanne_bridge_function(b, &msg);
        break;

    case NGX_HTTP_VOXANNE_RT_CALLER_SAID:
    case NGX_HTTP_VOXANNE_RT_AGENT_SAID:

        /* numbered as they complete; the text is never logged */

        ngx_http_voxanne_store_turn(b->request, b->media->tenant,
                                    &b->media->call_sid, b->turns++,
                                    msg.event == NGX_HTTP_VOXANNE_RT_CALLER_SAID
                                    ? "caller" : "agent",
                                    &msg.transcript);
        break;

    case NGX_HTTP_VOXANNE_RT_ERROR:

        /* the message is the provider's text: printable bytes only */

        last = clean;

        for (p = msg.error_message.data;
             p < msg.error_message.data + msg.error_message.len;
             p++)
        {
            *last++ = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
        }

        if (msg.fatal) {
            ngx_http_voxanne_bridge_fail(b, NGX_HTTP_VOXANNE_BRIDGE_ERROR,
                                         "an error event: type \"%V\", code "
                                         "\"%V\", event \"%V\": %*s",
                                         &msg.error_type, &msg.error_code,
                                         &msg.error_event, last - clean,
                                         clean);
            break;
        }

        /* about one event of ours, or one the session survives */

        ngx_log_error(NGX_LOG_WARN, b->request->connection->log, 0,
                      "voxanne: realtime: call %V: an error event, the call "
                      "goes on: type \"%V\", code \"%V\", event \"%V\": "
                      "%*s", &b->media->call_sid, &msg.error_type,
                      &msg.error_code, &msg.error_event, last - clean, clean);

        vmcf = ngx_http_get_module_main_conf(b->request,
                                             ngx_http_voxanne_module);

        ngx_http_voxanne_calls_count(vmcf->calls,
                                     NGX_HTTP_VOXANNE_RT_RECOVERED, 1);
        break;

    default:
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, b->request->connection->log, 0,
                       "voxanne: realtime: event \"%V\"", &msg.type);
    }

done:

    ngx_http_voxanne_rt_msg_free(&msg);

    return rc;
}


/*
 * An audio delta to Twilio, in pieces that fit its output (a piece is a
 * multiple of 4 characters, whole bytes of audio); then a mark.
 */

static ngx_int_t
ngx_http_voxanne_bridge_delta(ngx_http_voxanne_bridge_t *b,
    ngx_http_voxanne_rt_msg_t *msg)
{
    u_char                        *p, *last;
    size_t                         n, pad;
    ngx_str_t                      piece;
    ngx_http_voxanne_media_ctx_t  *ctx;

    ctx = b->media;

    if (msg->item_id.len == b->muted_len
        && ngx_strncmp(msg->item_id.data, b->muted, b->muted_len) == 0)
    {
        return NGX_OK;
    }

    if (msg->item_id.len != b->item_len
        || ngx_strncmp(msg->item_id.data, b->item, b->item_len) != 0)
    {
        ngx_memcpy(b->item, msg->item_id.data, msg->item_id.len);
        b->item_len = msg->item_id.len;
        b->items++;
        b->sent = 0;
        b->played = 0;
        b->item_done = 0;
    }

    while (b->delta_off < msg->delta.len) {

        n = ngx_min(msg->delta.len - b->delta_off,
                    NGX_HTTP_VOXANNE_BRIDGE_PIECE);

        if ((size_t) (ctx->out.end - ctx->out.last)
            < n + 2 * (NGX_HTTP_VOXANNE_WS_HEADER_MAX
                       + NGX_HTTP_VOXANNE_BRIDGE_FRAME))
        {
            ngx_http_voxanne_bridge_twilio(b);
            return NGX_AGAIN;
        }

        piece.data = msg->delta.data + b->delta_off;
        piece.len = n;

        p = ctx->out.last + NGX_HTTP_VOXANNE_WS_HEADER_MAX;
        last = ngx_sprintf(p, "{\"event\":\"media\",\"streamSid\":\"%V\","
                              "\"media\":{\"payload\":\"%V\"}}",
                           &ctx->stream_sid, &piece);

        (void) ngx_http_voxanne_media_send(ctx, NGX_HTTP_VOXANNE_WS_TEXT, p,
                                           last - p);

        for (pad = 0; pad < 2 && pad < n && piece.data[n - 1 - pad] == '=';
             pad++)
        {
            /* void */
        }

        b->sent += n / 4 * 3 - pad;
        b->delta_off += n;
    }

    b->delta_off = 0;
    b->deltas++;

    p = ctx->out.last + NGX_HTTP_VOXANNE_WS_HEADER_MAX;
    last = ngx_sprintf(p, "{\"event\":\"mark\",\"streamSid\":\"%V\","
                          "\"mark\":{\"name\":\"%ui:%uL\"}}",
                       &ctx->stream_sid, b->items, b->sent / 8);

    if (ngx_http_voxanne_media_send(ctx, NGX_HTTP_VOXANNE_WS_TEXT, p,
                                    last - p)
        == NGX_OK)
    {
        ctx->stats.marks++;
    }

    ngx_http_voxanne_bridge_twilio(b);

    return NGX_OK;
}


/*
 * The caller speaks: Twilio drops what it has not played, the item is cut
 * where the caller stopped hearing it (never past what was sent), and the
 * rest of it is not forwarded.  An item whose audio has all come and been
 * played is left whole.  A mark echoed by the clear names the item cut,
 * so it does not count as played.
 */

static ngx_int_t
ngx_http_voxanne_bridge_barge_in(ngx_http_voxanne_bridge_t *b)
{
    u_char                        *p, *last;
    uint64_t                       sent, played;
    ngx_str_t                      text, item;
    ngx_http_voxanne_media_ctx_t  *ctx;
    u_char                         truncate[NGX_HTTP_VOXANNE_BRIDGE_FRAME];

    ctx = b->media;

    if ((size_t) (ctx->out.end - ctx->out.last)
        < NGX_HTTP_VOXANNE_WS_HEADER_MAX + NGX_HTTP_VOXANNE_BRIDGE_FRAME)
    {
        ngx_http_voxanne_bridge_twilio(b);
        return NGX_AGAIN;
    }

    p = ctx->out.last + NGX_HTTP_VOXANNE_WS_HEADER_MAX;
    last = ngx_sprintf(p, "{\"event\":\"clear\",\"streamSid\":\"%V\"}",
                       &ctx->stream_sid);

    (void) ngx_http_voxanne_media_send(ctx, NGX_HTTP_VOXANNE_WS_TEXT, p,
                                       last - p);

    ngx_http_voxanne_bridge_twilio(b);

    b->barge_ins++;

    if (b->item_len == 0) {
        return NGX_OK;
    }

    item.data = b->item;
    item.len = b->item_len;
    sent = b->sent / 8;
    played = ngx_min(b->played, sent);

    ngx_log_error(NGX_LOG_INFO, b->request->connection->log, 0,
                  "voxanne: realtime: call %V: barge-in, item %V played "
                  "%uL of %uL ms", &ctx->call_sid, &item, played, sent);

    if (!b->item_done || played < sent) {
        text.data = truncate;
        text.len = ngx_sprintf(truncate,
                               "{\"type\":\"conversation.item.truncate\","
                               "\"item_id\":\"%V\",\"content_index\":0,"
                               "\"audio_end_ms\":%uL}", &item, played)
                   - truncate;

        if (ngx_http_voxanne_bridge_send(b, &text) != NGX_OK) {
            return NGX_OK;
        }

        b->truncations++;
    }

    ngx_memcpy(b->muted, b->item, b->item_len);
    b->muted_len = b->item_len;
    b->item_len = 0;

    return NGX_OK;
}


/*
 * A function call: the tools the tenant gave the agent run through
 * ngx_http_voxanne_tools.c, each in a pool of its own; a tool that waits
 * (NGX_AGAIN) keeps it until its result comes, and outlives the call if it
 * must.  The result goes back as a function_call_output, then a
 * response.create, so that the model speaks again.
 */

static void
ngx_http_voxanne_bridge_function(ngx_http_voxanne_bridge_t *b,
    ngx_http_voxanne_rt_msg_t *msg)
{
    ngx_int_t                         rc;
    ngx_uint_t                        enabled;
    ngx_http_voxanne_bridge_tool_t   *bt;

    enabled = ngx_http_voxanne_agent_tool(b->agent, &msg->name);

    ngx_log_error(NGX_LOG_INFO, b->request->connection->log, 0,
                  "voxanne: realtime: call %V: function call \"%V\"%s",
                  &b->media->call_sid, &msg->name,
                  enabled ? "" : ", not a tool of the tenant's");

    bt = ngx_http_voxanne_bridge_tool_create(b, &msg->name, &msg->call_id);
    if (bt == NULL) {
        return;
    }

    bt->tc.done = ngx_http_voxanne_bridge_tool_done;

    if (!enabled) {
        ngx_str_set(&bt->tc.result,
                    "This tool is not available on this line.");
        bt->tc.failed = 1;
        rc = NGX_OK;

    } else {
        bt->tc.arguments = json_loadb((char *) msg->arguments.data,
                                      msg->arguments.len, 0, NULL);

        if (!json_is_object(bt->tc.arguments)) {
            json_decref(bt->tc.arguments);
            bt->tc.arguments = json_object();
        }

        rc = ngx_http_voxanne_tool_run(&bt->tc);
    }

    if (rc == NGX_AGAIN) {
        ngx_queue_insert_tail(&b->tools, &bt->queue);
        return;
    }

    if (rc != NGX_OK) {
        ngx_str_set(&bt->tc.result, "The tool failed.");
        bt->tc.failed = 1;
    }

    ngx_http_voxanne_bridge_tool_output(b, bt);
}


/* a tool call of the bridge's, in a pool of its own */

static ngx_http_voxanne_bridge_tool_t *
ngx_http_voxanne_bridge_tool_create(ngx_http_voxanne_bridge_t *b,
    ngx_str_t *name, ngx_str_t *call_id)
{
    ngx_pool_t                      *pool;
    ngx_http_voxanne_bridge_tool_t  *bt;

    pool = ngx_create_pool(NGX_HTTP_VOXANNE_BRIDGE_TOOL_POOL,
                           ngx_cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    bt = ngx_pcalloc(pool, sizeof(ngx_http_voxanne_bridge_tool_t));
    if (bt == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    bt->bridge = b;
    bt->call_id.len = call_id->len;
    bt->call_id.data = ngx_pstrdup(pool, call_id);

    bt->tc.tenant = b->media->tenant;
    bt->tc.name.len = name->len;
    bt->tc.name.data = ngx_pstrdup(pool, name);
    bt->tc.channel = NGX_HTTP_VOXANNE_TOOL_TWILIO;
    bt->tc.call_id.len = b->media->call_sid.len;
    bt->tc.call_id.data = ngx_pstrdup(pool, &b->media->call_sid);
    bt->tc.tool_call_id = bt->call_id;
    bt->tc.pool = pool;

    /* the call's log, without the request's context: the tool may outlive */

    bt->tc.log = ngx_palloc(pool, sizeof(ngx_log_t));

    if (bt->call_id.data == NULL || bt->tc.name.data == NULL
        || bt->tc.call_id.data == NULL || bt->tc.log == NULL)
    {
        ngx_destroy_pool(pool);
        return NULL;
    }

    *bt->tc.log = *b->request->connection->log;
    bt->tc.log->handler = NULL;
    bt->tc.log->data = NULL;
    pool->log = bt->tc.log;

    return bt;
}


static void
ngx_http_voxanne_bridge_tool_done(ngx_http_voxanne_tool_call_t *tc)
{
    ngx_http_voxanne_bridge_tool_t *bt = (ngx_http_voxanne_bridge_tool_t *) tc;

    if (bt->bridge == NULL) {
        json_decref(tc->arguments);
        ngx_destroy_pool(tc->pool);
        return;
    }

    ngx_queue_remove(&bt->queue);

    ngx_http_voxanne_bridge_tool_output(bt->bridge, bt);
}


/* the result to the model (JSON-escaped: it is the tool's text), and free */

static void
ngx_http_voxanne_bridge_tool_output(ngx_http_voxanne_bridge_t *b,
    ngx_http_voxanne_bridge_tool_t *bt)
{
    char       *text;
    json_t     *item;
    ngx_int_t   rc;
    ngx_str_t   s;

    json_decref(bt->tc.arguments);

    rc = (b->state == NGX_HTTP_VOXANNE_BRIDGE_OPEN)
         ? ngx_http_voxanne_bridge_action(b, &bt->tc.action) : NGX_OK;

    item = json_pack("{s:s, s:{s:s, s:s%, s:s%}}",
                     "type", "conversation.item.create",
                     "item", "type", "function_call_output",
                     "call_id", bt->call_id.data, bt->call_id.len,
                     "output", bt->tc.result.data, bt->tc.result.len);

    text = item ? json_dumps(item, JSON_COMPACT) : NULL;

    json_decref(item);
    ngx_destroy_pool(bt->tc.pool);

    if (b->state != NGX_HTTP_VOXANNE_BRIDGE_OPEN) {
        free(text);
        return;
    }

    if (text == NULL) {
        ngx_http_voxanne_bridge_fail(b, NGX_HTTP_VOXANNE_WSC_PROTOCOL,
                                     "a tool's result is not UTF-8");
        return;
    }

    s.data = (u_char *) text;
    s.len = ngx_strlen(text);

    if (ngx_http_voxanne_bridge_send(b, &s) == NGX_OK) {
        ngx_http_voxanne_bridge_respond(b);
    }

    free(text);

    if (rc != NGX_OK) {
        ngx_http_voxanne_bridge_fail(b, NGX_HTTP_VOXANNE_WSC_PROTOCOL,
                                     "no memory for the call's end");
    }
}


/*
 * end_call, transfer_to_human: what the tool asked is kept in the
 * request's pool, and the call ends once the goodbye the model is asked
 * for has played (said_goodbye()), or after NGX_HTTP_VOXANNE_BRIDGE_GOODBYE
 * at most.  The first such tool call of a call decides.
 */

static ngx_int_t
ngx_http_voxanne_bridge_action(ngx_http_voxanne_bridge_t *b,
    ngx_http_voxanne_tool_action_t *action)
{
    ngx_pool_t  *pool;

    if (action->type == NGX_HTTP_VOXANNE_TOOL_ACT_NONE || b->ending) {
        return NGX_OK;
    }

    pool = b->request->pool;

    b->transfer.len = action->number.len;
    b->transfer.data = ngx_pstrdup(pool, &action->number);

    b->reason.len = action->reason.len;
    b->reason.data = ngx_pnalloc(pool, action->reason.len + 1);

    if ((b->transfer.len && b->transfer.data == NULL)
        || b->reason.data == NULL)
    {
        return NGX_ERROR;
    }

    ngx_memcpy(b->reason.data, action->reason.data, action->reason.len);
    b->reason.data[b->reason.len] = '\0';

    b->ending = action->type;

    b->goodbye.handler = ngx_http_voxanne_bridge_goodbye_timeout;
    b->goodbye.data = b;
    b->goodbye.log = b->request->connection->log;

    ngx_add_timer(&b->goodbye, NGX_HTTP_VOXANNE_BRIDGE_GOODBYE);

    ngx_log_error(NGX_LOG_INFO, b->request->connection->log, 0,
                  "voxanne: realtime: call %V: the agent %s after its "
                  "goodbye", &b->media->call_sid,
                  b->ending == NGX_HTTP_VOXANNE_TOOL_ACT_END
                  ? "ends the call" : "transfers the call");

    return NGX_OK;
}


/*
 * The goodbye has played when no response is on or asked for and Twilio
 * has echoed every mark sent (a clear echoes the rest at once).
 */

static void
ngx_http_voxanne_bridge_said_goodbye(ngx_http_voxanne_bridge_t *b)
{
    ngx_http_voxanne_media_ctx_t  *ctx;

    ctx = b->media;

    if (b->ending
        && b->state == NGX_HTTP_VOXANNE_BRIDGE_OPEN
        && !b->responding && !b->respond
        && ctx->stats.played >= ctx->stats.marks)
    {
        ngx_http_voxanne_bridge_hang_up(b);
    }
}


static void
ngx_http_voxanne_bridge_goodbye_timeout(ngx_event_t *ev)
{
    ngx_http_voxanne_bridge_t *b = ev->data;

    ngx_log_error(NGX_LOG_NOTICE, ev->log, 0,
                  "voxanne: realtime: call %V: the goodbye did not play out "
                  "in %M ms, the call ends", &b->media->call_sid,
                  (ngx_msec_t) NGX_HTTP_VOXANNE_BRIDGE_GOODBYE);

    ngx_http_voxanne_bridge_hang_up(b);
}


/*
 * The agent's end of the call: a transfer is recorded in the session
 * table for the stream-ended route, each is stored as the call's event,
 * and the Twilio stream closes normally.
 */

static void
ngx_http_voxanne_bridge_hang_up(ngx_http_voxanne_bridge_t *b)
{
    ngx_http_voxanne_media_ctx_t  *ctx;
    ngx_http_voxanne_main_conf_t  *vmcf;

    if (b->goodbye.timer_set) {
        ngx_del_timer(&b->goodbye);
    }

    ctx = b->media;
    vmcf = ngx_http_get_module_main_conf(b->request, ngx_http_voxanne_module);

    if (b->ending == NGX_HTTP_VOXANNE_TOOL_ACT_TRANSFER) {

        if (ngx_http_voxanne_calls_transfer(vmcf->calls, &ctx->tenant->name,
                                            &ctx->call_sid, &b->transfer)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_WARN, b->request->connection->log, 0,
                          "voxanne: realtime: call %V is not in the session "
                          "table, its transfer is lost", &ctx->call_sid);
        }

        ngx_http_voxanne_store_event(b->request, ctx->tenant, &ctx->call_sid,
                                     "transfer", "transfer", "{ss%ss%}",
                                     "to", b->transfer.data, b->transfer.len,
                                     "reason", b->reason.data,
                                     b->reason.len);

        ngx_log_error(NGX_LOG_INFO, b->request->connection->log, 0,
                      "voxanne: realtime: call %V: transferred to %V",
                      &ctx->call_sid, &b->transfer);

    } else {
        ngx_http_voxanne_store_event(b->request, ctx->tenant, &ctx->call_sid,
                                     "end", "end", "{ss%}",
                                     "reason", b->reason.data,
                                     b->reason.len);

        ngx_log_error(NGX_LOG_INFO, b->request->connection->log, 0,
                      "voxanne: realtime: call %V: ended by the agent",
                      &ctx->call_sid);
    }

    b->state = NGX_HTTP_VOXANNE_BRIDGE_ENDED;

    ngx_http_voxanne_bridge_close(b, NGX_HTTP_VOXANNE_WS_NORMAL, "");
}


/*
 * The model is asked to speak: now, or once the response in progress is
 * done (a second one would be refused with an error event).
 */

static void
ngx_http_voxanne_bridge_respond(ngx_http_voxanne_bridge_t *b)
{
    ngx_str_t  text;

    if (b->responding) {
        b->respond = 1;
        return;
    }

    ngx_str_set(&text, "{\"type\":\"response.create\"}");

    if (ngx_http_voxanne_bridge_send(b, &text) == NGX_OK) {
        b->responding = 1;
    }
}


static ngx_int_t
ngx_http_voxanne_bridge_send(ngx_http_voxanne_bridge_t *b, ngx_str_t *text)
{
    if (ngx_http_voxanne_wsc_send(b->wsc, text->data, text->len) == NGX_OK) {
        return NGX_OK;
    }

    ngx_http_voxanne_bridge_fail(b, NGX_HTTP_VOXANNE_WSC_DROPPED,
                                 "an event of %uz bytes could not be queued",
                                 text->len);

    return NGX_ERROR;
}


/*
 * The provider failed: logged once with its cause (never the key),
 * counted, and the Twilio stream closes as failed, which gives the call
 * the tenant's fallback on the stream-ended route.
 */

static void
ngx_http_voxanne_bridge_fail(ngx_http_voxanne_bridge_t *b, ngx_uint_t cause,
    const char *fmt, ...)
{
    u_char                        *p;
    va_list                        args;
    ngx_http_voxanne_media_ctx_t  *ctx;
    ngx_http_voxanne_main_conf_t  *vmcf;
    u_char                         detail[NGX_MAX_ERROR_STR / 4];

    if (b->state >= NGX_HTTP_VOXANNE_BRIDGE_FAILED) {
        return;
    }

    b->state = NGX_HTTP_VOXANNE_BRIDGE_FAILED;
    ctx = b->media;

    va_start(args, fmt);
    p = ngx_vslprintf(detail, detail + sizeof(detail), fmt, args);
    va_end(args);

    ngx_log_error(NGX_LOG_ERR, b->request->connection->log, 0,
                  "voxanne: realtime: call %V tenant \"%V\": provider "
                  "failure (%V): %*s", &ctx->call_sid, &ctx->tenant->name,
                  &ngx_http_voxanne_bridge_causes[cause], p - detail, detail);

    vmcf = ngx_http_get_module_main_conf(b->request, ngx_http_voxanne_module);

    ngx_http_voxanne_calls_count(vmcf->calls,
                                 NGX_HTTP_VOXANNE_RT_FAILURES + cause, 1);

    if (b->goodbye.timer_set) {
        ngx_del_timer(&b->goodbye);
    }

    if (b->greeting.timer_set) {
        ngx_del_timer(&b->greeting);
    }

    ngx_http_voxanne_bridge_close(b, NGX_HTTP_VOXANNE_WS_INTERNAL,
                                  "realtime provider failure");
}


/* both sides close: the provider's, and the Twilio stream with this code */

static void
ngx_http_voxanne_bridge_close(ngx_http_voxanne_bridge_t *b, ngx_uint_t code,
    const char *reason)
{
    ngx_http_voxanne_media_ctx_t  *ctx;

    ctx = b->media;

    if (b->wsc) {
        ngx_http_voxanne_wsc_close(b->wsc, code);
        b->wsc = NULL;
    }

    ngx_free(b->early);
    b->early = NULL;

    ngx_http_voxanne_media_close(b->request, ctx, code, reason);

    /* Twilio's answer to the close is read, even if reading had stopped */

    if (ctx->paused) {
        ctx->paused = 0;
        ngx_post_event(b->request->connection->read, &ngx_posted_events);
    }

    ngx_http_voxanne_bridge_twilio(b);
}


/* Twilio's output is sent from its own write event */

static void
ngx_http_voxanne_bridge_twilio(ngx_http_voxanne_bridge_t *b)
{
    ngx_post_event(b->request->connection->write, &ngx_posted_events);
}
