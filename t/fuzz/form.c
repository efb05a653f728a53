
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * libFuzzer target: the form parser, then the signed-string builder on the
 * parameters it returns.  The input is a request body.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_form.h"
#include "ngx_http_voxanne_signature.h"
#include "fuzz.h"


/* small, so that inputs with too many parameters are common */
#define FUZZ_FORM_MAX  16


static void fuzz_form_raw(const u_char *orig, size_t size, u_char *buf,
    ngx_str_t *s, u_char stop, ngx_str_t *raw);
static size_t fuzz_form_decode(ngx_str_t *raw, u_char *dst);
static ngx_uint_t fuzz_form_bad_escape(const u_char *data, size_t size);
static ngx_uint_t fuzz_form_hex(u_char c);
static int fuzz_form_param_cmp(ngx_http_voxanne_param_t *a,
    ngx_http_voxanne_param_t *b);
static void fuzz_form_get(ngx_http_voxanne_param_t *params, ngx_uint_t n);
static void fuzz_form_signed(ngx_http_voxanne_param_t *params, ngx_uint_t n);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                    *buf, *dec;
    size_t                     len;
    ngx_int_t                  rc;
    ngx_str_t                  raw;
    ngx_uint_t                 i, segments;
    ngx_http_voxanne_param_t  *params, *p;

    buf = fuzz_copy(data, size);

    /* exactly FUZZ_FORM_MAX entries: writing one more is an overflow */

    params = (ngx_http_voxanne_param_t *)
                 fuzz_alloc(FUZZ_FORM_MAX * sizeof(ngx_http_voxanne_param_t));

    rc = ngx_http_voxanne_form_parse(buf, size, params, FUZZ_FORM_MAX);

    fuzz_assert(rc == NGX_ERROR || rc == NGX_DECLINED
                || (rc >= 0 && rc <= FUZZ_FORM_MAX));

    /* the number of non-empty "&"-separated segments of the input */

    segments = 0;

    for (i = 0; i < size; i++) {
        if (data[i] != '&' && (i + 1 == size || data[i + 1] == '&')) {
            segments++;
        }
    }

    if (rc == NGX_DECLINED) {
        fuzz_assert(segments > FUZZ_FORM_MAX);
    }

    if (rc == NGX_ERROR) {
        fuzz_assert(fuzz_form_bad_escape(data, size));
    }

    if (rc < 0) {
        goto done;
    }

    fuzz_assert((ngx_uint_t) rc == segments);
    fuzz_assert(!fuzz_form_bad_escape(data, size));

    dec = fuzz_alloc(size);

    for (i = 0; i < (ngx_uint_t) rc; i++) {
        p = &params[i];

        fuzz_assert(p->name.data >= buf && p->name.data <= buf + size);
        fuzz_assert(p->name.len <= size);
        fuzz_assert(p->name.len <= (size_t) (buf + size - p->name.data));

        fuzz_assert(p->value.data >= buf && p->value.data <= buf + size);
        fuzz_assert(p->value.len <= size);
        fuzz_assert(p->value.len <= (size_t) (buf + size - p->value.data));

        fuzz_assert(p->name.len + p->value.len <= size);

        /* a pair starts the input or follows an "&" */

        fuzz_assert(p->name.data == buf
                    || data[p->name.data - buf - 1] == '&');

        /* each decodes, in place, exactly as a plain reference decoder does */

        fuzz_form_raw(data, size, buf, &p->name, '=', &raw);
        len = fuzz_form_decode(&raw, dec);
        fuzz_assert(len == p->name.len);
        fuzz_assert(len == 0 || memcmp(dec, p->name.data, len) == 0);

        fuzz_form_raw(data, size, buf, &p->value, '&', &raw);
        len = fuzz_form_decode(&raw, dec);
        fuzz_assert(len == p->value.len);
        fuzz_assert(len == 0 || memcmp(dec, p->value.data, len) == 0);

        if (i > 0) {
            fuzz_assert(p->name.data > params[i - 1].value.data);
        }
    }

    free(dec);

    fuzz_form_get(params, rc);
    fuzz_form_signed(params, rc);

done:

    free(params);
    free(buf);

    return 0;
}


/*
 * The raw input bytes a decoded string came from: from where it starts up
 * to the stop byte ("=" for a name, "&" for a value), or to "&" or the end.
 */

static void
fuzz_form_raw(const u_char *orig, size_t size, u_char *buf, ngx_str_t *s,
    u_char stop, ngx_str_t *raw)
{
    size_t  i;

    raw->data = (u_char *) orig + (s->data - buf);

    for (i = s->data - buf; i < size; i++) {
        if (orig[i] == stop || orig[i] == '&') {
            break;
        }
    }

    raw->len = (orig + i) - raw->data;
}


/* a reference decoder for input the parser accepted: escapes are valid */

