use Test::Nginx::Socket 'no_plan';
use Time::HiRes qw(sleep);
use Voxanne::Test::Pg;
use Voxanne::Test::Http qw(http http_start http_wait http_parallel);

# voxanne_db: the worker's PostgreSQL pool, seen through its first consumer,
# the readiness check of voxanne_health.  A backend of the pool is found by
# its application_name and stopped (SIGSTOP) to make a query hang.

our $pg = Voxanne::Test::Pg->database(migrate => 0);
my %stopped;

END { kill 'CONT', keys %stopped }

# the pool's backends, by pid
our $app = "application_name = 'voxanne'";
sub backends { $pg->sessions($app) }
sub settle { $pg->no_sessions($app) }

sub stop { my ($pid) = @_; $stopped{$pid} = 1; kill 'STOP', $pid or die "kill STOP $pid: $!" }
sub cont { my ($pid) = @_; delete $stopped{$pid}; kill 'CONT', $pid or die "kill CONT $pid: $!" }

# a first request opens the connection; its backend
sub one_backend {
    my ($port) = @_;
    settle();
    is http($port, 'GET /healthz')->{code}, 200, 'the database is up';
    my @pids = backends();
    is scalar @pids, 1, 'one backend';
    return $pids[0];
}

# the port, and the one backend, stopped
sub stalled {
    my ($ctx) = @_;
    my $pid = one_backend($ctx->port);
    stop($pid);
    return ($ctx->port, $pid);
}

