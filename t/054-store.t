use Test::Nginx::Socket 'no_plan';
use Time::HiRes qw(sleep time);
use Voxanne::Test::Pg;
use Voxanne::Test::PgProxy;
use Voxanne::Test::Store qw(metric spool_files);
use Voxanne::Test::Http qw(http http_start http_wait);
use Voxanne::Test::Twilio qw(twilio_request);
use Voxanne::Test::WebSocket;
use Voxanne::Test::Media qw($SID $MZ connected start say stop);
use Voxanne::Test::Realtime qw(ulaw_tone ulaw_silence);

# The call path's writes (ngx_http_voxanne_store.c): webhooks and streams
# land in PostgreSQL without the answer to Twilio waiting on them; while
# the database is away they wait in voxanne_spool and are replayed, each
# exactly once, when it is back.  nginx connects as a member of
# voxanne_app, under row-level security, through a TCP proxy that a test
# can take away and bring back: PostgreSQL "goes down" for this file only.

our $pg = Voxanne::Test::Pg->database;
our $org = '5b7c1d2e-0000-4000-8000-00000000000a';
our $role = "vx_gw_$$";

$pg->psql("INSERT INTO organizations (id, name) VALUES ('$org', 'Clinic A');"
          . "CREATE ROLE $role LOGIN IN ROLE voxanne_app;");

# (forked children of the harness must not run this)
my $owner = $$;
END { eval { $pg->psql("DROP OWNED BY $role; DROP ROLE $role") } if $pg && $$ == $owner }

# the provider of the realtime block: the caller's words, and the agent's
our $mock = Voxanne::Test::Realtime->start(args => ['--reply-ms', '80', '--burst',
                                                    '--transcript', 'I would like "Botox" tomorrow',
                                                    '--reply', "Sure, we're open at 2."]);


