use Test::Nginx::Socket 'no_plan';
use Voxanne::Test::WebSocket;

master_on();
workers(2);
use Voxanne::Test::Twilio qw(twilio_request);
use Voxanne::Test::Media;

# nginx -s reload during a live media stream: the stream goes on in the old
# worker, the new workers see its call in the shared table, and the line it
# holds still counts against max_calls.  And how a stream's end reaches the
# stream-ended route, whichever worker it lands on.  The "media" section
# and the message helpers are Voxanne::Test::Media's, as in t/040.

our $locations = <<'_EOC_';
    location = /twilio/voice { voxanne_twilio voice; }
    location = /twilio/stream-ended { voxanne_twilio stream-ended; }
    location /twilio/media/ { voxanne_media_stream; }
_EOC_


sub reload {
    my $pidfile = Test::Nginx::Socket::server_root() . '/logs/nginx.pid';
    open my $fh, '<', $pidfile or die "$pidfile: $!";
    chomp(my $pid = <$fh>);
    kill HUP => $pid or die "kill HUP $pid: $!";
    sleep 1.5;
}

sub second_call {
    my ($port) = @_;
    my ($request, $headers) = twilio_request(
        uri => '/twilio/voice', base => 'http://edge.example.com',
        params => [AccountSid => $AC, CallSid => 'CA' . 'd' x 32, CallStatus => 'ringing',
                   From => '+14155550199', To => '+15550100001']);
    return http($port, $request, $headers);
}

run_tests();

__DATA__

=== TEST 1: a reload during a live stream
--- http_config eval: ::tenant(max_calls => 1)
--- user_files eval: $::files
--- config eval: $::locations . "    location = /status { voxanne_status; }\n    location = /metrics { voxanne_metrics; }\n"
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), ::media(1, 'AAAA'), { expect => ::echo('AAAA') },
  { run => sub { ::reload() } },
  ::media(2, 'BBBB'), { expect => ::echo('BBBB') },
  { run => sub {
        my ($ctx) = @_;
        my ($status, $json) = ::http($ctx->port, "GET /status", "");
        die "status: $status $json" unless $json =~ /"call_sid":"$::SID"[^}]*"line":true,"streaming":true/
                                        && $json =~ /"active":1,"streaming":1/;
        my ($code, $twiml) = ::second_call($ctx->port);
        die "a second call while the line is held: $twiml" unless $twiml =~ /<Say>All of our lines are busy/;
    } },
  ::stop(), { expect => { close => 1000 } }, { close => 1000 }, { sleep => 0.5 },
  { run => sub {
        my ($ctx) = @_;
        my ($status, $text) = ::http($ctx->port, "GET /metrics", "");
        die "metrics: $text" unless $text =~ /^voxanne_calls_active\{tenant="clinic-a"\} 0$/m
                                 && $text =~ /^voxanne_calls_total\{tenant="clinic-a",outcome="busy"\} 1$/m;
    } } ]
--- error_log eval
[ qr/reconfiguring/, qr/gracefully shutting down/,
  qr/stream ended, close 1000, 2 media messages/ ]
--- timeout: 15



=== TEST 2: a reload that would resize the session table is refused, and the stream goes on
--- http_config eval: "voxanne_session_zone zone=sessions:1m;\n" . ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(),
  { run => sub {
        my $conf = Test::Nginx::Socket::server_root() . '/conf/nginx.conf';
        open my $in, '<', $conf or die "$conf: $!";
        my $text = do { local $/; <$in> };
        close $in;
        $text =~ s/zone=sessions:1m/zone=sessions:2m/ or die "no zone in $conf";
        open my $out, '>', $conf or die "$conf: $!";
        print $out $text;
        close $out;
        ::reload();
    } },
  ::media(1, 'AAAA'), { expect => ::echo('AAAA') }, ::stop() ]
--- ws_close_code: 1000
--- error_log
voxanne_session_zone "sessions" cannot change its size on reload, live calls would be lost: restart nginx to resize it
--- timeout: 15



=== TEST 3: a stream that failed: stream-ended answers the tenant's fallback
--- http_config eval: ::tenant(fallback => 'dial +15551230000')
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), { binary => "\x00" }, { expect => { close => 1003 } },
  { close => 1003 }, { sleep => 0.3 },
  { run => sub {
        my ($ctx) = @_;
        my ($status, $twiml) = ::stream_ended($ctx->port);
        die "stream-ended: $status $twiml"
            unless $twiml =~ m{<Response><Dial>\+15551230000</Dial></Response>};
    } } ]
--- error_log eval
[ qr/stream ended, close 1003/, qr/call $::SID tenant "clinic-a": stream ended, it failed: fallback/ ]



=== TEST 4: a stream that ended with stop: stream-ended hangs up
--- http_config eval: ::tenant(fallback => 'dial +15551230000')
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(), ::stop(), { expect => { close => 1000 } },
  { close => 1000 }, { sleep => 0.3 },
  { run => sub {
        my ($ctx) = @_;
        my ($status, $twiml) = ::stream_ended($ctx->port);
        die "stream-ended: $status $twiml" unless $twiml =~ m{<Response><Hangup/></Response>};
    } } ]
--- no_error_log
it failed
