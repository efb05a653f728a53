
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"
#include "ngx_http_voxanne_crypt.h"


#define NGX_HTTP_VOXANNE_DBT_MAX        10000   /* tenants */
#define NGX_HTTP_VOXANNE_DBT_FIELD_MAX  8192    /* bytes of a column */
#define NGX_HTTP_VOXANNE_DBT_ARGS_MAX   366     /* hours, closed dates */
#define NGX_HTTP_VOXANNE_DBT_STALE      120     /* s: a refresh abandoned */

/*
 * The largest session.update or greeting of a database tenant: the realtime
 * bridge takes any frame up to half its provider output, which is sized
 * from nginx.conf's tenants but never under 16 KiB (bridge.c).
 */
#define NGX_HTTP_VOXANNE_DBT_AGENT_MAX  8000


/*
 * The columns of voxanne_db_tenants() read, the agent of the tenant's first
 * number that has one, then the opened auth tokens.
 */

typedef enum {
    NGX_HTTP_VOXANNE_DBT_ORG_ID = 0,
    NGX_HTTP_VOXANNE_DBT_SLUG,
    NGX_HTTP_VOXANNE_DBT_TIMEZONE,
    NGX_HTTP_VOXANNE_DBT_ACCOUNT,
    NGX_HTTP_VOXANNE_DBT_URL,
    NGX_HTTP_VOXANNE_DBT_HOURS,
    NGX_HTTP_VOXANNE_DBT_CLOSED,
    NGX_HTTP_VOXANNE_DBT_MAX_CALLS,
    NGX_HTTP_VOXANNE_DBT_BUSY,
    NGX_HTTP_VOXANNE_DBT_AFTER_HOURS,
    NGX_HTTP_VOXANNE_DBT_AFTER_HOURS_NUMBER,
    NGX_HTTP_VOXANNE_DBT_FALLBACK,
    NGX_HTTP_VOXANNE_DBT_FALLBACK_NUMBER,
    NGX_HTTP_VOXANNE_DBT_GREETING,
    NGX_HTTP_VOXANNE_DBT_NUMBERS,
    NGX_HTTP_VOXANNE_DBT_COLUMNS,
    NGX_HTTP_VOXANNE_DBT_INSTRUCTIONS = NGX_HTTP_VOXANNE_DBT_COLUMNS,
    NGX_HTTP_VOXANNE_DBT_VOICE,
    NGX_HTTP_VOXANNE_DBT_AGENT_GREETING,
    NGX_HTTP_VOXANNE_DBT_TOKEN,
    NGX_HTTP_VOXANNE_DBT_TOKEN_NEXT,
    NGX_HTTP_VOXANNE_DBT_FIELDS
} ngx_http_voxanne_dbt_field_e;


typedef struct {
    ngx_str_t                       name;
    ngx_http_voxanne_tz_t           tz;
} ngx_http_voxanne_dbt_zone_t;


typedef struct {
    ngx_atomic_t                    busy;       /* the pid refreshing */
    ngx_atomic_t                    generation; /* 0: nothing published */
    time_t                          busy_since;
    time_t                          next;       /* the next refresh */
    u_char                         *data;       /* the snapshot */
    size_t                          len;
    uint32_t                        digest;     /* of what it was made of */
    time_t                          refreshed;
    ngx_uint_t                      tenants;
    ngx_uint_t                      refused;
    ngx_uint_t                      failures;
    unsigned                        down:1;
} ngx_http_voxanne_dbt_sh_t;


/* a worker's tenants of one generation, alive while a request holds them */

typedef struct {
    ngx_pool_t                     *pool;
    ngx_http_voxanne_dbt_t         *dbt;
    ngx_uint_t                      generation;
    ngx_uint_t                      refs;
    ngx_array_t                     tenants;    /* _tenant_t * */
    ngx_hash_t                      numbers;
} ngx_http_voxanne_dbt_set_t;


/* a tenant while a refresh reads it */

typedef struct {
    ngx_str_t                       field[NGX_HTTP_VOXANNE_DBT_FIELDS];
    const char                     *refused;
} ngx_http_voxanne_dbt_row_t;


/* what the checks of nginx.conf's directives said */

typedef struct {
    ngx_log_t                       log;
    u_char                          text[NGX_MAX_CONF_ERRSTR];
    size_t                          len;
} ngx_http_voxanne_dbt_said_t;


struct ngx_http_voxanne_dbt_s {
    ngx_shm_zone_t                 *shm_zone;
    ngx_slab_pool_t                *shpool;
    ngx_http_voxanne_dbt_sh_t      *sh;
    time_t                          interval;
    ngx_http_voxanne_crypt_key_t    key;
    ngx_array_t                     zones;      /* _dbt_zone_t */
    ngx_http_voxanne_main_conf_t   *vmcf;

    /* the worker's */
    ngx_http_voxanne_dbt_set_t     *set;
    ngx_event_t                     timer;
    ngx_http_voxanne_db_query_t     query;
    ngx_pool_t                     *load;       /* a refresh's rows */
    ngx_array_t                     rows;       /* _dbt_row_t */
    ngx_uint_t                      next;       /* whose credentials */
    uint32_t                        crc;
};


static ngx_int_t ngx_http_voxanne_dbt_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_voxanne_dbt_key_cleanup(void *data);
static void ngx_http_voxanne_dbt_tick(ngx_event_t *ev);
static void ngx_http_voxanne_dbt_refresh(ngx_http_voxanne_dbt_t *dbt);
static ngx_str_t *ngx_http_voxanne_dbt_failure(
    ngx_http_voxanne_db_query_t *q);
static void ngx_http_voxanne_dbt_tenants_done(ngx_http_voxanne_db_query_t *q,
    PGresult *res);
static void ngx_http_voxanne_dbt_credentials(ngx_http_voxanne_dbt_t *dbt);
static void ngx_http_voxanne_dbt_send(ngx_http_voxanne_dbt_t *dbt);
static void ngx_http_voxanne_dbt_credentials_done(
    ngx_http_voxanne_db_query_t *q, PGresult *res);
static const char *ngx_http_voxanne_dbt_open(ngx_http_voxanne_dbt_t *dbt,
    ngx_http_voxanne_dbt_row_t *row, PGresult *res, int i);
static const char *ngx_http_voxanne_dbt_agent(ngx_http_voxanne_dbt_t *dbt,
    ngx_http_voxanne_dbt_row_t *row, PGresult *res, int i);
static ngx_int_t ngx_http_voxanne_dbt_hex(ngx_str_t *hex, u_char *out,
    size_t min, size_t max, size_t *len);
static void ngx_http_voxanne_dbt_publish(ngx_http_voxanne_dbt_t *dbt);
static void ngx_http_voxanne_dbt_done(ngx_http_voxanne_dbt_t *dbt,
    ngx_str_t *error);
static ngx_http_voxanne_dbt_set_t *ngx_http_voxanne_dbt_current(
    ngx_http_voxanne_dbt_t *dbt, ngx_log_t *log);
