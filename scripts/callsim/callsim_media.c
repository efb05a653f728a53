
/*
 * Copyright (C) Voxanne Edge
 */


/*
 * The Media Streams side of a call, as Twilio plays it: a signed upgrade,
 * "connected", "start", a "media" message every 20 ms (chunk number in its
 * first eight bytes, so that an echo is matched by content), DTMF, "stop",
 * then the gateway's close.  Marks from the gateway come back once the
 * audio it sent before them has played at real-time pace, or at once on
 * "clear".
 */


#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "callsim.h"


#define CALLSIM_RX_MAX         (1024 * 1024)
#define CALLSIM_DTMF_GAP       250000         /* usec between digits */
#define CALLSIM_CLOSE_WAIT     5000000        /* usec for a close after stop */
#define CALLSIM_LINGER         500000         /* usec for the last echoes */
#define CALLSIM_TONE           8000           /* a second of the tone */
#define CALLSIM_SILENCE        0xff           /* mu-law 0 */
#define CALLSIM_TAG            8              /* bytes of the chunk number */
#define CALLSIM_RATE           8000
#define CALLSIM_FADE           160            /* 20 ms in and out of a talk */

#define CALLSIM_ECHOED         ((lws_usec_t) -1)


static void callsim_media_close_wait(lws_sorted_usec_list_t *sul);
static void callsim_media_linger(lws_sorted_usec_list_t *sul);
static void callsim_media_receive(callsim_call_t *call, const char *data,
    size_t len);
static void callsim_media_realtime(callsim_call_t *call, json_t *msg,
    lws_usec_t now);
static void callsim_media_echoed(callsim_call_t *call, const char *payload,
    lws_usec_t now);
static void callsim_media_mark(callsim_call_t *call, const char *name);
static int callsim_media_start(callsim_call_t *call);
static int callsim_media_json(callsim_call_t *call, json_t *msg);
static int callsim_media_send(callsim_call_t *call, const char *data,
    size_t len, unsigned chunk, unsigned stop);
static void callsim_media_ended(callsim_call_t *call);
static unsigned callsim_media_chunk(const unsigned char *frame);
static unsigned char *callsim_media_speech(callsim_t *run, size_t *len);


static unsigned char  callsim_tone[CALLSIM_TONE];


/*
 * the audio: speech-like talk and pauses (the default), a 440 Hz tone at
 * -12 dBFS (--tone), or a raw mu-law file (--audio)
 */

int
callsim_media_init(callsim_t *run)
{
    int      i;
    double   s;

    if (run->audio != NULL) {
        return 0;
    }

    if (run->tone) {
        for (i = 0; i < CALLSIM_TONE; i++) {
            s = 8192.0 * sin(2.0 * M_PI * 440.0 * i / CALLSIM_RATE);
            callsim_tone[i] = tools_ulaw((int) lrint(s));
        }

        run->audio = callsim_tone;
        run->audio_len = CALLSIM_TONE;

        return 0;
    }

    run->audio = callsim_media_speech(run, &run->audio_len);
    if (run->audio == NULL) {
        fprintf(stderr, "callsim: no memory for the audio\n");
        return -1;
    }

    run->audio_lead = (size_t) (run->talk_at * CALLSIM_RATE
                                / LWS_US_PER_SEC);

    return 0;
}


void
callsim_media_exit(callsim_t *run)
{
    if (run->audio != callsim_tone) {
        free(run->audio);
    }

    run->audio = NULL;
}


/*
 * The 160 bytes of a chunk: audio_lead bytes of silence, then the audio,
 * looped; the chunk number in front, a nibble a byte as the quietest
 * mu-law values (0xf0 to 0xff: 0 to 120 of 32767), so that silence stays
 * silent for a VAD.
 */

void
callsim_media_frame(callsim_t *run, unsigned chunk, unsigned char *out)
{
    size_t  i, pos;

    pos = (size_t) (chunk - 1) * CALLSIM_FRAME;

    for (i = 0; i < CALLSIM_FRAME; i++, pos++) {
        out[i] = (pos < run->audio_lead)
                 ? CALLSIM_SILENCE
                 : run->audio[(pos - run->audio_lead) % run->audio_len];
    }

    for (i = 0; i < CALLSIM_TAG; i++) {
        out[i] = (unsigned char) (0xf0 | ((chunk >> (28 - 4 * i)) & 0x0f));
    }
}


