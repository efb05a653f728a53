
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * libFuzzer target: X-Twilio-Signature verification.  The input is
 *
 *     public URL "\n" request URI "\n" X-Twilio-Signature "\n" form body
 *
 * (a missing part is empty).  Each part lives in a heap block of its own
 * exact size, and so does every buffer handed to the codec.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "ngx_http_voxanne_form.h"
#include "ngx_http_voxanne_signature.h"
#include "fuzz.h"


#define FUZZ_SIG_MAX  32


static void fuzz_sig_split(const u_char **p, const u_char *last,
    ngx_str_t *part);
static void fuzz_sig_variant(ngx_str_t *base, ngx_str_t *variant,
    ngx_int_t rc, u_char *buf);
static void fuzz_sig_round_trip(ngx_http_voxanne_signature_t *sig,
    ngx_uint_t b, ngx_uint_t quoted, ngx_uint_t t);


static ngx_str_t  fuzz_sig_tokens[] = {
    ngx_string("fuzz-primary-auth-token"),
    ngx_string("fuzz-secondary-auth-token")
};

#define FUZZ_SIG_NKEYS  (sizeof(fuzz_sig_tokens) / sizeof(ngx_str_t))

/* keyed once, as the module keys a tenant's tokens at configuration time */
static ngx_http_voxanne_key_t  fuzz_sig_keys[FUZZ_SIG_NKEYS];
static ngx_uint_t              fuzz_sig_keyed;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                        *vbuf, *pbuf;
    ngx_int_t                      rc, n;
    ngx_str_t                      base, uri, header, body, bases[2];
    ngx_uint_t                     b, quoted, quotes;
    const u_char                  *p;
    ngx_http_voxanne_param_t      *params;
    ngx_http_voxanne_signature_t   sig;

    p = data;

    fuzz_sig_split(&p, data + size, &base);
    fuzz_sig_split(&p, data + size, &uri);
    fuzz_sig_split(&p, data + size, &header);

    body.len = data + size - p;
    body.data = fuzz_copy(p, body.len);

    /* the port variant of the public URL, into base->len + 4 bytes */

    vbuf = fuzz_alloc(base.len + 4);

    bases[0] = base;

    rc = ngx_http_voxanne_signature_base_variant(&base, vbuf, &bases[1]);
    fuzz_sig_variant(&base, &bases[1], rc, vbuf);

    /* the parameters, sorted into exactly params_size() bytes */

    params = (ngx_http_voxanne_param_t *)
                 fuzz_alloc(FUZZ_SIG_MAX * sizeof(ngx_http_voxanne_param_t));

    n = ngx_http_voxanne_form_parse(body.data, body.len, params,
                                    FUZZ_SIG_MAX);
    if (n < 0) {
        n = 0;
    }

    pbuf = fuzz_alloc(ngx_http_voxanne_signature_params_size(params, n));

    ngx_memzero(&sig, sizeof(ngx_http_voxanne_signature_t));

    sig.bases = bases;
    sig.nbases = (rc == NGX_OK) ? 2 : 1;
    if (!fuzz_sig_keyed) {
        for (b = 0; b < FUZZ_SIG_NKEYS; b++) {
            fuzz_assert(ngx_http_voxanne_key_init(&fuzz_sig_keys[b],
                                                  fuzz_sig_tokens[b].data,
                                                  fuzz_sig_tokens[b].len)
                        == NGX_OK);
        }

        fuzz_sig_keyed = 1;
    }

    sig.keys = fuzz_sig_keys;
    sig.nkeys = FUZZ_SIG_NKEYS;
    sig.uri = uri;
    sig.params.data = pbuf;
    sig.params.len = ngx_http_voxanne_signature_params(pbuf, params, n) - pbuf;
    sig.buf = fuzz_alloc(ngx_http_voxanne_signature_buf_size(&sig));
    sig.token = NGX_CONF_UNSET_UINT;

    /* the fuzzed header: a forgery cannot pass, nothing may break */

    rc = ngx_http_voxanne_signature_verify(&sig, &header);

    fuzz_assert(rc == NGX_OK || rc == NGX_DECLINED);

    if (rc == NGX_OK) {
        fuzz_assert(sig.token < sig.nkeys);
    }

    /* real signatures over every spelling the verifier must accept */

    quotes = (memchr(uri.data, '\'', uri.len) != NULL);

    for (quoted = 0; quoted <= quotes; quoted++) {
        for (b = 0; b < sig.nbases; b++) {
            fuzz_sig_round_trip(&sig, b, quoted, (b + quoted) % sig.nkeys);
        }
    }

    free(sig.buf);
    free(pbuf);
    free(params);
    free(vbuf);
    free(body.data);
    free(header.data);
    free(uri.data);
    free(base.data);

    return 0;
}