static ngx_http_voxanne_dbt_set_t *ngx_http_voxanne_dbt_load(
    ngx_http_voxanne_dbt_t *dbt, ngx_uint_t generation, ngx_log_t *log);
static ngx_http_voxanne_tenant_t *ngx_http_voxanne_dbt_pin(
    ngx_http_request_t *r, ngx_http_voxanne_dbt_set_t *set,
    ngx_http_voxanne_tenant_t *t);
static void ngx_http_voxanne_dbt_unpin(void *data);
static void ngx_http_voxanne_dbt_conf(ngx_conf_t *cf, ngx_pool_t *pool,
    ngx_http_voxanne_dbt_said_t *said);
static void ngx_http_voxanne_dbt_writer(ngx_log_t *log, ngx_uint_t level,
    u_char *buf, size_t len);
static ngx_http_voxanne_tenant_t *ngx_http_voxanne_dbt_tenant(
    ngx_http_voxanne_dbt_t *dbt, ngx_conf_t *cf, ngx_str_t *field,
    ngx_log_t *log);
static ngx_int_t ngx_http_voxanne_dbt_numbers(ngx_http_voxanne_dbt_t *dbt,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *list, ngx_log_t *log);
static char *ngx_http_voxanne_dbt_split(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, char *directive, ngx_str_t *text,
    char *separators);
static ngx_http_voxanne_tz_t *ngx_http_voxanne_dbt_tz(
    ngx_http_voxanne_dbt_t *dbt, ngx_str_t *name);


static ngx_str_t  ngx_http_voxanne_dbt_tenants_sql = ngx_string(
    "SELECT org_id, slug, timezone, twilio_account_sid, public_url, hours, "
    "closed_dates, max_calls, busy_action, after_hours_action, "
    "after_hours_number, fallback_action, fallback_number, "
    "voicemail_greeting, numbers FROM voxanne_db_tenants()");

static ngx_str_t  ngx_http_voxanne_dbt_credentials_sql = ngx_string(
    "SELECT name, key_id, encode(nonce, 'hex'), encode(ciphertext, 'hex'), "
    "encode(tag, 'hex') FROM org_credentials WHERE org_id = $1::uuid "
    "AND provider = 'twilio' AND name IN ('auth_token', 'auth_token_next') "
    "UNION ALL "
    "SELECT 'agent', a.instructions, a.voice, a.greeting, NULL FROM agents a "
    "WHERE a.org_id = $1::uuid AND a.id = (SELECT p.agent_id "
    "FROM phone_numbers p WHERE p.org_id = $1::uuid "
    "AND p.agent_id IS NOT NULL ORDER BY p.number LIMIT 1) "
    "ORDER BY 1");


/*
 * voxanne_db_tenants zone=name:size key=file [interval=time]
 *     [timezones=Zone,...]
 */

