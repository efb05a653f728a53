
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the Vapi webhook authentication codec.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <openssl/core_names.h>
#include "ngx_http_voxanne_hmac.h"
#include "ngx_http_voxanne_vapi_sig.h"
#include "tap.h"


/*
 * Vapi publishes no HMAC test vector, so these MACs were computed outside
 * this code, with Python's hmac module, e.g.
 *
 *   hmac.new(b"whsec_test", b"1767225600." + BODY, hashlib.sha256)
 *       .hexdigest()
 */

#define BODY  "{\"message\":{\"type\":\"status-update\",\"status\":\"ended\"}}"
#define TS    "1767225600"                 /* 2026-01-01T00:00:00Z */
#define NOW   1767225600

#define V1    "5d7518e2c13546aba28ca20dc52555f32943eae02decca28fe9d37043facbb51"
#define V2    "ySeb4+ZL2Ly8uhXAtzeiVVj/keuxshEZuy23A8DpeR+92oH/UIeiLEEvzK3hJxhb" \
              "k/BuQV42d/5d/M+oohy6jg=="
#define V3    "6b33e53fa0692fdc4202b9614a30969c7f8f88af"
#define V4    "uVTdHQS0erEPuo7jT2s0TJjKp3mJKIeDW11y2fd7wEU="


static ngx_str_t  values[NGX_HTTP_VOXANNE_VAPI_FIELDS];


static ngx_int_t
verify(char *digest, char *secret, char *format, char *prefix,
    ngx_uint_t base64, char *header)
{
    ngx_int_t                     rc;
    ngx_str_t                     f, h;
    ngx_http_voxanne_vapi_hmac_t  hm;

    hm.ctx = ngx_http_voxanne_hmac_ctx(digest, (u_char *) secret,
                                       strlen(secret));
    if (hm.ctx == NULL) {
        return NGX_ERROR;
    }

    hm.prefix.data = (u_char *) prefix;
    hm.prefix.len = strlen(prefix);
    hm.base64 = base64;

    f.data = (u_char *) format;
    f.len = strlen(format);

    if (ngx_http_voxanne_vapi_format(&hm, &f) != NGX_OK) {
        EVP_MAC_CTX_free(hm.ctx);
        return NGX_ERROR;
    }

    h.data = (u_char *) header;
    h.len = strlen(header);

    rc = ngx_http_voxanne_vapi_hmac_verify(&hm, values, &h);

    EVP_MAC_CTX_free(hm.ctx);

    return rc;
}


static void
test_hmac(void)
{
    char  *sha256 = OSSL_DIGEST_NAME_SHA2_256;
    char  *sha512 = OSSL_DIGEST_NAME_SHA2_512;
    char  *sha1 = OSSL_DIGEST_NAME_SHA1;
    char   upper[] = V1;
    size_t i;

    ngx_str_set(&values[NGX_HTTP_VOXANNE_VAPI_BODY], BODY);
    ngx_str_set(&values[NGX_HTTP_VOXANNE_VAPI_TIMESTAMP], TS);
    ngx_str_set(&values[NGX_HTTP_VOXANNE_VAPI_METHOD], "POST");
    ngx_str_set(&values[NGX_HTTP_VOXANNE_VAPI_URL],
                "https://edge.example.com/vapi/clinic-a");
    ngx_str_set(&values[NGX_HTTP_VOXANNE_VAPI_SVIX_ID], "msg_2a");

    tap_ok(verify(sha256, "whsec_test", "{timestamp}.{body}", "", 0, V1)
           == NGX_OK, "the default: HMAC-SHA256 of {timestamp}.{body}, hex");

    for (i = 0; upper[i]; i++) {
        upper[i] = (upper[i] >= 'a' && upper[i] <= 'f') ? upper[i] - 32
                                                         : upper[i];
    }

    tap_ok(verify(sha256, "whsec_test", "{timestamp}.{body}", "", 0, upper)
           == NGX_OK, "hex digits in upper case");

    tap_ok(verify(sha256, "whsec_test", "{timestamp}.{body}", "sha256=", 0,
                  "sha256=" V1)
           == NGX_OK, "with a prefix");

    tap_ok(verify(sha256, "whsec_test", "{timestamp}.{body}", "sha256=", 0, V1)
           == NGX_DECLINED, "the prefix is required when configured");

    tap_ok(verify(sha256, "whsec_tesT", "{timestamp}.{body}", "", 0, V1)
           == NGX_DECLINED, "another secret");

    tap_ok(verify(sha256, "whsec_test", "{body}", "", 0, V1)
           == NGX_DECLINED, "another format");

    tap_ok(verify(sha256, "whsec_test", "{timestamp}.{body}", "", 0,
                  V1 "00")
           == NGX_DECLINED, "a longer header");

    tap_ok(verify(sha256, "whsec_test", "{timestamp}.{body}", "", 0,
                  "5d7518e2")
           == NGX_DECLINED, "a shorter header");

    tap_ok(verify(sha512, "another secret", "{body}", "", 1, V2) == NGX_OK,
           "HMAC-SHA512 of the body, base64");

    tap_ok(verify(sha1, "k", "{method} {url}\n{body}", "", 0, V3) == NGX_OK,
           "HMAC-SHA1 of the method, URL and body");

    tap_ok(verify(sha256, "svix", "{svix-id}.{timestamp}.{body}", "", 1, V4)
           == NGX_OK, "Svix style: id, timestamp and body, base64");

    values[NGX_HTTP_VOXANNE_VAPI_TIMESTAMP].len--;

    tap_ok(verify(sha256, "whsec_test", "{timestamp}.{body}", "", 0, V1)
           == NGX_DECLINED, "another timestamp");
}


