
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


/*
 * The Twilio Media Streams WebSocket, terminated in the worker: the
 * handshake, the frames (ngx_http_voxanne_ws.c), and the Twilio messages.
 * The agent is the realtime bridge (ngx_http_voxanne_bridge.c) or an
 * echo: the caller's audio goes back to Twilio, with a mark every second.
 */


#define NGX_HTTP_VOXANNE_UPGRADE_REQUIRED     426

#define NGX_HTTP_VOXANNE_MEDIA_IN             4096
#define NGX_HTTP_VOXANNE_MEDIA_MSG            2048  /* grows to max_message */
#define NGX_HTTP_VOXANNE_MEDIA_MARK           50    /* media frames per mark */
#define NGX_HTTP_VOXANNE_MEDIA_CLOSE_TIMEOUT  5000  /* the close handshake */


static ngx_int_t ngx_http_voxanne_media_handler(ngx_http_request_t *r);
static void ngx_http_voxanne_media_call(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t **tenant, ngx_str_t **call_sid);
static ngx_int_t ngx_http_voxanne_media_handshake(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t **tp, ngx_str_t *key);
static ngx_int_t ngx_http_voxanne_media_upgrade(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *key);
static void ngx_http_voxanne_media_cleanup(void *data);
static void ngx_http_voxanne_media_read(ngx_http_request_t *r);
static void ngx_http_voxanne_media_report(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx);
static ngx_int_t ngx_http_voxanne_media_frames(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx);
static void ngx_http_voxanne_media_chunk(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx, ngx_http_voxanne_ws_chunk_t *ch);
static void ngx_http_voxanne_media_message(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx, u_char *data, size_t len);
static void ngx_http_voxanne_media_start(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx, ngx_http_voxanne_stream_msg_t *msg);
static void ngx_http_voxanne_media_echo(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx, ngx_http_voxanne_stream_msg_t *msg);
static void ngx_http_voxanne_media_finish(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx);


char *
ngx_http_voxanne_media_stream(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voxanne_loc_conf_t *vlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_voxanne_media_handler) {
        return "is duplicate";
    }

    if (clcf->handler != NULL) {
        return "conflicts with another content handler in this location";
    }

    clcf->handler = ngx_http_voxanne_media_handler;
    vlcf->media = 1;
    vlcf->call = ngx_http_voxanne_media_call;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_voxanne_media_handler(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_str_t                   key;
    ngx_http_voxanne_tenant_t  *t;

    t = NULL;

    rc = ngx_http_voxanne_media_handshake(r, &t, &key);

    if (rc == NGX_HTTP_VOXANNE_UPGRADE_REQUIRED) {

        /* nginx has no page for 426: an empty answer */

        r->headers_out.status = NGX_HTTP_VOXANNE_UPGRADE_REQUIRED;
        ngx_str_set(&r->headers_out.status_line, "426 Upgrade Required");
        r->headers_out.content_length_n = 0;
        r->header_only = 1;

        return ngx_http_send_header(r);
    }

    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_voxanne_media_upgrade(r, t, &key);
}


/*
 * An RFC 6455 opening handshake signed by Twilio for a tenant's media URL,
 * "{ws url}/.../media/{tenant}".  Returns NGX_OK or the HTTP status to
 * refuse it with, before anything is upgraded.
 */