char *
ngx_http_voxanne_db_tenants(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voxanne_main_conf_t *vmcf = conf;

    u_char                       *p, *last;
    ssize_t                       size;
    ngx_str_t                    *value, s, name, key, zones;
    ngx_uint_t                    i;
    ngx_pool_cleanup_t           *cln;
    ngx_http_voxanne_dbt_t       *dbt;
    ngx_http_voxanne_dbt_zone_t  *z;

    if (vmcf->dbt) {
        return "is duplicate";
    }

    dbt = ngx_pcalloc(cf->pool, sizeof(ngx_http_voxanne_dbt_t));
    if (dbt == NULL) {
        return NGX_CONF_ERROR;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     dbt->shm_zone = NULL;
     *     dbt->set = NULL;
     *     dbt->load = NULL;
     */

    dbt->interval = NGX_CONF_UNSET;
    dbt->vmcf = vmcf;

    if (ngx_array_init(&dbt->zones, cf->pool, 4,
                       sizeof(ngx_http_voxanne_dbt_zone_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    size = 0;
    ngx_str_null(&name);
    ngx_str_null(&key);
    ngx_str_set(&zones, "UTC");

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            p = ngx_strlchr(s.data, s.data + s.len, ':');

            if (p == NULL || p == s.data) {
                goto invalid;
            }

            name.data = s.data;
            name.len = p - s.data;

            s.data = p + 1;
            s.len = value[i].data + value[i].len - s.data;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR || (size_t) size < 8 * ngx_pagesize) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zone \"%V\" is too small, at least %uz "
                                   "bytes are needed", &name,
                                   8 * ngx_pagesize);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "key=", 4) == 0) {
            key.data = value[i].data + 4;
            key.len = value[i].len - 4;
            continue;
        }

        if (ngx_strncmp(value[i].data, "interval=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            dbt->interval = ngx_parse_time(&s, 1);

            if (dbt->interval == (time_t) NGX_ERROR || dbt->interval < 1) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid interval \"%V\", at least 1s "
                                   "is expected", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "timezones=", 10) == 0) {
            zones.data = value[i].data + 10;
            zones.len = value[i].len - 10;
            continue;
        }

        goto invalid;
    }

    if (name.len == 0 || key.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone=name:size\" and "
                           "\"key=file\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (vmcf->db.keywords == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs \"voxanne_db\" before it",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    ngx_conf_init_value(dbt->interval, 30);

    /* the key, wiped with the configuration */

    if (ngx_http_voxanne_tenant_read(cf, &key, 1024, &s) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_voxanne_dbt_key_cleanup;
    cln->data = &dbt->key;

    if (ngx_http_voxanne_crypt_key_parse(&dbt->key, s.data, s.len) != NGX_OK) {
        ngx_explicit_memzero(s.data, s.len);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "key file \"%V\" must hold 32 bytes or 64 hex "
                           "digits", &key);
        return NGX_CONF_ERROR;
    }

    ngx_explicit_memzero(s.data, s.len);

    /* the time zones database tenants may use, read now (file I/O) */

    p = zones.data;
    last = zones.data + zones.len;

    while (p < last) {
        s.data = p;
        p = ngx_strlchr(p, last, ',');

        if (p == NULL) {
            p = last;
        }

        s.len = p++ - s.data;

        z = ngx_array_push(&dbt->zones);
        if (z == NULL) {
            return NGX_CONF_ERROR;
        }

        z->name = s;

        if (ngx_http_voxanne_tenant_tz(cf, &s, &z->tz) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown timezone \"%V\" in \"%V\"", &s,
                               &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    dbt->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                          &ngx_http_voxanne_module);
    if (dbt->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (dbt->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    dbt->shm_zone->init = ngx_http_voxanne_dbt_init_zone;
    dbt->shm_zone->data = dbt;

    vmcf->dbt = dbt;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"",
                       &value[i]);

    return NGX_CONF_ERROR;
}


/*
 * The snapshot outlives a reload, which refreshes it at once: the tenants
 * of nginx.conf or the key may have changed.
 */

static ngx_int_t
ngx_http_voxanne_dbt_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_voxanne_dbt_t  *odbt = data;

    size_t                   len;
    ngx_http_voxanne_dbt_t  *dbt;

    dbt = shm_zone->data;

    if (odbt) {
        dbt->sh = odbt->sh;
        dbt->shpool = odbt->shpool;

    } else {
        dbt->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        if (shm_zone->shm.exists) {
            dbt->sh = dbt->shpool->data;

        } else {
            dbt->sh = ngx_slab_calloc(dbt->shpool,
                                      sizeof(ngx_http_voxanne_dbt_sh_t));
            if (dbt->sh == NULL) {
                return NGX_ERROR;
            }

            dbt->shpool->data = dbt->sh;

            len = sizeof(" in voxanne_db_tenants zone \"\"")
                  + shm_zone->shm.name.len;

            dbt->shpool->log_ctx = ngx_slab_alloc(dbt->shpool, len);
            if (dbt->shpool->log_ctx == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(dbt->shpool->log_ctx,
                        " in voxanne_db_tenants zone \"%V\"%Z",
                        &shm_zone->shm.name);

            dbt->shpool->log_nomem = 0;
        }
    }

    dbt->sh->next = 0;
    dbt->sh->digest = 0;

    return NGX_OK;
}


static void
ngx_http_voxanne_dbt_key_cleanup(void *data)
{
    ngx_http_voxanne_crypt_key_wipe(data);
}


ngx_int_t
ngx_http_voxanne_dbt_init_process(ngx_cycle_t *cycle,
    ngx_http_voxanne_dbt_t *dbt)
{
    if (dbt == NULL || dbt->vmcf->db.pool == NULL) {
        return NGX_OK;
    }

    dbt->timer.handler = ngx_http_voxanne_dbt_tick;
    dbt->timer.data = dbt;
    dbt->timer.log = cycle->log;
    dbt->timer.cancelable = 1;

    ngx_add_timer(&dbt->timer, 1);

    return NGX_OK;
}


/*
 * Every worker looks twice an interval whether a refresh is due; the first
 * to take the zone's busy flag does it.  A flag older than a few minutes
 * belongs to a worker that died.
 */

static void
ngx_http_voxanne_dbt_tick(ngx_event_t *ev)
{
    ngx_http_voxanne_dbt_t *dbt = ev->data;

    time_t                      now;
    ngx_atomic_uint_t           busy;
    ngx_http_voxanne_dbt_sh_t  *sh;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    sh = dbt->sh;
    now = ngx_time();
    busy = sh->busy;

    if (dbt->load == NULL
        && now >= sh->next
        && (busy == 0 || now - sh->busy_since > NGX_HTTP_VOXANNE_DBT_STALE)
        && ngx_atomic_cmp_set(&sh->busy, busy, (ngx_atomic_uint_t) ngx_pid))
    {
        sh->busy_since = now;
        ngx_http_voxanne_dbt_refresh(dbt);
    }

    ngx_add_timer(ev, dbt->interval * 500);
}


static void
ngx_http_voxanne_dbt_refresh(ngx_http_voxanne_dbt_t *dbt)
{
    ngx_str_t                     error;
    ngx_http_voxanne_db_query_t  *q;

    dbt->load = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, dbt->timer.log);

    if (dbt->load == NULL
        || ngx_array_init(&dbt->rows, dbt->load, 16,
                          sizeof(ngx_http_voxanne_dbt_row_t))
           != NGX_OK)
    {
        ngx_str_set(&error, "no memory");
        ngx_http_voxanne_dbt_done(dbt, &error);
        return;
    }

    /* a snapshot of another configuration never passes for unchanged */

    ngx_crc32_init(dbt->crc);
    ngx_crc32_update(&dbt->crc, (u_char *) &dbt, sizeof(dbt));

    q = &dbt->query;
    ngx_memzero(q, sizeof(ngx_http_voxanne_db_query_t));

    q->sql = (const char *) ngx_http_voxanne_dbt_tenants_sql.data;
    q->name = "voxanne_db_tenants";
    q->handler = ngx_http_voxanne_dbt_tenants_done;
    ngx_http_voxanne_dbt_send(dbt);
}


/* dbt->query to the pool; a query it does not take ends the refresh */

static void
ngx_http_voxanne_dbt_send(ngx_http_voxanne_dbt_t *dbt)
{
    ngx_str_t                     error;
    ngx_http_voxanne_db_query_t  *q;

    q = &dbt->query;

    q->data = dbt;
    q->log = dbt->timer.log;

    switch (ngx_http_voxanne_db_query(dbt->vmcf->db.pool, q)) {

    case NGX_OK:
        return;

    case NGX_BUSY:
        ngx_str_set(&error, "the database queue is full");
        break;

    case NGX_DECLINED:
        ngx_str_set(&error, "the database is down");
        break;

    default:
        ngx_str_set(&error, "the query failed");
    }

    ngx_http_voxanne_dbt_done(dbt, &error);
}


/* a failure as the pool tells it */

static ngx_str_t *
ngx_http_voxanne_dbt_failure(ngx_http_voxanne_db_query_t *q)
{
    static ngx_str_t  failures[] = {
        ngx_null_string,
        ngx_string("a server error"),
        ngx_string("timed out"),
        ngx_string("the database is down"),
        ngx_string("the worker is exiting")
    };

    return q->error.len ? &q->error : &failures[q->status];
}


static void
ngx_http_voxanne_dbt_tenants_done(ngx_http_voxanne_db_query_t *q,
    PGresult *res)
{
    ngx_http_voxanne_dbt_t *dbt = q->data;

    int                          n, i, j;
    ngx_str_t                    error, *f;
    ngx_http_voxanne_dbt_row_t  *row;

    if (q->status != NGX_HTTP_VOXANNE_DB_OK) {
        ngx_http_voxanne_dbt_done(dbt, ngx_http_voxanne_dbt_failure(q));
        return;
    }

    n = PQntuples(res);

    if (n > NGX_HTTP_VOXANNE_DBT_MAX
        || PQnfields(res) != NGX_HTTP_VOXANNE_DBT_COLUMNS)
    {
        ngx_str_set(&error, "voxanne_db_tenants() gave more tenants or "
                            "columns than expected");
        ngx_http_voxanne_dbt_done(dbt, &error);
        return;
    }

    for (i = 0; i < n; i++) {
        row = ngx_array_push(&dbt->rows);
        if (row == NULL) {
            goto nomem;
        }

        ngx_memzero(row, sizeof(ngx_http_voxanne_dbt_row_t));

        for (j = 0; j < NGX_HTTP_VOXANNE_DBT_COLUMNS; j++) {
            f = &row->field[j];

            if (PQgetisnull(res, i, j)) {
                continue;
            }

            f->len = PQgetlength(res, i, j);

            if (f->len > NGX_HTTP_VOXANNE_DBT_FIELD_MAX) {
                f->len = 0;
                row->refused = "a column is too long";
                continue;
            }

            f->data = ngx_pnalloc(dbt->load, f->len + 1);
            if (f->data == NULL) {
                goto nomem;
            }

            ngx_memcpy(f->data, PQgetvalue(res, i, j), f->len);
            f->data[f->len] = '\0';

            ngx_crc32_update(&dbt->crc, (u_char *) &j, sizeof(int));
            ngx_crc32_update(&dbt->crc, f->data, f->len + 1);
        }
    }

    dbt->next = 0;

    ngx_http_voxanne_dbt_credentials(dbt);

    return;

nomem:

    ngx_str_set(&error, "no memory");
    ngx_http_voxanne_dbt_done(dbt, &error);
}


/* each tenant's credentials, under its own app.org_id (row-level security) */

static void
ngx_http_voxanne_dbt_credentials(ngx_http_voxanne_dbt_t *dbt)
{
    ngx_http_voxanne_db_query_t  *q;
    ngx_http_voxanne_dbt_row_t   *row;

    row = dbt->rows.elts;

    while (dbt->next < dbt->rows.nelts && row[dbt->next].refused) {
        dbt->next++;
    }

    if (dbt->next == dbt->rows.nelts) {
        ngx_http_voxanne_dbt_publish(dbt);
        return;
    }

    row = &row[dbt->next];

    q = &dbt->query;
    ngx_memzero(q, sizeof(ngx_http_voxanne_db_query_t));

    q->sql = (const char *) ngx_http_voxanne_dbt_credentials_sql.data;
    q->name = "voxanne_db_tenant_credentials";
    q->params = &row->field[NGX_HTTP_VOXANNE_DBT_ORG_ID];
    q->nparams = 1;
    q->org_id = row->field[NGX_HTTP_VOXANNE_DBT_ORG_ID];
    q->handler = ngx_http_voxanne_dbt_credentials_done;
    ngx_http_voxanne_dbt_send(dbt);
}


static void
ngx_http_voxanne_dbt_credentials_done(ngx_http_voxanne_db_query_t *q,
    PGresult *res)
{
    ngx_http_voxanne_dbt_t *dbt = q->data;

    int                          n, i, j;
    ngx_http_voxanne_dbt_row_t  *row;

    if (q->status != NGX_HTTP_VOXANNE_DB_OK) {
        ngx_http_voxanne_dbt_done(dbt, ngx_http_voxanne_dbt_failure(q));
        return;
    }

    row = dbt->rows.elts;
    row = &row[dbt->next++];

    n = ngx_min(PQntuples(res), 3);

    if (PQnfields(res) != 5) {
        n = 0;
    }

    for (i = 0; i < n; i++) {
        for (j = 0; j < 5; j++) {
            ngx_crc32_update(&dbt->crc, (u_char *) PQgetvalue(res, i, j),
                             PQgetlength(res, i, j) + 1);
        }

        if (row->refused) {
            continue;
        }

        row->refused = (PQgetlength(res, i, 0) == sizeof("agent") - 1)
                       ? ngx_http_voxanne_dbt_agent(dbt, row, res, i)
                       : ngx_http_voxanne_dbt_open(dbt, row, res, i);
    }

    if (row->refused == NULL
        && row->field[NGX_HTTP_VOXANNE_DBT_TOKEN].len == 0)
    {
        row->refused = "it has no twilio auth_token credential";
    }

    ngx_http_voxanne_dbt_credentials(dbt);
}


/* an org_credentials row opened with the key; NULL, or why not */

static const char *
ngx_http_voxanne_dbt_open(ngx_http_voxanne_dbt_t *dbt,
    ngx_http_voxanne_dbt_row_t *row, PGresult *res, int i)
{
    u_char                           nonce[NGX_HTTP_VOXANNE_CRYPT_NONCE_LEN];
    u_char                           tag[NGX_HTTP_VOXANNE_CRYPT_TAG_LEN];
    u_char                          *ciphertext;
    size_t                           len, n;
    ngx_str_t                        hex, *token;
    ngx_http_voxanne_crypt_label_t   label;

    label.name.data = (u_char *) PQgetvalue(res, i, 0);
    label.name.len = PQgetlength(res, i, 0);

    token = &row->field[label.name.len == sizeof("auth_token") - 1
                        ? NGX_HTTP_VOXANNE_DBT_TOKEN
                        : NGX_HTTP_VOXANNE_DBT_TOKEN_NEXT];

    if (PQgetlength(res, i, 1) != NGX_HTTP_VOXANNE_CRYPT_KEY_ID_LEN
        || ngx_memcmp(PQgetvalue(res, i, 1), dbt->key.id,
                      NGX_HTTP_VOXANNE_CRYPT_KEY_ID_LEN)
           != 0)
    {
        return "its auth token is sealed with another key than the key "
               "file's";
    }

    hex.data = (u_char *) PQgetvalue(res, i, 3);
    hex.len = PQgetlength(res, i, 3);

    ciphertext = ngx_pnalloc(dbt->load, hex.len / 2 + 1);
    token->data = ngx_pnalloc(dbt->load, hex.len / 2 + 1);

    if (ciphertext == NULL || token->data == NULL) {
        return "no memory";
    }

    if (ngx_http_voxanne_dbt_hex(&hex, ciphertext, 1,
                                 NGX_HTTP_VOXANNE_CRYPT_SECRET_MAX, &len)
        != NGX_OK)
    {
        return "its auth token is malformed";
    }

    hex.data = (u_char *) PQgetvalue(res, i, 2);
    hex.len = PQgetlength(res, i, 2);

    if (ngx_http_voxanne_dbt_hex(&hex, nonce, sizeof(nonce), sizeof(nonce),
                                 &n)
        != NGX_OK)
    {
        return "its auth token is malformed";
    }

    hex.data = (u_char *) PQgetvalue(res, i, 4);
    hex.len = PQgetlength(res, i, 4);

    if (ngx_http_voxanne_dbt_hex(&hex, tag, sizeof(tag), sizeof(tag), &n)
        != NGX_OK)
    {
        return "its auth token is malformed";
    }

    label.org = row->field[NGX_HTTP_VOXANNE_DBT_ORG_ID];
    ngx_str_set(&label.provider, "twilio");

    if (ngx_http_voxanne_crypt_open(&dbt->key, &label, nonce, ciphertext, len,
                                    tag, token->data)
        != NGX_OK)
    {
        return "its auth token does not open with the key file (altered, "
               "or sealed for another tenant or name)";
    }

    token->len = len;

    return NULL;
}


/* the agent's instructions, voice and greeting (NULL: the defaults) */

static const char *
ngx_http_voxanne_dbt_agent(ngx_http_voxanne_dbt_t *dbt,
    ngx_http_voxanne_dbt_row_t *row, PGresult *res, int i)
{
    int         j;
    ngx_str_t  *f;

    for (j = 1; j <= 3; j++) {
        f = &row->field[NGX_HTTP_VOXANNE_DBT_INSTRUCTIONS + j - 1];

        if (PQgetisnull(res, i, j)) {
            continue;
        }

        f->len = PQgetlength(res, i, j);

        if (f->len > NGX_HTTP_VOXANNE_DBT_FIELD_MAX) {
            f->len = 0;
            return "its agent's instructions are over 8 KiB";
        }

        f->data = ngx_pnalloc(dbt->load, f->len);
        if (f->data == NULL) {
            return "no memory";
        }

        ngx_memcpy(f->data, PQgetvalue(res, i, j), f->len);
    }

    return NULL;
}


static ngx_int_t
ngx_http_voxanne_dbt_hex(ngx_str_t *hex, u_char *out, size_t min, size_t max,
    size_t *len)
{
    size_t     i;
    ngx_int_t  hi, lo;

    if (hex->len % 2 || hex->len / 2 < min || hex->len / 2 > max) {
        return NGX_ERROR;
    }

    for (i = 0; i < hex->len; i += 2) {
        hi = ngx_hextoi(&hex->data[i], 1);
        lo = ngx_hextoi(&hex->data[i + 1], 1);

        if (hi == NGX_ERROR || lo == NGX_ERROR) {
            return NGX_ERROR;
        }

        *out++ = (u_char) (hi * 16 + lo);
    }

    *len = hex->len / 2;

    return NGX_OK;
}


/*
 * A refresh that read everything: unchanged, the snapshot stays; changed,
 * the tenants that build (the same checks as nginx.conf's) are published,
 * the others logged once, here.
 */

static void
ngx_http_voxanne_dbt_publish(ngx_http_voxanne_dbt_t *dbt)
{
    u_char                       *buf, *p, *data;
    size_t                        size;
    uint32_t                      len;
    ngx_str_t                     error;
    ngx_uint_t                    i, j, n, refused;
    ngx_conf_t                    cf;
    ngx_pool_t                   *pool;
    ngx_http_voxanne_dbt_sh_t    *sh;
    ngx_http_voxanne_dbt_row_t   *row;
    ngx_http_voxanne_dbt_said_t   said;

    sh = dbt->sh;

    ngx_crc32_final(dbt->crc);

    /* after a reload, the new workers' configuration decides */

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        ngx_http_voxanne_dbt_done(dbt, NULL);
        return;
    }

    if (sh->generation && sh->digest == dbt->crc) {
        ngx_http_voxanne_dbt_done(dbt, NULL);
        return;
    }

    row = dbt->rows.elts;
    refused = 0;
    size = sizeof(uint32_t);

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, dbt->timer.log);
    if (pool == NULL) {
        goto nomem;
    }

    for (i = 0; i < dbt->rows.nelts; i++) {

        if (row[i].refused == NULL) {
            ngx_http_voxanne_dbt_conf(&cf, pool, &said);

            if (ngx_http_voxanne_dbt_tenant(dbt, &cf, row[i].field,
                                            dbt->timer.log)
                == NULL)
            {
                /* nothing said: nginx.conf has it, as logged */

                row[i].refused = said.len ? (const char *) said.text : "";
            }
        }

        if (row[i].refused == NULL) {
            for (j = 0; j < NGX_HTTP_VOXANNE_DBT_FIELDS; j++) {
                size += sizeof(uint32_t) + row[i].field[j].len;
            }

            continue;
        }

        if (row[i].refused[0]) {
            refused++;

            ngx_log_error(NGX_LOG_ERR, dbt->timer.log, 0,
                          "voxanne: database tenant \"%V\" (%V) refused: %s",
                          &row[i].field[NGX_HTTP_VOXANNE_DBT_SLUG],
                          &row[i].field[NGX_HTTP_VOXANNE_DBT_ORG_ID],
                          row[i].refused);
        }

        /* said is gone with the next tenant */

        row[i].refused = "";
    }

    ngx_destroy_pool(pool);

    /* count, then each field as its length and its bytes */

    buf = ngx_pnalloc(dbt->load, size);
    if (buf == NULL) {
        goto nomem;
    }

    p = buf + sizeof(uint32_t);
    n = 0;

    for (i = 0; i < dbt->rows.nelts; i++) {

        if (row[i].refused) {
            continue;
        }

        n++;

        for (j = 0; j < NGX_HTTP_VOXANNE_DBT_FIELDS; j++) {
            len = row[i].field[j].len;
            p = ngx_cpymem(p, &len, sizeof(uint32_t));
            p = ngx_cpymem(p, row[i].field[j].data, len);
        }
    }

    len = n;
    ngx_memcpy(buf, &len, sizeof(uint32_t));

    ngx_shmtx_lock(&dbt->shpool->mutex);

    data = ngx_slab_alloc_locked(dbt->shpool, size);

    if (data) {
        ngx_memcpy(data, buf, size);

        if (sh->data) {
            ngx_explicit_memzero(sh->data, sh->len);
            ngx_slab_free_locked(dbt->shpool, sh->data);
        }

        sh->data = data;
        sh->len = size;
        sh->digest = dbt->crc;
        sh->tenants = n;
        sh->refused = refused;
        sh->generation++;
    }

    ngx_shmtx_unlock(&dbt->shpool->mutex);

    ngx_explicit_memzero(buf, size);

    if (data == NULL) {
        ngx_str_set(&error, "the zone is too small for the tenants");
        ngx_http_voxanne_dbt_done(dbt, &error);
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, dbt->timer.log, 0,
                  "voxanne: %ui database tenants loaded, %ui refused",
                  n, refused);

    ngx_http_voxanne_dbt_done(dbt, NULL);

    return;

