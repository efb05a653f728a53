
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * libFuzzer target: the WebSocket frame parser.  The input is
 *
 *     side and max_message (2 bytes, big-endian: the top bit set for a
 *     client, which reads unmasked frames; 15 bits of max_message),
 *     k (1 byte), k cut sizes, stream
 *
 * and the stream is fed three times: in pieces of the cut sizes (each plus
 * one, in turn), whole, and a byte at a time, every piece in a heap block
 * of its own size.  Each feeding checks what the parser delivers against a
 * plain decoding of the stream (offsets, lengths, unmasked bytes, the rules
 * an accepted frame follows, UTF-8 of whole text messages and close
 * reasons), and the three must give the same frames and the same result.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_ws.h"
#include "fuzz.h"


typedef struct {
    ngx_uint_t        opcode;
    ngx_uint_t        fin;
    size_t            start;
    uint64_t          length;
} fuzz_ws_frame_t;


typedef struct {
    const u_char     *stream;
    size_t            len;
    size_t            max;
    ngx_uint_t        side;

    /* the frame being delivered, decoded from the stream */
    size_t            start;
    size_t            payload;
    uint64_t          length;
    uint64_t          got;
    ngx_uint_t        opcode;
    ngx_uint_t        fin;
    ngx_uint_t        in_frame;
    u_char            mask[4];

    /* the open data message */
    ngx_uint_t        message;
    size_t            size;
    u_char           *msg;
    u_char            ctrl[NGX_HTTP_VOXANNE_WS_CONTROL_MAX];

    fuzz_ws_frame_t  *frames;
    ngx_uint_t        nframes;
    ngx_int_t         rc;
    ngx_uint_t        error;
    ngx_uint_t        close_code;
    size_t            consumed;
} fuzz_ws_run_t;


static void fuzz_ws_feed(fuzz_ws_run_t *r, const u_char *cuts, size_t ncuts);
static void fuzz_ws_chunk(fuzz_ws_run_t *r, ngx_http_voxanne_ws_chunk_t *ch,
    size_t abs);
static uint64_t fuzz_ws_header(fuzz_ws_run_t *r, size_t start, size_t *hlen);
static void fuzz_ws_frame_end(fuzz_ws_run_t *r,
    ngx_http_voxanne_ws_chunk_t *ch);
static ngx_uint_t fuzz_ws_utf8(u_char *p, size_t len);
static void fuzz_ws_same(fuzz_ws_run_t *a, fuzz_ws_run_t *b);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char         one;
    size_t         k;
    fuzz_ws_run_t  run[3];

    if (size < 3 || size < 3 + (size_t) data[2]) {
        return 0;
    }

    k = data[2];

    ngx_memzero(run, sizeof(run));

    run[0].stream = data + 3 + k;
    run[0].len = size - 3 - k;
    run[0].max = ((size_t) (data[0] & 0x7f) << 8) | data[1];
    run[0].side = (data[0] & 0x80) ? NGX_HTTP_VOXANNE_WS_CLIENT
                                   : NGX_HTTP_VOXANNE_WS_SERVER;

    run[1] = run[0];
    run[2] = run[0];

    one = 0;

    fuzz_ws_feed(&run[0], data + 3, k);
    fuzz_ws_feed(&run[1], NULL, 0);
    fuzz_ws_feed(&run[2], &one, 1);

    fuzz_ws_same(&run[0], &run[1]);
    fuzz_ws_same(&run[0], &run[2]);

    free(run[0].frames);
    free(run[1].frames);
    free(run[2].frames);

    return 0;
}


