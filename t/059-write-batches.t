# A batch of the call path's writes (sql/009_write_batches.sql): the
# writes of one event-loop pass, as the spool keeps them, in one statement.
# It lands as its writes would one by one, in its order, all or nothing,
# any number of times, and only in the tenant the transaction is for.
use strict;
use warnings;

use Test::More;
use JSON::PP qw(encode_json);
use Voxanne::Test::Pg;

my $pg = Voxanne::Test::Pg->database;

my %org = (a => '00000000-0000-4000-8000-00000000000a', b => '00000000-0000-4000-8000-00000000000b');

$pg->psql(join '', map { "INSERT INTO organizations (id, name) VALUES ('$org{$_}', 'Org $_');" } sort keys %org);

# the order the rows were written in, from a trigger on each table
$pg->psql(<<'SQL');
CREATE TABLE write_log (id bigserial PRIMARY KEY, tx bigint, what text);
CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  INSERT INTO write_log (tx, what)
  VALUES (txid_current(), TG_TABLE_NAME || ' ' || TG_OP || ' '
          || coalesce(to_jsonb(NEW)->>'event_key', to_jsonb(NEW)->>'seq', to_jsonb(NEW)->>'status'));
  RETURN NEW;
END $$;
CREATE TRIGGER log_calls AFTER INSERT OR UPDATE ON calls FOR EACH ROW EXECUTE FUNCTION log_write();
CREATE TRIGGER log_events AFTER INSERT ON call_events FOR EACH ROW EXECUTE FUNCTION log_write();
CREATE TRIGGER log_turns AFTER INSERT ON transcripts FOR EACH ROW EXECUTE FUNCTION log_write();
SQL

sub quote { my ($s) = @_; $s =~ s/'/''/g; "'$s'" }

# the batch (JSON text) as a member of voxanne_app for tenant $t: its
# result, or dies
sub batch_json {
    my ($t, $json) = @_;
    return $pg->psql("SET ROLE voxanne_app; SET app.org_id = '$org{$t}';"
                     . " SELECT voxanne_record_writes(" . quote($json) . ")");
}

sub batch {
    my ($t, @writes) = @_;
    return batch_json($t, encode_json(\@writes));
}

sub batch_error {
    my ($f, @args) = @_;
    return eval { $f->(@args); 1 } ? '' : $@;
}

sub logged { $pg->psql("SELECT string_agg(what, ',' ORDER BY id) FROM write_log WHERE id > $_[0]") }
sub last_id { $pg->psql("SELECT coalesce(max(id), 0) FROM write_log") }

my $at = '1795860000.250';
my $sid = 'CA' . 'a' x 32;

# the writes of a whole call, as the gateway makes them (store.c)
my @call = (
    [ call  => $org{a}, $sid, '+14155550123', '+15550100001', 'ringing', $at, undef ],
    [ event => $org{a}, $sid, 'voice', 'webhook', '{"outcome":"connected"}', $at ],
    [ turn  => $org{a}, $sid, '0', 'agent', 'Hello.', $at ],
    [ event => $org{a}, $sid, 'stream:start', 'stream', '{"stream_sid":"MZ1"}', $at ],
    [ turn  => $org{a}, $sid, '1', 'caller', "I'd like \"Botox\"", $at ],
    [ call  => $org{a}, $sid, undef, undef, 'completed', '1795860042.5', '42' ],
);

subtest 'a batch lands in its order, in one transaction' => sub {
    my $from = last_id();
    is batch(a => @call), 6, 'six writes';
    # (each event and turn also touches its call; later migrations may
    # update the call again, e.g. its outcome: the inserts and the last
    # row tell the order)
    is $pg->psql("SELECT string_agg(what, ',' ORDER BY id) FROM write_log WHERE id > $from"
                 . " AND what LIKE '% INSERT %'"),
       'calls INSERT ringing,call_events INSERT voice,transcripts INSERT 0,'
       . 'call_events INSERT stream:start,transcripts INSERT 1', 'the rows, in the order of the writes';
    is $pg->psql("SELECT what FROM write_log ORDER BY id DESC LIMIT 1"), 'calls UPDATE completed',
       'the final status last';
    is $pg->psql("SELECT count(DISTINCT tx) FROM write_log WHERE id > $from"), 1, 'one transaction';
    is $pg->psql("SELECT concat_ws('|', status, from_number, duration_seconds, ended_at - started_at)"
                 . " FROM calls WHERE call_sid = '$sid'"), 'completed|+14155550123|42|00:00:42.25',
       'the call, with its times';
    is $pg->psql("SELECT string_agg(event_key || '=' || (payload::text), ' ' ORDER BY event_key)"
                 . " FROM call_events"), 'stream:start={"stream_sid": "MZ1"} voice={"outcome": "connected"}',
       'its events, with their payloads';
    is $pg->psql("SELECT string_agg(seq || ':' || role || ':' || text, '|' ORDER BY seq) FROM transcripts"),
       q{0:agent:Hello.|1:caller:I'd like "Botox"}, 'its turns';
};

subtest 'the same batch again (a replay) changes nothing' => sub {
    my $before = $pg->psql("SELECT (SELECT count(*) FROM calls) || '/' || (SELECT count(*) FROM call_events)"
                           . " || '/' || (SELECT count(*) FROM transcripts)");
    is batch(a => @call), 6, 'six writes';
    is batch(a => reverse @call), 6, 'and in reverse';
    is $pg->psql("SELECT (SELECT count(*) FROM calls) || '/' || (SELECT count(*) FROM call_events)"
                 . " || '/' || (SELECT count(*) FROM transcripts)"), $before, 'no row more';
    is $pg->psql("SELECT status || '|' || duration_seconds FROM calls WHERE call_sid = '$sid'"),
       'completed|42', 'the call as it was';
};

subtest 'all or nothing' => sub {
    my $other = 'CA' . 'b' x 32;
    my $from = last_id();
    like batch_error(\&batch, a => [ call => $org{a}, $other, '+14155550123', '+15550100001', 'ringing', $at, undef ],
                          [ hangup => $org{a}, $other ]),
         qr/write 2 is not call, event or turn/, 'an unknown write is refused';
    like batch_error(\&batch, a => [ call => $org{a}, $other, '+14155550123', '+15550100001', 'ringing', $at, undef ],
                          [ event => $org{a}, $other, 'voice', 'webhook', '{not json', $at ]),
         qr/invalid input syntax for type json/, 'a payload that is no JSON is refused';
    like batch_error(\&batch_json, a => '{"call": 1}'), qr/not an array of writes/, 'an object is refused';
    is logged($from), '', 'nothing of them landed';
    is $pg->psql("SELECT count(*) FROM calls WHERE call_sid = '$other'"), 0, 'no call';
    is batch(a => ()), 0, 'an empty batch writes nothing';
};

subtest 'only in the tenant of the transaction' => sub {
    my $other = 'CA' . 'c' x 32;
    like batch_error(\&batch, b => [ call => $org{a}, $other, '+14155550123', '+15550100001', 'ringing', $at, undef ]),
         qr/row-level security/, "tenant b cannot write tenant a's call";
    is $pg->psql("SELECT count(*) FROM calls WHERE call_sid = '$other'"), 0, 'no call';
};

done_testing;
