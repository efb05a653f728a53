
/*
 * Copyright (C) Voxanne Edge
 */


/*
 * A session: its configuration (session.created, session.update and
 * session.updated), the dispatch of client events, and the conversation's
 * items (create, truncate, delete, retrieve).
 */


#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mockrt.h"


static void mockrt_session_update(mockrt_session_t *s, json_t *ev,
    const char *client_event);
static json_t *mockrt_turn_defaults(json_t *given);
static void mockrt_session_derive(mockrt_session_t *s);
static void mockrt_item_create(mockrt_session_t *s, json_t *ev,
    const char *client_event);
static void mockrt_item_truncate(mockrt_session_t *s, json_t *ev,
    const char *client_event);
static mockrt_item_t *mockrt_item_named(mockrt_session_t *s, json_t *ev,
    const char *client_event, const char *code);
static void mockrt_item_delete(mockrt_session_t *s, json_t *ev,
    const char *client_event);
static void mockrt_item_retrieve(mockrt_session_t *s, json_t *ev,
    const char *client_event);
static void mockrt_cancel(mockrt_session_t *s, json_t *ev,
    const char *client_event);
static int mockrt_echo_fast(mockrt_session_t *s, const char *data,
    size_t len);
static void mockrt_log_in(mockrt_session_t *s, json_t *ev);


static const char  mockrt_instructions[] =
    "You are a helpful, friendly assistant on a phone line. Keep your "
    "answers short.";

static const char *const  mockrt_client_events[] = {
    "session.update", "input_audio_buffer.append",
    "input_audio_buffer.commit", "input_audio_buffer.clear",
    "conversation.item.create", "conversation.item.truncate",
    "conversation.item.delete", "conversation.item.retrieve",
    "response.create", "response.cancel", NULL
};


/* the defaults a GA session starts with, in session.created */

void
mockrt_session_start(mockrt_session_t *s, const char *model)
{
    char     id[MOCKRT_ID_LEN];
    json_t  *event, *audio;

    mockrt_id(s->mock, id, "sess_");
    mockrt_id(s->mock, s->conversation, "conv_");

    audio = json_pack("{s:{s:{s:s, s:i}, s:n, s:n, s:o},"
                      " s:{s:{s:s, s:i}, s:s, s:f}}",
                      "input",
                        "format", "type", "audio/pcm", "rate", 24000,
                        "transcription", "noise_reduction",
                        "turn_detection",
                        mockrt_turn_defaults(json_pack("{s:s}", "type",
                                                       "server_vad")),
                      "output",
                        "format", "type", "audio/pcm", "rate", 24000,
                        "voice", "marin", "speed", 1.0);

    s->config = json_pack("{s:s, s:s, s:s, s:s, s:[s], s:s, s:[], s:s, s:s,"
                          " s:n, s:s, s:n, s:I, s:n, s:o}",
                          "type", "realtime", "object", "realtime.session",
                          "id", id, "model", model,
                          "output_modalities", "audio",
                          "instructions", mockrt_instructions,
                          "tools", "tool_choice", "auto",
                          "max_output_tokens", "inf", "tracing",
                          "truncation", "auto", "prompt",
                          "expires_at", (json_int_t) (time(NULL) + 3600),
                          "include", "audio", audio);

    if (s->config == NULL) {
        mockrt_close(s, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
                     "out of memory");
        return;
    }

    mockrt_session_derive(s);

    event = mockrt_event(s, "session.created");
    json_object_set(event, "session", s->config);
    mockrt_send(s, event);
}


void
mockrt_session_free(mockrt_session_t *s)
{
    size_t  i;

    mockrt_response_free(s);

    for (i = 0; i < s->nitems; i++) {
        json_decref(s->items[i].json);
    }

    free(s->items);
    s->items = NULL;
    s->nitems = 0;
    s->items_size = 0;

    free(s->tool_output);
    s->tool_output = NULL;

    json_decref(s->config);
    s->config = NULL;
}


/* a client message */

