use Test::Nginx::Socket 'no_plan';
use Voxanne::Test::Twilio qw(twilio_request stream_token_ok);
use POSIX ();

# voxanne_twilio, voxanne_session_zone,
# voxanne_body_max and tenant names: each must_die block breaks one thing;
# the others start nginx and send webhooks ("webhooks" as in 031).

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
our $PAGE = POSIX::sysconf(POSIX::_SC_PAGESIZE());

sub tenant {
    my (%o) = @_;
    my $name = $o{name} // 'clinic-a';
    my $numbers = $o{numbers} // '+15550100001 +15550100002';
    my $token = $o{token} // 'a.token';
    return <<"_EOC_";
    voxanne_tenant $name {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000a;
        numbers                $numbers;
        twilio_account_sid     $AC;
        twilio_auth_token_file ../html/$token;
        public_url             https://edge.example.com;
    }
_EOC_
}

our $files = <<'_EOC_';
>>> a.token
12345
>>> b.token
67890
_EOC_

sub sid { sprintf 'CA%032x', shift }

sub call {
    my ($sid, %o) = @_;
    return {
        uri => $o{uri} // '/twilio/voice',
        params => [
            AccountSid => $AC, CallSid => $sid, CallStatus => $o{status} // 'ringing',
            Direction => 'inbound', From => '+14155550123',
            To => $o{to} // '+15550100001', @{ $o{more} || [] },
        ],
        exists $o{token} ? (token => $o{token}) : (),
        $o{delay} ? (delay => $o{delay}) : (),
    };
}

our $routes = <<'_EOC_';
    location /twilio/ {
        add_header X-Tenant $voxanne_tenant always;
        add_header X-Route $voxanne_route always;

        location = /twilio/voice { voxanne_twilio voice; }
        location = /twilio/status { voxanne_twilio status; }
        location = /twilio/stream-ended { voxanne_twilio stream-ended; }
        location = /twilio/recording { voxanne_twilio recording; }
    }
_EOC_

# a <Connect> answer for tenant $name under the path /$dir/
sub connect_re {
    my ($name, $dir) = @_;
    $dir //= 'twilio';
    return qr{\A<\?xml version="1\.0" encoding="UTF-8"\?>\n<Response><Connect action="https://edge\.example\.com/\Q$dir\E/stream-ended"><Stream url="wss://edge\.example\.com/\Q$dir\E/media/\Q$name\E"><Parameter name="tenant" value="\Q$name\E"/><Parameter name="token" value="v1\.\d+\.[A-Za-z0-9_-]{43}"/></Stream></Connect></Response>\n\z};
}

our $hangup = qq{<?xml version="1.0" encoding="UTF-8"?>\n<Response><Hangup/></Response>\n};

# "--- stream_token eval: [[response index, auth token, tenant, CallSid,
# ttl], ...]": the token's MAC, and its expiry the response's Date + ttl
# (later requests of the block may come seconds after it)
Test::Nginx::Socket::add_block_handler(sub {
    my ($block, $ctx) = @_;
    my $checks = $block->stream_token or return;
    for my $check (@$checks) {
        my ($i, @token) = @$check;
        stream_token_ok($ctx->responses->[$i], @token, $ctx->name . " - stream token $i");
    }
});

run_tests();

__DATA__

=== TEST 1: voxanne_twilio: an unknown route
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config
    location = /twilio/voice { voxanne_twilio vioce; }
--- must_die
--- error_log
invalid route "vioce", "voice", "stream-ended", "status" or "recording" is expected



=== TEST 2: voxanne_twilio: tenant= names an unknown tenant
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config
    location = /twilio/voice { voxanne_twilio voice tenant=clinic-z; }
--- must_die
--- error_log
unknown tenant "clinic-z" in voxanne_twilio



=== TEST 3: voxanne_twilio: a pinned tenant needs a tenant at all
--- config
    location = /twilio/voice { voxanne_twilio voice tenant=clinic-a; }
--- must_die
--- error_log
unknown tenant "clinic-a" in voxanne_twilio



=== TEST 4: voxanne_twilio: a second parameter that is not tenant=NAME
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config
    location = /twilio/voice { voxanne_twilio voice clinic-a; }