nomem:

    ngx_str_set(&error, "no memory");
    ngx_http_voxanne_dbt_done(dbt, &error);
}


/* the end of a refresh: its state, the opened tokens wiped, the flag given */

static void
ngx_http_voxanne_dbt_done(ngx_http_voxanne_dbt_t *dbt, ngx_str_t *error)
{
    ngx_uint_t                   i, j;
    ngx_http_voxanne_dbt_sh_t   *sh;
    ngx_http_voxanne_dbt_row_t  *row;

    sh = dbt->sh;

    ngx_shmtx_lock(&dbt->shpool->mutex);

    if (error) {
        sh->failures++;
        sh->down = 1;

    } else {
        sh->failures = 0;
        sh->down = 0;
        sh->refreshed = ngx_time();
    }

    sh->next = ngx_time() + dbt->interval;

    ngx_shmtx_unlock(&dbt->shpool->mutex);

    if (error) {
        ngx_log_error(NGX_LOG_WARN, dbt->timer.log, 0,
                      "voxanne: database tenants not refreshed: %V; "
                      "the last %ui loaded stay, retry in %T s", error,
                      sh->tenants, dbt->interval);
    }

    if (dbt->load) {
        row = dbt->rows.elts;

        for (i = 0; i < dbt->rows.nelts; i++) {
            for (j = NGX_HTTP_VOXANNE_DBT_TOKEN;
                 j < NGX_HTTP_VOXANNE_DBT_FIELDS;
                 j++)
            {
                if (row[i].field[j].len) {
                    ngx_explicit_memzero(row[i].field[j].data,
                                         row[i].field[j].len);
                }
            }
        }

        ngx_destroy_pool(dbt->load);
        dbt->load = NULL;
        dbt->rows.nelts = 0;
    }

    (void) ngx_atomic_cmp_set(&dbt->sh->busy, (ngx_atomic_uint_t) ngx_pid, 0);
}


