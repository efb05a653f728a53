
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_AGENT_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_AGENT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The directives of a voxanne_tenant block that set its agent (the
 * tenant.c table calls them), init() when the block opens and done() once
 * it is parsed: the session.update and the greeting's response.create.
 * tool() is whether the tenant gave the agent a tool of that name.
 */

char *ngx_http_voxanne_agent_type(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n);
char *ngx_http_voxanne_agent_instructions(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
char *ngx_http_voxanne_agent_voice(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
char *ngx_http_voxanne_agent_greeting(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
char *ngx_http_voxanne_agent_language(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
char *ngx_http_voxanne_agent_vad(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n);
char *ngx_http_voxanne_agent_tools(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n);
void ngx_http_voxanne_agent_init(ngx_http_voxanne_agent_t *agent);
char *ngx_http_voxanne_agent_done(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t);
ngx_uint_t ngx_http_voxanne_agent_tool(ngx_http_voxanne_agent_t *a,
    ngx_str_t *name);


#endif /* _NGX_HTTP_VOXANNE_AGENT_H_INCLUDED_ */
