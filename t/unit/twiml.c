
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the TwiML formatter: counting and writing agree, and every
 * XML special character is escaped in %E and copied as is in %V.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdarg.h>
#include <stdlib.h>
#include "ngx_http_voxanne_twiml.h"
#include "tap.h"


#define ESCAPED  "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&apos;s&lt;/a&gt;"


static size_t
format(u_char *buf, size_t size, const char *fmt, ...)
{
    size_t   len, written;
    va_list  args;

    va_start(args, fmt);
    len = ngx_http_voxanne_twiml_format(NULL, fmt, args);
    va_end(args);

    if (len > size) {
        return (size_t) -1;
    }

    /* one byte past the counted length must stay untouched */

    memset(buf, '#', size);

    va_start(args, fmt);
    written = ngx_http_voxanne_twiml_format(buf, fmt, args);
    va_end(args);

    if (written != len || (len < size && buf[len] != '#')) {
        return (size_t) -1;
    }

    return len;
}


int
main(void)
{
    u_char     buf[256];
    size_t     n;
    ngx_str_t  plain = ngx_string("+15551230000");
    ngx_str_t  special = ngx_string("<a href=\"x\">Tom & Jerry's</a>");
    ngx_str_t  control = ngx_string("a\x01" "b\tc\nd\re\x1f");
    ngx_str_t  empty = ngx_string("");

    n = format(buf, sizeof(buf), "<Response><Hangup/></Response>");
    tap_is_mem(buf, n, "<Response><Hangup/></Response>", "a constant document");

    n = format(buf, sizeof(buf), "<Dial>%E</Dial>", &plain);
    tap_is_mem(buf, n, "<Dial>+15551230000</Dial>", "%%E of plain text");

    n = format(buf, sizeof(buf), "<Say>%E</Say>", &special);
    tap_is_mem(buf, n, "<Say>" ESCAPED "</Say>", "the five XML entities");

    n = format(buf, sizeof(buf), "%V|%E", &special, &special);
    tap_ok(n == special.len + 1 + sizeof(ESCAPED) - 1
           && memcmp(buf, special.data, special.len) == 0
           && memcmp(buf + special.len + 1, ESCAPED, sizeof(ESCAPED) - 1)
              == 0,
           "%%V copies as is, %%E escapes");

    n = format(buf, sizeof(buf), "[%E]", &control);
    tap_is_mem(buf, n, "[ab\tc\nd\re]", "control characters XML forbids "
               "are dropped, whitespace kept");

    n = format(buf, sizeof(buf), "a%Eb%%c%V", &empty, &empty);
    tap_is_mem(buf, n, "ab%c", "empty strings and %%%%");

    n = format(buf, 5, "<Say>%E</Say>", &special);
    tap_ok(n == (size_t) -1, "the count is the whole length (too long for "
           "a 5-byte buffer)");

    return tap_done();
}
