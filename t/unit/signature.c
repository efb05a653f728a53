
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the form parser and the Twilio signature codec, with the
 * published test vectors of Twilio's SDKs (protocols.md, section 1.4).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include "ngx_http_voxanne_form.h"
#include "ngx_http_voxanne_signature.h"
#include "tap.h"


#define P  "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234" \
           "&From=%2B14158675309&To=%2B18005551212"
#define U  "/myapp.php?foo=1&bar=2"


static ngx_int_t
verify(char *base, char *uri, char *body, char *header, char *token,
    ngx_uint_t *matched)
{
    u_char                        *form, *vbuf, *pbuf;
    ngx_int_t                      n, rc;
    ngx_str_t                      bases[2], hdr;
    ngx_http_voxanne_key_t         keys[2];
    ngx_http_voxanne_param_t       params[32];
    ngx_http_voxanne_signature_t   sig;

    form = (u_char *) strdup(body);

    n = ngx_http_voxanne_form_parse(form, strlen(body), params, 32);
    if (n < 0) {
        free(form);
        return NGX_ABORT;
    }

    bases[0].data = (u_char *) base;
    bases[0].len = strlen(base);

    vbuf = malloc(bases[0].len + 4);
    if (ngx_http_voxanne_signature_base_variant(&bases[0], vbuf, &bases[1])
        != NGX_OK)
    {
        free(form);
        free(vbuf);
        return NGX_ABORT;
    }

    pbuf = malloc(ngx_http_voxanne_signature_params_size(params, n) + 1);

    if (ngx_http_voxanne_key_init(&keys[0], (u_char *) "not-the-token", 13)
        != NGX_OK
        || ngx_http_voxanne_key_init(&keys[1], (u_char *) token,
                                     strlen(token))
           != NGX_OK)
    {
        abort();
    }

    sig.bases = bases;
    sig.nbases = 2;
    sig.keys = keys;
    sig.nkeys = 2;
    sig.uri.data = (u_char *) uri;
    sig.uri.len = strlen(uri);
    sig.params.data = pbuf;
    sig.params.len = ngx_http_voxanne_signature_params(pbuf, params, n) - pbuf;
    sig.buf = malloc(ngx_http_voxanne_signature_buf_size(&sig));

    hdr.data = (u_char *) header;
    hdr.len = strlen(header);

    rc = ngx_http_voxanne_signature_verify(&sig, &hdr);
    *matched = sig.token;

    ngx_http_voxanne_key_free(&keys[0]);
    ngx_http_voxanne_key_free(&keys[1]);

    free(sig.buf);
    free(pbuf);
    free(vbuf);
    free(form);

    return rc;
}


static void
test_vectors(void)
{
    ngx_uint_t  t;

    t = 9;

    tap_ok(verify("https://mycompany.com", U, P,
                  "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345", &t) == NGX_OK
           && t == 1, "V1: URL + params, second token matches");

    tap_ok(verify("https://mycompany.com", U, P,
                  "kvajT1Ptam85bY51eRf/AJRuM3w=", "12345", &t) == NGX_OK,
           "V2: signed with :443, configured without a port");

    tap_ok(verify("http://mycompany.com:80", U, P,
                  "0ZXoZLH/DfblKGATFgpif+LLRf4=", "12345", &t) == NGX_OK,
           "V3: http with :80 as configured");

    tap_ok(verify("http://mycompany.com", U, P,
                  "0ZXoZLH/DfblKGATFgpif+LLRf4=", "12345", &t) == NGX_OK,
           "V3: http, :80 added");

    tap_ok(verify("http://mycompany.com:1234", U, P,
                  "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", "12345", &t) == NGX_OK,
           "V4: http with a custom port");

    tap_ok(verify("https://mycompany.com:1234", U, P,
                  "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345", &t) == NGX_OK,
           "V5: configured with :1234, signed without the port");

    tap_ok(verify("https://mycompany.com", U,
                  "Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234"
                  "&Digits=1234",
                  "IK+Dwps556ElfBT0I3Rgjkr1wJU=", "12345", &t) == NGX_OK,
           "V6: repeated names deduplicated and sorted by value");

    tap_ok(verify("https://mycompany.com", U,
                  "MessagingBinding.Address=%2B1325xxxxxxx"
                  "&MessagingBinding.Address=%2B1415xxxxxxx",
                  "83O6e2vORAoJHUNzJjDWN1jz+BA=", "12345", &t) == NGX_OK,
           "V7: multi-valued name, one order");

    tap_ok(verify("https://mycompany.com", U,
                  "MessagingBinding.Address=%2B1415xxxxxxx"
                  "&MessagingBinding.Address=%2B1325xxxxxxx",
                  "83O6e2vORAoJHUNzJjDWN1jz+BA=", "12345", &t) == NGX_OK,
           "V7: multi-valued name, the other order");

    tap_ok(verify("https://mycompany.com",
                  U "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a"
                  "80c7cf19632632f96e6620", "",
                  "a9nBmqA0ju/hNViExpshrM61xv4=", "12345", &t) == NGX_OK,
           "V8: JSON body, URL only");

    tap_ok(verify("https://mycompany.com",
                  "/myapp.php?bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e4150"
                  "2b283a80c7cf19632632f96e6620", "",
                  "y77kIzt2vzLz71DgmJGsen2scGs=", "12345", &t) == NGX_OK,
           "V8b: bodySHA256 as the only query parameter");

    tap_ok(verify("https://mycompany.com",
                  U "&bodySHA256=44136fa355b3678a1146ad16f7e8649e94fb4fc21fe7"
                  "7e8310c060f61caaff8a", "",
                  "Ldidvp12m26NI7eqEvxnEpkd9Hc=", "12345", &t) == NGX_OK,
           "V8c: matches only the :443 variant");

    tap_ok(verify("https://user:pass@mycompany.com", U, P,
                  "CukzLTc1tT5dXEDIHm/tKBanW10=", "12345", &t) == NGX_OK,
           "V9: user-info is signed");

    tap_ok(verify("https://user:pass@mycompany.com", U, P,
                  "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI=", "12345", &t) == NGX_OK,
           "V9: user-info with :443");

    tap_ok(verify("https://mycompany.com", U "&Body=It's+amazing", P,
                  "TfZzewPq8wqrGlMfyAud8+/IvJ0=", "12345", &t) == NGX_OK,
           "V10: ' in the query, signed as %%27");
}


