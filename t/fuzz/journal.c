
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * libFuzzer target: the spool's record reader.  The input is read as a
 * spool file, in a heap block of its own size; every record it gives must
 * be a whole line of the input whose CRC holds and which the writer would
 * write byte for byte, the position must only move forward, and a damaged
 * line must never swallow the record that follows its newline.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_journal.h"
#include "fuzz.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char     *buf, *pos, *prev, *line, *last, *record;
    size_t      n;
    ngx_int_t   rc;
    ngx_str_t   payload;

    buf = fuzz_copy(data, size);
    last = buf + size;
    pos = buf;

    for ( ;; ) {
        prev = pos;
        rc = ngx_http_voxanne_journal_decode(&pos, last, &payload);

        if (rc == NGX_AGAIN) {
            fuzz_assert(pos == prev);
            fuzz_assert(memchr(prev, '\n', last - prev) == NULL);
            break;
        }

        fuzz_assert(pos > prev && pos <= last);

        if (rc == NGX_DECLINED) {

            /*
             * it ends at its first newline, or where the longest record
             * would, when no newline comes before that
             */

            line = memchr(prev, '\n', pos - prev);

            fuzz_assert(line == pos - 1
                        || (line == NULL
                            && (size_t) (pos - prev)
                               == NGX_HTTP_VOXANNE_JOURNAL_MAX
                                  + NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD));

            continue;
        }

        fuzz_assert(rc == NGX_OK);
        fuzz_assert(pos[-1] == '\n');
        fuzz_assert(payload.data == prev + 9);
        fuzz_assert(payload.data + payload.len == pos - 1);
        fuzz_assert(memchr(payload.data, '\n', payload.len) == NULL);

        record = fuzz_alloc(payload.len + NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD);

        n = ngx_http_voxanne_journal_encode(record,
                                  payload.len
                                  + NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD,
                                  payload.data, payload.len);

        fuzz_assert(n == (size_t) (pos - prev));
        fuzz_assert(memcmp(record, prev, n) == 0);

        free(record);
    }

    free(buf);

    return 0;
}
