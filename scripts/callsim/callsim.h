
/*
 * Copyright (C) Voxanne Edge
 *
 * callsim: a Twilio call simulator.  One process, one libwebsockets
 * context: its event loop runs the media WebSockets, lws timers pace them,
 * and libcurl's multi interface runs the webhooks on the same loop.
 */


#ifndef _CALLSIM_H_INCLUDED_
#define _CALLSIM_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>
#include <libwebsockets.h>

#include "tools.h"


#define CALLSIM_VERSION        "0.1.0"

#define CALLSIM_SID_LEN        34             /* CA/MZ/AC + 32 hex */
#define CALLSIM_FRAME          160            /* 20 ms of mu-law 8000 */
#define CALLSIM_FRAME_USEC     20000
#define CALLSIM_PARAMS_MAX     16             /* <Parameter>s kept */
#define CALLSIM_QUEUE_MAX      256            /* messages waiting to go */
#define CALLSIM_MARKS_MAX      64             /* marks waiting to play */
#define CALLSIM_MARK_NAME_MAX  128
#define CALLSIM_ERRORS_MAX     4              /* error texts kept a call */
#define CALLSIM_ERROR_LEN      160
#define CALLSIM_URL_LEN        2048
#define CALLSIM_EARLY          1000            /* usec: due soon is due */


/* what a call came to: the TwiML answer, or how it failed */

typedef enum {
    CALLSIM_OUTCOME_NONE = 0,
    CALLSIM_OUTCOME_CONNECT,        /* <Connect><Stream> */
    CALLSIM_OUTCOME_REJECT,         /* <Reject/> */
    CALLSIM_OUTCOME_BUSY,           /* <Reject reason="busy"/> */
    CALLSIM_OUTCOME_MESSAGE,        /* <Say> then <Hangup/> */
    CALLSIM_OUTCOME_VOICEMAIL,      /* <Record> */
    CALLSIM_OUTCOME_DIAL,           /* <Dial> */
    CALLSIM_OUTCOME_HANGUP,         /* <Hangup/> or nothing */
    CALLSIM_OUTCOME_REFUSED,        /* the webhook was not answered 2xx */
    CALLSIM_OUTCOME_ERROR           /* no answer, or not TwiML */
} callsim_outcome_e;


typedef enum {
    CALLSIM_CALL_WAITING = 0,       /* before its start in the ramp */
    CALLSIM_CALL_VOICE,             /* the voice webhook */
    CALLSIM_CALL_STREAM,            /* the media WebSocket */
    CALLSIM_CALL_ENDED,             /* the <Connect action> webhook */
    CALLSIM_CALL_DONE
} callsim_call_state_e;


typedef struct callsim_s       callsim_t;
typedef struct callsim_call_s  callsim_call_t;
typedef struct callsim_http_s  callsim_http_t;


typedef struct {
    const char                *name;
    const char                *value;
} callsim_param_t;


/* scheme://host[:port]/path, split; host keeps its IPv6 brackets */

typedef struct {
    char                       scheme[8];
    char                       host[256];
    char                       authority[264];     /* host[:port] as given */
    char                       path[CALLSIM_URL_LEN];
    int                        port;
    unsigned                   tls:1;
} callsim_url_t;


typedef struct {
    callsim_outcome_e          outcome;
    char                      *action;             /* <Connect action> */
    char                      *stream_url;         /* <Stream url> */
    char                      *say;                /* the first <Say> */
    char                      *reason;             /* <Reject reason> */
    char                      *dial;               /* <Dial> number */
    const char                *error;
    char                      *arena;              /* the strings */
    size_t                     nparams;
    callsim_param_t            params[CALLSIM_PARAMS_MAX];
} callsim_twiml_t;


typedef void (*callsim_http_done_pt)(callsim_http_t *h);

struct callsim_http_s {
    CURL                      *easy;
    callsim_call_t            *call;
    callsim_http_done_pt       done;
    struct curl_slist         *headers;
    char                      *form;
    char                      *body;
    size_t                     len;
    size_t                     size;
    long                       status;
    CURLcode                   code;
    lws_usec_t                 start;
    lws_usec_t                 end;
    unsigned                   active:1;           /* in the multi */
    char                       error[CURL_ERROR_SIZE];
};


typedef struct {
    size_t                     len;
    unsigned                   chunk;              /* media: its chunk */
    unsigned                   stop:1;
    unsigned char              data[];             /* LWS_PRE + len */
} callsim_msg_t;


typedef struct {
    lws_usec_t                 due;
    char                       name[CALLSIM_MARK_NAME_MAX];
} callsim_mark_t;


typedef struct {
    double                     p50;
    double                     p99;
    double                     max;
    size_t                     n;
} callsim_dist_t;


struct callsim_call_s {
    callsim_t                 *run;
    unsigned                   index;              /* from 1 */
    callsim_call_state_e       state;
    callsim_outcome_e          outcome;

    char                       call_sid[CALLSIM_SID_LEN + 1];
    char                       stream_sid[CALLSIM_SID_LEN + 1];
    char                       from[32];

    callsim_http_t             http;
    callsim_twiml_t            twiml;
    char                      *answer;             /* the voice TwiML */
    char                      *action_url;         /* a relative one, made
                                                      absolute */
    callsim_url_t              stream;

