
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the WebSocket frame codec.  Every input is fed whole, split
 * in two at every byte boundary, and a byte at a time, each piece in a heap
 * block of its own size; all three must give the same frames and result.
 * The parser is tested as a server (the frames are masked as a client's),
 * and the tests of framing that does not depend on the mask run again with
 * the parser as a client (the frames unmasked, as a server's).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>
#include "ngx_http_voxanne_ws.h"
#include "tap.h"


#define LOG_MAX    8192
#define NO_CAP     ((size_t) -1)
#define CAP63      (((size_t) 1 << 63) - 1)

#define FIN        0x80
#define TEXT       NGX_HTTP_VOXANNE_WS_TEXT
#define BINARY     NGX_HTTP_VOXANNE_WS_BINARY
#define CONT       NGX_HTTP_VOXANNE_WS_CONTINUATION
#define CLOSE      NGX_HTTP_VOXANNE_WS_CLOSE
#define PING       NGX_HTTP_VOXANNE_WS_PING
#define PONG       NGX_HTTP_VOXANNE_WS_PONG

/* a masked client frame of a string literal, its length encoded minimally */
#define F(p, b0, s)  frame(p, b0, (u_char *) s, sizeof(s) - 1, 0)


static ngx_uint_t  masks;

/* RFC 6455 5.7: frames of a client (masked) and of a server */

static u_char  hello[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                           0x7f, 0x9f, 0x4d, 0x51, 0x58 };
static u_char  unmasked[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
static u_char  hel_lo[] = { 0x01, 0x03, 0x48, 0x65, 0x6c,
                            0x80, 0x02, 0x6c, 0x6f };
static u_char  ping[] = { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
static u_char  pong[] = { 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                          0x7f, 0x9f, 0x4d, 0x51, 0x58 };
static ngx_uint_t  side = NGX_HTTP_VOXANNE_WS_SERVER;   /* of the parser */


/*
 * The peer's frame: from a client, with a mask key that changes from frame
 * to frame; from a server, unmasked.  The length in 7 bits, or in 16
 * (ext 2) or 64 (ext 8) as asked.
 */

static u_char *
frame(u_char *p, u_char b0, u_char *payload, size_t len, ngx_uint_t ext)
{
    size_t      i;
    u_char      key[4], *start;
    ngx_uint_t  n;

    if (ext == 0) {
        ext = (len < 126) ? 0 : (len < 65536) ? 2 : 8;
    }

    start = p;
    *p++ = b0;

    switch (ext) {

    case 2:
        *p++ = 0x80 | 126;
        *p++ = (u_char) (len >> 8);
        *p++ = (u_char) len;
        break;

    case 8:
        *p++ = 0x80 | 127;

        for (n = 0; n < 8; n++) {
            *p++ = (u_char) ((uint64_t) len >> (56 - 8 * n));
        }

        break;

    default:
        *p++ = (u_char) (0x80 | len);
    }

    if (side == NGX_HTTP_VOXANNE_WS_CLIENT) {
        start[1] &= 0x7f;

        return ngx_cpymem(p, payload, len);
    }

    masks++;

    key[0] = (u_char) (0x37 + masks);
    key[1] = 0xfa;
    key[2] = (u_char) (0x21 ^ masks);
    key[3] = 0x3d;

    p = ngx_cpymem(p, key, 4);

    for (i = 0; i < len; i++) {
        *p++ = payload[i] ^ key[i & 3];
    }

    return p;
}


/* the log of what the parser delivered: one word per frame, then a result */

static void
log_frame(char *log, ngx_uint_t opcode, ngx_uint_t fin, u_char *data,
    size_t len)
{
    char        *p;
    size_t       i;
    uint32_t     hash;
    static char *names[] = { "?", "text", "binary", "?", "?", "?", "?", "?",
                             "close", "ping", "pong" };

    p = log + strlen(log);
    p += sprintf(p, "%s%s%s(", *log ? " " : "", names[opcode & 0xf],
                 fin ? "" : "+");

    if (len > 64) {
        hash = 2166136261u;

        for (i = 0; i < len; i++) {
            hash = (hash ^ data[i]) * 16777619u;
        }

        p += sprintf(p, "#%zu:%08x", len, hash);

    } else {
        for (i = 0; i < len; i++) {
            if (data[i] >= 0x20 && data[i] < 0x7f && data[i] != '\\'
                && data[i] != '(' && data[i] != ')')
            {
                *p++ = data[i];

            } else {
                p += sprintf(p, "\\x%02x", data[i]);
            }
        }
    }

    strcpy(p, ")");
}


/* feeds in[] cut at cuts[] and logs the frames and the result */

static void
run(u_char *in, size_t len, size_t max, size_t *cuts, ngx_uint_t ncuts,
    char *log)
{
    u_char                       *seg, *pos, *old, *end, *msg;
    size_t                        from, to, mlen, consumed;
    ngx_int_t                     rc;
    ngx_uint_t                    s, bad;
    ngx_http_voxanne_ws_t         ws;
    ngx_http_voxanne_ws_chunk_t   ch;

    ngx_http_voxanne_ws_init(&ws, max, side);

    msg = malloc(len + 1);
    mlen = 0;
    consumed = 0;
    bad = 0;
    rc = NGX_AGAIN;
    *log = '\0';

    for (s = 0; s <= ncuts; s++) {
        from = s ? cuts[s - 1] : 0;
        to = (s < ncuts) ? cuts[s] : len;

        seg = malloc(to - from + 1);
        ngx_memcpy(seg, in + from, to - from);

        pos = seg;
        end = seg + (to - from);

        for ( ;; ) {
            old = pos;
            rc = ngx_http_voxanne_ws_parse(&ws, &pos, end, &ch);

            if (pos < old || pos > end) {
                bad = __LINE__;
            }

            if (rc != NGX_OK) {
                break;
            }

            if (pos == old || ch.data < old || ch.data + ch.len != pos
                || (ch.fin && !ch.last) || (ch.len == 0 && !ch.last))
            {
                bad = __LINE__;
                break;
            }

            ngx_memcpy(msg + mlen, ch.data, ch.len);
            mlen += ch.len;

            if (ch.last) {
                log_frame(log, ch.opcode, ch.fin, msg, mlen);
                mlen = 0;
            }
        }

        consumed += pos - seg;
        free(seg);

        if (rc == NGX_AGAIN && pos != end) {
            bad = __LINE__;
        }

        if (rc != NGX_AGAIN || bad) {
            break;
        }
    }

    free(msg);

    if (*log) {
        strcat(log, " ");
    }

    log += strlen(log);

    if (bad) {
        sprintf(log, "INVARIANT(line %zu)", (size_t) bad);

    } else if (rc == NGX_AGAIN) {
        strcpy(log, "again");

    } else if (rc == NGX_ERROR) {
        sprintf(log, "error %zu", (size_t) ws.error);

    } else if (rc == NGX_DONE) {
        sprintf(log, "done %zu @%zu", (size_t) ws.close_code, consumed);

    } else {
        sprintf(log, "rc %zd", (ssize_t) rc);
    }

    /* a dead parser stays dead */

    if (rc == NGX_ERROR || rc == NGX_DONE) {
        pos = in;

        if (ngx_http_voxanne_ws_parse(&ws, &pos, in + len, &ch) != rc
            || pos != in)
        {
            strcat(log, " REVIVED");
        }
    }
}


static ngx_uint_t
same(char *got, char *want, char *name, char *how)
{
    if (strcmp(got, want) == 0) {
        return 1;
    }

    printf("#   %s, %s\n#          got: '%s'\n#     expected: '%s'\n",
           name, how, got, want);

    return 0;
}


static void
t(char *title, u_char *in, size_t len, size_t max, char *want)
{
    char        *got;
    size_t       k, step, *cuts;
    ngx_uint_t   ok;
    char         how[64], name[128];

    snprintf(name, sizeof(name), "%s%s",
             side == NGX_HTTP_VOXANNE_WS_CLIENT ? "client: " : "", title);

    got = malloc(LOG_MAX);
    cuts = malloc((len + 1) * sizeof(size_t));

    run(in, len, max, NULL, 0, got);
    tap_ok(same(got, want, name, "whole"), "%s: whole", name);

    /* every cut of a long input would be slow: its ends and a sample */

    ok = 1;
    step = (len > 2048) ? 997 : 1;

    for (k = 1; k < len && ok; k++) {
        if (k > 32 && k + 32 < len && k % step) {
            continue;
        }

        cuts[0] = k;
        run(in, len, max, cuts, 1, got);
        sprintf(how, "cut at %zu", k);
        ok = same(got, want, name, how);
    }

    tap_ok(ok, "%s: cut in two anywhere", name);

    for (k = 1; k < len; k++) {
        cuts[k - 1] = k;
    }

    run(in, len, max, cuts, len ? len - 1 : 0, got);
    tap_ok(same(got, want, name, "byte by byte"), "%s: byte by byte", name);

    free(cuts);
    free(got);
}


/* the log of one frame and a result, for inputs too long to spell out */

static char *
want1(char *want, ngx_uint_t opcode, u_char *data, size_t len, char *result)
{
    *want = '\0';
    log_frame(want, opcode, 1, data, len);
    strcat(want, " ");
    strcat(want, result);

    return want;
}


static u_char *
pattern(size_t len)
{
    size_t   i;
    u_char  *p;

    p = malloc(len);

    for (i = 0; i < len; i++) {
        p[i] = (u_char) (i * 7 + (i >> 8));
    }

    return p;
}


static void
test_rfc(void)
{
    u_char  *in, *p, *data;
    char     want[128];
    u_char   buf[64];

    /* RFC 6455 5.7 */

    t("5.7 masked text Hello", hello, sizeof(hello), 1024,
      "text(Hello) again");
    t("5.7 masked pong Hello", pong, sizeof(pong), 1024, "pong(Hello) again");

    /* the unmasked examples are frames from a server: refused here */

    t("5.7 unmasked text Hello", unmasked, sizeof(unmasked), 1024,
      "error 1002");
    t("5.7 unmasked Hel+lo", hel_lo, sizeof(hel_lo), 1024, "error 1002");
    t("5.7 unmasked ping Hello", ping, sizeof(ping), 1024, "error 1002");

    /* and masked, as a client sends them */

    p = F(buf, TEXT, "Hel");
    p = F(p, FIN | CONT, "lo");
    t("5.7 Hel+lo masked", buf, p - buf, 1024, "text+(Hel) text(lo) again");

    p = F(buf, FIN | PING, "Hello");
    t("5.7 ping Hello masked", buf, p - buf, 1024, "ping(Hello) again");

    data = pattern(65536);
    in = malloc(65536 + 14);

    p = frame(in, FIN | BINARY, data, 256, 0);
    tap_ok(p - in == 4 + 4 + 256 && memcmp(in, "\x82\xfe\x01\x00", 4) == 0,
           "5.7 256 bytes: a 16-bit length");
    t("5.7 256 bytes of binary", in, p - in, 1024,
      want1(want, BINARY, data, 256, "again"));

    p = frame(in, FIN | BINARY, data, 65536, 0);
    tap_ok(p - in == 10 + 4 + 65536
           && memcmp(in, "\x82\xff\0\0\0\0\0\x01\0\0", 10) == 0,
           "5.7 64 KiB: a 64-bit length");
    t("5.7 64 KiB of binary", in, p - in, 65536,
      want1(want, BINARY, data, 65536, "again"));
    t("5.7 64 KiB of binary over a cap of 65535", in, p - in, 65535,
      "error 1009");

    free(in);
    free(data);
}


static void
test_header(void)
{
    u_char      *p, *data;
    ngx_uint_t   i;
    char         name[64], want[512];
    u_char       buf[512];

    static u_char  top[] = { 0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0,
                             1, 2, 3, 4 };
    static u_char  huge[] = { 0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0,
                              1, 2, 3, 4, 'a', 'b' };

    for (i = 0x10; i <= 0x40; i <<= 1) {
        p = F(buf, FIN | TEXT | i, "Hello");
        sprintf(name, "RSV bit 0x%02x", (unsigned) i);
        t(name, buf, p - buf, 1024, "error 1002");
    }

    for (i = 3; i <= 0xf; i++) {
        if (i >= CLOSE && i <= PONG) {
            continue;
        }

        p = F(buf, FIN | i, "x");
        sprintf(name, "unknown opcode 0x%x", (unsigned) i);
        t(name, buf, p - buf, 1024, "error 1002");
    }

    p = F(buf, FIN | BINARY, "x");
    buf[1] &= 0x7f;
    t("an unmasked binary frame", buf, 2, 1024, "error 1002");

    data = pattern(65536);

    p = frame(buf, FIN | BINARY, data, 125, 2);
    t("125 bytes in a 16-bit length", buf, p - buf, 1024, "error 1002");

    p = frame(buf, FIN | BINARY, data, 0, 2);
    t("0 bytes in a 16-bit length", buf, p - buf, 1024, "error 1002");

    p = frame(buf, FIN | BINARY, data, 126, 2);
    t("126 bytes in a 16-bit length", buf, p - buf, 1024,
      want1(want, BINARY, data, 126, "again"));

    p = frame(buf, FIN | BINARY, data, 126, 8);
    t("126 bytes in a 64-bit length", buf, p - buf, 1024, "error 1002");

    p = frame(buf, FIN | BINARY, data, 0, 8);
    t("0 bytes in a 64-bit length", buf, p - buf, 1024, "error 1002");

    /* 65535 bytes in 64 bits: refused from the header alone */

    p = frame(buf, FIN | BINARY, data, 0, 8);
    buf[8] = 0xff;
    buf[9] = 0xff;
    t("65535 bytes in a 64-bit length", buf, p - buf, 1024, "error 1002");

    t("a 64-bit length with the top bit set", top, sizeof(top),
      NO_CAP, "error 1002");
    t("2^62 bytes under no cap: waits for them", huge, sizeof(huge),
      NO_CAP, "again");

    p = F(buf, FIN | TEXT, "Hello");
    t("a header cut short", buf, 5, 1024, "again");
    t("no bytes at all", buf, 0, 1024, "again");

    free(data);
}


static void
test_control(void)
{
    u_char  *p, *data;
    char     want[512];
    u_char   buf[512];

    p = F(buf, PING, "x");
    t("a ping without FIN", buf, p - buf, 1024, "error 1002");
    p = F(buf, PONG, "x");
    t("a pong without FIN", buf, p - buf, 1024, "error 1002");
    p = F(buf, CLOSE, "\x03\xe8");
    t("a close without FIN", buf, p - buf, 1024, "error 1002");

    data = pattern(126);

    p = frame(buf, FIN | PING, data, 125, 0);
    t("a ping of 125 bytes", buf, p - buf, 0,
      want1(want, PING, data, 125, "again"));

    p = frame(buf, FIN | PING, data, 126, 0);
    t("a ping of 126 bytes", buf, p - buf, 1024, "error 1002");

    p = frame(buf, FIN | PONG, data, 126, 8);
    t("a pong with a 64-bit length", buf, 2, 1024, "error 1002");

    p = F(buf, FIN | PING, "");
    t("an empty ping", buf, p - buf, 1024, "ping() again");

    p = F(buf, FIN | PING, "\xff\xfe");
    t("a ping is not UTF-8 checked", buf, p - buf, 1024,
      "ping(\\xff\\xfe) again");

    p = F(buf, TEXT, "Hel");
    p = F(p, FIN | PING, "?");
    p = F(p, FIN | CONT, "lo");
    t("a ping between fragments", buf, p - buf, 5,
      "text+(Hel) ping(?) text(lo) again");

    p = F(buf, BINARY, "a");
    p = F(p, FIN | PONG, "1");
    p = F(p, CONT, "b");
    p = F(p, FIN | PING, "2");
    p = F(p, FIN | PING, "3");
    p = F(p, FIN | CONT, "c");
    t("control frames between every fragment", buf, p - buf, 3,
      "binary+(a) pong(1) binary+(b) ping(2) ping(3) binary(c) again");

    free(data);
}


static void
test_fragments(void)
{
    u_char  *p;
    u_char   buf[512];

    p = F(buf, FIN | CONT, "lo");
    t("a continuation first", buf, p - buf, 1024, "error 1002");

    p = F(buf, CONT, "lo");
    t("an unfinished continuation first", buf, p - buf, 1024, "error 1002");

    p = F(buf, FIN | TEXT, "Hello");
    p = F(p, FIN | CONT, "x");
    t("a continuation after a whole message", buf, p - buf, 1024,
      "text(Hello) error 1002");

    p = F(buf, TEXT, "Hel");
    p = F(p, FIN | TEXT, "lo");
    t("a text frame inside a text message", buf, p - buf, 1024,
      "text+(Hel) error 1002");

    p = F(buf, TEXT, "Hel");
    p = F(p, FIN | BINARY, "lo");
    t("a binary frame inside a text message", buf, p - buf, 1024,
      "text+(Hel) error 1002");

    p = F(buf, BINARY, "Hel");
    p = F(p, TEXT, "lo");
    t("a text frame inside a binary message", buf, p - buf, 1024,
      "binary+(Hel) error 1002");

    p = F(buf, TEXT, "");
    p = F(p, CONT, "Hel");
    p = F(p, CONT, "");
    p = F(p, FIN | CONT, "lo");
    t("empty fragments", buf, p - buf, 5,
      "text+() text+(Hel) text+() text(lo) again");

    p = F(buf, TEXT, "Hello");
    p = F(p, FIN | CONT, "");
    t("an empty last fragment", buf, p - buf, 5,
      "text+(Hello) text() again");

    p = F(buf, FIN | TEXT, "a");
    p = F(p, BINARY, "b");
    p = F(p, FIN | CONT, "c");
    p = F(p, FIN | TEXT, "d");
    t("messages one after another", buf, p - buf, 2,
      "text(a) binary+(b) binary(c) text(d) again");

    p = F(buf, TEXT, "Hel");
    t("a message left open", buf, p - buf, 1024, "text+(Hel) again");

    p = F(buf, FIN | BINARY, "\x00\xc0\xaf\xff");
    t("binary is not UTF-8 checked", buf, p - buf, 1024,
      "binary(\\x00\\xc0\\xaf\\xff) again");
}


static void
test_size(void)
{
    u_char                       *p, *pos;
    ngx_int_t                     rc;
    ngx_http_voxanne_ws_t         ws;
    ngx_http_voxanne_ws_chunk_t   ch;
    u_char                        buf[512];

    static u_char  max63[] = { 0x80, 0xff, 0x7f, 0xff, 0xff, 0xff,
                               0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4 };

    p = F(buf, FIN | TEXT, "Hello");
    t("5 bytes, a cap of 5", buf, p - buf, 5, "text(Hello) again");

    p = F(buf, FIN | TEXT, "Hello!");
    t("6 bytes, a cap of 5", buf, p - buf, 5, "error 1009");
    t("6 bytes, a cap of 5, the header only", buf, 2, 5, "error 1009");

    /* refused as the length byte arrives: no payload is consumed */

    ngx_http_voxanne_ws_init(&ws, 5, side);
    pos = buf;
    rc = ngx_http_voxanne_ws_parse(&ws, &pos, p, &ch);
    tap_ok(rc == NGX_ERROR && ws.error == 1009 && pos == buf + 2,
           "the cap is checked before the mask and the payload");

    p = F(buf, TEXT, "Hel");
    p = F(p, FIN | CONT, "lo");
    t("5 bytes in two frames, a cap of 5", buf, p - buf, 5,
      "text+(Hel) text(lo) again");

    p = F(buf, TEXT, "Hel");
    p = F(p, FIN | CONT, "lo!");
    t("6 bytes in two frames, a cap of 5", buf, p - buf, 5,
      "text+(Hel) error 1009");

    p = F(buf, TEXT, "Hel");
    p = F(p, FIN | PING, "0123456789");
    p = F(p, FIN | CONT, "lo");
    t("control frames do not count", buf, p - buf, 5,
      "text+(Hel) ping(0123456789) text(lo) again");

    p = F(buf, FIN | TEXT, "Hello");
    p = F(p, BINARY, "Wor");
    p = F(p, FIN | CONT, "ld");
    p = F(p, FIN | TEXT, "Hello");
    t("each message counts from 0", buf, p - buf, 5,
      "text(Hello) binary+(Wor) binary(ld) text(Hello) again");

    p = F(buf, FIN | TEXT, "");
    p = F(p, FIN | PING, "Hello");
    t("a cap of 0: empty messages and pings", buf, p - buf, 0,
      "text() ping(Hello) again");

    p = F(buf, FIN | TEXT, "a");
    t("a cap of 0: 1 byte", buf, p - buf, 0, "error 1009");

    /* sums near the top of size_t do not wrap */

    p = ngx_cpymem(buf, max63, sizeof(max63));
    buf[0] = FIN | BINARY;
    t("2^63-1 bytes, a cap of 2^63-1", buf, p - buf, CAP63, "again");

    p = F(buf, BINARY, "x");
    p = ngx_cpymem(p, max63, sizeof(max63));
    t("1 + 2^63-1 bytes, a cap of 2^63-1", buf, p - buf, CAP63,
      "binary+(x) error 1009");
    t("1 + 2^63-1 bytes, a cap of 2^64-1", buf, p - buf, NO_CAP,
      "binary+(x) again");
}


typedef struct {
    char    *name;
    char    *s;
    size_t   len;
} utf8_case_t;


#define U(name, s)  { name, s, sizeof(s) - 1 }


static void
test_utf8(void)
{
    u_char      *p;
    ngx_uint_t   i;
    char         name[128], want[512];
    u_char       buf[512];

    static utf8_case_t  valid[] = {
        U("kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),
        U("U+007F", "\x7f"),
        U("U+0080", "\xc2\x80"),
        U("U+07FF", "\xdf\xbf"),
        U("U+0800", "\xe0\xa0\x80"),
        U("U+D7FF", "\xed\x9f\xbf"),
        U("U+E000", "\xee\x80\x80"),
        U("U+FFFF", "\xef\xbf\xbf"),
        U("U+10000", "\xf0\x90\x80\x80"),
        U("U+10FFFF", "\xf4\x8f\xbf\xbf"),
        U("NUL", "a\0b")
    };

    static utf8_case_t  invalid[] = {
        U("overlong C0 AF", "\xc0\xaf"),
        U("overlong C1 BF", "\xc1\xbf"),
        U("overlong E0 80 AF", "\xe0\x80\xaf"),
        U("overlong E0 9F BF", "\xe0\x9f\xbf"),
        U("overlong F0 8F BF BF", "\xf0\x8f\xbf\xbf"),
        U("surrogate ED A0 80", "\xed\xa0\x80"),
        U("surrogate ED BF BF", "\xed\xbf\xbf"),
        U("U+110000 F4 90 80 80", "\xf4\x90\x80\x80"),
        U("F5", "\xf5\x80\x80\x80"),
        U("F8, 5 bytes", "\xf8\x88\x80\x80\x80"),
        U("FE", "\xfe"),
        U("FF", "\xff"),
        U("a lone continuation", "\x80"),
        U("a lead then ASCII", "a\xce" "a"),
        U("inside a message", "Hello\xc0\xafworld"),
        U("truncated 2 bytes", "\xce"),
        U("truncated 3 bytes", "\xe2\x82"),
        U("truncated 4 bytes", "\xf0\x9d\x84"),
        U("truncated after a valid one", "\xce\xba\xce")
    };

    for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        p = frame(buf, FIN | TEXT, (u_char *) valid[i].s, valid[i].len, 0);
        sprintf(name, "valid UTF-8: %s", valid[i].name);
        t(name, buf, p - buf, 1024,
          want1(want, TEXT, (u_char *) valid[i].s, valid[i].len, "again"));
    }

    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        p = frame(buf, FIN | TEXT, (u_char *) invalid[i].s, invalid[i].len,
                  0);
        sprintf(name, "invalid UTF-8: %s", invalid[i].name);
        t(name, buf, p - buf, 1024, "error 1007");
    }

    p = F(buf, TEXT, "\xce");
    p = F(p, FIN | CONT, "\xba");
    t("a character in two frames", buf, p - buf, 1024,
      "text+(\\xce) text(\\xba) again");

    p = F(buf, TEXT, "\xe2");
    p = F(p, CONT, "\x82");
    p = F(p, FIN | CONT, "\xac");
    t("a character in three frames", buf, p - buf, 1024,
      "text+(\\xe2) text+(\\x82) text(\\xac) again");

    p = F(buf, TEXT, "\xf0");
    p = F(p, CONT, "\x9d");
    p = F(p, FIN | PING, "\xff");
    p = F(p, CONT, "\x84");
    p = F(p, FIN | CONT, "\x9e");
    t("a character in four frames around a ping", buf, p - buf, 1024,
      "text+(\\xf0) text+(\\x9d) ping(\\xff) text+(\\x84) text(\\x9e) again");

    p = F(buf, TEXT, "\xe2\x82");
    p = F(p, FIN | CONT, "");
    t("a character cut by the end of a message", buf, p - buf, 1024,
      "text+(\\xe2\\x82) error 1007");

    p = F(buf, TEXT, "\xe0");
    p = F(p, FIN | CONT, "\x80\xaf");
    t("an overlong across frames", buf, p - buf, 1024,
      "text+(\\xe0) error 1007");

    p = F(buf, TEXT, "\xc0\xaf");
    t("fails fast: in an unfinished frame", buf, p - buf, 1024,
      "error 1007");

    p = F(buf, TEXT, "Hello");
    p = F(p, CONT, "\xed\xa0\x80");
    t("fails fast: in an unfinished continuation", buf, p - buf, 1024,
      "text+(Hello) error 1007");

    p = F(buf, FIN | TEXT, "\xf4\x90\x80\x80 and more");
    t("fails fast: before the frame ends", buf, 8, 1024, "error 1007");

    p = F(buf, TEXT, "\xce");
    p = F(p, FIN | CLOSE, "\x03\xe8" "ok");
    t("a close inside an open character", buf, p - buf, 1024,
      "text+(\\xce) close(\\x03\\xe8ok) done 1000 @17");
}


static void
test_close(void)
{
    u_char      *p, *data;
    size_t       len;
    ngx_uint_t   i;
    char         name[64], want[512];
    u_char       code[2], buf[512];

    static ngx_uint_t  valid[] = { 1000, 1001, 1002, 1003, 1007, 1008,
                                   1009, 1010, 1011, 3000, 3999, 4000,
                                   4999 };
    static ngx_uint_t  invalid[] = { 0, 999, 1004, 1005, 1006, 1012, 1013,
                                     1014, 1015, 1016, 1100, 2000, 2999,
                                     5000, 65535 };

    p = F(buf, FIN | CLOSE, "");
    t("an empty close", buf, p - buf, 1024, "close() done 1005 @6");

    p = F(buf, FIN | CLOSE, "\x03\xe8" "bye");
    t("a close with a reason", buf, p - buf, 1024,
      "close(\\x03\\xe8bye) done 1000 @11");

    p = F(buf, FIN | CLOSE, "\x03");
    t("a close of 1 byte", buf, p - buf, 1024, "error 1002");

    for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        code[0] = (u_char) (valid[i] >> 8);
        code[1] = (u_char) valid[i];
        p = frame(buf, FIN | CLOSE, code, 2, 0);
        sprintf(name, "close code %u", (unsigned) valid[i]);
        sprintf(want, "close(\\x%02x\\x%02x) done %u @8", code[0], code[1],
                (unsigned) valid[i]);
        t(name, buf, p - buf, 1024, want);
    }

    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        code[0] = (u_char) (invalid[i] >> 8);
        code[1] = (u_char) invalid[i];
        p = frame(buf, FIN | CLOSE, code, 2, 0);
        sprintf(name, "close code %u", (unsigned) invalid[i]);
        t(name, buf, p - buf, 1024, "error 1002");
    }

    p = F(buf, FIN | CLOSE, "\x03\xe8" "\xce\xba\xe1\xbd\xb9\xcf\x83");
    t("a UTF-8 reason", buf, p - buf, 1024,
      "close(\\x03\\xe8\\xce\\xba\\xe1\\xbd\\xb9\\xcf\\x83) done 1000 @15");

    p = F(buf, FIN | CLOSE, "\x03\xe8" "\xc0\xaf");
    t("a reason with an overlong", buf, p - buf, 1024, "error 1007");

    p = F(buf, FIN | CLOSE, "\x03\xe8" "ok\xed\xa0\x80");
    t("a reason with a surrogate", buf, p - buf, 1024, "error 1007");

    p = F(buf, FIN | CLOSE, "\x03\xe8" "ok\xce");
    t("a reason cut in a character", buf, p - buf, 1024, "error 1007");

    p = F(buf, FIN | CLOSE, "\x03\xec" "\xc0\xaf");
    t("an invalid code before an invalid reason", buf, p - buf, 1024,
      "error 1002");

    data = pattern(126);
    data[0] = 0x03;
    data[1] = 0xe8;

    for (i = 2; i < 125; i++) {
        data[i] = 'a' + i % 26;
    }

    p = frame(buf, FIN | CLOSE, data, 125, 0);
    len = p - buf;
    t("a close of 125 bytes", buf, len, 1024,
      want1(want, CLOSE, data, 125, "done 1000 @131"));

    p = frame(buf, FIN | CLOSE, data, 126, 0);
    t("a close of 126 bytes", buf, p - buf, 1024, "error 1002");

    p = F(buf, FIN | CLOSE, "\x03\xe8");
    p = F(p, FIN | TEXT, "Hello");
    t("frames after a close are left", buf, p - buf, 1024,
      "close(\\x03\\xe8) done 1000 @8");

    p = F(buf, FIN | CLOSE, "\x0b\xb8");
    *p++ = 0xff;
    t("bytes after a close are left", buf, p - buf, 1024,
      "close(\\x0b\\xb8) done 3000 @8");

    free(data);
}


static void
test_encoder(void)
{
    u_char   *p;
    size_t    n;
    char      want[512];
    u_char    buf[512], reason[256];

    n = ngx_http_voxanne_ws_frame_header(buf, TEXT, 5);
    tap_ok(n == 2 && memcmp(buf, "\x81\x05", 2) == 0, "header: text of 5");

    n = ngx_http_voxanne_ws_frame_header(buf, TEXT, 125);
    tap_ok(n == 2 && memcmp(buf, "\x81\x7d", 2) == 0, "header: text of 125");

    n = ngx_http_voxanne_ws_frame_header(buf, TEXT, 126);
    tap_ok(n == 4 && memcmp(buf, "\x81\x7e\x00\x7e", 4) == 0,
           "header: text of 126");

    n = ngx_http_voxanne_ws_frame_header(buf, BINARY, 256);
    tap_ok(n == 4 && memcmp(buf, "\x82\x7e\x01\x00", 4) == 0,
           "header: binary of 256 (RFC 6455 5.7)");

    n = ngx_http_voxanne_ws_frame_header(buf, BINARY, 65535);
    tap_ok(n == 4 && memcmp(buf, "\x82\x7e\xff\xff", 4) == 0,
           "header: binary of 65535");

    n = ngx_http_voxanne_ws_frame_header(buf, BINARY, 65536);
    tap_ok(n == 10 && memcmp(buf, "\x82\x7f\0\0\0\0\0\x01\0\0", 10) == 0,
           "header: binary of 64 KiB (RFC 6455 5.7)");

    n = ngx_http_voxanne_ws_frame_header(buf, TEXT, ((uint64_t) 1 << 63) - 1);
    tap_ok(n == 10
           && memcmp(buf, "\x81\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", 10)
              == 0,
           "header: text of 2^63-1");

    n = ngx_http_voxanne_ws_frame_header(buf, TEXT, (uint64_t) 1 << 63);
    tap_ok(n == 0, "header: no text of 2^63");

    n = ngx_http_voxanne_ws_frame_header(buf, PING, 0);
    tap_ok(n == 2 && memcmp(buf, "\x89\x00", 2) == 0, "header: empty ping");

    n = ngx_http_voxanne_ws_frame_header(buf, PONG, 5);
    tap_ok(n == 2 && memcmp(buf, "\x8a\x05", 2) == 0, "header: pong of 5");

    n = ngx_http_voxanne_ws_frame_header(buf, CLOSE, 125);
    tap_ok(n == 2 && memcmp(buf, "\x88\x7d", 2) == 0, "header: close of 125");

    n = ngx_http_voxanne_ws_frame_header(buf, CLOSE, 126);
    tap_ok(n == 0, "header: no close of 126");

    n = ngx_http_voxanne_ws_frame_header(buf, PING, 65536);
    tap_ok(n == 0, "header: no ping of 64 KiB");

    n = ngx_http_voxanne_ws_close_payload(buf, 1000, (u_char *) "bye", 3);
    tap_is_mem(buf, n, "\x03\xe8" "bye", "close payload: 1000 bye");

    n = ngx_http_voxanne_ws_close_payload(buf, 1009, NULL, 0);
    tap_is_mem(buf, n, "\x03\xf1", "close payload: 1009, no reason");

    memset(reason, 'a', sizeof(reason));
    n = ngx_http_voxanne_ws_close_payload(buf, 1011, reason, 200);
    tap_ok(n == 125 && memcmp(buf + 2, reason, 123) == 0,
           "close payload: a reason of 200 is cut to 123");

    /* 120 + 3 bytes fit; a euro sign across the cut goes as a whole */

    memcpy(reason + 120, "\xe2\x82\xac" "b", 4);
    n = ngx_http_voxanne_ws_close_payload(buf, 1011, reason, 124);
    tap_ok(n == 125 && memcmp(buf + 2 + 120, "\xe2\x82\xac", 3) == 0,
           "close payload: a character that fits is kept");

    memcpy(reason + 121, "\xe2\x82\xac", 3);
    n = ngx_http_voxanne_ws_close_payload(buf, 1011, reason, 124);
    tap_ok(n == 2 + 121, "close payload: a character across the cut goes");

    memcpy(reason + 119, "\xf0\x9d\x84\x9e", 4);
    n = ngx_http_voxanne_ws_close_payload(buf, 1011, reason, 200);
    tap_ok(n == 2 + 119, "close payload: a 4-byte character across the cut");

    /* what the server writes, a client would send back: it parses */

    memset(reason, 'a', sizeof(reason));
    memcpy(reason + 121, "\xe2\x82\xac", 3);
    n = ngx_http_voxanne_ws_close_payload(buf, 1011, reason, 124);
    p = frame(buf + 128, FIN | CLOSE, buf, n, 0);
    t("a cut close payload parses", buf + 128, p - (buf + 128), 0,
      want1(want, CLOSE, buf, n, "done 1011 @129"));
}


static void
test_accept(void)
{
    ngx_str_t    key;
    ngx_uint_t   i;
    u_char       dst[NGX_HTTP_VOXANNE_WS_ACCEPT_LEN + 1];

    static char  *bad[] = {
        "",
        "dGhlIHNhbXBsZSBub25jZQ=",
        "dGhlIHNhbXBsZSBub25jZQ===",
        "dGhlIHNhbXBsZSBub25jZQAA",
        "dGhlIHNhbXBsZSBub25jZ===",
        "dGhlIHNhbXBsZSBub25jZR==",
        "dGhlIHNhbXBsZSBub2-jZQ==",
        "dGhlIHNhbXBsZSBub2_jZQ==",
        "dGhlIHNhbXBsZSBub25j ZQ=",
        "dGhlIHNhbXBsZSBub25jZQ=A"
    };

    /*
     * RFC 6455 1.3, and two keys computed outside this code:
     *   printf %s KEY258EAFA5-E914-47DA-95CA-C5AB0DC85B11 \
     *   | openssl dgst -sha1 -binary | base64
     */

    static char  *good[][2] = {
        { "dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" },
        { "AAAAAAAAAAAAAAAAAAAAAA==", "ICX+Yqv66kxgM0FcWaLWlFLwTAI=" },
        { "x3JJHMbDL1EzLkh9GBhXDw==", "HSmrc0sMlYUkAGmm5OPpG2HaGWk=" }
    };

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        key.data = (u_char *) good[i][0];
        key.len = strlen(good[i][0]);

        tap_ok(ngx_http_voxanne_ws_key_valid(&key) == NGX_OK,
               "key %s is valid", good[i][0]);

        memset(dst, '#', sizeof(dst));

        tap_ok(ngx_http_voxanne_ws_accept(dst, &key) == NGX_OK
               && dst[NGX_HTTP_VOXANNE_WS_ACCEPT_LEN] == '#',
               "accept of %s: NGX_OK, 28 characters", good[i][0]);
        tap_is_mem(dst, NGX_HTTP_VOXANNE_WS_ACCEPT_LEN, good[i][1],
                   "accept of %s", good[i][0]);
    }

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        key.data = (u_char *) bad[i];
        key.len = strlen(bad[i]);

        memset(dst, '#', sizeof(dst));

        tap_ok(ngx_http_voxanne_ws_key_valid(&key) == NGX_DECLINED
               && ngx_http_voxanne_ws_accept(dst, &key) == NGX_DECLINED
               && dst[0] == '#',
               "key '%s' is refused", bad[i]);
    }
}


