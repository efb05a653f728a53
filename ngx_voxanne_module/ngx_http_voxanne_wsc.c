
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <ngx_http.h>
#include <openssl/rand.h>
#include "ngx_http_voxanne.h"


/*
 * The outbound WebSocket client (ngx_http_voxanne_wsc.h).  The shape of
 * njs's ngx_js_http.c: resolve, connect to each address in turn, TLS, then
 * the upgrade and the frames, every step on the connection's own events
 * with a timer.  All the memory of a connection is one pool; it is freed
 * by a posted event once the connection is closed, so that no handler can
 * run on freed memory, whatever the consumer did from a callback.
 */


#define NGX_HTTP_VOXANNE_WSC_POOL           2048
#define NGX_HTTP_VOXANNE_WSC_MSG            4096   /* the first piecewise */
#define NGX_HTTP_VOXANNE_WSC_MSG_KEEP       16384  /* larger is given back */
#define NGX_HTTP_VOXANNE_WSC_CLOSE_TIMEOUT  5000
#define NGX_HTTP_VOXANNE_WSC_DETAIL         160
#define NGX_HTTP_VOXANNE_WSC_KEYS           64     /* random bytes at once */


typedef enum {
    NGX_HTTP_VOXANNE_WSC_START = 0,
    NGX_HTTP_VOXANNE_WSC_RESOLVING,
    NGX_HTTP_VOXANNE_WSC_CONNECTING,
    NGX_HTTP_VOXANNE_WSC_HANDSHAKING,      /* TLS */
    NGX_HTTP_VOXANNE_WSC_UPGRADING,
    NGX_HTTP_VOXANNE_WSC_OPEN,
    NGX_HTTP_VOXANNE_WSC_CLOSING,          /* our close frame is queued */
    NGX_HTTP_VOXANNE_WSC_DONE
} ngx_http_voxanne_wsc_state_e;


struct ngx_http_voxanne_wsc_s {
    ngx_http_voxanne_wsc_conf_t      *conf;
    ngx_http_voxanne_wsc_handlers_t   handlers;
    void                             *data;
    ngx_pool_t                       *pool;
    ngx_log_t                         log;
    ngx_event_t                       event;     /* start, close, free */
    ngx_peer_connection_t             peer;
    ngx_resolver_ctx_t               *resolver;
    ngx_addr_t                       *addrs;
    ngx_uint_t                        naddrs;
    ngx_uint_t                        naddr;
    ngx_uint_t                        state;
    ngx_uint_t                        close_code;   /* the consumer's */
    ngx_http_voxanne_ws_t             ws;
    ngx_http_voxanne_ws_response_t    response;
    size_t                            request;   /* the upgrade: secret */

    ngx_buf_t                         in;
    ngx_buf_t                         out;
    u_char                           *msg;       /* a message in pieces */
    size_t                            msg_len;
    size_t                            msg_size;
    u_char                           *pending;   /* a message not taken */
    size_t                            pending_len;
    u_char                            ctrl[NGX_HTTP_VOXANNE_WS_CONTROL_MAX];
    size_t                            ctrl_len;

    u_char                            accept[NGX_HTTP_VOXANNE_WS_ACCEPT_LEN];
    u_char                            keys[NGX_HTTP_VOXANNE_WSC_KEYS];
    ngx_uint_t                        keys_used;

    ngx_http_voxanne_wsc_end_t        end;
    u_char                            detail[NGX_HTTP_VOXANNE_WSC_DETAIL];

    unsigned                          detached:1;  /* no more callbacks */
    unsigned                          paused:1;    /* the consumer is full */
    unsigned                          pinged:1;
    unsigned                          finish:1;    /* end once drained */
    unsigned                          want_drain:1;
};


static void ngx_http_voxanne_wsc_start(ngx_event_t *ev);
static void ngx_http_voxanne_wsc_resolved(ngx_resolver_ctx_t *ctx);
static void ngx_http_voxanne_wsc_connect(ngx_http_voxanne_wsc_t *wsc);
static void ngx_http_voxanne_wsc_next(ngx_http_voxanne_wsc_t *wsc,
    ngx_uint_t cause, const char *what);
static void ngx_http_voxanne_wsc_connected(ngx_http_voxanne_wsc_t *wsc);
#if (NGX_SSL)
static void ngx_http_voxanne_wsc_tls(ngx_http_voxanne_wsc_t *wsc);
static void ngx_http_voxanne_wsc_tls_done(ngx_connection_t *c);
static ngx_int_t ngx_http_voxanne_wsc_check_ip(ngx_connection_t *c,
    ngx_str_t *ip);
#endif
static void ngx_http_voxanne_wsc_request(ngx_http_voxanne_wsc_t *wsc);
static void ngx_http_voxanne_wsc_read_handler(ngx_event_t *rev);
static void ngx_http_voxanne_wsc_write_handler(ngx_event_t *wev);
static void ngx_http_voxanne_wsc_timedout(ngx_http_voxanne_wsc_t *wsc);
static void ngx_http_voxanne_wsc_upgrade(ngx_http_voxanne_wsc_t *wsc);
static void ngx_http_voxanne_wsc_read(ngx_http_voxanne_wsc_t *wsc);
static ngx_int_t ngx_http_voxanne_wsc_frames(ngx_http_voxanne_wsc_t *wsc);
static ngx_int_t ngx_http_voxanne_wsc_text(ngx_http_voxanne_wsc_t *wsc,
    ngx_http_voxanne_ws_chunk_t *ch);
static ngx_int_t ngx_http_voxanne_wsc_deliver(ngx_http_voxanne_wsc_t *wsc,
    u_char *text, size_t len);
static void ngx_http_voxanne_wsc_control(ngx_http_voxanne_wsc_t *wsc,
    ngx_http_voxanne_ws_chunk_t *ch);
static ngx_int_t ngx_http_voxanne_wsc_queue(ngx_http_voxanne_wsc_t *wsc,
    ngx_uint_t opcode, u_char *data, size_t len);
static void ngx_http_voxanne_wsc_closing(ngx_http_voxanne_wsc_t *wsc,
    ngx_uint_t code);
