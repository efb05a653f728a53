use Test::Nginx::Socket 'no_plan';
use Voxanne::Test::Twilio qw(twilio_request twilio_form);

# The routes besides voice: status callbacks and the call table's state
# machine, recording, stream-ended; then bad input on every route, the
# variables and keepalive.  Blocks list their webhooks in a "webhooks"
# section as in 031; a hook may also set "type" (the Content-Type, undef:
# none), "headers" (more header lines), "body" (raw, replacing the signed
# form), "method", "delay" and "split" (offsets in the body where it is cut
# into packets sent 0.1 s apart).  "--- pipelined" sends them pipelined on one
# connection, "--- keepalive" one after another on one connection.

add_block_preprocessor(sub {
    my $block = shift;
    my $hooks = $block->webhooks or return;
    my (@requests, @headers);
    for my $hook (@$hooks) {
        my ($request, $headers) = twilio_request(%$hook);
        if (exists $hook->{type}) {
            $headers =~ s/^Content-Type: [^\n]*\n//m;
            $headers = "Content-Type: $hook->{type}\n$headers" if defined $hook->{type};
        }
        $headers .= $hook->{headers} if defined $hook->{headers};
        $request =~ s/^POST /$hook->{method} / if $hook->{method};
        $request = ($request =~ s/\n.*//sr) . "\n" . $hook->{body} if defined $hook->{body};
        if ($hook->{split}) {
            my ($line, $body) = split /\n/, $request, 2;
            my @cuts = (0, @{ $hook->{split} }, length $body);
            $request = [ "$line\n" . substr($body, 0, $cuts[1]),
                         map { { value => substr($body, $cuts[$_], $cuts[$_ + 1] - $cuts[$_]),
                                 delay_before => 0.1 } } 1 .. $#cuts - 1 ];
        }
        push @requests, $request;
        push @headers, $headers;
    }
    if (defined $block->pipelined) {
        $block->set_value(pipelined_requests => \@requests);
        $block->set_value(more_headers => \@headers);

    } elsif (defined $block->keepalive) {
        # each request on the same connection, sent once the one before it
        # has been answered
        my @packets = map {
            my $h = join '', map { "$_\r\n" } split /\n/, $headers[$_];
            my $conn = $_ < $#requests ? 'keep-alive' : 'close';
            # the CRLF before a later request, which nginx skips, puts its
            # request line at a line start, where the harness counts them
            { value => ($_ ? "\r\n" : '') . Test::Nginx::Socket::build_request($requests[$_], $h, $conn)->{bytes},
              delay_before => $_ ? 0.2 : 0 }
        } 0 .. $#requests;
        $block->set_value(raw_request => \@packets);

    } else {
        $block->set_value(request => [ map {
            $hooks->[$_]{delay} && !ref $requests[$_]
                ? [{ value => $requests[$_], delay_before => $hooks->[$_]{delay} }]
                : $requests[$_]
        } 0 .. $#requests ]);
        $block->set_value(more_headers => \@headers);
    }
});

our $AC = 'AC0123456789abcdef0123456789abcdef';
our $BC = 'ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

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

# a second tenant: its own number, account and auth token
sub tenant_b {
    my (%o) = @_;
    my $extra = join '', map { "        $_ $o{$_};\n" } sort keys %o;
    return <<"_EOC_";
    voxanne_tenant clinic-b {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000b;
        numbers                +15550100003;
        twilio_account_sid     $BC;
        twilio_auth_token_file ../html/b.token;
        public_url             https://edge.example.com;
$extra    }
_EOC_
}

sub sid { sprintf 'CA%032x', shift }

# the voice webhook of an incoming call
sub call {
    my ($sid, %o) = @_;
    return {
        params => [
            AccountSid => $o{account} // $AC, CallSid => $sid,
            CallStatus => 'ringing', Direction => 'inbound',
            From => '+14155550123', To => $o{to} // '+15550100001',
            ApiVersion => '2010-04-01',
        ],
        exists $o{token} ? (token => $o{token}) : (),
    };
}

# a status callback; an undef status or seq leaves the parameter out
sub status {
    my ($sid, $status, $seq, %o) = @_;
    return {
        uri => $o{uri} // '/twilio/status',
        params => [
            AccountSid => $o{account} // $AC,
            defined $sid ? (CallSid => $sid) : (),
            defined $status ? (CallStatus => $status) : (),
            Direction => 'inbound', From => '+14155550123',
            To => $o{to} // '+15550100001',
            defined $seq ? (SequenceNumber => $seq) : (),
            @{ $o{more} || [] },
        ],
        exists $o{token} ? (token => $o{token}) : (),
    };
}

sub stream_ended {
    my ($sid, %o) = @_;
    return status($sid, 'in-progress', undef, uri => '/twilio/stream-ended', %o);
}

# a webhook on any route with these parameters, signed
sub hook {
    my ($uri, @params) = @_;
    return { uri => $uri, params => \@params };
}

our $files = <<'_EOC_';
>>> a.token
12345
>>> b.token
67890
_EOC_

our $locations = <<'_EOC_';
    location /twilio/ {
        add_header X-Limit $voxanne_limit always;
        add_header X-Tenant $voxanne_tenant always;
        add_header X-Call $voxanne_call_sid always;
        add_header X-Route $voxanne_route always;
        add_header X-Signature $voxanne_signature always;

        location = /twilio/voice { voxanne_twilio voice; }
        location = /twilio/status { voxanne_twilio status; }
        location = /twilio/stream-ended { voxanne_twilio stream-ended; }
        location = /twilio/recording { voxanne_twilio recording; }
    }
_EOC_

our $xml = qq{<?xml version="1.0" encoding="UTF-8"?>\n};

# the <Connect> answer, and the <Hangup/> one
our $connect = qr{\A<\?xml version="1\.0" encoding="UTF-8"\?>\n<Response><Connect action="https://edge\.example\.com/twilio/stream-ended"><Stream url="wss://edge\.example\.com/twilio/media/clinic-a"><Parameter name="tenant" value="clinic-a"/><Parameter name="token" value="v1\.\d+\.[A-Za-z0-9_-]{43}"/></Stream></Connect></Response>\n\z};
our $hangup = qq{$xml<Response><Hangup/></Response>\n};
our $empty = qr/\A\z/;

# what the status route logs about the call table, in order
our $table = qr/call CA\w+ tenant "clinic-[ab]": (?:[a-z-]+ -> [a-z-]+|late [a-z-]+ ignored, the call is [a-z-]+|[a-z-]+ for a call not in the table|stream ended(?:, line released|, call not in the table)?)(?=, client)/;

sub table_log {
    my ($sid, $tenant, @lines) = @_;
    return join '', map { qq{call $sid tenant "$tenant": $_\n} } @lines;
}

# a signed form body of exactly $len bytes: $filler grows to fit
sub sized_params {
    my ($len, @params) = @_;
    my $base = length twilio_form(@params, SpeechResult => '');
    $len - $base >= 0 or die "$len bytes is too short";
    return (@params, SpeechResult => 'x' x ($len - $base));
}

run_tests();

__DATA__

=== TEST 1: status callbacks with SequenceNumber: applied in order, late and repeated ones ignored
--- http_config eval: ::tenant(max_calls => 1)
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::call(::sid(1)),
  ::status(::sid(1), 'in-progress', 1),
  ::status(::sid(1), 'ringing', 0),
  ::status(::sid(1), 'completed', 3),
  ::status(::sid(1), 'in-progress', 2),
  ::status(::sid(1), 'completed', 3),
  ::status(::sid(1), 'canceled', 4),
  ::call(::sid(2)) ]
--- error_code eval: [(200) x 8]
--- response_headers eval
["X-Limit: passed", ("Content-Length: 0\nX-Tenant: clinic-a\nX-Route: status\nX-Call: " . ::sid(1)) x 6, "X-Limit: passed"]
--- response_body_like eval: [$::connect, ($::empty) x 6, $::connect]
--- grep_error_log eval: $::table
--- grep_error_log_out eval
::table_log(::sid(1), 'clinic-a',
    'ringing -> in-progress',
    'late ringing ignored, the call is in-progress',
    'in-progress -> completed',
    'late in-progress ignored, the call is completed',
    'late completed ignored, the call is completed',
    'late canceled ignored, the call is completed')
--- no_error_log
[error]



=== TEST 2: status callbacks without SequenceNumber: by rank, never backwards
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::call(::sid(3)),
  ::status(::sid(3), 'in-progress'),
  ::status(::sid(3), 'ringing'),
  ::status(::sid(3), 'in-progress'),
  ::status(::sid(3), 'completed'),
  ::status(::sid(3), 'in-progress'),
  ::status(::sid(3), 'no-answer') ]
--- error_code eval: [(200) x 7]
--- response_body_like eval: [$::connect, ($::empty) x 6]
--- grep_error_log eval: $::table
--- grep_error_log_out eval
::table_log(::sid(3), 'clinic-a',
    'ringing -> in-progress',
    'late ringing ignored, the call is in-progress',
    'late in-progress ignored, the call is in-progress',
    'in-progress -> completed',
    'late in-progress ignored, the call is completed',
    'late no-answer ignored, the call is completed')



=== TEST 3: a final status straight from ringing; a later SequenceNumber cannot bring the call back
--- http_config eval: ::tenant(max_calls => 1)
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::call(::sid(4)),
  ::status(::sid(4), 'busy', 0),
  ::status(::sid(4), 'in-progress', 5),
  ::call(::sid(5)) ]
--- error_code eval: [200, 200, 200, 200]
--- response_body_like eval: [$::connect, $::empty, $::empty, $::connect]
--- grep_error_log eval: $::table
--- grep_error_log_out eval
::table_log(::sid(4), 'clinic-a', 'ringing -> busy', 'late in-progress ignored, the call is busy')



=== TEST 4: a status for a CallSid not in the table: 200, logged
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::status(::sid(6), 'completed', 3) ]
--- error_code: 200
--- response_headers eval
"Content-Length: 0\nX-Call: " . ::sid(6)
--- response_body
--- error_log eval
qq{voxanne: call ${\ ::sid(6)} tenant "clinic-a": completed for a call not in the table}
--- no_error_log
[warn]



