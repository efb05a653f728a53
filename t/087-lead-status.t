# A caller's lead status (sql/008_outcomes.sql): a contact is made for the
# caller of an answered call, new -> contacted -> booked or lost, from the
# outcomes of all its calls, the latest that booked, rescheduled or
# cancelled deciding; last_contacted_at is the end of its latest answered
# call.  The same whatever order the calls' writes land in.
use strict;
use warnings;

use Test::More;
use Voxanne::Test::Pg;
use Voxanne::Test::CallRows;

my $pg = Voxanne::Test::Pg->database;
my $org = '00000000-0000-4000-8000-00000000000a';

$pg->psql("INSERT INTO organizations (id, name) VALUES ('$org', 'Clinic A');");

my $rows = Voxanne::Test::CallRows->new($pg, $org);
my $true = JSON::PP::true;
my $n = 0;

# a call from $from that ended at $end, with its events
sub call_from {
    my ($from, $end, @events) = @_;
    my $sid = sprintf 'CA%032x', ++$n;
    $rows->call($sid, 'in-progress', '2026-11-22 09:00:00+00', from => $from);
    $rows->event($sid, @$_, '2026-11-22 09:00:01+00') for @events;
    $rows->call($sid, 'completed', $end, from => $from);
    return $sid;
}

sub said { my ($sid) = @_; $rows->turn($sid, 0, 'caller', 'hello', '2026-11-22 09:00:02+00') }

sub tool { ["tool:$_[0]", 'tool', { ok => $true, outcome => $_[0] }] }

my $a = '+14155550101';

my $sid = call_from($a, '2026-11-22 10:00:00+00');
is $rows->lead($a), 'new|2026-11-22 10:00:00+00', 'an abandoned first call: a new contact, contacted then';
is $pg->psql("SELECT c.phone FROM calls k JOIN contacts c ON c.id = k.contact_id WHERE k.call_sid = '$sid'"),
   $a, "the call points at its contact";

said(call_from($a, '2026-11-22 11:00:00+00'));
is $rows->lead($a), 'contacted|2026-11-22 11:00:00+00', 'a call where the caller spoke: contacted';

call_from($a, '2026-11-22 12:00:00+00', tool('booked'));
is $rows->lead($a), 'booked|2026-11-22 12:00:00+00', 'a booking: booked';

said(call_from($a, '2026-11-22 13:00:00+00'));
is $rows->lead($a), 'booked|2026-11-22 13:00:00+00', 'a later plain call: still booked';

call_from($a, '2026-11-22 14:00:00+00', tool('cancelled'));
is $rows->lead($a), 'lost|2026-11-22 14:00:00+00', 'a cancellation, nothing booked ahead: lost';

call_from($a, '2026-11-22 15:00:00+00', tool('rescheduled'));
is $rows->lead($a), 'booked|2026-11-22 15:00:00+00', 'a reschedule: booked again';

subtest 'a cancellation with an appointment still ahead stays booked' => sub {
    my $b = '+14155550102';
    call_from($b, '2026-11-22 10:00:00+00', tool('booked'));
    my $contact = $pg->psql("SELECT id FROM contacts WHERE phone = '$b'");
    $pg->psql("INSERT INTO services (id, org_id, name, price, duration_minutes) VALUES"
              . " ('00000000-0000-4000-8000-0000000000e1', '$org', 'Botox', 300, 30);"
              . "INSERT INTO appointments (org_id, contact_id, service_id, starts_at, ends_at) VALUES"
              . " ('$org', '$contact', '00000000-0000-4000-8000-0000000000e1',"
              . " now() + interval '2 days', now() + interval '2 days 30 minutes')");
    call_from($b, '2026-11-22 11:00:00+00', tool('cancelled'));
    is $rows->lead($b), 'booked|2026-11-22 11:00:00+00', 'booked: another appointment is ahead';
};

subtest 'the latest decisive call wins, whatever order the calls land in' => sub {
    for my $order ([0, 1], [1, 0]) {
        my $c = sprintf '+1415555%04d', 200 + $order->[0];
        my @calls = (['2026-11-22 10:00:00+00', tool('booked')], ['2026-11-22 11:00:00+00', tool('cancelled')]);
        call_from($c, $calls[$_][0], $calls[$_][1]) for @$order;
        is $rows->lead($c), 'lost|2026-11-22 11:00:00+00', "calls landing in order @$order: lost";
    }
};

subtest 'an existing contact and an unanswered call' => sub {
    my $d = '+14155550103';
    $pg->psql("INSERT INTO contacts (org_id, phone, name, lead_status) VALUES ('$org', '$d', 'Dana', 'contacted')");
    my $sid = sprintf 'CA%032x', ++$n;
    $rows->call($sid, 'ringing', '2026-11-22 10:00:00+00', from => $d);
    $rows->call($sid, 'busy', '2026-11-22 10:00:05+00', from => $d);
    is $rows->lead($d), 'contacted|-', 'a busy call changes nothing';
    call_from($d, '2026-11-22 11:00:00+00');
    is $rows->lead($d), 'contacted|2026-11-22 11:00:00+00', 'an abandoned call does not send it back to new';
    is $pg->psql("SELECT name FROM contacts WHERE phone = '$d'"), 'Dana', 'the contact is the existing one';
};

subtest 'last_contacted_at never moves back' => sub {
    my $e = '+14155550104';
    $pg->psql("INSERT INTO contacts (org_id, phone, last_contacted_at)"
              . " VALUES ('$org', '$e', '2026-11-22 12:30:00+00')");
    said(call_from($e, '2026-11-22 12:00:00+00'));
    is $rows->lead($e), 'contacted|2026-11-22 12:30:00+00', 'a booking tool set it later: kept';
};

subtest 'a caller who is not a phone number gets no contact' => sub {
    my $sid = sprintf 'CA%032x', ++$n;
    $rows->call($sid, 'in-progress', '2026-11-22 10:00:00+00', from => 'anonymous');
    $rows->call($sid, 'completed', '2026-11-22 10:01:00+00', from => 'anonymous');
    is $rows->outcome(call_sid => $sid), 'abandoned|-|-|-', 'an outcome';
    is $pg->psql("SELECT count(*) FROM contacts WHERE phone = 'anonymous'"), 0, 'no contact';
};

done_testing;
