use Test::Nginx::Socket 'no_plan';
use Voxanne::Test::WebSocket;
use Voxanne::Test::Media;

# The Media Streams WebSocket.  A block's "media" section describes a call:
# the voice webhook that registers it (unless voice => 0), then the signed
# upgrade of its stream (Voxanne::Test::Media); the frames follow in
# ws_send / ws_expect.

our $locations = <<'_EOC_';
    location = /twilio/voice { voxanne_twilio voice; }
    location /twilio/media/ { voxanne_media_stream; }
_EOC_

run_tests();

__DATA__

=== TEST 1: the echo agent: each media message comes back, then stop closes 1000
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- response_headers eval
[ "Content-Type: text/xml", "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\nUpgrade: websocket\n!Sec-WebSocket-Extensions\n!Sec-WebSocket-Protocol" ]
--- ws_send eval
[ ::connected(), ::start(), ::media(1, 'AAAA'), ::media(2, '//8A/w=='),
  { expect => [ ::echo('AAAA'), ::echo('//8A/w==') ] }, ::stop() ]
--- ws_close_code: 1000
--- error_log eval
[ qr/voxanne: media: call $::SID tenant "clinic-a": stream $::MZ started/,
  qr/call $::SID: stop after 2 media messages/,
  qr/call $::SID tenant "clinic-a": stream ended, close 1000, 2 media messages/ ]
--- no_error_log
[warn]



=== TEST 2: a mark after every 50 media messages, and Twilio's marks are counted
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), (map { ::media($_) } 1 .. 50),
  { expect => [ (::echo()) x 50,
                { json => { event => 'mark', streamSid => $::MZ, mark => { name => 'echo-1' } } } ] },
  JSON::PP::encode_json({ event => 'mark', sequenceNumber => '60', streamSid => $::MZ,
                          mark => { name => 'echo-1' } }),
  ::stop() ]
--- ws_close_code: 1000
--- error_log
stop after 50 media messages, 1 of 1 marks played



=== TEST 3: a message fragmented in three frames, with a ping in between
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
my $start = ::start();
[ ::connected(),
  { text => substr($start, 0, 10), fin => 0 },
  { continuation => substr($start, 10, 100), fin => 0 },
  { ping => 'are you there' },
  { continuation => substr($start, 110) },
  { expect => { pong => 'are you there' } },
  ::media(1, 'AAAA'), { expect => ::echo('AAAA') }, ::stop() ]
--- ws_close_code: 1000
--- error_log
stream MZbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb started



=== TEST 4: frames written one byte at a time
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ { text => ::connected(), split => 1 }, { text => ::start(), split => 7 },
  { text => ::media(1, 'AAAA'), split => 1 }, { expect => ::echo('AAAA') }, ::stop() ]
--- ws_close_code: 1000



=== TEST 5: a token for another CallSid: close 1008
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(token => ::token(sid => 'CA' . 'c' x 32)) ]
--- ws_close_code: 1008
--- error_log
voxanne: media: tenant "clinic-a": start refused: invalid or expired stream token



=== TEST 6: an expired token: close 1008
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(token => ::token(expires => time - 1)) ]
--- ws_close_code: 1008
--- error_log
start refused: invalid or expired stream token



=== TEST 7: a token signed with another key: close 1008
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(token => ::token(key => '54321')) ]
--- ws_close_code: 1008



=== TEST 8: another tenant's name in the parameters: close 1008
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(tenant => 'clinic-b', token => ::token(tenant => 'clinic-b')) ]
--- ws_close_code: 1008
--- error_log
start refused: the tenant parameter is not the URL's



=== TEST 9: a valid token for a call the voice webhook never answered: close 1008
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: { voice => 0 }
--- ws_send eval
[ ::connected(), ::start() ]
--- ws_close_code: 1008
--- error_log
start refused: the call holds no line



=== TEST 10: media before start: close 1008
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), ::media(1) ]
--- ws_close_code: 1008
--- error_log
voxanne: media: a message before "start"