=== TEST 5: tenant isolation: another tenant's status and stream end do not touch the call
--- http_config eval: ::tenant(max_calls => 1) . ::tenant_b(fallback => 'dial +15551230000')
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::call(::sid(10)),
  ::status(::sid(10), 'completed', 1, to => '+15550100003', account => $::BC, token => '67890'),
  ::stream_ended(::sid(10), to => '+15550100003', account => $::BC, token => '67890'),
  ::call(::sid(11)),
  ::status(::sid(10), 'in-progress', 1),
  ::call(::sid(10), to => '+15550100003', account => $::BC, token => '67890') ]
--- error_code eval: [(200) x 6]
--- response_headers eval
["X-Tenant: clinic-a\nX-Limit: passed", "X-Tenant: clinic-b\nX-Signature: ok",
 "X-Tenant: clinic-b", "X-Tenant: clinic-a\nX-Limit: busy", "X-Tenant: clinic-a", "X-Tenant: clinic-b"]
--- response_body_like eval
[$::connect, $::empty, qr/\A\Q$::hangup\E\z/, qr/<Say>All of our lines are busy/, $::empty,
 qr{\A<\?xml[^>]+>\n<Response><Dial>\+15551230000</Dial></Response>\n\z}]
--- grep_error_log eval: $::table
--- grep_error_log_out eval
  ::table_log(::sid(10), 'clinic-b', 'completed for a call not in the table',
                                     'stream ended, call not in the table')
