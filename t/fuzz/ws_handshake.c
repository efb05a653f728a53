
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * libFuzzer target: the client's check of a server's answer to the
 * WebSocket upgrade.  The input is
 *
 *     k (1 byte), k cut sizes, the answer
 *
 * and the answer is read three times as it grows: in reads of the cut
 * sizes (each plus one, in turn), whole, and a byte at a time, each time
 * from a heap block of exactly the bytes received so far.  The three must
 * agree, and each result is checked against the bytes: a head is whole
 * only when it ends with an empty line, an accepted one is a 101 over
 * HTTP/1.1 carrying our accept, and nothing past the cap is ever read.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_ws.h"
#include "fuzz.h"


#define FUZZ_ACCEPT  "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


typedef struct {
    ngx_int_t                        rc;
    ngx_http_voxanne_ws_response_t   r;
} fuzz_hs_run_t;


static void fuzz_hs_feed(fuzz_hs_run_t *run, const u_char *data, size_t len,
    const u_char *cuts, size_t ncuts);
static size_t fuzz_hs_head(const u_char *data, size_t len);
static ngx_uint_t fuzz_hs_has(const u_char *p, size_t len, const char *s);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char         one;
    size_t         k, len, head;
    const u_char  *answer;
    fuzz_hs_run_t  run[3];

    if (size < 1 || size < 1 + (size_t) data[0]) {
        return 0;
    }

    k = data[0];
    answer = data + 1 + k;
    len = size - 1 - k;
    one = 0;

    fuzz_hs_feed(&run[0], answer, len, data + 1, k);
    fuzz_hs_feed(&run[1], answer, len, NULL, 0);
    fuzz_hs_feed(&run[2], answer, len, &one, 1);

    fuzz_assert(run[0].rc == run[1].rc && run[0].rc == run[2].rc);
    fuzz_assert(run[0].r.status == run[1].r.status
                && run[0].r.status == run[2].r.status);
    fuzz_assert(run[0].r.error == run[1].r.error
                && run[0].r.error == run[2].r.error);

    head = fuzz_hs_head(answer, len);

    switch (run[1].rc) {

    case NGX_AGAIN:
        fuzz_assert(head == 0 && len < NGX_HTTP_VOXANNE_WS_RESPONSE_MAX);
        break;

    case NGX_ERROR:
        fuzz_assert(run[1].r.error != NULL);
        break;

    case NGX_DECLINED:
        fuzz_assert(head && run[1].r.error != NULL);
        fuzz_assert(run[1].r.status >= 100 && run[1].r.status <= 599);
        fuzz_assert(run[1].r.len == head);
        break;

    case NGX_OK:
        fuzz_assert(head && run[1].r.len == head);
        fuzz_assert(run[0].r.len == head && run[2].r.len == head);
        fuzz_assert(run[1].r.status == 101);
        fuzz_assert(ngx_strncmp(answer, "HTTP/1.1 101", 12) == 0);
        fuzz_assert(fuzz_hs_has(answer, head, FUZZ_ACCEPT));
        break;

    default:
        fuzz_assert(0);
    }

    return 0;
}


static void
fuzz_hs_feed(fuzz_hs_run_t *run, const u_char *data, size_t len,
    const u_char *cuts, size_t ncuts)
{
    u_char  *copy;
    size_t   to, i;

    ngx_memzero(run, sizeof(fuzz_hs_run_t));
    run->rc = NGX_AGAIN;

    for (to = 0, i = 0; run->rc == NGX_AGAIN; i++) {
        to = ncuts ? ngx_min(to + cuts[i % ncuts] + 1, len) : len;

        copy = fuzz_copy(data, to);
        run->rc = ngx_http_voxanne_ws_response(&run->r, copy, to,
                                               (u_char *) FUZZ_ACCEPT);
        free(copy);

        fuzz_assert(run->r.scanned <= to);

        if (to == len) {
            break;
        }
    }
}


/*
 * The length of the head: up to and with the first empty line after the
 * status line, within the cap; 0 when there is none.
 */

static size_t
fuzz_hs_head(const u_char *data, size_t len)
{
    size_t  i, start;

    len = ngx_min(len, NGX_HTTP_VOXANNE_WS_RESPONSE_MAX);

    for (i = 0, start = 0; i < len; i++) {
        if (data[i] != '\n') {
            continue;
        }

        if (start > 0
            && (i == start || (i == start + 1 && data[start] == '\r')))
        {
            return i + 1;
        }

        start = i + 1;
    }

    return 0;
}


static ngx_uint_t
fuzz_hs_has(const u_char *p, size_t len, const char *s)
{
    size_t  i, n;

    n = strlen(s);

    for (i = 0; i + n <= len; i++) {
        if (memcmp(p + i, s, n) == 0) {
            return 1;
        }
    }

    return 0;
}
