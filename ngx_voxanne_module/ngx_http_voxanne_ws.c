
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
ngx_http_voxanne_ws_init(ngx_http_voxanne_ws_t *ws, size_t max_message)
{
    ngx_memzero(ws, sizeof(ngx_http_voxanne_ws_t));

    ws->max_message = max_message;
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

            /* a client masks every frame */

            if ((c & 0x80) == 0) {
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


/* unmasks n bytes of payload in place and checks them */

static ngx_int_t
ngx_http_voxanne_ws_payload(ngx_http_voxanne_ws_t *ws, u_char *p, size_t n,
    ngx_uint_t last)
{
    size_t      i;
    ngx_uint_t  m;

    m = (ngx_uint_t) (ws->offset & 3);

    for (i = 0; i < n; i++) {
        p[i] ^= ws->mask[m];
        m = (m + 1) & 3;
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
    u_char         b64[NGX_HTTP_VOXANNE_WS_ACCEPT_LEN + 1];
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

    /* EVP_EncodeBlock() adds a terminating NUL */

    if (EVP_EncodeBlock(b64, md, NGX_HTTP_VOXANNE_WS_SHA1_LEN)
        != NGX_HTTP_VOXANNE_WS_ACCEPT_LEN)
    {
        return NGX_ERROR;
    }

    ngx_memcpy(dst, b64, NGX_HTTP_VOXANNE_WS_ACCEPT_LEN);

    return NGX_OK;
}
