use Test::Nginx::Socket 'no_plan';

# Self-test of the harness in t/lib/Test/Nginx/Socket.pm, with stock nginx
# features only (works with or without TEST_NGINX_LOAD_MODULES).

use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;

repeat_each(2);
no_shuffle();
env_to_nginx('HARNESS_ENV_TO_NGINX=1');

$ENV{TEST_NGINX_FROM_TEST} ||= 'from-test';

# Block handler: counts runs per block and exercises the context object.
our %handler_runs;
Test::Nginx::Socket::add_block_handler(sub {
    my ($block, $ctx) = @_;
    $handler_runs{ $block->name }++;
    my $name = $ctx->name;

    if (defined $block->probe_ctx) {
        is($ctx->port, $ENV{TEST_NGINX_SERVER_PORT}, "$name - handler gets the server port");
        is($ctx->responses->[0]{body}, "probe\n", "$name - handler gets the responses");
        like($ctx->error_log, qr{"GET /probe-marker HTTP/1\.1"}, "$name - handler reads the error.log slice");
        ok(!defined $ctx->socket, "$name - no upgraded socket without a 101");
    }
    if (defined(my $want = $block->upgraded_leftover)) {
        my $sock = $ctx->socket;
        ok($sock, "$name - handler gets the upgraded connection") or return;
        my $data = $ctx->responses->[0]{leftover};
        my $sel = IO::Select->new($sock);
        while (length $data < length $want && $sel->can_read($ctx->timeout)) {
            sysread($sock, $data, 1024, length $data) or last;
        }
        is($data, $want, "$name - bytes after the 101 arrive on the upgraded connection");
    }
});

# Preprocessor: takes the block's first random port, so the harness must pick another.
our @occupied;
add_block_preprocessor(sub {
    my ($block) = @_;
    return unless defined $block->occupy_rand_port;
    push @occupied, IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => $ENV{TEST_NGINX_RAND_PORT_1}, Proto => 'tcp', Listen => 1,
    ) // die "cannot occupy port $ENV{TEST_NGINX_RAND_PORT_1}: $!";
});

run_tests();

is(scalar @occupied, 1, 'preprocessor ran once for its block');
isnt($occupied[0]->sockport, $ENV{TEST_NGINX_RAND_PORT_1}, 'a port found taken was replaced');

# Every block that starts nginx ran twice (repeat_each), and handlers saw each run.
my @started = grep { !grep { defined } $_->must_die, $_->skip_eval, $_->skip_nginx } blocks();
is_deeply(\%handler_runs, { map { $_->name => 2 } @started }, 'repeat_each(2) ran every block twice');

# The log policy scanner.
my $log = <<'LOG';
2024/01/01 00:00:00 [error] 1#1: *1 open() "/x" failed (2: No such file or directory)
2024/01/01 00:00:00 [alert] 1#1: worker process 7 exited on signal 11 (core dumped)
2024/01/01 00:00:00 [crit] 1#1: *2 open() "/y" failed (6: No such device or address)
2024/01/01 00:00:00 [emerg] 1#1: bind() to 127.0.0.1:1 failed
==42== ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010
src/core/ngx_string.c:10:5: runtime error: signed integer overflow
==43== Invalid read of size 8
==43==    12 bytes in 1 blocks are definitely lost in loss record 1 of 1
2024/01/01 00:00:00 [notice] 1#1: exit
LOG
my @lines = split /\n/, $log;
is_deeply([Test::Nginx::Socket::fatal_log_lines($log)], [@lines[1 .. 7]],
    'fatal_log_lines finds alert, crit, emerg, crash, sanitizer and valgrind lines');
is_deeply([Test::Nginx::Socket::fatal_log_lines($log, 'No such device', qr/bind\(\)/)], [@lines[1, 4 .. 7]],
    'expected error_log patterns excuse alert/crit/emerg lines, never crashes or sanitizers');
