
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


static ngx_http_voxanne_call_t *ngx_http_voxanne_calls_find(
    ngx_http_voxanne_calls_ctx_t *ctx, ngx_str_t *tenant, ngx_str_t *sid);
static ngx_http_voxanne_calls_tenant_t *ngx_http_voxanne_calls_tenant(
    ngx_http_voxanne_calls_ctx_t *ctx, ngx_str_t *name);
static void ngx_http_voxanne_calls_release(ngx_http_voxanne_calls_ctx_t *ctx,
    ngx_http_voxanne_call_t *call);
static u_char *ngx_http_voxanne_calls_party(u_char *dst, u_char *src,
    size_t len);
static void ngx_http_voxanne_calls_expire(ngx_http_voxanne_calls_ctx_t *ctx);
static void ngx_http_voxanne_calls_expire_queue(
    ngx_http_voxanne_calls_ctx_t *ctx, ngx_queue_t *queue, time_t now);


ngx_str_t  ngx_http_voxanne_call_statuses[] = {
    ngx_string("queued"),
    ngx_string("initiated"),
    ngx_string("ringing"),
    ngx_string("in-progress"),
    ngx_string("completed"),
    ngx_string("busy"),
    ngx_string("failed"),
    ngx_string("no-answer"),
    ngx_string("canceled"),
    ngx_null_string
};


/*
 * The order a call moves through: an update to a lower rank is a callback
 * that arrived late, and the call never moves back.
 */

static ngx_uint_t  ngx_http_voxanne_call_ranks[] = {
    0,  /* queued */
    0,  /* initiated */
    1,  /* ringing */
    2,  /* in-progress */
    3,  /* completed */
    3,  /* busy */
    3,  /* failed */
    3,  /* no-answer */
    3   /* canceled */
};

#define NGX_HTTP_VOXANNE_CALL_FINAL  3


/* voxanne_session_zone zone=name:size [timeout=time] */

char *
ngx_http_voxanne_session_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voxanne_main_conf_t *vmcf = conf;

    u_char     *p;
    ssize_t     size;
    ngx_str_t  *value, s, n;
    ngx_uint_t  i;

    if (vmcf->calls_name.len) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0
            && vmcf->calls_name.len == 0)
        {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            p = ngx_strlchr(s.data, s.data + s.len, ':');

            if (p == NULL || p == s.data) {
                goto invalid;
            }

            s.len = p - s.data;

            n.data = p + 1;
            n.len = value[i].data + value[i].len - n.data;

            size = ngx_parse_size(&n);

            if (size == NGX_ERROR) {
                goto invalid;
            }

            if ((size_t) size < 8 * ngx_pagesize) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zone \"%V\" is too small, at least %uz "
                                   "bytes are needed", &s, 8 * ngx_pagesize);
                return NGX_CONF_ERROR;
            }

            vmcf->calls_name = s;
            vmcf->calls_size = size;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0
            && vmcf->stream_timeout == NGX_CONF_UNSET)
        {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            vmcf->stream_timeout = ngx_parse_time(&s, 1);

            if (vmcf->stream_timeout == (time_t) NGX_ERROR
                || vmcf->stream_timeout < 1)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid timeout \"%V\", at least 1s is "
                                   "expected", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        goto invalid;
    }

    if (vmcf->calls_name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone=name:size\"",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       &value[i]);

    return NGX_CONF_ERROR;
}