/* the chunk number of a frame, 0 when it carries none */

static unsigned
callsim_media_chunk(const unsigned char *frame)
{
    size_t    i;
    unsigned  chunk;

    chunk = 0;

    for (i = 0; i < CALLSIM_TAG; i++) {
        if ((frame[i] & 0xf0) != 0xf0) {
            return 0;
        }

        chunk = (chunk << 4) | (frame[i] & 0x0f);
    }

    return chunk;
}


/*
 * Talk then a pause, looped: a voice at about 120 Hz (six harmonics, a
 * slow intonation), in syllables about 3.5 a second, faded in and out,
 * peaking at -12 dBFS; the pause is digital silence.
 */

static unsigned char *
callsim_media_speech(callsim_t *run, size_t *len)
{
    int             h;
    double          t, f0, phase, env, fade, s;
    size_t          i, talk, n;
    unsigned char  *audio;

    static const double  amp[] = { 1.0, 0.7, 0.5, 0.35, 0.25, 0.15 };

    talk = (size_t) (run->talk * CALLSIM_RATE / LWS_US_PER_SEC);
    n = talk + (size_t) (run->pause * CALLSIM_RATE / LWS_US_PER_SEC);

    if (n < CALLSIM_FRAME) {
        n = CALLSIM_FRAME;
    }

    audio = malloc(n);
    if (audio == NULL) {
        return NULL;
    }

    memset(audio, CALLSIM_SILENCE, n);

    phase = 0.0;

    for (i = 0; i < talk; i++) {
        t = (double) i / CALLSIM_RATE;
        f0 = 120.0 + 20.0 * sin(2.0 * M_PI * 0.7 * t);
        phase += 2.0 * M_PI * f0 / CALLSIM_RATE;

        s = 0.0;

        for (h = 0; h < 6; h++) {
            s += amp[h] * sin((h + 1) * phase);
        }

        env = 0.3 + 0.7 * pow(sin(M_PI * 3.5 * t), 2.0);

        fade = 1.0;

        if (i < CALLSIM_FADE) {
            fade = (double) i / CALLSIM_FADE;

        } else if (talk - i < CALLSIM_FADE) {
            fade = (double) (talk - i) / CALLSIM_FADE;
        }

        audio[i] = tools_ulaw((int) lrint(8192.0 / 2.95 * s * env * fade));
    }

    *len = n;

    return audio;
}


/* prefix + 32 lowercase hex digits */

void
callsim_hex_sid(char *out, const char *prefix)
{
    size_t         i, n;
    unsigned char  rnd[16];

    static const char  hex[] = "0123456789abcdef";

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        for (i = 0; i < sizeof(rnd); i++) {
            rnd[i] = (unsigned char) random();
        }
    }

    n = strlen(prefix);
    memcpy(out, prefix, n);

    for (i = 0; i < sizeof(rnd); i++) {
        out[n + 2 * i] = hex[rnd[i] >> 4];
        out[n + 2 * i + 1] = hex[rnd[i] & 0xf];
    }

    out[n + 32] = '\0';
}


