use Test::Nginx::Socket 'no_plan';
use Time::HiRes qw(sleep time);
use Voxanne::Test::Pg;
use Voxanne::Test::Http qw(http http_start http_wait);

# voxanne_db across a reload and the shutdowns, with a master process: a
# worker that is shutting down finishes its queries, closes its connections
# and exits without leaving a socket behind; a fast shutdown fails them.

master_on();
workers(1);

our $pg = Voxanne::Test::Pg->database(migrate => 0);
our $app = "application_name = 'voxanne'";
my %stopped;

END { kill 'CONT', keys %stopped }

sub master_pid {
    open my $fh, '<', Test::Nginx::Socket::server_root() . '/logs/nginx.pid' or die "nginx.pid: $!";
    my ($pid) = <$fh> =~ /(\d+)/;
    return $pid;
}

sub stalled_request {
    my ($port) = @_;
    $pg->no_sessions($app);
    is http($port, 'GET /healthz')->{code}, 200, 'up';
    my ($pid) = $pg->sessions($app);
    $stopped{$pid} = 1;
    kill 'STOP', $pid;
    my $h = http_start($port, 'GET /healthz');
    sleep 0.2;
    return ($pid, $h);
}

sub resume { my ($pid) = @_; kill 'CONT', $pid; delete $stopped{$pid} }

sub reload_mid_query {
    my ($ctx) = @_;
    my ($pid, $h) = stalled_request($ctx->port);
    kill 'HUP', master_pid();
    sleep 1;
    my $res = http($ctx->port, 'GET /healthz');
    is $res->{code}, 200, 'the new worker answers with a pool of its own';
    resume($pid);
    is http_wait($h)->{code}, 200, 'the old worker finishes its query';
    my $deadline = time + 3;
    sleep 0.05 while grep({ $_ == $pid } $pg->sessions($app)) && time < $deadline;
    ok !(grep { $_ == $pid } $pg->sessions($app)), "the old worker's connection is closed";
}

sub fast_shutdown {
    my ($ctx) = @_;
    my ($pid, $h) = stalled_request($ctx->port);
    kill 'TERM', master_pid();
    my $res = http_wait($h, 3);
    resume($pid);
    is $res->{code}, 503, 'a fast shutdown fails the query in flight: 503';
    like $res->{body}, qr/"db":\{"state":"closing"/, '... closing';
}

add_block_preprocessor(sub {
    my ($block) = @_;
    # under valgrind nginx runs without a master process
    $block->set_value(skip_eval => '1: $ENV{TEST_NGINX_USE_VALGRIND}');
    $block->set_value(http_config => '    voxanne_db "conninfo=host=$TEST_NGINX_PG_HOST'
        . ' port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=postgres" pool=1;' . "\n");
    $block->set_value(config => "    location = /healthz { voxanne_health; }\n");
});

run_tests();

__DATA__

=== TEST 1: a reload during a query
--- steps eval: \&::reload_mid_query
--- error_log
gracefully shutting down
--- no_error_log
[error]



=== TEST 2: a graceful shutdown closes the idle connections
--- request
GET /healthz
--- error_code: 200
--- shutdown_error_log eval
qr/voxanne db close state:2/
--- no_error_log
[error]



=== TEST 3: a fast shutdown during a query
--- steps eval: \&::fast_shutdown
