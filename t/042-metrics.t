use Test::Nginx::Socket 'no_plan';
use Voxanne::Test::WebSocket;
use Voxanne::Test::Twilio qw(twilio_request);
use Voxanne::Test::Media;
use JSON::PP qw(encode_json decode_json);
use IO::Socket::INET;

# voxanne_metrics and voxanne_status.  "webhooks" become signed requests as
# in t/031; "--- fetch" names a page fetched after the block's requests (and
# its WebSocket exchange), checked by "--- fetch_like" and parsed as
# Prometheus text or JSON.

sub sid { sprintf 'CA%032x', shift }

sub call {
    my ($sid, %o) = @_;
    return { base => 'http://edge.example.com',
             params => [ AccountSid => $AC, CallSid => $sid, CallStatus => 'ringing',
                         From => '+14155550123', To => $o{to} // '+15550100001' ],
             exists $o{token} ? (token => $o{token}) : () };
}

add_block_preprocessor(sub {
    my $block = shift;
    my $hooks = $block->webhooks or return;
    my (@requests, @headers);
    for my $hook (@$hooks) {
        if (!ref $hook || $hook->{request}) {
            push @requests, ref $hook ? $hook->{request} : $hook;
            push @headers, ref $hook ? $hook->{headers} : '';
            next;
        }
        my ($request, $headers) = twilio_request(%$hook);
        push @requests, $request;
        push @headers, $headers;
    }
    $block->set_value(request => \@requests);
    $block->set_value(more_headers => \@headers);
});

sub fetch {
    my ($port, $uri) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5) or return '';
    print $s "GET $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    local $/;
    my $response = <$s> // '';
    return (split /\r\n\r\n/, $response, 2)[1] // '';
}

# every line of a Prometheus text page is a TYPE line or a sample
sub prometheus_ok {
    my ($text) = @_;
    return 0 unless length $text;
    for my $line (split /\n/, $text) {
        next if $line =~ /^# TYPE [a-z_]+ (counter|gauge)$/;
        next if $line =~ /^[a-z_]+(\{[a-z_]+="[^"\\]*"(,[a-z_]+="[^"\\]*")*\})? \d+$/;
        return 0;
    }
    return 1;
}

Test::Nginx::Socket::add_block_handler(sub {
    my ($block, $ctx) = @_;
    my $uri = $block->fetch or return;
    $uri =~ s/\s+$//;
    close $ctx->socket if $ctx->socket;
    select undef, undef, undef, 0.2;
    my $body = fetch($ctx->port, $uri);
    if ($uri =~ /metrics/) {
        Test::More::ok(prometheus_ok($body), $ctx->name . " - $uri parses as Prometheus text")
            or Test::More::diag($body);
    }
    else {
        my $json = eval { decode_json($body) };
        Test::More::ok($json, $ctx->name . " - $uri is JSON") or Test::More::diag($body);
    }
    for my $re (@{ $block->fetch_like || [] }) {
        Test::More::like($body, $re, $ctx->name . " - $uri has $re");
    }
});


our $locations = <<'_EOC_';
    location = /twilio/voice { voxanne_twilio voice; }
    location = /twilio/status { voxanne_twilio status; }
    location /twilio/media/ { voxanne_media_stream; }
    location = /metrics { voxanne_metrics; }
    location = /status { voxanne_status; }
_EOC_

run_tests();

__DATA__

=== TEST 1: outcomes, webhook results, signature failures and unknown numbers are counted
--- http_config eval: ::tenant(max_calls => 1)
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::call(::sid(1)), ::call(::sid(2)), ::call(::sid(3), token => 'forged'),
  ::call(::sid(4), to => '+15559999999'), "GET /metrics" ]
--- error_code eval: [200, 200, 403, 200, 200]
--- response_body_like eval
[ qr/<Connect/, qr/<Say>/, qr/\A\z/, qr/<Reject/,
  qr/^voxanne_calls_active\{tenant="clinic-a"\} 1$/m ]
--- fetch: /metrics
--- fetch_like eval
[ qr/^voxanne_calls_total\{tenant="clinic-a",outcome="connected"\} 1$/m,
  qr/^voxanne_calls_total\{tenant="clinic-a",outcome="busy"\} 1$/m,
  qr/^voxanne_webhook_requests_total\{tenant="clinic-a",route="voice",result="ok"\} 2$/m,
  qr/^voxanne_webhook_requests_total\{tenant="clinic-a",route="voice",result="forbidden"\} 1$/m,
  qr/^voxanne_signature_failures_total 1$/m,
  qr/^voxanne_unknown_numbers_total 1$/m,
  qr/^voxanne_session_zone_bytes_used [1-9]\d*$/m ]



=== TEST 2: a completed call gives its line back in the gauge
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::call(::sid(5)),
  { base => 'http://edge.example.com', uri => '/twilio/status',
    params => [ AccountSid => $::AC, CallSid => ::sid(5), CallStatus => 'completed',
                To => '+15550100001' ] } ]