void
ngx_http_voxanne_dbt_stats(ngx_http_voxanne_dbt_t *dbt,
    ngx_http_voxanne_dbt_stats_t *st)
{
    ngx_http_voxanne_dbt_sh_t  *sh;

    sh = dbt->sh;

    ngx_shmtx_lock(&dbt->shpool->mutex);

    st->generation = sh->generation;
    st->tenants = sh->tenants;
    st->refused = sh->refused;
    st->failures = sh->failures;
    st->refreshed = sh->refreshed;
    st->state = sh->down ? "down" : (sh->generation ? "ok" : "loading");

    ngx_shmtx_unlock(&dbt->shpool->mutex);
}


/* nginx.conf's tenants first, then the database's */

ngx_http_voxanne_tenant_t *
ngx_http_voxanne_tenant_by_number(ngx_http_request_t *r, ngx_str_t *number)
{
    ngx_uint_t                     key;
    ngx_http_voxanne_tenant_t     *t;
    ngx_http_voxanne_dbt_set_t    *set;
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    key = ngx_hash_key(number->data, number->len);

    t = ngx_hash_find(&vmcf->numbers, key, number->data, number->len);

    if (t || vmcf->dbt == NULL) {
        return t;
    }

    set = ngx_http_voxanne_dbt_current(vmcf->dbt, r->connection->log);

    if (set == NULL) {
        return NULL;
    }

    t = ngx_hash_find(&set->numbers, key, number->data, number->len);

    return ngx_http_voxanne_dbt_pin(r, set, t);
}


