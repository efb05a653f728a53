
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Shared helpers of the libFuzzer targets in t/fuzz/ (built and run by
 * scripts/fuzz).  A broken invariant aborts: libFuzzer then saves the input
 * that broke it as a crash artifact.
 */


#ifndef _VOXANNE_FUZZ_H_INCLUDED_
#define _VOXANNE_FUZZ_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define fuzz_assert(cond)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: invariant broken: %s\n",                  \
                    __FILE__, __LINE__, #cond);                               \
            abort();                                                          \
        }                                                                     \
    } while (0)


/*
 * Heap blocks of exactly len bytes, so that AddressSanitizer reports any
 * read or write past the end of what a codec was given.  Under
 * AddressSanitizer, malloc(0) is a valid block of no bytes.
 */

static ngx_inline u_char *
fuzz_alloc(size_t len)
{
    u_char  *p;

    p = malloc(len);
    fuzz_assert(p != NULL);

    return p;
}


static ngx_inline u_char *
fuzz_copy(const u_char *data, size_t len)
{
    u_char  *p;

    p = fuzz_alloc(len);

    if (len) {
        memcpy(p, data, len);
    }

    return p;
}


/* the byte order of Twilio's SDKs: bytes first, then the shorter first */

static ngx_inline int
fuzz_str_cmp(ngx_str_t *a, ngx_str_t *b)
{
    int  rc;

    rc = memcmp(a->data, b->data, ngx_min(a->len, b->len));

    if (rc != 0 || a->len == b->len) {
        return rc;
    }

    return (a->len < b->len) ? -1 : 1;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


#endif /* _VOXANNE_FUZZ_H_INCLUDED_ */
