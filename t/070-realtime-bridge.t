use Test::Nginx::Socket 'no_plan';
use MIME::Base64 qw(encode_base64);
use Voxanne::Test::WebSocket;
use Voxanne::Test::Media;
use Voxanne::Test::Realtime;

# The realtime agent (ngx_http_voxanne_bridge.c): a Media Streams call
# bridged to build/mock-realtime (docs/mock-realtime.md) as the provider.
# The mocks run for the whole file, each with the options its blocks need;
# their event logs say what the bridge sent.

our $greeter = Voxanne::Test::Realtime->start(args => ['--reply-ms', '120', '--delta-ms', '40']);
our $echo = Voxanne::Test::Realtime->start(args => ['--echo', '--reply-ms', '40']);
our $late = Voxanne::Test::Realtime->start(args => ['--echo', '--reply-ms', '40',
                                                    '--delay-accept', '800ms']);

sub locations {
    my ($url, $extra) = @_;
    $extra //= '';
    return <<"_EOC_";
    location = /twilio/voice { voxanne_twilio voice; }
    location /twilio/media/ {
        voxanne_media_stream;
        voxanne_realtime_url $url;
$extra    }
_EOC_
}

# 20 ms of caller audio, different for each n, as Twilio's base64
sub audio { encode_base64(join('', map { chr(($_[0] * 7 + $_) % 256) } 1 .. 160), '') }

# the media message that echoes audio(n) back to the caller
sub echoed { ::echo(audio($_[0])) }


run_tests();

__DATA__

=== TEST 1: the greeting's audio reaches Twilio as media of the stream, each delta followed by a mark of the ms sent
--- http_config eval: ::tenant(greeting => '"Thank you for calling Clinic A."')
--- user_files eval: $::files
--- config eval: ::locations($::greeter->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(),
  { expect => [ { json => { event => 'media', streamSid => $::MZ, media => { payload => qr/^[A-Za-z0-9+\/]+={0,2}$/ } } },
                { json => { event => 'mark', streamSid => $::MZ, mark => { name => '1:40' } } },
                { json => { event => 'media', streamSid => $::MZ } },
                { json => { event => 'mark', streamSid => $::MZ, mark => { name => '1:80' } } },
                { json => { event => 'media', streamSid => $::MZ } },
                { json => { event => 'mark', streamSid => $::MZ, mark => { name => '1:120' } } } ] },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/voxanne: realtime: call $::SID: connecting to ws:\/\/127\.0\.0\.1:\d+\/v1\/realtime\?model=gpt-realtime/,
  qr/realtime: call $::SID: provider open/,
  qr/realtime: call $::SID: 3 audio deltas, 0 barge-ins, 0 truncations/ ]
--- no_error_log
[error]



