
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_tool_args.h"


static ngx_int_t ngx_http_voxanne_tool_args_number(u_char *p, size_t len,
    ngx_uint_t min, ngx_uint_t max);


ngx_int_t
ngx_http_voxanne_tool_args_date(u_char *p, size_t len)
{
    ngx_int_t   year, month, mday, days;

    static ngx_int_t  mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                  31 };

    if (len != 10 || p[4] != '-' || p[7] != '-') {
        return NGX_DECLINED;
    }

    year = ngx_http_voxanne_tool_args_number(p, 4, 1900, 9999);
    month = ngx_http_voxanne_tool_args_number(p + 5, 2, 1, 12);
    mday = ngx_http_voxanne_tool_args_number(p + 8, 2, 1, 31);

    if (year == NGX_ERROR || month == NGX_ERROR || mday == NGX_ERROR) {
        return NGX_DECLINED;
    }

    days = mdays[month - 1];

    if (month == 2
        && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
    {
        days++;
    }

    return (mday <= days) ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_http_voxanne_tool_args_time(u_char *p, size_t len, u_char *out)
{
    if ((len != 5 && len != 8)
        || p[2] != ':'
        || ngx_http_voxanne_tool_args_number(p, 2, 0, 23) == NGX_ERROR
        || ngx_http_voxanne_tool_args_number(p + 3, 2, 0, 59) == NGX_ERROR)
    {
        return NGX_DECLINED;
    }

    if (len == 8
        && (p[5] != ':'
            || ngx_http_voxanne_tool_args_number(p + 6, 2, 0, 59)
               == NGX_ERROR))
    {
        return NGX_DECLINED;
    }

    ngx_memcpy(out, p, NGX_HTTP_VOXANNE_TOOL_TIME_LEN);

    return NGX_OK;
}


ngx_int_t
ngx_http_voxanne_tool_args_datetime(u_char *p, size_t len, u_char *out)
{
    if (len < 11
        || (p[10] != 'T' && p[10] != ' ')
        || ngx_http_voxanne_tool_args_date(p, 10) != NGX_OK
        || ngx_http_voxanne_tool_args_time(p + 11, len - 11, out + 11)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    ngx_memcpy(out, p, 10);
    out[10] = ' ';

    return NGX_OK;
}


ngx_int_t
ngx_http_voxanne_tool_args_phone(u_char *p, size_t len, u_char *out,
    size_t *out_len)
{
    u_char  *last;
    size_t   n;

    last = p + len;

    while (p < last && *p == ' ') {
        p++;
    }

    if (p == last || *p++ != '+') {
        return NGX_DECLINED;
    }

    out[0] = '+';
    n = 1;

    for ( /* void */ ; p < last; p++) {

        if (*p >= '0' && *p <= '9') {
            if (n == NGX_HTTP_VOXANNE_TOOL_PHONE_LEN || (n == 1 && *p == '0'))
            {
                return NGX_DECLINED;
            }

            out[n++] = *p;
            continue;
        }

        if (*p != ' ' && *p != '-' && *p != '.' && *p != '(' && *p != ')') {
            return NGX_DECLINED;
        }
    }

    if (n < 8) {
        return NGX_DECLINED;
    }

    *out_len = n;

    return NGX_OK;
}


ngx_int_t
ngx_http_voxanne_tool_args_email(u_char *p, size_t len)
{
    size_t      i, at;
    ngx_uint_t  dot;

    if (len > NGX_HTTP_VOXANNE_TOOL_EMAIL_MAX) {
        return NGX_DECLINED;
    }

    at = 0;
    dot = 0;

    for (i = 0; i < len; i++) {

        if (p[i] <= ' ' || p[i] == 0x7f) {
            return NGX_DECLINED;
        }

        if (p[i] == '@') {
            if (at || i == 0) {
                return NGX_DECLINED;
            }

            at = i;
            continue;
        }

        /* a dot with something on either side, after the "@" */

        if (p[i] == '.' && at && i > at + 1 && i + 1 < len) {
            dot = 1;
        }
    }

    return dot ? NGX_OK : NGX_DECLINED;
}


ngx_int_t
ngx_http_voxanne_tool_args_text(u_char *p, size_t len, size_t max)
{
    size_t  i;

    if (len == 0 || len > max) {
        return NGX_DECLINED;
    }

    for (i = 0; i < len; i++) {
        if (p[i] < ' ' || p[i] == 0x7f) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/* a number of exactly len digits within min..max, or NGX_ERROR */

static ngx_int_t
ngx_http_voxanne_tool_args_number(u_char *p, size_t len, ngx_uint_t min,
    ngx_uint_t max)
{
    size_t      i;
    ngx_uint_t  n;

    n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return NGX_ERROR;
        }

        n = n * 10 + p[i] - '0';
    }

    return (n >= min && n <= max) ? (ngx_int_t) n : NGX_ERROR;
}
