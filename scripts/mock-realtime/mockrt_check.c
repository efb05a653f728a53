
/*
 * Copyright (C) Voxanne Edge
 */


/*
 * What a client may send, checked the way the GA server checks it (the
 * shapes of openai-python's src/openai/types/realtime, protocols.md 5):
 * a missing field, an unknown one (a beta field such as "temperature" or
 * "input_audio_format"), a wrong type or value each get an "error" event
 * naming the parameter and the client's event_id, and change nothing.
 * The messages follow the server's wording where it is known.
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mockrt.h"


typedef struct {
    mockrt_session_t          *s;
    const char                *client_event;
} mockrt_check_t;


static int mockrt_check_session_audio(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_check_input(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_check_output(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_check_format(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_check_turn(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_check_transcription(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_check_voice(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_check_tools(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_check_tool_choice(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_check_modalities(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_check_max_tokens(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_check_part(mockrt_check_t *c, json_t *v, const char *path,
    const char *role);
static int mockrt_keys(mockrt_check_t *c, json_t *obj, const char *path,
    const char *const *allowed);
static int mockrt_want(mockrt_check_t *c, json_t *v, const char *path,
    json_type type);
static int mockrt_want_or_null(mockrt_check_t *c, json_t *v,
    const char *path, json_type type);
static int mockrt_enum(mockrt_check_t *c, json_t *v, const char *path,
    const char *const *values);
static int mockrt_int(mockrt_check_t *c, json_t *v, const char *path,
    json_int_t min, json_int_t max);
static int mockrt_number(mockrt_check_t *c, json_t *v, const char *path,
    double min, double max);
static int mockrt_strings(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_missing(mockrt_check_t *c, const char *path);
static int mockrt_invalid(mockrt_check_t *c, const char *path,
    const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
static const char *mockrt_kind(json_t *v);
static void mockrt_path(char *buf, size_t size, const char *path,
    const char *key);
static void mockrt_index(char *buf, size_t size, const char *path,
    size_t i);


static const char *const  mockrt_session_keys[] = {
    "type", "audio", "include", "instructions", "max_output_tokens",
    "model", "output_modalities", "parallel_tool_calls", "prompt",
    "reasoning", "tool_choice", "tools", "tracing", "truncation", NULL
};

static const char *const  mockrt_response_keys[] = {
    "audio", "conversation", "input", "instructions", "max_output_tokens",
    "metadata", "output_modalities", "parallel_tool_calls", "prompt",
    "reasoning", "tool_choice", "tools", NULL
};

static const char *const  mockrt_item_keys[] = {
    "id", "type", "object", "status", "role", "content", "call_id", "name",
    "arguments", "output", NULL
};

static const char *const  mockrt_part_keys[] = {
    "type", "text", "audio", "transcript", "image_url", "detail", NULL
};

static const char *const  mockrt_formats[] = {
    "audio/pcm", "audio/pcmu", "audio/pcma", NULL
};

static const char *const  mockrt_voices[] = {
    "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse",
    "marin", "cedar", NULL
};

static const char *const  mockrt_server_vad_keys[] = {
    "type", "threshold", "prefix_padding_ms", "silence_duration_ms",
    "create_response", "interrupt_response", "idle_timeout_ms", NULL
};

static const char *const  mockrt_semantic_vad_keys[] = {
    "type", "eagerness", "create_response", "interrupt_response", NULL
};


/* session.update's "session" */

