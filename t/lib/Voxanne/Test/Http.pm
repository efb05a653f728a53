package Voxanne::Test::Http;

# Requests that overlap, for blocks that need them (the harness sends a
# block's requests one after another), and a "steps" section: Perl code run
# with the block's nginx up, after its own requests.
#
#   use Voxanne::Test::Http qw(http http_start http_wait http_parallel);
#
#   --- steps eval
#   sub {
#       my ($ctx) = @_;                          # Test::Nginx::Socket's context
#       my $slow = http_start($ctx->port, 'GET /slow');
#       my @res = http_parallel($ctx->port, ['GET /a', 'GET /b']);
#       is $res[0]{code}, 200, 'a';
#       is http_wait($slow)->{code}, 503, 'slow';
#   }
#
# The code runs once per repetition; it makes its own assertions, and the
# block fails ("steps ran") if it dies.  Each request goes on its own
# connection with "Connection: close"; a response is a hash: code, headers
# (lower-cased name => [values]), body, elapsed (seconds since the request
# was sent), timed_out.

use strict;
use warnings;

use Exporter ();
use IO::Select;
use IO::Socket::INET;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Test::More ();
use Time::HiRes qw(time);

require Test::Nginx::Socket;

our @EXPORT_OK = qw(http http_start http_wait http_parallel);

my $DEFAULT_TIMEOUT = 10;
my $Registered;

sub import {
    Test::Nginx::Socket::add_block_handler(\&handle_block) unless $Registered++;
    goto &Exporter::import;
}

sub handle_block {
    my ($block, $ctx) = @_;
    my $steps = $block->steps or return;
    ref $steps eq 'CODE' or die "steps must be a code reference (--- steps eval)\n";
    Test::More::ok(eval { $steps->($ctx); 1 }, $ctx->name . ' - steps ran')
        or Test::More::diag($@);
}

# "METHOD /uri" (and an optional body after a newline), sent at once
sub http_start {
    my ($port, $request, %headers) = @_;
    my ($line, $body) = split /\n/, $request, 2;
    $body //= '';
    my ($method, $uri) = split ' ', $line;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp')
        or die "connect to 127.0.0.1:$port: $!\n";
    setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
    my $head = "$method $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        . join('', map {"$_: $headers{$_}\r\n"} sort keys %headers)
        . (length $body ? 'Content-Length: ' . length($body) . "\r\n" : '') . "\r\n";
    local $SIG{PIPE} = 'IGNORE';
    print {$sock} $head . $body;
    $sock->blocking(0);
    return { sock => $sock, method => uc $method, sent => time, buf => '' };
}

# the response (the connection is then closed)
sub http_wait {
    my ($h, $timeout) = @_;
    return (http_wait_all([$h], $timeout))[0];
}

sub http {
    my ($port, $request, $timeout) = @_;
    return http_wait(http_start($port, $request), $timeout);
}

# all requests sent first, then all responses read, in the order given
sub http_parallel {
    my ($port, $requests, $timeout) = @_;
    return http_wait_all([map { http_start($port, $_) } @$requests], $timeout);
}

sub http_wait_all {
    my ($handles, $timeout) = @_;
    my $deadline = time + ($timeout // $DEFAULT_TIMEOUT);
    my %open = map { $_ => $_ } grep { !$_->{res} } @$handles;
    my $sel = IO::Select->new(map { $_->{sock} } values %open);
    while (%open) {
        my $left = $deadline - time;
        last if $left <= 0;
        for my $sock ($sel->can_read($left)) {
            my ($h) = grep { $_->{sock} == $sock } values %open;
            my $n = sysread($sock, $h->{buf}, 65536, length $h->{buf});
            next if !defined $n && ($!{EAGAIN} || $!{EINTR});
            next if $n;
            finish($h, 0);
            $sel->remove($sock);
            delete $open{$h};
        }
    }
    finish($_, 1) for values %open;
    return map { $_->{res} } @$handles;
}

sub finish {
    my ($h, $timed_out) = @_;
    my ($res) = Test::Nginx::Socket::parse_responses(\$h->{buf}, [ $h->{method} ], 1);
    $res //= { code => undef, headers => {}, body => '' };
    $res->{elapsed} = time - $h->{sent};
    $res->{timed_out} = $timed_out;
    close $h->{sock};
    $h->{res} = $res;
}

1;
