
/*
 * Copyright (C) Voxanne Edge
 */


/*
 * The input audio buffer and the server VAD.  Appended audio is decoded
 * to 16-bit linear in the session's input format, and its RMS over 20 ms
 * windows against the threshold decides: --vad-start of loud windows
 * starts speech (audio_start_ms minus prefix_padding_ms), silence_duration_ms
 * of quiet ones stops it; then the buffer is committed as a user item,
 * transcribed with the next --transcript, and answered when the session's
 * turn detection says create_response.
 */


#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mockrt.h"


static void mockrt_input_feed(mockrt_session_t *s, const unsigned char *p,
    size_t n);
static void mockrt_input_sample(mockrt_session_t *s, int x);
static void mockrt_input_window(mockrt_session_t *s);
static void mockrt_speech_started(mockrt_session_t *s, uint64_t start_ms);
static void mockrt_speech_stopped(mockrt_session_t *s, uint64_t end_ms);
static void mockrt_input_committed(mockrt_session_t *s, const char *id);
static const char *mockrt_input_heard(mockrt_session_t *s);
static void mockrt_input_transcribed(mockrt_session_t *s, const char *id,
    const char *text, double seconds);


void
mockrt_input_append(mockrt_session_t *s, json_t *ev,
    const char *client_event)
{
    size_t          len;
    ssize_t         n;
    const char     *audio;
    unsigned char  *buf;

    if (mockrt_check_string(s, client_event, ev, "audio") != 0) {
        return;
    }

    audio = json_string_value(json_object_get(ev, "audio"));
    len = json_string_length(json_object_get(ev, "audio"));
    n = mockrt_base64_decoded_len(audio, len);

    if (n < 0) {
        mockrt_error(s, "invalid_request_error", "invalid_value", "audio",
                     client_event, "Invalid 'audio'. Expected base64-encoded "
                     "audio.");
        return;
    }

    if (n > MOCKRT_AUDIO_MAX) {
        mockrt_error(s, "invalid_request_error", "invalid_value", "audio",
                     client_event, "Invalid 'audio': %zd bytes, more than "
                     "the 15 MiB an append may carry.", n);
        return;
    }

    if (s->mock->echo) {
        mockrt_echo_append(s, audio, len, (size_t) n);
        return;
    }

    buf = malloc(n + 1);
    if (buf == NULL) {
        return;
    }

    mockrt_base64_decode(audio, len, buf);
    mockrt_input_feed(s, buf, (size_t) n);

    free(buf);
}


static void
mockrt_input_feed(mockrt_session_t *s, const unsigned char *p, size_t n)
{
    size_t         i;
    unsigned char  pair[2];

    if (s->in_format != MOCKRT_PCM) {
        for (i = 0; i < n && !s->closing; i++) {
            mockrt_input_sample(s, mockrt_sample(s->in_format, &p[i]));
        }

        return;
    }

    /* 16-bit samples may straddle two appends */

    if (s->odd_byte >= 0 && n) {
        pair[0] = (unsigned char) s->odd_byte;
        pair[1] = p[0];
        s->odd_byte = -1;
        mockrt_input_sample(s, mockrt_sample(MOCKRT_PCM, pair));
        p++;
        n--;
    }

    for (i = 0; i + 1 < n && !s->closing; i += 2) {
        mockrt_input_sample(s, mockrt_sample(MOCKRT_PCM, &p[i]));
    }

    if (i < n) {
        s->odd_byte = p[i];
    }
}


static void
mockrt_input_sample(mockrt_session_t *s, int x)
{
    s->in_samples++;

    if (s->turn == MOCKRT_TURN_NONE) {
        return;
    }

    s->window_sum += (double) x * x;
    s->window_n++;

    if (s->window_n * 1000 >= mockrt_rate(s->in_format) * MOCKRT_WINDOW_MS) {
        mockrt_input_window(s);
        s->window_sum = 0;
        s->window_n = 0;
    }
}


static void
mockrt_input_window(mockrt_session_t *s)
{
    int       loud;
    unsigned  rate;
    uint64_t  now, start, first;

    rate = mockrt_rate(s->in_format);
    now = s->in_samples * 1000 / rate;
    loud = sqrt(s->window_sum / s->window_n) >= s->vad_rms;

    if (!s->speaking) {
        if (!loud) {
            s->loud_ms = 0;
            return;
        }

        s->loud_ms += MOCKRT_WINDOW_MS;

        if (s->loud_ms < s->mock->vad_start_ms) {
            return;
        }

        /* from the first loud window, with the prefix, in the buffer */

        start = now - s->loud_ms;
        start = start > s->prefix_ms ? start - s->prefix_ms : 0;
        first = s->buffer_start * 1000 / rate;

        mockrt_speech_started(s, start > first ? start : first);
        return;
    }

    if (loud) {
        s->quiet_ms = 0;
        return;
    }

    s->quiet_ms += MOCKRT_WINDOW_MS;

    if (s->quiet_ms >= s->silence_ms) {
        mockrt_speech_stopped(s, now);
    }
}


/* with interrupt_response, speech cancels the response in progress */

