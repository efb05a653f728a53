
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_VAPI_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_VAPI_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne_vapi_sig.h"


typedef enum {
    NGX_HTTP_VOXANNE_VAPI_AUTH_NONE = 0,
    NGX_HTTP_VOXANNE_VAPI_AUTH_SECRET,
    NGX_HTTP_VOXANNE_VAPI_AUTH_BEARER,
    NGX_HTTP_VOXANNE_VAPI_AUTH_HMAC
} ngx_http_voxanne_vapi_auth_e;


/* a tenant's Vapi settings: vapi_auth and vapi_assistant */

struct ngx_http_voxanne_vapi_s {
    ngx_uint_t                      auth;
    ngx_str_t                       header;
    u_char                          digest[32];    /* secret, bearer */
    ngx_http_voxanne_vapi_hmac_t    hmac;
    ngx_str_t                       timestamp_header;
    ngx_str_t                       id_header;
    time_t                          tolerance;
    ngx_uint_t                      signs[NGX_HTTP_VOXANNE_VAPI_FIELDS];
    ngx_str_t                       assistant;
    ngx_str_t                       after_hours;
};


char *ngx_http_voxanne_vapi(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
char *ngx_http_voxanne_vapi_auth(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n);
char *ngx_http_voxanne_vapi_assistant(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);


#endif /* _NGX_HTTP_VOXANNE_VAPI_H_INCLUDED_ */
