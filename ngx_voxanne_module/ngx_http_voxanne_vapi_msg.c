
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_vapi_msg.h"


#define NGX_HTTP_VOXANNE_VAPI_FIELD_MAX  256
#define NGX_HTTP_VOXANNE_VAPI_NAME_MAX   64
#define NGX_HTTP_VOXANNE_VAPI_ARGS_MAX   16384
#define NGX_HTTP_VOXANNE_VAPI_URL_MAX    2048
#define NGX_HTTP_VOXANNE_VAPI_REASON_MAX 200
#define NGX_HTTP_VOXANNE_VAPI_TIME_MAX   64


static void ngx_http_voxanne_vapi_msg_calls(ngx_http_voxanne_vapi_msg_t *msg,
    json_t *message);
static void ngx_http_voxanne_vapi_msg_call(ngx_http_voxanne_vapi_call_t *call,
    json_t *item, json_t *name);
static void ngx_http_voxanne_vapi_msg_forward(
    ngx_http_voxanne_vapi_msg_t *msg, json_t *message);
static void ngx_http_voxanne_vapi_msg_report(ngx_http_voxanne_vapi_msg_t *msg,
    json_t *message);
static void ngx_http_voxanne_vapi_msg_turns(ngx_http_voxanne_vapi_msg_t *msg,
    json_t *list);
static ngx_int_t ngx_http_voxanne_vapi_msg_str(json_t *v, size_t max,
    ngx_str_t *value);
static ngx_int_t ngx_http_voxanne_vapi_msg_text(json_t *v, size_t max,
    ngx_str_t *value);
static double ngx_http_voxanne_vapi_msg_number(json_t *v, double max);
static json_t *ngx_http_voxanne_vapi_msg_path(json_t *v, const char *a,
    const char *b);


static const char  *ngx_http_voxanne_vapi_types[] = {
    "assistant-request", "tool-calls", "status-update", "end-of-call-report",
    NULL
};


/*
 * NGX_OK; NGX_DECLINED, with msg->error, when the body is not a Vapi
 * message.  Either way ngx_http_voxanne_vapi_msg_free() is called after.
 */

ngx_int_t
ngx_http_voxanne_vapi_msg_parse(ngx_http_voxanne_vapi_msg_t *msg,
    u_char *data, size_t len)
{
    json_t        *message, *call;
    ngx_uint_t     i;
    json_error_t   err;

    ngx_memzero(msg, sizeof(ngx_http_voxanne_vapi_msg_t));

    msg->json = json_loadb((const char *) data, len, JSON_REJECT_DUPLICATES,
                           &err);

    if (msg->json == NULL || !json_is_object(msg->json)) {
        msg->error = "not a JSON object";
        return NGX_DECLINED;
    }

    message = json_object_get(msg->json, "message");

    if (!json_is_object(message)) {
        msg->error = "no \"message\" object";
        return NGX_DECLINED;
    }

    if (ngx_http_voxanne_vapi_msg_str(json_object_get(message, "type"),
                                      NGX_HTTP_VOXANNE_VAPI_NAME_MAX,
                                      &msg->type_name)
        != NGX_OK
        || msg->type_name.len == 0)
    {
        msg->error = "no message type";
        return NGX_DECLINED;
    }

    for (i = 0; ngx_http_voxanne_vapi_types[i]; i++) {
        if (ngx_strlen(ngx_http_voxanne_vapi_types[i]) == msg->type_name.len
            && ngx_strncmp(ngx_http_voxanne_vapi_types[i],
                           msg->type_name.data, msg->type_name.len)
               == 0)
        {
            break;
        }
    }

    msg->type = i;

    call = json_object_get(message, "call");

    (void) ngx_http_voxanne_vapi_msg_str(
               ngx_http_voxanne_vapi_msg_path(message, "phoneNumber",
                                              "number"),
               NGX_HTTP_VOXANNE_VAPI_NAME_MAX, &msg->number);

    (void) ngx_http_voxanne_vapi_msg_str(json_object_get(call, "id"),
                                         NGX_HTTP_VOXANNE_VAPI_FIELD_MAX,
                                         &msg->call_id);

    (void) ngx_http_voxanne_vapi_msg_str(json_object_get(call,
                                                         "phoneCallProviderId"),
                                         NGX_HTTP_VOXANNE_VAPI_FIELD_MAX,
                                         &msg->provider_id);

    if (ngx_http_voxanne_vapi_msg_str(
            ngx_http_voxanne_vapi_msg_path(message, "customer", "number"),
            NGX_HTTP_VOXANNE_VAPI_NAME_MAX, &msg->customer)
        != NGX_OK)
    {
        (void) ngx_http_voxanne_vapi_msg_str(
                   ngx_http_voxanne_vapi_msg_path(call, "customer", "number"),
                   NGX_HTTP_VOXANNE_VAPI_NAME_MAX, &msg->customer);
    }

    (void) ngx_http_voxanne_vapi_msg_str(json_object_get(message, "status"),
                                         NGX_HTTP_VOXANNE_VAPI_NAME_MAX,
                                         &msg->status);

    (void) ngx_http_voxanne_vapi_msg_str(json_object_get(message,
                                                         "endedReason"),
                                         NGX_HTTP_VOXANNE_VAPI_FIELD_MAX,
                                         &msg->ended_reason);

    (void) ngx_http_voxanne_vapi_msg_str(json_object_get(call, "type"),
                                         NGX_HTTP_VOXANNE_VAPI_NAME_MAX,
                                         &msg->call_type);

    msg->cost = -1;
    msg->duration = -1;

    switch (msg->type) {

    case NGX_HTTP_VOXANNE_VAPI_TOOL_CALLS:
        ngx_http_voxanne_vapi_msg_calls(msg, message);
        break;

    case NGX_HTTP_VOXANNE_VAPI_STATUS_UPDATE:
        ngx_http_voxanne_vapi_msg_forward(msg, message);
        break;

    case NGX_HTTP_VOXANNE_VAPI_END_OF_CALL_REPORT:
        ngx_http_voxanne_vapi_msg_report(msg, message);
        break;

    default:
        break;
    }

    return NGX_OK;
}


