use Test::Nginx::Socket 'no_plan';
use Digest::MD5 ();
use File::Basename qw(dirname);
use URI::Escape qw(uri_escape);
use Voxanne::Test::Pg;
use Voxanne::Test::Http qw(http http_start http_wait http_parallel);

# The pool's query API, driven by the test-only module t/module
# (voxanne_db_test: ?sql=&name=&org=&pN=|&nN=, answers "ok" and the rows,
# or the outcome): parameters, NULLs, the tenant's app.org_id under
# row-level security, prepared statements, server errors, timeouts, large
# queries and results.  The gateway connects as a plain member of
# voxanne_app, so row-level security applies.

our $pg = Voxanne::Test::Pg->database;
our $role = "vx_gw_$$";
$pg->psql("CREATE ROLE $role LOGIN IN ROLE voxanne_app");

my $stopped;

END {
    kill 'CONT', $stopped if $stopped;
    eval { $pg->psql("DROP ROLE IF EXISTS $role") } if $pg;
}

$ENV{TEST_NGINX_DB_TEST_MODULE} =
    dirname((split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // 'build/x')[0])
    . '/ngx_http_voxanne_db_test_module.so';
$ENV{TEST_NGINX_DB_ROLE} = $role;

our ($org_a, $org_b) = ('00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b');
$pg->psql(<<"SQL");
INSERT INTO organizations (id, name) VALUES ('$org_a', 'A'), ('$org_b', 'B');
INSERT INTO calls (org_id, call_sid, from_number, to_number, direction, status)
VALUES ('$org_a', 'CA${\ ('a' x 32)}', '+15551230000', '+15550000001', 'inbound', 'ringing'),
       ('$org_b', 'CA${\ ('b' x 32)}', '+15551230000', '+15550000002', 'inbound', 'ringing');
CREATE TABLE deferred (x int UNIQUE DEFERRABLE INITIALLY DEFERRED);
GRANT SELECT, INSERT ON deferred TO voxanne_app;
SQL

# "GET /q?..." for a query: dbq('SELECT $1', p => ['x', undef], org => ..., name => ...)
sub dbq {
    my ($sql, %o) = @_;
    my @args = (sql => $sql);
    push @args, name => $o{name} if defined $o{name};
    push @args, org => $o{org} if defined $o{org};
    my $i = 0;
    for my $p (@{ $o{p} || [] }) {
        push @args, defined $p ? ("p$i" => $p) : ("n$i" => '');
        $i++;
    }
    my @pairs;
    while (my ($k, $v) = splice @args, 0, 2) {
        push @pairs, "$k=" . uri_escape($v);
    }
    return 'GET /q?' . join '&', @pairs;
}

sub backends { $pg->sessions("usename = '$role'") }
sub settle { $pg->no_sessions("usename = '$role'") }

sub sleeping_queries {
    my ($ctx) = @_;
    settle();
    my $t0 = Time::HiRes::time();
    my @res = http_parallel($ctx->port, [(dbq('SELECT pg_sleep(0.3)')) x 5]);
    my $took = Time::HiRes::time() - $t0;
    is join(',', map { $_->{body} } @res), join(',', ("ok\n\n") x 5), 'five queries on two connections';
    cmp_ok $took, '>=', 0.85, '... in three rounds';
    cmp_ok $took, '<', 3, '... not much more';
    is scalar(backends()), 2, 'two connections';
}

sub timeout_replaces {
    my ($ctx) = @_;
    settle();
    is http($ctx->port, dbq('SELECT 1'))->{body}, "ok\n1\n", 'a first query';
    my ($pid) = backends();
    is http($ctx->port, dbq('SELECT pg_sleep(3)'))->{body}, "timeout\n", 'a query over query_timeout';
    is http($ctx->port, dbq('SELECT 1'))->{body}, "ok\n1\n", 'the next one';
    ok((grep { $_ != $pid } backends()), '... on a new connection');
}

sub errors_keep_connection {
    my ($ctx) = @_;
    settle();
    is http($ctx->port, dbq('SELECT 1'))->{body}, "ok\n1\n", 'a first query';
    my @before = backends();
    is http($ctx->port, dbq('SELECT 1/0'))->{body}, "error 22012\n", 'a server error, with its SQLSTATE';
    is http($ctx->port, dbq('SELECT 1/0', org => $::org_a))->{body}, "error 22012\n",
        '... in a tenant transaction';
    is http($ctx->port, dbq('SELEC 1', name => 'bad'))->{body}, "error 42601\n", 'a statement that does not parse';
    is http($ctx->port, dbq('INSERT INTO deferred VALUES (1), (1)'))->{body}, "error 23505\n",
        'an error at the commit';
    is http($ctx->port, dbq('SELECT count(*) FROM deferred'))->{body}, "ok\n0\n", '... rolled back';
    is http($ctx->port, dbq('SELECT 2', org => $::org_a))->{body}, "ok\n2\n", 'the connection goes on';
    is_deeply [backends()], \@before, '... the same one';
}

sub prepared_once {
    my ($ctx) = @_;
    my $sql = 'SELECT $1::int * 2';
    is http($ctx->port, dbq($sql, name => 'double', p => [21]))->{body}, "ok\n42\n", 'a prepared statement';
    is http($ctx->port, dbq($sql, name => 'double', p => [4], org => $::org_a))->{body}, "ok\n8\n",
        '... again, in a tenant transaction';
    is http($ctx->port, dbq('SELECT name FROM pg_prepared_statements ORDER BY name'))->{body}, "ok\ndouble\n",
        '... prepared once on the connection';
}

sub tenant_isolation {
    my ($ctx) = @_;
    my $calls = 'SELECT call_sid FROM calls ORDER BY call_sid';
    is http($ctx->port, dbq($calls, org => $::org_a))->{body}, "ok\nCA" . 'a' x 32 . "\n", 'org A sees its call';
    is http($ctx->port, dbq($calls, org => $::org_b))->{body}, "ok\nCA" . 'b' x 32 . "\n", 'org B sees its call';
    is http($ctx->port, dbq($calls))->{body}, "ok\n", 'no org: nothing';
    is http($ctx->port, dbq($calls, org => 'garbage'))->{body}, "ok\n", 'a crafted org id: nothing';
    is http($ctx->port, dbq($calls, org => "$::org_a' OR '1'='1"))->{body}, "ok\n",
        'an org id is a parameter, not SQL';
    is http($ctx->port, dbq("SELECT current_setting('app.org_id', true) IS DISTINCT FROM \$1", p => [$::org_a]))
        ->{body}, "ok\nt\n", 'app.org_id does not outlive its query';
    is http($ctx->port, dbq("UPDATE calls SET status = 'completed' WHERE org_id = \$1", org => $::org_a,
        p => [$::org_b]))->{body}, "ok\n", "org A cannot update org B's calls";
    is http($ctx->port, dbq("INSERT INTO calls (org_id, call_sid, from_number, to_number, direction, status)"
        . " VALUES (\$1, \$2, 'x', 'y', 'inbound', 'queued')", org => $::org_a, p => [$::org_b, 'CA' . 'c' x 32]))
        ->{body}, "error 42501\n", '... nor insert for it';
    is $pg->psql(q{SELECT string_agg(status, ',' ORDER BY call_sid) FROM calls}), 'ringing,ringing',
        'nothing changed';
}

sub client_gone {
    my ($ctx) = @_;
    settle();
    is http($ctx->port, dbq('SELECT 1'))->{body}, "ok\n1\n", 'a first query';
    my @before = backends();
    my $h = http_start($ctx->port, dbq('SELECT pg_sleep(0.4)'));
    Time::HiRes::sleep(0.1);
    close $h->{sock};
    Time::HiRes::sleep(0.5);
    is http($ctx->port, dbq('SELECT 3'))->{body}, "ok\n3\n", 'after a client left during its query';
    is_deeply [backends()], \@before, '... on the same connection';
}

sub large_query {
    my ($ctx) = @_;
    settle();
    is http($ctx->port, dbq('SELECT 1'))->{body}, "ok\n1\n", 'a first query';
    ($stopped) = backends();
    kill 'STOP', $stopped;
    my $value = 'v' x 8_000_000;
    my $h = http_start($ctx->port, dbq('SELECT length($1), md5($1)', p => [$value]));
    for (1 .. 500) {
        last if $ctx->error_log =~ /voxanne db send fd:\d+ steps:1 flushing:1/;
        Time::HiRes::sleep(0.02);
    }
    kill 'CONT', $stopped;
    is http_wait($h)->{body}, "ok\n8000000|" . Digest::MD5::md5_hex($value) . "\n", '8 MB sent';
}

add_block_preprocessor(sub {
    my ($block) = @_;
    my $params = $block->db // '';
    $block->set_value(main_config => "    load_module \$TEST_NGINX_DB_TEST_MODULE;\n");
    $block->set_value(http_config => '    voxanne_db "conninfo=host=$TEST_NGINX_PG_HOST'
        . ' port=$TEST_NGINX_PG_PORT dbname=$TEST_NGINX_PG_DB user=$TEST_NGINX_DB_ROLE"'
        . " $params;\n" . ($block->http_config // ''));
    $block->set_value(config => "    location = /q { voxanne_db_test; }\n" . ($block->config // ''));
});

run_tests();

__DATA__

=== TEST 1: parameters and NULLs
--- request eval
::dbq('SELECT $1::int + $2::int, $3::text IS NULL, $4', p => [2, 3, undef, "O'Brien \"x\" \\ ñ"])
--- response_body
ok
5|t|O'Brien "x" \ ñ
--- no_error_log
[error]



=== TEST 2: rows and NULLs in results
--- request eval
::dbq('SELECT g, CASE WHEN g = 2 THEN NULL ELSE g * 10 END FROM generate_series(1, 3) g')
--- response_body
ok
1|10
2|\N
3|30
--- no_error_log
[error]



=== TEST 3: tenant isolation: app.org_id under row-level security
--- steps eval: \&::tenant_isolation
--- no_error_log
[error]



=== TEST 4: a prepared statement is prepared once per connection
--- db: pool=1
--- steps eval: \&::prepared_once
--- grep_error_log eval: qr/voxanne db send fd:\d+ steps:\d+/
--- grep_error_log_out eval
qr/\A.* steps:2\n.* steps:2\n.* steps:1\n\z/
--- no_error_log
[error]



=== TEST 5: server errors leave the connection usable
--- db: pool=1
--- steps eval: \&::errors_keep_connection
--- no_error_log
[error]



=== TEST 6: more queries than connections wait in turn
--- db: pool=2
--- steps eval: \&::sleeping_queries
--- no_error_log
[error]



=== TEST 7: a query timeout replaces the connection
--- db: pool=1 query_timeout=300ms
--- steps eval: \&::timeout_replaces
--- error_log
PostgreSQL query timed out after 300 ms, closing its connection



=== TEST 8: a client that leaves: its query runs on, its connection is kept
--- db: pool=1
--- steps eval: \&::client_gone
--- error_log
client prematurely closed connection
--- no_error_log
[error]



=== TEST 9: a large result, read over many events
--- request eval
::dbq('SELECT g, repeat(md5(g::text), 64) FROM generate_series(1, 2000) g')
--- response_body_like eval
qr/\Aok\n(?:\d+\|[0-9a-f]{2048}\n){2000}\z/
--- no_error_log
[error]



=== TEST 10: a large query, flushed over many write events
The backend is stopped while the query is sent, so the socket fills.
--- db: pool=1
--- http_config
    large_client_header_buffers 2 16m;
--- steps eval: \&::large_query
--- error_log eval
qr/voxanne db send fd:\d+ steps:\d+ flushing:1/
--- no_error_log
[error]



=== TEST 11: an invalid query is refused
--- request eval
::dbq('SELECT 1', name => 'n' x 64)
--- error_code: 500
--- error_log
invalid PostgreSQL query