static void ngx_http_voxanne_wsc_flush(ngx_http_voxanne_wsc_t *wsc);
static void ngx_http_voxanne_wsc_post_write(ngx_http_voxanne_wsc_t *wsc);
static void ngx_http_voxanne_wsc_fail(ngx_http_voxanne_wsc_t *wsc,
    ngx_uint_t cause, ngx_uint_t code, const char *fmt, ...);
static void ngx_http_voxanne_wsc_detach(ngx_http_voxanne_wsc_t *wsc);
static void ngx_http_voxanne_wsc_shutdown(ngx_event_t *ev);
static void ngx_http_voxanne_wsc_finalize(ngx_http_voxanne_wsc_t *wsc);
static void ngx_http_voxanne_wsc_free(ngx_event_t *ev);


ngx_str_t  ngx_http_voxanne_wsc_causes[] = {
    ngx_string("resolve"),
    ngx_string("connect"),
    ngx_string("tls"),
    ngx_string("refused"),
    ngx_string("handshake"),
    ngx_string("timeout"),
    ngx_string("dropped"),
    ngx_string("protocol"),
    ngx_string("closed"),
    ngx_null_string
};


/*
 * ws://host[:port][/path][?query] or wss://...; the host is resolved at
 * run time unless it is an IP literal.
 */

char *
ngx_http_voxanne_wsc_parse_url(ngx_conf_t *cf, ngx_str_t *url,
    ngx_http_voxanne_wsc_conf_t *conf)
{
    u_char     *p;
    size_t      skip;
    ngx_url_t   u;
    ngx_str_t   host;
    ngx_addr_t  addr;

    if (url->len > 6 && ngx_strncasecmp(url->data, (u_char *) "wss://", 6)
                        == 0)
    {
        conf->tls = 1;
        skip = 6;

    } else if (url->len > 5
               && ngx_strncasecmp(url->data, (u_char *) "ws://", 5) == 0)
    {
        conf->tls = 0;
        skip = 5;

    } else {
        return "needs a ws:// or wss:// URL";
    }

    /* user:password@ would be quoted in errors, and sent nowhere */

    for (p = url->data + skip; p < url->data + url->len; p++) {
        if (*p == '/' || *p == '?') {
            break;
        }

        if (*p == '@') {
            return "may not carry credentials in the URL";
        }
    }

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url.data = url->data + skip;
    u.url.len = url->len - skip;
    u.default_port = conf->tls ? 443 : 80;
    u.uri_part = 1;
    u.no_resolve = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.host.len == 0) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in URL \"%V\"", u.err, url);
        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid URL \"%V\"", url);
        }

        return NGX_CONF_ERROR;
    }

    conf->url = *url;
    conf->port = u.port;

    /* the authority as the Host header carries it */

    conf->authority.data = u.host.data;
    conf->authority.len = u.host.len;

    if (!u.no_port && u.port != u.default_port) {
        p = ngx_pnalloc(cf->pool, u.host.len + sizeof(":65535") - 1);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        conf->authority.data = p;
        conf->authority.len = ngx_sprintf(p, "%V:%d", &u.host, u.port) - p;
    }

    /* the host without IPv6 brackets, NUL-terminated for SNI */

    host = u.host;

    if (host.len > 2 && host.data[0] == '[') {
        host.data++;
        host.len -= 2;
    }

    conf->host.data = ngx_pnalloc(cf->pool, host.len + 1);
    if (conf->host.data == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->host.len = host.len;
    (void) ngx_cpystrn(conf->host.data, host.data, host.len + 1);

    if (u.uri.len == 0 || u.uri.data[0] != '/') {
        p = ngx_pnalloc(cf->pool, u.uri.len + 1);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        *p = '/';
        ngx_memcpy(p + 1, u.uri.data, u.uri.len);

        u.uri.data = p;
        u.uri.len++;
    }

    conf->uri = u.uri;

    switch (ngx_parse_addr(cf->pool, &addr, conf->host.data, conf->host.len)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        conf->addr = NULL;
        return NGX_CONF_OK;

    default:
        return NGX_CONF_ERROR;
    }

    /* an IP literal is connected to as it is, without the resolver */

    ngx_inet_set_port(addr.sockaddr, conf->port);

    addr.name.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN);
    if (addr.name.data == NULL) {
        return NGX_CONF_ERROR;
    }

    addr.name.len = ngx_sock_ntop(addr.sockaddr, addr.socklen,
                                  addr.name.data, NGX_SOCKADDR_STRLEN, 1);

    conf->addr = ngx_palloc(cf->pool, sizeof(ngx_addr_t));
    if (conf->addr == NULL) {
        return NGX_CONF_ERROR;
    }

    *conf->addr = addr;

    return NGX_CONF_OK;
}


/*
 * The TLS context of a wss:// URL, as proxy_ssl_* makes one: TLS 1.2 and
 * 1.3, the trusted certificates and the verify depth.  The certificate and
 * its name are checked on each connection.
 */

