use Test::Nginx::Socket 'no_plan';
use IO::Socket::INET;
use Voxanne::Test::WebSocket;
use Voxanne::Test::Media;
use Voxanne::Test::Realtime;

# The provider failing, every way it can: the failure is logged once with
# its cause (never the key), counted in voxanne_metrics, and the Twilio
# stream closes with 1011, so that the stream-ended route answers the
# tenant's fallback instead of leaving the caller in silence.

our $KEY = 'sk-test-' . join '', map { ('a' .. 'z')[rand 26] } 1 .. 24;

our $keyed = Voxanne::Test::Realtime->start(args => ['--api-key', $KEY, '--reply-ms', '80']);
our $drop = Voxanne::Test::Realtime->start(args => ['--reply-ms', '5000', '--drop-after', '400ms']);
our $error = Voxanne::Test::Realtime->start(args => ['--reply-ms', '5000', '--error-after', '400ms',
                                                     '--close-after', '700ms', '--close-code', '1011']);
our $recoverable = Voxanne::Test::Realtime->start(args => ['--reply-ms', '80', '--burst',
                                                           '--error-after', '300ms',
                                                           '--error-code', 'response_cancel_not_active']);
our $server_error = Voxanne::Test::Realtime->start(args => ['--reply-ms', '80', '--burst',
                                                            '--error-after', '300ms']);
our $capped = Voxanne::Test::Realtime->start(args => ['--reply-ms', '5000', '--session-cap', '600ms']);
our $silent = Voxanne::Test::Realtime->start(args => ['--reply-ms', '80', '--burst']);
our $hung = Voxanne::Test::Realtime->start(args => ['--reply-ms', '80', '--burst', '--mute-after', '300ms']);
our $idle = "        voxanne_realtime_timeout 300ms;\n";
our $close = Voxanne::Test::Realtime->start(args => ['--reply-ms', '5000', '--close-after', '400ms',
                                                     '--close-code', '1011']);
our $mute = Voxanne::Test::Realtime->start(args => ['--delay-accept', '5s']);

# a loopback port nothing listens on
our $closed_port = do {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0)
        or die "listen: $!";
    my $port = $s->sockport;
    close $s;
    $port;
};

sub locations {
    my ($url, $extra) = @_;
    $extra //= '';
    return <<"_EOC_";
    location = /twilio/voice { voxanne_twilio voice; }
    location = /twilio/stream-ended { voxanne_twilio stream-ended; }
    location = /metrics { voxanne_metrics; }
    location /twilio/media/ {
        voxanne_media_stream;
        voxanne_realtime_url $url;
$extra    }
_EOC_
}

# the call goes on after an error event the session survives: counted,
# no failure; the agent still answers a key (get_current_time)
sub goes_on {
    my ($mock) = @_;
    return (
        { run => sub { $mock->wait_log(dir => 'out', type => 'error', 5) or die "no error event" } },
        { sleep => 0.2 },
        ::dtmf('1'),
        { run => sub {
              $mock->wait_log(sub { grep { ($_->{item}{type} // '') eq 'function_call_output' }
                                    $mock->conn_log(dir => 'in', type => 'conversation.item.create') }, 5)
                  or die "the agent did not answer after the error";
          } },
        { run => sub {
              my ($ctx) = @_;
              my (undef, $metrics) = ::http($ctx->port, 'GET /metrics', '');
              die "metrics: $metrics" unless $metrics =~ /^voxanne_realtime_recovered_errors_total 1$/m;
              die "metrics: a failure: $metrics"
                  if $metrics =~ /^voxanne_realtime_failures_total\{[^}]+\} [1-9]/m;
          } },
        ::stop(),
        { expect => { close => 1000 } },
    );
}

# the steps after the bridge closed the stream as failed: Twilio answers
# the close, then requests stream-ended, which must answer the fallback
sub fallback {
    my ($cause) = @_;
    return (
        { expect => { close => 1011, reason => 'realtime provider failure' } },
        { close => 1011 }, { sleep => 0.3 },
        { run => sub {
              my ($ctx) = @_;
              my ($status, $twiml) = ::stream_ended($ctx->port);
              die "stream-ended: $status $twiml"
                  unless $twiml =~ m{<Response><Dial>\+15551230000</Dial></Response>};
              my (undef, $metrics) = ::http($ctx->port, 'GET /metrics', '');
              die "metrics: $metrics"
                  unless $metrics =~ /^voxanne_realtime_failures_total\{cause="$cause"\} 1$/m;
              die "metrics: $metrics" unless $metrics =~ /^voxanne_ws_close_total\{code="1011"\} 1$/m;
              my @failures = $metrics =~ /^voxanne_realtime_failures_total\{[^}]+\} ([1-9]\d*)$/mg;
              die "metrics: more than one failure: $metrics" unless @failures == 1;
          } },
    );
}