void
mockrt_session_event(mockrt_session_t *s, const char *data, size_t len)
{
    json_t        *ev, *fields, *v;
    const char    *type, *client_event;
    json_error_t   err;

    if (s->closing || s->config == NULL) {
        return;
    }

    if (s->mock->echo && mockrt_echo_fast(s, data, len)) {
        return;
    }

    ev = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);

    if (ev == NULL || !json_is_object(ev)) {
        fields = json_pack("{s:b, s:I}", "malformed", 1, "length",
                           (json_int_t) len);
        mockrt_log(s->mock, s->number, "in", fields);
        json_decref(fields);

        if (ev == NULL) {
            mockrt_error(s, "invalid_request_error", "invalid_json", NULL,
                         NULL, "The event is not valid JSON: %s (at "
                         "character %d).", err.text, err.position);

        } else {
            mockrt_error(s, "invalid_request_error", "invalid_type", NULL,
                         NULL, "An event is a JSON object, not %s.",
                         json_is_array(ev) ? "an array" : "a scalar");
        }

        json_decref(ev);
        return;
    }

    mockrt_log_in(s, ev);

    v = json_object_get(ev, "event_id");
    client_event = json_string_value(v);

    if (v && client_event == NULL) {
        mockrt_error(s, "invalid_request_error", "invalid_type", "event_id",
                     NULL, "Invalid type for 'event_id': expected a "
                     "string.");
        json_decref(ev);
        return;
    }

    type = json_string_value(json_object_get(ev, "type"));

    if (type == NULL) {
        mockrt_error(s, "invalid_request_error", "missing_required_parameter",
                     "type", client_event, "Missing required parameter: "
                     "'type'.");

    } else if (strcmp(type, "input_audio_buffer.append") == 0) {
        mockrt_input_append(s, ev, client_event);

    } else if (strcmp(type, "session.update") == 0) {
        mockrt_session_update(s, ev, client_event);

    } else if (strcmp(type, "input_audio_buffer.commit") == 0) {
        mockrt_input_commit(s, client_event);

    } else if (strcmp(type, "input_audio_buffer.clear") == 0) {
        mockrt_input_clear(s);

    } else if (strcmp(type, "conversation.item.create") == 0) {
        mockrt_item_create(s, ev, client_event);

    } else if (strcmp(type, "conversation.item.truncate") == 0) {
        mockrt_item_truncate(s, ev, client_event);

    } else if (strcmp(type, "conversation.item.delete") == 0) {
        mockrt_item_delete(s, ev, client_event);

    } else if (strcmp(type, "conversation.item.retrieve") == 0) {
        mockrt_item_retrieve(s, ev, client_event);

    } else if (strcmp(type, "response.create") == 0) {
        if (mockrt_check_response(s, client_event,
                                  json_object_get(ev, "response")) == 0)
        {
            mockrt_response_create(s, json_object_get(ev, "response"),
                                   client_event);
        }

    } else if (strcmp(type, "response.cancel") == 0) {
        mockrt_cancel(s, ev, client_event);

    } else {
        char         list[512];
        size_t       n;
        const char  *const *p;

        n = 0;

        for (p = mockrt_client_events; *p && n < sizeof(list); p++) {
            n += snprintf(list + n, sizeof(list) - n, "%s'%s'",
                          p == mockrt_client_events ? "" : ", ", *p);
        }

        mockrt_error(s, "invalid_request_error", "invalid_value", "type",
                     client_event, "Invalid value: '%.100s'. Supported "
                     "values are: %s.", type, list);
    }

    json_decref(ev);
}


/*
 * --echo, the benchmarks' floor: an append exactly as a bridge re-wraps
 * Twilio's media, {"type":"input_audio_buffer.append","audio":"..."}, is
 * taken without a JSON parser.  Strict base64 has no quote or backslash,
 * so a message that matches is that JSON; any other goes the long way.
 */

