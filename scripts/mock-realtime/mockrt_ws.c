
/*
 * Copyright (C) Voxanne Edge
 */


/*
 * The WebSocket side: the upgrade (refusals, the path, the API key), the
 * messages in (reassembled, capped), the messages out (a queue written one
 * a WRITEABLE callback), the close, and the fault modes' timers.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mockrt.h"


#define MOCKRT_RX_FIRST    4096


static int mockrt_ws_upgrade(mockrt_t *mock, struct lws *wsi);
static int mockrt_ws_refuse(mockrt_t *mock, struct lws *wsi,
    unsigned number, int status, const char *why, const char *message,
    const char *code);
static void mockrt_ws_established(mockrt_t *mock, mockrt_session_t *s,
    struct lws *wsi);
static int mockrt_ws_receive(mockrt_session_t *s, const char *in,
    size_t len);
static int mockrt_ws_writeable(mockrt_session_t *s);
static void mockrt_ws_closed(mockrt_session_t *s);
static void mockrt_ws_peer_close(mockrt_session_t *s, const unsigned char *in,
    size_t len);
static void mockrt_ws_schedule(mockrt_session_t *s,
    lws_sorted_usec_list_t *sul, sul_cb_t cb, unsigned ms);
static void mockrt_fault_drop(lws_sorted_usec_list_t *sul);
static void mockrt_fault_error(lws_sorted_usec_list_t *sul);
static void mockrt_fault_close(lws_sorted_usec_list_t *sul);
static void mockrt_fault_cap(lws_sorted_usec_list_t *sul);
static void mockrt_fault_mute(lws_sorted_usec_list_t *sul);
static int mockrt_same(const char *a, const char *b, size_t len);
static const char *mockrt_ws_reason(int status);


int
mockrt_ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
    mockrt_t          *mock;
    mockrt_session_t  *s = user;

    mock = lws_context_user(lws_get_context(wsi));

    switch (reason) {

    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return mockrt_ws_upgrade(mock, wsi);

    case LWS_CALLBACK_HTTP:

        /* a plain request: this server speaks WebSocket only */

        if (mockrt_ws_refuse(mock, wsi,
                (unsigned) (uintptr_t) lws_get_opaque_user_data(wsi), 400,
                "not an upgrade", "This endpoint expects a WebSocket "
                "upgrade.", NULL)
            != 0)
        {
            return -1;
        }

        return lws_http_transaction_completed(wsi) ? -1 : 0;

    case LWS_CALLBACK_ESTABLISHED:
        mockrt_ws_established(mock, s, wsi);
        return 0;

    case LWS_CALLBACK_RECEIVE:
        if (s->mock == NULL || s->dropped) {
            return -1;
        }

        if (lws_frame_is_binary(wsi)) {
            mockrt_close(s, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                         "text frames only");
            lws_close_reason(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                             (unsigned char *) "text frames only", 16);
            return -1;
        }

        return mockrt_ws_receive(s, in, len);

    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (s->mock == NULL || s->dropped) {
            return 0;
        }

        return mockrt_ws_writeable(s);

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (s->mock) {
            mockrt_ws_peer_close(s, in, len);
        }

        return 0;

    case LWS_CALLBACK_CLOSED:
        if (s->mock) {
            mockrt_ws_closed(s);
        }

        return 0;

    default:
        break;
    }

    return lws_callback_http_dummy(wsi, reason, user, in, len);
}


/*
 * Before the 101: the fault, the path, the key.  0 lets the upgrade go on;
 * 1 says the refusal was written, and lws ends the transaction.
 */