static ngx_int_t
ngx_http_voxanne_media_handshake(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t **tp, ngx_str_t *key)
{
    u_char                        *p, *last;
    ngx_str_t                      name, *sig_header;
    ngx_table_elt_t               *h, *c;
    ngx_http_voxanne_tenant_t     *t;
    ngx_http_voxanne_signature_t   sig;

    if (r->method != NGX_HTTP_GET) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    h = ngx_http_voxanne_header_in(r, "Upgrade", sizeof("Upgrade") - 1);
    c = ngx_http_voxanne_header_in(r, "Connection",
                                      sizeof("Connection") - 1);

    if (r->http_version < NGX_HTTP_VERSION_11
        || h == NULL
        || !ngx_http_voxanne_ws_token(&h->value, "websocket", 9)
        || c == NULL
        || !ngx_http_voxanne_ws_token(&c->value, "upgrade", 7))
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: media: not a WebSocket upgrade");
        return NGX_HTTP_BAD_REQUEST;
    }

    h = ngx_http_voxanne_header_in(r, "Sec-WebSocket-Version",
                                      sizeof("Sec-WebSocket-Version") - 1);

    if (h == NULL || h->value.len != 2
        || ngx_strncmp(h->value.data, "13", 2) != 0)
    {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Sec-WebSocket-Version");
        ngx_str_set(&h->value, "13");

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: media: WebSocket version 13 is required");

        return NGX_HTTP_VOXANNE_UPGRADE_REQUIRED;
    }

    h = ngx_http_voxanne_header_in(r, "Sec-WebSocket-Key",
                                      sizeof("Sec-WebSocket-Key") - 1);

    if (h == NULL || ngx_http_voxanne_ws_key_valid(&h->value) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: media: invalid Sec-WebSocket-Key");
        return NGX_HTTP_BAD_REQUEST;
    }

    *key = h->value;

    /* the tenant is the last segment of the path */

    last = r->uri.data + r->uri.len;

    for (p = last; p > r->uri.data && p[-1] != '/'; p--) { /* void */ }

    name.data = p;
    name.len = last - p;

    t = ngx_http_voxanne_tenant_by_name(r, &name);

    if (t == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "voxanne: media: no tenant \"%V\"", &name);
        return NGX_HTTP_NOT_FOUND;
    }

    h = ngx_http_voxanne_header_in(r, "X-Twilio-Signature",
                                      sizeof("X-Twilio-Signature") - 1);

    if (h == NULL) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "voxanne: media: tenant \"%V\": no X-Twilio-Signature, "
                      "forbidden", &t->name);
        return NGX_HTTP_FORBIDDEN;
    }

    sig_header = &h->value;

    /* Twilio signs the wss:// URL of the <Stream>, with no parameters */

    sig.bases = t->ws_url;
    sig.nbases = 2;
    sig.keys = t->keys;
    sig.nkeys = t->nkeys;
    sig.uri = r->unparsed_uri;
    sig.params.len = 0;
    sig.params.data = NULL;
    sig.token = 0;

    sig.buf = ngx_pnalloc(r->pool, ngx_http_voxanne_signature_buf_size(&sig));
    if (sig.buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    switch (ngx_http_voxanne_signature_verify(&sig, sig_header)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "voxanne: media: tenant \"%V\": X-Twilio-Signature "
                      "does not match, forbidden", &t->name);
        return NGX_HTTP_FORBIDDEN;

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *tp = t;

    return NGX_OK;
}


/*
 * 101, no extension and no subprotocol; then the connection is the
 * stream's: the request is held, its buffers are allocated once.
 */

