package Voxanne::Test::Store;

# nginx writing a test's calls to its PostgreSQL through the store
# (voxanne_db, voxanne_spool), and checks of what landed.
#
#   my $role = gateway_role($pg);        # a LOGIN member of voxanne_app,
#                                        # dropped at exit
#   store_http_config(db => $port, role => $role, org => $org, tenant => "...")
#                                        # voxanne_db, voxanne_spool and the
#                                        # tenant clinic-a (+15550100001)
#   eventually($pg, $sql, $want, $name); # waits until $sql gives $want (10 s)
#   metric($port, $result);              # voxanne_store_writes_total{result}
#   spool_files();                       # the spool files on disk

use strict;
use warnings;

use Exporter 'import';
use Test::More ();
use Time::HiRes qw(sleep time);
use Voxanne::Test::Http qw(http);

our @EXPORT_OK = qw(gateway_role store_http_config eventually metric spool_files);

my $owner = $$;
my @roles;

sub gateway_role {
    my ($pg) = @_;
    my $role = "vx_gw_$$" . (@roles ? '_' . @roles : '');
    $pg->psql("CREATE ROLE $role LOGIN IN ROLE voxanne_app");
    push @roles, [$pg, $role];
    return $role;
}

END {
    if ($$ == $owner) {
        eval { $_->[0]->psql("DROP OWNED BY $_->[1]; DROP ROLE $_->[1]") } for @roles;
    }
}

sub store_http_config {
    my (%o) = @_;
    my $tenant = $o{tenant} // '';
    return <<"_EOC_";
    voxanne_db "conninfo=host=127.0.0.1 port=$o{db} dbname=\$TEST_NGINX_PG_DB user=$o{role}"
               connect_timeout=1s query_timeout=2s;
    voxanne_spool spool flush=50ms;
    voxanne_tenant clinic-a {
        org_id                 $o{org};
        numbers                +15550100001;
        twilio_auth_token_file ../html/a.token;
        public_url             http://edge.example.com;
$tenant    }
_EOC_
}

sub eventually {
    my ($pg, $sql, $want, $name) = @_;
    my ($got, $until) = ('', time + 10);
    while (time < $until) {
        $got = $pg->psql($sql);
        last if $got eq $want;
        sleep 0.1;
    }
    Test::More::is($got, $want, $name);
}

sub metric {
    my ($port, $result) = @_;
    my $body = http($port, 'GET /metrics')->{body} // '';
    return $body =~ /^voxanne_store_writes_total\{result="$result"\} (\d+)$/m ? $1 : -1;
}

sub spool_files {
    return scalar(() = glob(Test::Nginx::Socket::server_root() . '/conf/spool/*.spool'));
}

1;
