use Test::Nginx::Socket 'no_plan';
use Time::HiRes qw(sleep time);
use Voxanne::Test::Http qw(http http_start http_wait);

# voxanne_db_tenants' syntax, checked when nginx reads its configuration,
# and a gateway whose only tenants would be the database's, which is away.

our $key = 'ab' x 32;
our $port = Test::Nginx::Socket::free_port();

# /healthz until the tenant source is down (or 5 s)
sub down {
    my ($ctx) = @_;
    my ($body, $until) = ('', time + 5);
    while (time < $until) {
        $body = http($ctx->port, 'GET /healthz')->{body} // '';
        last if $body =~ /"db_tenants":\{"state":"down"/;
        sleep 0.2;
    }
    Test::More::like($body, qr/"db_tenants":\{"state":"down","tenants":0,"refused":0,"generation":0,"failures":[1-9]\d*,"refreshed":0\}/,
                     'the tenant source is down, nothing loaded');
    my $res = http_wait(http_start($ctx->port, "POST /twilio/voice\nTo=%2B15550100001",
                                   'Content-Type' => 'application/x-www-form-urlencoded'));
    Test::More::like($res->{body}, qr{<Response><Reject/></Response>}, 'a webhook is still answered: Reject');
}

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value(user_files => ">>> k.key\n$key\n>>> short.key\nabcd\n") unless defined $block->user_files;
    $block->set_value(must_die => '') unless defined $block->steps;
});

run_tests();

__DATA__

=== TEST 1: voxanne_db is needed before it
--- http_config
    voxanne_db_tenants zone=t:1m key=../html/k.key;
--- error_log
"voxanne_db_tenants" needs "voxanne_db" before it



=== TEST 2: zone= and key= are needed
--- http_config
    voxanne_db conninfo=host=127.0.0.1;
    voxanne_db_tenants zone=t:1m interval=5s;
--- error_log
"voxanne_db_tenants" must have "zone=name:size" and "key=file"



=== TEST 3: a key file that is not 32 bytes or 64 hex digits
--- http_config
    voxanne_db conninfo=host=127.0.0.1;
    voxanne_db_tenants zone=t:1m key=../html/short.key;
--- error_log
key file "../html/short.key" must hold 32 bytes or 64 hex digits



=== TEST 4: a time zone the system does not have
--- http_config
    voxanne_db conninfo=host=127.0.0.1;
    voxanne_db_tenants zone=t:1m key=../html/k.key timezones=Europe/Paris,Mars/Olympus;
--- error_log
unknown timezone "Mars/Olympus" in "voxanne_db_tenants"



=== TEST 5: an unknown parameter
--- http_config
    voxanne_db conninfo=host=127.0.0.1;
    voxanne_db_tenants zone=t:1m key=../html/k.key refresh=5s;
--- error_log
invalid parameter "refresh=5s"



=== TEST 6: an interval under a second
--- http_config
    voxanne_db conninfo=host=127.0.0.1;
    voxanne_db_tenants zone=t:1m key=../html/k.key interval=0s;
--- error_log
invalid interval "interval=0s", at least 1s is expected



=== TEST 7: a zone too small
--- http_config
    voxanne_db conninfo=host=127.0.0.1;
    voxanne_db_tenants zone=t:4k key=../html/k.key;
--- error_log eval
qr/zone "t" is too small, at least \d+ bytes are needed/



=== TEST 8: twice
--- http_config
    voxanne_db conninfo=host=127.0.0.1;
    voxanne_db_tenants zone=t:1m key=../html/k.key;
    voxanne_db_tenants zone=u:1m key=../html/k.key;
--- error_log
"voxanne_db_tenants" directive is duplicate



=== TEST 9: no voxanne_tenant, the database away: nginx runs, /healthz says so, webhooks are answered
--- http_config eval
"    voxanne_db \"conninfo=host=127.0.0.1 port=$::port\" connect_timeout=1s;
    voxanne_db_tenants zone=t:1m key=../html/k.key interval=1s timezones=Europe/Paris;"
--- config
    location = /twilio/voice { voxanne_twilio voice; }
    location = /healthz { voxanne_health; }
--- steps eval: \&::down
--- timeout: 20
--- no_error_log
[alert]