int
mockrt_check_session(mockrt_session_t *s, const char *client_event,
    json_t *session)
{
    json_t          *v;
    const char      *model;
    mockrt_check_t   c;

    static const char *const  types[] = { "realtime", "transcription", NULL };
    static const char *const  truncation[] = { "auto", "disabled", NULL };

    c.s = s;
    c.client_event = client_event;

    if (session == NULL) {
        return mockrt_missing(&c, "session");
    }

    if (mockrt_want(&c, session, "session", JSON_OBJECT) != 0
        || mockrt_keys(&c, session, "session", mockrt_session_keys) != 0)
    {
        return -1;
    }

    v = json_object_get(session, "type");

    if (v == NULL) {
        return mockrt_missing(&c, "session.type");
    }

    if (mockrt_enum(&c, v, "session.type", types) != 0) {
        return -1;
    }

    if (strcmp(json_string_value(v), "realtime") != 0) {
        return mockrt_invalid(&c, "session.type", "Invalid value: '%s'. "
                              "mock-realtime serves realtime sessions only.",
                              json_string_value(v));
    }

    v = json_object_get(session, "model");

    if (v) {
        if (mockrt_want(&c, v, "session.model", JSON_STRING) != 0) {
            return -1;
        }

        model = json_string_value(json_object_get(s->config, "model"));

        if (model && strcmp(model, json_string_value(v)) != 0) {
            return mockrt_invalid(&c, "session.model", "Invalid value: '%s'. "
                                  "The model cannot change during a "
                                  "session.", json_string_value(v));
        }
    }

    if (((v = json_object_get(session, "instructions"))
         && mockrt_want(&c, v, "session.instructions", JSON_STRING) != 0)
        || ((v = json_object_get(session, "audio"))
            && mockrt_check_session_audio(&c, v, "session.audio") != 0)
        || ((v = json_object_get(session, "output_modalities"))
            && mockrt_check_modalities(&c, v, "session.output_modalities")
               != 0)
        || ((v = json_object_get(session, "tools"))
            && mockrt_check_tools(&c, v, "session.tools") != 0)
        || ((v = json_object_get(session, "tool_choice"))
            && mockrt_check_tool_choice(&c, v, "session.tool_choice") != 0)
        || ((v = json_object_get(session, "max_output_tokens"))
            && mockrt_check_max_tokens(&c, v, "session.max_output_tokens")
               != 0)
        || ((v = json_object_get(session, "parallel_tool_calls"))
            && mockrt_want(&c, v, "session.parallel_tool_calls", JSON_TRUE)
               != 0)
        || ((v = json_object_get(session, "include"))
            && (mockrt_want_or_null(&c, v, "session.include", JSON_ARRAY) != 0
                || mockrt_strings(&c, v, "session.include") != 0))
        || ((v = json_object_get(session, "prompt"))
            && mockrt_want_or_null(&c, v, "session.prompt", JSON_OBJECT) != 0)
        || ((v = json_object_get(session, "reasoning"))
            && mockrt_want_or_null(&c, v, "session.reasoning", JSON_OBJECT)
               != 0))
    {
        return -1;
    }

    v = json_object_get(session, "tracing");

    if (v && !json_is_null(v) && !json_is_object(v)
        && !(json_is_string(v) && strcmp(json_string_value(v), "auto") == 0))
    {
        return mockrt_invalid(&c, "session.tracing", "Invalid value for "
                              "'%s': expected null, \"auto\" or an object.",
                              "session.tracing");
    }

    v = json_object_get(session, "truncation");

    if (v && !json_is_object(v)
        && mockrt_enum(&c, v, "session.truncation", truncation) != 0)
    {
        return -1;
    }

    return 0;
}


static int
mockrt_check_session_audio(mockrt_check_t *c, json_t *v, const char *path)
{
    char         p[128];
    json_t      *dir;
    const char  *voice;

    static const char *const  keys[] = { "input", "output", NULL };

    if (mockrt_want(c, v, path, JSON_OBJECT) != 0
        || mockrt_keys(c, v, path, keys) != 0)
    {
        return -1;
    }

    dir = json_object_get(v, "input");
    mockrt_path(p, sizeof(p), path, "input");

    if (dir && mockrt_check_input(c, dir, p) != 0) {
        return -1;
    }

    dir = json_object_get(v, "output");
    mockrt_path(p, sizeof(p), path, "output");

    if (dir && mockrt_check_output(c, dir, p) != 0) {
        return -1;
    }

    /* the voice is fixed once the model has spoken */

    voice = json_string_value(json_object_get(dir, "voice"));

    if (voice && c->s->audio_out
        && !json_equal(json_object_get(dir, "voice"),
                       json_object_get(json_object_get(json_object_get(
                           c->s->config, "audio"), "output"), "voice")))
    {
        mockrt_error(c->s, "invalid_request_error", "cannot_update_voice",
                     "session.audio.output.voice", c->client_event,
                     "Cannot update a conversation's voice if assistant "
                     "audio is present.");
        return -1;
    }

    return 0;
}


