
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the credential codec (AES-256-GCM).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>
#include "ngx_http_voxanne_crypt.h"
#include "tap.h"


#define MAX  256


/*
 * The AES-256 test cases 13 to 18 of McGrew and Viega, "The Galois/Counter
 * Mode of Operation (GCM)", appendix B (the vectors NIST's GCM
 * specification refers to): 17 and 18 use 8- and 60-byte IVs.
 */

#define K0   "0000000000000000000000000000000000000000000000000000000000000000"
#define K1   "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define P60  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da"                \
             "2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525"                \
             "b16aedf5aa0de657ba637b39"
#define A20  "feedfacedeadbeeffeedfacedeadbeefabaddad2"


typedef struct {
    char  *name;
    char  *key;
    char  *iv;
    char  *plain;
    char  *aad;
    char  *cipher;
    char  *tag;
} gcm_vector_t;


static gcm_vector_t  vectors[] = {

    { "test case 13: empty", K0, "000000000000000000000000", "", "", "",
      "530f8afbc74536b9a963b4f1c4cb738b" },

    { "test case 14: one zero block", K0, "000000000000000000000000",
      "00000000000000000000000000000000", "",
      "cea7403d4d606b6e074ec5d3baf39d18",
      "d0d1c8a799996bf0265b98b5d48ab919" },

    { "test case 15: four blocks", K1, "cafebabefacedbaddecaf888",
      P60 "1aafd255", "",
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
      "b094dac5d93471bdec1a502270e3cc6c" },

    { "test case 16: associated data", K1, "cafebabefacedbaddecaf888",
      P60, A20,
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
      "76fc6ece0f4e1768cddf8853bb2d551b" },

    { "test case 17: an 8-byte IV", K1, "cafebabefacedbad", P60, A20,
      "c3762df1ca787d32ae47c13bf19844cbaf1ae14d0b976afac52ff7d79bba9de0"
      "feb582d33934a4f0954cc2363bc73f7862ac430e64abe499f47c9b1f",
      "3a337dbf46a792c45e454913fe2ea8f2" },

    { "test case 18: a 60-byte IV", K1,
      "9313225df88406e555909c5aff5269aa6a7a9538534f7da1e4c303d2a318a728"
      "c3c0c95156809539fcf0e2429a6b525416aedbf5a0de6a57a637b39b",
      P60, A20,
      "5a8def2f0c9e53f1f75d7853659e2a20eeb2b22aafde6419a058ab4f6f746bf4"
      "0fc0c3b780f244452da3ebf1c5d82cdea2418997200ef82e44ae7e3f",
      "a44a8266ee1c8eb0c8b5d4cf5ae9f19a" }
};


/*
 * A credential vector of this codec's own format, computed outside this
 * code with Python's cryptography (AESGCM) and Node's crypto, with the same
 * result:
 *
 *   key    bytes 0x00 to 0x1f
 *   nonce  cafebabefacedbaddecaf888
 *   aad    "voxanne-credential/v1\n5b7c1d2e-0000-4000-8000-00000000000a\n"
 *          "twilio\nauth_token"
 *
 * and its key id: sha256sum of "voxanne-credential-key/v1\n" + key, the
 * first 16 hex digits.
 */

#define ORG      "5b7c1d2e-0000-4000-8000-00000000000a"
#define SECRET   "0123456789abcdef0123456789abcdef"
#define KEY_HEX  "000102030405060708090a0b0c0d0e0f" \
                 "101112131415161718191a1b1c1d1e1f"
#define NONCE    "cafebabefacedbaddecaf888"
#define CIPHER   "ba9292159e4f792c7e323cbf1879ec59" \
                 "3d11f262eb2c5c4376e66513dded0099"
#define TAG      "85440d4641d698e36b02425be3b13775"
#define KEY_ID   "2df82c1768497d3a"


static size_t
unhex(u_char *dst, char *hex)
{
    size_t  i, n;

    n = strlen(hex) / 2;

    for (i = 0; i < n; i++) {
        if (sscanf(hex + 2 * i, "%2hhx", &dst[i]) != 1) {
            abort();
        }
    }

    return n;
}


static void
label_init(ngx_http_voxanne_crypt_label_t *label, char *org, char *provider,
    char *name)
{
    label->org.data = (u_char *) org;
    label->org.len = strlen(org);
    label->provider.data = (u_char *) provider;
    label->provider.len = strlen(provider);
    label->name.data = (u_char *) name;
    label->name.len = strlen(name);
}