. ::table_log(::sid(10), 'clinic-a', 'ringing -> in-progress')
--- error_log eval
[qq{voxanne: call ${\ ::sid(11)} tenant "clinic-a" from "+14155550123": all 1 lines busy},
 qq{voxanne: call ${\ ::sid(10)} of tenant "clinic-b" is already registered to another tenant}]



=== TEST 6: an invalid CallStatus or SequenceNumber: 400, and the call is left as it is
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::call(::sid(12)),
  ::status(::sid(12), 'answered', 1),
  ::status(::sid(12), undef, 1),
  ::status(::sid(12), 'completed', 'three'),
  ::status(::sid(12), 'completed', '-1'),
  ::status(::sid(12), 'completed', ''),
  ::status(::sid(12), 'in-progress', 1) ]
--- error_code eval: [200, 400, 400, 400, 400, 400, 200]
--- response_headers eval
["X-Limit: passed", ("X-Signature: ok\nX-Call: " . ::sid(12)) x 6]
--- response_body_like eval: [$::connect, (qr/400 Bad Request/) x 5, $::empty]
--- error_log eval
[qq{voxanne: call ${\ ::sid(12)} tenant "clinic-a": invalid CallStatus},
 qq{voxanne: call ${\ ::sid(12)} tenant "clinic-a": invalid SequenceNumber}]