ngx_http_voxanne_tenant_t *
ngx_http_voxanne_tenant_by_name(ngx_http_request_t *r, ngx_str_t *name)
{
    ngx_uint_t                     i;
    ngx_http_voxanne_tenant_t     *t, **tp;
    ngx_http_voxanne_dbt_set_t    *set;
    ngx_http_voxanne_main_conf_t  *vmcf;

    vmcf = ngx_http_get_module_main_conf(r, ngx_http_voxanne_module);

    t = ngx_http_voxanne_tenant_find(vmcf, name);

    if (t || vmcf->dbt == NULL) {
        return t;
    }

    set = ngx_http_voxanne_dbt_current(vmcf->dbt, r->connection->log);

    if (set == NULL) {
        return NULL;
    }

    tp = set->tenants.elts;

    for (i = 0; i < set->tenants.nelts; i++) {
        if (tp[i]->name.len == name->len
            && ngx_strncmp(tp[i]->name.data, name->data, name->len) == 0)
        {
            return ngx_http_voxanne_dbt_pin(r, set, tp[i]);
        }
    }

    return NULL;
}


/* the worker's tenants of the zone's generation, rebuilt when it changed */

static ngx_http_voxanne_dbt_set_t *
ngx_http_voxanne_dbt_current(ngx_http_voxanne_dbt_t *dbt, ngx_log_t *log)
{
    ngx_uint_t                   generation;
    ngx_http_voxanne_dbt_set_t  *set, *old;

    generation = dbt->sh->generation;

    if (generation == 0
        || (dbt->set && dbt->set->generation == generation))
    {
        return dbt->set;
    }

    set = ngx_http_voxanne_dbt_load(dbt, generation, log);

    if (set == NULL) {
        return dbt->set;
    }

    old = dbt->set;
    dbt->set = set;

    if (old && old->refs == 0) {
        ngx_destroy_pool(old->pool);
    }

    return set;
}


/*
 * The snapshot is copied under the zone's lock and read without it; every
 * length is checked against what is left.
 */

static ngx_http_voxanne_dbt_set_t *
ngx_http_voxanne_dbt_load(ngx_http_voxanne_dbt_t *dbt, ngx_uint_t generation,
    ngx_log_t *log)
{
    u_char                       *p, *last;
    size_t                        len;
    uint32_t                      n, flen;
    ngx_str_t                     field[NGX_HTTP_VOXANNE_DBT_FIELDS], *number;
    ngx_uint_t                    i, j;
    ngx_pool_t                   *pool, *temp;
    ngx_conf_t                    cf;
    ngx_hash_init_t               hash;
    ngx_hash_keys_arrays_t        keys;
    ngx_http_voxanne_tenant_t    *t, **tp;
    ngx_http_voxanne_dbt_set_t   *set;
    ngx_http_voxanne_dbt_said_t   said;

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, ngx_cycle->log);
    if (pool == NULL) {
        return NULL;
    }

    temp = NULL;

    set = ngx_pcalloc(pool, sizeof(ngx_http_voxanne_dbt_set_t));
    if (set == NULL) {
        goto failed;
    }

    set->pool = pool;
    set->dbt = dbt;

    ngx_shmtx_lock(&dbt->shpool->mutex);

    set->generation = dbt->sh->generation;
    len = dbt->sh->len;
    p = ngx_pnalloc(pool, len);

    if (p) {
        ngx_memcpy(p, dbt->sh->data, len);
    }

    ngx_shmtx_unlock(&dbt->shpool->mutex);

    if (p == NULL || len < sizeof(uint32_t)) {
        goto failed;
    }

    last = p + len;

    ngx_memcpy(&n, p, sizeof(uint32_t));
    p += sizeof(uint32_t);

    if (n > NGX_HTTP_VOXANNE_DBT_MAX
        || ngx_array_init(&set->tenants, pool, n ? n : 1,
                          sizeof(ngx_http_voxanne_tenant_t *))
           != NGX_OK)
    {
        goto failed;
    }

    temp = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, ngx_cycle->log);
    if (temp == NULL) {
        goto failed;
    }

    ngx_memzero(&keys, sizeof(ngx_hash_keys_arrays_t));
    keys.pool = pool;
    keys.temp_pool = temp;

    if (ngx_hash_keys_array_init(&keys, NGX_HASH_SMALL) != NGX_OK) {
        goto failed;
    }

    for (i = 0; i < n; i++) {

        for (j = 0; j < NGX_HTTP_VOXANNE_DBT_FIELDS; j++) {
            if ((size_t) (last - p) < sizeof(uint32_t)) {
                goto broken;
            }

            ngx_memcpy(&flen, p, sizeof(uint32_t));
            p += sizeof(uint32_t);

            if (flen > (size_t) (last - p)
                || flen > NGX_HTTP_VOXANNE_DBT_FIELD_MAX)
            {
                goto broken;
            }

            field[j].data = p;
            field[j].len = flen;
            p += flen;
        }

        ngx_http_voxanne_dbt_conf(&cf, pool, &said);

        t = ngx_http_voxanne_dbt_tenant(dbt, &cf, field, NULL);

        for (j = NGX_HTTP_VOXANNE_DBT_TOKEN;
             j < NGX_HTTP_VOXANNE_DBT_FIELDS;
             j++)
        {
            ngx_explicit_memzero(field[j].data, field[j].len);
        }

        if (t == NULL) {
            continue;
        }

        tp = ngx_array_push(&set->tenants);
        if (tp == NULL) {
            goto failed;
        }

        *tp = t;

        number = t->numbers.elts;

        for (j = 0; j < t->numbers.nelts; j++) {
            if (ngx_hash_add_key(&keys, &number[j], t, NGX_HASH_READONLY_KEY)
                == NGX_ERROR)
            {
                goto failed;
            }
        }
    }

    hash.hash = &set->numbers;
    hash.key = ngx_hash_key;
    hash.max_size = 65536;
    hash.bucket_size = ngx_align(64, ngx_cacheline_size);
    hash.name = "voxanne_db_tenants_hash";
    hash.pool = pool;
    hash.temp_pool = NULL;

    if (ngx_hash_init(&hash, keys.keys.elts, keys.keys.nelts) != NGX_OK) {
        goto failed;
    }

    ngx_destroy_pool(temp);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "voxanne: database tenants of generation %ui: %ui",
                   generation, set->tenants.nelts);

    return set;

