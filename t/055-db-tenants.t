use Test::Nginx::Socket 'no_plan';
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use Voxanne::Test::Pg;
use Voxanne::Test::Http qw(http http_start http_wait);
use Voxanne::Test::Twilio qw(twilio_request);

# Tenants kept in PostgreSQL (voxanne_db_tenants, docs/db-tenants.md):
# inserted, changed and removed while nginx runs, their Twilio auth tokens
# sealed by build/voxanne-credential and opened by the gateway with the key
# file; nginx.conf's tenants win on conflict; a database that is away at
# start, and rows that do not open.  nginx connects as a plain member of
# voxanne_app, so row-level security holds.  Every block runs a master
# process and two workers: one worker refreshes, both serve.

master_on();
workers(2);

our $pg = Voxanne::Test::Pg->database;
our $role = "vx_gw_$$";
our $late = "vx_late_$$";    # a role created mid-test: the database "comes back"
$pg->psql("CREATE ROLE $role LOGIN IN ROLE voxanne_app;"
          . " INSERT INTO organizations (id, name) VALUES ('5b7c1d2e-0000-4000-8000-00000000000a', 'A')");

my $owner = $$;
END {
    eval { $pg->psql("DROP ROLE IF EXISTS $role; DROP ROLE IF EXISTS $late") } if $pg && $$ == $owner;
}

my $tmp = tempdir(CLEANUP => 1);
our $key = join '', map { sprintf '%02x', int rand 256 } 1 .. 32;
our $other_key = join '', map { sprintf '%02x', int rand 256 } 1 .. 32;

sub key_file {
    my ($hex) = @_;
    my $file = "$tmp/$hex.key";
    open my $fh, '>', $file or die "$file: $!";
    print {$fh} "$hex\n";
    close $fh;
    chmod 0600, $file;
    return $file;
}

sub org { sprintf '5b7c1d2e-0000-4000-8000-%012x', shift }

