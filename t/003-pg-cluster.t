# scripts/pg-cluster: start, status, port, stop; port reuse; long paths.
use strict;
use warnings;

use Test::More;
use File::Path qw(remove_tree);
use File::Temp qw(tempdir);

# in the temp folder, enterable by the postgres user when running as root
my $base = tempdir('voxanne-pgc-XXXXXX', TMPDIR => 1);
chmod 0755, $base or die "chmod $base: $!";

my $dir  = "$base/cluster";
my $long = "$base/long/" . 'd' x 90;    # too long for a unix socket path
my @started;

END {
    local $?;
    system('scripts/pg-cluster', 'stop', $_) for grep { -e "$_/PG_VERSION" } @started;
    remove_tree($base);
}

# Run pg-cluster; return (exit status, stdout).
sub cluster {
    my @args = @_;
    my $cmd = join ' ', map {"'$_'"} 'scripts/pg-cluster', @args;
    my $out = qx{$cmd 2>/dev/null};
    return ($? >> 8, $out);
}

sub setting {
    my ($port, $name) = @_;
    my $value = qx{psql -XAtq -h 127.0.0.1 -p $port -U postgres -d postgres -c 'SHOW $name'};
    chomp $value;
    return $value;
}

push @started, $dir;
my ($status, $out) = cluster('start', '--throwaway', $dir);
is $status, 0, 'start succeeds';
like $out, qr/\A[1-9][0-9]*\n\z/, 'start prints only the port';
chomp(my $port = $out);

($status, $out) = cluster('status', $dir);
is $status, 0, 'status: exit 0 while running';
like $out, qr/running on 127\.0\.0\.1 port $port/, 'status reports running and the port';
is_deeply [cluster('port', $dir)], [0, "$port\n"], 'port';
is setting($port, 'listen_addresses'), '127.0.0.1', 'listens on loopback only';
is setting($port, 'fsync'), 'off', 'throwaway: fsync off';
is_deeply [cluster('start', '--throwaway', $dir)], [0, "$port\n"], 'second start is a no-op';

is_deeply [cluster('stop', $dir)], [0, ''], 'stop';
is_deeply [cluster('status', $dir)], [3, "stopped\n"], 'status: exit 3 when stopped';
is_deeply [cluster('stop', $dir)], [0, ''], 'stopping a stopped cluster is fine';

is_deeply [cluster('start', $dir)], [0, "$port\n"], 'restart reuses the recorded port';
is setting($port, 'fsync'), 'on', 'not throwaway: fsync on';
is_deeply [cluster('stop', $dir)], [0, ''], 'stop again';

push @started, $long;
($status, $out) = cluster('start', '--throwaway', $long);
is $status, 0, 'start with a long directory path';
chomp(my $long_port = $out);
my $sockdir = setting($long_port, 'unix_socket_directories');
like $sockdir, qr{\A/tmp/pgsock\.}, 'socket moved to a short temporary dir';
is_deeply [cluster('stop', $long)], [0, ''], 'stop';
ok !-e $sockdir, 'temporary socket dir removed';

is_deeply [cluster('status', "$base/nonexistent")], [4, ''], 'status: exit 4 without a cluster';

done_testing;
