package Voxanne::Test::PgProxy;

# A TCP proxy in front of a test's PostgreSQL that a test can take away
# and bring back: the database "goes down" for that test file only.
#
#   my $proxy = Voxanne::Test::PgProxy->new($pg, $role);
#   $proxy->port;   # where nginx connects (voxanne_db ... port=)
#   $proxy->up;     # 127.0.0.1:port -> PostgreSQL, a process per connection
#   $proxy->down;   # the listener and every connection through it go away,
#                   # and $role's sessions are ended
#
# Taken down at exit by the process that made it.

use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Test::Nginx::Socket ();

my @proxies;
my $owner = $$;

sub new {
    my ($class, $pg, $role) = @_;
    my $self = bless { pg => $pg, role => $role, port => Test::Nginx::Socket::free_port() }, $class;
    push @proxies, $self;
    return $self;
}

sub port { $_[0]{port} }

sub up {
    my ($self) = @_;
    my $listener = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$self->{port}", Listen => 64,
                                         ReuseAddr => 1) or die "proxy: listen: $!";
    my $pid = fork // die "fork: $!";
    if ($pid) { close $listener; $self->{pid} = $pid; return }
    POSIX::setpgid(0, 0);
    $SIG{CHLD} = 'IGNORE';
    while (my $c = $listener->accept) {
        next if fork;
        close $listener;
        my $s = IO::Socket::INET->new(PeerAddr => $self->{pg}->host, PeerPort => $self->{pg}->port)
            or POSIX::_exit(1);
        my $sel = IO::Select->new($c, $s);
        while (my @ready = $sel->can_read) {
            for my $from (@ready) {
                my $n = sysread $from, my $buf, 65536;
                POSIX::_exit(0) unless $n;
                syswrite $from == $c ? $s : $c, $buf;
            }
        }
        POSIX::_exit(0);
    }
    POSIX::_exit(0);
}

sub down {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', -$pid;
    waitpid $pid, 0;
    $self->{pg}->psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      . " WHERE usename = '$self->{role}'");
}

END { if ($$ == $owner) { $_->down for @proxies } }

1;