static int
mockrt_echo_fast(mockrt_session_t *s, const char *data, size_t len)
{
    size_t       n;
    json_t      *fields;
    ssize_t      bytes;
    const char  *audio;

    static const char  prefix[] =
        "{\"type\":\"input_audio_buffer.append\",\"audio\":\"";

    n = sizeof(prefix) - 1;

    if (len < n + 2 || memcmp(data, prefix, n) != 0
        || data[len - 2] != '"' || data[len - 1] != '}')
    {
        return 0;
    }

    audio = data + n;
    bytes = mockrt_base64_decoded_len(audio, len - n - 2);

    if (bytes < 0 || bytes > MOCKRT_AUDIO_MAX) {
        return 0;
    }

    if (s->mock->log_fd != -1) {
        fields = json_pack("{s:s, s:I}", "type", "input_audio_buffer.append",
                           "bytes", (json_int_t) bytes);
        mockrt_log(s->mock, s->number, "in", fields);
        json_decref(fields);
    }

    mockrt_echo_append(s, audio, len - n - 2, (size_t) bytes);

    return 1;
}


/* logged as received, but an append's audio as its decoded length */

static void
mockrt_log_in(mockrt_session_t *s, json_t *ev)
{
    json_t      *fields;
    const char  *audio;

    audio = json_string_value(json_object_get(ev, "audio"));

    if (audio == NULL) {
        mockrt_log(s->mock, s->number, "in", ev);
        return;
    }

    fields = json_copy(ev);
    json_object_del(fields, "audio");
    json_object_set_new(fields, "bytes", json_integer(
        mockrt_base64_decoded_len(audio, json_string_length(
            json_object_get(ev, "audio")))));

    mockrt_log(s->mock, s->number, "in", fields);
    json_decref(fields);
}


/*
 * session.update: checked whole, then merged: only the fields given
 * change, audio.input and audio.output field by field, and a new
 * turn_detection gets the defaults of its type.
 */

static void
mockrt_session_update(mockrt_session_t *s, json_t *ev,
    const char *client_event)
{
    size_t       i;
    json_t      *session, *config, *v, *dir, *given, *to;
    const char  *key, *name;

    static const char *const  dirs[] = { "input", "output", NULL };

    session = json_object_get(ev, "session");

    if (mockrt_check_session(s, client_event, session) != 0) {
        return;
    }

    config = json_deep_copy(s->config);
    if (config == NULL) {
        return;
    }

    json_object_foreach(session, key, v) {

        if (strcmp(key, "type") == 0) {
            continue;
        }

        if (strcmp(key, "audio") != 0) {
            json_object_set_new(config, key, json_deep_copy(v));
            continue;
        }

        for (i = 0; dirs[i]; i++) {
            given = json_object_get(v, dirs[i]);
            to = json_object_get(json_object_get(config, "audio"), dirs[i]);

            json_object_foreach(given, name, dir) {
                if (strcmp(name, "turn_detection") == 0 && !json_is_null(dir))
                {
                    json_object_set_new(to, name,
                                        mockrt_turn_defaults(
                                            json_deep_copy(dir)));

                } else {
                    json_object_set_new(to, name, json_deep_copy(dir));
                }
            }
        }
    }

    json_decref(s->config);
    s->config = config;

    mockrt_session_derive(s);

    ev = mockrt_event(s, "session.updated");
    json_object_set(ev, "session", s->config);
    mockrt_send(s, ev);
}


/* the turn detection given, with its type's defaults where it says none */

static json_t *
mockrt_turn_defaults(json_t *given)
{
    json_t      *td;
    const char  *type;

    type = json_string_value(json_object_get(given, "type"));

    if (type && strcmp(type, "semantic_vad") == 0) {
        td = json_pack("{s:s, s:s, s:b, s:b}", "type", "semantic_vad",
                       "eagerness", "auto", "create_response", 1,
                       "interrupt_response", 1);

    } else {
        td = json_pack("{s:s, s:f, s:i, s:i, s:n, s:b, s:b}",
                       "type", "server_vad", "threshold", 0.5,
                       "prefix_padding_ms", 300, "silence_duration_ms", 500,
                       "idle_timeout_ms", "create_response", 1,
                       "interrupt_response", 1);
    }

    json_object_update(td, given);
    json_decref(given);

    return td;
}


