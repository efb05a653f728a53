
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_TZ_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_TZ_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * Time zones from the system tz database (TZif version 2 and later), read
 * once at configuration time, so the request path costs no system call and
 * no global TZ juggling.  A pure codec: the zone points into the file's
 * bytes, which the caller keeps; nothing is allocated.
 */


typedef struct {
    ngx_uint_t  month;           /* 1..12 */
    ngx_uint_t  week;            /* 1..5, 5 is the last */
    ngx_uint_t  wday;            /* 0..6, Sunday is 0 */
    ngx_int_t   time;            /* seconds after local midnight */
} ngx_http_voxanne_tz_rule_t;


typedef struct {
    u_char                      *times;    /* big-endian 64-bit instants */
    u_char                      *idxs;     /* a local time type for each */
    u_char                      *types;    /* 6-byte local time types */
    ngx_uint_t                   ntimes;
    ngx_uint_t                   ntypes;

    /* the footer rule, for instants after the last transition */
    ngx_int_t                    std_off;  /* seconds east of UTC */
    ngx_int_t                    dst_off;
    ngx_uint_t                   has_rule;
    ngx_uint_t                   has_dst;
    ngx_http_voxanne_tz_rule_t   start;
    ngx_http_voxanne_tz_rule_t   end;
} ngx_http_voxanne_tz_t;


typedef struct {
    ngx_int_t   year;
    ngx_uint_t  month;           /* 1..12 */
    ngx_uint_t  mday;            /* 1..31 */
    ngx_uint_t  wday;            /* 0..6, Sunday is 0 */
    ngx_uint_t  minute;          /* minutes after local midnight */
} ngx_http_voxanne_tm_t;


ngx_int_t ngx_http_voxanne_tz_parse(ngx_http_voxanne_tz_t *tz, u_char *data,
    size_t len);
ngx_int_t ngx_http_voxanne_tz_offset(ngx_http_voxanne_tz_t *tz, int64_t t);
void ngx_http_voxanne_tz_local(ngx_http_voxanne_tz_t *tz, int64_t t,
    ngx_http_voxanne_tm_t *tm);


#endif /* _NGX_HTTP_VOXANNE_TZ_H_INCLUDED_ */