static void
fuzz_ws_feed(fuzz_ws_run_t *r, const u_char *cuts, size_t ncuts)
{
    u_char                       *seg, *pos, *old, *end;
    size_t                        off, n, i;
    ngx_uint_t                    op;
    ngx_http_voxanne_ws_t         ws;
    ngx_http_voxanne_ws_chunk_t   ch;

    r->frames = (fuzz_ws_frame_t *)
                    fuzz_alloc((r->len / 2 + 1) * sizeof(fuzz_ws_frame_t));
    r->msg = fuzz_alloc(ngx_min(r->max, r->len));
    r->rc = NGX_AGAIN;

    ngx_http_voxanne_ws_init(&ws, r->max, r->side);

    for (off = 0, i = 0; off < r->len; off += n, i++) {
        n = ncuts ? (size_t) cuts[i % ncuts] + 1 : r->len;
        n = ngx_min(n, r->len - off);

        seg = fuzz_copy(r->stream + off, n);
        pos = seg;
        end = seg + n;

        for ( ;; ) {
            old = pos;
            r->rc = ngx_http_voxanne_ws_parse(&ws, &pos, end, &ch);

            fuzz_assert(pos >= old && pos <= end);

            if (r->rc != NGX_OK) {
                break;
            }

            /* progress, and the chunk is what was just consumed */

            fuzz_assert(pos > old);
            fuzz_assert(ch.data >= old && ch.data + ch.len == pos);
            fuzz_assert(ch.last || (ch.len > 0 && !ch.fin));

            fuzz_ws_chunk(r, &ch, off + (ch.data - seg));
        }

        r->consumed = off + (pos - seg);
        free(seg);

        if (r->rc != NGX_AGAIN) {
            break;
        }

        fuzz_assert(pos == end);
    }

    free(r->msg);
    r->msg = NULL;

    fuzz_assert(!r->in_frame || r->rc != NGX_DONE);

    switch (r->rc) {

    case NGX_AGAIN:
        fuzz_assert(r->consumed == r->len);
        break;

    case NGX_DONE:
        fuzz_assert(r->nframes > 0
                    && r->frames[r->nframes - 1].opcode
                       == NGX_HTTP_VOXANNE_WS_CLOSE);
        fuzz_assert(r->consumed == r->start);
        r->close_code = ws.close_code;
        break;

    case NGX_ERROR:
        r->error = ws.error;

        fuzz_assert(r->error == NGX_HTTP_VOXANNE_WS_PROTOCOL_ERROR
                    || r->error == NGX_HTTP_VOXANNE_WS_INVALID_DATA
                    || r->error == NGX_HTTP_VOXANNE_WS_TOO_BIG);

        /* the frame that failed, at least its first byte consumed */

        fuzz_assert(r->consumed > r->start);
        op = r->stream[r->start] & 0x0f;

        if (r->error == NGX_HTTP_VOXANNE_WS_TOO_BIG) {

            /* refused from the header: the lengths do exceed the cap */

            fuzz_assert(!r->in_frame && !(op & 0x08));
            fuzz_assert(fuzz_ws_header(r, r->start, &n) > r->max - r->size);
            fuzz_assert(r->consumed
                        == r->start + n
                           - (r->side == NGX_HTTP_VOXANNE_WS_CLIENT ? 0 : 4));
        }

        /* invalid UTF-8 is only looked for in text and close reasons */

        if (r->error == NGX_HTTP_VOXANNE_WS_INVALID_DATA) {
            fuzz_assert(op == NGX_HTTP_VOXANNE_WS_CLOSE
                        || op == NGX_HTTP_VOXANNE_WS_TEXT
                        || (op == NGX_HTTP_VOXANNE_WS_CONTINUATION
                            && r->message == NGX_HTTP_VOXANNE_WS_TEXT));
        }

        break;

    default:
        fuzz_assert(0);
    }
}


/* a chunk matches the frame decoded from the stream, byte for byte */

static void
fuzz_ws_chunk(fuzz_ws_run_t *r, ngx_http_voxanne_ws_chunk_t *ch, size_t abs)
{
    u_char    b0, c;
    size_t    hlen, i;

    if (!r->in_frame) {
        r->length = fuzz_ws_header(r, r->start, &hlen);
        r->payload = r->start + hlen;
        r->got = 0;
        r->in_frame = 1;

        b0 = r->stream[r->start];
        r->fin = b0 >> 7;
        r->opcode = b0 & 0x0f;

        fuzz_assert((b0 & 0x70) == 0);
        fuzz_assert((r->stream[r->start + 1] & 0x80)
                    == (r->side == NGX_HTTP_VOXANNE_WS_CLIENT ? 0 : 0x80));

        if (r->opcode & 0x08) {
            fuzz_assert(r->opcode <= NGX_HTTP_VOXANNE_WS_PONG);
            fuzz_assert(r->fin && r->length <= 125);

        } else if (r->opcode == NGX_HTTP_VOXANNE_WS_CONTINUATION) {
            fuzz_assert(r->message != 0);

        } else {
            fuzz_assert(r->opcode <= NGX_HTTP_VOXANNE_WS_BINARY);
            fuzz_assert(r->message == 0);
            r->message = r->opcode;
        }

        if (!(r->opcode & 0x08)) {
            fuzz_assert(r->length <= r->max - r->size);
        }
    }

    fuzz_assert(ch->opcode
                == ((r->opcode & 0x08) ? r->opcode : r->message));
    fuzz_assert(abs == r->payload + r->got);
    fuzz_assert(ch->len <= r->length - r->got);

    for (i = 0; i < ch->len; i++) {
        c = r->stream[abs + i] ^ r->mask[(r->got + i) & 3];

        fuzz_assert(ch->data[i] == c);

        if (r->opcode & 0x08) {
            r->ctrl[r->got + i] = c;

        } else {
            r->msg[r->size + i] = c;
        }
    }

    r->got += ch->len;

    if (!(r->opcode & 0x08)) {
        r->size += ch->len;
    }

    fuzz_assert(ch->last == (r->got == r->length));

    if (ch->last) {
        fuzz_ws_frame_end(r, ch);
    }
}


