
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the client's side of the WebSocket opening handshake: the
 * Sec-WebSocket-Key from a nonce, and the check of the server's answer.
 * Every answer is read whole, as it grows a byte at a time, and as it grows
 * in two reads cut at every byte, each time from a heap block of exactly
 * the bytes received so far; all must give the same result.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>
#include "ngx_http_voxanne_ws.h"
#include "tap.h"


/* RFC 6455 1.3: the key of the sample nonce, and its accept */

#define KEY      "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT   "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

#define OK_HEAD  "HTTP/1.1 101 Switching Protocols\r\n"                      \
                 "Upgrade: websocket\r\n"                                    \
                 "Connection: Upgrade\r\n"                                   \
                 "Sec-WebSocket-Accept: " ACCEPT "\r\n"


/*
 * Reads data[0 .. len) as it arrives in reads ending at each of cuts[],
 * then at len, and describes the result.
 */

static void
feed(u_char *data, size_t len, size_t *cuts, ngx_uint_t ncuts, char *log)
{
    u_char                          *copy;
    size_t                           to;
    ngx_int_t                        rc;
    ngx_uint_t                       s;
    ngx_http_voxanne_ws_response_t   r;

    ngx_memzero(&r, sizeof(r));
    rc = NGX_AGAIN;

    for (s = 0; s <= ncuts && rc == NGX_AGAIN; s++) {
        to = (s < ncuts) ? cuts[s] : len;

        copy = malloc(to ? to : 1);
        ngx_memcpy(copy, data, to);

        rc = ngx_http_voxanne_ws_response(&r, copy, to, (u_char *) ACCEPT);

        free(copy);

        if (rc == NGX_AGAIN && r.scanned > to) {
            sprintf(log, "INVARIANT: scanned %zu of %zu", r.scanned, to);
            return;
        }
    }

    switch (rc) {

    case NGX_AGAIN:
        strcpy(log, "again");
        break;

    case NGX_OK:
        sprintf(log, "ok %u, head %zu", (unsigned) r.status, r.len);
        break;

    case NGX_DECLINED:
        sprintf(log, "declined %u: %s", (unsigned) r.status, r.error);
        break;

    case NGX_ERROR:
        sprintf(log, "error: %s", r.error);
        break;

    default:
        sprintf(log, "rc %d", (int) rc);
    }
}


static void
t(char *name, char *in, size_t len, char *want)
{
    size_t       k, *cuts;
    ngx_uint_t   ok;
    char         got[256];

    cuts = malloc((len + 1) * sizeof(size_t));

    feed((u_char *) in, len, NULL, 0, got);
    tap_ok(strcmp(got, want) == 0, "%s: whole", name);

    if (strcmp(got, want) != 0) {
        printf("#          got: '%s'\n#     expected: '%s'\n", got, want);
    }

    ok = 1;

    for (k = 0; k < len && ok; k++) {
        cuts[0] = k;
        feed((u_char *) in, len, cuts, 1, got);
        ok = (strcmp(got, want) == 0);
    }

    tap_ok(ok, "%s: in two reads, cut anywhere", name);

    for (k = 0; k < len; k++) {
        cuts[k] = k;
    }

    feed((u_char *) in, len, cuts, len, got);
    tap_ok(strcmp(got, want) == 0, "%s: a byte at a time", name);

    free(cuts);
}


#define T(name, in, want)  t(name, in, sizeof(in) - 1, want)


static void
test_key(void)
{
    u_char     dst[NGX_HTTP_VOXANNE_WS_KEY_LEN + 1];
    ngx_str_t  key;

    memset(dst, '#', sizeof(dst));

    tap_ok(ngx_http_voxanne_ws_key(dst, (u_char *) "the sample nonce")
           == NGX_OK && dst[NGX_HTTP_VOXANNE_WS_KEY_LEN] == '#',
           "key: NGX_OK, 24 characters");
    tap_is_mem(dst, NGX_HTTP_VOXANNE_WS_KEY_LEN, KEY,
               "key of RFC 6455's sample nonce");

    key.data = dst;
    key.len = NGX_HTTP_VOXANNE_WS_KEY_LEN;

    (void) ngx_http_voxanne_ws_key(dst, (u_char *) "\xff\xfe\xfd\xfc\xfb\xfa"
                                   "\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0");
    tap_ok(ngx_http_voxanne_ws_key_valid(&key) == NGX_OK,
           "a key of high bytes is a valid key");
}


