
/*
 * Copyright (C) Voxanne Edge
 */


/*
 * Responses, one at a time as on the default conversation:
 *
 *   spoken: response.created, response.output_item.added,
 *     conversation.item.added, response.content_part.added, then a
 *     response.output_audio.delta every --delta-ms (at real time, or all
 *     at once with --burst) with the transcript's words spread over them
 *     as response.output_audio_transcript.delta, then
 *     response.output_audio.done, response.output_audio_transcript.done,
 *     response.content_part.done, conversation.item.done,
 *     response.output_item.done, response.done, rate_limits.updated;
 *
 *   a function call: the same frame around a function_call item and
 *     response.function_call_arguments.delta/.done;
 *
 *   --echo: one open response whose audio is the caller's.
 *
 * A cancel (turn_detected, client_cancelled) ends a spoken response early:
 * the .done events carry what was sent, the item is "incomplete", and
 * response.done says "cancelled".
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mockrt.h"


static void mockrt_response_begin(mockrt_session_t *s, mockrt_response_t *r,
    json_t *item, unsigned type);
static void mockrt_response_begin_audio(mockrt_session_t *s,
    mockrt_response_t *r);
static void mockrt_response_end(mockrt_session_t *s, mockrt_response_t *r,
    json_t *item, const char *status, const char *reason);
static void mockrt_response_function(mockrt_session_t *s,
    mockrt_response_t *r);
static void mockrt_response_tick(mockrt_session_t *s);
static void mockrt_response_finish(mockrt_session_t *s, const char *status,
    const char *reason);
static json_t *mockrt_response_json(mockrt_session_t *s,
    mockrt_response_t *r, const char *status, const char *reason,
    json_t *output);
static json_t *mockrt_response_event(mockrt_session_t *s,
    mockrt_response_t *r, const char *type);
static const mockrt_tool_t *mockrt_response_tool(mockrt_session_t *s,
    json_t *params);
static size_t mockrt_words(const char *text);


void
mockrt_response_create(mockrt_session_t *s, json_t *params,
    const char *client_event)
{
    char               *text;
    size_t              len;
    json_t             *format;
    const char         *conv;
    mockrt_response_t  *r;

    if (s->response) {
        mockrt_error(s, "invalid_request_error",
                     "conversation_already_has_active_response", NULL,
                     client_event, "Conversation already has an active "
                     "response in progress: %s. Wait until the response is "
                     "finished before creating a new one.", s->response->id);
        return;
    }

    r = calloc(1, sizeof(mockrt_response_t));
    if (r == NULL) {
        return;
    }

    conv = json_string_value(json_object_get(params, "conversation"));

    r->params = json_incref(params);
    r->in_conversation = (conv == NULL || strcmp(conv, "none") != 0);
    r->tool = mockrt_response_tool(s, params);
    s->trigger = NULL;

    mockrt_id(s->mock, r->id, "resp_");
    mockrt_id(s->mock, r->item_id, "item_");

    s->response = r;

    if (r->tool) {
        r->kind = MOCKRT_RESP_FUNCTION;
        mockrt_response_function(s, r);
        return;
    }

    /* what to say: a tool's output, the greeting, or the next reply */

    if (s->tool_output) {
        len = strlen(s->mock->tool_reply) + strlen(s->tool_output) + 2;
        text = malloc(len);

        if (text) {
            snprintf(text, len, "%s %s", s->mock->tool_reply,
                     s->tool_output);
        }

        free(s->tool_output);
        s->tool_output = NULL;

    } else if (s->responses == 0) {
        text = strdup(s->mock->greeting);

    } else {
        text = strdup(s->mock->replies[s->replies++ % s->mock->nreplies]);
    }

    /* the session's output format, or the one response.create asks for */

    format = json_object_get(json_object_get(json_object_get(params, "audio"),
                                             "output"), "format");

    r->kind = MOCKRT_RESP_AUDIO;
    r->format = format ? mockrt_format_of(format) : s->out_format;
    r->transcript = text ? text : strdup("");
    r->words = mockrt_words(r->transcript);
    r->audio = mockrt_audio_render(s->mock, r->format, r->words,
                                   &r->audio_len);
    r->chunk = (size_t) s->mock->delta_ms * mockrt_bytes_per_ms(r->format);
    r->ticks_total = (unsigned) ((r->audio_len + r->chunk - 1) / r->chunk);

    if (r->ticks_total == 0) {
        r->ticks_total = 1;
    }

    mockrt_response_begin_audio(s, r);

    if (s->response == NULL) {
        return;                         /* closed meanwhile */
    }

    s->audio_out = 1;
    r->started = lws_now_usecs();

    if (s->mock->burst) {
        while (s->response && !s->closing) {
            mockrt_response_tick(s);
        }

        return;
    }

    mockrt_response_tick(s);
}