/* the bytes up to the next "\n" (or all that is left), copied */

static void
fuzz_sig_split(const u_char **p, const u_char *last, ngx_str_t *part)
{
    const u_char  *nl;

    nl = memchr(*p, '\n', last - *p);
    if (nl == NULL) {
        nl = last;
    }

    part->len = nl - *p;
    part->data = fuzz_copy(*p, part->len);

    *p = (nl == last) ? last : nl + 1;
}


/*
 * A variant is the public URL with its port removed, or with the scheme's
 * default port appended; nothing else.
 */

static void
fuzz_sig_variant(ngx_str_t *base, ngx_str_t *variant, ngx_int_t rc,
    u_char *buf)
{
    u_char  *scheme;
    size_t   i, slen;

    fuzz_assert(rc == NGX_OK || rc == NGX_ERROR);

    if (rc != NGX_OK) {
        return;
    }

    fuzz_assert(variant->data == buf);
    fuzz_assert(variant->len <= base->len + 4);

    scheme = ngx_strlchr(base->data, base->data + base->len, ':');
    fuzz_assert(scheme != NULL);

    slen = scheme - base->data;

    fuzz_assert(base->len >= slen + 4
                && ngx_strncmp(scheme, "://", 3) == 0);

    if (variant->len < base->len) {

        /* the port removed: the rest is ":" and digits */

        fuzz_assert(variant->len > slen + 3);
        fuzz_assert(memcmp(variant->data, base->data, variant->len) == 0);
        fuzz_assert(base->data[variant->len] == ':');
        fuzz_assert(variant->len + 1 < base->len);

        for (i = variant->len + 1; i < base->len; i++) {
            fuzz_assert(base->data[i] >= '0' && base->data[i] <= '9');
        }

        return;
    }

    fuzz_assert(memcmp(variant->data, base->data, base->len) == 0);

    if (variant->len == base->len + 4) {
        fuzz_assert(memcmp(variant->data + base->len, ":443", 4) == 0);
        fuzz_assert((slen == 5 && memcmp(base->data, "https", 5) == 0)
                    || (slen == 3 && memcmp(base->data, "wss", 3) == 0));
        return;
    }

    fuzz_assert(variant->len == base->len + 3);
    fuzz_assert(memcmp(variant->data + base->len, ":80", 3) == 0);
    fuzz_assert((slen == 4 && memcmp(base->data, "http", 4) == 0)
                || (slen == 2 && memcmp(base->data, "ws", 2) == 0));
}


/*
 * Signs base b + the URI (with "'" as "%27" when quoted) + the parameters
 * with token t the way Twilio does, and checks that verify() accepts it
 * and names the token, and that a changed signature is refused.
 */

static void
fuzz_sig_round_trip(ngx_http_voxanne_signature_t *sig, ngx_uint_t b,
    ngx_uint_t quoted, ngx_uint_t t)
{
    u_char        *s, *p, *q;
    size_t         i, len;
    ngx_int_t      rc;
    ngx_str_t      header;
    unsigned int   mdlen;
    u_char         md[EVP_MAX_MD_SIZE];
    u_char         b64[NGX_HTTP_VOXANNE_SIGNATURE_LEN + 1];

    len = sig->bases[b].len + 3 * sig->uri.len + sig->params.len;

    s = fuzz_alloc(len);

    p = ngx_cpymem(s, sig->bases[b].data, sig->bases[b].len);

    for (i = 0; i < sig->uri.len; i++) {
        if (quoted && sig->uri.data[i] == '\'') {
            p = ngx_cpymem(p, "%27", 3);

        } else {
            *p++ = sig->uri.data[i];
        }
    }

    p = ngx_cpymem(p, sig->params.data, sig->params.len);

    q = HMAC(EVP_sha1(), fuzz_sig_tokens[t].data, (int) fuzz_sig_tokens[t].len,
             s, p - s, md, &mdlen);

    fuzz_assert(q != NULL && mdlen == 20);
    fuzz_assert(EVP_EncodeBlock(b64, md, mdlen)
                == NGX_HTTP_VOXANNE_SIGNATURE_LEN);

    header.len = NGX_HTTP_VOXANNE_SIGNATURE_LEN;
    header.data = fuzz_copy(b64, header.len);

    sig->token = NGX_CONF_UNSET_UINT;

    rc = ngx_http_voxanne_signature_verify(sig, &header);

    fuzz_assert(rc == NGX_OK);
    fuzz_assert(sig->token == t);

    /* one character changed: the first six bits of the digest differ */

    header.data[0] = (header.data[0] == 'A') ? 'B' : 'A';

    rc = ngx_http_voxanne_signature_verify(sig, &header);

    fuzz_assert(rc == NGX_DECLINED);

    free(header.data);
    free(s);
}
