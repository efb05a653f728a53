
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include "ngx_http_voxanne_crypt.h"


#define NGX_HTTP_VOXANNE_CRYPT_AAD_PREFIX  "voxanne-credential/v1\n"
#define NGX_HTTP_VOXANNE_CRYPT_ID_PREFIX   "voxanne-credential-key/v1\n"

#define NGX_HTTP_VOXANNE_CRYPT_AAD_MAX                                        \
    (sizeof(NGX_HTTP_VOXANNE_CRYPT_AAD_PREFIX) - 1                            \
     + NGX_HTTP_VOXANNE_CRYPT_ORG_LEN + 1                                     \
     + NGX_HTTP_VOXANNE_CRYPT_PROVIDER_MAX + 1                                \
     + NGX_HTTP_VOXANNE_CRYPT_NAME_MAX)


static ngx_int_t ngx_http_voxanne_crypt_hex(u_char c);
static ngx_int_t ngx_http_voxanne_crypt_key_id(
    ngx_http_voxanne_crypt_key_t *key);
static u_char *ngx_http_voxanne_crypt_aad(u_char *dst,
    ngx_http_voxanne_crypt_label_t *label);
static ngx_int_t ngx_http_voxanne_crypt_word(ngx_str_t *s, size_t max,
    char *more);
static ngx_int_t ngx_http_voxanne_crypt_uuid(ngx_str_t *s);
static ngx_int_t ngx_http_voxanne_crypt(int enc,
    ngx_http_voxanne_crypt_key_t *key, ngx_http_voxanne_crypt_label_t *label,
    u_char *nonce, u_char *in, size_t len, u_char *out, u_char *tag);
static ngx_int_t ngx_http_voxanne_gcm(int enc, u_char *key, u_char *iv,
    size_t ivlen, u_char *aad, size_t aadlen, u_char *in, size_t len,
    u_char *out, u_char *tag);


static u_char  ngx_http_voxanne_crypt_hexdigits[] = "0123456789abcdef";


/*
 * The key file's contents: exactly 32 bytes are the key itself; anything
 * else must be 64 hex digits, optionally followed by white space (a
 * newline).  Refused as mistakes: an all-zero key, and 32 bytes that are
 * all printable (a passphrase, or a 128-bit key in hex), which a random key
 * is with a chance of about 1 in 6 * 10^13.  Returns NGX_OK, NGX_DECLINED
 * for text that is not a key, or NGX_ERROR when libcrypto fails.  The
 * decoding does not branch on the key's digits.
 */

