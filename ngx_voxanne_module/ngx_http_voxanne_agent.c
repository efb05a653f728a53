
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include "ngx_http_voxanne.h"


/*
 * Who answers a tenant's calls (ngx_http_voxanne_agent.h): the agent
 * directives of a voxanne_tenant block, and the realtime agent's
 * session.update and greeting, made once at configuration time.
 */


#define NGX_HTTP_VOXANNE_AGENT_FILE_MAX  65536  /* instructions */
#define NGX_HTTP_VOXANNE_AGENT_TEXT_MAX  1024   /* a greeting */

#define NGX_HTTP_VOXANNE_TOOL_TIME       0x01   /* a bit a tool */
#define NGX_HTTP_VOXANNE_TOOL_END_CALL   0x02
#define NGX_HTTP_VOXANNE_TOOL_TRANSFER   0x04
#define NGX_HTTP_VOXANNE_TOOL_AVAILABLE  0x08
#define NGX_HTTP_VOXANNE_TOOL_BOOK       0x10
#define NGX_HTTP_VOXANNE_TOOL_RESCHEDULE 0x20
#define NGX_HTTP_VOXANNE_TOOL_CANCEL     0x40
#define NGX_HTTP_VOXANNE_TOOL_CUSTOMER   0x80
#define NGX_HTTP_VOXANNE_TOOL_SERVICES   0x100
#define NGX_HTTP_VOXANNE_TOOL_CALLBACK   0x200

/* JSON Schema pieces of the booking tools' arguments */

#define NGX_HTTP_VOXANNE_TOOL_SERVICE                                         \
    "\"service\":{\"type\":\"string\",\"description\":\"The service's name, " \
    "as list_services gives it.\"}"
#define NGX_HTTP_VOXANNE_TOOL_START                                           \
    "\"start\":{\"type\":\"string\",\"description\":\"Local date and time "   \
    "at the business, YYYY-MM-DDTHH:MM (24 hours).\"}"
#define NGX_HTTP_VOXANNE_TOOL_DATE(name, what)                                \
    "\"" name "\":{\"type\":\"string\",\"description\":\"" what              \
    ", YYYY-MM-DD.\"}"
#define NGX_HTTP_VOXANNE_TOOL_PHONE                                           \
    "\"phone\":{\"type\":\"string\",\"description\":\"The customer's phone "  \
    "number in international format, like +15551234567; leave it out "      \
    "for the number calling.\"}"


typedef struct {
    ngx_str_t                      name;
    ngx_uint_t                     bit;
    char                          *description;
    char                          *parameters;   /* a JSON Schema */
} ngx_http_voxanne_agent_tool_t;


static json_t *ngx_http_voxanne_agent_session(ngx_http_voxanne_agent_t *a);
static ngx_int_t ngx_http_voxanne_agent_json(ngx_conf_t *cf, json_t *root,
    ngx_str_t *out);
static ngx_uint_t ngx_http_voxanne_agent_chars(ngx_str_t *s, size_t max,
    char *allowed);


