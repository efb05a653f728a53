
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


/*
 * voxanne_db: the parameters, and the conninfo checked and completed at
 * configuration time.  The pool: ngx_http_voxanne_db.c.
 */


#define NGX_HTTP_VOXANNE_DB_CONNINFO_MAX  8192
#define NGX_HTTP_VOXANNE_DB_POOL_MAX      1024
#define NGX_HTTP_VOXANNE_DB_QUEUE_MAX     65536


typedef struct {
    ngx_str_t                     name;
    ngx_uint_t                    offset;
    ngx_uint_t                    time;      /* else a number */
    ngx_int_t                     min;
    ngx_int_t                     max;
} ngx_http_voxanne_db_params_t;


static char *ngx_http_voxanne_db_conninfo(ngx_conf_t *cf,
    ngx_http_voxanne_db_conf_t *dbcf, const char *conninfo);
static char *ngx_http_voxanne_db_hosts(ngx_conf_t *cf, const char *host,
    const char *port, const char **hosts, const char **hostaddrs,
    const char **ports);
static ngx_int_t ngx_http_voxanne_db_split(ngx_conf_t *cf, const char *list,
    ngx_array_t *a);
static const char *ngx_http_voxanne_db_join(ngx_conf_t *cf, ngx_array_t *a);
static const char *ngx_http_voxanne_db_strdup(ngx_conf_t *cf, const char *s);
static void ngx_http_voxanne_db_parse_error(ngx_conf_t *cf, char *err);
static ngx_uint_t ngx_http_voxanne_db_keyword(PQconninfoOption *opts,
    u_char *p, size_t len);
static char *ngx_http_voxanne_db_param(ngx_conf_t *cf, ngx_str_t *value);


static ngx_http_voxanne_db_params_t  ngx_http_voxanne_db_params[] = {
    { ngx_string("pool="), offsetof(ngx_http_voxanne_db_conf_t, size),
      0, 1, NGX_HTTP_VOXANNE_DB_POOL_MAX },
    { ngx_string("queue="), offsetof(ngx_http_voxanne_db_conf_t, queue),
      0, 0, NGX_HTTP_VOXANNE_DB_QUEUE_MAX },
    { ngx_string("connect_timeout="),
      offsetof(ngx_http_voxanne_db_conf_t, connect_timeout),
      1, 1, NGX_MAX_INT32_VALUE },
    { ngx_string("query_timeout="),
      offsetof(ngx_http_voxanne_db_conf_t, query_timeout),
      1, 1, NGX_MAX_INT32_VALUE },
    { ngx_string("idle_timeout="),
      offsetof(ngx_http_voxanne_db_conf_t, idle_timeout),
      1, 1, NGX_MAX_INT32_VALUE },
    { ngx_null_string, 0, 0, 0, 0 }
};


/*
 * voxanne_db conninfo=... | conninfo_file=path [pool=n] [queue=n]
 *            [connect_timeout=t] [query_timeout=t] [idle_timeout=t];
 */