--- grep_error_log eval: $::table
--- grep_error_log_out eval
::table_log(::sid(12), 'clinic-a', 'ringing -> in-progress')



=== TEST 7: CallSid: missing, 65 characters or not alphanumeric: 400; 64 characters are fine
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::status(undef, 'completed', 1),
  ::status('CA' . 'a' x 63, 'completed', 1),
  ::status('CA0123-456', 'completed', 1),
  ::status('CA0123 456', 'completed', 1),
  ::status('CA' . 'a' x 62, 'completed', 1),
  ::hook('/twilio/voice', AccountSid => $::AC, CallStatus => 'ringing', From => '+14155550123',
         To => '+15550100001') ]
--- error_code eval: [400, 400, 400, 400, 200, 400]
--- response_headers eval
[("!X-Call\nX-Signature: ok") x 4, "X-Call: CA" . 'a' x 62, "!X-Call\nX-Route: voice"]
--- error_log eval
['voxanne: twilio status: tenant "clinic-a": no valid CallSid',
 'voxanne: twilio voice: tenant "clinic-a": no valid CallSid',
 qq{voxanne: call CA${\ ('a' x 62)} tenant "clinic-a": completed for a call not in the table}]
--- grep_error_log: no valid CallSid
--- grep_error_log_out eval: "no valid CallSid\n" x 5



=== TEST 8: recording: the <Record> action and the recording status callback both hang up and log the recording
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::hook('/twilio/recording?tenant=clinic-a',
      AccountSid => $::AC, CallSid => ::sid(20), From => '+14155550123', To => '+15550100001',
      RecordingUrl => 'https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123',
      RecordingStatus => 'completed', RecordingDuration => '12', Digits => 'hangup'),
  ::hook('/twilio/recording?tenant=clinic-a',
      AccountSid => $::AC, CallSid => ::sid(20), RecordingSid => 'RE0123',
      RecordingUrl => 'https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123',
      RecordingStatus => 'completed', RecordingDuration => '12', RecordingChannels => '1',
      RecordingSource => 'RecordVerb') ]
--- error_code eval: [200, 200]
--- response_headers
Content-Type: text/xml
X-Tenant: clinic-a
X-Route: recording
X-Signature: ok
--- response_body eval: $::hangup
--- grep_error_log: recording "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123" status "completed" duration "12"
--- grep_error_log_out eval
qq{recording "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123" status "completed" duration "12"\n} x 2
--- error_log eval
qq{voxanne: call ${\ ::sid(20)} tenant "clinic-a": recording "https://api.twilio.com/}
--- no_error_log
[warn]



=== TEST 9: recording: Duration stands in for RecordingDuration
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::hook('/twilio/recording?tenant=clinic-a',
      AccountSid => $::AC, CallSid => ::sid(21), RecordingUrl => 'https://api.twilio.com/r/RE1',
      RecordingStatus => 'completed', Duration => '12') ]
