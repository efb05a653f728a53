
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_stream_msg.h"
#include "ngx_http_voxanne_rt_msg.h"


typedef struct {
    ngx_str_t    type;
    ngx_uint_t   event;
} ngx_http_voxanne_rt_type_t;


static ngx_int_t ngx_http_voxanne_rt_msg_id(json_t *object, const char *name,
    const char *member, ngx_str_t *id);
static ngx_uint_t ngx_http_voxanne_rt_msg_listed(ngx_str_t *s,
    ngx_str_t *list);


static ngx_http_voxanne_rt_type_t  ngx_http_voxanne_rt_types[] = {
    { ngx_string("response.output_audio.delta"),
      NGX_HTTP_VOXANNE_RT_AUDIO_DELTA },
    { ngx_string("response.output_audio.done"),
      NGX_HTTP_VOXANNE_RT_AUDIO_DONE },
    { ngx_string("input_audio_buffer.speech_started"),
      NGX_HTTP_VOXANNE_RT_SPEECH_STARTED },
    { ngx_string("response.function_call_arguments.done"),
      NGX_HTTP_VOXANNE_RT_FUNCTION_CALL },
    { ngx_string("response.created"), NGX_HTTP_VOXANNE_RT_RESPONSE_CREATED },
    { ngx_string("response.done"), NGX_HTTP_VOXANNE_RT_RESPONSE_DONE },
    { ngx_string("session.created"), NGX_HTTP_VOXANNE_RT_SESSION },
    { ngx_string("session.updated"), NGX_HTTP_VOXANNE_RT_SESSION },
    { ngx_string("error"), NGX_HTTP_VOXANNE_RT_ERROR },
    { ngx_string("conversation.item.input_audio_transcription.completed"),
      NGX_HTTP_VOXANNE_RT_CALLER_SAID },
    { ngx_string("response.output_audio_transcript.done"),
      NGX_HTTP_VOXANNE_RT_AGENT_SAID },
    { ngx_null_string, NGX_HTTP_VOXANNE_RT_OTHER }
};


/* the errors that end the session (the header says why) */

static ngx_str_t  ngx_http_voxanne_rt_fatal_types[] = {
    ngx_string("authentication_error"),
    ngx_string("permission_error"),
    ngx_null_string
};

static ngx_str_t  ngx_http_voxanne_rt_fatal_codes[] = {
    ngx_string("session_expired"),
    ngx_string("invalid_api_key"),
    ngx_string("insufficient_quota"),
    ngx_null_string
};


/*
 * NGX_OK; NGX_ERROR when the event is not a JSON object with a type,
 * NGX_DECLINED when an event the bridge acts on lacks what it needs, with
 * msg->error set.  Either way msg->json is NULL or must be freed.
 */

