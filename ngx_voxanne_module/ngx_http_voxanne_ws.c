
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>
#include "ngx_http_voxanne_ws.h"


#define NGX_HTTP_VOXANNE_WS_GUID  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define NGX_HTTP_VOXANNE_WS_SHA1_LEN  20


static ngx_int_t ngx_http_voxanne_ws_payload(ngx_http_voxanne_ws_t *ws,
    u_char *p, size_t n, ngx_uint_t last);
static ngx_int_t ngx_http_voxanne_ws_close(ngx_http_voxanne_ws_t *ws,
    u_char *p, size_t n, ngx_uint_t last);
static ngx_int_t ngx_http_voxanne_ws_utf8(ngx_http_voxanne_ws_utf8_t *u,
    u_char *p, u_char *last);
static ngx_int_t ngx_http_voxanne_ws_base64(u_char *dst, size_t len,
    u_char *src, size_t n);
static ngx_int_t ngx_http_voxanne_ws_headers(
    ngx_http_voxanne_ws_response_t *r, u_char *p, u_char *end,
    u_char *accept);
static u_char *ngx_http_voxanne_ws_eol(u_char *p, u_char *end, u_char **next);
static ngx_uint_t ngx_http_voxanne_ws_tchar(u_char c);
static ngx_uint_t ngx_http_voxanne_ws_caseeq(u_char *p, size_t len,
    char *lower, size_t n);


static u_char  ngx_http_voxanne_ws_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


enum {
    sw_start = 0,
    sw_length,
    sw_length_16,
    sw_length_64,
    sw_mask,
    sw_payload,
    sw_closed,
    sw_failed
};


void
ngx_http_voxanne_ws_init(ngx_http_voxanne_ws_t *ws, size_t max_message,
    ngx_uint_t side)
{
    ngx_memzero(ws, sizeof(ngx_http_voxanne_ws_t));

    ws->max_message = max_message;
    ws->client = (side == NGX_HTTP_VOXANNE_WS_CLIENT);
}


