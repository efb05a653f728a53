
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * libFuzzer target of the Vapi server message reader: any bytes give
 * NGX_OK or NGX_DECLINED with a reason, and what it accepts holds: a known
 * type, strings within their caps, at most the cap of tool calls, each
 * with an id, and either an error or a tool name of [A-Za-z0-9_-] with
 * arguments that are a JSON object; a report's turns within their caps,
 * each with a role and some text, its numbers in range.  Freeing leaves
 * nothing behind.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <stdlib.h>
#include "ngx_http_voxanne_vapi_msg.h"
#include "fuzz.h"


/* what may reach a log line holds no control character */

static void
fuzz_vapi_printable(ngx_str_t *s)
{
    size_t  i;

    for (i = 0; i < s->len; i++) {
        fuzz_assert(s->data[i] >= 0x20 && s->data[i] != 0x7f);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char                        *copy;
    size_t                         j;
    ngx_int_t                      rc;
    ngx_uint_t                     i;
    ngx_http_voxanne_vapi_msg_t    msg;
    ngx_http_voxanne_vapi_call_t  *call;

    copy = fuzz_copy(data, size);

    rc = ngx_http_voxanne_vapi_msg_parse(&msg, copy, size);

    fuzz_assert(rc == NGX_OK || (rc == NGX_DECLINED && msg.error != NULL));

    if (rc == NGX_OK) {
        fuzz_assert(msg.type <= NGX_HTTP_VOXANNE_VAPI_OTHER);
        fuzz_assert(msg.type_name.len > 0 && msg.type_name.len <= 64);
        fuzz_assert(msg.number.len <= 64 && msg.customer.len <= 64);
        fuzz_assert(msg.call_id.len <= 256 && msg.provider_id.len <= 256);
        fuzz_assert(msg.ncalls <= NGX_HTTP_VOXANNE_VAPI_CALLS);

        fuzz_vapi_printable(&msg.type_name);
        fuzz_vapi_printable(&msg.number);
        fuzz_vapi_printable(&msg.call_id);
        fuzz_vapi_printable(&msg.status);
        fuzz_vapi_printable(&msg.ended_reason);
        fuzz_vapi_printable(&msg.call_type);
        fuzz_vapi_printable(&msg.destination);
        fuzz_vapi_printable(&msg.destination_reason);
        fuzz_vapi_printable(&msg.started_at);
        fuzz_vapi_printable(&msg.recording_url);
        fuzz_assert(msg.ncalls == 0
                    || msg.type == NGX_HTTP_VOXANNE_VAPI_TOOL_CALLS);

        fuzz_assert(msg.destination.len <= 256
                    && msg.destination_reason.len <= 200
                    && msg.started_at.len <= 64 && msg.ended_at.len <= 64
                    && msg.recording_url.len <= 2048
                    && msg.summary.len <= NGX_HTTP_VOXANNE_VAPI_TEXT_MAX);
        fuzz_assert(msg.cost == -1 || (msg.cost >= 0 && msg.cost <= 1e6));
        fuzz_assert(msg.duration == -1
                    || (msg.duration >= 0 && msg.duration <= 1e7));
        fuzz_assert(msg.nturns <= NGX_HTTP_VOXANNE_VAPI_TURNS);
        fuzz_assert((msg.nturns == 0 && msg.turns_ignored == 0)
                    || msg.type == NGX_HTTP_VOXANNE_VAPI_END_OF_CALL_REPORT);

        for (i = 0; i < msg.nturns; i++) {
            fuzz_assert(msg.turns[i].role <= NGX_HTTP_VOXANNE_VAPI_AGENT);
            fuzz_assert(msg.turns[i].text.len > 0
                        && msg.turns[i].text.len
                           <= NGX_HTTP_VOXANNE_VAPI_TEXT_MAX);
            fuzz_assert(msg.turns[i].at >= 0 && msg.turns[i].at <= 1e11);
        }

        for (i = 0; i < msg.ncalls; i++) {
            call = &msg.calls[i];

            fuzz_assert(call->id.len > 0 && call->id.len <= 256);

            if (call->error) {
                continue;
            }

            fuzz_assert(call->name.len > 0 && call->name.len <= 64);
            fuzz_assert(json_is_object(call->arguments));

            for (j = 0; j < call->name.len; j++) {
                fuzz_assert(isalnum(call->name.data[j])
                            || call->name.data[j] == '_'
                            || call->name.data[j] == '-');
            }
        }
    }

    ngx_http_voxanne_vapi_msg_free(&msg);
    fuzz_assert(msg.json == NULL && msg.ncalls == 0);

    free(copy);

    return 0;
}