--- error_code: 200
--- response_body eval: $::hangup
--- error_log eval
qq{voxanne: call ${\ ::sid(21)} tenant "clinic-a": recording "https://api.twilio.com/r/RE1" status "completed" duration "12"}



=== TEST 10: recording for an unknown tenant, or with none in the URL: 403, empty
--- http_config eval: ::tenant() . ::tenant_b()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::hook('/twilio/recording?tenant=unknown', AccountSid => $::AC, CallSid => ::sid(22),
      RecordingUrl => 'https://api.twilio.com/r/RE2', RecordingStatus => 'completed'),
  ::hook('/twilio/recording', AccountSid => $::AC, CallSid => ::sid(22),
      RecordingUrl => 'https://api.twilio.com/r/RE2', RecordingStatus => 'completed'),
  ::hook('/twilio/recording?tenant=clinic-b', AccountSid => $::BC, CallSid => ::sid(22),
      RecordingUrl => 'https://api.twilio.com/r/RE2', RecordingStatus => 'completed') ]
--- error_code eval: [403, 403, 403]
--- response_headers eval
["!X-Tenant\n!X-Signature\nContent-Length: 0", "!X-Tenant\nContent-Length: 0",
 "X-Tenant: clinic-b\nX-Signature: invalid"]
--- response_body_like eval: [($::empty) x 3]
--- error_log eval
[qr/\[warn\] .*voxanne: twilio recording: no tenant for ""/,
 'voxanne: twilio recording: tenant "clinic-b": X-Twilio-Signature does not match, forbidden']
--- grep_error_log: no tenant for ""
--- grep_error_log_out
no tenant for ""
no tenant for ""
--- no_error_log
recording "



=== TEST 11: stream-ended for a call not in the table: hang up, logged
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ ::stream_ended(::sid(23)) ]
--- error_code: 200
--- response_headers
Content-Type: text/xml
X-Route: stream-ended
--- response_body eval: $::hangup
--- error_log eval
qq{voxanne: call ${\ ::sid(23)} tenant "clinic-a": stream ended, call not in the table}



=== TEST 12: the other routes for a number no tenant owns: 403, empty
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::status(::sid(24), 'completed', 1, to => '+15559999999'),
  ::stream_ended(::sid(24), to => '+15559999999'),
  { %{ ::status(::sid(24), 'completed', 1, to => '+15559999999') }, uri => '/twilio/recording?tenant=clinic-a' } ]
--- error_code eval: [403, 403, 403]
--- response_headers eval
[ map { "!X-Tenant\n!X-Signature\nContent-Length: 0\nX-Call: " . ::sid(24) } 1 .. 3 ]
--- response_body_like eval: [($::empty) x 3]
--- error_log
voxanne: twilio status: no tenant for "+15559999999"
voxanne: twilio stream-ended: no tenant for "+15559999999"
voxanne: twilio recording: no tenant for "+15559999999"
--- no_error_log
not in the table



=== TEST 13: GET: 405 before anything is read
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval: [ { %{ ::call(::sid(25)) }, method => 'GET' }, { uri => '/twilio/status', method => 'GET' } ]
--- error_code eval: [405, 405]
--- response_headers eval
["X-Route: voice\nAllow: POST\n!X-Call\n!X-Signature\n!X-Tenant", "X-Route: status\nAllow: POST\n!X-Call"]
--- no_error_log
connecting
voxanne: call



=== TEST 14: a body over voxanne_body_max: 413 before it is read; exactly the maximum is fine
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: "voxanne_body_max 1k;\n" . $::locations
--- webhooks eval
[ { %{ ::call(::sid(26)) }, params => [ ::sized_params(1024, @{ ::call(::sid(26))->{params} }) ] },
  { %{ ::call(::sid(27)) }, params => [ ::sized_params(1025, @{ ::call(::sid(27))->{params} }) ] } ]
