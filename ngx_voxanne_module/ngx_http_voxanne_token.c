
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/crypto.h>
#include "ngx_http_voxanne_token.h"


#define NGX_HTTP_VOXANNE_TOKEN_PREFIX   "voxanne-stream-token/v1\n"
#define NGX_HTTP_VOXANNE_SHA256_LEN     32

#define NGX_HTTP_VOXANNE_TOKEN_MSG_LEN                                        \
    (sizeof(NGX_HTTP_VOXANNE_TOKEN_PREFIX) - 1 + NGX_TIME_T_LEN + 1           \
     + NGX_HTTP_VOXANNE_TOKEN_TENANT_MAX + 1 + NGX_HTTP_VOXANNE_TOKEN_SID_MAX)


static ngx_int_t ngx_http_voxanne_token_field(ngx_str_t *s, size_t max);
static u_char *ngx_http_voxanne_token_message(u_char *dst, u_char *expires,
    size_t len, ngx_str_t *tenant, ngx_str_t *call_sid);
static ngx_int_t ngx_http_voxanne_token_mac(u_char *dst,
    ngx_http_voxanne_key_t *key, u_char *msg, size_t len);


static u_char  ngx_http_voxanne_token_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


/*
 * Writes the token for the call to dst, which must hold
 * NGX_HTTP_VOXANNE_TOKEN_LEN bytes.  Returns the end of what it wrote, or
 * NULL when libcrypto fails or the input cannot be signed: a negative
 * expiry, an empty or oversized tenant or CallSid, or one that contains a
 * newline.
 */

u_char *
ngx_http_voxanne_token_create(u_char *dst, ngx_http_voxanne_key_t *key,
    ngx_str_t *tenant, ngx_str_t *call_sid, time_t expires)
{
    u_char  *p, *last;
    u_char   digits[NGX_TIME_T_LEN];
    u_char   mac[NGX_HTTP_VOXANNE_TOKEN_MAC_LEN];
    u_char   msg[NGX_HTTP_VOXANNE_TOKEN_MSG_LEN];

    if (expires < 0) {
        return NULL;
    }

    /* canonical decimal: no sign, no leading zeros */

    last = digits + NGX_TIME_T_LEN;
    p = last;

    do {
        *--p = (u_char) ('0' + expires % 10);
        expires /= 10;
    } while (expires);

    last = ngx_http_voxanne_token_message(msg, p, last - p, tenant, call_sid);
    if (last == NULL) {
        return NULL;
    }

    if (ngx_http_voxanne_token_mac(mac, key, msg, last - msg) != NGX_OK) {
        return NULL;
    }

    dst = ngx_cpymem(dst, "v1.", 3);
    dst = ngx_cpymem(dst, p, digits + NGX_TIME_T_LEN - p);
    *dst++ = '.';

    return ngx_cpymem(dst, mac, NGX_HTTP_VOXANNE_TOKEN_MAC_LEN);
}


/*
 * Accepts the token only when it is well formed, has not expired (now is
 * before its expiry) and carries the MAC of this tenant and CallSid under
 * one of the keys.  Returns NGX_OK or NGX_DECLINED; a libcrypto failure
 * declines too, as nothing could be verified.
 */