static ngx_http_voxanne_agent_tool_t  ngx_http_voxanne_agent_tools_all[] = {

    { ngx_string("get_current_time"), NGX_HTTP_VOXANNE_TOOL_TIME,
      "The current date and time at the business, in its time zone.",
      "{\"type\":\"object\",\"properties\":{}}" },

    { ngx_string("end_call"), NGX_HTTP_VOXANNE_TOOL_END_CALL,
      "End the call, once you have said goodbye and the caller has "
      "nothing more to ask.",
      "{\"type\":\"object\",\"properties\":{\"reason\":{\"type\":"
      "\"string\",\"description\":\"Why the call ends.\"}}}" },

    { ngx_string("transfer_to_human"), NGX_HTTP_VOXANNE_TOOL_TRANSFER,
      "Transfer the caller to a person at the business, when they ask "
      "for one or when you cannot help.",
      "{\"type\":\"object\",\"properties\":{\"reason\":{\"type\":"
      "\"string\",\"description\":\"Why the caller needs a person.\"}}}" },

    { ngx_string("check_availability"), NGX_HTTP_VOXANNE_TOOL_AVAILABLE,
      "Open appointment times for a service on a day (or up to two weeks "
      "of days), or whether one time is open, with the nearest open times "
      "when it is not.",
      "{\"type\":\"object\",\"properties\":{"
      NGX_HTTP_VOXANNE_TOOL_SERVICE ","
      NGX_HTTP_VOXANNE_TOOL_DATE("date", "The day, or the first day") ","
      NGX_HTTP_VOXANNE_TOOL_DATE("end_date", "The last day of a range") ","
      "\"time\":{\"type\":\"string\",\"description\":\"A time to check on "
      "that day, HH:MM (24 hours).\"}},"
      "\"required\":[\"service\",\"date\"]}" },

    { ngx_string("book_appointment"), NGX_HTTP_VOXANNE_TOOL_BOOK,
      "Book an appointment, once the caller has agreed to the service and "
      "time. When the time is taken, the result names the nearest open "
      "times.",
      "{\"type\":\"object\",\"properties\":{"
      NGX_HTTP_VOXANNE_TOOL_SERVICE "," NGX_HTTP_VOXANNE_TOOL_START ","
      "\"name\":{\"type\":\"string\",\"description\":\"The customer's "
      "name.\"}," NGX_HTTP_VOXANNE_TOOL_PHONE ","
      "\"email\":{\"type\":\"string\",\"description\":\"The customer's "
      "email address, if given.\"}},"
      "\"required\":[\"service\",\"start\",\"name\"]}" },

    { ngx_string("reschedule_appointment"), NGX_HTTP_VOXANNE_TOOL_RESCHEDULE,
      "Move the customer's next appointment (or the one on a given day) to "
      "a new time.",
      "{\"type\":\"object\",\"properties\":{"
      NGX_HTTP_VOXANNE_TOOL_START "," NGX_HTTP_VOXANNE_TOOL_PHONE ","
      NGX_HTTP_VOXANNE_TOOL_DATE("date", "The day of the appointment to "
                                 "move, if the customer has several") "},"
      "\"required\":[\"start\"]}" },

    { ngx_string("cancel_appointment"), NGX_HTTP_VOXANNE_TOOL_CANCEL,
      "Cancel the customer's next appointment (or the one on a given day).",
      "{\"type\":\"object\",\"properties\":{"
      NGX_HTTP_VOXANNE_TOOL_PHONE ","
      NGX_HTTP_VOXANNE_TOOL_DATE("date", "The day of the appointment to "
                                 "cancel, if the customer has several") "}}" },

    { ngx_string("find_customer"), NGX_HTTP_VOXANNE_TOOL_CUSTOMER,
      "The customer on file for a phone number (by default the caller's): "
      "their name and upcoming appointments.",
      "{\"type\":\"object\",\"properties\":{"
      NGX_HTTP_VOXANNE_TOOL_PHONE "}}" },

    { ngx_string("list_services"), NGX_HTTP_VOXANNE_TOOL_SERVICES,
      "The services the business offers, with their durations and prices.",
      "{\"type\":\"object\",\"properties\":{}}" },

    { ngx_string("schedule_callback"), NGX_HTTP_VOXANNE_TOOL_CALLBACK,
      "Take a callback request, when the caller wants someone to call them "
      "back.",
      "{\"type\":\"object\",\"properties\":{"
      "\"when\":{\"type\":\"string\",\"description\":\"When to call back, "
      "in the caller's words.\"},"
      "\"reason\":{\"type\":\"string\",\"description\":\"What it is "
      "about.\"}," NGX_HTTP_VOXANNE_TOOL_PHONE "},"
      "\"required\":[\"when\",\"reason\"]}" },

    { ngx_null_string, 0, NULL, NULL }
};


/* agent echo | realtime; */

char *
ngx_http_voxanne_agent_type(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    if (value->len == 4 && ngx_strncmp(value->data, "echo", 4) == 0) {
        t->agent.type = NGX_HTTP_VOXANNE_AGENT_ECHO;
        return NGX_CONF_OK;
    }

    if (value->len == 8 && ngx_strncmp(value->data, "realtime", 8) == 0) {
        t->agent.type = NGX_HTTP_VOXANNE_AGENT_REALTIME;
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid agent \"%V\" in tenant \"%V\", \"echo\" or "
                       "\"realtime\" is expected", value, &t->name);

    return NGX_CONF_ERROR;
}


char *
ngx_http_voxanne_agent_instructions(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t, ngx_str_t *value, ngx_uint_t n)
{
    if (ngx_http_voxanne_tenant_read(cf, value,
                                     NGX_HTTP_VOXANNE_AGENT_FILE_MAX,
                                     &t->agent.instructions)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (t->agent.instructions.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "instructions_file \"%V\" of tenant \"%V\" is "
                           "empty", value, &t->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_voxanne_agent_voice(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    if (!ngx_http_voxanne_agent_chars(value, 32,
                                      "abcdefghijklmnopqrstuvwxyz"
                                      "0123456789_-"))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid voice \"%V\" in tenant \"%V\"", value,
                           &t->name);
        return NGX_CONF_ERROR;
    }

    t->agent.voice = *value;

    return NGX_CONF_OK;
}


char *
ngx_http_voxanne_agent_greeting(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    if (value->len == 0 || value->len > NGX_HTTP_VOXANNE_AGENT_TEXT_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "the greeting of tenant \"%V\" must be 1 to %d "
                           "bytes", &t->name,
                           NGX_HTTP_VOXANNE_AGENT_TEXT_MAX);
        return NGX_CONF_ERROR;
    }

    t->agent.greeting = *value;

    return NGX_CONF_OK;
}


