use Test::Nginx::Socket 'no_plan';
use Time::HiRes qw(sleep time);
use Voxanne::Test::Pg;
use Voxanne::Test::PgProxy;
use Voxanne::Test::Http qw(http);
use Voxanne::Test::Store qw(gateway_role store_http_config eventually metric spool_files);
use Voxanne::Test::Vapi qw(vapi_send);

# Vapi's end-of-call reports land in PostgreSQL (sql/008_outcomes.sql): the
# call's times, ended reason, summary, recording, cost and duration, its
# turns numbered in the report's order, what it achieved; once, however
# often the report comes.  While PostgreSQL is away, status updates and
# reports are spooled, answered at once, and replayed exactly once.

our $pg = Voxanne::Test::Pg->database;
our $org = '5b7c1d2e-0000-4000-8000-00000000000a';

$pg->psql("INSERT INTO organizations (id, name) VALUES ('$org', 'Clinic A');"
          . "INSERT INTO services (org_id, name, price, duration_minutes, keywords) VALUES"
          . " ('$org', 'Botox', 300, 30, '{botox}'), ('$org', 'Filler', 450, 45, '{filler}');");

our $role = gateway_role($pg);
our $proxy = Voxanne::Test::PgProxy->new($pg, $role);

sub report {
    my ($port, $n, %more) = @_;
    return vapi_send($port, 'end-of-call-report',
        call => { id => "vapi-report-$n", type => 'inboundPhoneCall' },
        phoneNumber => { number => '+15550100001' }, customer => { number => sprintf('+1415555%04d', $n) },
        endedReason => 'customer-ended-call',
        startedAt => '2026-11-22T08:00:00.000Z', endedAt => '2026-11-22T08:01:30.500Z',
        cost => 0.1234, durationSeconds => 90.4,
        analysis => { summary => 'The caller asked about Botox.' },
        artifact => {
            recordingUrl => "https://storage.vapi.ai/rec-$n.wav",
            messages => [
                { role => 'system', message => 'You are Ava.' },
                { role => 'bot', message => 'Hello, Demo Clinic.', time => 1795334400000 },
                { role => 'user', message => 'Do you do Botox?', time => 1795334403250 },
                { role => 'tool_calls', toolCalls => [] },
                { role => 'bot', message => "Yes, we do.\nAnything else?", time => 1795334406000 },
                { role => 'user', message => 'No, thanks.' },
            ],
        },
        %more);
}

sub landed {
    my ($n) = @_;
    return "SELECT concat_ws('|', status, started_at, ended_at, duration_seconds, ended_reason, summary,"
           . " recording_url, cost, outcome, financial_value, from_number)"
           . " FROM calls WHERE vapi_call_id = 'vapi-report-$n' AND org_id = '$org'";
}

sub turns {
    my ($n) = @_;
    return "SELECT string_agg(t.seq || ':' || t.role || ':' || t.text || ':' || t.started_at, ' / ' ORDER BY t.seq)"
           . " FROM transcripts t JOIN calls c ON c.id = t.call_id WHERE c.vapi_call_id = 'vapi-report-$n'";
}

sub one_report {
    my ($ctx) = @_;
    my $port = $ctx->port;
    my $res = report($port, 1);
    is($res->{code}, 200, 'the report: 200');
    is($res->{body}, "{}\n", '... with nothing to say');
    eventually($pg, landed(1), 'completed|2026-11-22 08:00:00+00|2026-11-22 08:01:30.5+00|90|customer-ended-call'
               . '|The caller asked about Botox.|https://storage.vapi.ai/rec-1.wav|0.1234|resolved|300.00|+14155550001',
               'the call: times, duration, reason, summary, recording, cost, outcome, value');
    eventually($pg, turns(1), "0:agent:Hello, Demo Clinic.:2026-11-22 08:00:00+00"
               . " / 1:caller:Do you do Botox?:2026-11-22 08:00:03.25+00"
               . " / 2:agent:Yes, we do.\nAnything else?:2026-11-22 08:00:06+00"
               . " / 3:caller:No, thanks.:2026-11-22 08:00:00+00",
               "the caller's and the agent's turns, in order, with their times (else the call's start)");

    is(report($port, 1, endedReason => 'assistant-ended-call', analysis => { summary => 'Another.' })->{code}, 200,
       'the report again');
    sleep 0.3;
    is($pg->psql("SELECT count(*) FROM transcripts t JOIN calls c ON c.id = t.call_id"
                 . " WHERE c.vapi_call_id = 'vapi-report-1'"), 4, 'its turns once');
    is($pg->psql("SELECT ended_reason || '|' || summary FROM calls WHERE vapi_call_id = 'vapi-report-1'"),
       'assistant-ended-call|Another.', "a later report's reason and summary win");
    is(metric($port, 'written'), 2, 'two writes');
}