static ngx_int_t
ngx_http_voxanne_media_upgrade(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *key)
{
    size_t                         preread;
    ngx_int_t                      rc;
    ngx_table_elt_t               *h;
    ngx_connection_t              *c;
    ngx_pool_cleanup_t            *cln;
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_voxanne_loc_conf_t   *vlcf;
    ngx_http_voxanne_media_ctx_t  *ctx;

    c = r->connection;
    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voxanne_module);

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_voxanne_media_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->tenant = t;

    ngx_http_voxanne_ws_init(&ctx->ws, vlcf->ws_max_message,
                             NGX_HTTP_VOXANNE_WS_SERVER);

    preread = r->header_in->last - r->header_in->pos;

    ctx->in.start = ngx_palloc(r->pool, NGX_HTTP_VOXANNE_MEDIA_IN
                                        + NGX_HTTP_VOXANNE_MEDIA_OUT);
    ctx->msg = ngx_alloc(NGX_HTTP_VOXANNE_MEDIA_MSG, c->log);
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (ctx->in.start == NULL || ctx->msg == NULL || cln == NULL
        || preread > NGX_HTTP_VOXANNE_MEDIA_IN)
    {
        ngx_free(ctx->msg);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_voxanne_media_cleanup;
    cln->data = ctx;

    ctx->msg_size = NGX_HTTP_VOXANNE_MEDIA_MSG;

    ctx->in.pos = ctx->in.start;
    ctx->in.last = ngx_cpymem(ctx->in.start, r->header_in->pos, preread);
    ctx->in.end = ctx->in.start + NGX_HTTP_VOXANNE_MEDIA_IN;
    r->header_in->pos = r->header_in->last;

    ctx->out.start = ctx->in.end;
    ctx->out.pos = ctx->out.start;
    ctx->out.last = ctx->out.start;
    ctx->out.end = ctx->out.start + NGX_HTTP_VOXANNE_MEDIA_OUT;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Upgrade");
    ngx_str_set(&h->value, "websocket");

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->value.data = ngx_pnalloc(r->pool, NGX_HTTP_VOXANNE_WS_ACCEPT_LEN);
    if (h->value.data == NULL
        || ngx_http_voxanne_ws_accept(h->value.data, key) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Sec-WebSocket-Accept");
    h->value.len = NGX_HTTP_VOXANNE_WS_ACCEPT_LEN;

    ngx_http_set_ctx(r, ctx, ngx_http_voxanne_module);

    r->headers_out.status = NGX_HTTP_SWITCHING_PROTOCOLS;
    ngx_str_set(&r->headers_out.status_line, "101 Switching Protocols");
    r->headers_out.content_length_n = -1;
    r->keepalive = 0;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    if (ngx_http_send_special(r, NGX_HTTP_FLUSH) == NGX_ERROR) {
        return NGX_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "voxanne: media: tenant \"%V\": stream connected", &t->name);

    c->log->action = "streaming media";

    /* as nginx's upgraded proxy connections: no message waits for an ACK */

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->tcp_nodelay && ngx_tcp_nodelay(c) != NGX_OK) {
        return NGX_ERROR;
    }

    r->main->count++;
    r->read_event_handler = ngx_http_voxanne_media_read;
    r->write_event_handler = ngx_http_voxanne_media_write;

    /* frames that came with the request first, then the socket */

    ngx_post_event(c->read, &ngx_posted_events);

    return NGX_DONE;
}


static void
ngx_http_voxanne_media_cleanup(void *data)
{
    ngx_http_voxanne_media_ctx_t *ctx = data;

    /* a call that ends, however, takes its provider connection with it */

    if (ctx->bridge) {
        ngx_http_voxanne_bridge_end(ctx->bridge);
        ctx->bridge = NULL;
    }

    ngx_free(ctx->msg);
}


static void
ngx_http_voxanne_media_read(ngx_http_request_t *r)
{
    ssize_t                        n;
    ngx_int_t                      rc;
    ngx_connection_t              *c;
    ngx_http_voxanne_loc_conf_t   *vlcf;
    ngx_http_voxanne_media_ctx_t  *ctx;

    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);
    vlcf = ngx_http_get_module_loc_conf(r, ngx_http_voxanne_module);

    if (ctx->eof) {

        /* nothing more is read: the output drains, then the stream ends */

        ngx_http_voxanne_media_write(r);
        return;
    }

    if (c->read->timedout) {
        c->read->timedout = 0;

        if (ctx->state == NGX_HTTP_VOXANNE_MEDIA_CLOSING) {
            ngx_http_voxanne_media_finish(r, ctx);
            return;
        }

        ngx_log_error(NGX_LOG_WARN, c->log, 0,
                      "voxanne: media: call %V: no message for %M ms",
                      &ctx->call_sid, vlcf->ws_idle_timeout);

        ngx_http_voxanne_media_close(r, ctx, NGX_HTTP_VOXANNE_WS_GOING_AWAY,
                                     "idle");
        ngx_http_voxanne_media_write(r);
        return;
    }

    for ( ;; ) {

        rc = ngx_http_voxanne_media_frames(r, ctx);

        if (rc == NGX_DONE) {

            /* the client's close, or a broken frame: nothing more to read */

            ctx->eof = 1;
            break;
        }

        if (rc == NGX_BUSY) {

            /* the output is full: read again once it has drained */

            ctx->paused = 1;
            break;
        }

        ctx->in.pos = ctx->in.start;
        ctx->in.last = ctx->in.start;

        n = c->recv(c, ctx->in.last, ctx->in.end - ctx->in.last);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_log_error(NGX_LOG_INFO, c->log, 0,
                          "voxanne: media: call %V: connection closed by "
                          "Twilio", &ctx->call_sid);

            ngx_http_voxanne_media_finish(r, ctx);
            return;
        }

        ctx->in.last += n;
    }

    if (!ctx->eof) {
        if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
            ngx_http_voxanne_media_finish(r, ctx);
            return;
        }

        if (ctx->state != NGX_HTTP_VOXANNE_MEDIA_CLOSING) {
            ngx_add_timer(c->read, vlcf->ws_idle_timeout);
        }
    }

    if (ctx->reported != ngx_time()) {
        ngx_http_voxanne_media_report(r, ctx);
    }

    /* last: the write may end the request */

    ngx_http_voxanne_media_write(r);
}