# the turns of the call: the greeting, the caller's words, the reply, once each
sub turns {
    my $sql = "SELECT string_agg(role || ':' || text, '|' ORDER BY role, text) FROM transcripts t"
              . " JOIN calls c ON c.id = t.call_id WHERE c.call_sid = '$::SID' AND t.org_id = '$org'";
    eventually($sql, 'agent:Hello, thank you for calling. How can I help you today?'
                     . q{|agent:Sure, we're open at 2.|caller:I would like "Botox" tomorrow},
               'the turns, in the tenant, once each');
    Test::More::is($pg->psql("SELECT string_agg(seq::text, ',' ORDER BY seq) FROM transcripts t"
                             . " JOIN calls c ON c.id = t.call_id WHERE c.call_sid = '$::SID'"),
                   '0,1,2', 'numbered in the order they completed');
}

# the proxy nginx connects through: PostgreSQL can be taken away
our $proxy = Voxanne::Test::PgProxy->new($pg, $role);
our $proxy_port = $proxy->port;

sub proxy_up { $proxy->up }
sub proxy_down { $proxy->down }

END { proxy_down() if $$ == $owner }

sub sid { sprintf 'CA%032x', shift }

# a signed webhook, sent at once; its response
sub webhook {
    my ($port, $uri, @params) = @_;
    my ($request, $headers) = twilio_request(uri => $uri, base => 'http://edge.example.com',
                                             params => [AccountSid => 'AC' . '0' x 32, @params]);
    my %h = map { split /: /, $_, 2 } split /\n/, $headers;
    return http_wait(http_start($port, $request, %h), 5);
}

sub voice {
    my ($port, $n) = @_;
    return webhook($port, '/twilio/voice', CallSid => sid($n), CallStatus => 'ringing',
                   From => '+14155550123', To => '+15550100001');
}

sub status {
    my ($port, $n, $status, $seq, @more) = @_;
    return webhook($port, '/twilio/status', CallSid => sid($n), CallStatus => $status,
                   From => '+14155550123', To => '+15550100001', SequenceNumber => $seq, @more);
}

# waits until $sql gives $want (or 10 s), then compares
sub eventually { Voxanne::Test::Store::eventually($pg, @_) }

sub calls_of {
    my (@n) = @_;
    return "SELECT count(*) FROM calls WHERE call_sid IN ("
           . join(',', map { "'" . sid($_) . "'" } @n) . ")";
}

sub events_of {
    my (@n) = @_;
    return "SELECT count(*) FROM call_events e JOIN calls c ON c.id = e.call_id"
           . " WHERE c.call_sid IN (" . join(',', map { "'" . sid($_) . "'" } @n) . ")";
}

# the webhooks of one call, in order, land as one row and its events
sub one_call {
    my ($ctx) = @_;
    my $port = $ctx->port;
    Test::More::is(voice($port, 1)->{code}, 200, 'voice');
    Test::More::is(status($port, 1, 'in-progress', 1)->{code}, 200, 'in-progress');
    Test::More::is(status($port, 1, 'completed', 2, CallDuration => 42)->{code}, 200, 'completed');
    Test::More::is(webhook($port, '/twilio/recording?tenant=clinic-a', CallSid => sid(1),
                           RecordingSid => 'RE' . 'f' x 32, RecordingStatus => 'completed',
                           RecordingUrl => 'https://api.twilio.com/rec/RE1',
                           RecordingDuration => 7)->{code}, 200, 'recording');
    eventually("SELECT concat_ws('|', status, from_number, to_number, duration_seconds,"
               . " answered_at IS NOT NULL, ended_at IS NOT NULL) FROM calls"
               . " WHERE call_sid = '" . sid(1) . "' AND org_id = '$org'",
               'completed|+14155550123|+15550100001|42|t|t', 'the call, in its tenant');
    eventually("SELECT string_agg(e.event_key || '=' || e.type, ' ' ORDER BY e.event_key)"
               . " FROM call_events e JOIN calls c ON c.id = e.call_id WHERE c.call_sid = '"
               . sid(1) . "'",
               'recording:RE' . 'f' x 32 . ':completed=recording status:1=status status:2=status'
               . ' voice=webhook', 'its events');
    Test::More::is($pg->psql("SELECT payload->>'outcome' FROM call_events WHERE event_key = 'voice'"
                             . " AND call_id = (SELECT id FROM calls WHERE call_sid = '" . sid(1) . "')"),
                   'connected', 'the voice decision');
    Test::More::is(metric($port, 'written'), 7, 'seven writes: three calls, four events');
    Test::More::is(metric($port, 'spooled'), 0, 'none spooled');
    Test::More::is(spool_files($ctx), 0, 'no spool file');
}

# PostgreSQL away: Twilio's answers do not wait, the writes are spooled;
# back: every write lands once, the spool empties
sub outage {
    my ($ctx) = @_;
    my $port = $ctx->port;
    my @calls = (101 .. 130);

    proxy_up();
    Test::More::is(voice($port, 100)->{code}, 200, 'a call while the database is up');
    eventually(calls_of(100), 1, '... written');

    proxy_down();

    my $slowest = 0;
    for my $n (@calls) {
        my $res = voice($port, $n);
        Test::More::is($res->{code}, 200, "call $n answered") unless $res->{code} == 200;
        $slowest = $res->{elapsed} if $res->{elapsed} > $slowest;
        status($port, $n, 'completed', 1, CallDuration => 3);
    }

    Test::More::cmp_ok($slowest, '<', 1, 'no answer waited on the database');
    Test::More::is($pg->psql(calls_of(@calls)), 0, 'nothing reached the database');

    my $health = http($port, 'GET /healthz');
    Test::More::is($health->{code}, 200, 'readiness while spooling: 200');
    Test::More::like($health->{body}, qr/"status":"degraded".*"db":\{"state":"down".*"spool":\{"state":"ok"/,
                     '... degraded, the database down, the spool taking the writes');

    sleep 0.5;
    Test::More::cmp_ok(spool_files($ctx), '>', 0, 'the writes are in spool files');
    Test::More::is(metric($port, 'spooled'), 4 * @calls, 'every write spooled');
    Test::More::is(metric($port, 'lost'), 0, 'none lost');

    proxy_up();

    eventually(calls_of(@calls), scalar @calls, 'every call landed once the database is back');
    eventually(events_of(@calls), 2 * @calls, 'every event, once');
    eventually("SELECT count(*) FROM calls WHERE status = 'completed' AND duration_seconds = 3"
               . " AND from_number = '+14155550123' AND call_sid IN ("
               . join(',', map { "'" . sid($_) . "'" } @calls) . ")",
               scalar @calls, 'each complete');
    my $until = time + 10;
    sleep 0.2 while spool_files($ctx) && time < $until;
    Test::More::is(spool_files($ctx), 0, 'the spool files are gone');
    Test::More::is(metric($port, 'replayed'), 4 * @calls, 'every spooled write replayed');
    Test::More::is(metric($port, 'failed'), 0, 'none failed');

    Test::More::is(voice($port, 131)->{code}, 200, 'a call after the outage');
    eventually(calls_of(131), 1, '... written directly');
    Test::More::like(http($port, 'GET /healthz')->{body}, qr/"status":"ok"/, 'ready again');
}

# a write the database refuses is logged and not spooled
sub refused {
    my ($ctx) = @_;
    my $port = $ctx->port;
    Test::More::is(voice($port, 200)->{code}, 200, 'the webhook is answered');
    my $until = time + 5;
    sleep 0.1 while metric($port, 'failed') < 2 && time < $until;
    Test::More::is(metric($port, 'failed'), 2, 'both writes failed');
    Test::More::is(metric($port, 'spooled'), 0, 'not spooled');
}

add_block_preprocessor(sub {
    my ($block) = @_;
    my $db = $block->db // return;
    $db =~ s/\s+\z//;
    my $tenant = $block->tenant_org // $org;
    $block->set_value(http_config => <<"_EOC_");
    voxanne_db "conninfo=host=127.0.0.1 port=$db dbname=\$TEST_NGINX_PG_DB user=$role"
               connect_timeout=1s query_timeout=2s;
    voxanne_spool spool flush=50ms;
    voxanne_tenant clinic-a {
        org_id                 $tenant;
        numbers                +15550100001;
        twilio_auth_token_file ../html/a.token;
        public_url             http://edge.example.com;
    }
_EOC_
    $block->set_value(user_files => ">>> a.token\n12345\n");
    my $url = $mock->url;
    $block->set_value(config => <<"_EOC_");
    location /twilio/ {
        location = /twilio/voice { voxanne_twilio voice; }
        location = /twilio/status { voxanne_twilio status; }
        location = /twilio/recording { voxanne_twilio recording; }
        location /twilio/media/ {
            voxanne_media_stream;
            voxanne_realtime_url $url;
        }
    }
    location = /healthz { voxanne_health; }
    location = /metrics { voxanne_metrics; }
_EOC_
});

run_tests();

__DATA__

=== TEST 1: a call's webhooks land in PostgreSQL, in its tenant
--- db: $TEST_NGINX_PG_PORT
--- steps eval: \&::one_call
--- no_error_log
[error]
[alert]



=== TEST 2: the outage drill: PostgreSQL goes away under 30 calls and comes back; every write lands exactly once
--- workers: 2
--- master_on
--- db eval: $::proxy_port
--- steps eval: \&::outage
--- timeout: 60
--- error_log
voxanne: spool: replaying
--- no_error_log
[alert]
call data lost



=== TEST 3: a write PostgreSQL refuses (another tenant's organization) is logged, not spooled
--- db: $TEST_NGINX_PG_PORT
--- tenant_org: 5b7c1d2e-0000-4000-8000-0000000000ff
--- steps eval: \&::refused
--- error_log eval
qr/\[error\] .*voxanne: store: voxanne_record_call of call "CA0+c8" failed: .*row-level security|violates foreign key/



=== TEST 4: a realtime call's turns land in PostgreSQL as they complete, text never logged
--- db: $TEST_NGINX_PG_PORT
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(),
  { expect => { json => { event => 'mark', mark => { name => '1:80' } } } },
  ::say(::ulaw_tone(300) . ::ulaw_silence(1200), 1),
  { run => \&::turns },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- timeout: 20
--- no_error_log
Botox
[error]