static int
mockrt_ws_upgrade(mockrt_t *mock, struct lws *wsi)
{
    int        n;
    char       path[256], auth[1024];
    size_t     len;
    unsigned   number;

    number = (unsigned) (uintptr_t) lws_get_opaque_user_data(wsi);

    if (mock->refuse
        && (mock->fault_first == 0 || number <= mock->fault_first))
    {
        return mockrt_ws_refuse(mock, wsi, number, mock->refuse, "--refuse",
                                "The server is not accepting connections "
                                "(mock-realtime --refuse).", NULL)
               ? -1 : 1;
    }

    if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0
        || strcmp(path, "/v1/realtime") != 0)
    {
        return mockrt_ws_refuse(mock, wsi, number, 404, "path",
                                "Invalid URL: the Realtime API is at "
                                "/v1/realtime.", NULL)
               ? -1 : 1;
    }

    if (mock->api_key == NULL) {
        return 0;
    }

    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) <= 0) {
        return mockrt_ws_refuse(mock, wsi, number, 401, "no key",
                                "You didn't provide an API key. You need to "
                                "provide your API key in an Authorization "
                                "header using Bearer auth (i.e. "
                                "Authorization: Bearer YOUR_KEY).", NULL)
               ? -1 : 1;
    }

    n = lws_hdr_copy(wsi, auth, sizeof(auth), WSI_TOKEN_HTTP_AUTHORIZATION);
    len = strlen(mock->api_key);

    if (n < 0 || (size_t) n != len + 7 || strncmp(auth, "Bearer ", 7) != 0
        || !mockrt_same(auth + 7, mock->api_key, len))
    {
        return mockrt_ws_refuse(mock, wsi, number, 401, "wrong key",
                                "Incorrect API key provided.",
                                "invalid_api_key")
               ? -1 : 1;
    }

    return 0;
}


/* the length of a and b is len; in time that does not depend on where */

static int
mockrt_same(const char *a, const char *b, size_t len)
{
    size_t         i;
    unsigned char  d;

    d = 0;

    for (i = 0; i < len; i++) {
        d |= (unsigned char) (a[i] ^ b[i]);
    }

    return d == 0;
}


/* an HTTP error with OpenAI's JSON error body; 0 when it is written */

static int
mockrt_ws_refuse(mockrt_t *mock, struct lws *wsi, unsigned number,
    int status, const char *why, const char *message, const char *code)
{
    int              n;
    char            *body, path[256];
    json_t          *json;
    size_t           blen;
    unsigned char    buf[LWS_PRE + 2048], *start;

    if (lws_hdr_copy(wsi, path, sizeof(path), WSI_TOKEN_GET_URI) <= 0) {
        path[0] = '\0';
    }

    json = json_pack("{s:s, s:i, s:s}", "refused", why, "status", status,
                     "path", path);
    mockrt_log(mock, number, "upgrade", json);
    json_decref(json);

    json = json_pack("{s:{s:s, s:s, s:n, s:s?}}", "error", "message", message,
                     "type", "invalid_request_error", "param", "code", code);
    body = json ? json_dumps(json, JSON_COMPACT) : NULL;
    json_decref(json);

    if (body == NULL) {
        return -1;
    }

    /* written out here: lws would say HTTP/1.0 before an upgrade */

    blen = strlen(body);
    start = buf + LWS_PRE;
    n = snprintf((char *) start, sizeof(buf) - LWS_PRE,
                 "HTTP/1.1 %d %s\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: %zu\r\n"
                 "Connection: close\r\n"
                 "\r\n%s", status, mockrt_ws_reason(status), blen, body);
    free(body);

    if (n < 0 || (size_t) n >= sizeof(buf) - LWS_PRE) {
        return -1;
    }

    return lws_write(wsi, start, n, LWS_WRITE_HTTP_FINAL) < 0 ? -1 : 0;
}


static const char *
mockrt_ws_reason(int status)
{
    size_t  i;

    static const struct {
        int          status;
        const char  *reason;
    } reasons[] = {
        { 400, "Bad Request" }, { 401, "Unauthorized" },
        { 403, "Forbidden" }, { 404, "Not Found" },
        { 429, "Too Many Requests" }, { 500, "Internal Server Error" },
        { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
        { 504, "Gateway Timeout" }
    };

    for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
        if (reasons[i].status == status) {
            return reasons[i].reason;
        }
    }

    return "Error";
}