/* a Media Streams message as Twilio sends it, of about 300 bytes */

static size_t
media(u_char *dst, ngx_uint_t seq)
{
    return sprintf((char *) dst,
                   "{\"event\":\"media\",\"sequenceNumber\":\"%u\","
                   "\"media\":{\"track\":\"inbound\",\"chunk\":\"%u\","
                   "\"timestamp\":\"%u\",\"payload\":\"%s\"},"
                   "\"streamSid\":\"MZ18ad3ab5a668481ce02b83e7395059f0\"}",
                   (unsigned) seq + 2, (unsigned) seq + 1,
                   (unsigned) seq * 20,
                   "/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+"
                   "/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+"
                   "/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+7+/v7+");
}


/* a second of a call: 50 messages, and a ping now and then */

static u_char *
second(u_char *p, ngx_uint_t base, char *log)
{
    size_t      n;
    ngx_uint_t  i;
    u_char      msg[512];

    for (i = 0; i < 50; i++) {
        n = media(msg, base + i);
        p = frame(p, FIN | TEXT, msg, n, 0);

        if (log) {
            log_frame(log, TEXT, 1, msg, n);
        }

        if (i % 20 == 0) {
            p = F(p, FIN | PING, "keepalive");

            if (log) {
                strcat(log, " ping(keepalive)");
            }
        }
    }

    return p;
}