char *
ngx_http_voxanne_db(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voxanne_main_conf_t *vmcf = conf;

    char                          *rv;
    ngx_str_t                     *value, conninfo, file, s;
    ngx_int_t                      n;
    ngx_uint_t                     i, *field;
    ngx_http_voxanne_db_conf_t    *dbcf;
    ngx_http_voxanne_db_params_t  *p;

    dbcf = &vmcf->db;

    if (dbcf->keywords) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ngx_str_null(&conninfo);
    ngx_str_null(&file);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "conninfo=", 9) == 0
            || ngx_strncmp(value[i].data, "conninfo_file=", 14) == 0)
        {
            if (conninfo.data || file.data) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "one conninfo= or conninfo_file= is "
                                   "expected");
                return NGX_CONF_ERROR;
            }

            if (value[i].data[8] == '=') {
                conninfo.data = value[i].data + 9;
                conninfo.len = value[i].len - 9;

            } else {
                file.data = value[i].data + 14;
                file.len = value[i].len - 14;
            }

            continue;
        }

        for (p = ngx_http_voxanne_db_params; p->name.len; p++) {
            if (ngx_strncmp(value[i].data, p->name.data, p->name.len) == 0) {
                break;
            }
        }

        if (p->name.len == 0) {
            return ngx_http_voxanne_db_param(cf, &value[i]);
        }

        s.data = value[i].data + p->name.len;
        s.len = value[i].len - p->name.len;

        n = p->time ? ngx_parse_time(&s, 0) : ngx_atoi(s.data, s.len);
        field = (ngx_uint_t *) ((char *) dbcf + p->offset);

        /* ngx_uint_t and ngx_msec_t fields, both unset as -1 */

        if (*field != NGX_CONF_UNSET_UINT || n == NGX_ERROR
            || n < p->min || n > p->max)
        {
            return ngx_http_voxanne_db_param(cf, &value[i]);
        }

        *field = n;
    }

    if (file.data) {
        if (ngx_http_voxanne_tenant_read(cf, &file,
                                         NGX_HTTP_VOXANNE_DB_CONNINFO_MAX,
                                         &conninfo)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        while (conninfo.len && (conninfo.data[conninfo.len - 1] == '\n'
                                || conninfo.data[conninfo.len - 1] == '\r'
                                || conninfo.data[conninfo.len - 1] == ' '
                                || conninfo.data[conninfo.len - 1] == '\t'))
        {
            conninfo.len--;
        }

        conninfo.data[conninfo.len] = '\0';

    } else if (conninfo.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "conninfo= or conninfo_file= is expected");
        return NGX_CONF_ERROR;
    }

    if (conninfo.len == 0 || ngx_strlen(conninfo.data) != conninfo.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the conninfo of \"%V\" is empty or holds a NUL",
                           &cmd->name);
        rv = NGX_CONF_ERROR;

    } else {
        rv = ngx_http_voxanne_db_conninfo(cf, dbcf, (char *) conninfo.data);
    }

    if (file.data) {
        /* the only copy left is in the keyword arrays */
        ngx_explicit_memzero(conninfo.data, conninfo.len);
    }

    return rv;
}


/* never quotes a value: it may be a password */

static char *
ngx_http_voxanne_db_param(ngx_conf_t *cf, ngx_str_t *value)
{
    u_char  *eq;

    eq = ngx_strlchr(value->data, value->data + value->len, '=');

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%*s%s\"",
                       eq ? (size_t) (eq - value->data + 1) : value->len,
                       value->data, eq ? "..." : "");

    return NGX_CONF_ERROR;
}


/*
 * The conninfo (a key=value string or a URI) parsed by libpq and turned into
 * the keyword arrays of PQconnectStartParams(), completed with:
 *
 *   - hostaddr, when host names a server and hostaddr is not given: the
 *     names are resolved here, once, so that no worker waits for DNS (one
 *     host entry per address, as libpq would try them);
 *   - fallback_application_name=voxanne.
 *
 * Everything else (sslmode, options, ...) is passed on as it is.
 */

