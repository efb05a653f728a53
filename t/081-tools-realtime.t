use Test::Nginx::Socket 'no_plan';
use JSON::PP qw(encode_json decode_json);
use POSIX qw(strftime);
use Time::HiRes qw(sleep time);
use Voxanne::Test::Pg;
use Voxanne::Test::Http qw(http_start);
use Voxanne::Test::Vapi qw(vapi_request vapi_message);
use Voxanne::Test::WebSocket;
use Voxanne::Test::Media;
use Voxanne::Test::Realtime qw(ulaw_tone ulaw_silence);

# Bookings through the realtime bridge (a simulated call whose agent, the
# mock, calls book_appointment) and the double-booking race: many bookings
# of one slot at once, through Vapi's tool-calls and through a call's
# bridge together, exactly one of them wins and the others are offered the
# nearest open times.

our $pg = Voxanne::Test::Pg->database;
our $org = '5b7c1d2e-0000-4000-8000-00000000000a';
our $role = "vx_tools_rt_$$";

$pg->psql(<<"_SQL_");
INSERT INTO organizations (id, name, buffer_minutes) VALUES ('$org', 'Clinic A', 10);
SET app.org_id = '$org';
INSERT INTO services (org_id, name, price, duration_minutes) VALUES ('$org', 'Botox', 300, 45);
RESET app.org_id;
CREATE ROLE $role LOGIN IN ROLE voxanne_app;
_SQL_

my $owner = $$;
END { eval { $pg->psql("DROP OWNED BY $role; DROP ROLE $role") } if $pg && $$ == $owner }

sub day { strftime('%Y-%m-%d', gmtime(time + $_[0] * 86400)) }
sub sql { $pg->psql("SET app.org_id = '$org'; $_[0]") }

# the agent: when the caller says "book", it books Botox at 14:00 (day 2)
# or at 10:00 (day 3), for the caller's own number
our $full = Voxanne::Test::Realtime->start(args => [
    '--reply-ms', '80', '--burst', '--transcript', 'I would like to book botox',
    '--tool', 'book=book_appointment ' . encode_json({ service => 'Botox', start => day(2) . 'T14:00',
                                                       name => 'Carl Caller' })]);
our $racer = Voxanne::Test::Realtime->start(args => [
    '--reply-ms', '80', '--burst', '--transcript', 'book botox please',
    '--tool', 'book=book_appointment ' . encode_json({ service => 'Botox', start => day(3) . 'T10:00',
                                                       name => 'Bridge Betty' })]);

our %mocks = (full => $full, racer => $racer);

# n Vapi bookings of day 3 at 10:00, each from a call and number of its own
sub vapi_bookings {
    my ($port, $n) = @_;
    my @h;
    for my $i (1 .. $n) {
        my $body = vapi_message('tool-calls', phoneNumber => { number => '+15550100001' },
                                call => { id => "vapi-race-$i" },
                                toolCallList => [ { id => "tc-race-$i", name => 'book_appointment',
                                                    arguments => { service => 'Botox', start => day(3) . 'T10:00',
                                                                   name => "Racer $i",
                                                                   phone => sprintf('+1415555%04d', 2000 + $i) } } ]);
        my ($request, $headers) = vapi_request(body => $body, auth => { secret => 'vapi-secret-1' });
        push @h, http_start($port, $request, map { split /: /, $_, 2 } split /\n/, $headers);
    }
    return @h;
}