/* the tool a response calls: a pending trigger whose tool is declared */

static const mockrt_tool_t *
mockrt_response_tool(mockrt_session_t *s, json_t *params)
{
    size_t       i;
    json_t      *tools, *tool, *choice;
    const char  *name;

    if (s->trigger == NULL) {
        return NULL;
    }

    tools = json_object_get(params, "tools");
    choice = json_object_get(params, "tool_choice");

    if (tools == NULL) {
        tools = json_object_get(s->config, "tools");
    }

    if (choice == NULL) {
        choice = json_object_get(s->config, "tool_choice");
    }

    if (json_is_string(choice)
        && strcmp(json_string_value(choice), "none") == 0)
    {
        return NULL;
    }

    json_array_foreach(tools, i, tool) {
        name = json_string_value(json_object_get(tool, "name"));

        if (name && strcmp(name, s->trigger->name) == 0) {
            return s->trigger;
        }
    }

    return NULL;
}


/* response.created and the item: in the response, in the conversation */

static void
mockrt_response_begin(mockrt_session_t *s, mockrt_response_t *r,
    json_t *item, unsigned type)
{
    json_t         *ev;
    mockrt_item_t  *rec;

    ev = mockrt_event(s, "response.created");
    json_object_set_new(ev, "response",
                        mockrt_response_json(s, r, "in_progress", NULL,
                                             json_array()));
    mockrt_send(s, ev);

    if (r->in_conversation) {
        rec = mockrt_item_add(s, r->item_id, type);

        if (rec) {
            rec->assistant = (type == MOCKRT_ITEM_MESSAGE);
            rec->bytes_per_ms = mockrt_bytes_per_ms(r->format);
            snprintf(rec->call_id, sizeof(rec->call_id), "%s", r->call_id);
        }
    }

    ev = mockrt_response_event(s, r, "response.output_item.added");
    json_object_del(ev, "item_id");
    json_object_set(ev, "item", item);
    mockrt_send(s, ev);

    if (r->in_conversation) {
        mockrt_item_send(s, "conversation.item.added", item);
    }
}


/* an assistant message, its audio content part to come */

static void
mockrt_response_begin_audio(mockrt_session_t *s, mockrt_response_t *r)
{
    json_t  *ev, *item;

    item = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[]}", "id", r->item_id,
                     "object", "realtime.item", "type", "message",
                     "status", "in_progress", "role", "assistant",
                     "content");

    mockrt_response_begin(s, r, item, MOCKRT_ITEM_MESSAGE);
    json_decref(item);

    ev = mockrt_response_event(s, r, "response.content_part.added");
    json_object_set_new(ev, "content_index", json_integer(0));
    json_object_set_new(ev, "part", json_pack("{s:s, s:s}", "type", "audio",
                                              "transcript", ""));
    mockrt_send(s, ev);
}


/*
 * The item done, in the conversation and in the response, then
 * response.done and rate_limits.updated; the response is over.
 */

