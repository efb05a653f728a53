
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <dirent.h>
#include <sys/file.h>
#include "ngx_http_voxanne.h"


#define NGX_HTTP_VOXANNE_SPOOL_BUF     (256 * 1024)
#define NGX_HTTP_VOXANNE_SPOOL_FILES   1024    /* looked at in one scan */
#define NGX_HTTP_VOXANNE_SPOOL_NAME    64      /* of a file, in the folder */
#define NGX_HTTP_VOXANNE_SPOOL_SUFFIX  ".spool"


/*
 * A write: with a name, close the file open (it is full) and open that
 * one; then append and sync; then close the file if asked.
 */

typedef struct {
    ngx_fd_t                          fd;
    u_char                           *name;      /* the next file */
    u_char                           *buf;
    size_t                            len;
    ngx_uint_t                        close;
    ngx_err_t                         err;
    const char                       *failed;    /* the call that failed */
} ngx_http_voxanne_spool_write_t;


/*
 * A replay's file: close the file taken (unlinked once all its records are
 * written); then, when scanning, take the oldest one no worker holds and
 * read it.
 */

typedef struct {
    ngx_str_t                         path;
    ngx_fd_t                          fd;        /* the file taken */
    u_char                            name[NGX_MAX_PATH];
    u_char                           *data;
    size_t                            size;      /* of data */
    size_t                            len;       /* read */
    ngx_uint_t                        unlink;
    ngx_uint_t                        scan;
    ngx_uint_t                        files;
    off_t                             disk;      /* all files, in bytes */
    ngx_err_t                         err;
    const char                       *failed;
} ngx_http_voxanne_spool_read_t;


struct ngx_http_voxanne_spool_s {
    ngx_http_voxanne_spool_conf_t    *conf;
    ngx_log_t                        *log;
    ngx_pool_t                       *pool;

    /* appending */
    ngx_fd_t                          fd;        /* the open file, locked */
    off_t                             file_size;
    ngx_uint_t                        seq;
    u_char                           *buf[2];
    size_t                            len[2];
    ngx_uint_t                        cur;       /* the buffer appends fill */
    ngx_thread_task_t                *write;
    ngx_event_t                       timer;
    off_t                             disk;      /* the folder's size */

    /* replaying */
    ngx_thread_task_t                *read;
    ngx_http_voxanne_spool_replay_pt  handler;
    void                             *data;
    u_char                           *pos;       /* the next record */
    u_char                           *last;

    ngx_http_voxanne_spool_stats_t    stats;

    unsigned                          writing:1;
    unsigned                          rotate:1;  /* close after the write */
    unsigned                          reading:1;
    unsigned                          replaying:1;
    unsigned                          waiting:1; /* on next() */
    unsigned                          full:1;    /* alerted */
};


static void ngx_http_voxanne_spool_flush(ngx_http_voxanne_spool_t *sp);
static u_char *ngx_http_voxanne_spool_name(ngx_http_voxanne_spool_t *sp);
static void ngx_http_voxanne_spool_timer(ngx_event_t *ev);
static void ngx_http_voxanne_spool_write_thread(void *data, ngx_log_t *log);
static void ngx_http_voxanne_spool_written(ngx_event_t *ev);
static void ngx_http_voxanne_spool_take(ngx_http_voxanne_spool_t *sp,
    ngx_uint_t unlink);
static void ngx_http_voxanne_spool_read_thread(void *data, ngx_log_t *log);
static void ngx_http_voxanne_spool_scan(ngx_http_voxanne_spool_read_t *rd,
    ngx_log_t *log);
static void ngx_http_voxanne_spool_taken(ngx_event_t *ev);
static void ngx_http_voxanne_spool_feed(ngx_http_voxanne_spool_t *sp);
static int ngx_libc_cdecl ngx_http_voxanne_spool_cmp(const void *one,
    const void *two);


/* voxanne_spool path [max_size=size] [flush=time] */