broken:

    ngx_log_error(NGX_LOG_ALERT, log, 0,
                  "voxanne: the database tenants' snapshot is broken");

failed:

    if (temp) {
        ngx_destroy_pool(temp);
    }

    ngx_destroy_pool(pool);

    return NULL;
}


/* a request holds the generation of the tenant it uses until it ends */

static ngx_http_voxanne_tenant_t *
ngx_http_voxanne_dbt_pin(ngx_http_request_t *r,
    ngx_http_voxanne_dbt_set_t *set, ngx_http_voxanne_tenant_t *t)
{
    ngx_pool_cleanup_t  *cln;

    if (t == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_voxanne_dbt_unpin;
    cln->data = set;

    set->refs++;

    return t;
}


static void
ngx_http_voxanne_dbt_unpin(void *data)
{
    ngx_http_voxanne_dbt_set_t *set = data;

    if (--set->refs == 0 && set->dbt->set != set) {
        ngx_destroy_pool(set->pool);
    }
}


/*
 * A configuration for the checks of nginx.conf's tenant directives outside
 * of nginx.conf: what they would log goes to said.
 */

static void
ngx_http_voxanne_dbt_conf(ngx_conf_t *cf, ngx_pool_t *pool,
    ngx_http_voxanne_dbt_said_t *said)
{
    said->len = 0;

    ngx_memzero(&said->log, sizeof(ngx_log_t));
    said->log.log_level = NGX_LOG_ERR;
    said->log.writer = ngx_http_voxanne_dbt_writer;
    said->log.wdata = said;

    ngx_memzero(cf, sizeof(ngx_conf_t));
    cf->pool = pool;
    cf->temp_pool = pool;
    cf->cycle = (ngx_cycle_t *) ngx_cycle;
    cf->log = &said->log;
}


/* the first message, without its time, level and pid */

static void
ngx_http_voxanne_dbt_writer(ngx_log_t *log, ngx_uint_t level, u_char *buf,
    size_t len)
{
    ngx_http_voxanne_dbt_said_t *said = log->wdata;

    u_char  *p, *last;

    if (said->len) {
        return;
    }

    last = buf + len;

    while (last > buf && (last[-1] == LF || last[-1] == CR)) {
        last--;
    }

    p = ngx_strlchr(buf, last, ']');
    p = p ? ngx_strlchr(p, last, ':') : NULL;

    if (p == NULL || last - p < 2) {
        return;
    }

    p += 2;

    len = ngx_min((size_t) (last - p), sizeof(said->text) - 1);
    ngx_memcpy(said->text, p, len);
    said->text[len] = '\0';
    said->len = len;
}


/*
 * A tenant of the database through the checks of nginx.conf's directives;
 * log: where the loading worker tells what nginx.conf wins.
 */

static ngx_http_voxanne_tenant_t *
ngx_http_voxanne_dbt_tenant(ngx_http_voxanne_dbt_t *dbt, ngx_conf_t *cf,
    ngx_str_t *field, ngx_log_t *log)
{
    ngx_str_t                      args[2], *f;
    ngx_uint_t                     i, n;
    ngx_http_voxanne_tz_t         *tz;
    ngx_http_voxanne_tenant_t     *t, **tp;
    ngx_http_voxanne_main_conf_t  *vmcf;

    static struct {
        char        *directive;
        ngx_uint_t   field;
        ngx_uint_t   number;
    } settings[] = {
        { "org_id", NGX_HTTP_VOXANNE_DBT_ORG_ID, 0 },
        { "twilio_account_sid", NGX_HTTP_VOXANNE_DBT_ACCOUNT, 0 },
        { "public_url", NGX_HTTP_VOXANNE_DBT_URL, 0 },
        { "max_calls", NGX_HTTP_VOXANNE_DBT_MAX_CALLS, 0 },
        { "busy", NGX_HTTP_VOXANNE_DBT_BUSY, 0 },
        { "after_hours", NGX_HTTP_VOXANNE_DBT_AFTER_HOURS,
          NGX_HTTP_VOXANNE_DBT_AFTER_HOURS_NUMBER },
        { "fallback", NGX_HTTP_VOXANNE_DBT_FALLBACK,
          NGX_HTTP_VOXANNE_DBT_FALLBACK_NUMBER },
        { "voicemail_greeting", NGX_HTTP_VOXANNE_DBT_GREETING, 0 }
    };

    vmcf = dbt->vmcf;
    f = &field[NGX_HTTP_VOXANNE_DBT_SLUG];

    if (f->len == 0 || f->len > NGX_HTTP_VOXANNE_TOKEN_TENANT_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid tenant name");
        return NULL;
    }

    /* nginx.conf wins */

    tp = vmcf->tenants.elts;

    for (i = 0; i < vmcf->tenants.nelts; i++) {
        if ((tp[i]->name.len == f->len
             && ngx_strncmp(tp[i]->name.data, f->data, f->len) == 0)
            || (tp[i]->org_id.len == field[NGX_HTTP_VOXANNE_DBT_ORG_ID].len
                && ngx_strncmp(tp[i]->org_id.data,
                               field[NGX_HTTP_VOXANNE_DBT_ORG_ID].data,
                               tp[i]->org_id.len)
                   == 0))
        {
            if (log) {
                ngx_log_error(NGX_LOG_WARN, log, 0,
                              "voxanne: database tenant \"%V\" is ignored: "
                              "tenant \"%V\" of nginx.conf has its name or "
                              "org_id", f, &tp[i]->name);
            }

            return NULL;
        }
    }

    t = ngx_http_voxanne_tenant_new(cf, f);
    if (t == NULL) {
        return NULL;
    }

    for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        args[0] = field[settings[i].field];

        if (args[0].len == 0) {
            continue;
        }

        n = 1;

        if (settings[i].number && field[settings[i].number].len) {
            args[n++] = field[settings[i].number];
        }

        if (ngx_http_voxanne_tenant_set(cf, t, settings[i].directive, args, n)
            != NGX_CONF_OK)
        {
            return NULL;
        }
    }

    if (ngx_http_voxanne_dbt_numbers(dbt, t,
                                     &field[NGX_HTTP_VOXANNE_DBT_NUMBERS],
                                     log)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tenant \"%V\" has no numbers of its own",
                           &t->name);
        return NULL;
    }

    for (i = NGX_HTTP_VOXANNE_DBT_TOKEN; i < NGX_HTTP_VOXANNE_DBT_FIELDS; i++)
    {
        if (field[i].len
            && ngx_http_voxanne_tenant_key(cf, t, &field[i]) != NGX_OK)
        {
            return NULL;
        }
    }

    /* only the zones read at configuration time */

    f = &field[NGX_HTTP_VOXANNE_DBT_TIMEZONE];

    tz = ngx_http_voxanne_dbt_tz(dbt, f);

    if (tz == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "timezone \"%V\" of tenant \"%V\" is not loaded, "
                           "add it to voxanne_db_tenants timezones= and "
                           "reload", f, &t->name);
        return NULL;
    }

    t->timezone = *f;
    t->tz = *tz;

    /* the agent, checked as nginx.conf's; its messages must fit the bridge */

    t->agent.instructions = field[NGX_HTTP_VOXANNE_DBT_INSTRUCTIONS];

    for (i = NGX_HTTP_VOXANNE_DBT_VOICE;
         i <= NGX_HTTP_VOXANNE_DBT_AGENT_GREETING;
         i++)
    {
        if (field[i].len
            && ngx_http_voxanne_tenant_set(cf, t,
                                           i == NGX_HTTP_VOXANNE_DBT_VOICE
                                           ? "voice" : "greeting",
                                           &field[i], 1)
               != NGX_CONF_OK)
        {
            return NULL;
        }
    }

    /* the same text as nginx.conf: "mon-fri 09:00-17:00, sat 10:00-14:00" */

    if (field[NGX_HTTP_VOXANNE_DBT_HOURS].len
        && ngx_http_voxanne_dbt_split(cf, t, "hours",
                                      &field[NGX_HTTP_VOXANNE_DBT_HOURS],
                                      " \t")
           != NGX_CONF_OK)
    {
        return NULL;
    }

    /* date[] as text: {2026-12-25,2027-01-01} */

    f = &field[NGX_HTTP_VOXANNE_DBT_CLOSED];

    if (f->len > 2
        && ngx_http_voxanne_dbt_split(cf, t, "closed", f, "{,}")
           != NGX_CONF_OK)
    {
        return NULL;
    }

    if (ngx_http_voxanne_tenant_done(cf, t) != NGX_CONF_OK) {
        return NULL;
    }

    if (t->agent.session.len > NGX_HTTP_VOXANNE_DBT_AGENT_MAX
        || t->agent.response.len > NGX_HTTP_VOXANNE_DBT_AGENT_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the agent's instructions and greeting of tenant "
                           "\"%V\" make a session.update of %uz bytes, at "
                           "most %d are possible", &t->name,
                           ngx_max(t->agent.session.len,
                                   t->agent.response.len),
                           NGX_HTTP_VOXANNE_DBT_AGENT_MAX);
        return NULL;
    }

    return t;
}