--- error_code eval: [200, 413]
--- response_headers eval
["X-Call: ${\ ::sid(26)}", "!X-Call"]
--- response_body_like eval: [$::connect, qr/413 Request Entity Too Large/]
--- error_log
voxanne: twilio voice: body of 1025 bytes is larger than voxanne_body_max 1024
--- no_error_log eval
[qq{voxanne: call ${\ ::sid(27)}}, 'body of 1024 bytes']



=== TEST 15: a chunked body: 411
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ { %{ ::call(::sid(28)) }, headers => "Transfer-Encoding: chunked\n",
    body => "b\r\nCallSid=CA1\r\n0\r\n\r\n" } ]
--- error_code: 411
--- response_headers
!X-Call
X-Route: voice
--- error_log
voxanne: twilio voice: chunked body refused, Content-Length is required
--- no_error_log
voxanne: call



=== TEST 16: Content-Type: a form body, with parameters and in any case; anything else is 415
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ { %{ ::status(::sid(29), 'completed', 1) }, type => 'text/plain' },
  { %{ ::status(::sid(29), 'completed', 1) }, type => undef },
  { %{ ::status(::sid(29), 'completed', 1) }, type => 'application/x-www-form-urlencodedx' },
  { %{ ::status(::sid(29), 'completed', 1) }, type => 'application/x-www-form-urlencoded; charset=utf-8' },
  { %{ ::status(::sid(29), 'completed', 1) }, type => 'Application/X-WWW-Form-URLEncoded' } ]
--- error_code eval: [415, 415, 415, 200, 200]
--- response_headers eval
[("!X-Call\n!X-Signature") x 3, ("X-Signature: ok\nX-Call: " . ::sid(29)) x 2]
--- error_log
voxanne: twilio status: unsupported content type "text/plain"
voxanne: twilio status: unsupported content type ""
voxanne: twilio status: unsupported content type "application/x-www-form-urlencodedx"
--- grep_error_log eval: qr/completed for a call not in the table/
--- grep_error_log_out
completed for a call not in the table
completed for a call not in the table



=== TEST 17: a malformed escape: 400
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ { %{ ::call(::sid(30)) }, body => "CallSid=${\ ::sid(30)}&To=%2B15550100001&From=%zz" },
  { %{ ::call(::sid(30)) }, body => "CallSid=${\ ::sid(30)}&To=%2B15550100001&From=%2" },
  { uri => '/twilio/status', body => "CallSid=${\ ::sid(30)}&To=%2B15550100001&%g0=1" } ]
--- error_code eval: [400, 400, 400]
--- response_headers eval
["!X-Call\nX-Route: voice", "!X-Call", "!X-Call\nX-Route: status"]
--- error_log
voxanne: twilio voice: malformed form body
voxanne: twilio status: malformed form body
--- grep_error_log: malformed form body
--- grep_error_log_out eval: "malformed form body\n" x 3



=== TEST 18: 129 form parameters: 400; 128 are fine
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ ::hook('/twilio/recording', AccountSid => $::AC, CallSid => ::sid(31), To => '+15550100001',
         map { ("P$_" => $_) } 1 .. 125),
  ::hook('/twilio/recording', AccountSid => $::AC, CallSid => ::sid(31), To => '+15550100001',
         map { ("P$_" => $_) } 1 .. 126) ]
--- error_code eval: [200, 400]
--- response_headers eval
["X-Signature: ok\nX-Call: ${\ ::sid(31)}", "!X-Call\n!X-Signature"]
--- response_body_like eval: [qr/\A\Q$::hangup\E\z/, qr/400 Bad Request/]
--- error_log
voxanne: twilio recording: too many form parameters
--- grep_error_log: too many form parameters
--- grep_error_log_out
too many form parameters



=== TEST 19: an empty body, with and without Content-Length: no tenant, so Reject on voice and 403 elsewhere
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ { uri => '/twilio/voice' },
  { uri => '/twilio/voice', headers => "Content-Length: 0\n" },
  { uri => '/twilio/status' },
  { uri => '/twilio/stream-ended', headers => "Content-Length: 0\n" },
  { uri => '/twilio/recording' },
  { uri => '/twilio/recording?tenant=clinic-a' } ]