/*
 * What the stream has carried goes to the metrics and to the call's record
 * in the table, once a second and at the end: the table shows live calls
 * a second late at most, and a frame costs no lock.
 */

static void
ngx_http_voxanne_media_report(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx)
{
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    ctx->reported = ngx_time();

    ngx_http_voxanne_calls_count(vmcf->calls, NGX_HTTP_VOXANNE_WS_FRAMES_IN,
                                 ctx->stats.frames_in - ctx->counted_in);
    ngx_http_voxanne_calls_count(vmcf->calls, NGX_HTTP_VOXANNE_WS_FRAMES_OUT,
                                 ctx->stats.frames_out - ctx->counted_out);

    ctx->counted_in = ctx->stats.frames_in;
    ctx->counted_out = ctx->stats.frames_out;

    if (ctx->live) {
        (void) ngx_http_voxanne_calls_report(vmcf->calls, &ctx->tenant->name,
                                             &ctx->call_sid, &ctx->stats);
    }
}


/*
 * The frames in the input: NGX_OK when all are parsed, NGX_BUSY when the
 * output is full, NGX_DONE when nothing more is to be read.
 */

static ngx_int_t
ngx_http_voxanne_media_frames(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_http_voxanne_ws_chunk_t  ch;

    for ( ;; ) {

        if ((size_t) (ctx->out.end - ctx->out.last)
            < NGX_HTTP_VOXANNE_MEDIA_OUT / 2
            || (ctx->bridge && !ngx_http_voxanne_bridge_writable(ctx->bridge)))
        {
            return NGX_BUSY;
        }

        rc = ngx_http_voxanne_ws_parse(&ctx->ws, &ctx->in.pos, ctx->in.last,
                                       &ch);

        switch (rc) {

        case NGX_AGAIN:
            return NGX_OK;

        case NGX_ERROR:
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "voxanne: media: call %V: invalid frame, close %ui",
                          &ctx->call_sid, ctx->ws.error);

            ngx_http_voxanne_media_close(r, ctx, ctx->ws.error,
                                         "invalid frame");
            return NGX_DONE;

        case NGX_DONE:

            /* the client's close frame, delivered already */

            return NGX_DONE;

        default: /* NGX_OK */

            ctx->stats.bytes_in += ch.len;

            if (ch.last) {
                ctx->stats.frames_in++;
            }

            ngx_http_voxanne_media_chunk(r, ctx, &ch);
        }
    }
}


