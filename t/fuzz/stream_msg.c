
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * libFuzzer target of the Media Streams message reader: any bytes give
 * NGX_OK, NGX_ERROR or NGX_DECLINED with a reason, and what it accepts
 * holds: every string lies within the parsed JSON's limits, identifiers are
 * alphanumeric, a media payload is base64 characters only (the echo copies
 * it into JSON unescaped).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>
#include "ngx_http_voxanne_stream_msg.h"
#include "fuzz.h"


static void
fuzz_msg_sid(ngx_str_t *s)
{
    size_t  i;

    fuzz_assert(s->len >= 2 && s->len <= 64);

    for (i = 0; i < s->len; i++) {
        fuzz_assert(isalnum(s->data[i]));
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                         *copy;
    size_t                          i;
    ngx_int_t                       rc;
    ngx_http_voxanne_stream_msg_t   msg;

    copy = fuzz_copy(data, size);

    rc = ngx_http_voxanne_stream_msg_parse(&msg, copy, size);

    fuzz_assert(rc == NGX_OK || rc == NGX_ERROR || rc == NGX_DECLINED);
    fuzz_assert(rc == NGX_OK || msg.error != NULL);

    if (rc == NGX_OK) {
        fuzz_assert(msg.event <= NGX_HTTP_VOXANNE_MSG_OTHER);

        if (msg.event != NGX_HTTP_VOXANNE_MSG_CONNECTED
            && msg.event != NGX_HTTP_VOXANNE_MSG_OTHER)
        {
            fuzz_msg_sid(&msg.stream_sid);
        }

        if (msg.event == NGX_HTTP_VOXANNE_MSG_START) {
            fuzz_msg_sid(&msg.call_sid);
            fuzz_assert(msg.tenant.len <= 512 && msg.token.len <= 512);
        }

        if (msg.event == NGX_HTTP_VOXANNE_MSG_MEDIA) {
            for (i = 0; i < msg.payload.len; i++) {
                fuzz_assert(isalnum(msg.payload.data[i])
                            || msg.payload.data[i] == '+'
                            || msg.payload.data[i] == '/'
                            || msg.payload.data[i] == '=');
            }
        }
    }

    ngx_http_voxanne_stream_msg_free(&msg);
    free(copy);

    return 0;
}