static int
mockrt_check_input(mockrt_check_t *c, json_t *v, const char *path)
{
    char     p[128];
    json_t  *nr;

    static const char *const  keys[] = {
        "format", "noise_reduction", "transcription", "turn_detection", NULL
    };
    static const char *const  nr_keys[] = { "type", NULL };
    static const char *const  nr_types[] = {
        "near_field", "far_field", NULL
    };

    if (mockrt_want(c, v, path, JSON_OBJECT) != 0
        || mockrt_keys(c, v, path, keys) != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "format");

    if (json_object_get(v, "format")
        && mockrt_check_format(c, json_object_get(v, "format"), p) != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "turn_detection");

    if (json_object_get(v, "turn_detection")
        && mockrt_check_turn(c, json_object_get(v, "turn_detection"), p) != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "transcription");

    if (json_object_get(v, "transcription")
        && mockrt_check_transcription(c, json_object_get(v, "transcription"),
                                      p) != 0)
    {
        return -1;
    }

    nr = json_object_get(v, "noise_reduction");
    mockrt_path(p, sizeof(p), path, "noise_reduction");

    if (nr == NULL || json_is_null(nr)) {
        return 0;
    }

    if (mockrt_want(c, nr, p, JSON_OBJECT) != 0
        || mockrt_keys(c, nr, p, nr_keys) != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "noise_reduction.type");

    return json_object_get(nr, "type")
           ? mockrt_enum(c, json_object_get(nr, "type"), p, nr_types) : 0;
}


static int
mockrt_check_output(mockrt_check_t *c, json_t *v, const char *path)
{
    char  p[128];

    static const char *const  keys[] = { "format", "voice", "speed", NULL };

    if (mockrt_want(c, v, path, JSON_OBJECT) != 0
        || mockrt_keys(c, v, path, keys) != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "format");

    if (json_object_get(v, "format")
        && mockrt_check_format(c, json_object_get(v, "format"), p) != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "voice");

    if (json_object_get(v, "voice")
        && mockrt_check_voice(c, json_object_get(v, "voice"), p) != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "speed");

    return json_object_get(v, "speed")
           ? mockrt_number(c, json_object_get(v, "speed"), p, 0.25, 1.5) : 0;
}


/* {"type": "audio/pcmu"}; a rate only with audio/pcm, and only 24000 */

static int
mockrt_check_format(mockrt_check_t *c, json_t *v, const char *path)
{
    char         p[128];
    json_t      *rate;
    const char  *type;

    static const char *const  keys[] = { "type", "rate", NULL };

    if (mockrt_want(c, v, path, JSON_OBJECT) != 0
        || mockrt_keys(c, v, path, keys) != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "type");

    if (json_object_get(v, "type") == NULL) {
        return mockrt_missing(c, p);
    }

    if (mockrt_enum(c, json_object_get(v, "type"), p, mockrt_formats) != 0) {
        return -1;
    }

    type = json_string_value(json_object_get(v, "type"));
    rate = json_object_get(v, "rate");
    mockrt_path(p, sizeof(p), path, "rate");

    if (rate == NULL) {
        return 0;
    }

    if (strcmp(type, "audio/pcm") != 0) {
        mockrt_error(c->s, "invalid_request_error", "unknown_parameter", p,
                     c->client_event, "Unknown parameter: '%s'.", p);
        return -1;
    }

    return mockrt_int(c, rate, p, 24000, 24000);
}


static int
mockrt_check_turn(mockrt_check_t *c, json_t *v, const char *path)
{
    char         p[128];
    json_t      *idle;
    const char  *type;

    static const char *const  types[] = {
        "server_vad", "semantic_vad", NULL
    };
    static const char *const  eagerness[] = {
        "low", "medium", "high", "auto", NULL
    };

    if (json_is_null(v)) {
        return 0;
    }

    if (mockrt_want(c, v, path, JSON_OBJECT) != 0) {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "type");

    if (json_object_get(v, "type") == NULL) {
        return mockrt_missing(c, p);
    }

    if (mockrt_enum(c, json_object_get(v, "type"), p, types) != 0) {
        return -1;
    }

    type = json_string_value(json_object_get(v, "type"));

    if (mockrt_keys(c, v, path, strcmp(type, "server_vad") == 0
                                ? mockrt_server_vad_keys
                                : mockrt_semantic_vad_keys)
        != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "threshold");

    if (json_object_get(v, "threshold")
        && mockrt_number(c, json_object_get(v, "threshold"), p, 0, 1) != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "prefix_padding_ms");

    if (json_object_get(v, "prefix_padding_ms")
        && mockrt_int(c, json_object_get(v, "prefix_padding_ms"), p, 0,
                      10000) != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "silence_duration_ms");

    if (json_object_get(v, "silence_duration_ms")
        && mockrt_int(c, json_object_get(v, "silence_duration_ms"), p, 0,
                      10000) != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "create_response");

    if (json_object_get(v, "create_response")
        && mockrt_want(c, json_object_get(v, "create_response"), p,
                       JSON_TRUE) != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "interrupt_response");

    if (json_object_get(v, "interrupt_response")
        && mockrt_want(c, json_object_get(v, "interrupt_response"), p,
                       JSON_TRUE) != 0)
    {
        return -1;
    }

    idle = json_object_get(v, "idle_timeout_ms");
    mockrt_path(p, sizeof(p), path, "idle_timeout_ms");

    if (idle && !json_is_null(idle)
        && mockrt_int(c, idle, p, 5000, 30000) != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "eagerness");

    return json_object_get(v, "eagerness")
           ? mockrt_enum(c, json_object_get(v, "eagerness"), p, eagerness)
           : 0;
}


