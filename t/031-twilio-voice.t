use Test::Nginx::Socket 'no_plan';
use Voxanne::Test::Twilio qw(twilio_request stream_token_ok);
use POSIX qw(strftime);

# The voice webhook: every branch of the decision.  Blocks list their
# webhooks in a "webhooks" section; the preprocessor turns each into a
# signed request and its headers.

add_block_preprocessor(sub {
    my $block = shift;
    my $hooks = $block->webhooks or return;
    my (@requests, @headers);
    for my $hook (@$hooks) {
        my ($request, $headers) = twilio_request(%$hook);
        push @requests, $hook->{delay} ? [{ value => $request, delay_before => $hook->{delay} }]
                                       : $request;
        push @headers, $headers;
    }
    $block->set_value(request => \@requests);
    $block->set_value(more_headers => \@headers);
});

our $AC = 'AC0123456789abcdef0123456789abcdef';

sub tenant {
    my (%o) = (timezone => 'UTC', @_);
    my $extra = join '', map { "        $_ $o{$_};\n" } grep { $_ ne 'name' } sort keys %o;
    my $name = $o{name} // 'clinic-a';
    return <<"_EOC_";
    voxanne_tenant $name {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000a;
        numbers                +15550100001 +15550100002;
        twilio_account_sid     $AC;
        twilio_auth_token_file ../html/a.token;
        public_url             https://edge.example.com;
$extra    }
_EOC_
}

sub call {
    my ($sid, %o) = @_;
    return {
        params => [
            AccountSid => $o{account} // $AC, CallSid => $sid,
            CallStatus => 'ringing', Direction => 'inbound',
            From => $o{from} // '+14155550123', To => $o{to} // '+15550100001',
            ApiVersion => '2010-04-01',
        ],
        exists $o{token} ? (token => $o{token}) : (),
    };
}

sub sid { sprintf 'CA%032x', shift }

# the dates around today, so that "closed today" holds at midnight too
sub around_today {
    return join ' ', map { strftime('%Y-%m-%d', gmtime(time + $_ * 86400)) } -1 .. 1;
}

# a UTC offset at which it is now between 06:00 and 18:00, as an Etc zone,
# and the local minute there: hours relative to now never cross midnight
sub midday_zone {
    my $utc = int(time / 60) % 1440;
    for my $h (-12 .. 14) {
        my $local = ($utc + 60 * $h) % 1440;
        next if $local < 360 || $local > 1080;
        my $zone = $h == 0 ? 'UTC' : $h > 0 ? "Etc/GMT-$h" : 'Etc/GMT+' . -$h;
        return ($zone, $local);
    }
    die "no zone";
}

sub hhmm { sprintf '%02d:%02d', int($_[0] / 60), $_[0] % 60 }

# hours "sun-sat FROM-TO" with FROM and TO in minutes relative to now
sub hours_around_now {
    my ($from, $to) = @_;
    my ($zone, $now) = midday_zone();
    return (timezone => $zone,
            hours => 'sun-sat ' . hhmm($now + $from) . '-' . hhmm($now + $to));
}

our $files = <<'_EOC_';
>>> a.token
12345
_EOC_

our $locations = <<'_EOC_';
    location /twilio/ {
        add_header X-Limit $voxanne_limit always;
        add_header X-Tenant $voxanne_tenant always;
        add_header X-Call $voxanne_call_sid always;
        add_header X-Route $voxanne_route always;

        location = /twilio/voice { voxanne_twilio voice; }
        location = /twilio/status { voxanne_twilio status; }
        location = /twilio/stream-ended { voxanne_twilio stream-ended; }
        location = /twilio/recording { voxanne_twilio recording; }
    }
_EOC_

# the <Connect> answer
our $connect = qr{\A<\?xml version="1\.0" encoding="UTF-8"\?>\n<Response><Connect action="https://edge\.example\.com/twilio/stream-ended"><Stream url="wss://edge\.example\.com/twilio/media/clinic-a"><Parameter name="tenant" value="clinic-a"/><Parameter name="token" value="v1\.\d+\.[A-Za-z0-9_-]{43}"/></Stream></Connect></Response>\n\z};