ngx_int_t
ngx_http_voxanne_crypt_key_parse(ngx_http_voxanne_crypt_key_t *key,
    u_char *text, size_t len)
{
    size_t      i;
    ngx_int_t   hi, lo;
    ngx_uint_t  bad, any, printable;

    if (len == NGX_HTTP_VOXANNE_CRYPT_KEY_LEN) {
        printable = 1;

        for (i = 0; i < NGX_HTTP_VOXANNE_CRYPT_KEY_LEN; i++) {
            printable &= (text[i] >= 0x20) & (text[i] <= 0x7e);
        }

        if (printable) {
            return NGX_DECLINED;
        }

        ngx_memcpy(key->key, text, NGX_HTTP_VOXANNE_CRYPT_KEY_LEN);

    } else {

        while (len > 0
               && (text[len - 1] == ' ' || text[len - 1] == '\t'
                   || text[len - 1] == '\r' || text[len - 1] == '\n'))
        {
            len--;
        }

        if (len != 2 * NGX_HTTP_VOXANNE_CRYPT_KEY_LEN) {
            return NGX_DECLINED;
        }

        bad = 0;

        for (i = 0; i < NGX_HTTP_VOXANNE_CRYPT_KEY_LEN; i++) {
            hi = ngx_http_voxanne_crypt_hex(text[2 * i]);
            lo = ngx_http_voxanne_crypt_hex(text[2 * i + 1]);

            /* a bad digit is -1: bits above the low byte */

            bad |= (ngx_uint_t) (hi | lo) & ~(ngx_uint_t) 0xff;
            key->key[i] = (u_char) (((ngx_uint_t) hi << 4)
                                    | (ngx_uint_t) lo);
        }

        if (bad) {
            ngx_http_voxanne_crypt_key_wipe(key);
            return NGX_DECLINED;
        }
    }

    any = 0;

    for (i = 0; i < NGX_HTTP_VOXANNE_CRYPT_KEY_LEN; i++) {
        any |= key->key[i];
    }

    if (any == 0) {
        return NGX_DECLINED;
    }

    if (ngx_http_voxanne_crypt_key_id(key) != NGX_OK) {
        ngx_http_voxanne_crypt_key_wipe(key);
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_voxanne_crypt_key_wipe(ngx_http_voxanne_crypt_key_t *key)
{
    OPENSSL_cleanse(key, sizeof(ngx_http_voxanne_crypt_key_t));
}


/* a fresh random nonce: never seal twice under one nonce and key */

ngx_int_t
ngx_http_voxanne_crypt_nonce(u_char *nonce)
{
    if (RAND_bytes(nonce, NGX_HTTP_VOXANNE_CRYPT_NONCE_LEN) != 1) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Seals len bytes of secret (1 to NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX) into
 * as many bytes of ciphertext and a tag.  NGX_DECLINED for a length or a
 * label out of bounds, NGX_ERROR when libcrypto fails.
 */

ngx_int_t
ngx_http_voxanne_crypt_seal(ngx_http_voxanne_crypt_key_t *key,
    ngx_http_voxanne_crypt_label_t *label, u_char *nonce, u_char *secret,
    size_t len, u_char *ciphertext, u_char *tag)
{
    return ngx_http_voxanne_crypt(1, key, label, nonce, secret, len,
                                  ciphertext, tag);
}


/*
 * Opens a sealed secret into len bytes.  NGX_DECLINED when it does not
 * authenticate under this key and label (the secret buffer is then wiped)
 * or the length or label is out of bounds, NGX_ERROR when libcrypto fails.
 */

ngx_int_t
ngx_http_voxanne_crypt_open(ngx_http_voxanne_crypt_key_t *key,
    ngx_http_voxanne_crypt_label_t *label, u_char *nonce, u_char *ciphertext,
    size_t len, u_char *tag, u_char *secret)
{
    return ngx_http_voxanne_crypt(0, key, label, nonce, ciphertext, len,
                                  secret, tag);
}


/*
 * AES-256-GCM with any IV length and associated data; out receives len
 * bytes and may be in.  NGX_DECLINED for lengths libcrypto cannot take,
 * NGX_ERROR when it fails.
 */

ngx_int_t
ngx_http_voxanne_gcm_seal(u_char *key, u_char *iv, size_t ivlen, u_char *aad,
    size_t aadlen, u_char *in, size_t len, u_char *out, u_char *tag)
{
    return ngx_http_voxanne_gcm(1, key, iv, ivlen, aad, aadlen, in, len, out,
                                tag);
}


/*
 * The other way: NGX_OK when the tag authenticates, NGX_DECLINED when it
 * does not (out is then wiped) or for lengths libcrypto cannot take,
 * NGX_ERROR when libcrypto fails.  libcrypto compares the tag in constant
 * time.
 */

ngx_int_t
ngx_http_voxanne_gcm_open(u_char *key, u_char *iv, size_t ivlen, u_char *aad,
    size_t aadlen, u_char *in, size_t len, u_char *tag, u_char *out)
{
    return ngx_http_voxanne_gcm(0, key, iv, ivlen, aad, aadlen, in, len, out,
                                tag);
}


static ngx_int_t
ngx_http_voxanne_crypt(int enc, ngx_http_voxanne_crypt_key_t *key,
    ngx_http_voxanne_crypt_label_t *label, u_char *nonce, u_char *in,
    size_t len, u_char *out, u_char *tag)
{
    u_char  *last;
    u_char   aad[NGX_HTTP_VOXANNE_CRYPT_AAD_MAX];

    if (len == 0 || len > NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX) {
        return NGX_DECLINED;
    }

    last = ngx_http_voxanne_crypt_aad(aad, label);
    if (last == NULL) {
        return NGX_DECLINED;
    }

    return ngx_http_voxanne_gcm(enc, key->key, nonce,
                                NGX_HTTP_VOXANNE_CRYPT_NONCE_LEN, aad,
                                last - aad, in, len, out, tag);
}


static ngx_int_t
ngx_http_voxanne_gcm(int enc, u_char *key, u_char *iv, size_t ivlen,
    u_char *aad, size_t aadlen, u_char *in, size_t len, u_char *out,
    u_char *tag)
{
    int              n;
    ngx_int_t        rc;
    EVP_CIPHER_CTX  *ctx;
    u_char           block[EVP_MAX_BLOCK_LENGTH];

    if (ivlen == 0 || ivlen > NGX_MAX_INT32_VALUE
        || aadlen > NGX_MAX_INT32_VALUE || len > NGX_MAX_INT32_VALUE)
    {
        return NGX_DECLINED;
    }

    ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc)
        && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int) ivlen, NULL)
        && EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, enc)
        && (aadlen == 0
            || EVP_CipherUpdate(ctx, NULL, &n, aad, (int) aadlen))
        && (len == 0 || EVP_CipherUpdate(ctx, out, &n, in, (int) len))
        && (enc
            || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG,
                                   NGX_HTTP_VOXANNE_CRYPT_TAG_LEN, tag)))
    {
        /* decryption checks the tag here */

        if (EVP_CipherFinal_ex(ctx, block, &n) <= 0) {
            rc = enc ? NGX_ERROR : NGX_DECLINED;

        } else if (!enc
                   || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG,
                                          NGX_HTTP_VOXANNE_CRYPT_TAG_LEN, tag))
        {
            rc = NGX_OK;
        }
    }

    if (!enc && rc != NGX_OK && len > 0) {
        OPENSSL_cleanse(out, len);
    }

    /* freeing the context cleanses its key schedule */

    EVP_CIPHER_CTX_free(ctx);

    return rc;
}


