
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_TENANT_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_TENANT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


char *ngx_http_voxanne_tenant_block(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_voxanne_tenant_init(ngx_conf_t *cf,
    ngx_http_voxanne_main_conf_t *vmcf);
ngx_http_voxanne_tenant_t *ngx_http_voxanne_tenant_new(ngx_conf_t *cf,
    ngx_str_t *name);
char *ngx_http_voxanne_tenant_set(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, char *name, ngx_str_t *value, ngx_uint_t n);
char *ngx_http_voxanne_tenant_done(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t);
ngx_int_t ngx_http_voxanne_tenant_key(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *token);
ngx_int_t ngx_http_voxanne_tenant_tz(ngx_conf_t *cf, ngx_str_t *name,
    ngx_http_voxanne_tz_t *tz);
ngx_uint_t ngx_http_voxanne_e164(ngx_str_t *s);
ngx_http_voxanne_tenant_t *ngx_http_voxanne_tenant_find(
    ngx_http_voxanne_main_conf_t *vmcf, ngx_str_t *name);
ngx_uint_t ngx_http_voxanne_tenant_open(ngx_http_voxanne_tenant_t *t,
    time_t now);
ngx_int_t ngx_http_voxanne_tenant_secret(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, char *directive, ngx_str_t *name,
    ngx_str_t *secret);
ngx_int_t ngx_http_voxanne_tenant_read(ngx_conf_t *cf, ngx_str_t *name,
    size_t max, ngx_str_t *out);


#endif /* _NGX_HTTP_VOXANNE_TENANT_H_INCLUDED_ */
