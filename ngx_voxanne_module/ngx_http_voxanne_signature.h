
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_SIGNATURE_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_SIGNATURE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_form.h"
#include "ngx_http_voxanne_hmac.h"


/*
 * X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + sorted params)).
 * A pure codec (libc and libcrypto only, no allocation) so that unit tests
 * and fuzzers drive it directly.
 */


#define NGX_HTTP_VOXANNE_SIGNATURE_LEN  28


typedef struct {
    ngx_str_t               *bases;   /* the public URL, its port variant */
    ngx_uint_t               nbases;
    ngx_http_voxanne_key_t  *keys;    /* auth tokens, the primary first */
    ngx_uint_t               nkeys;
    ngx_str_t                uri;     /* the raw request URI */
    ngx_str_t                params;  /* ngx_http_voxanne_signature_params() */
    u_char                  *buf;     /* ..._signature_buf_size() bytes */
    ngx_uint_t               token;   /* the index of the key that matched */
} ngx_http_voxanne_signature_t;


ngx_int_t ngx_http_voxanne_signature_base_variant(ngx_str_t *base,
    u_char *buf, ngx_str_t *variant);
size_t ngx_http_voxanne_signature_params_size(
    ngx_http_voxanne_param_t *params, ngx_uint_t n);
u_char *ngx_http_voxanne_signature_params(u_char *dst,
    ngx_http_voxanne_param_t *params, ngx_uint_t n);
size_t ngx_http_voxanne_signature_buf_size(ngx_http_voxanne_signature_t *sig);
ngx_int_t ngx_http_voxanne_signature_verify(ngx_http_voxanne_signature_t *sig,
    ngx_str_t *header);


#endif /* _NGX_HTTP_VOXANNE_SIGNATURE_H_INCLUDED_ */
