use Test::Nginx::Socket 'no_plan';
use Voxanne::Test::WebSocket;
use Voxanne::Test::Media;

# The realtime agent's directives: each must_die block breaks one thing and
# checks the [emerg] that names it; the last blocks start nginx.

sub location {
    my ($extra) = @_;
    return "    location /twilio/media/ {\n        voxanne_media_stream;\n$extra    }\n";
}

our $url = 'ws://127.0.0.1:1/v1/realtime?model=gpt-realtime';

run_tests();

__DATA__

=== TEST 1: voxanne_realtime_url: not a WebSocket URL
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::location("        voxanne_realtime_url https://api.openai.com/v1/realtime;\n")
--- must_die
--- error_log
"voxanne_realtime_url" directive needs a ws:// or wss:// URL



=== TEST 2: voxanne_realtime_url: twice in a location
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::location("        voxanne_realtime_url $::url;\n        voxanne_realtime_url $::url;\n")
--- must_die
--- error_log
"voxanne_realtime_url" directive is duplicate



=== TEST 3: voxanne_realtime_url: an invalid port
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::location("        voxanne_realtime_url ws://127.0.0.1:99999/v1/realtime;\n")
--- must_die
--- error_log
invalid port in URL "ws://127.0.0.1:99999/v1/realtime"



=== TEST 4: voxanne_realtime_url: credentials in the URL
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::location("        voxanne_realtime_url ws://user:sk-secret\@api.example.com/v1/realtime;\n")
--- must_die
--- error_log
"voxanne_realtime_url" directive may not carry credentials in the URL
--- no_error_log
sk-secret



=== TEST 5: wss:// needs the trusted certificates
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::location("        voxanne_realtime_url wss://api.openai.com/v1/realtime?model=gpt-realtime;\n")
--- must_die
--- error_log
voxanne_realtime_url "wss://api.openai.com/v1/realtime?model=gpt-realtime" needs voxanne_realtime_ssl_trusted_certificate



=== TEST 6: a trusted certificate file that is not there
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval
::location("        voxanne_realtime_url wss://api.openai.com/v1/realtime;\n"
        . "        voxanne_realtime_ssl_trusted_certificate ../html/none.pem;\n")
--- must_die
--- error_log eval
qr/SSL_CTX_load_verify_locations\("[^"]*none\.pem"\) failed/



=== TEST 7: a key file that is not there
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval
::location("        voxanne_realtime_url $::url;\n        voxanne_realtime_key_file ../html/none.key;\n")
--- must_die
--- error_log eval
qr/open\(\) "[^"]*none\.key" failed/



=== TEST 8: a key file with two words: the key is not shown
--- http_config eval: ::tenant()
--- user_files eval: $::files . ">>> provider.key\nsk-test secret\n"
--- config eval
::location("        voxanne_realtime_url $::url;\n        voxanne_realtime_key_file ../html/provider.key;\n")
--- must_die
--- error_log
voxanne_realtime_key_file "../html/provider.key" must hold one key of printable characters
--- no_error_log
sk-test



=== TEST 9: an empty key file
--- http_config eval: ::tenant()
--- user_files eval: $::files . ">>> provider.key\n\n"
--- config eval
::location("        voxanne_realtime_url $::url;\n        voxanne_realtime_key_file ../html/provider.key;\n")
--- must_die
--- error_log
must hold one key of printable characters



=== TEST 10: a tenant with "agent realtime" and a media stream without a provider
--- http_config eval: ::tenant(agent => 'realtime')
--- user_files eval: $::files
--- config eval: ::location('')
--- must_die
--- error_log
tenant "clinic-a" has "agent realtime" but this voxanne_media_stream has no voxanne_realtime_url



=== TEST 11: an unknown agent
--- http_config eval: ::tenant(agent => 'parrot')
--- user_files eval: $::files
--- config eval: ::location('')
--- must_die
--- error_log
invalid agent "parrot" in tenant "clinic-a", "echo" or "realtime" is expected