static void
mockrt_ws_established(mockrt_t *mock, mockrt_session_t *s, struct lws *wsi)
{
    SSL         *ssl;
    char         buf[160], model[128];
    json_t      *fields;
    const char  *arg, *sni;

    memset(s, 0, sizeof(mockrt_session_t));

    s->mock = mock;
    s->wsi = wsi;
    s->number = (unsigned) (uintptr_t) lws_get_opaque_user_data(wsi);
    s->faulty = (mock->fault_first == 0 || s->number <= mock->fault_first);
    s->odd_byte = -1;

    /* lws copies the whole "model=..." and points after the "=" */

    arg = lws_get_urlarg_by_name(wsi, "model=", buf, sizeof(buf));

    snprintf(model, sizeof(model), "%s",
             (arg && arg[0] != '\0') ? arg : mock->model);

    /* the name the client asked for in its TLS hello (SNI), or null */

    ssl = lws_is_ssl(wsi) ? (SSL *) lws_get_ssl(wsi) : NULL;
    sni = ssl ? SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) : NULL;

    fields = json_pack("{s:i, s:s, s:b, s:s?}", "status", 101, "model", model,
                       "tls", lws_is_ssl(wsi), "sni", sni);
    mockrt_log(mock, s->number, "upgrade", fields);
    json_decref(fields);

    /* beta clients were cut off in 2026 (protocols.md 5.1) */

    if (lws_hdr_custom_length(wsi, "openai-beta:", 12) > 0) {
        mockrt_close(s, 4000, "beta_api_shape_disabled");
        return;
    }

    mockrt_session_start(s, model);

    if (!s->faulty) {
        return;
    }

    mockrt_ws_schedule(s, &s->sul_drop, mockrt_fault_drop,
                       mock->drop_after_ms);
    mockrt_ws_schedule(s, &s->sul_error, mockrt_fault_error,
                       mock->error_after_ms);
    mockrt_ws_schedule(s, &s->sul_close, mockrt_fault_close,
                       mock->close_after_ms);
    mockrt_ws_schedule(s, &s->sul_cap, mockrt_fault_cap,
                       mock->session_cap_ms);
    mockrt_ws_schedule(s, &s->sul_mute, mockrt_fault_mute,
                       mock->mute_after_ms);
}


static void
mockrt_ws_schedule(mockrt_session_t *s, lws_sorted_usec_list_t *sul,
    sul_cb_t cb, unsigned ms)
{
    if (ms) {
        lws_sul_schedule(s->mock->context, 0, sul, cb,
                         (lws_usec_t) ms * 1000);
    }
}


static int
mockrt_ws_receive(mockrt_session_t *s, const char *in, size_t len)
{
    char    *rx;
    size_t   size;

    if (lws_is_first_fragment(s->wsi)) {
        s->rx_len = 0;
    }

    if (s->rx_len + len > s->mock->max_message) {
        mockrt_close(s, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                     "message too big");
        lws_close_reason(s->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         (unsigned char *) "message too big", 15);
        return -1;
    }

    if (s->rx_len + len + 1 > s->rx_size) {
        size = s->rx_size ? s->rx_size : MOCKRT_RX_FIRST;

        while (size < s->rx_len + len + 1) {
            size *= 2;
        }

        rx = realloc(s->rx, size);
        if (rx == NULL) {
            return -1;
        }

        s->rx = rx;
        s->rx_size = size;
    }

    memcpy(s->rx + s->rx_len, in, len);
    s->rx_len += len;

    if (!lws_is_final_fragment(s->wsi)
        || lws_remaining_packet_payload(s->wsi) != 0)
    {
        return 0;
    }

    s->rx[s->rx_len] = '\0';

    mockrt_session_event(s, s->rx, s->rx_len);

    s->rx_len = 0;

    /* a large message's buffer goes back */

    if (s->rx_size > 65536) {
        free(s->rx);
        s->rx = NULL;
        s->rx_size = 0;
    }

    return s->dropped ? -1 : 0;
}


