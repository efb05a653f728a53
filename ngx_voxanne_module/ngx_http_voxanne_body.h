
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_BODY_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_BODY_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define ngx_http_voxanne_type_is(type, name)                                  \
    ((type)->len >= sizeof(name) - 1                                          \
     && ngx_strncasecmp((type)->data, (u_char *) name, sizeof(name) - 1) == 0 \
     && ((type)->len == sizeof(name) - 1                                      \
         || (type)->data[sizeof(name) - 1] == ';'                             \
         || (type)->data[sizeof(name) - 1] == ' '))


void ngx_http_voxanne_body_route(ngx_http_voxanne_loc_conf_t *vlcf,
    ngx_http_core_loc_conf_t *clcf, ngx_str_t *name);
void ngx_http_voxanne_body_merge(ngx_http_voxanne_loc_conf_t *prev,
    ngx_http_voxanne_loc_conf_t *conf);
ngx_int_t ngx_http_voxanne_body_read(ngx_http_request_t *r,
    ngx_http_client_body_handler_pt handler);
ngx_int_t ngx_http_voxanne_body_get(ngx_http_request_t *r, ngx_str_t *body);
ngx_int_t ngx_http_voxanne_body_send(ngx_http_request_t *r, ngx_uint_t status,
    char *type, ngx_buf_t *b);


#endif /* _NGX_HTTP_VOXANNE_BODY_H_INCLUDED_ */
