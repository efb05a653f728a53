
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_twiml.h"


static size_t ngx_http_voxanne_twiml_escape(u_char *dst, ngx_str_t *s);


/* returns the length of the document; writes it only when dst is set */

size_t
ngx_http_voxanne_twiml_format(u_char *dst, const char *fmt, va_list args)
{
    size_t      len, n;
    ngx_str_t  *s;

    len = 0;

    while (*fmt) {

        if (fmt[0] != '%' || fmt[1] == '%') {
            if (dst) {
                dst[len] = *fmt;
            }

            len++;
            fmt += (fmt[0] == '%') ? 2 : 1;
            continue;
        }

        s = va_arg(args, ngx_str_t *);

        if (fmt[1] == 'E') {
            n = ngx_http_voxanne_twiml_escape(dst ? dst + len : NULL, s);

        } else {
            n = s->len;

            if (dst) {
                ngx_memcpy(dst + len, s->data, n);
            }
        }

        len += n;
        fmt += 2;
    }

    return len;
}


/*
 * The five XML entities; the control characters XML 1.0 forbids (all below
 * 0x20 but tab, newline and carriage return) are dropped.
 */

static size_t
ngx_http_voxanne_twiml_escape(u_char *dst, ngx_str_t *s)
{
    u_char      *p, *last;
    size_t       len, n;
    const char  *e;

    len = 0;
    last = s->data + s->len;

    for (p = s->data; p < last; p++) {

        switch (*p) {

        case '&':
            e = "&amp;";
            break;

        case '<':
            e = "&lt;";
            break;

        case '>':
            e = "&gt;";
            break;

        case '"':
            e = "&quot;";
            break;

        case '\'':
            e = "&apos;";
            break;

        default:

            if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
                continue;
            }

            if (dst) {
                dst[len] = *p;
            }

            len++;
            continue;
        }

        n = ngx_strlen(e);

        if (dst) {
            ngx_memcpy(dst + len, e, n);
        }

        len += n;
    }

    return len;
}