static void
test_stream(void)
{
    u_char  *in, *p;
    char    *want;

    in = malloc(50 * 512);
    want = malloc(LOG_MAX);
    *want = '\0';

    p = second(in, 0, want);
    strcat(want, " again");

    t("a second of Media Streams", in, p - in, 1024, want);

    free(want);
    free(in);
}


/*
 * An hour of a call through a reused 4 KiB read buffer, in reads of
 * pseudo-random sizes: every message arrives whole, and nothing else.
 */

static void
test_hour(void)
{
    u_char                       *in, *end, *pos;
    size_t                        len, off, n, size;
    uint32_t                      rnd;
    ngx_int_t                     rc;
    ngx_uint_t                    s, seq, pings, bad;
    ngx_http_voxanne_ws_t         ws;
    ngx_http_voxanne_ws_chunk_t   ch;
    u_char                        msg[1024], want[512], buf[4096];

    in = malloc(50 * 512);
    ngx_http_voxanne_ws_init(&ws, sizeof(msg), side);

    rnd = 1;
    seq = 0;
    pings = 0;
    bad = 0;
    size = 0;

    for (s = 0; s < 3600 && !bad; s++) {
        end = second(in, s * 50, NULL);
        len = end - in;

        for (off = 0; off < len && !bad; off += n) {
            rnd = rnd * 1103515245 + 12345;
            n = ngx_min((rnd >> 8) % sizeof(buf) + 1, len - off);

            ngx_memcpy(buf, in + off, n);
            pos = buf;

            for ( ;; ) {
                rc = ngx_http_voxanne_ws_parse(&ws, &pos, buf + n, &ch);

                if (rc != NGX_OK) {
                    bad = (rc != NGX_AGAIN);
                    break;
                }

                if (ch.opcode == PING) {
                    pings += ch.last;
                    continue;
                }

                ngx_memcpy(msg + size, ch.data, ch.len);
                size += ch.len;

                if (!ch.fin) {
                    continue;
                }

                if (size != media(want, seq)
                    || memcmp(msg, want, size) != 0)
                {
                    bad = 1;
                }

                seq++;
                size = 0;
            }
        }
    }

    tap_ok(!bad && seq == 3600 * 50 && pings == 3600 * 3 && size == 0,
           "an hour of a call: %u messages, %u pings",
           (unsigned) seq, (unsigned) pings);

    free(in);
}


