use Test::Nginx::Socket 'no_plan';
use Voxanne::Test::WebSocket;

# Self-test of the WebSocket sections (t/lib/Voxanne/Test/WebSocket.pm):
# harness -> nginx (its own WebSocket proxying) -> a small RFC 6455 echo
# server written here on Protocol::WebSocket, started for this file and
# stopped at exit. Stock nginx features only.

use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX ();
use Protocol::WebSocket::Frame;
use Protocol::WebSocket::Handshake::Server;
use Socket qw(AF_UNIX PF_UNSPEC SOCK_STREAM);
use Test2::API qw(intercept);

# ---------------------------------------------------------------- the echo server

# Echoes text and binary messages, answers pings and close frames, and obeys
# a few text commands:
#   close-me       close 1009 "asked to close", then wait for the client's close
#   ping-me        a ping "are-you-there", then the echo
#   seq:a,b,c      the texts a, b and c
#   frag:...       the echo in three fragments, a ping "between" after the first
#   bad-mask       a masked text frame "masked" (a server must not mask)
# GET /ws/greet gets a text "welcome" in the same write as the 101.
# Unmasked client frames, RSV bits and unknown opcodes get close 1002.

my $MainPid = $$;
my ($EchoPid, $EchoPort) = start_echo_server();
$ENV{TEST_NGINX_WS_ECHO_PORT} = $EchoPort;

END {
    if ($$ == $MainPid && $EchoPid) {
        local $?;
        kill 'KILL', -$EchoPid;    # its process group: the server and its connections
        waitpid $EchoPid, 0;
    }
}

sub start_echo_server {
    my $listener = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 64, ReuseAddr => 1,
    ) or die "echo server: cannot listen: $!\n";
    my $parent = $$;
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        setpgrp(0, 0);
        $SIG{CHLD} = 'IGNORE';
        $SIG{PIPE} = 'IGNORE';
        my $sel = IO::Select->new($listener);
        while (getppid() == $parent) {    # never outlives the test
            next unless $sel->can_read(0.5);
            my $conn = $listener->accept or next;
            my $child = fork;
            if (defined $child && !$child) {
                close $listener;
                eval { echo_connection($conn) };
                POSIX::_exit(0);
            }
            close $conn;
        }
        POSIX::_exit(0);
    }
    my $port = $listener->sockport;
    close $listener;
    return ($pid, $port);
}

