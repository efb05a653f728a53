use Test::Nginx::Socket 'no_plan';
use Voxanne::Test::Vapi qw(vapi_request vapi_message);
use POSIX qw(strftime);

# Vapi server webhooks (voxanne_vapi, protocols.md §6).  A block's "vapi"
# section lists its webhooks: each is turned by vapi_request() into a
# request with its credentials; a plain string is sent as is.

add_block_preprocessor(sub {
    my $block = shift;
    my $hooks = $block->vapi or return;
    my (@requests, @headers);
    for my $hook (@$hooks) {
        if (!ref $hook) {
            push @requests, $hook;
            push @headers, '';
            next;
        }
        my ($request, $headers) = vapi_request(%$hook);
        push @requests, $request;
        push @headers, $headers;
    }
    $block->set_value(request => \@requests);
    $block->set_value(more_headers => \@headers);
});

sub tenant {
    my (%o) = (timezone => 'UTC', vapi_auth => 'secret file=../html/vapi.secret', @_);
    my $name = delete $o{name} // 'clinic-a';
    my $number = delete $o{number} // '+15550100001';
    my $extra = join '', map { "        $_ $o{$_};\n" } grep { length $o{$_} } sort keys %o;
    return <<"_EOC_";
    voxanne_tenant $name {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000a;
        numbers                $number;
        twilio_auth_token_file ../html/a.token;
        public_url             https://edge.example.com;
$extra    }
_EOC_
}

# the dates around today, so that "closed today" holds at midnight too
sub around_today {
    return join ' ', map { strftime('%Y-%m-%d', gmtime(time + $_ * 86400)) } -1 .. 1;
}