=== TEST 11: a binary frame: close 1003
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), { binary => "\x00\x01\x02" } ]
--- ws_close_code: 1003



=== TEST 12: an unmasked frame: close 1002
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ { text => ::connected(), mask => 0 } ]
--- ws_close_code: 1002
--- error_log
invalid frame, close 1002



=== TEST 13: a message over voxanne_ws_max_message: close 1009
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: "voxanne_ws_max_message 1k;\n" . $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), { text => 'x' x 1025 } ]
--- ws_close_code: 1009



=== TEST 14: invalid UTF-8: close 1007
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), { raw => Voxanne::Test::WebSocket::frame(text => "{\"event\":\"\xc0\xaf\"}") } ]
--- ws_close_code: 1007



=== TEST 15: not JSON: close 1007
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ 'hello' ]
--- ws_close_code: 1007
--- error_log
not a JSON object



=== TEST 16: a payload that is not base64: close 1008
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), ::media(1, 'AA"},"x":{"') ]
--- ws_close_code: 1008
--- error_log
payload is not base64



=== TEST 17: no message for voxanne_ws_idle_timeout: close 1001
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: "voxanne_ws_idle_timeout 500ms;\n" . $::locations
--- media eval: {}
--- ws_send eval
[ ::connected() ]
--- ws_close_code: 1001
--- error_log
no message for 500 ms



=== TEST 18: the client closes first: the close is answered with its code
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), { close => 4000, reason => 'bye' } ]
--- ws_expect eval
[ { close => 4000 } ]
--- error_log
close 4000 from Twilio



=== TEST 19: the handshake must be an upgrade: 400
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: { voice => 0, code => 400, headers => { Upgrade => undef } }
--- error_log
voxanne: media: not a WebSocket upgrade



=== TEST 20: version 8: 426 with the version this server speaks
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: { voice => 0, code => 426, headers => { 'Sec-WebSocket-Version' => 8 } }
--- response_headers
Sec-WebSocket-Version: 13



=== TEST 21: a malformed key: 400
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: { voice => 0, code => 400, headers => { 'Sec-WebSocket-Key' => 'short' } }
--- error_log
invalid Sec-WebSocket-Key



=== TEST 22: an unknown tenant: 404
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: { voice => 0, code => 404, uri => '/twilio/media/nobody' }
--- error_log
voxanne: media: no tenant "nobody"



=== TEST 23: no signature: 403
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: { voice => 0, code => 403, headers => { 'X-Twilio-Signature' => undef } }
--- error_log
voxanne: media: tenant "clinic-a": no X-Twilio-Signature, forbidden



=== TEST 24: signed with another token: 403
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: { voice => 0, code => 403, token => '54321' }
--- error_log
X-Twilio-Signature does not match, forbidden



=== TEST 25: a stream holds its line past the session timeout, and gives it back at its end
--- http_config eval: "voxanne_session_zone zone=sessions:1m timeout=1s;\n" . ::tenant(max_calls => 1)
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), { sleep => 2.2 }, ::media(1, 'AAAA'), { expect => ::echo('AAAA') }, ::stop() ]
--- ws_close_code: 1000
--- error_log eval
[ qr/stream $::MZ started/, qr/stream ended, close 1000, 1 media messages/ ]
--- timeout: 10



=== TEST 26: the call's variables in a media stream's access log
--- http_config eval
::tenant() . q{
    log_format probe 'probe $voxanne_route|$voxanne_tenant|$voxanne_call_sid|$voxanne_signature|$voxanne_limit';
}
--- user_files eval: $::files
--- config eval: "access_log logs/error.log probe;\n" . $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), ::stop() ]
--- ws_close_code: 1000
--- error_log eval
[ qr/^probe voice\|clinic-a\|$::SID\|ok\|passed$/m, qr/^probe -\|clinic-a\|$::SID\|-\|-$/m ]
