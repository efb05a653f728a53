
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_journal.h"


size_t
ngx_http_voxanne_journal_encode(u_char *dst, size_t size, u_char *payload,
    size_t len)
{
    u_char    *p;
    uint32_t   crc;
    ngx_int_t  i;

    if (len == 0
        || len > NGX_HTTP_VOXANNE_JOURNAL_MAX
        || size < len + NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD
        || ngx_strlchr(payload, payload + len, LF) != NULL)
    {
        return 0;
    }

    crc = ngx_http_voxanne_journal_crc(payload, len);

    for (i = 7; i >= 0; i--) {
        dst[i] = "0123456789abcdef"[crc & 0xf];
        crc >>= 4;
    }

    dst[8] = ' ';
    p = ngx_cpymem(dst + 9, payload, len);
    *p = LF;

    return len + NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD;
}


ngx_int_t
ngx_http_voxanne_journal_decode(u_char **pos, u_char *last,
    ngx_str_t *payload)
{
    u_char    *p, *lf, *end, c;
    uint32_t   crc;
    ngx_int_t  i;

    p = *pos;

    end = (last - p > NGX_HTTP_VOXANNE_JOURNAL_MAX
                      + NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD)
          ? p + NGX_HTTP_VOXANNE_JOURNAL_MAX + NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD
          : last;

    lf = ngx_strlchr(p, end, LF);

    if (lf == NULL) {
        if (end == last) {
            return NGX_AGAIN;
        }

        *pos = end;
        return NGX_DECLINED;
    }

    *pos = lf + 1;

    if (lf - p < NGX_HTTP_VOXANNE_JOURNAL_OVERHEAD || p[8] != ' ') {
        return NGX_DECLINED;
    }

    crc = 0;

    for (i = 0; i < 8; i++) {
        c = p[i];

        if (c >= '0' && c <= '9') {
            crc = (crc << 4) | (uint32_t) (c - '0');

        } else if (c >= 'a' && c <= 'f') {
            crc = (crc << 4) | (uint32_t) (c - 'a' + 10);

        } else {
            return NGX_DECLINED;
        }
    }

    if (crc != ngx_http_voxanne_journal_crc(p + 9, lf - p - 9)) {
        return NGX_DECLINED;
    }

    payload->data = p + 9;
    payload->len = lf - p - 9;

    return NGX_OK;
}


/* CRC-32C (Castagnoli), bit by bit: spool records are few and short */

uint32_t
ngx_http_voxanne_journal_crc(u_char *p, size_t len)
{
    uint32_t    crc;
    ngx_uint_t  k;

    crc = 0xffffffff;

    while (len--) {
        crc ^= *p++;

        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0x82f63b78 & (0 - (crc & 1)));
        }
    }

    return crc ^ 0xffffffff;
}
