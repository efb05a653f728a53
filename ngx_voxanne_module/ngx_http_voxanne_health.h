
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_HEALTH_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_HEALTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_int_t ngx_http_voxanne_health_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_voxanne_health_live_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_VOXANNE_HEALTH_H_INCLUDED_ */
