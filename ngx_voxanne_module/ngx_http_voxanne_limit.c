
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


#define NGX_HTTP_VOXANNE_LIMIT_MAX  1000000  /* rate and burst */


/*
 * One key of a zone: a tenant name, or a tenant name, "/" and a caller.
 * The node overlays ngx_rbtree_node_t from its color field on.
 */

typedef struct {
    u_char                           color;
    u_char                           len;
    ngx_queue_t                      queue;
    ngx_msec_t                       last;
    ngx_uint_t                       excess;    /* 1000 per request */
    ngx_uint_t                       rate;      /* of the last accounting */
    u_char                           data[1];
} ngx_http_voxanne_limit_node_t;


typedef struct {
    ngx_rbtree_t                     rbtree;
    ngx_rbtree_node_t                sentinel;
    ngx_queue_t                      queue;     /* the most recent first */
} ngx_http_voxanne_limit_shctx_t;


typedef struct {
    ngx_http_voxanne_limit_shctx_t  *sh;
    ngx_slab_pool_t                 *shpool;
} ngx_http_voxanne_limit_ctx_t;


static ngx_int_t ngx_http_voxanne_limit_lookup(
    ngx_http_voxanne_limit_ctx_t *ctx, ngx_http_voxanne_limit_t *limit,
    uint32_t hash, ngx_str_t *key, ngx_uint_t *ep);
static ngx_uint_t ngx_http_voxanne_limit_drain(ngx_uint_t excess,
    ngx_uint_t rate, ngx_msec_int_t ms);
static void ngx_http_voxanne_limit_expire(ngx_http_voxanne_limit_ctx_t *ctx,
    ngx_uint_t force);
static void ngx_http_voxanne_limit_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_voxanne_limit_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static char *ngx_http_voxanne_limit_error(ngx_conf_t *cf, const char *fmt,
    ngx_str_t *value);


/*
 * A leaky bucket per key, as limit_req: the excess grows by 1000 with each
 * request that passes and drains at the rate; a request that would take it
 * over the burst is limited, and leaves it as it was.  There is no delay:
 * the webhook is answered at once either way.
 */

ngx_int_t
ngx_http_voxanne_limit_account(ngx_http_voxanne_limit_t *limit,
    ngx_str_t *key, ngx_log_t *log)
{
    uint32_t                       hash;
    ngx_int_t                      rc;
    ngx_uint_t                     excess;
    ngx_http_voxanne_limit_ctx_t  *ctx;

    if (limit->shm_zone == NULL) {
        return NGX_OK;
    }

    if (key->len > NGX_HTTP_VOXANNE_LIMIT_KEY_MAX) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "voxanne limit key of %uz bytes is longer than %d "
                      "in zone \"%V\"", key->len,
                      NGX_HTTP_VOXANNE_LIMIT_KEY_MAX,
                      &limit->shm_zone->shm.name);
        return NGX_ERROR;
    }

    ctx = limit->shm_zone->data;

    hash = ngx_crc32_short(key->data, key->len);

    ngx_shmtx_lock(&ctx->shpool->mutex);

    rc = ngx_http_voxanne_limit_lookup(ctx, limit, hash, key, &excess);

    ngx_shmtx_unlock(&ctx->shpool->mutex);

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "could not allocate node in voxanne_limit_zone \"%V\"",
                      &limit->shm_zone->shm.name);
        return NGX_ERROR;
    }

    ngx_log_debug4(NGX_LOG_DEBUG_HTTP, log, 0,
                   "voxanne limit \"%V\": %i, excess: %ui.%03ui",
                   &limit->shm_zone->shm.name, rc,
                   excess / 1000, excess % 1000);

    return rc;
}


/* called with the zone locked */

