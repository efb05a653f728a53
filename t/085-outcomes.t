# A call's outcome (sql/008_outcomes.sql), derived when the call ends from
# the rows of what happened in it (the events of contracts.md, its turns,
# its end), for each outcome, on both channels.
use strict;
use warnings;

use Test::More;
use Voxanne::Test::Pg;
use Voxanne::Test::CallRows;

my $pg = Voxanne::Test::Pg->database;
my $org = '00000000-0000-4000-8000-00000000000a';

$pg->psql("INSERT INTO organizations (id, name) VALUES ('$org', 'Clinic A');"
          . "INSERT INTO services (id, org_id, name, price, duration_minutes) VALUES"
          . " ('00000000-0000-4000-8000-0000000000e1', '$org', 'Botox', 300, 30);");

my $rows = Voxanne::Test::CallRows->new($pg, $org);

my $n = 0;
my @t = map { "2026-11-22 10:00:0$_+00" } 0 .. 9;

# a new answered call; its events, then its end; what was derived
sub ended_call {
    my (@events) = @_;
    my $sid = sprintf 'CA%032x', ++$n;
    $rows->call($sid, 'in-progress', $t[0]);
    for my $e (@events) {
        if ($e->[0] eq 'turn') { $rows->turn($sid, @$e[1 .. 3], $t[1]) }
        else { $rows->event($sid, @$e, $t[2]) }
    }
    $rows->call($sid, 'completed', $t[5], duration => 5);
    return $rows->outcome(call_sid => $sid);
}

sub tool { my ($id, %p) = @_; return ["tool:$id", 'tool', { name => 'x', ok => JSON::PP::true, %p }] }

is ended_call(tool(1, outcome => 'booked', value => 150)), 'booked|-|-|150.00',
   'a booking: booked, the value its event gives';
is ended_call(tool(1, outcome => 'booked', service_id => '00000000-0000-4000-8000-0000000000e1')),
   'booked|-|-|300.00', 'a booking without a value: the price of its service';
is ended_call(tool(1, outcome => 'booked', value => 100), tool(2, outcome => 'booked', value => 50)),
   'booked|-|-|150.00', 'two bookings: the sum';
is ended_call(tool(1, outcome => 'rescheduled')), 'rescheduled|-|-|-', 'a reschedule';
is ended_call(tool(1, outcome => 'cancelled')), 'cancelled|-|-|-', 'a cancellation';
is ended_call(tool(1, outcome => 'booked', value => 90, ok => JSON::PP::false),
              ['turn', 0, 'caller', 'hello']),
   'resolved|-|-|-', 'a booking that failed books nothing';
is ended_call(['transfer', 'transfer', { to => '+15550109999', reason => 'asked for a human' }]),
   'transferred|+15550109999|asked for a human|-', 'a transfer: where to and why';
is ended_call(['transfer', 'transfer', { to => 'sip:desk@pbx.example.com', reason => 'x' x 300 }]),
   'transferred|sip:desk@pbx.example.com|' . 'x' x 200 . '|-', 'to a SIP URI; the reason capped at 200';
is ended_call(['transfer', 'transfer', { to => 'not a number' }]), 'transferred|-|-|-',
   'a transfer to something that is no number: transferred, no transfer_to';
is ended_call(tool(1, outcome => 'booked', value => 80), ['transfer', 'transfer', { to => '+15550109999' }]),
   'booked|+15550109999|-|80.00', 'booked, then transferred: booked, the transfer kept';
is ended_call(['recording:RE' . 'a' x 32 . ':completed', 'recording',
               { url => 'https://api.twilio.com/r', status => 'completed', duration => '12' }]),
   'voicemail|-|-|-', 'a recording with a length: voicemail';
is ended_call(['recording:RE' . 'a' x 32 . ':', 'recording', { url => 'https://x', status => '', duration => '7' }]),
   'voicemail|-|-|-', "the <Record> action's recording: voicemail";
is ended_call(['recording:RE' . 'a' x 32 . ':completed', 'recording', { status => 'completed', duration => '0' }]),
   'abandoned|-|-|-', 'an empty recording is no voicemail';
is ended_call(['stream:end', 'stream', { close => 1011, failed => JSON::PP::true }],
              ['turn', 0, 'caller', 'hello']),
   'failed|-|-|-', 'the media stream failed: failed';
is ended_call(['voice', 'webhook', { outcome => 'fallback' }]), 'failed|-|-|-',
   'the agent could not be reached (fallback): failed';
is ended_call(['end', 'end', { reason => 'goodbye' }]), 'resolved|-|-|-', 'the agent ended the call: resolved';
is ended_call(tool(1, outcome => 'callback')), 'resolved|-|-|-', 'a callback scheduled: resolved';
is ended_call(['turn', 0, 'agent', 'Hello'], ['turn', 1, 'caller', 'What are your hours?']),
   'resolved|-|-|-', 'the caller spoke: resolved';
