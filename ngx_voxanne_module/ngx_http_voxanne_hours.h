
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_HOURS_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_HOURS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_tz.h"


/*
 * Business hours, "mon-fri 09:00-17:00, sat 10:00-14:00", in a tenant's
 * local time.  A pure codec: tokens in, a fixed table out.
 */


#define NGX_HTTP_VOXANNE_HOURS_MAX  32


typedef struct {
    ngx_uint_t  days;            /* a bit per weekday, Sunday is bit 0 */
    ngx_uint_t  open;            /* minutes after local midnight */
    ngx_uint_t  close;           /* exclusive, up to 24:00 */
} ngx_http_voxanne_hours_range_t;


typedef struct {
    ngx_http_voxanne_hours_range_t  ranges[NGX_HTTP_VOXANNE_HOURS_MAX];
    ngx_uint_t                      nranges;
    ngx_uint_t                      days;   /* the day spec being parsed */
} ngx_http_voxanne_hours_t;


ngx_int_t ngx_http_voxanne_hours_add(ngx_http_voxanne_hours_t *hours,
    ngx_str_t *token);
ngx_uint_t ngx_http_voxanne_hours_open(ngx_http_voxanne_hours_t *hours,
    ngx_http_voxanne_tm_t *tm);
ngx_int_t ngx_http_voxanne_hours_date(ngx_str_t *s);


#endif /* _NGX_HTTP_VOXANNE_HOURS_H_INCLUDED_ */
