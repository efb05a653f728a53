
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the TZif reader: every zone below is checked against the C
 * library's localtime_r() with the same tz database, every 7 hours and 13
 * minutes from 1901 to 2100 (so both the transition table and the footer
 * rule after 2037 are exercised), then at both sides of known transitions.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <time.h>
#include "ngx_http_voxanne_tz.h"
#include "tap.h"


static u_char *
load(const char *zone, ngx_http_voxanne_tz_t *tz, ngx_int_t *rc)
{
    FILE    *f;
    char     path[256];
    size_t   len;
    u_char  *data;

    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);

    f = fopen(path, "rb");
    if (f == NULL) {
        *rc = NGX_ABORT;
        return NULL;
    }

    data = malloc(1 << 20);
    len = fread(data, 1, 1 << 20, f);
    fclose(f);

    *rc = ngx_http_voxanne_tz_parse(tz, data, len);

    return data;
}


static void
compare(const char *zone)
{
    u_char                 *data;
    int64_t                 t, bad;
    ngx_int_t               rc;
    struct tm               tm;
    ngx_uint_t              n;
    ngx_http_voxanne_tz_t   tz;

    data = load(zone, &tz, &rc);

    if (rc != NGX_OK) {
        tap_ok(0, "%s parses (rc %d)", zone, (int) rc);
        free(data);
        return;
    }

    setenv("TZ", zone, 1);
    tzset();

    bad = 0;
    n = 0;

    for (t = -2177452800LL; t < 4102444800LL; t += 7 * 3600 + 13 * 60) {
        time_t  tt = (time_t) t;

        localtime_r(&tt, &tm);
        n++;

        if (ngx_http_voxanne_tz_offset(&tz, t) != tm.tm_gmtoff && bad == 0) {
            bad = t;
        }
    }

    tap_ok(bad == 0, "%s agrees with localtime_r at %lu instants%s", zone,
           (unsigned long) n, bad ? " (not at the first mismatch)" : "");

    if (bad) {
        printf("#   first mismatch at %lld\n", (long long) bad);
    }

    free(data);
}


static void
local(const char *zone, int64_t t, const char *want)
{
    char                    got[64];
    u_char                 *data;
    ngx_int_t               rc;
    ngx_http_voxanne_tm_t   tm;
    ngx_http_voxanne_tz_t   tz;

    data = load(zone, &tz, &rc);
    ngx_http_voxanne_tz_local(&tz, t, &tm);

    snprintf(got, sizeof(got), "%04d-%02u-%02u %02u:%02u wday %u",
             (int) tm.year, (unsigned) tm.month, (unsigned) tm.mday,
             (unsigned) (tm.minute / 60), (unsigned) (tm.minute % 60),
             (unsigned) tm.wday);

    tap_is_mem(got, strlen(got), want, "%s at %lld", zone, (long long) t);

    free(data);
}


int
main(void)
{
    u_char                  junk[64];
    ngx_int_t               rc;
    const char            **z;
    ngx_http_voxanne_tz_t   tz;

    static const char  *zones[] = {
        "UTC", "America/New_York", "America/Los_Angeles", "America/Phoenix",
        "America/St_Johns", "America/Sao_Paulo", "America/Nuuk",
        "Europe/London", "Europe/Berlin", "Europe/Dublin", "Asia/Kolkata",
        "Asia/Tokyo", "Australia/Sydney", "Australia/Lord_Howe",
        "Pacific/Chatham", "Pacific/Auckland", "Africa/Casablanca",
        "Antarctica/Troll", NULL
    };

    for (z = zones; *z; z++) {
        compare(*z);
    }

    /* 2026-03-08 02:00 EST becomes 03:00 EDT at 07:00 UTC */

    local("America/New_York", 1772928000 + 6 * 3600 + 59 * 60,
          "2026-03-08 01:59 wday 0");
    local("America/New_York", 1772928000 + 7 * 3600,
          "2026-03-08 03:00 wday 0");

    /* 2026-11-01 02:00 EDT falls back to 01:00 EST at 06:00 UTC */

    local("America/New_York", 1793491200 + 5 * 3600 + 59 * 60,
          "2026-11-01 01:59 wday 0");
    local("America/New_York", 1793491200 + 6 * 3600,
          "2026-11-01 01:00 wday 0");

    /* after the table: 2050-03-13 is the second Sunday of March */

    local("America/New_York", 2530742400LL + 7 * 3600,
          "2050-03-13 03:00 wday 0");
    local("Asia/Kolkata", 0, "1970-01-01 05:30 wday 4");
    local("UTC", -1, "1969-12-31 23:59 wday 3");

    ngx_memzero(junk, sizeof(junk));
    tap_ok(ngx_http_voxanne_tz_parse(&tz, junk, sizeof(junk)) == NGX_ERROR,
           "not a TZif file");

    ngx_memcpy(junk, "TZif2", 5);
    junk[39] = 1;
    rc = ngx_http_voxanne_tz_parse(&tz, junk, sizeof(junk));
    tap_ok(rc == NGX_ERROR, "counts beyond the end of the file");

    junk[4] = 0;
    tap_ok(ngx_http_voxanne_tz_parse(&tz, junk, 44) == NGX_DECLINED,
           "version 1 files are not supported");

    return tap_done();
}