static ngx_int_t
key_init(ngx_http_voxanne_crypt_key_t *key, char *text)
{
    return ngx_http_voxanne_crypt_key_parse(key, (u_char *) text,
                                            strlen(text));
}


static void
test_vectors(void)
{
    size_t        klen, ivlen, plen, alen, clen, i;
    u_char        key[32], iv[MAX], plain[MAX], aad[MAX], want[MAX],
                  tag[16], wtag[16], out[MAX], back[MAX];
    gcm_vector_t  *v;

    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        v = &vectors[i];

        klen = unhex(key, v->key);
        ivlen = unhex(iv, v->iv);
        plen = unhex(plain, v->plain);
        alen = unhex(aad, v->aad);
        clen = unhex(want, v->cipher);
        unhex(wtag, v->tag);

        if (klen != 32 || plen != clen) {
            abort();
        }

        tap_ok(ngx_http_voxanne_gcm_seal(key, iv, ivlen, aad, alen, plain,
                                         plen, out, tag)
               == NGX_OK
               && memcmp(out, want, clen) == 0
               && memcmp(tag, wtag, 16) == 0,
               "%s: seal gives C and T", v->name);

        tap_ok(ngx_http_voxanne_gcm_open(key, iv, ivlen, aad, alen, want,
                                         clen, wtag, back)
               == NGX_OK
               && memcmp(back, plain, plen) == 0,
               "%s: open gives P", v->name);

        wtag[15] ^= 1;

        tap_ok(ngx_http_voxanne_gcm_open(key, iv, ivlen, aad, alen, want,
                                         clen, wtag, back)
               == NGX_DECLINED,
               "%s: a flipped tag bit is refused", v->name);

        wtag[15] ^= 1;

        if (alen) {
            aad[0] ^= 0x80;

            tap_ok(ngx_http_voxanne_gcm_open(key, iv, ivlen, aad, alen, want,
                                             clen, wtag, back)
                   == NGX_DECLINED,
                   "%s: flipped associated data is refused", v->name);
        }

        if (clen) {
            want[clen - 1] ^= 0x01;

            tap_ok(ngx_http_voxanne_gcm_open(key, iv, ivlen, aad, alen, want,
                                             clen, wtag, back)
                   == NGX_DECLINED,
                   "%s: a flipped ciphertext bit is refused", v->name);
        }
    }

    /* in place: out is in */

    unhex(key, K1);
    unhex(iv, "cafebabefacedbaddecaf888");
    plen = unhex(plain, P60);
    alen = unhex(aad, A20);
    unhex(want, vectors[3].cipher);

    ngx_memcpy(out, plain, plen);

    tap_ok(ngx_http_voxanne_gcm_seal(key, iv, 12, aad, alen, out, plen, out,
                                     tag)
           == NGX_OK && memcmp(out, want, plen) == 0,
           "seal in place");
    tap_ok(ngx_http_voxanne_gcm_open(key, iv, 12, aad, alen, out, plen, tag,
                                     out)
           == NGX_OK && memcmp(out, plain, plen) == 0,
           "open in place");

    tap_ok(ngx_http_voxanne_gcm_seal(key, iv, 0, aad, alen, plain, plen, out,
                                     tag)
           == NGX_DECLINED, "an empty IV is refused");
}


