
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_TOOL_ARGS_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_TOOL_ARGS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * The checks of a tool's arguments, as the model gives them, before
 * anything reaches PostgreSQL: each returns NGX_OK or NGX_DECLINED, and
 * writes the normalized value into out where it takes one.  A pure codec
 * (no I/O, no allocation), for unit tests.
 *
 *     date      YYYY-MM-DD, a day that exists
 *     time      HH:MM or HH:MM:SS, 24 hours; out: HH:MM
 *     datetime  a date, "T" or a space, a time; out: YYYY-MM-DD HH:MM
 *     phone     E.164 after spaces, dashes, dots and parentheses are
 *               dropped: "+" and 7 to 15 digits, the first not 0
 *     email     no blanks, one "@" after something, a dot inside what
 *               follows it; up to 254 bytes
 *     text      1 to max bytes, none of them control characters
 */


#define NGX_HTTP_VOXANNE_TOOL_TIME_LEN      5       /* HH:MM */
#define NGX_HTTP_VOXANNE_TOOL_DATETIME_LEN  16      /* YYYY-MM-DD HH:MM */
#define NGX_HTTP_VOXANNE_TOOL_PHONE_LEN     16      /* + and 15 digits */
#define NGX_HTTP_VOXANNE_TOOL_EMAIL_MAX     254


ngx_int_t ngx_http_voxanne_tool_args_date(u_char *p, size_t len);
ngx_int_t ngx_http_voxanne_tool_args_time(u_char *p, size_t len, u_char *out);
ngx_int_t ngx_http_voxanne_tool_args_datetime(u_char *p, size_t len,
    u_char *out);
ngx_int_t ngx_http_voxanne_tool_args_phone(u_char *p, size_t len, u_char *out,
    size_t *out_len);
ngx_int_t ngx_http_voxanne_tool_args_email(u_char *p, size_t len);
ngx_int_t ngx_http_voxanne_tool_args_text(u_char *p, size_t len, size_t max);


#endif /* _NGX_HTTP_VOXANNE_TOOL_ARGS_H_INCLUDED_ */
