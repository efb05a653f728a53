
/*
 * Copyright (C) Voxanne Edge
 */


/*
 * What a client may send, checked the way the GA server checks it (the
 * shapes of openai-python's src/openai/types/realtime, protocols.md 5):
 * a missing field, an unknown one (a beta field such as "temperature" or
 * "input_audio_format"), a wrong type or value each get an "error" event
 * naming the parameter and the client's event_id, and change nothing.
 * Each object is a table of its fields and their checks.
 */


#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mockrt.h"


typedef struct {
    mockrt_session_t          *s;
    const char                *client_event;
} mockrt_check_t;


typedef int (*mockrt_check_pt)(mockrt_check_t *c, json_t *v,
    const char *path);

typedef struct {
    const char                *key;
    mockrt_check_pt            check;
    unsigned                   required;
} mockrt_field_t;


static int mockrt_object(mockrt_check_t *c, json_t *v, const char *path,
    const mockrt_field_t *fields);
static int mockrt_session_type(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_model(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_session_audio(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_input(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_output(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_response_audio(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_response_output(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_format(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_format_type(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_later(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_turn(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_turn_type(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_eagerness(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_transcription(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_noise_reduction(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_noise_type(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_voice(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_tools(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_tool_name(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_tool_choice(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_tool_type(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_modalities(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_max_tokens(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_tracing(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_truncation(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_conversation(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_item_type(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_role(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_threshold(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_padding(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_idle(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_speed(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_content_index(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_audio_end(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_string(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_bool(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_array(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_any_object(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_object_or_null(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_strings(mockrt_check_t *c, json_t *v, const char *path);
static int mockrt_strings_or_null(mockrt_check_t *c, json_t *v,
    const char *path);
static int mockrt_want(mockrt_check_t *c, json_t *v, const char *path,
    json_type type);
static int mockrt_enum(mockrt_check_t *c, json_t *v, const char *path,
    const char *const *values);
static int mockrt_int(mockrt_check_t *c, json_t *v, const char *path,
    json_int_t min, json_int_t max);
static int mockrt_number(mockrt_check_t *c, json_t *v, const char *path,
    double min, double max);
static int mockrt_missing(mockrt_check_t *c, const char *path);
static int mockrt_invalid(mockrt_check_t *c, const char *code,
    const char *path, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
static const char *mockrt_kind(json_t *v);
static void mockrt_path(char *buf, size_t size, const char *path,
    const char *key);


static const mockrt_field_t  mockrt_session_fields[] = {
    { "type", mockrt_session_type, 1 },
    { "audio", mockrt_session_audio, 0 },
    { "include", mockrt_strings_or_null, 0 },
    { "instructions", mockrt_string, 0 },
    { "max_output_tokens", mockrt_max_tokens, 0 },
    { "model", mockrt_model, 0 },
    { "output_modalities", mockrt_modalities, 0 },
    { "parallel_tool_calls", mockrt_bool, 0 },
    { "prompt", mockrt_object_or_null, 0 },
    { "reasoning", mockrt_object_or_null, 0 },
    { "tool_choice", mockrt_tool_choice, 0 },
    { "tools", mockrt_tools, 0 },
    { "tracing", mockrt_tracing, 0 },
    { "truncation", mockrt_truncation, 0 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_audio_fields[] = {
    { "input", mockrt_input, 0 },
    { "output", mockrt_output, 0 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_input_fields[] = {
    { "format", mockrt_format, 0 },
    { "noise_reduction", mockrt_noise_reduction, 0 },
    { "transcription", mockrt_transcription, 0 },
    { "turn_detection", mockrt_turn, 0 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_output_fields[] = {
    { "format", mockrt_format, 0 },
    { "voice", mockrt_voice, 0 },
    { "speed", mockrt_speed, 0 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_format_fields[] = {
    { "type", mockrt_format_type, 1 },
    { "rate", mockrt_later, 0 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_server_vad_fields[] = {
    { "type", mockrt_turn_type, 1 },
    { "threshold", mockrt_threshold, 0 },
    { "prefix_padding_ms", mockrt_padding, 0 },
    { "silence_duration_ms", mockrt_padding, 0 },
    { "create_response", mockrt_bool, 0 },
    { "interrupt_response", mockrt_bool, 0 },
    { "idle_timeout_ms", mockrt_idle, 0 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_semantic_vad_fields[] = {
    { "type", mockrt_turn_type, 1 },
    { "eagerness", mockrt_eagerness, 0 },
    { "create_response", mockrt_bool, 0 },
    { "interrupt_response", mockrt_bool, 0 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_transcription_fields[] = {
    { "model", mockrt_string, 0 },
    { "language", mockrt_string, 0 },
    { "prompt", mockrt_string, 0 },
    { "delay", mockrt_string, 0 },
    { "keywords", mockrt_strings, 0 },
    { "languages", mockrt_strings, 0 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_noise_fields[] = {
    { "type", mockrt_noise_type, 0 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_voice_fields[] = {
    { "id", mockrt_string, 1 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_tool_fields[] = {
    { "type", mockrt_tool_type, 0 },
    { "name", mockrt_tool_name, 1 },
    { "description", mockrt_string, 0 },
    { "parameters", mockrt_any_object, 0 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_tool_choice_fields[] = {
    { "type", mockrt_tool_type, 1 },
    { "name", mockrt_string, 1 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_response_fields[] = {
    { "audio", mockrt_response_audio, 0 },
    { "conversation", mockrt_conversation, 0 },
    { "input", mockrt_array, 0 },
    { "instructions", mockrt_string, 0 },
    { "max_output_tokens", mockrt_max_tokens, 0 },
    { "metadata", mockrt_object_or_null, 0 },
    { "output_modalities", mockrt_modalities, 0 },
    { "parallel_tool_calls", mockrt_bool, 0 },
    { "prompt", mockrt_object_or_null, 0 },
    { "reasoning", mockrt_object_or_null, 0 },
    { "tool_choice", mockrt_tool_choice, 0 },
    { "tools", mockrt_tools, 0 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_response_audio_fields[] = {
    { "output", mockrt_response_output, 0 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_response_output_fields[] = {
    { "format", mockrt_format, 0 },
    { "voice", mockrt_voice, 0 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_message_fields[] = {
    { "id", mockrt_string, 0 },
    { "type", mockrt_item_type, 1 },
    { "object", mockrt_string, 0 },
    { "status", mockrt_string, 0 },
    { "role", mockrt_role, 1 },
    { "content", mockrt_array, 1 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_call_fields[] = {
    { "id", mockrt_string, 0 },
    { "type", mockrt_item_type, 1 },
    { "object", mockrt_string, 0 },
    { "status", mockrt_string, 0 },
    { "call_id", mockrt_string, 0 },
    { "name", mockrt_string, 1 },
    { "arguments", mockrt_string, 1 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_output_item_fields[] = {
    { "id", mockrt_string, 0 },
    { "type", mockrt_item_type, 1 },
    { "object", mockrt_string, 0 },
    { "status", mockrt_string, 0 },
    { "call_id", mockrt_string, 1 },
    { "output", mockrt_string, 1 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_part_fields[] = {
    { "type", mockrt_string, 1 },
    { "text", mockrt_string, 0 },
    { "audio", mockrt_string, 0 },
    { "transcript", mockrt_string, 0 },
    { "image_url", mockrt_string, 0 },
    { "detail", mockrt_string, 0 },
    { NULL, NULL, 0 }
};

static const mockrt_field_t  mockrt_truncate_fields[] = {
    { "type", mockrt_string, 1 },
    { "event_id", mockrt_string, 0 },
    { "item_id", mockrt_string, 1 },
    { "content_index", mockrt_content_index, 1 },
    { "audio_end_ms", mockrt_audio_end, 1 },
    { NULL, NULL, 0 }
};

static const char *const  mockrt_voices[] = {
    "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse",
    "marin", "cedar", NULL
};


/* session.update's "session" */

int
mockrt_check_session(mockrt_session_t *s, const char *client_event,
    json_t *session)
{
    mockrt_check_t  c;

    c.s = s;
    c.client_event = client_event;

    if (session == NULL) {
        return mockrt_missing(&c, "session");
    }

    return mockrt_object(&c, session, "session", mockrt_session_fields);
}


/* response.create's "response" */

int
mockrt_check_response(mockrt_session_t *s, const char *client_event,
    json_t *response)
{
    mockrt_check_t  c;

    c.s = s;
    c.client_event = client_event;

    if (response == NULL || json_is_null(response)) {
        return 0;
    }

    return mockrt_object(&c, response, "response", mockrt_response_fields);
}


/* conversation.item.create's "item": its fields by its type */

int
mockrt_check_item(mockrt_session_t *s, const char *client_event,
    json_t *item)
{
    char             p[64], q[80];
    size_t           i;
    json_t          *part;
    const char      *type, *role, *part_type;
    mockrt_check_t   c;

    static const char *const  user[] = {
        "input_text", "input_audio", "input_image", NULL
    };
    static const char *const  system[] = { "input_text", NULL };
    static const char *const  assistant[] = {
        "output_text", "output_audio", NULL
    };

    c.s = s;
    c.client_event = client_event;

    if (item == NULL) {
        return mockrt_missing(&c, "item");
    }

    if (mockrt_want(&c, item, "item", JSON_OBJECT) != 0) {
        return -1;
    }

    if (json_object_get(item, "type") == NULL) {
        return mockrt_missing(&c, "item.type");
    }

    if (mockrt_item_type(&c, json_object_get(item, "type"), "item.type")
        != 0)
    {
        return -1;
    }

    type = json_string_value(json_object_get(item, "type"));

    if (strcmp(type, "function_call_output") == 0) {
        return mockrt_object(&c, item, "item", mockrt_output_item_fields);
    }

    if (strcmp(type, "function_call") == 0) {
        return mockrt_object(&c, item, "item", mockrt_call_fields);
    }

    if (mockrt_object(&c, item, "item", mockrt_message_fields) != 0) {
        return -1;
    }

    role = json_string_value(json_object_get(item, "role"));

    json_array_foreach(json_object_get(item, "content"), i, part) {
        snprintf(p, sizeof(p), "item.content[%zu]", i);

        if (mockrt_object(&c, part, p, mockrt_part_fields) != 0) {
            return -1;
        }

        mockrt_path(q, sizeof(q), p, "type");

        if (mockrt_enum(&c, json_object_get(part, "type"), q,
                        strcmp(role, "user") == 0 ? user
                        : strcmp(role, "system") == 0 ? system : assistant)
            != 0)
        {
            return -1;
        }

        part_type = json_string_value(json_object_get(part, "type"));

        if ((strcmp(part_type, "input_text") == 0
             || strcmp(part_type, "output_text") == 0)
            && json_object_get(part, "text") == NULL)
        {
            mockrt_path(q, sizeof(q), p, "text");
            return mockrt_missing(&c, q);
        }
    }

    return 0;
}


/* conversation.item.truncate: item_id, content_index 0, audio_end_ms */

int
mockrt_check_truncate(mockrt_session_t *s, const char *client_event,
    json_t *ev)
{
    mockrt_check_t  c;

    c.s = s;
    c.client_event = client_event;

    return mockrt_object(&c, ev, "", mockrt_truncate_fields);
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

    return mockrt_string(&c, json_object_get(ev, key), key);
}


/* an object: no unknown field, the required ones, each field checked */

static int
mockrt_object(mockrt_check_t *c, json_t *v, const char *path,
    const mockrt_field_t *fields)
{
    char                   p[256];
    json_t                *field;
    const char            *key;
    const mockrt_field_t  *f;

    if (mockrt_want(c, v, path, JSON_OBJECT) != 0) {
        return -1;
    }

    json_object_foreach(v, key, field) {
        for (f = fields; f->key; f++) {
            if (strcmp(f->key, key) == 0) {
                break;
            }
        }

        if (f->key == NULL) {
            mockrt_path(p, sizeof(p), path, key);
            return mockrt_invalid(c, "unknown_parameter", p,
                                  "Unknown parameter: '%s'.", p);
        }
    }

    for (f = fields; f->key; f++) {
        field = json_object_get(v, f->key);
        mockrt_path(p, sizeof(p), path, f->key);

        if (field == NULL) {
            if (f->required) {
                return mockrt_missing(c, p);
            }

            continue;
        }

        if (f->check(c, field, p) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
mockrt_session_type(mockrt_check_t *c, json_t *v, const char *path)
{
    static const char *const  types[] = { "realtime", "transcription", NULL };

    if (mockrt_enum(c, v, path, types) != 0) {
        return -1;
    }

    if (strcmp(json_string_value(v), "realtime") != 0) {
        return mockrt_invalid(c, "invalid_value", path, "Invalid value: "
                              "'%s'. mock-realtime serves realtime sessions "
                              "only.", json_string_value(v));
    }

    return 0;
}


static int
mockrt_model(mockrt_check_t *c, json_t *v, const char *path)
{
    const char  *model;

    if (mockrt_string(c, v, path) != 0) {
        return -1;
    }

    model = json_string_value(json_object_get(c->s->config, "model"));

    if (model && strcmp(model, json_string_value(v)) != 0) {
        return mockrt_invalid(c, "invalid_value", path, "Invalid value: "
                              "'%.100s'. The model cannot change during a "
                              "session.", json_string_value(v));
    }

    return 0;
}


/* the voice is fixed once the model has spoken */

static int
mockrt_session_audio(mockrt_check_t *c, json_t *v, const char *path)
{
    json_t  *voice, *now;

    if (mockrt_object(c, v, path, mockrt_audio_fields) != 0) {
        return -1;
    }

    voice = json_object_get(json_object_get(v, "output"), "voice");
    now = json_object_get(json_object_get(json_object_get(c->s->config,
                                                          "audio"),
                                          "output"),
                          "voice");

    if (voice && c->s->audio_out && !json_equal(voice, now)) {
        return mockrt_invalid(c, "cannot_update_voice",
                              "session.audio.output.voice", "Cannot update "
                              "a conversation's voice if assistant audio is "
                              "present.");
    }

    return 0;
}


static int
mockrt_input(mockrt_check_t *c, json_t *v, const char *path)
{
    return mockrt_object(c, v, path, mockrt_input_fields);
}


static int
mockrt_output(mockrt_check_t *c, json_t *v, const char *path)
{
    return mockrt_object(c, v, path, mockrt_output_fields);
}


static int
mockrt_response_audio(mockrt_check_t *c, json_t *v, const char *path)
{
    return mockrt_object(c, v, path, mockrt_response_audio_fields);
}


static int
mockrt_response_output(mockrt_check_t *c, json_t *v, const char *path)
{
    return mockrt_object(c, v, path, mockrt_response_output_fields);
}


/* {"type": "audio/pcmu"}; a rate only with audio/pcm, and only 24000 */

static int
mockrt_format(mockrt_check_t *c, json_t *v, const char *path)
{
    char     p[256];
    json_t  *rate;

    if (mockrt_object(c, v, path, mockrt_format_fields) != 0) {
        return -1;
    }

    rate = json_object_get(v, "rate");

    if (rate == NULL) {
        return 0;
    }

    mockrt_path(p, sizeof(p), path, "rate");

    if (strcmp(json_string_value(json_object_get(v, "type")), "audio/pcm")
        != 0)
    {
        return mockrt_invalid(c, "unknown_parameter", p,
                              "Unknown parameter: '%s'.", p);
    }

    return mockrt_int(c, rate, p, 24000, 24000);
}


/* a field its object's check looks at */

static int
mockrt_later(mockrt_check_t *c, json_t *v, const char *path)
{
    return 0;
}


static int
mockrt_format_type(mockrt_check_t *c, json_t *v, const char *path)
{
    static const char *const  formats[] = {
        "audio/pcm", "audio/pcmu", "audio/pcma", NULL
    };

    return mockrt_enum(c, v, path, formats);
}


/* null, or server VAD or semantic VAD with the fields of its type */

static int
mockrt_turn(mockrt_check_t *c, json_t *v, const char *path)
{
    char         p[256];
    json_t      *type;

    if (json_is_null(v)) {
        return 0;
    }

    if (mockrt_want(c, v, path, JSON_OBJECT) != 0) {
        return -1;
    }

    type = json_object_get(v, "type");
    mockrt_path(p, sizeof(p), path, "type");

    if (type == NULL) {
        return mockrt_missing(c, p);
    }

    if (mockrt_turn_type(c, type, p) != 0) {
        return -1;
    }

    return mockrt_object(c, v, path,
                         strcmp(json_string_value(type), "server_vad") == 0
                         ? mockrt_server_vad_fields
                         : mockrt_semantic_vad_fields);
}


static int
mockrt_turn_type(mockrt_check_t *c, json_t *v, const char *path)
{
    static const char *const  types[] = {
        "server_vad", "semantic_vad", NULL
    };

    return mockrt_enum(c, v, path, types);
}


static int
mockrt_eagerness(mockrt_check_t *c, json_t *v, const char *path)
{
    static const char *const  values[] = {
        "low", "medium", "high", "auto", NULL
    };

    return mockrt_enum(c, v, path, values);
}


static int
mockrt_transcription(mockrt_check_t *c, json_t *v, const char *path)
{
    return json_is_null(v)
           ? 0 : mockrt_object(c, v, path, mockrt_transcription_fields);
}


static int
mockrt_noise_reduction(mockrt_check_t *c, json_t *v, const char *path)
{
    return json_is_null(v) ? 0 : mockrt_object(c, v, path,
                                               mockrt_noise_fields);
}


static int
mockrt_noise_type(mockrt_check_t *c, json_t *v, const char *path)
{
    static const char *const  types[] = { "near_field", "far_field", NULL };

    return mockrt_enum(c, v, path, types);
}


static int
mockrt_voice(mockrt_check_t *c, json_t *v, const char *path)
{
    return json_is_object(v) ? mockrt_object(c, v, path, mockrt_voice_fields)
                             : mockrt_enum(c, v, path, mockrt_voices);
}


static int
mockrt_tools(mockrt_check_t *c, json_t *v, const char *path)
{
    char     p[256];
    size_t   i;
    json_t  *tool, *type;

    if (mockrt_want(c, v, path, JSON_ARRAY) != 0) {
        return -1;
    }

    json_array_foreach(v, i, tool) {
        snprintf(p, sizeof(p), "%s[%zu]", path, i);

        /* the type first: an MCP tool has other fields */

        type = json_object_get(tool, "type");

        if (type && json_is_object(tool)) {
            char  q[300];

            mockrt_path(q, sizeof(q), p, "type");

            if (mockrt_tool_type(c, type, q) != 0) {
                return -1;
            }
        }

        if (mockrt_object(c, tool, p, mockrt_tool_fields) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
mockrt_tool_name(mockrt_check_t *c, json_t *v, const char *path)
{
    if (mockrt_string(c, v, path) != 0) {
        return -1;
    }

    return json_string_length(v) ? 0
           : mockrt_invalid(c, "invalid_value", path, "Invalid '%s': empty "
                            "string.", path);
}


/* function tools only: the mock runs no MCP servers */

static int
mockrt_tool_type(mockrt_check_t *c, json_t *v, const char *path)
{
    static const char *const  types[] = { "function", "mcp", NULL };

    if (mockrt_enum(c, v, path, types) != 0) {
        return -1;
    }

    return strcmp(json_string_value(v), "function") == 0 ? 0
           : mockrt_invalid(c, "invalid_value", path, "Invalid value: 'mcp'."
                            " mock-realtime supports function tools only.");
}


static int
mockrt_tool_choice(mockrt_check_t *c, json_t *v, const char *path)
{
    static const char *const  modes[] = { "auto", "none", "required", NULL };

    return json_is_object(v)
           ? mockrt_object(c, v, path, mockrt_tool_choice_fields)
           : mockrt_enum(c, v, path, modes);
}


/* ["audio"]: text-only responses are not something the mock produces */

static int
mockrt_modalities(mockrt_check_t *c, json_t *v, const char *path)
{
    char  p[256];

    static const char *const  modes[] = { "audio", "text", NULL };

    if (mockrt_want(c, v, path, JSON_ARRAY) != 0) {
        return -1;
    }

    if (json_array_size(v) != 1) {
        return mockrt_invalid(c, "invalid_value", path, "Invalid value for "
                              "'%s': give one of 'audio' or 'text'.", path);
    }

    snprintf(p, sizeof(p), "%s[0]", path);

    if (mockrt_enum(c, json_array_get(v, 0), p, modes) != 0) {
        return -1;
    }

    return strcmp(json_string_value(json_array_get(v, 0)), "audio") == 0 ? 0
           : mockrt_invalid(c, "invalid_value", p, "Invalid value: 'text'. "
                            "mock-realtime speaks audio only.");
}


static int
mockrt_max_tokens(mockrt_check_t *c, json_t *v, const char *path)
{
    if (json_is_string(v) && strcmp(json_string_value(v), "inf") == 0) {
        return 0;
    }

    return mockrt_int(c, v, path, 1, 4096);
}


static int
mockrt_tracing(mockrt_check_t *c, json_t *v, const char *path)
{
    if (json_is_null(v) || json_is_object(v)
        || (json_is_string(v) && strcmp(json_string_value(v), "auto") == 0))
    {
        return 0;
    }

    return mockrt_invalid(c, "invalid_value", path, "Invalid value for "
                          "'%s': expected null, \"auto\" or an object.", path);
}


static int
mockrt_truncation(mockrt_check_t *c, json_t *v, const char *path)
{
    static const char *const  values[] = { "auto", "disabled", NULL };

    return json_is_object(v) ? 0 : mockrt_enum(c, v, path, values);
}


static int
mockrt_conversation(mockrt_check_t *c, json_t *v, const char *path)
{
    static const char *const  values[] = { "auto", "none", NULL };

    return mockrt_enum(c, v, path, values);
}


static int
mockrt_item_type(mockrt_check_t *c, json_t *v, const char *path)
{
    static const char *const  types[] = {
        "message", "function_call", "function_call_output", NULL
    };

    return mockrt_enum(c, v, path, types);
}


static int
mockrt_role(mockrt_check_t *c, json_t *v, const char *path)
{
    static const char *const  roles[] = {
        "user", "assistant", "system", NULL
    };

    return mockrt_enum(c, v, path, roles);
}


static int
mockrt_threshold(mockrt_check_t *c, json_t *v, const char *path)
{
    return mockrt_number(c, v, path, 0, 1);
}


static int
mockrt_padding(mockrt_check_t *c, json_t *v, const char *path)
{
    return mockrt_int(c, v, path, 0, 10000);
}


static int
mockrt_idle(mockrt_check_t *c, json_t *v, const char *path)
{
    return json_is_null(v) ? 0 : mockrt_int(c, v, path, 5000, 30000);
}


static int
mockrt_speed(mockrt_check_t *c, json_t *v, const char *path)
{
    return mockrt_number(c, v, path, 0.25, 1.5);
}


static int
mockrt_content_index(mockrt_check_t *c, json_t *v, const char *path)
{
    return mockrt_int(c, v, path, 0, 0);
}


static int
mockrt_audio_end(mockrt_check_t *c, json_t *v, const char *path)
{
    return mockrt_int(c, v, path, 0, INT32_MAX);
}


static int
mockrt_string(mockrt_check_t *c, json_t *v, const char *path)
{
    return mockrt_want(c, v, path, JSON_STRING);
}


static int
mockrt_bool(mockrt_check_t *c, json_t *v, const char *path)
{
    return mockrt_want(c, v, path, JSON_TRUE);
}


static int
mockrt_array(mockrt_check_t *c, json_t *v, const char *path)
{
    return mockrt_want(c, v, path, JSON_ARRAY);
}


static int
mockrt_any_object(mockrt_check_t *c, json_t *v, const char *path)
{
    return mockrt_want(c, v, path, JSON_OBJECT);
}


static int
mockrt_object_or_null(mockrt_check_t *c, json_t *v, const char *path)
{
    return json_is_null(v) ? 0 : mockrt_want(c, v, path, JSON_OBJECT);
}


static int
mockrt_strings(mockrt_check_t *c, json_t *v, const char *path)
{
    char     p[256];
    size_t   i;
    json_t  *s;

    if (mockrt_want(c, v, path, JSON_ARRAY) != 0) {
        return -1;
    }

    json_array_foreach(v, i, s) {
        snprintf(p, sizeof(p), "%s[%zu]", path, i);

        if (mockrt_string(c, s, p) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
mockrt_strings_or_null(mockrt_check_t *c, json_t *v, const char *path)
{
    return json_is_null(v) ? 0 : mockrt_strings(c, v, path);
}


/* JSON_TRUE stands for a boolean, JSON_REAL for any number */

static int
mockrt_want(mockrt_check_t *c, json_t *v, const char *path, json_type type)
{
    const char  *want;

    switch (type) {

    case JSON_STRING:
        want = json_is_string(v) ? NULL : "a string";
        break;

    case JSON_OBJECT:
        want = json_is_object(v) ? NULL : "an object";
        break;

    case JSON_ARRAY:
        want = json_is_array(v) ? NULL : "an array";
        break;

    case JSON_INTEGER:
        want = json_is_integer(v) ? NULL : "an integer";
        break;

    case JSON_REAL:
        want = json_is_number(v) ? NULL : "a number";
        break;

    default:
        want = json_is_boolean(v) ? NULL : "a boolean";
        break;
    }

    if (want == NULL) {
        return 0;
    }

    return mockrt_invalid(c, "invalid_type", path, "Invalid type for '%s': "
                          "expected %s, but got %s instead.", path, want,
                          mockrt_kind(v));
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
                      p == values ? ""
                      : p[1] ? ", "
                      : p == values + 1 ? " and " : ", and ", *p);
    }

    return mockrt_invalid(c, "invalid_value", path, "Invalid value: "
                          "'%.200s'. Supported values are: %s.", value, list);
}


static int
mockrt_int(mockrt_check_t *c, json_t *v, const char *path, json_int_t min,
    json_int_t max)
{
    if (mockrt_want(c, v, path, JSON_INTEGER) != 0) {
        return -1;
    }

    if (json_integer_value(v) >= min && json_integer_value(v) <= max) {
        return 0;
    }

    return mockrt_invalid(c, "invalid_value", path, "Invalid '%s': expected "
                          "a value from %" JSON_INTEGER_FORMAT " to "
                          "%" JSON_INTEGER_FORMAT ", but got "
                          "%" JSON_INTEGER_FORMAT " instead.", path, min, max,
                          json_integer_value(v));
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

    return mockrt_invalid(c, "invalid_value", path, "Invalid '%s': expected "
                          "a value from %g to %g, but got %g instead.", path,
                          min, max, json_number_value(v));
}


static int
mockrt_missing(mockrt_check_t *c, const char *path)
{
    return mockrt_invalid(c, "missing_required_parameter", path,
                          "Missing required parameter: '%s'.", path);
}


/* an invalid_request_error event, naming the parameter; always -1 */

static int
mockrt_invalid(mockrt_check_t *c, const char *code, const char *path,
    const char *fmt, ...)
{
    char     message[1024];
    va_list  args;

    va_start(args, fmt);
    vsnprintf(message, sizeof(message), fmt, args);
    va_end(args);

    mockrt_error(c->s, "invalid_request_error", code, path, c->client_event,
                 "%s", message);

    return -1;
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


/* path.key ("key" alone at the top), cut short if need be */

static void
mockrt_path(char *buf, size_t size, const char *path, const char *key)
{
    if (snprintf(buf, size, "%s%s%s", path, path[0] ? "." : "", key) < 0) {
        buf[0] = '\0';
    }
}
