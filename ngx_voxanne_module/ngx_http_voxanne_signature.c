
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include "ngx_http_voxanne_signature.h"


#define NGX_HTTP_VOXANNE_SHA1_LEN  20


static ngx_int_t ngx_http_voxanne_signature_cmp(ngx_http_voxanne_param_t *a,
    ngx_http_voxanne_param_t *b);
static ngx_int_t ngx_http_voxanne_str_cmp(ngx_str_t *a, ngx_str_t *b);
static u_char *ngx_http_voxanne_signature_quote(u_char *dst, ngx_str_t *uri);


/*
 * The other spelling of a public URL that Twilio may have signed: with the
 * scheme's default port added when there is none, or with the port removed
 * when there is one.  buf must hold base->len + 4 bytes.
 */

ngx_int_t
ngx_http_voxanne_signature_base_variant(ngx_str_t *base, u_char *buf,
    ngx_str_t *variant)
{
    u_char  *p, *host, *port, *last;
    size_t   slen;

    last = base->data + base->len;

    p = ngx_strlchr(base->data, last, ':');
    if (p == NULL || last - p < 4 || p[1] != '/' || p[2] != '/') {
        return NGX_ERROR;
    }

    slen = p - base->data;
    host = p + 3;

    for (p = last; p > host; p--) {
        if (p[-1] == '@') {
            host = p;
            break;
        }
    }

    if (host == last || ngx_strlchr(host, last, '/') != NULL) {
        return NGX_ERROR;
    }

    port = NULL;

    for (p = last - 1; p > host; p--) {

        if (*p == ':') {
            port = p;
            break;
        }

        if (*p < '0' || *p > '9') {
            break;
        }
    }

    if (port) {
        if (port + 1 == last) {
            return NGX_ERROR;
        }

        variant->data = buf;
        variant->len = ngx_cpymem(buf, base->data, port - base->data) - buf;

        return NGX_OK;
    }

    p = ngx_cpymem(buf, base->data, base->len);

    /* schemes are lowercase: the tenant configuration requires it */

    if ((slen == 5 && ngx_strncmp(base->data, "https", 5) == 0)
        || (slen == 3 && ngx_strncmp(base->data, "wss", 3) == 0))
    {
        p = ngx_cpymem(p, ":443", 4);

    } else if ((slen == 4 && ngx_strncmp(base->data, "http", 4) == 0)
               || (slen == 2 && ngx_strncmp(base->data, "ws", 2) == 0))
    {
        p = ngx_cpymem(p, ":80", 3);

    } else {
        return NGX_ERROR;
    }

    variant->data = buf;
    variant->len = p - buf;

    return NGX_OK;
}


size_t
ngx_http_voxanne_signature_params_size(ngx_http_voxanne_param_t *params,
    ngx_uint_t n)
{
    size_t      size;
    ngx_uint_t  i;

    size = 0;

    for (i = 0; i < n; i++) {
        size += params[i].name.len + params[i].value.len;
    }

    return size;
}


/*
 * Sorts the parameters by name, then by value, in byte order and writes
 * name + value for each distinct pair, the way Twilio's SDKs do.  Twilio
 * sends its parameters sorted already, so an insertion sort is linear here
 * (and n is bounded by the caller).
 */

u_char *
ngx_http_voxanne_signature_params(u_char *dst,
    ngx_http_voxanne_param_t *params, ngx_uint_t n)
{
    ngx_uint_t                i, j;
    ngx_http_voxanne_param_t  param;

    for (i = 1; i < n; i++) {
        param = params[i];

        for (j = i;
             j > 0 && ngx_http_voxanne_signature_cmp(&params[j - 1], &param)
                      > 0;
             j--)
        {
            params[j] = params[j - 1];
        }

        params[j] = param;
    }

    for (i = 0; i < n; i++) {

        if (i > 0 && ngx_http_voxanne_signature_cmp(&params[i - 1], &params[i])
                     == 0)
        {
            continue;
        }

        dst = ngx_cpymem(dst, params[i].name.data, params[i].name.len);
        dst = ngx_cpymem(dst, params[i].value.data, params[i].value.len);
    }

    return dst;
}