# "--- stream_token eval: [[response index, CallSid, ttl], ...]": the
# token's MAC is the one the media route will check, its expiry now + ttl
Test::Nginx::Socket::add_block_handler(sub {
    my ($block, $ctx) = @_;
    my $checks = $block->stream_token or return;
    for my $check (@$checks) {
        my ($i, $sid, $ttl) = @$check;
        stream_token_ok($ctx->responses->[$i], '12345', 'clinic-a', $sid, $ttl,
                        $ctx->name . " - stream token $i");
    }
});

run_tests();

__DATA__

=== TEST 1: an open tenant: Connect to the media stream with a signed token
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(1)) ]
--- error_code: 200
--- response_headers eval
"Content-Type: text/xml
X-Limit: passed
X-Tenant: clinic-a
X-Route: voice
X-Call: " . ::sid(1)
--- response_body_like eval: $::connect
--- stream_token eval: [[0, ::sid(1), 30]]
--- error_log eval
qr/voxanne: call ${\ ::sid(1)} tenant "clinic-a" from "\+14155550123": connecting, client/
--- no_error_log
[warn]



=== TEST 2: a number no tenant owns: Reject, and a warning
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(2), to => '+15559999999') ]
--- error_code: 200
--- response_headers
Content-Type: text/xml
!X-Tenant
--- response_body
<?xml version="1.0" encoding="UTF-8"?>
<Response><Reject/></Response>
--- error_log
voxanne: twilio voice: no tenant for "+15559999999"



=== TEST 3: the tenant's second number, and a stream timeout of 90 s in the token
--- http_config eval: "voxanne_session_zone zone=sessions:1m timeout=90s;\n" . ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(3), to => '+15550100002') ]
--- error_code: 200
--- response_body_like eval: $::connect
--- stream_token eval: [[0, ::sid(3), 90]]



=== TEST 4: another account's AccountSid: 403 before the signature is looked at
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(4), account => 'AC' . 'f' x 32) ]
--- error_code: 403
--- response_body
--- error_log
voxanne: twilio voice: tenant "clinic-a": AccountSid "ACffffffffffffffffffffffffffffffff" is not the tenant's



=== TEST 5: signed with another token: 403, no call registered
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(5), token => '54321'), ::call(::sid(5)) ]
--- error_code eval: [403, 200]
--- response_body_like eval: [qr/\A\z/, $::connect]
--- error_log
X-Twilio-Signature does not match, forbidden
connecting
--- no_error_log
connecting again



=== TEST 6: a closed date: the voicemail, XML-escaped, with our recording routes
--- http_config eval
::tenant(closed => ::around_today(),
         voicemail_greeting => q{"Sorry <we're> closed & away"})
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(6)) ]
--- error_code: 200
--- response_headers
X-Limit: passed
--- response_body
<?xml version="1.0" encoding="UTF-8"?>
<Response><Say>Sorry &lt;we&apos;re&gt; closed &amp; away</Say><Record action="https://edge.example.com/twilio/recording?tenant=clinic-a" maxLength="120" playBeep="true" recordingStatusCallback="https://edge.example.com/twilio/recording?tenant=clinic-a"/><Hangup/></Response>
--- error_log eval
qr/call ${\ ::sid(6)} tenant "clinic-a" from "\+14155550123": after hours/



=== TEST 7: after hours with a dial action
--- http_config eval: ::tenant(closed => ::around_today(), after_hours => 'dial +15551230000')
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(7)) ]
--- error_code: 200
--- response_body
<?xml version="1.0" encoding="UTF-8"?>
<Response><Dial>+15551230000</Dial></Response>



=== TEST 8: after hours with hangup
--- http_config eval: ::tenant(closed => ::around_today(), after_hours => 'hangup')
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(8)) ]
--- error_code: 200
--- response_body
<?xml version="1.0" encoding="UTF-8"?>
<Response><Hangup/></Response>



