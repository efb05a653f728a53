
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_stream_msg.h"


#define NGX_HTTP_VOXANNE_MSG_SID_MAX    64
#define NGX_HTTP_VOXANNE_MSG_FIELD_MAX  512


static ngx_uint_t ngx_http_voxanne_stream_msg_sid(ngx_str_t *s);


static const char  *ngx_http_voxanne_stream_events[] = {
    "connected", "start", "media", "dtmf", "mark", "stop", NULL
};


/*
 * NGX_OK; NGX_ERROR when the message is not a JSON object (close 1007),
 * NGX_DECLINED when it is not a valid Media Streams message (close 1008),
 * with msg->error set.  Either way msg->json is NULL or must be freed.
 */

ngx_int_t
ngx_http_voxanne_stream_msg_parse(ngx_http_voxanne_stream_msg_t *msg,
    u_char *data, size_t len)
{
    ngx_str_t      event;
    ngx_uint_t     i;
    json_error_t   err;

    ngx_memzero(msg, sizeof(ngx_http_voxanne_stream_msg_t));

    msg->json = json_loadb((const char *) data, len, JSON_REJECT_DUPLICATES,
                           &err);

    if (msg->json == NULL || !json_is_object(msg->json)) {
        msg->error = "not a JSON object";
        return NGX_ERROR;
    }

    if (ngx_http_voxanne_stream_msg_get(msg->json, NULL, "event",
                                        NGX_HTTP_VOXANNE_MSG_FIELD_MAX, &event)
        != NGX_OK)
    {
        msg->error = "no event";
        return NGX_DECLINED;
    }

    for (i = 0; ngx_http_voxanne_stream_events[i]; i++) {
        if (ngx_strlen(ngx_http_voxanne_stream_events[i]) == event.len
            && ngx_strncmp(ngx_http_voxanne_stream_events[i], event.data,
                           event.len)
               == 0)
        {
            break;
        }
    }

    msg->event = i;

    switch (msg->event) {

    case NGX_HTTP_VOXANNE_MSG_CONNECTED:
    case NGX_HTTP_VOXANNE_MSG_OTHER:
        return NGX_OK;

    case NGX_HTTP_VOXANNE_MSG_START:

        if (ngx_http_voxanne_stream_msg_get(msg->json, "start", "callSid",
                                            NGX_HTTP_VOXANNE_MSG_FIELD_MAX,
                                            &msg->call_sid)
            != NGX_OK
            || !ngx_http_voxanne_stream_msg_sid(&msg->call_sid))
        {
            msg->error = "no valid callSid";
            return NGX_DECLINED;
        }

        /* absent parameters are checked by the caller, as empty ones */

        (void) ngx_http_voxanne_stream_msg_get(
                   json_object_get(msg->json, "start"), "customParameters",
                   "tenant", NGX_HTTP_VOXANNE_MSG_FIELD_MAX, &msg->tenant);
        (void) ngx_http_voxanne_stream_msg_get(
                   json_object_get(msg->json, "start"), "customParameters",
                   "token", NGX_HTTP_VOXANNE_MSG_FIELD_MAX, &msg->token);
        break;

    case NGX_HTTP_VOXANNE_MSG_MEDIA:

        if (ngx_http_voxanne_stream_msg_get(msg->json, "media", "payload",
                                            (size_t) -1, &msg->payload)
            != NGX_OK)
        {
            msg->error = "media without payload";
            return NGX_DECLINED;
        }

        /* base64 only: it may be copied into JSON as it is */

        if (!ngx_http_voxanne_stream_msg_base64(&msg->payload)) {
            msg->error = "payload is not base64";
            return NGX_DECLINED;
        }

        break;

    case NGX_HTTP_VOXANNE_MSG_DTMF:
        (void) ngx_http_voxanne_stream_msg_get(msg->json, "dtmf", "digit",
                                               NGX_HTTP_VOXANNE_MSG_FIELD_MAX,
                                               &msg->digit);
        break;

    case NGX_HTTP_VOXANNE_MSG_MARK:
        (void) ngx_http_voxanne_stream_msg_get(msg->json, "mark", "name",
                                               NGX_HTTP_VOXANNE_MSG_FIELD_MAX,
                                               &msg->mark);
        break;

    default: /* NGX_HTTP_VOXANNE_MSG_STOP */
        break;
    }

    /* every message after "connected" names its stream */

    if (ngx_http_voxanne_stream_msg_get(msg->json, NULL, "streamSid",
                                        NGX_HTTP_VOXANNE_MSG_FIELD_MAX,
                                        &msg->stream_sid)
        != NGX_OK
        || !ngx_http_voxanne_stream_msg_sid(&msg->stream_sid))
    {
        msg->error = "no valid streamSid";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


void
ngx_http_voxanne_stream_msg_free(ngx_http_voxanne_stream_msg_t *msg)
{
    json_decref(msg->json);
    msg->json = NULL;
}


/* object[.name].member, a string of at most max bytes */

ngx_int_t
ngx_http_voxanne_stream_msg_get(json_t *object, const char *name,
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


/* base64 characters only: copied into JSON, they need no escaping */

ngx_uint_t
ngx_http_voxanne_stream_msg_base64(ngx_str_t *s)
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


static ngx_uint_t
ngx_http_voxanne_stream_msg_sid(ngx_str_t *s)
{
    size_t  i;

    if (s->len < 2 || s->len > NGX_HTTP_VOXANNE_MSG_SID_MAX) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        if (!isalnum(s->data[i])) {
            return 0;
        }
    }

    return 1;
}
