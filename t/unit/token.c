
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the Media Streams token codec.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>
#include "ngx_http_voxanne_token.h"
#include "tap.h"


#define KEY      "0123456789abcdef0123456789abcdef"
#define TENANT   "clinic-a"
#define SID      "CA0123456789abcdef0123456789abcdef"
#define EXPIRES  1767225600                /* 2026-01-01T00:00:00Z */

/*
 * The MAC of the fixed vector, computed outside this code, twice, with the
 * same result:
 *
 *   printf 'voxanne-stream-token/v1\n1767225600\nclinic-a\n'\
 *   'CA0123456789abcdef0123456789abcdef' \
 *   | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef -binary \
 *   | basenc --base64url | tr -d =
 *
 *   python3: base64.urlsafe_b64encode(hmac.new(KEY, message,
 *            hashlib.sha256).digest()).rstrip(b"=")
 *
 * (hex b8b91d6976d3a3fe4c3f6efab6acd71e589a170cfe0625d72c6eaf0df1151893)
 */

#define MAC      "uLkdaXbTo_5MP276tqzXHliaFwz-BiXXLG6vDfEVGJM"
#define TOKEN    "v1.1767225600." MAC


static ngx_str_t  keys[] = {
    ngx_string("fedcba9876543210fedcba9876543210"),
    ngx_string(KEY)
};


static ngx_int_t
verify_with(char *token, ngx_str_t *k, ngx_uint_t nkeys, char *tenant,
    char *sid, time_t now)
{
    ngx_int_t               rc;
    ngx_str_t               t, tn, cs;
    ngx_uint_t              i;
    ngx_http_voxanne_key_t  hk[2];

    t.data = (u_char *) token;
    t.len = strlen(token);
    tn.data = (u_char *) tenant;
    tn.len = strlen(tenant);
    cs.data = (u_char *) sid;
    cs.len = strlen(sid);

    for (i = 0; i < nkeys; i++) {
        if (ngx_http_voxanne_key_init(&hk[i], k[i].data, k[i].len) != NGX_OK) {
            return NGX_ABORT;
        }
    }

    rc = ngx_http_voxanne_token_verify(&t, hk, nkeys, &tn, &cs, now);

    for (i = 0; i < nkeys; i++) {
        ngx_http_voxanne_key_free(&hk[i]);
    }

    return rc;
}


static ngx_int_t
verify(char *token, char *tenant, char *sid, time_t now)
{
    return verify_with(token, keys, 2, tenant, sid, now);
}


static u_char *
create(u_char *dst, char *key, char *tenant, char *sid, time_t expires)
{
    u_char                  *last;
    ngx_str_t                tn, cs;
    ngx_http_voxanne_key_t   hk;

    tn.data = (u_char *) tenant;
    tn.len = strlen(tenant);
    cs.data = (u_char *) sid;
    cs.len = strlen(sid);

    /* an empty key cannot be keyed: nothing is signed with it */

    if (ngx_http_voxanne_key_init(&hk, (u_char *) key, strlen(key))
        != NGX_OK)
    {
        return NULL;
    }

    last = ngx_http_voxanne_token_create(dst, &hk, &tn, &cs, expires);

    ngx_http_voxanne_key_free(&hk);

    return last;
}


static void
test_vector(void)
{
    u_char  *last;
    u_char   buf[NGX_HTTP_VOXANNE_TOKEN_LEN];

    last = create(buf, KEY, TENANT, SID, EXPIRES);

    if (last != NULL) {
        tap_is_mem(buf, last - buf, TOKEN, "create writes the fixed vector");

    } else {
        tap_ok(0, "create writes the fixed vector");
    }

    tap_ok(verify(TOKEN, TENANT, SID, EXPIRES - 1) == NGX_OK,
           "the vector is accepted a second before it expires");
    tap_ok(verify(TOKEN, TENANT, SID, 0) == NGX_OK,
           "the vector is accepted long before it expires");
    tap_ok(verify(TOKEN, TENANT, SID, EXPIRES) == NGX_DECLINED,
           "the vector has expired exactly at its expiry");
    tap_ok(verify(TOKEN, TENANT, SID, EXPIRES + 3600) == NGX_DECLINED,
           "the vector has expired an hour later");
}


static void
test_keys(void)
{
    tap_ok(verify_with(TOKEN, &keys[1], 1, TENANT, SID, 0) == NGX_OK,
           "the only key");
    tap_ok(verify_with(TOKEN, keys, 2, TENANT, SID, 0) == NGX_OK,
           "the second key during rotation");
    tap_ok(verify_with(TOKEN, keys, 1, TENANT, SID, 0) == NGX_DECLINED,
           "a wrong key");
    tap_ok(verify_with(TOKEN, keys, 0, TENANT, SID, 0) == NGX_DECLINED,
           "no keys");
}