static void
ngx_http_voxanne_media_chunk(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx, ngx_http_voxanne_ws_chunk_t *ch)
{
    u_char  *msg;
    size_t   size;

    if (ch->opcode == NGX_HTTP_VOXANNE_WS_TEXT
        || ch->opcode == NGX_HTTP_VOXANNE_WS_BINARY)
    {
        if (ctx->state == NGX_HTTP_VOXANNE_MEDIA_CLOSING) {
            return;
        }

        if (ch->opcode == NGX_HTTP_VOXANNE_WS_BINARY) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "voxanne: media: call %V: binary frame",
                          &ctx->call_sid);

            ngx_http_voxanne_media_close(r, ctx,
                                         NGX_HTTP_VOXANNE_WS_UNSUPPORTED,
                                         "binary frames are not Media "
                                         "Streams messages");
            return;
        }

        /* a whole message in one chunk is read where it lies */

        if (ch->fin && ctx->msg_len == 0) {
            ngx_http_voxanne_media_message(r, ctx, ch->data, ch->len);
            return;
        }

        if (ctx->msg_len + ch->len > ctx->msg_size) {

            /* the codec has checked the message against max_message */

            size = ngx_max(ctx->msg_size * 2, ctx->msg_len + ch->len);

            msg = ngx_alloc(size, r->connection->log);
            if (msg == NULL) {
                ngx_http_voxanne_media_close(r, ctx,
                                             NGX_HTTP_VOXANNE_WS_INTERNAL,
                                             "no memory");
                return;
            }

            ngx_memcpy(msg, ctx->msg, ctx->msg_len);
            ngx_free(ctx->msg);

            ctx->msg = msg;
            ctx->msg_size = size;
        }

        ngx_memcpy(ctx->msg + ctx->msg_len, ch->data, ch->len);
        ctx->msg_len += ch->len;

        if (ch->fin) {
            size = ctx->msg_len;
            ctx->msg_len = 0;

            ngx_http_voxanne_media_message(r, ctx, ctx->msg, size);
        }

        return;
    }

    /* a control frame, at most 125 bytes in all */

    ngx_memcpy(ctx->ctrl + ctx->ctrl_len, ch->data, ch->len);
    ctx->ctrl_len += ch->len;

    if (!ch->last) {
        return;
    }

    size = ctx->ctrl_len;
    ctx->ctrl_len = 0;

    switch (ch->opcode) {

    case NGX_HTTP_VOXANNE_WS_PING:

        if (ctx->state != NGX_HTTP_VOXANNE_MEDIA_CLOSING) {
            (void) ngx_http_voxanne_media_send(ctx, NGX_HTTP_VOXANNE_WS_PONG,
                                               ctx->ctrl, size);
        }

        return;

    case NGX_HTTP_VOXANNE_WS_PONG:
        return;

    default: /* NGX_HTTP_VOXANNE_WS_CLOSE */

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: media: call %V: close %ui from Twilio",
                      &ctx->call_sid, ctx->ws.close_code);

        /* answer it, unless it answers ours */

        ngx_http_voxanne_media_close(r, ctx,
                                     ctx->ws.close_code
                                     == NGX_HTTP_VOXANNE_WS_NO_STATUS
                                     ? NGX_HTTP_VOXANNE_WS_NORMAL
                                     : ctx->ws.close_code, "");
    }
}


