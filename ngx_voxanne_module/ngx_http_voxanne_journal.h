
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_JOURNAL_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_JOURNAL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * The record format of the spool, where writes wait while PostgreSQL cannot
 * take them: one line per record,
 *
 *     <crc> SP <payload> LF
 *
 * <crc> is the CRC-32C of the payload in 8 lowercase hex digits, and the
 * payload is any bytes but LF (the spool writes compact JSON, whose strings
 * escape their newlines), at most NGX_HTTP_VOXANNE_JOURNAL_MAX bytes.  A
 * line is whole or it is not a record: a crash in the middle of an append
 * leaves a last line without its LF, which the reader leaves alone, and a
 * damaged line fails its CRC and is skipped without losing the lines after
 * it.  A pure codec (libc only, no allocation, no I/O) so that unit tests
 * and fuzzers drive it directly.
 *
 * encode() writes one record to dst and returns its size, or 0 when the
 * payload is empty, too long, holds a LF, or does not fit size bytes
 * (NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD + len always fit).
 *
 * decode() reads the record at *pos:
 *
 *     NGX_OK        *payload is the record's, in the buffer; *pos is after
 *                   its LF;
 *     NGX_AGAIN     no LF yet, *pos unchanged: the buffer ends with a part
 *                   of a line (read more after it), or with a torn append
 *                   at the end of the file;
 *     NGX_DECLINED  a damaged line, skipped: *pos is after its LF, or the
 *                   length of the longest record on when no LF comes within
 *                   it (the rest of that line then reads as damage too).
 */


#define NGX_HTTP_VOXANNE_JOURNAL_MAX       (256 * 1024)
#define NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD  10


size_t ngx_http_voxanne_journal_encode(u_char *dst, size_t size,
    u_char *payload, size_t len);
ngx_int_t ngx_http_voxanne_journal_decode(u_char **pos, u_char *last,
    ngx_str_t *payload);
uint32_t ngx_http_voxanne_journal_crc(u_char *p, size_t len);


#endif /* _NGX_HTTP_VOXANNE_JOURNAL_H_INCLUDED_ */