=== TEST 2: the session.update (GA shape, mu-law both ways, the tenant's VAD, voice, language, instructions and tools), then the greeting
--- http_config eval
::tenant(greeting => '"Thank you for calling Clinic A."', voice => 'marin', language => 'en',
         vad => 'threshold=0.6 silence=400ms prefix=200ms', tools => 'get_current_time end_call',
         instructions_file => '../html/clinic-a.txt')
--- user_files eval
$::files . ">>> clinic-a.txt\nYou are the receptionist of \"Clinic A\".\nBe brief.\n"
--- config eval: ::locations($::greeter->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), { expect => { json => { event => 'mark' } } },
  { run => sub {
        my ($update) = $::greeter->conn_log(dir => 'in', type => 'session.update');
        my $s = $update->{session} or die "no session.update";
        my $want = {
            type => 'realtime', output_modalities => ['audio'],
            instructions => "You are the receptionist of \"Clinic A\".\nBe brief.\n",
            audio => {
                input => { format => { type => 'audio/pcmu' },
                           transcription => { model => 'gpt-4o-mini-transcribe', language => 'en' },
                           turn_detection => { type => 'server_vad', threshold => 0.6,
                                               silence_duration_ms => 400, prefix_padding_ms => 200 } },
                output => { format => { type => 'audio/pcmu' }, voice => 'marin' } },
            tool_choice => 'auto',
        };
        my $json = JSON::PP->new->canonical;
        my %got = %$s;
        my @tools = map { $_->{name} } @{ delete $got{tools} // [] };
        die "session: " . $json->encode(\%got) unless $json->encode(\%got) eq $json->encode($want);
        die "tools: @tools" unless "@tools" eq 'get_current_time end_call';
        my @in = map { $_->{type} } $::greeter->conn_log(dir => 'in');
        die "events in: @in" unless "@in[0, 1]" eq 'session.update response.create';
        my ($create) = $::greeter->conn_log(dir => 'in', type => 'response.create');
        die "greeting: " . $json->encode($create) unless $create->{response}{instructions}
            eq 'Greet the caller by saying exactly this: Thank you for calling Clinic A.';
        die "the mock refused something" if $::greeter->conn_log(dir => 'out', type => 'error');
    } },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- no_error_log
[error]
Clinic A



=== TEST 3: the caller's audio reaches the provider as appends, byte for byte, and comes back (the mock echoes) in order
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::locations($::echo->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), { sleep => 0.3 },
  (map { ::media($_, ::audio($_)) } 1 .. 10),
  { expect => [ map { ::echoed($_) } 1 .. 10 ] },
  { run => sub {
        my @appends = $::echo->conn_log(dir => 'in', type => 'input_audio_buffer.append');
        die scalar(@appends) . " appends" unless @appends == 10;
        die "bytes" if grep { $_->{bytes} != 160 } @appends;
    } },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- no_error_log
[error]



=== TEST 4: audio from before the provider is open (it answers 800 ms late) is kept, and sent after the session.update, in order
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::locations($::late->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(),
  (map { ::media($_, ::audio($_)) } 1 .. 20),
  { expect => [ map { ::echoed($_) } 1 .. 20 ] },
  { run => sub {
        my @in = $::late->conn_log(dir => 'in');
        my @types = map { $_->{type} } @in;
        die "events in: @types[0 .. 2]" unless "@types[0, 1]" eq 'session.update response.create';
        my @appends = grep { $_->{type} eq 'input_audio_buffer.append' } @in;
        die scalar(@appends) . " appends" unless @appends == 20;
    } },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/realtime: call $::SID: connecting to/, qr/realtime: call $::SID: provider open/ ]
--- no_error_log
[error]
dropped



=== TEST 5: more than a second of audio before the provider is open: the oldest is dropped, counted and logged, the rest goes in order
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval
::locations($::late->url) . "    location = /metrics { voxanne_metrics; }\n"
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(),
  (map { ::media($_, ::audio($_)) } 1 .. 80),
  { expect => [ map { ::echoed($_) } 26 .. 80 ] },
  { run => sub {
        my ($ctx) = @_;
        my @appends = $::late->conn_log(dir => 'in', type => 'input_audio_buffer.append');
        die scalar(@appends) . " appends" unless @appends == 55;
        my ($status, $body) = ::http($ctx->port, 'GET /metrics', '');
        die "metrics: $body" unless $body =~ /^voxanne_realtime_early_dropped_total 25$/m;
    } },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/realtime: call $::SID: the provider is not open yet, the oldest caller audio is dropped/,
  qr/realtime: call $::SID: 25 media messages dropped before the provider opened/ ]
--- no_error_log
[error]



=== TEST 6: a call that ends closes its provider connection with a close frame 1000
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::locations($::echo->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), ::media(1, ::audio(1)), { expect => ::echoed(1) }, ::stop(),
  { expect => { close => 1000 } }, { close => 1000 },
  { run => sub {
        my ($close) = $::echo->wait_log(sub { $::echo->conn_log(dir => 'close') }, 5);
        die "no close in the mock's log" unless $close;
        die "close by $close->{by} $close->{code}" unless $close->{by} eq 'client' && $close->{code} == 1000;
        die "not gone" unless $::echo->wait_log(sub { $::echo->conn_log(dir => 'closed') }, 5);
    } } ]
--- ws_skip_unmatched
--- no_error_log
[error]



=== TEST 7: concurrent calls stay independent: while a call is live, five more (build/callsim) each get all of their own audio back and only theirs, and the first call's audio still comes back to it alone
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval
::locations($::echo->url) . "    location = /twilio/stream-ended { voxanne_twilio stream-ended; }\n"
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), ::media(1, ::audio(1)), { expect => ::echoed(1) },
  { run => sub {
        my ($ctx) = @_;
        my $port = $ctx->port;
        open my $out, '-|', 'build/callsim', '--url', "http://127.0.0.1:$port/twilio/voice",
             '--public-url', 'http://edge.example.com/twilio/voice', '--token', '12345',
             '--calls', '5', '--duration', '2', '--json'
            or die "callsim: $!";
        my $json = do { local $/; <$out> };
        close $out;
        my $summary = JSON::PP::decode_json($json);
        # each call hears the greeting (one delta: unmatched) and its own
        # frames; the last ones may still be on their way back at the stop
        for my $call (@{ $summary->{calls} }) {
            die "call $call->{call}: $json"
                unless $call->{outcome} eq 'connect' && $call->{frames_sent} == 100
                       && $call->{frames_echoed} >= 98 && $call->{frames_missing} <= 2
                       && $call->{frames_unmatched} == 1 && $call->{frames_duplicated} == 0
                       && $call->{close_code} == 1000;
        }
        die "calls: $json" unless @{ $summary->{calls} } == 5;
    } },
  ::media(2, ::audio(2)), ::media(3, ::audio(3)),
  { expect => [ ::echoed(2), ::echoed(3) ] },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- timeout: 20
--- ws_timeout: 15
--- no_error_log
[error]
