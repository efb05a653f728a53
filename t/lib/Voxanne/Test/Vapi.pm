package Voxanne::Test::Vapi;

# Vapi server webhooks for Test::Nginx blocks (protocols.md §6): a JSON
# message and its credentials, computed here from Vapi's documented
# authentication plans, independently of the C codec, so that the tests
# check one against the other.

use strict;
use warnings;

use Digest::SHA qw(hmac_sha1 hmac_sha256 hmac_sha512);
use Exporter 'import';
use JSON::PP ();
use MIME::Base64 qw(encode_base64);

our @EXPORT_OK = qw(vapi_request vapi_message vapi_send);

my %HMAC = (sha1 => \&hmac_sha1, sha256 => \&hmac_sha256, sha512 => \&hmac_sha512);

sub vapi_message {
    my ($type, %fields) = @_;
    return JSON::PP->new->canonical->encode({ message => { type => $type, %fields } });
}

# (request, more_headers) for a POST of body to uri (by default a status
# update for the number, or +15550100001 unless the URI names the tenant in
# a path segment), with the credentials
# of auth: { secret => S } (X-Vapi-Secret), { bearer => S },
# { hmac => S, algorithm, format, encoding, prefix, timestamp, id,
#   url_base, header, timestamp_header, id_header }, or none
sub vapi_request {
    my (%a) = @_;
    my $uri = $a{uri} // '/vapi';
    my $number = exists $a{number} ? $a{number} : $uri =~ m{^/vapi/} ? undef : '+15550100001';
    my $body = $a{body} // vapi_message('status-update', status => 'ended',
                                        defined $number ? (phoneNumber => { number => $number }) : ());
    my $auth = $a{auth} || {};
    my $headers = "Content-Type: " . ($a{type} // 'application/json') . "\n";

    if (defined $auth->{secret}) {
        $headers .= ($auth->{header} // 'X-Vapi-Secret') . ": $auth->{secret}\n";
    }
    elsif (defined $auth->{bearer}) {
        $headers .= ($auth->{header} // 'Authorization') . ": Bearer $auth->{bearer}\n";
    }
    elsif (defined $auth->{hmac}) {
        my $ts = $auth->{timestamp} // time;
        my $id = $auth->{id} // 'msg_2a';
        my %v = (body => $body, timestamp => $ts, method => 'POST', 'svix-id' => $id,
                 url => ($auth->{url_base} // 'https://edge.example.com') . $uri);
        (my $payload = $auth->{format} // '{timestamp}.{body}') =~ s/\{([a-z-]+)\}/$v{$1}/g;
        my $mac = $HMAC{ $auth->{algorithm} // 'sha256' }->($payload, $auth->{hmac});
        my $sig = ($auth->{encoding} // 'hex') eq 'base64' ? encode_base64($mac, '')
                                                            : unpack('H*', $mac);
        $headers .= ($auth->{header} // 'x-signature') . ': ' . ($auth->{prefix} // '') . "$sig\n";
        $headers .= ($auth->{timestamp_header} // 'x-timestamp') . ": $ts\n"
            unless $auth->{no_timestamp};
        $headers .= ($auth->{id_header} // 'svix-id') . ": $id\n" if $auth->{id};
    }

    return ("POST $uri\n$body", $headers);
}

# a message of $type with %fields, sent at once with the X-Vapi-Secret
# "vapi-secret-1"; its response (Voxanne::Test::Http)
sub vapi_send {
    my ($port, $type, %fields) = @_;
    my ($request, $headers) = vapi_request(body => vapi_message($type, %fields),
                                           auth => { secret => 'vapi-secret-1' });
    my %h = map { split /: /, $_, 2 } split /\n/, $headers;
    require Voxanne::Test::Http;
    return Voxanne::Test::Http::http_wait(Voxanne::Test::Http::http_start($port, $request, %h), 5);
}

1;
