
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_RT_MSG_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_RT_MSG_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <jansson.h>


/*
 * An OpenAI Realtime (GA) server event (protocols.md, section 5), read
 * into the fields the bridge uses.  A pure codec (libc and jansson, no
 * I/O) so that unit tests and fuzzers drive it directly; the strings point
 * into the parsed JSON, which ngx_http_voxanne_rt_msg_free() releases.
 *
 * Every string the bridge copies into JSON of its own is checked here for
 * the characters it may hold, so it is copied without escaping: audio is
 * base64, ids are letters, digits, "_", "-" and ".".  An error's type and code
 * are such tokens too; its message is free text of at most
 * NGX_HTTP_VOXANNE_RT_TEXT_MAX bytes, for the log, which must not print
 * it raw.  An error is fatal when it ends the session (the provider's
 * session cap, "session_expired") or refuses the key (authentication,
 * permission, quota); the others are about one client event (a truncate
 * past the audio, a cancel with no response on) or a server error the
 * session survives (the provider closes when it does not), and the call
 * goes on.  A turn's transcript is free text of at most
 * NGX_HTTP_VOXANNE_RT_TURN_MAX bytes, never logged (what callers say is
 * theirs), and passed on only through jansson.
 */


#define NGX_HTTP_VOXANNE_RT_ID_MAX    64
#define NGX_HTTP_VOXANNE_RT_TEXT_MAX  256
#define NGX_HTTP_VOXANNE_RT_TURN_MAX  8192     /* a turn's transcript */


typedef enum {
    NGX_HTTP_VOXANNE_RT_AUDIO_DELTA = 0,  /* response.output_audio.delta */
    NGX_HTTP_VOXANNE_RT_AUDIO_DONE,       /* response.output_audio.done */
    NGX_HTTP_VOXANNE_RT_SPEECH_STARTED,   /* input_audio_buffer.speech_... */
    NGX_HTTP_VOXANNE_RT_FUNCTION_CALL,    /* ...function_call_arguments.done */
    NGX_HTTP_VOXANNE_RT_RESPONSE_CREATED, /* response.created */
    NGX_HTTP_VOXANNE_RT_RESPONSE_DONE,    /* response.done */
    NGX_HTTP_VOXANNE_RT_SESSION,          /* session.created, .updated */
    NGX_HTTP_VOXANNE_RT_ERROR,            /* error */
    NGX_HTTP_VOXANNE_RT_CALLER_SAID,      /* ...transcription.completed */
    NGX_HTTP_VOXANNE_RT_AGENT_SAID,       /* ...audio_transcript.done */
    NGX_HTTP_VOXANNE_RT_OTHER
} ngx_http_voxanne_rt_event_e;


typedef struct {
    ngx_uint_t   event;
    ngx_str_t    type;          /* as sent */
    ngx_str_t    delta;         /* audio: base64 */
    ngx_str_t    item_id;       /* audio, speech started, function call */
    ngx_str_t    call_id;       /* function call */
    ngx_str_t    name;
    ngx_str_t    arguments;     /* a JSON text, as a string */
    ngx_str_t    status;        /* response.done: response.status */
    ngx_str_t    transcript;    /* a turn's text: free text, for jansson */
    ngx_str_t    error_type;    /* error: error.type, .code, .message, */
    ngx_str_t    error_code;    /* .event_id (of the client event at */
    ngx_str_t    error_message; /* fault) */
    ngx_str_t    error_event;
    ngx_uint_t   fatal;         /* error: the session cannot go on */
    const char  *error;         /* why an event was refused */
    json_t      *json;
} ngx_http_voxanne_rt_msg_t;


ngx_int_t ngx_http_voxanne_rt_msg_parse(ngx_http_voxanne_rt_msg_t *msg,
    u_char *data, size_t len);
void ngx_http_voxanne_rt_msg_free(ngx_http_voxanne_rt_msg_t *msg);


#endif /* _NGX_HTTP_VOXANNE_RT_MSG_H_INCLUDED_ */
