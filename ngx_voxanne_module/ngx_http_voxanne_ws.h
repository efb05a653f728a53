
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_WS_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_WS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * The RFC 6455 codec of both sides: a resumable frame parser, the frame
 * writers, the opening handshake's keys and the client's check of the
 * server's answer.  No extension is negotiated.  A pure codec (libc and
 * libcrypto only, no allocation, no I/O) so that unit tests and fuzzers
 * drive it directly.
 *
 * Parsing.  ngx_http_voxanne_ws_init() once per connection, saying which
 * side we are: a server (NGX_HTTP_VOXANNE_WS_SERVER) parses the frames of a
 * client, which are all masked and are unmasked in place; a client
 * (NGX_HTTP_VOXANNE_WS_CLIENT) parses the frames of a server, none of which
 * may be masked.  Then for each buffer of bytes read from the socket:
 *
 *     for ( ;; ) {
 *         rc = ngx_http_voxanne_ws_parse(&ws, &b->pos, b->last, &ch);
 *
 *         NGX_OK     ch is a chunk of payload, in place in b (unmasked
 *                    by a server): copy it out before b is read into
 *                    again;
 *         NGX_AGAIN  b->pos == b->last: read more;
 *         NGX_DONE   a close frame has been delivered; nothing is parsed
 *                    after it, b->pos is left at the next byte;
 *         NGX_ERROR  close the connection with ws.error: 1002 (protocol
 *                    error, a frame masked the wrong way among them), 1007
 *                    (invalid UTF-8 in a text message or a close reason)
 *                    or 1009 (a message over max_message).
 *     }
 *
 * The payload of every frame comes out as one or more chunks in order; the
 * last has ch.last set, and only a frame with no payload gives a chunk of
 * len 0.  ch.opcode is the opcode of the message: TEXT or BINARY for all the
 * frames of a data message (continuations included), CLOSE, PING or PONG
 * for a control frame, which may arrive between the frames of a message.
 * ch.fin is set on the last chunk of the last frame of a message (always
 * with ch.last, and on every control frame's last chunk).
 *
 * So a caller copies data chunks into its message buffer, which
 * max_message bytes always fit: a data frame is refused (1009) from its
 * header, before any of its payload is consumed, when the declared lengths
 * of the message's frames would exceed max_message.  It copies control
 * chunks into a buffer of NGX_HTTP_VOXANNE_WS_CONTROL_MAX bytes.  Text
 * messages and close reasons are UTF-8 checked as they arrive, so no chunk
 * that is delivered is invalid, and a text message whose last chunk is
 * delivered is valid UTF-8 as a whole.  On a close frame's last chunk
 * ws.close_code holds the peer's code (1005 when it sent none), already
 * checked to be one an endpoint may send.
 *
 * After NGX_ERROR or NGX_DONE every call returns the same again.
 */


#define NGX_HTTP_VOXANNE_WS_SERVER          0
#define NGX_HTTP_VOXANNE_WS_CLIENT          1

#define NGX_HTTP_VOXANNE_WS_CONTINUATION    0x0
#define NGX_HTTP_VOXANNE_WS_TEXT            0x1
#define NGX_HTTP_VOXANNE_WS_BINARY          0x2
#define NGX_HTTP_VOXANNE_WS_CLOSE           0x8
#define NGX_HTTP_VOXANNE_WS_PING            0x9
#define NGX_HTTP_VOXANNE_WS_PONG            0xa

#define NGX_HTTP_VOXANNE_WS_NORMAL          1000
#define NGX_HTTP_VOXANNE_WS_GOING_AWAY      1001
#define NGX_HTTP_VOXANNE_WS_PROTOCOL_ERROR  1002
#define NGX_HTTP_VOXANNE_WS_UNSUPPORTED     1003
#define NGX_HTTP_VOXANNE_WS_NO_STATUS       1005
#define NGX_HTTP_VOXANNE_WS_INVALID_DATA    1007
#define NGX_HTTP_VOXANNE_WS_POLICY          1008
#define NGX_HTTP_VOXANNE_WS_TOO_BIG         1009
#define NGX_HTTP_VOXANNE_WS_INTERNAL        1011

/* the payload of a control frame, the header of a server, a client frame */
#define NGX_HTTP_VOXANNE_WS_CONTROL_MAX     125
#define NGX_HTTP_VOXANNE_WS_HEADER_MAX      10
#define NGX_HTTP_VOXANNE_WS_MASKED_MAX      14

#define NGX_HTTP_VOXANNE_WS_NONCE_LEN       16

#define NGX_HTTP_VOXANNE_WS_KEY_LEN         24
#define NGX_HTTP_VOXANNE_WS_ACCEPT_LEN      28

/* the longest handshake answer a client reads */
#define NGX_HTTP_VOXANNE_WS_RESPONSE_MAX    8192


/* an incremental UTF-8 check: the continuation bytes still expected */

typedef struct {
    u_char                       need;
    u_char                       lo;    /* the range of the next one */
    u_char                       hi;
} ngx_http_voxanne_ws_utf8_t;


typedef struct {
    u_char                      *data;
    size_t                       len;
    ngx_uint_t                   opcode;
    unsigned                     last:1;    /* ends the frame */
    unsigned                     fin:1;     /* ends the message */
} ngx_http_voxanne_ws_chunk_t;


typedef struct {
    size_t                       max_message;

    /* set by the parser; error and close_code are for the caller */
    ngx_uint_t                   state;
    ngx_uint_t                   error;
    ngx_uint_t                   close_code;
    ngx_uint_t                   opcode;    /* of the frame */
    ngx_uint_t                   message;   /* of the open data message */
    size_t                       size;      /* declared so far in it */
    uint64_t                     length;    /* of the frame's payload */
    uint64_t                     offset;    /* of it delivered */
    ngx_uint_t                   need;      /* header bytes to come */
    ngx_http_voxanne_ws_utf8_t   text;
    ngx_http_voxanne_ws_utf8_t   reason;
    u_char                       mask[4];
    unsigned                     fin:1;
    unsigned                     client:1;  /* we are the client */
} ngx_http_voxanne_ws_t;


typedef struct {
    size_t                       scanned;   /* of whole lines, so far */
    size_t                       len;       /* of the head, once whole */
    ngx_uint_t                   status;
    const char                  *error;     /* why it is refused */
} ngx_http_voxanne_ws_response_t;


void ngx_http_voxanne_ws_init(ngx_http_voxanne_ws_t *ws, size_t max_message,
    ngx_uint_t side);
ngx_int_t ngx_http_voxanne_ws_parse(ngx_http_voxanne_ws_t *ws, u_char **pos,
    u_char *last, ngx_http_voxanne_ws_chunk_t *ch);

/*
 * Frames are written whole, never fragmented.  frame_header() writes
 * the header of a frame of len payload bytes (FIN set) and returns its
 * size: 2, 4 or 10 (NGX_HTTP_VOXANNE_WS_HEADER_MAX), or 0 for a control
 * frame over 125 bytes or a data frame of 2^63 bytes or more.
 * close_payload() writes the code and as much of the reason (UTF-8) as
 * fits 125 bytes, cut between characters, and returns the payload's size;
 * its header is then the 2 bytes before it:
 *
 *     n = ngx_http_voxanne_ws_close_payload(buf + 2, 1009, reason, len);
 *     (void) ngx_http_voxanne_ws_frame_header(buf, NGX_HTTP_VOXANNE_WS_CLOSE,
 *                                             n);
 *
 * A server's frames are not masked: frame_header().  A client's are:
 * masked_header() writes the same header with the mask bit and the 4-byte
 * key after the length, 6, 8 or 14 bytes (NGX_HTTP_VOXANNE_WS_MASKED_MAX),
 * or 0 as frame_header(); mask() then masks the payload in place (and
 * unmasks it, the same XOR), offset being where p lies in the payload.
 * The key must be fresh and unpredictable for each frame: the caller draws
 * it from a CSPRNG.
 */

size_t ngx_http_voxanne_ws_frame_header(u_char *dst, ngx_uint_t opcode,
    uint64_t len);
size_t ngx_http_voxanne_ws_masked_header(u_char *dst, ngx_uint_t opcode,
    uint64_t len, u_char *key);
void ngx_http_voxanne_ws_mask(u_char *p, size_t len, u_char *key,
    uint64_t offset);
size_t ngx_http_voxanne_ws_close_payload(u_char *dst, ngx_uint_t code,
    u_char *reason, size_t len);

/*
 * The handshake.  key_valid(): the Sec-WebSocket-Key is 16 bytes in
 * canonical base64 (24 characters, "==" at the end); NGX_OK or
 * NGX_DECLINED.  accept() writes the NGX_HTTP_VOXANNE_WS_ACCEPT_LEN
 * characters of Sec-WebSocket-Accept for a key: NGX_OK, NGX_DECLINED for an
 * invalid key, or NGX_ERROR when libcrypto fails.
 */

ngx_int_t ngx_http_voxanne_ws_key_valid(ngx_str_t *key);
ngx_int_t ngx_http_voxanne_ws_accept(u_char *dst, ngx_str_t *key);

/*
 * The client's side of the handshake.  key() writes the
 * NGX_HTTP_VOXANNE_WS_KEY_LEN characters of a Sec-WebSocket-Key from
 * NGX_HTTP_VOXANNE_WS_NONCE_LEN random bytes: NGX_OK or NGX_ERROR.
 *
 * response() reads the server's answer, data[0 .. len) being all it has
 * sent so far; the struct starts zeroed, and data may move between calls
 * as long as its bytes stay.  accept is Sec-WebSocket-Accept for our key.
 *
 *     NGX_AGAIN     the head is not whole yet: read more;
 *     NGX_OK        101 with "Upgrade: websocket", "Connection: upgrade",
 *                   our Sec-WebSocket-Accept and no extension or
 *                   subprotocol: frames start at data + r->len;
 *     NGX_DECLINED  a well-formed answer that refuses: r->status is not
 *                   101 (401, 403, 429, 503...), or it is but r->error
 *                   says what is wrong with the upgrade;
 *     NGX_ERROR     not an HTTP/1.x answer, or a head over
 *                   NGX_HTTP_VOXANNE_WS_RESPONSE_MAX bytes: r->error.
 *
 * token() is whether a comma-separated header value (Connection, Upgrade)
 * lists the token, compared case-insensitively.
 */

ngx_int_t ngx_http_voxanne_ws_key(u_char *dst, u_char *nonce);
ngx_int_t ngx_http_voxanne_ws_response(ngx_http_voxanne_ws_response_t *r,
    u_char *data, size_t len, u_char *accept);
ngx_uint_t ngx_http_voxanne_ws_token(ngx_str_t *value, char *token,
    size_t len);


#endif /* _NGX_HTTP_VOXANNE_WS_H_INCLUDED_ */
