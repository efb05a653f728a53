
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


static ngx_int_t ngx_http_voxanne_preconfiguration(ngx_conf_t *cf);
static void *ngx_http_voxanne_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_voxanne_init_main_conf(ngx_conf_t *cf, void *conf);
static ngx_int_t ngx_http_voxanne_calls_zone(ngx_conf_t *cf,
    ngx_http_voxanne_main_conf_t *vmcf);
static void *ngx_http_voxanne_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_voxanne_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_voxanne_health(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_voxanne_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_voxanne_init_process(ngx_cycle_t *cycle);
static void ngx_http_voxanne_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_voxanne_commands[] = {

    { ngx_string("voxanne_tenant"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_BLOCK|NGX_CONF_TAKE1,
      ngx_http_voxanne_tenant_block,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_session_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_voxanne_session_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_voxanne_limit_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_db"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_voxanne_db,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_db_tenants"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_voxanne_db_tenants,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_spool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_voxanne_spool,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_redact"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_voxanne_main_conf_t, redact_on),
      NULL },

    { ngx_string("voxanne_health"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_voxanne_health,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_voxanne_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_voxanne_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_twilio"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_voxanne_twilio,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_vapi"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_voxanne_vapi,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_media_stream"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_voxanne_media_stream,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_realtime_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_voxanne_bridge_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("voxanne_realtime_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voxanne_loc_conf_t, realtime_key_file),
      NULL },

    { ngx_string("voxanne_realtime_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voxanne_loc_conf_t, realtime_certificate),
      NULL },

    { ngx_string("voxanne_realtime_ssl_verify_depth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voxanne_loc_conf_t, realtime_verify_depth),
      NULL },

    { ngx_string("voxanne_realtime_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voxanne_loc_conf_t, realtime_connect_timeout),
      NULL },

    { ngx_string("voxanne_realtime_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voxanne_loc_conf_t, realtime_timeout),
      NULL },

    { ngx_string("voxanne_ws_max_message"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voxanne_loc_conf_t, ws_max_message),
      NULL },

    { ngx_string("voxanne_ws_idle_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voxanne_loc_conf_t, ws_idle_timeout),
      NULL },

    { ngx_string("voxanne_body_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_voxanne_loc_conf_t, body_max),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_voxanne_module_ctx = {
    ngx_http_voxanne_preconfiguration,     /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_voxanne_create_main_conf,     /* create main configuration */
    ngx_http_voxanne_init_main_conf,       /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_voxanne_create_loc_conf,      /* create location configuration */
    ngx_http_voxanne_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_voxanne_module = {
    NGX_MODULE_V1,
    &ngx_http_voxanne_module_ctx,          /* module context */
    ngx_http_voxanne_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_voxanne_init_module,          /* init module */
    ngx_http_voxanne_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_voxanne_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_voxanne_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_voxanne_twilio_variables(cf);
}


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
     *     vmcf->calls = NULL;
     *     vmcf->calls_name = { 0, NULL };
     *     vmcf->store = NULL;
     *     vmcf->redact = NULL;
     *     vmcf->dbt = NULL;
     */

    vmcf->calls_size = NGX_CONF_UNSET_SIZE;
    vmcf->stream_timeout = NGX_CONF_UNSET;
    vmcf->redact_on = NGX_CONF_UNSET;

    ngx_http_voxanne_db_create_conf(&vmcf->db);

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

    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (vmcf->calls_name.len == 0) {
        ngx_str_set(&vmcf->calls_name, "voxanne_sessions");
    }

    ngx_conf_init_size_value(vmcf->calls_size, 1024 * 1024);
    ngx_conf_init_value(vmcf->stream_timeout, 30);

    ngx_http_voxanne_db_init_conf(&vmcf->db);

    if (ngx_http_voxanne_store_init_conf(cf, vmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if ((vmcf->tenants.nelts || vmcf->dbt)
        && ngx_http_voxanne_calls_zone(cf, vmcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The session table every worker shares, kept across reloads; a reload may
 * not resize it, as nginx would then start an empty one under live calls.
 */

static ngx_int_t
ngx_http_voxanne_calls_zone(ngx_conf_t *cf,
    ngx_http_voxanne_main_conf_t *vmcf)
{
    ngx_uint_t                     i;
    ngx_list_part_t               *part;
    ngx_shm_zone_t                *shm;
    ngx_http_voxanne_calls_ctx_t  *ctx;

    if (!ngx_is_init_cycle(cf->cycle->old_cycle)) {

        part = &cf->cycle->old_cycle->shared_memory.part;
        shm = part->elts;

        for (i = 0; /* void */ ; i++) {

            if (i >= part->nelts) {
                if (part->next == NULL) {
                    break;
                }

                part = part->next;
                shm = part->elts;
                i = 0;
            }

            if (shm[i].tag == &ngx_http_voxanne_module
                && shm[i].init == ngx_http_voxanne_calls_init_zone
                && shm[i].shm.name.len == vmcf->calls_name.len
                && ngx_strncmp(shm[i].shm.name.data, vmcf->calls_name.data,
                               vmcf->calls_name.len) == 0
                && shm[i].shm.size != vmcf->calls_size)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "voxanne_session_zone \"%V\" cannot change "
                                   "its size on reload, live calls would be "
                                   "lost: restart nginx to resize it",
                                   &vmcf->calls_name);
                return NGX_ERROR;
            }
        }
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_voxanne_calls_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->ttl = vmcf->stream_timeout;

    vmcf->calls = ngx_shared_memory_add(cf, &vmcf->calls_name,
                                        vmcf->calls_size,
                                        &ngx_http_voxanne_module);
    if (vmcf->calls == NULL) {
        return NGX_ERROR;
    }

    if (vmcf->calls->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared zone \"%V\" is a voxanne_limit_zone, not "
                           "the session table", &vmcf->calls_name);
        return NGX_ERROR;
    }

    vmcf->calls->init = ngx_http_voxanne_calls_init_zone;
    vmcf->calls->data = ctx;

    return NGX_OK;
}


static void *
ngx_http_voxanne_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_voxanne_loc_conf_t  *vlcf;

    vlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_voxanne_loc_conf_t));
    if (vlcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     vlcf->route = NGX_HTTP_VOXANNE_ROUTE_NONE;
     *     vlcf->tenant_name = { 0, NULL };
     *     vlcf->tenant = NULL;
     *     vlcf->clcf = NULL;
     *     vlcf->realtime_url = NULL;
     *     vlcf->realtime = NULL;
     *     vlcf->realtime_key_file = { 0, NULL };
     *     vlcf->realtime_certificate = { 0, NULL };
     *     vlcf->media = 0;
     */

    vlcf->body_max = NGX_CONF_UNSET_SIZE;
    vlcf->ws_max_message = NGX_CONF_UNSET_SIZE;
    vlcf->ws_idle_timeout = NGX_CONF_UNSET_MSEC;
    vlcf->realtime_verify_depth = NGX_CONF_UNSET;
    vlcf->realtime_connect_timeout = NGX_CONF_UNSET_MSEC;
    vlcf->realtime_timeout = NGX_CONF_UNSET_MSEC;

    return vlcf;
}


static char *
ngx_http_voxanne_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_voxanne_loc_conf_t *prev = parent;
    ngx_http_voxanne_loc_conf_t *conf = child;

    char  *rv;

    ngx_conf_merge_size_value(conf->ws_max_message, prev->ws_max_message,
                              64 * 1024);
    ngx_conf_merge_msec_value(conf->ws_idle_timeout, prev->ws_idle_timeout,
                              15000);

    rv = ngx_http_voxanne_bridge_merge(cf, prev, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return ngx_http_voxanne_twilio_merge(cf, prev, conf);
}


/* voxanne_health [live]; */

static char *
ngx_http_voxanne_health(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_voxanne_health_handler
        || clcf->handler == ngx_http_voxanne_health_live_handler)
    {
        return "is duplicate";
    }

    if (clcf->handler != NULL) {
        return "conflicts with another content handler in this location";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 1) {
        clcf->handler = ngx_http_voxanne_health_handler;

    } else if (ngx_strcmp(value[1].data, "live") == 0) {
        clcf->handler = ngx_http_voxanne_health_live_handler;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\", \"live\" or none is "
                           "expected", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_voxanne_init_module(ngx_cycle_t *cycle)
{
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_voxanne_module);

    if (vmcf == NULL) {
        return NGX_OK;
    }

    return ngx_http_voxanne_spool_init_module(cycle, &vmcf->spool);
}


static ngx_int_t
ngx_http_voxanne_init_process(ngx_cycle_t *cycle)
{
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_voxanne_module);

    if (vmcf == NULL) {
        return NGX_OK;
    }

    if (ngx_http_voxanne_db_init_process(cycle, &vmcf->db) != NGX_OK
        || ngx_http_voxanne_dbt_init_process(cycle, vmcf->dbt) != NGX_OK
        || ngx_http_voxanne_spool_init_process(cycle, &vmcf->spool) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_voxanne_store_init_process(cycle, vmcf);
}


static void
ngx_http_voxanne_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_voxanne_module);

    if (vmcf == NULL) {
        return;
    }

    /* writes the pool still holds go to the spool, then to the disk */

    ngx_http_voxanne_store_exit_process(vmcf);
    ngx_http_voxanne_db_exit_process(&vmcf->db);
    ngx_http_voxanne_spool_exit_process(&vmcf->spool);
}
