use Test::Nginx::Socket 'no_plan';

# a valid tenant; each must_die block below breaks one thing in a copy of it

our $tenant = <<'_EOC_';
    voxanne_tenant clinic-a {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000a;
        numbers                +15550109999 +15550108888;
        twilio_account_sid     AC0123456789abcdef0123456789abcdef;
        twilio_auth_token_file ../html/a.token;
        twilio_auth_token_file ../html/a.next.token;
        public_url             https://edge.example.com;
        timezone               America/New_York;
        hours                  mon-fri 09:00-17:00, sat 10:00-14:00;
        closed                 2026-12-25 2027-01-01;
        max_calls              20;
        busy                   reject;
        after_hours            voicemail;
        fallback               dial +15551230000;
        voicemail_greeting     "Sorry we missed you, please leave a message.";
    }
_EOC_

our $files = <<'_EOC_';
>>> a.token
12345
>>> a.next.token
67890
>>> empty.token

_EOC_

sub broken {
    my ($from, $to) = @_;
    my $conf = $::tenant;
    $conf =~ s/\Q$from\E/$to/ or die "no \"$from\" in the tenant";
    return $conf;
}

run_tests();

__DATA__

=== TEST 1: a complete tenant loads
--- http_config eval: $::tenant
--- user_files eval: $::files
--- config
    location = /healthz { voxanne_health; }
--- request
GET /healthz
--- error_code: 200
--- no_error_log
[error]



=== TEST 2: the smallest tenant loads (defaults for the rest)
--- http_config
    voxanne_tenant minimal {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000b;
        numbers                +15550100002;
        twilio_auth_token_file ../html/a.token;
        public_url             http://127.0.0.1:8080;
    }
--- user_files eval: $::files
--- config
    location = /healthz { voxanne_health; }
--- request
GET /healthz
--- error_code: 200
--- no_error_log
[error]



=== TEST 3: malformed E.164
--- http_config eval: ::broken("+15550108888", "15550108888")
--- user_files eval: $::files
--- must_die
--- error_log
invalid number "15550108888" in tenant "clinic-a", E.164 is expected



=== TEST 4: E.164 has at most 15 digits
--- http_config eval: ::broken("+15550108888", "+1555010888812345")
--- user_files eval: $::files
--- must_die
--- error_log
invalid number "+1555010888812345" in tenant "clinic-a"



=== TEST 5: a number claimed by two tenants
--- http_config eval
$::tenant . <<'_EOC_';
    voxanne_tenant clinic-b {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000c;
        numbers                +15550100003 +15550108888;
        twilio_auth_token_file ../html/a.token;
        public_url             https://edge.example.com;
    }
_EOC_
--- user_files eval: $::files
--- must_die
--- error_log
number "+15550108888" of tenant "clinic-b" already belongs to tenant "clinic-a"



=== TEST 6: duplicate tenant names
--- http_config eval: $::tenant . $::tenant
--- user_files eval: $::files
--- must_die
--- error_log
duplicate tenant "clinic-a"



=== TEST 7: unreadable token file
--- http_config eval: ::broken("../html/a.next.token", "../html/missing.token")
--- user_files eval: $::files
--- must_die
--- error_log eval
qr/\[emerg\] .*open\(\) ".*missing\.token" failed \(2: No such file or directory\)/



=== TEST 8: empty token file
--- http_config eval: ::broken("../html/a.next.token", "../html/empty.token")
--- user_files eval: $::files
--- must_die
--- error_log
twilio_auth_token_file "../html/empty.token" of tenant "clinic-a" is empty



=== TEST 9: a third token file
--- http_config eval: ::broken("        public_url", "        twilio_auth_token_file ../html/a.token;\n        public_url")
--- user_files eval: $::files
--- must_die
--- error_log
tenant "clinic-a" has more than two twilio_auth_token_file



=== TEST 10: unknown timezone
--- http_config eval: ::broken("America/New_York", "America/Gotham")
--- user_files eval: $::files
--- must_die
--- error_log
unknown timezone "America/Gotham" in tenant "clinic-a"



=== TEST 11: a timezone may not leave the zoneinfo folder
--- http_config eval: ::broken("America/New_York", "../../../etc/passwd")
--- user_files eval: $::files
--- must_die
--- error_log
unknown timezone "../../../etc/passwd" in tenant "clinic-a"



=== TEST 12: malformed hours: closing before opening
--- http_config eval: ::broken("10:00-14:00", "14:00-10:00")
--- user_files eval: $::files
--- must_die
--- error_log
invalid hours "14:00-10:00" in tenant "clinic-a"