void
ngx_http_voxanne_vapi_msg_free(ngx_http_voxanne_vapi_msg_t *msg)
{
    ngx_uint_t  i;

    for (i = 0; i < msg->ncalls; i++) {
        if (msg->calls[i].owned) {
            json_decref(msg->calls[i].arguments);
        }
    }

    msg->ncalls = 0;

    json_decref(msg->json);
    msg->json = NULL;
}


static void
ngx_http_voxanne_vapi_msg_calls(ngx_http_voxanne_vapi_msg_t *msg,
    json_t *message)
{
    size_t                         i;
    json_t                        *list, *item, *name;
    ngx_str_t                      id;
    ngx_uint_t                     wrapped;
    ngx_http_voxanne_vapi_call_t  *call;

    wrapped = 0;

    list = json_object_get(message, "toolCallList");

    if (!json_is_array(list)) {
        list = json_object_get(message, "toolCalls");
    }

    if (!json_is_array(list)) {
        list = json_object_get(message, "toolWithToolCallList");
        wrapped = 1;
    }

    if (!json_is_array(list)) {
        msg->error = "no tool call list";
        return;
    }

    for (i = 0; i < json_array_size(list); i++) {
        item = json_array_get(list, i);
        name = NULL;

        if (wrapped) {
            name = json_object_get(item, "name");
            item = json_object_get(item, "toolCall");
        }

        if (ngx_http_voxanne_vapi_msg_str(json_object_get(item, "id"),
                                          NGX_HTTP_VOXANNE_VAPI_FIELD_MAX,
                                          &id)
            != NGX_OK
            || id.len == 0)
        {
            continue;
        }

        if (msg->ncalls == NGX_HTTP_VOXANNE_VAPI_CALLS) {
            msg->ignored++;
            continue;
        }

        call = &msg->calls[msg->ncalls++];
        call->id = id;

        ngx_http_voxanne_vapi_msg_call(call, item, name);
    }
}


/* a call's name and arguments, from whichever shape it came in */

