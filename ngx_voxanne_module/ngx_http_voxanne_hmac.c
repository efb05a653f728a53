
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include "ngx_http_voxanne_hmac.h"


/* NGX_ERROR for an empty secret or when libcrypto fails */

ngx_int_t
ngx_http_voxanne_key_init(ngx_http_voxanne_key_t *key, u_char *secret,
    size_t len)
{
    key->sha1 = ngx_http_voxanne_hmac_ctx(OSSL_DIGEST_NAME_SHA1, secret, len);
    key->sha256 = ngx_http_voxanne_hmac_ctx(OSSL_DIGEST_NAME_SHA2_256, secret,
                                            len);

    if (key->sha1 == NULL || key->sha256 == NULL) {
        ngx_http_voxanne_key_free(key);
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_voxanne_key_free(ngx_http_voxanne_key_t *key)
{
    EVP_MAC_CTX_free(key->sha1);
    EVP_MAC_CTX_free(key->sha256);

    key->sha1 = NULL;
    key->sha256 = NULL;
}


/* the MAC of msg under the context's key; the key stays for the next one */

ngx_int_t
ngx_http_voxanne_hmac(EVP_MAC_CTX *ctx, u_char *msg, size_t len, u_char *md,
    size_t size, size_t *mdlen)
{
    if (!EVP_MAC_init(ctx, NULL, 0, NULL)
        || !EVP_MAC_update(ctx, msg, len)
        || !EVP_MAC_final(ctx, md, mdlen, size))
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A context keyed with the secret for HMAC with the digest (an OpenSSL
 * name, OSSL_DIGEST_NAME_*), or NULL for an empty secret or when libcrypto
 * fails.
 */

EVP_MAC_CTX *
ngx_http_voxanne_hmac_ctx(char *digest, u_char *secret, size_t len)
{
    EVP_MAC      *mac;
    OSSL_PARAM    params[2];
    EVP_MAC_CTX  *ctx;

    if (len == 0) {
        return NULL;
    }

    mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (mac == NULL) {
        return NULL;
    }

    /* the context holds its own reference to the MAC */

    ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);

    if (ctx == NULL) {
        return NULL;
    }

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 digest, 0);
    params[1] = OSSL_PARAM_construct_end();

    if (!EVP_MAC_init(ctx, secret, len, params)) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }

    return ctx;
}
