use Test::Nginx::Socket 'no_plan';
use JSON::PP qw(encode_json);
use Voxanne::Test::WebSocket;
use Voxanne::Test::Media;
use Voxanne::Test::Realtime qw(ulaw_tone ulaw_silence);

# Turns of a conversation through the bridge: the caller talking over the
# agent (barge-in), and a function call answered by the bridge.  The mock's
# VAD hears the caller's mu-law: a tone is speech, 0xff is silence.

our $talker = Voxanne::Test::Realtime->start(args => ['--reply-ms', '3000', '--delta-ms', '40']);
our $burst = Voxanne::Test::Realtime->start(args => ['--reply-ms', '200', '--burst']);
our $tools = Voxanne::Test::Realtime->start(args => ['--reply-ms', '80', '--burst',
                                                     '--transcript', 'what time is it',
                                                     '--tool', 'what time=get_current_time']);
our $keys = Voxanne::Test::Realtime->start(args => ['--reply-ms', '80', '--burst']);

sub locations {
    my ($url) = @_;
    return <<"_EOC_";
    location = /twilio/voice { voxanne_twilio voice; }
    location /twilio/media/ {
        voxanne_media_stream;
        voxanne_realtime_url $url;
    }
_EOC_
}


run_tests();

__DATA__

=== TEST 1: barge-in while the greeting plays: Twilio clears, the item is truncated where Twilio's marks say it was heard
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::locations($::talker->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(),
  { expect => [ { json => { event => 'mark', mark => { name => '1:40' } } },
                { json => { event => 'mark', mark => { name => '1:80' } } } ] },
  ::played('1:40'), ::played('1:80'),
  ::say(::ulaw_tone(300), 1),
  { expect => { json => { event => 'clear', streamSid => $::MZ } } },
  { run => sub {
        my ($truncate) = $::talker->wait_log(sub { $::talker->conn_log(dir => 'in',
                                                             type => 'conversation.item.truncate') }, 5)
            or die "no truncate";
        my ($delta) = $::talker->conn_log(dir => 'out', type => 'response.output_audio.delta');
        die "truncate: " . encode_json($truncate)
            unless $truncate->{item_id} eq $delta->{item_id} && $truncate->{audio_end_ms} == 80
                   && $truncate->{content_index} == 0;
        die "the mock refused the truncate" if $::talker->conn_log(dir => 'out', type => 'error');
    } },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/realtime: call $::SID: barge-in, item \S+ played 80 of \d+ ms/,
  qr/realtime: call $::SID: \d+ audio deltas, 1 barge-ins, 1 truncations/ ]
--- no_error_log
[error]



=== TEST 2: barge-in after all the audio was sent and none was played: Twilio still clears, the item is cut at 0 ms
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::locations($::burst->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(),
  { expect => { json => { event => 'mark', mark => { name => '1:200' } } } },
  ::say(::ulaw_tone(300), 1),
  { expect => { json => { event => 'clear', streamSid => $::MZ } } },
  { run => sub {
        my ($truncate) = $::burst->wait_log(sub { $::burst->conn_log(dir => 'in',
                                                           type => 'conversation.item.truncate') }, 5)
            or die "no truncate";
        die "audio_end_ms $truncate->{audio_end_ms}" unless $truncate->{audio_end_ms} == 0;
        die "the mock refused the truncate" if $::burst->conn_log(dir => 'out', type => 'error');
    } },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/barge-in, item \S+ played 0 of 200 ms/ ]
--- no_error_log
[error]



=== TEST 3: a function call: get_current_time is answered from the tenant's time zone, then the agent speaks again
--- http_config eval: ::tenant(tools => 'get_current_time', timezone => 'America/New_York', vad => 'silence=200ms')
--- user_files eval: $::files
--- config eval: ::locations($::tools->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(),
  { expect => { json => { event => 'mark', mark => { name => '1:80' } } } },
  ::say(::ulaw_tone(300) . ::ulaw_silence(400), 1),
  { run => sub {
        my ($output) = $::tools->function_output;
        die "output: $output->{item}{output}" unless $output->{item}{output}
            =~ /^It is (Sun|Mon|Tues|Wednes|Thurs|Fri|Satur)day, [A-Z][a-z]+ \d+, \d{4}, \d+:\d\d [AP]M \(America\/New_York\)\.$/;
        die "the mock refused something" if $::tools->conn_log(dir => 'out', type => 'error');
    } },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/realtime: call $::SID: function call "get_current_time"/ ]
--- no_error_log
[error]



=== TEST 4: barge-in after the caller has heard all of the item: Twilio clears, the item is left whole
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::locations($::burst->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(),
  { expect => { json => { event => 'mark', mark => { name => '1:200' } } } },
  { sleep => 0.2 }, ::played('1:200'),
  ::say(::ulaw_tone(300), 1),
  { expect => { json => { event => 'clear', streamSid => $::MZ } } },
  { sleep => 0.3 },
  { run => sub {
        die "a truncate" if $::burst->conn_log(dir => 'in', type => 'conversation.item.truncate');
    } },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/barge-in, item \S+ played 200 of 200 ms/, qr/\d+ audio deltas, 1 barge-ins, 0 truncations/ ]
--- no_error_log
[error]



=== TEST 5: a key the caller presses goes to the model as "The caller pressed 1.": here it calls get_current_time, answered, and the model speaks again
--- http_config eval: ::tenant(tools => 'get_current_time')
--- user_files eval: $::files
--- config eval: ::locations($::keys->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(),
  { expect => { json => { event => 'mark', mark => { name => '1:80' } } } },
  ::dtmf('1'),
  { run => sub {
        my ($output) = $::keys->wait_log(sub { grep { ($_->{item}{type} // '') eq 'function_call_output' }
                                                $::keys->conn_log(dir => 'in', type => 'conversation.item.create') }, 5)
            or die "no function_call_output";
        my ($said) = grep { ($_->{item}{type} // '') eq 'message' }
                     $::keys->conn_log(dir => 'in', type => 'conversation.item.create');
        die "no message" unless $said
            && $said->{item}{role} eq 'user'
            && $said->{item}{content}[0]{type} eq 'input_text'
            && $said->{item}{content}[0]{text} eq 'The caller pressed 1.';
        die "output: $output->{item}{output}" unless $output->{item}{output} =~ /^It is /;
        die "not spoken" unless $::keys->wait_log(sub {
            grep { $_->{t} > $output->{t} } $::keys->conn_log(dir => 'out', type => 'response.done') }, 5);
        die "the mock refused something: " . JSON::PP::encode_json([$::keys->conn_log(dir => 'out', type => 'error')])
            if $::keys->conn_log(dir => 'out', type => 'error');
    } },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/dtmf "1"/, qr/realtime: call $::SID: function call "get_current_time"/ ]
--- no_error_log
[error]