char *
ngx_http_voxanne_spool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_voxanne_main_conf_t *vmcf = conf;

    ngx_str_t                      *value, s;
    ngx_uint_t                      i;
    ngx_http_voxanne_spool_conf_t  *scf;

    scf = &vmcf->spool;

    if (scf->path.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    scf->path = value[1];

    if (ngx_conf_full_name(cf->cycle, &scf->path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (scf->path.len + 64 >= NGX_MAX_PATH) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "voxanne_spool path \"%V\" is too long", &value[1]);
        return NGX_CONF_ERROR;
    }

    scf->max_size = 256 * 1024 * 1024;
    scf->flush = 100;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "max_size=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            scf->max_size = ngx_parse_offset(&s);

            if (scf->max_size < NGX_HTTP_VOXANNE_SPOOL_FILE) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid max_size \"%V\", at least 1m is "
                                   "expected", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "flush=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            scf->flush = ngx_parse_time(&s, 0);

            if (scf->flush == (ngx_msec_t) NGX_ERROR || scf->flush == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid flush \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    scf->thread_pool = ngx_thread_pool_add(cf, NULL);
    if (scf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The folder is made by the master once the configuration is read, for the
 * workers' user, as nginx makes its temp paths.
 */

ngx_int_t
ngx_http_voxanne_spool_init_module(ngx_cycle_t *cycle,
    ngx_http_voxanne_spool_conf_t *scf)
{
    ngx_core_conf_t  *ccf;

    if (scf->path.data == NULL) {
        return NGX_OK;
    }

    if (ngx_create_full_path(scf->path.data, 0700) != 0
        || (ngx_create_dir(scf->path.data, 0700) == NGX_FILE_ERROR
            && ngx_errno != NGX_EEXIST))
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      ngx_create_dir_n " \"%V\" failed", &scf->path);
        return NGX_ERROR;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx, ngx_core_module);

    if (geteuid() == 0
        && chown((char *) scf->path.data, ccf->user, (gid_t) -1) == -1)
    {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "chown(\"%V\", %d) failed", &scf->path, ccf->user);
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_voxanne_spool_init_process(ngx_cycle_t *cycle,
    ngx_http_voxanne_spool_conf_t *scf)
{
    ngx_http_voxanne_spool_t  *sp;

    if (scf->path.data == NULL) {
        return NGX_OK;
    }

    sp = ngx_pcalloc(cycle->pool, sizeof(ngx_http_voxanne_spool_t));
    if (sp == NULL) {
        return NGX_ERROR;
    }

    sp->conf = scf;
    sp->log = cycle->log;
    sp->pool = cycle->pool;
    sp->fd = NGX_INVALID_FILE;

    sp->write = ngx_thread_task_alloc(cycle->pool,
                                      sizeof(ngx_http_voxanne_spool_write_t));
    sp->read = ngx_thread_task_alloc(cycle->pool,
                                     sizeof(ngx_http_voxanne_spool_read_t));

    if (sp->write == NULL || sp->read == NULL) {
        return NGX_ERROR;
    }

    sp->write->handler = ngx_http_voxanne_spool_write_thread;
    sp->write->event.handler = ngx_http_voxanne_spool_written;
    sp->write->event.data = sp;
    sp->write->event.log = cycle->log;

    sp->read->handler = ngx_http_voxanne_spool_read_thread;
    sp->read->event.handler = ngx_http_voxanne_spool_taken;
    sp->read->event.data = sp;
    sp->read->event.log = cycle->log;

    sp->timer.handler = ngx_http_voxanne_spool_timer;
    sp->timer.data = sp;
    sp->timer.log = cycle->log;
    sp->timer.cancelable = 1;

    scf->spool = sp;

    return NGX_OK;
}


/*
 * The worker exits: what is still in memory is written at once, blocking,
 * as nginx flushes its buffered logs; a write in flight finishes in its
 * thread before the thread pool ends.
 */

void
ngx_http_voxanne_spool_exit_process(ngx_http_voxanne_spool_conf_t *scf)
{
    ngx_uint_t                       i;
    ngx_http_voxanne_spool_t        *sp;
    ngx_http_voxanne_spool_write_t   w;

    sp = scf->spool;

    if (sp == NULL || sp->writing) {
        return;
    }

    for (i = 0; i < 2; i++) {
        if (sp->len[sp->cur ^ i] == 0) {
            continue;
        }

        ngx_memzero(&w, sizeof(ngx_http_voxanne_spool_write_t));

        w.fd = sp->fd;
        w.buf = sp->buf[sp->cur ^ i];
        w.len = sp->len[sp->cur ^ i];

        if (w.fd == NGX_INVALID_FILE) {
            w.name = ngx_http_voxanne_spool_name(sp);
            if (w.name == NULL) {
                return;
            }
        }

        ngx_http_voxanne_spool_write_thread(&w, sp->log);

        if (w.failed) {
            ngx_log_error(NGX_LOG_ALERT, sp->log, w.err,
                          "voxanne: spool: %s failed, %uz bytes of call "
                          "data lost", w.failed, w.len);
        }

        sp->fd = w.fd;
    }

    if (sp->fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(sp->fd);
        sp->fd = NGX_INVALID_FILE;
    }
}


ngx_int_t
ngx_http_voxanne_spool_append(ngx_http_voxanne_spool_t *sp, u_char *record,
    size_t len)
{
    size_t      n;
    ngx_uint_t  i;

    if (sp == NULL) {
        return NGX_DECLINED;
    }

    if (sp->disk + (off_t) (len + NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD)
        > sp->conf->max_size)
    {
        if (!sp->full) {
            sp->full = 1;
            ngx_log_error(NGX_LOG_ALERT, sp->log, 0,
                          "voxanne: spool \"%V\" is full (max_size %O): "
                          "call data is being lost", &sp->conf->path,
                          sp->conf->max_size);
        }

        goto lost;
    }

    if (sp->buf[0] == NULL) {
        for (i = 0; i < 2; i++) {
            sp->buf[i] = ngx_palloc(sp->pool, NGX_HTTP_VOXANNE_SPOOL_BUF);
            if (sp->buf[i] == NULL) {
                goto lost;
            }
        }
    }

    n = ngx_http_voxanne_journal_encode(sp->buf[sp->cur] + sp->len[sp->cur],
                                        NGX_HTTP_VOXANNE_SPOOL_BUF
                                        - sp->len[sp->cur],
                                        record, len);
    if (n == 0) {
        ngx_log_error(NGX_LOG_ALERT, sp->log, 0,
                      "voxanne: spool: no room for a record of %uz bytes, "
                      "call data lost", len);
        goto lost;
    }

    sp->len[sp->cur] += n;
    sp->disk += n;
    sp->stats.records++;

    if (sp->len[sp->cur] > NGX_HTTP_VOXANNE_SPOOL_BUF / 2) {
        ngx_http_voxanne_spool_flush(sp);

    } else if (!sp->timer.timer_set) {
        ngx_add_timer(&sp->timer, sp->conf->flush);
    }

    return NGX_OK;

lost:

    sp->stats.lost++;

    return NGX_DECLINED;
}


static void
ngx_http_voxanne_spool_timer(ngx_event_t *ev)
{
    ngx_http_voxanne_spool_flush(ev->data);
}


/* the filled buffer goes to the disk, appends go on into the other one */

static void
ngx_http_voxanne_spool_flush(ngx_http_voxanne_spool_t *sp)
{
    ngx_http_voxanne_spool_write_t  *w;

    if (sp->writing || (sp->len[sp->cur] == 0 && !sp->rotate)) {
        return;
    }

    if (sp->timer.timer_set) {
        ngx_del_timer(&sp->timer);
    }

    w = sp->write->ctx;
    ngx_memzero(w, sizeof(ngx_http_voxanne_spool_write_t));

    w->fd = sp->fd;
    w->buf = sp->buf[sp->cur];
    w->len = sp->len[sp->cur];

    /* a file holds NGX_HTTP_VOXANNE_SPOOL_FILE bytes at most */

    if (w->len
        && (sp->fd == NGX_INVALID_FILE
            || sp->file_size + (off_t) w->len > NGX_HTTP_VOXANNE_SPOOL_FILE))
    {
        w->name = ngx_http_voxanne_spool_name(sp);
        if (w->name == NULL) {
            return;
        }

        sp->file_size = 0;
    }

    w->close = sp->rotate;

    if (ngx_thread_task_post(sp->conf->thread_pool, sp->write) != NGX_OK) {
        return;
    }

    sp->writing = 1;
    sp->rotate = 0;
    sp->cur ^= 1;
}


/* the path of a new file: names sort by time, then by worker and number */

static u_char *
ngx_http_voxanne_spool_name(ngx_http_voxanne_spool_t *sp)
{
    u_char  *p;

    p = ngx_pnalloc(sp->pool, sp->conf->path.len + NGX_HTTP_VOXANNE_SPOOL_NAME);
    if (p == NULL) {
        return NULL;
    }

    (void) ngx_sprintf(p, "%V/%010T.%P.%ui" NGX_HTTP_VOXANNE_SPOOL_SUFFIX "%Z",
                       &sp->conf->path, ngx_time(), ngx_pid, sp->seq++);

    return p;
}


/* in a thread: nothing here touches the worker's memory but the task's */

static void
ngx_http_voxanne_spool_write_thread(void *data, ngx_log_t *log)
{
    ngx_http_voxanne_spool_write_t *w = data;

    ssize_t  n;
    size_t   done;

    if (w->name) {
        if (w->fd != NGX_INVALID_FILE) {
            (void) ngx_close_file(w->fd);
        }

        w->fd = ngx_open_file(w->name, NGX_FILE_WRONLY|NGX_FILE_APPEND,
                              NGX_FILE_CREATE_OR_OPEN, 0600);

        if (w->fd == NGX_INVALID_FILE) {
            w->err = ngx_errno;
            w->failed = ngx_open_file_n;
            return;
        }

        /* the file is this worker's while it is open */

        if (flock(w->fd, LOCK_EX|LOCK_NB) == -1) {
            w->err = ngx_errno;
            w->failed = "flock()";
            return;
        }
    }

    for (done = 0; done < w->len; done += n) {
        n = write(w->fd, w->buf + done, w->len - done);

        if (n == -1) {
            w->err = ngx_errno;

            if (w->err == NGX_EINTR) {
                n = 0;
                continue;
            }

            w->failed = "write()";
            return;
        }
    }

    if (w->len && fdatasync(w->fd) == -1) {
        w->err = ngx_errno;
        w->failed = "fdatasync()";
        return;
    }

    if (w->close && w->fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(w->fd);
        w->fd = NGX_INVALID_FILE;
    }
}


static void
ngx_http_voxanne_spool_written(ngx_event_t *ev)
{
    ngx_http_voxanne_spool_t        *sp;
    ngx_http_voxanne_spool_write_t  *w;

    sp = ev->data;
    w = sp->write->ctx;

    sp->writing = 0;
    sp->fd = w->fd;
    sp->len[sp->cur ^ 1] = 0;

    if (w->failed) {
        ngx_log_error(NGX_LOG_ALERT, sp->log, w->err,
                      "voxanne: spool: %s \"%s\" failed, %uz bytes of call "
                      "data lost", w->failed, w->name ? w->name : (u_char *) "",
                      w->len);

        sp->disk -= w->len;

        if (sp->fd != NGX_INVALID_FILE) {
            (void) ngx_close_file(sp->fd);
            sp->fd = NGX_INVALID_FILE;
        }

    } else {
        sp->file_size += w->len;
    }

    if (sp->len[sp->cur] > NGX_HTTP_VOXANNE_SPOOL_BUF / 2 || sp->rotate) {
        ngx_http_voxanne_spool_flush(sp);

    } else if (sp->len[sp->cur] && !sp->timer.timer_set) {
        ngx_add_timer(&sp->timer, sp->conf->flush);
    }
}


void
ngx_http_voxanne_spool_replay(ngx_http_voxanne_spool_t *sp,
    ngx_http_voxanne_spool_replay_pt handler, void *data)
{
    if (sp == NULL || sp->replaying) {
        return;
    }

    sp->handler = handler;
    sp->data = data;
    sp->replaying = 1;

    /* this worker's open file is closed, to be replayed with the others */

    if (sp->fd != NGX_INVALID_FILE || sp->len[sp->cur]) {
        sp->rotate = 1;
        ngx_http_voxanne_spool_flush(sp);
    }

    ngx_http_voxanne_spool_take(sp, 0);
}


void
ngx_http_voxanne_spool_next(ngx_http_voxanne_spool_t *sp, ngx_int_t rc)
{
    if (!sp->waiting) {
        return;
    }

    sp->waiting = 0;

    if (rc == NGX_ERROR) {

        /* the database went away: the file waits for the next replay */

        sp->pos = sp->last;
        sp->replaying = 0;
        ngx_http_voxanne_spool_take(sp, 0);
        return;
    }

    sp->stats.replayed++;

    ngx_http_voxanne_spool_feed(sp);
}


void
ngx_http_voxanne_spool_stats(ngx_http_voxanne_spool_t *sp,
    ngx_http_voxanne_spool_stats_t *st)
{
    *st = sp->stats;
    st->size = sp->disk;
    st->replaying = sp->replaying;
    st->full = sp->full;
}


/*
 * Finishes the file taken, if any (unlinked when all its records were
 * written), then, while replaying, takes the next one.
 */

static void
ngx_http_voxanne_spool_take(ngx_http_voxanne_spool_t *sp, ngx_uint_t unlink)
{
    ngx_http_voxanne_spool_read_t  *rd;

    if (sp->reading) {
        return;
    }

    rd = sp->read->ctx;

    if (rd->path.data == NULL) {
        ngx_memzero(rd, sizeof(ngx_http_voxanne_spool_read_t));
        rd->path = sp->conf->path;
        rd->fd = NGX_INVALID_FILE;
    }

    if (rd->data == NULL && sp->replaying) {
        rd->size = NGX_HTTP_VOXANNE_SPOOL_FILE + NGX_HTTP_VOXANNE_SPOOL_BUF;
        rd->data = ngx_alloc(rd->size, sp->log);
        if (rd->data == NULL) {
            sp->replaying = 0;
            return;
        }
    }

    rd->unlink = unlink;
    rd->scan = sp->replaying;
    rd->err = 0;
    rd->failed = NULL;

    if (ngx_thread_task_post(sp->conf->thread_pool, sp->read) != NGX_OK) {
        sp->replaying = 0;
        return;
    }

    sp->reading = 1;
}


/* in a thread */

static void
ngx_http_voxanne_spool_read_thread(void *data, ngx_log_t *log)
{
    ngx_http_voxanne_spool_read_t *rd = data;

    ssize_t  n;

    if (rd->fd != NGX_INVALID_FILE) {
        if (rd->unlink && unlink((char *) rd->name) == -1) {
            rd->err = ngx_errno;
            rd->failed = "unlink()";
        }

        (void) ngx_close_file(rd->fd);
        rd->fd = NGX_INVALID_FILE;
    }

    rd->len = 0;

    if (!rd->scan) {
        return;
    }

    ngx_http_voxanne_spool_scan(rd, log);

    if (rd->fd == NGX_INVALID_FILE) {
        return;
    }

    while (rd->len < rd->size) {
        n = read(rd->fd, rd->data + rd->len, rd->size - rd->len);

        if (n == -1 && ngx_errno == NGX_EINTR) {
            continue;
        }

        if (n == -1) {
            rd->err = ngx_errno;
            rd->failed = "read()";
            rd->len = 0;
            return;
        }

        if (n == 0) {
            break;
        }

        rd->len += n;
    }
}


/*
 * The oldest file no worker holds, locked and opened in rd->fd; and the
 * size of all the folder's files.
 */

static void
ngx_http_voxanne_spool_scan(ngx_http_voxanne_spool_read_t *rd, ngx_log_t *log)
{
    DIR             *dir;
    size_t           len, suffix;
    ngx_fd_t         fd;
    ngx_uint_t       i, n;
    struct stat      st;
    struct dirent   *de;
    u_char         (*names)[NGX_HTTP_VOXANNE_SPOOL_NAME];

    rd->files = 0;
    rd->disk = 0;

    dir = opendir((char *) rd->path.data);
    if (dir == NULL) {
        rd->err = ngx_errno;
        rd->failed = "opendir()";
        return;
    }

    /*
     * the names are kept at the end of the data buffer while looking: it
     * is NGX_HTTP_VOXANNE_SPOOL_BUF longer than the longest file
     */

    names = (u_char (*)[NGX_HTTP_VOXANNE_SPOOL_NAME]) (rd->data + rd->size)
            - NGX_HTTP_VOXANNE_SPOOL_FILES;
    n = 0;
    suffix = sizeof(NGX_HTTP_VOXANNE_SPOOL_SUFFIX) - 1;

    while ((de = readdir(dir)) != NULL) {
        len = ngx_strlen(de->d_name);

        if (len <= suffix || len >= NGX_HTTP_VOXANNE_SPOOL_NAME
            || ngx_strcmp(de->d_name + len - suffix,
                          NGX_HTTP_VOXANNE_SPOOL_SUFFIX) != 0)
        {
            continue;
        }

        (void) ngx_sprintf(rd->name, "%V/%s%Z", &rd->path, de->d_name);

        if (stat((char *) rd->name, &st) == 0) {
            rd->disk += st.st_size;
        }

        rd->files++;

        if (n < NGX_HTTP_VOXANNE_SPOOL_FILES) {
            (void) ngx_cpystrn(names[n++], (u_char *) de->d_name, len + 1);
        }
    }

    (void) closedir(dir);

    ngx_qsort(names, n, NGX_HTTP_VOXANNE_SPOOL_NAME,
              ngx_http_voxanne_spool_cmp);

    for (i = 0; i < n; i++) {
        (void) ngx_sprintf(rd->name, "%V/%s%Z", &rd->path, names[i]);

        fd = ngx_open_file(rd->name, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

        if (fd == NGX_INVALID_FILE) {
            continue;
        }

        if (flock(fd, LOCK_EX|LOCK_NB) == 0) {
            rd->fd = fd;
            return;
        }

        (void) ngx_close_file(fd);
    }
}


static void
ngx_http_voxanne_spool_taken(ngx_event_t *ev)
{
    ngx_http_voxanne_spool_t       *sp;
    ngx_http_voxanne_spool_read_t  *rd;

    sp = ev->data;
    rd = sp->read->ctx;

    sp->reading = 0;
    sp->stats.files = rd->files;
    sp->disk = rd->disk + sp->len[0] + sp->len[1];

    if (sp->disk < sp->conf->max_size && sp->full) {
        sp->full = 0;
        ngx_log_error(NGX_LOG_NOTICE, sp->log, 0,
                      "voxanne: spool \"%V\" takes call data again",
                      &sp->conf->path);
    }

    if (rd->failed) {
        ngx_log_error(NGX_LOG_ALERT, sp->log, rd->err,
                      "voxanne: spool: %s in \"%V\" failed", rd->failed,
                      &rd->path);
    }

    if (!rd->scan || rd->fd == NGX_INVALID_FILE) {

        /* the replay stopped, or nothing is left: the buffer goes */

        ngx_free(rd->data);
        rd->data = NULL;
        sp->replaying = 0;
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, sp->log, 0,
                  "voxanne: spool: replaying \"%s\", %uz bytes", rd->name,
                  rd->len);

    sp->pos = rd->data;
    sp->last = rd->data + rd->len;

    ngx_http_voxanne_spool_feed(sp);
}


/* the next record to the replay handler; at the end, the next file */

static void
ngx_http_voxanne_spool_feed(ngx_http_voxanne_spool_t *sp)
{
    ngx_int_t   rc;
    ngx_str_t   record;

    while (sp->pos < sp->last) {

        rc = ngx_http_voxanne_journal_decode(&sp->pos, sp->last, &record);

        if (rc == NGX_OK) {
            sp->waiting = 1;
            sp->handler(sp, &record, sp->data);
            return;
        }

        if (rc == NGX_AGAIN) {

            /* a torn append at the end: the worker died while writing */

            ngx_log_error(NGX_LOG_WARN, sp->log, 0,
                          "voxanne: spool: %uz bytes of a torn record "
                          "skipped", (size_t) (sp->last - sp->pos));
            break;
        }

        ngx_log_error(NGX_LOG_ALERT, sp->log, 0,
                      "voxanne: spool: a damaged record skipped");
    }

    ngx_http_voxanne_spool_take(sp, 1);
}


static int ngx_libc_cdecl
ngx_http_voxanne_spool_cmp(const void *one, const void *two)
{
    return ngx_strcmp((u_char *) one, (u_char *) two);
}