is ended_call(['turn', 0, 'agent', 'Hello'], ['stream:end', 'stream', { close => 1000, failed => JSON::PP::false }]),
   'abandoned|-|-|-', 'the caller hung up without a word: abandoned';
is ended_call(), 'abandoned|-|-|-', 'nothing happened: abandoned';

subtest 'no outcome before the end, nor for an unanswered call' => sub {
    my $sid = sprintf 'CA%032x', ++$n;
    $rows->call($sid, 'in-progress', $t[0]);
    $rows->event($sid, @{ tool(1, outcome => 'booked', value => 10) }, $t[1]);
    is $rows->outcome(call_sid => $sid), '-|-|-|-', 'in progress: nothing yet';
    $rows->call($sid, 'completed', $t[3]);
    is $rows->outcome(call_sid => $sid), 'booked|-|-|10.00', 'ended: booked';

    $sid = sprintf 'CA%032x', ++$n;
    $rows->call($sid, 'ringing', $t[0], from => '+14155550999');
    $rows->call($sid, 'no-answer', $t[3], from => '+14155550999');
    is $rows->outcome(call_sid => $sid), '-|-|-|-', 'no-answer: the status says it, no outcome';
    is $rows->lead('+14155550999'), '', 'and no contact';
};

subtest 'Vapi calls: the status mapped, the ended reason, a forwarding' => sub {
    my $vapi = sub {
        my ($id, @messages) = @_;
        $rows->vapi_call($id, { from => '+14155550123', to => '+15550100001', %{ $_->[0] } }, $_->[1])
            for @messages;
        return $pg->psql("SELECT concat_ws('|', channel, status, coalesce(ended_reason, '-'))"
                         . " FROM calls WHERE vapi_call_id = '$id'") . ' ' . $rows->outcome(vapi_call_id => $id);
    };
    is $vapi->('v-1', [{ status => 'in-progress' }, $t[0]],
               [{ status => 'forwarding', transfer_to => '+15550109999', transfer_reason => 'wants a human' }, $t[1]],
               [{ status => 'ended', ended_reason => 'assistant-forwarded-call' }, $t[4]]),
       'vapi|completed|assistant-forwarded-call transferred|+15550109999|wants a human|-',
       'forwarding, then ended: transferred';
    is $vapi->('v-2', [{ status => 'ended', ended_reason => 'assistant-forwarded-call' }, $t[4]]),
       'vapi|completed|assistant-forwarded-call transferred|-|-|-',
       'forwarded by Vapi without its destination: transferred';
    is $vapi->('v-3', [{ status => 'ended', ended_reason => 'pipeline-error-openai-llm-failed' }, $t[4]]),
       'vapi|completed|pipeline-error-openai-llm-failed failed|-|-|-', 'a pipeline error: failed';
    is $vapi->('v-4', [{ status => 'ended', ended_reason => 'assistant-ended-call' }, $t[4]]),
       'vapi|completed|assistant-ended-call resolved|-|-|-', 'the assistant ended it: resolved';
    is $vapi->('v-5', [{ status => 'ended', ended_reason => 'customer-busy' }, $t[4]]),
       'vapi|busy|customer-busy -|-|-|-', 'busy: the status, no outcome';
    is $vapi->('v-6', [{ status => 'ended', ended_reason => 'customer-did-not-answer' }, $t[4]]),
       'vapi|no-answer|customer-did-not-answer -|-|-|-', 'no answer: the status, no outcome';
    $pg->psql("INSERT INTO organizations (id, name) VALUES ('00000000-0000-4000-8000-00000000000b', 'B');"
              . "INSERT INTO calls (org_id, call_sid, from_number, to_number, direction, status) VALUES"
              . " ('00000000-0000-4000-8000-00000000000b', 'CA" . 'b' x 32 . "', '', '', 'inbound', 'ringing')");
    is $vapi->('v-8', [{ status => 'in-progress', sid => 'CA' . 'b' x 32 }, $t[0]]),
       'vapi|in-progress|- -|-|-|-', "another tenant's CallSid: the call is written without it";
    is $pg->psql("SELECT coalesce(call_sid, '-') FROM calls WHERE vapi_call_id = 'v-8'"), '-', '... left out';
    is $vapi->('v-7', [{ status => 'ringing' }, $t[0]], [{ status => 'ended', ended_reason => 'customer-ended-call' }, $t[3]],
               [{ status => 'in-progress' }, $t[1]]),
       'vapi|completed|customer-ended-call abandoned|-|-|-', 'a late in-progress does not undo the end';
};

done_testing;
