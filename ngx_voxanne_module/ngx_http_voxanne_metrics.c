
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


/*
 * voxanne_status: the live calls as JSON; voxanne_metrics: Prometheus text.
 * Both read the shared call table under its lock, into one buffer sized
 * while the lock is held, so a page is one consistent picture.
 */


#define NGX_HTTP_VOXANNE_METRICS_TENANT  2048   /* the lines of one tenant */
#define NGX_HTTP_VOXANNE_METRICS_EDGE    4096
#define NGX_HTTP_VOXANNE_STATUS_CALL     1024


static ngx_int_t ngx_http_voxanne_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_voxanne_metrics_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_voxanne_metrics_send(ngx_http_request_t *r,
    ngx_buf_t *b, char *type);
static ngx_uint_t ngx_http_voxanne_metrics_nodes(ngx_rbtree_t *tree);
static char *ngx_http_voxanne_status_state(ngx_http_voxanne_call_t *call);


static char  *ngx_http_voxanne_routes[] = {
    "", "voice", "stream-ended", "status", "recording", "vapi"
};

static char  *ngx_http_voxanne_results[] = {
    "ok", "forbidden", "invalid"
};


char *
ngx_http_voxanne_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;
    ngx_http_handler_pt        handler;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    handler = (cmd->name.len == sizeof("voxanne_status") - 1)
              ? ngx_http_voxanne_status_handler
              : ngx_http_voxanne_metrics_handler;

    if (clcf->handler == handler) {
        return "is duplicate";
    }

    if (clcf->handler != NULL) {
        return "conflicts with another content handler in this location";
    }

    clcf->handler = handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_voxanne_status_handler(ngx_http_request_t *r)
{
    u_char                           *p;
    size_t                            size;
    time_t                            now;
    ngx_buf_t                        *b;
    ngx_uint_t                        active, live, n;
    ngx_rbtree_node_t                *node, *root, *sentinel;
    ngx_http_voxanne_call_t          *call;
    ngx_http_voxanne_calls_ctx_t     *ctx;
    ngx_http_voxanne_call_stats_t    *stats;
    ngx_http_voxanne_main_conf_t     *vmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    if (vmcf->calls == NULL) {
        b = ngx_create_temp_buf(r->pool, 64);
        if (b == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        b->last = ngx_cpymem(b->last, "{\"active\":0,\"streaming\":0,"
                             "\"calls\":[]}\n",
                             sizeof("{\"active\":0,\"streaming\":0,"
                                    "\"calls\":[]}\n") - 1);

        return ngx_http_voxanne_metrics_send(r, b, "application/json");
    }

    ctx = vmcf->calls->data;
    now = ngx_time();

    ngx_shmtx_lock(&ctx->shpool->mutex);

    n = ngx_http_voxanne_metrics_nodes(&ctx->sh->calls);
    size = 64 + n * NGX_HTTP_VOXANNE_STATUS_CALL;

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(b->last, "{\"calls\":[", sizeof("{\"calls\":[") - 1);

    active = 0;
    live = 0;

    root = ctx->sh->calls.root;
    sentinel = ctx->sh->calls.sentinel;

    if (root != sentinel) {
        for (node = ngx_rbtree_min(root, sentinel);
             node;
             node = ngx_rbtree_next(&ctx->sh->calls, node))
        {
            call = (ngx_http_voxanne_call_t *) node;

            active += call->active;
            live += call->live;

            p = ngx_sprintf(p, "%s{\"call_sid\":\"%V\",\"tenant\":\"%V\","
                               "\"from\":\"%V\",\"to\":\"%V\","
                               "\"state\":\"%s\",\"status\":\"%V\","
                               "\"line\":%s,\"streaming\":%s,\"age\":%T",
                            p[-1] == '[' ? "" : ",",
                            &call->sn.str, &call->tenant->sn.str,
                            &call->from, &call->to,
                            ngx_http_voxanne_status_state(call),
                            &ngx_http_voxanne_call_statuses[call->status],
                            call->active ? "true" : "false",
                            call->live ? "true" : "false",
                            now - call->started);

            if (call->pid) {
                stats = &call->stats;

                p = ngx_sprintf(p, ",\"stream_sid\":\"%*s\",\"pid\":%P,"
                                   "\"failed\":%s,\"idle\":%T,"
                                   "\"frames_in\":%ui,\"frames_out\":%ui,"
                                   "\"bytes_in\":%ui,\"bytes_out\":%ui,"
                                   "\"media\":%ui,\"marks\":%ui,"
                                   "\"marks_played\":%ui",
                                call->stream_len, call->stream, call->pid,
                                call->failed ? "true" : "false",
                                now - call->reported, stats->frames_in,
                                stats->frames_out, stats->bytes_in,
                                stats->bytes_out, stats->media, stats->marks,
                                stats->played);
            }

            *p++ = '}';
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    b->last = ngx_sprintf(p, "],\"active\":%ui,\"streaming\":%ui}\n",
                          active, live);

    return ngx_http_voxanne_metrics_send(r, b, "application/json");
}


/*
 * ringing: the webhook has answered and the line is held for the stream;
 * streaming; ended: the record stays a while for late callbacks.
 */

static char *
ngx_http_voxanne_status_state(ngx_http_voxanne_call_t *call)
{
    if (call->live) {
        return "streaming";
    }

    return call->active ? "ringing" : "ended";
}


static ngx_int_t
ngx_http_voxanne_metrics_handler(ngx_http_request_t *r)
{
    u_char                           *p;
    size_t                            size, used;
    ngx_buf_t                        *b;
    ngx_uint_t                        i, j;
    ngx_rbtree_node_t                *node, *root, *sentinel;
    ngx_http_voxanne_calls_ctx_t     *ctx;
    ngx_http_voxanne_main_conf_t     *vmcf;
    ngx_http_voxanne_calls_tenant_t  *t;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    if (vmcf->calls == NULL) {
        return ngx_http_voxanne_metrics_send(r, ngx_calloc_buf(r->pool),
                                             "text/plain; version=0.0.4");
    }

    ctx = vmcf->calls->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    size = NGX_HTTP_VOXANNE_METRICS_EDGE
           + ngx_http_voxanne_metrics_nodes(&ctx->sh->tenants)
             * NGX_HTTP_VOXANNE_METRICS_TENANT;

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        ngx_shmtx_unlock(&ctx->shpool->mutex);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;

    root = ctx->sh->tenants.root;
    sentinel = ctx->sh->tenants.sentinel;
    node = (root == sentinel) ? NULL : ngx_rbtree_min(root, sentinel);

    p = ngx_cpymem(p, "# TYPE voxanne_calls_active gauge\n",
                   sizeof("# TYPE voxanne_calls_active gauge\n") - 1);

    for ( /* void */ ; node; node = ngx_rbtree_next(&ctx->sh->tenants, node)) {
        t = (ngx_http_voxanne_calls_tenant_t *) node;

        p = ngx_sprintf(p, "voxanne_calls_active{tenant=\"%V\"} %ui\n",
                        &t->sn.str, t->active);
    }

    p = ngx_cpymem(p, "# TYPE voxanne_calls_total counter\n",
                   sizeof("# TYPE voxanne_calls_total counter\n") - 1);

    node = (root == sentinel) ? NULL : ngx_rbtree_min(root, sentinel);

    for ( /* void */ ; node; node = ngx_rbtree_next(&ctx->sh->tenants, node)) {
        t = (ngx_http_voxanne_calls_tenant_t *) node;

        for (i = 0; i < NGX_HTTP_VOXANNE_OUTCOMES; i++) {
            p = ngx_sprintf(p, "voxanne_calls_total{tenant=\"%V\","
                               "outcome=\"%s\"} %uA\n",
                            &t->sn.str, ngx_http_voxanne_call_outcomes[i],
                            t->outcomes[i]);
        }
    }

    p = ngx_cpymem(p, "# TYPE voxanne_webhook_requests_total counter\n",
                   sizeof("# TYPE voxanne_webhook_requests_total counter\n")
                   - 1);

    node = (root == sentinel) ? NULL : ngx_rbtree_min(root, sentinel);

    for ( /* void */ ; node; node = ngx_rbtree_next(&ctx->sh->tenants, node)) {
        t = (ngx_http_voxanne_calls_tenant_t *) node;

        for (i = 1; i < NGX_HTTP_VOXANNE_ROUTES; i++) {
            for (j = 0; j < NGX_HTTP_VOXANNE_RESULTS; j++) {
                p = ngx_sprintf(p, "voxanne_webhook_requests_total{"
                                   "tenant=\"%V\",route=\"%s\","
                                   "result=\"%s\"} %uA\n",
                                &t->sn.str, ngx_http_voxanne_routes[i],
                                ngx_http_voxanne_results[j],
                                t->webhooks[i][j]);
            }
        }
    }

    used = (ctx->shpool->end - ctx->shpool->start)
           - ctx->shpool->pfree * ngx_pagesize;

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    p = ngx_sprintf(p, "# TYPE voxanne_signature_failures_total counter\n"
                       "voxanne_signature_failures_total %uA\n"
                       "# TYPE voxanne_rate_limited_total counter\n"
                       "voxanne_rate_limited_total %uA\n"
                       "# TYPE voxanne_unknown_numbers_total counter\n"
                       "voxanne_unknown_numbers_total %uA\n"
                       "# TYPE voxanne_ws_frames_total counter\n"
                       "voxanne_ws_frames_total{direction=\"in\"} %uA\n"
                       "voxanne_ws_frames_total{direction=\"out\"} %uA\n"
                       "# TYPE voxanne_store_writes_total counter\n"
                       "voxanne_store_writes_total{result=\"written\"} %uA\n"
                       "voxanne_store_writes_total{result=\"spooled\"} %uA\n"
                       "voxanne_store_writes_total{result=\"replayed\"} %uA\n"
                       "voxanne_store_writes_total{result=\"failed\"} %uA\n"
                       "voxanne_store_writes_total{result=\"lost\"} %uA\n"
                       "# TYPE voxanne_ws_close_total counter\n",
                    ctx->sh->counters[NGX_HTTP_VOXANNE_SIGNATURE_FAILURES],
                    ctx->sh->counters[NGX_HTTP_VOXANNE_RATE_LIMITED],
                    ctx->sh->counters[NGX_HTTP_VOXANNE_UNKNOWN_NUMBERS],
                    ctx->sh->counters[NGX_HTTP_VOXANNE_WS_FRAMES_IN],
                    ctx->sh->counters[NGX_HTTP_VOXANNE_WS_FRAMES_OUT],
                    ctx->sh->counters[NGX_HTTP_VOXANNE_STORE_WRITTEN],
                    ctx->sh->counters[NGX_HTTP_VOXANNE_STORE_SPOOLED],
                    ctx->sh->counters[NGX_HTTP_VOXANNE_STORE_REPLAYED],
                    ctx->sh->counters[NGX_HTTP_VOXANNE_STORE_FAILED],
                    ctx->sh->counters[NGX_HTTP_VOXANNE_STORE_LOST]);

    for (i = 0; ngx_http_voxanne_ws_close_codes[i]; i++) {
        p = ngx_sprintf(p, "voxanne_ws_close_total{code=\"%ui\"} %uA\n",
                        ngx_http_voxanne_ws_close_codes[i],
                        ctx->sh->counters[NGX_HTTP_VOXANNE_CLOSE_CODES + i]);
    }

    p = ngx_sprintf(p, "voxanne_ws_close_total{code=\"other\"} %uA\n"
                       "# TYPE voxanne_realtime_failures_total counter\n",
                    ctx->sh->counters[NGX_HTTP_VOXANNE_CLOSE_CODES + i]);

    for (i = 0; ngx_http_voxanne_bridge_causes[i].len; i++) {
        p = ngx_sprintf(p, "voxanne_realtime_failures_total{cause=\"%V\"} "
                           "%uA\n", &ngx_http_voxanne_bridge_causes[i],
                        ctx->sh->counters[NGX_HTTP_VOXANNE_RT_FAILURES + i]);
    }

    b->last = ngx_sprintf(p, "# TYPE voxanne_realtime_early_dropped_total "
                             "counter\n"
                             "voxanne_realtime_early_dropped_total %uA\n"
                             "# TYPE voxanne_realtime_recovered_errors_total "
                             "counter\n"
                             "voxanne_realtime_recovered_errors_total %uA\n"
                             "# TYPE voxanne_session_zone_bytes_used gauge\n"
                             "voxanne_session_zone_bytes_used %uz\n",
                          ctx->sh->counters[NGX_HTTP_VOXANNE_RT_DROPPED],
                          ctx->sh->counters[NGX_HTTP_VOXANNE_RT_RECOVERED],
                          used);

    return ngx_http_voxanne_metrics_send(r, b, "text/plain; version=0.0.4");
}


static ngx_int_t
ngx_http_voxanne_metrics_send(ngx_http_request_t *r, ngx_buf_t *b,
    char *type)
{
    ngx_int_t         rc;
    ngx_table_elt_t  *cc;

    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    cc = ngx_list_push(&r->headers_out.headers);
    if (cc == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cc->hash = 1;
    ngx_str_set(&cc->key, "Cache-Control");
    ngx_str_set(&cc->value, "no-store");

    return ngx_http_voxanne_body_send(r, NGX_HTTP_OK, type, b);
}


static ngx_uint_t
ngx_http_voxanne_metrics_nodes(ngx_rbtree_t *tree)
{
    ngx_uint_t          n;
    ngx_rbtree_node_t  *node;

    if (tree->root == tree->sentinel) {
        return 0;
    }

    n = 0;

    for (node = ngx_rbtree_min(tree->root, tree->sentinel);
         node;
         node = ngx_rbtree_next(tree, node))
    {
        n++;
    }

    return n;
}