static void
ngx_http_voxanne_vapi_msg_call(ngx_http_voxanne_vapi_call_t *call,
    json_t *item, json_t *name)
{
    size_t         i;
    json_t        *function, *args;
    json_error_t   err;

    function = json_object_get(item, "function");

    if (name == NULL) {
        name = json_object_get(json_is_object(function) ? function : item,
                               "name");
    }

    if (ngx_http_voxanne_vapi_msg_str(name, NGX_HTTP_VOXANNE_VAPI_NAME_MAX,
                                      &call->name)
        != NGX_OK
        || call->name.len == 0)
    {
        call->error = "the tool call has no valid name";
        return;
    }

    for (i = 0; i < call->name.len; i++) {
        if (!isalnum(call->name.data[i]) && call->name.data[i] != '_'
            && call->name.data[i] != '-')
        {
            call->error = "the tool call has no valid name";
            return;
        }
    }

    if (json_is_object(function)) {
        args = json_object_get(function, "arguments");

    } else {
        args = json_object_get(item, "arguments");

        if (args == NULL) {
            args = json_object_get(item, "parameters");
        }
    }

    if (args == NULL) {
        call->arguments = json_object();
        call->owned = 1;

    } else if (json_is_string(args)) {

        /* the OpenAI shape: the arguments as JSON text */

        if (json_string_length(args) <= NGX_HTTP_VOXANNE_VAPI_ARGS_MAX) {
            call->arguments = json_loadb(json_string_value(args),
                                         json_string_length(args),
                                         JSON_REJECT_DUPLICATES, &err);
            call->owned = 1;
        }

    } else {
        call->arguments = args;
    }

    if (!json_is_object(call->arguments)) {
        call->error = "the tool call's arguments are not a JSON object";
    }
}


/* where a forwarding call goes: a number or a SIP URI, and why */

static void
ngx_http_voxanne_vapi_msg_forward(ngx_http_voxanne_vapi_msg_t *msg,
    json_t *message)
{
    json_t  *destination;

    destination = json_object_get(message, "destination");

    if (ngx_http_voxanne_vapi_msg_str(json_object_get(destination, "number"),
                                      NGX_HTTP_VOXANNE_VAPI_NAME_MAX,
                                      &msg->destination)
        != NGX_OK)
    {
        (void) ngx_http_voxanne_vapi_msg_str(
                   json_object_get(destination, "sipUri"),
                   NGX_HTTP_VOXANNE_VAPI_FIELD_MAX, &msg->destination);
    }

    (void) ngx_http_voxanne_vapi_msg_str(
               json_object_get(destination, "description"),
               NGX_HTTP_VOXANNE_VAPI_REASON_MAX, &msg->destination_reason);
}


/* what an end-of-call report adds, from where Vapi's versions put it */

static void
ngx_http_voxanne_vapi_msg_report(ngx_http_voxanne_vapi_msg_t *msg,
    json_t *message)
{
    json_t  *artifact, *list;

    artifact = json_object_get(message, "artifact");

    (void) ngx_http_voxanne_vapi_msg_str(json_object_get(message, "startedAt"),
                                         NGX_HTTP_VOXANNE_VAPI_TIME_MAX,
                                         &msg->started_at);

    (void) ngx_http_voxanne_vapi_msg_str(json_object_get(message, "endedAt"),
                                         NGX_HTTP_VOXANNE_VAPI_TIME_MAX,
                                         &msg->ended_at);

    if (ngx_http_voxanne_vapi_msg_text(
            ngx_http_voxanne_vapi_msg_path(message, "analysis", "summary"),
            NGX_HTTP_VOXANNE_VAPI_TEXT_MAX, &msg->summary)
        != NGX_OK)
    {
        (void) ngx_http_voxanne_vapi_msg_text(
                   json_object_get(message, "summary"),
                   NGX_HTTP_VOXANNE_VAPI_TEXT_MAX, &msg->summary);
    }

    if (ngx_http_voxanne_vapi_msg_str(json_object_get(artifact,
                                                      "recordingUrl"),
                                      NGX_HTTP_VOXANNE_VAPI_URL_MAX,
                                      &msg->recording_url)
        != NGX_OK)
    {
        (void) ngx_http_voxanne_vapi_msg_str(
                   json_object_get(message, "recordingUrl"),
                   NGX_HTTP_VOXANNE_VAPI_URL_MAX, &msg->recording_url);
    }

    msg->cost = ngx_http_voxanne_vapi_msg_number(
                    json_object_get(message, "cost"), 1e6);

    msg->duration = ngx_http_voxanne_vapi_msg_number(
                        json_object_get(message, "durationSeconds"), 1e7);

    list = json_object_get(artifact, "messages");

    if (!json_is_array(list)) {
        list = json_object_get(message, "messages");
    }

    ngx_http_voxanne_vapi_msg_turns(msg, list);
}


