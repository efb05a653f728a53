use Test::Nginx::Socket 'no_plan';
use JSON::PP qw(decode_json);
use Cwd qw(getcwd);
use File::Temp qw(tempdir);
use Voxanne::Test::Realtime;

# The call simulator (build/callsim, docs/callsim.md) against the module:
# whole calls, as Twilio makes them.  A block's "callsim" section lists the
# arguments; the handler adds --url (the block's nginx) and --json, runs
# it, and checks its exit status ("callsim_exit", default 0) and its JSON
# summary against "callsim_expect": hashes and arrays are matched member by
# member, a Regexp matches, a code reference is called with the value,
# undef wants null, anything else is compared as a string (JSON true and
# false as 1 and 0).  "callsim_url" replaces the block's http:// voice URL
# ($TEST_NGINX_* names expand).  "callsim_after" is code run after it with
# the summary, that dies when what it checks is wrong.

our $Callsim = $ENV{VOXANNE_CALLSIM} // getcwd() . '/build/callsim';

-x $Callsim or BAIL_OUT("$Callsim is not built: run make build");

# a certificate for the TLS blocks, made for this run
our $Tls = tempdir(CLEANUP => 1);
system('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
       '-nodes', '-keyout', "$Tls/key.pem", '-out', "$Tls/cert.pem", '-days', '1',
       '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1') == 0
    or BAIL_OUT('openssl cannot make a test certificate');

