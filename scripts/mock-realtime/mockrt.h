
/*
 * Copyright (C) Voxanne Edge
 *
 * mock-realtime: a stand-in for the OpenAI Realtime API (GA) over a
 * WebSocket, for tests, benchmarks and the demo agent.  One process, one
 * libwebsockets context; every session is independent.
 */


#ifndef _MOCKRT_H_INCLUDED_
#define _MOCKRT_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "tools.h"



#define MOCKRT_ID_LEN           40            /* "event_" + 22, with room */
#define MOCKRT_WINDOW_MS        20            /* VAD analysis window */
#define MOCKRT_TX_MAX           (32 * 1024 * 1024)    /* bytes queued */
#define MOCKRT_AUDIO_MAX        (15 * 1024 * 1024)    /* an append, decoded */
#define MOCKRT_ITEMS_MAX        4096          /* items a session keeps */
#define MOCKRT_TOOLS_MAX        32
#define MOCKRT_TEXTS_MAX        16            /* --reply, --transcript */
#define MOCKRT_EARLY            1000          /* usec: due soon is due */


typedef enum {
    MOCKRT_PCM = 0,                  /* audio/pcm: 16-bit LE, 24 kHz */
    MOCKRT_PCMU,                     /* audio/pcmu: G.711 mu-law, 8 kHz */
    MOCKRT_PCMA                      /* audio/pcma: G.711 A-law, 8 kHz */
} mockrt_format_e;


typedef enum {
    MOCKRT_TURN_NONE = 0,
    MOCKRT_TURN_SERVER_VAD,
    MOCKRT_TURN_SEMANTIC_VAD
} mockrt_turn_e;


typedef enum {
    MOCKRT_RESP_AUDIO = 0,           /* a spoken reply, paced */
    MOCKRT_RESP_FUNCTION,            /* a function_call item */
    MOCKRT_RESP_ECHO                 /* --echo: the caller's audio back */
} mockrt_resp_e;


typedef struct mockrt_s          mockrt_t;
typedef struct mockrt_session_s  mockrt_session_t;


/* a trigger -> tool mapping: a DTMF key ("caller pressed 9") or a phrase */

typedef struct {
    char                      *trigger;
    char                      *name;
    char                      *arguments;          /* a JSON text */
    unsigned                   digit:1;
} mockrt_tool_t;


typedef struct mockrt_msg_s  mockrt_msg_t;

struct mockrt_msg_s {
    mockrt_msg_t              *next;
    size_t                     len;
    unsigned char              data[];             /* LWS_PRE + len */
};


typedef struct {
    char                       id[MOCKRT_ID_LEN];
    char                       call_id[MOCKRT_ID_LEN];
    json_t                    *json;               /* as last sent */
    unsigned                   type;               /* MOCKRT_ITEM_* */
    size_t                     audio_bytes;        /* assistant audio sent */
    unsigned                   bytes_per_ms;       /* of that audio */
    unsigned                   assistant:1;
} mockrt_item_t;

#define MOCKRT_ITEM_MESSAGE      0
#define MOCKRT_ITEM_CALL         1
#define MOCKRT_ITEM_CALL_OUTPUT  2


typedef struct {
    mockrt_resp_e              kind;
    mockrt_format_e            format;             /* of its audio */
    char                       id[MOCKRT_ID_LEN];
    char                       item_id[MOCKRT_ID_LEN];
    char                       call_id[MOCKRT_ID_LEN];
    json_t                    *params;             /* response.create's */
    unsigned char             *audio;              /* in the output format */
    size_t                     audio_len;
    size_t                     audio_pos;
    size_t                     chunk;              /* bytes a delta */
    char                      *transcript;
    size_t                     words;              /* in the transcript */
    size_t                     words_sent;
    size_t                     text_sent;          /* bytes of it sent */
    unsigned                   ticks;              /* deltas sent */
    unsigned                   ticks_total;
    lws_usec_t                 started;
    const mockrt_tool_t       *tool;
    unsigned                   in_conversation:1;
} mockrt_response_t;


