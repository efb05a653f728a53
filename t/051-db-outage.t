use Test::Nginx::Socket 'no_plan';
use File::Temp qw(tempdir);
use POSIX ();
use Time::HiRes qw(sleep time);
use Voxanne::Test::Http qw(http http_start http_wait);

# voxanne_db when PostgreSQL is down, comes back, restarts: on a cluster of
# this file's own (the suite's shared one must stay up), created once and
# stopped, so that each block starts with the database down.

no_shuffle();

# in the temp folder, enterable by the postgres user when running as root
my $base = tempdir('voxanne-pgo-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $base or die "chmod $base: $!";
our $dir = "$base/cluster";
my %stopped;

sub cluster {
    my ($cmd) = @_;
    my @args = ($cmd, $cmd eq 'start' ? '--throwaway' : (), $dir);
    my $out = qx{scripts/pg-cluster @args 2>&1};
    die "pg-cluster $cmd: $out" if $?;
    chomp $out;
    return $out;
}

$ENV{TEST_NGINX_PGO_PORT} = cluster('start');
cluster('stop');

END {
    kill 'CONT', keys %stopped;
    system('scripts/pg-cluster', 'stop', $dir) if -e "$dir/PG_VERSION";
}

sub backend {
    my $sql = q{SELECT pid FROM pg_stat_activity WHERE application_name = 'voxanne'};
    my $pid = qx{psql -XAtq -h 127.0.0.1 -p $ENV{TEST_NGINX_PGO_PORT} -U postgres -d postgres -c "$sql"};
    chomp $pid;
    $pid =~ /^\d+$/ or die "no backend of the pool: '$pid'\n";
    return $pid;
}

sub state_of {
    my ($res) = @_;
    return ($res->{code} // 'none') . ' ' . (($res->{body} // '') =~ /"db":\{"state":"(\w+)"/ ? $1 : 'none');
}

# healthz until it answers 200, for up to 3 s
sub eventually_up {
    my ($port) = @_;
    my $deadline = time + 3;
    my $res;
    do { $res = http($port, 'GET /healthz'); sleep 0.05 } until $res->{code} == 200 || time > $deadline;
    return state_of($res);
}

sub down_at_start {
    my ($ctx) = @_;
    my $port = $ctx->port;
    is state_of(http($port, 'GET /healthz')), '503 down', 'the database is down: 503';
    is state_of(http($port, 'GET /healthz')), '503 down', 'still down';
    cluster('start');
    is eventually_up($port), '200 up', 'started: 200 after the backoff';
    cluster('stop');
}

sub restart_idle {
    my ($ctx) = @_;
    my $port = $ctx->port;
    cluster('start');
    is state_of(http($port, 'GET /healthz')), '200 up', 'up';
    cluster('stop');
    is state_of(http($port, 'GET /healthz')), '503 down', 'stopped: 503';
    cluster('start');
    is eventually_up($port), '200 up', 'started again: 200';
    cluster('stop');
}

sub restart_mid_query {
    my ($ctx) = @_;
    my $port = $ctx->port;
    cluster('start');
    is state_of(http($port, 'GET /healthz')), '200 up', 'up';
    my $pid = backend();
    $stopped{$pid} = 1;
    kill 'STOP', $pid;
    my $h = http_start($port, 'GET /healthz');
    sleep 0.2;
    # a fast shutdown waits for the stopped backend
    my $stopper = fork // die "fork: $!";
    if (!$stopper) {
        exec('scripts/pg-cluster', 'stop', $dir) or POSIX::_exit(127);
    }
    sleep 0.3;
    kill 'CONT', $pid;
    delete $stopped{$pid};
    is state_of(http_wait($h)), '503 down', 'the query in flight: 503';
    waitpid $stopper, 0;
    is $?, 0, 'stopped';
    is state_of(http($port, 'GET /healthz')), '503 down', 'down: 503';
    cluster('start');
    is eventually_up($port), '200 up', 'started again: 200';
    cluster('stop');
}

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value(http_config => '    voxanne_db "conninfo=host=127.0.0.1'
        . ' port=$TEST_NGINX_PGO_PORT dbname=postgres user=postgres" pool=1;' . "\n");
    $block->set_value(config => "    location = /healthz { voxanne_health; }\n");
});

run_tests();

__DATA__

=== TEST 1: down at start, then started
--- steps eval: \&::down_at_start
--- error_log
could not connect to PostgreSQL
PostgreSQL is reachable again



=== TEST 2: a restart while the connection is idle
--- steps eval: \&::restart_idle
--- error_log
PostgreSQL closed an idle connection
could not connect to PostgreSQL
PostgreSQL is reachable again



=== TEST 3: a restart during a query
--- steps eval: \&::restart_mid_query
--- error_log
PostgreSQL connection lost during a query
could not connect to PostgreSQL