sub malformed {
    my ($ctx) = @_;
    my $port = $ctx->port;
    is(report($port, 2, call => { id => 'a b' })->{code}, 400, 'an invalid call id: 400');
    is(report($port, 3, artifact => { messages => [{ role => 'user', message => 'x' x 4097 },
                                                   { role => 'user', message => 'short' }] })->{code},
       200, 'a turn over 4 KB: 200');
    eventually($pg, turns(3), '0:caller:short:2026-11-22 08:00:00+00', '... left out, the others kept');
    my @long = map { { role => $_ % 2 ? 'user' : 'bot', message => sprintf('%03d ', $_) . 'y' x 296 } } 0 .. 39;
    is(report($port, 5, artifact => { messages => \@long })->{code}, 200, 'a report of 12 KB of turns: 200');
    eventually($pg, "SELECT count(*) || '|' || min(t.seq) || '|' || max(t.seq) || '|'"
               . " || bool_and(substr(t.text, 1, 3)::int = t.seq) || '|' || sum(length(t.text))"
               . " FROM transcripts t JOIN calls c ON c.id = t.call_id WHERE c.vapi_call_id = 'vapi-report-5'",
               '40|0|39|true|12000', '... lands whole, in several writes, each turn at its seq');
    is($pg->psql("SELECT summary || '|' || cost FROM calls WHERE vapi_call_id = 'vapi-report-5'"),
       'The caller asked about Botox.|0.1234', '... with the report\'s fields');
    is(metric($port, 'written'), 5, 'the report before in one write, this one in four (4 KB of text each)');
    is(report($port, 4, call => { id => 'vapi-report-4', type => 'webCall' })->{code}, 200, 'a web call: 200');
    sleep 0.3;
    is($pg->psql("SELECT count(*) FROM calls WHERE vapi_call_id IN ('a b', 'vapi-report-4')"), 0,
       'neither written');
}

sub outage {
    my ($ctx) = @_;
    my $port = $ctx->port;
    my @n = (101 .. 110);

    $proxy->up;
    is(report($port, 100)->{code}, 200, 'a report while the database is up');
    eventually($pg, "SELECT count(*) FROM calls WHERE vapi_call_id = 'vapi-report-100'", 1, '... written');
    $proxy->down;

    my $slowest = 0;
    for my $n (@n) {
        for my $res (vapi_send($port, 'status-update', status => 'in-progress',
                               call => { id => "vapi-report-$n" }, phoneNumber => { number => '+15550100001' },
                               customer => { number => sprintf('+1415555%04d', $n) }),
                     report($port, $n))
        {
            is($res->{code}, 200, "call $n answered") unless $res->{code} == 200;
            $slowest = $res->{elapsed} if $res->{elapsed} > $slowest;
        }
    }
    cmp_ok($slowest, '<', 1, 'no answer waited on the database');
    sleep 0.5;
    cmp_ok(spool_files(), '>', 0, 'the writes are in spool files');
    is(metric($port, 'spooled'), 2 * @n, 'every write spooled');

    $proxy->up;

    my $ids = join ',', map { "'vapi-report-$_'" } @n;
    eventually($pg, "SELECT count(*) FROM calls WHERE vapi_call_id IN ($ids)", scalar @n, 'every call, once');
    eventually($pg, "SELECT count(*) FROM calls WHERE vapi_call_id IN ($ids) AND status = 'completed'"
               . " AND answered_at IS NOT NULL AND outcome = 'resolved' AND cost = 0.1234", scalar @n,
               'each answered, ended, resolved, with its report');
    eventually($pg, "SELECT count(*) || '|' || count(DISTINCT (t.call_id, t.seq)) FROM transcripts t"
               . " JOIN calls c ON c.id = t.call_id WHERE c.vapi_call_id IN ($ids)", 4 * @n . '|' . 4 * @n,
               'every turn, once');
    my $until = time + 10;
    sleep 0.2 while spool_files() && time < $until;
    is(spool_files(), 0, 'the spool files are gone');
    is(metric($port, 'replayed'), 2 * @n, 'every spooled write replayed');
    is(metric($port, 'failed'), 0, 'none failed');
}

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value(http_config => store_http_config(
        db => $block->proxied ? $proxy->port : $ENV{TEST_NGINX_PG_PORT}, role => $role, org => $org,
        tenant => "        vapi_auth secret file=../html/vapi.secret;\n"));
    $block->set_value(user_files => ">>> a.token\n12345\n>>> vapi.secret\nvapi-secret-1\n");
    $block->set_value(config => <<'_EOC_');
    location = /vapi { voxanne_vapi; }
    location = /metrics { voxanne_metrics; }
_EOC_
});

run_tests();

__DATA__

=== TEST 1: an end-of-call report lands: the call's end, summary, recording, cost, turns in order, outcome and value; once
--- steps eval: \&::one_report
--- no_error_log
[error]
[alert]
Do you do Botox



=== TEST 2: an invalid call id is a 400; a turn over its cap is left out; a long report comes in several writes; a web call is not recorded
--- steps eval: \&::malformed
--- error_log
vapi end-of-call-report: call "vapi-report-3": 1 turns over 256 or 4096 bytes left out
--- no_error_log
[error]
[alert]



=== TEST 3: PostgreSQL away: status updates and reports are answered at once and spooled; back: each lands exactly once
--- proxied: 1
--- steps eval: \&::outage
--- timeout: 60
--- error_log
voxanne: spool: replaying
--- no_error_log
[alert]