static ngx_int_t
ngx_http_voxanne_limit_lookup(ngx_http_voxanne_limit_ctx_t *ctx,
    ngx_http_voxanne_limit_t *limit, uint32_t hash, ngx_str_t *key,
    ngx_uint_t *ep)
{
    size_t                          size;
    ngx_int_t                       rc;
    ngx_uint_t                      excess;
    ngx_msec_t                      now;
    ngx_msec_int_t                  ms;
    ngx_rbtree_node_t              *node, *sentinel;
    ngx_http_voxanne_limit_node_t  *ln;

    now = ngx_current_msec;

    node = ctx->sh->rbtree.root;
    sentinel = ctx->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        /* hash == node->key: the key itself decides */

        ln = (ngx_http_voxanne_limit_node_t *) &node->color;

        rc = ngx_memn2cmp(key->data, ln->data, key->len, (size_t) ln->len);

        if (rc != 0) {
            node = (rc < 0) ? node->left : node->right;
            continue;
        }

        ngx_queue_remove(&ln->queue);
        ngx_queue_insert_head(&ctx->sh->queue, &ln->queue);

        /* workers update their cached time apart: a negative ms drains 0 */

        ms = (ngx_msec_int_t) (now - ln->last);

        excess = ngx_http_voxanne_limit_drain(ln->excess + 1000, limit->rate,
                                              ms);
        *ep = excess;

        if (excess > limit->burst) {
            return NGX_BUSY;
        }

        ln->excess = excess;
        ln->last = now;
        ln->rate = limit->rate;

        return NGX_OK;
    }

    /* a new key: its first request always passes */

    *ep = 0;

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_voxanne_limit_node_t, data)
           + key->len;

    ngx_http_voxanne_limit_expire(ctx, 0);

    node = ngx_slab_alloc_locked(ctx->shpool, size);

    if (node == NULL) {
        ngx_http_voxanne_limit_expire(ctx, 1);

        node = ngx_slab_alloc_locked(ctx->shpool, size);
        if (node == NULL) {
            return NGX_ERROR;
        }
    }

    node->key = hash;

    ln = (ngx_http_voxanne_limit_node_t *) &node->color;

    ln->len = (u_char) key->len;
    ln->last = now;
    ln->excess = 0;
    ln->rate = limit->rate;

    ngx_memcpy(ln->data, key->data, key->len);

    ngx_rbtree_insert(&ctx->sh->rbtree, node);

    ngx_queue_insert_head(&ctx->sh->queue, &ln->queue);

    return NGX_OK;
}


/*
 * What is left of an excess after ms milliseconds at the rate, computed so
 * that nothing overflows however long a key was idle: in the last branch
 * rate * ms <= excess * 1000.
 */

static ngx_uint_t
ngx_http_voxanne_limit_drain(ngx_uint_t excess, ngx_uint_t rate,
    ngx_msec_int_t ms)
{
    if (ms <= 0) {
        return excess;
    }

    if ((uint64_t) ms > (uint64_t) excess * 1000 / rate) {
        return 0;
    }

    return excess - (ngx_uint_t) ((uint64_t) rate * ms / 1000);
}


/*
 * Frees up to two nodes from the tail of the LRU queue whose next request
 * would find an empty bucket, so that forgetting them changes nothing.
 * With force, the tail goes first whatever its state: the zone is full.
 */