/* {+15551230000,...}: each number nginx.conf does not have */

static ngx_int_t
ngx_http_voxanne_dbt_numbers(ngx_http_voxanne_dbt_t *dbt,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *list, ngx_log_t *log)
{
    u_char                     *p, *last;
    ngx_str_t                   s, *number;
    ngx_http_voxanne_tenant_t  *other;

    p = list->data;
    last = list->data + list->len;

    while (p < last) {
        while (p < last && (*p == '{' || *p == '}' || *p == ',')) {
            p++;
        }

        s.data = p;

        while (p < last && *p != ',' && *p != '}') {
            p++;
        }

        s.len = p - s.data;

        if (!ngx_http_voxanne_e164(&s)) {
            continue;
        }

        other = ngx_hash_find(&dbt->vmcf->numbers,
                              ngx_hash_key(s.data, s.len), s.data, s.len);

        if (other) {
            if (log) {
                ngx_log_error(NGX_LOG_WARN, log, 0,
                              "voxanne: number %V of database tenant \"%V\" "
                              "is tenant \"%V\"'s in nginx.conf, which wins",
                              &s, &t->name, &other->name);
            }

            continue;
        }

        if (t->numbers.nelts == 64) {
            break;
        }

        number = ngx_array_push(&t->numbers);
        if (number == NULL) {
            return NGX_ERROR;
        }

        *number = s;
    }

    return t->numbers.nelts ? NGX_OK : NGX_DECLINED;
}


/* a directive whose arguments are a column's words */

static char *
ngx_http_voxanne_dbt_split(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    char *directive, ngx_str_t *text, char *separators)
{
    u_char      *p, *last;
    ngx_str_t   *args;
    ngx_uint_t   n;

    args = ngx_palloc(cf->pool,
                      NGX_HTTP_VOXANNE_DBT_ARGS_MAX * sizeof(ngx_str_t));
    if (args == NULL) {
        return NGX_CONF_ERROR;
    }

    p = text->data;
    last = text->data + text->len;
    n = 0;

    while (p < last) {
        if (ngx_strchr(separators, *p)) {
            p++;
            continue;
        }

        if (n == NGX_HTTP_VOXANNE_DBT_ARGS_MAX) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "too many words in %s", directive);
            return NGX_CONF_ERROR;
        }

        args[n].data = p;

        while (p < last && ngx_strchr(separators, *p) == NULL) {
            p++;
        }

        args[n].len = p - args[n].data;
        n++;
    }

    if (n == 0) {
        return NGX_CONF_OK;
    }

    return ngx_http_voxanne_tenant_set(cf, t, directive, args, n);
}


static ngx_http_voxanne_tz_t *
ngx_http_voxanne_dbt_tz(ngx_http_voxanne_dbt_t *dbt, ngx_str_t *name)
{
    ngx_uint_t                     i;
    ngx_http_voxanne_tenant_t    **tp;
    ngx_http_voxanne_dbt_zone_t   *z;

    z = dbt->zones.elts;

    for (i = 0; i < dbt->zones.nelts; i++) {
        if (z[i].name.len == name->len
            && ngx_strncmp(z[i].name.data, name->data, name->len) == 0)
        {
            return &z[i].tz;
        }
    }

    tp = dbt->vmcf->tenants.elts;

    for (i = 0; i < dbt->vmcf->tenants.nelts; i++) {
        if (tp[i]->timezone.len == name->len
            && ngx_strncmp(tp[i]->timezone.data, name->data, name->len) == 0)
        {
            return &tp[i]->tz;
        }
    }

    return NULL;
}
