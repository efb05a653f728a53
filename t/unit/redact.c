
/*
 * Copyright (C) 2026 Voxanne Edge authors
 *
 * Unit tests of the redaction of card and social security numbers.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_voxanne_redact.h"
#include "tap.h"


static ngx_http_voxanne_redact_t  rd;


static void
redacts(const char *text, const char *want, const char *what)
{
    u_char  *buf, *scratch;
    size_t   len, n;

    len = strlen(text);

    buf = malloc(len + 1);
    scratch = malloc(len + 1);

    memcpy(buf, text, len);

    n = ngx_http_voxanne_redact(&rd, buf, len, scratch);

    tap_ok(n <= len, "%s: never longer", what);
    tap_is_mem(buf, n, want, "%s", what);

    free(buf);
    free(scratch);
}


int
main(void)
{
    char        big[8192];
    ngx_uint_t  i;

    tap_ok(ngx_http_voxanne_redact_init(&rd) == NGX_OK, "patterns compile");

    tap_ok(ngx_http_voxanne_redact_luhn((u_char *) "4111111111111111", 16),
           "Luhn: a test Visa number passes");
    tap_ok(!ngx_http_voxanne_redact_luhn((u_char *) "4111111111111112", 16),
           "Luhn: one digit off fails");
    tap_ok(ngx_http_voxanne_redact_luhn((u_char *) "378282246310005", 15),
           "Luhn: a test Amex number passes");

    /* cards */

    redacts("my card is 4111111111111111 thanks",
            "my card is [card] thanks", "16 digits in a row");
    redacts("4111 1111 1111 1111", "[card]", "groups of four with spaces");
    redacts("4111-1111-1111-1111.", "[card].", "with dashes, then a stop");
    redacts("amex 3782 822463 10005 ok", "amex [card] ok",
            "Amex grouping 4-6-5");
    redacts("4242424242424242 and 5555555555554444",
            "[card] and [card]", "two cards");
    redacts("4111 1111 1111 1111 5500 0000 0000 0004", "[card] [card]",
            "two cards in one run of groups");
    redacts("4111 1111 1111 1111 12 25", "[card] 12 25",
            "a card followed by its expiry");
    redacts("order 12-4111-1111-1111-1111", "order 12-[card]",
            "a card after another digit group");
    redacts("6011000990139424", "[card]", "a Discover test number");
    redacts("4222222222222", "[card]", "13 digits");

    redacts("4111111111111112", "4111111111111112", "Luhn fails: kept");
    redacts("411111111111", "411111111111", "12 digits: kept");
    redacts("41111111111111111111", "41111111111111111111",
            "20 digits in a row: kept");
    redacts("x4111111111111111", "x[card]", "a letter before is no digit");
    redacts("4111 11 1111 1111 11", "4111 11 1111 1111 11",
            "a group of 2: not a card's grouping, kept");
    redacts("411 1111 1111 1111 1", "411 1111 1111 1111 1",
            "a first group of 3: kept");
    redacts("4111  1111 1111 1111", "4111  1111 1111 1111",
            "two spaces break the number");
    redacts("+1 415 555 0123 4567 890", "+1 415 555 0123 4567 890",
            "a phone number and more digits failing Luhn: kept");

    /* social security numbers */

    redacts("ssn 123-45-6789.", "ssn [ssn].", "with dashes");
    redacts("it is 123 45 6789", "it is [ssn]", "with spaces");
    redacts("123-45 6789", "123-45 6789", "mixed separators: kept");
    redacts("123456789", "123456789", "nine digits without separators: kept");
    redacts("000-12-3456 666-12-3456 912-34-5678 123-00-4567 123-45-0000",
            "000-12-3456 666-12-3456 912-34-5678 123-00-4567 123-45-0000",
            "numbers never issued: kept");
    redacts("1123-45-6789", "1123-45-6789", "a digit before: kept");
    redacts("123-45-67890", "123-45-67890", "a digit after: kept");
    redacts("123-45-6789 1234", "[ssn] 1234",
            "an SSN next to a group that is no card");

    /* both, and text around them */

    redacts("card 4111111111111111, ssn 078-05-1120; call me",
            "card [card], ssn [ssn]; call me", "a card and an SSN");
    redacts("", "", "empty text");
    redacts("no numbers here", "no numbers here", "nothing to redact");
    redacts("caf\xc3\xa9 4111111111111111 \xe2\x82\xac",
            "caf\xc3\xa9 [card] \xe2\x82\xac", "UTF-8 around a card kept");

    /* a long run of digits and separators stays linear */

    for (i = 0; i + 2 < sizeof(big); i += 2) {
        big[i] = '1';
        big[i + 1] = ' ';
    }

    big[i] = '\0';

    redacts(big, big, "8 KB of single digits: kept");

    ngx_http_voxanne_redact_free(&rd);
    tap_ok(rd.card == NULL && rd.match == NULL, "freed");

    return tap_done();
}