static int
mockrt_ws_writeable(mockrt_session_t *s)
{
    int            n;
    mockrt_msg_t  *m;

    m = s->tx_head;

    if (m) {
        s->tx_head = m->next;

        if (s->tx_head == NULL) {
            s->tx_tail = NULL;
        }

        s->tx_bytes -= m->len;

        n = lws_write(s->wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
        free(m);

        if (n < 0) {
            return -1;
        }

        if (s->tx_head || s->close_code) {
            lws_callback_on_writable(s->wsi);
        }

        return 0;
    }

    if (s->close_code) {
        lws_close_reason(s->wsi, s->close_code,
                         (unsigned char *) s->close_reason,
                         strlen(s->close_reason));
        return -1;
    }

    return 0;
}


static void
mockrt_ws_peer_close(mockrt_session_t *s, const unsigned char *in,
    size_t len)
{
    json_t  *fields;

    fields = json_pack("{s:s}", "by", "client");
    if (fields == NULL) {
        return;
    }

    if (len >= 2) {
        json_object_set_new(fields, "code",
                            json_integer((in[0] << 8) | in[1]));
        json_object_set_new(fields, "reason",
                            json_stringn((const char *) in + 2, len - 2));
    }

    mockrt_log(s->mock, s->number, "close", fields);
    json_decref(fields);

    s->closing = 1;
}


static void
mockrt_ws_closed(mockrt_session_t *s)
{
    mockrt_msg_t  *m;

    mockrt_log(s->mock, s->number, "closed", NULL);

    lws_sul_cancel(&s->sul_drop);
    lws_sul_cancel(&s->sul_error);
    lws_sul_cancel(&s->sul_close);
    lws_sul_cancel(&s->sul_cap);
    lws_sul_cancel(&s->sul_mute);

    mockrt_session_free(s);

    while (s->tx_head) {
        m = s->tx_head;
        s->tx_head = m->next;
        free(m);
    }

    s->tx_tail = NULL;
    s->tx_bytes = 0;

    free(s->rx);
    s->rx = NULL;
    s->mock = NULL;
}


/* a server event with its type and a fresh event_id */

json_t *
mockrt_event(mockrt_session_t *s, const char *type)
{
    char  id[MOCKRT_ID_LEN];

    mockrt_id(s->mock, id, "event_");

    return json_pack("{s:s, s:s}", "type", type, "event_id", id);
}


/*
 * Queues an event and logs it; takes the reference.  Audio deltas are
 * logged with their decoded length in "bytes", not their audio.
 */

void
mockrt_send(mockrt_session_t *s, json_t *event)
{
    char        *text;
    json_t      *fields;
    const char  *type, *delta;

    if (event == NULL) {
        return;
    }

    if (s->closing || s->dropped) {
        json_decref(event);
        return;
    }

    type = json_string_value(json_object_get(event, "type"));
    delta = json_string_value(json_object_get(event, "delta"));

    if (type && delta && strcmp(type, "response.output_audio.delta") == 0) {
        fields = json_copy(event);
        json_object_del(fields, "delta");
        json_object_set_new(fields, "bytes", json_integer(
            mockrt_base64_decoded_len(delta, strlen(delta))));

    } else {
        fields = json_incref(event);
    }

    mockrt_log(s->mock, s->number, "out", fields);
    json_decref(fields);

    text = json_dumps(event, JSON_COMPACT);
    json_decref(event);

    if (text) {
        mockrt_send_text(s, text, strlen(text));
        free(text);
    }
}


/* queues a message as it is */

void
mockrt_send_text(mockrt_session_t *s, const char *text, size_t len)
{
    mockrt_msg_t  *m;

    if (s->closing || s->dropped) {
        return;
    }

    if (s->tx_bytes + len > MOCKRT_TX_MAX) {
        mockrt_close(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "not reading");
        return;
    }

    m = malloc(sizeof(mockrt_msg_t) + LWS_PRE + len);
    if (m == NULL) {
        return;
    }

    m->next = NULL;
    m->len = len;
    memcpy(m->data + LWS_PRE, text, len);

    if (s->tx_tail) {
        s->tx_tail->next = m;

    } else {
        s->tx_head = m;
    }

    s->tx_tail = m;
    s->tx_bytes += len;

    lws_callback_on_writable(s->wsi);
}


/*
 * An "error" event, GA shape: {type, event_id, error: {type, code,
 * message, param, event_id}}, the last the client event at fault.
 */

void
mockrt_error(mockrt_session_t *s, const char *type, const char *code,
    const char *param, const char *client_event, const char *fmt, ...)
{
    char     message[1024];
    json_t  *event;
    va_list  args;

    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);

    event = mockrt_event(s, "error");
    if (event == NULL) {
        return;
    }

    json_object_set_new(event, "error",
        json_pack("{s:s, s:s?, s:s, s:s?, s:s?}", "type", type,
                  "code", code, "message", message, "param", param,
                  "event_id", client_event));

    mockrt_send(s, event);
}