ngx_int_t
ngx_http_voxanne_token_verify(ngx_str_t *token, ngx_http_voxanne_key_t *keys,
    ngx_uint_t nkeys, ngx_str_t *tenant, ngx_str_t *call_sid, time_t now)
{
    u_char      *p, *last, *digits, *given;
    time_t       expires, d;
    ngx_uint_t   i;
    u_char       mac[NGX_HTTP_VOXANNE_TOKEN_MAC_LEN];
    u_char       msg[NGX_HTTP_VOXANNE_TOKEN_MSG_LEN];

    if (token->len < 3 + 1 + 1 + NGX_HTTP_VOXANNE_TOKEN_MAC_LEN
        || token->len > NGX_HTTP_VOXANNE_TOKEN_LEN
        || ngx_memcmp(token->data, "v1.", 3) != 0)
    {
        return NGX_DECLINED;
    }

    given = token->data + token->len - NGX_HTTP_VOXANNE_TOKEN_MAC_LEN;

    if (given[-1] != '.') {
        return NGX_DECLINED;
    }

    /* the expiry: 1 to 19 digits, no leading zero, fits in time_t */

    digits = token->data + 3;
    last = given - 1;

    if (last == digits || (*digits == '0' && last - digits > 1)) {
        return NGX_DECLINED;
    }

    expires = 0;

    for (p = digits; p < last; p++) {

        if (*p < '0' || *p > '9') {
            return NGX_DECLINED;
        }

        d = *p - '0';

        if (expires > (NGX_MAX_TIME_T_VALUE - d) / 10) {
            return NGX_DECLINED;
        }

        expires = expires * 10 + d;
    }

    for (p = given; p < token->data + token->len; p++) {

        if (ngx_strlchr(ngx_http_voxanne_token_b64url,
                        ngx_http_voxanne_token_b64url + 64, *p)
            == NULL)
        {
            return NGX_DECLINED;
        }
    }

    if (now >= expires) {
        return NGX_DECLINED;
    }

    last = ngx_http_voxanne_token_message(msg, digits, last - digits, tenant,
                                          call_sid);
    if (last == NULL) {
        return NGX_DECLINED;
    }

    for (i = 0; i < nkeys; i++) {

        if (ngx_http_voxanne_token_mac(mac, &keys[i], msg, last - msg)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

        /*
         * comparing the encoded form also refuses the non-canonical
         * spellings of the last character that a decoder would accept
         */

        if (CRYPTO_memcmp(mac, given, NGX_HTTP_VOXANNE_TOKEN_MAC_LEN) == 0) {
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * Tenants and CallSids are bounded so that the message fits a stack
 * buffer, and may not contain the separator, so that no two triples of
 * expiry, tenant and CallSid give the same message.
 */

static ngx_int_t
ngx_http_voxanne_token_field(ngx_str_t *s, size_t max)
{
    if (s->len == 0 || s->len > max
        || ngx_strlchr(s->data, s->data + s->len, '\n') != NULL)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static u_char *
ngx_http_voxanne_token_message(u_char *dst, u_char *expires, size_t len,
    ngx_str_t *tenant, ngx_str_t *call_sid)
{
    if (ngx_http_voxanne_token_field(tenant,
                                     NGX_HTTP_VOXANNE_TOKEN_TENANT_MAX)
        != NGX_OK
        || ngx_http_voxanne_token_field(call_sid,
                                        NGX_HTTP_VOXANNE_TOKEN_SID_MAX)
           != NGX_OK)
    {
        return NULL;
    }

    dst = ngx_cpymem(dst, NGX_HTTP_VOXANNE_TOKEN_PREFIX,
                     sizeof(NGX_HTTP_VOXANNE_TOKEN_PREFIX) - 1);
    dst = ngx_cpymem(dst, expires, len);
    *dst++ = '\n';
    dst = ngx_cpymem(dst, tenant->data, tenant->len);
    *dst++ = '\n';

    return ngx_cpymem(dst, call_sid->data, call_sid->len);
}


/* writes the MAC as NGX_HTTP_VOXANNE_TOKEN_MAC_LEN base64url characters */

static ngx_int_t
ngx_http_voxanne_token_mac(u_char *dst, ngx_http_voxanne_key_t *key,
    u_char *msg, size_t len)
{
    u_char      *s, *b;
    size_t       mdlen;
    ngx_uint_t   i;
    u_char       md[EVP_MAX_MD_SIZE];

    b = ngx_http_voxanne_token_b64url;

    if (ngx_http_voxanne_hmac(key->sha256, msg, len, md, sizeof(md), &mdlen)
        != NGX_OK
        || mdlen != NGX_HTTP_VOXANNE_SHA256_LEN)
    {
        return NGX_ERROR;
    }

    s = md;

    for (i = 0; i < NGX_HTTP_VOXANNE_SHA256_LEN / 3; i++) {
        *dst++ = b[s[0] >> 2];
        *dst++ = b[((s[0] & 3) << 4) | (s[1] >> 4)];
        *dst++ = b[((s[1] & 0x0f) << 2) | (s[2] >> 6)];
        *dst++ = b[s[2] & 0x3f];
        s += 3;
    }

    /* 32 bytes: two left over, three characters, no padding */

    *dst++ = b[s[0] >> 2];
    *dst++ = b[((s[0] & 3) << 4) | (s[1] >> 4)];
    *dst = b[(s[1] & 0x0f) << 2];

    return NGX_OK;
}
