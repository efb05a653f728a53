use Test::Nginx::Socket 'no_plan';
use Voxanne::Test::Pg;
use Voxanne::Test::Http qw(http);
use Voxanne::Test::Store qw(gateway_role store_http_config eventually metric);
use Voxanne::Test::Vapi qw(vapi_send);

# Vapi's status updates land in PostgreSQL (sql/008_outcomes.sql): the
# call, channel vapi, its status mapped onto Twilio's, a forwarding as a
# transfer event, and what the call achieved once it ends; a message with
# an invalid call id is a 400, and neither it nor a web call, a message
# without a call id or an unauthenticated one writes anything.

our $pg = Voxanne::Test::Pg->database;
our $org = '5b7c1d2e-0000-4000-8000-00000000000a';

$pg->psql("INSERT INTO organizations (id, name) VALUES ('$org', 'Clinic A')");

our $role = gateway_role($pg);

# each call its own caller and CallSid: the blocks share the database
sub n { my ($id) = @_; $id =~ /(\d+)$/ ? $1 : 0 }

sub call { { id => $_[0], type => 'inboundPhoneCall', phoneCallProviderId => sprintf('CA%032x', n($_[0])) } }

sub update {
    my ($port, $id, $status, @more) = @_;
    return vapi_send($port, 'status-update', status => $status, call => call($id),
                     phoneNumber => { number => '+15550100001' },
                     customer => { number => sprintf('+1415555%04d', n($id)) }, @more);
}

sub row {
    my ($id) = @_;
    return "SELECT concat_ws('|', channel, coalesce(call_sid, '-'), from_number, to_number, status,"
           . " answered_at IS NOT NULL, ended_at IS NOT NULL, coalesce(ended_reason, '-'),"
           . " coalesce(outcome, '-'), coalesce(transfer_to, '-'), coalesce(transfer_reason, '-'))"
           . " FROM calls WHERE vapi_call_id = '$id' AND org_id = '$org'";
}

sub a_call {
    my ($ctx) = @_;
    my $port = $ctx->port;
    is(update($port, 'vapi-call-1', 'ringing')->{code}, 200, 'ringing');
    is(update($port, 'vapi-call-1', 'in-progress')->{code}, 200, 'in-progress');
    eventually($pg, row('vapi-call-1'), 'vapi|CA' . '0' x 31 . '1|+14155550001|+15550100001|in-progress|t|f|-|-|-|-',
               'in progress: the numbers, the CallSid Vapi reports, answered');
    is(update($port, 'vapi-call-1', 'ended', endedReason => 'customer-ended-call')->{code}, 200, 'ended');
    eventually($pg, row('vapi-call-1'),
               'vapi|CA' . '0' x 31 . '1|+14155550001|+15550100001|completed|t|t|customer-ended-call|abandoned|-|-',
               'ended: completed, the reason, an outcome (nothing said: abandoned)');
    is(update($port, 'vapi-call-1', 'in-progress')->{code}, 200, 'a late in-progress');
    is(update($port, 'vapi-call-1', 'ringing')->{code}, 200, 'and ringing, replayed');
    eventually($pg, "SELECT status || '|' || count(*) OVER () FROM calls WHERE vapi_call_id = 'vapi-call-1'",
               'completed|1', 'still one call, completed');
    is($pg->psql("SELECT lead_status FROM contacts WHERE phone = '+14155550001' AND org_id = '$org'"), 'new',
       'the caller is a contact');
    is(metric($port, 'written'), 5, 'five writes');
}

sub forwarding {
    my ($ctx) = @_;
    my $port = $ctx->port;
    update($port, 'vapi-call-2', 'in-progress');
    is(update($port, 'vapi-call-2', 'forwarding',
              destination => { type => 'number', number => '+15550109999', description => 'asked for a human' })
       ->{code}, 200, 'forwarding');
    eventually($pg, "SELECT e.type || ' ' || e.payload::text FROM call_events e JOIN calls c ON c.id = e.call_id"
               . " WHERE c.vapi_call_id = 'vapi-call-2'",
               'transfer {"to": "+15550109999", "reason": "asked for a human"}', 'a transfer event');
    update($port, 'vapi-call-2', 'ended', endedReason => 'assistant-forwarded-call');
    eventually($pg, row('vapi-call-2'),
               'vapi|CA' . '0' x 31 . '2|+14155550002|+15550100001|completed|t|t|assistant-forwarded-call'
               . '|transferred|+15550109999'
               . '|asked for a human', 'ended: transferred, where to and why');

    update($port, 'vapi-call-3', 'ended', endedReason => 'customer-busy');
    eventually($pg, row('vapi-call-3'), 'vapi|CA' . '0' x 31 . '3|+14155550003|+15550100001|busy|f|t|customer-busy|-|-|-',
               'a busy call: status busy, no outcome');
}

sub refused {
    my ($ctx) = @_;
    my $port = $ctx->port;
    my $res = update($port, 'bad id!', 'ended');
    is($res->{code}, 400, 'an invalid call id: 400');
    is($res->{body}, qq{{"error":"invalid call id"}\n}, '... saying so');
    is(update($port, 'x' x 65, 'ended')->{code}, 400, 'a call id over 64 bytes: 400');
    is(vapi_send($port, 'status-update', status => 'ended', phoneNumber => { number => '+15550100001' },
                 call => { id => 'web-1', type => 'webCall' })->{code}, 200, 'a web call: 200');
    is(vapi_send($port, 'status-update', status => 'ended', phoneNumber => { number => '+15550100001' })->{code},
       200, 'no call id: 200');
    is(http($port, "POST /vapi\n" . '{"message":{"type":"status-update","call":{"id":"c-9"}}}')->{code}, 415,
       'no content type: 415');
    my $bad = Voxanne::Test::Http::http_wait(Voxanne::Test::Http::http_start($port,
        "POST /vapi\n{\"message\":{\"type\":\"status-update\",\"call\":{\"id\":\"c-9\"},"
        . "\"phoneNumber\":{\"number\":\"+15550100001\"}}}",
        'Content-Type' => 'application/json', 'X-Vapi-Secret' => 'wrong'), 5);
    is($bad->{code}, 401, 'a wrong secret: 401');
    sleep 0.3;
    is($pg->psql("SELECT count(*) FROM calls WHERE vapi_call_id IN ('c-9', 'web-1', 'bad id!')"), 0,
       'nothing written');
    is(metric($port, 'written'), 0, 'no write made');
}

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value(http_config => store_http_config(
        db => $ENV{TEST_NGINX_PG_PORT}, role => $role, org => $org,
        tenant => "        vapi_auth secret file=../html/vapi.secret;\n"));
    $block->set_value(user_files => ">>> a.token\n12345\n>>> vapi.secret\nvapi-secret-1\n");
    $block->set_value(config => <<'_EOC_');
    location = /vapi { voxanne_vapi; }
    location = /metrics { voxanne_metrics; }
_EOC_
});

run_tests();

__DATA__

=== TEST 1: a call's status updates, in order and not, land as one call; ended, it has an outcome
--- steps eval: \&::a_call
--- no_error_log
[error]
[alert]



=== TEST 2: a forwarding is a transfer event, and the ended call is transferred; a busy call has no outcome
--- steps eval: \&::forwarding
--- no_error_log
[error]
[alert]



=== TEST 3: malformed, web, id-less and unauthenticated updates write nothing
--- steps eval: \&::refused
--- error_log
vapi status-update: tenant "clinic-a": invalid call id
vapi status-update: tenant "clinic-a": no call id, not recorded
--- log_level: info
--- no_error_log
[error]
[alert]
