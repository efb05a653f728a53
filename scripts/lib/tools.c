
/*
 * Copyright (C) Voxanne Edge
 */


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