sub assistant_request {
    my (%o) = @_;
    return vapi_message('assistant-request', phoneNumber => { number => $o{number} // '+15550100001' },
                        customer => { number => '+14155550123' },
                        call => { id => 'call-1', phoneCallProviderId => 'CA' . '1' x 32 });
}

sub tool_calls { vapi_message('tool-calls', phoneNumber => { number => '+15550100001' }, @_) }

our $secret = { secret => 'vapi-secret-1' };

our $files = <<'_EOC_';
>>> a.token
12345
>>> vapi.secret
vapi-secret-1
>>> vapi.b64
cmF3IHNlY3JldCBieXRlcw==
_EOC_

our $locations = <<'_EOC_';
    location /vapi {
        add_header X-Tenant $voxanne_tenant always;
        add_header X-Call $voxanne_call_sid always;
        add_header X-Route $voxanne_route always;

        location = /vapi { voxanne_vapi; }
        location /vapi/ { voxanne_vapi; }
        location = /vapi-pinned { voxanne_vapi tenant=clinic-a; }
    }
    location = /metrics { voxanne_metrics; }
_EOC_

run_tests();

__DATA__

=== TEST 1: X-Vapi-Secret: the right secret is accepted, a status update gets a quick 200
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval
[ { auth => $::secret,
    body => ::vapi_message('status-update', status => 'ended', endedReason => 'customer-ended-call',
                         phoneNumber => { number => '+15550100001' }, call => { id => 'call-7' }) } ]
--- error_code: 200
--- response_headers
Content-Type: application/json
X-Tenant: clinic-a
X-Call: call-7
X-Route: vapi
--- response_body
{}
--- error_log
vapi status-update: tenant "clinic-a" call "call-7": status "ended", ended "customer-ended-call"
--- no_error_log
[warn]



=== TEST 2: X-Vapi-Secret: wrong, missing, longer, or a Bearer token instead: 401, nothing processed, no secret logged
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval
[ { auth => { secret => 'vapi-secret-2' } }, {}, { auth => { secret => 'vapi-secret-1x' } },
  { auth => { bearer => 'vapi-secret-1' } } ]
--- error_code eval: [401, 401, 401, 401]
--- response_body eval: [ (qq{{"error":"unauthorized"}\n}) x 4 ]
--- response_headers eval: [ ("X-Tenant: clinic-a") x 4 ]
--- error_log
vapi: tenant "clinic-a": the credential does not match, unauthorized
vapi: tenant "clinic-a": the credential header is missing, unauthorized
--- log_level: info
--- no_error_log
vapi-secret
status "ended"



=== TEST 3: Bearer: the token after "Bearer " in Authorization, or in a header of the operator's choice
--- http_config eval
::tenant(vapi_auth => 'bearer file=../html/vapi.secret')
. ::tenant(name => 'clinic-b', number => '+15550100002',
           vapi_auth => 'bearer file=../html/vapi.secret header=X-Api-Key')
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval
[ { auth => { bearer => 'vapi-secret-1' } },
  { auth => { bearer => 'vapi-secret-2' } },
  { auth => { secret => 'vapi-secret-1', header => 'Authorization' } },
  { uri => '/vapi/clinic-b', auth => { bearer => 'vapi-secret-1', header => 'X-Api-Key' } },
  { uri => '/vapi/clinic-b', auth => { bearer => 'vapi-secret-1' } } ]
--- error_code eval: [200, 401, 401, 200, 401]
--- error_log
the credential is not a Bearer token, unauthorized
the credential does not match, unauthorized
the credential header is missing, unauthorized



=== TEST 4: HMAC with the documented defaults: SHA-256 of "{timestamp}.{body}", hex in x-signature, x-timestamp within 300 s
--- http_config eval: ::tenant(vapi_auth => 'hmac file=../html/vapi.secret')
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval
[ { auth => { hmac => 'vapi-secret-1' } },
  { auth => { hmac => 'vapi-secret-1', timestamp => time * 1000 } },
  { auth => { hmac => 'vapi-secret-1', timestamp => time - 250 } },
  { auth => { hmac => 'vapi-secret-2' } },
  { auth => { hmac => 'vapi-secret-1', timestamp => time - 400 } },
  { auth => { hmac => 'vapi-secret-1', timestamp => time + 400 } },
  { auth => { hmac => 'vapi-secret-1', no_timestamp => 1 } },
  { auth => { hmac => 'vapi-secret-1', timestamp => 'yesterday' } } ]
--- error_code eval: [200, 200, 200, 401, 401, 401, 401, 401]
--- error_log
the signature does not match, unauthorized
the timestamp is malformed or out of tolerance, unauthorized
the timestamp header is missing, unauthorized



=== TEST 5: a replayed request: the same signed message, once its timestamp is out of tolerance
--- http_config eval: ::tenant(vapi_auth => 'hmac file=../html/vapi.secret tolerance=2s')
--- user_files eval: $::files
--- config eval: $::locations
--- request eval
my ($r, $h) = Voxanne::Test::Vapi::vapi_request(auth => { hmac => 'vapi-secret-1' });
[ $r, [{ value => $r, delay_before => 3.5 }] ]
--- more_headers eval
my ($r, $h) = Voxanne::Test::Vapi::vapi_request(auth => { hmac => 'vapi-secret-1' });
[ $h, $h ]
--- error_code eval: [200, 401]
--- error_log
the timestamp is malformed or out of tolerance, unauthorized
--- timeout: 10



=== TEST 6: HMAC as configured: SHA-512 of the body in base64 with a prefix; Svix style; method and URL; a base64 secret
--- http_config eval
::tenant(vapi_auth => 'hmac file=../html/vapi.secret algorithm=sha512 "format={body}" encoding=base64 prefix=sha512= header=x-vapi-signature')
. ::tenant(name => 'clinic-b', number => '+15550100002',
           vapi_auth => 'hmac file=../html/vapi.secret "format={svix-id}.{timestamp}.{body}" header=svix-signature timestamp_header=svix-timestamp encoding=base64 prefix=v1,')
. ::tenant(name => 'clinic-c', number => '+15550100003',
           vapi_auth => 'hmac file=../html/vapi.b64 secret=base64 algorithm=sha1 "format={method} {url}\n{body}"')
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval
[ { auth => { hmac => 'vapi-secret-1', algorithm => 'sha512', format => '{body}', encoding => 'base64',
              prefix => 'sha512=', header => 'x-vapi-signature', no_timestamp => 1 } },
  { auth => { hmac => 'vapi-secret-1', algorithm => 'sha512', format => '{body}', encoding => 'base64',
              header => 'x-vapi-signature', no_timestamp => 1 } },
  { uri => '/vapi/clinic-b',
    auth => { hmac => 'vapi-secret-1', format => '{svix-id}.{timestamp}.{body}', header => 'svix-signature',
              timestamp_header => 'svix-timestamp', encoding => 'base64', prefix => 'v1,', id => 'msg_2a' } },
  { uri => '/vapi/clinic-b',
    auth => { hmac => 'vapi-secret-1', format => '{svix-id}.{timestamp}.{body}', header => 'svix-signature',
              timestamp_header => 'svix-timestamp', encoding => 'base64', prefix => 'v1,' } },
  { uri => '/vapi/clinic-c',
    auth => { hmac => 'raw secret bytes', algorithm => 'sha1', format => "{method} {url}\n{body}" } },
  { uri => '/vapi/clinic-c?x=1',
    auth => { hmac => 'raw secret bytes', algorithm => 'sha1', format => "{method} {url}\n{body}" } } ]
--- error_code eval: [200, 401, 200, 401, 200, 200]
--- error_log
the message id header is missing, unauthorized



=== TEST 7: the tenant: the answered number, else the last path segment, else the route's own; unknown: 404
--- http_config eval
::tenant() . ::tenant(name => 'clinic-b', number => '+15550100002')
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval
[ { auth => $::secret, body => ::assistant_request(number => '+15550100002') },
  { uri => '/vapi/clinic-a', auth => $::secret, body => ::assistant_request(number => '+15559999999') },
  { uri => '/vapi-pinned', auth => $::secret, body => ::assistant_request(number => '+15550100002') },
  { auth => $::secret, body => ::assistant_request(number => '+15559999999') },
  { uri => '/vapi/clinic-z', auth => $::secret, body => ::vapi_message('status-update') } ]
--- error_code eval: [200, 200, 200, 404, 404]
--- response_headers eval
[ "X-Tenant: clinic-b", "X-Tenant: clinic-a", "X-Tenant: clinic-a", "!X-Tenant", "!X-Tenant" ]
--- response_body_like eval
[ qr/has no vapi_assistant|cannot take calls/, qr/cannot take calls/, qr/cannot take calls/,
  qr/^\{"error":"unknown tenant"\}$/, qr/^\{"error":"unknown tenant"\}$/ ]
--- error_log
vapi assistant-request: no tenant for "+15559999999"
vapi status-update: no tenant for ""



=== TEST 8: assistant-request while open: the tenant's assistant
--- http_config eval: ::tenant(vapi_assistant => 'asst_day-1 after_hours=asst_night-2')
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval: [ { auth => $::secret, body => ::assistant_request() } ]
--- error_code: 200
--- response_body
{"assistantId":"asst_day-1"}
--- response_headers
X-Call: call-1



=== TEST 9: assistant-request after hours: the after-hours assistant
--- http_config eval
::tenant(vapi_assistant => 'asst_day-1 after_hours=asst_night-2', closed => ::around_today())
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval: [ { auth => $::secret, body => ::assistant_request() } ]
--- error_code: 200
--- response_body
{"assistantId":"asst_night-2"}
--- error_log
vapi: tenant "clinic-a": after hours



=== TEST 10: assistant-request after hours without an after-hours assistant: a transfer to the after-hours number, or a message
--- http_config eval
::tenant(vapi_assistant => 'asst_day-1', closed => ::around_today(), after_hours => 'dial +15557654321')
. ::tenant(name => 'clinic-b', number => '+15550100002', vapi_assistant => 'asst_day-1',
           closed => ::around_today())
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval
[ { auth => $::secret, body => ::assistant_request() },
  { auth => $::secret, body => ::assistant_request(number => '+15550100002') } ]
--- error_code eval: [200, 200]
--- response_body eval
[ qq{{"destination":{"type":"number","number":"+15557654321"}}\n},
  qq{{"error":"We are closed right now. Please call again during our opening hours."}\n} ]



=== TEST 11: tool-calls in the three shapes: results in the calls' order, with their ids
--- http_config eval: ::tenant(timezone => 'America/New_York')
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval
[ { auth => $::secret,
    body => ::tool_calls(toolCallList => [
        { id => 'call_a', type => 'function', function => { name => 'get_current_time', arguments => '{}' } },
        { id => 'call_b', name => 'get_current_time', arguments => {} },
        { id => 'call_c', name => 'get_current_time', parameters => { zone => 'ignored' } } ]) },
  { auth => $::secret,
    body => ::tool_calls(toolWithToolCallList => [
        { name => 'get_current_time', toolCall => { id => 'call_d', parameters => {} } } ]) } ]
--- error_code eval: [200, 200]
--- response_body_like eval
[ qr/^\{"results":\[\{"toolCallId":"call_a","result":"It is \w+day, \w+ \d+, 20\d\d, \d+:\d\d [AP]M \(America\/New_York\)\."\},\{"toolCallId":"call_b","result":"It is [^"]+"\},\{"toolCallId":"call_c","result":"It is [^"]+"\}\]\}$/,
  qr/^\{"results":\[\{"toolCallId":"call_d","result":"It is [^"]+"\}\]\}$/ ]



=== TEST 12: tool-calls that cannot run: an error line each, still 200; calls without an id are left out
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval
[ { auth => $::secret,
    body => ::tool_calls(toolCallList => [
        { id => 'call_a', name => 'book_a_yacht', arguments => {} },
        { name => 'get_current_time' },
        { id => 'call_b', function => { name => 'get_current_time', arguments => '{oops' } },
        { id => 'call_c', name => 'rm -rf', arguments => {} } ]) },
  { auth => $::secret, body => ::tool_calls() } ]
--- error_code eval: [200, 200]
--- response_body eval
[ qq{{"results":[{"toolCallId":"call_a","error":"There is no tool named book_a_yacht."},{"toolCallId":"call_b","error":"the tool call's arguments are not a JSON object"},{"toolCallId":"call_c","error":"the tool call has no valid name"}]}\n},
  qq{{"results":[]}\n} ]
--- error_log
unknown tool "book_a_yacht"
vapi tool-calls: tenant "clinic-a": no tool call list



=== TEST 13: end_call and transfer_to_human are the realtime agent's: Vapi ends and transfers with its own tools
--- http_config eval: ::tenant(fallback => 'dial +15550100999')
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval
[ { auth => $::secret,
    body => ::tool_calls(toolCallList => [
        { id => 'call_a', name => 'end_call', arguments => {} },
        { id => 'call_b', name => 'transfer_to_human', arguments => { reason => 'asks for a person' } } ]) } ]
--- error_code: 200
--- response_body
{"results":[{"toolCallId":"call_a","error":"This tool is not available on this line: use endCall or transferCall."},{"toolCallId":"call_b","error":"This tool is not available on this line: use endCall or transferCall."}]}



=== TEST 14: other messages get an empty 200 at once
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval
[ { uri => '/vapi/clinic-a', auth => $::secret,
    body => ::vapi_message('end-of-call-report', endedReason => 'assistant-ended-call',
                           call => { id => 'call-9' }, artifact => {}, analysis => {}) },
  { uri => '/vapi/clinic-a', auth => $::secret,
    body => ::vapi_message('speech-update', status => 'started', role => 'user') },
  { uri => '/vapi/clinic-a', auth => $::secret,
    body => ::vapi_message('transcript[transcriptType="final"]', transcript => 'hi') } ]
--- error_code eval: [200, 200, 200]
--- response_body eval: [ ("{}\n") x 3 ]
--- error_log
vapi end-of-call-report: tenant "clinic-a" call "call-9": status "", ended "assistant-ended-call"



=== TEST 15: bad requests: malformed JSON, not a message, another content type, GET, too large
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: "voxanne_body_max 2k;\n" . $::locations
--- vapi eval
[ { auth => $::secret, body => '{"message":' },
  { auth => $::secret, body => '{"msg":{"type":"status-update"}}' },
  { auth => $::secret, type => 'application/x-www-form-urlencoded', body => 'a=b' },
  "GET /vapi",
  { auth => $::secret, body => ::vapi_message('status-update', pad => 'x' x 3000) } ]
--- error_code eval: [400, 400, 415, 405, 413]
--- response_body_like eval
[ qr/^\{"error":"not a Vapi server message"\}$/, qr/^\{"error":"not a Vapi server message"\}$/,
  qr/415/, qr/405/, qr/413/ ]
--- error_log eval
[ 'voxanne: vapi: not a JSON object', 'voxanne: vapi: no "message" object',
  'voxanne: vapi: unsupported content type "application/x-www-form-urlencoded"',
  qr/voxanne: vapi: body of 30\d\d bytes is larger than voxanne_body_max 2048/ ]
--- no_error_log
[error]



=== TEST 16: a tenant without vapi_auth accepts nothing
--- http_config eval: ::tenant(vapi_auth => '')
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval: [ { auth => $::secret } ]
--- error_code: 401
--- error_log
vapi: tenant "clinic-a": the tenant has no vapi_auth, unauthorized



=== TEST 17: the metrics count Vapi webhooks per tenant and result
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- vapi eval: [ { auth => $::secret }, { auth => $::secret }, { auth => { secret => 'no' } }, "GET /metrics" ]
--- error_code eval: [200, 200, 401, 200]
--- response_body_like eval
[ qr/\{\}/, qr/\{\}/, qr/unauthorized/,
  qr/^voxanne_webhook_requests_total\{tenant="clinic-a",route="vapi",result="ok"\} 2\n(?s:.*)^voxanne_webhook_requests_total\{tenant="clinic-a",route="vapi",result="forbidden"\} 1$/m ]
