
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the spool's record format.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>
#include "ngx_http_voxanne_journal.h"
#include "tap.h"


#define RECORD  "{\"q\":\"call_start\",\"p\":[\"CA1\"]}"


static void
test_crc(void)
{
    /* the check value of CRC-32C (RFC 3720 B.4, and the CRC catalogue) */

    tap_ok(ngx_http_voxanne_journal_crc((u_char *) "123456789", 9)
           == 0xe3069283, "CRC-32C of \"123456789\" is e3069283");

    /* RFC 3720 B.4: 32 bytes of zeros, and of 0xff */

    {
        u_char  buf[32];

        memset(buf, 0, sizeof(buf));
        tap_ok(ngx_http_voxanne_journal_crc(buf, 32) == 0x8a9136aa,
               "CRC-32C of 32 zeros is 8a9136aa");

        memset(buf, 0xff, sizeof(buf));
        tap_ok(ngx_http_voxanne_journal_crc(buf, 32) == 0x62a8ab43,
               "CRC-32C of 32 0xff bytes is 62a8ab43");
    }
}


static void
test_round_trip(void)
{
    u_char     buf[256], *pos;
    size_t     n, m;
    ngx_int_t  rc;
    ngx_str_t  payload;

    n = ngx_http_voxanne_journal_encode(buf, sizeof(buf), (u_char *) RECORD,
                                        sizeof(RECORD) - 1);

    tap_ok(n == sizeof(RECORD) - 1 + NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD,
           "a record is its payload and 10 bytes");
    tap_ok(buf[8] == ' ' && buf[n - 1] == '\n',
           "the CRC, a space, the payload, a newline");

    m = ngx_http_voxanne_journal_encode(buf + n, sizeof(buf) - n,
                                        (u_char *) "x", 1);

    pos = buf;
    rc = ngx_http_voxanne_journal_decode(&pos, buf + n + m, &payload);
    tap_ok(rc == NGX_OK, "the first record decodes");
    tap_is_mem(payload.data, payload.len, RECORD, "its payload");
    tap_ok(pos == buf + n, "the position is after its newline");

    rc = ngx_http_voxanne_journal_decode(&pos, buf + n + m, &payload);
    tap_ok(rc == NGX_OK, "the second record decodes");
    tap_is_mem(payload.data, payload.len, "x", "its payload");

    rc = ngx_http_voxanne_journal_decode(&pos, buf + n + m, &payload);
    tap_ok(rc == NGX_AGAIN && pos == buf + n + m,
           "the end of the buffer: again");
}


static void
test_refused(void)
{
    u_char  buf[64];

    tap_ok(ngx_http_voxanne_journal_encode(buf, sizeof(buf),
                                           (u_char *) "", 0) == 0,
           "an empty payload is not written");
    tap_ok(ngx_http_voxanne_journal_encode(buf, sizeof(buf),
                                           (u_char *) "a\nb", 3) == 0,
           "a payload with a newline is not written");
    tap_ok(ngx_http_voxanne_journal_encode(buf, 12, (u_char *) "abc", 3) == 0,
           "a record that does not fit is not written");
    tap_ok(ngx_http_voxanne_journal_encode(buf, 13, (u_char *) "abc", 3) == 13,
           "a record that just fits is written");
}