static void
ngx_http_voxanne_limit_expire(ngx_http_voxanne_limit_ctx_t *ctx,
    ngx_uint_t force)
{
    ngx_uint_t                      n;
    ngx_msec_t                      now;
    ngx_queue_t                    *q;
    ngx_msec_int_t                  ms;
    ngx_rbtree_node_t              *node;
    ngx_http_voxanne_limit_node_t  *ln;

    now = ngx_current_msec;

    for (n = force ? 0 : 1; n < 3; n++) {

        if (ngx_queue_empty(&ctx->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&ctx->sh->queue);

        ln = ngx_queue_data(q, ngx_http_voxanne_limit_node_t, queue);

        if (n != 0) {
            ms = (ngx_msec_int_t) (now - ln->last);

            if (ngx_http_voxanne_limit_drain(ln->excess + 1000, ln->rate, ms)
                != 0)
            {
                /* the nodes before it were used more recently */
                return;
            }
        }

        ngx_queue_remove(q);

        node = (ngx_rbtree_node_t *)
                   ((u_char *) ln - offsetof(ngx_rbtree_node_t, color));

        ngx_rbtree_delete(&ctx->sh->rbtree, node);

        ngx_slab_free_locked(ctx->shpool, node);
    }
}


static void
ngx_http_voxanne_limit_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t              **p;
    ngx_http_voxanne_limit_node_t   *ln, *lnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else { /* node->key == temp->key */

            ln = (ngx_http_voxanne_limit_node_t *) &node->color;
            lnt = (ngx_http_voxanne_limit_node_t *) &temp->color;

            p = (ngx_memn2cmp(ln->data, lnt->data, ln->len, lnt->len) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/*
 * On reload nginx keeps a zone whose name and size did not change, and
 * passes the ctx of the previous cycle: its tree and counters carry on.
 */

static ngx_int_t
ngx_http_voxanne_limit_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_voxanne_limit_ctx_t  *octx = data;

    size_t                         len;
    ngx_http_voxanne_limit_ctx_t  *ctx;

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

    ctx->sh = ngx_slab_alloc(ctx->shpool,
                             sizeof(ngx_http_voxanne_limit_shctx_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    ngx_rbtree_init(&ctx->sh->rbtree, &ctx->sh->sentinel,
                    ngx_http_voxanne_limit_rbtree_insert_value);

    ngx_queue_init(&ctx->sh->queue);

    len = sizeof(" in voxanne_limit_zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in voxanne_limit_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is handled by expiring the oldest keys */

    ctx->shpool->log_nomem = 0;

    return NGX_OK;
}


/* voxanne_limit_zone zone=name:size; */

char *
ngx_http_voxanne_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char                        *p;
    ssize_t                        size;
    ngx_str_t                     *value, name, s;
    ngx_shm_zone_t                *shm_zone;
    ngx_http_voxanne_limit_ctx_t  *ctx;

    value = cf->args->elts;

    if (ngx_strncmp(value[1].data, "zone=", 5) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\", "
                           "\"zone=name:size\" is expected", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data + 5;

    p = ngx_strlchr(name.data, value[1].data + value[1].len, ':');

    if (p == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    name.len = p - name.data;

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", &value[1]);
        return NGX_CONF_ERROR;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_voxanne_limit_ctx_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_voxanne_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate %V \"%V\"", &cmd->name, &name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_voxanne_limit_init_zone;
    shm_zone->data = ctx;

    return NGX_CONF_OK;
}


/*
 * zone=name rate=30r/m [burst=10], from a tenant block.  The zone may be
 * declared further down: ngx_http_voxanne_tenant_init() checks, once the
 * http block is parsed, that each zone referenced has a ctx.
 */

char *
ngx_http_voxanne_limit_parse(ngx_conf_t *cf, ngx_http_voxanne_limit_t *limit,
    ngx_str_t *value, ngx_uint_t n)
{
    char            *fmt;
    size_t           len;
    ngx_int_t        rate, burst, scale;
    ngx_str_t        name;
    ngx_uint_t       i;
    ngx_shm_zone_t  *shm_zone;

    shm_zone = NULL;
    rate = 0;
    burst = NGX_CONF_UNSET;
    scale = 1;

    for (i = 0; i < n; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            if (shm_zone != NULL) {
                fmt = "duplicate parameter \"%V\"";
                goto failed;
            }

            name.data = value[i].data + 5;
            name.len = value[i].len - 5;

            if (name.len == 0) {
                fmt = "invalid zone \"%V\"";
                goto failed;
            }

            shm_zone = ngx_shared_memory_add(cf, &name, 0,
                                             &ngx_http_voxanne_module);
            if (shm_zone == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "rate=", 5) == 0) {

            if (rate != 0) {
                fmt = "duplicate parameter \"%V\"";
                goto failed;
            }

            fmt = "invalid rate \"%V\"";
            len = value[i].len;

            /* at least one digit between "rate=" and "r/s" */

            if (len < 9) {
                goto failed;
            }

            if (ngx_strncmp(value[i].data + len - 3, "r/s", 3) == 0) {
                scale = 1;

            } else if (ngx_strncmp(value[i].data + len - 3, "r/m", 3) == 0) {
                scale = 60;

            } else {
                goto failed;
            }

            rate = ngx_atoi(value[i].data + 5, len - 8);

            if (rate <= 0 || rate > NGX_HTTP_VOXANNE_LIMIT_MAX) {
                goto failed;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0) {

            if (burst != NGX_CONF_UNSET) {
                fmt = "duplicate parameter \"%V\"";
                goto failed;
            }

            burst = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (burst == NGX_ERROR || burst > NGX_HTTP_VOXANNE_LIMIT_MAX) {
                fmt = "invalid burst \"%V\"";
                goto failed;
            }

            continue;
        }

        fmt = "invalid parameter \"%V\"";
        goto failed;
    }

    if (shm_zone == NULL) {
        return "missing \"zone=\" parameter";
    }

    if (rate == 0) {
        return "missing \"rate=\" parameter";
    }

    if (burst == NGX_CONF_UNSET) {
        burst = 0;
    }

    limit->shm_zone = shm_zone;
    limit->rate = rate * 1000 / scale;
    limit->burst = burst * 1000;

    return NGX_CONF_OK;

failed:

    return ngx_http_voxanne_limit_error(cf, fmt, &value[i]);
}


/* the error text for the caller, which adds where it was found */

static char *
ngx_http_voxanne_limit_error(ngx_conf_t *cf, const char *fmt,
    ngx_str_t *value)
{
    u_char  *p, *last;
    size_t   len;

    len = ngx_strlen(fmt) + value->len + 1;

    p = ngx_pnalloc(cf->temp_pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    last = ngx_snprintf(p, len - 1, fmt, value);
    *last = '\0';

    return (char *) p;
}
