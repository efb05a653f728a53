use Test::Nginx::Socket 'no_plan';
use IO::Socket::INET;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(sleep time);
use Voxanne::Test::Pg;
use Voxanne::Test::Store qw(metric store_http_config);
use Voxanne::Test::Twilio qw(twilio_request);

# Batches of the call path's writes (ngx_http_voxanne_store.c): the writes
# a worker queues in one pass of its event loop go to PostgreSQL as one
# statement, one round trip and one transaction (sql/009_write_batches.sql).
# To put many webhooks in one pass, the test stops nginx, writes them on
# connections nginx has already accepted, and lets it go on: one
# epoll_wait() then returns them all.  A trigger logs every row written
# with its transaction, in the order the rows were written.

our $pg = Voxanne::Test::Pg->database;
our $org = '5b7c1d2e-0000-4000-8000-00000000000a';
our $role = "vx_gw_$$";

$pg->psql("INSERT INTO organizations (id, name) VALUES ('$org', 'Clinic A');"
          . "CREATE ROLE $role LOGIN IN ROLE voxanne_app;" . <<'SQL');
CREATE TABLE write_log (id bigserial PRIMARY KEY, tx bigint, sid text, what text);
CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  INSERT INTO write_log (tx, sid, what)
  VALUES (txid_current(),
          coalesce(to_jsonb(NEW)->>'call_sid', (SELECT call_sid FROM calls WHERE id = (to_jsonb(NEW)->>'call_id')::uuid)),
          TG_TABLE_NAME || ' ' || TG_OP);
  RETURN NEW;
END $$;
CREATE TRIGGER log_calls AFTER INSERT ON calls FOR EACH ROW EXECUTE FUNCTION log_write();
CREATE TRIGGER log_events AFTER INSERT ON call_events FOR EACH ROW EXECUTE FUNCTION log_write();
-- a call the database refuses
CREATE FUNCTION refuse_call() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.call_sid LIKE 'CA%dead' THEN RAISE EXCEPTION 'refused for the test'; END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER refuse_calls BEFORE INSERT ON calls FOR EACH ROW EXECUTE FUNCTION refuse_call();
SQL

my $owner = $$;
END { eval { $pg->psql("DROP OWNED BY $role; DROP ROLE $role") } if $pg && $$ == $owner }

sub sid { sprintf 'CA%032x', shift }

sub in_list { '(' . join(',', map { "'" . sid($_) . "'" } @_) . ')' }

# the voice webhooks of calls @n, on connections nginx has accepted and
# served once (keep-alive), all read in one pass of its event loop; their
# answers' statuses
sub one_pass {
    my ($port, @n) = @_;
    my @socks = map {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or die "connect: $!";
        setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
        $s;
    } @n;
    # a first request on each, answered: nginx has accepted them all
    for my $s (@socks) {
        print {$s} "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n";
        my ($head, $line) = ('', '');
        while (defined($line = readline $s) && $line ne "\r\n") { $head .= $line }
        my ($len) = $head =~ /^Content-Length: (\d+)/mi or die "no answer on a connection: $head";
        read($s, my $body, $len) == $len or die "a short answer";
    }
    open my $fh, '<', Test::Nginx::Socket::server_root() . '/logs/nginx.pid' or die "no nginx pid: $!";
    my ($pid) = <$fh> =~ /^(\d+)/ or die "no nginx pid";
    kill 'STOP', $pid or die "cannot stop nginx: $!";
    for my $i (0 .. $#n) {
        my ($request, $headers) = twilio_request(
            uri => '/twilio/voice', base => 'http://edge.example.com',
            params => [AccountSid => 'AC' . '0' x 32, CallSid => sid($n[$i]), CallStatus => 'ringing',
                       From => '+14155550123', To => '+15550100001']);
        my ($line, $body) = split /\n/, $request, 2;
        my ($method, $uri) = split ' ', $line;
        $headers =~ s/\n/\r\n/g;
        print { $socks[$i] } "$method $uri HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                             . $headers . 'Content-Length: ' . length($body) . "\r\n\r\n" . $body;
    }
    sleep 0.1;
    kill 'CONT', $pid;
    my @codes = map {
        local $/;
        my $res = readline($_) // '';
        $res =~ m{^HTTP/1\.1 (\d+)} ? $1 : 0;
    } @socks;
    return @codes;
}

sub eventually { Voxanne::Test::Store::eventually($pg, @_) }

sub wait_metric {
    my ($port, $result, $want) = @_;
    my $until = time + 10;
    sleep 0.1 while metric($port, $result) < $want && time < $until;
    Test::More::is(metric($port, $result), $want, "$want writes $result");
}

# each call of @n: once, its row first, then its event (once)
sub each_once_in_order {
    my (@n) = @_;
    my $list = in_list(@n);
    eventually("SELECT count(*) FROM calls WHERE call_sid IN $list", scalar @n, 'each call landed');
    Test::More::is($pg->psql("SELECT count(*) FROM call_events e JOIN calls c ON c.id = e.call_id"
                             . " WHERE c.call_sid IN $list AND e.event_key = 'voice'"),
                   scalar @n, 'each voice event, once');
    Test::More::is($pg->psql("SELECT count(*) FROM (SELECT sid, string_agg(what, ',' ORDER BY id) AS rows"
                             . " FROM write_log WHERE sid IN $list GROUP BY sid) s"
                             . " WHERE rows = 'calls INSERT,call_events INSERT'"),
                   scalar @n, "each call's rows once, in the order of its writes");
}

