
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * libFuzzer target of the redaction of card and social security numbers:
 * any bytes give a text no longer than they were, with no byte read or
 * written outside the text and its scratch room, and redacting it again
 * changes nothing.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>
#include "ngx_http_voxanne_redact.h"
#include "fuzz.h"


static ngx_http_voxanne_redact_t  fuzz_rd;
static ngx_uint_t                 fuzz_ready;


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char  *text, *scratch, *again;
    size_t   n, m;

    if (!fuzz_ready) {
        fuzz_assert(ngx_http_voxanne_redact_init(&fuzz_rd) == NGX_OK);
        fuzz_ready = 1;
    }

    text = fuzz_copy(data, size);
    scratch = fuzz_alloc(size);

    n = ngx_http_voxanne_redact(&fuzz_rd, text, size, scratch);

    fuzz_assert(n <= size);

    again = fuzz_copy(text, n);

    m = ngx_http_voxanne_redact(&fuzz_rd, again, n, scratch);

    fuzz_assert(m == n && (n == 0 || memcmp(again, text, n) == 0));

    free(again);
    free(scratch);
    free(text);

    return 0;
}
