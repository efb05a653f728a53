use Test::Nginx::Socket 'no_plan';

# The published X-Twilio-Signature test vectors (protocols.md section 1.4,
# from Twilio's SDK test suites, auth token "12345") through the recording
# route, which needs nothing but a CallSid; add_header exposes the outcome.

sub tenant {
    my ($url, @extra) = @_;
    return <<"_EOC_";
    voxanne_tenant vectors {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000a;
        numbers                +18005551212;
        twilio_auth_token_file ../html/a.token;
        @{[ join '', map { "$_;\n" } @extra ]}
        public_url             $url;
    }
_EOC_
}

our $location = <<'_EOC_';
    location = /myapp.php {
        voxanne_twilio recording tenant=vectors;
        add_header X-Signature $voxanne_signature always;
        add_header X-Tenant $voxanne_tenant always;
    }
_EOC_

our $files = <<'_EOC_';
>>> a.token
12345
>>> b.token
67890
_EOC_

# P of the vectors, form-encoded
our $P = 'CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234'
       . '&From=%2B14158675309&To=%2B18005551212';

our $json = '{"property": "value", "boolean": true}';
our $json_sha = '0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620';
our $empty_sha = '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

sub form_request {
    my ($uri, $body) = @_;
    return "POST $uri\n$body";
}

run_tests();

__DATA__

=== TEST 1: V1, the base URL and parameters
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8=
--- request eval: ::form_request('/myapp.php?foo=1&bar=2', $::P)
--- error_code: 200
--- response_headers
X-Signature: ok
X-Tenant: vectors
Content-Type: text/xml
--- response_body
<?xml version="1.0" encoding="UTF-8"?>
<Response><Hangup/></Response>
--- error_log
recording "" status "" duration ""
--- no_error_log
[warn]



=== TEST 2: V2, signed with :443 added, configured without a port
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: kvajT1Ptam85bY51eRf/AJRuM3w=
--- request eval: ::form_request('/myapp.php?foo=1&bar=2', $::P)
--- error_code: 200
--- response_headers
X-Signature: ok
--- no_error_log
[warn]



