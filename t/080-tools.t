use Test::Nginx::Socket 'no_plan';
use JSON::PP qw(encode_json decode_json);
use POSIX qw(strftime);
use Time::HiRes qw(sleep time);
use Voxanne::Test::Pg;
use Voxanne::Test::Http qw(http_start http_wait http_parallel);
use Voxanne::Test::Vapi qw(vapi_request vapi_message);

# The booking tools (ngx_http_voxanne_tools.c, sql/007_booking.sql) through
# Vapi's tool-calls: each tool's answers and refusals, what lands in the
# database, retries, and the database away or too slow.  nginx connects as
# a member of voxanne_app, under row-level security.  The tenant is open
# 09:00-17:00 UTC every day but one closed date; appointments are asked for
# on days after today, so the real clock never matters.

our $pg = Voxanne::Test::Pg->database;
our $org = '5b7c1d2e-0000-4000-8000-00000000000a';
our $role = "vx_tools_$$";

$pg->psql(<<"_SQL_");
INSERT INTO organizations (id, name, buffer_minutes) VALUES ('$org', 'Clinic A', 10);
SET app.org_id = '$org';
INSERT INTO services (org_id, name, price, duration_minutes, keywords)
VALUES ('$org', 'Botox', 300, 45, '{botox,wrinkles}'),
       ('$org', 'Consultation', 0, 30, '{consult}');
INSERT INTO contacts (org_id, phone, name) VALUES ('$org', '+14155550100', 'Jordan Rivera');
RESET app.org_id;
CREATE ROLE $role LOGIN IN ROLE voxanne_app;
_SQL_

my $owner = $$;
END { eval { $pg->psql("DROP OWNED BY $role; DROP ROLE $role") } if $pg && $$ == $owner }

# the days the blocks book on, as YYYY-MM-DD (UTC)
sub day { strftime('%Y-%m-%d', gmtime(time + $_[0] * 86400)) }
our $closed = day(4);

sub sql { $pg->psql("SET app.org_id = '$org'; $_[0]") }

