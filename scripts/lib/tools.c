
/*
 * Copyright (C) Voxanne Edge
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "tools.h"


/* a whole file, NUL-terminated; on failure NULL, and a line on stderr */

char *
tools_read_file(const char *prog, const char *path, size_t *len)
{
    char  *data;
    long   size;
    FILE  *f;

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        fclose(f);
        return NULL;
    }

    data = malloc(size + 1);
    if (data == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        fclose(f);
        return NULL;
    }

    if (fread(data, 1, size, f) != (size_t) size) {
        fprintf(stderr, "%s: %s: a short read\n", prog, path);
        free(data);
        fclose(f);
        return NULL;
    }

    fclose(f);

    data[size] = '\0';
    *len = size;

    return data;
}


/*
 * G.711 mu-law: add the bias of 33 (132 scaled by 4), find the segment of
 * the highest set bit, keep four bits after it, invert everything
 */

unsigned char
tools_ulaw(int sample)
{
    int  sign, exponent, mantissa, mask;

    sign = 0;

    if (sample < 0) {
        sign = 0x80;
        sample = -sample;
    }

    if (sample > 32635) {
        sample = 32635;
    }

    sample += 0x84;

    exponent = 7;

    for (mask = 0x4000; (sample & mask) == 0 && exponent > 0; mask >>= 1) {
        exponent--;
    }

    mantissa = (sample >> (exponent + 3)) & 0x0f;

    return (unsigned char) ~(sign | (exponent << 4) | mantissa);
}


/*
 * A clock for timers that fire often, run by the lws loop: a timerfd that
 * lws watches as a raw file (protocol's callback: tools_clock_callback),
 * not an lws timer.  lws 4.1 polls with a timeout in whole milliseconds
 * rounded down, so each of its timers makes the loop spin through the
 * last partial millisecond before it, and timers that fire 50 times a
 * second for each of hundreds of calls kept a core busy.  The clock is
 * armed for the earliest due; its tick runs what is due and re-arms it.
 */

int
tools_clock_init(tools_clock_t *clock, struct lws_vhost *vh,
    const char *protocol, const char *prog)
{
    lws_adopt_desc_t  desc;

    clock->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (clock->fd == -1) {
        fprintf(stderr, "%s: timerfd_create() failed: %s\n", prog,
                strerror(errno));
        return -1;
    }

    memset(&desc, 0, sizeof(lws_adopt_desc_t));
    desc.vh = vh;
    desc.type = LWS_ADOPT_RAW_FILE_DESC;
    desc.fd.filefd = clock->fd;
    desc.vh_prot_name = protocol;
    desc.opaque = clock;

    clock->wsi = lws_adopt_descriptor_vhost_via_info(&desc);
    if (clock->wsi == NULL) {
        fprintf(stderr, "%s: lws cannot watch the clock\n", prog);
        return -1;
    }

    return 0;
}


int
tools_clock_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
    uint64_t        n;
    tools_clock_t  *clock;

    clock = lws_get_opaque_user_data(wsi);

    if (clock == NULL) {
        return 0;
    }

    if (reason == LWS_CALLBACK_RAW_CLOSE_FILE) {
        clock->wsi = NULL;
        return 0;
    }

    if (reason != LWS_CALLBACK_RAW_RX_FILE) {
        return 0;
    }

    if (read(clock->fd, &n, sizeof(uint64_t)) != sizeof(uint64_t)) {
        return 0;                               /* not yet, or re-armed */
    }

    clock->at = 0;
    clock->tick(clock);

    return 0;
}


/* to fire at due, unless it fires before */

void
tools_clock_arm(tools_clock_t *clock, lws_usec_t due)
{
    lws_usec_t         delay;
    struct itimerspec  its;

    if (clock->stopped || clock->wsi == NULL
        || (clock->at && clock->at <= due))
    {
        return;
    }

    delay = due - lws_now_usecs();

    if (delay < 1) {
        delay = 1;                              /* 0 would disarm it */
    }

    memset(&its, 0, sizeof(struct itimerspec));
    its.it_value.tv_sec = delay / LWS_US_PER_SEC;
    its.it_value.tv_nsec = (delay % LWS_US_PER_SEC) * 1000;

    if (timerfd_settime(clock->fd, 0, &its, NULL) != 0) {
        return;
    }

    clock->at = due;
}
