package Voxanne::Test::Twilio;

# Signed Twilio webhook requests for Test::Nginx blocks: what Twilio's own
# SDKs compute (protocols.md section 1), written independently of the C
# codec so that the tests check one against the other.

use strict;
use warnings;

use Digest::SHA qw(hmac_sha1_base64 hmac_sha256_base64);
use Exporter 'import';
use Test::More ();
use Time::Local qw(timegm);

our @EXPORT_OK = qw(twilio_sign twilio_form twilio_request stream_token_mac stream_token_ok);

# base64(HMAC-SHA1(token, url . name1 . value1 ...)), sorted by name, then
# by value, each distinct pair once
sub twilio_sign {
    my ($token, $url, @params) = @_;
    my %seen;
    my @pairs = grep { !$seen{"$_->[0]\0$_->[1]"}++ }
                sort { $a->[0] cmp $b->[0] || $a->[1] cmp $b->[1] }
                map { [ $params[2 * $_], $params[2 * $_ + 1] ] } 0 .. @params / 2 - 1;
    my $sig = hmac_sha1_base64($url . join('', map { @$_ } @pairs), $token);
    return $sig . '=' x ((4 - length($sig) % 4) % 4);
}

sub twilio_form {
    my (@params) = @_;
    my $enc = sub { (my $s = shift) =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge; $s };
    return join '&', map { $enc->($params[2 * $_]) . '=' . $enc->($params[2 * $_ + 1]) }
                     0 .. @params / 2 - 1;
}

# a Test::Nginx request and its more_headers, signed for base . uri
# (token => undef: no signature header)
sub twilio_request {
    my (%a) = @_;
    my $uri = $a{uri} // '/twilio/voice';
    my $base = $a{base} // 'https://edge.example.com';
    my @params = @{ $a{params} || [] };
    my $headers = "Content-Type: application/x-www-form-urlencoded\n";
    if (defined(my $token = exists $a{token} ? $a{token} : '12345')) {
        $headers .= "X-Twilio-Signature: " . twilio_sign($token, $base . $uri, @params) . "\n";
    }
    return ("POST $uri\n" . twilio_form(@params), $headers);
}

# the MAC a stream token must carry (ngx_http_voxanne_token.h)
sub stream_token_mac {
    my ($token, $expires, $tenant, $sid) = @_;
    my $mac = hmac_sha256_base64("voxanne-stream-token/v1\n$expires\n$tenant\n$sid", $token);
    return $mac =~ tr{+/}{-_}r;
}

# two assertions on the stream token of a voice webhook's response: its MAC
# is the one the media route will check, and it expires ttl seconds after
# the response's Date (a block's later requests may come seconds after it)
sub stream_token_ok {
    my ($res, $key, $tenant, $sid, $ttl, $name) = @_;
    my ($expires, $mac) = ($res->{body} // '')
        =~ m{<Parameter name="token" value="v1\.(\d+)\.([A-Za-z0-9_-]{43})"/>};
    my %mon = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5,
               Jul => 6, Aug => 7, Sep => 8, Oct => 9, Nov => 10, Dec => 11);
    my ($d, $m, $y, $hh, $mm, $ss) = (($res->{headers}{date} || [])->[0] // '')
        =~ /^\w+, (\d+) (\w+) (\d+) (\d+):(\d+):(\d+) GMT$/;
    my $date = defined $ss ? timegm($ss, $mm, $hh, $d, $mon{$m}, $y) : 0;
    Test::More::ok(defined $mac && $mac eq stream_token_mac($key, $expires, $tenant, $sid),
                   "$name is signed for $tenant and $sid");
    Test::More::ok(defined $expires && abs($expires - $date - $ttl) <= 1,
                   "$name expires ${ttl}s after its response");
}

1;