static void
ngx_http_voxanne_media_message(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx, u_char *data, size_t len)
{
    ngx_int_t                      rc;
    ngx_http_voxanne_stream_msg_t  msg;

    rc = ngx_http_voxanne_stream_msg_parse(&msg, data, len);

    if (rc != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: media: call %V: %s", &ctx->call_sid,
                      msg.error);

        ngx_http_voxanne_media_close(r, ctx,
                                     rc == NGX_ERROR
                                     ? NGX_HTTP_VOXANNE_WS_INVALID_DATA
                                     : NGX_HTTP_VOXANNE_WS_POLICY,
                                     msg.error);
        goto done;
    }

    if (msg.event == NGX_HTTP_VOXANNE_MSG_CONNECTED) {

        if (ctx->state != NGX_HTTP_VOXANNE_MEDIA_OPEN) {
            ngx_http_voxanne_media_close(r, ctx, NGX_HTTP_VOXANNE_WS_POLICY,
                                         "connected twice");

        } else {
            ctx->state = NGX_HTTP_VOXANNE_MEDIA_CONNECTED;
        }

        goto done;
    }

    if (msg.event == NGX_HTTP_VOXANNE_MSG_START) {
        ngx_http_voxanne_media_start(r, ctx, &msg);
        goto done;
    }

    if (ctx->state != NGX_HTTP_VOXANNE_MEDIA_STARTED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: media: a message before \"start\"");

        ngx_http_voxanne_media_close(r, ctx, NGX_HTTP_VOXANNE_WS_POLICY,
                                     "no start");
        goto done;
    }

    switch (msg.event) {

    case NGX_HTTP_VOXANNE_MSG_MEDIA:

        if (ctx->bridge) {
            ctx->stats.media++;
            ngx_http_voxanne_bridge_media(ctx->bridge, &msg.payload);

        } else {
            ngx_http_voxanne_media_echo(r, ctx, &msg);
        }

        break;

    case NGX_HTTP_VOXANNE_MSG_MARK:
        ctx->stats.played++;

        if (ctx->bridge) {
            ngx_http_voxanne_bridge_mark(ctx->bridge, &msg.mark);
        }

        break;

    case NGX_HTTP_VOXANNE_MSG_DTMF:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: media: call %V: dtmf \"%V\"",
                      &ctx->call_sid, &msg.digit);

        if (ctx->bridge) {
            ngx_http_voxanne_bridge_dtmf(ctx->bridge, &msg.digit);
        }

        break;

    case NGX_HTTP_VOXANNE_MSG_STOP:
        ctx->stopped = 1;

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "voxanne: media: call %V: stop after %ui media "
                      "messages, %ui of %ui marks played", &ctx->call_sid,
                      ctx->stats.media, ctx->stats.played, ctx->stats.marks);

        ngx_http_voxanne_media_close(r, ctx, NGX_HTTP_VOXANNE_WS_NORMAL, "");
        break;

    default: /* NGX_HTTP_VOXANNE_MSG_OTHER */
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "voxanne: media: an unknown event ignored");
    }

done:

    ngx_http_voxanne_stream_msg_free(&msg);
}


/*
 * "start": the stream token from the voice webhook must be this tenant's
 * for this CallSid, and the call must still hold its line.
 */

static void
ngx_http_voxanne_media_start(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx, ngx_http_voxanne_stream_msg_t *msg)
{
    ngx_int_t                      rc;
    const char                    *reason;
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    if (ctx->state != NGX_HTTP_VOXANNE_MEDIA_CONNECTED) {
        reason = "start out of order";
        goto refused;
    }

    ctx->stream_sid.data = ctx->sids;
    ctx->stream_sid.len = msg->stream_sid.len;
    ngx_memcpy(ctx->sids, msg->stream_sid.data, msg->stream_sid.len);

    ctx->call_sid.data = ctx->sids + NGX_HTTP_VOXANNE_SID_MAX;
    ctx->call_sid.len = msg->call_sid.len;
    ngx_memcpy(ctx->call_sid.data, msg->call_sid.data, msg->call_sid.len);

    if (msg->tenant.len != ctx->tenant->name.len
        || ngx_strncmp(msg->tenant.data, ctx->tenant->name.data,
                       msg->tenant.len)
           != 0)
    {
        reason = "the tenant parameter is not the URL's";
        goto refused;
    }

    if (ngx_http_voxanne_token_verify(&msg->token, ctx->tenant->keys,
                                      ctx->tenant->nkeys, &ctx->tenant->name,
                                      &ctx->call_sid, ngx_time())
        != NGX_OK)
    {
        reason = "invalid or expired stream token";
        goto refused;
    }

    rc = ngx_http_voxanne_calls_stream(vmcf->calls, &ctx->tenant->name,
                                       &ctx->call_sid, &ctx->stream_sid);

    if (rc != NGX_OK) {
        reason = (rc == NGX_ABORT) ? "the call holds no line"
                                   : "the call has ended";
        goto refused;
    }

    ctx->live = 1;
    ctx->state = NGX_HTTP_VOXANNE_MEDIA_STARTED;

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "voxanne: media: call %V tenant \"%V\": stream %V started",
                  &ctx->call_sid, &ctx->tenant->name, &ctx->stream_sid);

    ngx_http_voxanne_store_event(r, ctx->tenant, &ctx->call_sid,
                                 "stream:start", "stream", "{ss%}",
                                 "stream_sid", ctx->stream_sid.data,
                                 ctx->stream_sid.len);

    if (ngx_http_voxanne_bridge_start(r, ctx) == NGX_ERROR) {
        ngx_http_voxanne_media_close(r, ctx, NGX_HTTP_VOXANNE_WS_INTERNAL,
                                     "no agent");
    }

    return;