--- must_die
--- error_log
invalid parameter "clinic-a"



=== TEST 5: voxanne_twilio: tenant= with an empty name
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config
    location = /twilio/voice { voxanne_twilio voice tenant=; }
--- must_die
--- error_log
invalid parameter "tenant="



=== TEST 6: voxanne_twilio: three parameters
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config
    location = /twilio/voice { voxanne_twilio voice tenant=clinic-a x; }
--- must_die
--- error_log
invalid number of arguments in "voxanne_twilio" directive



=== TEST 7: voxanne_twilio twice in one location
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config
    location = /twilio/voice {
        voxanne_twilio voice;
        voxanne_twilio status;
    }
--- must_die
--- error_log
"voxanne_twilio" directive is duplicate



=== TEST 8: voxanne_twilio after voxanne_health in one location
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config
    location = /twilio/voice {
        voxanne_health;
        voxanne_twilio voice;
    }
--- must_die
--- error_log
"voxanne_twilio" directive conflicts with another content handler in this location



=== TEST 9: voxanne_health after voxanne_twilio in one location
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config
    location = /twilio/voice {
        voxanne_twilio voice;
        voxanne_health;
    }
--- must_die
--- error_log
"voxanne_health" directive conflicts with another content handler in this location



=== TEST 10: voxanne_twilio at server level
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config
    voxanne_twilio voice;
--- must_die
--- error_log
"voxanne_twilio" directive is not allowed here



=== TEST 11: voxanne_twilio at http level
--- http_config eval: ::tenant() . "    voxanne_twilio voice;\n"
--- user_files eval: $::files
--- must_die
--- error_log
"voxanne_twilio" directive is not allowed here



=== TEST 12: voxanne_session_zone below eight pages
--- http_config eval: "voxanne_session_zone zone=s:16k;\n" . ::tenant()
--- user_files eval: $::files
--- must_die
--- error_log eval
"zone \"s\" is too small, at least ${\ (8 * $::PAGE)} bytes are needed"



=== TEST 13: voxanne_session_zone: not a size
--- http_config eval: "voxanne_session_zone zone=s:1x;\n" . ::tenant()
--- user_files eval: $::files
--- must_die
--- error_log
invalid parameter "zone=s:1x"



=== TEST 14: voxanne_session_zone twice
--- http_config eval: "voxanne_session_zone zone=s:1m;\nvoxanne_session_zone zone=t:2m;\n" . ::tenant()
--- user_files eval: $::files
--- must_die
--- error_log
"voxanne_session_zone" directive is duplicate



=== TEST 15: voxanne_session_zone is an http-level directive
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config
    voxanne_session_zone zone=s:1m;
--- must_die
--- error_log
"voxanne_session_zone" directive is not allowed here



=== TEST 16: voxanne_session_zone: a timeout that is not a time
--- http_config eval: "voxanne_session_zone zone=s:1m timeout=abc;\n" . ::tenant()
--- user_files eval: $::files
--- must_die
--- error_log
invalid timeout "timeout=abc", at least 1s is expected



=== TEST 17: voxanne_session_zone timeout=0 would expire every call at once
--- http_config eval: "voxanne_session_zone zone=s:1m timeout=0;\n" . ::tenant()
--- user_files eval: $::files
--- must_die
--- error_log
invalid timeout "timeout=0", at least 1s is expected



=== TEST 18: voxanne_session_zone without zone=, or with an unknown parameter
--- http_config eval: "voxanne_session_zone timeout=5s;\n" . ::tenant()
--- user_files eval: $::files
--- must_die
--- error_log
"voxanne_session_zone" must have "zone=name:size"



=== TEST 19: voxanne_session_zone with an unknown parameter
--- http_config eval: "voxanne_session_zone zone=s:1m size=2m;\n" . ::tenant()
--- user_files eval: $::files
--- must_die
--- error_log
invalid parameter "size=2m"



=== TEST 20: voxanne_body_max: not a size
--- http_config eval: ::tenant()
--- user_files eval: $::files
--- config
    location = /twilio/voice {
        voxanne_twilio voice;
        voxanne_body_max abc;
    }