sub server_frame {
    my (%a) = @_;
    my ($type) = grep { exists $a{$_} } qw(text binary continuation ping pong close);
    my $payload = $a{$type} // '';
    $payload = pack('n', $payload) . ($a{reason} // '') if $type eq 'close' && length $payload;
    return Protocol::WebSocket::Frame->new(
        buffer => $payload, type => $type, fin => $a{fin} // 1, masked => $a{masked} // 0, max_payload_size => 0,
    )->to_bytes;
}

sub echo_connection {
    my ($sock) = @_;
    my $sel = IO::Select->new($sock);
    my $read = sub {
        $sel->can_read(10) or return undef;
        my $n = sysread($sock, my $chunk, 65536);
        return $n ? $chunk : undef;
    };

    my $hs = Protocol::WebSocket::Handshake::Server->new;
    my $chunk = '';
    until ($hs->is_done) {
        my $more = $read->() // return;
        $chunk .= $more;
        if (!$hs->parse($chunk)) {
            print {$sock} "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            return;
        }
    }
    my $hello = $hs->to_string;
    $hello .= server_frame(text => 'welcome') if $hs->req->resource_name eq '/ws/greet';
    $sock->autoflush(1);
    print {$sock} $hello;

    my $frames = Protocol::WebSocket::Frame->new(max_payload_size => 0);
    $frames->append($chunk);
    my $closing;
    while (1) {
        while (1) {
            my $payload = eval { $frames->next_bytes };
            if (!defined $payload) {
                last unless $@;
                print {$sock} server_frame(close => 1002, reason => 'bad frame');
                return;
            }
            my $op = $frames->opcode;
            if (!$frames->masked || grep({ $_ } @{ $frames->rsv || [] }) || !grep { $op == $_ } 1, 2, 8, 9, 10) {
                print {$sock} server_frame(close => 1002, reason => 'protocol error');
                return;
            }
            if ($op == 8) {    # our close answered, or the client closes: echo it and end
                print {$sock} server_frame(close => length $payload >= 2 ? unpack('n', $payload) : '',
                    reason => substr($payload, 2)) unless $closing;
                return;
            }
            if ($op == 9) {
                print {$sock} server_frame(pong => $payload);
                next;
            }
            next if $op == 10 || $closing;
            if ($op == 2) {
                print {$sock} server_frame(binary => $payload);
            }
            elsif ($payload eq 'close-me') {
                print {$sock} server_frame(close => 1009, reason => 'asked to close');
                $closing = 1;
            }
            elsif ($payload eq 'ping-me') {
                print {$sock} server_frame(ping => 'are-you-there'), server_frame(text => $payload);
            }
            elsif ($payload =~ /^seq:(.*)$/s) {
                print {$sock} map { server_frame(text => $_) } split /,/, $1;
            }
            elsif ($payload =~ /^frag:/) {
                my $n = int(length($payload) / 3);
                print {$sock} server_frame(text => substr($payload, 0, $n), fin => 0),
                    server_frame(ping => 'between'),
                    server_frame(continuation => substr($payload, $n, $n), fin => 0),
                    server_frame(continuation => substr($payload, 2 * $n));
            }
            elsif ($payload eq 'bad-mask') {
                print {$sock} server_frame(text => 'masked', masked => 1);
            }
            else {
                print {$sock} server_frame(text => $payload);
            }
        }
        my $more = $read->() // return;
        $frames->append($more);
    }
}

# ---------------------------------------------------------------- block defaults

our $WS_LOCATION = <<'CONF';
    location /ws {
        proxy_pass http://127.0.0.1:$TEST_NGINX_WS_ECHO_PORT;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection upgrade;
    }
CONF
our $UPGRADE_HEADERS = <<'H';
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Version: 13
H

# Blocks after the first leave out what every block repeats.
add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value(config => $WS_LOCATION) unless defined $block->config;
    $block->set_value(request => 'GET /ws') unless defined $block->request;
    $block->set_value(more_headers => $UPGRADE_HEADERS) unless defined $block->more_headers;
    $block->set_value(error_code => 101) unless defined $block->error_code;
});

run_tests();

# ---------------------------------------------------------------- in process