is_deeply([Test::Nginx::Socket::fatal_log_lines("[error] x\n[warn] y\n")], [], 'error and warn lines pass');

# The response parser.
my $raw = "HTTP/1.1 100 Continue\r\n\r\n"
    . "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n\r\n"
    . "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: t\r\n\r\n"
    . "HTTP/1.1 204 No Content\r\n\r\n";
my @res = Test::Nginx::Socket::parse_responses(\$raw, [qw(GET GET)], 1);
is(scalar @res, 2, 'parser splits pipelined responses');
is_deeply([map { [$_->{code}, $_->{body}, $_->{complete}] } @res], [[200, 'abcde', 1], [204, '', 1]],
    'parser skips 100 Continue, decodes chunks and trailers');
is(Test::Nginx::Socket::header($res[0], 'X-A'), '1, 2', 'repeated headers are joined');
$raw = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort";
ok(!(Test::Nginx::Socket::parse_responses(\$raw, ['GET'], 1))[0]{complete}, 'a short body is incomplete');
$raw = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n";
is((Test::Nginx::Socket::parse_responses(\$raw, ['HEAD'], 0))[0]{complete}, 1, 'HEAD responses have no body');
$raw = "HTTP/1.1 200 OK\r\n\r\nuntil close";
is((Test::Nginx::Socket::parse_responses(\$raw, ['GET'], 1))[0]{body}, 'until close', 'unframed body ends at EOF');

# Whole runs in a child process, for outcomes a passing test cannot show in place.
sub run_child {
    my ($data, $setup) = @_;
    my $dir = tempdir(CLEANUP => 1);
    open my $fh, '>', "$dir/child.t" or die $!;
    print {$fh} "use Test::Nginx::Socket 'no_plan';\nno_shuffle();\n", $setup // '', "\nrun_tests();\n__DATA__\n$data";
    close $fh;
    local $ENV{TEST_NGINX_SERVROOT} = "$dir/servroot";
    local @ENV{qw(TEST_NGINX_SERVER_PORT TEST_NGINX_PORT)};
    delete @ENV{qw(TEST_NGINX_SERVER_PORT TEST_NGINX_PORT)};
    return scalar `$^X -I t/lib $dir/child.t 2>&1`;
}

my $out = run_child(<<'T');
=== TEST 1: crit line
--- config
    location /log { access_log $TEST_NGINX_SERVER_ROOT/nodir/$uri.log; return 204; }
--- request
GET /log
--- error_code: 204