sub match {
    my ($got, $want, $path, $fails) = @_;
    $got = $got ? 1 : 0 if JSON::PP::is_bool($got);
    if (ref $want eq 'HASH') {
        return push @$fails, "$path: not an object" unless ref $got eq 'HASH';
        match($got->{$_}, $want->{$_}, "$path.$_", $fails) for sort keys %$want;
    }
    elsif (ref $want eq 'ARRAY') {
        return push @$fails, "$path: not an array" unless ref $got eq 'ARRAY';
        push @$fails, "$path: " . @$got . " elements, not " . @$want if @$got != @$want;
        match($got->[$_], $want->[$_], "$path\[$_]", $fails) for 0 .. $#$want;
    }
    elsif (ref $want eq 'Regexp') {
        push @$fails, "$path: " . ($got // 'null') . " !~ $want" unless defined $got && !ref $got && $got =~ $want;
    }
    elsif (ref $want eq 'CODE') {
        push @$fails, "$path: " . ($got // 'null') . " fails its check" unless $want->($got);
    }
    elsif (!defined $want) {
        push @$fails, "$path: " . ($got // '') . " is not null" if defined $got;
    }
    else {
        push @$fails, "$path: " . ($got // 'null') . " ne $want" unless defined $got && !ref $got && $got eq $want;
    }
}

Test::Nginx::Socket::add_block_handler(sub {
    my ($block, $ctx) = @_;
    my $args = $block->callsim or return;
    (my $url = $block->callsim_url // 'http://127.0.0.1:' . $ctx->port . '/twilio/voice')
        =~ s/\$(TEST_NGINX_\w+)/$ENV{$1}/g;
    $url =~ s/\s+\z//;
    my @cmd = ($Callsim, '--url', $url, '--json', @$args);

    open my $out, '-|', @cmd or die "cannot run $Callsim: $!";
    my $json = do { local $/; <$out> };
    close $out;
    my $exit = $? >> 8;

    Test::More::is($exit, $block->callsim_exit // 0, $ctx->name . " - callsim exit status");

    my $summary = eval { decode_json($json) };
    Test::More::ok($summary, $ctx->name . " - callsim prints JSON") or Test::More::diag($@, $json);

    for my $key (sort keys %{ $block->callsim_expect || {} }) {
        my @fails;
        match($summary && $summary->{$key}, $block->callsim_expect->{$key}, $key, \@fails);
        Test::More::ok(!@fails, $ctx->name . " - callsim $key")
            or Test::More::diag(join("\n", @fails), "\n", $json);
    }

    if (my $after = $block->callsim_after) {
        my $ok = eval { $after->($summary); 1 };
        Test::More::ok($ok, $ctx->name . " - callsim_after") or Test::More::diag($@);
    }
});

# the demo agent (not in echo mode): its VAD hears the caller's audio
our $agent = Voxanne::Test::Realtime->start(args => ['--greeting', 'Hello there.',
                                                     '--reply-ms', '400']);

# in echo mode, for callsim --realtime-only
our $echo = Voxanne::Test::Realtime->start(args => ['--echo', '--reply-ms', '40', '--burst']);

# the VAD's events of the last call: [type, audio ms] in order
sub turns {
    return map { [ $_->{type} =~ s/^input_audio_buffer\.//r,
                   $_->{audio_start_ms} // $_->{audio_end_ms} ] }
           $::agent->conn_log(dir => 'out', type => qr/^input_audio_buffer\.speech_/);
}

sub agent_locations {
    return <<"_EOC_";
    location = /twilio/voice { voxanne_twilio voice; }
    location = /twilio/stream-ended { voxanne_twilio stream-ended; }
    location /twilio/media/ {
        voxanne_media_stream;
        voxanne_realtime_url ${\ $::agent->url };
    }
_EOC_
}

sub tenant {
    my (%o) = @_;
    my $url = delete $o{public_url} // 'http://127.0.0.1:$TEST_NGINX_SERVER_PORT';
    my $extra = join '', map { "        $_ $o{$_};\n" } sort keys %o;
    return <<"_EOC_";
    voxanne_tenant clinic-a {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000a;
        numbers                +15550100001;
        twilio_auth_token_file ../html/a.token;
        public_url             $url;
$extra    }
_EOC_
}

our $files = ">>> a.token\n12345\n";

our $locations = <<'_EOC_';
    location = /twilio/voice { voxanne_twilio voice; }
    location = /twilio/stream-ended { voxanne_twilio stream-ended; }
    location /twilio/media/ { voxanne_media_stream; }
_EOC_

run_tests();

__DATA__

=== TEST 1: a 3-second call: connected, every frame echoed, marks played, DTMF, close 1000, stream-ended hangs up
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- callsim eval: ['--token', '12345', '--duration', '3', '--dtmf', '12#', '--dtmf-at', '1s']
--- callsim_expect eval
{
    calls => [{
        outcome => 'connect', ok => 1, webhook_status => 200,
        stream_url => qr{^ws://127\.0\.0\.1:\d+/twilio/media/clinic-a$},
        handshake_ms => qr/^[\d.]+$/,
        frames_sent => 150, frames_echoed => 150, frames_missing => 0,
        frames_unmatched => 0, frames_duplicated => 0,
        rtt_ms => { p50 => qr/^[\d.]+$/, p99 => qr/^[\d.]+$/, max => qr/^[\d.]+$/ },
        marks_received => 3, marks_echoed => sub { $_[0] >= 2 },
        dtmf_sent => 3, close_code => 1000,
        stream_ended_status => 200, stream_ended => 'hangup', errors => [],
    }],
    aggregate => { calls => 1, ok => 1, failed => 0, outcomes => { connect => 1 },
                   close_codes => { 1000 => 1 }, errors => 0 },
}
--- error_log eval
[ qr/media: call CA[0-9a-f]{32} tenant "clinic-a": stream MZ[0-9a-f]{32} started/,
  qr/dtmf "1"/, qr/dtmf "#"/,
  qr/stop after 150 media messages, [23] of 3 marks played/,
  qr/call CA[0-9a-f]{32} tenant "clinic-a": stream ended/ ]
--- no_error_log
[warn]
[error]



=== TEST 2: 5 calls at once with max_calls 3: 3 connect, 2 hear the busy message
--- http_config eval: ::tenant(max_calls => 3)
--- user_files eval: $::files
--- config eval: $::locations
--- callsim eval: [qw(--token 12345 --calls 5 --duration 2)]
--- callsim_exit: 1
--- callsim_expect eval
{
    aggregate => { calls => 5, ok => 3, failed => 2, outcomes => { connect => 3, message => 2 },
                   frames_sent => 300, frames_echoed => 300, frames_missing => 0,
                   close_codes => { 1000 => 3 }, errors => 0 },
    calls => sub {
        my @busy = grep { $_->{outcome} eq 'message' } @{ $_[0] };
        @busy == 2 && !grep { $_->{say} !~ /lines are busy/ || $_->{webhook_status} != 200 } @busy;
    },
}
--- error_log eval
[ qr/all 3 lines busy/ ]
--- no_error_log
[error]



=== TEST 3: busy reject: with --expect busy, the call over max_calls is the one as expected
--- http_config eval: ::tenant(max_calls => 1, busy => 'reject')
--- user_files eval: $::files
--- config eval: $::locations
--- callsim eval: [qw(--token 12345 --calls 2 --duration 1 --expect busy)]
--- callsim_exit: 1
--- callsim_expect eval
{
    aggregate => { expect => 'busy', ok => 1, failed => 1, outcomes => { connect => 1, busy => 1 } },
    calls => sub {
        my ($busy) = grep { $_->{outcome} eq 'busy' } @{ $_[0] };
        $busy && $busy->{ok} && $busy->{reason} eq 'busy' && !defined $busy->{say};
    },
}
--- no_error_log
[error]



=== TEST 4: a wrong token: the voice webhook is refused with 403, nothing streams
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- callsim eval: [qw(--token 54321 --expect refused)]
--- callsim_expect eval
{
    calls => [{ outcome => 'refused', ok => 1, webhook_status => 403, errors => [] }],
    aggregate => { ok => 1, outcomes => { refused => 1 }, handshake_ms => undef, frames_sent => 0 },
}
--- error_log eval
[ qr/tenant "clinic-a": X-Twilio-Signature does not match, forbidden/ ]
--- no_error_log
[error]



=== TEST 5: over TLS: the webhook on https, the stream on wss, terminated by nginx's own TLS
--- http_config eval
::tenant(public_url => 'https://127.0.0.1:$TEST_NGINX_RAND_PORT_1') . <<"_EOC_"
    server {
        listen 127.0.0.1:\$TEST_NGINX_RAND_PORT_1 ssl;
        ssl_certificate     $::Tls/cert.pem;
        ssl_certificate_key $::Tls/key.pem;
$::locations
    }
_EOC_
--- user_files eval: $::files
--- config eval: $::locations
--- callsim_url: https://127.0.0.1:$TEST_NGINX_RAND_PORT_1/twilio/voice
--- callsim eval: [qw(--token 12345 --duration 1 --insecure)]
--- callsim_expect eval
{
    calls => [{
        outcome => 'connect', ok => 1, webhook_status => 200,
        stream_url => qr{^wss://127\.0\.0\.1:\d+/twilio/media/clinic-a$},
        frames_sent => 50, frames_echoed => 50, frames_missing => 0,
        close_code => 1000, stream_ended_status => 200, stream_ended => 'hangup', errors => [],
    }],
}
--- error_log eval
[ qr/media: call CA[0-9a-f]{32} tenant "clinic-a": stream MZ[0-9a-f]{32} started/ ]
--- no_error_log
[error]



=== TEST 6: the default audio is speech with pauses: through the bridge, the agent's VAD hears each turn start and end where callsim put them, and the greeting plays whole (nothing truncated)
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::agent_locations()
--- callsim eval: [qw(--token 12345 --duration 5 --talk-at 1s --talk 1s --pause 1.5s)]
--- callsim_expect eval
{ calls => [{ outcome => 'connect', ok => 1, frames_sent => 250, close_code => 1000, errors => [] }] }
--- callsim_after eval
sub {
    $::agent->wait_log(sub { $::agent->conn_log(dir => 'closed') }, 5) or die "the agent's call did not end";
    my @turns = ::turns();
    my $got = CORE::join ' ', map { "@$_" } @turns;
    # talk at 1.0-2.0 s and 3.5-4.5 s; the VAD starts a turn 300 ms (its
    # prefix padding) before the first loud 20 ms, and ends it where 500 ms
    # of silence end
    my @want = ([speech_started => 700], [speech_stopped => 2500],
                [speech_started => 3200], [speech_stopped => 5000]);
    die "turns: $got" unless @turns == @want
        && !grep { $turns[$_][0] ne $want[$_][0] || abs($turns[$_][1] - $want[$_][1]) > 40 } 0 .. $#want;
    die "the greeting was cut" if $::agent->conn_log(dir => 'in', type => 'conversation.item.truncate');
}
--- no_error_log
[error]



=== TEST 7: --tone keeps the old audio: a tone all along is one turn that never ends
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::agent_locations()
--- callsim eval: [qw(--token 12345 --duration 3 --tone)]
--- callsim_expect eval
{ calls => [{ outcome => 'connect', ok => 1, frames_sent => 150, close_code => 1000, errors => [] }] }
--- callsim_after eval
sub {
    $::agent->wait_log(sub { $::agent->conn_log(dir => 'closed') }, 5) or die "the agent's call did not end";
    my @turns = ::turns();
    die "turns: " . CORE::join(' ', map { "@$_" } @turns)
        unless @turns == 1 && $turns[0][0] eq 'speech_started' && $turns[0][1] == 0;
}
--- no_error_log
[error]



=== TEST 8: --realtime-only speaks the Realtime API straight to mock-realtime --echo: every append comes back as an audio delta at once (not a frame later, as without TCP_NODELAY on the mock's sockets), then callsim closes
--- config
--- callsim eval: ['--realtime-only', $::echo->url, '--calls', '2', '--duration', '2']
--- callsim_expect eval
{
    calls => [ map { +{ outcome => 'connect', ok => 1, frames_sent => 100, frames_echoed => 100,
                        frames_unmatched => 0, close_code => 1000, errors => [],
                        rtt_ms => { p50 => sub { $_[0] < 10 } } } } 1 .. 2 ],
    aggregate => { ok => 2, failed => 0 },
}
--- callsim_after eval
sub {
    my @appends = $::echo->log(dir => 'in', type => 'input_audio_buffer.append');
    die scalar(@appends) . " appends" unless @appends == 200;
}
