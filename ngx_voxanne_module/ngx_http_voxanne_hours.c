
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_hours.h"


static ngx_int_t ngx_http_voxanne_hours_day(u_char *p, u_char *last);
static ngx_int_t ngx_http_voxanne_hours_minute(u_char *p, u_char *last);
static ngx_int_t ngx_http_voxanne_hours_number(u_char *p, size_t len);


/*
 * Takes the directive's arguments one at a time: a day spec ("mon",
 * "mon-fri", "sat,sun") selects days, each time range after it ("09:00-
 * 17:00") opens them.  A trailing comma only separates groups.
 */

ngx_int_t
ngx_http_voxanne_hours_add(ngx_http_voxanne_hours_t *hours, ngx_str_t *token)
{
    u_char                          *p, *last, *dash, *comma;
    ngx_int_t                        from, to, d;
    ngx_http_voxanne_hours_range_t  *range;

    p = token->data;
    last = token->data + token->len;

    if (p < last && last[-1] == ',') {
        last--;
    }

    if (p == last) {
        return NGX_ERROR;
    }

    if (*p >= '0' && *p <= '9') {

        dash = ngx_strlchr(p, last, '-');

        if (hours->days == 0 || dash == NULL
            || hours->nranges == NGX_HTTP_VOXANNE_HOURS_MAX)
        {
            return NGX_ERROR;
        }

        from = ngx_http_voxanne_hours_minute(p, dash);
        to = ngx_http_voxanne_hours_minute(dash + 1, last);

        if (from == NGX_ERROR || to == NGX_ERROR || from >= to) {
            return NGX_ERROR;
        }

        range = &hours->ranges[hours->nranges++];
        range->days = hours->days;
        range->open = from;
        range->close = to;

        return NGX_OK;
    }

    hours->days = 0;

    while (p < last) {

        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        dash = ngx_strlchr(p, comma, '-');

        from = ngx_http_voxanne_hours_day(p, dash ? dash : comma);
        to = dash ? ngx_http_voxanne_hours_day(dash + 1, comma) : from;

        if (from == NGX_ERROR || to == NGX_ERROR) {
            return NGX_ERROR;
        }

        /* "fri-mon" wraps over the weekend */

        for (d = from; ; d = (d + 1) % 7) {
            hours->days |= 1 << d;

            if (d == to) {
                break;
            }
        }

        p = comma + 1;
    }

    return NGX_OK;
}


ngx_uint_t
ngx_http_voxanne_hours_open(ngx_http_voxanne_hours_t *hours,
    ngx_http_voxanne_tm_t *tm)
{
    ngx_uint_t                       i;
    ngx_http_voxanne_hours_range_t  *range;

    for (i = 0; i < hours->nranges; i++) {
        range = &hours->ranges[i];

        if ((range->days & (1 << tm->wday))
            && tm->minute >= range->open && tm->minute < range->close)
        {
            return 1;
        }
    }

    return 0;
}


/* "2026-12-25" as 20261225, checked against the calendar */

ngx_int_t
ngx_http_voxanne_hours_date(ngx_str_t *s)
{
    ngx_int_t  y, m, d, mdays;

    if (s->len != 10 || s->data[4] != '-' || s->data[7] != '-') {
        return NGX_ERROR;
    }

    y = ngx_http_voxanne_hours_number(s->data, 4);
    m = ngx_http_voxanne_hours_number(s->data + 5, 2);
    d = ngx_http_voxanne_hours_number(s->data + 8, 2);

    if (y < 1970 || m < 1 || m > 12 || d < 1) {
        return NGX_ERROR;
    }

    mdays = (m == 2) ? ((y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
                        ? 29 : 28)
            : (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31;

    if (d > mdays) {
        return NGX_ERROR;
    }

    return y * 10000 + m * 100 + d;
}


static ngx_int_t
ngx_http_voxanne_hours_day(u_char *p, u_char *last)
{
    ngx_int_t  d;

    static char  *days[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

    if (last - p != 3) {
        return NGX_ERROR;
    }

    for (d = 0; d < 7; d++) {
        if (ngx_strncmp(p, days[d], 3) == 0) {
            return d;
        }
    }

    return NGX_ERROR;
}


/* "HH:MM", 00:00 to 24:00 */

static ngx_int_t
ngx_http_voxanne_hours_minute(u_char *p, u_char *last)
{
    ngx_int_t  h, m;

    if (last - p != 5 || p[2] != ':') {
        return NGX_ERROR;
    }

    h = ngx_http_voxanne_hours_number(p, 2);
    m = ngx_http_voxanne_hours_number(p + 3, 2);

    if (h == NGX_ERROR || m == NGX_ERROR || m > 59 || h * 60 + m > 24 * 60) {
        return NGX_ERROR;
    }

    return h * 60 + m;
}


static ngx_int_t
ngx_http_voxanne_hours_number(u_char *p, size_t len)
{
    ngx_int_t  n;

    for (n = 0; len; len--, p++) {
        if (*p < '0' || *p > '9') {
            return NGX_ERROR;
        }

        n = n * 10 + (*p - '0');
    }

    return n;
}