/* the caller's and the agent's turns, in the report's order */

static void
ngx_http_voxanne_vapi_msg_turns(ngx_http_voxanne_vapi_msg_t *msg,
    json_t *list)
{
    size_t                         i;
    json_t                        *item, *v;
    double                         ms;
    ngx_str_t                      role, text;
    ngx_http_voxanne_vapi_turn_t  *turn;

    for (i = 0; i < json_array_size(list); i++) {
        item = json_array_get(list, i);

        if (ngx_http_voxanne_vapi_msg_str(json_object_get(item, "role"),
                                          NGX_HTTP_VOXANNE_VAPI_NAME_MAX,
                                          &role)
            != NGX_OK
            || !((role.len == 4 && ngx_strncmp(role.data, "user", 4) == 0)
                 || (role.len == 3 && ngx_strncmp(role.data, "bot", 3) == 0)
                 || (role.len == 9
                     && ngx_strncmp(role.data, "assistant", 9) == 0)))
        {
            continue;
        }

        v = json_object_get(item, "message");

        if (ngx_http_voxanne_vapi_msg_text(v, NGX_HTTP_VOXANNE_VAPI_TEXT_MAX,
                                           &text)
            != NGX_OK
            || msg->nturns == NGX_HTTP_VOXANNE_VAPI_TURNS)
        {
            if (json_is_string(v)) {
                msg->turns_ignored++;
            }

            continue;
        }

        if (text.len == 0) {
            continue;
        }

        turn = &msg->turns[msg->nturns++];

        turn->role = (role.data[0] == 'u') ? NGX_HTTP_VOXANNE_VAPI_CALLER
                                           : NGX_HTTP_VOXANNE_VAPI_AGENT;
        turn->text = text;

        /* "time" is Unix time in milliseconds */

        ms = ngx_http_voxanne_vapi_msg_number(json_object_get(item, "time"),
                                              1e14);
        turn->at = (ms > 0) ? ms / 1000 : 0;
    }
}


/*
 * A string of at most max bytes without control characters: these strings
 * go to log lines, where a newline would forge one
 */

static ngx_int_t
ngx_http_voxanne_vapi_msg_str(json_t *v, size_t max, ngx_str_t *value)
{
    size_t  i;

    if (!json_is_string(v) || json_string_length(v) > max) {
        return NGX_DECLINED;
    }

    value->data = (u_char *) json_string_value(v);
    value->len = json_string_length(v);

    for (i = 0; i < value->len; i++) {
        if (value->data[i] < 0x20 || value->data[i] == 0x7f) {
            ngx_str_null(value);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


/*
 * text that is stored, never logged: any character (a NUL, which
 * PostgreSQL's text cannot hold, never gets here: jansson refuses it
 * without JSON_ALLOW_NUL)
 */

static ngx_int_t
ngx_http_voxanne_vapi_msg_text(json_t *v, size_t max, ngx_str_t *value)
{
    if (!json_is_string(v) || json_string_length(v) > max) {
        return NGX_DECLINED;
    }

    value->data = (u_char *) json_string_value(v);
    value->len = json_string_length(v);

    return NGX_OK;
}


/* a number from 0 to max, else -1 */

static double
ngx_http_voxanne_vapi_msg_number(json_t *v, double max)
{
    double  n;

    if (!json_is_number(v)) {
        return -1;
    }

    n = json_number_value(v);

    return (n >= 0 && n <= max) ? n : -1;
}


static json_t *
ngx_http_voxanne_vapi_msg_path(json_t *v, const char *a, const char *b)
{
    return json_object_get(json_object_get(v, a), b);
}