--- error_code eval: [200, 200]
--- fetch: /metrics
--- fetch_like eval
[ qr/^voxanne_calls_active\{tenant="clinic-a"\} 0$/m,
  qr/^voxanne_webhook_requests_total\{tenant="clinic-a",route="status",result="ok"\} 1$/m ]



=== TEST 3: the status page lists live calls
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(6)), ::call(::sid(7)) ]
--- error_code eval: [200, 200]
--- fetch: /status
--- fetch_like eval
[ qr/"call_sid":"${\ ::sid(6)}","tenant":"clinic-a","from":"\+14155550123","to":"\+15550100001","state":"ringing","status":"ringing","line":true,"streaming":false,"age":\d+\}/,
  qr/"call_sid":"${\ ::sid(7)}"/, qr/"active":2,"streaming":0\}/ ]



=== TEST 4: a media stream's frames and close code are counted when it ends
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::call(::sid(8)),
  { request => "GET /twilio/media/clinic-a",
    headers => "Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\n"
               . "Sec-WebSocket-Version: 13\nX-Twilio-Signature: "
               . Voxanne::Test::Twilio::twilio_sign('12345', 'ws://edge.example.com/twilio/media/clinic-a') . "\n" } ]
--- error_code eval: [200, 101]
--- ws_send eval
[ JSON::PP::encode_json({ event => 'connected', protocol => 'Call', version => '1.0.0' }),
  JSON::PP::encode_json({ event => 'start', sequenceNumber => '1', streamSid => $::MZ,
      start => { streamSid => $::MZ, callSid => ::sid(8), accountSid => $::AC, tracks => ['inbound'],
                 customParameters => { tenant => 'clinic-a', token => ::token(sid => ::sid(8)) } } }),
  JSON::PP::encode_json({ event => 'media', sequenceNumber => '2', streamSid => $::MZ,
      media => { track => 'inbound', chunk => '1', timestamp => '20', payload => 'AAAA' } }),
  { expect => { json => { event => 'media' } } },
  JSON::PP::encode_json({ event => 'stop', sequenceNumber => '3', streamSid => $::MZ }) ]
--- ws_close_code: 1000
--- fetch: /metrics
--- fetch_like eval
[ qr/^voxanne_ws_frames_total\{direction="in"\} 5$/m,
  qr/^voxanne_ws_frames_total\{direction="out"\} 2$/m,
  qr/^voxanne_ws_close_total\{code="1000"\} 1$/m,
  qr/^voxanne_calls_active\{tenant="clinic-a"\} 0$/m ]



=== TEST 5: an ended stream's record keeps what it carried
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: { sid => ::sid(9) }
--- ws_send eval
[ ::connected(), ::start(sid => ::sid(9), token => ::token(sid => ::sid(9))), ::media(1, 'AAAA'), { expect => { json => { event => 'media' } } },
  ::stop() ]
--- ws_close_code: 1000
--- fetch: /status
--- fetch_like eval
[ qr/"call_sid":"${\ ::sid(9)}","tenant":"clinic-a","from":"\+14155550123","to":"\+15550100001","state":"ended","status":"ringing","line":false,"streaming":false,"age":\d+,"stream_sid":"$::MZ","pid":\d+,"failed":false,"idle":\d+,"frames_in":5,"frames_out":2,"bytes_in":\d+,"bytes_out":\d+,"media":1,"marks":0,"marks_played":0\}/ ]



=== TEST 6: a live stream's record is reported while the call goes on
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- media eval: { sid => ::sid(10) }
--- ws_send eval
[ ::connected(), ::start(sid => ::sid(10), token => ::token(sid => ::sid(10))),
  (map { (::media($_, 'AAAA'), { expect => { json => { event => 'media' } } }) } 1 .. 3),
  { run => sub { select undef, undef, undef, 1.1 } },
  ::media(4, 'AAAAAAAA'), { expect => { json => { event => 'media' } } },
  { run => sub {
      my $status = ::fetch($_[0]->port, '/status');
      $status =~ /"call_sid":"${\ ::sid(10)}".*"state":"streaming".*"stream_sid":"$::MZ","pid":\d+,"failed":false,"idle":[01],"frames_in":6,"frames_out":4,"bytes_in":(\d+),"bytes_out":(\d+),"media":4,"marks":0,"marks_played":0\}/
          or die "no live record in $status\n";
      $1 > 4 * 60 && $2 > 4 * 60 or die "payload bytes $1 in, $2 out\n";
  } },
  ::stop() ]
--- ws_close_code: 1000



=== TEST 7: without tenants the pages are empty, and only GET and HEAD are answered
--- config eval: $::locations
--- request eval: ["GET /metrics", "GET /status", "POST /metrics\nx"]
--- error_code eval: [200, 200, 405]
--- response_body_like eval: [qr/\A\z/, qr/\A\{"active":0,"streaming":0,"calls":\[\]\}\n\z/, qr/405 Not Allowed/]