/* what the VAD and the responses work with, from the session */

static void
mockrt_session_derive(mockrt_session_t *s)
{
    json_t      *in, *out, *td, *v;
    const char  *type, *eagerness;

    in = json_object_get(json_object_get(s->config, "audio"), "input");
    out = json_object_get(json_object_get(s->config, "audio"), "output");
    td = json_object_get(in, "turn_detection");

    s->in_format = mockrt_format_of(json_object_get(in, "format"));
    s->out_format = mockrt_format_of(json_object_get(out, "format"));
    s->transcription = json_is_object(json_object_get(in, "transcription"));

    type = json_string_value(json_object_get(td, "type"));

    if (type == NULL) {
        s->turn = MOCKRT_TURN_NONE;
        mockrt_input_reset_vad(s);
        return;
    }

    v = json_object_get(td, "threshold");

    s->vad_rms = s->mock->vad_rms * (v ? json_number_value(v) : 0.5) / 0.5;
    s->create_response = !json_is_false(json_object_get(td,
                                                        "create_response"));
    s->interrupt_response = !json_is_false(json_object_get(td,
                                                   "interrupt_response"));

    if (strcmp(type, "semantic_vad") == 0) {

        /* no semantics here: server VAD, its silence by the eagerness */

        s->turn = MOCKRT_TURN_SEMANTIC_VAD;
        s->prefix_ms = 300;

        eagerness = json_string_value(json_object_get(td, "eagerness"));

        s->silence_ms = (eagerness && strcmp(eagerness, "low") == 0) ? 1000
                        : (eagerness && strcmp(eagerness, "high") == 0) ? 200
                        : 500;
        return;
    }

    s->turn = MOCKRT_TURN_SERVER_VAD;
    s->prefix_ms = (unsigned) json_integer_value(
                       json_object_get(td, "prefix_padding_ms"));
    s->silence_ms = (unsigned) json_integer_value(
                        json_object_get(td, "silence_duration_ms"));

    if (s->silence_ms < MOCKRT_WINDOW_MS) {
        s->silence_ms = MOCKRT_WINDOW_MS;
    }
}


mockrt_format_e
mockrt_format_of(json_t *format)
{
    const char  *type;

    type = json_string_value(json_object_get(format, "type"));

    if (type && strcmp(type, "audio/pcmu") == 0) {
        return MOCKRT_PCMU;
    }

    if (type && strcmp(type, "audio/pcma") == 0) {
        return MOCKRT_PCMA;
    }

    return MOCKRT_PCM;
}


/* items: the conversation, oldest first; the oldest go past the cap */

mockrt_item_t *
mockrt_item_add(mockrt_session_t *s, const char *id, unsigned type)
{
    size_t          size;
    mockrt_item_t  *items, *item;

    if (s->nitems == MOCKRT_ITEMS_MAX) {
        json_decref(s->items[0].json);
        memmove(&s->items[0], &s->items[1],
                (s->nitems - 1) * sizeof(mockrt_item_t));
        s->nitems--;
    }

    if (s->nitems == s->items_size) {
        size = s->items_size ? s->items_size * 2 : 16;

        items = realloc(s->items, size * sizeof(mockrt_item_t));
        if (items == NULL) {
            return NULL;
        }

        s->items = items;
        s->items_size = size;
    }

    item = &s->items[s->nitems++];
    memset(item, 0, sizeof(mockrt_item_t));

    snprintf(item->id, sizeof(item->id), "%s", id);
    item->type = type;

    return item;
}


mockrt_item_t *
mockrt_item_find(mockrt_session_t *s, const char *id)
{
    size_t  i;

    for (i = s->nitems; i > 0; i--) {
        if (strcmp(s->items[i - 1].id, id) == 0) {
            return &s->items[i - 1];
        }
    }

    return NULL;
}


/* previous_item_id: the item before the newest one, or null */