--- must_die
--- error_log
"voxanne_body_max" directive invalid value



=== TEST 21: a voxanne_limit_zone may not take the call table's name
--- http_config eval: "voxanne_limit_zone zone=voxanne_sessions:1m;\n" . ::tenant()
--- user_files eval: $::files
--- must_die
--- error_log
shared zone "voxanne_sessions" is a voxanne_limit_zone, not the session table



=== TEST 22: ... nor may another module's zone
--- http_config eval: "limit_req_zone \$binary_remote_addr zone=voxanne_sessions:1m rate=1r/s;\n" . ::tenant()
--- user_files eval: $::files
--- must_die
--- error_log
the shared memory zone "voxanne_sessions" is already declared for a different use



=== TEST 23: tenant names: a space
--- http_config eval: ::tenant(name => '"bad name"')
--- user_files eval: $::files
--- must_die
--- error_log
invalid tenant name "bad name", 1 to 64 letters, digits, "_" or "-" are expected



=== TEST 24: tenant names: 65 characters
--- http_config eval: ::tenant(name => 'a' x 65)
--- user_files eval: $::files
--- must_die
--- error_log eval
qq{invalid tenant name "${\ ('a' x 65)}", 1 to 64 letters, digits, "_" or "-" are expected}



=== TEST 25: tenant names: empty
--- http_config eval: ::tenant(name => '""')
--- user_files eval: $::files
--- must_die
--- error_log
invalid tenant name "", 1 to 64 letters, digits, "_" or "-" are expected



=== TEST 26: tenant names: a slash, which would change the URLs
--- http_config eval: ::tenant(name => 'clinic/a')
--- user_files eval: $::files
--- must_die
--- error_log
invalid tenant name "clinic/a", 1 to 64 letters, digits, "_" or "-" are expected



=== TEST 27: tenant names: a dot
--- http_config eval: ::tenant(name => 'clinic.a')
--- user_files eval: $::files
--- must_die
--- error_log
invalid tenant name "clinic.a", 1 to 64 letters, digits, "_" or "-" are expected



=== TEST 28: tenant names: 64 characters, and letters, digits, "_" and "-", accepted and used
--- http_config eval
::tenant(name => 'T' . 'x' x 62 . '9') . ::tenant(name => 'a_b-9', numbers => '+15550100003', token => 'b.token')
--- user_files eval: $::files
--- config eval: $::routes
--- webhooks eval
[ ::call(::sid(1)), ::call(::sid(2), to => '+15550100003', token => '67890') ]
--- error_code eval: [200, 200]
--- response_headers eval
["X-Tenant: T${\ ('x' x 62)}9", "X-Tenant: a_b-9"]
--- response_body_like eval
[::connect_re('T' . 'x' x 62 . '9'), ::connect_re('a_b-9')]
--- stream_token eval
[[0, '12345', 'T' . 'x' x 62 . '9', ::sid(1), 30], [1, '67890', 'a_b-9', ::sid(2), 30]]
--- no_error_log
[warn]



=== TEST 29: every route, a pinned tenant, and voxanne_session_zone: starts and answers
--- http_config eval
"voxanne_session_zone zone=calls:2m timeout=5s;\n"
. ::tenant() . ::tenant(name => 'clinic-b', numbers => '+15550100003', token => 'b.token')
--- user_files eval: $::files
--- config eval
$::routes . <<'_EOC_';
    location /b/ {
        add_header X-Tenant $voxanne_tenant always;
        add_header X-Route $voxanne_route always;

        location = /b/voice { voxanne_twilio voice tenant=clinic-b; }
        location = /b/recording { voxanne_twilio recording tenant=clinic-b; }
    }
_EOC_
--- webhooks eval
[ ::call(::sid(3)),
  ::call(::sid(3), uri => '/twilio/status', status => 'in-progress', more => [SequenceNumber => 1]),
  ::call(::sid(3), uri => '/twilio/stream-ended'),
  ::call(::sid(3), uri => '/twilio/recording', more => [RecordingUrl => 'https://api.twilio.com/r/RE3',
      RecordingStatus => 'completed', RecordingDuration => 7]),
  ::call(::sid(4), uri => '/b/voice', token => '67890'),
  ::call(::sid(4), uri => '/b/recording', token => '67890'),
  ::call(::sid(5), uri => '/b/voice') ]