    lws_usec_t                 next_due;           /* on the run's clock,
                                                      0: nothing */
    lws_sorted_usec_list_t     sul_close;
    lws_sorted_usec_list_t     sul_next;

    struct lws                *wsi;
    char                       signature[32];      /* of the upgrade */

    long                       voice_status;
    long                       ended_status;
    callsim_outcome_e          ended_outcome;
    double                     voice_ms;
    double                     ended_ms;
    double                     handshake_ms;
    lws_usec_t                 ws_start;
    lws_usec_t                 t0;                 /* stream start */

    /* outgoing messages, oldest first */
    callsim_msg_t             *queue[CALLSIM_QUEUE_MAX];
    unsigned                   qhead;
    unsigned                   qlen;

    /* incoming message, reassembled from fragments */
    char                      *rx;
    size_t                     rx_len;
    size_t                     rx_size;

    unsigned                   seq;                /* last sequenceNumber */
    unsigned                   chunks;             /* media messages due */
    unsigned                   queued;             /* media messages queued */
    unsigned                   sent;               /* media messages written */
    unsigned                   echoed;
    unsigned                   unmatched;          /* media not ours */
    unsigned                   duplicates;
    lws_usec_t                *sent_at;            /* by chunk, 0: echoed */
    double                    *rtt;                /* ms, by echo */
    size_t                     nrtt;

    unsigned                   dtmf_sent;
    unsigned                   marks_received;
    unsigned                   marks_echoed;
    unsigned                   clears;
    lws_usec_t                 play_end;           /* received audio plays */
    callsim_mark_t             marks[CALLSIM_MARKS_MAX];
    unsigned                   mhead;
    unsigned                   mlen;

    int                        close_code;         /* -1: none yet */
    char                       close_reason[124];

    unsigned                   nerrors;
    char                       errors[CALLSIM_ERRORS_MAX][CALLSIM_ERROR_LEN];

    unsigned                   connected:1;        /* 101 */
    unsigned                   ws_over:1;
    unsigned                   stop_queued:1;
    unsigned                   stop_sent:1;
    unsigned                   closing:1;          /* we close it */
    unsigned                   ok:1;
};


struct callsim_s {
    /* options */
    const char                *url;
    const char                *public_url;
    const char                *connect;
    const char                *ws_only;            /* --ws-only URL */
    const char                *token;
    const char                *token_file;
    const char                *from;
    const char                *to;
    const char                *account_sid;
    const char                *dtmf;
    const char                *expect;
    unsigned                   calls;
    lws_usec_t                 ramp;
    lws_usec_t                 duration;
    lws_usec_t                 dtmf_at;
    lws_usec_t                 timeout;
    lws_usec_t                 talk;               /* the speech's turns */
    lws_usec_t                 pause;
    lws_usec_t                 talk_at;
    unsigned                   tone:1;
    unsigned                   realtime:1;         /* --realtime-only */
    unsigned                   json:1;
    unsigned                   insecure:1;
    unsigned                   verbose:1;

    /* derived */
    callsim_url_t              gateway;            /* where we connect */
    char                       address[256];       /* its host, bare */
    char                       account[CALLSIM_SID_LEN + 1];
    unsigned char             *audio;
    size_t                     audio_len;
    size_t                     audio_lead;         /* silence first */
    callsim_outcome_e          expected;

    struct lws_context        *context;
    struct lws_vhost          *vhost;
    CURLM                     *multi;
    lws_sorted_usec_list_t     sul_curl;
    tools_clock_t              clock;
    lws_sorted_usec_list_t     sul_deadline;

    callsim_call_t            *call;
    unsigned                   finished;
    unsigned                   done:1;
    unsigned                   timed_out:1;
    unsigned                   exiting:1;
    lws_usec_t                 started;
    lws_usec_t                 elapsed;
};


/* callsim.c */
void callsim_call_error(callsim_call_t *call, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
void callsim_call_next(callsim_call_t *call);

/* callsim_http.c */
int callsim_http_init(callsim_t *run);
void callsim_http_cleanup(callsim_t *run);
int callsim_http_post(callsim_call_t *call, const char *request_url,
    const char *signed_url, const callsim_param_t *params, size_t n,
    callsim_http_done_pt done);
void callsim_http_free(callsim_http_t *h);
int callsim_curl_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len);
int callsim_sign(const char *token, const char *url,
    const callsim_param_t *params, size_t n, char *out);
int callsim_url_parse(const char *url, callsim_url_t *u);

/* callsim_twiml.c */
int callsim_twiml_parse(const char *body, size_t len, callsim_twiml_t *tw);
void callsim_twiml_free(callsim_twiml_t *tw);
const char *callsim_outcome_name(callsim_outcome_e outcome);

/* callsim_media.c */
int callsim_media_init(callsim_t *run);
void callsim_media_exit(callsim_t *run);
int callsim_media_connect(callsim_call_t *call);
void callsim_media_tick(callsim_call_t *call, lws_usec_t now);
void callsim_media_free(callsim_call_t *call);
int callsim_media_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len);
void callsim_media_frame(callsim_t *run, unsigned chunk, unsigned char *out);
void callsim_hex_sid(char *out, const char *prefix);


#endif /* _CALLSIM_H_INCLUDED_ */