json_t *
mockrt_previous(mockrt_session_t *s)
{
    return s->nitems > 1 ? json_string(s->items[s->nitems - 2].id)
                         : json_null();
}


/* item as the server shows it: an id, "object" and a status */

void
mockrt_item_send(mockrt_session_t *s, const char *type, json_t *item)
{
    json_t  *ev;

    ev = mockrt_event(s, type);
    json_object_set_new(ev, "previous_item_id", mockrt_previous(s));
    json_object_set(ev, "item", item);
    mockrt_send(s, ev);
}


static void
mockrt_item_create(mockrt_session_t *s, json_t *ev, const char *client_event)
{
    char            id[MOCKRT_ID_LEN];
    size_t          i;
    json_t         *item, *part;
    const char     *type, *role, *text, *call_id;
    mockrt_item_t  *rec;

    if (mockrt_check_item(s, client_event, json_object_get(ev, "item"))
        != 0)
    {
        return;
    }

    item = json_deep_copy(json_object_get(ev, "item"));
    if (item == NULL) {
        return;
    }

    if (json_string_value(json_object_get(item, "id"))) {
        snprintf(id, sizeof(id), "%s",
                 json_string_value(json_object_get(item, "id")));

    } else {
        mockrt_id(s->mock, id, "item_");
        json_object_set_new(item, "id", json_string(id));
    }

    json_object_set_new(item, "object", json_string("realtime.item"));
    json_object_set_new(item, "status", json_string("completed"));

    type = json_string_value(json_object_get(item, "type"));
    role = json_string_value(json_object_get(item, "role"));
    call_id = json_string_value(json_object_get(item, "call_id"));

    rec = mockrt_item_add(s, id,
                          strcmp(type, "message") == 0 ? MOCKRT_ITEM_MESSAGE
                          : strcmp(type, "function_call") == 0
                          ? MOCKRT_ITEM_CALL : MOCKRT_ITEM_CALL_OUTPUT);
    if (rec == NULL) {
        json_decref(item);
        return;
    }

    rec->json = json_incref(item);
    rec->assistant = (role && strcmp(role, "assistant") == 0);

    if (call_id) {
        snprintf(rec->call_id, sizeof(rec->call_id), "%s", call_id);
    }

    mockrt_item_send(s, "conversation.item.added", item);
    mockrt_item_send(s, "conversation.item.done", item);

    if (rec->type == MOCKRT_ITEM_CALL_OUTPUT) {
        free(s->tool_output);
        s->tool_output = strdup(json_string_value(json_object_get(item,
                                                                  "output")));

    } else if (role && strcmp(role, "user") == 0) {
        json_array_foreach(json_object_get(item, "content"), i, part) {
            text = json_string_value(json_object_get(part, "text"));

            if (text) {
                mockrt_trigger(s, text);
            }
        }
    }

    json_decref(item);
}


/*
 * A tool call is due when the user says "pressed N" (how the bridge
 * forwards a DTMF key) for a key trigger, or the phrase of a phrase one.
 */

void
mockrt_trigger(mockrt_session_t *s, const char *text)
{
    char                 want[16];
    size_t               n;
    unsigned             i;
    const char          *p;
    const mockrt_tool_t *tool;

    for (i = 0; i < s->mock->ntools; i++) {
        tool = &s->mock->tools[i];

        if (!tool->digit) {
            if (strcasestr(text, tool->trigger)) {
                s->trigger = tool;
                return;
            }

            continue;
        }

        n = snprintf(want, sizeof(want), "pressed %s", tool->trigger);

        for (p = strcasestr(text, want); p; p = strcasestr(p + 1, want)) {
            if (!isalnum((unsigned char) p[n])) {
                s->trigger = tool;
                return;
            }
        }
    }
}


/*
 * conversation.item.truncate: only assistant messages, and never past the
 * audio sent for the item: the real server answers that with an error
 * ("Audio content of Xms is already shorter than Yms", peers.md 2), which
 * leaves naive bridges silent.
 */