static int
mockrt_check_transcription(mockrt_check_t *c, json_t *v, const char *path)
{
    char         p[128];
    size_t       i;
    const char  *key;

    static const char *const  keys[] = {
        "model", "language", "prompt", "delay", "keywords", "languages", NULL
    };

    if (json_is_null(v)) {
        return 0;
    }

    if (mockrt_want(c, v, path, JSON_OBJECT) != 0
        || mockrt_keys(c, v, path, keys) != 0)
    {
        return -1;
    }

    for (i = 0; i < 4; i++) {
        key = keys[i];
        mockrt_path(p, sizeof(p), path, key);

        if (json_object_get(v, key)
            && mockrt_want(c, json_object_get(v, key), p, JSON_STRING) != 0)
        {
            return -1;
        }
    }

    for (i = 4; i < 6; i++) {
        key = keys[i];
        mockrt_path(p, sizeof(p), path, key);

        if (json_object_get(v, key)
            && (mockrt_want(c, json_object_get(v, key), p, JSON_ARRAY) != 0
                || mockrt_strings(c, json_object_get(v, key), p) != 0))
        {
            return -1;
        }
    }

    return 0;
}


static int
mockrt_check_voice(mockrt_check_t *c, json_t *v, const char *path)
{
    char  p[128];

    static const char *const  keys[] = { "id", NULL };

    if (json_is_object(v)) {
        mockrt_path(p, sizeof(p), path, "id");

        if (mockrt_keys(c, v, path, keys) != 0) {
            return -1;
        }

        if (json_object_get(v, "id") == NULL) {
            return mockrt_missing(c, p);
        }

        return mockrt_want(c, json_object_get(v, "id"), p, JSON_STRING);
    }

    return mockrt_enum(c, v, path, mockrt_voices);
}


/* function tools only: the mock runs no MCP servers */

static int
mockrt_check_tools(mockrt_check_t *c, json_t *v, const char *path)
{
    char         p[128], q[160];
    size_t       i;
    json_t      *tool, *name;
    const char  *type;

    static const char *const  keys[] = {
        "type", "name", "description", "parameters", NULL
    };
    static const char *const  types[] = { "function", "mcp", NULL };

    if (mockrt_want(c, v, path, JSON_ARRAY) != 0) {
        return -1;
    }

    json_array_foreach(v, i, tool) {
        mockrt_index(p, sizeof(p), path, i);

        if (mockrt_want(c, tool, p, JSON_OBJECT) != 0) {
            return -1;
        }

        mockrt_path(q, sizeof(q), p, "type");

        if (json_object_get(tool, "type")
            && mockrt_enum(c, json_object_get(tool, "type"), q, types) != 0)
        {
            return -1;
        }

        type = json_string_value(json_object_get(tool, "type"));

        if (type && strcmp(type, "mcp") == 0) {
            return mockrt_invalid(c, q, "Invalid value: '%s'. mock-realtime "
                                  "supports function tools only.", type);
        }

        if (mockrt_keys(c, tool, p, keys) != 0) {
            return -1;
        }

        name = json_object_get(tool, "name");
        mockrt_path(q, sizeof(q), p, "name");

        if (name == NULL) {
            return mockrt_missing(c, q);
        }

        if (mockrt_want(c, name, q, JSON_STRING) != 0) {
            return -1;
        }

        if (json_string_length(name) == 0) {
            return mockrt_invalid(c, q, "Invalid '%s': empty string.", q);
        }

        mockrt_path(q, sizeof(q), p, "description");

        if (json_object_get(tool, "description")
            && mockrt_want(c, json_object_get(tool, "description"), q,
                           JSON_STRING) != 0)
        {
            return -1;
        }

        mockrt_path(q, sizeof(q), p, "parameters");

        if (json_object_get(tool, "parameters")
            && mockrt_want(c, json_object_get(tool, "parameters"), q,
                           JSON_OBJECT) != 0)
        {
            return -1;
        }
    }

    return 0;
}


