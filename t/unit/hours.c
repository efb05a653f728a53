
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the business hours parser and its open/closed decision.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>
#include "ngx_http_voxanne_hours.h"
#include "tap.h"


static ngx_int_t
parse(ngx_http_voxanne_hours_t *hours, const char **tokens)
{
    ngx_str_t  s;

    ngx_memzero(hours, sizeof(ngx_http_voxanne_hours_t));

    for ( /* void */ ; *tokens; tokens++) {
        s.data = (u_char *) *tokens;
        s.len = strlen(*tokens);

        if (ngx_http_voxanne_hours_add(hours, &s) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_uint_t
open_at(ngx_http_voxanne_hours_t *hours, ngx_uint_t wday, ngx_uint_t h,
    ngx_uint_t m)
{
    ngx_http_voxanne_tm_t  tm;

    tm.wday = wday;
    tm.minute = h * 60 + m;

    return ngx_http_voxanne_hours_open(hours, &tm);
}


static ngx_int_t
date(const char *s)
{
    ngx_str_t  str;

    str.data = (u_char *) s;
    str.len = strlen(s);

    return ngx_http_voxanne_hours_date(&str);
}


/*
 * Hours in a real zone across both DST changes of 2026: "sun 09:00-17:00"
 * in America/New_York, asked at UTC instants.  Both changes fall on a
 * Sunday, so a wrong offset shows as a wrong answer at opening time.
 */

static void
test_dst(void)
{
    FILE                      *f;
    size_t                     n;
    ngx_http_voxanne_tz_t      tz;
    ngx_http_voxanne_tm_t      tm;
    ngx_http_voxanne_hours_t   h;
    static u_char              data[65536];
    static const char         *sunday[] = { "sun", "09:00-17:00", NULL };

    /* 2026-03-08 00:00 UTC and 2026-11-01 00:00 UTC */

    static const struct {
        int64_t      t;
        ngx_uint_t   open;
        const char  *what;
    } at[] = {
        { 1772928000 + 12 * 3600 + 59 * 60, 0,
          "spring forward: 12:59 UTC is 08:59 EDT, closed" },
        { 1772928000 + 13 * 3600, 1,
          "spring forward: 13:00 UTC is 09:00 EDT, open" },
        { 1772928000 + 20 * 3600 + 59 * 60, 1,
          "spring forward: 20:59 UTC is 16:59 EDT, open" },
        { 1772928000 + 21 * 3600, 0,
          "spring forward: 21:00 UTC is 17:00 EDT, closed" },
        { 1793491200 + 13 * 3600 + 59 * 60, 0,
          "fall back: 13:59 UTC is 08:59 EST, closed" },
        { 1793491200 + 14 * 3600, 1,
          "fall back: 14:00 UTC is 09:00 EST, open" },
        { 1793491200 + 21 * 3600 + 59 * 60, 1,
          "fall back: 21:59 UTC is 16:59 EST, open" },
        { 1793491200 + 22 * 3600, 0,
          "fall back: 22:00 UTC is 17:00 EST, closed" }
    };

    f = fopen("/usr/share/zoneinfo/America/New_York", "r");
    if (f == NULL) {
        abort();
    }

    n = fread(data, 1, sizeof(data), f);
    fclose(f);

    if (ngx_http_voxanne_tz_parse(&tz, data, n) != NGX_OK
        || parse(&h, sunday) != NGX_OK)
    {
        abort();
    }

    for (n = 0; n < sizeof(at) / sizeof(at[0]); n++) {
        ngx_http_voxanne_tz_local(&tz, at[n].t, &tm);
        tap_ok(tm.wday == 0 && ngx_http_voxanne_hours_open(&h, &tm)
                               == at[n].open,
               "%s", at[n].what);
    }
}


int
main(void)
{
    ngx_uint_t                i;
    ngx_http_voxanne_hours_t  h;

    static const char  *week[] = { "mon-fri", "09:00-17:00,", "sat",
                                   "10:00-14:00", NULL };
    static const char  *split[] = { "mon,wed", "08:00-12:00", "13:00-24:00",
                                    NULL };
    static const char  *wrap[] = { "fri-mon", "00:00-24:00", NULL };

    static const char  *bad[][4] = {
        { "09:00-17:00", NULL },
        { "mon", "17:00-09:00", NULL },
        { "mon", "09:00-09:00", NULL },
        { "mon", "9:00-17:00", NULL },
        { "mon", "09:60-17:00", NULL },
        { "mon", "09:00-24:01", NULL },
        { "monday", "09:00-17:00", NULL },
        { "mon-", "09:00-17:00", NULL },
        { "mon,,tue", "09:00-17:00", NULL },
        { "mon", "09:00", NULL },
        { ",", NULL },
    };

    tap_ok(parse(&h, week) == NGX_OK && h.nranges == 2, "mon-fri and sat");
    tap_ok(!open_at(&h, 1, 8, 59), "closed the minute before opening");
    tap_ok(open_at(&h, 1, 9, 0), "open at opening");
    tap_ok(open_at(&h, 5, 16, 59), "open the minute before closing");
    tap_ok(!open_at(&h, 5, 17, 0), "closed at closing");
    tap_ok(open_at(&h, 6, 13, 0) && !open_at(&h, 6, 14, 0), "saturday");
    tap_ok(!open_at(&h, 0, 12, 0), "closed on sunday");

    tap_ok(parse(&h, split) == NGX_OK && h.nranges == 2, "a split day");
    tap_ok(open_at(&h, 3, 11, 59) && !open_at(&h, 3, 12, 30)
           && open_at(&h, 3, 23, 59) && !open_at(&h, 2, 10, 0),
           "lunch break, open until midnight, tuesday closed");

    tap_ok(parse(&h, wrap) == NGX_OK, "fri-mon");
    tap_ok(open_at(&h, 5, 0, 0) && open_at(&h, 6, 12, 0)
           && open_at(&h, 0, 12, 0) && open_at(&h, 1, 23, 59)
           && !open_at(&h, 2, 12, 0) && !open_at(&h, 4, 12, 0),
           "a day range wraps over the weekend");

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tap_ok(parse(&h, bad[i]) == NGX_ERROR, "rejects \"%s %s\"", bad[i][0],
               bad[i][1] ? bad[i][1] : "");
    }

    tap_ok(date("2026-12-25") == 20261225, "a date");
    tap_ok(date("2028-02-29") == 20280229, "a leap day");
    tap_ok(date("2026-02-29") == NGX_ERROR, "not a leap year");
    tap_ok(date("2100-02-29") == NGX_ERROR, "2100 is not a leap year");
    tap_ok(date("2026-04-31") == NGX_ERROR, "april has 30 days");
    tap_ok(date("2026-13-01") == NGX_ERROR, "month 13");
    tap_ok(date("2026-1-01") == NGX_ERROR, "short month");
    tap_ok(date("2026/12/25") == NGX_ERROR, "slashes");

    test_dst();

    return tap_done();
}