ngx_int_t
ngx_http_voxanne_ws_parse(ngx_http_voxanne_ws_t *ws, u_char **pos,
    u_char *last, ngx_http_voxanne_ws_chunk_t *ch)
{
    u_char      c, *p;
    size_t      n;
    uint64_t    left;
    ngx_uint_t  state;

    state = ws->state;

    if (state == sw_closed) {
        return NGX_DONE;
    }

    if (state == sw_failed) {
        return NGX_ERROR;
    }

    p = *pos;

    /* the header, a byte at a time, checked as soon as each byte arrives */

    while (state != sw_payload) {

        if (p == last) {
            ws->state = state;
            *pos = p;
            return NGX_AGAIN;
        }

        c = *p++;

        switch (state) {

        case sw_start:

            /* RSV1-3 mean an extension, and none was negotiated */

            if (c & 0x70) {
                goto protocol_error;
            }

            ws->fin = c >> 7;
            ws->opcode = c & 0x0f;

            switch (ws->opcode) {

            case NGX_HTTP_VOXANNE_WS_CONTINUATION:
                if (ws->message == 0) {
                    goto protocol_error;
                }
                break;

            case NGX_HTTP_VOXANNE_WS_TEXT:
            case NGX_HTTP_VOXANNE_WS_BINARY:
                if (ws->message) {
                    goto protocol_error;
                }
                ws->message = ws->opcode;
                break;

            case NGX_HTTP_VOXANNE_WS_CLOSE:
                ws->close_code = 0;
                ngx_memzero(&ws->reason, sizeof(ngx_http_voxanne_ws_utf8_t));

                /* fall through */

            case NGX_HTTP_VOXANNE_WS_PING:
            case NGX_HTTP_VOXANNE_WS_PONG:
                if (!ws->fin) {
                    goto protocol_error;
                }
                break;

            default:
                goto protocol_error;
            }

            state = sw_length;
            break;

        case sw_length:

            /* a client masks every frame, a server none */

            if ((c >> 7) == ws->client) {
                goto protocol_error;
            }

            c &= 0x7f;

            if ((ws->opcode & 0x08)
                && c > NGX_HTTP_VOXANNE_WS_CONTROL_MAX)
            {
                goto protocol_error;
            }

            ws->length = 0;

            if (c == 126) {
                ws->need = 2;
                state = sw_length_16;
                break;
            }

            if (c == 127) {
                ws->need = 8;
                state = sw_length_64;
                break;
            }

            ws->length = c;
            goto sized;

        case sw_length_16:
            ws->length = (ws->length << 8) | c;

            if (--ws->need) {
                break;
            }

            /* the shortest encoding only */

            if (ws->length < 126) {
                goto protocol_error;
            }

            goto sized;

        case sw_length_64:

            if (ws->need == 8 && (c & 0x80)) {
                goto protocol_error;
            }

            ws->length = (ws->length << 8) | c;

            if (--ws->need) {
                break;
            }

            if (ws->length < 65536) {
                goto protocol_error;
            }

        sized:

            /*
             * a data frame counts against its message before any of its
             * payload is read, so that max_message bytes hold the message
             */

            if ((ws->opcode & 0x08) == 0) {

                if (ws->length > ws->max_message - ws->size) {
                    ws->error = NGX_HTTP_VOXANNE_WS_TOO_BIG;
                    goto failed;
                }

                ws->size += (size_t) ws->length;
            }

            if (ws->client) {
                ws->offset = 0;
                state = sw_payload;
                break;
            }

            ws->need = 4;
            state = sw_mask;
            break;

        case sw_mask:
            ws->mask[4 - ws->need] = c;

            if (--ws->need == 0) {
                ws->offset = 0;
                state = sw_payload;
            }

            break;
        }
    }

    ws->state = state;

    left = ws->length - ws->offset;
    n = (size_t) ngx_min((uint64_t) (last - p), left);

    if (n == 0 && left) {
        *pos = p;
        return NGX_AGAIN;
    }

    if (ngx_http_voxanne_ws_payload(ws, p, n, n == left) != NGX_OK) {
        p += n;
        goto failed;
    }

    ch->data = p;
    ch->len = n;
    ch->opcode = (ws->opcode & 0x08) ? ws->opcode : ws->message;
    ch->last = (n == left);
    ch->fin = ch->last && ws->fin;

    *pos = p + n;
    ws->offset += n;

    if (!ch->last) {
        return NGX_OK;
    }

    if (ws->opcode == NGX_HTTP_VOXANNE_WS_CLOSE) {
        ws->state = sw_closed;
        return NGX_OK;
    }

    if (ch->fin && !(ws->opcode & 0x08)) {
        ws->message = 0;
        ws->size = 0;
    }

    ws->state = sw_start;

    return NGX_OK;

protocol_error:

    ws->error = NGX_HTTP_VOXANNE_WS_PROTOCOL_ERROR;

failed:

    ws->state = sw_failed;
    *pos = p;

    return NGX_ERROR;
}


/* unmasks n bytes of payload in place (a server) and checks them */

