
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the Vapi server message reader, on the shapes of
 * protocols.md §6: the message types, and tool calls in every shape Vapi's
 * specification, documentation and examples use.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_vapi_msg.h"
#include "tap.h"


static ngx_int_t
parse(ngx_http_voxanne_vapi_msg_t *msg, const char *json)
{
    ngx_http_voxanne_vapi_msg_free(msg);

    return ngx_http_voxanne_vapi_msg_parse(msg, (u_char *) json,
                                           strlen(json));
}


static int
is(ngx_str_t *s, const char *want)
{
    return s->len == strlen(want) && memcmp(s->data, want, s->len) == 0;
}


static int
arg(ngx_http_voxanne_vapi_call_t *call, const char *name, const char *want)
{
    json_t  *v;

    v = json_object_get(call->arguments, name);

    return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}


static void
test_refused(ngx_http_voxanne_vapi_msg_t *msg)
{
    ngx_uint_t  i;

    static const char  *bad[] = {
        "hello", "[1]", "{}", "{\"message\":1}", "{\"message\":{}}",
        "{\"message\":{\"type\":7}}", "{\"message\":{\"type\":\"\"}}",
        "{\"message\":{\"type\":\"a\",\"type\":\"b\"}}",
        "{\"message\":{\"type\":\"status-update\\n[error] forged\"}}", NULL
    };

    for (i = 0; bad[i]; i++) {
        tap_ok(parse(msg, bad[i]) == NGX_DECLINED && msg->error != NULL,
               "refused: %s (%s)", bad[i], msg->error ? msg->error : "");
    }
}


static void
test_types(ngx_http_voxanne_vapi_msg_t *msg)
{
    tap_ok(parse(msg, "{\"message\":{\"type\":\"assistant-request\","
                      "\"phoneNumber\":{\"number\":\"+15550100001\"},"
                      "\"customer\":{\"number\":\"+14155550123\"},"
                      "\"call\":{\"id\":\"c-1\",\"phoneCallProviderId\":"
                      "\"CA1\"},\"timestamp\":1767225600000}}") == NGX_OK
           && msg->type == NGX_HTTP_VOXANNE_VAPI_ASSISTANT_REQUEST
           && is(&msg->number, "+15550100001")
           && is(&msg->customer, "+14155550123")
           && is(&msg->call_id, "c-1") && is(&msg->provider_id, "CA1"),
           "assistant-request: the numbers and the call");

    tap_ok(parse(msg, "{\"message\":{\"type\":\"status-update\","
                      "\"status\":\"ended\",\"endedReason\":"
                      "\"customer-ended-call\",\"call\":{\"customer\":"
                      "{\"number\":\"+14155550124\"}}}}") == NGX_OK
           && msg->type == NGX_HTTP_VOXANNE_VAPI_STATUS_UPDATE
           && is(&msg->status, "ended")
           && is(&msg->ended_reason, "customer-ended-call")
           && is(&msg->customer, "+14155550124"),
           "status-update: the status, the reason, the caller from call");

    tap_ok(parse(msg, "{\"message\":{\"type\":\"status-update\","
                      "\"status\":\"ended\\r\\n\",\"phoneNumber\":{\"number\":"
                      "\"+1555\\u0007\"}}}") == NGX_OK
           && msg->status.len == 0 && msg->number.len == 0,
           "strings with control characters, for log lines, are left out");

    tap_ok(parse(msg, "{\"message\":{\"type\":\"end-of-call-report\","
                      "\"endedReason\":\"assistant-ended-call\","
                      "\"artifact\":{},\"analysis\":{}}}") == NGX_OK
           && msg->type == NGX_HTTP_VOXANNE_VAPI_END_OF_CALL_REPORT
           && is(&msg->ended_reason, "assistant-ended-call"),
           "end-of-call-report");

    tap_ok(parse(msg, "{\"message\":{\"type\":\"transcript[transcriptType="
                      "\\\"final\\\"]\"}}") == NGX_OK
           && msg->type == NGX_HTTP_VOXANNE_VAPI_OTHER
           && is(&msg->type_name, "transcript[transcriptType=\"final\"]"),
           "another type is read as other");
}


