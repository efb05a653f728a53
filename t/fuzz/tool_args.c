
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * libFuzzer target of the checks of a tool's arguments: the first byte
 * picks the check, the rest is the model's value.  No byte is read outside
 * the value or written outside the exact output room; what a check
 * accepts comes out in its normalized form, which the same check accepts
 * again unchanged.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_tool_args.h"
#include "fuzz.h"


static void
fuzz_digits(u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        fuzz_assert(p[i] >= '0' && p[i] <= '9');
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char  *value, *out, *again;
    size_t   len, out_len, again_len;

    if (size == 0) {
        return 0;
    }

    len = size - 1;
    value = fuzz_copy(data + 1, len);

    switch (data[0] % 6) {

    case 0:
        (void) ngx_http_voxanne_tool_args_date(value, len);
        break;

    case 1:
        out = fuzz_alloc(NGX_HTTP_VOXANNE_TOOL_TIME_LEN);

        if (ngx_http_voxanne_tool_args_time(value, len, out) == NGX_OK) {
            fuzz_digits(out, 2);
            fuzz_assert(out[2] == ':');
            fuzz_digits(out + 3, 2);

            again = fuzz_alloc(NGX_HTTP_VOXANNE_TOOL_TIME_LEN);
            fuzz_assert(ngx_http_voxanne_tool_args_time(out,
                                          NGX_HTTP_VOXANNE_TOOL_TIME_LEN,
                                          again)
                        == NGX_OK);
            fuzz_assert(memcmp(out, again, NGX_HTTP_VOXANNE_TOOL_TIME_LEN)
                        == 0);
            free(again);
        }

        free(out);
        break;

    case 2:
        out = fuzz_alloc(NGX_HTTP_VOXANNE_TOOL_DATETIME_LEN);

        if (ngx_http_voxanne_tool_args_datetime(value, len, out) == NGX_OK) {
            fuzz_assert(ngx_http_voxanne_tool_args_date(out, 10) == NGX_OK);
            fuzz_assert(out[10] == ' ');

            again = fuzz_alloc(NGX_HTTP_VOXANNE_TOOL_DATETIME_LEN);
            fuzz_assert(ngx_http_voxanne_tool_args_datetime(out,
                                          NGX_HTTP_VOXANNE_TOOL_DATETIME_LEN,
                                          again)
                        == NGX_OK);
            fuzz_assert(memcmp(out, again,
                               NGX_HTTP_VOXANNE_TOOL_DATETIME_LEN)
                        == 0);
            free(again);
        }

        free(out);
        break;

    case 3:
        out = fuzz_alloc(NGX_HTTP_VOXANNE_TOOL_PHONE_LEN);

        if (ngx_http_voxanne_tool_args_phone(value, len, out, &out_len)
            == NGX_OK)
        {
            fuzz_assert(out_len >= 8
                        && out_len <= NGX_HTTP_VOXANNE_TOOL_PHONE_LEN);
            fuzz_assert(out[0] == '+' && out[1] != '0');
            fuzz_digits(out + 1, out_len - 1);

            again = fuzz_alloc(NGX_HTTP_VOXANNE_TOOL_PHONE_LEN);
            fuzz_assert(ngx_http_voxanne_tool_args_phone(out, out_len, again,
                                                         &again_len)
                        == NGX_OK);
            fuzz_assert(again_len == out_len
                        && memcmp(out, again, out_len) == 0);
            free(again);
        }

        free(out);
        break;

    case 4:
        if (ngx_http_voxanne_tool_args_email(value, len) == NGX_OK) {
            fuzz_assert(len <= NGX_HTTP_VOXANNE_TOOL_EMAIL_MAX);
            fuzz_assert(memchr(value, '@', len) != NULL);
        }

        break;

    default:
        if (ngx_http_voxanne_tool_args_text(value, len, 64) == NGX_OK) {
            fuzz_assert(len >= 1 && len <= 64);
        }
    }

    free(value);

    return 0;
}
