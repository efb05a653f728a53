
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_rt_msg.h"


typedef struct {
    ngx_str_t    type;
    ngx_uint_t   event;
} ngx_http_voxanne_rt_type_t;


static ngx_int_t ngx_http_voxanne_rt_msg_get(json_t *object,
    const char *name, const char *member, size_t max, ngx_str_t *value);
static ngx_uint_t ngx_http_voxanne_rt_msg_id(ngx_str_t *s);
static ngx_uint_t ngx_http_voxanne_rt_msg_base64(ngx_str_t *s);


static ngx_http_voxanne_rt_type_t  ngx_http_voxanne_rt_types[] = {
    { ngx_string("response.output_audio.delta"),
      NGX_HTTP_VOXANNE_RT_AUDIO_DELTA },
    { ngx_string("response.output_audio.done"),
      NGX_HTTP_VOXANNE_RT_AUDIO_DONE },
    { ngx_string("input_audio_buffer.speech_started"),
      NGX_HTTP_VOXANNE_RT_SPEECH_STARTED },
    { ngx_string("response.function_call_arguments.done"),
      NGX_HTTP_VOXANNE_RT_FUNCTION_CALL },
    { ngx_string("response.done"), NGX_HTTP_VOXANNE_RT_RESPONSE_DONE },
    { ngx_string("session.created"), NGX_HTTP_VOXANNE_RT_SESSION },
    { ngx_string("session.updated"), NGX_HTTP_VOXANNE_RT_SESSION },
    { ngx_string("error"), NGX_HTTP_VOXANNE_RT_ERROR },
    { ngx_null_string, NGX_HTTP_VOXANNE_RT_OTHER }
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

    if (ngx_http_voxanne_rt_msg_get(msg->json, NULL, "type",
                                    NGX_HTTP_VOXANNE_RT_TEXT_MAX, &msg->type)
        != NGX_OK)
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

        if (ngx_http_voxanne_rt_msg_get(msg->json, NULL, "delta",
                                        (size_t) -1, &msg->delta)
            != NGX_OK
            || !ngx_http_voxanne_rt_msg_base64(&msg->delta))
        {
            msg->error = "an audio delta without base64 audio";
            return NGX_DECLINED;
        }

        /* fall through */

    case NGX_HTTP_VOXANNE_RT_AUDIO_DONE:
    case NGX_HTTP_VOXANNE_RT_SPEECH_STARTED:

        if (ngx_http_voxanne_rt_msg_get(msg->json, NULL, "item_id",
                                        NGX_HTTP_VOXANNE_RT_ID_MAX,
                                        &msg->item_id)
            != NGX_OK
            || !ngx_http_voxanne_rt_msg_id(&msg->item_id))
        {
            msg->error = "no valid item_id";
            return NGX_DECLINED;
        }

        return NGX_OK;

    case NGX_HTTP_VOXANNE_RT_FUNCTION_CALL:

        if (ngx_http_voxanne_rt_msg_get(msg->json, NULL, "call_id",
                                        NGX_HTTP_VOXANNE_RT_ID_MAX,
                                        &msg->call_id)
            != NGX_OK
            || !ngx_http_voxanne_rt_msg_id(&msg->call_id)
            || ngx_http_voxanne_rt_msg_get(msg->json, NULL, "name",
                                           NGX_HTTP_VOXANNE_RT_ID_MAX,
                                           &msg->name)
               != NGX_OK
            || !ngx_http_voxanne_rt_msg_id(&msg->name))
        {
            msg->error = "a function call without a valid call_id and name";
            return NGX_DECLINED;
        }

        (void) ngx_http_voxanne_rt_msg_get(msg->json, NULL, "arguments",
                                           (size_t) -1, &msg->arguments);
        return NGX_OK;

    case NGX_HTTP_VOXANNE_RT_RESPONSE_DONE:
        (void) ngx_http_voxanne_rt_msg_get(msg->json, "response", "status",
                                           NGX_HTTP_VOXANNE_RT_ID_MAX,
                                           &msg->status);
        return NGX_OK;

    case NGX_HTTP_VOXANNE_RT_ERROR:

        /* each part is optional; what is there and valid is kept */

        if (ngx_http_voxanne_rt_msg_get(msg->json, "error", "type",
                                        NGX_HTTP_VOXANNE_RT_ID_MAX,
                                        &msg->error_type)
            != NGX_OK
            || !ngx_http_voxanne_rt_msg_id(&msg->error_type))
        {
            ngx_str_null(&msg->error_type);
        }

        if (ngx_http_voxanne_rt_msg_get(msg->json, "error", "code",
                                        NGX_HTTP_VOXANNE_RT_ID_MAX,
                                        &msg->error_code)
            != NGX_OK
            || !ngx_http_voxanne_rt_msg_id(&msg->error_code))
        {
            ngx_str_null(&msg->error_code);
        }

        if (ngx_http_voxanne_rt_msg_get(msg->json, "error", "event_id",
                                        NGX_HTTP_VOXANNE_RT_ID_MAX,
                                        &msg->error_event)
            != NGX_OK
            || !ngx_http_voxanne_rt_msg_id(&msg->error_event))
        {
            ngx_str_null(&msg->error_event);
        }

        if (ngx_http_voxanne_rt_msg_get(msg->json, "error", "message",
                                        (size_t) -1, &msg->error_message)
            == NGX_OK)
        {
            msg->error_message.len = ngx_min(msg->error_message.len,
                                             NGX_HTTP_VOXANNE_RT_TEXT_MAX);
        }

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


/* object[.name].member, a string of at most max bytes */

static ngx_int_t
ngx_http_voxanne_rt_msg_get(json_t *object, const char *name,
    const char *member, size_t max, ngx_str_t *value)
{
    json_t  *v;

    if (name) {
        object = json_object_get(object, name);
    }

    v = json_object_get(object, member);

    if (!json_is_string(v)) {
        return NGX_DECLINED;
    }

    value->data = (u_char *) json_string_value(v);
    value->len = json_string_length(v);

    if (value->len > max) {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_voxanne_rt_msg_id(ngx_str_t *s)
{
    size_t  i;

    if (s->len == 0) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        if (!(isalnum(s->data[i]) || s->data[i] == '_' || s->data[i] == '-'
              || s->data[i] == '.'))
        {
            return 0;
        }
    }

    return 1;
}


static ngx_uint_t
ngx_http_voxanne_rt_msg_base64(ngx_str_t *s)
{
    size_t  i;

    for (i = 0; i < s->len; i++) {
        if (!(isalnum(s->data[i]) || s->data[i] == '+' || s->data[i] == '/'
              || s->data[i] == '='))
        {
            return 0;
        }
    }

    return 1;
}
