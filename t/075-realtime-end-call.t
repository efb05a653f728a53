use Test::Nginx::Socket 'no_plan';
use Time::HiRes qw(sleep time);
use Voxanne::Test::Pg;
use Voxanne::Test::WebSocket;
use Voxanne::Test::Media;
use Voxanne::Test::Realtime;

# The agent ends the call (end_call) or hands it to a person
# (transfer_to_human): the goodbye plays out (the response is done and
# Twilio has echoed every mark), then the stream closes with 1000; the
# stream-ended route hangs up, or dials the tenant's fallback number that
# the bridge recorded in the session table.  Each lands as the call's
# event, "end" or "transfer", in PostgreSQL.  The mock calls end_call on
# the key 0 and transfer_to_human on the key 9 (its default tools).

our $pg = Voxanne::Test::Pg->database;
our $org = '5b7c1d2e-0000-4000-8000-00000000000a';
our $role = "vx_gw_$$";

$pg->psql("INSERT INTO organizations (id, name) VALUES ('$org', 'Clinic A');"
          . "CREATE ROLE $role LOGIN IN ROLE voxanne_app;");

my $owner = $$;
END { eval { $pg->psql("DROP OWNED BY $role; DROP ROLE $role") } if $pg && $$ == $owner }

our $mock = Voxanne::Test::Realtime->start(args => ['--reply-ms', '80', '--delta-ms', '80',
                                                    '--burst']);

sub http_config {
    my (%o) = @_;
    return <<"_EOC_" . ::tenant(tools => 'end_call transfer_to_human', %o);
    voxanne_db "conninfo=host=127.0.0.1 port=\$TEST_NGINX_PG_PORT dbname=\$TEST_NGINX_PG_DB user=$::role"
               connect_timeout=1s query_timeout=2s;
_EOC_
}

sub locations {
    my $url = $::mock->url;
    return <<"_EOC_";
    location = /twilio/voice { voxanne_twilio voice; }
    location = /twilio/stream-ended { voxanne_twilio stream-ended; }
    location /twilio/media/ {
        voxanne_media_stream;
        voxanne_realtime_url $url;
    }
_EOC_
}

