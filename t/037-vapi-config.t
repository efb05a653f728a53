use Test::Nginx::Socket 'no_plan';

# voxanne_vapi and the tenant directives vapi_auth and vapi_assistant:
# every configuration error stops nginx with a message naming it.

sub tenant {
    my ($extra) = @_;
    return <<"_EOC_";
    voxanne_tenant clinic-a {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000a;
        numbers                +15550100001;
        twilio_auth_token_file ../html/a.token;
        public_url             https://edge.example.com;
        $extra
    }
_EOC_
}

our $files = <<'_EOC_';
>>> a.token
12345
>>> vapi.secret
vapi-secret-1
>>> empty.secret

>>> not.b64
*** not base64 ***
_EOC_

run_tests();

__DATA__

=== TEST 1: a working configuration of every auth mode and the assistant
--- http_config eval
::tenant('vapi_auth hmac file=../html/vapi.secret algorithm=sha1 "format={timestamp}:{body}" encoding=base64 prefix=sha1= header=X-Sig timestamp_header=X-Ts id_header=X-Id tolerance=1m; vapi_assistant 8c3f1f2e-1b2a-4c5d-9e8f-0a1b2c3d4e5f after_hours=night_1;')
--- user_files eval: $::files
--- config
    location = /vapi { voxanne_vapi; }
    location = /vapi-a { voxanne_vapi tenant=clinic-a; }
--- request
GET /vapi
--- error_code: 405



=== TEST 2: an unknown auth mode
--- http_config eval: ::tenant('vapi_auth token file=../html/vapi.secret;')
--- user_files eval: $::files
--- must_die
--- error_log
invalid vapi_auth "token" in tenant "clinic-a", "secret", "bearer" or "hmac" is expected



=== TEST 3: no file=
--- http_config eval: ::tenant('vapi_auth secret header=X-Vapi-Secret;')
--- user_files eval: $::files
--- must_die
--- error_log
vapi_auth of tenant "clinic-a" needs file=



=== TEST 4: an HMAC parameter in secret mode
--- http_config eval: ::tenant('vapi_auth secret file=../html/vapi.secret algorithm=sha256;')
--- user_files eval: $::files
--- must_die
--- error_log
invalid parameter "algorithm=sha256" in vapi_auth secret of tenant "clinic-a"



=== TEST 5: an unknown parameter
--- http_config eval: ::tenant('vapi_auth bearer file=../html/vapi.secret realm=x;')
--- user_files eval: $::files
--- must_die
--- error_log
invalid parameter "realm=x" in vapi_auth bearer of tenant "clinic-a"



=== TEST 6: an unknown algorithm
--- http_config eval: ::tenant('vapi_auth hmac file=../html/vapi.secret algorithm=md5;')
--- user_files eval: $::files
--- must_die
--- error_log
invalid parameter "algorithm=md5" in vapi_auth hmac of tenant "clinic-a"



=== TEST 7: an unknown encoding
--- http_config eval: ::tenant('vapi_auth hmac file=../html/vapi.secret encoding=base32;')
--- user_files eval: $::files
--- must_die
--- error_log
invalid parameter "encoding=base32" in vapi_auth hmac of tenant "clinic-a"



=== TEST 8: a zero tolerance
--- http_config eval: ::tenant('vapi_auth hmac file=../html/vapi.secret tolerance=0;')
--- user_files eval: $::files
--- must_die
--- error_log
invalid parameter "tolerance=0" in vapi_auth hmac of tenant "clinic-a"



=== TEST 9: a format with an unknown placeholder
--- http_config eval: ::tenant('vapi_auth hmac file=../html/vapi.secret "format={nonce}.{body}";')
--- user_files eval: $::files
--- must_die
--- error_log
invalid format "{nonce}.{body}" in vapi_auth of tenant "clinic-a", placeholders are {body}, {timestamp}, {method}, {url} and {svix-id}



=== TEST 10: an empty header name
--- http_config eval: ::tenant('vapi_auth secret file=../html/vapi.secret header=;')
--- user_files eval: $::files
--- must_die
--- error_log
empty header name in vapi_auth of tenant "clinic-a"



=== TEST 11: a missing secret file
--- http_config eval: ::tenant('vapi_auth secret file=../html/nowhere.secret;')
--- user_files eval: $::files
--- must_die
--- error_log eval
qr/open\(\) ".*nowhere\.secret" failed/



=== TEST 12: an empty secret file
--- http_config eval: ::tenant('vapi_auth secret file=../html/empty.secret;')
--- user_files eval: $::files
--- must_die
--- error_log
vapi_auth file "../html/empty.secret" of tenant "clinic-a" is empty



=== TEST 13: a secret file that is not base64 with secret=base64
--- http_config eval: ::tenant('vapi_auth hmac file=../html/not.b64 secret=base64;')
--- user_files eval: $::files
--- must_die
--- error_log
vapi_auth file "../html/not.b64" of tenant "clinic-a" is not base64



=== TEST 14: vapi_auth twice
--- http_config eval: ::tenant('vapi_auth secret file=../html/vapi.secret; vapi_auth bearer file=../html/vapi.secret;')
--- user_files eval: $::files
--- must_die
--- error_log
duplicate "vapi_auth" in tenant "clinic-a"



=== TEST 15: an invalid assistant id
--- http_config eval: ::tenant('vapi_assistant "asst 1";')
--- user_files eval: $::files
--- must_die
--- error_log
invalid vapi_assistant "asst 1" in tenant "clinic-a"



=== TEST 16: an invalid after_hours
--- http_config eval: ::tenant('vapi_assistant asst_1 night=asst_2;')
--- user_files eval: $::files
--- must_die
--- error_log
invalid vapi_assistant "night=asst_2" in tenant "clinic-a"



=== TEST 17: voxanne_vapi: an unknown tenant
--- http_config eval: ::tenant('')
--- user_files eval: $::files
--- config
    location = /vapi { voxanne_vapi tenant=clinic-z; }
--- must_die
--- error_log
unknown tenant "clinic-z" in voxanne_vapi



=== TEST 18: voxanne_vapi: a bad parameter
--- http_config eval: ::tenant('')
--- user_files eval: $::files
--- config
    location = /vapi { voxanne_vapi clinic-a; }
--- must_die
--- error_log
invalid parameter "clinic-a"



=== TEST 19: voxanne_vapi twice
--- http_config eval: ::tenant('')
--- user_files eval: $::files
--- config
    location = /vapi { voxanne_vapi; voxanne_vapi; }
--- must_die
--- error_log
"voxanne_vapi" directive is duplicate



=== TEST 20: voxanne_vapi with another content handler
--- http_config eval: ::tenant('')
--- user_files eval: $::files
--- config
    location = /vapi { voxanne_twilio voice; voxanne_vapi; }
--- must_die
--- error_log
"voxanne_vapi" directive conflicts with another content handler in this location



=== TEST 21: voxanne_twilio does not take the vapi route
--- http_config eval: ::tenant('')
--- user_files eval: $::files
--- config
    location = /vapi { voxanne_twilio vapi; }
--- must_die
--- error_log
invalid route "vapi", "voice", "stream-ended", "status" or "recording" is expected