struct mockrt_session_s {
    mockrt_t                  *mock;
    struct lws                *wsi;
    unsigned                   number;             /* from 1 */

    /* the message being read, reassembled from fragments */
    char                      *rx;
    size_t                     rx_len;
    size_t                     rx_size;

    /* messages to send, oldest first */
    mockrt_msg_t              *tx_head;
    mockrt_msg_t              *tx_tail;
    size_t                     tx_bytes;

    json_t                    *config;             /* the effective session */
    char                       conversation[MOCKRT_ID_LEN];
    mockrt_format_e            in_format;
    mockrt_format_e            out_format;
    mockrt_turn_e              turn;
    double                     vad_rms;            /* the threshold */
    unsigned                   prefix_ms;
    unsigned                   silence_ms;
    unsigned                   create_response:1;
    unsigned                   interrupt_response:1;
    unsigned                   transcription:1;

    /* the input audio buffer and the VAD */
    uint64_t                   in_samples;         /* since the start */
    uint64_t                   buffer_start;       /* sample of the buffer */
    int                        odd_byte;           /* pcm: -1 or a byte */
    double                     window_sum;         /* of squares */
    unsigned                   window_n;
    unsigned                   loud_ms;
    unsigned                   quiet_ms;
    char                       speech_item[MOCKRT_ID_LEN];
    unsigned                   speaking:1;

    /* the conversation */
    mockrt_item_t             *items;
    size_t                     nitems;
    size_t                     items_size;
    const mockrt_tool_t       *trigger;            /* pending, from text */
    char                      *tool_output;        /* pending */
    unsigned                   responses;          /* done, any status */
    unsigned                   replies;            /* --reply used */
    unsigned                   transcripts;        /* --transcript used */
    unsigned                   audio_out:1;        /* voice is fixed */

    mockrt_response_t         *response;           /* in progress */

    /* the next delta of a paced response, on the mock's clock */
    lws_usec_t                 due;
    mockrt_session_t          *pace_prev;
    mockrt_session_t          *pace_next;

    lws_sorted_usec_list_t     sul_drop;
    lws_sorted_usec_list_t     sul_error;
    lws_sorted_usec_list_t     sul_close;
    lws_sorted_usec_list_t     sul_cap;
    lws_sorted_usec_list_t     sul_mute;

    int                        close_code;         /* ours, when closing */
    char                       close_reason[124];
    unsigned                   pacing:1;           /* on the clock's list */
    unsigned                   faulty:1;           /* fault modes apply */
    unsigned                   closing:1;
    unsigned                   dropped:1;
};


typedef struct mockrt_accept_s  mockrt_accept_t;

struct mockrt_accept_s {
    lws_sorted_usec_list_t     sul;
    mockrt_t                  *mock;
    mockrt_accept_t           *next;
    int                        fd;
    unsigned                   number;
};


struct mockrt_s {
    /* options */
    const char                *address;
    int                        port;
    const char                *cert;
    const char                *key;
    char                      *api_key;
    const char                *model;
    const char                *greeting;
    const char                *replies[MOCKRT_TEXTS_MAX];
    unsigned                   nreplies;
    const char                *transcripts[MOCKRT_TEXTS_MAX];
    unsigned                   ntranscripts;
    const char                *tool_reply;
    mockrt_tool_t              tools[MOCKRT_TOOLS_MAX];
    unsigned                   ntools;
    unsigned char             *audio;              /* --audio, mu-law */
    size_t                     audio_len;
    unsigned                   tone_hz;
    unsigned                   reply_ms;           /* 0: by the words */
    unsigned                   word_ms;
    unsigned                   delta_ms;
    double                     vad_rms;
    unsigned                   vad_start_ms;
    size_t                     max_message;
    int                        refuse;             /* an HTTP status */
    unsigned                   delay_accept_ms;
    unsigned                   drop_after_ms;
    unsigned                   error_after_ms;
    const char                *error_code;         /* NULL: server_error */
    unsigned                   close_after_ms;
    int                        close_code;
    unsigned                   session_cap_ms;
    unsigned                   mute_after_ms;
    unsigned                   fault_first;        /* 0: every session */
    int                        log_fd;
    unsigned                   echo:1;
    unsigned                   burst:1;
    unsigned                   verbose:1;