int
callsim_media_connect(callsim_call_t *call)
{
    callsim_t                         *run;
    struct lws_client_connect_info     i;

    run = call->run;

    if (callsim_url_parse(call->twiml.stream_url, &call->stream) != 0
        || (strcmp(call->stream.scheme, "ws") != 0
            && strcmp(call->stream.scheme, "wss") != 0))
    {
        callsim_call_error(call, "the stream URL \"%s\" is not ws:// or "
                           "wss://", call->twiml.stream_url);
        return -1;
    }

    /* Twilio signs the URL of the TwiML, with no parameters */

    if (callsim_sign(run->token, call->twiml.stream_url, NULL, 0,
                     call->signature)
        != 0)
    {
        callsim_call_error(call, "HMAC-SHA1 failed");
        return -1;
    }

    call->chunks = (unsigned) (run->duration / CALLSIM_FRAME_USEC);

    call->sent_at = calloc(call->chunks + 1, sizeof(lws_usec_t));
    call->rtt = calloc(call->chunks + 1, sizeof(double));

    if (call->sent_at == NULL || call->rtt == NULL) {
        callsim_call_error(call, "out of memory");
        return -1;
    }

    callsim_hex_sid(call->stream_sid, "MZ");

    memset(&i, 0, sizeof(struct lws_client_connect_info));

    i.context = run->context;
    i.vhost = run->vhost;
    i.address = run->address;
    i.port = run->gateway.port;
    i.path = call->stream.path;
    i.host = call->stream.authority;
    i.origin = call->stream.authority;
    i.protocol = NULL;                    /* no Sec-WebSocket-Protocol */
    i.local_protocol_name = "callsim-media";
    i.ietf_version_or_minus_one = -1;
    i.opaque_user_data = call;
    i.pwsi = &call->wsi;

    if (run->gateway.tls) {
        i.ssl_connection = LCCSCF_USE_SSL;

        if (run->insecure) {
            i.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED
                                | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK
                                | LCCSCF_ALLOW_EXPIRED;
        }
    }

    call->close_code = -1;
    call->ws_start = lws_now_usecs();

    if (lws_client_connect_via_info(&i) == NULL) {
        if (!call->ws_over) {
            callsim_call_error(call, "stream: cannot connect to %s:%d",
                               run->gateway.host, run->gateway.port);
        }

        call->wsi = NULL;
        return -1;
    }

    return 0;
}


void
callsim_media_free(callsim_call_t *call)
{
    call->next_due = 0;
    lws_sul_cancel(&call->sul_close);

    while (call->qlen) {
        free(call->queue[call->qhead]);
        call->qhead = (call->qhead + 1) % CALLSIM_QUEUE_MAX;
        call->qlen--;
    }

    free(call->rx);
    call->rx = NULL;
    call->rx_size = 0;

    free(call->sent_at);
    call->sent_at = NULL;
}


int
callsim_media_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
    int              n, code;
    char            *rx;
    size_t           size;
    lws_usec_t       now;
    unsigned char  **p, *end, *name;
    callsim_msg_t   *msg;
    callsim_call_t  *call;

    call = lws_get_opaque_user_data(wsi);

    if (call == NULL) {
        return 0;
    }

    switch (reason) {

    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:

        p = (unsigned char **) in;
        end = *p + len;

        name = (unsigned char *) "x-twilio-signature:";

        if (lws_add_http_header_by_name(wsi, name,
                                        (unsigned char *) call->signature,
                                        (int) strlen(call->signature), p, end))
        {
            return -1;
        }

        return 0;

    case LWS_CALLBACK_CLIENT_ESTABLISHED:

        call->connected = 1;
        call->handshake_ms = (lws_now_usecs() - call->ws_start) / 1000.0;

        if (callsim_media_start(call) != 0) {
            return -1;
        }

        return 0;

    case LWS_CALLBACK_CLIENT_RECEIVE:

        if (lws_frame_is_binary(wsi)) {
            callsim_call_error(call, "stream: a binary frame from the "
                               "gateway");
            call->closing = 1;
            lws_callback_on_writable(wsi);
            return 0;
        }

        if (lws_is_first_fragment(wsi)) {
            call->rx_len = 0;
        }

        if (call->rx_len + len + 1 > call->rx_size) {
            size = call->rx_size ? call->rx_size : 4096;

            while (size < call->rx_len + len + 1) {
                size *= 2;
            }

            if (size > CALLSIM_RX_MAX) {
                callsim_call_error(call, "stream: a message over %d bytes",
                                   CALLSIM_RX_MAX);
                return -1;
            }

            rx = realloc(call->rx, size);
            if (rx == NULL) {
                callsim_call_error(call, "out of memory");
                return -1;
            }

            call->rx = rx;
            call->rx_size = size;
        }

        memcpy(call->rx + call->rx_len, in, len);
        call->rx_len += len;

        if (lws_is_final_fragment(wsi)
            && lws_remaining_packet_payload(wsi) == 0)
        {
            callsim_media_receive(call, call->rx, call->rx_len);
            call->rx_len = 0;
        }

        return 0;

    case LWS_CALLBACK_CLIENT_WRITEABLE:

        if (call->closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }

        if (call->qlen == 0) {
            return 0;
        }

        msg = call->queue[call->qhead];
        call->qhead = (call->qhead + 1) % CALLSIM_QUEUE_MAX;
        call->qlen--;

        n = lws_write(wsi, msg->data + LWS_PRE, msg->len, LWS_WRITE_TEXT);

        if (n < (int) msg->len) {
            free(msg);
            callsim_call_error(call, "stream: write failed");
            return -1;
        }

        now = lws_now_usecs();

        if (msg->chunk) {
            call->sent_at[msg->chunk] = now;
            call->sent++;
        }

        if (msg->stop) {
            call->stop_sent = 1;
            lws_sul_schedule(call->run->context, 0, &call->sul_close,
                             callsim_media_close_wait, CALLSIM_CLOSE_WAIT);
        }

        free(msg);

        if (call->qlen) {
            lws_callback_on_writable(wsi);
        }

        return 0;

    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:

        code = 1005;                            /* no status */

        if (len >= 2) {
            code = (((unsigned char *) in)[0] << 8)
                   | ((unsigned char *) in)[1];

            n = (int) (len - 2 < sizeof(call->close_reason) - 1
                       ? len - 2 : sizeof(call->close_reason) - 1);
            memcpy(call->close_reason, (char *) in + 2, n);
            call->close_reason[n] = '\0';
        }

        call->close_code = code;

        return 0;

    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:

        code = lws_http_client_http_response(wsi);

        if (code) {
            callsim_call_error(call, "stream: HTTP %d (%s)", code,
                               in ? (char *) in : "no reason");

        } else {
            callsim_call_error(call, "stream: %s",
                               in ? (char *) in : "connection failed");
        }

        call->wsi = NULL;
        callsim_media_ended(call);

        return 0;

    case LWS_CALLBACK_CLIENT_CLOSED:

        call->wsi = NULL;

        if (call->close_code < 0) {
            call->close_code = 1006;

            if (!call->closing && !call->run->exiting) {
                callsim_call_error(call, "stream: the connection ended "
                                   "without a close frame");
            }
        }

        callsim_media_ended(call);

        return 0;

    default:
        return 0;
    }
}