=== TEST 13: malformed hours: unknown day
--- http_config eval: ::broken("mon-fri", "monday-friday")
--- user_files eval: $::files
--- must_die
--- error_log
invalid hours "monday-friday" in tenant "clinic-a"



=== TEST 14: malformed hours: a range before any day
--- http_config eval: ::broken("mon-fri 09:00-17:00,", "09:00-17:00,")
--- user_files eval: $::files
--- must_die
--- error_log
invalid hours "09:00-17:00," in tenant "clinic-a"



=== TEST 15: a closed date that does not exist
--- http_config eval: ::broken("2027-01-01", "2027-02-29")
--- user_files eval: $::files
--- must_die
--- error_log
invalid date "2027-02-29" in tenant "clinic-a", YYYY-MM-DD is expected



=== TEST 16: org_id must be a uuid
--- http_config eval: ::broken("5b7c1d2e-0000-4000-8000-00000000000a", "clinic-a")
--- user_files eval: $::files
--- must_die
--- error_log
invalid org_id "clinic-a" in tenant "clinic-a", a lowercase uuid is expected



=== TEST 17: account SID format
--- http_config eval: ::broken("AC0123456789abcdef0123456789abcdef", "AC123")
--- user_files eval: $::files
--- must_die
--- error_log
invalid twilio_account_sid "AC123" in tenant "clinic-a"



=== TEST 18: public_url with a path
--- http_config eval: ::broken("https://edge.example.com", "https://edge.example.com/twilio")
--- user_files eval: $::files
--- must_die
--- error_log
invalid public_url "https://edge.example.com/twilio" in tenant "clinic-a"



=== TEST 19: public_url with another scheme
--- http_config eval: ::broken("https://edge.example.com", "wss://edge.example.com")
--- user_files eval: $::files
--- must_die
--- error_log
invalid public_url "wss://edge.example.com" in tenant "clinic-a"



=== TEST 20: a dial action needs an E.164 number
--- http_config eval: ::broken("dial +15551230000", "dial front-desk")
--- user_files eval: $::files
--- must_die
--- error_log
invalid action "dial front-desk", "voicemail", "hangup" or "dial +E164" is expected



=== TEST 21: unknown busy mode
--- http_config eval: ::broken("busy                   reject", "busy hangup")
--- user_files eval: $::files
--- must_die
--- error_log
invalid busy "hangup" in tenant "clinic-a", "say" or "reject" is expected



=== TEST 22: max_calls must be a number
--- http_config eval: ::broken("max_calls              20", "max_calls lots")
--- user_files eval: $::files
--- must_die
--- error_log
invalid max_calls "lots" in tenant "clinic-a"



=== TEST 23: unknown directive inside a tenant
--- http_config eval: ::broken("        max_calls", "        max_call 3;\n        max_calls")
--- user_files eval: $::files
--- must_die
--- error_log
unknown directive "max_call" in tenant "clinic-a"



=== TEST 24: a required directive is missing
--- http_config
    voxanne_tenant nopublic {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000b;
        numbers                +15550100002;
        twilio_auth_token_file ../html/a.token;
    }
--- user_files eval: $::files
--- must_die
--- error_log
tenant "nopublic" needs org_id, numbers, twilio_auth_token_file and public_url



=== TEST 25: wrong number of arguments inside a tenant
--- http_config eval: ::broken("timezone               America/New_York", "timezone America/New_York Europe/Paris")
--- user_files eval: $::files
--- must_die
--- error_log
invalid number of arguments in "timezone" of tenant "clinic-a"



=== TEST 26: voxanne_tenant is an http-level block
--- config
    voxanne_tenant x {
        org_id 5b7c1d2e-0000-4000-8000-00000000000b;
    }
--- must_die
--- error_log
"voxanne_tenant" directive is not allowed here



=== TEST 27: a single-valued directive given twice
--- http_config eval: ::broken("        timezone", "        public_url https://other.example.com;\n        timezone")
--- user_files eval: $::files
--- must_die
--- error_log
duplicate "public_url" in tenant "clinic-a"



=== TEST 28: hours given twice
--- http_config eval: ::broken("        closed", "        hours sun 10:00-12:00;\n        closed")
--- user_files eval: $::files
--- must_die
--- error_log
duplicate "hours" in tenant "clinic-a"



=== TEST 29: numbers and closed may repeat
--- http_config eval: ::broken("        closed", "        numbers +15550107777;\n        closed 2027-07-04;\n        closed")
--- user_files eval: $::files
--- config
    location = /healthz { voxanne_health; }
--- request
GET /healthz
--- error_code: 200
--- no_error_log
[error]