static void
test_damage(void)
{
    u_char     buf[256], *pos, *last;
    size_t     n;
    ngx_int_t  rc;
    ngx_str_t  payload;

    /* three records; the middle one is damaged in turn at every byte */

    n = ngx_http_voxanne_journal_encode(buf, 64, (u_char *) "first", 5);
    last = buf + n;
    last += ngx_http_voxanne_journal_encode(last, 64, (u_char *) "second", 6);
    last += ngx_http_voxanne_journal_encode(last, 64, (u_char *) "third", 5);

    {
        size_t      i, bad;
        ngx_uint_t  ok;

        bad = 0;

        for (i = n; i < n + 16; i++) {
            buf[i] ^= 0x20;

            pos = buf;
            ok = ngx_http_voxanne_journal_decode(&pos, last, &payload)
                 == NGX_OK;

            rc = ngx_http_voxanne_journal_decode(&pos, last, &payload);

            if (i == n + 15) {

                /* the newline itself: "second" runs into "third" */

                ok = ok && rc == NGX_DECLINED && pos == last;

            } else {
                ok = ok && rc == NGX_DECLINED
                     && ngx_http_voxanne_journal_decode(&pos, last, &payload)
                        == NGX_OK
                     && payload.len == 5
                     && memcmp(payload.data, "third", 5) == 0;
            }

            bad += !ok;
            buf[i] ^= 0x20;
        }

        tap_ok(bad == 0, "a flipped bit anywhere in a record skips it alone");
    }

    /* a torn append: the last record without its newline */

    pos = buf;
    rc = ngx_http_voxanne_journal_decode(&pos, buf + n - 1, &payload);
    tap_ok(rc == NGX_AGAIN && pos == buf, "a torn record waits");

    /* a line too short, and one with a non-hex CRC */

    memcpy(buf, "12345678 \n", 10);
    pos = buf;
    rc = ngx_http_voxanne_journal_decode(&pos, buf + 10, &payload);
    tap_ok(rc == NGX_DECLINED && pos == buf + 10, "an empty payload is damage");

    memcpy(buf, "E3069283 123456789\n", 19);
    pos = buf;
    rc = ngx_http_voxanne_journal_decode(&pos, buf + 19, &payload);
    tap_ok(rc == NGX_DECLINED, "an uppercase CRC is damage");

    memcpy(buf, "e3069283 123456789\n", 19);
    pos = buf;
    rc = ngx_http_voxanne_journal_decode(&pos, buf + 19, &payload);
    tap_ok(rc == NGX_OK && payload.len == 9,
           "a record written by hand with the check value decodes");
}


static void
test_longest(void)
{
    u_char     *buf, *pos, *last;
    size_t      n, size;
    ngx_int_t   rc;
    ngx_str_t   payload;

    size = 2 * (NGX_HTTP_VOXANNE_JOURNAL_MAX
                + NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD);

    buf = malloc(size);
    if (buf == NULL) {
        tap_ok(0, "memory");
        return;
    }

    memset(buf, 'a', size);

    n = ngx_http_voxanne_journal_encode(buf, size, buf + 100,
                                        NGX_HTTP_VOXANNE_JOURNAL_MAX + 1);
    tap_ok(n == 0, "a payload over the longest is not written");

    n = ngx_http_voxanne_journal_encode(buf, size, buf + size / 2,
                                        NGX_HTTP_VOXANNE_JOURNAL_MAX);
    tap_ok(n == NGX_HTTP_VOXANNE_JOURNAL_MAX
                + NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD,
           "the longest payload is written");

    pos = buf;
    rc = ngx_http_voxanne_journal_decode(&pos, buf + size, &payload);
    tap_ok(rc == NGX_OK && payload.len == NGX_HTTP_VOXANNE_JOURNAL_MAX,
           "and read back");

    /* a line longer than any record, then a record */

    memset(buf, 'a', size);
    n = size - 20;
    buf[n - 1] = '\n';
    last = buf + n;
    last += ngx_http_voxanne_journal_encode(last, 20, (u_char *) "next", 4);

    pos = buf;
    rc = ngx_http_voxanne_journal_decode(&pos, last, &payload);
    tap_ok(rc == NGX_DECLINED
           && pos == buf + NGX_HTTP_VOXANNE_JOURNAL_MAX
                     + NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD,
           "a line longer than the longest record is damage");

    rc = ngx_http_voxanne_journal_decode(&pos, last, &payload);
    tap_ok(rc == NGX_DECLINED && pos == buf + n,
           "and so is its rest, up to its newline");

    rc = ngx_http_voxanne_journal_decode(&pos, last, &payload);
    tap_ok(rc == NGX_OK && payload.len == 4
           && memcmp(payload.data, "next", 4) == 0,
           "the record after it is read");

    free(buf);
}


int
main(void)
{
    test_crc();
    test_round_trip();
    test_refused();
    test_damage();
    test_longest();

    return tap_done();
}
