use Test::Nginx::Socket 'no_plan';
use IO::Socket::INET;
use POSIX qw(strftime);
use Voxanne::Test::Pg;
use Voxanne::Test::WebSocket;
use Voxanne::Test::Media;
use Voxanne::Test::Realtime;

# A returning caller's context at the call's start: the bridge runs
# find_customer for the caller's number while the provider connects, and a
# known customer's line reaches the model as a system message before the
# greeting's response.create; an unknown caller and a database that is down
# give no message, and the greeting still comes.

our $pg = Voxanne::Test::Pg->database;
our $org = '5b7c1d2e-0000-4000-8000-00000000000a';
our $role = "vx_caller_ctx_$$";

$pg->psql(<<"_SQL_");
INSERT INTO organizations (id, name) VALUES ('$org', 'Clinic A');
SET app.org_id = '$org';
INSERT INTO services (org_id, name, price, duration_minutes) VALUES ('$org', 'Botox', 300, 45);
RESET app.org_id;
CREATE ROLE $role LOGIN IN ROLE voxanne_app;
_SQL_

my $owner = $$;
END { eval { $pg->psql("DROP OWNED BY $role; DROP ROLE $role") } if $pg && $$ == $owner }

sub sql { $pg->psql("SET app.org_id = '$org'; $_[0]") }

# the caller of Voxanne::Test::Media's calls, with Botox in two days at 14:00
sub returning {
    my $start = strftime('%Y-%m-%d 14:00Z', gmtime(time + 2 * 86400));
    sql("DELETE FROM appointments; DELETE FROM contacts;"
        . " INSERT INTO contacts (org_id, phone, name) VALUES ('$org', '+14155550123', 'Rita Returning');"
        . " INSERT INTO appointments (org_id, contact_id, service_id, starts_at, ends_at, blocked_until)"
        . " SELECT '$org', c.id, s.id, '$start', timestamptz '$start' + interval '45 minutes',"
        . " timestamptz '$start' + interval '45 minutes' FROM contacts c, services s");
}

sub unknown { sql("DELETE FROM appointments; DELETE FROM contacts") }

# a database that takes the connection and never answers
our $hung = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 16)
    or die "listen: $!";

our $mock = Voxanne::Test::Realtime->start(args => [ '--reply-ms', '80', '--burst' ]);

# what the bridge sent on the last call, in order, up to the greeting
sub greeting {
    my @in = $::mock->wait_log(sub { my @l = $::mock->conn_log(dir => 'in');
                                     (grep { $_->{type} eq 'response.create' } @l) ? @l : () }, 5)
        or die "no response.create\n";
    my @before;
    for my $e (@in) {
        last if $e->{type} eq 'response.create';
        push @before, $e;
    }
    die "no session.update first\n" unless ($before[0]{type} // '') eq 'session.update';
    return grep { $_->{type} eq 'conversation.item.create' } @before;
}

# a call: the greeting, then the check of what came before it
sub call {
    my ($check) = @_;
    return [ connected(), start(),
             { expect => { json => { event => 'mark', mark => { name => '1:80' } } } },
             { run => sub { $check->(greeting()) } },
             stop() ];
}

sub no_item { die scalar(@_) . " items before the greeting\n" if @_ }

add_block_preprocessor(sub {
    my ($block) = @_;
    my $tenant = ::tenant(tools => 'find_customer');
    my $port = $block->db_down ? Test::Nginx::Socket::free_port()
             : $block->db_hung ? $::hung->sockport : '$TEST_NGINX_PG_PORT';
    $block->set_value(http_config => <<"_EOC_");
    voxanne_db "conninfo=host=127.0.0.1 port=$port dbname=\$TEST_NGINX_PG_DB user=$role"
               pool=4 connect_timeout=1s query_timeout=5s;
$tenant
_EOC_
    $block->set_value(user_files => $::files);
    my $url = $::mock->url;
    $block->set_value(config => <<"_EOC_");
    location = /twilio/voice { voxanne_twilio voice; }
    location /twilio/media/ {
        voxanne_media_stream;
        voxanne_realtime_url $url;
    }
_EOC_
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a returning caller: the context item, with the name and the appointment, comes before the greeting
--- init: ::returning()
--- media eval: {}
--- ws_send eval
::call(sub {
        my @items = @_;
        die scalar(@items) . " items before the greeting\n" unless @items == 1;
        my $item = $items[0]{item};
        die "role: $item->{role}\n" unless $item->{type} eq 'message' && $item->{role} eq 'system';
        my $text = $item->{content}[0]{text} // '';
        die "text: $text\n" unless $text =~ /^Context: the caller is a returning customer: Rita Returning, \+14155550123\. Upcoming: Botox on \w+, \w+ \d+ at 2:00 PM\.$/;
        die "the mock refused something\n" if $::mock->conn_log(dir => 'out', type => 'error');
    })
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/realtime: call $::SID: caller context found/ ]
--- no_error_log
[error]
Rita



=== TEST 2: an unknown caller: no item, the greeting comes
--- init: ::unknown()
--- media eval: {}
--- ws_send eval: ::call(\&::no_item)
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/realtime: call $::SID: caller context not found/ ]
--- no_error_log
[error]



=== TEST 3: the database is down: no item, the greeting still comes
--- init: ::returning()
--- db_down: 1
--- media eval: {}
--- ws_send eval: ::call(\&::no_item)
--- ws_close_code: 1000
--- ws_skip_unmatched
--- no_error_log
Rita
caller context found



=== TEST 4: a lookup that hangs: the greeting waits 300 ms after the provider is open, then comes without the item
--- init: ::returning()
--- db_hung: 1
--- media eval: {}
--- ws_send eval
::call(sub {
        ::no_item(@_);
        my ($update) = $::mock->conn_log(dir => 'in', type => 'session.update');
        my ($greeting) = $::mock->conn_log(dir => 'in', type => 'response.create');
        my $wait = $greeting->{t} - $update->{t};
        die "the greeting waited $wait s\n" unless $wait >= 0.25 && $wait < 0.9;
    })
--- ws_close_code: 1000
--- ws_skip_unmatched
--- error_log eval
[ qr/realtime: call $::SID: caller context too late, the greeting goes on/ ]
--- no_error_log
Rita
caller context found