sub db_state {
    my ($res) = @_;
    return ($res->{body} // '') =~ /"db":\{"state":"(\w+)"/ ? $1 : 'none';
}

sub parallel {
    my ($ctx) = @_;
    settle();
    my @res = http_parallel($ctx->port, [('GET /healthz') x 10]);
    is scalar(grep { ($_->{code} // 0) == 200 } @res), 10, 'ten requests at once: all 200';
    is scalar(grep { $_->{body} =~ /"connections":1,/ } @res), 10, 'all on the one connection';
    is scalar(backends()), 1, 'one backend';
}

sub queue_full {
    my ($port, $pid) = stalled(@_);
    my $first = http_start($port, 'GET /healthz');
    sleep 0.2;
    my $second = http_start($port, 'GET /healthz');
    sleep 0.2;
    my $third = http($port, 'GET /healthz', 3);
    is $third->{code}, 503, 'the queue is full: 503';
    like $third->{body}, qr/"db":\{"state":"busy","connections":1,"idle":0,"connecting":0,"queued":1\}/,
        '... busy, one query queued';
    cmp_ok $third->{elapsed}, '<', 1, '... at once';
    cont($pid);
    my ($r1, $r2) = (http_wait($first), http_wait($second));
    is $r1->{code}, 200, 'the stalled query completes once its backend runs';
    is $r2->{code}, 200, 'the queued one after it';
    like $r2->{body}, qr/"queued":0/, 'nothing queued any more';
}

sub query_timeout {
    my ($port, $pid) = stalled(@_);
    my $res = http($port, 'GET /healthz', 5);
    cont($pid);
    is $res->{code}, 503, 'a query over query_timeout: 503';
    is db_state($res), 'timeout', '... timeout';
    cmp_ok $res->{elapsed}, '>=', 0.45, '... after query_timeout';
    cmp_ok $res->{elapsed}, '<', 2, '... not much later';
    is http($port, 'GET /healthz')->{code}, 200, 'the next request: 200';
    my @pids = grep { $_ != $pid } backends();
    is scalar @pids, 1, '... on a new connection';
}

sub terminated_mid_query {
    my ($port, $pid) = stalled(@_);
    my $h = http_start($port, 'GET /healthz');
    sleep 0.2;
    is $pg->psql("SELECT pg_terminate_backend($pid)"), 't', 'backend terminated';
    cont($pid);
    my $res = http_wait($h);
    is $res->{code}, 503, 'the query in flight fails: 503';
    is db_state($res), 'down', '... down';
    is http($port, 'GET /healthz')->{code}, 200, 'the next request reconnects: 200';
    isnt((backends())[0], $pid, '... on a new backend');
}

sub terminated_idle {
    my ($ctx) = @_;
    my $port = $ctx->port;
    my $pid = one_backend($port);
    is $pg->psql("SELECT pg_terminate_backend($pid)"), 't', 'idle backend terminated';
    sleep 0.3;
    my $res = http($port, 'GET /healthz');
    is $res->{code}, 200, 'the next request reconnects: 200';
    like $res->{body}, qr/"connections":1,/, '... on one connection';
    isnt((backends())[0], $pid, '... a new one');
}

sub client_gone {
    my ($port, $pid) = stalled(@_);
    my $h = http_start($port, 'GET /healthz');
    sleep 0.2;
    close $h->{sock};
    sleep 0.2;
    cont($pid);
    sleep 0.2;
    my $res = http($port, 'GET /healthz');
    is $res->{code}, 200, 'after a client left during its query: 200';
    is_deeply [backends()], [$pid], '... on the same connection';
}

sub app_name {
    my ($ctx) = @_;
    is http($ctx->port, 'GET /healthz')->{code}, 200, 'up';
    is $pg->psql(q{SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'edge-a'}), 1,
        'the application_name given is kept';
}

# "--- db: params" is voxanne_db for the test database; the default
# config is a readiness check at /healthz

add_block_preprocessor(sub {
    my ($block) = @_;
    if (defined(my $params = $block->db)) {
        $block->set_value(http_config => '    voxanne_db "conninfo=host=$TEST_NGINX_PG_HOST'
            . ' port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=postgres"'
            . ($params =~ /\S/ ? " $params" : '') . ";\n" . ($block->http_config // ''));
    }
    $block->set_value(config => "    location = /healthz { voxanne_health; }\n")
        unless defined $block->config;
});

run_tests();

__DATA__

=== TEST 1: readiness: 200 with the database's state
--- db
--- request
GET /healthz
--- error_code: 200
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like eval
qr/^\{"status":"ok","module":"ngx_http_voxanne_module",.*,"libpq":"\d+\.\d+",
   "db":\{"state":"up","connections":1,"idle":1,"connecting":0,"queued":0\}\}\n\z/x
--- no_error_log
[error]
[warn]



=== TEST 2: HEAD checks the database too
--- db
--- request
HEAD /healthz
--- error_code: 200
--- response_body
--- error_log
voxanne db send
--- no_error_log
[error]



=== TEST 3: liveness ignores the database; readiness says it is down
--- http_config
    voxanne_db "conninfo=host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 dbname=x user=postgres";
--- config
    location = /live { voxanne_health live; }
    location = /healthz { voxanne_health; }
--- request eval
["GET /live", "GET /healthz"]
--- error_code eval
[200, 503]
--- response_body_like eval
[qr/^\{"status":"ok",.*"libpq":"\d+\.\d+"\}\n\z/,
 qr/^\{"status":"unavailable",.*"db":\{"state":"down","connections":0,"idle":0,"connecting":0,"queued":0\}\}\n\z/]
--- error_log eval
qr/\[error\] .* could not connect to PostgreSQL: connection to server at "127\.0\.0\.1", port \d+ failed: Connection refused .* while connecting to PostgreSQL$/



=== TEST 4: conninfo_file, and its password never in the log
--- http_config
    voxanne_db conninfo_file=../html/db.conninfo;
--- user_files eval
">>> db.conninfo\nhost=$ENV{TEST_NGINX_PG_HOST} port=$ENV{TEST_NGINX_PG_PORT} dbname=$ENV{TEST_NGINX_PG_DB} user=postgres password=Hunter2-pw\n\n"
--- request
GET /healthz
--- error_code: 200
--- response_body_like: "state":"up"
--- no_error_log
Hunter2-pw
[error]



=== TEST 5: a failed connect with a password does not log it
--- http_config
    voxanne_db conninfo_file=../html/db.conninfo;
--- user_files eval
">>> db.conninfo\nhost=127.0.0.1 port=$ENV{TEST_NGINX_RAND_PORT_1} dbname=x user=postgres password=Hunter2-pw"
--- request
GET /healthz
--- error_code: 503
--- error_log
could not connect to PostgreSQL
--- no_error_log
Hunter2-pw



=== TEST 6: a URI conninfo
--- http_config
    voxanne_db conninfo=postgresql://postgres@$TEST_NGINX_PG_HOST:$TEST_NGINX_PG_PORT/$TEST_NGINX_PG_DB;
--- request
GET /healthz
--- error_code: 200
--- no_error_log
[error]



=== TEST 7: a host name is resolved at start, each address tried
localhost is ::1 and 127.0.0.1; the server listens on 127.0.0.1 only.
--- http_config
    voxanne_db "conninfo=host=localhost port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=postgres";
--- request
GET /healthz
--- error_code: 200
--- no_error_log
[error]



=== TEST 8: a host list with its ports: a socket folder, then a name
The folder has no server: libpq goes on to localhost, with its own port.
--- http_config
    voxanne_db "conninfo=host=/nonexistent,localhost port=1,$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=postgres";
--- request
GET /healthz
--- error_code: 200
--- no_error_log
[error]



=== TEST 9: a given hostaddr is used as it is, without resolving host
--- http_config
    voxanne_db "conninfo=host=db.invalid hostaddr=127.0.0.1 port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=postgres";
--- request
GET /healthz
--- error_code: 200
--- no_error_log
[error]



=== TEST 10: sslmode is passed on (the test server has no SSL)
--- http_config
    voxanne_db "conninfo=host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=postgres sslmode=require";
--- request
GET /healthz
--- error_code: 503
--- response_body_like: "state":"down"
--- error_log
server does not support SSL, but SSL was required



=== TEST 11: an application_name given is kept
--- http_config
    voxanne_db "conninfo=host=$TEST_NGINX_PG_HOST port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=postgres application_name=edge-a";
--- steps eval: \&::app_name
--- no_error_log
[error]



=== TEST 12: more requests at once than connections
--- db: pool=1
--- steps eval: \&::parallel
--- no_error_log
[error]
[warn]



=== TEST 13: a full queue answers 503 at once
--- db: pool=1 queue=1
--- steps eval: \&::queue_full
--- error_log
PostgreSQL queue is full, 1 queries wait
--- no_error_log
[error]



=== TEST 14: a query timeout closes the connection; the next query opens another
--- db: pool=1 query_timeout=500ms
--- steps eval: \&::query_timeout
--- error_log
PostgreSQL query timed out after 500 ms, closing its connection



=== TEST 15: the backend terminated during a query
--- db: pool=1
--- steps eval: \&::terminated_mid_query
--- error_log eval
qr/\[error\] .*PostgreSQL connection lost during a query: .*terminating connection due to administrator command/



=== TEST 16: an idle connection terminated by the server
--- db: pool=1
--- steps eval: \&::terminated_idle
--- error_log
PostgreSQL closed an idle connection
--- no_error_log
[error]



=== TEST 17: a client that leaves during its query
--- db: pool=1
--- steps eval: \&::client_gone
--- error_log
client prematurely closed connection
--- no_error_log
[error]



=== TEST 18: a server that never answers: connect_timeout
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_no_close
--- http_config
    voxanne_db "conninfo=host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 dbname=x user=postgres" connect_timeout=300ms;
--- request
GET /healthz
--- error_code: 503
--- response_body_like: "db":\{"state":"down"
--- error_log
no PostgreSQL connection within 300 ms
could not connect to PostgreSQL: timed out while connecting to PostgreSQL



=== TEST 19: idle connections close after idle_timeout
--- db: idle_timeout=200ms
--- steps eval
sub {
    my ($ctx) = @_;
    ::settle();
    ::is ::http($ctx->port, 'GET /healthz')->{code}, 200, 'up';
    ::is scalar(::backends()), 1, 'one connection';
    Time::HiRes::sleep(0.5);
    ::is scalar(::backends()), 0, 'closed when idle';
}
--- error_log
voxanne db idle timeout
--- no_error_log
[error]



=== TEST 20: an unknown conninfo option
--- http_config
    voxanne_db "conninfo=host=127.0.0.1 hots=x password=Hunter2-pw";
--- must_die
--- error_log
invalid conninfo: invalid connection option "hots"
--- no_error_log
Hunter2-pw



=== TEST 21: a conninfo error never quotes what may be a password
--- http_config
    voxanne_db "conninfo=host=127.0.0.1 password = Hunter2 -pw";
--- must_die
--- error_log
invalid conninfo: missing "=" after "..."
--- no_error_log
Hunter2



=== TEST 22: nor does a URI's
--- http_config
    voxanne_db "conninfo=postgresql://gw:Hunter2-pw@127.0.0.1/db?sslmode=%zz";
--- must_die
--- error_log
invalid conninfo: invalid percent-encoded token: "..."
--- no_error_log
Hunter2-pw



=== TEST 23: a missing conninfo_file
--- http_config
    voxanne_db conninfo_file=missing.conninfo;
--- must_die
--- error_log eval
qr{\[emerg\] .*open\(\) ".*/conf/missing\.conninfo" failed \(2: No such file or directory\)}



=== TEST 24: an empty conninfo_file
--- http_config
    voxanne_db conninfo_file=../html/db.conninfo;
--- user_files
>>> db.conninfo

--- must_die
--- error_log
the conninfo of "voxanne_db" is empty or holds a NUL



=== TEST 25: voxanne_db twice
--- http_config
    voxanne_db conninfo=host=127.0.0.1;
    voxanne_db conninfo=host=127.0.0.2;
--- must_die
--- error_log
"voxanne_db" directive is duplicate



=== TEST 26: conninfo and conninfo_file
--- http_config
    voxanne_db conninfo=host=127.0.0.1 conninfo_file=x;
--- must_die
--- error_log
one conninfo= or conninfo_file= is expected



=== TEST 27: neither
--- http_config
    voxanne_db pool=2;
--- must_die
--- error_log
conninfo= or conninfo_file= is expected



=== TEST 28: bad parameters: pool is 1 to 1024
--- http_config
    voxanne_db conninfo=host=127.0.0.1 pool=0;
--- must_die
--- error_log
invalid parameter "pool=..."
--- no_error_log
Hunter2-pw



=== TEST 29: bad parameters: queue is a number
--- http_config
    voxanne_db conninfo=host=127.0.0.1 queue=x;
--- must_die
--- error_log
invalid parameter "queue=..."
--- no_error_log
Hunter2-pw



=== TEST 30: bad parameters: timeouts are not 0
--- http_config
    voxanne_db conninfo=host=127.0.0.1 connect_timeout=0;
--- must_die
--- error_log
invalid parameter "connect_timeout=..."
--- no_error_log
Hunter2-pw



=== TEST 31: bad parameters: timeouts are times
--- http_config
    voxanne_db conninfo=host=127.0.0.1 query_timeout=soon;
--- must_die
--- error_log
invalid parameter "query_timeout=..."
--- no_error_log
Hunter2-pw



=== TEST 32: bad parameters: a parameter twice
--- http_config
    voxanne_db conninfo=host=127.0.0.1 idle_timeout=1s idle_timeout=2s;
--- must_die
--- error_log
invalid parameter "idle_timeout=..."
--- no_error_log
Hunter2-pw



=== TEST 33: bad parameters: an unknown parameter, its value not quoted
--- http_config
    voxanne_db conninfo=host=127.0.0.1 conninf=Hunter2-pw;
--- must_die
--- error_log
invalid parameter "conninf=..."
--- no_error_log
Hunter2-pw



=== TEST 34: bad parameters: an unknown parameter
--- http_config
    voxanne_db conninfo=host=127.0.0.1 verbose;
--- must_die
--- error_log
invalid parameter "verbose"
--- no_error_log
Hunter2-pw



=== TEST 35: voxanne_db belongs to http{}
--- config
    voxanne_db conninfo=host=127.0.0.1;
--- must_die
--- error_log
"voxanne_db" directive is not allowed here



=== TEST 36: as many ports as hosts
--- http_config
    voxanne_db "conninfo=host=127.0.0.1,localhost port=5432,5433,5434";
--- must_die
--- error_log
conninfo has 3 ports for 2 hosts