static char *
ngx_http_voxanne_db_conninfo(ngx_conf_t *cf, ngx_http_voxanne_db_conf_t *dbcf,
    const char *conninfo)
{
    char               *err, *rv;
    const char         *host, *port, *hosts, *hostaddrs, *ports;
    const char        **keywords, **values;
    ngx_uint_t          n, appname;
    PQconninfoOption   *opts, *o;

    err = NULL;

    opts = PQconninfoParse(conninfo, &err);

    if (opts == NULL) {
        ngx_http_voxanne_db_parse_error(cf, err);

        if (err) {
            PQfreemem(err);
        }

        return NGX_CONF_ERROR;
    }

    n = 0;
    host = NULL;
    port = NULL;
    appname = 0;
    hosts = NULL;
    hostaddrs = NULL;
    ports = NULL;

    for (o = opts; o->keyword; o++) {
        if (o->val == NULL) {
            continue;
        }

        n++;

        if (ngx_strcmp(o->keyword, "host") == 0) {
            host = o->val;

        } else if (ngx_strcmp(o->keyword, "port") == 0) {
            port = o->val;

        } else if (ngx_strcmp(o->keyword, "hostaddr") == 0) {
            hostaddrs = o->val;

        } else if (ngx_strcmp(o->keyword, "application_name") == 0
                   || ngx_strcmp(o->keyword, "fallback_application_name")
                      == 0)
        {
            appname = 1;
        }
    }

    rv = NGX_CONF_ERROR;

    if (host && hostaddrs == NULL) {
        if (ngx_http_voxanne_db_hosts(cf, host, port, &hosts, &hostaddrs,
                                      &ports)
            != NGX_CONF_OK)
        {
            goto done;
        }

    } else {
        hostaddrs = NULL;
    }

    /* room for hostaddr, fallback_application_name and the NULL */

    keywords = ngx_palloc(cf->pool, (n + 3) * sizeof(char *));
    values = ngx_palloc(cf->pool, (n + 3) * sizeof(char *));

    if (keywords == NULL || values == NULL) {
        goto done;
    }

    n = 0;

    for (o = opts; o->keyword; o++) {
        if (o->val == NULL) {
            continue;
        }

        keywords[n] = o->keyword;
        values[n] = o->val;

        if (hosts && ngx_strcmp(o->keyword, "host") == 0) {
            values[n] = hosts;

        } else if (ports && ngx_strcmp(o->keyword, "port") == 0) {
            values[n] = ports;
        }

        n++;
    }

    if (hostaddrs) {
        keywords[n] = "hostaddr";
        values[n++] = hostaddrs;
    }

    if (!appname) {
        keywords[n] = "fallback_application_name";
        values[n++] = "voxanne";
    }

    keywords[n] = NULL;
    values[n] = NULL;

    /* libpq's copies go with opts */

    for (n = 0; keywords[n]; n++) {
        keywords[n] = ngx_http_voxanne_db_strdup(cf, keywords[n]);
        values[n] = ngx_http_voxanne_db_strdup(cf, values[n]);

        if (keywords[n] == NULL || values[n] == NULL) {
            goto done;
        }
    }

    dbcf->keywords = keywords;
    dbcf->values = values;

    rv = NGX_CONF_OK;

done:

    for (o = opts; o->keyword; o++) {
        if (o->val) {
            ngx_explicit_memzero(o->val, ngx_strlen(o->val));
        }
    }

    PQconninfoFree(opts);

    return rv;
}


/*
 * host (and port, when it is a list) for libpq, with the hostaddr list
 * matching it: a socket folder or an address stands for itself, a name
 * becomes one entry per address it resolves to.  NGX_CONF_OK with *hosts
 * NULL: no names, nothing to add.
 */