--- error_code eval: [200, 200, 403, 403, 403, 403]
--- response_headers eval
[("Content-Type: text/xml\n!X-Call\n!X-Tenant") x 2, ("Content-Length: 0\n!X-Call\n!X-Tenant") x 3,
 "Content-Length: 0\nX-Tenant: clinic-a\n!X-Signature\n!X-Call"]
--- response_body_like eval
[(qr{\A<\?xml[^>]+>\n<Response><Reject/></Response>\n\z}) x 2, ($::empty) x 4]
--- error_log
voxanne: twilio voice: no tenant for ""
voxanne: twilio status: no tenant for ""
voxanne: twilio stream-ended: no tenant for ""
voxanne: twilio recording: no tenant for ""
voxanne: twilio recording: tenant "clinic-a": AccountSid "" is not the tenant's
--- grep_error_log: no tenant for ""
--- grep_error_log_out eval: qq{no tenant for ""\n} x 5



=== TEST 20: a body of voxanne_body_max stays in memory even when client_body_buffer_size is smaller
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: "client_body_buffer_size 1k;\nvoxanne_body_max 8k;\n" . $::locations
--- webhooks eval
[ { %{ ::call(::sid(32)) }, params => [ ::sized_params(6000, @{ ::call(::sid(32))->{params} }) ] },
  { %{ ::call(::sid(33)) }, params => [ ::sized_params(8192, @{ ::call(::sid(33))->{params} }) ] },
  { %{ ::call(::sid(34)) }, params => [ ::sized_params(8193, @{ ::call(::sid(34))->{params} }) ] } ]
--- error_code eval: [200, 200, 413]
--- response_headers eval
["X-Signature: ok\nX-Call: ${\ ::sid(32)}", "X-Signature: ok\nX-Call: ${\ ::sid(33)}", "!X-Call"]
--- response_body_like eval: [$::connect, $::connect, qr/413 Request Entity Too Large/]
--- error_log eval
[qq{voxanne: call ${\ ::sid(32)} tenant "clinic-a" from "+14155550123": connecting},
 qq{voxanne: call ${\ ::sid(33)} tenant "clinic-a" from "+14155550123": connecting},
 'voxanne: twilio voice: body of 8193 bytes is larger than voxanne_body_max 8192']
--- no_error_log
a client request body is buffered to a temporary file
was written to a file
[warn]



=== TEST 21: a body nginx writes to a file anyway (client_body_in_file_only): 500, logged
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: "client_body_in_file_only on;\n" . $::locations
--- webhooks eval: [ ::call(::sid(35)) ]
--- error_code: 500
--- response_headers
!X-Call
--- error_log
[error]
voxanne: twilio voice: body was written to a file, check client_body_in_file_only
--- no_error_log
connecting



=== TEST 22: $voxanne_route on every route, unset elsewhere
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval
$::locations . <<'_EOC_';
    location = /other {
        add_header X-Route "[$voxanne_route]" always;
        add_header X-Call "[$voxanne_call_sid]" always;
        add_header X-Signature "[$voxanne_signature]" always;
        return 200 "other\n";
    }
_EOC_
--- webhooks eval
[ ::call(::sid(40)),
  ::status(::sid(40), 'completed', 1),
  ::stream_ended(::sid(40)),
  ::hook('/twilio/recording', AccountSid => $::AC, CallSid => ::sid(40), To => '+15550100001'),
  ::hook('/other', AccountSid => $::AC, CallSid => ::sid(40), To => '+15550100001') ]
--- error_code eval: [200, 200, 200, 200, 200]
--- response_headers eval
[map({ "X-Route: $_\nX-Tenant: clinic-a\nX-Call: ${\ ::sid(40)}" } qw(voice status stream-ended recording)),
 "X-Route: []\nX-Call: []\nX-Signature: []"]
--- response_body_like eval: [$::connect, $::empty, qr/<Hangup/, qr/<Hangup/, qr/\Aother\n\z/]