static void
test_calls(ngx_http_voxanne_vapi_msg_t *msg)
{
    ngx_uint_t  i;
    char        json[8192], *p;

    tap_ok(parse(msg, "{\"message\":{\"type\":\"tool-calls\",\"toolCallList\":"
                      "[{\"id\":\"t1\",\"type\":\"function\",\"function\":"
                      "{\"name\":\"check_availability\",\"arguments\":"
                      "\"{\\\"service\\\":\\\"Botox\\\"}\"}}]}}") == NGX_OK
           && msg->type == NGX_HTTP_VOXANNE_VAPI_TOOL_CALLS
           && msg->ncalls == 1 && is(&msg->calls[0].id, "t1")
           && is(&msg->calls[0].name, "check_availability")
           && msg->calls[0].error == NULL
           && arg(&msg->calls[0], "service", "Botox"),
           "the OpenAPI shape: arguments as JSON text");

    tap_ok(parse(msg, "{\"message\":{\"type\":\"tool-calls\",\"toolCallList\":"
                      "[{\"id\":\"t2\",\"name\":\"list_services\","
                      "\"arguments\":{\"q\":\"x\"}},"
                      "{\"id\":\"t3\",\"name\":\"find_customer\","
                      "\"parameters\":{\"phone\":\"+14155550123\"}}]}}")
           == NGX_OK
           && msg->ncalls == 2
           && is(&msg->calls[0].name, "list_services")
           && arg(&msg->calls[0], "q", "x")
           && is(&msg->calls[1].id, "t3")
           && arg(&msg->calls[1], "phone", "+14155550123"),
           "the documentation's shapes: arguments and parameters objects");

    tap_ok(parse(msg, "{\"message\":{\"type\":\"tool-calls\",\"toolCalls\":"
                      "[{\"id\":\"t4\",\"function\":{\"name\":\"end_call\"}}]"
                      "}}") == NGX_OK
           && msg->ncalls == 1 && is(&msg->calls[0].name, "end_call")
           && msg->calls[0].error == NULL
           && json_object_size(msg->calls[0].arguments) == 0,
           "toolCalls, and no arguments: an empty object");

    tap_ok(parse(msg, "{\"message\":{\"type\":\"tool-calls\","
                      "\"toolWithToolCallList\":[{\"name\":\"get_current_time\","
                      "\"toolCall\":{\"id\":\"t5\",\"parameters\":{}}}]}}")
           == NGX_OK
           && msg->ncalls == 1 && is(&msg->calls[0].id, "t5")
           && is(&msg->calls[0].name, "get_current_time"),
           "toolWithToolCallList: the name beside the call");

    tap_ok(parse(msg, "{\"message\":{\"type\":\"tool-calls\",\"toolCallList\":"
                      "[{\"name\":\"no_id\"},{\"id\":\"\"},"
                      "{\"id\":\"t6\",\"function\":{\"name\":\"x\","
                      "\"arguments\":\"{not json\"}},"
                      "{\"id\":\"t7\",\"name\":\"a b\"},"
                      "{\"id\":\"t8\",\"arguments\":{}},"
                      "{\"id\":\"t9\",\"name\":\"y\",\"arguments\":[1]}]}}")
           == NGX_OK
           && msg->ncalls == 4
           && is(&msg->calls[0].id, "t6") && msg->calls[0].error != NULL
           && is(&msg->calls[1].id, "t7") && msg->calls[1].error != NULL
           && is(&msg->calls[2].id, "t8") && msg->calls[2].error != NULL
           && is(&msg->calls[3].id, "t9") && msg->calls[3].error != NULL,
           "calls without an id are left out; bad names and arguments are "
           "errors with their ids");

    tap_ok(parse(msg, "{\"message\":{\"type\":\"tool-calls\"}}") == NGX_OK
           && msg->ncalls == 0 && msg->error != NULL,
           "tool-calls without a list");

    p = json + sprintf(json, "{\"message\":{\"type\":\"tool-calls\","
                             "\"toolCallList\":[");

    for (i = 0; i < NGX_HTTP_VOXANNE_VAPI_CALLS + 3; i++) {
        p += sprintf(p, "%s{\"id\":\"c%u\",\"name\":\"n\"}", i ? "," : "",
                     (unsigned) i);
    }

    strcpy(p, "]}}");

    tap_ok(parse(msg, json) == NGX_OK
           && msg->ncalls == NGX_HTTP_VOXANNE_VAPI_CALLS && msg->ignored == 3,
           "calls over the cap are counted, not read");
}


