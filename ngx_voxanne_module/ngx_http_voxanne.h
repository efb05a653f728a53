
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_VOXANNE_VERSION  "0.1.0"


extern ngx_module_t  ngx_http_voxanne_module;


#include "ngx_http_voxanne_health.h"


#endif /* _NGX_HTTP_VOXANNE_H_INCLUDED_ */
