
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_WSC_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_WSC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * An outbound WebSocket client in the worker, generic: it knows URLs,
 * TLS, the upgrade and frames, nothing of what the messages mean.
 *
 *     wsc = ngx_http_voxanne_wsc_open(conf, &handlers, data, log);
 *
 * resolves the host with the location's resolver (unless it is an IP
 * literal), connects to each address in turn until one accepts, does TLS
 * for wss:// (SNI, the certificate verified against the trusted
 * certificates and the host name), sends the upgrade with a fresh key and
 * conf->headers, and checks the 101.  Every step has a timer.  Then:
 *
 *     opened(data)              the upgrade is done: send() may be called;
 *     message(data, text, len)  a whole text message, in the client's own
 *                               buffer: NGX_OK when taken, NGX_AGAIN when
 *                               the consumer cannot take it now (reading
 *                               stops; the same message is delivered again
 *                               after ngx_http_voxanne_wsc_resume());
 *     drained(data)             writable() said no, and the output has
 *                               room again;
 *     closed(data, end)         the connection failed or the server closed
 *                               it: end says why.  The last callback: the
 *                               consumer must forget wsc.
 *
 * Callbacks only ever run from the client's own events, never from inside
 * a call the consumer makes, so a consumer is never re-entered.
 *
 * send() queues a text message, masked with a fresh key: NGX_OK, or
 * NGX_ERROR when it cannot be sent (not open, closing, or no room).  The
 * output is bounded: a consumer checks writable() before producing, which
 * promises room for a message of up to half the output, and says no (and
 * later calls drained()) while the output is more than half full.
 *
 * close() is the consumer's end: no callback runs after it, and the client
 * closes by itself in the background (its close frame, the server's
 * answer or a timer, then the TCP connection) and frees itself.  It may be
 * called at any time, from inside a callback too, and from a pool cleanup.
 *
 * Memory: one pool per connection, holding the client and its buffers,
 * allocated once; a heap buffer for messages that arrive in pieces, grown
 * for a large message and given back after it.  Nothing is allocated per
 * frame.  The pool is destroyed from a posted event, never from inside a
 * handler that might still use it.
 */


typedef enum {
    NGX_HTTP_VOXANNE_WSC_RESOLVE = 0,     /* the host did not resolve */
    NGX_HTTP_VOXANNE_WSC_CONNECT,         /* no address took the connection */
    NGX_HTTP_VOXANNE_WSC_TLS,             /* handshake or certificate */
    NGX_HTTP_VOXANNE_WSC_REFUSED,         /* an HTTP status other than 101 */
    NGX_HTTP_VOXANNE_WSC_HANDSHAKE,       /* not a valid upgrade answer */
    NGX_HTTP_VOXANNE_WSC_TIMEOUT,
    NGX_HTTP_VOXANNE_WSC_DROPPED,         /* gone without a close frame */
    NGX_HTTP_VOXANNE_WSC_PROTOCOL,        /* invalid frames from the server */
    NGX_HTTP_VOXANNE_WSC_CLOSED,          /* the server's close frame */
    NGX_HTTP_VOXANNE_WSC_CAUSES
} ngx_http_voxanne_wsc_cause_e;


typedef struct {
    ngx_uint_t                        cause;   /* ..._wsc_cause_e */
    ngx_uint_t                        status;  /* REFUSED: the HTTP status */
    ngx_uint_t                        code;    /* CLOSED, PROTOCOL */
    ngx_str_t                         detail;  /* for the log, no secret */
} ngx_http_voxanne_wsc_end_t;


typedef void (*ngx_http_voxanne_wsc_opened_pt)(void *data);
typedef ngx_int_t (*ngx_http_voxanne_wsc_message_pt)(void *data,
    u_char *text, size_t len);
typedef void (*ngx_http_voxanne_wsc_drained_pt)(void *data);
typedef void (*ngx_http_voxanne_wsc_closed_pt)(void *data,
    ngx_http_voxanne_wsc_end_t *end);


typedef struct {
    ngx_http_voxanne_wsc_opened_pt    opened;
    ngx_http_voxanne_wsc_message_pt   message;
    ngx_http_voxanne_wsc_drained_pt   drained;
    ngx_http_voxanne_wsc_closed_pt    closed;
} ngx_http_voxanne_wsc_handlers_t;


/* made at configuration time by parse_url() and ssl() */

typedef struct {
    ngx_str_t                         url;
    ngx_str_t                         host;      /* NUL-terminated */
    ngx_str_t                         authority; /* host[:port], for Host */
    ngx_str_t                         uri;       /* path and query */
    in_port_t                         port;
    ngx_addr_t                       *addr;      /* an IP literal */
#if (NGX_SSL)
    ngx_ssl_t                        *ssl;       /* wss:// */
#endif
    ngx_str_t                         headers;   /* lines with CRLF: secret */
    ngx_resolver_t                   *resolver;
    ngx_msec_t                        resolver_timeout;
    ngx_msec_t                        connect_timeout; /* each setup step */
    ngx_msec_t                        idle_timeout;    /* then a ping */
    size_t                            in_size;
    size_t                            out_size;
    size_t                            max_message;
    unsigned                          tls:1;
} ngx_http_voxanne_wsc_conf_t;


typedef struct ngx_http_voxanne_wsc_s  ngx_http_voxanne_wsc_t;


extern ngx_str_t  ngx_http_voxanne_wsc_causes[];


char *ngx_http_voxanne_wsc_parse_url(ngx_conf_t *cf, ngx_str_t *url,
    ngx_http_voxanne_wsc_conf_t *conf);
char *ngx_http_voxanne_wsc_ssl(ngx_conf_t *cf,
    ngx_http_voxanne_wsc_conf_t *conf, ngx_str_t *trusted, ngx_int_t depth);

ngx_http_voxanne_wsc_t *ngx_http_voxanne_wsc_open(
    ngx_http_voxanne_wsc_conf_t *conf, ngx_http_voxanne_wsc_handlers_t *h,
    void *data, ngx_log_t *log);
ngx_uint_t ngx_http_voxanne_wsc_writable(ngx_http_voxanne_wsc_t *wsc);
u_char *ngx_http_voxanne_wsc_buffer(ngx_http_voxanne_wsc_t *wsc,
    size_t *room);
ngx_int_t ngx_http_voxanne_wsc_send(ngx_http_voxanne_wsc_t *wsc,
    u_char *text, size_t len);
void ngx_http_voxanne_wsc_resume(ngx_http_voxanne_wsc_t *wsc);
void ngx_http_voxanne_wsc_close(ngx_http_voxanne_wsc_t *wsc,
    ngx_uint_t code);


#endif /* _NGX_HTTP_VOXANNE_WSC_H_INCLUDED_ */