static void
mockrt_speech_started(mockrt_session_t *s, uint64_t start_ms)
{
    json_t  *ev;

    mockrt_id(s->mock, s->speech_item, "item_");
    s->speaking = 1;
    s->quiet_ms = 0;

    ev = mockrt_event(s, "input_audio_buffer.speech_started");
    json_object_set_new(ev, "audio_start_ms", json_integer(start_ms));
    json_object_set_new(ev, "item_id", json_string(s->speech_item));
    mockrt_send(s, ev);

    if (s->response && s->interrupt_response
        && s->response->in_conversation)
    {
        mockrt_response_cancel(s, "turn_detected");
    }
}


static void
mockrt_speech_stopped(mockrt_session_t *s, uint64_t end_ms)
{
    char         id[MOCKRT_ID_LEN];
    double       seconds;
    json_t      *ev;
    const char  *heard;

    memcpy(id, s->speech_item, sizeof(id));
    seconds = (double) (s->in_samples - s->buffer_start)
              / mockrt_rate(s->in_format);

    ev = mockrt_event(s, "input_audio_buffer.speech_stopped");
    json_object_set_new(ev, "audio_end_ms", json_integer(end_ms));
    json_object_set_new(ev, "item_id", json_string(id));
    mockrt_send(s, ev);

    mockrt_input_committed(s, id);
    mockrt_input_reset_vad(s);

    heard = mockrt_input_heard(s);

    if (s->create_response && s->response == NULL) {
        mockrt_response_create(s, NULL, NULL);
    }

    mockrt_input_transcribed(s, id, heard, seconds);
}


void
mockrt_input_commit(mockrt_session_t *s, const char *client_event)
{
    char         id[MOCKRT_ID_LEN];
    double       ms;
    const char  *heard;

    ms = (double) (s->in_samples - s->buffer_start) * 1000
         / mockrt_rate(s->in_format);

    if (ms < 100) {
        mockrt_error(s, "invalid_request_error",
                     "input_audio_buffer_commit_empty", NULL, client_event,
                     "Error committing input audio buffer: buffer too small. "
                     "Expected at least 100ms of audio, but buffer only has "
                     "%.2fms of audio.", ms);
        return;
    }

    if (s->speaking) {
        memcpy(id, s->speech_item, sizeof(id));

    } else {
        mockrt_id(s->mock, id, "item_");
    }

    mockrt_input_committed(s, id);
    mockrt_input_reset_vad(s);

    heard = mockrt_input_heard(s);
    mockrt_input_transcribed(s, id, heard, ms / 1000);
}


void
mockrt_input_clear(mockrt_session_t *s)
{
    s->buffer_start = s->in_samples;
    mockrt_input_reset_vad(s);

    mockrt_send(s, mockrt_event(s, "input_audio_buffer.cleared"));
}


void
mockrt_input_reset_vad(mockrt_session_t *s)
{
    s->speaking = 0;
    s->loud_ms = 0;
    s->quiet_ms = 0;
    s->window_sum = 0;
    s->window_n = 0;
}


/* the buffer becomes a user audio message */

static void
mockrt_input_committed(mockrt_session_t *s, const char *id)
{
    json_t         *ev, *item;
    mockrt_item_t  *rec;

    s->buffer_start = s->in_samples;

    item = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:n}]}",
                     "id", id, "object", "realtime.item", "type", "message",
                     "status", "completed", "role", "user",
                     "content", "type", "input_audio", "transcript");

    rec = mockrt_item_add(s, id, MOCKRT_ITEM_MESSAGE);

    if (item == NULL || rec == NULL) {
        json_decref(item);
        return;
    }

    rec->json = json_incref(item);

    ev = mockrt_event(s, "input_audio_buffer.committed");
    json_object_set_new(ev, "previous_item_id", mockrt_previous(s));
    json_object_set_new(ev, "item_id", json_string(id));
    mockrt_send(s, ev);

    mockrt_item_send(s, "conversation.item.added", item);
    mockrt_item_send(s, "conversation.item.done", item);

    json_decref(item);
}


/* what the caller said: the next --transcript, which may call a tool */

static const char *
mockrt_input_heard(mockrt_session_t *s)
{
    const char  *text;

    text = s->mock->transcripts[s->transcripts++ % s->mock->ntranscripts];
    mockrt_trigger(s, text);

    return text;
}


static void
mockrt_input_transcribed(mockrt_session_t *s, const char *id,
    const char *text, double seconds)
{
    json_t         *ev, *part;
    mockrt_item_t  *rec;

    if (!s->transcription) {
        return;
    }

    rec = mockrt_item_find(s, id);
    part = json_array_get(json_object_get(rec ? rec->json : NULL, "content"),
                          0);
    json_object_set_new(part, "transcript", json_string(text));

    ev = mockrt_event(s,
                      "conversation.item.input_audio_transcription.delta");
    json_object_set_new(ev, "item_id", json_string(id));
    json_object_set_new(ev, "content_index", json_integer(0));
    json_object_set_new(ev, "delta", json_string(text));
    mockrt_send(s, ev);

    ev = mockrt_event(s,
                      "conversation.item.input_audio_transcription.completed");
    json_object_set_new(ev, "item_id", json_string(id));
    json_object_set_new(ev, "content_index", json_integer(0));
    json_object_set_new(ev, "transcript", json_string(text));
    json_object_set_new(ev, "usage", json_pack("{s:s, s:f}", "type",
                                               "duration", "seconds",
                                               seconds));
    mockrt_send(s, ev);
}