--- error_code eval: [200, 200, 200, 200, 200, 200, 403]
--- response_headers eval
["X-Route: voice\nX-Tenant: clinic-a", "X-Route: status\nX-Tenant: clinic-a",
 "X-Route: stream-ended\nX-Tenant: clinic-a", "X-Route: recording\nX-Tenant: clinic-a",
 "X-Route: voice\nX-Tenant: clinic-b", "X-Route: recording\nX-Tenant: clinic-b",
 "X-Route: voice\nX-Tenant: clinic-b"]
--- response_body_like eval
[::connect_re('clinic-a'), qr/\A\z/, qr/\A\Q$::hangup\E\z/, qr/\A\Q$::hangup\E\z/,
 ::connect_re('clinic-b', 'b'), qr/\A\Q$::hangup\E\z/, qr/\A\z/]
--- stream_token eval
[[0, '12345', 'clinic-a', ::sid(3), 5], [4, '67890', 'clinic-b', ::sid(4), 5]]
--- error_log eval
[qq{voxanne: call ${\ ::sid(3)} tenant "clinic-a": ringing -> in-progress},
 qq{voxanne: call ${\ ::sid(3)} tenant "clinic-a": stream ended, line released},
 qq{voxanne: call ${\ ::sid(3)} tenant "clinic-a": recording "https://api.twilio.com/r/RE3" status "completed" duration "7"},
 qq{voxanne: call ${\ ::sid(4)} tenant "clinic-b" from "+14155550123": connecting},
 'voxanne: twilio voice: tenant "clinic-b": X-Twilio-Signature does not match, forbidden']



=== TEST 30: the session timeout bounds how long a call waits for its stream
--- http_config eval: "voxanne_session_zone zone=s:1m timeout=1s;\n" . ::tenant()
--- user_files eval: $::files
--- config eval: $::routes
--- webhooks eval
[ ::call(::sid(6)),
  ::call(::sid(6), uri => '/twilio/status', status => 'completed', more => [SequenceNumber => 1], delay => 2.1) ]
--- error_code eval: [200, 200]
--- response_body_like eval: [::connect_re('clinic-a'), qr/\A\z/]
--- stream_token eval: [[0, '12345', 'clinic-a', ::sid(6), 1]]
--- error_log eval
qq{voxanne: call ${\ ::sid(6)} tenant "clinic-a": completed for a call not in the table}
--- timeout: 10



=== TEST 31: routes without any tenant: every number is unknown
--- config eval: $::routes
--- webhooks eval
[ ::call(::sid(7)), ::call(::sid(7), uri => '/twilio/status'),
  ::call(::sid(7), uri => '/twilio/recording') ]
--- error_code eval: [200, 403, 403]
--- response_headers eval
["!X-Tenant\nX-Route: voice", "!X-Tenant\nX-Route: status", "!X-Tenant\nX-Route: recording"]
--- response_body_like eval
[qr{<Response><Reject/></Response>}, qr/\A\z/, qr/\A\z/]
--- error_log
voxanne: twilio voice: no tenant for "+15550100001"
voxanne: twilio status: no tenant for "+15550100001"



=== TEST 32: voxanne_body_max is inherited from the http level, and a location may raise it
--- http_config eval: "voxanne_body_max 1k;\n" . ::tenant()
--- user_files eval: $::files
--- config eval
$::routes . <<'_EOC_';
    location = /big/voice {
        voxanne_body_max 4k;
        voxanne_twilio voice;
    }
_EOC_
--- webhooks eval
[ ::call(::sid(8), more => [Pad => 'x' x 1100]),
  ::call(::sid(8), uri => '/big/voice', more => [Pad => 'x' x 1100]) ]
--- error_code eval: [413, 200]
--- response_body_like eval: [qr/413 Request Entity Too Large/, qr/<Connect /]
--- error_log eval
qr/voxanne: twilio voice: body of \d+ bytes is larger than voxanne_body_max 1024/