=== TEST 12: vad: a threshold over 1
--- http_config eval: ::tenant(vad => 'threshold=1.5')
--- user_files eval: $::files
--- config eval: ::location('')
--- must_die
--- error_log
invalid vad parameter "threshold=1.5" in tenant "clinic-a"



=== TEST 13: vad: an unknown parameter
--- http_config eval: ::tenant(vad => 'silence=500ms eagerness=high')
--- user_files eval: $::files
--- config eval: ::location('')
--- must_die
--- error_log
invalid vad parameter "eagerness=high" in tenant "clinic-a"



=== TEST 14: vad: silence over 10 s
--- http_config eval: ::tenant(vad => 'silence=11s')
--- user_files eval: $::files
--- config eval: ::location('')
--- must_die
--- error_log
invalid vad parameter "silence=11s" in tenant "clinic-a"



=== TEST 15: an unknown tool
--- http_config eval: ::tenant(tools => 'get_current_time book_a_table')
--- user_files eval: $::files
--- config eval: ::location('')
--- must_die
--- error_log
unknown tool "book_a_table" in tenant "clinic-a"



=== TEST 16: a voice that is not a name
--- http_config eval: ::tenant(voice => '"alloy; drop"')
--- user_files eval: $::files
--- config eval: ::location('')
--- must_die
--- error_log
invalid voice "alloy; drop" in tenant "clinic-a"



=== TEST 17: a language that is not an ISO 639 code
--- http_config eval: ::tenant(language => 'english')
--- user_files eval: $::files
--- config eval: ::location('')
--- must_die
--- error_log
invalid language "english" in tenant "clinic-a"



=== TEST 18: instructions that are not UTF-8: the instructions are not shown
--- http_config eval: ::tenant(instructions_file => '../html/clinic-a.txt')
--- user_files eval: $::files . ">>> clinic-a.txt\nBe kind \xff\xfe to callers.\n"
--- config eval: ::location('')
--- must_die
--- error_log
the instructions and greeting of tenant "clinic-a" must be UTF-8
--- no_error_log
Be kind



=== TEST 19: an empty instructions file
--- http_config eval: ::tenant(instructions_file => '../html/clinic-a.txt')
--- user_files eval: $::files . ">>> clinic-a.txt\n"
--- config eval: ::location('')
--- must_die
--- error_log
instructions_file "../html/clinic-a.txt" of tenant "clinic-a" is empty



=== TEST 20: a greeting over 1024 bytes
--- http_config eval: ::tenant(greeting => '"' . ('Hello. ' x 150) . '"')
--- user_files eval: $::files
--- config eval: ::location('')
--- must_die
--- error_log
the greeting of tenant "clinic-a" must be 1 to 1024 bytes



=== TEST 21: agent settings twice
--- http_config eval
my $t = ::tenant(voice => 'alloy');
$t =~ s/voice alloy;/voice alloy;\n        voice marin;/;
$t
--- user_files eval: $::files
--- config eval: ::location('')
--- must_die
--- error_log
duplicate "voice" in tenant "clinic-a"



=== TEST 22: "agent echo" where the location has a provider: the caller's audio comes back, no provider is called
--- http_config eval: ::tenant(agent => 'echo')
--- user_files eval: $::files
--- config eval
"    location = /twilio/voice { voxanne_twilio voice; }\n" . ::location("        voxanne_realtime_url $::url;\n")
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), ::media(1, 'AAAA'), { expect => ::echo('AAAA') }, ::stop() ]
--- ws_close_code: 1000
--- no_error_log
[error]
voxanne: realtime



=== TEST 23: realtime settings at the http level are inherited by the media location; the rest of the server is untouched
--- http_config eval
::tenant() . "    voxanne_realtime_url $::url;\n    voxanne_realtime_connect_timeout 1s;\n    voxanne_realtime_timeout 30s;\n"
--- user_files eval: $::files
--- config eval
"    location = /twilio/voice { voxanne_twilio voice; }\n    location = /healthz { voxanne_health; }\n" . ::location('')
--- request
GET /healthz
--- error_code: 200