char *
ngx_http_voxanne_wsc_ssl(ngx_conf_t *cf, ngx_http_voxanne_wsc_conf_t *conf,
    ngx_str_t *trusted, ngx_int_t depth)
{
#if (NGX_SSL)
    ngx_pool_cleanup_t  *cln;

    conf->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (conf->ssl == NULL) {
        return NGX_CONF_ERROR;
    }

    conf->ssl->log = cf->log;

    if (ngx_ssl_create(conf->ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(conf->ssl);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = conf->ssl;

    if (ngx_ssl_trusted_certificate(cf, conf->ssl, trusted, depth)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

#else

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" needs nginx built with SSL", &conf->url);

    return NGX_CONF_ERROR;

#endif
}


ngx_http_voxanne_wsc_t *
ngx_http_voxanne_wsc_open(ngx_http_voxanne_wsc_conf_t *conf,
    ngx_http_voxanne_wsc_handlers_t *h, void *data, ngx_log_t *log)
{
    u_char                  *buf;
    ngx_pool_t              *pool;
    ngx_http_voxanne_wsc_t  *wsc;

    pool = ngx_create_pool(NGX_HTTP_VOXANNE_WSC_POOL, log);
    if (pool == NULL) {
        return NULL;
    }

    wsc = ngx_pcalloc(pool, sizeof(ngx_http_voxanne_wsc_t));
    buf = ngx_palloc(pool, conf->in_size + conf->out_size);

    if (wsc == NULL || buf == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    wsc->conf = conf;
    wsc->handlers = *h;
    wsc->data = data;
    wsc->pool = pool;
    wsc->keys_used = NGX_HTTP_VOXANNE_WSC_KEYS;

    /* the consumer's log context, until it goes */

    wsc->log = *log;
    wsc->log.action = "opening a WebSocket";
    pool->log = &wsc->log;

    wsc->in.start = buf;
    wsc->in.pos = buf;
    wsc->in.last = buf;
    wsc->in.end = buf + conf->in_size;

    wsc->out.start = wsc->in.end;
    wsc->out.pos = wsc->out.start;
    wsc->out.last = wsc->out.start;
    wsc->out.end = wsc->out.start + conf->out_size;

    wsc->event.handler = ngx_http_voxanne_wsc_start;
    wsc->event.data = wsc;
    wsc->event.log = &wsc->log;

    ngx_post_event(&wsc->event, &ngx_posted_events);

    return wsc;
}


static void
ngx_http_voxanne_wsc_start(ngx_event_t *ev)
{
    ngx_http_voxanne_wsc_t *wsc = ev->data;

    ngx_resolver_ctx_t           *ctx;
    ngx_http_voxanne_wsc_conf_t  *conf;

    conf = wsc->conf;

    if (conf->addr) {
        wsc->addrs = conf->addr;
        wsc->naddrs = 1;

        ngx_http_voxanne_wsc_connect(wsc);
        return;
    }

    wsc->state = NGX_HTTP_VOXANNE_WSC_RESOLVING;
    wsc->log.action = "resolving a WebSocket server";

    ctx = ngx_resolve_start(conf->resolver, NULL);

    if (ctx == NULL) {
        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_RESOLVE, 0,
                                  "the resolver failed");
        return;
    }

    if (ctx == NGX_NO_RESOLVER) {
        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_RESOLVE, 0,
                                  "no resolver defined to resolve \"%V\"",
                                  &conf->host);
        return;
    }

    ctx->name = conf->host;
    ctx->handler = ngx_http_voxanne_wsc_resolved;
    ctx->data = wsc;
    ctx->timeout = conf->resolver_timeout;

    wsc->resolver = ctx;

    /* the handler may run before this returns, on a cached name */

    if (ngx_resolve_name(ctx) != NGX_OK) {
        wsc->resolver = NULL;
        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_RESOLVE, 0,
                                  "the resolver failed");
    }
}


static void
ngx_http_voxanne_wsc_resolved(ngx_resolver_ctx_t *ctx)
{
    ngx_http_voxanne_wsc_t *wsc = ctx->data;

    ngx_uint_t   i;
    ngx_addr_t  *addr;

    if (ctx->state) {
        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_RESOLVE, 0,
                                  "\"%V\" could not be resolved (%i: %s)",
                                  &ctx->name, ctx->state,
                                  ngx_resolver_strerror(ctx->state));
        return;
    }

    wsc->addrs = ngx_pcalloc(wsc->pool, ctx->naddrs * sizeof(ngx_addr_t));
    if (wsc->addrs == NULL) {
        goto nomem;
    }

    for (i = 0; i < ctx->naddrs; i++) {
        addr = &wsc->addrs[i];

        addr->socklen = ctx->addrs[i].socklen;
        addr->sockaddr = ngx_palloc(wsc->pool, addr->socklen);
        addr->name.data = ngx_pnalloc(wsc->pool, NGX_SOCKADDR_STRLEN);

        if (addr->sockaddr == NULL || addr->name.data == NULL) {
            goto nomem;
        }

        ngx_memcpy(addr->sockaddr, ctx->addrs[i].sockaddr, addr->socklen);
        ngx_inet_set_port(addr->sockaddr, wsc->conf->port);

        addr->name.len = ngx_sock_ntop(addr->sockaddr, addr->socklen,
                                       addr->name.data, NGX_SOCKADDR_STRLEN,
                                       1);
    }

    wsc->naddrs = ctx->naddrs;

    ngx_resolve_name_done(ctx);
    wsc->resolver = NULL;

    ngx_http_voxanne_wsc_connect(wsc);

    return;

nomem:

    ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_RESOLVE, 0,
                              "no memory");
}


static void
ngx_http_voxanne_wsc_connect(ngx_http_voxanne_wsc_t *wsc)
{
    ngx_int_t          rc;
    ngx_addr_t        *addr;
    ngx_connection_t  *c;

    addr = &wsc->addrs[wsc->naddr];

    ngx_memzero(&wsc->peer, sizeof(ngx_peer_connection_t));

    wsc->peer.sockaddr = addr->sockaddr;
    wsc->peer.socklen = addr->socklen;
    wsc->peer.name = &addr->name;
    wsc->peer.get = ngx_event_get_peer;
    wsc->peer.log = &wsc->log;
    wsc->peer.log_error = NGX_ERROR_ERR;

    wsc->state = NGX_HTTP_VOXANNE_WSC_CONNECTING;
    wsc->log.action = "connecting to a WebSocket server";

    rc = ngx_event_connect_peer(&wsc->peer);

    if (rc == NGX_ERROR) {
        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_CONNECT, 0,
                                  "connect to %V failed", &addr->name);
        return;
    }

    if (rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_http_voxanne_wsc_next(wsc, NGX_HTTP_VOXANNE_WSC_CONNECT,
                                  "failed");
        return;
    }

    c = wsc->peer.connection;

    c->data = wsc;
    c->pool = wsc->pool;
    c->read->handler = ngx_http_voxanne_wsc_read_handler;
    c->write->handler = ngx_http_voxanne_wsc_write_handler;

    /*
     * small messages every 20 ms: without TCP_NODELAY one written while
     * the last is unacknowledged waits for the peer's delayed ACK
     */

    if (ngx_tcp_nodelay(c) != NGX_OK) {
        ngx_http_voxanne_wsc_next(wsc, NGX_HTTP_VOXANNE_WSC_CONNECT,
                                  "failed");
        return;
    }

    ngx_add_timer(c->read, wsc->conf->connect_timeout);

    if (rc == NGX_OK) {
        ngx_http_voxanne_wsc_connected(wsc);
    }
}