our $tenant = ::tenant(fallback => 'dial +15551230000');

run_tests();

__DATA__

=== TEST 1: a refused upgrade (401: a wrong key): the stream closes 1011, stream-ended dials the fallback
--- http_config eval: $::tenant
--- user_files eval: $::files . ">>> provider.key\nsk-wrong-key-0123456789\n"
--- config eval: ::locations($::keyed->url, "        voxanne_realtime_key_file ../html/provider.key;\n")
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), ::fallback('refused') ]
--- error_log eval
[ qr/voxanne: realtime: call $::SID tenant "clinic-a": provider failure \(refused\): the server answered 401/,
  qr/stream ended, close 1011/, qr/call $::SID tenant "clinic-a": stream ended, it failed: fallback/ ]
--- no_error_log
sk-wrong-key
Bearer



=== TEST 2: the right key: the upgrade carries it, the call is bridged, and the key is never logged
--- http_config eval: $::tenant
--- user_files eval: $::files . ">>> provider.key\n$::KEY\n"
--- config eval: ::locations($::keyed->url, "        voxanne_realtime_key_file ../html/provider.key;\n")
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), { expect => { json => { event => 'mark', mark => { name => '1:40' } } } },
  { run => sub { die "not upgraded" unless $::keyed->log(dir => 'upgrade', status => 101) } },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/realtime: call $::SID: provider open/ ]
--- no_error_log eval
[ '[error]', $::KEY, 'Bearer' ]



=== TEST 3: nothing listens on the provider's port: connect fails, the stream closes 1011
--- http_config eval: $::tenant
--- user_files eval: $::files
--- config eval: ::locations("ws://127.0.0.1:$::closed_port/v1/realtime?model=gpt-realtime")
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), ::fallback('connect') ]
--- error_log eval
[ qr/provider failure \(connect\): connect to 127\.0\.0\.1:$::closed_port failed/,
  qr/it failed: fallback/ ]



=== TEST 4: the provider accepts the connection and never answers: the upgrade times out
--- http_config eval: $::tenant
--- user_files eval: $::files
--- config eval: ::locations($::mute->url, "        voxanne_realtime_connect_timeout 300ms;\n")
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), ::fallback('timeout') ]
--- error_log eval
[ qr/provider failure \(timeout\): no answer to the upgrade in 300 ms/, qr/it failed: fallback/ ]



=== TEST 5: the provider drops the connection mid-call (no close frame): the stream closes 1011
--- http_config eval: $::tenant
--- user_files eval: $::files
--- config eval: ::locations($::drop->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), { expect => { json => { event => 'mark', mark => { name => '1:40' } } } },
  ::fallback('dropped') ]
--- ws_skip_unmatched
--- error_log eval
[ qr/provider failure \(dropped\): the server closed the connection without a close frame/,
  qr/it failed: fallback/ ]



=== TEST 6: a server_error event, then the provider closes: the error is a warning, the close fails the call, the stream closes 1011
--- http_config eval: $::tenant
--- user_files eval: $::files
--- config eval: ::locations($::error->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), { expect => { json => { event => 'mark', mark => { name => '1:40' } } } },
  ::fallback('closed') ]