=== TEST 9: hours that open in two minutes: still closed
--- http_config eval: ::tenant(::hours_around_now(2, 120))
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(9)) ]
--- error_code: 200
--- response_body_like: <Say>Sorry, we can&apos;t take your call right now
--- error_log
after hours



=== TEST 10: hours that opened two minutes ago: open
--- http_config eval: ::tenant(::hours_around_now(-2, 120))
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(10)) ]
--- error_code: 200
--- response_body_like eval: $::connect



=== TEST 11: hours that close in two minutes: open
--- http_config eval: ::tenant(::hours_around_now(-120, 2))
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(11)) ]
--- error_code: 200
--- response_body_like eval: $::connect



=== TEST 12: hours that closed two minutes ago: closed
--- http_config eval: ::tenant(::hours_around_now(-120, -2))
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(12)) ]
--- error_code: 200
--- response_body_like: <Record action=



=== TEST 13: max_calls 1: a second call hears the busy message, a retry of the first connects again
--- http_config eval: ::tenant(max_calls => 1)
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(13)), ::call(::sid(14)), ::call(::sid(13)) ]
--- error_code eval: [200, 200, 200]
--- response_headers eval
["X-Limit: passed", "X-Limit: busy", "X-Limit: passed"]
--- response_body_like eval
[$::connect, qr{<Response><Say>All of our lines are busy right now\. Please call again in a few minutes\.</Say><Hangup/></Response>}, $::connect]
--- error_log eval
[qr/call ${\ ::sid(14)} tenant "clinic-a" from "\+14155550123": all 1 lines busy/,
 qr/call ${\ ::sid(13)} tenant "clinic-a" from "\+14155550123": connecting again/]



=== TEST 14: max_calls with busy reject
--- http_config eval: ::tenant(max_calls => 1, busy => 'reject')
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(15)), ::call(::sid(16)) ]
--- error_code eval: [200, 200]
--- response_body_like eval
[$::connect, qr{<Response><Reject reason="busy"/></Response>}]



=== TEST 15: a completed status callback gives the line back
--- http_config eval: ::tenant(max_calls => 1)
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::call(::sid(17)),
  { uri => '/twilio/status', params => [ AccountSid => $::AC, CallSid => ::sid(17),
        CallStatus => 'completed', To => '+15550100001', SequenceNumber => 3 ] },
  ::call(::sid(18)) ]
--- error_code eval: [200, 200, 200]
--- response_body_like eval: [$::connect, qr/\A\z/, qr/<Connect /]
--- error_log eval
qr/call ${\ ::sid(17)} tenant "clinic-a": ringing -> completed/



=== TEST 16: the end of the media stream gives the line back and hangs up
--- http_config eval: ::tenant(max_calls => 1)
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::call(::sid(19)),
  { uri => '/twilio/stream-ended', params => [ AccountSid => $::AC, CallSid => ::sid(19),
        CallStatus => 'in-progress', To => '+15550100001' ] },
  { uri => '/twilio/stream-ended', params => [ AccountSid => $::AC, CallSid => ::sid(19),
        CallStatus => 'in-progress', To => '+15550100001' ] },
  ::call(::sid(20)) ]
--- error_code eval: [200, 200, 200, 200]
--- response_body_like eval
[$::connect, qr{\A<\?xml[^>]+>\n<Response><Hangup/></Response>\n\z}, qr/<Hangup/, qr/<Connect /]
--- error_log eval
[qr/call ${\ ::sid(19)} tenant "clinic-a": stream ended, line released, client/,
 qr/call ${\ ::sid(19)} tenant "clinic-a": stream ended, client/]



=== TEST 17: a call whose stream never arrives gives its line back after the session timeout
--- http_config eval: "voxanne_session_zone zone=sessions:1m timeout=1s;\n" . ::tenant(max_calls => 1)
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::call(::sid(21)), ::call(::sid(22)), { %{ ::call(::sid(22)) }, delay => 2.1 } ]
--- error_code eval: [200, 200, 200]
--- response_headers eval
["X-Limit: passed", "X-Limit: busy", "X-Limit: passed"]
--- response_body_like eval: [$::connect, qr/<Say>/, qr/<Connect /]
--- error_log eval
qr/call ${\ ::sid(21)} tenant "clinic-a": no stream within the session timeout, line released/
--- timeout: 10