static void
test_credential(void)
{
    u_char                          nonce[12], cipher[64], tag[16],
                                    secret[64], want[64], wtag[16];
    size_t                          clen;
    ngx_http_voxanne_crypt_key_t    key, other;
    ngx_http_voxanne_crypt_label_t  label;

    if (key_init(&key, KEY_HEX) != NGX_OK
        || key_init(&other, K1) != NGX_OK)
    {
        abort();
    }

    tap_is_mem(key.id, sizeof(key.id), KEY_ID, "the key id");

    label_init(&label, ORG, "twilio", "auth_token");
    unhex(nonce, NONCE);
    clen = unhex(want, CIPHER);
    unhex(wtag, TAG);

    tap_ok(ngx_http_voxanne_crypt_seal(&key, &label, nonce, (u_char *) SECRET,
                                       sizeof(SECRET) - 1, cipher, tag)
           == NGX_OK
           && clen == sizeof(SECRET) - 1
           && memcmp(cipher, want, clen) == 0
           && memcmp(tag, wtag, 16) == 0,
           "seal writes the fixed vector");

    tap_ok(ngx_http_voxanne_crypt_open(&key, &label, nonce, want, clen, wtag,
                                       secret)
           == NGX_OK, "the fixed vector opens");
    tap_is_mem(secret, clen, SECRET, "... to the secret");

    /* each part of the row and of its label is bound */

    tap_ok(ngx_http_voxanne_crypt_open(&other, &label, nonce, want, clen,
                                       wtag, secret)
           == NGX_DECLINED, "another key does not open it");

    tap_ok(memcmp(secret, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0,
           "a failed open wipes the secret buffer");

    label_init(&label, "5b7c1d2e-0000-4000-8000-00000000000b", "twilio",
               "auth_token");
    tap_ok(ngx_http_voxanne_crypt_open(&key, &label, nonce, want, clen, wtag,
                                       secret)
           == NGX_DECLINED, "a row copied to another org does not open");

    label_init(&label, ORG, "vapi", "auth_token");
    tap_ok(ngx_http_voxanne_crypt_open(&key, &label, nonce, want, clen, wtag,
                                       secret)
           == NGX_DECLINED, "nor under another provider");

    label_init(&label, ORG, "twilio", "auth_token_next");
    tap_ok(ngx_http_voxanne_crypt_open(&key, &label, nonce, want, clen, wtag,
                                       secret)
           == NGX_DECLINED, "nor under another name");

    label_init(&label, ORG, "twilioa", "uth_token");
    tap_ok(ngx_http_voxanne_crypt_open(&key, &label, nonce, want, clen, wtag,
                                       secret)
           == NGX_DECLINED, "nor with the separator moved");

    label_init(&label, ORG, "twilio", "auth_token");

    nonce[0] ^= 1;
    tap_ok(ngx_http_voxanne_crypt_open(&key, &label, nonce, want, clen, wtag,
                                       secret)
           == NGX_DECLINED, "a flipped nonce bit is refused");
    nonce[0] ^= 1;

    want[0] ^= 0x80;
    tap_ok(ngx_http_voxanne_crypt_open(&key, &label, nonce, want, clen, wtag,
                                       secret)
           == NGX_DECLINED, "a flipped ciphertext bit is refused");
    want[0] ^= 0x80;

    wtag[0] ^= 0x01;
    tap_ok(ngx_http_voxanne_crypt_open(&key, &label, nonce, want, clen, wtag,
                                       secret)
           == NGX_DECLINED, "a flipped tag bit is refused");
    wtag[0] ^= 0x01;

    tap_ok(ngx_http_voxanne_crypt_open(&key, &label, nonce, want, clen - 1,
                                       wtag, secret)
           == NGX_DECLINED, "a truncated ciphertext is refused");

    tap_ok(ngx_http_voxanne_crypt_open(&key, &label, nonce, want, clen, wtag,
                                       secret)
           == NGX_OK, "the untouched row still opens");

    ngx_http_voxanne_crypt_key_wipe(&key);
    ngx_http_voxanne_crypt_key_wipe(&other);
}


static void
test_labels(void)
{
    u_char                          nonce[12], cipher[16], tag[16];
    size_t                          i;
    ngx_int_t                       rc;
    ngx_http_voxanne_crypt_key_t    key;
    ngx_http_voxanne_crypt_label_t  label;

    static struct {
        char  *org;
        char  *provider;
        char  *name;
        int    ok;
        char  *what;
    } labels[] = {
        { ORG, "twilio", "auth_token", 1, "the usual label" },
        { ORG, "a", "b", 1, "one-letter provider and name" },
        { ORG, "open-ai_2", "key.v2-a_b", 1, "the other characters" },
        { ORG, "pppppppppppppppppppppppppppppppp",
          "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
          1, "a 32-byte provider and a 64-byte name" },
        { ORG, "ppppppppppppppppppppppppppppppppp", "n", 0,
          "a 33-byte provider" },
        { ORG, "p",
          "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
          0, "a 65-byte name" },
        { "5B7C1D2E-0000-4000-8000-00000000000A", "twilio", "auth_token", 0,
          "an uppercase org" },
        { "5b7c1d2e00000-4000-8000-00000000000a", "twilio", "auth_token", 0,
          "an org without its first dash" },
        { "5b7c1d2e-0000-4000-8000-00000000000", "twilio", "auth_token", 0,
          "a 35-character org" },
        { "5b7c1d2e-0000-4000-8000-00000000000g", "twilio", "auth_token", 0,
          "an org with a g" },
        { "", "twilio", "auth_token", 0, "an empty org" },
        { ORG, "", "auth_token", 0, "an empty provider" },
        { ORG, "twilio", "", 0, "an empty name" },
        { ORG, "Twilio", "auth_token", 0, "an uppercase provider" },
        { ORG, "1twilio", "auth_token", 0, "a provider starting with a digit" },
        { ORG, "twi\nlio", "auth_token", 0, "a newline in the provider" },
        { ORG, "twilio", "auth\ntoken", 0, "a newline in the name" },
        { ORG, "twi.lio", "auth_token", 0, "a dot in the provider" },
        { ORG, "twilio", "auth token", 0, "a space in the name" }
    };

    if (key_init(&key, KEY_HEX) != NGX_OK) {
        abort();
    }

    unhex(nonce, NONCE);

    for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        label_init(&label, labels[i].org, labels[i].provider, labels[i].name);

        rc = ngx_http_voxanne_crypt_seal(&key, &label, nonce,
                                         (u_char *) "s", 1, cipher, tag);

        tap_ok(rc == (labels[i].ok ? NGX_OK : NGX_DECLINED), "%s %s",
               labels[i].what, labels[i].ok ? "seals" : "is refused");
    }

    /* "twilio\0" has a NUL where a provider may not have one */

    label_init(&label, ORG, "twilio", "auth_token");
    label.provider.len++;

    tap_ok(ngx_http_voxanne_crypt_seal(&key, &label, nonce, (u_char *) "s", 1,
                                       cipher, tag)
           == NGX_DECLINED, "a NUL in the provider is refused");

    ngx_http_voxanne_crypt_key_wipe(&key);
}