# the function call's output, as the bridge gave it to the model
sub output {
    my ($name) = @_;
    my ($call) = $::mock->wait_log(sub { $::mock->conn_log(dir => 'out',
                                                           type => 'response.function_call_arguments.done',
                                                           name => $name) }, 5)
        or die "no call of $name";
    my ($output) = $::mock->wait_log(sub { grep { ($_->{item}{type} // '') eq 'function_call_output' }
                                           $::mock->conn_log(dir => 'in', type => 'conversation.item.create') }, 5)
        or die "no function_call_output";
    die "call_id" unless $output->{item}{call_id} eq $call->{call_id};
    return $output->{item}{output};
}

# the provider's connection is still up: the bridge has not hung up
sub provider_open {
    die "the bridge closed the provider before the goodbye played"
        if $::mock->conn_log(dir => 'close');
}

# the call's events in PostgreSQL, "key=type payload" each, once written
sub events {
    my ($want, $name) = @_;
    my $sql = "SELECT string_agg(e.event_key || '=' || e.type || ' ' || e.payload::text, '|'"
              . " ORDER BY e.event_key) FROM call_events e JOIN calls c ON c.id = e.call_id"
              . " WHERE c.call_sid = '$::SID' AND e.org_id = '$::org' AND e.type IN ('end', 'transfer')";
    my ($got, $until) = ('', time + 10);
    while (time < $until) {
        $got = $::pg->psql($sql);
        last if $got =~ $want;
        sleep 0.1;
    }
    die "$name: '$got'" unless $got =~ $want;
}

# a block's own events: those of an earlier block (the same CallSid) go
sub forget { { run => sub { $::pg->psql("DELETE FROM call_events WHERE type IN ('end', 'transfer')") } } }

# the greeting, played; a key the mock answers with a function call; its
# output checked; the goodbye's mark
sub goodbye {
    my ($key, $tool, $output) = @_;
    return (::forget(), ::connected(), ::start(),
            { expect => { json => { event => 'mark', mark => { name => '1:80' } } } },
            ::played('1:80'),
            ::dtmf($key),
            { expect => { json => { event => 'mark', mark => { name => '2:80' } } } },
            { run => sub {
                  my $out = ::output($tool);
                  die "output: $out" unless $out =~ $output;
              } },
            { sleep => 0.3 },
            { run => \&::provider_open });
}

sub ended {
    my ($twiml) = @_;
    return { run => sub {
        my ($ctx) = @_;
        my ($status, $body) = ::stream_ended($ctx->port);
        die "stream-ended: $status $body" unless $body =~ /^<\?xml [^>]+>\n\Q$twiml\E\z/;
    } };
}

run_tests();

__DATA__

=== TEST 1: end_call: the goodbye plays out, then the stream closes 1000, stream-ended hangs up, the "end" event is stored
--- http_config eval: ::http_config()
--- user_files eval: $::files
--- config eval: ::locations()
--- media eval: {}
--- ws_send eval
[ ::goodbye('0', 'end_call', qr/^The call will end once you have spoken\./),
  ::played('2:80'),
  { expect => { close => 1000 } },
  { close => 1000 },
  { sleep => 0.2 },
  { run => sub { die "provider still open" unless $::mock->wait_log(dir => 'close', by => 'client', 5) } },
  ::ended("<Response><Hangup/></Response>\n"),
  { run => sub { ::events(qr/^end=end \{"reason": ""\}$/, 'the end event') } } ]
--- ws_skip_unmatched
--- error_log eval
[ qr/realtime: call $::SID: function call "end_call"/,
  qr/realtime: call $::SID: the agent ends the call after its goodbye/,
  qr/realtime: call $::SID: ended by the agent/,
  qr/stream ended, close 1000/ ]
--- no_error_log
[error]
it failed: fallback



=== TEST 2: transfer_to_human: the goodbye plays out, the stream closes 1000, stream-ended (in either of two workers) dials the fallback number, the "transfer" event has the number and the reason
--- workers: 2
--- master_on
--- http_config eval: ::http_config(fallback => 'dial +15551230000')
--- user_files eval: $::files
--- config eval: ::locations()
--- media eval: {}
--- ws_send eval
[ ::goodbye('9', 'transfer_to_human', qr/^A person at the business is being connected\./),
  ::played('2:80'),
  { expect => { close => 1000 } },
  { close => 1000 },
  { sleep => 0.2 },
  ::ended("<Response><Dial>+15551230000</Dial></Response>\n"),
  { run => sub { ::events(qr/^transfer=transfer \{"to": "\+15551230000", "reason": "the caller asked for a person"\}$/,
                          'the transfer event') } } ]
--- ws_skip_unmatched
--- error_log eval
[ qr/realtime: call $::SID: function call "transfer_to_human"/,
  qr/realtime: call $::SID: transferred to \+15551230000/,
  qr/call $::SID tenant "clinic-a": stream ended, transferred/ ]
--- no_error_log
[error]
it failed: fallback
the caller asked for a person



=== TEST 3: transfer_to_human for a tenant with no number to dial: an error line to the model, nothing closes, no transfer
--- http_config eval: ::http_config(fallback => 'voicemail')
--- user_files eval: $::files
--- config eval: ::locations()
--- media eval: {}
--- ws_send eval
[ ::goodbye('9', 'transfer_to_human', qr/^No one can take the call on this line\./),
  ::played('2:80'),
  { sleep => 0.3 },
  { run => \&::provider_open },
  ::stop(),
  { expect => { close => 1000 } },
  ::ended("<Response><Hangup/></Response>\n"),
  { sleep => 0.3 },
  { run => sub { ::events(qr/^$/, 'no event') } } ]
--- ws_skip_unmatched
--- error_log eval
[ qr/realtime: call $::SID: function call "transfer_to_human"/, qr/stream ended, close 1000/ ]
--- no_error_log
[error]
transfers the call
transferred



=== TEST 4: end_call, and Twilio never echoes the goodbye's mark: the call ends after the 10 s cap all the same
--- http_config eval: ::http_config()
--- user_files eval: $::files
--- config eval: ::locations()
--- media eval: {}
--- ws_send eval
[ ::goodbye('0', 'end_call', qr/^The call will end/),
  { expect => { close => 1000 } },
  { run => sub {
        my ($output) = grep { ($_->{item}{type} // '') eq 'function_call_output' }
                       $::mock->conn_log(dir => 'in', type => 'conversation.item.create');
        my ($close) = $::mock->wait_log(sub { $::mock->conn_log(dir => 'close', by => 'client') }, 5)
            or die "the provider was not closed";
        my $waited = $close->{t} - $output->{t};
        die "closed after $waited s" unless $waited > 9.5 && $waited < 12;
    } },
  { close => 1000 },
  { sleep => 0.2 },
  { run => sub { ::events(qr/^end=end \{"reason": ""\}$/, 'the end event') } } ]
--- ws_skip_unmatched
--- ws_timeout: 15
--- timeout: 30
--- error_log eval
[ qr/\[notice\] .*realtime: call $::SID: the goodbye did not play out in 10000 ms, the call ends/,
  qr/realtime: call $::SID: ended by the agent/ ]
--- no_error_log
[error]