static void
test_binding(void)
{
    tap_ok(verify(TOKEN, "clinic-b", SID, 0) == NGX_DECLINED,
           "another tenant");
    tap_ok(verify(TOKEN, "clinic-a2", SID, 0) == NGX_DECLINED,
           "a tenant the name is a prefix of");
    tap_ok(verify(TOKEN, TENANT, "CA0123456789abcdef0123456789abcdee", 0)
           == NGX_DECLINED, "another CallSid");
    tap_ok(verify(TOKEN, "clinic-a\n", SID, 0) == NGX_DECLINED,
           "verify refuses a newline in the tenant");
    tap_ok(verify(TOKEN, TENANT, SID "\n", 0) == NGX_DECLINED,
           "verify refuses a newline in the CallSid");
    tap_ok(verify("v1.1767225601." MAC, TENANT, SID, 0) == NGX_DECLINED,
           "an expiry moved a second later");
    tap_ok(verify("v1.1767225599." MAC, TENANT, SID, 0) == NGX_DECLINED,
           "an expiry moved a second earlier");
}


static void
test_round_trip(void)
{
    char     tenant[66], sid[66];
    u_char  *buf, *last;
    time_t   expires;
    char     token[NGX_HTTP_VOXANNE_TOKEN_LEN + 1];

    static ngx_str_t  rotated[] = {
        ngx_string(KEY),
        ngx_string("secondary")
    };

    /* exactly NGX_HTTP_VOXANNE_TOKEN_LEN, so that ASan sees any overrun */

    buf = malloc(NGX_HTTP_VOXANNE_TOKEN_LEN);

    expires = NGX_MAX_TIME_T_VALUE;

    last = create(buf, "secondary", TENANT, SID, expires);
    tap_ok(last != NULL && last - buf <= (ssize_t) NGX_HTTP_VOXANNE_TOKEN_LEN,
           "the latest expiry fits");

    if (last) {
        ngx_memcpy(token, buf, last - buf);
        token[last - buf] = '\0';

        tap_ok(verify(token, TENANT, SID, 0) == NGX_DECLINED,
               "the latest expiry, other keys");
        tap_ok(verify_with(token, rotated, 2, TENANT, SID, expires - 1)
               == NGX_OK, "the latest expiry round trips");
    }

    last = create(buf, KEY, TENANT, SID, 0);
    tap_ok(last != NULL && last - buf == 3 + 1 + 1 + 43,
           "expiry 0 is written as \"0\"");

    if (last) {
        ngx_memcpy(token, buf, last - buf);
        token[last - buf] = '\0';
        tap_ok(verify(token, TENANT, SID, -1) == NGX_OK,
               "expiry 0 round trips");
    }

    tap_ok(create(buf, KEY, TENANT, SID, -1) == NULL,
           "a negative expiry is refused");
    tap_ok(create(buf, "", TENANT, SID, EXPIRES) == NULL,
           "an empty key is refused");

    /* the length caps: 64 works, 65 does not */

    memset(tenant, 't', 65);
    tenant[64] = '\0';
    memset(sid, 's', 65);
    sid[64] = '\0';

    last = create(buf, KEY, tenant, sid, EXPIRES);
    tap_ok(last != NULL, "a 64-byte tenant and CallSid");

    if (last) {
        ngx_memcpy(token, buf, last - buf);
        token[last - buf] = '\0';
        tap_ok(verify(token, tenant, sid, 0) == NGX_OK,
               "a 64-byte tenant and CallSid round trip");
    }

    tenant[64] = 't';
    tenant[65] = '\0';

    tap_ok(create(buf, KEY, tenant, SID, EXPIRES) == NULL,
           "create refuses a 65-byte tenant");
    tap_ok(verify(TOKEN, tenant, SID, 0) == NGX_DECLINED,
           "verify refuses a 65-byte tenant");

    sid[64] = 's';
    sid[65] = '\0';

    tap_ok(create(buf, KEY, TENANT, sid, EXPIRES) == NULL,
           "create refuses a 65-byte CallSid");
    tap_ok(verify(TOKEN, TENANT, sid, 0) == NGX_DECLINED,
           "verify refuses a 65-byte CallSid");

    tap_ok(create(buf, KEY, "", SID, EXPIRES) == NULL,
           "create refuses an empty tenant");
    tap_ok(create(buf, KEY, TENANT, "", EXPIRES) == NULL,
           "create refuses an empty CallSid");
    tap_ok(verify(TOKEN, "", SID, 0) == NGX_DECLINED,
           "verify refuses an empty tenant");
    tap_ok(verify(TOKEN, TENANT, "", 0) == NGX_DECLINED,
           "verify refuses an empty CallSid");
    tap_ok(create(buf, KEY, "clinic\na", SID, EXPIRES) == NULL,
           "create refuses a newline in the tenant");
    tap_ok(create(buf, KEY, TENANT, "CA\n1", EXPIRES) == NULL,
           "create refuses a newline in the CallSid");

    free(buf);
}


/*
 * Correct MACs over expiry texts that the parser must refuse before any
 * MAC is computed, so that each rule is tested on its own; computed with
 * the openssl pipeline above, "1767225600" replaced by the expiry text
 */

#define MAC_LEADING_ZERO   "oi24_2_dWgfqtPgThl06psAUBWnFUwh2w0qH4Q6GzAc"
#define MAC_WRAP           "gr3n9ifegtuiQqw1bRhgFApwYqv2J_Uz9T9IMw0Dm-g"