static char *
ngx_http_voxanne_db_hosts(ngx_conf_t *cf, const char *host, const char *port,
    const char **hosts, const char **hostaddrs, const char **ports)
{
    u_char       *p;
    size_t        len;
    ngx_str_t    *h, *pt, *s;
    ngx_url_t     u;
    ngx_uint_t    i, k, names;
    ngx_array_t   in_hosts, in_ports, out_hosts, out_addrs, out_ports;
    u_char        addr[NGX_SOCKADDR_STRLEN];
#if (NGX_HAVE_INET6)
    u_char        inaddr6[16];
#endif

    if (ngx_http_voxanne_db_split(cf, host, &in_hosts) != NGX_OK
        || ngx_http_voxanne_db_split(cf, port ? port : "", &in_ports)
           != NGX_OK
        || ngx_array_init(&out_hosts, cf->temp_pool, 4, sizeof(ngx_str_t))
           != NGX_OK
        || ngx_array_init(&out_addrs, cf->temp_pool, 4, sizeof(ngx_str_t))
           != NGX_OK
        || ngx_array_init(&out_ports, cf->temp_pool, 4, sizeof(ngx_str_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (in_ports.nelts > 1 && in_ports.nelts != in_hosts.nelts) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "conninfo has %ui ports for %ui hosts",
                           in_ports.nelts, in_hosts.nelts);
        return NGX_CONF_ERROR;
    }

    h = in_hosts.elts;
    pt = in_ports.elts;
    names = 0;

    for (i = 0; i < in_hosts.nelts; i++) {
        p = h[i].data;
        len = h[i].len;

        if (len == 0 || p[0] == '/' || p[0] == '@'
            || ngx_inet_addr(p, len) != INADDR_NONE
#if (NGX_HAVE_INET6)
            || ngx_inet6_addr(p, len, inaddr6) == NGX_OK
#endif
           )
        {
            s = ngx_array_push(&out_addrs);
            if (s == NULL) {
                return NGX_CONF_ERROR;
            }

            /* a socket folder: an empty hostaddr entry */

            if (len && p[0] != '/' && p[0] != '@') {
                *s = h[i];

            } else {
                ngx_str_null(s);
            }

            k = 1;

        } else {
            ngx_memzero(&u, sizeof(ngx_url_t));

            u.url = h[i];
            u.default_port = 5432;

            if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "%s in PostgreSQL host \"%V\"",
                                   u.err ? u.err : "host not found", &h[i]);
                return NGX_CONF_ERROR;
            }

            for (k = 0; k < u.naddrs; k++) {
                s = ngx_array_push(&out_addrs);
                if (s == NULL) {
                    return NGX_CONF_ERROR;
                }

                s->len = ngx_sock_ntop(u.addrs[k].sockaddr,
                                       u.addrs[k].socklen, addr,
                                       NGX_SOCKADDR_STRLEN, 0);
                s->data = ngx_pnalloc(cf->pool, s->len);
                if (s->data == NULL) {
                    return NGX_CONF_ERROR;
                }

                ngx_memcpy(s->data, addr, s->len);
            }

            names++;
        }

        while (k--) {
            s = ngx_array_push(&out_hosts);
            if (s == NULL) {
                return NGX_CONF_ERROR;
            }

            *s = h[i];

            if (in_ports.nelts > 1) {
                s = ngx_array_push(&out_ports);
                if (s == NULL) {
                    return NGX_CONF_ERROR;
                }

                *s = pt[i];
            }
        }
    }

    *hosts = NULL;

    if (names == 0) {
        return NGX_CONF_OK;
    }

    *hosts = ngx_http_voxanne_db_join(cf, &out_hosts);
    *hostaddrs = ngx_http_voxanne_db_join(cf, &out_addrs);
    *ports = (in_ports.nelts > 1) ? ngx_http_voxanne_db_join(cf, &out_ports)
                                  : NULL;

    if (*hosts == NULL || *hostaddrs == NULL
        || (in_ports.nelts > 1 && *ports == NULL))
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_voxanne_db_split(ngx_conf_t *cf, const char *list, ngx_array_t *a)
{
    u_char     *p, *comma;
    ngx_str_t  *s;

    if (ngx_array_init(a, cf->temp_pool, 4, sizeof(ngx_str_t)) != NGX_OK) {
        return NGX_ERROR;
    }

    if (*list == '\0') {
        return NGX_OK;
    }

    p = (u_char *) list;

    for ( ;; ) {
        comma = (u_char *) ngx_strchr(p, ',');

        s = ngx_array_push(a);
        if (s == NULL) {
            return NGX_ERROR;
        }

        s->data = p;
        s->len = comma ? (size_t) (comma - p) : ngx_strlen(p);

        if (comma == NULL) {
            return NGX_OK;
        }

        p = comma + 1;
    }
}


