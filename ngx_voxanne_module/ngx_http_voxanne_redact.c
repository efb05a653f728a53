
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_redact.h"


#define NGX_HTTP_VOXANNE_REDACT_CARD_MIN  13
#define NGX_HTTP_VOXANNE_REDACT_CARD_MAX  19


typedef ngx_int_t (*ngx_http_voxanne_redact_pt)(u_char *src,
    PCRE2_SIZE *ovector, size_t *start, size_t *end);


static size_t ngx_http_voxanne_redact_pass(ngx_http_voxanne_redact_t *rd,
    pcre2_code *code, ngx_http_voxanne_redact_pt check, const char *label,
    u_char *src, size_t len, u_char *dst);
static ngx_int_t ngx_http_voxanne_redact_card(u_char *src,
    PCRE2_SIZE *ovector, size_t *start, size_t *end);
static ngx_uint_t ngx_http_voxanne_redact_grouped(size_t *pos, size_t n);
static ngx_int_t ngx_http_voxanne_redact_ssn(u_char *src,
    PCRE2_SIZE *ovector, size_t *start, size_t *end);
static pcre2_code *ngx_http_voxanne_redact_compile(const char *pattern);


ngx_int_t
ngx_http_voxanne_redact_init(ngx_http_voxanne_redact_t *rd)
{
    ngx_memzero(rd, sizeof(ngx_http_voxanne_redact_t));

    rd->card = ngx_http_voxanne_redact_compile(
                   "(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])");

    rd->ssn = ngx_http_voxanne_redact_compile(
                  "(?<![0-9])([0-9]{3})([ -])([0-9]{2})\\2([0-9]{4})"
                  "(?![0-9])");

    if (rd->card == NULL || rd->ssn == NULL) {
        ngx_http_voxanne_redact_free(rd);
        return NGX_ERROR;
    }

    /* the SSN pattern has the most groups */

    rd->match = pcre2_match_data_create_from_pattern(rd->ssn, NULL);
    if (rd->match == NULL) {
        ngx_http_voxanne_redact_free(rd);
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_voxanne_redact_free(ngx_http_voxanne_redact_t *rd)
{
    pcre2_match_data_free(rd->match);
    pcre2_code_free(rd->card);
    pcre2_code_free(rd->ssn);

    ngx_memzero(rd, sizeof(ngx_http_voxanne_redact_t));
}


/*
 * Redacts text (len bytes) in place, with scratch (at least len bytes) as
 * room between the two passes; returns the new length, never more than len.
 */

size_t
ngx_http_voxanne_redact(ngx_http_voxanne_redact_t *rd, u_char *text,
    size_t len, u_char *scratch)
{
    len = ngx_http_voxanne_redact_pass(rd, rd->card,
                                       ngx_http_voxanne_redact_card,
                                       "[card]", text, len, scratch);

    return ngx_http_voxanne_redact_pass(rd, rd->ssn,
                                        ngx_http_voxanne_redact_ssn,
                                        "[ssn]", scratch, len, text);
}


/* whether len digits pass the Luhn check */

ngx_uint_t
ngx_http_voxanne_redact_luhn(u_char *p, size_t len)
{
    size_t      i;
    ngx_uint_t  sum, d, second;

    sum = 0;
    second = 0;

    for (i = len; i > 0; i--) {
        d = p[i - 1] - '0';

        if (second) {
            d *= 2;
            if (d > 9) {
                d -= 9;
            }
        }

        sum += d;
        second = !second;
    }

    return sum % 10 == 0;
}


/*
 * Copies src to dst with every match that check() confirms replaced by
 * label; a match check() refuses is retried from its next byte, so that
 * a number within a longer run of digit groups is still found.
 */

static size_t
ngx_http_voxanne_redact_pass(ngx_http_voxanne_redact_t *rd, pcre2_code *code,
    ngx_http_voxanne_redact_pt check, const char *label, u_char *src,
    size_t len, u_char *dst)
{
    int          rc;
    u_char      *out;
    size_t       off, copied, start, end, n;
    PCRE2_SIZE  *ovector;

    out = dst;
    off = 0;
    copied = 0;
    n = ngx_strlen(label);

    while (off < len) {
        rc = pcre2_match(code, src, len, off, 0, rd->match, NULL);

        /* no match, or an error of the matcher: nothing more to redact */

        if (rc < 0) {
            break;
        }

        ovector = pcre2_get_ovector_pointer(rd->match);

        if (check(src, ovector, &start, &end) != NGX_OK) {
            off = ovector[0] + 1;
            continue;
        }

        out = ngx_cpymem(out, src + copied, start - copied);
        out = ngx_cpymem(out, label, n);

        copied = end;
        off = end;
    }

    out = ngx_cpymem(out, src + copied, len - copied);

    return out - dst;
}


/*
 * A card within the match: the longest run of whole digit groups, 13 to
 * 19 digits, grouped as cards are printed (one group, or a first group of
 * 4 and none under 3), that passes the Luhn check, the leftmost of equal
 * ones.
 */

static ngx_int_t
ngx_http_voxanne_redact_card(u_char *src, PCRE2_SIZE *ovector, size_t *start,
    size_t *end)
{
    size_t      i, n, len, pos[NGX_HTTP_VOXANNE_REDACT_CARD_MAX];
    u_char      digits[NGX_HTTP_VOXANNE_REDACT_CARD_MAX];

    n = 0;

    for (i = ovector[0]; i < ovector[1]; i++) {
        if (src[i] >= '0' && src[i] <= '9') {
            pos[n] = i;
            digits[n++] = src[i];
        }
    }

    for (len = n; len >= NGX_HTTP_VOXANNE_REDACT_CARD_MIN; len--) {

        for (i = 0; i + len <= n; i++) {

            /* a group starts at i and one ends at i + len - 1 */

            if ((i > 0 && pos[i] == pos[i - 1] + 1)
                || (i + len < n && pos[i + len] == pos[i + len - 1] + 1))
            {
                continue;
            }

            if (ngx_http_voxanne_redact_grouped(&pos[i], len)
                && ngx_http_voxanne_redact_luhn(&digits[i], len))
            {
                *start = pos[i];
                *end = pos[i + len - 1] + 1;
                return NGX_OK;
            }
        }
    }

    return NGX_DECLINED;
}


/* n digits at pos: one group, or a first group of 4 and none under 3 */

static ngx_uint_t
ngx_http_voxanne_redact_grouped(size_t *pos, size_t n)
{
    size_t  i, group, first;

    first = 0;
    group = 1;

    for (i = 1; i < n; i++) {
        if (pos[i] == pos[i - 1] + 1) {
            group++;
            continue;
        }

        if (first == 0) {
            first = group;

        } else if (group < 3) {
            return 0;
        }

        group = 1;
    }

    return first == 0 || (first == 4 && group >= 3);
}


/* an SSN the Social Security Administration could have issued */

static ngx_int_t
ngx_http_voxanne_redact_ssn(u_char *src, PCRE2_SIZE *ovector, size_t *start,
    size_t *end)
{
    u_char  *area, *group, *serial;

    area = src + ovector[2];
    group = src + ovector[6];
    serial = src + ovector[8];

    if (ngx_strncmp(area, "000", 3) == 0
        || ngx_strncmp(area, "666", 3) == 0
        || area[0] == '9'
        || ngx_strncmp(group, "00", 2) == 0
        || ngx_strncmp(serial, "0000", 4) == 0)
    {
        return NGX_DECLINED;
    }

    *start = ovector[0];
    *end = ovector[1];

    return NGX_OK;
}


static pcre2_code *
ngx_http_voxanne_redact_compile(const char *pattern)
{
    int          err;
    PCRE2_SIZE   off;
    pcre2_code  *code;

    code = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED, 0,
                         &err, &off, NULL);

    if (code != NULL) {
        /* without JIT (no executable memory) it still matches, slower */
        (void) pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    }

    return code;
}
