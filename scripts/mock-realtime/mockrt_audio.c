
/*
 * Copyright (C) Voxanne Edge
 */


/*
 * Audio for the mock: G.711 mu-law and A-law both ways, 16-bit PCM, the
 * replies it speaks (a tone a word, or the --audio file), and a strict
 * base64 codec (the real server refuses audio that is not base64).
 */


#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mockrt.h"
#include "tools.h"


#define MOCKRT_TONE_LEVEL   8192.0           /* -12 dBFS */
#define MOCKRT_ULAW_BIAS    0x84


static int   mockrt_ulaw_linear[256];
static int   mockrt_alaw_linear[256];

static const char  mockrt_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static signed char  mockrt_b64_value[256];


void
mockrt_audio_init(void)
{
    int       i, t, seg;
    unsigned  u, a;

    for (i = 0; i < 256; i++) {

        /* mu-law: complement, then (mantissa << 3 + bias) << exponent */

        u = ~i & 0xff;
        t = (((u & 0x0f) << 3) + MOCKRT_ULAW_BIAS) << ((u & 0x70) >> 4);
        mockrt_ulaw_linear[i] = (u & 0x80) ? MOCKRT_ULAW_BIAS - t
                                           : t - MOCKRT_ULAW_BIAS;

        /* A-law: even bits inverted, segment 0 linear */

        a = i ^ 0x55;
        t = (a & 0x0f) << 4;
        seg = (a & 0x70) >> 4;

        if (seg == 0) {
            t += 8;

        } else {
            t = (t + 0x108) << (seg - 1);
        }

        mockrt_alaw_linear[i] = (a & 0x80) ? t : -t;
    }

    memset(mockrt_b64_value, -1, sizeof(mockrt_b64_value));

    for (i = 0; i < 64; i++) {
        mockrt_b64_value[(unsigned char) mockrt_b64[i]] = (signed char) i;
    }
}


/* one sample at p, as 16-bit linear */

int
mockrt_sample(mockrt_format_e format, const unsigned char *p)
{
    switch (format) {

    case MOCKRT_PCMU:
        return mockrt_ulaw_linear[*p];

    case MOCKRT_PCMA:
        return mockrt_alaw_linear[*p];

    default:
        return (int16_t) (p[0] | (p[1] << 8));
    }
}


unsigned char
mockrt_alaw(int sample)
{
    int  mask, seg, v;

    v = sample >> 3;                            /* 13 bits */

    if (v >= 0) {
        mask = 0xd5;

    } else {
        mask = 0x55;
        v = -v - 1;
    }

    for (seg = 0; seg < 8 && v > (0x20 << seg) - 1; seg++) {
        /* void */
    }

    if (seg == 8) {
        return (unsigned char) (0x7f ^ mask);
    }

    v = (seg << 4) | ((seg < 2 ? v >> 1 : v >> seg) & 0x0f);

    return (unsigned char) (v ^ mask);
}


unsigned
mockrt_rate(mockrt_format_e format)
{
    return format == MOCKRT_PCM ? 24000 : 8000;
}


unsigned
mockrt_bytes_per_ms(mockrt_format_e format)
{
    return format == MOCKRT_PCM ? 48 : 8;
}


static void
mockrt_put(mockrt_format_e format, unsigned char **p, int sample)
{
    switch (format) {

    case MOCKRT_PCMU:
        *(*p)++ = tools_ulaw(sample);
        break;

    case MOCKRT_PCMA:
        *(*p)++ = mockrt_alaw(sample);
        break;

    default:
        *(*p)++ = (unsigned char) (sample & 0xff);
        *(*p)++ = (unsigned char) ((sample >> 8) & 0xff);
        break;
    }
}


/*
 * A reply's audio in the session's output format: the --audio file
 * (mu-law, converted), or a tone a word: 80% tone, 20% silence, each
 * word --word-ms long, or --reply-ms in all.
 */

