
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_LIMIT_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_LIMIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_VOXANNE_LIMIT_KEY_MAX  255


typedef struct {
    ngx_shm_zone_t             *shm_zone;     /* NULL: no limit */
    ngx_uint_t                  rate;         /* requests per 1000 s */
    ngx_uint_t                  burst;        /* times 1000 */
} ngx_http_voxanne_limit_t;


char *ngx_http_voxanne_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

/*
 * Parses the "zone=NAME rate=Nr/s|Nr/m [burst=N]" arguments of a limit.
 * Returns NGX_CONF_OK; NGX_CONF_ERROR when out of memory or when nginx
 * has already logged; or the text of the error, quoting the offending
 * token, which the caller logs with its context (directive, tenant).
 */
char *ngx_http_voxanne_limit_parse(ngx_conf_t *cf,
    ngx_http_voxanne_limit_t *limit, ngx_str_t *value, ngx_uint_t n);

/*
 * Accounts one request for the key: NGX_OK passed, NGX_BUSY limited
 * (the excess is left as it was), NGX_ERROR key too long or no memory
 * even after expiry (logged here; the caller treats it as limited).
 */
ngx_int_t ngx_http_voxanne_limit_account(ngx_http_voxanne_limit_t *limit,
    ngx_str_t *key, ngx_log_t *log);


#endif /* _NGX_HTTP_VOXANNE_LIMIT_H_INCLUDED_ */
