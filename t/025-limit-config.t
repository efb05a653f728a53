use Test::Nginx::Socket 'no_plan';

# a valid zone and tenant; each must_die block below breaks one thing in a
# copy of it

our $tenant = <<'_EOC_';
    voxanne_limit_zone zone=webhooks:1m;

    voxanne_tenant clinic-a {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000a;
        numbers                +15550109999;
        twilio_auth_token_file ../html/a.token;
        public_url             https://edge.example.com;
        limit                  zone=webhooks rate=30r/m burst=10;
        caller_limit           zone=callers rate=3r/m burst=2;
    }

    voxanne_limit_zone zone=callers:64k;
_EOC_

our $files = <<'_EOC_';
>>> a.token
12345
_EOC_

sub broken {
    my ($from, $to) = @_;
    my $conf = $::tenant;
    $conf =~ s/\Q$from\E/$to/ or die "no \"$from\" in the tenant";
    return $conf;
}

run_tests();

__DATA__

=== TEST 1: zones and both limits load (a zone may come after the tenant)
--- http_config eval: $::tenant
--- user_files eval: $::files
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- error_code: 200
--- response_body
ok
--- no_error_log
[error]



=== TEST 2: limits are optional; burst defaults to 0; r/s; tenants share a zone
--- http_config eval
::broken("        caller_limit           zone=callers rate=3r/m burst=2;\n", "")
. <<'_EOC_';
    voxanne_tenant clinic-b {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000b;
        numbers                +15550108888;
        twilio_auth_token_file ../html/a.token;
        public_url             https://edge.example.com;
        limit                  zone=webhooks rate=5r/s;
        caller_limit           zone=webhooks burst=0 rate=1r/m;
    }

    voxanne_tenant clinic-c {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000c;
        numbers                +15550107777;
        twilio_auth_token_file ../html/a.token;
        public_url             https://edge.example.com;
    }
_EOC_
--- user_files eval: $::files
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- error_code: 200
--- no_error_log
[error]



=== TEST 3: zone without a size
--- http_config eval: ::broken("zone=webhooks:1m", "zone=webhooks")
--- user_files eval: $::files
--- must_die
--- error_log
invalid zone size "zone=webhooks"



=== TEST 4: zone with a malformed size
--- http_config eval: ::broken("zone=webhooks:1m", "zone=webhooks:lots")
--- user_files eval: $::files
--- must_die
--- error_log
invalid zone size "zone=webhooks:lots"



=== TEST 5: zone without a name
--- http_config eval: ::broken("zone=webhooks:1m", "zone=:1m")
--- user_files eval: $::files
--- must_die
--- error_log
invalid zone name "zone=:1m"



=== TEST 6: zone= is required in voxanne_limit_zone
--- http_config eval: ::broken("zone=webhooks:1m", "webhooks:1m")
--- user_files eval: $::files
--- must_die
--- error_log
invalid parameter "webhooks:1m", "zone=name:size" is expected



=== TEST 7: zone smaller than 8 pages
--- http_config eval: ::broken("zone=callers:64k", "zone=callers:16k")
--- user_files eval: $::files
--- must_die
--- error_log
zone "zone=callers:16k" is too small



=== TEST 8: voxanne_limit_zone takes one argument
--- http_config eval: ::broken("zone=webhooks:1m", "zone=webhooks:1m rate=1r/s")
--- user_files eval: $::files
--- must_die
--- error_log
invalid number of arguments in "voxanne_limit_zone" directive



=== TEST 9: voxanne_limit_zone is an http-level directive
--- http_config eval: $::tenant
--- user_files eval: $::files
--- config
    voxanne_limit_zone zone=other:1m;
--- must_die
--- error_log
"voxanne_limit_zone" directive is not allowed here



=== TEST 10: the same zone declared twice
--- http_config eval: $::tenant . "    voxanne_limit_zone zone=webhooks:1m;\n"
--- user_files eval: $::files
--- must_die
--- error_log
duplicate voxanne_limit_zone "webhooks"



=== TEST 11: a zone name taken by another module is nginx's own error
--- http_config eval: $::tenant . "    limit_req_zone \$binary_remote_addr zone=webhooks:1m rate=1r/s;\n"
--- user_files eval: $::files
--- must_die
--- error_log
the shared memory zone "webhooks" is already declared for a different use