# the results of one tool-calls webhook: calls are [name, {args}, id?]
our $n = 0;
sub tools {
    my ($port, $call, @calls) = @_;
    my $body = Voxanne::Test::Vapi::vapi_message('tool-calls', phoneNumber => { number => '+15550100001' },
                            call => { id => $call, customer => { number => '+14155550123' } },
                            toolCallList => [ map { {
                                id => $_->[2] // 'call_' . ++$n, type => 'function',
                                function => { name => $_->[0], arguments => ::encode_json($_->[1] // {}) },
                            } } @calls ]);
    my $res = http_wait(start($port, $body));
    die "tool-calls: $res->{code}: $res->{body}" unless ($res->{code} // 0) == 200;
    return @{ ::decode_json($res->{body})->{results} };
}

sub start {
    my ($port, $body) = @_;
    my ($request, $headers) = vapi_request(body => $body, auth => { secret => 'vapi-secret-1' });
    return http_start($port, $request, map { split /: /, $_, 2 } split /\n/, $headers);
}

# one tool: [ok, text]
sub tool {
    my ($port, $name, $args, %o) = @_;
    my ($r) = tools($port, $o{call} // 'vapi-call-1', [$name, $args, $o{id}]);
    return defined $r->{result} ? (1, $r->{result}) : (0, $r->{error});
}

add_block_preprocessor(sub {
    my ($block) = @_;
    my $db = $block->db // "$ENV{TEST_NGINX_PG_PORT} query_timeout=2s";
    my ($port, $opts) = split ' ', $db, 2;
    $block->set_value(http_config => <<"_EOC_");
    voxanne_db "conninfo=host=127.0.0.1 port=$port dbname=\$TEST_NGINX_PG_DB user=$role"
               connect_timeout=1s $opts;
    voxanne_tenant clinic-a {
        org_id                 $org;
        numbers                +15550100001;
        twilio_auth_token_file ../html/a.token;
        public_url             https://edge.example.com;
        timezone               UTC;
        hours                  mon-sun 09:00-17:00;
        closed                 $closed;
        vapi_auth              secret file=../html/vapi.secret;
    }
_EOC_
    $block->set_value(user_files => ">>> a.token\n12345\n>>> vapi.secret\nvapi-secret-1\n");
    $block->set_value(config => "    location = /vapi { voxanne_vapi; }\n    location = /ping { return 204; }\n");
    $block->set_value(request => "GET /ping") unless defined $block->request;
    $block->set_value(error_code => 204) unless defined $block->error_code;
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: list_services: names, durations and prices from the tenant's services
--- steps eval
sub {
    my ($ctx) = @_;
    my ($ok, $text) = ::tool($ctx->port, 'list_services');
    Test::More::ok $ok, 'a result';
    Test::More::is $text, 'We offer: Botox (45 minutes, 300.00 USD); Consultation (30 minutes, free).', 'the services';
}
--- no_error_log
[error]



=== TEST 2: check_availability: a day's open times, one time, by name or keyword, with the buffer after an appointment
--- steps eval
sub {
    my ($ctx) = @_;
    my $d = ::day(1);
    my ($ok, $text) = ::tool($ctx->port, 'check_availability', { service => 'botox', date => $d });
    Test::More::ok $ok, 'open times';
    Test::More::like $text, qr/^Open times for Botox \(45 minutes, 300\.00 USD\): \w+, \w+ \d+: 9:00 AM, 9:15 AM, 9:30 AM, /, 'from the opening';
    Test::More::is scalar(() = $text =~ /AM|PM/g), 8, 'eight of them';

    ($ok, $text) = ::tool($ctx->port, 'check_availability', { service => 'Wrinkles', date => $d, time => '16:15' });
    Test::More::ok $ok, 'by keyword';
    Test::More::like $text, qr/ at 4:15 PM is available for Botox/, '16:15 + 45 minutes closes at 17:00';

    ($ok, $text) = ::tool($ctx->port, 'check_availability', { service => 'Botox', date => $d, time => '16:30' });
    Test::More::ok !$ok, 'refused';
    Test::More::like $text, qr/^That is outside our opening hours\. The nearest open times are \w+, \w+ \d+ at 3:45 PM, 4:00 PM, 4:15 PM\.$/,
         '16:30 would end after closing';

    ::sql("INSERT INTO appointments (org_id, contact_id, service_id, starts_at, ends_at)"
          . " SELECT '$::org', c.id, s.id, '$d 12:00Z', '$d 12:45Z' FROM contacts c, services s"
          . " WHERE c.phone = '+14155550100' AND s.name = 'Botox'");
    ($ok, $text) = ::tool($ctx->port, 'check_availability', { service => 'Botox', date => $d, time => '12:45:00' });
    Test::More::ok !$ok, 'the buffer after 12:45 is taken';
    Test::More::like $text, qr/^That time is taken\. The nearest open times are \w+, \w+ \d+ at 1:00 PM, 1:15 PM, 1:30 PM\.$/,
         'the nearest after 12:55, none before: 11:15 would end at 12:00, its own buffer to 12:10';

    ($ok, $text) = ::tool($ctx->port, 'check_availability', { service => 'Botox', date => $d, end_date => ::day(2) });
    Test::More::ok $ok, 'a range';
    Test::More::is scalar(() = $text =~ /; /g), 1, 'two days';
    ::sql("DELETE FROM appointments");
}
--- no_error_log
[error]



=== TEST 3: check_availability refusals: closed day, past date, unknown service, malformed or missing arguments
--- steps eval
sub {
    my ($ctx) = @_;
    my @cases = (
        [{ service => 'Botox', date => $::closed }, qr/^No open times for Botox then\. The nearest open times are \w+, \w+ \d+ at 9:00 AM, 9:15 AM, 9:30 AM\.$/],
        [{ service => 'Botox', date => $::closed, time => '10:00' }, qr/^We are closed on \w+, \w+ \d+\. The nearest open times are /],
        [{ service => 'Botox', date => ::day(-2) }, qr/^That date has already passed\.$/],
        [{ service => 'Botox', date => ::day(-2), time => '10:00' }, qr/^That time has already passed\. The nearest open times are /],
        [{ service => 'Pedicure', date => ::day(1) }, qr/^We do not offer "Pedicure"\. We offer: Botox, Consultation\.$/],
        [{ service => 'Botox', date => 'tomorrow' }, qr/^"date" must be a date, YYYY-MM-DD\.$/],
        [{ service => 'Botox', date => '2026-02-30' }, qr/^"date" must be a date, YYYY-MM-DD\.$/],
        [{ service => 'Botox', date => ::day(1), time => '2pm' }, qr/^"time" must be a time of day, HH:MM \(24 hours\)\.$/],
        [{ service => 'Botox', date => ::day(1), end_date => ::day(30) }, qr/^Ask for up to two weeks at a time/],
        [{ service => "Bo\ntox", date => ::day(1) }, qr/^"service" must be one line of text\.$/],
        [{ service => 42, date => ::day(1) }, qr/^"service" must be a string\.$/],
        [{ date => ::day(1) }, qr/^check_availability needs "service"\.$/],
    );
    for my $c (@cases) {
        my ($ok, $text) = ::tool($ctx->port, 'check_availability', $c->[0]);
        Test::More::ok !$ok, 'refused: ' . ::encode_json($c->[0]);
        Test::More::like $text, $c->[1], '... saying why';
    }
}
--- no_error_log
[error]



=== TEST 4: book_appointment: the contact found or created by E.164, the appointment, and the call's tool event in one transaction
--- steps eval
sub {
    my ($ctx) = @_;
    my $d = ::day(2);
    my ($ok, $text) = ::tool($ctx->port, 'book_appointment',
                             { service => 'Botox', start => "${d}T14:00", name => 'Ann Lee',
                               phone => '+1 (415) 555-0199', email => 'ann@example.com' },
                             call => 'vapi-book-1', id => 'tc-book-1');
    Test::More::ok $ok, 'booked';
    Test::More::like $text, qr/^Booked: Botox for Ann Lee on \w+, \w+ \d+ at 2:00 PM \(45 minutes, 300\.00 USD\)\.$/, 'what was booked';
    Test::More::is ::sql("SELECT c.name || ' ' || c.phone || ' ' || c.email || ' ' || to_char(a.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"
             . " || ' ' || to_char(a.ends_at AT TIME ZONE 'UTC', 'HH24:MI') || ' ' || a.status || ' ' || k.channel || ' ' || k.vapi_call_id"
             . " FROM appointments a JOIN contacts c ON c.id = a.contact_id JOIN calls k ON k.id = a.call_id"),
       "Ann Lee +14155550199 ann\@example.com $d 14:00 14:45 booked vapi vapi-book-1", 'the row, the contact and the Vapi call';
    Test::More::is ::sql("SELECT from_number FROM calls WHERE vapi_call_id = 'vapi-book-1'"), '+14155550123',
       "the Vapi call's From: the caller's number";
    my $event = ::decode_json(::sql("SELECT payload FROM call_events WHERE event_key = 'tool:tc-book-1' AND type = 'tool'"));
    Test::More::is_deeply [ @$event{qw(name outcome)} ], ['book_appointment', 'booked'], 'the tool event';
    Test::More::ok $event->{ok} && $event->{value} == 300, '... ok, the price as its value';
    Test::More::is $event->{appointment_id}, ::sql("SELECT id FROM appointments"), '... with the appointment';
    Test::More::is $event->{service_id}, ::sql("SELECT id FROM services WHERE name = 'Botox'"), '... and the service';

    # the caller's own number, when the model gives none; an existing contact takes the name given
    ($ok, $text) = ::tool($ctx->port, 'book_appointment',
                          { service => 'consult', start => "$d 09:00:00", name => 'J. Rivera', phone => '' },
                          call => 'vapi-book-2');
    Test::More::ok $ok, 'booked for the caller';
    ($ok, $text) = ::tool($ctx->port, 'book_appointment',
                          { service => 'Consultation', start => "${d}T10:00", name => 'Jordan', phone => '+14155550100' },
                          call => 'vapi-book-2');
    Test::More::ok $ok, 'booked for a known contact';
    Test::More::like $text, qr/^Booked: Consultation for Jordan on /, 'under the name given now';
    Test::More::is ::sql("SELECT string_agg(c.phone || '=' || c.name, ',' ORDER BY c.phone) FROM contacts c"),
       '+14155550100=Jordan,+14155550123=J. Rivera,+14155550199=Ann Lee', 'one contact per number';
}
--- no_error_log
[error]



=== TEST 5: book_appointment refusals: taken, closed day, past time, outside hours, unknown service, bad phone and email, missing name; each records a failed tool event
--- steps eval
sub {
    my ($ctx) = @_;
    my $d = ::day(2);
    my %base = (service => 'Botox', start => "${d}T14:00", name => 'Bo');
    my @cases = (
        [{ %base, start => "${d}T14:30" }, qr/^That time is taken\. The nearest open times are \w+, \w+ \d+ at 3:00 PM, 3:15 PM, 3:30 PM\.$/],
        [{ %base, start => $::closed . "T10:00" }, qr/^We are closed on /],
        [{ %base, start => ::day(-1) . 'T10:00' }, qr/^That time has already passed\. /],
        [{ %base, start => "${d}T08:00" }, qr/^That is outside our opening hours\. The nearest open times are \w+, \w+ \d+ at 10:45 AM, 11:00 AM, 11:15 AM\.$/],
        [{ %base, service => 'Pedicure' }, qr/^We do not offer "Pedicure"\./],
        [{ %base, phone => '555-0199' }, qr/^"phone" must be a phone number in international format, like \+15551234567\.$/],
        [{ %base, phone => '+0123456789' }, qr/^"phone" must be a phone number/],
        [{ %base, email => 'ann at example' }, qr/^"email" must be an email address\.$/],
        [{ %base, start => "${d}T14:00+02:00" }, qr/^"start" must be a local date and time, YYYY-MM-DDTHH:MM\.$/],
        [{ %base, name => undef }, qr/^book_appointment needs "name"\.$/],
    );
    my $i = 0;
    my $before = ::sql("SELECT count(*) FROM appointments");
    for my $c (@cases) {
        my ($ok, $text) = ::tool($ctx->port, 'book_appointment', $c->[0], call => 'vapi-refused', id => 'tc-refused-' . ++$i);
        Test::More::ok !$ok, 'refused: ' . ::encode_json($c->[0]);
        Test::More::like $text, $c->[1], '... saying why';
    }
    Test::More::is ::sql("SELECT count(*) FROM appointments"), $before, 'nothing booked';
    Test::More::is ::sql("SELECT string_agg(event_key, ',' ORDER BY event_key) FROM call_events WHERE payload->>'ok' = 'false'"),
       'tool:tc-refused-1,tool:tc-refused-2,tool:tc-refused-3,tool:tc-refused-4,tool:tc-refused-5',
       'a failed tool event for each refusal made with the data (the argument checks never reach the database)';
}
--- no_error_log
[error]



=== TEST 6: a retried booking (same call and arguments) books once, whatever its tool call id; another call's identical booking is refused
--- steps eval
sub {
    my ($ctx) = @_;
    my $d = ::day(3);
    my %args = (service => 'Botox', start => "${d}T11:00", name => 'Retry Rita', phone => '+14155550177');
    my ($ok1, $first) = ::tool($ctx->port, 'book_appointment', \%args, call => 'vapi-retry', id => 'tc-retry-1');
    my ($ok2, $again) = ::tool($ctx->port, 'book_appointment', \%args, call => 'vapi-retry', id => 'tc-retry-1');
    my ($ok3, $newid) = ::tool($ctx->port, 'book_appointment', \%args, call => 'vapi-retry', id => 'tc-retry-2');
    Test::More::ok $ok1 && $ok2 && $ok3, 'each answer is a booking';
    Test::More::is $again, $first, 'the same answer';
    Test::More::is $newid, $first, 'the same answer under a new tool call id';
    Test::More::is ::sql("SELECT count(*) FROM appointments a JOIN contacts c ON c.id = a.contact_id WHERE c.phone = '+14155550177'"),
       1, 'one appointment';
    Test::More::is ::sql("SELECT count(*) FROM call_events WHERE payload->>'outcome' = 'booked' AND event_key LIKE 'tool:tc-retry-%'"),
       1, 'one booked event';
    my ($ok4, $other) = ::tool($ctx->port, 'book_appointment', \%args, call => 'vapi-other');
    Test::More::ok !$ok4, 'another call cannot book the same slot';
    Test::More::like $other, qr/^That time is taken\./, '... it is taken';
}
--- no_error_log
[error]



=== TEST 7: reschedule_appointment, find_customer, cancel_appointment by the caller's phone; schedule_callback
--- steps eval
sub {
    my ($ctx) = @_;
    my $d = ::day(5);
    my ($ok, $text) = ::tool($ctx->port, 'book_appointment',
                             { service => 'Botox', start => "${d}T09:00", name => 'Moe', phone => '+14155550111' });
    Test::More::ok $ok, 'booked';

    ($ok, $text) = ::tool($ctx->port, 'find_customer', { phone => '+14155550111' });
    Test::More::ok $ok, 'found';
    Test::More::like $text, qr/^Moe, \+14155550111\. Upcoming: Botox on \w+, \w+ \d+ at 9:00 AM\.$/, 'name and appointment';

    ($ok, $text) = ::tool($ctx->port, 'reschedule_appointment', { start => "${d}T15:30", phone => '+14155550111' },
                          call => 'vapi-moe', id => 'tc-moved');
    Test::More::ok $ok, 'rescheduled';
    Test::More::like $text, qr/^Rescheduled: Botox from \w+, \w+ \d+ at 9:00 AM to \w+, \w+ \d+ at 3:30 PM\.$/, 'from and to';
    Test::More::is ::sql("SELECT to_char(starts_at AT TIME ZONE 'UTC', 'HH24:MI') || '-' || to_char(blocked_until AT TIME ZONE 'UTC', 'HH24:MI')"
             . " FROM appointments a JOIN contacts c ON c.id = a.contact_id WHERE c.phone = '+14155550111'"),
       '15:30-16:25', 'moved, with its buffer';
    Test::More::is ::sql("SELECT payload->>'outcome' FROM call_events WHERE event_key = 'tool:tc-moved'"), 'rescheduled', 'the event';

    ($ok, $text) = ::tool($ctx->port, 'reschedule_appointment', { start => "${d}T16:30", phone => '+14155550111' });
    Test::More::ok !$ok, 'not past closing';
    ($ok, $text) = ::tool($ctx->port, 'reschedule_appointment', { start => "${d}T10:00", phone => '+14155550999' });
    Test::More::ok !$ok, 'no appointment for another number';
    Test::More::is $text, 'I found no upcoming appointment for that phone number.', '... said so';

    ($ok, $text) = ::tool($ctx->port, 'cancel_appointment', { phone => '+14155550111', date => ::day(6) });
    Test::More::ok !$ok, 'none on another day';
    ($ok, $text) = ::tool($ctx->port, 'cancel_appointment', { phone => '+14155550111', date => $d },
                          id => 'tc-cancelled');
    Test::More::ok $ok, 'cancelled';
    Test::More::like $text, qr/^Cancelled: Botox on \w+, \w+ \d+ at 3:30 PM\.$/, 'what was cancelled';
    Test::More::is ::sql("SELECT status FROM appointments a JOIN contacts c ON c.id = a.contact_id WHERE c.phone = '+14155550111'"),
       'cancelled', 'the row';
    Test::More::is ::sql("SELECT payload->>'outcome' FROM call_events WHERE event_key = 'tool:tc-cancelled'"), 'cancelled', 'the event';
    ($ok, $text) = ::tool($ctx->port, 'find_customer', { phone => '+14155550111' });
    Test::More::like $text, qr/^Moe, \+14155550111\. No upcoming appointments\.$/, 'nothing upcoming';

    # the caller's number, from the call
    ($ok, $text) = ::tool($ctx->port, 'schedule_callback', { when => 'tomorrow morning', reason => 'filler prices' },
                          call => 'vapi-cb', id => 'tc-callback');
    Test::More::ok $ok, 'callback noted';
    Test::More::is $text, 'Callback request noted: we will call +14155550123 tomorrow morning about filler prices.', 'to whom and when';
    Test::More::like ::sql("SELECT notes FROM contacts WHERE phone = '+14155550123'"),
         qr/Callback requested \d{4}-\d\d-\d\d \d\d:\d\d: tomorrow morning \(filler prices\)$/, 'a note on the contact';
    Test::More::is ::sql("SELECT (payload->>'outcome') || ' ' || (payload->>'reason') FROM call_events WHERE event_key = 'tool:tc-callback'"),
       'callback filler prices', 'the event';
    ($ok, $text) = ::tool($ctx->port, 'find_customer', { phone => '+4420' });
    Test::More::ok !$ok, 'a bad number is refused';
    ($ok, $text) = ::tool($ctx->port, 'find_customer', { phone => '+14155550222' });
    Test::More::is $text, 'No customer on file for +14155550222: a new caller.', 'an unknown number';
}
--- no_error_log
[error]



=== TEST 8: several calls in one webhook: answered in the calls' order, the synchronous ones with the ones that wait
--- steps eval
sub {
    my ($ctx) = @_;
    my @r = ::tools($ctx->port, 'vapi-mixed',
                    ['list_services', {}, 'a'], ['get_current_time', {}, 'b'],
                    ['find_customer', { phone => '+14155550100' }, 'c'], ['no_such_tool', {}, 'd'],
                    ['check_availability', { service => 'Botox' }, 'e']);
    Test::More::is CORE::join(',', map { $_->{toolCallId} } @r), 'a,b,c,d,e', 'in order';
    Test::More::like $r[0]{result}, qr/^We offer: /, 'services';
    Test::More::like $r[1]{result}, qr/^It is \w+day, /, 'the time';
    Test::More::like $r[2]{result}, qr/^Jordan, \+14155550100\./, 'the customer';
    Test::More::like $r[3]{error}, qr/no tool named no_such_tool/, 'an unknown tool';
    Test::More::like $r[4]{error}, qr/needs "date"/, 'a refusal';
}
--- no_error_log
[error]



=== TEST 9: the database down: one line the model can speak, the reason in the log
--- db eval: Test::Nginx::Socket::free_port() . ' query_timeout=2s'
--- steps eval
sub {
    my ($ctx) = @_;
    my ($ok, $text) = ::tool($ctx->port, 'list_services');
    Test::More::ok !$ok, 'an error';
    Test::More::is $text, "I can't reach the booking system right now; I can take a callback request.", 'said plainly';
}
--- error_log eval
qr/\[error\].*voxanne: tool "list_services": tenant "clinic-a": /



=== TEST 10: a query over the pool's query timeout: the same line, in time; the client answered, the worker fine
--- db eval: "$ENV{TEST_NGINX_PG_PORT} query_timeout=500ms"
--- steps eval
sub {
    my ($ctx) = @_;
    my $lock = $::pg->hold_lock('appointments', 3);
    my $t0 = Time::HiRes::time();
    my ($ok, $text) = ::tool($ctx->port, 'book_appointment',
                             { service => 'Botox', start => ::day(6) . 'T10:00', name => 'Slow', phone => '+14155550133' });
    my $took = Time::HiRes::time() - $t0;
    Test::More::ok !$ok, 'an error';
    Test::More::is $text, "I can't reach the booking system right now; I can take a callback request.", 'said plainly';
    Test::More::ok $took > 0.4 && $took < 2, "after the query timeout ($took s)";
    waitpid $lock, 0;
    ($ok, $text) = ::tool($ctx->port, 'list_services');
    Test::More::ok $ok, 'the pool works again';
}
--- error_log eval
qr/\[error\].*voxanne: tool "book_appointment": tenant "clinic-a": /



=== TEST 11: the client goes away while its booking waits: the request holds until the tool is done, the booking lands, nothing breaks
--- steps eval
sub {
    my ($ctx) = @_;
    my $lock = $::pg->hold_lock('appointments', 1.5);
    my $body = Voxanne::Test::Vapi::vapi_message('tool-calls', phoneNumber => { number => '+15550100001' }, call => { id => 'vapi-gone' },
                            toolCallList => [ { id => 'tc-gone', name => 'book_appointment',
                                                arguments => { service => 'Botox', start => ::day(6) . 'T13:00',
                                                               name => 'Gone', phone => '+14155550144' } },
                                              { id => 'tc-gone-2', name => 'list_services', arguments => {} } ]);
    my $h = ::start($ctx->port, $body);
    Time::HiRes::sleep(0.5);
    close $h->{sock};
    waitpid $lock, 0;
    my $until = Time::HiRes::time() + 3;
    Time::HiRes::sleep(0.1) until ::sql("SELECT count(*) FROM call_events WHERE event_key = 'tool:tc-gone'") || Time::HiRes::time() > $until;
    Test::More::is ::sql("SELECT count(*) FROM appointments a JOIN contacts c ON c.id = a.contact_id WHERE c.phone = '+14155550144'"),
       1, 'booked';
    my ($ok) = ::tool($ctx->port, 'list_services');
    Test::More::ok $ok, 'the next webhook is answered';
}
--- no_error_log
[error]
[alert]