size_t
ngx_http_voxanne_signature_buf_size(ngx_http_voxanne_signature_t *sig)
{
    size_t      size;
    ngx_uint_t  i;

    size = 0;

    for (i = 0; i < sig->nbases; i++) {
        size = ngx_max(size, sig->bases[i].len);
    }

    for (i = 0; i < sig->uri.len; i++) {
        size += (sig->uri.data[i] == '\'') ? 3 : 1;
    }

    return size + sig->params.len;
}


/*
 * Tries every public URL spelling, the URI as sent and with "'" encoded as
 * "%27", and every token.  Returns NGX_OK with sig->token set, NGX_DECLINED
 * when nothing matches (a malformed header included), or NGX_ERROR.
 */

ngx_int_t
ngx_http_voxanne_signature_verify(ngx_http_voxanne_signature_t *sig,
    ngx_str_t *header)
{
    u_char      *p;
    size_t       mdlen;
    ngx_uint_t   b, t, quoted, quotes;
    u_char       expected[NGX_HTTP_VOXANNE_SIGNATURE_LEN / 4 * 3];
    u_char       md[EVP_MAX_MD_SIZE];

    if (header->len != NGX_HTTP_VOXANNE_SIGNATURE_LEN
        || header->data[NGX_HTTP_VOXANNE_SIGNATURE_LEN - 1] != '='
        || header->data[NGX_HTTP_VOXANNE_SIGNATURE_LEN - 2] == '='
        || EVP_DecodeBlock(expected, header->data,
                           NGX_HTTP_VOXANNE_SIGNATURE_LEN)
           != (int) sizeof(expected))
    {
        return NGX_DECLINED;
    }

    quotes = (ngx_strlchr(sig->uri.data, sig->uri.data + sig->uri.len, '\'')
              != NULL);

    for (quoted = 0; quoted <= quotes; quoted++) {
        for (b = 0; b < sig->nbases; b++) {

            p = ngx_cpymem(sig->buf, sig->bases[b].data, sig->bases[b].len);

            if (quoted) {
                p = ngx_http_voxanne_signature_quote(p, &sig->uri);

            } else {
                p = ngx_cpymem(p, sig->uri.data, sig->uri.len);
            }

            p = ngx_cpymem(p, sig->params.data, sig->params.len);

            for (t = 0; t < sig->nkeys; t++) {
                if (ngx_http_voxanne_hmac(sig->keys[t].sha1, sig->buf,
                                          p - sig->buf, md, sizeof(md),
                                          &mdlen)
                    != NGX_OK
                    || mdlen != NGX_HTTP_VOXANNE_SHA1_LEN)
                {
                    return NGX_ERROR;
                }

                if (CRYPTO_memcmp(md, expected, NGX_HTTP_VOXANNE_SHA1_LEN)
                    == 0)
                {
                    sig->token = t;
                    return NGX_OK;
                }
            }
        }
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_voxanne_signature_cmp(ngx_http_voxanne_param_t *a,
    ngx_http_voxanne_param_t *b)
{
    ngx_int_t  rc;

    rc = ngx_http_voxanne_str_cmp(&a->name, &b->name);

    if (rc != 0) {
        return rc;
    }

    return ngx_http_voxanne_str_cmp(&a->value, &b->value);
}


static ngx_int_t
ngx_http_voxanne_str_cmp(ngx_str_t *a, ngx_str_t *b)
{
    ngx_int_t  rc;

    rc = ngx_memcmp(a->data, b->data, ngx_min(a->len, b->len));

    if (rc != 0 || a->len == b->len) {
        return rc;
    }

    return (a->len < b->len) ? -1 : 1;
}


static u_char *
ngx_http_voxanne_signature_quote(u_char *dst, ngx_str_t *uri)
{
    u_char  *p, *last;

    last = uri->data + uri->len;

    for (p = uri->data; p < last; p++) {

        if (*p == '\'') {
            dst = ngx_cpymem(dst, "%27", 3);
            continue;
        }

        *dst++ = *p;
    }

    return dst;
}
