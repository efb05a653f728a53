
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_TOKEN_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_TOKEN_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_hmac.h"


/*
 * The Media Streams token that the voice webhook hands to Twilio as a
 * <Stream> <Parameter> and that the stream's "start" message brings back:
 *
 *     v1.<expires>.<mac>
 *
 * <expires> is Unix seconds in canonical decimal, <mac> is unpadded
 * base64url of HMAC-SHA256(auth token, "voxanne-stream-token/v1" "\n"
 * expires "\n" tenant "\n" call_sid).  It binds the CallSid to the tenant
 * until it expires.  A pure codec (libc and libcrypto only, no allocation)
 * so that unit tests and fuzzers drive it directly.
 */


#define NGX_HTTP_VOXANNE_TOKEN_MAC_LEN     43
#define NGX_HTTP_VOXANNE_TOKEN_TENANT_MAX  64
#define NGX_HTTP_VOXANNE_TOKEN_SID_MAX     64

/* the most ngx_http_voxanne_token_create() writes */
#define NGX_HTTP_VOXANNE_TOKEN_LEN                                            \
    (3 + NGX_INT64_LEN + 1 + NGX_HTTP_VOXANNE_TOKEN_MAC_LEN)


u_char *ngx_http_voxanne_token_create(u_char *dst, ngx_http_voxanne_key_t *key,
    ngx_str_t *tenant, ngx_str_t *call_sid, time_t expires);
ngx_int_t ngx_http_voxanne_token_verify(ngx_str_t *token,
    ngx_http_voxanne_key_t *keys, ngx_uint_t nkeys, ngx_str_t *tenant,
    ngx_str_t *call_sid, time_t now);


#endif /* _NGX_HTTP_VOXANNE_TOKEN_H_INCLUDED_ */