/* the next address, after a connection that failed before TLS */

static void
ngx_http_voxanne_wsc_next(ngx_http_voxanne_wsc_t *wsc, ngx_uint_t cause,
    const char *what)
{
    ngx_str_t  *name;

    name = &wsc->addrs[wsc->naddr].name;

    if (wsc->peer.connection) {
        ngx_close_connection(wsc->peer.connection);
        wsc->peer.connection = NULL;
    }

    if (++wsc->naddr < wsc->naddrs) {
        ngx_http_voxanne_wsc_connect(wsc);
        return;
    }

    ngx_http_voxanne_wsc_fail(wsc, cause, 0, "connect to %V %s", name, what);
}


static void
ngx_http_voxanne_wsc_connected(ngx_http_voxanne_wsc_t *wsc)
{
    int                err;
    socklen_t          len;
    ngx_connection_t  *c;

    c = wsc->peer.connection;

    /* an asynchronous connect() tells how it went in SO_ERROR */

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        (void) ngx_connection_error(c, err, "connect() failed");
        ngx_http_voxanne_wsc_next(wsc, NGX_HTTP_VOXANNE_WSC_CONNECT,
                                  "failed");
        return;
    }

#if (NGX_SSL)
    if (wsc->conf->tls) {
        ngx_http_voxanne_wsc_tls(wsc);
        return;
    }
#endif

    ngx_http_voxanne_wsc_request(wsc);
}


#if (NGX_SSL)

static void
ngx_http_voxanne_wsc_tls(ngx_http_voxanne_wsc_t *wsc)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = wsc->peer.connection;

    if (ngx_ssl_create_connection(wsc->conf->ssl, c, NGX_SSL_CLIENT)
        != NGX_OK)
    {
        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_TLS, 0,
                                  "no TLS connection");
        return;
    }

    /* SNI for a name; RFC 6066 allows no IP address there */

#ifdef SSL_CTRL_SET_TLSEXT_HOSTNAME

    if (wsc->conf->addr == NULL
        && SSL_set_tlsext_host_name(c->ssl->connection,
                                    (char *) wsc->conf->host.data)
           == 0)
    {
        ngx_ssl_error(NGX_LOG_ERR, &wsc->log, 0,
                      "SSL_set_tlsext_host_name(\"%s\") failed",
                      wsc->conf->host.data);
        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_TLS, 0,
                                  "no SNI");
        return;
    }

#endif

    wsc->state = NGX_HTTP_VOXANNE_WSC_HANDSHAKING;
    wsc->log.action = "TLS handshaking with a WebSocket server";

    ngx_add_timer(c->read, wsc->conf->connect_timeout);

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        c->ssl->handler = ngx_http_voxanne_wsc_tls_done;
        return;
    }

    ngx_http_voxanne_wsc_tls_done(c);
}


static void
ngx_http_voxanne_wsc_tls_done(ngx_connection_t *c)
{
    ngx_http_voxanne_wsc_t *wsc = c->data;

    long                          rc;
    ngx_http_voxanne_wsc_conf_t  *conf;

    conf = wsc->conf;

    if (!c->ssl->handshaked) {
        if (c->read->timedout) {
            ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_TIMEOUT, 0,
                                      "TLS handshake timed out");
            return;
        }

        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_TLS, 0,
                                  "TLS handshake failed");
        return;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_TLS, 0,
                                  "certificate verify error: (%l:%s)", rc,
                                  X509_verify_cert_error_string(rc));
        return;
    }

    if ((conf->addr ? ngx_http_voxanne_wsc_check_ip(c, &conf->host)
                    : ngx_ssl_check_host(c, &conf->host))
        != NGX_OK)
    {
        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_TLS, 0,
                                  "the certificate does not match \"%V\"",
                                  &conf->host);
        return;
    }

    c->read->handler = ngx_http_voxanne_wsc_read_handler;
    c->write->handler = ngx_http_voxanne_wsc_write_handler;

    /* bytes may have come with the end of the handshake */

    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);
    }

    ngx_http_voxanne_wsc_request(wsc);
}


/* ngx_ssl_check_host() matches names only: an IP literal's certificate */

static ngx_int_t
ngx_http_voxanne_wsc_check_ip(ngx_connection_t *c, ngx_str_t *ip)
{
    int    rc;
    X509  *cert;

    cert = SSL_get_peer_certificate(c->ssl->connection);
    if (cert == NULL) {
        return NGX_ERROR;
    }

    rc = X509_check_ip_asc(cert, (char *) ip->data, 0);

    X509_free(cert);

    return (rc == 1) ? NGX_OK : NGX_ERROR;
}

#endif


/*
 * The upgrade request, with a fresh key.  The extra headers carry the
 * credentials: the request is wiped from the output once it is sent.
 */

static void
ngx_http_voxanne_wsc_request(ngx_http_voxanne_wsc_t *wsc)
{
    size_t                        len;
    ngx_str_t                     key;
    ngx_connection_t             *c;
    ngx_http_voxanne_wsc_conf_t  *conf;
    u_char                        nonce[NGX_HTTP_VOXANNE_WS_NONCE_LEN];
    u_char                        k[NGX_HTTP_VOXANNE_WS_KEY_LEN];

    conf = wsc->conf;
    c = wsc->peer.connection;

    len = sizeof("GET  HTTP/1.1" CRLF "Host: " CRLF
                 "Upgrade: websocket" CRLF "Connection: Upgrade" CRLF
                 "Sec-WebSocket-Key: " CRLF
                 "Sec-WebSocket-Version: 13" CRLF CRLF) - 1
          + conf->uri.len + conf->authority.len
          + NGX_HTTP_VOXANNE_WS_KEY_LEN + conf->headers.len;

    key.data = k;
    key.len = NGX_HTTP_VOXANNE_WS_KEY_LEN;

    if (len > (size_t) (wsc->out.end - wsc->out.last)
        || RAND_bytes(nonce, NGX_HTTP_VOXANNE_WS_NONCE_LEN) != 1
        || ngx_http_voxanne_ws_key(k, nonce) != NGX_OK
        || ngx_http_voxanne_ws_accept(wsc->accept, &key) != NGX_OK)
    {
        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_HANDSHAKE, 0,
                                  "no upgrade request");
        return;
    }

    wsc->out.last = ngx_sprintf(wsc->out.last,
                                "GET %V HTTP/1.1" CRLF
                                "Host: %V" CRLF
                                "Upgrade: websocket" CRLF
                                "Connection: Upgrade" CRLF
                                "Sec-WebSocket-Key: %V" CRLF
                                "Sec-WebSocket-Version: 13" CRLF
                                "%V" CRLF,
                                &conf->uri, &conf->authority, &key,
                                &conf->headers);

    wsc->request = wsc->out.last - wsc->out.start;

    wsc->state = NGX_HTTP_VOXANNE_WSC_UPGRADING;
    wsc->log.action = "upgrading to a WebSocket";

    ngx_add_timer(c->read, conf->connect_timeout);

    ngx_http_voxanne_wsc_flush(wsc);
}