static void
callsim_media_ended(callsim_call_t *call)
{
    if (call->ws_over) {
        return;
    }

    call->ws_over = 1;
    call->next_due = 0;

    lws_sul_cancel(&call->sul_close);

    callsim_call_next(call);
}


/* "connected", "start", then the media clock */

static int
callsim_media_start(callsim_call_t *call)
{
    int        rc;
    size_t     i;
    json_t    *msg, *params;
    callsim_t  *run;

    static const char  connected[] =
        "{\"event\":\"connected\",\"protocol\":\"Call\","
        "\"version\":\"1.0.0\"}";

    run = call->run;

    if (run->realtime) {
        goto clock;
    }

    if (callsim_media_send(call, connected, sizeof(connected) - 1, 0, 0)
        != 0)
    {
        return -1;
    }

    params = json_object();

    for (i = 0; i < call->twiml.nparams; i++) {
        json_object_set_new(params, call->twiml.params[i].name,
                            json_string(call->twiml.params[i].value));
    }

    msg = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:[s], s:o, "
                    "s:{s:s, s:i, s:i}}, s:s}",
                    "event", "start",
                    "sequenceNumber", "1",
                    "start",
                        "accountSid", run->account,
                        "streamSid", call->stream_sid,
                        "callSid", call->call_sid,
                        "tracks", "inbound",
                        "customParameters", params,
                        "mediaFormat",
                            "encoding", "audio/x-mulaw",
                            "sampleRate", 8000,
                            "channels", 1,
                    "streamSid", call->stream_sid);

    if (msg == NULL) {
        callsim_call_error(call, "cannot build \"start\"");
        return -1;
    }

    call->seq = 1;

    rc = callsim_media_json(call, msg);
    json_decref(msg);

    if (rc != 0) {
        return -1;
    }

clock:

    call->t0 = lws_now_usecs();
    call->play_end = call->t0;
    call->next_due = call->t0;

    tools_clock_arm(&run->clock, call->t0);

    return 0;
}


/*
 * What is due, on the run's clock: media every 20 ms, DTMF digits, marks
 * whose audio has played, then "stop"; and when the call is due next.
 */