static void
mockrt_response_end(mockrt_session_t *s, mockrt_response_t *r, json_t *item,
    const char *status, const char *reason)
{
    json_t         *ev;
    mockrt_item_t  *rec;

    if (r->in_conversation) {
        rec = mockrt_item_find(s, r->item_id);

        if (rec) {
            json_decref(rec->json);
            rec->json = json_incref(item);
        }

        mockrt_item_send(s, "conversation.item.done", item);
    }

    ev = mockrt_response_event(s, r, "response.output_item.done");
    json_object_del(ev, "item_id");
    json_object_set(ev, "item", item);
    mockrt_send(s, ev);

    ev = mockrt_event(s, "response.done");
    json_object_set_new(ev, "response",
                        mockrt_response_json(s, r, status, reason,
                                             json_pack("[O]", item)));
    mockrt_send(s, ev);

    ev = mockrt_event(s, "rate_limits.updated");
    json_object_set_new(ev, "rate_limits",
        json_pack("[{s:s, s:i, s:i, s:f}, {s:s, s:i, s:i, s:f}]",
                  "name", "requests", "limit", 5000, "remaining", 4999,
                  "reset_seconds", 0.012,
                  "name", "tokens", "limit", 40000,
                  "remaining", 40000 - (int) r->words * 4 - 100,
                  "reset_seconds", 0.3));
    mockrt_send(s, ev);

    json_decref(item);

    s->responses++;
    mockrt_response_free(s);
}


/* a function_call item, streamed and done at once */

static void
mockrt_response_function(mockrt_session_t *s, mockrt_response_t *r)
{
    size_t       half;
    json_t      *ev, *item;
    const char  *args;

    mockrt_id(s->mock, r->call_id, "call_");

    args = r->tool->arguments;

    item = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", r->item_id,
                     "object", "realtime.item", "type", "function_call",
                     "status", "in_progress", "name", r->tool->name,
                     "call_id", r->call_id, "arguments", "");

    mockrt_response_begin(s, r, item, MOCKRT_ITEM_CALL);

    /* the arguments in two deltas, as a model streams them */

    half = strlen(args) / 2;

    ev = mockrt_response_event(s, r, "response.function_call_arguments.delta");
    json_object_set_new(ev, "call_id", json_string(r->call_id));
    json_object_set_new(ev, "delta", json_stringn(args, half));
    mockrt_send(s, ev);

    ev = mockrt_response_event(s, r, "response.function_call_arguments.delta");
    json_object_set_new(ev, "call_id", json_string(r->call_id));
    json_object_set_new(ev, "delta", json_string(args + half));
    mockrt_send(s, ev);

    ev = mockrt_response_event(s, r, "response.function_call_arguments.done");
    json_object_set_new(ev, "call_id", json_string(r->call_id));
    json_object_set_new(ev, "name", json_string(r->tool->name));
    json_object_set_new(ev, "arguments", json_string(args));
    mockrt_send(s, ev);

    json_object_set_new(item, "status", json_string("completed"));
    json_object_set_new(item, "arguments", json_string(args));

    mockrt_response_end(s, r, item, "completed", NULL);
}


/* the next delta, with the words due by then */

static void
mockrt_response_tick(mockrt_session_t *s)
{
    char               *b64;
    size_t              n, due, end;
    json_t             *ev;
    mockrt_item_t      *rec;
    mockrt_response_t  *r;

    r = s->response;

    /* a word's text goes with the first delta of its audio */

    due = (r->ticks + 1 == r->ticks_total)
          ? r->words : (size_t) r->ticks * r->words / r->ticks_total + 1;

    if (due > r->words) {
        due = r->words;
    }

    if (due > r->words_sent) {
        end = r->text_sent;

        while (r->words_sent < due) {

            /* a word and the spaces after it */

            while (r->transcript[end] == ' ') {
                end++;
            }

            while (r->transcript[end] && r->transcript[end] != ' ') {
                end++;
            }

            while (r->transcript[end] == ' ') {
                end++;
            }

            r->words_sent++;
        }

        ev = mockrt_response_event(s, r,
                                   "response.output_audio_transcript.delta");
        json_object_set_new(ev, "content_index", json_integer(0));
        json_object_set_new(ev, "delta",
                            json_stringn(r->transcript + r->text_sent,
                                         end - r->text_sent));
        mockrt_send(s, ev);

        r->text_sent = end;
    }

    n = r->audio_len - r->audio_pos;

    if (n > r->chunk) {
        n = r->chunk;
    }

    b64 = malloc(4 * ((n + 2) / 3) + 1);
    if (b64 == NULL) {
        mockrt_response_finish(s, "failed", NULL);
        return;
    }

    mockrt_base64_encode(r->audio + r->audio_pos, n, b64);

    ev = mockrt_response_event(s, r, "response.output_audio.delta");
    json_object_set_new(ev, "content_index", json_integer(0));
    json_object_set_new(ev, "delta", json_string(b64));
    mockrt_send(s, ev);
    free(b64);

    r->audio_pos += n;
    r->ticks++;

    rec = r->in_conversation ? mockrt_item_find(s, r->item_id) : NULL;

    if (rec) {
        rec->audio_bytes += n;
    }

    if (r->audio_pos >= r->audio_len) {
        mockrt_response_finish(s, "completed", NULL);
        return;
    }

    if (s->mock->burst) {
        return;
    }

    mockrt_pace(s, r->started
                   + (lws_usec_t) r->ticks * s->mock->delta_ms * 1000);
}