/* an ISO 639 code, "en" or "fil" */

char *
ngx_http_voxanne_agent_language(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    if (value->len < 2
        || !ngx_http_voxanne_agent_chars(value, 3,
                                         "abcdefghijklmnopqrstuvwxyz"))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid language \"%V\" in tenant \"%V\", an "
                           "ISO 639 code such as \"en\" is expected", value,
                           &t->name);
        return NGX_CONF_ERROR;
    }

    t->agent.language = *value;

    return NGX_CONF_OK;
}


/* vad [threshold=0.5] [silence=500ms] [prefix=300ms]; */

char *
ngx_http_voxanne_agent_vad(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_int_t   th;
    ngx_str_t   s;
    ngx_uint_t  i;
    ngx_msec_t  ms, *field;

    for (i = 0; i < n; i++) {

        if (ngx_strncmp(value[i].data, "threshold=", 10) == 0) {
            th = ngx_atofp(value[i].data + 10, value[i].len - 10, 3);

            if (th == NGX_ERROR || th > 1000) {
                goto invalid;
            }

            t->agent.vad_threshold = th;
            continue;
        }

        if (ngx_strncmp(value[i].data, "silence=", 8) == 0) {
            field = &t->agent.vad_silence;
            s.data = value[i].data + 8;

        } else if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            field = &t->agent.vad_prefix;
            s.data = value[i].data + 7;

        } else {
            goto invalid;
        }

        s.len = value[i].data + value[i].len - s.data;
        ms = ngx_parse_time(&s, 0);

        if (ms == (ngx_msec_t) NGX_ERROR || ms > 10000) {
            goto invalid;
        }

        *field = ms;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid vad parameter \"%V\" in tenant \"%V\", "
                       "threshold=0..1, silence=time or prefix=time (up to "
                       "10s) is expected", &value[i], &t->name);

    return NGX_CONF_ERROR;
}


char *
ngx_http_voxanne_agent_tools(ngx_conf_t *cf, ngx_http_voxanne_tenant_t *t,
    ngx_str_t *value, ngx_uint_t n)
{
    ngx_uint_t                       i;
    ngx_http_voxanne_agent_tool_t  *tool;

    for (i = 0; i < n; i++) {

        for (tool = ngx_http_voxanne_agent_tools_all; tool->bit; tool++) {
            if (tool->name.len == value[i].len
                && ngx_strncmp(tool->name.data, value[i].data, value[i].len)
                   == 0)
            {
                break;
            }
        }

        if (tool->bit == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown tool \"%V\" in tenant \"%V\"",
                               &value[i], &t->name);
            return NGX_CONF_ERROR;
        }

        t->agent.tools |= tool->bit;
    }

    return NGX_CONF_OK;
}


void
ngx_http_voxanne_agent_init(ngx_http_voxanne_agent_t *agent)
{
    agent->type = NGX_CONF_UNSET_UINT;
    agent->vad_threshold = NGX_CONF_UNSET;
    agent->vad_silence = NGX_CONF_UNSET_MSEC;
    agent->vad_prefix = NGX_CONF_UNSET_MSEC;
}


/*
 * A tenant's session.update and greeting never change: they are made
 * once, here, and sent as they are on every call.
 */

char *
ngx_http_voxanne_agent_done(ngx_conf_t *cf,
    ngx_http_voxanne_tenant_t *t)
{
    u_char                    *p;
    json_t                    *root;
    size_t                     len;
    ngx_http_voxanne_agent_t  *a;

    a = &t->agent;

    root = json_object();

    if (root == NULL
        || json_object_set_new(root, "type", json_string("session.update"))
        || json_object_set_new(root, "session",
                               ngx_http_voxanne_agent_session(a)))
    {
        json_decref(root);
        goto invalid;
    }

    if (ngx_http_voxanne_agent_json(cf, root, &a->session) != NGX_OK) {
        goto invalid;
    }

    if (a->greeting.len == 0) {
        ngx_str_set(&a->response, "{\"type\":\"response.create\"}");
        return NGX_CONF_OK;
    }

    len = sizeof("Greet the caller by saying exactly this: ") - 1
          + a->greeting.len;

    p = ngx_pnalloc(cf->pool, len);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    (void) ngx_sprintf(p, "Greet the caller by saying exactly this: %V",
                       &a->greeting);

    root = json_pack("{s:s, s:{s:s%}}", "type", "response.create",
                     "response", "instructions", p, len);

    if (ngx_http_voxanne_agent_json(cf, root, &a->response) == NGX_OK) {
        return NGX_CONF_OK;
    }

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "the instructions and greeting of tenant \"%V\" must "
                       "be UTF-8", &t->name);

    return NGX_CONF_ERROR;
}


