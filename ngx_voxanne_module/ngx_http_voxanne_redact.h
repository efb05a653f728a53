
/*
 * Copyright (C) 2026 Voxanne Edge authors
 */


#ifndef _NGX_HTTP_VOXANNE_REDACT_H_INCLUDED_
#define _NGX_HTTP_VOXANNE_REDACT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH  8
#endif
#include <pcre2.h>


/*
 * Redaction of payment card and US social security numbers in transcript
 * text, before it is stored (docs/outcomes.md):
 *
 *     a card: 13 to 19 digits, single spaces or dashes between them
 *     allowed, not next to another digit, passing the Luhn check (the
 *     longest such run of whole digit groups within a longer one)
 *                                                       -> "[card]"
 *     an SSN: ddd-dd-dddd or ddd dd dddd, not next to another digit, area
 *     not 000, 666 or 9xx, group not 00, serial not 0000    -> "[ssn]"
 *
 * Nine digits without separators are left: they are as likely a phone
 * number or an order number.  The replacement is never longer than what
 * it replaces, so the text only shrinks.
 *
 * A pure codec (libc and PCRE2, no I/O): the patterns are compiled once,
 * ngx_http_voxanne_redact() then runs on any text.
 */


typedef struct {
    pcre2_code                 *card;
    pcre2_code                 *ssn;
    pcre2_match_data           *match;
} ngx_http_voxanne_redact_t;


ngx_int_t ngx_http_voxanne_redact_init(ngx_http_voxanne_redact_t *rd);
void ngx_http_voxanne_redact_free(ngx_http_voxanne_redact_t *rd);
size_t ngx_http_voxanne_redact(ngx_http_voxanne_redact_t *rd, u_char *text,
    size_t len, u_char *scratch);
ngx_uint_t ngx_http_voxanne_redact_luhn(u_char *p, size_t len);


#endif /* _NGX_HTTP_VOXANNE_REDACT_H_INCLUDED_ */
