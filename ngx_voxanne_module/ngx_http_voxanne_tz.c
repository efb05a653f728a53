
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_tz.h"


#define NGX_HTTP_VOXANNE_TZ_HEADER  44


static ngx_int_t ngx_http_voxanne_tz_footer(ngx_http_voxanne_tz_t *tz,
    u_char *p, u_char *last);
static u_char *ngx_http_voxanne_tz_name(u_char *p, u_char *last);
static u_char *ngx_http_voxanne_tz_time(u_char *p, u_char *last,
    ngx_int_t max, ngx_int_t *secs);
static u_char *ngx_http_voxanne_tz_rule(u_char *p, u_char *last,
    ngx_http_voxanne_tz_rule_t *rule);
static ngx_int_t ngx_http_voxanne_tz_rule_offset(ngx_http_voxanne_tz_t *tz,
    int64_t t);
static int64_t ngx_http_voxanne_tz_transition(ngx_int_t year,
    ngx_http_voxanne_tz_rule_t *rule);
static int64_t ngx_http_voxanne_days_from_civil(ngx_int_t y, ngx_uint_t m,
    ngx_uint_t d);
static void ngx_http_voxanne_civil_from_days(int64_t z,
    ngx_http_voxanne_tm_t *tm);
static ngx_uint_t ngx_http_voxanne_wday(int64_t days);
static int64_t ngx_http_voxanne_floor_div(int64_t a, int64_t b);
static int64_t ngx_http_voxanne_tz_at(ngx_http_voxanne_tz_t *tz,
    ngx_uint_t i);
static uint32_t ngx_http_voxanne_be32(u_char *p);


/*
 * Checks every count against the file length before using it, then points
 * into the version 2 data block (64-bit instants) and parses the footer.
 */

ngx_int_t
ngx_http_voxanne_tz_parse(ngx_http_voxanne_tz_t *tz, u_char *data,
    size_t len)
{
    u_char      *p, *last;
    uint64_t     size, isut, isstd, leap, ntimes, ntypes, nchars;
    ngx_uint_t   i, v2;

    ngx_memzero(tz, sizeof(ngx_http_voxanne_tz_t));

    p = data;
    last = data + len;

    for (v2 = 0; v2 < 2; v2++) {

        if ((size_t) (last - p) < NGX_HTTP_VOXANNE_TZ_HEADER
            || ngx_strncmp(p, "TZif", 4) != 0)
        {
            return NGX_ERROR;
        }

        if (p[4] < '2') {
            return NGX_DECLINED;
        }

        isut = ngx_http_voxanne_be32(p + 20);
        isstd = ngx_http_voxanne_be32(p + 24);
        leap = ngx_http_voxanne_be32(p + 28);
        ntimes = ngx_http_voxanne_be32(p + 32);
        ntypes = ngx_http_voxanne_be32(p + 36);
        nchars = ngx_http_voxanne_be32(p + 40);

        size = ntimes * (v2 ? 9 : 5) + ntypes * 6 + nchars
               + leap * (v2 ? 12 : 8) + isstd + isut;

        p += NGX_HTTP_VOXANNE_TZ_HEADER;

        if (ntypes == 0 || (uint64_t) (last - p) < size) {
            return NGX_ERROR;
        }

        if (v2) {
            tz->times = p;
            tz->idxs = p + ntimes * 8;
            tz->types = tz->idxs + ntimes;
            tz->ntimes = ntimes;
            tz->ntypes = ntypes;
        }

        p += size;
    }

    for (i = 0; i < tz->ntimes; i++) {
        if (tz->idxs[i] >= tz->ntypes) {
            return NGX_ERROR;
        }
    }

    return ngx_http_voxanne_tz_footer(tz, p, last);
}


/* seconds east of UTC at the instant t (seconds since the epoch) */

ngx_int_t
ngx_http_voxanne_tz_offset(ngx_http_voxanne_tz_t *tz, int64_t t)
{
    ngx_uint_t  lo, hi, mid;

    if (tz->ntimes == 0 || t < ngx_http_voxanne_tz_at(tz, 0)) {

        if (tz->ntimes == 0 && tz->has_rule) {
            return ngx_http_voxanne_tz_rule_offset(tz, t);
        }

        return (int32_t) ngx_http_voxanne_be32(tz->types);
    }

    /* the last transition at or before t */

    lo = 0;
    hi = tz->ntimes;

    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;

        if (ngx_http_voxanne_tz_at(tz, mid) <= t) {
            lo = mid;

        } else {
            hi = mid;
        }
    }

    if (lo == tz->ntimes - 1 && tz->has_rule) {
        return ngx_http_voxanne_tz_rule_offset(tz, t);
    }

    return (int32_t) ngx_http_voxanne_be32(tz->types + tz->idxs[lo] * 6);
}


