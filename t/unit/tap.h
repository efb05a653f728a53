
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * A minimal TAP producer for the C unit tests; prove reads its output.
 */


#ifndef _VOXANNE_TAP_H_INCLUDED_
#define _VOXANNE_TAP_H_INCLUDED_


#include <stdio.h>
#include <string.h>


static int  tap_run, tap_failed;


#define tap_ok(cond, ...)                                                     \
    do {                                                                      \
        int  ok_ = (cond);                                                    \
        tap_run++;                                                            \
        if (!ok_) {                                                           \
            tap_failed++;                                                     \
        }                                                                     \
        printf("%sok %d - ", ok_ ? "" : "not ", tap_run);                     \
        printf(__VA_ARGS__);                                                  \
        printf("\n");                                                         \
        if (!ok_) {                                                           \
            printf("#   failed at %s line %d\n", __FILE__, __LINE__);         \
        }                                                                     \
    } while (0)


#define tap_is_mem(got, glen, want, ...)                                      \
    do {                                                                      \
        size_t  wlen_ = strlen(want);                                         \
        int     eq_ = ((size_t) (glen) == wlen_                               \
                       && memcmp(got, want, wlen_) == 0);                     \
        tap_ok(eq_, __VA_ARGS__);                                             \
        if (!eq_) {                                                           \
            printf("#          got: '%.*s'\n#     expected: '%s'\n",          \
                   (int) (glen), (const char *) (got), want);                 \
        }                                                                     \
    } while (0)


#define tap_done()                                                            \
    (printf("1..%d\n", tap_run), tap_failed ? 1 : 0)


#endif /* _VOXANNE_TAP_H_INCLUDED_ */