=== TEST 23: $voxanne_signature: missing, invalid, ok; unset when no tenant was found or before the check
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ { %{ ::status(::sid(41), 'completed', 1) }, token => undef },
  { %{ ::status(::sid(41), 'completed', 1) }, token => '54321' },
  ::status(::sid(41), 'completed', 1),
  ::status(::sid(41), 'completed', 1, to => '+15559999999'),
  { %{ ::status(::sid(41), 'completed', 1) }, type => 'text/plain' } ]
--- error_code eval: [403, 403, 200, 403, 415]
--- response_headers eval
["X-Signature: missing\nX-Tenant: clinic-a\nX-Call: ${\ ::sid(41)}",
 "X-Signature: invalid\nX-Tenant: clinic-a\nX-Call: ${\ ::sid(41)}",
 "X-Signature: ok\nX-Tenant: clinic-a\nX-Call: ${\ ::sid(41)}",
 "!X-Signature\n!X-Tenant\nX-Call: ${\ ::sid(41)}",
 "!X-Signature\n!X-Tenant\n!X-Call"]
--- error_log
voxanne: twilio status: tenant "clinic-a": no X-Twilio-Signature, forbidden
voxanne: twilio status: tenant "clinic-a": X-Twilio-Signature does not match, forbidden
--- grep_error_log: for a call not in the table
--- grep_error_log_out
for a call not in the table



=== TEST 24: keepalive: two webhooks pipelined on one connection
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- pipelined
--- webhooks eval: [ ::call(::sid(42)), ::status(::sid(42), 'in-progress', 1), ::stream_ended(::sid(42)) ]
--- error_code eval: [200, 200, 200]
--- response_headers eval
["X-Route: voice\nX-Call: ${\ ::sid(42)}", "X-Route: status\nContent-Length: 0\nX-Call: ${\ ::sid(42)}",
 "X-Route: stream-ended\nX-Call: ${\ ::sid(42)}"]
--- response_body_like eval: [$::connect, $::empty, qr/\A\Q$::hangup\E\z/]
--- grep_error_log eval: $::table
--- grep_error_log_out eval
::table_log(::sid(42), 'clinic-a', 'ringing -> in-progress', 'stream ended, line released')
--- error_log
pipelined request



=== TEST 25: keepalive: webhooks one after another on one connection
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- keepalive
--- webhooks eval
[ ::call(::sid(43)), ::status(::sid(43), 'completed', 3),
  { %{ ::status(::sid(43), 'completed', 3) }, token => '54321' }, ::call(::sid(44)) ]
--- error_code eval: [200, 200, 403, 200]
--- response_headers eval
["X-Call: ${\ ::sid(43)}", "X-Call: ${\ ::sid(43)}\nX-Signature: ok", "X-Signature: invalid", "X-Call: ${\ ::sid(44)}"]
--- response_body_like eval: [$::connect, $::empty, $::empty, $::connect]
--- grep_error_log eval: $::table
--- grep_error_log_out eval
::table_log(::sid(43), 'clinic-a', 'ringing -> completed')
--- error_log
http keepalive handler



=== TEST 26: a body that arrives in pieces, cut inside an escape, is read whole
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config eval: $::locations
--- webhooks eval
[ { %{ ::call(::sid(45)) },
    split => [1, 30, index(::twilio_form(@{ ::call(::sid(45))->{params} }), '%2B') + 2] },
  { %{ ::status(::sid(45), 'completed', 2) },
    split => [index(::twilio_form(@{ ::status(::sid(45), 'completed', 2)->{params} }), 'CallSid=') + 20] } ]
--- error_code eval: [200, 200]
--- response_headers eval
["X-Signature: ok\nX-Call: ${\ ::sid(45)}", "X-Signature: ok\nX-Call: ${\ ::sid(45)}"]
--- response_body_like eval: [$::connect, $::empty]
--- grep_error_log eval: $::table
--- grep_error_log_out eval
::table_log(::sid(45), 'clinic-a', 'ringing -> completed')
--- error_log
http read client request body
