
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * libFuzzer target of the provider event reader: any bytes give NGX_OK,
 * NGX_ERROR or NGX_DECLINED with a reason, and what it accepts holds: the
 * strings the bridge copies into JSON of its own unescaped are base64 (the
 * audio) or ids of letters, digits, "_", "-" and ".", within their caps;
 * an error's message is capped.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>
#include "ngx_http_voxanne_rt_msg.h"
#include "fuzz.h"


static void
fuzz_rt_id(ngx_str_t *s, ngx_uint_t required)
{
    size_t  i;

    fuzz_assert(s->len <= NGX_HTTP_VOXANNE_RT_ID_MAX);
    fuzz_assert(!required || s->len > 0);

    for (i = 0; i < s->len; i++) {
        fuzz_assert(isalnum(s->data[i]) || s->data[i] == '_'
                    || s->data[i] == '-' || s->data[i] == '.');
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                     *copy;
    size_t                      i;
    ngx_int_t                   rc;
    ngx_http_voxanne_rt_msg_t   msg;

    copy = fuzz_copy(data, size);

    rc = ngx_http_voxanne_rt_msg_parse(&msg, copy, size);

    fuzz_assert(rc == NGX_OK || rc == NGX_ERROR || rc == NGX_DECLINED);
    fuzz_assert(rc == NGX_OK || msg.error != NULL);
    fuzz_assert(rc == NGX_ERROR || msg.type.len > 0);

    if (rc == NGX_OK) {
        fuzz_assert(msg.event <= NGX_HTTP_VOXANNE_RT_OTHER);

        switch (msg.event) {

        case NGX_HTTP_VOXANNE_RT_AUDIO_DELTA:

            for (i = 0; i < msg.delta.len; i++) {
                fuzz_assert(isalnum(msg.delta.data[i])
                            || msg.delta.data[i] == '+'
                            || msg.delta.data[i] == '/'
                            || msg.delta.data[i] == '=');
            }

            /* fall through */

        case NGX_HTTP_VOXANNE_RT_AUDIO_DONE:
        case NGX_HTTP_VOXANNE_RT_SPEECH_STARTED:
            fuzz_rt_id(&msg.item_id, 1);
            break;

        case NGX_HTTP_VOXANNE_RT_CALLER_SAID:
        case NGX_HTTP_VOXANNE_RT_AGENT_SAID:
            fuzz_rt_id(&msg.item_id, 1);
            fuzz_assert(msg.transcript.len <= NGX_HTTP_VOXANNE_RT_TURN_MAX);
            break;

        case NGX_HTTP_VOXANNE_RT_FUNCTION_CALL:
            fuzz_rt_id(&msg.call_id, 1);
            fuzz_rt_id(&msg.name, 1);
            break;

        case NGX_HTTP_VOXANNE_RT_ERROR:
            fuzz_rt_id(&msg.error_type, 0);
            fuzz_rt_id(&msg.error_code, 0);
            fuzz_rt_id(&msg.error_event, 0);
            fuzz_assert(msg.error_message.len <= NGX_HTTP_VOXANNE_RT_TEXT_MAX);
            break;

        default:
            break;
        }
    }

    ngx_http_voxanne_rt_msg_free(&msg);
    free(copy);

    return 0;
}