/*
 * Decodes a header the parser accepted, or one whose length it refused:
 * the length, encoded minimally, and the mask key (none from a server).
 */

static uint64_t
fuzz_ws_header(fuzz_ws_run_t *r, size_t start, size_t *hlen)
{
    size_t           ext, i;
    uint64_t         len;
    const u_char    *h;

    h = r->stream + start;
    len = h[1] & 0x7f;
    ext = (len == 126) ? 2 : (len == 127) ? 8 : 0;

    fuzz_assert(start + 2 + ext <= r->len);

    if (ext) {
        for (len = 0, i = 0; i < ext; i++) {
            len = (len << 8) | h[2 + i];
        }

        fuzz_assert(len >= ((ext == 2) ? 126 : 65536));
        fuzz_assert((len >> 63) == 0);
    }

    if (r->side == NGX_HTTP_VOXANNE_WS_CLIENT) {
        *hlen = 2 + ext;
        ngx_memzero(r->mask, 4);

        return len;
    }

    *hlen = 2 + ext + 4;

    if (start + *hlen <= r->len) {
        ngx_memcpy(r->mask, h + 2 + ext, 4);
    }

    return len;
}


static void
fuzz_ws_frame_end(fuzz_ws_run_t *r, ngx_http_voxanne_ws_chunk_t *ch)
{
    ngx_uint_t        code;
    fuzz_ws_frame_t  *f;

    fuzz_assert(ch->fin == ((r->opcode & 0x08) || r->fin));

    f = &r->frames[r->nframes++];
    f->opcode = ch->opcode;
    f->fin = ch->fin;
    f->start = r->start;
    f->length = r->length;

    r->start = r->payload + r->length;
    r->in_frame = 0;

    if (r->opcode == NGX_HTTP_VOXANNE_WS_CLOSE) {
        fuzz_assert(r->length != 1);

        if (r->length == 0) {
            return;
        }

        code = (r->ctrl[0] << 8) | r->ctrl[1];

        fuzz_assert((code >= 1000 && code <= 1003)
                    || (code >= 1007 && code <= 1011)
                    || (code >= 3000 && code <= 4999));
        fuzz_assert(fuzz_ws_utf8(r->ctrl + 2, r->length - 2));

        return;
    }

    if ((r->opcode & 0x08) || !r->fin) {
        return;
    }

    if (r->message == NGX_HTTP_VOXANNE_WS_TEXT) {
        fuzz_assert(fuzz_ws_utf8(r->msg, r->size));
    }

    r->message = 0;
    r->size = 0;
}


/* UTF-8 by decoding each code point, unlike the parser's byte ranges */

static ngx_uint_t
fuzz_ws_utf8(u_char *p, size_t len)
{
    size_t    i, n, k;
    uint32_t  cp, min;

    for (i = 0; i < len; i += n + 1) {

        if (p[i] < 0x80) {
            n = 0;
            continue;
        }

        if ((p[i] & 0xe0) == 0xc0) {
            n = 1;
            cp = p[i] & 0x1f;
            min = 0x80;

        } else if ((p[i] & 0xf0) == 0xe0) {
            n = 2;
            cp = p[i] & 0x0f;
            min = 0x800;

        } else if ((p[i] & 0xf8) == 0xf0) {
            n = 3;
            cp = p[i] & 0x07;
            min = 0x10000;

        } else {
            return 0;
        }

        if (i + n >= len) {
            return 0;
        }

        for (k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            cp = (cp << 6) | (p[i + k] & 0x3f);
        }

        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
    }

    return 1;
}


/* however the stream was cut, the same frames and the same result */

static void
fuzz_ws_same(fuzz_ws_run_t *a, fuzz_ws_run_t *b)
{
    ngx_uint_t  i;

    fuzz_assert(a->rc == b->rc);
    fuzz_assert(a->error == b->error);
    fuzz_assert(a->close_code == b->close_code);
    fuzz_assert(a->nframes == b->nframes);

    if (a->rc != NGX_ERROR) {
        fuzz_assert(a->consumed == b->consumed);
    }

    for (i = 0; i < a->nframes; i++) {
        fuzz_assert(a->frames[i].opcode == b->frames[i].opcode);
        fuzz_assert(a->frames[i].fin == b->frames[i].fin);
        fuzz_assert(a->frames[i].start == b->frames[i].start);
        fuzz_assert(a->frames[i].length == b->frames[i].length);
    }
}