refused:

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "voxanne: media: tenant \"%V\": start refused: %s",
                  &ctx->tenant->name, reason);

    ngx_http_voxanne_media_close(r, ctx, NGX_HTTP_VOXANNE_WS_POLICY, reason);
}


/* the echo agent: the caller's audio goes back, a mark every second */

static void
ngx_http_voxanne_media_echo(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx, ngx_http_voxanne_stream_msg_t *msg)
{
    u_char  *p, *last;
    u_char   mark[160];

    if (msg->payload.len + 128 > NGX_HTTP_VOXANNE_MEDIA_OUT / 2) {
        ngx_http_voxanne_media_close(r, ctx, NGX_HTTP_VOXANNE_WS_TOO_BIG,
                                     "media payload too large to echo");
        return;
    }

    ctx->stats.media++;

    /* written in place, after room for the frame header */

    p = ctx->out.last + NGX_HTTP_VOXANNE_WS_HEADER_MAX;

    last = ngx_sprintf(p, "{\"event\":\"media\",\"streamSid\":\"%V\","
                          "\"media\":{\"payload\":\"%V\"}}",
                       &ctx->stream_sid, &msg->payload);

    (void) ngx_http_voxanne_media_send(ctx, NGX_HTTP_VOXANNE_WS_TEXT, p,
                                       last - p);

    if (ctx->stats.media % NGX_HTTP_VOXANNE_MEDIA_MARK == 0) {
        last = ngx_sprintf(mark, "{\"event\":\"mark\",\"streamSid\":\"%V\","
                                 "\"mark\":{\"name\":\"echo-%ui\"}}",
                           &ctx->stream_sid, ++ctx->stats.marks);

        (void) ngx_http_voxanne_media_send(ctx, NGX_HTTP_VOXANNE_WS_TEXT,
                                           mark, last - mark);
    }
}


/*
 * Queues a frame.  The output always has room for it: reading stops while
 * less than half of the output is free, and no frame is larger than that.
 * data may lie in the output already, after room for the longest header.
 */

ngx_int_t
ngx_http_voxanne_media_send(ngx_http_voxanne_media_ctx_t *ctx,
    ngx_uint_t opcode, u_char *data, size_t len)
{
    u_char  header[NGX_HTTP_VOXANNE_WS_HEADER_MAX];
    size_t  n;

    n = ngx_http_voxanne_ws_frame_header(header, opcode, len);

    if (n == 0 || (size_t) (ctx->out.end - ctx->out.last) < n + len) {
        return NGX_ERROR;
    }

    ctx->stats.frames_out++;
    ctx->stats.bytes_out += len;

    ngx_memmove(ctx->out.last + n, data, len);
    ngx_memcpy(ctx->out.last, header, n);

    ctx->out.last += n + len;

    return NGX_OK;
}


/*
 * Our close frame: nothing else is sent after it, and the connection ends
 * once the client has answered it (or after the close timeout)
 * and the output has drained.
 */

void
ngx_http_voxanne_media_close(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx, ngx_uint_t code, const char *reason)
{
    size_t  n;
    u_char  payload[NGX_HTTP_VOXANNE_WS_CONTROL_MAX];

    if (ctx->state == NGX_HTTP_VOXANNE_MEDIA_CLOSING) {
        return;
    }

    ctx->state = NGX_HTTP_VOXANNE_MEDIA_CLOSING;
    ctx->close_code = code;

    n = ngx_http_voxanne_ws_close_payload(payload, code, (u_char *) reason,
                                          ngx_strlen(reason));

    if (ngx_http_voxanne_media_send(ctx, NGX_HTTP_VOXANNE_WS_CLOSE, payload,
                                    n)
        != NGX_OK)
    {
        ctx->eof = 1;
    }

    if (r->connection->read->timer_set) {
        ngx_del_timer(r->connection->read);
    }

    ngx_add_timer(r->connection->read, NGX_HTTP_VOXANNE_MEDIA_CLOSE_TIMEOUT);
}