/* a hex digit's value, or -1, without a branch on the digit */

static ngx_int_t
ngx_http_voxanne_crypt_hex(u_char c)
{
    ngx_int_t  d, l, md, ml;

    d = (ngx_int_t) c - '0';
    l = (ngx_int_t) (c | 0x20) - 'a';

    md = -(ngx_int_t) ((d >= 0) & (d <= 9));
    ml = -(ngx_int_t) ((l >= 0) & (l <= 5));

    return (d & md) | ((l + 10) & ml) | ~(md | ml);
}


static ngx_int_t
ngx_http_voxanne_crypt_key_id(ngx_http_voxanne_crypt_key_t *key)
{
    ngx_int_t     rc;
    ngx_uint_t    i;
    unsigned int  mdlen;
    EVP_MD_CTX   *md;
    u_char        digest[EVP_MAX_MD_SIZE];

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    rc = NGX_ERROR;

    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL)
        && EVP_DigestUpdate(md, NGX_HTTP_VOXANNE_CRYPT_ID_PREFIX,
                            sizeof(NGX_HTTP_VOXANNE_CRYPT_ID_PREFIX) - 1)
        && EVP_DigestUpdate(md, key->key, NGX_HTTP_VOXANNE_CRYPT_KEY_LEN)
        && EVP_DigestFinal_ex(md, digest, &mdlen))
    {
        for (i = 0; i < NGX_HTTP_VOXANNE_CRYPT_KEY_ID_LEN / 2; i++) {
            key->id[2 * i] = ngx_http_voxanne_crypt_hexdigits[digest[i] >> 4];
            key->id[2 * i + 1] =
                              ngx_http_voxanne_crypt_hexdigits[digest[i] & 0xf];
        }

        rc = NGX_OK;
    }

    EVP_MD_CTX_free(md);
    OPENSSL_cleanse(digest, sizeof(digest));

    return rc;
}


/*
 * The associated data; NULL when a field is malformed.  The fields cannot
 * hold the separator, so no two labels give the same bytes.
 */

static u_char *
ngx_http_voxanne_crypt_aad(u_char *dst, ngx_http_voxanne_crypt_label_t *label)
{
    if (ngx_http_voxanne_crypt_uuid(&label->org) != NGX_OK
        || ngx_http_voxanne_crypt_word(&label->provider,
                                       NGX_HTTP_VOXANNE_CRYPT_PROVIDER_MAX,
                                       "_-")
           != NGX_OK
        || ngx_http_voxanne_crypt_word(&label->name,
                                       NGX_HTTP_VOXANNE_CRYPT_NAME_MAX,
                                       "_.-")
           != NGX_OK)
    {
        return NULL;
    }

    dst = ngx_cpymem(dst, NGX_HTTP_VOXANNE_CRYPT_AAD_PREFIX,
                     sizeof(NGX_HTTP_VOXANNE_CRYPT_AAD_PREFIX) - 1);
    dst = ngx_cpymem(dst, label->org.data, label->org.len);
    *dst++ = '\n';
    dst = ngx_cpymem(dst, label->provider.data, label->provider.len);
    *dst++ = '\n';

    return ngx_cpymem(dst, label->name.data, label->name.len);
}


/* a lowercase letter, then lowercase letters, digits or the "more" ones */

static ngx_int_t
ngx_http_voxanne_crypt_word(ngx_str_t *s, size_t max, char *more)
{
    size_t  i;
    u_char  c;

    if (s->len == 0 || s->len > max || s->data[0] < 'a' || s->data[0] > 'z') {
        return NGX_DECLINED;
    }

    for (i = 1; i < s->len; i++) {
        c = s->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
            || (c != '\0' && ngx_strchr(more, c) != NULL))
        {
            continue;
        }

        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* 8-4-4-4-12 lowercase hex digits, as PostgreSQL prints a uuid */

static ngx_int_t
ngx_http_voxanne_crypt_uuid(ngx_str_t *s)
{
    size_t  i;
    u_char  c;

    if (s->len != NGX_HTTP_VOXANNE_CRYPT_ORG_LEN) {
        return NGX_DECLINED;
    }

    for (i = 0; i < NGX_HTTP_VOXANNE_CRYPT_ORG_LEN; i++) {
        c = s->data[i];

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return NGX_DECLINED;
            }

        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}