# a tenant in the database: its organization, number and sealed auth token
sub db_tenant {
    my (%t) = @_;
    my $org = org($t{n});
    my $url = $t{url} // 'http://edge.example.com';
    $pg->psql("INSERT INTO organizations (id, name, slug, public_url, timezone)"
              . " VALUES ('$org', 'Org $t{n}', '$t{slug}', '$url', '" . ($t{tz} // 'UTC') . "');"
              . join '', map { "INSERT INTO phone_numbers (org_id, number) VALUES ('$org', '$_');" }
                         @{ $t{numbers} });
    my $file = key_file($t{key} // $key);
    my $sql = qx{printf '%s\n' '$t{token}' | build/voxanne-credential seal --key-file '$file' --org $org --provider twilio --name auth_token};
    die "voxanne-credential seal failed" if $?;
    $pg->psql($sql);
}

# the agent answering a tenant's numbers
sub db_agent {
    my ($n, %a) = @_;
    my $org = org($n);
    my $q = sub { defined $_[0] ? "'$_[0]'" : 'NULL' };
    $pg->psql("WITH a AS (INSERT INTO agents (org_id, name, instructions, voice, greeting)"
              . " VALUES ('$org', 'Agent', " . $q->($a{instructions} // '') . ", " . $q->($a{voice})
              . ", " . $q->($a{greeting}) . ") RETURNING id)"
              . " UPDATE phone_numbers SET agent_id = (SELECT id FROM a) WHERE org_id = '$org'");
}

sub drop_db_tenants {
    $pg->psql("DELETE FROM organizations WHERE slug IS NOT NULL");
}

# a new call each time: a CallSid belongs to the first tenant that used it
my $calls = 0;
sub sid { sprintf 'CA%032x', ++$calls }

# the voice webhook for $to, signed with $token; its response
sub voice {
    my ($port, $to, $token) = @_;
    my ($request, $headers) = twilio_request(uri => '/twilio/voice', base => 'http://edge.example.com',
                                             token => $token,
                                             params => [AccountSid => 'AC' . '0' x 32,
                                                        CallSid => sid(), CallStatus => 'ringing',
                                                        From => '+14155550123', To => $to]);
    my %h = map { split /: /, $_, 2 } split /\n/, $headers;
    return http_wait(http_start($port, $request, %h), 5);
}

# what the voice webhook answers: "stream TENANT", "reject", or the status
sub answer {
    my $res = voice(@_);
    return $res->{code} unless $res->{code} == 200;
    return "stream $1" if $res->{body} =~ m{<Stream url="ws://edge\.example\.com/twilio/media/([^"]+)"};
    return 'reject' if $res->{body} =~ m{<Reject/>};
    return $res->{body};
}

# waits until the answer is $want (or 10 s), then compares
sub answers {
    my ($want, $name, @args) = @_;
    my ($got, $until) = ('', time + 10);
    while (time < $until) {
        $got = answer(@args);
        last if $got eq $want;
        sleep 0.2;
    }
    Test::More::is($got, $want, $name);
}

sub health { http($_[0], 'GET /healthz')->{body} // '' }

# the status of a media stream upgrade, unsigned, for a tenant's name
sub media_status {
    my ($port, $name) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port) or die "connect: $!";
    print {$sock} "GET /twilio/media/$name HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                  . "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                  . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    my $line = <$sock> // '';
    return $line =~ m{^HTTP/1\.1 (\d+)} ? $1 : $line;
}

# inserted: answers after a refresh, no reload; changed; removed: gone
sub lifecycle {
    my ($ctx) = @_;
    my $port = $ctx->port;
    drop_db_tenants();

    Test::More::is(answer($port, '+15550200001', 'tok-b'), 'reject', 'an unknown number: Reject');
    Test::More::is(answer($port, '+15550100001', '12345'), 'stream clinic-a', 'the nginx.conf tenant');

    db_tenant(n => 11, slug => 'clinic-b', numbers => ['+15550200001', '+15550200002'], token => 'tok-b');
    answers('stream clinic-b', 'inserted in PostgreSQL: answers after a refresh, without a reload',
            $port, '+15550200001', 'tok-b');
    Test::More::is(answer($port, '+15550200002', 'tok-b'), 'stream clinic-b', 'its second number');
    Test::More::is(answer($port, '+15550200001', 'wrong'), 403, 'signed with another token: 403');
    Test::More::is(answer($port, '+15550200001', '12345'), 403, "... even nginx.conf's tenant's");
    Test::More::like(health($port), qr/"db_tenants":\{"state":"ok","tenants":1,"refused":0,/,
                     'health: the tenant source, one tenant');

    Test::More::is(media_status($port, 'clinic-b'), 403,
                   'its media stream route knows it by name (and wants a signature)');

    # a new number and a new token, read at the next refresh
    my $org = org(11);
    $pg->psql("INSERT INTO phone_numbers (org_id, number) VALUES ('$org', '+15550200003')");
    my $file = key_file($key);
    $pg->psql(scalar qx{printf 'tok-b2\n' | build/voxanne-credential seal --key-file '$file' --org $org --provider twilio --name auth_token});
    answers('stream clinic-b', 'a number added in PostgreSQL', $port, '+15550200003', 'tok-b2');
    Test::More::is(answer($port, '+15550200001', 'tok-b'), 403, 'the replaced token no longer signs');

    # (its calls' rows need the organization: it stops being a tenant first)
    $pg->psql("UPDATE organizations SET public_url = NULL WHERE id = '$org'");
    answers('reject', 'no longer a tenant in PostgreSQL: Reject', $port, '+15550200001', 'tok-b2');
    $pg->psql("DELETE FROM organizations WHERE id = '$org'");
    Test::More::is(media_status($port, 'clinic-b'), 404, 'its media stream route: 404');
    Test::More::is(answer($port, '+15550100001', '12345'), 'stream clinic-a', "nginx.conf's tenant still serves");
    Test::More::like(health($port), qr/"db_tenants":\{"state":"ok","tenants":0,/, 'health: no tenant');
}

# nginx.conf wins: its name, its org_id, its number
sub conflicts {
    my ($ctx) = @_;
    my $port = $ctx->port;
    drop_db_tenants();

    db_tenant(n => 21, slug => 'clinic-a', numbers => ['+15550300001'], token => 'tok-x');
    db_tenant(n => 22, slug => 'clinic-c', numbers => ['+15550100001', '+15550300002'], token => 'tok-c');
    answers('stream clinic-c', 'a database tenant with a number of its own loads', $port, '+15550300002', 'tok-c');
    Test::More::is(answer($port, '+15550100001', '12345'), 'stream clinic-a',
                   "a number nginx.conf's tenant has: nginx.conf's");
    Test::More::is(answer($port, '+15550100001', 'tok-c'), 403, '... signed with its token only');
    Test::More::is(answer($port, '+15550300001', 'tok-x'), 'reject',
                   "a database tenant named like nginx.conf's: ignored");
}

# PostgreSQL refuses nginx's role at start: nginx.conf's tenants serve; once
# the role exists, the database's tenants appear
sub down_at_start {
    my ($ctx) = @_;
    my $port = $ctx->port;

    Test::More::is(answer($port, '+15550100001', '12345'), 'stream clinic-a', "nginx.conf's tenant serves");
    Test::More::is(answer($port, '+15550400001', 'tok-d'), 'reject', 'no database tenant yet');
    my $until = time + 5;
    sleep 0.2 while health($port) !~ /"db_tenants":\{"state":"down"/ && time < $until;
    Test::More::like(health($port), qr/"db_tenants":\{"state":"down","tenants":0,"refused":0,"generation":0,"failures":[1-9]/,
                     'health: the tenant source is down, with its failures');

    $pg->psql("CREATE ROLE $late LOGIN IN ROLE voxanne_app");
    answers('stream clinic-d', 'the database is back: its tenant appears', $port, '+15550400001', 'tok-d');
    Test::More::like(health($port), qr/"db_tenants":\{"state":"ok","tenants":1,/, 'health: ok');
}

# rows that do not open are refused, each with its reason; the others load
sub bad_rows {
    my ($ctx) = @_;
    my $port = $ctx->port;

    answers('stream clinic-g', 'a good tenant loads', $port, '+15550500001', 'tok-g');
    Test::More::is(answer($port, '+15550500002', 'tok-k'), 'reject', 'sealed with another key: refused');
    Test::More::is(answer($port, '+15550500003', 'tok-t'), 'reject', 'altered ciphertext: refused');
    Test::More::is(answer($port, '+15550500004', 'tok-z'), 'reject', 'an unknown time zone: refused');
    Test::More::is(answer($port, '+15550500005', 'tok-v'), 'reject', "its agent's voice is invalid: refused");
    Test::More::is(answer($port, '+15550500006', 'tok-l'), 'reject', "its agent's instructions are too long: refused");
    Test::More::like(health($port), qr/"db_tenants":\{"state":"ok","tenants":1,"refused":5,/,
                     'health: one tenant, five refused');
}

# two workers: one loads, both serve the tenant
sub two_workers {
    my ($ctx) = @_;
    my $port = $ctx->port;
    db_tenant(n => 51, slug => 'clinic-w', numbers => ['+15550600001'], token => 'tok-w');
    answers('stream clinic-w', 'the tenant answers', $port, '+15550600001', 'tok-w');
    my %seen;
    for (1 .. 20) {
        $seen{ answer($port, '+15550600001', 'tok-w') }++;
    }
    Test::More::is(join(',', keys %seen), 'stream clinic-w', 'twenty calls later, from either worker');
    sleep 2.5;
    my $log = do { local (@ARGV, $/) = (Test::Nginx::Socket::server_root() . '/logs/error.log'); <> };
    my @loads = $log =~ /voxanne: 1 database tenants loaded/g;
    Test::More::is(scalar @loads, 1, 'loaded once, by one worker, while nothing changed');
}

# a reload keeps the snapshot and refreshes it at once
sub reload {
    my ($ctx) = @_;
    my $port = $ctx->port;
    db_tenant(n => 61, slug => 'clinic-r', numbers => ['+15550700001'], token => 'tok-r');
    answers('stream clinic-r', 'the tenant answers', $port, '+15550700001', 'tok-r');
    open my $fh, '<', Test::Nginx::Socket::server_root() . '/logs/nginx.pid' or die "nginx.pid: $!";
    my ($master) = <$fh> =~ /(\d+)/;
    kill 'HUP', $master;
    sleep 1;
    for my $n (1 .. 6) {
        my $got = answer($port, '+15550700001', 'tok-r');
        next if $got eq 'stream clinic-r';
        Test::More::is($got, 'stream clinic-r', 'after a reload');
        return;
    }
    Test::More::pass('after a reload, six calls answered');
    Test::More::like(health($port), qr/"db_tenants":\{"state":"ok","tenants":1,/, 'health after the reload');
}

sub bad_rows_setup {
    drop_db_tenants();
    db_tenant(n => 31, slug => 'clinic-g', numbers => ['+15550500001'], token => 'tok-g');
    db_tenant(n => 32, slug => 'clinic-k', numbers => ['+15550500002'], token => 'tok-k', key => $other_key);
    db_tenant(n => 33, slug => 'clinic-t', numbers => ['+15550500003'], token => 'tok-t');
    db_tenant(n => 34, slug => 'clinic-z', numbers => ['+15550500004'], token => 'tok-z', tz => 'Europe/Paris');
    db_tenant(n => 35, slug => 'clinic-v', numbers => ['+15550500005'], token => 'tok-v');
    db_tenant(n => 36, slug => 'clinic-l', numbers => ['+15550500006'], token => 'tok-l');
    db_agent(31, instructions => 'You are the receptionist.', voice => 'marin', greeting => 'Hello!');
    db_agent(35, voice => 'no voice');
    db_agent(36, instructions => 'x' x 8000);
    $pg->psql("UPDATE org_credentials SET ciphertext = overlay(ciphertext placing"
              . " decode(lpad(to_hex(get_byte(ciphertext, 0) # 1), 2, '0'), 'hex') from 1 for 1)"
              . " WHERE org_id = '" . org(33) . "'");
}

add_block_preprocessor(sub {
    my ($block) = @_;
    my $user = $block->db_user // $role;
    $user =~ s/\s+\z//;
    $block->set_value(http_config => <<"_EOC_");
    voxanne_db "conninfo=host=\$TEST_NGINX_PG_HOST port=\$TEST_NGINX_PG_PORT dbname=\$TEST_NGINX_PG_DB user=$user"
               connect_timeout=1s query_timeout=2s;
    voxanne_db_tenants zone=db_tenants:1m key=../html/credentials.key interval=1s;
    voxanne_tenant clinic-a {
        org_id                 5b7c1d2e-0000-4000-8000-00000000000a;
        numbers                +15550100001;
        twilio_auth_token_file ../html/a.token;
        public_url             http://edge.example.com;
        timezone               America/New_York;
    }
_EOC_
    $block->set_value(user_files => ">>> a.token\n12345\n>>> credentials.key\n$key\n");
    $block->set_value(config => <<"_EOC_");
    location = /twilio/voice { voxanne_twilio voice; }
    location /twilio/media/ { voxanne_media_stream; }
    location = /healthz { voxanne_health; }
_EOC_
});

run_tests();

__DATA__

=== TEST 1: a tenant inserted in PostgreSQL answers after the refresh, with its opened token; changed; removed
--- init: ::drop_db_tenants()
--- steps eval: \&::lifecycle
--- timeout: 60
--- error_log
database tenants loaded
--- no_error_log
[error]
refused:



=== TEST 2: nginx.conf's tenants win over the database's on name and number, and say so once
--- init: ::drop_db_tenants()
--- steps eval: \&::conflicts
--- timeout: 30
--- error_log
database tenant "clinic-a" is ignored: tenant "clinic-a" of nginx.conf has its name or org_id
number +15550100001 of database tenant "clinic-c" is tenant "clinic-a"'s in nginx.conf, which wins
--- no_error_log
[error]



=== TEST 3: PostgreSQL refuses nginx at start: nginx.conf's tenants serve, the database's appear when it is back
--- init: ::drop_db_tenants(); ::db_tenant(n => 41, slug => 'clinic-d', numbers => ['+15550400001'], token => 'tok-d')
--- db_user eval: $::late
--- steps eval: \&::down_at_start
--- timeout: 60
--- error_log
database tenants not refreshed
--- no_error_log
[alert]



=== TEST 4: a token sealed with another key, an altered one, a zone not loaded, an agent's bad voice or long instructions: each tenant refused with its reason, the others load
--- init: ::bad_rows_setup()
--- steps eval: \&::bad_rows
--- timeout: 30
--- error_log eval
[qr/database tenant "clinic-k" \(5b7c1d2e-0000-4000-8000-000000000020\) refused: its auth token is sealed with another key than the key file's/,
 qr/database tenant "clinic-t" \(5b7c1d2e-0000-4000-8000-000000000021\) refused: its auth token does not open with the key file/,
 qr/database tenant "clinic-z" \(5b7c1d2e-0000-4000-8000-000000000022\) refused: timezone "Europe\/Paris" of tenant "clinic-z" is not loaded, add it to voxanne_db_tenants timezones=/,
 qr/database tenant "clinic-v" \(5b7c1d2e-0000-4000-8000-000000000023\) refused: invalid voice "no voice" in tenant "clinic-v"/,
 qr/database tenant "clinic-l" \(5b7c1d2e-0000-4000-8000-000000000024\) refused: the agent's instructions and greeting of tenant "clinic-l" make a session.update of \d+ bytes, at most 8000 are possible/]
--- no_error_log
auth token is malformed



=== TEST 5: one worker refreshes, both serve the database's tenants
--- init: ::drop_db_tenants()
--- steps eval: \&::two_workers
--- timeout: 30
--- no_error_log
[error]



=== TEST 6: a reload: the database's tenants keep answering
--- init: ::drop_db_tenants()
--- steps eval: \&::reload
--- timeout: 30
--- no_error_log
[error]