--- ws_skip_unmatched
--- error_log eval
[ qr/\[warn\] .*realtime: call $::SID: an error event, the call goes on: type "server_error", code "", event "": The server had an error/,
  qr/provider failure \(closed\): the server closed with 1011/, qr/it failed: fallback/ ]



=== TEST 7: the provider closes the session with 1011: the stream closes 1011 too, and the provider's connection ends
--- http_config eval: $::tenant
--- user_files eval: $::files
--- config eval: ::locations($::close->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), { expect => { json => { event => 'mark', mark => { name => '1:40' } } } },
  ::fallback('closed'),
  { run => sub { die "still connected" unless $::close->wait_log(dir => 'closed', 5) } } ]
--- ws_skip_unmatched
--- error_log eval
[ qr/provider failure \(closed\): the server closed with 1011/, qr/it failed: fallback/ ]



=== TEST 8: a recoverable error event (a cancel with no response on): a warning, counted, and the call goes on
--- http_config eval: ::tenant(tools => 'get_current_time')
--- user_files eval: $::files
--- config eval: ::locations($::recoverable->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), ::goes_on($::recoverable) ]
--- ws_skip_unmatched
--- error_log eval
[ qr/\[warn\] .*an error event, the call goes on: type "invalid_request_error", code "response_cancel_not_active"/,
  qr/stream ended, close 1000/ ]
--- no_error_log
[error]



=== TEST 9: a server_error event the session survives: a warning, counted, and the call goes on
--- http_config eval: ::tenant(tools => 'get_current_time')
--- user_files eval: $::files
--- config eval: ::locations($::server_error->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), ::goes_on($::server_error) ]
--- ws_skip_unmatched
--- error_log eval
[ qr/\[warn\] .*an error event, the call goes on: type "server_error"/, qr/stream ended, close 1000/ ]
--- no_error_log
[error]



=== TEST 10: the provider's session cap (session_expired, then close 1001): the call fails over to the fallback, not silence
--- http_config eval: $::tenant
--- user_files eval: $::files
--- config eval: ::locations($::capped->url)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), { expect => { json => { event => 'mark', mark => { name => '1:40' } } } },
  ::fallback('error'),
  { run => sub { die "still connected" unless $::capped->wait_log(dir => 'closed', 5) } } ]
--- ws_skip_unmatched
--- error_log eval
[ qr/provider failure \(error\): an error event: type "invalid_request_error", code "session_expired", event "": Your session hit the maximum duration/,
  qr/it failed: fallback/ ]
--- no_error_log
the call goes on



=== TEST 11: a provider silent for many idle timeouts: the bridge pings, the pongs keep the call up
--- http_config eval: ::tenant(tools => 'get_current_time')
--- user_files eval: $::files
--- config eval: ::locations($::silent->url, $::idle)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), { expect => { json => { event => 'mark', mark => { name => '1:80' } } } },
  { sleep => 1.5 },
  { run => sub { die "closed" if $::silent->conn_log(dir => 'close') } },
  ::dtmf('1'),
  { run => sub {
        $::silent->wait_log(sub { grep { ($_->{item}{type} // '') eq 'function_call_output' }
                                  $::silent->conn_log(dir => 'in', type => 'conversation.item.create') }, 5)
            or die "the provider's connection is not up";
    } },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- no_error_log
[error]
provider failure



=== TEST 12: a provider that hangs (reads nothing, so answers no ping): no pong in the idle timeout, the stream closes 1011
--- http_config eval: $::tenant
--- user_files eval: $::files
--- config eval: ::locations($::hung->url, $::idle)
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), { expect => { json => { event => 'mark', mark => { name => '1:80' } } } },
  { run => sub { $::hung->wait_log(dir => 'mute', 5) or die "not muted" } },
  ::fallback('timeout') ]
--- ws_skip_unmatched
--- error_log eval
[ qr/provider failure \(timeout\): no pong in 300 ms/, qr/it failed: fallback/ ]