static void
ngx_http_voxanne_wsc_read_handler(ngx_event_t *rev)
{
    ngx_connection_t        *c;
    ngx_http_voxanne_wsc_t  *wsc;

    c = rev->data;
    wsc = c->data;

    if (rev->timedout) {
        rev->timedout = 0;
        ngx_http_voxanne_wsc_timedout(wsc);
        return;
    }

    switch (wsc->state) {

    case NGX_HTTP_VOXANNE_WSC_CONNECTING:
        ngx_http_voxanne_wsc_connected(wsc);
        return;

    case NGX_HTTP_VOXANNE_WSC_UPGRADING:
        ngx_http_voxanne_wsc_upgrade(wsc);
        return;

    default: /* OPEN, CLOSING */
        ngx_http_voxanne_wsc_read(wsc);
    }
}


static void
ngx_http_voxanne_wsc_write_handler(ngx_event_t *wev)
{
    ngx_connection_t        *c;
    ngx_http_voxanne_wsc_t  *wsc;

    c = wev->data;
    wsc = c->data;

    if (wsc->state == NGX_HTTP_VOXANNE_WSC_CONNECTING) {
        ngx_http_voxanne_wsc_connected(wsc);
        return;
    }

    if (wev->timedout) {
        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_TIMEOUT, 0,
                                  "the server does not read");
        return;
    }

    ngx_http_voxanne_wsc_flush(wsc);
}


/* every step's timer is on the read event */

static void
ngx_http_voxanne_wsc_timedout(ngx_http_voxanne_wsc_t *wsc)
{
    ngx_connection_t  *c;

    c = wsc->peer.connection;

    switch (wsc->state) {

    case NGX_HTTP_VOXANNE_WSC_CONNECTING:
        ngx_http_voxanne_wsc_next(wsc, NGX_HTTP_VOXANNE_WSC_TIMEOUT,
                                  "timed out");
        return;

    case NGX_HTTP_VOXANNE_WSC_UPGRADING:
        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_TIMEOUT, 0,
                                  "no answer to the upgrade in %M ms",
                                  wsc->conf->connect_timeout);
        return;

    case NGX_HTTP_VOXANNE_WSC_OPEN:

        /* silence: a ping, and then the pong must come */

        if (!wsc->pinged
            && ngx_http_voxanne_wsc_queue(wsc, NGX_HTTP_VOXANNE_WS_PING,
                                          (u_char *) "voxanne", 7)
               == NGX_OK)
        {
            wsc->pinged = 1;
            ngx_add_timer(c->read, wsc->conf->idle_timeout);
            ngx_http_voxanne_wsc_flush(wsc);
            return;
        }

        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_TIMEOUT,
                                  NGX_HTTP_VOXANNE_WS_GOING_AWAY,
                                  "no pong in %M ms",
                                  wsc->conf->idle_timeout);
        return;

    default: /* CLOSING: the server did not answer our close */
        ngx_http_voxanne_wsc_finalize(wsc);
    }
}


/* the server's answer to the upgrade */

static void
ngx_http_voxanne_wsc_upgrade(ngx_http_voxanne_wsc_t *wsc)
{
    ssize_t            n;
    ngx_int_t          rc;
    ngx_buf_t         *b;
    ngx_connection_t  *c;

    c = wsc->peer.connection;
    b = &wsc->in;

    for ( ;; ) {
        n = c->recv(c, b->last, b->end - b->last);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_DROPPED,
                                          0, "no read event");
            }

            return;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_DROPPED, 0,
                                      "the server closed the connection "
                                      "before its answer");
            return;
        }

        b->last += n;

        /* the in buffer holds NGX_HTTP_VOXANNE_WS_RESPONSE_MAX at least */

        rc = ngx_http_voxanne_ws_response(&wsc->response, b->start,
                                          b->last - b->start, wsc->accept);

        if (rc == NGX_OK) {
            break;
        }

        if (rc == NGX_AGAIN) {
            continue;
        }

        if (rc == NGX_DECLINED && wsc->response.status != 101) {
            ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_REFUSED,
                                      wsc->response.status,
                                      "the server answered %ui",
                                      wsc->response.status);
            return;
        }

        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_HANDSHAKE, 0,
                                  "an invalid answer to the upgrade: %s",
                                  wsc->response.error);
        return;
    }

    /* frames may follow the head */

    b->pos = b->start + wsc->response.len;

    ngx_http_voxanne_ws_init(&wsc->ws, wsc->conf->max_message,
                             NGX_HTTP_VOXANNE_WS_CLIENT);

    wsc->state = NGX_HTTP_VOXANNE_WSC_OPEN;
    wsc->log.action = "talking to a WebSocket server";

    ngx_add_timer(c->read, wsc->conf->idle_timeout);

    wsc->handlers.opened(wsc->data);

    if (wsc->detached) {
        return;
    }

    ngx_http_voxanne_wsc_read(wsc);
}