ngx_int_t
ngx_http_voxanne_calls_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_voxanne_calls_ctx_t  *octx = data;

    size_t                         len;
    ngx_http_voxanne_calls_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;

        return NGX_OK;
    }

    ctx->sh = ngx_slab_calloc(ctx->shpool, sizeof(ngx_http_voxanne_calls_sh_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    ngx_rbtree_init(&ctx->sh->calls, &ctx->sh->calls_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_rbtree_init(&ctx->sh->tenants, &ctx->sh->tenants_sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&ctx->sh->queue);
    ngx_queue_init(&ctx->sh->live);

    len = sizeof(" in voxanne calls zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in voxanne calls zone \"%V\"%Z",
                &shm_zone->shm.name);

    ctx->shpool->log_nomem = 0;

    return NGX_OK;
}


ngx_int_t
ngx_http_voxanne_calls_status_parse(ngx_str_t *s)
{
    ngx_str_t  *st;

    for (st = ngx_http_voxanne_call_statuses; st->len; st++) {
        if (st->len == s->len && ngx_strncmp(st->data, s->data, s->len) == 0) {
            return st - ngx_http_voxanne_call_statuses;
        }
    }

    return NGX_ERROR;
}


/*
 * Registers a call that the voice webhook answers.  NGX_OK: a new call
 * holding one of the tenant's slots; NGX_DECLINED: Twilio retried the
 * webhook of a call already known; NGX_BUSY: the tenant is at max (0 is no
 * limit); NGX_ERROR: the zone is full or the CallSid is another tenant's.
 */

ngx_int_t
ngx_http_voxanne_calls_start(ngx_shm_zone_t *shm_zone, ngx_str_t *tenant,
    ngx_uint_t max, ngx_str_t *sid, ngx_str_t *parties, ngx_uint_t status,
    ngx_log_t *log)
{
    u_char                           *p;
    size_t                            from, to;
    ngx_int_t                         rc;
    ngx_http_voxanne_call_t          *call;
    ngx_http_voxanne_calls_ctx_t     *ctx;
    ngx_http_voxanne_calls_tenant_t  *t;

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    ngx_http_voxanne_calls_expire(ctx);

    call = (ngx_http_voxanne_call_t *)
               ngx_str_rbtree_lookup(&ctx->sh->calls, sid,
                                     ngx_crc32_short(sid->data, sid->len));

    if (call) {
        if (call->tenant->sn.str.len == tenant->len
            && ngx_strncmp(call->tenant->sn.str.data, tenant->data,
                           tenant->len) == 0)
        {
            rc = NGX_DECLINED;

        } else {
            ngx_log_error(NGX_LOG_ERR, log, 0,
                          "voxanne: call %V of tenant \"%V\" is already "
                          "registered to another tenant", sid, tenant);
            rc = NGX_ERROR;
        }

        goto done;
    }

    t = ngx_http_voxanne_calls_tenant(ctx, tenant);
    if (t == NULL) {
        rc = NGX_ERROR;
        goto done;
    }

    if (max && t->active >= max) {
        rc = NGX_BUSY;
        goto done;
    }

    from = ngx_min(parties[0].len, NGX_HTTP_VOXANNE_PARTY_MAX);
    to = ngx_min(parties[1].len, NGX_HTTP_VOXANNE_PARTY_MAX);

    call = ngx_slab_alloc_locked(ctx->shpool,
                                 offsetof(ngx_http_voxanne_call_t, data)
                                 + sid->len + from + to);
    if (call == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "voxanne: no memory for call %V in calls zone \"%V\"",
                      sid, &shm_zone->shm.name);
        rc = NGX_ERROR;
        goto done;
    }

    ngx_memzero(call, offsetof(ngx_http_voxanne_call_t, data));

    p = ngx_cpymem(call->data, sid->data, sid->len);

    call->from.data = p;
    call->from.len = from;
    p = ngx_http_voxanne_calls_party(p, parties[0].data, from);

    call->to.data = p;
    call->to.len = to;
    (void) ngx_http_voxanne_calls_party(p, parties[1].data, to);

    call->sn.node.key = ngx_crc32_short(sid->data, sid->len);
    call->sn.str.data = call->data;
    call->sn.str.len = sid->len;
    call->expires = ngx_time() + ctx->ttl;
    call->seq = -1;
    call->status = status;
    call->active = 1;
    call->tenant = t;
    call->started = ngx_time();

    ngx_rbtree_insert(&ctx->sh->calls, &call->sn.node);
    ngx_queue_insert_head(&ctx->sh->queue, &call->queue);

    t->active++;

    rc = NGX_OK;

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * A status callback.  NGX_OK: applied, *prev is the status before;
 * NGX_DECLINED: late or repeated (an older SequenceNumber or a lower rank),
 * the call is left as it is; NGX_ABORT: no such call of this tenant.
 * A final status releases the call's slot.
 */

ngx_int_t
ngx_http_voxanne_calls_status(ngx_shm_zone_t *shm_zone, ngx_str_t *tenant,
    ngx_str_t *sid, ngx_uint_t status, ngx_int_t seq, ngx_uint_t *prev)
{
    ngx_int_t                      rc;
    ngx_uint_t                     rank, old;
    ngx_http_voxanne_call_t       *call;
    ngx_http_voxanne_calls_ctx_t  *ctx;

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    ngx_http_voxanne_calls_expire(ctx);

    call = ngx_http_voxanne_calls_find(ctx, tenant, sid);

    if (call == NULL) {
        rc = NGX_ABORT;
        goto done;
    }

    *prev = call->status;

    rank = ngx_http_voxanne_call_ranks[status];
    old = ngx_http_voxanne_call_ranks[call->status];

    if ((seq >= 0 && seq <= call->seq) || rank < old
        || (rank == old && (status == call->status
                            || rank == NGX_HTTP_VOXANNE_CALL_FINAL)))
    {
        rc = NGX_DECLINED;
        goto done;
    }

    if (seq >= 0) {
        call->seq = seq;
    }

    call->status = status;

    if (rank == NGX_HTTP_VOXANNE_CALL_FINAL) {
        ngx_http_voxanne_calls_release(ctx, call);
    }

    rc = NGX_OK;

done:

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * The media stream of a call has ended, and failed (a broken stream, a
 * refused start) or not; failed < 0 only reads how it ended.  The line is
 * given back.  NGX_OK, NGX_DECLINED when it was given back already,
 * NGX_ABORT when the call is not known; *ended says whether its stream
 * failed.
 */

ngx_int_t
ngx_http_voxanne_calls_end(ngx_shm_zone_t *shm_zone, ngx_str_t *tenant,
    ngx_str_t *sid, ngx_int_t failed, ngx_uint_t *ended)
{
    ngx_int_t                      rc;
    ngx_http_voxanne_call_t       *call;
    ngx_http_voxanne_calls_ctx_t  *ctx;

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    ngx_http_voxanne_calls_expire(ctx);

    call = ngx_http_voxanne_calls_find(ctx, tenant, sid);

    if (call == NULL) {
        *ended = 0;
        rc = NGX_ABORT;

    } else {
        if (failed >= 0) {
            call->failed = failed;
        }

        *ended = call->failed;

        if (call->active) {
            ngx_http_voxanne_calls_release(ctx, call);
            rc = NGX_OK;

        } else {
            rc = NGX_DECLINED;
        }
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * The agent transfers the call: its stream closes normally, and the
 * stream-ended route, in whichever worker Twilio reaches, reads the number
 * to dial from here.  NGX_OK, NGX_ABORT when the call is not known.
 */

ngx_int_t
ngx_http_voxanne_calls_transfer(ngx_shm_zone_t *shm_zone, ngx_str_t *tenant,
    ngx_str_t *sid, ngx_str_t *number)
{
    ngx_int_t                      rc;
    ngx_http_voxanne_call_t       *call;
    ngx_http_voxanne_calls_ctx_t  *ctx;

    if (number->len > NGX_HTTP_VOXANNE_PARTY_MAX) {
        return NGX_ABORT;
    }

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    call = ngx_http_voxanne_calls_find(ctx, tenant, sid);

    if (call == NULL) {
        rc = NGX_ABORT;

    } else {
        ngx_memcpy(call->transfer, number->data, number->len);
        call->transfer_len = number->len;
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * A number of the call's record, copied (at most NGX_HTTP_VOXANNE_PARTY_MAX):
 * the caller's (From), or the one it is transferred to; 0 when it has none
 */

size_t
ngx_http_voxanne_calls_number(ngx_shm_zone_t *shm_zone, ngx_str_t *tenant,
    ngx_str_t *sid, ngx_uint_t transfer, u_char *number)
{
    ngx_str_t                      s;
    ngx_http_voxanne_call_t       *call;
    ngx_http_voxanne_calls_ctx_t  *ctx;

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    call = ngx_http_voxanne_calls_find(ctx, tenant, sid);

    if (call == NULL) {
        s.len = 0;

    } else if (transfer) {
        s.len = call->transfer_len;
        s.data = call->transfer;

    } else {
        s = call->from;
    }

    if (s.len) {
        ngx_memcpy(number, s.data, s.len);
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return s.len;
}


/*
 * The call's media stream has started: it keeps its line until the stream
 * ends, or for NGX_HTTP_VOXANNE_CALL_MAX at most, the longest call Twilio
 * connects.  NGX_OK, NGX_DECLINED when it has ended already, NGX_ABORT when
 * the call is not known (never answered, or its line expired).
 */

ngx_int_t
ngx_http_voxanne_calls_stream(ngx_shm_zone_t *shm_zone, ngx_str_t *tenant,
    ngx_str_t *sid, ngx_str_t *stream)
{
    ngx_int_t                      rc;
    ngx_http_voxanne_call_t       *call;
    ngx_http_voxanne_calls_ctx_t  *ctx;

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    ngx_http_voxanne_calls_expire(ctx);

    call = ngx_http_voxanne_calls_find(ctx, tenant, sid);

    if (call == NULL) {
        rc = NGX_ABORT;

    } else if (!call->active) {
        rc = NGX_DECLINED;

    } else {
        if (!call->live) {
            call->live = 1;
            call->pid = ngx_pid;
            call->reported = ngx_time();
            call->expires = call->reported + NGX_HTTP_VOXANNE_CALL_MAX;

            call->stream_len = ngx_min(stream->len, NGX_HTTP_VOXANNE_SID_MAX);
            ngx_memcpy(call->stream, stream->data, call->stream_len);

            ngx_queue_remove(&call->queue);
            ngx_queue_insert_head(&ctx->sh->live, &call->queue);
        }

        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/*
 * A live stream's worker reports what it carried, about once a second and
 * at its end.  NGX_OK, or NGX_ABORT when the call is no longer known.
 */

ngx_int_t
ngx_http_voxanne_calls_report(ngx_shm_zone_t *shm_zone, ngx_str_t *tenant,
    ngx_str_t *sid, ngx_http_voxanne_call_stats_t *stats)
{
    ngx_int_t                      rc;
    ngx_http_voxanne_call_t       *call;
    ngx_http_voxanne_calls_ctx_t  *ctx;

    ctx = shm_zone->data;

    ngx_shmtx_lock(&ctx->shpool->mutex);

    call = ngx_http_voxanne_calls_find(ctx, tenant, sid);

    if (call == NULL) {
        rc = NGX_ABORT;

    } else {
        call->stats = *stats;
        call->reported = ngx_time();
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    return rc;
}


/* the voice webhook's decisions, ngx_http_voxanne_outcome_e */

char  *ngx_http_voxanne_call_outcomes[] = {
    "connected", "after_hours", "busy", "limited", "fallback"
};


/* the closes the metrics count; the last entry stands for any other */

ngx_uint_t  ngx_http_voxanne_ws_close_codes[] = {
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1011, 0
};


/*
 * A webhook answered: per tenant, per route and result, and its outcome.
 * A tenant's counters never move in the zone, so each worker finds them
 * once (*node caches them) and then counts without the lock.
 */

void
ngx_http_voxanne_calls_webhook(ngx_shm_zone_t *shm_zone, ngx_str_t *tenant,
    void **node, ngx_uint_t route, ngx_uint_t result, ngx_int_t outcome)
{
    ngx_http_voxanne_calls_ctx_t     *ctx;
    ngx_http_voxanne_calls_tenant_t  *t;

    t = *node;

    if (t == NULL) {
        ctx = shm_zone->data;

        ngx_shmtx_lock(&ctx->shpool->mutex);
        t = ngx_http_voxanne_calls_tenant(ctx, tenant);
        ngx_shmtx_unlock(&ctx->shpool->mutex);

        if (t == NULL) {
            return;
        }

        *node = t;
    }

    (void) ngx_atomic_fetch_add(&t->webhooks[route][result], 1);

    if (outcome >= 0) {
        (void) ngx_atomic_fetch_add(&t->outcomes[outcome], 1);
    }
}


void
ngx_http_voxanne_calls_count(ngx_shm_zone_t *shm_zone, ngx_uint_t counter,
    ngx_uint_t n)
{
    ngx_http_voxanne_calls_ctx_t  *ctx;

    ctx = shm_zone->data;

    (void) ngx_atomic_fetch_add(&ctx->sh->counters[counter], n);
}


void
ngx_http_voxanne_calls_close(ngx_shm_zone_t *shm_zone, ngx_uint_t code)
{
    ngx_uint_t  i;

    for (i = 0; ngx_http_voxanne_ws_close_codes[i]; i++) {
        if (ngx_http_voxanne_ws_close_codes[i] == code) {
            break;
        }
    }

    ngx_http_voxanne_calls_count(shm_zone, NGX_HTTP_VOXANNE_CLOSE_CODES + i,
                                 1);
}


static ngx_http_voxanne_call_t *
ngx_http_voxanne_calls_find(ngx_http_voxanne_calls_ctx_t *ctx,
    ngx_str_t *tenant, ngx_str_t *sid)
{
    ngx_str_t                *name;
    ngx_http_voxanne_call_t  *call;

    call = (ngx_http_voxanne_call_t *)
               ngx_str_rbtree_lookup(&ctx->sh->calls, sid,
                                     ngx_crc32_short(sid->data, sid->len));

    if (call == NULL) {
        return NULL;
    }

    /* a tenant never sees another tenant's calls */

    name = &call->tenant->sn.str;

    if (name->len != tenant->len
        || ngx_strncmp(name->data, tenant->data, tenant->len) != 0)
    {
        return NULL;
    }

    return call;
}


static ngx_http_voxanne_calls_tenant_t *
ngx_http_voxanne_calls_tenant(ngx_http_voxanne_calls_ctx_t *ctx,
    ngx_str_t *name)
{
    uint32_t                          hash;
    ngx_http_voxanne_calls_tenant_t  *t;

    hash = ngx_crc32_short(name->data, name->len);

    t = (ngx_http_voxanne_calls_tenant_t *)
            ngx_str_rbtree_lookup(&ctx->sh->tenants, name, hash);

    if (t) {
        return t;
    }

    t = ngx_slab_alloc_locked(ctx->shpool,
                              offsetof(ngx_http_voxanne_calls_tenant_t, data)
                              + name->len);
    if (t == NULL) {
        return NULL;
    }

    ngx_memzero(t, offsetof(ngx_http_voxanne_calls_tenant_t, data));
    ngx_memcpy(t->data, name->data, name->len);

    t->sn.node.key = hash;
    t->sn.str.data = t->data;
    t->sn.str.len = name->len;

    ngx_rbtree_insert(&ctx->sh->tenants, &t->sn.node);

    return t;
}


/*
 * From and To as the status page shows them: Twilio sends E.164 numbers,
 * "anonymous", client: and sip: names; anything a JSON string would have
 * to escape becomes '?'.
 */

static u_char *
ngx_http_voxanne_calls_party(u_char *dst, u_char *src, size_t len)
{
    while (len--) {
        *dst++ = (*src < 0x20 || *src >= 0x7f || *src == '"' || *src == '\\')
                 ? '?' : *src;
        src++;
    }

    return dst;
}


/*
 * The call no longer holds a slot; its record stays for one more ttl, so
 * that callbacks arriving late are recognised as late.
 */

static void
ngx_http_voxanne_calls_release(ngx_http_voxanne_calls_ctx_t *ctx,
    ngx_http_voxanne_call_t *call)
{
    if (call->active) {
        call->active = 0;
        call->tenant->active--;
    }

    call->live = 0;
    call->expires = ngx_time() + ctx->ttl;

    ngx_queue_remove(&call->queue);
    ngx_queue_insert_head(&ctx->sh->queue, &call->queue);
}


/*
 * In each queue a record's expiry is its last move to the head plus the
 * same time (ttl, or the longest call for live ones), so each queue is in
 * expiry order and the expired records are at its tail.  A call whose
 * stream never arrived gives its line back here.
 */

static void
ngx_http_voxanne_calls_expire(ngx_http_voxanne_calls_ctx_t *ctx)
{
    time_t  now;

    now = ngx_time();

    ngx_http_voxanne_calls_expire_queue(ctx, &ctx->sh->queue, now);
    ngx_http_voxanne_calls_expire_queue(ctx, &ctx->sh->live, now);
}


static void
ngx_http_voxanne_calls_expire_queue(ngx_http_voxanne_calls_ctx_t *ctx,
    ngx_queue_t *queue, time_t now)
{
    ngx_queue_t              *q;
    ngx_http_voxanne_call_t  *call;

    while (!ngx_queue_empty(queue)) {

        q = ngx_queue_last(queue);
        call = ngx_queue_data(q, ngx_http_voxanne_call_t, queue);

        if (call->expires >= now) {
            return;
        }

        if (call->active) {
            call->tenant->active--;

            /* rare, and short: logged under the lock, as the slab does */

            ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                          "voxanne: call %V tenant \"%V\": %s, line "
                          "released", &call->sn.str, &call->tenant->sn.str,
                          call->live ? "its stream did not end within the "
                                       "longest call"
                                     : "no stream within the session timeout");
        }

        ngx_queue_remove(q);
        ngx_rbtree_delete(&ctx->sh->calls, &call->sn.node);
        ngx_slab_free_locked(ctx->shpool, call);
    }
}
