
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the tools' argument checks (ngx_http_voxanne_tool_args.c):
 * what passes, what it becomes, and what is refused, at each boundary.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_tool_args.h"
#include "tap.h"


#define S(s)  (u_char *) (s), strlen(s)


static void
date(const char *in, ngx_int_t want)
{
    tap_ok(ngx_http_voxanne_tool_args_date(S(in)) == want, "date \"%s\" %s",
           in, want == NGX_OK ? "passes" : "is refused");
}


static void
datetime(const char *in, const char *want)
{
    u_char     out[NGX_HTTP_VOXANNE_TOOL_DATETIME_LEN];
    ngx_int_t  rc;

    rc = ngx_http_voxanne_tool_args_datetime(S(in), out);

    if (want == NULL) {
        tap_ok(rc == NGX_DECLINED, "datetime \"%s\" is refused", in);
        return;
    }

    tap_ok(rc == NGX_OK, "datetime \"%s\" passes", in);
    tap_is_mem(out, rc == NGX_OK ? sizeof(out) : 0, want,
               "datetime \"%s\" becomes \"%s\"", in, want);
}


static void
phone(const char *in, const char *want)
{
    u_char     out[NGX_HTTP_VOXANNE_TOOL_PHONE_LEN];
    size_t     len;
    ngx_int_t  rc;

    len = 0;
    rc = ngx_http_voxanne_tool_args_phone(S(in), out, &len);

    if (want == NULL) {
        tap_ok(rc == NGX_DECLINED, "phone \"%s\" is refused", in);
        return;
    }

    tap_is_mem(out, rc == NGX_OK ? len : 0, want, "phone \"%s\" becomes %s",
               in, want);
}


static void
email(const char *in, ngx_int_t want)
{
    tap_ok(ngx_http_voxanne_tool_args_email(S(in)) == want, "email \"%s\" %s",
           in, want == NGX_OK ? "passes" : "is refused");
}


int
main(void)
{
    u_char  out[NGX_HTTP_VOXANNE_TOOL_TIME_LEN], long_text[300];

    date("2026-11-24", NGX_OK);
    date("2028-02-29", NGX_OK);
    date("2000-02-29", NGX_OK);
    date("2026-12-31", NGX_OK);
    date("2026-02-29", NGX_DECLINED);
    date("2100-02-29", NGX_DECLINED);
    date("2026-04-31", NGX_DECLINED);
    date("2026-13-01", NGX_DECLINED);
    date("2026-00-10", NGX_DECLINED);
    date("2026-01-00", NGX_DECLINED);
    date("2026-1-10", NGX_DECLINED);
    date("2026/01/10", NGX_DECLINED);
    date("2026-01-10 ", NGX_DECLINED);
    date("20a6-01-10", NGX_DECLINED);
    date("tomorrow", NGX_DECLINED);
    date("", NGX_DECLINED);

    tap_ok(ngx_http_voxanne_tool_args_time(S("14:00"), out) == NGX_OK
           && memcmp(out, "14:00", 5) == 0, "time 14:00");
    tap_ok(ngx_http_voxanne_tool_args_time(S("09:30:00"), out) == NGX_OK
           && memcmp(out, "09:30", 5) == 0, "time 09:30:00 becomes 09:30");
    tap_ok(ngx_http_voxanne_tool_args_time(S("23:59:59"), out) == NGX_OK,
           "time 23:59:59");
    tap_ok(ngx_http_voxanne_tool_args_time(S("24:00"), out) == NGX_DECLINED,
           "time 24:00 is refused");
    tap_ok(ngx_http_voxanne_tool_args_time(S("12:60"), out) == NGX_DECLINED,
           "time 12:60 is refused");
    tap_ok(ngx_http_voxanne_tool_args_time(S("9:30"), out) == NGX_DECLINED,
           "time 9:30 is refused");
    tap_ok(ngx_http_voxanne_tool_args_time(S("2pm"), out) == NGX_DECLINED,
           "time 2pm is refused");
    tap_ok(ngx_http_voxanne_tool_args_time(S("14:00:"), out) == NGX_DECLINED,
           "time 14:00: is refused");
    tap_ok(ngx_http_voxanne_tool_args_time(S("14:00+01"), out)
           == NGX_DECLINED, "time with an offset is refused");

    datetime("2026-11-24T14:00", "2026-11-24 14:00");
    datetime("2026-11-24 14:00", "2026-11-24 14:00");
    datetime("2026-11-24T14:00:00", "2026-11-24 14:00");
    datetime("2026-11-24T14:00Z", NULL);
    datetime("2026-11-24T14:00:00-05:00", NULL);
    datetime("2026-11-24", NULL);
    datetime("2026-11-24T", NULL);
    datetime("2026-11-31T10:00", NULL);
    datetime("2026-11-24x14:00", NULL);

    phone("+15550100123", "+15550100123");
    phone("+1 (555) 010-0123", "+15550100123");
    phone(" +44 20 7946.0958", "+442079460958");
    phone("+1234567", "+1234567");
    phone("+123456789012345", "+123456789012345");
    phone("+1234567890123456", NULL);
    phone("+123456", NULL);
    phone("+0155501001", NULL);
    phone("5550100123", NULL);
    phone("+1555010012x3", NULL);
    phone("+", NULL);
    phone("", NULL);

    email("jordan.rivera@example.com", NGX_OK);
    email("a@b.c", NGX_OK);
    email("a@b", NGX_DECLINED);
    email("a@.bc", NGX_DECLINED);
    email("a@bc.", NGX_DECLINED);
    email("@b.c", NGX_DECLINED);
    email("a@b@c.d", NGX_DECLINED);
    email("a b@c.d", NGX_DECLINED);
    email("a.b.c", NGX_DECLINED);
    email("", NGX_DECLINED);

    ngx_memset(long_text, 'a', sizeof(long_text));

    tap_ok(ngx_http_voxanne_tool_args_text(S("Jordan Rivera"), 100) == NGX_OK,
           "text passes");
    tap_ok(ngx_http_voxanne_tool_args_text(long_text, 100, 100) == NGX_OK,
           "text of max bytes passes");
    tap_ok(ngx_http_voxanne_tool_args_text(long_text, 101, 100)
           == NGX_DECLINED, "text over max is refused");
    tap_ok(ngx_http_voxanne_tool_args_text(S(""), 100) == NGX_DECLINED,
           "empty text is refused");
    tap_ok(ngx_http_voxanne_tool_args_text(S("a\nb"), 100) == NGX_DECLINED,
           "a newline is refused");
    tap_ok(ngx_http_voxanne_tool_args_text(S("a\x7f"), 100) == NGX_DECLINED,
           "DEL is refused");
    tap_ok(ngx_http_voxanne_tool_args_text(S("Zo\xc3\xab"), 100) == NGX_OK,
           "UTF-8 passes");

    return tap_done();
}
