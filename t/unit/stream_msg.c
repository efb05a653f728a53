
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the Media Streams message reader, on the message shapes of
 * protocols.md, section 4.2.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_stream_msg.h"
#include "tap.h"


#define MZ  "MZ0123456789abcdef0123456789abcdef"
#define CA  "CA0123456789abcdef0123456789abcdef"


static ngx_int_t
parse(ngx_http_voxanne_stream_msg_t *msg, const char *json)
{
    return ngx_http_voxanne_stream_msg_parse(msg, (u_char *) json,
                                             strlen(json));
}


int
main(void)
{
    ngx_uint_t                     i;
    ngx_http_voxanne_stream_msg_t  msg;

    static const struct {
        const char  *json;
        ngx_int_t    rc;
        const char  *what;
    } bad[] = {
        { "hello", NGX_ERROR, "not JSON" },
        { "[1,2]", NGX_ERROR, "not an object" },
        { "{\"event\":\"media\",\"event\":\"stop\"}", NGX_ERROR,
          "a duplicate key" },
        { "{\"sequenceNumber\":\"1\"}", NGX_DECLINED, "no event" },
        { "{\"event\":1}", NGX_DECLINED, "a numeric event" },
        { "{\"event\":\"media\",\"streamSid\":\"" MZ "\"}", NGX_DECLINED,
          "media without payload" },
        { "{\"event\":\"media\",\"streamSid\":\"" MZ "\",\"media\":"
          "{\"payload\":\"a\\\"b\"}}", NGX_DECLINED,
          "a payload with a quote" },
        { "{\"event\":\"media\",\"media\":{\"payload\":\"AAAA\"}}",
          NGX_DECLINED, "no streamSid" },
        { "{\"event\":\"stop\",\"streamSid\":\"MZ-1\"}", NGX_DECLINED,
          "a streamSid with a dash" },
        { "{\"event\":\"start\",\"streamSid\":\"" MZ "\",\"start\":{}}",
          NGX_DECLINED, "start without callSid" },
    };

    tap_ok(parse(&msg, "{\"event\":\"connected\",\"protocol\":\"Call\","
                       "\"version\":\"1.0.0\"}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_MSG_CONNECTED
           && msg.stream_sid.len == 0, "connected, without a streamSid");
    ngx_http_voxanne_stream_msg_free(&msg);

    tap_ok(parse(&msg, "{\"event\":\"start\",\"sequenceNumber\":\"1\","
                       "\"streamSid\":\"" MZ "\",\"start\":{\"callSid\":\""
                       CA "\",\"customParameters\":{\"tenant\":\"clinic-a\","
                       "\"token\":\"v1.1.x\"}}}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_MSG_START
           && msg.call_sid.len == 34
           && ngx_strncmp(msg.tenant.data, "clinic-a", 8) == 0
           && msg.token.len == 6 && msg.stream_sid.len == 34,
           "start: streamSid, callSid, tenant and token");
    ngx_http_voxanne_stream_msg_free(&msg);

    tap_ok(parse(&msg, "{\"event\":\"start\",\"streamSid\":\"" MZ "\","
                       "\"start\":{\"callSid\":\"" CA "\"}}") == NGX_OK
           && msg.tenant.len == 0 && msg.token.len == 0,
           "start without parameters: empty, for the caller to refuse");
    ngx_http_voxanne_stream_msg_free(&msg);

    tap_ok(parse(&msg, "{\"event\":\"media\",\"sequenceNumber\":\"3\","
                       "\"streamSid\":\"" MZ "\",\"media\":{\"track\":"
                       "\"inbound\",\"chunk\":\"1\",\"timestamp\":\"5\","
                       "\"payload\":\"/////w==\"}}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_MSG_MEDIA
           && msg.payload.len == 8, "media and its payload");
    ngx_http_voxanne_stream_msg_free(&msg);

    tap_ok(parse(&msg, "{\"event\":\"dtmf\",\"streamSid\":\"" MZ "\","
                       "\"dtmf\":{\"track\":\"inbound_track\","
                       "\"digit\":\"#\"}}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_MSG_DTMF
           && msg.digit.len == 1 && msg.digit.data[0] == '#', "dtmf");
    ngx_http_voxanne_stream_msg_free(&msg);

    tap_ok(parse(&msg, "{\"event\":\"mark\",\"streamSid\":\"" MZ "\","
                       "\"mark\":{\"name\":\"echo-1\"}}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_MSG_MARK && msg.mark.len == 6,
           "mark");
    ngx_http_voxanne_stream_msg_free(&msg);

    tap_ok(parse(&msg, "{\"event\":\"stop\",\"streamSid\":\"" MZ "\"}")
           == NGX_OK && msg.event == NGX_HTTP_VOXANNE_MSG_STOP, "stop");
    ngx_http_voxanne_stream_msg_free(&msg);

    tap_ok(parse(&msg, "{\"event\":\"future\"}") == NGX_OK
           && msg.event == NGX_HTTP_VOXANNE_MSG_OTHER,
           "an unknown event is read, for the caller to ignore");
    ngx_http_voxanne_stream_msg_free(&msg);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        tap_ok(parse(&msg, bad[i].json) == bad[i].rc && msg.error != NULL,
               "refused: %s", bad[i].what);
        ngx_http_voxanne_stream_msg_free(&msg);
    }

    return tap_done();
}
