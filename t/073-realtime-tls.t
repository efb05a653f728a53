use Test::Nginx::Socket 'no_plan';
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Voxanne::Test::WebSocket;
use Voxanne::Test::Media;
use Voxanne::Test::Realtime;

# wss:// to the provider: TLS verified against voxanne_realtime_ssl_trusted_
# certificate (the chain, then the host name or IP address), with SNI; and
# names resolved by the location's resolver, here a small DNS responder of
# the test's own that answers 127.0.0.1 for any name but missing.test.

our $Tls = tempdir(CLEANUP => 1);

{
    my @ec = ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes');
    for my $ca (qw(ca other)) {
        system('openssl', 'req', '-x509', @ec, '-keyout', "$Tls/$ca.key", '-out', "$Tls/$ca.pem",
               '-days', '1', '-subj', "/CN=Voxanne test $ca") == 0 or BAIL_OUT('openssl: a CA');
    }
    system('openssl', 'req', @ec, '-keyout', "$Tls/server.key", '-out', "$Tls/server.csr",
           '-subj', '/CN=realtime.test') == 0 or BAIL_OUT('openssl: a request');
    open my $ext, '>', "$Tls/ext" or die;
    print $ext "subjectAltName=DNS:realtime.test,IP:127.0.0.1\n";
    close $ext;
    system('openssl', 'x509', '-req', '-in', "$Tls/server.csr", '-CA', "$Tls/ca.pem",
           '-CAkey', "$Tls/ca.key", '-CAcreateserial', '-out', "$Tls/server.pem", '-days', '1',
           '-extfile', "$Tls/ext") == 0 or BAIL_OUT('openssl: the certificate');
}

our $mock = Voxanne::Test::Realtime->start(args => ['--cert', "$Tls/server.pem", '--key', "$Tls/server.key",
                                                    '--reply-ms', '80']);
our $plain = Voxanne::Test::Realtime->start(args => ['--reply-ms', '80']);

# the DNS responder: A 127.0.0.1 for every name but missing.test (NXDOMAIN),
# no AAAA records
our $dns = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1', LocalPort => 0)
    or die "udp: $!";
our $dns_port = $dns->sockport;
our $dns_pid = fork // die "fork: $!";

if (!$dns_pid) {
    while (1) {
        my $peer = $dns->recv(my $q, 512) or next;
        next if length $q < 17;
        my ($id, $flags, $qd) = unpack 'n n n', $q;
        my ($i, @labels) = (12);
        while ($i < length $q && (my $n = ord substr $q, $i, 1)) {
            push @labels, substr $q, $i + 1, $n;
            $i += $n + 1;
        }
        my $question = substr $q, 12, $i + 5 - 12;
        my $type = unpack 'n', substr $q, $i + 1, 2;
        my $name = lc join '.', @labels;
        my $rcode = $name eq 'missing.test' ? 3 : 0;
        my @answers = ($rcode == 0 && $type == 1)
            ? (pack('n n n N n C4', 0xc00c, 1, 1, 60, 4, 127, 0, 0, 1)) : ();
        $dns->send(pack('n n n n n n', $id, 0x8180 | $rcode, 1, scalar @answers, 0, 0)
                   . $question . join('', @answers), 0, $peer);
    }
}

END { kill 'KILL', $dns_pid if $dns_pid; }

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

sub trusting { "        voxanne_realtime_ssl_trusted_certificate $::Tls/$_[0].pem;\n" }
sub resolver { "        resolver 127.0.0.1:$::dns_port ipv6=off;\n        resolver_timeout 2s;\n" }

# a bridged call; the TLS hello's server name the mock saw (SNI), checked
sub bridged {
    my ($mock, $sni) = @_;
    return [ ::connected(), ::start(),
             { expect => { json => { event => 'mark', streamSid => $::MZ, mark => { name => '1:40' } } } },
             { run => sub {
                   my ($upgrade) = $mock->conn_log(dir => 'upgrade', status => 101);
                   die "SNI: " . ($upgrade->{sni} // 'none') . ", not " . ($sni // 'none')
                       unless ($upgrade->{sni} // '') eq ($sni // '');
               } },
             ::stop() ];
}

our $failed = [ ::connected(), ::start(), { expect => { close => 1011 } } ];

run_tests();

__DATA__

=== TEST 1: wss:// to an IP address, its certificate trusted: the call is bridged, no SNI (RFC 6066 has no IP addresses there)
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::locations($::mock->url(tls => 1), ::trusting('ca'))
--- media eval: {}
--- ws_send eval: ::bridged($::mock, undef)
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/realtime: call $::SID: connecting to wss:\/\/127\.0\.0\.1:\d+\//, qr/realtime: call $::SID: provider open/ ]
--- no_error_log
[error]



=== TEST 2: wss:// whose certificate another CA signed: the verification fails, the stream closes 1011
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: ::locations($::mock->url(tls => 1), ::trusting('other'))
--- media eval: {}
--- ws_send eval: $::failed
--- error_log eval
[ qr/provider failure \(tls\): certificate verify error: \(\d+:unable to [a-z ]+\)/,
  qr/stream ended, close 1011/ ]



=== TEST 3: wss:// to a name, resolved by the location's resolver, the certificate checked for that name, the name sent as SNI: the call is bridged
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval
::locations('wss://realtime.test:' . $::mock->port . '/v1/realtime?model=gpt-realtime',
            ::trusting('ca') . ::resolver())
--- media eval: {}
--- ws_send eval: ::bridged($::mock, 'realtime.test')
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/connecting to wss:\/\/realtime\.test:\d+\//, qr/realtime: call $::SID: provider open/ ]
--- no_error_log
[error]



=== TEST 4: a name the certificate does not carry: the stream closes 1011
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval
::locations('wss://elsewhere.test:' . $::mock->port . '/v1/realtime?model=gpt-realtime',
            ::trusting('ca') . ::resolver())
--- media eval: {}
--- ws_send eval: $::failed
--- error_log eval
[ qr/provider failure \(tls\): the certificate does not match "elsewhere\.test"/ ]



=== TEST 5: a name that does not resolve: the stream closes 1011
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval
::locations('ws://missing.test:' . $::plain->port . '/v1/realtime', ::resolver())
--- media eval: {}
--- ws_send eval: $::failed
--- error_log eval
[ qr/provider failure \(resolve\): "missing\.test" could not be resolved \(3: Host not found\)/ ]



=== TEST 6: a name and no resolver: the stream closes 1011
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval
::locations('ws://realtime.test:' . $::plain->port . '/v1/realtime')
--- media eval: {}
--- ws_send eval: $::failed
--- error_log eval
[ qr/provider failure \(resolve\): no resolver defined to resolve "realtime\.test"/ ]



=== TEST 7: plain ws:// to a name through the resolver: the call is bridged, the Host header has the port
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval
::locations('ws://realtime.test:' . $::plain->port . '/v1/realtime?model=gpt-realtime', ::resolver())
--- media eval: {}
--- ws_send eval: ::bridged($::plain, undef)
--- ws_close_code: 1000
--- ws_skip_unmatched
--- no_error_log
[error]