/* the clock says the next delta is due */

void
mockrt_response_pace(mockrt_session_t *s)
{
    if (s->response && s->response->kind == MOCKRT_RESP_AUDIO
        && !s->closing)
    {
        mockrt_response_tick(s);
    }
}


void
mockrt_response_cancel(mockrt_session_t *s, const char *reason)
{
    if (s->response) {
        mockrt_response_finish(s, "cancelled", reason);
    }
}


/* the .done events of a spoken (or echo) response */

static void
mockrt_response_finish(mockrt_session_t *s, const char *status,
    const char *reason)
{
    json_t             *ev, *item, *said;
    mockrt_response_t  *r;

    r = s->response;

    mockrt_unpace(s);

    said = json_stringn(r->transcript ? r->transcript : "", r->text_sent);

    ev = mockrt_response_event(s, r, "response.output_audio.done");
    json_object_set_new(ev, "content_index", json_integer(0));
    mockrt_send(s, ev);

    ev = mockrt_response_event(s, r, "response.output_audio_transcript.done");
    json_object_set_new(ev, "content_index", json_integer(0));
    json_object_set(ev, "transcript", said);
    mockrt_send(s, ev);

    ev = mockrt_response_event(s, r, "response.content_part.done");
    json_object_set_new(ev, "content_index", json_integer(0));
    json_object_set_new(ev, "part", json_pack("{s:s, s:O}", "type", "audio",
                                              "transcript", said));
    mockrt_send(s, ev);

    item = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:O}]}",
                     "id", r->item_id, "object", "realtime.item",
                     "type", "message",
                     "status", strcmp(status, "completed") == 0
                               ? "completed" : "incomplete",
                     "role", "assistant",
                     "content", "type", "output_audio", "transcript", said);
    json_decref(said);

    mockrt_response_end(s, r, item, status, reason);
}


/* the response object of response.created and response.done */

static json_t *
mockrt_response_json(mockrt_session_t *s, mockrt_response_t *r,
    const char *status, const char *reason, json_t *output)
{
    const char  *key;
    json_t      *resp, *out, *v, *usage;
    size_t       audio_ms;

    /* the session's audio output, with what response.create overrides */

    out = json_deep_copy(json_object_get(json_object_get(s->config, "audio"),
                                         "output"));
    json_object_del(out, "speed");

    json_object_foreach(json_object_get(json_object_get(r->params, "audio"),
                                        "output"), key, v)
    {
        json_object_set(out, key, v);
    }

    v = json_object_get(r->params, "metadata");

    resp = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:[s], s:O, s:{s:o},"
                     " s:o, s:O}",
                     "object", "realtime.response", "id", r->id,
                     "status", status,
                     "status_details", reason
                         ? json_pack("{s:s, s:s}", "type", status, "reason",
                                     reason)
                         : json_null(),
                     "output", output,
                     "conversation_id", r->in_conversation
                         ? json_string(s->conversation) : json_null(),
                     "output_modalities", "audio",
                     "max_output_tokens", json_object_get(s->config,
                                                          "max_output_tokens"),
                     "audio", "output", out,
                     "usage", json_null(),
                     "metadata", v ? v : json_null());

    if (resp == NULL || strcmp(status, "in_progress") == 0) {
        return resp;
    }

    /* what it cost, roughly: 10 audio tokens a second */

    audio_ms = r->audio_pos / mockrt_bytes_per_ms(r->format);

    usage = json_pack("{s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:{s:I, s:I}}",
                      "total_tokens", (json_int_t) (200 + r->words * 2
                                                    + audio_ms / 100),
                      "input_tokens", (json_int_t) 200,
                      "output_tokens", (json_int_t) (r->words * 2
                                                     + audio_ms / 100),
                      "input_token_details",
                        "text_tokens", (json_int_t) 150,
                        "audio_tokens", (json_int_t) 50,
                        "cached_tokens", (json_int_t) 0,
                      "output_token_details",
                        "text_tokens", (json_int_t) (r->words * 2),
                        "audio_tokens", (json_int_t) (audio_ms / 100));

    json_object_set_new(resp, "usage", usage);

    return resp;
}