/* the fixed MAC without its last three characters */
#define M40  "uLkdaXbTo_5MP276tqzXHliaFwz-BiXXLG6vDfEV"
#define E    "v1.1767225600."


static void
test_malformed(void)
{
    ngx_str_t               tenant, sid, t;
    ngx_uint_t              i;
    ngx_http_voxanne_key_t  hk[2];

    static struct {
        ngx_str_t   token;
        char       *name;
    } bad[] = {
        { ngx_string(""), "empty" },
        { ngx_string("v1"), "the version alone" },
        { ngx_string("v1."), "the prefix alone" },
        { ngx_string("v1.."), "empty expiry and MAC" },
        { ngx_string("v2.1767225600." MAC), "version 2" },
        { ngx_string("V1.1767225600." MAC), "uppercase version" },
        { ngx_string("v1,1767225600." MAC), "a comma after the version" },
        { ngx_string(" " TOKEN), "a leading space" },
        { ngx_string("1767225600." MAC), "no version" },
        { ngx_string("v1." MAC), "no expiry" },
        { ngx_string("v1.." MAC), "an empty expiry" },
        { ngx_string("v1.1767225600"), "no MAC" },
        { ngx_string(E), "an empty MAC" },
        { ngx_string("v1.1767225600" MAC), "no dot before the MAC" },
        { ngx_string("v1.+1767225600." MAC), "a '+' sign" },
        { ngx_string("v1.-1767225600." MAC), "a '-' sign" },
        { ngx_string("v1. 1767225600." MAC), "a space before the expiry" },
        { ngx_string("v1.01767225600." MAC), "a leading zero" },
        { ngx_string("v1.01767225600." MAC_LEADING_ZERO),
          "a leading zero, even under a correct MAC" },
        { ngx_string("v1.00." MAC), "a zero expiry with a leading zero" },
        { ngx_string("v1.17672256x0." MAC), "a letter in the expiry" },
        { ngx_string("v1.0x69558000." MAC), "a hexadecimal expiry" },
        { ngx_string("v1.1.767225600." MAC), "a dot in the expiry" },
        { ngx_string("v1.1767225600.." MAC), "two dots before the MAC" },
        { ngx_string("v1.9223372036854775808." MAC),
          "an expiry past time_t, 19 digits" },
        { ngx_string("v1.18446744073709551617." MAC_WRAP),
          "an expiry that would wrap to 1, even under a correct MAC" },
        { ngx_string("v1.18446744073709551616." MAC),
          "an expiry past time_t, 20 digits" },
        { ngx_string("v1.92233720368547758070." MAC),
          "an expiry of the longest length that still overflows" },
        { ngx_string("v1.0000000000000000000001767225600." MAC),
          "an overlong expiry" },
        { ngx_string(TOKEN "="), "the MAC padded" },
        { ngx_string(E M40 "GJ="), "a padded MAC of the right length" },
        { ngx_string(E M40 "GJ"), "a MAC one character short" },
        { ngx_string(E M40 "GJMA"), "a MAC one character long" },
        { ngx_string(E "uLkdaXbTo/5MP276tqzXHliaFwz+BiXXLG6vDfEVGJM"),
          "the MAC in standard base64" },
        { ngx_string(E M40 "GJN"),
          "a non-canonical last character that decodes the same" },
        { ngx_string(E M40 ".JM"), "a dot in the MAC" },
        { ngx_string(E M40 "\0JM"), "a NUL in the MAC" },
        { ngx_string(TOKEN "\n"), "a trailing newline" },
        { ngx_string(TOKEN "."), "a trailing dot" },
        { ngx_string(TOKEN ".x"), "a trailing field" },
        { ngx_string(TOKEN "\0"), "a trailing NUL" },
        { ngx_string(TOKEN TOKEN), "the token twice" }
    };

    tenant.data = (u_char *) TENANT;
    tenant.len = sizeof(TENANT) - 1;
    sid.data = (u_char *) SID;
    sid.len = sizeof(SID) - 1;

    t.data = (u_char *) TOKEN;
    t.len = sizeof(TOKEN) - 1;

    for (i = 0; i < 2; i++) {
        if (ngx_http_voxanne_key_init(&hk[i], keys[i].data, keys[i].len)
            != NGX_OK)
        {
            abort();
        }
    }

    tap_ok(ngx_http_voxanne_token_verify(&t, hk, 2, &tenant, &sid, 0)
           == NGX_OK, "the token the malformed ones derive from");

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tap_ok(ngx_http_voxanne_token_verify(&bad[i].token, hk, 2, &tenant,
                                             &sid, 0)
               == NGX_DECLINED, "malformed: %s", bad[i].name);
    }

    ngx_http_voxanne_key_free(&hk[0]);
    ngx_http_voxanne_key_free(&hk[1]);
}


int
main(void)
{
    test_vector();
    test_keys();
    test_binding();
    test_round_trip();
    test_malformed();

    return tap_done();
}