=== TEST 18: concurrency is per tenant: a full tenant does not block another
--- http_config eval
::tenant(max_calls => 1)
. (::tenant(name => 'clinic-b', max_calls => 1) =~ s/\+15550100001 \+15550100002/+15550100003/r)
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::call(::sid(23)), ::call(::sid(24), to => '+15550100003'), ::call(::sid(25)) ]
--- error_code eval: [200, 200, 200]
--- response_headers eval
["X-Tenant: clinic-a\nX-Limit: passed", "X-Tenant: clinic-b\nX-Limit: passed",
 "X-Tenant: clinic-a\nX-Limit: busy"]



=== TEST 19: the line count is shared by every worker
--- workers: 4
--- master_on
--- http_config eval: ::tenant(max_calls => 3)
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ map { ::call(::sid(30 + $_)) } 1 .. 6 ]
--- error_code eval: [(200) x 6]
--- response_headers eval
[("X-Limit: passed") x 3, ("X-Limit: busy") x 3]



=== TEST 20: the tenant's rate limit: over the burst, Reject busy, before any line is taken
--- http_config eval
"voxanne_limit_zone zone=webhooks:1m;\n" . ::tenant(limit => 'zone=webhooks rate=1r/m burst=1', max_calls => 2)
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ map { ::call(::sid(40 + $_), from => "+1415555010$_") } 1 .. 3 ]
--- error_code eval: [200, 200, 200]
--- response_headers eval
["X-Limit: passed", "X-Limit: passed", "X-Limit: limited"]
--- response_body_like eval
[$::connect, $::connect, qr{\A<\?xml[^>]+>\n<Response><Reject reason="busy"/></Response>\n\z}]
--- error_log
voxanne: tenant "clinic-a": call from "+14155550103" over the tenant's limit



=== TEST 21: the per-caller limit holds one caller back, not the others
--- http_config eval
"voxanne_limit_zone zone=callers:1m;\n" . ::tenant(caller_limit => 'zone=callers rate=1r/m')
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::call(::sid(51), from => '+14155550111'), ::call(::sid(52), from => '+14155550111'),
  ::call(::sid(53), from => '+14155550122') ]
--- error_code eval: [200, 200, 200]
--- response_headers eval
["X-Limit: passed", "X-Limit: limited", "X-Limit: passed"]
--- error_log
voxanne: tenant "clinic-a": call from "+14155550111" over the caller limit



=== TEST 22: a rate-limited request still needs a valid signature first
--- http_config eval
"voxanne_limit_zone zone=webhooks:1m;\n" . ::tenant(limit => 'zone=webhooks rate=1r/m')
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::call(::sid(61), token => 'forged'), ::call(::sid(62)), ::call(::sid(63)) ]
--- error_code eval: [403, 200, 200]
--- response_headers eval
["!X-Limit", "X-Limit: passed", "X-Limit: limited"]



=== TEST 23: a From or To that would forge a log line is logged as "(unprintable)"
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::call(::sid(71), from => "+14155550123\n2026/11/22 00:00:00 [alert] 1#1: forged"),
  ::call(::sid(72), to => "+1555\"forged"), ::call(::sid(73), from => '+1' . '4' x 300) ]
--- error_code eval: [200, 200, 200]
--- response_body_like eval: [$::connect, qr/<Reject\/>/, $::connect]
--- error_log eval
[qr/call ${\ ::sid(71)} tenant "clinic-a" from "\(unprintable\)": connecting/,
 'voxanne: twilio voice: no tenant for "(unprintable)"',
 qr/call ${\ ::sid(73)} tenant "clinic-a" from "\(unprintable\)": connecting/]
--- no_error_log
forged