    /* run time */
    struct lws_context        *context;
    struct lws_vhost          *vhost;
    int                        listen_fd;
    mockrt_accept_t           *accepts;            /* delayed */
    tools_clock_t              clock;
    mockrt_session_t          *pacing;             /* sessions with a due */
    unsigned                   connections;        /* accepted */
    lws_usec_t                 started;
    uint64_t                   rand;
};


/* mockrt.c */
void mockrt_id(mockrt_t *mock, char *out, const char *prefix);
void mockrt_pace(mockrt_session_t *s, lws_usec_t due);
void mockrt_unpace(mockrt_session_t *s);
void mockrt_log(mockrt_t *mock, unsigned conn, const char *dir,
    json_t *fields);

/* mockrt_ws.c */
int mockrt_ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len);
json_t *mockrt_event(mockrt_session_t *s, const char *type);
void mockrt_send(mockrt_session_t *s, json_t *event);
void mockrt_send_text(mockrt_session_t *s, const char *text, size_t len);
void mockrt_error(mockrt_session_t *s, const char *type, const char *code,
    const char *param, const char *client_event, const char *fmt, ...)
    __attribute__ ((format (printf, 6, 7)));
void mockrt_close(mockrt_session_t *s, int code, const char *reason);

/* mockrt_check.c */
int mockrt_check_session(mockrt_session_t *s, const char *client_event,
    json_t *session);
int mockrt_check_response(mockrt_session_t *s, const char *client_event,
    json_t *response);
int mockrt_check_item(mockrt_session_t *s, const char *client_event,
    json_t *item);
int mockrt_check_truncate(mockrt_session_t *s, const char *client_event,
    json_t *ev);
int mockrt_check_string(mockrt_session_t *s, const char *client_event,
    json_t *ev, const char *key);

/* mockrt_session.c */
mockrt_format_e mockrt_format_of(json_t *format);
void mockrt_session_start(mockrt_session_t *s, const char *model);
void mockrt_session_free(mockrt_session_t *s);
void mockrt_session_event(mockrt_session_t *s, const char *data, size_t len);
mockrt_item_t *mockrt_item_add(mockrt_session_t *s, const char *id,
    unsigned type);
mockrt_item_t *mockrt_item_find(mockrt_session_t *s, const char *id);
json_t *mockrt_previous(mockrt_session_t *s);
void mockrt_item_send(mockrt_session_t *s, const char *type, json_t *item);
void mockrt_trigger(mockrt_session_t *s, const char *text);

/* mockrt_input.c */
void mockrt_input_append(mockrt_session_t *s, json_t *ev,
    const char *client_event);
void mockrt_input_commit(mockrt_session_t *s, const char *client_event);
void mockrt_input_clear(mockrt_session_t *s);
void mockrt_input_reset_vad(mockrt_session_t *s);

/* mockrt_response.c */
void mockrt_response_create(mockrt_session_t *s, json_t *params,
    const char *client_event);
void mockrt_response_cancel(mockrt_session_t *s, const char *reason);
void mockrt_response_free(mockrt_session_t *s);
void mockrt_response_pace(mockrt_session_t *s);
void mockrt_echo_append(mockrt_session_t *s, const char *b64, size_t len,
    size_t bytes);

/* mockrt_audio.c */
void mockrt_audio_init(void);
int mockrt_sample(mockrt_format_e format, const unsigned char *p);
unsigned char mockrt_alaw(int sample);
unsigned mockrt_rate(mockrt_format_e format);
unsigned mockrt_bytes_per_ms(mockrt_format_e format);
unsigned char *mockrt_audio_render(mockrt_t *mock, mockrt_format_e format,
    size_t words, size_t *len);
ssize_t mockrt_base64_decoded_len(const char *in, size_t len);
size_t mockrt_base64_decode(const char *in, size_t len, unsigned char *out);
size_t mockrt_base64_encode(const unsigned char *in, size_t len, char *out);


#endif /* _MOCKRT_H_INCLUDED_ */