/*
 * The parser as a client: a server's frames are not masked (RFC 6455 5.1),
 * the rest of the framing is the same; the frame() of these tests then
 * writes them unmasked.
 */

static void
test_client(void)
{
    u_char   *p;
    u_char    buf[512];

    static u_char  empty_masked[] = { 0x81, 0x80, 1, 2, 3, 4 };

    side = NGX_HTTP_VOXANNE_WS_CLIENT;

    t("5.7 unmasked text Hello", unmasked, sizeof(unmasked), 1024,
      "text(Hello) again");
    t("5.7 unmasked Hel+lo", hel_lo, sizeof(hel_lo), 1024,
      "text+(Hel) text(lo) again");
    t("5.7 unmasked ping Hello", ping, sizeof(ping), 1024,
      "ping(Hello) again");

    /* a masked frame from a server: refused as its length byte arrives */

    t("5.7 masked text Hello", hello, sizeof(hello), 1024,
      "error 1002");
    t("5.7 masked pong Hello", pong, sizeof(pong), 1024,
      "error 1002");
    t("an empty masked frame", empty_masked, sizeof(empty_masked),
      1024, "error 1002");

    p = F(buf, FIN | TEXT, "Hello");
    p = F(p, FIN | TEXT | 0x40, "x");
    t("RSV1 set", buf, p - buf, 1024, "text(Hello) error 1002");

    p = F(buf, FIN | CLOSE, "\x03\xe8" "bye");
    t("a close with a reason, nothing to unmask", buf, p - buf, 1024,
      "close(\\x03\\xe8bye) done 1000 @7");

    p = F(buf, FIN | CLOSE, "\x03\xed");
    t("close code 1005 is refused", buf, p - buf, 1024,
      "error 1002");

    p = F(buf, TEXT, "\xce");
    p = F(p, FIN | CONT, "\xbaok");
    t("UTF-8 across frames", buf, p - buf, 1024,
      "text+(\\xce) text(\\xbaok) again");

    p = F(buf, FIN | TEXT, "\xc0\xaf");
    t("an overlong in text", buf, p - buf, 1024, "error 1007");

    p = F(buf, FIN | TEXT, "Hello!");
    t("6 bytes, a cap of 5", buf, p - buf, 5, "error 1009");

    test_control();
    test_fragments();
    test_stream();
    test_hour();

    side = NGX_HTTP_VOXANNE_WS_SERVER;
}