sub transactions {
    my (@n) = @_;
    return $pg->psql("SELECT count(DISTINCT tx) FROM write_log WHERE sid IN " . in_list(@n));
}

# the transactions that wrote rows of more than one of the calls @n: none
# when each write went alone (though a call's event may then land before
# its own write and create the call: the writes of one call race on two
# connections)
sub shared_transactions {
    my (@n) = @_;
    return $pg->psql("SELECT count(*) FROM (SELECT tx FROM write_log WHERE sid IN " . in_list(@n)
                     . " GROUP BY tx HAVING count(DISTINCT sid) > 1) s");
}

# ten calls in one pass: twenty writes, one batch
sub batched {
    my ($ctx) = @_;
    my $port = $ctx->port;
    my @n = (1 .. 10);
    Test::More::is(join(',', one_pass($port, @n)), join(',', (200) x @n), 'every webhook answered');
    each_once_in_order(@n);
    Test::More::is(transactions(@n), 1, 'in one transaction: one batch');
    wait_metric($port, 'written', 20);
    Test::More::is(metric($port, 'spooled'), 0, 'none spooled');
}

# the database takes no connection: the batch is spooled, write by write in
# order; back, each lands once
sub spooled {
    my ($ctx) = @_;
    my $port = $ctx->port;
    my @n = (101 .. 110);
    $pg->psql("ALTER ROLE $role NOLOGIN;"
              . "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '$role'");
    Test::More::is(join(',', one_pass($port, @n)), join(',', (200) x @n), 'every webhook answered');
    wait_metric($port, 'spooled', 20);
    Test::More::is($pg->psql("SELECT count(*) FROM calls WHERE call_sid IN " . in_list(@n)), 0,
                   'nothing reached the database');
    $pg->psql("ALTER ROLE $role LOGIN");
    each_once_in_order(@n);
    wait_metric($port, 'replayed', 20);
    Test::More::is(metric($port, 'lost'), 0, 'none lost');
}

# a batch the database refuses for one of its calls: each write is sent
# alone, and only that call's fail
sub refused {
    my ($ctx) = @_;
    my $port = $ctx->port;
    my @n = (201 .. 209);
    my $dead = 0xdead;
    Test::More::is(join(',', one_pass($port, @n, $dead)), join(',', (200) x (@n + 1)),
                   'every webhook answered');
    each_once_in_order(@n);
    Test::More::is(shared_transactions(@n), 0, 'each write alone: no transaction for two calls');
    wait_metric($port, 'failed', 2);
    wait_metric($port, 'written', 2 * @n);
    Test::More::is($pg->psql("SELECT count(*) FROM calls WHERE call_sid = '" . sid($dead) . "'"), 0,
                   'not the refused call');
}

# without migration 009, writes go one by one, after one warning
sub no_function {
    my ($ctx) = @_;
    my $port = $ctx->port;
    $pg->psql("ALTER FUNCTION voxanne_record_writes(jsonb) RENAME TO voxanne_record_writes_away");
    my $ok = eval {
        for my $n ([301 .. 305], [306 .. 310]) {
            Test::More::is(join(',', one_pass($port, @$n)), join(',', (200) x @$n), 'every webhook answered');
            each_once_in_order(@$n);
            Test::More::is(shared_transactions(@$n), 0, 'each write alone: no transaction for two calls');
        }
        wait_metric($port, 'written', 20);
        1;
    };
    $pg->psql("ALTER FUNCTION voxanne_record_writes_away(jsonb) RENAME TO voxanne_record_writes");
    die $@ unless $ok;
}

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value(http_config => store_http_config(db => '$TEST_NGINX_PG_PORT', role => $role,
                                                       org => $org));
    $block->set_value(user_files => ">>> a.token\n12345\n");
    $block->set_value(config => <<"_EOC_");
    location = /twilio/voice { voxanne_twilio voice; }
    location = /metrics { voxanne_metrics; }
_EOC_
});

run_tests();

__DATA__

=== TEST 1: ten voice webhooks in one pass: their twenty writes land in one batch, each once, each call's in order
--- steps eval: \&::batched
--- no_error_log
[warn]
[error]



=== TEST 2: the database takes no connection: the batch is spooled write by write, in order; replayed, each lands once
--- steps eval: \&::spooled
--- timeout: 30
--- error_log
voxanne: spool: replaying
--- no_error_log
[alert]
call data lost



=== TEST 3: a batch the database refuses for one call: each write is sent alone, the other calls land, only that call's two writes fail
--- steps eval: \&::refused
--- error_log eval
[ qr/\[warn\] .*voxanne: store: a batch of 20 writes failed, each is sent alone: ERROR: refused for the test/,
  qr/\[error\] .*voxanne: store: voxanne_record_call of call "CA0+dead" failed: ERROR: refused for the test/ ]
--- no_error_log
[alert]



=== TEST 4: a database without migration 009: one warning, then every write goes alone, and lands
--- steps eval: \&::no_function
--- error_log eval
[ qr/\[warn\] .*voxanne: store: the database has no voxanne_record_writes\(\) \(migration 009\), writes are sent one by one/ ]
--- no_error_log
[error]
[alert]