unsigned char *
mockrt_audio_render(mockrt_t *mock, mockrt_format_e format, size_t words,
    size_t *len)
{
    size_t          i, n, word, on;
    unsigned        rate, width;
    unsigned char  *out, *p;

    rate = mockrt_rate(format);
    width = (format == MOCKRT_PCM) ? 2 : 1;

    if (mock->audio) {
        n = mock->audio_len * rate / 8000;

    } else if (mock->reply_ms) {
        n = (size_t) mock->reply_ms * rate / 1000;

    } else {
        n = (words ? words : 1) * mock->word_ms * rate / 1000;
    }

    out = malloc(n * width + 1);
    if (out == NULL) {
        return NULL;
    }

    p = out;

    if (mock->audio) {
        for (i = 0; i < n; i++) {
            mockrt_put(format, &p,
                       mockrt_ulaw_linear[mock->audio[i * 8000 / rate]]);
        }

        *len = n * width;
        return out;
    }

    word = (size_t) mock->word_ms * rate / 1000;
    on = word * 4 / 5;

    for (i = 0; i < n; i++) {
        if (word && i % word >= on) {
            mockrt_put(format, &p, 0);
            continue;
        }

        mockrt_put(format, &p,
                   (int) lrint(MOCKRT_TONE_LEVEL
                               * sin(2 * M_PI * mock->tone_hz * i / rate)));
    }

    *len = n * width;

    return out;
}


/* the length base64 text decodes to, or -1 when it is not strict base64 */

ssize_t
mockrt_base64_decoded_len(const char *in, size_t len)
{
    size_t  i, pad;

    if (len % 4) {
        return -1;
    }

    pad = 0;

    if (len && in[len - 1] == '=') {
        pad = (len > 1 && in[len - 2] == '=') ? 2 : 1;
    }

    for (i = 0; i < len - pad; i++) {
        if (mockrt_b64_value[(unsigned char) in[i]] < 0) {
            return -1;
        }
    }

    return (ssize_t) (len / 4 * 3 - pad);
}


/* in is strict base64 (checked above) */

size_t
mockrt_base64_decode(const char *in, size_t len, unsigned char *out)
{
    size_t          i, n;
    uint32_t        v;
    unsigned char  *p;

    p = out;

    for (i = 0; i < len; i += 4) {
        v = 0;

        for (n = 0; n < 4 && in[i + n] != '='; n++) {
            v |= (uint32_t) mockrt_b64_value[(unsigned char) in[i + n]]
                 << (18 - 6 * n);
        }

        *p++ = (unsigned char) (v >> 16);

        if (n > 2) {
            *p++ = (unsigned char) (v >> 8);
        }

        if (n > 3) {
            *p++ = (unsigned char) v;
        }
    }

    return p - out;
}


/* out has room for 4 * ((len + 2) / 3) + 1 */

size_t
mockrt_base64_encode(const unsigned char *in, size_t len, char *out)
{
    size_t    i;
    char     *p;
    uint32_t  v;

    p = out;

    for (i = 0; i + 2 < len; i += 3) {
        v = (uint32_t) in[i] << 16 | (uint32_t) in[i + 1] << 8 | in[i + 2];
        *p++ = mockrt_b64[v >> 18];
        *p++ = mockrt_b64[(v >> 12) & 0x3f];
        *p++ = mockrt_b64[(v >> 6) & 0x3f];
        *p++ = mockrt_b64[v & 0x3f];
    }

    if (i < len) {
        v = (uint32_t) in[i] << 16;

        if (i + 1 < len) {
            v |= (uint32_t) in[i + 1] << 8;
        }

        *p++ = mockrt_b64[v >> 18];
        *p++ = mockrt_b64[(v >> 12) & 0x3f];
        *p++ = (i + 1 < len) ? mockrt_b64[(v >> 6) & 0x3f] : '=';
        *p++ = '=';
    }

    *p = '\0';

    return p - out;
}