static void
ngx_http_voxanne_wsc_read(ngx_http_voxanne_wsc_t *wsc)
{
    ssize_t            n;
    ngx_int_t          rc;
    ngx_buf_t         *b;
    ngx_uint_t         got;
    ngx_connection_t  *c;

    c = wsc->peer.connection;
    b = &wsc->in;
    got = 0;

    if (wsc->paused) {
        return;
    }

    for ( ;; ) {
        rc = ngx_http_voxanne_wsc_frames(wsc);

        if (rc == NGX_DONE) {

            /* closed, failed or detached: nothing more here */

            return;
        }

        if (rc == NGX_AGAIN) {

            /* the consumer is full: no reading, no idle timer till resumed */

            wsc->paused = 1;

            if (c->read->timer_set) {
                ngx_del_timer(c->read);
            }

            return;
        }

        b->pos = b->start;
        b->last = b->start;

        n = c->recv(c, b->last, b->end - b->last);

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {

            if (wsc->state == NGX_HTTP_VOXANNE_WSC_CLOSING) {
                ngx_http_voxanne_wsc_finalize(wsc);
                return;
            }

            ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_DROPPED, 0,
                                      "the server closed the connection "
                                      "without a close frame");
            return;
        }

        b->last += n;
        wsc->pinged = 0;
        got = 1;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_DROPPED, 0,
                                  "no read event");
        return;
    }

    if (wsc->state == NGX_HTTP_VOXANNE_WSC_OPEN
        && (got || !c->read->timer_set))
    {
        ngx_add_timer(c->read, wsc->conf->idle_timeout);
    }
}


/*
 * The frames in the input, and a message the consumer could not take
 * before: NGX_OK when all are parsed, NGX_AGAIN when the consumer is full,
 * NGX_DONE when nothing more is to be read here.
 */

static ngx_int_t
ngx_http_voxanne_wsc_frames(ngx_http_voxanne_wsc_t *wsc)
{
    u_char                       *text;
    size_t                        len;
    ngx_int_t                     rc;
    ngx_http_voxanne_ws_chunk_t   ch;

    if (wsc->pending) {
        text = wsc->pending;
        len = wsc->pending_len;
        wsc->pending = NULL;

        rc = ngx_http_voxanne_wsc_deliver(wsc, text, len);

        if (rc != NGX_OK) {
            return rc;
        }
    }

    for ( ;; ) {
        rc = ngx_http_voxanne_ws_parse(&wsc->ws, &wsc->in.pos, wsc->in.last,
                                       &ch);

        switch (rc) {

        case NGX_AGAIN:
            return NGX_OK;

        case NGX_ERROR:

            /* once: a parser that failed stays failed */

            if (wsc->state == NGX_HTTP_VOXANNE_WSC_OPEN) {
                ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_PROTOCOL,
                                          wsc->ws.error,
                                          "an invalid frame, close %ui",
                                          wsc->ws.error);
            }

            return NGX_DONE;

        case NGX_DONE:
            return NGX_DONE;

        default: /* NGX_OK */

            if (ch.opcode & 0x08) {
                ngx_http_voxanne_wsc_control(wsc, &ch);

                if (wsc->finish || wsc->state == NGX_HTTP_VOXANNE_WSC_DONE) {
                    return NGX_DONE;
                }

                continue;
            }

            rc = ngx_http_voxanne_wsc_text(wsc, &ch);

            if (rc != NGX_OK) {
                return rc;
            }
        }
    }
}


/* a chunk of a data message; whole messages go to the consumer */

static ngx_int_t
ngx_http_voxanne_wsc_text(ngx_http_voxanne_wsc_t *wsc,
    ngx_http_voxanne_ws_chunk_t *ch)
{
    u_char  *msg;
    size_t   size;

    if (wsc->state != NGX_HTTP_VOXANNE_WSC_OPEN || wsc->detached) {
        return NGX_OK;
    }

    if (ch->opcode == NGX_HTTP_VOXANNE_WS_BINARY) {
        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_PROTOCOL,
                                  NGX_HTTP_VOXANNE_WS_UNSUPPORTED,
                                  "a binary frame");
        return NGX_DONE;
    }

    /* a whole message in one chunk is delivered where it lies */

    if (ch->fin && wsc->msg_len == 0) {
        return ngx_http_voxanne_wsc_deliver(wsc, ch->data, ch->len);
    }

    if (wsc->msg_len + ch->len > wsc->msg_size) {

        /* the codec has checked the message against max_message */

        size = ngx_max(wsc->msg_size * 2, wsc->msg_len + ch->len);
        size = ngx_max(size, NGX_HTTP_VOXANNE_WSC_MSG);

        msg = ngx_alloc(size, &wsc->log);
        if (msg == NULL) {
            ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_PROTOCOL,
                                      NGX_HTTP_VOXANNE_WS_TOO_BIG,
                                      "no memory for a message of %uz "
                                      "bytes", wsc->msg_len + ch->len);
            return NGX_DONE;
        }

        if (wsc->msg_len) {
            ngx_memcpy(msg, wsc->msg, wsc->msg_len);
        }

        ngx_free(wsc->msg);

        wsc->msg = msg;
        wsc->msg_size = size;
    }

    ngx_memcpy(wsc->msg + wsc->msg_len, ch->data, ch->len);
    wsc->msg_len += ch->len;

    if (!ch->fin) {
        return NGX_OK;
    }

    return ngx_http_voxanne_wsc_deliver(wsc, wsc->msg, wsc->msg_len);
}


static ngx_int_t
ngx_http_voxanne_wsc_deliver(ngx_http_voxanne_wsc_t *wsc, u_char *text,
    size_t len)
{
    ngx_int_t  rc;

    rc = wsc->handlers.message(wsc->data, text, len);

    if (wsc->detached) {
        return NGX_DONE;
    }

    if (rc == NGX_AGAIN) {
        wsc->pending = text;
        wsc->pending_len = len;
        return NGX_AGAIN;
    }

    if (text != wsc->msg) {
        return NGX_OK;
    }

    /* the message buffer is free again; a large one is given back */

    wsc->msg_len = 0;

    if (wsc->msg_size > NGX_HTTP_VOXANNE_WSC_MSG_KEEP) {
        ngx_free(wsc->msg);
        wsc->msg = NULL;
        wsc->msg_size = 0;
    }

    return NGX_OK;
}


