
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


static void *ngx_http_voxanne_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_voxanne_init_main_conf(ngx_conf_t *cf, void *conf);
static char *ngx_http_voxanne_health(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_http_voxanne_commands[] = {

    { ngx_string("voxanne_tenant"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_http_voxanne_tenant_block,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_voxanne_limit_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_voxanne_health,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_voxanne_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_voxanne_create_main_conf,     /* create main configuration */
    ngx_http_voxanne_init_main_conf,       /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_voxanne_module = {
    NGX_MODULE_V1,
    &ngx_http_voxanne_module_ctx,          /* module context */
    ngx_http_voxanne_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_voxanne_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_voxanne_main_conf_t));
    if (vmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     vmcf->numbers = { NULL, 0 };
     */

    if (ngx_array_init(&vmcf->tenants, cf->pool, 4,
                       sizeof(ngx_http_voxanne_tenant_t *))
        != NGX_OK)
    {
        return NULL;
    }

    vmcf->keys = ngx_pcalloc(cf->temp_pool, sizeof(ngx_hash_keys_arrays_t));
    if (vmcf->keys == NULL) {
        return NULL;
    }

    vmcf->keys->pool = cf->pool;
    vmcf->keys->temp_pool = cf->temp_pool;

    if (ngx_hash_keys_array_init(vmcf->keys, NGX_HASH_SMALL) != NGX_OK) {
        return NULL;
    }

    return vmcf;
}


static char *
ngx_http_voxanne_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_voxanne_main_conf_t *vmcf = conf;

    char  *rv;

    rv = ngx_http_voxanne_tenant_init(cf, vmcf);

    vmcf->keys = NULL;

    return rv;
}


static char *
ngx_http_voxanne_health(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_voxanne_health_handler) {
        return "is duplicate";
    }

    if (clcf->handler != NULL) {
        return "conflicts with another content handler in this location";
    }

    clcf->handler = ngx_http_voxanne_health_handler;

    return NGX_CONF_OK;
}
