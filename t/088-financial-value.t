# A call's financial_value (sql/008_outcomes.sql): the booked services'
# prices; when nothing was booked, the price of the dearest active service
# one of whose keywords the caller said (whole words, whatever the case and
# punctuation); the agent's words do not count.
use strict;
use warnings;

use Test::More;
use Voxanne::Test::Pg;
use Voxanne::Test::CallRows;

my $pg = Voxanne::Test::Pg->database;
my $org = '00000000-0000-4000-8000-00000000000a';
my $other = '00000000-0000-4000-8000-00000000000b';

$pg->psql("INSERT INTO organizations (id, name) VALUES ('$org', 'Clinic A'), ('$other', 'Clinic B');"
          . "INSERT INTO services (org_id, name, price, duration_minutes, keywords, active) VALUES"
          . " ('$org', 'Botox', 300, 30, '{botox,\"anti wrinkle\"}', true),"
          . " ('$org', 'Dermal Filler', 450.50, 45, '{\"dermal filler\",filler}', true),"
          . " ('$org', 'Laser', 900, 60, '{laser}', false),"
          . " ('$org', 'Consultation', 0, 15, '{consultation}', true),"
          . " ('$other', 'Peel', 5000, 30, '{peel}', true);");

my $rows = Voxanne::Test::CallRows->new($pg, $org);
my $n = 0;

sub value {
    my (@turns) = @_;
    my $sid = sprintf 'CA%032x', ++$n;
    $rows->call($sid, 'in-progress', '2026-11-22 10:00:00+00');
    my $seq = 0;
    for my $turn (@turns) {
        if (ref $turn) { $rows->event($sid, @$turn, '2026-11-22 10:00:02+00'); next }
        my ($role, $text) = split /:/, $turn, 2;
        $rows->turn($sid, $seq++, $role, $text, '2026-11-22 10:00:01+00');
    }
    $rows->call($sid, 'completed', '2026-11-22 10:05:00+00');
    return (split /\|/, $rows->outcome(call_sid => $sid))[3];
}

is value('caller:I would like BOTOX tomorrow.'), '300.00', 'a keyword, whatever its case';
is value('caller:Something anti-wrinkle, please'), '300.00', 'a two-word keyword across a dash';
is value('caller:Botox or maybe a dermal filler?'), '450.50', 'two services: the dearest';
is value('caller:Do you do laser?'), '-', 'an inactive service is not offered';
is value('caller:Do you do peels? A peel?'), '-', "another tenant's service never counts";
is value('caller:botoxes are great'), '-', 'a keyword inside a longer word does not match';
is value('agent:We offer botox and dermal filler.', 'caller:What are your hours?'), '-',
   "the agent's words do not count";
is value('caller:a consultation'), '0.00', 'a free service: 0';
is value('caller:hello'), '-', 'no keyword: no value';
is value('caller:botox please',
         ['tool:1', 'tool', { ok => JSON::PP::true, outcome => 'booked', value => 120 }]),
   '120.00', 'a booking: its value, not the keywords';
is value('caller:filler please',
         ['tool:1', 'tool', { ok => JSON::PP::true, outcome => 'cancelled' }]),
   '450.50', 'a cancellation books nothing: the keywords';

done_testing;
