
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/crypto.h>
#include "ngx_http_voxanne_vapi_sig.h"


#define NGX_HTTP_VOXANNE_VAPI_MS  100000000000LL   /* 1973 in ms, 5138 in s */


static ngx_str_t  ngx_http_voxanne_vapi_fields[] = {
    ngx_null_string,
    ngx_string("body"),
    ngx_string("timestamp"),
    ngx_string("method"),
    ngx_string("url"),
    ngx_string("svix-id")
};


/* NGX_ERROR when libcrypto fails */

ngx_int_t
ngx_http_voxanne_vapi_secret_digest(u_char *digest, u_char *secret,
    size_t len)
{
    unsigned int  n;

    if (!EVP_Digest(secret, len, digest, &n, EVP_sha256(), NULL) || n != 32) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* NGX_OK when the SHA-256 of what was presented is the secret's */

ngx_int_t
ngx_http_voxanne_vapi_secret_verify(u_char *digest, ngx_str_t *presented)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  n;

    if (!EVP_Digest(presented->data, presented->len, md, &n, EVP_sha256(),
                    NULL)
        || n != 32)
    {
        return NGX_DECLINED;
    }

    return CRYPTO_memcmp(md, digest, 32) == 0 ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_http_voxanne_vapi_format(ngx_http_voxanne_vapi_hmac_t *h,
    ngx_str_t *format)
{
    u_char                         *p, *last, *end;
    ngx_uint_t                      f;
    ngx_http_voxanne_vapi_piece_t  *piece;

    h->npieces = 0;

    p = format->data;
    last = p + format->len;

    while (p < last) {

        if (h->npieces == NGX_HTTP_VOXANNE_VAPI_PIECES) {
            return NGX_DECLINED;
        }

        piece = &h->pieces[h->npieces++];

        if (*p == '}') {
            return NGX_DECLINED;
        }

        if (*p != '{') {
            piece->field = NGX_HTTP_VOXANNE_VAPI_LITERAL;
            piece->text.data = p;

            while (p < last && *p != '{' && *p != '}') {
                p++;
            }

            piece->text.len = p - piece->text.data;
            continue;
        }

        end = ngx_strlchr(p, last, '}');
        if (end == NULL) {
            return NGX_DECLINED;
        }

        p++;

        for (f = 1; f < NGX_HTTP_VOXANNE_VAPI_FIELDS; f++) {
            if ((size_t) (end - p) == ngx_http_voxanne_vapi_fields[f].len
                && ngx_strncmp(p, ngx_http_voxanne_vapi_fields[f].data,
                               end - p)
                   == 0)
            {
                break;
            }
        }

        if (f == NGX_HTTP_VOXANNE_VAPI_FIELDS) {
            return NGX_DECLINED;
        }

        piece->field = f;
        ngx_str_null(&piece->text);

        p = end + 1;
    }

    return h->npieces ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_http_voxanne_vapi_hmac_verify(ngx_http_voxanne_vapi_hmac_t *h,
    ngx_str_t *values, ngx_str_t *header)
{
    u_char      *p, c;
    size_t       n, i, mdlen;
    ngx_str_t   *s;
    ngx_uint_t   k;
    u_char       md[EVP_MAX_MD_SIZE];
    u_char       expected[NGX_HTTP_VOXANNE_VAPI_SIG_MAX];
    u_char       presented[NGX_HTTP_VOXANNE_VAPI_SIG_MAX];

    if (!EVP_MAC_init(h->ctx, NULL, 0, NULL)) {
        return NGX_ERROR;
    }

    for (k = 0; k < h->npieces; k++) {
        s = (h->pieces[k].field == NGX_HTTP_VOXANNE_VAPI_LITERAL)
            ? &h->pieces[k].text : &values[h->pieces[k].field];

        if (s->len && !EVP_MAC_update(h->ctx, s->data, s->len)) {
            return NGX_ERROR;
        }
    }

    if (!EVP_MAC_final(h->ctx, md, &mdlen, sizeof(md))) {
        return NGX_ERROR;
    }

    if (header->len < h->prefix.len
        || ngx_strncmp(header->data, h->prefix.data, h->prefix.len) != 0)
    {
        return NGX_DECLINED;
    }

    p = header->data + h->prefix.len;
    n = header->len - h->prefix.len;

    if (h->base64) {

        /* 4 characters per 3 bytes, and the NUL EVP_EncodeBlock() adds */

        if (n != (mdlen + 2) / 3 * 4) {
            return NGX_DECLINED;
        }

        (void) EVP_EncodeBlock(expected, md, (int) mdlen);

        return CRYPTO_memcmp(expected, p, n) == 0 ? NGX_OK : NGX_DECLINED;
    }

    if (n != 2 * mdlen) {
        return NGX_DECLINED;
    }

    for (i = 0; i < mdlen; i++) {
        expected[2 * i] = "0123456789abcdef"[md[i] >> 4];
        expected[2 * i + 1] = "0123456789abcdef"[md[i] & 0xf];
    }

    /* hex digits of either case */

    for (i = 0; i < n; i++) {
        c = p[i];
        presented[i] = (c >= 'A' && c <= 'F') ? (u_char) (c | 0x20) : c;
    }

    return CRYPTO_memcmp(expected, presented, n) == 0 ? NGX_OK
                                                      : NGX_DECLINED;
}


ngx_int_t
ngx_http_voxanne_vapi_timestamp(ngx_str_t *value, time_t now,
    time_t tolerance)
{
    size_t   i;
    int64_t  t;

    if (value->len == 0 || value->len > 18) {
        return NGX_DECLINED;
    }

    t = 0;

    for (i = 0; i < value->len; i++) {
        if (value->data[i] < '0' || value->data[i] > '9') {
            return NGX_DECLINED;
        }

        t = t * 10 + (value->data[i] - '0');
    }

    if (t >= NGX_HTTP_VOXANNE_VAPI_MS) {
        t /= 1000;
    }

    if (t < (int64_t) now - tolerance || t > (int64_t) now + tolerance) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}
