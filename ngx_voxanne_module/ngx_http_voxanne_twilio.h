
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_TWILIO_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_TWILIO_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


char *ngx_http_voxanne_twilio(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_voxanne_twilio_merge(ngx_conf_t *cf,
    ngx_http_voxanne_loc_conf_t *prev, ngx_http_voxanne_loc_conf_t *conf);
ngx_int_t ngx_http_voxanne_twilio_variables(ngx_conf_t *cf);
ngx_table_elt_t *ngx_http_voxanne_header_in(ngx_http_request_t *r,
    char *name, size_t len);


#endif /* _NGX_HTTP_VOXANNE_TWILIO_H_INCLUDED_ */