=== TEST 2: no answer
--- config
    location = /slow { proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_no_close
--- request
GET /slow
--- timeout: 0.2

=== TEST 3: must_die, but nginx starts
--- config
--- must_die
T
like($out, qr/^ok \d+ - TEST 1: crit line - status code ok$/m, 'child: the request itself passes');
like($out, qr/^not ok \d+ - TEST 1: crit line - no alert, crit, emerg/m, 'child: a [crit] line fails the block');
like($out, qr/^# .*\[crit\].*nodir/m, 'child: the offending line is shown');
like($out, qr/^not ok \d+ - TEST 2: no answer - request timed out after 0\.2s$/m, 'child: a timeout fails the block');
like($out, qr/^ok \d+ - TEST 2: no answer - no alert/m, 'child: nginx survives the client timeout');
like($out, qr/^not ok \d+ - TEST 3: must_die, but nginx starts - nginx must die$/m, 'child: must_die fails when nginx runs');

$out = run_child(<<'T');
=== TEST 1: unset variable
--- config
    location /t { return 200 "$TEST_NGINX_NOT_SET_ANYWHERE"; }
--- request
GET /t
T
like($out, qr/^Bail out!.*TEST_NGINX_NOT_SET_ANYWHERE is not set/m, 'child: an unset variable bails out');

$out = run_child(<<'T');
=== TEST 1: broken config
--- config
    location /t { return; }
--- request
GET /t
T
like($out, qr/^not ok 1 - TEST 1: broken config - nginx started$/m, 'child: nginx failing to start fails the block');
like($out, qr/^# .*\[emerg\].*invalid number of arguments in "return"/m, 'child: nginx output is shown');

$out = run_child(<<'T', 'master_on(); workers(2); repeat_each(2); check_accum_error_log();');
=== TEST 1: master process, accumulated error.log
--- config
--- request
GET /missing-acc
--- error_code: 404
--- grep_error_log eval
qr/missing-acc" failed/
--- grep_error_log_out eval
[qq{missing-acc" failed\n}, qq{missing-acc" failed\n} x 2]
T
like($out, qr/^ok \d+ - TEST 1: master process, accumulated error.log \(repeat 1\) - grep_error_log_out$/m,
    'child: check_accum_error_log and per-repetition grep_error_log_out');
unlike($out, qr/^not ok/m, 'child: master_on and workers(2) run cleanly');

$out = run_child(<<'T', 'check_accum_error_log();');
=== TEST 1: a block's own workers and master process
--- workers: 2
--- master_on
--- log_level: notice
--- config
--- request
GET /t
--- error_code: 404
--- grep_error_log eval
qr/start worker process(?= \d)/
--- grep_error_log_out
start worker process
start worker process
T
like($out, qr/^ok \d+ - TEST 1: a block's own workers and master process - grep_error_log_out$/m,
    'child: --- workers: 2 and --- master_on start a master and two workers');

__DATA__

=== TEST 1: return body, status, headers
--- config
    location = /t {
        add_header X-Answer 42;
        return 200 "hi\n";
    }
--- request
GET /t
--- error_code: 200
--- response_headers
Content-Type: text/plain
Content-Length: 3
X-Answer: 42
!X-Missing
X-Also-Missing:
--- response_body
hi
--- no_error_log
[error]



=== TEST 2: generated nginx.conf
--- main_config
    env HARNESS_MAIN_MARKER;
--- post_main_config
    env HARNESS_POST_MARKER;
--- http_config
    map $uri $harness_marker { default "http-config-applied"; }
--- config
    location = /conf {
        alias $TEST_NGINX_SERVER_ROOT/conf/nginx.conf;
    }
--- request
GET /conf
--- response_body_like eval
my $r = $ENV{TEST_NGINX_SERVER_ROOT};
my @in_order = (
    (map { "load_module $_;\n" } split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // ''),
    "worker_processes 1;\nmaster_process ",    # off, unless TEST_NGINX_MASTER_PROCESS
    "\nerror_log $r/logs/error.log " . ($ENV{TEST_NGINX_LOG_LEVEL} || 'debug') . ";\npid $r/logs/nginx.pid;\n",
    qq{\nenv "HARNESS_ENV_TO_NGINX=1";\n},
    "\n    env HARNESS_MAIN_MARKER;\n",
    "\nevents {\n    worker_connections ",
    "\nhttp {\n    access_log $r/logs/access.log;\n    default_type text/plain;\n    keepalive_timeout 68000ms;\n",
    (map { "    ${_}_temp_path $r/${_}_temp;\n" } qw(client_body proxy fastcgi uwsgi scgi)),
    'map $uri $harness_marker',
    "listen 127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT};\n        server_name localhost;\n",
    "location / {\n            root $r/html;",
    "}\n}\n\n    env HARNESS_POST_MARKER;\n",
);
my $re = '\A' . quotemeta shift @in_order;
$re .= '.*' . quotemeta for @in_order;
qr/$re/s



=== TEST 3: http_config and environment variables in config
--- init
$ENV{TEST_NGINX_FROM_INIT} = 'set-by-init';
--- http_config
    map $uri $harness_marker { default "http-config-applied"; }
--- config
    location = /env {
        return 200 "$harness_marker $TEST_NGINX_FROM_TEST $TEST_NGINX_FROM_INIT $TEST_NGINX_HTML_DIR\n";
    }
--- request
GET /env
--- response_body eval
"http-config-applied $ENV{TEST_NGINX_FROM_TEST} set-by-init $ENV{TEST_NGINX_SERVER_ROOT}/html\n"



=== TEST 4: server_name section
--- server_name: harness.test
--- config
    location = /name { return 200 "$server_name\n"; }
--- request
GET /name
--- response_body
harness.test



=== TEST 5: regex checks
--- config
    location = /t {
        add_header X-Num 12345;
        return 201 "created 42\n";
    }
--- request
GET /t
--- error_code_like: ^20[01]$
--- response_headers_like
X-Num: \d+
Server: nginx(/[\d.]+)?
--- raw_response_headers_like: ^HTTP/1\.1 201 Created\r\n
--- raw_response_headers_unlike: Transfer-Encoding
--- response_body_like: ^created \d+$
--- response_body_unlike: error



=== TEST 6: more_headers
--- config
    location = /h { return 200 "$http_x_foo|$http_x_bar|$http_host\n"; }
--- request
GET /h
--- more_headers
X-Foo: foo value
# a comment line
X-Bar: bar
--- response_body
foo value|bar|localhost



=== TEST 7: POST body reaches the upstream mock
--- config
    location = /echo {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        proxy_set_header Host mock;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query eval
"POST /echo HTTP/1.0\r\nHost: mock\r\nConnection: close\r\nContent-Length: 11\r\n\r\nhello world"
--- tcp_query_len: 85
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX-Mock: yes\r\n\r\nok\n"
--- request
POST /echo
hello world
--- response_headers
X-Mock: yes
--- response_body
ok



=== TEST 8: request split into packets
--- log_level: debug
--- config
    location = /echo {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        proxy_set_header Host mock;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query eval
"POST /echo HTTP/1.0\r\nHost: mock\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello"
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"
--- request eval
[["POST /echo\nhel", { value => "lo", delay_before => 0.05 }]]
--- response_body
ok
--- error_log
http client request body preread 3
http client request body recv 2



=== TEST 9: chunked response, reply sent in packets
--- config
    location = /chunked {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        proxy_http_version 1.1;
        proxy_buffering off;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "4\r\ndefg\r\n0\r\n\r\n"]
--- tcp_reply_delay: 30ms
--- request
GET /chunked
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body chomp
abcdefg



=== TEST 10: raw_request split into packets
--- config
    location = /t { return 200 "raw\n"; }
--- raw_request eval
["GET /t HTTP/1.1\r\nHo", "st: localhost\r\nConnection: close\r\n\r\n"]
--- response_body
raw



=== TEST 11: keep-alive raw request stops at the end of the response
--- config
    location = /t { return 200 "kept\n"; }
--- raw_request eval
"GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n"
--- timeout: 1
--- response_headers
Connection: keep-alive
--- response_body
kept



=== TEST 12: pipelined requests
--- config
    location /p/ { return 200 "$uri\n"; }
--- pipelined_requests eval
["GET /p/a", "GET /p/b", "HEAD /p/c"]
--- response_body eval
["/p/a\n", "/p/b\n", ""]



=== TEST 13: request arrays, one connection each
--- config
    location = /a { return 200 "a\n"; }
--- request eval
["GET /a", "GET /missing-b"]
--- error_code eval
[200, 404]
--- response_body_like eval
["^a\$", "404 Not Found"]



=== TEST 14: HEAD and 204 have no body
--- config
    location = /t { return 200 "abc"; }
    location = /none { return 204; }
--- request eval
["HEAD /t", "GET /none"]
--- error_code eval
[200, 204]
--- response_headers eval
["Content-Length: 3", "!Content-Length"]
--- response_body eval
["", ""]



=== TEST 15: error_log from a refused upstream connection
--- config
    location = /up { proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2; }
--- request
GET /up
--- error_code: 502
--- error_log
connect() failed (111: Connection refused) while connecting to upstream
--- no_error_log
[alert]
[crit]



=== TEST 16: error_log patterns as an eval array
--- config
--- request
GET /missing.txt
--- error_code: 404
--- error_log eval
[qr/open\(\) "[^"]+\/html\/missing\.txt" failed \(2: No such file or directory\)/, "[error]"]



=== TEST 17: no_error_log with log_not_found off
--- config
    location /quiet/ {
        root $TEST_NGINX_HTML_DIR;
        log_not_found off;
    }
--- request
GET /quiet/missing.txt
--- error_code: 404
--- no_error_log
No such file or directory
[error]



=== TEST 18: grep_error_log per repetition, log_level section
--- log_level: error
--- config
--- request eval
["GET /nope1", "GET /nope2"]
--- error_code eval
[404, 404]
--- grep_error_log eval
qr{html/nope\d}
--- grep_error_log_out
html/nope1
html/nope2



=== TEST 19: grep_error_log with a literal string
--- config
--- request
GET /nope3
--- error_code: 404
--- grep_error_log chop
(2: No such file or directory)
--- grep_error_log_out eval
qr/\A\(2: No such file or directory\)\n\z/



=== TEST 20: must die on an unknown directive
--- config
    bogus_directive_xyz on;
--- must_die
--- error_log
unknown directive "bogus_directive_xyz"
[emerg]



=== TEST 21: RAND_PORT expansion
--- config
    location = /ports { return 200 "$TEST_NGINX_RAND_PORT_3 $TEST_NGINX_RAND_PORT_4\n"; }
--- request
GET /ports
--- response_body eval
my @p = @ENV{qw(TEST_NGINX_RAND_PORT_3 TEST_NGINX_RAND_PORT_4 TEST_NGINX_SERVER_PORT)};
my %distinct = map { $_ => 1 } @p;
keys %distinct == 3 ? "$p[0] $p[1]\n" : "ports not distinct: @p\n"



=== TEST 22: user_files
--- user_files
>>> index.html
<p>index</p>
>>> sub/dir/hello.txt
hello from a user file
--- config
--- request eval
["GET /", "GET /sub/dir/hello.txt"]
--- response_body eval
["<p>index</p>\n", "hello from a user file\n"]



=== TEST 23: block handler context
--- log_level: debug
--- config
    location = /probe-marker { return 200 "probe\n"; }
--- request
GET /probe-marker
--- probe_ctx
--- response_body
probe



=== TEST 24: 101 Switching Protocols keeps the connection open
--- config
    location = /ws {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection upgrade;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nfirst-frame"
--- tcp_no_close
--- request
GET /ws
--- more_headers
Upgrade: websocket
Connection: Upgrade
--- error_code: 101
--- response_headers
Upgrade: websocket
--- upgraded_leftover: first-frame



=== TEST 25: abort on timeout
--- config
    location = /slow { proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_no_close
--- request
GET /slow
--- timeout: 200ms
--- abort
--- ignore_response



=== TEST 26: an expected [crit] line does not fail the block
--- config
    location /log {
        access_log $TEST_NGINX_SERVER_ROOT/nodir/$uri.log;
        return 204;
    }
--- request
GET /log
--- error_code: 204
--- error_log
failed (2: No such file or directory) while logging request



=== TEST 27: shutdown_error_log and wait
--- config
    location = /t { return 200; }
--- request
GET /t
--- wait: 0.05
--- shutdown_error_log
signal 3 (SIGQUIT) received



=== TEST 28: skip_eval skips
--- skip_eval: 2: 1
--- config
    this_would_not_start;
--- request
GET /t



=== TEST 29: skip_nginx skips
--- skip_nginx: 2: > 0.0.1
--- config
    this_would_not_start;
--- request
GET /t



=== TEST 30: SKIP
--- SKIP
--- config
    this_would_not_start;
--- request
GET /t



=== TEST 31: a random port taken meanwhile is replaced
--- occupy_rand_port
--- config
    location = /up { proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1; }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n"
--- request
GET /up
--- response_body
ok