static void
test_report(ngx_http_voxanne_vapi_msg_t *msg)
{
    char        *json, *p;
    ngx_uint_t   i;

    tap_ok(parse(msg, "{\"message\":{\"type\":\"status-update\","
                      "\"status\":\"forwarding\",\"call\":{\"id\":\"c-2\","
                      "\"type\":\"inboundPhoneCall\"},\"destination\":"
                      "{\"type\":\"number\",\"number\":\"+15550109999\","
                      "\"description\":\"a human\"}}}") == NGX_OK
           && is(&msg->status, "forwarding")
           && is(&msg->call_type, "inboundPhoneCall")
           && is(&msg->destination, "+15550109999")
           && is(&msg->destination_reason, "a human"),
           "status-update forwarding: the destination and why");

    tap_ok(parse(msg, "{\"message\":{\"type\":\"status-update\","
                      "\"status\":\"forwarding\",\"destination\":"
                      "{\"type\":\"sip\",\"sipUri\":\"sip:desk@pbx\"}}}")
           == NGX_OK
           && is(&msg->destination, "sip:desk@pbx")
           && msg->destination_reason.len == 0,
           "status-update forwarding to a SIP URI");

    tap_ok(parse(msg, "{\"message\":{\"type\":\"end-of-call-report\","
                      "\"endedReason\":\"customer-ended-call\","
                      "\"startedAt\":\"2026-11-22T08:00:00.000Z\","
                      "\"endedAt\":\"2026-11-22T08:01:30.000Z\","
                      "\"cost\":0.1234,\"durationSeconds\":90,"
                      "\"analysis\":{\"summary\":\"Booked Botox.\"},"
                      "\"artifact\":{\"recordingUrl\":\"https://r.example/1\","
                      "\"messages\":[{\"role\":\"system\",\"message\":\"x\"},"
                      "{\"role\":\"bot\",\"message\":\"Hello\",\"time\":"
                      "1795000000500},{\"role\":\"user\",\"message\":"
                      "\"Botox\\nplease\"},{\"role\":\"tool_calls\"},"
                      "{\"role\":\"assistant\",\"message\":\"Done\"},"
                      "{\"role\":\"user\",\"message\":\"\"}]}}}") == NGX_OK
           && is(&msg->started_at, "2026-11-22T08:00:00.000Z")
           && is(&msg->ended_at, "2026-11-22T08:01:30.000Z")
           && is(&msg->summary, "Booked Botox.")
           && is(&msg->recording_url, "https://r.example/1")
           && msg->cost == 0.1234 && msg->duration == 90
           && msg->nturns == 3 && msg->turns_ignored == 0
           && msg->turns[0].role == NGX_HTTP_VOXANNE_VAPI_AGENT
           && is(&msg->turns[0].text, "Hello")
           && msg->turns[0].at == 1795000000.5
           && msg->turns[1].role == NGX_HTTP_VOXANNE_VAPI_CALLER
           && is(&msg->turns[1].text, "Botox\nplease")
           && msg->turns[1].at == 0
           && msg->turns[2].role == NGX_HTTP_VOXANNE_VAPI_AGENT,
           "end-of-call-report: times, summary, recording, cost, duration, "
           "the caller's and the agent's turns in order, a newline kept");

    tap_ok(parse(msg, "{\"message\":{\"type\":\"end-of-call-report\","
                      "\"summary\":\"old\",\"recordingUrl\":\"https://r/2\","
                      "\"cost\":-1,\"durationSeconds\":\"90\","
                      "\"messages\":[{\"role\":\"user\",\"message\":"
                      "{\"text\":\"a\"}},{\"role\":\"user\",\"message\":7},"
                      "{\"role\":7,\"message\":\"b\"}]}}")
           == NGX_OK
           && is(&msg->summary, "old")
           && is(&msg->recording_url, "https://r/2")
           && msg->cost == -1 && msg->duration == -1
           && msg->nturns == 0 && msg->turns_ignored == 0,
           "the older report shape; a negative cost, a duration as text, "
           "turns that are no text or have no role: left out");

    tap_ok(parse(msg, "{\"message\":{\"type\":\"end-of-call-report\","
                      "\"artifact\":{\"messages\":[{\"role\":\"user\","
                      "\"message\":\"a\\u0000b\"}]}}}") == NGX_DECLINED,
           "a NUL in a string: the body is refused (PostgreSQL text holds "
           "none)");

    /* a turn over its cap, and turns over theirs */

    json = malloc(NGX_HTTP_VOXANNE_VAPI_TEXT_MAX + 128);
    p = json + sprintf(json, "{\"message\":{\"type\":\"end-of-call-report\","
                             "\"artifact\":{\"messages\":[{\"role\":\"user\","
                             "\"message\":\"");
    memset(p, 'a', NGX_HTTP_VOXANNE_VAPI_TEXT_MAX + 1);
    strcpy(p + NGX_HTTP_VOXANNE_VAPI_TEXT_MAX + 1, "\"}]}}}");

    tap_ok(parse(msg, json) == NGX_OK && msg->nturns == 0
           && msg->turns_ignored == 1,
           "a turn over %d bytes is left out and counted",
           NGX_HTTP_VOXANNE_VAPI_TEXT_MAX);

    free(json);

    json = malloc(64 + 40 * (NGX_HTTP_VOXANNE_VAPI_TURNS + 5));
    p = json + sprintf(json, "{\"message\":{\"type\":\"end-of-call-report\","
                             "\"artifact\":{\"messages\":[");

    for (i = 0; i < NGX_HTTP_VOXANNE_VAPI_TURNS + 5; i++) {
        p += sprintf(p, "%s{\"role\":\"bot\",\"message\":\"t%u\"}",
                     i ? "," : "", (unsigned) i);
    }

    strcpy(p, "]}}}");

    tap_ok(parse(msg, json) == NGX_OK
           && msg->nturns == NGX_HTTP_VOXANNE_VAPI_TURNS
           && msg->turns_ignored == 5
           && is(&msg->turns[NGX_HTTP_VOXANNE_VAPI_TURNS - 1].text, "t255"),
           "turns over the cap are counted, the first ones kept");

    free(json);
}


int
main(void)
{
    ngx_http_voxanne_vapi_msg_t  msg;

    ngx_memzero(&msg, sizeof(ngx_http_voxanne_vapi_msg_t));

    test_refused(&msg);
    test_types(&msg);
    test_calls(&msg);
    test_report(&msg);

    ngx_http_voxanne_vapi_msg_free(&msg);

    return tap_done();
}
