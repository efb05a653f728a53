
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_VAPI_SIG_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_VAPI_SIG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>


/*
 * How a Vapi server webhook proves where it comes from (protocols.md
 * §6.3): a shared secret sent as is (X-Vapi-Secret, or a Bearer token), or
 * an HMAC of a payload built from a format such as "{timestamp}.{body}"
 * with the placeholders {body}, {timestamp}, {method}, {url} and
 * {svix-id}, sent in hex or base64, with an optional prefix ("sha256=").
 * A pure codec (libc and libcrypto only, no allocation, no I/O) so that
 * unit tests and fuzzers drive it directly.
 *
 * secret_digest() keeps the SHA-256 of a secret in 32 bytes (NGX_ERROR when
 * libcrypto fails); secret_verify() compares a presented value with it in
 * constant time, whatever the lengths: NGX_OK or NGX_DECLINED.
 *
 * format() parses a payload format at configuration time: NGX_OK, or
 * NGX_DECLINED for an unknown placeholder, a lone brace or more than
 * NGX_HTTP_VOXANNE_VAPI_PIECES pieces.  hmac_verify() computes the HMAC of
 * the payload with the request's fields (values[], indexed by field) and
 * compares it with the header in constant time: NGX_OK, NGX_DECLINED (no
 * match, or a header that is not an encoding of a MAC of that size with the
 * prefix), or NGX_ERROR when libcrypto fails.
 *
 * timestamp() checks a timestamp header against now: Unix seconds, or
 * milliseconds (Vapi's own timestamps are), within tolerance seconds either
 * way.  NGX_OK or NGX_DECLINED.
 */


#define NGX_HTTP_VOXANNE_VAPI_PIECES  16
#define NGX_HTTP_VOXANNE_VAPI_SIG_MAX 256     /* an encoded MAC and prefix */


typedef enum {
    NGX_HTTP_VOXANNE_VAPI_LITERAL = 0,
    NGX_HTTP_VOXANNE_VAPI_BODY,
    NGX_HTTP_VOXANNE_VAPI_TIMESTAMP,
    NGX_HTTP_VOXANNE_VAPI_METHOD,
    NGX_HTTP_VOXANNE_VAPI_URL,
    NGX_HTTP_VOXANNE_VAPI_SVIX_ID,
    NGX_HTTP_VOXANNE_VAPI_FIELDS
} ngx_http_voxanne_vapi_field_e;


typedef struct {
    ngx_uint_t                      field;
    ngx_str_t                       text;     /* of a literal */
} ngx_http_voxanne_vapi_piece_t;


typedef struct {
    EVP_MAC_CTX                    *ctx;      /* keyed with the secret */
    ngx_str_t                       prefix;
    ngx_uint_t                      base64;   /* else hex */
    ngx_uint_t                      npieces;
    ngx_http_voxanne_vapi_piece_t   pieces[NGX_HTTP_VOXANNE_VAPI_PIECES];
} ngx_http_voxanne_vapi_hmac_t;


ngx_int_t ngx_http_voxanne_vapi_secret_digest(u_char *digest, u_char *secret,
    size_t len);
ngx_int_t ngx_http_voxanne_vapi_secret_verify(u_char *digest,
    ngx_str_t *presented);
ngx_int_t ngx_http_voxanne_vapi_format(ngx_http_voxanne_vapi_hmac_t *h,
    ngx_str_t *format);
ngx_int_t ngx_http_voxanne_vapi_hmac_verify(ngx_http_voxanne_vapi_hmac_t *h,
    ngx_str_t *values, ngx_str_t *header);
ngx_int_t ngx_http_voxanne_vapi_timestamp(ngx_str_t *value, time_t now,
    time_t tolerance);


#endif /* _NGX_HTTP_VOXANNE_VAPI_SIG_H_INCLUDED_ */
