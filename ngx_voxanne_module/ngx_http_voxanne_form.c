
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_form.h"


static ngx_int_t ngx_http_voxanne_form_decode(ngx_str_t *s);
static ngx_int_t ngx_http_voxanne_form_hex(u_char c);


/*
 * Parses an application/x-www-form-urlencoded body in place: each name and
 * value is decoded ("+" is a space, "%XX" a byte) over its own raw bytes.
 * Empty pairs ("a=1&&b=2") are skipped, a pair without "=" has an empty
 * value.  Returns the number of parameters, NGX_DECLINED when there are more
 * than max of them, or NGX_ERROR on a malformed escape.
 */

ngx_int_t
ngx_http_voxanne_form_parse(u_char *p, size_t len,
    ngx_http_voxanne_param_t *params, ngx_uint_t max)
{
    u_char      *last, *amp, *eq;
    ngx_uint_t   n;

    n = 0;
    last = p + len;

    while (p < last) {

        amp = ngx_strlchr(p, last, '&');
        if (amp == NULL) {
            amp = last;
        }

        if (amp == p) {
            p++;
            continue;
        }

        if (n == max) {
            return NGX_DECLINED;
        }

        eq = ngx_strlchr(p, amp, '=');

        params[n].name.data = p;
        params[n].name.len = (eq ? eq : amp) - p;

        if (eq) {
            params[n].value.data = eq + 1;
            params[n].value.len = amp - eq - 1;

        } else {
            params[n].value.data = amp;
            params[n].value.len = 0;
        }

        if (ngx_http_voxanne_form_decode(&params[n].name) != NGX_OK
            || ngx_http_voxanne_form_decode(&params[n].value) != NGX_OK)
        {
            return NGX_ERROR;
        }

        n++;
        p = amp + 1;
    }

    return n;
}


ngx_str_t *
ngx_http_voxanne_form_get(ngx_http_voxanne_param_t *params, ngx_uint_t n,
    char *name)
{
    size_t      len;
    ngx_uint_t  i;

    len = ngx_strlen(name);

    for (i = 0; i < n; i++) {
        if (params[i].name.len == len
            && ngx_strncmp(params[i].name.data, name, len) == 0)
        {
            return &params[i].value;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_voxanne_form_decode(ngx_str_t *s)
{
    u_char     *src, *dst, *last, c;
    ngx_int_t   hi, lo;

    src = s->data;
    dst = s->data;
    last = s->data + s->len;

    while (src < last) {
        c = *src++;

        if (c == '+') {
            *dst++ = ' ';
            continue;
        }

        if (c != '%') {
            *dst++ = c;
            continue;
        }

        if (last - src < 2) {
            return NGX_ERROR;
        }

        hi = ngx_http_voxanne_form_hex(src[0]);
        lo = ngx_http_voxanne_form_hex(src[1]);

        if (hi == NGX_ERROR || lo == NGX_ERROR) {
            return NGX_ERROR;
        }

        *dst++ = (u_char) (hi << 4 | lo);
        src += 2;
    }

    s->len = dst - s->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_voxanne_form_hex(u_char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return NGX_ERROR;
}