ngx_int_t
ngx_http_voxanne_rt_msg_parse(ngx_http_voxanne_rt_msg_t *msg, u_char *data,
    size_t len)
{
    json_error_t                 err;
    ngx_http_voxanne_rt_type_t  *t;

    ngx_memzero(msg, sizeof(ngx_http_voxanne_rt_msg_t));

    msg->json = json_loadb((const char *) data, len, 0, &err);

    if (msg->json == NULL || !json_is_object(msg->json)) {
        msg->error = "not a JSON object";
        return NGX_ERROR;
    }

    if (ngx_http_voxanne_stream_msg_get(msg->json, NULL, "type",
                                        NGX_HTTP_VOXANNE_RT_TEXT_MAX,
                                        &msg->type)
        != NGX_OK
        || msg->type.len == 0)
    {
        msg->error = "no type";
        return NGX_ERROR;
    }

    for (t = ngx_http_voxanne_rt_types; t->type.len; t++) {
        if (t->type.len == msg->type.len
            && ngx_strncmp(t->type.data, msg->type.data, msg->type.len) == 0)
        {
            break;
        }
    }

    msg->event = t->event;

    switch (msg->event) {

    case NGX_HTTP_VOXANNE_RT_AUDIO_DELTA:

        if (ngx_http_voxanne_stream_msg_get(msg->json, NULL, "delta",
                                            (size_t) -1, &msg->delta)
            != NGX_OK
            || !ngx_http_voxanne_stream_msg_base64(&msg->delta))
        {
            msg->error = "an audio delta without base64 audio";
            return NGX_DECLINED;
        }

        /* fall through */

    case NGX_HTTP_VOXANNE_RT_AUDIO_DONE:
    case NGX_HTTP_VOXANNE_RT_SPEECH_STARTED:

        if (ngx_http_voxanne_rt_msg_id(msg->json, NULL, "item_id",
                                       &msg->item_id)
            != NGX_OK)
        {
            msg->error = "no valid item_id";
            return NGX_DECLINED;
        }

        return NGX_OK;

    case NGX_HTTP_VOXANNE_RT_CALLER_SAID:
    case NGX_HTTP_VOXANNE_RT_AGENT_SAID:

        if (ngx_http_voxanne_stream_msg_get(msg->json, NULL, "transcript",
                                            NGX_HTTP_VOXANNE_RT_TURN_MAX,
                                            &msg->transcript)
            != NGX_OK
            || ngx_http_voxanne_rt_msg_id(msg->json, NULL, "item_id",
                                          &msg->item_id)
               != NGX_OK)
        {
            msg->error = "a transcript without its text or item_id";
            return NGX_DECLINED;
        }

        return NGX_OK;

    case NGX_HTTP_VOXANNE_RT_FUNCTION_CALL:

        if (ngx_http_voxanne_rt_msg_id(msg->json, NULL, "call_id",
                                       &msg->call_id)
            != NGX_OK
            || ngx_http_voxanne_rt_msg_id(msg->json, NULL, "name", &msg->name)
               != NGX_OK)
        {
            msg->error = "a function call without a valid call_id and name";
            return NGX_DECLINED;
        }

        (void) ngx_http_voxanne_stream_msg_get(msg->json, NULL, "arguments",
                                               (size_t) -1, &msg->arguments);
        return NGX_OK;

    case NGX_HTTP_VOXANNE_RT_RESPONSE_DONE:
        (void) ngx_http_voxanne_rt_msg_id(msg->json, "response", "status",
                                          &msg->status);
        return NGX_OK;

    case NGX_HTTP_VOXANNE_RT_ERROR:

        /* each part is optional; what is there and valid is kept */

        (void) ngx_http_voxanne_rt_msg_id(msg->json, "error", "type",
                                          &msg->error_type);
        (void) ngx_http_voxanne_rt_msg_id(msg->json, "error", "code",
                                          &msg->error_code);
        (void) ngx_http_voxanne_rt_msg_id(msg->json, "error", "event_id",
                                          &msg->error_event);

        if (ngx_http_voxanne_stream_msg_get(msg->json, "error", "message",
                                            (size_t) -1, &msg->error_message)
            == NGX_OK)
        {
            msg->error_message.len = ngx_min(msg->error_message.len,
                                             NGX_HTTP_VOXANNE_RT_TEXT_MAX);
        }

        msg->fatal = ngx_http_voxanne_rt_msg_listed(&msg->error_type,
                                            ngx_http_voxanne_rt_fatal_types)
                     || ngx_http_voxanne_rt_msg_listed(&msg->error_code,
                                            ngx_http_voxanne_rt_fatal_codes);
        return NGX_OK;

    default: /* SESSION, OTHER */
        return NGX_OK;
    }
}


void
ngx_http_voxanne_rt_msg_free(ngx_http_voxanne_rt_msg_t *msg)
{
    json_decref(msg->json);
    msg->json = NULL;
}


static ngx_uint_t
ngx_http_voxanne_rt_msg_listed(ngx_str_t *s, ngx_str_t *list)
{
    for ( /* void */ ; list->len; list++) {
        if (list->len == s->len
            && ngx_strncmp(list->data, s->data, s->len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * object[.name].member as an id: letters, digits, "_", "-" and ".", at
 * most NGX_HTTP_VOXANNE_RT_ID_MAX of them; else NGX_DECLINED, and empty
 */

static ngx_int_t
ngx_http_voxanne_rt_msg_id(json_t *object, const char *name,
    const char *member, ngx_str_t *id)
{
    size_t  i;

    if (ngx_http_voxanne_stream_msg_get(object, name, member,
                                        NGX_HTTP_VOXANNE_RT_ID_MAX, id)
        != NGX_OK
        || id->len == 0)
    {
        goto invalid;
    }

    for (i = 0; i < id->len; i++) {
        if (!(isalnum(id->data[i]) || id->data[i] == '_'
              || id->data[i] == '-' || id->data[i] == '.'))
        {
            goto invalid;
        }
    }

    return NGX_OK;

invalid:

    ngx_str_null(id);

    return NGX_DECLINED;
}
