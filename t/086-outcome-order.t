# A call's outcome is the same whatever order its writes land in and
# however often they are replayed (sql/008_outcomes.sql): the writes of
# one call, shuffled, some twice, give what they give in order; an event
# that lands after the end is taken in.
use strict;
use warnings;

use List::Util qw(shuffle);
use POSIX ();
use Test::More;
use Voxanne::Test::Pg;
use Voxanne::Test::CallRows;

my $pg = Voxanne::Test::Pg->database;
my $org = '00000000-0000-4000-8000-00000000000a';

$pg->psql("INSERT INTO organizations (id, name) VALUES ('$org', 'Clinic A');"
          . "INSERT INTO services (org_id, name, price, duration_minutes, keywords) VALUES"
          . " ('$org', 'Botox', 300, 30, '{botox}');");

my $rows = Voxanne::Test::CallRows->new($pg, $org);
my @t = map { "2026-11-22 10:00:0$_+00" } 0 .. 9;
my $true = JSON::PP::true;

# the writes of one call, each a sub of its CallSid
sub writes {
    my (@events) = @_;
    return (
        sub { $rows->call($_[0], 'ringing', $t[0]) },
        sub { $rows->call($_[0], 'in-progress', $t[1]) },
        sub { $rows->turn($_[0], 0, 'agent', 'Hello', $t[1]) },
        sub { $rows->turn($_[0], 1, 'caller', 'Botox tomorrow please', $t[2]) },
        (map { my $e = $_; sub { $rows->event($_[0], @$e, $t[3]) } } @events),
        sub { $rows->call($_[0], 'completed', $t[6], duration => 6) },
    );
}

sub result {
    my ($sid) = @_;
    return $rows->outcome(call_sid => $sid) . ' ' . $pg->psql("SELECT concat_ws('|', status, ended_at,"
        . " duration_seconds, contact_id IS NOT NULL) FROM calls WHERE call_sid = '$sid'");
}

my %cases = (
    booked => [['tool:1', 'tool', { name => 'book_appointment', ok => $true, outcome => 'booked', value => 120 }],
               ['transfer', 'transfer', { to => '+15550109999', reason => 'after booking' }]],
    cancelled => [['tool:1', 'tool', { name => 'cancel_appointment', ok => $true, outcome => 'cancelled' }],
                  ['end', 'end', { reason => 'done' }]],
    transferred => [['transfer', 'transfer', { to => '+15550109999', reason => 'a human' }],
                    ['stream:end', 'stream', { close => 1000, failed => JSON::PP::false }]],
    resolved => [],
);

my $n = 0;

for my $case (sort keys %cases) {
    my @w = writes(@{ $cases{$case} });

    my $first = sprintf 'CA%032x', ++$n;
    $_->($first) for @w;
    my $want = result($first);
    like $want, qr/^\Q$case\E\|/, "$case: in order";

    srand 7;
    for my $round (1 .. 4) {
        my $sid = sprintf 'CA%032x', ++$n;
        # shuffled, and some written again (a replay) anywhere after
        my @order = shuffle(@w);
        push @order, (shuffle(@w))[0 .. 2];
        @order = shuffle(@order);
        $_->($sid) for @order;
        is result($sid), $want, "$case: shuffled and replayed ($round)";
    }

    my $sid = sprintf 'CA%032x', ++$n;
    $_->($sid) for reverse @w;
    is result($sid), $want, "$case: in reverse, the end first";
}

subtest 'an event landing after the end (a late replay) changes the outcome' => sub {
    my $sid = sprintf 'CA%032x', ++$n;
    $rows->call($sid, 'in-progress', $t[0]);
    $rows->call($sid, 'completed', $t[5]);
    is $rows->outcome(call_sid => $sid), 'abandoned|-|-|-', 'ended with nothing: abandoned';
    $rows->turn($sid, 0, 'caller', 'I would like botox', $t[1]);
    is $rows->outcome(call_sid => $sid), 'resolved|-|-|300.00', 'a late turn: resolved, its keyword value';
    $rows->event($sid, 'tool:9', 'tool', { ok => $true, outcome => 'booked', value => 250 }, $t[2]);
    is $rows->outcome(call_sid => $sid), 'booked|-|-|250.00', 'a late booking: booked';
    $rows->event($sid, 'tool:9', 'tool', { ok => $true, outcome => 'cancelled' }, $t[3]);
    is $rows->outcome(call_sid => $sid), 'booked|-|-|250.00', 'the same event key again: left as it was';
};

subtest 'the writes of one ended call landing at the same time, on separate connections' => sub {
    for my $round (1 .. 3) {
        my $sid = sprintf 'CA%032x', ++$n;
        $rows->call($sid, 'in-progress', $t[0]);
        $rows->call($sid, 'completed', $t[6]);
        my @w = (
            sub { $rows->event($sid, 'tool:1', 'tool', { ok => $true, outcome => 'booked', value => 70 }, $t[2]) },
            sub { $rows->event($sid, 'tool:2', 'tool', { ok => $true, outcome => 'booked', value => 30 }, $t[3]) },
            sub { $rows->event($sid, 'transfer', 'transfer', { to => '+15550109999' }, $t[4]) },
            sub { $rows->turn($sid, 0, 'caller', 'botox', $t[1]) },
            sub { $rows->event($sid, 'end', 'end', {}, $t[5]) },
        );
        my @pids = map { my $w = $_; my $pid = fork // die "fork: $!"; if (!$pid) { $w->(); POSIX::_exit(0) } $pid } @w;
        waitpid $_, 0 for @pids;
        is $rows->outcome(call_sid => $sid), 'booked|+15550109999|-|100.00', "round $round: every write counted";
    }
};

done_testing;