static void
test_accepted(void)
{
    T("RFC 6455 1.3", OK_HEAD "\r\n", "ok 101, head 129");
    T("frames right after the head", OK_HEAD "\r\n\x81\x02hi",
      "ok 101, head 129");
    T("bare LF line ends",
      "HTTP/1.1 101 Switching Protocols\n"
      "Upgrade: websocket\n"
      "Connection: Upgrade\n"
      "Sec-WebSocket-Accept: " ACCEPT "\n\n",
      "ok 101, head 124");
    T("names and tokens in any case, lists, white space",
      "HTTP/1.1 101 \r\n"
      "date: Mon, 01 Jan 2026 00:00:00 GMT\r\n"
      "uPgRaDe:WebSocket\r\n"
      "CONNECTION: \t keep-alive,Upgrade \t\r\n"
      "sec-websocket-accept:   " ACCEPT "  \r\n"
      "Sec-WebSocket-Extensions:\r\n"
      "x-request-id: req_0123456789\r\n\r\n",
      "ok 101, head 222");
    T("no reason phrase at all",
      "HTTP/1.1 101\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
      "ok 101, head 109");
}


static void
test_refused(void)
{
    T("401", "HTTP/1.1 401 Unauthorized\r\n"
      "Content-Type: application/json\r\n"
      "Content-Length: 33\r\n\r\n"
      "{\"error\":{\"code\":\"invalid_key\"}}",
      "declined 401: the server refused the upgrade");
    T("403 over HTTP/1.0", "HTTP/1.0 403 Forbidden\r\n\r\n",
      "declined 403: the server refused the upgrade");
    T("429", "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n\r\n",
      "declined 429: the server refused the upgrade");
    T("503", "HTTP/1.1 503 Service Unavailable\r\n\r\n",
      "declined 503: the server refused the upgrade");
    T("200", "HTTP/1.1 200 OK\r\n" "Upgrade: websocket\r\n\r\n",
      "declined 200: the server refused the upgrade");
    T("a refusal's headers are not checked",
      "HTTP/1.1 400 Bad Request\r\nno colon here\r\n\r\n",
      "declined 400: the server refused the upgrade");

    T("101 over HTTP/1.0", "HTTP/1.0 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
      "declined 101: 101 over HTTP/1.0");
    T("a wrong accept", "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOA=\r\n\r\n",
      "declined 101: no valid Sec-WebSocket-Accept");
    T("an accept in another case", "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: S3PPLMBITXAQ9KYGZZHZRBK+XOO=\r\n\r\n",
      "declined 101: no valid Sec-WebSocket-Accept");
    T("no accept", "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      "declined 101: no valid Sec-WebSocket-Accept");
    T("two accepts", OK_HEAD "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
      "declined 101: no valid Sec-WebSocket-Accept");
    T("the accept of the key", "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " KEY "\r\n\r\n",
      "declined 101: no valid Sec-WebSocket-Accept");
    T("no Upgrade", "HTTP/1.1 101 Switching Protocols\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
      "declined 101: no \"Upgrade: websocket\"");
    T("Upgrade: h2c", "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: h2c\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
      "declined 101: no \"Upgrade: websocket\"");
    T("Upgrade: websockets", "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websockets\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
      "declined 101: no \"Upgrade: websocket\"");
    T("no Connection", "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
      "declined 101: no \"Connection: upgrade\"");
    T("Connection: upgraded", "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade: websocket\r\nConnection: upgraded, close\r\n"
      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n",
      "declined 101: no \"Connection: upgrade\"");
    T("an extension", OK_HEAD
      "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
      "declined 101: an extension that was not asked for");
    T("a subprotocol", OK_HEAD "Sec-WebSocket-Protocol: realtime\r\n\r\n",
      "declined 101: a subprotocol that was not asked for");
}


static void
test_malformed(void)
{
    char    *head;
    size_t   n;

    T("nothing yet", "", "again");
    T("a status line only", "HTTP/1.1 101 Switching Protocols\r\n", "again");
    T("no empty line yet", OK_HEAD, "again");
    T("a CR without its LF", OK_HEAD "\r", "again");

    T("HTTP/2", "HTTP/2 101 Switching Protocols\r\n\r\n",
      "error: not an HTTP/1.x status line");
    T("HTTP/1.2", "HTTP/1.2 101 Switching Protocols\r\n\r\n",
      "error: not an HTTP/1.x status line");
    T("lowercase http", "http/1.1 101 Switching Protocols\r\n\r\n",
      "error: not an HTTP/1.x status line");
    T("a status of two digits", "HTTP/1.1 99 Odd\r\n\r\n",
      "error: not an HTTP/1.x status line");
    T("a status of four digits", "HTTP/1.1 1010 Odd\r\n\r\n",
      "error: not an HTTP/1.x status line");
    T("a status of 600", "HTTP/1.1 600 Odd\r\n\r\n",
      "error: not an HTTP/1.x status line");
    T("a letter in the status", "HTTP/1.1 1o1 Odd\r\n\r\n",
      "error: not an HTTP/1.x status line");
    T("no space before the reason", "HTTP/1.1 101Switching\r\n\r\n",
      "error: not an HTTP/1.x status line");
    T("two spaces before the status", "HTTP/1.1  101 Switching\r\n\r\n",
      "error: not an HTTP/1.x status line");
    T("an empty first line", "\r\n" OK_HEAD "\r\n",
      "error: not an HTTP/1.x status line");
    T("not HTTP at all", "SSH-2.0-OpenSSH_9.2\r\n\r\n",
      "error: not an HTTP/1.x status line");
    T("a NUL in the reason", "HTTP/1.1 101 Swi\0tching\r\n\r\n",
      "error: a control character in the status line");

    T("a header line without a colon", OK_HEAD "Upgrade websocket\r\n\r\n",
      "error: an invalid header line");
    T("space before the colon", "HTTP/1.1 101 Switching Protocols\r\n"
      "Upgrade : websocket\r\n\r\n", "error: an invalid header line");
    T("an empty name", OK_HEAD ": nothing\r\n\r\n",
      "error: an invalid header line");
    T("a folded line", OK_HEAD "X-Long: a\r\n b\r\n\r\n",
      "error: an invalid header line");
    T("a NUL in a value", OK_HEAD "X-Odd: a\0b\r\n\r\n",
      "error: a control character in a header value");
    T("a CR inside a value", OK_HEAD "X-Odd: a\rb\r\n\r\n",
      "error: a control character in a header value");

    /* the cap: a head of 8192 bytes is read, one more byte is not */

    head = malloc(NGX_HTTP_VOXANNE_WS_RESPONSE_MAX + 64);

    n = sprintf(head, "%s", OK_HEAD "X-Pad: ");
    memset(head + n, 'a', NGX_HTTP_VOXANNE_WS_RESPONSE_MAX - n - 4);
    memcpy(head + NGX_HTTP_VOXANNE_WS_RESPONSE_MAX - 4, "\r\n\r\n", 4);

    t("a head of 8192 bytes", head, NGX_HTTP_VOXANNE_WS_RESPONSE_MAX,
      "ok 101, head 8192");

    memmove(head + n + 1, head + n, NGX_HTTP_VOXANNE_WS_RESPONSE_MAX - n);

    t("a head of 8193 bytes", head, NGX_HTTP_VOXANNE_WS_RESPONSE_MAX + 1,
      "error: the response head is too long");
    t("8192 bytes and no end yet", head, NGX_HTTP_VOXANNE_WS_RESPONSE_MAX,
      "error: the response head is too long");
    t("8191 bytes and no end yet", head,
      NGX_HTTP_VOXANNE_WS_RESPONSE_MAX - 1, "again");

    free(head);
}


static void
test_token(void)
{
    ngx_str_t   v;
    ngx_uint_t  i;

    static struct {
        char        *value;
        char        *token;
        ngx_uint_t   has;
    } tokens[] = {
        { "Upgrade", "upgrade", 1 },
        { "keep-alive, Upgrade", "upgrade", 1 },
        { "keep-alive,upgrade,", "upgrade", 1 },
        { " \tUPGRADE\t ", "upgrade", 1 },
        { "upgraded", "upgrade", 0 },
        { "upgrad", "upgrade", 0 },
        { "", "upgrade", 0 },
        { "keep-alive", "upgrade", 0 },
        { "websocket", "websocket", 1 },
        { "h2c, WebSocket", "websocket", 1 }
    };

    for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        v.data = (u_char *) tokens[i].value;
        v.len = strlen(tokens[i].value);

        tap_ok(ngx_http_voxanne_ws_token(&v, tokens[i].token,
                                         strlen(tokens[i].token))
               == tokens[i].has,
               "\"%s\" %s %s", tokens[i].value,
               tokens[i].has ? "lists" : "does not list", tokens[i].token);
    }
}


int
main(void)
{
    test_key();
    test_accepted();
    test_refused();
    test_malformed();
    test_token();

    return tap_done();
}