void
callsim_media_tick(callsim_call_t *call, lws_usec_t now)
{
    int              n;
    char             buf[512], b64[256];
    size_t           ndtmf;
    callsim_t       *run;
    lws_usec_t       elapsed, next, due;
    unsigned char    frame[CALLSIM_FRAME];

    run = call->run;

    call->next_due = 0;

    if (call->wsi == NULL || call->stop_queued || call->closing) {
        return;
    }

    while (call->mlen && call->marks[call->mhead].due <= now + CALLSIM_EARLY)
    {
        callsim_media_mark(call, call->marks[call->mhead].name);
        call->mhead = (call->mhead + 1) % CALLSIM_MARKS_MAX;
        call->mlen--;
    }

    elapsed = now + CALLSIM_EARLY - call->t0;

    /* chunk k is due at (k - 1) * 20 ms; late ones go out at once */

    while (call->queued < call->chunks
           && (lws_usec_t) call->queued * CALLSIM_FRAME_USEC <= elapsed)
    {
        call->queued++;

        callsim_media_frame(run, call->queued, frame);
        EVP_EncodeBlock((unsigned char *) b64, frame, CALLSIM_FRAME);

        if (run->realtime) {
            n = snprintf(buf, sizeof(buf),
                         "{\"type\":\"input_audio_buffer.append\","
                         "\"audio\":\"%s\"}", b64);

            if (callsim_media_send(call, buf, n, call->queued, 0) != 0) {
                return;
            }

            continue;
        }

        n = snprintf(buf, sizeof(buf),
                     "{\"event\":\"media\",\"sequenceNumber\":\"%u\","
                     "\"media\":{\"track\":\"inbound\",\"chunk\":\"%u\","
                     "\"timestamp\":\"%u\",\"payload\":\"%s\"},"
                     "\"streamSid\":\"%s\"}",
                     ++call->seq, call->queued,
                     (call->queued - 1) * (CALLSIM_FRAME_USEC / 1000), b64,
                     call->stream_sid);

        if (callsim_media_send(call, buf, n, call->queued, 0) != 0) {
            return;
        }
    }

    ndtmf = (run->dtmf && !run->realtime) ? strlen(run->dtmf) : 0;

    while (call->dtmf_sent < ndtmf
           && run->dtmf_at + call->dtmf_sent * CALLSIM_DTMF_GAP <= elapsed
           && run->dtmf_at < run->duration)
    {
        n = snprintf(buf, sizeof(buf),
                     "{\"event\":\"dtmf\",\"streamSid\":\"%s\","
                     "\"sequenceNumber\":\"%u\",\"dtmf\":{\"track\":"
                     "\"inbound_track\",\"digit\":\"%c\"}}",
                     call->stream_sid, ++call->seq,
                     run->dtmf[call->dtmf_sent]);

        call->dtmf_sent++;

        if (callsim_media_send(call, buf, n, 0, 0) != 0) {
            return;
        }
    }

    if (call->queued == call->chunks && elapsed >= run->duration
        && run->realtime)
    {
        /* no "stop" in the Realtime API: the last echoes, then our close */

        call->stop_queued = 1;
        lws_sul_schedule(run->context, 0, &call->sul_close,
                         callsim_media_linger, CALLSIM_LINGER);
        return;
    }

    if (call->queued == call->chunks && elapsed >= run->duration) {
        n = snprintf(buf, sizeof(buf),
                     "{\"event\":\"stop\",\"sequenceNumber\":\"%u\","
                     "\"streamSid\":\"%s\",\"stop\":{\"accountSid\":\"%s\","
                     "\"callSid\":\"%s\"}}",
                     ++call->seq, call->stream_sid, run->account,
                     call->call_sid);

        call->stop_queued = 1;

        (void) callsim_media_send(call, buf, n, 0, 1);
        return;
    }

    next = run->duration;

    if (call->queued < call->chunks) {
        due = (lws_usec_t) call->queued * CALLSIM_FRAME_USEC;
        next = due < next ? due : next;
    }

    if (call->dtmf_sent < ndtmf && run->dtmf_at < run->duration) {
        due = run->dtmf_at + call->dtmf_sent * CALLSIM_DTMF_GAP;
        next = due < next ? due : next;
    }

    call->next_due = call->t0 + next;

    if (call->mlen && call->marks[call->mhead].due < call->next_due) {
        call->next_due = call->marks[call->mhead].due;
    }
}