=== TEST 12: limit without zone=
--- http_config eval: ::broken("zone=webhooks rate=30r/m", "rate=30r/m")
--- user_files eval: $::files
--- must_die
--- error_log
missing "zone=" parameter in "limit" of tenant "clinic-a"



=== TEST 13: limit without rate=
--- http_config eval: ::broken("zone=callers rate=3r/m burst=2", "zone=callers burst=2")
--- user_files eval: $::files
--- must_die
--- error_log
missing "rate=" parameter in "caller_limit" of tenant "clinic-a"



=== TEST 14: rate in another unit
--- http_config eval: ::broken("rate=30r/m", "rate=30r/h")
--- user_files eval: $::files
--- must_die
--- error_log
invalid rate "rate=30r/h" in "limit" of tenant "clinic-a"



=== TEST 15: rate without a unit
--- http_config eval: ::broken("rate=3r/m", "rate=3")
--- user_files eval: $::files
--- must_die
--- error_log
invalid rate "rate=3" in "caller_limit" of tenant "clinic-a"



=== TEST 16: rate of zero
--- http_config eval: ::broken("rate=30r/m", "rate=0r/m")
--- user_files eval: $::files
--- must_die
--- error_log
invalid rate "rate=0r/m" in "limit" of tenant "clinic-a"



=== TEST 17: rate without a number
--- http_config eval: ::broken("rate=30r/m", "rate=r/s")
--- user_files eval: $::files
--- must_die
--- error_log
invalid rate "rate=r/s" in "limit" of tenant "clinic-a"



=== TEST 18: rate out of range
--- http_config eval: ::broken("rate=30r/m", "rate=99999999999r/s")
--- user_files eval: $::files
--- must_die
--- error_log
invalid rate "rate=99999999999r/s" in "limit" of tenant "clinic-a"



=== TEST 19: negative burst
--- http_config eval: ::broken("burst=2", "burst=-1")
--- user_files eval: $::files
--- must_die
--- error_log
invalid burst "burst=-1" in "caller_limit" of tenant "clinic-a"



=== TEST 20: burst that is not a number
--- http_config eval: ::broken("burst=10", "burst=ten")
--- user_files eval: $::files
--- must_die
--- error_log
invalid burst "burst=ten" in "limit" of tenant "clinic-a"



=== TEST 21: empty burst
--- http_config eval: ::broken("burst=10", "burst=")
--- user_files eval: $::files
--- must_die
--- error_log
invalid burst "burst=" in "limit" of tenant "clinic-a"



=== TEST 22: limit_req's nodelay has no meaning here
--- http_config eval: ::broken("burst=10", "nodelay")
--- user_files eval: $::files
--- must_die
--- error_log
invalid parameter "nodelay" in "limit" of tenant "clinic-a"



=== TEST 23: a parameter given twice
--- http_config eval: ::broken("rate=30r/m burst=10", "rate=30r/m rate=60r/m")
--- user_files eval: $::files
--- must_die
--- error_log
duplicate parameter "rate=60r/m" in "limit" of tenant "clinic-a"



=== TEST 24: an empty zone name
--- http_config eval: ::broken("zone=webhooks rate", "zone= rate")
--- user_files eval: $::files
--- must_die
--- error_log
invalid zone "zone=" in "limit" of tenant "clinic-a"



=== TEST 25: too many arguments
--- http_config eval: ::broken("burst=10", "burst=10 nodelay")
--- user_files eval: $::files
--- must_die
--- error_log
invalid number of arguments in "limit" of tenant "clinic-a"



=== TEST 26: a zone that is never declared
--- http_config eval: ::broken("zone=callers rate", "zone=callerz rate")
--- user_files eval: $::files
--- must_die
--- error_log
unknown voxanne_limit_zone "callerz" in tenant "clinic-a"



=== TEST 27: limit given twice in a tenant
--- http_config eval: ::broken("        caller_limit", "        limit zone=webhooks rate=60r/m;\n        caller_limit")
--- user_files eval: $::files
--- must_die
--- error_log
duplicate "limit" in tenant "clinic-a"



=== TEST 28: caller_limit given twice in a tenant
--- http_config eval: ::broken("burst=2;", "burst=2;\n        caller_limit zone=callers rate=3r/m;")
--- user_files eval: $::files
--- must_die
--- error_log
duplicate "caller_limit" in tenant "clinic-a"