static size_t
fuzz_form_decode(ngx_str_t *raw, u_char *dst)
{
    char     hex[3];
    size_t   i, n;

    n = 0;

    for (i = 0; i < raw->len; i++) {

        if (raw->data[i] == '%') {
            fuzz_assert(i + 2 < raw->len);
            fuzz_assert(fuzz_form_hex(raw->data[i + 1])
                        && fuzz_form_hex(raw->data[i + 2]));

            hex[0] = raw->data[i + 1];
            hex[1] = raw->data[i + 2];
            hex[2] = '\0';

            dst[n++] = (u_char) strtoul(hex, NULL, 16);
            i += 2;
            continue;
        }

        dst[n++] = (raw->data[i] == '+') ? ' ' : raw->data[i];
    }

    return n;
}


/* a "%" not followed by two hex digits */

static ngx_uint_t
fuzz_form_bad_escape(const u_char *data, size_t size)
{
    size_t  i;

    for (i = 0; i < size; i++) {
        if (data[i] == '%'
            && (i + 2 >= size
                || !fuzz_form_hex(data[i + 1])
                || !fuzz_form_hex(data[i + 2])))
        {
            return 1;
        }
    }

    return 0;
}


static ngx_uint_t
fuzz_form_hex(u_char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
           || (c >= 'A' && c <= 'F');
}


static int
fuzz_form_param_cmp(ngx_http_voxanne_param_t *a, ngx_http_voxanne_param_t *b)
{
    int  rc;

    rc = fuzz_str_cmp(&a->name, &b->name);

    if (rc != 0) {
        return rc;
    }

    return fuzz_str_cmp(&a->value, &b->value);
}


/*
 * form_get() finds every name the parser returned, at its first pair, and
 * a name that is not there (usually "Digits") as NULL.
 */

static void
fuzz_form_get(ngx_http_voxanne_param_t *params, ngx_uint_t n)
{
    char        *name;
    ngx_str_t   *v, digits;
    ngx_uint_t   i, j;

    ngx_str_set(&digits, "Digits");

    for (j = 0; j < n; j++) {
        if (fuzz_str_cmp(&params[j].name, &digits) == 0) {
            break;
        }
    }

    v = ngx_http_voxanne_form_get(params, n, "Digits");

    fuzz_assert(v == ((j < n) ? &params[j].value : NULL));

    for (i = 0; i < n; i++) {

        if (memchr(params[i].name.data, '\0', params[i].name.len) != NULL) {
            continue;    /* form_get() takes a C string */
        }

        name = (char *) fuzz_alloc(params[i].name.len + 1);

        ngx_memcpy(name, params[i].name.data, params[i].name.len);
        name[params[i].name.len] = '\0';

        for (j = 0; j < i; j++) {
            if (fuzz_str_cmp(&params[j].name, &params[i].name) == 0) {
                break;
            }
        }

        v = ngx_http_voxanne_form_get(params, n, name);

        fuzz_assert(v == &params[j].value);

        free(name);
    }
}


/*
 * The string Twilio signs: params_size() bytes are enough, the pairs come
 * out sorted by name then value, and a repeated pair is written once.
 */

static void
fuzz_form_signed(ngx_http_voxanne_param_t *params, ngx_uint_t n)
{
    u_char      *out, *last, *p;
    size_t       size, sum;
    ngx_uint_t   i, dups;

    size = ngx_http_voxanne_signature_params_size(params, n);

    for (i = 0, sum = 0; i < n; i++) {
        sum += params[i].name.len + params[i].value.len;
    }

    fuzz_assert(size == sum);

    out = fuzz_alloc(size);

    last = ngx_http_voxanne_signature_params(out, params, n);

    fuzz_assert(last >= out && (size_t) (last - out) <= size);

    dups = 0;
    p = out;

    for (i = 0; i < n; i++) {

        if (i > 0) {
            fuzz_assert(fuzz_str_cmp(&params[i - 1].name, &params[i].name)
                        <= 0);
            fuzz_assert(fuzz_form_param_cmp(&params[i - 1], &params[i])
                        <= 0);

            if (fuzz_form_param_cmp(&params[i - 1], &params[i]) == 0) {
                dups++;
                continue;
            }
        }

        fuzz_assert(p + params[i].name.len + params[i].value.len <= last);

        fuzz_assert(params[i].name.len == 0
                    || memcmp(p, params[i].name.data, params[i].name.len)
                       == 0);
        p += params[i].name.len;

        fuzz_assert(params[i].value.len == 0
                    || memcmp(p, params[i].value.data, params[i].value.len)
                       == 0);
        p += params[i].value.len;
    }

    fuzz_assert(p == last);

    if (dups == 0) {
        fuzz_assert((size_t) (last - out) == size);
    }

    free(out);
}