static void
ngx_http_voxanne_wsc_control(ngx_http_voxanne_wsc_t *wsc,
    ngx_http_voxanne_ws_chunk_t *ch)
{
    size_t      size;
    ngx_uint_t  code;

    ngx_memcpy(wsc->ctrl + wsc->ctrl_len, ch->data, ch->len);
    wsc->ctrl_len += ch->len;

    if (!ch->last) {
        return;
    }

    size = wsc->ctrl_len;
    wsc->ctrl_len = 0;

    switch (ch->opcode) {

    case NGX_HTTP_VOXANNE_WS_PING:

        if (wsc->state == NGX_HTTP_VOXANNE_WSC_OPEN
            && ngx_http_voxanne_wsc_queue(wsc, NGX_HTTP_VOXANNE_WS_PONG,
                                          wsc->ctrl, size)
               == NGX_OK)
        {
            ngx_http_voxanne_wsc_post_write(wsc);
        }

        return;

    case NGX_HTTP_VOXANNE_WS_PONG:
        return;

    default: /* NGX_HTTP_VOXANNE_WS_CLOSE */

        code = wsc->ws.close_code;

        if (wsc->state == NGX_HTTP_VOXANNE_WSC_CLOSING) {

            /* the answer to ours */

            wsc->finish = 1;
            ngx_http_voxanne_wsc_post_write(wsc);
            return;
        }

        ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_CLOSED, code,
                                  "the server closed with %ui", code);
    }
}


/*
 * Queues a frame, masked with a key of its own.  data may lie in the
 * output already, after room for the longest header.
 */

static ngx_int_t
ngx_http_voxanne_wsc_queue(ngx_http_voxanne_wsc_t *wsc, ngx_uint_t opcode,
    u_char *data, size_t len)
{
    size_t  n;
    u_char  header[NGX_HTTP_VOXANNE_WS_MASKED_MAX];

    if ((size_t) (wsc->out.end - wsc->out.last)
        < NGX_HTTP_VOXANNE_WS_MASKED_MAX + len)
    {
        return NGX_ERROR;
    }

    if (wsc->keys_used + 4 > NGX_HTTP_VOXANNE_WSC_KEYS) {
        if (RAND_bytes(wsc->keys, NGX_HTTP_VOXANNE_WSC_KEYS) != 1) {
            return NGX_ERROR;
        }

        wsc->keys_used = 0;
    }

    n = ngx_http_voxanne_ws_masked_header(header, opcode, len,
                                          wsc->keys + wsc->keys_used);
    if (n == 0) {
        return NGX_ERROR;
    }

    ngx_memmove(wsc->out.last + n, data, len);
    ngx_memcpy(wsc->out.last, header, n);
    ngx_http_voxanne_ws_mask(wsc->out.last + n, len,
                             wsc->keys + wsc->keys_used, 0);

    wsc->keys_used += 4;
    wsc->out.last += n + len;

    return NGX_OK;
}


/* our close frame; the connection ends when the output has drained */

static void
ngx_http_voxanne_wsc_closing(ngx_http_voxanne_wsc_t *wsc, ngx_uint_t code)
{
    size_t             n;
    ngx_connection_t  *c;
    u_char             payload[2];

    c = wsc->peer.connection;

    wsc->state = NGX_HTTP_VOXANNE_WSC_CLOSING;
    wsc->log.action = "closing a WebSocket";
    wsc->paused = 0;
    wsc->pending = NULL;

    n = ngx_http_voxanne_ws_close_payload(payload, code, NULL, 0);

    if (ngx_http_voxanne_wsc_queue(wsc, NGX_HTTP_VOXANNE_WS_CLOSE, payload, n)
        != NGX_OK)
    {
        wsc->finish = 1;
    }

    ngx_add_timer(c->read, NGX_HTTP_VOXANNE_WSC_CLOSE_TIMEOUT);

    /* the server's answer is read, even if reading had stopped */

    ngx_post_event(c->read, &ngx_posted_events);

    ngx_http_voxanne_wsc_post_write(wsc);
}


static void
ngx_http_voxanne_wsc_flush(ngx_http_voxanne_wsc_t *wsc)
{
    size_t             n;
    ssize_t            sent;
    ngx_buf_t         *b;
    ngx_connection_t  *c;

    c = wsc->peer.connection;
    b = &wsc->out;

    while (b->pos < b->last) {

        sent = c->send(c, b->pos, b->last - b->pos);

        if (sent == NGX_AGAIN) {
            break;
        }

        if (sent == NGX_ERROR) {
            if (wsc->state == NGX_HTTP_VOXANNE_WSC_CLOSING) {
                ngx_http_voxanne_wsc_finalize(wsc);
                return;
            }

            ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_DROPPED, 0,
                                      "the connection broke while sending");
            return;
        }

        b->pos += sent;
    }

    if (b->pos < b->last) {

        /* what is left moves to the start: room for the next frames */

        if (b->pos != b->start) {
            n = b->last - b->pos;
            ngx_memmove(b->start, b->pos, n);
            b->pos = b->start;
            b->last = b->start + n;
        }

        if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
            ngx_http_voxanne_wsc_fail(wsc, NGX_HTTP_VOXANNE_WSC_DROPPED, 0,
                                      "no write event");
            return;
        }

        if (wsc->state >= NGX_HTTP_VOXANNE_WSC_OPEN) {
            ngx_add_timer(c->write, wsc->conf->idle_timeout);
        }

    } else {

        /* moving the rest never took it past the request's first extent */

        if (wsc->request) {
            ngx_explicit_memzero(b->start, wsc->request);
            wsc->request = 0;
        }

        b->pos = b->start;
        b->last = b->start;

        if (c->write->timer_set) {
            ngx_del_timer(c->write);
        }

        if (wsc->finish) {
            ngx_http_voxanne_wsc_finalize(wsc);
            return;
        }
    }

    if (wsc->want_drain && ngx_http_voxanne_wsc_writable(wsc)) {
        wsc->want_drain = 0;
        wsc->handlers.drained(wsc->data);
    }
}


/* frames are sent together, from an event of the client's own */

static void
ngx_http_voxanne_wsc_post_write(ngx_http_voxanne_wsc_t *wsc)
{
    ngx_post_event(wsc->peer.connection->write, &ngx_posted_events);
}