static void
test_lengths(void)
{
    u_char                          *big, *out, *back;
    u_char                           nonce[12], tag[16];
    ngx_http_voxanne_crypt_key_t     key;
    ngx_http_voxanne_crypt_label_t   label;

    if (key_init(&key, KEY_HEX) != NGX_OK
        || ngx_http_voxanne_crypt_nonce(nonce) != NGX_OK)
    {
        abort();
    }

    label_init(&label, ORG, "twilio", "auth_token");

    /* exactly the size the API promises, so that ASan sees any overrun */

    big = malloc(NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX + 1);
    out = malloc(NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX);
    back = malloc(NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX);

    if (big == NULL || out == NULL || back == NULL) {
        abort();
    }

    memset(big, 'x', NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX + 1);

    tap_ok(ngx_http_voxanne_crypt_seal(&key, &label, nonce, big,
                                       NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX,
                                       out, tag)
           == NGX_OK, "the largest secret seals");
    tap_ok(ngx_http_voxanne_crypt_open(&key, &label, nonce, out,
                                       NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX,
                                       tag, back)
           == NGX_OK
           && memcmp(back, big, NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX) == 0,
           "... and opens");
    tap_ok(ngx_http_voxanne_crypt_seal(&key, &label, nonce, big,
                                       NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX + 1,
                                       out, tag)
           == NGX_DECLINED, "a larger one is refused");
    tap_ok(ngx_http_voxanne_crypt_seal(&key, &label, nonce, big, 0, out, tag)
           == NGX_DECLINED, "an empty secret is refused");
    tap_ok(ngx_http_voxanne_crypt_open(&key, &label, nonce, out, 0, tag, back)
           == NGX_DECLINED, "an empty ciphertext is refused");

    free(big);
    free(out);
    free(back);

    ngx_http_voxanne_crypt_key_wipe(&key);
}