static const char *
ngx_http_voxanne_db_join(ngx_conf_t *cf, ngx_array_t *a)
{
    u_char      *list, *p;
    size_t       len;
    ngx_str_t   *s;
    ngx_uint_t   i;

    s = a->elts;
    len = 1;

    for (i = 0; i < a->nelts; i++) {
        len += s[i].len + 1;
    }

    list = ngx_pnalloc(cf->pool, len);
    if (list == NULL) {
        return NULL;
    }

    p = list;

    for (i = 0; i < a->nelts; i++) {
        if (i) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, s[i].data, s[i].len);
    }

    *p = '\0';

    return (const char *) list;
}


static const char *
ngx_http_voxanne_db_strdup(ngx_conf_t *cf, const char *s)
{
    size_t   len;
    u_char  *p;

    len = ngx_strlen(s) + 1;

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, s, len);

    return (const char *) p;
}


/*
 * libpq's message, but a quoted piece of the conninfo is shown only when it
 * is an option's name, or the unknown option's name of the one message that
 * quotes it: anything else may be (part of) a password, and is left out
 * with the rest of the message.
 */

static void
ngx_http_voxanne_db_parse_error(ngx_conf_t *cf, char *err)
{
    u_char            *p, *q, *last, *out, *key;
    PQconninfoOption  *opts;
    u_char             msg[NGX_MAX_CONF_ERRSTR];

    static u_char      unknown[] = "invalid connection option \"";

    if (err == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid conninfo");
        return;
    }

    opts = PQconninfoParse("", NULL);

    key = (ngx_strncmp(err, unknown, sizeof(unknown) - 1) == 0)
          ? (u_char *) err + sizeof(unknown) - 2 : NULL;

    p = (u_char *) err;
    last = p + ngx_strlen(err);
    out = msg;

    while (p < last && out < msg + sizeof(msg) - 8) {

        if (*p == '\n') {
            break;
        }

        if (*p != '"') {
            *out++ = *p++;
            continue;
        }

        q = ngx_strlchr(p + 1, last, '"');

        if (q
            && (size_t) (q - p - 1) < (size_t) (msg + sizeof(msg) - 8 - out)
            && (p == key
                || (q - p == 2 && p[1] == '=')
                || (opts && ngx_http_voxanne_db_keyword(opts, p + 1,
                                                        q - p - 1))))
        {
            out = ngx_cpymem(out, p, q - p + 1);
            p = q + 1;
            continue;
        }

        out = ngx_cpymem(out, "\"...\"", 5);
        break;
    }

    if (opts) {
        PQconninfoFree(opts);
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid conninfo: %*s",
                       (size_t) (out - msg), msg);
}


static ngx_uint_t
ngx_http_voxanne_db_keyword(PQconninfoOption *opts, u_char *p, size_t len)
{
    for ( /* void */ ; opts->keyword; opts++) {
        if (ngx_strlen(opts->keyword) == len
            && ngx_strncmp(opts->keyword, p, len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


void
ngx_http_voxanne_db_create_conf(ngx_http_voxanne_db_conf_t *dbcf)
{
    /*
     * set by ngx_pcalloc() with the main conf:
     *
     *     dbcf->keywords = NULL;
     *     dbcf->values = NULL;
     *     dbcf->pool = NULL;
     */

    dbcf->size = NGX_CONF_UNSET_UINT;
    dbcf->queue = NGX_CONF_UNSET_UINT;
    dbcf->connect_timeout = NGX_CONF_UNSET_MSEC;
    dbcf->query_timeout = NGX_CONF_UNSET_MSEC;
    dbcf->idle_timeout = NGX_CONF_UNSET_MSEC;
}


void
ngx_http_voxanne_db_init_conf(ngx_http_voxanne_db_conf_t *dbcf)
{
    ngx_conf_init_uint_value(dbcf->size, 4);
    ngx_conf_init_uint_value(dbcf->queue, 64);
    ngx_conf_init_msec_value(dbcf->connect_timeout, 5000);
    ngx_conf_init_msec_value(dbcf->query_timeout, 5000);
    ngx_conf_init_msec_value(dbcf->idle_timeout, 60000);
}
