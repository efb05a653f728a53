
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_HMAC_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_HMAC_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>


/*
 * A secret keyed once for HMAC-SHA1 (Twilio's signatures) and HMAC-SHA256
 * (stream tokens).  OpenSSL 3's one-shot HMAC() fetches the digest and
 * allocates a context on every call; a keyed context is only re-initialised,
 * which costs a sixth of that.  A pure codec: libcrypto only.
 */


typedef struct {
    EVP_MAC_CTX  *sha1;
    EVP_MAC_CTX  *sha256;
} ngx_http_voxanne_key_t;


ngx_int_t ngx_http_voxanne_key_init(ngx_http_voxanne_key_t *key,
    u_char *secret, size_t len);
EVP_MAC_CTX *ngx_http_voxanne_hmac_ctx(char *digest, u_char *secret,
    size_t len);
void ngx_http_voxanne_key_free(ngx_http_voxanne_key_t *key);
ngx_int_t ngx_http_voxanne_hmac(EVP_MAC_CTX *ctx, u_char *msg, size_t len,
    u_char *md, size_t size, size_t *mdlen);


#endif /* _NGX_HTTP_VOXANNE_HMAC_H_INCLUDED_ */