/* the local civil time of the instant t */

void
ngx_http_voxanne_tz_local(ngx_http_voxanne_tz_t *tz, int64_t t,
    ngx_http_voxanne_tm_t *tm)
{
    int64_t  local, days;

    local = t + ngx_http_voxanne_tz_offset(tz, t);
    days = ngx_http_voxanne_floor_div(local, 86400);

    ngx_http_voxanne_civil_from_days(days, tm);

    tm->minute = (ngx_uint_t) ((local - days * 86400) / 60);
}


/*
 * The POSIX TZ string after the data, e.g. "\nEST5EDT,M3.2.0,M11.1.0\n":
 * a standard name and offset, then optionally a daylight name, offset and
 * the two rules (only the "Mm.w.d[/time]" form, which tzdata uses).
 */

static ngx_int_t
ngx_http_voxanne_tz_footer(ngx_http_voxanne_tz_t *tz, u_char *p,
    u_char *last)
{
    ngx_int_t  off;

    if (p == last || *p++ != '\n') {
        return NGX_ERROR;
    }

    last = ngx_strlchr(p, last, '\n');
    if (last == NULL) {
        return NGX_ERROR;
    }

    if (p == last) {
        return NGX_OK;
    }

    p = ngx_http_voxanne_tz_name(p, last);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p = ngx_http_voxanne_tz_time(p, last, 24, &off);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* POSIX offsets are west of UTC */

    tz->std_off = -off;
    tz->dst_off = -off;
    tz->has_rule = 1;

    if (p == last) {
        return NGX_OK;
    }

    p = ngx_http_voxanne_tz_name(p, last);
    if (p == NULL) {
        return NGX_ERROR;
    }

    tz->has_dst = 1;
    tz->dst_off = tz->std_off + 3600;

    if (p < last && *p != ',') {
        p = ngx_http_voxanne_tz_time(p, last, 24, &off);
        if (p == NULL) {
            return NGX_ERROR;
        }

        tz->dst_off = -off;
    }

    if (p == last || *p++ != ',') {
        return NGX_DECLINED;
    }

    p = ngx_http_voxanne_tz_rule(p, last, &tz->start);
    if (p == NULL || p == last || *p++ != ',') {
        return NGX_DECLINED;
    }

    p = ngx_http_voxanne_tz_rule(p, last, &tz->end);
    if (p != last) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static u_char *
ngx_http_voxanne_tz_name(u_char *p, u_char *last)
{
    u_char  *start;

    if (p < last && *p == '<') {
        p = ngx_strlchr(p, last, '>');
        return p ? p + 1 : NULL;
    }

    start = p;

    while (p < last && ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')) {
        p++;
    }

    return (p - start >= 3) ? p : NULL;
}


/* [+-]hh[:mm[:ss]], hours up to max */

static u_char *
ngx_http_voxanne_tz_time(u_char *p, u_char *last, ngx_int_t max,
    ngx_int_t *secs)
{
    ngx_int_t   sign, value, part;
    ngx_uint_t  i, digits;

    sign = 1;

    if (p < last && (*p == '+' || *p == '-')) {
        sign = (*p++ == '-') ? -1 : 1;
    }

    value = 0;

    for (i = 0; i < 3; i++) {

        if (i > 0) {
            if (p == last || *p != ':') {
                break;
            }

            p++;
        }

        part = 0;
        digits = 0;

        while (p < last && *p >= '0' && *p <= '9' && digits < 3) {
            part = part * 10 + (*p++ - '0');
            digits++;
        }

        if (digits == 0 || (i == 0 && part > max) || (i > 0 && part > 59)) {
            return NULL;
        }

        value += part * (i == 0 ? 3600 : (i == 1 ? 60 : 1));
    }

    *secs = sign * value;

    return p;
}


static u_char *
ngx_http_voxanne_tz_rule(u_char *p, u_char *last,
    ngx_http_voxanne_tz_rule_t *rule)
{
    ngx_uint_t  field[3], i;

    if (p == last || *p++ != 'M') {
        return NULL;
    }

    for (i = 0; i < 3; i++) {

        if (i > 0 && (p == last || *p++ != '.')) {
            return NULL;
        }

        if (p == last || *p < '0' || *p > '9') {
            return NULL;
        }

        field[i] = *p++ - '0';

        if (p < last && *p >= '0' && *p <= '9') {
            field[i] = field[i] * 10 + (*p++ - '0');
        }
    }

    if (field[0] < 1 || field[0] > 12 || field[1] < 1 || field[1] > 5
        || field[2] > 6)
    {
        return NULL;
    }

    rule->month = field[0];
    rule->week = field[1];
    rule->wday = field[2];
    rule->time = 2 * 3600;

    if (p < last && *p == '/') {
        p = ngx_http_voxanne_tz_time(p + 1, last, 167, &rule->time);
    }

    return p;
}


static ngx_int_t
ngx_http_voxanne_tz_rule_offset(ngx_http_voxanne_tz_t *tz, int64_t t)
{
    int64_t                start, end;
    ngx_http_voxanne_tm_t  tm;

    if (!tz->has_dst) {
        return tz->std_off;
    }

    ngx_http_voxanne_civil_from_days(
        ngx_http_voxanne_floor_div(t + tz->std_off, 86400), &tm);

    /* the start is in standard time, the end in daylight time */

    start = ngx_http_voxanne_tz_transition(tm.year, &tz->start) - tz->std_off;
    end = ngx_http_voxanne_tz_transition(tm.year, &tz->end) - tz->dst_off;

    if (start < end) {
        return (t >= start && t < end) ? tz->dst_off : tz->std_off;
    }

    /* the southern hemisphere: daylight time spans the new year */

    return (t >= end && t < start) ? tz->std_off : tz->dst_off;
}


/* the local instant of a rule's transition in a year */

static int64_t
ngx_http_voxanne_tz_transition(ngx_int_t year,
    ngx_http_voxanne_tz_rule_t *rule)
{
    int64_t     first;
    ngx_uint_t  mday, wday1, mdays;

    static ngx_uint_t  days[] = { 31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31 };

    first = ngx_http_voxanne_days_from_civil(year, rule->month, 1);
    wday1 = ngx_http_voxanne_wday(first);

    mdays = days[rule->month - 1];

    if (rule->month == 2
        && (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
    {
        mdays = 29;
    }

    mday = 1 + (rule->wday + 7 - wday1) % 7 + (rule->week - 1) * 7;

    if (mday > mdays) {
        mday -= 7;
    }

    return (first + mday - 1) * 86400 + rule->time;
}


/* days since 1970-01-01 of a proleptic Gregorian date */

static int64_t
ngx_http_voxanne_days_from_civil(ngx_int_t y, ngx_uint_t m, ngx_uint_t d)
{
    int64_t  era, yoe, doy, doe;

    y -= (m <= 2);
    era = ngx_http_voxanne_floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


static void
ngx_http_voxanne_civil_from_days(int64_t z, ngx_http_voxanne_tm_t *tm)
{
    int64_t  era, doe, yoe, doy, mp;

    tm->wday = ngx_http_voxanne_wday(z);

    z += 719468;
    era = ngx_http_voxanne_floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;

    tm->mday = (ngx_uint_t) (doy - (153 * mp + 2) / 5 + 1);
    tm->month = (ngx_uint_t) (mp < 10 ? mp + 3 : mp - 9);
    tm->year = (ngx_int_t) (yoe + era * 400 + (tm->month <= 2));
}


/* 1970-01-01 was a Thursday */

static ngx_uint_t
ngx_http_voxanne_wday(int64_t days)
{
    return (ngx_uint_t) (days + 4
                         - ngx_http_voxanne_floor_div(days + 4, 7) * 7);
}


static int64_t
ngx_http_voxanne_floor_div(int64_t a, int64_t b)
{
    return (a >= 0) ? a / b : -((-a + b - 1) / b);
}


static int64_t
ngx_http_voxanne_tz_at(ngx_http_voxanne_tz_t *tz, ngx_uint_t i)
{
    u_char  *p;

    p = tz->times + i * 8;

    return (int64_t) ((uint64_t) ngx_http_voxanne_be32(p) << 32
                      | ngx_http_voxanne_be32(p + 4));
}


static uint32_t
ngx_http_voxanne_be32(u_char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}