/*
 * The session, GA shape: mu-law both ways, server VAD with the tenant's
 * settings (the provider's defaults for what it did not set), input
 * transcription, the instructions, the voice and the tools.
 */

static json_t *
ngx_http_voxanne_agent_session(ngx_http_voxanne_agent_t *a)
{
    json_t                          *session, *in, *out, *turn, *tr, *tools;
    json_t                          *tool;
    ngx_http_voxanne_agent_tool_t  *t;

    turn = json_pack("{s:s}", "type", "server_vad");
    tr = json_pack("{s:s}", "model", "gpt-4o-mini-transcribe");
    tools = json_array();

    if (turn == NULL || tr == NULL || tools == NULL) {
        goto failed;
    }

    if ((a->vad_threshold != NGX_CONF_UNSET
         && json_object_set_new(turn, "threshold",
                                json_real(a->vad_threshold / 1000.0)))
        || (a->vad_prefix != NGX_CONF_UNSET_MSEC
            && json_object_set_new(turn, "prefix_padding_ms",
                                   json_integer(a->vad_prefix)))
        || (a->vad_silence != NGX_CONF_UNSET_MSEC
            && json_object_set_new(turn, "silence_duration_ms",
                                   json_integer(a->vad_silence)))
        || (a->language.len
            && json_object_set_new(tr, "language",
                                   json_stringn((char *) a->language.data,
                                                a->language.len))))
    {
        goto failed;
    }

    for (t = ngx_http_voxanne_agent_tools_all; t->bit; t++) {

        if (!(a->tools & t->bit)) {
            continue;
        }

        tool = json_pack("{s:s, s:s%, s:s, s:o}", "type", "function",
                         "name", t->name.data, t->name.len,
                         "description", t->description,
                         "parameters", json_loads(t->parameters, 0, NULL));

        if (json_array_append_new(tools, tool)) {
            goto failed;
        }
    }

    in = json_pack("{s:{s:s}, s:O, s:O}", "format", "type", "audio/pcmu",
                   "transcription", tr, "turn_detection", turn);
    out = json_pack("{s:{s:s}}", "format", "type", "audio/pcmu");

    session = json_pack("{s:s, s:[s], s:{s:o, s:o}}", "type", "realtime",
                        "output_modalities", "audio", "audio", "input", in,
                        "output", out);

    json_decref(turn);
    json_decref(tr);
    turn = NULL;
    tr = NULL;

    if (session == NULL
        || (a->voice.len
            && json_object_set_new(json_object_get(json_object_get(session,
                                                                   "audio"),
                                                   "output"),
                                   "voice",
                                   json_stringn((char *) a->voice.data,
                                                a->voice.len)))
        || (a->instructions.len
            && json_object_set_new(session, "instructions",
                                   json_stringn((char *) a->instructions.data,
                                                a->instructions.len)))
        || (a->tools
            && (json_object_set(session, "tools", tools)
                || json_object_set_new(session, "tool_choice",
                                       json_string("auto")))))
    {
        json_decref(session);
        goto failed;
    }

    json_decref(tools);

    return session;

failed:

    json_decref(turn);
    json_decref(tr);
    json_decref(tools);

    return NULL;
}


/* the compact JSON text, copied into the configuration's pool */

static ngx_int_t
ngx_http_voxanne_agent_json(ngx_conf_t *cf, json_t *root, ngx_str_t *out)
{
    char  *text;

    if (root == NULL) {
        return NGX_ERROR;
    }

    text = json_dumps(root, JSON_COMPACT);

    json_decref(root);

    if (text == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_strlen(text);
    out->data = ngx_pnalloc(cf->pool, out->len);

    if (out->data) {
        ngx_memcpy(out->data, text, out->len);
    }

    free(text);

    return out->data ? NGX_OK : NGX_ERROR;
}


static ngx_uint_t
ngx_http_voxanne_agent_chars(ngx_str_t *s, size_t max, char *allowed)
{
    size_t  i;

    if (s->len == 0 || s->len > max) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        if (s->data[i] == '\0' || ngx_strchr(allowed, s->data[i]) == NULL) {
            return 0;
        }
    }

    return 1;
}


/* whether the tenant gave the agent this tool */

ngx_uint_t
ngx_http_voxanne_agent_tool(ngx_http_voxanne_agent_t *a, ngx_str_t *name)
{
    ngx_http_voxanne_agent_tool_t  *tool;

    for (tool = ngx_http_voxanne_agent_tools_all; tool->bit; tool++) {
        if (tool->name.len == name->len
            && ngx_strncmp(tool->name.data, name->data, name->len) == 0)
        {
            return (a->tools & tool->bit) != 0;
        }
    }

    return 0;
}