/* an event about the response's item: response_id, item_id, output_index */

static json_t *
mockrt_response_event(mockrt_session_t *s, mockrt_response_t *r,
    const char *type)
{
    json_t  *ev;

    ev = mockrt_event(s, type);
    json_object_set_new(ev, "response_id", json_string(r->id));
    json_object_set_new(ev, "item_id", json_string(r->item_id));
    json_object_set_new(ev, "output_index", json_integer(0));

    return ev;
}


void
mockrt_response_free(mockrt_session_t *s)
{
    mockrt_response_t  *r;

    r = s->response;

    if (r == NULL) {
        return;
    }

    mockrt_unpace(s);

    json_decref(r->params);
    free(r->audio);
    free(r->transcript);
    free(r);

    s->response = NULL;
}


/*
 * --echo: the caller's audio comes back as it came, base64 untouched, as
 * deltas of one response that stays open; built with printf, not jansson,
 * as it is the benchmark's floor.
 */

void
mockrt_echo_append(mockrt_session_t *s, const char *b64, size_t len,
    size_t bytes)
{
    int                 n;
    char               *text, id[MOCKRT_ID_LEN];
    json_t             *fields;
    mockrt_item_t      *rec;
    mockrt_response_t  *r;

    static const char  fmt[] =
        "{\"type\":\"response.output_audio.delta\",\"event_id\":\"%s\","
        "\"response_id\":\"%s\",\"item_id\":\"%s\",\"output_index\":0,"
        "\"content_index\":0,\"delta\":\"%.*s\"}";

    if (s->response == NULL) {
        r = calloc(1, sizeof(mockrt_response_t));
        if (r == NULL) {
            return;
        }

        r->kind = MOCKRT_RESP_ECHO;
        r->format = s->in_format;
        r->in_conversation = 1;
        mockrt_id(s->mock, r->id, "resp_");
        mockrt_id(s->mock, r->item_id, "item_");

        s->response = r;
        s->audio_out = 1;

        mockrt_response_begin_audio(s, r);

        if (s->response == NULL) {
            return;
        }
    }

    r = s->response;

    if (r->kind != MOCKRT_RESP_ECHO || s->closing) {
        return;
    }

    text = malloc(sizeof(fmt) + 3 * MOCKRT_ID_LEN + len);
    if (text == NULL) {
        return;
    }

    mockrt_id(s->mock, id, "event_");
    n = sprintf(text, fmt, id, r->id, r->item_id, (int) len, b64);

    r->audio_pos += bytes;
    rec = mockrt_item_find(s, r->item_id);

    if (rec) {
        rec->audio_bytes += bytes;
    }

    if (s->mock->log_fd != -1) {
        fields = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:I}",
                           "type", "response.output_audio.delta",
                           "event_id", id, "response_id", r->id,
                           "item_id", r->item_id, "output_index", 0,
                           "content_index", 0, "bytes", (json_int_t) bytes);
        mockrt_log(s->mock, s->number, "out", fields);
        json_decref(fields);
    }

    mockrt_send_text(s, text, (size_t) n);
    free(text);
}


static size_t
mockrt_words(const char *text)
{
    size_t  n;

    for (n = 0; *text; ) {
        while (*text == ' ') {
            text++;
        }

        if (*text == '\0') {
            break;
        }

        n++;

        while (*text && *text != ' ') {
            text++;
        }
    }

    return n;
}