sub vapi_results {
    my @texts;
    for my $res (Voxanne::Test::Http::http_wait_all(\@_, 10)) {
        die "tool-calls: " . ($res->{code} // 'no answer') unless ($res->{code} // 0) == 200;
        my ($r) = @{ decode_json($res->{body})->{results} };
        push @texts, $r->{result} // "refused: $r->{error}";
    }
    return @texts;
}

add_block_preprocessor(sub {
    my ($block) = @_;
    my $mock = $block->mock or return;
    my $tenant = ::tenant(hours => 'mon-sun 09:00-17:00', tools => $block->tools // 'book_appointment check_availability',
                          vapi_auth => 'secret file=../html/vapi.secret', vad => 'silence=200ms');
    $block->set_value(http_config => <<"_EOC_");
    voxanne_db "conninfo=host=127.0.0.1 port=\$TEST_NGINX_PG_PORT dbname=\$TEST_NGINX_PG_DB user=$role"
               pool=16 connect_timeout=1s query_timeout=5s;
$tenant
_EOC_
    $block->set_value(user_files => $::files . ">>> vapi.secret\nvapi-secret-1\n");
    my $url = $::mocks{$mock}->url;
    $block->set_value(config => <<"_EOC_");
    location = /twilio/voice { voxanne_twilio voice; }
    location /twilio/media/ {
        voxanne_media_stream;
        voxanne_realtime_url $url;
    }
    location = /vapi { voxanne_vapi; }
_EOC_
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a whole call books through the realtime bridge: the agent's function call, the row for the caller's number, the call's tool event
--- mock: full
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(),
  { expect => { json => { event => 'mark', mark => { name => '1:80' } } } },
  ::say(::ulaw_tone(300) . ::ulaw_silence(400), 1),
  { run => sub {
        my ($output, $call) = $::full->function_output;
        die "output: $output->{item}{output}"
            unless $output->{item}{output} =~ /^Booked: Botox for Carl Caller on \w+, \w+ \d+ at 2:00 PM \(45 minutes, 300\.00 USD\)\.$/;
        my $row = ::sql("SELECT k.call_sid || ' ' || c.phone || ' ' || c.name || ' '"
                        . " || to_char(a.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') || ' ' || a.status"
                        . " FROM appointments a JOIN contacts c ON c.id = a.contact_id JOIN calls k ON k.id = a.call_id");
        die "row: $row" unless $row eq "$::SID +14155550123 Carl Caller " . ::day(2) . " 14:00 booked";
        my $event = ::sql("SELECT payload->>'outcome' FROM call_events e JOIN calls k ON k.id = e.call_id"
                          . " WHERE k.call_sid = '$::SID' AND e.event_key = 'tool:$call->{call_id}'");
        die "event: $event" unless $event eq 'booked';
    } },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/realtime: call $::SID: function call "book_appointment"/ ]
--- no_error_log
[error]



=== TEST 2: the race through Vapi: twelve bookings of one slot at once, exactly one wins, the others get the nearest open times
--- mock: full
--- request
GET /twilio/voice
--- error_code: 405
--- steps eval
sub {
    my ($ctx) = @_;
    my @texts = ::vapi_results(::vapi_bookings($ctx->port, 12));
    my @won = grep { /^Booked: / } @texts;
    Test::More::is scalar(@won), 1, 'one booking';
    Test::More::like $won[0], qr/^Booked: Botox for Racer \d+ on \w+, \w+ \d+ at 10:00 AM/, '... of the slot';
    Test::More::is scalar(grep { /^refused: That time (was just taken|is taken)\. The nearest open times are \w+, \w+ \d+ at 9:00 AM, 11:00 AM, 11:15 AM\.$/ } @texts),
        11, 'the others are offered the nearest times';
    Test::More::is ::sql("SELECT count(*) FROM appointments WHERE status = 'booked' AND starts_at = '" . ::day(3) . " 10:00Z'"), 1, 'one row in the slot';
    Test::More::is ::sql("SELECT count(*) || ' ' || count(*) FILTER (WHERE payload->>'ok' = 'false')"
                         . " FROM call_events WHERE event_key LIKE 'tool:tc-race-%'"),
        '12 11', 'a tool event each, one booked';
    ::sql("DELETE FROM call_events; DELETE FROM appointments");
}
--- no_error_log
[error]



=== TEST 3: the race through both channels: a call's agent and eight Vapi calls book one slot at once; exactly one wins
--- mock: racer
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(),
  { expect => { json => { event => 'mark', mark => { name => '1:80' } } } },
  { run => sub {
        # every booking waits on the table until they all run at once
        my ($ctx) = @_;
        $::lock = $::pg->hold_lock('appointments', 3);
        $::pending = [ ::vapi_bookings($ctx->port, 8) ];
    } },
  ::say(::ulaw_tone(300) . ::ulaw_silence(400), 1),
  { run => sub {
        $::racer->wait_log(sub { $::racer->conn_log(dir => 'out', type => 'response.function_call_arguments.done') }, 5)
            or die "no function call";
        my ($waiting, $until) = (0, Time::HiRes::time() + 2.5);
        while ($waiting < 9 && Time::HiRes::time() < $until) {
            Time::HiRes::sleep(0.05);
            $waiting = $::pg->psql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                   . " AND wait_event_type = 'Lock'");
        }
        die "$waiting bookings wait on the lock" unless $waiting == 9;
        waitpid $::lock, 0;
    } },
  { run => sub {
        my ($output) = $::racer->function_output;
        my @texts = (::vapi_results(@$::pending), $output->{item}{output});
        my @won = grep { /^Booked: / } @texts;
        die "winners: @won" unless @won == 1;
        die "losers: @texts" unless 8 == grep { /That time (was just taken|is taken)\. The nearest open times are / } @texts;
        my $rows = ::sql("SELECT count(*) FROM appointments WHERE status = 'booked' AND starts_at = '" . ::day(3) . " 10:00Z'");
        die "rows: $rows" unless $rows == 1;
    } },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- no_error_log
[error]



=== TEST 4: every tool's JSON schema reaches the session, in the table's order
--- mock: full
--- tools: get_current_time end_call transfer_to_human check_availability book_appointment reschedule_appointment cancel_appointment find_customer list_services schedule_callback
--- media eval: {}
--- ws_send eval
[ ::connected(), ::start(),
  { expect => { json => { event => 'mark', mark => { name => '1:80' } } } },
  { run => sub {
        my ($update) = $::full->conn_log(dir => 'in', type => 'session.update');
        my @tools = @{ $update->{session}{tools} // [] };
        my $names = CORE::join ' ', map { $_->{name} } @tools;
        die "tools: $names" unless $names eq 'get_current_time end_call transfer_to_human check_availability'
            . ' book_appointment reschedule_appointment cancel_appointment find_customer list_services schedule_callback';
        my %p = map { $_->{name} => $_->{parameters} } @tools;
        for my $t (@tools) {
            die "$t->{name}: not a function" unless $t->{type} eq 'function' && length $t->{description};
            die "$t->{name}: parameters" unless $t->{parameters}{type} eq 'object'
                && ref $t->{parameters}{properties} eq 'HASH';
        }
        my %required = (check_availability => 'service date', book_appointment => 'service start name',
                        reschedule_appointment => 'start', schedule_callback => 'when reason');
        for my $name (sort keys %required) {
            my $got = CORE::join ' ', @{ $p{$name}{required} // [] };
            die "$name requires: $got" unless $got eq $required{$name};
        }
        my $props = CORE::join ' ', sort keys %{ $p{book_appointment}{properties} };
        die "book_appointment: $props" unless $props eq 'email name phone service start';
        die "the mock refused something" if $::full->conn_log(dir => 'out', type => 'error');
    } },
  ::stop() ]
--- ws_close_code: 1000
--- ws_skip_unmatched
--- no_error_log
[error]