/* sends what is queued, then a close frame: nothing more goes out */

void
mockrt_close(mockrt_session_t *s, int code, const char *reason)
{
    json_t  *fields;

    if (s->closing || s->dropped) {
        return;
    }

    fields = json_pack("{s:s, s:i, s:s}", "by", "mock", "code", code,
                       "reason", reason);
    mockrt_log(s->mock, s->number, "close", fields);
    json_decref(fields);

    mockrt_response_free(s);

    s->closing = 1;
    s->close_code = code;
    snprintf(s->close_reason, sizeof(s->close_reason), "%s", reason);

    lws_callback_on_writable(s->wsi);
}


/* --drop-after: the TCP connection ends, without a close frame */

static void
mockrt_fault_drop(lws_sorted_usec_list_t *sul)
{
    mockrt_session_t  *s;

    s = lws_container_of(sul, mockrt_session_t, sul_drop);

    if (s->dropped) {
        return;
    }

    mockrt_log(s->mock, s->number, "drop", NULL);
    mockrt_response_free(s);

    s->dropped = 1;

    (void) shutdown(lws_get_socket_fd(s->wsi), SHUT_RDWR);
    lws_set_timeout(s->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}


static void
mockrt_fault_error(lws_sorted_usec_list_t *sul)
{
    mockrt_session_t  *s;

    s = lws_container_of(sul, mockrt_session_t, sul_error);

    if (s->mock->error_code) {
        mockrt_error(s, "invalid_request_error", s->mock->error_code, NULL,
                     NULL, "mock-realtime --error-after");
        return;
    }

    mockrt_error(s, "server_error", NULL, NULL, NULL,
                 "The server had an error while processing your request. "
                 "Sorry about that!");
}


static void
mockrt_fault_close(lws_sorted_usec_list_t *sul)
{
    mockrt_session_t  *s;

    s = lws_container_of(sul, mockrt_session_t, sul_close);

    mockrt_close(s, s->mock->close_code, "mock-realtime --close-after");
}


/*
 * A server that hangs: the connection is no longer read, so a ping is
 * never answered (libwebsockets answers pings while it reads)
 */

static void
mockrt_fault_mute(lws_sorted_usec_list_t *sul)
{
    mockrt_session_t  *s;

    s = lws_container_of(sul, mockrt_session_t, sul_mute);

    mockrt_log(s->mock, s->number, "mute", NULL);
    lws_rx_flow_control(s->wsi, 0);
}


/* the real server's end of a session: an error event, then close 1001 */

static void
mockrt_fault_cap(lws_sorted_usec_list_t *sul)
{
    mockrt_session_t  *s;

    s = lws_container_of(sul, mockrt_session_t, sul_cap);

    mockrt_error(s, "invalid_request_error", "session_expired", NULL, NULL,
                 "Your session hit the maximum duration of 60 minutes.");
    mockrt_close(s, LWS_CLOSE_STATUS_GOINGAWAY,
                 "Your session hit the maximum duration of 60 minutes.");
}