static void
test_rejections(void)
{
    ngx_uint_t  t;

    tap_ok(verify("https://mycompany.com", U, P,
                  "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "54321", &t) == NGX_DECLINED,
           "wrong token");

    tap_ok(verify("https://mycompany.com", U, P "&Extra=1",
                  "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345", &t) == NGX_DECLINED,
           "an added parameter");

    tap_ok(verify("https://mycompany.com", U "/", P,
                  "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345", &t) == NGX_DECLINED,
           "a changed path");

    tap_ok(verify("https://mycompany.com", "/myapp.php?bar=2&foo=1", P,
                  "RSOYDt4T1cUTdK1PDd93/VVr8B8=", "12345", &t) == NGX_DECLINED,
           "query parameters are not re-sorted");

    tap_ok(verify("https://mycompany.com:1234", U, P,
                  "kvajT1Ptam85bY51eRf/AJRuM3w=", "12345", &t) == NGX_DECLINED,
           ":443 is not tried when another port is configured");

    tap_ok(verify("https://mycompany.com", U, P,
                  "RSOYDt4T1cUTdK1PDd93/VVr8B8", "12345", &t) == NGX_DECLINED,
           "a truncated header");

    tap_ok(verify("https://mycompany.com", U, P,
                  "RSOYDt4T1cUTdK1PDd93/VVr8B8==", "12345", &t)
           == NGX_DECLINED, "a header too long");

    tap_ok(verify("https://mycompany.com", U, P,
                  "RSOYDt4T1cUTdK1PDd93/VVr8B!=", "12345", &t) == NGX_DECLINED,
           "a header that is not base64");

    tap_ok(verify("https://mycompany.com", U, P, "", "12345", &t)
           == NGX_DECLINED, "an empty header");
}


static void
test_variants(void)
{
    u_char     buf[64];
    ngx_str_t  base, v;

#define variant(in, out)                                                      \
    base.data = (u_char *) in;                                                \
    base.len = strlen(in);                                                    \
    if (ngx_http_voxanne_signature_base_variant(&base, buf, &v) == NGX_OK) {  \
        tap_is_mem(v.data, v.len, out, "variant of %s", in);                  \
    } else {                                                                  \
        tap_ok(0, "variant of %s", in);                                       \
    }

    variant("https://edge.example.com", "https://edge.example.com:443");
    variant("https://edge.example.com:8443", "https://edge.example.com");
    variant("http://edge.example.com", "http://edge.example.com:80");
    variant("wss://edge.example.com", "wss://edge.example.com:443");
    variant("ws://edge.example.com:80", "ws://edge.example.com");
    variant("https://u:p@edge.example.com", "https://u:p@edge.example.com:443");
    variant("https://[::1]:8443", "https://[::1]");
    variant("https://[::1]", "https://[::1]:443");

#undef variant

#define bad(in)                                                               \
    base.data = (u_char *) in;                                                \
    base.len = strlen(in);                                                    \
    tap_ok(ngx_http_voxanne_signature_base_variant(&base, buf, &v)            \
           == NGX_ERROR, "malformed public URL %s", in)

    bad("edge.example.com");
    bad("ftp://edge.example.com");
    bad("https://");
    bad("https://edge.example.com/path");
    bad("https://edge.example.com:");

#undef bad
}


static void
test_form(void)
{
    u_char                     buf[128];
    ngx_int_t                  n;
    ngx_str_t                 *v;
    ngx_http_voxanne_param_t   params[4];

#define parse(in)                                                             \
    (strcpy((char *) buf, in),                                                \
     ngx_http_voxanne_form_parse(buf, strlen(in), params, 4))

    n = parse("a=1&&b=%41%2b+c&flag&=empty&");
    tap_ok(n == 4, "four parameters, empty pairs skipped (got %d)", (int) n);
    tap_is_mem(params[1].value.data, params[1].value.len, "A+ c",
               "percent and plus decoding");
    tap_ok(params[2].value.len == 0
           && params[2].name.len == 4, "a name without '='");
    tap_ok(params[3].name.len == 0, "an empty name");

    v = ngx_http_voxanne_form_get(params, n, "b");
    tap_ok(v != NULL && v->len == 4, "lookup by name");
    tap_ok(ngx_http_voxanne_form_get(params, n, "B") == NULL,
           "names are case-sensitive");

    tap_ok(parse("a=%4") == NGX_ERROR, "a truncated escape");
    tap_ok(parse("a=%zz") == NGX_ERROR, "a non-hex escape");
    tap_ok(parse("a=%\x13" "0") == NGX_ERROR, "a control byte in an escape");
    tap_ok(parse("a&b&c&d&e") == NGX_DECLINED, "more parameters than room");
    tap_ok(parse("") == 0, "an empty body");

#undef parse
}


int
main(void)
{
    test_vectors();
    test_rejections();
    test_variants();
    test_form();

    return tap_done();
}