static int
mockrt_check_tool_choice(mockrt_check_t *c, json_t *v, const char *path)
{
    char  p[128];

    static const char *const  modes[] = { "auto", "none", "required", NULL };
    static const char *const  keys[] = { "type", "name", "server_label",
                                         NULL };
    static const char *const  types[] = { "function", "mcp", NULL };

    if (!json_is_object(v)) {
        return mockrt_enum(c, v, path, modes);
    }

    if (mockrt_keys(c, v, path, keys) != 0) {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "type");

    if (json_object_get(v, "type") == NULL) {
        return mockrt_missing(c, p);
    }

    if (mockrt_enum(c, json_object_get(v, "type"), p, types) != 0) {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "name");

    if (json_object_get(v, "name") == NULL) {
        return mockrt_missing(c, p);
    }

    return mockrt_want(c, json_object_get(v, "name"), p, JSON_STRING);
}


/* ["audio"]: text-only responses are not something the mock produces */

static int
mockrt_check_modalities(mockrt_check_t *c, json_t *v, const char *path)
{
    char  p[128];

    static const char *const  modes[] = { "audio", "text", NULL };

    if (mockrt_want(c, v, path, JSON_ARRAY) != 0) {
        return -1;
    }

    mockrt_index(p, sizeof(p), path, 0);

    if (json_array_size(v) != 1) {
        return mockrt_invalid(c, path, "Invalid value for '%s': give one of "
                              "'audio' or 'text'.", path);
    }

    if (mockrt_enum(c, json_array_get(v, 0), p, modes) != 0) {
        return -1;
    }

    if (strcmp(json_string_value(json_array_get(v, 0)), "text") == 0) {
        return mockrt_invalid(c, p, "Invalid value: '%s'. mock-realtime "
                              "speaks audio only.", "text");
    }

    return 0;
}


static int
mockrt_check_max_tokens(mockrt_check_t *c, json_t *v, const char *path)
{
    if (json_is_string(v) && strcmp(json_string_value(v), "inf") == 0) {
        return 0;
    }

    return mockrt_int(c, v, path, 1, 4096);
}


/* response.create's "response" */

int
mockrt_check_response(mockrt_session_t *s, const char *client_event,
    json_t *response)
{
    json_t          *v, *out;
    mockrt_check_t   c;

    static const char *const  audio_keys[] = { "output", NULL };
    static const char *const  output_keys[] = { "format", "voice", NULL };
    static const char *const  conversations[] = { "auto", "none", NULL };

    c.s = s;
    c.client_event = client_event;

    if (response == NULL || json_is_null(response)) {
        return 0;
    }

    if (mockrt_want(&c, response, "response", JSON_OBJECT) != 0
        || mockrt_keys(&c, response, "response", mockrt_response_keys) != 0)
    {
        return -1;
    }

    if (((v = json_object_get(response, "instructions"))
         && mockrt_want(&c, v, "response.instructions", JSON_STRING) != 0)
        || ((v = json_object_get(response, "conversation"))
            && mockrt_enum(&c, v, "response.conversation", conversations)
               != 0)
        || ((v = json_object_get(response, "output_modalities"))
            && mockrt_check_modalities(&c, v, "response.output_modalities")
               != 0)
        || ((v = json_object_get(response, "tools"))
            && mockrt_check_tools(&c, v, "response.tools") != 0)
        || ((v = json_object_get(response, "tool_choice"))
            && mockrt_check_tool_choice(&c, v, "response.tool_choice") != 0)
        || ((v = json_object_get(response, "max_output_tokens"))
            && mockrt_check_max_tokens(&c, v, "response.max_output_tokens")
               != 0)
        || ((v = json_object_get(response, "metadata"))
            && mockrt_want_or_null(&c, v, "response.metadata", JSON_OBJECT)
               != 0)
        || ((v = json_object_get(response, "input"))
            && mockrt_want(&c, v, "response.input", JSON_ARRAY) != 0))
    {
        return -1;
    }

    v = json_object_get(response, "audio");

    if (v == NULL) {
        return 0;
    }

    if (mockrt_want(&c, v, "response.audio", JSON_OBJECT) != 0
        || mockrt_keys(&c, v, "response.audio", audio_keys) != 0)
    {
        return -1;
    }

    out = json_object_get(v, "output");

    if (out == NULL) {
        return 0;
    }

    if (mockrt_want(&c, out, "response.audio.output", JSON_OBJECT) != 0
        || mockrt_keys(&c, out, "response.audio.output", output_keys) != 0)
    {
        return -1;
    }

    if (json_object_get(out, "format")
        && mockrt_check_format(&c, json_object_get(out, "format"),
                               "response.audio.output.format") != 0)
    {
        return -1;
    }

    return json_object_get(out, "voice")
           ? mockrt_check_voice(&c, json_object_get(out, "voice"),
                                "response.audio.output.voice")
           : 0;
}


