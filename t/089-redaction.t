use Test::Nginx::Socket 'no_plan';
use Voxanne::Test::Pg;
use Voxanne::Test::Store qw(gateway_role store_http_config eventually);
use Voxanne::Test::Http qw(http);
use Voxanne::Test::WebSocket;
use Voxanne::Test::Media qw($SID $MZ token connected start say stop);
use Voxanne::Test::Realtime qw(ulaw_tone ulaw_silence);
use Voxanne::Test::Vapi qw(vapi_send);

# Card and social security numbers in transcripts are redacted before they
# are stored (voxanne_redact, on by default), on both channels: a realtime
# call's turns, and a Vapi report's turns and summary; with
# "voxanne_redact off" they are stored as said.  Never logged either way.

our $pg = Voxanne::Test::Pg->database;
our $org = '5b7c1d2e-0000-4000-8000-00000000000a';

$pg->psql("INSERT INTO organizations (id, name) VALUES ('$org', 'Clinic A')");

our $role = gateway_role($pg);

our $said = 'my card is 4111 1111 1111 1111, SSN 078-05-1120';
our $reply = 'Card 4242-4242-4242-4242 noted.';

our $mock = Voxanne::Test::Realtime->start(args => ['--reply-ms', '80', '--burst',
                                                    '--transcript', $said, '--reply', $reply]);

our $OFF = 'CA' . 'c' x 32;

# the realtime call's turns once all three have landed
sub turns_of {
    my ($sid, $caller, $agent) = @_;
    eventually($pg, "SELECT string_agg(role || ':' || text, '|' ORDER BY role, text) FROM transcripts t"
               . " JOIN calls c ON c.id = t.call_id WHERE c.call_sid = '$sid'",
               'agent:' . $agent . '|agent:Hello, thank you for calling. How can I help you today?'
               . "|caller:$caller", 'the turns as stored');
}

sub redacted { turns_of($SID, 'my card is [card], SSN [ssn]', 'Card [card] noted.') }
sub kept { turns_of($OFF, $said, $reply) }

sub report {
    my ($port, $id) = @_;
    return vapi_send($port, 'end-of-call-report',
        call => { id => $id, type => 'inboundPhoneCall' }, phoneNumber => { number => '+15550100001' },
        customer => { number => '+14155550123' }, endedReason => 'customer-ended-call',
        analysis => { summary => 'The caller gave card 4111111111111111 and SSN 078 05 1120.' },
        artifact => { messages => [{ role => 'user', message => $said },
                                   { role => 'bot', message => $reply }] });
}

sub report_of {
    my ($id) = @_;
    return "SELECT c.summary || '|' || string_agg(t.text, '|' ORDER BY t.seq) FROM calls c"
           . " JOIN transcripts t ON t.call_id = c.id WHERE c.vapi_call_id = '$id' GROUP BY c.summary";
}

sub vapi_on {
    my ($ctx) = @_;
    is(report($ctx->port, 'vapi-redact-on')->{code}, 200, 'the report');
    eventually($pg, report_of('vapi-redact-on'),
               'The caller gave card [card] and SSN [ssn].|my card is [card], SSN [ssn]|Card [card] noted.',
               'its summary and turns, redacted');
}

sub vapi_off {
    my ($ctx) = @_;
    is(report($ctx->port, 'vapi-redact-off')->{code}, 200, 'the report');
    eventually($pg, report_of('vapi-redact-off'),
               "The caller gave card 4111111111111111 and SSN 078 05 1120.|$said|$reply",
               'its summary and turns, as said');
}

add_block_preprocessor(sub {
    my ($block) = @_;
    chomp(my $r = $block->redact // '');
    my $redact = length $r ? "    voxanne_redact $r;\n" : '';
    $block->set_value(http_config => $redact . store_http_config(
        db => $ENV{TEST_NGINX_PG_PORT}, role => $role, org => $org,
        tenant => "        vapi_auth secret file=../html/vapi.secret;\n"));
    $block->set_value(user_files => ">>> a.token\n12345\n>>> vapi.secret\nvapi-secret-1\n");
    return if $block->config;
    my $url = $mock->url;
    $block->set_value(config => <<"_EOC_");
    location /twilio/ {
        location = /twilio/voice { voxanne_twilio voice; }
        location /twilio/media/ {
            voxanne_media_stream;
            voxanne_realtime_url $url;
        }
    }
    location = /vapi { voxanne_vapi; }
_EOC_
});

run_tests();

__DATA__

=== TEST 1: a realtime call: the caller's card and SSN and the agent's card are stored redacted (the default)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(),
  { expect => { json => { event => 'mark', mark => { name => '1:80' } } } },
  ::say(::ulaw_tone(300) . ::ulaw_silence(1200), 1),
  { run => \&::redacted },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- timeout: 20
--- no_error_log
4111 1111
4242-4242
[error]



=== TEST 2: voxanne_redact off: a realtime call's turns are stored as said, still not logged
--- redact: off
--- media eval: { sid => $::OFF }
--- ws_send eval
[ ::connected(), ::start(sid => $::OFF, token => ::token(sid => $::OFF)),
  { expect => { json => { event => 'mark', mark => { name => '1:80' } } } },
  ::say(::ulaw_tone(300) . ::ulaw_silence(1200), 1),
  { run => \&::kept },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- timeout: 20
--- no_error_log
4111 1111
4242-4242
[error]



=== TEST 3: a Vapi report: its summary and turns are stored redacted (the default)
--- steps eval: \&::vapi_on
--- no_error_log
4111 1111
[error]



=== TEST 4: voxanne_redact off: a Vapi report is stored as said
--- redact: off
--- steps eval: \&::vapi_off
--- no_error_log
4111 1111
[error]



=== TEST 5: voxanne_redact takes on or off
--- redact: maybe
--- must_die
--- error_log
invalid value "maybe" in "voxanne_redact" directive, it must be "on" or "off"



=== TEST 6: voxanne_redact is an http-level directive
--- config
    location = /x { voxanne_redact off; }
--- must_die
--- error_log
"voxanne_redact" directive is not allowed here