static void
test_keys(void)
{
    char                          *text, raw[33];
    size_t                         i;
    u_char                         want[32];
    ngx_int_t                      rc;
    ngx_http_voxanne_crypt_key_t   key;

    static struct {
        char  *text;
        char  *what;
    } bad[] = {
        { "", "an empty file" },
        { "\n", "a newline" },
        { KEY_HEX "0", "65 hex digits" },
        { "00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
          "63 hex digits" },
        { " " KEY_HEX, "a leading space" },
        { KEY_HEX " x", "text after the key" },
        { "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
          "a 0x prefix" },
        { "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
          "a g first" },
        { "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",
          "a g last" },
        { "000102030405060708090a0b0c0d0e0f:01112131415161718191a1b1c1d1e1f",
          "a colon, the character after 9" },
        { "000102030405060708090a0b0c0d0e0f/01112131415161718191a1b1c1d1e1f",
          "a slash, the character before 0" },
        { "000102030405060708090a0b0c0d0e0f@01112131415161718191a1b1c1d1e1f",
          "an @, the character before A" },
        { "000102030405060708090a0b0c0d0e0f`01112131415161718191a1b1c1d1e1f",
          "a backquote, the character before a" },
        { K0, "64 zeros" },
        { "0123456789abcdef0123456789abcdef", "32 hex digits (128 bits)" },
        { "correct horse battery staple !!!", "a 32-byte passphrase" }
    };

    unhex(want, KEY_HEX);

    tap_ok(key_init(&key, KEY_HEX) == NGX_OK
           && memcmp(key.key, want, 32) == 0, "64 lowercase hex digits");
    tap_ok(key_init(&key, KEY_HEX "\n") == NGX_OK
           && memcmp(key.key, want, 32) == 0, "with a newline");
    tap_ok(key_init(&key, KEY_HEX " \t\r\n\n") == NGX_OK
           && memcmp(key.key, want, 32) == 0, "with trailing white space");

    text = strdup(K1);

    for (i = 0; text[i]; i++) {
        text[i] = (char) ngx_toupper(text[i]);
    }

    unhex(want, K1);

    tap_ok(key_init(&key, text) == NGX_OK && memcmp(key.key, want, 32) == 0,
           "64 uppercase hex digits");

    free(text);

    /* raw: exactly 32 bytes, whatever they are, even NULs or "\n" last */

    for (i = 0; i < 32; i++) {
        raw[i] = (char) (i * 37 + 11);
    }

    raw[0] = '\0';
    raw[31] = '\n';

    rc = ngx_http_voxanne_crypt_key_parse(&key, (u_char *) raw, 32);
    tap_ok(rc == NGX_OK && memcmp(key.key, raw, 32) == 0,
           "32 raw bytes are the key, a NUL first and a newline last");

    memcpy(raw, "0123456789abcdef0123456789abcde\x80", 32);

    rc = ngx_http_voxanne_crypt_key_parse(&key, (u_char *) raw, 32);
    tap_ok(rc == NGX_OK && memcmp(key.key, raw, 32) == 0,
           "32 raw bytes, one of them not printable");

    rc = ngx_http_voxanne_crypt_key_parse(&key, (u_char *) raw, 31);
    tap_ok(rc == NGX_DECLINED, "31 raw bytes are refused");

    raw[32] = '\x81';

    rc = ngx_http_voxanne_crypt_key_parse(&key, (u_char *) raw, 33);
    tap_ok(rc == NGX_DECLINED, "33 raw bytes are refused");

    memset(raw, 0, 32);

    rc = ngx_http_voxanne_crypt_key_parse(&key, (u_char *) raw, 32);
    tap_ok(rc == NGX_DECLINED, "32 zero bytes are refused");

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tap_ok(key_init(&key, bad[i].text) == NGX_DECLINED,
               "refused: %s", bad[i].what);
    }

    /* the id depends on every bit of the key */

    tap_ok(key_init(&key, KEY_HEX) == NGX_OK, "the key again");
    tap_is_mem(key.id, sizeof(key.id), KEY_ID, "its id");

    tap_ok(key_init(&key, "000102030405060708090a0b0c0d0e0f"
                          "101112131415161718191a1b1c1d1e1e") == NGX_OK
           && memcmp(key.id, KEY_ID, 16) != 0,
           "a key one bit apart has another id");

    ngx_http_voxanne_crypt_key_wipe(&key);

    for (i = 0; i < sizeof(key); i++) {
        if (((u_char *) &key)[i] != 0) {
            break;
        }
    }

    tap_ok(i == sizeof(key), "wipe zeroes the key and its id");
}


static void
test_nonce(void)
{
    u_char  one[12], two[12];

    tap_ok(ngx_http_voxanne_crypt_nonce(one) == NGX_OK
           && ngx_http_voxanne_crypt_nonce(two) == NGX_OK
           && memcmp(one, two, 12) != 0,
           "two nonces differ");
}


int
main(void)
{
    test_vectors();
    test_credential();
    test_labels();
    test_lengths();
    test_keys();
    test_nonce();

    return tap_done();
}
