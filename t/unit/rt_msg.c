
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the provider event reader, on the GA event shapes of
 * protocols.md, section 5.4.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_rt_msg.h"
#include "tap.h"


static ngx_int_t
parse(ngx_http_voxanne_rt_msg_t *msg, const char *json)
{
    return ngx_http_voxanne_rt_msg_parse(msg, (u_char *) json, strlen(json));
}


static ngx_uint_t
is(ngx_str_t *s, const char *want)
{
    return s->len == strlen(want) && ngx_strncmp(s->data, want, s->len) == 0;
}


int
main(void)
{
    char                       *big;
    size_t                      n;
    ngx_uint_t                  i;
    ngx_http_voxanne_rt_msg_t   msg;

    static const struct {
        const char  *json;
        ngx_int_t    rc;
        const char  *what;
    } bad[] = {
        { "hello", NGX_ERROR, "not JSON" },
        { "[\"error\"]", NGX_ERROR, "not an object" },
        { "{\"event_id\":\"e\"}", NGX_ERROR, "no type" },
        { "{\"type\":7}", NGX_ERROR, "a numeric type" },
        { "{\"type\":\"\"}", NGX_ERROR, "an empty type" },
        { "{\"type\":\"response.output_audio.delta\",\"item_id\":\"i\"}",
          NGX_DECLINED, "a delta without audio" },
        { "{\"type\":\"response.output_audio.delta\",\"item_id\":\"i\","
          "\"delta\":\"AA\\\"AA\"}", NGX_DECLINED, "a delta with a quote" },
        { "{\"type\":\"response.output_audio.delta\",\"item_id\":\"i\","
          "\"delta\":\"AA\\nAA\"}", NGX_DECLINED, "a delta with a newline" },
        { "{\"type\":\"response.output_audio.delta\",\"delta\":\"AAAA\"}",
          NGX_DECLINED, "a delta without item_id" },
        { "{\"type\":\"response.output_audio.delta\",\"delta\":\"AAAA\","
          "\"item_id\":\"item\\\"1\"}", NGX_DECLINED,
          "an item_id with a quote" },
        { "{\"type\":\"response.output_audio.delta\",\"delta\":\"AAAA\","
          "\"item_id\":\"\"}", NGX_DECLINED, "an empty item_id" },
        { "{\"type\":\"input_audio_buffer.speech_started\"}", NGX_DECLINED,
          "speech started without item_id" },
        { "{\"type\":\"response.function_call_arguments.done\","
          "\"name\":\"end_call\"}", NGX_DECLINED,
          "a function call without call_id" },
        { "{\"type\":\"response.function_call_arguments.done\","
          "\"call_id\":\"c1\",\"name\":\"end call\"}", NGX_DECLINED,
          "a function name with a space" },
        { "{\"type\":\"response.output_audio_transcript.done\","
          "\"item_id\":\"item_5\"}", NGX_DECLINED,
          "an agent transcript without text" },
        { "{\"type\":\"conversation.item.input_audio_transcription."
          "completed\",\"transcript\":\"hi\"}", NGX_DECLINED,
          "a caller transcript without item_id" },
        { "{\"type\":\"response.output_audio_transcript.done\","
          "\"item_id\":\"i\",\"transcript\":7}", NGX_DECLINED,
          "a transcript that is no string" },
    };

    tap_ok(parse(&msg, "{\"type\":\"response.output_audio.delta\","
                       "\"event_id\":\"event_1\",\"response_id\":\"resp_1\","
                       "\"item_id\":\"item_Bx9\",\"output_index\":0,"
                       "\"content_index\":0,\"delta\":\"/////w==\"}")
           == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_RT_AUDIO_DELTA
           && is(&msg.delta, "/////w==") && is(&msg.item_id, "item_Bx9"),
           "an audio delta: its audio and item");
    ngx_http_voxanne_rt_msg_free(&msg);

    tap_ok(parse(&msg, "{\"type\":\"response.output_audio.delta\","
                       "\"item_id\":\"i\",\"delta\":\"\"}") == NGX_OK
           && msg.delta.len == 0, "an empty delta");
    ngx_http_voxanne_rt_msg_free(&msg);

    tap_ok(parse(&msg, "{\"type\":\"response.output_audio.done\","
                       "\"item_id\":\"item_2\"}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_RT_AUDIO_DONE
           && is(&msg.item_id, "item_2"), "audio done: its item");
    ngx_http_voxanne_rt_msg_free(&msg);

    tap_ok(parse(&msg, "{\"type\":\"conversation.item.input_audio_"
                       "transcription.completed\",\"item_id\":\"item_7\","
                       "\"content_index\":0,\"transcript\":\"I'd like "
                       "\\\"Botox\\\", 2pm\"}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_RT_CALLER_SAID
           && is(&msg.item_id, "item_7")
           && is(&msg.transcript, "I'd like \"Botox\", 2pm"),
           "the caller's transcript, quotes and all");
    ngx_http_voxanne_rt_msg_free(&msg);

    tap_ok(parse(&msg, "{\"type\":\"response.output_audio_transcript.done\","
                       "\"response_id\":\"r\",\"item_id\":\"item_8\","
                       "\"output_index\":0,\"content_index\":0,"
                       "\"transcript\":\"Sure.\"}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_RT_AGENT_SAID
           && is(&msg.item_id, "item_8") && is(&msg.transcript, "Sure."),
           "the agent's transcript");
    ngx_http_voxanne_rt_msg_free(&msg);

    tap_ok(parse(&msg, "{\"type\":\"input_audio_buffer.speech_started\","
                       "\"event_id\":\"e\",\"audio_start_ms\":1000,"
                       "\"item_id\":\"item_3\"}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_RT_SPEECH_STARTED
           && is(&msg.item_id, "item_3"), "speech started");
    ngx_http_voxanne_rt_msg_free(&msg);

    tap_ok(parse(&msg, "{\"type\":\"response.function_call_arguments.done\","
                       "\"call_id\":\"call_12\",\"name\":\"get_current_time\","
                       "\"arguments\":\"{\\\"tz\\\":1}\"}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_RT_FUNCTION_CALL
           && is(&msg.call_id, "call_12") && is(&msg.name, "get_current_time")
           && is(&msg.arguments, "{\"tz\":1}"),
           "a function call: call_id, name, arguments");
    ngx_http_voxanne_rt_msg_free(&msg);

    tap_ok(parse(&msg, "{\"type\":\"response.created\",\"response\":"
                       "{\"status\":\"in_progress\"}}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_RT_RESPONSE_CREATED,
           "response.created");
    ngx_http_voxanne_rt_msg_free(&msg);

    tap_ok(parse(&msg, "{\"type\":\"response.done\",\"response\":"
                       "{\"status\":\"cancelled\"}}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_RT_RESPONSE_DONE
           && is(&msg.status, "cancelled"), "response.done: its status");
    ngx_http_voxanne_rt_msg_free(&msg);

    tap_ok(parse(&msg, "{\"type\":\"session.created\",\"session\":{}}")
           == NGX_OK && msg.event == NGX_HTTP_VOXANNE_RT_SESSION,
           "session.created");
    ngx_http_voxanne_rt_msg_free(&msg);

    tap_ok(parse(&msg, "{\"type\":\"session.updated\"}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_RT_SESSION, "session.updated");
    ngx_http_voxanne_rt_msg_free(&msg);

    tap_ok(parse(&msg, "{\"type\":\"error\",\"event_id\":\"event_9\","
                       "\"error\":{\"type\":\"invalid_request_error\","
                       "\"code\":\"invalid_value\",\"message\":\"Audio "
                       "content of 440ms is already shorter than 640ms\","
                       "\"param\":\"audio_end_ms\",\"event_id\":\"evt_7\"}}")
           == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_RT_ERROR
           && is(&msg.error_type, "invalid_request_error")
           && is(&msg.error_code, "invalid_value")
           && is(&msg.error_event, "evt_7")
           && is(&msg.error_message, "Audio content of 440ms is already "
                                     "shorter than 640ms")
           && !msg.fatal,
           "an error: type, code, the client event, message; not fatal");
    ngx_http_voxanne_rt_msg_free(&msg);

    /* which errors end the session (protocols.md, 5.4: most do not) */

    {
        static const struct {
            const char  *type;
            const char  *code;          /* JSON */
            ngx_uint_t   fatal;
        } errors[] = {
            { "invalid_request_error", "\"session_expired\"", 1 },
            { "invalid_request_error", "\"invalid_api_key\"", 1 },
            { "invalid_request_error", "\"insufficient_quota\"", 1 },
            { "authentication_error", "null", 1 },
            { "permission_error", "null", 1 },
            { "invalid_request_error", "\"response_cancel_not_active\"", 0 },
            { "invalid_request_error", "\"item_truncate_invalid_item_id\"",
              0 },
            { "invalid_request_error",
              "\"conversation_already_has_active_response\"", 0 },
            { "invalid_request_error", "\"invalid_value\"", 0 },
            { "server_error", "null", 0 },
            { "rate_limit_error", "\"rate_limit_exceeded\"", 0 },
            { "session_expired", "null", 0 },   /* a code, not a type */
        };
        char  json[256];

        for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
            sprintf(json, "{\"type\":\"error\",\"error\":{\"type\":\"%s\","
                          "\"code\":%s}}", errors[i].type, errors[i].code);

            tap_ok(parse(&msg, json) == NGX_OK
                   && msg.fatal == errors[i].fatal,
                   "error %s, code %s: %s", errors[i].type, errors[i].code,
                   errors[i].fatal ? "fatal" : "the session goes on");
            ngx_http_voxanne_rt_msg_free(&msg);
        }
    }

    tap_ok(parse(&msg, "{\"type\":\"error\",\"error\":{\"type\":"
                       "\"server_error\",\"code\":null,\"message\":\"x\\ny\"}}")
           == NGX_OK
           && is(&msg.error_type, "server_error") && msg.error_code.len == 0
           && msg.error_event.len == 0 && is(&msg.error_message, "x\ny"),
           "an error without code or event: kept empty");
    ngx_http_voxanne_rt_msg_free(&msg);

    tap_ok(parse(&msg, "{\"type\":\"error\",\"error\":{\"type\":"
                       "\"bad type\",\"code\":\"a\\\"b\"}}") == NGX_OK
           && msg.error_type.len == 0 && msg.error_code.len == 0,
           "an error's type and code that are not ids: dropped");
    ngx_http_voxanne_rt_msg_free(&msg);

    tap_ok(parse(&msg, "{\"type\":\"error\"}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_RT_ERROR,
           "an error with nothing in it is still an error");
    ngx_http_voxanne_rt_msg_free(&msg);

    /* a long message is cut for the log */

    n = 1000;
    big = malloc(n + 64);
    i = sprintf(big, "{\"type\":\"error\",\"error\":{\"message\":\"");
    memset(big + i, 'm', n);
    strcpy(big + i + n, "\"}}");

    tap_ok(parse(&msg, big) == NGX_OK
           && msg.error_message.len == NGX_HTTP_VOXANNE_RT_TEXT_MAX,
           "an error's message is cut to %d bytes",
           NGX_HTTP_VOXANNE_RT_TEXT_MAX);
    ngx_http_voxanne_rt_msg_free(&msg);
    free(big);

    tap_ok(parse(&msg, "{\"type\":\"rate_limits.updated\",\"rate_limits\":[]}")
           == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_RT_OTHER
           && is(&msg.type, "rate_limits.updated"),
           "another event: its type only");
    ngx_http_voxanne_rt_msg_free(&msg);

    tap_ok(parse(&msg, "{\"type\":\"response.output_audio.delta.x\","
                       "\"delta\":\"\\\"\"}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_RT_OTHER,
           "a type that only starts like a known one");
    ngx_http_voxanne_rt_msg_free(&msg);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tap_ok(parse(&msg, bad[i].json) == bad[i].rc && msg.error != NULL,
               "refused: %s", bad[i].what);
        ngx_http_voxanne_rt_msg_free(&msg);
    }

    return tap_done();
}
