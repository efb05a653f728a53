
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_FORM_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_FORM_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * A pure codec: no I/O, no allocation, libc only, so that unit tests and
 * fuzzers drive it directly.
 */


typedef struct {
    ngx_str_t  name;
    ngx_str_t  value;
} ngx_http_voxanne_param_t;


ngx_int_t ngx_http_voxanne_form_parse(u_char *p, size_t len,
    ngx_http_voxanne_param_t *params, ngx_uint_t max);
ngx_str_t *ngx_http_voxanne_form_get(ngx_http_voxanne_param_t *params,
    ngx_uint_t n, char *name);


#endif /* _NGX_HTTP_VOXANNE_FORM_H_INCLUDED_ */