static void
test_format(void)
{
    ngx_str_t                     f;
    ngx_http_voxanne_vapi_hmac_t  hm;

    static char  *bad[] = {
        "", "{bodY}", "{body", "body}", "{}", "{timestamp}.{nonce}",
        "a{body}b{body}c{body}d{body}e{body}f{body}g{body}h{body}i", NULL
    };

    char  **p;

    for (p = bad; *p; p++) {
        f.data = (u_char *) *p;
        f.len = strlen(*p);

        tap_ok(ngx_http_voxanne_vapi_format(&hm, &f) == NGX_DECLINED,
               "format \"%s\" is refused", *p);
    }

    ngx_str_set(&f, "v1:{timestamp}:{body}");

    tap_ok(ngx_http_voxanne_vapi_format(&hm, &f) == NGX_OK
           && hm.npieces == 4
           && hm.pieces[0].field == NGX_HTTP_VOXANNE_VAPI_LITERAL
           && hm.pieces[0].text.len == 3
           && hm.pieces[1].field == NGX_HTTP_VOXANNE_VAPI_TIMESTAMP
           && hm.pieces[2].text.len == 1
           && hm.pieces[3].field == NGX_HTTP_VOXANNE_VAPI_BODY,
           "a format's pieces");
}


static void
test_secret(void)
{
    u_char     digest[32];
    ngx_str_t  s;

    tap_ok(ngx_http_voxanne_vapi_secret_digest(digest,
                                               (u_char *) "vapi-secret-1", 13)
           == NGX_OK, "a secret's digest");

    /* sha256("vapi-secret-1"), from sha256sum */

    tap_ok(digest[0] == 0xde && digest[1] == 0x1b && digest[31] == 0x83,
           "is its SHA-256");

    ngx_str_set(&s, "vapi-secret-1");
    tap_ok(ngx_http_voxanne_vapi_secret_verify(digest, &s) == NGX_OK,
           "the secret matches");

    ngx_str_set(&s, "vapi-secret-2");
    tap_ok(ngx_http_voxanne_vapi_secret_verify(digest, &s) == NGX_DECLINED,
           "another does not");

    ngx_str_set(&s, "vapi-secret-1 ");
    tap_ok(ngx_http_voxanne_vapi_secret_verify(digest, &s) == NGX_DECLINED,
           "nor a longer one");

    ngx_str_set(&s, "");
    tap_ok(ngx_http_voxanne_vapi_secret_verify(digest, &s) == NGX_DECLINED,
           "nor an empty one");
}


static void
test_timestamp(void)
{
    ngx_str_t  t;

    ngx_str_set(&t, TS);
    tap_ok(ngx_http_voxanne_vapi_timestamp(&t, NOW + 300, 300) == NGX_OK,
           "seconds, 300 s old, tolerance 300 s");
    tap_ok(ngx_http_voxanne_vapi_timestamp(&t, NOW + 301, 300)
           == NGX_DECLINED, "301 s old is a replay");
    tap_ok(ngx_http_voxanne_vapi_timestamp(&t, NOW - 301, 300)
           == NGX_DECLINED, "301 s ahead is refused too");

    ngx_str_set(&t, TS "123");
    tap_ok(ngx_http_voxanne_vapi_timestamp(&t, NOW - 300, 300) == NGX_OK,
           "milliseconds");

    ngx_str_set(&t, "1767225600.5");
    tap_ok(ngx_http_voxanne_vapi_timestamp(&t, NOW, 300) == NGX_DECLINED,
           "a fraction is not a timestamp");

    ngx_str_set(&t, "");
    tap_ok(ngx_http_voxanne_vapi_timestamp(&t, NOW, 300) == NGX_DECLINED,
           "nor is nothing");

    ngx_str_set(&t, "9999999999999999999");
    tap_ok(ngx_http_voxanne_vapi_timestamp(&t, NOW, 300) == NGX_DECLINED,
           "nor 19 digits");
}


int
main(void)
{
    test_hmac();
    test_format();
    test_secret();
    test_timestamp();

    return tap_done();
}