static ngx_int_t
ngx_http_voxanne_ws_payload(ngx_http_voxanne_ws_t *ws, u_char *p, size_t n,
    ngx_uint_t last)
{
    if (!ws->client) {
        ngx_http_voxanne_ws_mask(p, n, ws->mask, ws->offset);
    }

    if (ws->opcode == NGX_HTTP_VOXANNE_WS_CLOSE) {
        return ngx_http_voxanne_ws_close(ws, p, n, last);
    }

    if ((ws->opcode & 0x08) || ws->message != NGX_HTTP_VOXANNE_WS_TEXT) {
        return NGX_OK;
    }

    if (ngx_http_voxanne_ws_utf8(&ws->text, p, p + n) != NGX_OK
        || (last && ws->fin && ws->text.need))
    {
        ws->error = NGX_HTTP_VOXANNE_WS_INVALID_DATA;
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A close payload is empty, or a code an endpoint may send followed by a
 * UTF-8 reason.  An invalid code is a protocol error (1002); invalid UTF-8
 * in the reason is invalid data (1007), as in a text message.
 */

static ngx_int_t
ngx_http_voxanne_ws_close(ngx_http_voxanne_ws_t *ws, u_char *p, size_t n,
    ngx_uint_t last)
{
    u_char      *end;
    uint64_t     offset;
    ngx_uint_t   code;

    end = p + n;

    for (offset = ws->offset; p < end && offset < 2; offset++) {
        ws->close_code = (ws->close_code << 8) | *p++;

        if (offset == 0) {
            continue;
        }

        code = ws->close_code;

        if (code < 1000
            || (code >= 1004 && code <= 1006)
            || (code >= 1012 && code < 3000)
            || code >= 5000)
        {
            ws->error = NGX_HTTP_VOXANNE_WS_PROTOCOL_ERROR;
            return NGX_ERROR;
        }
    }

    if (ngx_http_voxanne_ws_utf8(&ws->reason, p, end) != NGX_OK) {
        ws->error = NGX_HTTP_VOXANNE_WS_INVALID_DATA;
        return NGX_ERROR;
    }

    if (!last) {
        return NGX_OK;
    }

    if (ws->length == 1) {
        ws->error = NGX_HTTP_VOXANNE_WS_PROTOCOL_ERROR;
        return NGX_ERROR;
    }

    if (ws->reason.need) {
        ws->error = NGX_HTTP_VOXANNE_WS_INVALID_DATA;
        return NGX_ERROR;
    }

    if (ws->length == 0) {
        ws->close_code = NGX_HTTP_VOXANNE_WS_NO_STATUS;
    }

    return NGX_OK;
}


/*
 * Well-formed UTF-8 (RFC 3629), resumable at any byte: the range of each
 * continuation byte depends on the lead byte, which refuses overlong forms,
 * the surrogates U+D800-DFFF and anything above U+10FFFF as soon as the
 * byte that makes them so arrives.
 */

static ngx_int_t
ngx_http_voxanne_ws_utf8(ngx_http_voxanne_ws_utf8_t *u, u_char *p,
    u_char *last)
{
    u_char  c;

    while (p < last) {
        c = *p++;

        if (u->need) {

            if (c < u->lo || c > u->hi) {
                return NGX_ERROR;
            }

            u->lo = 0x80;
            u->hi = 0xbf;
            u->need--;

            continue;
        }

        if (c < 0x80) {
            continue;
        }

        u->lo = 0x80;
        u->hi = 0xbf;

        if (c >= 0xc2 && c <= 0xdf) {
            u->need = 1;

        } else if (c >= 0xe0 && c <= 0xef) {
            u->need = 2;

            if (c == 0xe0) {
                u->lo = 0xa0;

            } else if (c == 0xed) {
                u->hi = 0x9f;
            }

        } else if (c >= 0xf0 && c <= 0xf4) {
            u->need = 3;

            if (c == 0xf0) {
                u->lo = 0x90;

            } else if (c == 0xf4) {
                u->hi = 0x8f;
            }

        } else {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


size_t
ngx_http_voxanne_ws_frame_header(u_char *dst, ngx_uint_t opcode,
    uint64_t len)
{
    ngx_uint_t  i;

    if ((opcode & 0x08) ? len > NGX_HTTP_VOXANNE_WS_CONTROL_MAX
                        : (len >> 63) != 0)
    {
        return 0;
    }

    dst[0] = (u_char) (0x80 | opcode);

    if (len < 126) {
        dst[1] = (u_char) len;
        return 2;
    }

    if (len < 65536) {
        dst[1] = 126;
        dst[2] = (u_char) (len >> 8);
        dst[3] = (u_char) len;
        return 4;
    }

    dst[1] = 127;

    for (i = 0; i < 8; i++) {
        dst[2 + i] = (u_char) (len >> (56 - 8 * i));
    }

    return 10;
}


size_t
ngx_http_voxanne_ws_masked_header(u_char *dst, ngx_uint_t opcode,
    uint64_t len, u_char *key)
{
    size_t  n;

    n = ngx_http_voxanne_ws_frame_header(dst, opcode, len);

    if (n == 0) {
        return 0;
    }

    dst[1] |= 0x80;
    ngx_memcpy(dst + n, key, 4);

    return n + 4;
}


void
ngx_http_voxanne_ws_mask(u_char *p, size_t len, u_char *key, uint64_t offset)
{
    size_t      i;
    ngx_uint_t  m;

    m = (ngx_uint_t) (offset & 3);

    for (i = 0; i < len; i++) {
        p[i] ^= key[m];
        m = (m + 1) & 3;
    }
}


size_t
ngx_http_voxanne_ws_close_payload(u_char *dst, ngx_uint_t code,
    u_char *reason, size_t len)
{
    if (len > NGX_HTTP_VOXANNE_WS_CONTROL_MAX - 2) {
        len = NGX_HTTP_VOXANNE_WS_CONTROL_MAX - 2;

        /* not in the middle of a character: back to its lead byte */

        while (len && (reason[len] & 0xc0) == 0x80) {
            len--;
        }
    }

    dst[0] = (u_char) (code >> 8);
    dst[1] = (u_char) code;

    if (len) {
        ngx_memcpy(dst + 2, reason, len);
    }

    return 2 + len;
}


ngx_int_t
ngx_http_voxanne_ws_key_valid(ngx_str_t *key)
{
    u_char      *b, *p;
    ngx_uint_t   i;

    b = ngx_http_voxanne_ws_b64;

    if (key->len != NGX_HTTP_VOXANNE_WS_KEY_LEN
        || key->data[22] != '=' || key->data[23] != '=')
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < 22; i++) {
        p = ngx_strlchr(b, b + 64, key->data[i]);

        if (p == NULL) {
            return NGX_DECLINED;
        }
    }

    /* 22 characters carry 132 bits: the 4 past the 16th byte are zero */

    return ((p - b) & 0x0f) ? NGX_DECLINED : NGX_OK;
}


ngx_int_t
ngx_http_voxanne_ws_accept(u_char *dst, ngx_str_t *key)
{
    u_char        *p;
    unsigned int   len;
    u_char         md[EVP_MAX_MD_SIZE];
    u_char         msg[NGX_HTTP_VOXANNE_WS_KEY_LEN
                       + sizeof(NGX_HTTP_VOXANNE_WS_GUID) - 1];

    if (ngx_http_voxanne_ws_key_valid(key) != NGX_OK) {
        return NGX_DECLINED;
    }

    p = ngx_cpymem(msg, key->data, NGX_HTTP_VOXANNE_WS_KEY_LEN);
    p = ngx_cpymem(p, NGX_HTTP_VOXANNE_WS_GUID,
                   sizeof(NGX_HTTP_VOXANNE_WS_GUID) - 1);

    if (EVP_Digest(msg, p - msg, md, &len, EVP_sha1(), NULL) != 1
        || len != NGX_HTTP_VOXANNE_WS_SHA1_LEN)
    {
        return NGX_ERROR;
    }

    return ngx_http_voxanne_ws_base64(dst, NGX_HTTP_VOXANNE_WS_ACCEPT_LEN, md,
                                      NGX_HTTP_VOXANNE_WS_SHA1_LEN);
}


ngx_int_t
ngx_http_voxanne_ws_key(u_char *dst, u_char *nonce)
{
    return ngx_http_voxanne_ws_base64(dst, NGX_HTTP_VOXANNE_WS_KEY_LEN, nonce,
                                      NGX_HTTP_VOXANNE_WS_NONCE_LEN);
}


/* the len characters of the base64 of n bytes, without EVP's NUL */

static ngx_int_t
ngx_http_voxanne_ws_base64(u_char *dst, size_t len, u_char *src, size_t n)
{
    u_char  b64[NGX_HTTP_VOXANNE_WS_ACCEPT_LEN + 1];

    if (len > NGX_HTTP_VOXANNE_WS_ACCEPT_LEN
        || EVP_EncodeBlock(b64, src, n) != (int) len)
    {
        return NGX_ERROR;
    }

    ngx_memcpy(dst, b64, len);

    return NGX_OK;
}


/*
 * The server's answer to the upgrade, RFC 6455 4.2.2 and RFC 9112: a
 * status line, header lines, an empty line; each line ends with CR LF (a
 * bare LF is taken too).  The end of the head is looked for first, from
 * the first line not yet scanned, so a head that comes a byte at a time is
 * still read in linear time; then the whole head is checked at once.
 */

ngx_int_t
ngx_http_voxanne_ws_response(ngx_http_voxanne_ws_response_t *r,
    u_char *data, size_t len, u_char *accept)
{
    u_char      *p, *end, *eol, *next;
    ngx_uint_t   i, status;

    p = data + r->scanned;
    end = data + ngx_min(len, NGX_HTTP_VOXANNE_WS_RESPONSE_MAX);

    for ( ;; ) {
        eol = ngx_http_voxanne_ws_eol(p, end, &next);

        if (eol == NULL) {
            r->scanned = p - data;

            if (len >= NGX_HTTP_VOXANNE_WS_RESPONSE_MAX) {
                r->error = "the response head is too long";
                return NGX_ERROR;
            }

            return NGX_AGAIN;
        }

        if (eol == p && p != data) {
            break;
        }

        p = next;
    }

    r->scanned = next - data;
    r->len = next - data;

    /* "HTTP/1.1 101 Switching Protocols", the reason may be empty */

    p = data;
    eol = ngx_http_voxanne_ws_eol(p, next, &next);

    if (eol - p < 12
        || ngx_strncmp(p, "HTTP/1.", 7) != 0
        || (p[7] != '0' && p[7] != '1')
        || p[8] != ' '
        || p[9] < '1' || p[9] > '5'
        || (eol - p > 12 && p[12] != ' '))
    {
        r->error = "not an HTTP/1.x status line";
        return NGX_ERROR;
    }

    status = 0;

    for (i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9') {
            r->error = "not an HTTP/1.x status line";
            return NGX_ERROR;
        }

        status = status * 10 + (p[i] - '0');
    }

    for (i = 12; p + i < eol; i++) {
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
            r->error = "a control character in the status line";
            return NGX_ERROR;
        }
    }

    r->status = status;

    if (status != 101) {
        r->error = "the server refused the upgrade";
        return NGX_DECLINED;
    }

    if (p[7] != '1') {
        r->error = "101 over HTTP/1.0";
        return NGX_DECLINED;
    }

    return ngx_http_voxanne_ws_headers(r, next, data + r->len, accept);
}


/* the header lines of a 101, up to and with the empty line */

static ngx_int_t
ngx_http_voxanne_ws_headers(ngx_http_voxanne_ws_response_t *r, u_char *p,
    u_char *end, u_char *accept)
{
    u_char      *eol, *next, *q, *last;
    ngx_str_t    value;
    ngx_uint_t   upgrade, connection, accepted, accepts;

    upgrade = 0;
    connection = 0;
    accepted = 0;
    accepts = 0;

    for ( /* void */ ; ; p = next) {
        eol = ngx_http_voxanne_ws_eol(p, end, &next);

        if (eol == p) {
            break;
        }

        /* field-name ":" OWS field-value OWS; no obsolete line folding */

        for (q = p; q < eol && ngx_http_voxanne_ws_tchar(*q); q++) {
            /* void */
        }

        if (q == p || q == eol || *q != ':') {
            r->error = "an invalid header line";
            return NGX_ERROR;
        }

        value.data = q + 1;
        last = eol;

        while (value.data < last && (*value.data == ' '
                                     || *value.data == '\t'))
        {
            value.data++;
        }

        while (last > value.data && (last[-1] == ' ' || last[-1] == '\t')) {
            last--;
        }

        value.len = last - value.data;

        for (last = value.data; last < value.data + value.len; last++) {
            if ((*last < 0x20 && *last != '\t') || *last == 0x7f) {
                r->error = "a control character in a header value";
                return NGX_ERROR;
            }
        }

        if (ngx_http_voxanne_ws_caseeq(p, q - p, "upgrade", 7)) {
            upgrade |= ngx_http_voxanne_ws_token(&value, "websocket", 9);

        } else if (ngx_http_voxanne_ws_caseeq(p, q - p, "connection", 10)) {
            connection |= ngx_http_voxanne_ws_token(&value, "upgrade", 7);

        } else if (ngx_http_voxanne_ws_caseeq(p, q - p,
                                              "sec-websocket-accept", 20))
        {
            accepts++;
            accepted = (value.len == NGX_HTTP_VOXANNE_WS_ACCEPT_LEN
                        && ngx_memcmp(value.data, accept,
                                      NGX_HTTP_VOXANNE_WS_ACCEPT_LEN)
                           == 0);

        } else if (ngx_http_voxanne_ws_caseeq(p, q - p,
                                              "sec-websocket-extensions", 24)
                   && value.len)
        {
            r->error = "an extension that was not asked for";
            return NGX_DECLINED;

        } else if (ngx_http_voxanne_ws_caseeq(p, q - p,
                                              "sec-websocket-protocol", 22))
        {
            r->error = "a subprotocol that was not asked for";
            return NGX_DECLINED;
        }
    }

    if (!upgrade) {
        r->error = "no \"Upgrade: websocket\"";
        return NGX_DECLINED;
    }

    if (!connection) {
        r->error = "no \"Connection: upgrade\"";
        return NGX_DECLINED;
    }

    if (accepts != 1 || !accepted) {
        r->error = "no valid Sec-WebSocket-Accept";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* the end of the line at p without its CR LF or LF, or NULL */

static u_char *
ngx_http_voxanne_ws_eol(u_char *p, u_char *end, u_char **next)
{
    u_char  *lf;

    lf = ngx_strlchr(p, end, LF);

    if (lf == NULL) {
        return NULL;
    }

    *next = lf + 1;

    return (lf > p && lf[-1] == CR) ? lf - 1 : lf;
}


/* a character of a token (RFC 9110 5.6.2) */

static ngx_uint_t
ngx_http_voxanne_ws_tchar(u_char c)
{
    if ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')) {
        return 1;
    }

    return c != '\0' && ngx_strchr("!#$%&'*+-.^_`|~", c) != NULL;
}


ngx_uint_t
ngx_http_voxanne_ws_token(ngx_str_t *value, char *token, size_t len)
{
    u_char  *p, *last, *end;

    p = value->data;
    last = value->data + value->len;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        end = p;

        while (end < last && *end != ',' && *end != ' ' && *end != '\t') {
            end++;
        }

        if (ngx_http_voxanne_ws_caseeq(p, end - p, token, len)) {
            return 1;
        }

        p = end;
    }

    return 0;
}


/* ASCII case-insensitive: p[0 .. len) is lower[0 .. n) */

static ngx_uint_t
ngx_http_voxanne_ws_caseeq(u_char *p, size_t len, char *lower, size_t n)
{
    size_t  i;

    if (len != n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (ngx_tolower(p[i]) != (u_char) lower[i]) {
            return 0;
        }
    }

    return 1;
}