void
ngx_http_voxanne_media_write(ngx_http_request_t *r)
{
    ssize_t                        n;
    ngx_connection_t              *c;
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_voxanne_media_ctx_t  *ctx;

    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);

    if (c->write->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "voxanne: media: call %V: Twilio does not read",
                      &ctx->call_sid);
        ngx_http_voxanne_media_finish(r, ctx);
        return;
    }

    while (ctx->out.pos < ctx->out.last) {

        n = c->send(c, ctx->out.pos, ctx->out.last - ctx->out.pos);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == NGX_ERROR) {
            ngx_http_voxanne_media_finish(r, ctx);
            return;
        }

        ctx->out.pos += n;
    }

    if (ctx->out.pos < ctx->out.last) {

        /* what is left moves to the start: room for the next frames */

        if (ctx->out.pos != ctx->out.start) {
            n = ctx->out.last - ctx->out.pos;
            ngx_memmove(ctx->out.start, ctx->out.pos, n);
            ctx->out.pos = ctx->out.start;
            ctx->out.last = ctx->out.start + n;
        }

        if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
            ngx_http_voxanne_media_finish(r, ctx);
            return;
        }

        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
        ngx_add_timer(c->write, clcf->send_timeout);

        return;
    }

    ctx->out.pos = ctx->out.start;
    ctx->out.last = ctx->out.start;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (ctx->state == NGX_HTTP_VOXANNE_MEDIA_CLOSING && ctx->eof) {
        ngx_http_voxanne_media_finish(r, ctx);
        return;
    }

    if (ctx->paused) {
        ctx->paused = 0;
        ngx_post_event(c->read, &ngx_posted_events);
    }

    if (ctx->bridge) {
        ngx_http_voxanne_bridge_drained(ctx->bridge);
    }
}


/* the end of the stream: the call's line is given back */

static void
ngx_http_voxanne_media_finish(ngx_http_request_t *r,
    ngx_http_voxanne_media_ctx_t *ctx)
{
    ngx_uint_t                     ended, failed;
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    ngx_http_voxanne_media_report(r, ctx);

    if (ctx->live) {
        ctx->live = 0;

        /* an end without "stop" or a close 1000 is a failure */

        failed = !ctx->stopped
                 && ctx->close_code != NGX_HTTP_VOXANNE_WS_NORMAL;

        (void) ngx_http_voxanne_calls_end(vmcf->calls, &ctx->tenant->name,
                                          &ctx->call_sid, failed, &ended);

        ngx_http_voxanne_store_event(r, ctx->tenant, &ctx->call_sid,
                                     "stream:end", "stream",
                                     "{sIsbsIsIsI}",
                                     "close", (json_int_t) ctx->close_code,
                                     "failed", (int) failed,
                                     "media", (json_int_t) ctx->stats.media,
                                     "marks", (json_int_t) ctx->stats.marks,
                                     "played",
                                     (json_int_t) ctx->stats.played);
    }


    if (ctx->close_code) {
        ngx_http_voxanne_calls_close(vmcf->calls, ctx->close_code);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "voxanne: media: call %V tenant \"%V\": stream ended, "
                  "close %ui, %ui media messages",
                  &ctx->call_sid, &ctx->tenant->name, ctx->close_code,
                  ctx->stats.media);

    r->read_event_handler = ngx_http_block_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_finalize_request(r, NGX_DONE);
}


static void
ngx_http_voxanne_media_call(ngx_http_request_t *r,
    ngx_http_voxanne_tenant_t **tenant, ngx_str_t **call_sid)
{
    ngx_http_voxanne_media_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_voxanne_module);

    *tenant = ctx->tenant;
    *call_sid = &ctx->call_sid;
}