static int
callsim_media_json(callsim_call_t *call, json_t *msg)
{
    int    rc;
    char  *s;

    s = json_dumps(msg, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s == NULL) {
        callsim_call_error(call, "out of memory");
        return -1;
    }

    rc = callsim_media_send(call, s, strlen(s), 0, 0);
    free(s);

    return rc;
}


static int
callsim_media_send(callsim_call_t *call, const char *data, size_t len,
    unsigned chunk, unsigned stop)
{
    callsim_msg_t  *msg;

    if (call->qlen == CALLSIM_QUEUE_MAX) {
        callsim_call_error(call, "stream: %d messages wait to be sent, the "
                           "gateway does not read", CALLSIM_QUEUE_MAX);
        call->closing = 1;
        lws_callback_on_writable(call->wsi);
        return -1;
    }

    msg = malloc(sizeof(callsim_msg_t) + LWS_PRE + len);
    if (msg == NULL) {
        callsim_call_error(call, "out of memory");
        return -1;
    }

    msg->len = len;
    msg->chunk = chunk;
    msg->stop = stop;
    memcpy(msg->data + LWS_PRE, data, len);

    call->queue[(call->qhead + call->qlen) % CALLSIM_QUEUE_MAX] = msg;
    call->qlen++;

    lws_callback_on_writable(call->wsi);

    return 0;
}


static void
callsim_media_receive(callsim_call_t *call, const char *data, size_t len)
{
    json_t          *msg;
    const char      *event, *sid, *name;
    lws_usec_t       now;
    json_error_t     err;
    callsim_mark_t  *m;

    now = lws_now_usecs();

    msg = json_loadb(data, len, 0, &err);

    if (msg == NULL || !json_is_object(msg)) {
        callsim_call_error(call, "stream: a message that is not a JSON "
                           "object: %s", msg ? "another type" : err.text);
        json_decref(msg);
        return;
    }

    if (call->run->realtime) {
        callsim_media_realtime(call, msg, now);
        json_decref(msg);
        return;
    }

    event = json_string_value(json_object_get(msg, "event"));
    sid = json_string_value(json_object_get(msg, "streamSid"));

    if (event == NULL) {
        callsim_call_error(call, "stream: a message without \"event\"");

    } else if (sid == NULL || strcmp(sid, call->stream_sid) != 0) {
        callsim_call_error(call, "stream: \"%s\" for another streamSid",
                           event);

    } else if (strcmp(event, "media") == 0) {
        callsim_media_echoed(call,
                             json_string_value(json_object_get(
                                 json_object_get(msg, "media"), "payload")),
                             now);

    } else if (strcmp(event, "mark") == 0) {
        name = json_string_value(json_object_get(json_object_get(msg, "mark"),
                                                 "name"));

        call->marks_received++;

        if (name == NULL || strlen(name) >= CALLSIM_MARK_NAME_MAX) {
            callsim_call_error(call, "stream: a mark without a name (or "
                               "with a long one)");

        } else if (call->play_end <= now) {
            callsim_media_mark(call, name);

        } else if (call->mlen == CALLSIM_MARKS_MAX) {
            callsim_call_error(call, "stream: over %d marks wait to play",
                               CALLSIM_MARKS_MAX);

        } else {
            /* it comes back when the audio before it has played */

            m = &call->marks[(call->mhead + call->mlen) % CALLSIM_MARKS_MAX];
            m->due = call->play_end;
            strcpy(m->name, name);

            call->mlen++;

            if (call->next_due == 0 || m->due < call->next_due) {
                call->next_due = m->due;
                tools_clock_arm(&call->run->clock, m->due);
            }
        }

    } else if (strcmp(event, "clear") == 0) {

        /* the audio is flushed: every waiting mark comes back now */

        call->clears++;
        call->play_end = now;

        while (call->mlen) {
            callsim_media_mark(call, call->marks[call->mhead].name);
            call->mhead = (call->mhead + 1) % CALLSIM_MARKS_MAX;
            call->mlen--;
        }
    }

    json_decref(msg);
}


/*
 * --realtime-only: the provider's events; an audio delta is matched as a
 * media message's payload is, an error is the call's, the rest is skipped
 */

