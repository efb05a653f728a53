
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_CRYPT_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_CRYPT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * Tenants' provider credentials (org_credentials rows) sealed with
 * AES-256-GCM: a 12-byte random nonce, a 16-byte tag, and as associated
 * data
 *
 *     "voxanne-credential/v1" "\n" org "\n" provider "\n" name
 *
 * so that a row copied to another organization, provider or name does not
 * open.  The key is 32 bytes, from a key file holding them raw or as 64 hex
 * digits; its id, stored with each row, is the hex of the first 8 bytes of
 * SHA-256("voxanne-credential-key/v1" "\n" key), so that the key a row
 * needs can be told without trying it.  A pure codec: libcrypto only, no
 * I/O, no allocation.
 */


#define NGX_HTTP_VOXANNE_CRYPT_KEY_LEN       32
#define NGX_HTTP_VOXANNE_CRYPT_KEY_ID_LEN    16      /* hex digits */
#define NGX_HTTP_VOXANNE_CRYPT_NONCE_LEN     12
#define NGX_HTTP_VOXANNE_CRYPT_TAG_LEN       16
#define NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX    4096
#define NGX_HTTP_VOXANNE_CRYPT_ORG_LEN       36      /* a lowercase uuid */
#define NGX_HTTP_VOXANNE_CRYPT_PROVIDER_MAX  32
#define NGX_HTTP_VOXANNE_CRYPT_NAME_MAX      64


typedef struct {
    u_char     key[NGX_HTTP_VOXANNE_CRYPT_KEY_LEN];
    u_char     id[NGX_HTTP_VOXANNE_CRYPT_KEY_ID_LEN];
} ngx_http_voxanne_crypt_key_t;


/*
 * What a secret is bound to, as in its row: org is the organization's uuid
 * in lowercase; provider ([a-z][a-z0-9_-]*, up to 32) and name
 * ([a-z][a-z0-9_.-]*, up to 64) follow org_credentials' CHECKs.
 */

typedef struct {
    ngx_str_t  org;
    ngx_str_t  provider;
    ngx_str_t  name;
} ngx_http_voxanne_crypt_label_t;


ngx_int_t ngx_http_voxanne_crypt_key_parse(ngx_http_voxanne_crypt_key_t *key,
    u_char *text, size_t len);
void ngx_http_voxanne_crypt_key_wipe(ngx_http_voxanne_crypt_key_t *key);
ngx_int_t ngx_http_voxanne_crypt_nonce(u_char *nonce);
ngx_int_t ngx_http_voxanne_crypt_seal(ngx_http_voxanne_crypt_key_t *key,
    ngx_http_voxanne_crypt_label_t *label, u_char *nonce, u_char *secret,
    size_t len, u_char *ciphertext, u_char *tag);
ngx_int_t ngx_http_voxanne_crypt_open(ngx_http_voxanne_crypt_key_t *key,
    ngx_http_voxanne_crypt_label_t *label, u_char *nonce, u_char *ciphertext,
    size_t len, u_char *tag, u_char *secret);

ngx_int_t ngx_http_voxanne_gcm_seal(u_char *key, u_char *iv, size_t ivlen,
    u_char *aad, size_t aadlen, u_char *in, size_t len, u_char *out,
    u_char *tag);
ngx_int_t ngx_http_voxanne_gcm_open(u_char *key, u_char *iv, size_t ivlen,
    u_char *aad, size_t aadlen, u_char *in, size_t len, u_char *tag,
    u_char *out);


#endif /* _NGX_HTTP_VOXANNE_CRYPT_H_INCLUDED_ */