static void
mockrt_item_truncate(mockrt_session_t *s, json_t *ev,
    const char *client_event)
{
    json_t         *out;
    unsigned        sent, end;
    const char     *id;
    mockrt_item_t  *item;

    if (mockrt_check_truncate(s, client_event, ev) != 0) {
        return;
    }

    id = json_string_value(json_object_get(ev, "item_id"));
    end = (unsigned) json_integer_value(json_object_get(ev, "audio_end_ms"));
    item = mockrt_item_find(s, id);

    if (item == NULL) {
        mockrt_error(s, "invalid_request_error",
                     "item_truncate_invalid_item_id", "item_id",
                     client_event, "Item with item_id not found: %.100s", id);
        return;
    }

    if (item->type != MOCKRT_ITEM_MESSAGE || !item->assistant) {
        mockrt_error(s, "invalid_request_error", "invalid_value", "item_id",
                     client_event, "Only assistant messages can be "
                     "truncated.");
        return;
    }

    sent = item->bytes_per_ms
           ? (unsigned) (item->audio_bytes / item->bytes_per_ms) : 0;

    if (end > sent) {
        mockrt_error(s, "invalid_request_error", "invalid_value",
                     "audio_end_ms", client_event, "Audio content of %ums "
                     "is already shorter than %ums", sent, end);
        return;
    }

    out = mockrt_event(s, "conversation.item.truncated");
    json_object_set_new(out, "item_id", json_string(id));
    json_object_set_new(out, "content_index", json_integer(0));
    json_object_set_new(out, "audio_end_ms", json_integer(end));
    mockrt_send(s, out);
}


/* the item an event names by item_id, or NULL after an error event */

static mockrt_item_t *
mockrt_item_named(mockrt_session_t *s, json_t *ev, const char *client_event,
    const char *code)
{
    const char     *id;
    mockrt_item_t  *item;

    if (mockrt_check_string(s, client_event, ev, "item_id") != 0) {
        return NULL;
    }

    id = json_string_value(json_object_get(ev, "item_id"));
    item = mockrt_item_find(s, id);

    if (item == NULL || item->json == NULL) {
        mockrt_error(s, "invalid_request_error", code, "item_id",
                     client_event, "Item with item_id not found: %.100s", id);
        return NULL;
    }

    return item;
}


static void
mockrt_item_delete(mockrt_session_t *s, json_t *ev, const char *client_event)
{
    json_t         *out;
    mockrt_item_t  *item;

    item = mockrt_item_named(s, ev, client_event,
                             "item_delete_invalid_item_id");
    if (item == NULL) {
        return;
    }

    out = mockrt_event(s, "conversation.item.deleted");
    json_object_set_new(out, "item_id", json_string(item->id));

    json_decref(item->json);
    memmove(item, item + 1,
            (s->nitems - (item - s->items) - 1) * sizeof(mockrt_item_t));
    s->nitems--;

    mockrt_send(s, out);
}


static void
mockrt_item_retrieve(mockrt_session_t *s, json_t *ev,
    const char *client_event)
{
    json_t         *out;
    mockrt_item_t  *item;

    item = mockrt_item_named(s, ev, client_event,
                             "item_retrieve_invalid_item_id");
    if (item == NULL) {
        return;
    }

    out = mockrt_event(s, "conversation.item.retrieved");
    json_object_set(out, "item", item->json);
    mockrt_send(s, out);
}


static void
mockrt_cancel(mockrt_session_t *s, json_t *ev, const char *client_event)
{
    json_t      *v;
    const char  *id;

    v = json_object_get(ev, "response_id");
    id = json_string_value(v);

    if (v && id == NULL) {
        mockrt_check_string(s, client_event, ev, "response_id");
        return;
    }

    if (s->response == NULL || (id && strcmp(id, s->response->id) != 0)) {
        mockrt_error(s, "invalid_request_error", "response_cancel_not_active",
                     NULL, client_event, "Cancellation failed: no active "
                     "response found");
        return;
    }

    mockrt_response_cancel(s, "client_cancelled");
}
