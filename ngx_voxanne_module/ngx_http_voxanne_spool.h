
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_SPOOL_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_SPOOL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


/*
 * The spool (voxanne_spool): where the writes PostgreSQL cannot take wait,
 * on local disk, until they are replayed.  Each worker appends records
 * (ngx_http_voxanne_journal.h) to files of its own, at most
 * NGX_HTTP_VOXANNE_SPOOL_FILE bytes each, through nginx's thread pool: the
 * event loop never waits on the disk.  A file is replayed whole, record by
 * record in order, by whichever worker of the node takes its lock first,
 * once it is closed; a file whose worker died (or of an earlier run) is
 * unlocked and replayed too.  Replays are idempotent (the statements use
 * natural keys), so a replay cut short is simply run again.
 *
 * append() copies the record: NGX_OK, or NGX_DECLINED when it is lost (no
 * spool, the spool is full, no memory), which it logs.
 *
 * replay() starts a replay when none runs and a closed file waits: the
 * handler is called with each record in turn, and the replay waits until
 * next() says how it went: NGX_OK or NGX_DECLINED (a record that can never
 * be written, logged by the caller) go on, NGX_ERROR (the database went
 * away) stops, and the file is replayed again later from its start.
 */


#define NGX_HTTP_VOXANNE_SPOOL_FILE  (1024 * 1024)


typedef struct ngx_http_voxanne_spool_s  ngx_http_voxanne_spool_t;

typedef void (*ngx_http_voxanne_spool_replay_pt)(ngx_http_voxanne_spool_t *sp,
    ngx_str_t *record, void *data);


typedef struct {
    ngx_str_t                         path;        /* a folder */
    off_t                             max_size;    /* a worker's, on disk */
    ngx_msec_t                        flush;
    ngx_thread_pool_t                *thread_pool;
    ngx_http_voxanne_spool_t         *spool;       /* the worker's */
} ngx_http_voxanne_spool_conf_t;


typedef struct {
    ngx_uint_t                        records;     /* appended */
    ngx_uint_t                        lost;
    ngx_uint_t                        replayed;
    off_t                             size;        /* on disk, this worker's */
    ngx_uint_t                        files;       /* waiting, last seen */
    ngx_uint_t                        replaying;
    ngx_uint_t                        full;
} ngx_http_voxanne_spool_stats_t;


char *ngx_http_voxanne_spool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_voxanne_spool_init_module(ngx_cycle_t *cycle,
    ngx_http_voxanne_spool_conf_t *scf);
ngx_int_t ngx_http_voxanne_spool_init_process(ngx_cycle_t *cycle,
    ngx_http_voxanne_spool_conf_t *scf);
void ngx_http_voxanne_spool_exit_process(ngx_http_voxanne_spool_conf_t *scf);

ngx_int_t ngx_http_voxanne_spool_append(ngx_http_voxanne_spool_t *sp,
    u_char *record, size_t len);
void ngx_http_voxanne_spool_replay(ngx_http_voxanne_spool_t *sp,
    ngx_http_voxanne_spool_replay_pt handler, void *data);
void ngx_http_voxanne_spool_next(ngx_http_voxanne_spool_t *sp, ngx_int_t rc);
void ngx_http_voxanne_spool_stats(ngx_http_voxanne_spool_t *sp,
    ngx_http_voxanne_spool_stats_t *st);


#endif /* _NGX_HTTP_VOXANNE_SPOOL_H_INCLUDED_ */