/*
 * The end, for any cause: the consumer hears of it once, then the server
 * gets our close frame when one is due and can still be sent.
 */

static void
ngx_http_voxanne_wsc_fail(ngx_http_voxanne_wsc_t *wsc, ngx_uint_t cause,
    ngx_uint_t code, const char *fmt, ...)
{
    void     *data;
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(wsc->detail, wsc->detail + NGX_HTTP_VOXANNE_WSC_DETAIL,
                      fmt, args);
    va_end(args);

    wsc->end.cause = cause;
    wsc->end.status = (cause == NGX_HTTP_VOXANNE_WSC_REFUSED) ? code : 0;
    wsc->end.code = (cause == NGX_HTTP_VOXANNE_WSC_REFUSED) ? 0 : code;
    wsc->end.detail.data = wsc->detail;
    wsc->end.detail.len = p - wsc->detail;

    if (!wsc->detached) {
        data = wsc->data;
        ngx_http_voxanne_wsc_detach(wsc);
        wsc->handlers.closed(data, &wsc->end);
    }

    if (wsc->state != NGX_HTTP_VOXANNE_WSC_OPEN
        || cause == NGX_HTTP_VOXANNE_WSC_DROPPED)
    {
        ngx_http_voxanne_wsc_finalize(wsc);
        return;
    }

    /* a close of the server's is answered with its code */

    if (code == 0 || code == NGX_HTTP_VOXANNE_WS_NO_STATUS) {
        code = NGX_HTTP_VOXANNE_WS_NORMAL;
    }

    wsc->finish = 1;

    ngx_http_voxanne_wsc_closing(wsc, code);
}


static void
ngx_http_voxanne_wsc_detach(ngx_http_voxanne_wsc_t *wsc)
{
    wsc->detached = 1;
    wsc->data = NULL;

    /* the consumer's log context may go with it */

    wsc->log.handler = NULL;
    wsc->log.data = NULL;
}


ngx_uint_t
ngx_http_voxanne_wsc_writable(ngx_http_voxanne_wsc_t *wsc)
{
    if ((size_t) (wsc->out.end - wsc->out.last) >= wsc->conf->out_size / 2) {
        return 1;
    }

    wsc->want_drain = 1;

    return 0;
}


u_char *
ngx_http_voxanne_wsc_buffer(ngx_http_voxanne_wsc_t *wsc, size_t *room)
{
    size_t  free;

    free = wsc->out.end - wsc->out.last;

    *room = (free > NGX_HTTP_VOXANNE_WS_MASKED_MAX)
            ? free - NGX_HTTP_VOXANNE_WS_MASKED_MAX : 0;

    return wsc->out.last + NGX_HTTP_VOXANNE_WS_MASKED_MAX;
}


ngx_int_t
ngx_http_voxanne_wsc_send(ngx_http_voxanne_wsc_t *wsc, u_char *text,
    size_t len)
{
    if (wsc->state != NGX_HTTP_VOXANNE_WSC_OPEN || wsc->detached) {
        return NGX_ERROR;
    }

    if (ngx_http_voxanne_wsc_queue(wsc, NGX_HTTP_VOXANNE_WS_TEXT, text, len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_voxanne_wsc_post_write(wsc);

    return NGX_OK;
}


void
ngx_http_voxanne_wsc_resume(ngx_http_voxanne_wsc_t *wsc)
{
    if (!wsc->paused || wsc->detached) {
        return;
    }

    wsc->paused = 0;

    ngx_post_event(wsc->peer.connection->read, &ngx_posted_events);
}


/*
 * The consumer is done: no callback after this.  The rest happens in a
 * posted event, so this is safe from inside a callback and from a pool
 * cleanup of the consumer's.
 */

void
ngx_http_voxanne_wsc_close(ngx_http_voxanne_wsc_t *wsc, ngx_uint_t code)
{
    if (wsc->detached) {
        return;
    }

    ngx_http_voxanne_wsc_detach(wsc);

    wsc->close_code = code;
    wsc->event.handler = ngx_http_voxanne_wsc_shutdown;

    if (!wsc->event.posted) {
        ngx_post_event(&wsc->event, &ngx_posted_events);
    }
}


static void
ngx_http_voxanne_wsc_shutdown(ngx_event_t *ev)
{
    ngx_http_voxanne_wsc_t *wsc = ev->data;

    switch (wsc->state) {

    case NGX_HTTP_VOXANNE_WSC_OPEN:
        ngx_http_voxanne_wsc_closing(wsc, wsc->close_code);
        return;

    case NGX_HTTP_VOXANNE_WSC_CLOSING:
    case NGX_HTTP_VOXANNE_WSC_DONE:
        return;

    default:

        /* not open yet: nothing to say to the server */

        ngx_http_voxanne_wsc_finalize(wsc);
    }
}


static void
ngx_http_voxanne_wsc_finalize(ngx_http_voxanne_wsc_t *wsc)
{
    ngx_connection_t  *c;

    if (wsc->state == NGX_HTTP_VOXANNE_WSC_DONE) {
        return;
    }

    wsc->state = NGX_HTTP_VOXANNE_WSC_DONE;

    if (wsc->resolver) {
        ngx_resolve_name_done(wsc->resolver);
        wsc->resolver = NULL;
    }

    c = wsc->peer.connection;

    if (c) {
        wsc->peer.connection = NULL;

#if (NGX_SSL)
        if (c->ssl) {
            c->ssl->no_wait_shutdown = 1;
            c->ssl->no_send_shutdown = 1;
            (void) ngx_ssl_shutdown(c);
        }
#endif

        ngx_close_connection(c);
    }

    if (wsc->request) {
        ngx_explicit_memzero(wsc->out.start, wsc->request);
        wsc->request = 0;
    }

    ngx_free(wsc->msg);
    wsc->msg = NULL;

    wsc->event.handler = ngx_http_voxanne_wsc_free;

    if (!wsc->event.posted) {
        ngx_post_event(&wsc->event, &ngx_posted_events);
    }
}


static void
ngx_http_voxanne_wsc_free(ngx_event_t *ev)
{
    ngx_http_voxanne_wsc_t *wsc = ev->data;

    ngx_destroy_pool(wsc->pool);
}
