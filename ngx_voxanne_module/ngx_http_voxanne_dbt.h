
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_DBT_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_DBT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * Tenants kept in PostgreSQL (voxanne_db_tenants): one worker at a time
 * reads voxanne_db_tenants() and each tenant's sealed Twilio auth tokens
 * through the pool, opens the tokens, and publishes the tenants that hold
 * as a snapshot with a generation number in a shared zone; every worker
 * builds its own tenants from the snapshot when the generation changed.
 * Tenants of nginx.conf are looked up first and win on conflict.
 */


typedef struct {
    const char                 *state;       /* "ok", "down", "loading" */
    ngx_uint_t                  generation;
    ngx_uint_t                  tenants;
    ngx_uint_t                  refused;
    ngx_uint_t                  failures;    /* refreshes failed in a row */
    time_t                      refreshed;   /* the last that succeeded */
} ngx_http_voxanne_dbt_stats_t;


char *ngx_http_voxanne_db_tenants(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_voxanne_dbt_init_process(ngx_cycle_t *cycle,
    ngx_http_voxanne_dbt_t *dbt);
void ngx_http_voxanne_dbt_stats(ngx_http_voxanne_dbt_t *dbt,
    ngx_http_voxanne_dbt_stats_t *st);

ngx_http_voxanne_tenant_t *ngx_http_voxanne_tenant_by_number(
    ngx_http_request_t *r, ngx_str_t *number);
ngx_http_voxanne_tenant_t *ngx_http_voxanne_tenant_by_name(
    ngx_http_request_t *r, ngx_str_t *name);


#endif /* _NGX_HTTP_VOXANNE_DBT_H_INCLUDED_ */
