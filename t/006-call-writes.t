# The call path's writes (sql/004_call_writes.sql): each lands the same in
# any order and any number of times, as the spool's replays need, and only
# in the tenant the transaction is for.
use strict;
use warnings;

use Test::More;
use Voxanne::Test::Pg;

my $pg = Voxanne::Test::Pg->database;

my %org = (a => '00000000-0000-4000-8000-00000000000a', b => '00000000-0000-4000-8000-00000000000b');

$pg->psql(join '', map { "INSERT INTO organizations (id, name) VALUES ('$org{$_}', 'Org $_');" } sort keys %org);

# $sql as a member of voxanne_app for tenant $t
sub as_app {
    my ($t, $sql) = @_;
    return $pg->psql("SET ROLE voxanne_app; SET app.org_id = '$org{$t}'; $sql");
}

sub app_error {
    my ($t, $sql) = @_;
    return eval { as_app($t, $sql); 1 } ? '' : $@;
}

# a SQL string literal
sub quote { my ($s) = @_; $s =~ s/'/''/g; "'$s'" }

sub call {
    my ($t, $sid, $from, $to, $st, $at, $duration) = @_;
    my @v = map { defined $_ ? "'$_'" : 'NULL' } $from, $to, $st;
    as_app($t, sprintf "SELECT voxanne_record_call('%s', '%s', %s, %s, %s, '%s', %s)",
           $org{$t}, $sid, @v, $at, $duration // 'NULL');
}

sub event {
    my ($t, $sid, $key, $kind, $at) = @_;
    as_app($t, "SELECT voxanne_record_event('$org{$t}', '$sid', '$key', '$kind', '{\"k\":\"$key\"}', '$at')");
}

sub row {
    my ($sid) = @_;
    return $pg->psql("SELECT concat_ws('|', status, from_number, to_number,"
                     . join(',', map { " coalesce(${_}::text, '')" }
                                 qw(started_at answered_at ended_at duration_seconds))
                     . ") FROM calls WHERE call_sid = '$sid'");
}

my @t = map { "2026-11-22 10:00:0$_+00" } 0 .. 9;

subtest 'a call written in order' => sub {
    my $sid = 'CA' . '1' x 32;
    call(a => $sid, '+14155550123', '+15550100001', 'ringing', $t[0]);
    call(a => $sid, '+14155550123', '+15550100001', 'in-progress', $t[1]);
    call(a => $sid, '+14155550123', '+15550100001', 'completed', $t[5], 4);
    is row($sid), "completed|+14155550123|+15550100001|$t[0]|$t[1]|$t[5]|4", 'the call';
};

subtest 'the same writes in another order, twice' => sub {
    my $sid = 'CA' . '2' x 32;
    my @writes = (
        sub { event(a => $sid, 'stream:start', 'stream', $t[2]) },
        sub { call(a => $sid, '+14155550123', '+15550100001', 'completed', $t[5], 4) },
        sub { call(a => $sid, '+14155550123', '+15550100001', 'ringing', $t[0]) },
        sub { event(a => $sid, 'stream:end', 'stream', $t[4]) },
        sub { call(a => $sid, '+14155550123', '+15550100001', 'in-progress', $t[1]) },
    );
    $_->() for @writes, reverse @writes;
    is row($sid), "completed|+14155550123|+15550100001|$t[0]|$t[1]|$t[5]|4",
        'the call as if written in order';
    is $pg->psql("SELECT string_agg(event_key || '\@' || e.created_at, ' ' ORDER BY e.created_at)"
                 . " FROM call_events e JOIN calls c ON c.id = e.call_id WHERE c.call_sid = '$sid'"),
       "stream:start\@$t[2] stream:end\@$t[4]", 'each event once, at its own time';
};

subtest 'a final status is never replaced, a late one changes nothing' => sub {
    my $sid = 'CA' . '3' x 32;
    call(a => $sid, '+14155550123', '+15550100001', 'busy', $t[3]);
    call(a => $sid, '+14155550123', '+15550100001', 'completed', $t[4], 9);
    call(a => $sid, '+14155550123', '+15550100001', 'ringing', $t[1]);
    is row($sid), "busy|+14155550123|+15550100001|$t[1]||$t[3]|9", 'busy stays';
};

subtest 'an event first: the call is made, and filled by its webhook' => sub {
    my $sid = 'CA' . '4' x 32;
    event(a => $sid, 'stream:start', 'stream', $t[2]);
    is row($sid), "ringing|||$t[2]|||", 'a call with what is known';
    call(a => $sid, '+14155550124', '+15550100001', 'ringing', $t[0]);
    is row($sid), "ringing|+14155550124|+15550100001|$t[0]|||", 'filled';
};

subtest 'turns: each once, whatever the order' => sub {
    my $sid = 'CA' . '6' x 32;
    my @turns = ([1, 'agent', "Sure, 2 o'clock works."], [0, 'caller', 'Botox at 2 "tomorrow"?']);
    for (1 .. 2) {
        as_app(a => "SELECT voxanne_record_turn('$org{a}', '$sid', $_->[0], '$_->[1]', "
                    . quote($_->[2]) . ", '$t[3]')") for @turns;
    }
    is $pg->psql("SELECT string_agg(seq || ':' || role || ':' || text, '|' ORDER BY seq) FROM transcripts"
                 . " t JOIN calls c ON c.id = t.call_id WHERE c.call_sid = '$sid'"),
       qq{0:caller:Botox at 2 "tomorrow"?|1:agent:Sure, 2 o'clock works.}, 'two turns, in order';
    like app_error(b => "SELECT voxanne_record_turn('$org{b}', '$sid', 2, 'caller', 'x', '$t[4]')"),
         qr/row-level security/, "not into another tenant's call";
};

subtest 'tenant isolation' => sub {
    my $sid = 'CA' . '1' x 32;
    like app_error(b => sprintf "SELECT voxanne_record_call('%s', '%s', NULL, NULL, 'canceled', '%s', NULL)",
                   $org{b}, $sid, $t[9]),
         qr/row-level security/, "another tenant's call cannot be written";
    like app_error(b => "SELECT voxanne_record_event('$org{b}', '$sid', 'x', 'x', NULL, '$t[9]')"),
         qr/row-level security/, 'nor its events';
    like app_error(a => sprintf "SELECT voxanne_record_call('%s', '%s', NULL, NULL, 'ringing', '%s', NULL)",
                   $org{b}, 'CA' . '5' x 32, $t[9]),
         qr/row-level security/, 'nor a call for another tenant than the transaction\'s';
    is row($sid) =~ s/\|.*//r, 'completed', 'the call is unchanged';
    is $pg->psql(q{SELECT count(*) FROM calls WHERE call_sid = 'CA} . '5' x 32 . q{'}), 0, 'and nothing made';
};

done_testing;