/* conversation.item.create's "item" */

int
mockrt_check_item(mockrt_session_t *s, const char *client_event,
    json_t *item)
{
    char             p[64];
    size_t           i;
    json_t          *v, *content, *part;
    const char      *type, *role;
    mockrt_check_t   c;

    static const char *const  types[] = {
        "message", "function_call", "function_call_output", NULL
    };
    static const char *const  roles[] = {
        "user", "assistant", "system", NULL
    };

    c.s = s;
    c.client_event = client_event;

    if (item == NULL) {
        return mockrt_missing(&c, "item");
    }

    if (mockrt_want(&c, item, "item", JSON_OBJECT) != 0
        || mockrt_keys(&c, item, "item", mockrt_item_keys) != 0)
    {
        return -1;
    }

    if ((v = json_object_get(item, "id"))
        && mockrt_want(&c, v, "item.id", JSON_STRING) != 0)
    {
        return -1;
    }

    v = json_object_get(item, "type");

    if (v == NULL) {
        return mockrt_missing(&c, "item.type");
    }

    if (mockrt_enum(&c, v, "item.type", types) != 0) {
        return -1;
    }

    type = json_string_value(v);

    if (strcmp(type, "function_call_output") == 0) {
        if (json_object_get(item, "call_id") == NULL) {
            return mockrt_missing(&c, "item.call_id");
        }

        if (json_object_get(item, "output") == NULL) {
            return mockrt_missing(&c, "item.output");
        }

        return (mockrt_want(&c, json_object_get(item, "call_id"),
                            "item.call_id", JSON_STRING) != 0
                || mockrt_want(&c, json_object_get(item, "output"),
                               "item.output", JSON_STRING) != 0)
               ? -1 : 0;
    }

    if (strcmp(type, "function_call") == 0) {
        if (json_object_get(item, "name") == NULL) {
            return mockrt_missing(&c, "item.name");
        }

        if (json_object_get(item, "arguments") == NULL) {
            return mockrt_missing(&c, "item.arguments");
        }

        return (mockrt_want(&c, json_object_get(item, "name"), "item.name",
                            JSON_STRING) != 0
                || mockrt_want(&c, json_object_get(item, "arguments"),
                               "item.arguments", JSON_STRING) != 0
                || ((v = json_object_get(item, "call_id"))
                    && mockrt_want(&c, v, "item.call_id", JSON_STRING) != 0))
               ? -1 : 0;
    }

    v = json_object_get(item, "role");

    if (v == NULL) {
        return mockrt_missing(&c, "item.role");
    }

    if (mockrt_enum(&c, v, "item.role", roles) != 0) {
        return -1;
    }

    role = json_string_value(v);
    content = json_object_get(item, "content");

    if (content == NULL) {
        return mockrt_missing(&c, "item.content");
    }

    if (mockrt_want(&c, content, "item.content", JSON_ARRAY) != 0) {
        return -1;
    }

    json_array_foreach(content, i, part) {
        mockrt_index(p, sizeof(p), "item.content", i);

        if (mockrt_check_part(&c, part, p, role) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
mockrt_check_part(mockrt_check_t *c, json_t *v, const char *path,
    const char *role)
{
    char         p[96];
    json_t      *text;
    const char  *type;

    static const char *const  user[] = {
        "input_text", "input_audio", "input_image", NULL
    };
    static const char *const  system[] = { "input_text", NULL };
    static const char *const  assistant[] = {
        "output_text", "output_audio", NULL
    };

    if (mockrt_want(c, v, path, JSON_OBJECT) != 0
        || mockrt_keys(c, v, path, mockrt_part_keys) != 0)
    {
        return -1;
    }

    mockrt_path(p, sizeof(p), path, "type");

    if (json_object_get(v, "type") == NULL) {
        return mockrt_missing(c, p);
    }

    if (mockrt_enum(c, json_object_get(v, "type"), p,
                    strcmp(role, "user") == 0 ? user
                    : strcmp(role, "system") == 0 ? system : assistant)
        != 0)
    {
        return -1;
    }

    type = json_string_value(json_object_get(v, "type"));

    if (strcmp(type, "input_text") != 0 && strcmp(type, "output_text") != 0) {
        return 0;
    }

    text = json_object_get(v, "text");
    mockrt_path(p, sizeof(p), path, "text");

    if (text == NULL) {
        return mockrt_missing(c, p);
    }

    return mockrt_want(c, text, p, JSON_STRING);
}


/* conversation.item.truncate: item_id, content_index, audio_end_ms */

int
mockrt_check_truncate(mockrt_session_t *s, const char *client_event,
    json_t *ev)
{
    mockrt_check_t  c;

    c.s = s;
    c.client_event = client_event;

    if (json_object_get(ev, "item_id") == NULL) {
        return mockrt_missing(&c, "item_id");
    }

    if (json_object_get(ev, "content_index") == NULL) {
        return mockrt_missing(&c, "content_index");
    }

    if (json_object_get(ev, "audio_end_ms") == NULL) {
        return mockrt_missing(&c, "audio_end_ms");
    }

    return (mockrt_want(&c, json_object_get(ev, "item_id"), "item_id",
                        JSON_STRING) != 0
            || mockrt_int(&c, json_object_get(ev, "content_index"),
                          "content_index", 0, 0) != 0
            || mockrt_int(&c, json_object_get(ev, "audio_end_ms"),
                          "audio_end_ms", 0, INT32_MAX) != 0)
           ? -1 : 0;
}


/* a string field the event must have */

int
mockrt_check_string(mockrt_session_t *s, const char *client_event,
    json_t *ev, const char *key)
{
    mockrt_check_t  c;

    c.s = s;
    c.client_event = client_event;

    if (json_object_get(ev, key) == NULL) {
        return mockrt_missing(&c, key);
    }

    return mockrt_want(&c, json_object_get(ev, key), key, JSON_STRING);
}


static int
mockrt_keys(mockrt_check_t *c, json_t *obj, const char *path,
    const char *const *allowed)
{
    char         p[256];
    json_t      *v;
    const char  *key, *const *a;

    json_object_foreach(obj, key, v) {
        for (a = allowed; *a; a++) {
            if (strcmp(*a, key) == 0) {
                break;
            }
        }

        if (*a == NULL) {
            mockrt_path(p, sizeof(p), path, key);
            mockrt_error(c->s, "invalid_request_error", "unknown_parameter",
                         p, c->client_event, "Unknown parameter: '%s'.", p);
            return -1;
        }
    }

    return 0;
}


/* JSON_TRUE stands for a boolean, JSON_REAL for any number */

static int
mockrt_want(mockrt_check_t *c, json_t *v, const char *path, json_type type)
{
    const char  *want;

    switch (type) {

    case JSON_STRING:
        if (json_is_string(v)) {
            return 0;
        }

        want = "a string";
        break;

    case JSON_OBJECT:
        if (json_is_object(v)) {
            return 0;
        }

        want = "an object";
        break;

    case JSON_ARRAY:
        if (json_is_array(v)) {
            return 0;
        }

        want = "an array";
        break;

    case JSON_INTEGER:
        if (json_is_integer(v)) {
            return 0;
        }

        want = "an integer";
        break;

    case JSON_REAL:
        if (json_is_number(v)) {
            return 0;
        }

        want = "a number";
        break;

    default:
        if (json_is_boolean(v)) {
            return 0;
        }

        want = "a boolean";
        break;
    }

    mockrt_error(c->s, "invalid_request_error", "invalid_type", path,
                 c->client_event, "Invalid type for '%s': expected %s, but "
                 "got %s instead.", path, want, mockrt_kind(v));

    return -1;
}


static int
mockrt_want_or_null(mockrt_check_t *c, json_t *v, const char *path,
    json_type type)
{
    return json_is_null(v) ? 0 : mockrt_want(c, v, path, type);
}


static int
mockrt_enum(mockrt_check_t *c, json_t *v, const char *path,
    const char *const *values)
{
    char                 list[512];
    size_t               n;
    const char          *value;
    const char *const   *p;

    if (mockrt_want(c, v, path, JSON_STRING) != 0) {
        return -1;
    }

    value = json_string_value(v);

    for (p = values; *p; p++) {
        if (strcmp(*p, value) == 0) {
            return 0;
        }
    }

    /* 'a', 'b', and 'c' */

    n = 0;
    list[0] = '\0';

    for (p = values; *p && n < sizeof(list); p++) {
        n += snprintf(list + n, sizeof(list) - n, "%s'%s'",
                      p == values ? "" : p[1] ? ", " : p == values + 1
                      ? " and " : ", and ", *p);
    }

    mockrt_error(c->s, "invalid_request_error", "invalid_value", path,
                 c->client_event, "Invalid value: '%.200s'. Supported values "
                 "are: %s.", value, list);

    return -1;
}


static int
mockrt_int(mockrt_check_t *c, json_t *v, const char *path, json_int_t min,
    json_int_t max)
{
    char  got[32];

    if (mockrt_want(c, v, path, JSON_INTEGER) != 0) {
        return -1;
    }

    if (json_integer_value(v) >= min && json_integer_value(v) <= max) {
        return 0;
    }

    snprintf(got, sizeof(got), "%" JSON_INTEGER_FORMAT, json_integer_value(v));

    mockrt_error(c->s, "invalid_request_error", "invalid_value", path,
                 c->client_event, "Invalid '%s': expected a value from "
                 "%" JSON_INTEGER_FORMAT " to %" JSON_INTEGER_FORMAT
                 ", but got %s instead.", path, min, max, got);

    return -1;
}


static int
mockrt_number(mockrt_check_t *c, json_t *v, const char *path, double min,
    double max)
{
    if (mockrt_want(c, v, path, JSON_REAL) != 0) {
        return -1;
    }

    if (json_number_value(v) >= min && json_number_value(v) <= max) {
        return 0;
    }

    mockrt_error(c->s, "invalid_request_error", "invalid_value", path,
                 c->client_event, "Invalid '%s': expected a value from %g to "
                 "%g, but got %g instead.", path, min, max,
                 json_number_value(v));

    return -1;
}


static int
mockrt_strings(mockrt_check_t *c, json_t *v, const char *path)
{
    char     p[160];
    size_t   i;
    json_t  *s;

    json_array_foreach(v, i, s) {
        mockrt_index(p, sizeof(p), path, i);

        if (mockrt_want(c, s, p, JSON_STRING) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
mockrt_missing(mockrt_check_t *c, const char *path)
{
    mockrt_error(c->s, "invalid_request_error", "missing_required_parameter",
                 path, c->client_event, "Missing required parameter: '%s'.",
                 path);

    return -1;
}


static int
mockrt_invalid(mockrt_check_t *c, const char *path, const char *fmt, ...)
{
    char     message[512];
    va_list  args;

    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);

    mockrt_error(c->s, "invalid_request_error", "invalid_value", path,
                 c->client_event, "%s", message);

    return -1;
}


/* path.key and path[i], cut short if need be */

static void
mockrt_path(char *buf, size_t size, const char *path, const char *key)
{
    if (snprintf(buf, size, "%s.%s", path, key) < 0) {
        buf[0] = '\0';
    }
}


static void
mockrt_index(char *buf, size_t size, const char *path, size_t i)
{
    if (snprintf(buf, size, "%s[%zu]", path, i) < 0) {
        buf[0] = '\0';
    }
}


static const char *
mockrt_kind(json_t *v)
{
    switch (json_typeof(v)) {

    case JSON_OBJECT:
        return "an object";

    case JSON_ARRAY:
        return "an array";

    case JSON_STRING:
        return "a string";

    case JSON_INTEGER:
        return "an integer";

    case JSON_REAL:
        return "a decimal";

    case JSON_NULL:
        return "null";

    default:
        return "a boolean";
    }
}