static void
callsim_media_realtime(callsim_call_t *call, json_t *msg, lws_usec_t now)
{
    const char  *type, *text;

    type = json_string_value(json_object_get(msg, "type"));

    if (type == NULL) {
        callsim_call_error(call, "realtime: an event without \"type\"");

    } else if (strcmp(type, "response.output_audio.delta") == 0) {
        callsim_media_echoed(call,
                             json_string_value(json_object_get(msg, "delta")),
                             now);

    } else if (strcmp(type, "error") == 0) {
        text = json_string_value(json_object_get(json_object_get(msg,
                                                                 "error"),
                                                 "message"));
        callsim_call_error(call, "realtime: error \"%s\"",
                           text ? text : "(no message)");
    }
}


/* media from the gateway: plays for its length; ours if it is an echo */

static void
callsim_media_echoed(callsim_call_t *call, const char *payload,
    lws_usec_t now)
{
    int             n;
    size_t          len;
    unsigned        chunk;
    unsigned char   buf[4096], frame[CALLSIM_FRAME];

    if (payload == NULL) {
        callsim_call_error(call, "stream: media without a payload");
        return;
    }

    len = strlen(payload);

    if (len % 4 || len / 4 * 3 > sizeof(buf)) {
        call->unmatched++;
        return;
    }

    n = EVP_DecodeBlock(buf, (const unsigned char *) payload, (int) len);
    if (n < 0) {
        callsim_call_error(call, "stream: a payload that is not base64");
        return;
    }

    /* EVP_DecodeBlock() counts the padding as bytes */

    if (len && payload[len - 1] == '=') {
        n -= (payload[len - 2] == '=') ? 2 : 1;
    }

    /* 8 bytes a millisecond, after what is still playing */

    call->play_end = (call->play_end > now ? call->play_end : now)
                     + (lws_usec_t) n * 125;

    if (n != CALLSIM_FRAME) {
        call->unmatched++;
        return;
    }

    chunk = callsim_media_chunk(buf);

    if (chunk == 0 || chunk > call->queued || call->sent_at[chunk] == 0) {
        call->unmatched++;
        return;
    }

    callsim_media_frame(call->run, chunk, frame);

    if (memcmp(frame, buf, CALLSIM_FRAME) != 0) {
        call->unmatched++;
        return;
    }

    if (call->sent_at[chunk] == CALLSIM_ECHOED) {
        call->duplicates++;
        return;
    }

    call->rtt[call->nrtt++] = (now - call->sent_at[chunk]) / 1000.0;
    call->sent_at[chunk] = CALLSIM_ECHOED;
    call->echoed++;
}


static void
callsim_media_mark(callsim_call_t *call, const char *name)
{
    char    seq[16];
    json_t  *msg;

    if (call->wsi == NULL || call->stop_queued || call->closing) {
        return;
    }

    snprintf(seq, sizeof(seq), "%u", ++call->seq);

    msg = json_pack("{s:s, s:s, s:s, s:{s:s}}",
                    "event", "mark",
                    "sequenceNumber", seq,
                    "streamSid", call->stream_sid,
                    "mark", "name", name);

    if (msg == NULL) {
        callsim_call_error(call, "stream: a mark name that is not UTF-8");
        return;
    }

    if (callsim_media_json(call, msg) == 0) {
        call->marks_echoed++;
    }

    json_decref(msg);
}


/* no close from the gateway after "stop": close it ourselves */

/* --realtime-only: the client closes, normally, once the echoes are in */

static void
callsim_media_linger(lws_sorted_usec_list_t *sul)
{
    callsim_call_t  *call = lws_container_of(sul, callsim_call_t, sul_close);

    if (call->wsi == NULL) {
        return;
    }

    call->close_code = LWS_CLOSE_STATUS_NORMAL;
    call->closing = 1;
    lws_callback_on_writable(call->wsi);
}


static void
callsim_media_close_wait(lws_sorted_usec_list_t *sul)
{
    callsim_call_t  *call = lws_container_of(sul, callsim_call_t, sul_close);

    if (call->wsi == NULL) {
        return;
    }

    callsim_call_error(call, "stream: no close within %d s of \"stop\"",
                       CALLSIM_CLOSE_WAIT / 1000000);

    call->closing = 1;
    lws_callback_on_writable(call->wsi);
}