# The handler against a fake server on a socketpair: deterministic bytes for
# the leftover and the protocol checks, outcomes captured with intercept.
package FakeBlock {
    our $AUTOLOAD;
    sub new { my ($class, %v) = @_; bless {%v}, $class }
    sub AUTOLOAD { my $n = $AUTOLOAD =~ s/.*:://r; $_[0]{$n} }
    sub DESTROY { }
}

sub run_fake {
    my (%a) = @_;
    my ($client, $server) = IO::Socket->socketpair(AF_UNIX, SOCK_STREAM, PF_UNSPEC) or die "socketpair: $!";
    my $writer = fork // die "fork: $!";
    if (!$writer) {    # a writer of its own: the bytes may not fit in the socket buffer
        close $client;
        print {$server} $a{server} // '';
        $server->flush;
        shutdown($server, 1) unless $a{keep_open};
        POSIX::_exit(0);
    }
    my $ctx = Test::Nginx::Socket::Context->new(
        name => $a{name}, responses => [{ code => 101, leftover => $a{leftover} // '' }],
        socket => $client, timeout => 1,
    );
    my $events = intercept {
        Voxanne::Test::WebSocket::handle_block(FakeBlock->new(ws_timeout => '0.3', %{ $a{block} }), $ctx);
    };
    close $client;
    my $sent = do { local $/; <$server> } // '';
    waitpid $writer, 0;
    my @oks = map { { pass => $_->pass, name => $_->isa('Test2::Event::Skip') ? 'skip: ' . $_->reason : $_->name } }
        grep { $_->isa('Test2::Event::Ok') } @$events;
    my $diag = join "\n", map { $_->message } grep { $_->isa('Test2::Event::Diag') } @$events;
    return { oks => \@oks, diag => $diag, sent => $sent };
}

sub client_frames {    # what the handler wrote, unmasked by Protocol::WebSocket
    my ($bytes) = @_;
    my $f = Protocol::WebSocket::Frame->new(max_payload_size => 0);
    $f->append($bytes);
    my @out;
    while (defined(my $p = $f->next_bytes)) {
        push @out, [$f->opcode, $f->masked, $p];
    }
    return \@out;
}

# A frame cut between the bytes read with the 101 and the socket.
my $binary = server_frame(binary => "\x00\xff" x 100);
my $r = run_fake(
    name     => 'leftover',
    leftover => server_frame(text => 'from-leftover') . substr($binary, 0, 3),
    server   => substr($binary, 3) . server_frame(close => 1001, reason => 'going away'),
    block    => { ws_expect => ['from-leftover', { binary => "\x00\xff" x 100 }], ws_close_code => '1001' },
);
is_deeply([map { $_->{pass} } @{ $r->{oks} }], [1, 1, 1], 'leftover: frames from the 101 read, then the socket')
    or diag explain $r;
is($r->{oks}[2]{name}, 'leftover - ws close code 1001', 'leftover: close check named');
is_deeply(client_frames($r->{sent}), [[8, 1, pack('n', 1001)]], 'leftover: the server\'s close is answered, masked, same code');

# Frames of every length encoding, fragments with a ping inside, a UTF-8 text.
my $big = 'x' x 70000;
$r = run_fake(
    name   => 'lengths',
    server => server_frame(text => 'a' x 125) . server_frame(text => 'b' x 126) . server_frame(binary => $big)
        . server_frame(text => 'fr', fin => 0) . server_frame(ping => 'in') . server_frame(continuation => 'ag')
        . server_frame(text => "caf\xc3\xa9"),
    block => { ws_expect => ['a' x 125, 'b' x 126, { binary => $big }, { ping => 'in' }, 'frag', "caf\xc3\xa9"] },
);
is_deeply([map { $_->{pass} } @{ $r->{oks} }], [(1) x 6], 'parser: 7-, 16-, 64-bit lengths, fragments, UTF-8')
    or diag $r->{diag};

# What a server must not send fails the expectation, with the reason.
my %violations = (
    'a masked frame'                      => server_frame(text => 'm', masked => 1),
    'RSV bits 4'                          => "\xc1\x01m",
    'reserved data opcode 3'              => "\x83\x01m",
    'reserved control opcode 11'          => "\x8b\x00",
    'a fragmented control frame'          => "\x09\x00",
    'a control frame of 126 bytes'        => "\x89\x7e\x00\x7e" . 'p' x 126,
    'a continuation frame outside'        => "\x80\x01m",
    'a new message inside'                => "\x01\x01a\x81\x01b",
    'a text message that is not UTF-8'    => "\x81\x02\xc3\x28",
    'close code 1005, which must not'     => "\x88\x02\x03\xed",
    'a close frame with a 1-byte payload' => "\x88\x01\x03",
    'a 16-bit length for 5 bytes'         => "\x81\x7e\x00\x05hello",
    'a 64-bit length for 5 bytes'         => "\x81\x7f" . pack('NN', 0, 5) . 'hello',
    'a frame length of 0x80'              => "\x81\x7f\x80" . "\0" x 7,
);
for my $what (sort keys %violations) {
    $r = run_fake(name => 'bad', server => $violations{$what}, block => { ws_expect => [{ text => undef }] });
    ok(!$r->{oks}[0]{pass} && $r->{diag} =~ /the server broke the protocol: \Q$what\E/, "protocol error: $what")
        or diag explain $r;
}

# The end of the connection, a timeout, and what the diagnostic shows.
$r = run_fake(name => 'cut', server => "\x81\x05hel", block => { ws_expect => ['hello'] });
like($r->{diag}, qr/the connection ended first \(5 bytes of an incomplete frame\)/, 'a frame cut by the end');
$r = run_fake(name => 'quiet', server => server_frame(text => 'one'), keep_open => 1,
    block => { ws_expect => ['one', 'two'] });
is_deeply([map { $_->{pass} } @{ $r->{oks} }], [1, 0], 'a frame that never comes fails');
like($r->{diag}, qr/no matching frame within 0\.3s\nreceived: nothing \(after 1 earlier frames\)/, 'timeout diagnostic');
$r = run_fake(name => 'long', server => server_frame(text => 'y' x 500) . server_frame(ping => "\x01"),
    block => { ws_expect => ['z'] });
like($r->{diag}, qr/^  text "y{100}"\.\.\. \(500 characters\)$/m, 'long frames are truncated in diagnostics');

# A frame reported as unexpected is not reported again by the close check.
$r = run_fake(name => 'once', server => server_frame(text => 'B') . server_frame(close => 1000),
    block => { ws_expect => ['A'], ws_close_code => 1000 });
is_deeply([map { $_->{pass} } @{ $r->{oks} }], [0, 1], 'an unexpected frame fails one check only');
$r = run_fake(name => 'shown', server => server_frame(text => 'B'), keep_open => 1, block => { ws_expect => ['A', 'A2'] });
like($r->{diag}, qr/^  text "B" \(skipped: reported already\)$/m, '... and later diagnostics still show it');

# A server that closes first while ws_no_close expects it open.
$r = run_fake(name => 'open', server => server_frame(close => 1000), block => { ws_no_close => '' });
is_deeply([map { $_->{pass} } @{ $r->{oks} }], [0, 1], 'ws_no_close: fails, the close answer is skipped');
is($r->{oks}[1]{name}, 'skip: open - ws close 1000 answered: the connection is closed already',
    'ws_no_close: the skipped check is named in its reason');

# Frame building.
is(Voxanne::Test::WebSocket::frame(text => 'hi', mask => 0), "\x81\x02hi", 'frame: unmasked text');
is(Voxanne::Test::WebSocket::frame(close => 1000, reason => 'ok', mask => 0), "\x88\x04\x03\xe8ok", 'frame: close');
is(Voxanne::Test::WebSocket::frame(ping => '', fin => 0, rsv => 5, mask => 0), "\x59\x00", 'frame: rsv, fin 0');
is_deeply(client_frames(Voxanne::Test::WebSocket::frame(binary => "\xff\x00")), [[2, 1, "\xff\x00"]],
    'frame: masked binary by default');

# ---------------------------------------------------------------- failures, in a child

sub run_child {
    my ($data) = @_;
    my $dir = tempdir(CLEANUP => 1);
    open my $fh, '>', "$dir/child.t" or die $!;
    print {$fh} "use Test::Nginx::Socket 'no_plan';\nuse Voxanne::Test::WebSocket;\nno_shuffle();\n",
        "run_tests();\n__DATA__\n$data";
    close $fh;
    local $ENV{TEST_NGINX_SERVROOT} = "$dir/servroot";
    local @ENV{qw(TEST_NGINX_SERVER_PORT TEST_NGINX_PORT)};
    delete @ENV{qw(TEST_NGINX_SERVER_PORT TEST_NGINX_PORT)};
    return scalar `$^X -I t/lib $dir/child.t 2>&1`;
}

my $head = "--- config\n$WS_LOCATION--- request\nGET /ws\n--- more_headers\n$UPGRADE_HEADERS--- error_code: 101\n";
my $out = run_child(<<"T");
=== TEST 1: wrong text
$head--- ws_send eval
['hello']
--- ws_expect eval
['goodbye']

=== TEST 2: a missing frame fails once
$head--- ws_send eval
['seq:a,c']
--- ws_expect eval
['a', 'b', 'c']

=== TEST 3: timeout
$head--- ws_send eval
['x']
--- ws_expect eval
['x', 'never']
--- ws_timeout: 1

=== TEST 4: wrong close code
$head--- ws_send eval
['close-me']
--- ws_close_code: 1000

=== TEST 5: closed, not open
$head--- ws_send eval
['close-me', { expect => { close => 1009 } }]
--- ws_no_close

=== TEST 6: masked server frame
$head--- ws_send eval
['bad-mask']
--- ws_expect eval
['masked']

=== TEST 7: json mismatch
$head--- ws_send eval
['{"event":"start","start":{"tracks":["inbound"]}}', '{"event":"start","start":{"tracks":["inbound"]}}']
--- ws_expect eval
[{ json => { event => 'media' } }, { json => { start => { tracks => ['outbound'] } } }]

=== TEST 8: no upgrade
--- config
    location /ws { return 200; }
--- request
GET /ws
--- ws_expect eval
['anything']

=== TEST 9: malformed step
$head--- ws_send eval
[{ bogus => 1 }]

=== TEST 10: unexpected close
$head--- ws_send eval
['close-me']
--- ws_expect eval
['echo']
--- ws_close_code: 1009

=== TEST 11: skipped frames are listed
$head--- ws_send eval
['seq:s1,s2']
--- ws_expect eval
['s3']
--- ws_skip_unmatched
--- ws_timeout: 1

=== TEST 12: a wrong frame fails once
$head--- ws_send eval
['seq:B,C']
--- ws_expect eval
['A', 'C']
--- ws_no_close
T
my @child = (
    [qr/^not ok \d+ - TEST 1: wrong text - ws expect 1: text "goodbye"$/m, 'a wrong text fails'],
    [qr/^# unexpected text "hello" \(different text\)$/m, '... showing the frame received'],
    [qr/^ok \d+ - TEST 2: a missing frame fails once - ws expect 1: text "a"$/m, 'frames before the gap match'],
    [qr/^not ok \d+ - TEST 2: a missing frame fails once - ws expect 2: text "b"$/m, 'the missing frame fails'],
    [qr/^ok \d+ - TEST 2: a missing frame fails once - ws expect 3: text "c"$/m, 'an unexpected frame stays unread'],
    [qr/^not ok \d+ - TEST 3: timeout - ws expect 2: text "never"$/m, 'a frame that never comes fails'],
    [qr/^# no matching frame within 1s$/m, '... after ws_timeout'],
    [qr/^not ok \d+ - TEST 4: wrong close code - ws close code 1000$/m, 'a wrong close code fails'],
    [qr/^# the close frame has code 1009$/m, '... saying which'],
    [qr/^not ok \d+ - TEST 5: closed, not open - ws connection still open$/m, 'ws_no_close fails on a close'],
    [qr/^ok \d+ # skip TEST 5: closed, not open - ws close 1000 answered: the connection is closed already$/m,
        '... and skips the handshake'],
    [qr/^# the server broke the protocol: a masked frame/m, 'a masked server frame fails'],
    [qr/^not ok \d+ - TEST 7: json mismatch - ws expect 1: json \{"event" => "media"\}$/m, 'json mismatch fails'],
    [qr/^# unexpected text .*\(\.event is "start", not "media"\)$/m, '... with the difference'],
    [qr/^not ok \d+ - TEST 7: json mismatch - ws expect 2: json \{"start" => /m, 'a nested json mismatch fails'],
    [qr/^# unexpected text .*\(\.start\.tracks\[0\] is "inbound", not "outbound"\)$/m, '... with its path'],
    [qr/^not ok \d+ - TEST 8: no upgrade - ws connection upgraded$/m, 'no 101, no WebSocket'],
    [qr/^not ok \d+ - TEST 9: malformed step - block handler died: ws_send step 1: a frame has exactly one of/m,
        'a malformed step fails the block'],
    [qr/^not ok \d+ - TEST 10: unexpected close - ws expect 1: text "echo"$/m, 'a close instead of a frame fails'],
    [qr/^# the server closed first with close 1009 "asked to close"$/m, '... saying so'],
    [qr/^ok \d+ - TEST 10: unexpected close - ws close code 1009$/m, '... and the close stays for ws_close_code'],
    [qr/^not ok \d+ - TEST 12: a wrong frame fails once - ws expect 1: text "A"$/m, 'a wrong frame fails'],
    [qr/^ok \d+ - TEST 12: a wrong frame fails once - ws expect 2: text "C"$/m, '... once: the next one skips it'],
);
like($out, $_->[0], "child: $_->[1]") or diag($out) for @child;
like($out, qr/^#   text "s1" \(skipped: different text\)\n#   text "s2" \(skipped: different text\)$/m,
    'child: ws_skip_unmatched lists the frames it skipped');
unlike($out, qr/^not ok \d+ - .* - no alert/m, 'child: nginx stays clean through the failures');

__DATA__

=== TEST 1: text echo, the upgrade request in full
--- config
    location /ws {
        proxy_pass http://127.0.0.1:$TEST_NGINX_WS_ECHO_PORT;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection upgrade;
    }
--- request
GET /ws
--- more_headers
Upgrade: websocket
Connection: Upgrade
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
Sec-WebSocket-Version: 13
--- error_code: 101
--- response_headers
Upgrade: WebSocket
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
--- ws_send eval
['hello', { text => "caf\xc3\xa9" }]
--- ws_expect eval
[{ text => 'hello' }, { text_like => qr/^caf./ }]
--- ws_no_close
--- no_error_log
[error]



=== TEST 2: plain sections, one text per line
--- ws_send
one
two
--- ws_expect
one
two
--- ws_no_close



=== TEST 3: fragmented send, with a ping inside
--- ws_send eval
[
    { text => 'Hel', fin => 0 },
    { continuation => 'lo, ', fin => 0 },
    { ping => 'mid' },
    { continuation => 'world' },
]
--- ws_expect eval
[{ pong => 'mid' }, { text => 'Hello, world' }]
--- ws_no_close



=== TEST 4: ping and pong
--- ws_send eval
[{ ping => 'are you there?' }, { ping => '' }]
--- ws_expect eval
[{ pong => 'are you there?' }, { pong => '' }]
--- ws_no_close



=== TEST 5: binary, all three length encodings
--- ws_send eval
[{ binary => "\x00\x01\xfe\xff" }, { binary => "\x00\xff" x 200 }, { binary => "\x80" x 70000 }]
--- ws_expect eval
[{ binary => "\x00\x01\xfe\xff" }, { binary => "\x00\xff" x 200 }, { binary => "\x80" x 70000 }]
--- ws_no_close



=== TEST 6: JSON match, recursive and partial
--- ws_send eval
['{"event":"media","sequenceNumber":"3","media":{"track":"inbound","chunk":"2","payload":"AAEC"},"streamSid":"MZ123","last":true,"none":null}']
--- ws_expect eval
[{ json => {
    event => 'media', streamSid => 'MZ123', media => { track => 'inbound', payload => qr/^[A-Za-z0-9+\/]+=*$/ },
    last => JSON::PP::true, none => undef,
} }]
--- ws_no_close



=== TEST 7: close initiated by the client, the echo checked
--- ws_send eval
['bye', { close => 1000, reason => 'done' }]
--- ws_expect eval
['bye', { close => 1000, reason => 'done' }]
--- ws_close_code: 1000



=== TEST 8: close initiated by the client, ws_close_code alone
--- ws_send eval
[{ close => 4001 }]
--- ws_close_code: 4001



=== TEST 9: close initiated by the server, answered by the handler
--- ws_send eval
['close-me']
--- ws_close_code: 1009



=== TEST 10: the server's close read by an expectation
--- ws_send eval
['first', 'close-me']
--- ws_expect eval
['first', { close => 1009, reason_like => qr/asked/ }]
--- ws_close_code: 1009



=== TEST 11: raw bytes, byte by byte
--- ws_send eval
my $mask = "\x01\x02\x03\x04";
[{ raw => "\x81\x89$mask" . ("raw-hello" ^ substr($mask x 3, 0, 9)), split => 1 }]
--- ws_expect eval
['raw-hello']
--- ws_no_close



=== TEST 12: raw bytes, two frames in one write, one cut in two writes
--- ws_send eval
my $c = Voxanne::Test::WebSocket::frame(text => 'c');
[
    { raw => Voxanne::Test::WebSocket::frame(text => 'a') . Voxanne::Test::WebSocket::frame(text => 'b') },
    { raw => substr($c, 0, 3) }, { sleep => 0.05 }, { raw => substr($c, 3) },
]
--- ws_expect eval
['a', 'b', 'c']
--- ws_no_close



=== TEST 13: an unmasked client frame is a protocol error
--- ws_send eval
[{ text => 'naked', mask => 0 }]
--- ws_close_code: 1002



=== TEST 14: a reserved opcode, sent raw
--- ws_send eval
[{ raw => "\x83\x80\x00\x00\x00\x00" }]
--- ws_expect eval
[{ close => 1002, reason => 'protocol error' }]
--- ws_close_code: 1002



=== TEST 15: expect steps between sends
--- ws_send eval
[
    'start',
    { expect => 'start' },
    { sleep => '50ms' },
    { binary => 'x', split => 1 },
    { expect => { binary => 'x' } },
    'seq:m1,m2',
    { expect => ['m1', { text_like => qr/^m\d$/ }] },
    'after',
]
--- ws_expect eval
['after']
--- ws_no_close



=== TEST 16: pings from the server are skipped, or expected
--- ws_send eval
['ping-me', { expect => 'ping-me' }, 'ping-me']
--- ws_expect eval
[{ ping => 'are-you-there' }, 'ping-me']
--- ws_no_close



=== TEST 17: ws_skip_unmatched
--- ws_send eval
['seq:noise1,noise2,wanted']
--- ws_expect eval
['wanted']
--- ws_skip_unmatched
--- ws_no_close



=== TEST 18: fragmented frames from the server, a ping between them
--- ws_send eval
['frag:abcdefgh']
--- ws_expect eval
[{ ping => 'between' }, 'frag:abcdefgh']
--- ws_no_close



=== TEST 19: a frame sent with the 101 (leftover, when it arrives in the same read)
--- request
GET /ws/greet
--- ws_expect eval
['welcome']
--- ws_send eval
['after-greeting']
--- ws_no_close



=== TEST 20: an upstream mock answering 101 and frames in one packet
--- config
    location /ws {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection upgrade;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    . "\x81\x09from-mock" . "\x88\x0c\x03\xe9going away"
--- tcp_no_close
--- ws_expect eval
['from-mock', { close => 1001, reason => 'going away' }]



=== TEST 21: the example of docs/testing.md
--- ws_send eval
[
    'hello',                                              # a masked text frame
    { expect => 'hello' },                                # read until it comes
    { text => '{"event":"media",', fin => 0 },            # a fragmented message
    { continuation => '"streamSid":"MZ123"}' },
    { ping => 'p' },
    { sleep => 0.1 },
    { raw => Voxanne::Test::WebSocket::frame(binary => "\x00\xff"), split => 1 },   # byte by byte
    'close-me',
]
--- ws_expect eval
[{ json => { event => 'media', streamSid => 'MZ123' } }, { pong => 'p' }, { binary => "\x00\xff" },
 { close => 1009, reason_like => qr/asked/ }]
--- ws_close_code: 1009