=== TEST 3: V3, http signed with :80, configured without a port
--- http_config eval: ::tenant('http://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: 0ZXoZLH/DfblKGATFgpif+LLRf4=
--- request eval: ::form_request('/myapp.php?foo=1&bar=2', $::P)
--- error_code: 200
--- response_headers
X-Signature: ok
--- no_error_log
[warn]



=== TEST 4: V4, http with port 1234
--- http_config eval: ::tenant('http://mycompany.com:1234')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: Zmvh+3yNM1Phv2jhDCwEM3q5ebU=
--- request eval: ::form_request('/myapp.php?foo=1&bar=2', $::P)
--- error_code: 200
--- response_headers
X-Signature: ok
--- no_error_log
[warn]



=== TEST 5: V5, configured with :1234, signed without the port
--- http_config eval: ::tenant('https://mycompany.com:1234')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8=
--- request eval: ::form_request('/myapp.php?foo=1&bar=2', $::P)
--- error_code: 200
--- response_headers
X-Signature: ok
--- no_error_log
[warn]



=== TEST 6: V6, repeated names deduplicated and sorted by name, then value
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: IK+Dwps556ElfBT0I3Rgjkr1wJU=
--- request eval
::form_request('/myapp.php?foo=1&bar=2',
    'Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234')
--- error_code: 400
--- response_headers
X-Signature: ok
--- error_log
voxanne: twilio recording: tenant "vectors": no valid CallSid
--- no_error_log
[warn]



=== TEST 7: V7, a repeated dotted name, in one order
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: 83O6e2vORAoJHUNzJjDWN1jz+BA=
--- request eval
::form_request('/myapp.php?foo=1&bar=2',
    'MessagingBinding.Address=%2B1325xxxxxxx&MessagingBinding.Address=%2B1415xxxxxxx')
--- error_code: 400
--- response_headers
X-Signature: ok
--- no_error_log
[warn]



=== TEST 8: V7, and in the other order
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: 83O6e2vORAoJHUNzJjDWN1jz+BA=
--- request eval
::form_request('/myapp.php?foo=1&bar=2',
    'MessagingBinding.Address=%2B1415xxxxxxx&MessagingBinding.Address=%2B1325xxxxxxx')
--- error_code: 400
--- response_headers
X-Signature: ok
--- no_error_log
[warn]



=== TEST 9: V8, a JSON body with bodySHA256 in the URL
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/json
X-Twilio-Signature: a9nBmqA0ju/hNViExpshrM61xv4=
--- request eval: ::form_request("/myapp.php?foo=1&bar=2&bodySHA256=$::json_sha", $::json)
--- error_code: 400
--- response_headers
X-Signature: ok
--- error_log
no valid CallSid
--- no_error_log
[warn]



=== TEST 10: V8, the same signature over a body that is not the hashed one
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/json
X-Twilio-Signature: a9nBmqA0ju/hNViExpshrM61xv4=
--- request eval: ::form_request("/myapp.php?foo=1&bar=2&bodySHA256=$::json_sha", '{"property": "value", "boolean": false}')
--- error_code: 403
--- response_headers
X-Signature: invalid
--- response_body
--- error_log
voxanne: twilio recording: tenant "vectors": the body does not match bodySHA256, forbidden



=== TEST 11: V8b, bodySHA256 the only argument
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/json; charset=utf-8
X-Twilio-Signature: y77kIzt2vzLz71DgmJGsen2scGs=
--- request eval: ::form_request("/myapp.php?bodySHA256=$::json_sha", $::json)
--- error_code: 400
--- response_headers
X-Signature: ok
--- no_error_log
[warn]



=== TEST 12: V8c, an empty JSON object, which matches only the :443 variant
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/json
X-Twilio-Signature: Ldidvp12m26NI7eqEvxnEpkd9Hc=
--- request eval: ::form_request("/myapp.php?foo=1&bar=2&bodySHA256=$::empty_sha", '{}')
--- error_code: 400
--- response_headers
X-Signature: ok
--- no_error_log
[warn]



=== TEST 13: V8, a JSON body without bodySHA256 is refused
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/json
X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8=
--- request eval: ::form_request("/myapp.php?foo=1&bar=2", $::json)
--- error_code: 403
--- response_headers
X-Signature: invalid



=== TEST 14: V9, credentials in the URL are signed
--- http_config eval: ::tenant('https://user:pass@mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: CukzLTc1tT5dXEDIHm/tKBanW10=
--- request eval: ::form_request('/myapp.php?foo=1&bar=2', $::P)
--- error_code: 200
--- response_headers
X-Signature: ok
--- no_error_log
[warn]



=== TEST 15: V9, credentials in the URL with :443
--- http_config eval: ::tenant('https://user:pass@mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: ZQFR1PTIZXF2MXB8ZnKCvnnA+rI=
--- request eval: ::form_request('/myapp.php?foo=1&bar=2', $::P)
--- error_code: 200
--- response_headers
X-Signature: ok
--- no_error_log
[warn]



=== TEST 16: V10, an apostrophe in the query, signed as %27
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: TfZzewPq8wqrGlMfyAud8+/IvJ0=
--- request eval: ::form_request("/myapp.php?foo=1&bar=2&Body=It's+amazing", $::P)
--- error_code: 200
--- response_headers
X-Signature: ok
--- no_error_log
[warn]



=== TEST 17: no signature: 403, empty body, a log line without secrets
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request eval: ::form_request('/myapp.php?foo=1&bar=2', $::P)
--- error_code: 403
--- response_headers
X-Signature: missing
Content-Length: 0
--- response_body
--- error_log
voxanne: twilio recording: tenant "vectors": no X-Twilio-Signature, forbidden



=== TEST 18: one changed parameter: 403, neither the token nor the signature logged
--- log_level: info
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8=
--- request eval: ::form_request('/myapp.php?foo=1&bar=2', $::P =~ s/Digits=1234/Digits=1235/r)
--- error_code: 403
--- response_headers
X-Signature: invalid
--- response_body
--- error_log
X-Twilio-Signature does not match, forbidden
--- no_error_log
RSOYDt4T1cUTdK1PDd93
12345



=== TEST 19: a changed query string: 403
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8=
--- request eval: ::form_request('/myapp.php?foo=1&bar=3', $::P)
--- error_code: 403
--- response_headers
X-Signature: invalid



=== TEST 20: the wrong public URL host: 403
--- http_config eval: ::tenant('https://edge.example.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8=
--- request eval: ::form_request('/myapp.php?foo=1&bar=2', $::P)
--- error_code: 403
--- response_headers
X-Signature: invalid



=== TEST 21: malformed signature headers are refused, not crashed on
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers eval
[
"Content-Type: application/x-www-form-urlencoded\nX-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8",
"Content-Type: application/x-www-form-urlencoded\nX-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8==",
"Content-Type: application/x-www-form-urlencoded\nX-Twilio-Signature: !!!!!!!!!!!!!!!!!!!!!!!!!!!=",
"Content-Type: application/x-www-form-urlencoded\nX-Twilio-Signature: ",
]
--- request eval
[ map { ::form_request('/myapp.php?foo=1&bar=2', $::P) } 1 .. 4 ]
--- error_code eval: [403, 403, 403, 403]



=== TEST 22: the secondary token (rotation) is accepted, and said so
--- http_config eval: ::tenant('https://mycompany.com', 'twilio_auth_token_file ../html/b.token')
--- user_files
>>> a.token
67890
>>> b.token
12345
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
X-Twilio-Signature: RSOYDt4T1cUTdK1PDd93/VVr8B8=
--- request eval: ::form_request('/myapp.php?foo=1&bar=2', $::P)
--- error_code: 200
--- response_headers
X-Signature: ok
--- error_log
tenant "vectors": signed with the secondary auth token



=== TEST 23: the header name is case-insensitive (WebSocket upgrades send it lowercase)
--- http_config eval: ::tenant('https://mycompany.com')
--- user_files eval: $::files
--- config eval: $::location
--- more_headers
Content-Type: application/x-www-form-urlencoded
x-twilio-signature: RSOYDt4T1cUTdK1PDd93/VVr8B8=
--- request eval: ::form_request('/myapp.php?foo=1&bar=2', $::P)
--- error_code: 200
--- response_headers
X-Signature: ok
