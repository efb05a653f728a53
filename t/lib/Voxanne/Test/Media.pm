package Voxanne::Test::Media;

# Media Streams calls for Test::Nginx blocks: a block's "media" section
# becomes the voice webhook that registers the call (unless voice => 0) and
# the signed upgrade of its stream; the helpers below build the tenant and
# the Twilio messages for its WebSocket sections.  Everything is exported
# into the test file, where eval sections find it (::start(), $::SID).

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET;
use JSON::PP qw(encode_json);
use MIME::Base64 qw(encode_base64);
use Test::Nginx::Socket ();
use Voxanne::Test::Twilio qw(twilio_request twilio_sign stream_token_mac);

our @EXPORT = qw($AC $SID $MZ $files tenant token connected start media say played dtmf stop echo http
                 stream_ended);

our $AC = 'AC' . '0' x 32;
our $SID = 'CA' . 'a' x 32;
our $MZ = 'MZ' . 'b' x 32;

Test::Nginx::Socket::add_block_preprocessor(sub {
    my $block = shift;
    my $m = $block->media or return;
    my (@requests, @headers);
    if ($m->{voice} // 1) {
        my ($request, $headers) = twilio_request(
            uri => '/twilio/voice', base => 'http://edge.example.com',
            params => [AccountSid => $AC, CallSid => $m->{sid} // $SID,
                       CallStatus => 'ringing', From => '+14155550123',
                       To => '+15550100001']);
        push @requests, $request;
        push @headers, $headers;
    }
    my $uri = $m->{uri} // '/twilio/media/clinic-a';
    my %h = (
        Upgrade => 'websocket', Connection => 'Upgrade',
        'Sec-WebSocket-Key' => 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version' => 13,
        'X-Twilio-Signature' => twilio_sign($m->{token} // '12345', "ws://edge.example.com$uri"),
        %{ $m->{headers} || {} },
    );
    push @requests, ($m->{method} // 'GET') . " $uri";
    push @headers, join '', map { defined $h{$_} ? "$_: $h{$_}\n" : '' } sort keys %h;
    $block->set_value(request => \@requests);
    $block->set_value(more_headers => \@headers);
    $block->set_value(error_code => [ (200) x (@requests - 1), $m->{code} // 101 ]);
});

sub tenant {
    my (%o) = @_;
    my $extra = join '', map { "        $_ $o{$_};\n" } sort keys %o;
    return <<"_EOC_";
    voxanne_tenant clinic-a {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000a;
        numbers                +15550100001;
        twilio_auth_token_file ../html/a.token;
        public_url             http://edge.example.com;
$extra    }
_EOC_
}

our $files = ">>> a.token\n12345\n";

sub token {
    my (%o) = @_;
    my $expires = $o{expires} // time + 60;
    my $mac = stream_token_mac($o{key} // '12345', $expires, $o{tenant} // 'clinic-a',
                               $o{sid} // $SID);
    return "v1.$expires.$mac";
}

sub connected { encode_json({ event => 'connected', protocol => 'Call', version => '1.0.0' }) }

sub start {
    my (%o) = @_;
    return encode_json({
        event => 'start', sequenceNumber => '1', streamSid => $MZ,
        start => {
            streamSid => $MZ, accountSid => $AC, callSid => $o{sid} // $SID,
            tracks => ['inbound'],
            customParameters => { tenant => $o{tenant} // 'clinic-a', token => $o{token} // token() },
            mediaFormat => { encoding => 'audio/x-mulaw', sampleRate => 8000, channels => 1 },
        },
    });
}

sub media {
    my ($n, $payload) = @_;
    return encode_json({
        event => 'media', sequenceNumber => '' . ($n + 1), streamSid => $MZ,
        media => { track => 'inbound', chunk => "$n", timestamp => '' . ($n * 20),
                   payload => $payload // '/////w==' },
    });
}

# the media messages of this mu-law audio, 20 ms each, numbered from $n
sub say {
    my ($audio, $n) = @_;
    my @steps;
    for (my $i = 0; $i < length $audio; $i += 160) {
        push @steps, media($n++, encode_base64(substr($audio, $i, 160), ''));
    }
    return @steps;
}

# Twilio's echo of a mark whose audio played, and a key the caller pressed
sub played {
    encode_json({ event => 'mark', sequenceNumber => '50', streamSid => $MZ,
                  mark => { name => $_[0] } });
}

sub dtmf {
    encode_json({ event => 'dtmf', streamSid => $MZ, sequenceNumber => '5',
                  dtmf => { track => 'inbound_track', digit => $_[0] } });
}

sub stop {
    encode_json({ event => 'stop', sequenceNumber => '99', streamSid => $MZ,
                  stop => { accountSid => $AC, callSid => $SID } });
}

sub echo { { json => { event => 'media', streamSid => $MZ, media => { payload => $_[0] // '/////w==' } } } }

# one HTTP exchange on a new connection: the status line and the body
sub http {
    my ($port, $request, $headers) = @_;
    my ($line, $body) = split /\n/, $request, 2;
    $body //= '';
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5)
        or die "connect: $!";
    $headers =~ s/\n/\r\n/g;
    print $s "$line HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n$headers"
             . "Content-Length: " . length($body) . "\r\n\r\n$body";
    local $/;
    my $response = <$s> // '';
    my ($head, $content) = split /\r\n\r\n/, $response, 2;
    return ((split /\r\n/, $head // '')[0] // '', $content // '');
}

# the <Connect action> request Twilio makes when the stream of a call
# (default $SID) has closed: the status line and the TwiML
sub stream_ended {
    my ($port, $sid) = @_;
    my ($request, $headers) = twilio_request(
        uri => '/twilio/stream-ended', base => 'http://edge.example.com',
        params => [AccountSid => $AC, CallSid => $sid // $SID, CallStatus => 'in-progress',
                   From => '+14155550123', To => '+15550100001']);
    return http($port, $request, $headers);
}

1;