/*
 * A client's frames: the masked header, and the payload masked in place,
 * in one piece or in several; the server side of the parser reads them.
 */

static void
test_masked(void)
{
    u_char   *data, *in;
    size_t    n, off, step;
    char      name[64], want[512];
    u_char    buf[512];

    static u_char  key[4] = { 0x37, 0xfa, 0x21, 0x3d };

    /* RFC 6455 5.7: a single-frame masked text message "Hello" */

    n = ngx_http_voxanne_ws_masked_header(buf, TEXT, 5, key);
    memcpy(buf + n, "Hello", 5);
    ngx_http_voxanne_ws_mask(buf + n, 5, key, 0);
    tap_is_mem(buf, n + 5, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58",
               "masked: RFC 6455 5.7 Hello");

    n = ngx_http_voxanne_ws_masked_header(buf, BINARY, 256, key);
    tap_ok(n == 8 && memcmp(buf, "\x82\xfe\x01\x00\x37\xfa\x21\x3d", 8) == 0,
           "masked header: binary of 256");

    n = ngx_http_voxanne_ws_masked_header(buf, BINARY, 65536, key);
    tap_ok(n == NGX_HTTP_VOXANNE_WS_MASKED_MAX
           && memcmp(buf, "\x82\xff\0\0\0\0\0\x01\0\0\x37\xfa\x21\x3d", 14)
              == 0,
           "masked header: binary of 64 KiB, 14 bytes");

    n = ngx_http_voxanne_ws_masked_header(buf, PING, 0, key);
    tap_ok(n == 6 && memcmp(buf, "\x89\x80\x37\xfa\x21\x3d", 6) == 0,
           "masked header: an empty ping");

    n = ngx_http_voxanne_ws_masked_header(buf, CLOSE, 126, key);
    tap_ok(n == 0, "masked header: no close of 126");

    n = ngx_http_voxanne_ws_masked_header(buf, TEXT, (uint64_t) 1 << 63, key);
    tap_ok(n == 0, "masked header: no text of 2^63");

    /* masked in pieces of any size, it is the same; unmasking restores */

    data = pattern(1000);
    in = malloc(1000 + NGX_HTTP_VOXANNE_WS_MASKED_MAX);

    for (step = 1; step <= 7; step += 2) {
        n = ngx_http_voxanne_ws_masked_header(in, BINARY, 1000, key);
        memcpy(in + n, data, 1000);

        for (off = 0; off < 1000; off += step) {
            ngx_http_voxanne_ws_mask(in + n + off, ngx_min(step, 1000 - off),
                                     key, off);
        }

        sprintf(name, "masked in pieces of %zu: parsed by a server", step);
        t(name, in, n + 1000, 1024, want1(want, BINARY, data, 1000, "again"));
    }

    ngx_http_voxanne_ws_mask(in + n, 1000, key, 0);
    tap_ok(memcmp(in + n, data, 1000) == 0, "mask() twice unmasks");

    free(in);
    free(data);
}


int
main(void)
{
    test_rfc();
    test_header();
    test_control();
    test_fragments();
    test_size();
    test_utf8();
    test_close();
    test_encoder();
    test_accept();
    test_stream();
    test_hour();
    test_client();
    test_masked();

    return tap_done();
}
