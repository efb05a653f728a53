# Migrations (scripts/db-migrate), the core schema's constraints, row-level
# security and the demo seed.
use strict;
use warnings;

use Test::More;
use Digest::SHA qw(sha256_hex);
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use POSIX ();
use Voxanne::Test::Pg;

my $pg = Voxanne::Test::Pg->database;
my @migrations = map { s{.*/}{}r } glob 'sql/[0-9][0-9][0-9]_*.sql';

# Run db-migrate against $db; return (exit status, stdout + stderr).
sub migrate {
    my ($db, @args) = @_;
    my $cmd = join ' ', map {"'$_'"} 'scripts/db-migrate', @args, $db->conninfo;
    my $out = qx{$cmd 2>&1};
    return ($? >> 8, $out);
}

# A migrations dir holding copies of the real ones plus %extra (name => SQL).
sub migrations_dir {
    my (%extra) = @_;
    my $dir = tempdir(CLEANUP => 1);
    copy("sql/$_", "$dir/$_") or die "copy $_: $!" for @migrations;
    for my $name (keys %extra) {
        open my $fh, '>>', "$dir/$name" or die "$dir/$name: $!";
        print {$fh} $extra{$name};
        close $fh;
    }
    return $dir;
}

# The error $code dies with, or '' if it does not.
sub error_of {
    my ($code) = @_;
    return eval { $code->(); 1 } ? '' : $@;
}

sub sql_error {
    my ($sql) = @_;
    return error_of(sub { $pg->psql($sql) });
}

sub applied { $pg->psql(q{SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations}) }

my $all_versions = join ',', map { 0 + substr $_, 0, 3 } @migrations;

subtest 'schema' => sub {
    my $tables = $pg->psql(q{SELECT string_agg(table_name, ' ' ORDER BY table_name)
        FROM information_schema.tables WHERE table_schema = 'public'});
    is $tables, join(' ', qw(agents appointments call_events calls contacts hybrid_forwarding_configs
        messages org_credentials org_tools organizations phone_numbers schema_migrations services
        transcripts verified_caller_ids)), 'tables';
    is applied(), $all_versions, 'every migration recorded';
    open my $fh, '<', 'sql/001_core.sql' or die $!;
    my $sum = sha256_hex(do { local $/; <$fh> });
    is $pg->psql(q{SELECT name || ' ' || checksum FROM schema_migrations WHERE version = 1}),
        "001_core.sql $sum", 'name and sha256 recorded';
};

subtest 're-running is a no-op' => sub {
    my ($status, $out) = migrate($pg);
    is $status, 0, 'exit 0';
    is $out, "up to date\n", 'says up to date';
    is applied(), $all_versions, 'schema_migrations unchanged';
};

subtest 'failing migration is rolled back' => sub {
    my $dir = migrations_dir(
        '998_ok.sql'     => "CREATE TABLE ok_998 (id int);\n",
        '999_broken.sql' => "CREATE TABLE broken_999 (id int);\nSELECT 1/0;\n",
    );
    my ($status, $out) = migrate($pg, '--dir', $dir);
    isnt $status, 0, 'non-zero exit';
    like $out, qr{999_broken\.sql:2: ERROR:  division by zero}, 'error names the file and line';
    is $pg->psql(q{SELECT to_regclass('broken_999') IS NULL}), 't', 'table of broken migration absent';
    is $pg->psql(q{SELECT to_regclass('ok_998') IS NOT NULL}), 't', 'earlier migration kept';
    is applied(), "$all_versions,998", '999 not recorded, 998 is';
};

subtest 'edited migration is refused' => sub {
    my $dir = migrations_dir('001_core.sql' => "-- an afterthought\n", '997_new.sql' => "SELECT 1;\n");
    my ($status, $out) = migrate($pg, '--dir', $dir);
    isnt $status, 0, 'non-zero exit';
    like $out, qr/applied migrations were edited: 001_core\.sql/, 'error names the file';
    unlike applied(), qr/997/, 'nothing applied';
};

subtest 'concurrent runs' => sub {
    my $db  = Voxanne::Test::Pg->database(migrate => 0);
    my $tmp = tempdir(CLEANUP => 1);
    my @pids = map {
        my $log = "$tmp/$_";
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            open STDOUT, '>', $log or POSIX::_exit(126);
            open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
            exec 'scripts/db-migrate', $db->conninfo or POSIX::_exit(127);
        }
        $pid;
    } 1 .. 4;
    my @status = map { waitpid($_, 0); $? >> 8 } @pids;
    is "@status", '0 0 0 0', 'all runners succeed';
    my @logs = map { open my $fh, '<', "$tmp/$_" or die $!; local $/; <$fh> } 1 .. 4;
    is scalar(grep { $_ eq "up to date\n" } @logs), 3, 'three found nothing to do';
    is $db->psql('SELECT count(*) FROM schema_migrations'), scalar @migrations, 'applied once';
};

my $org_a = '00000000-0000-4000-8000-00000000000a';
my $org_b = '00000000-0000-4000-8000-00000000000b';
my $sid_a = 'CA' . 'a' x 32;
my $sid_b = 'CA' . 'b' x 32;
$pg->psql(<<"SQL");
INSERT INTO organizations (id, name) VALUES ('$org_a', 'A'), ('$org_b', 'B');
INSERT INTO phone_numbers (org_id, number) VALUES ('$org_a', '+15550000001'), ('$org_b', '+15550000002');
INSERT INTO calls (org_id, call_sid, from_number, to_number, direction, status)
VALUES ('$org_a', '$sid_a', '+15551230000', '+15550000001', 'inbound', 'ringing'),
       ('$org_b', '$sid_b', '+15551230000', '+15550000002', 'inbound', 'completed');
SQL

subtest 'constraints' => sub {
    for my $bad ('15550100001', '+0555', '+1555', '+1555010000123456') {
        like sql_error("INSERT INTO phone_numbers (org_id, number) VALUES ('$org_a', '$bad')"),
            qr/phone_numbers_number_e164/, "number $bad rejected";
    }
    is $pg->psql("BEGIN; INSERT INTO phone_numbers (org_id, number) VALUES ('$org_a', '+15550100001')"
            . " RETURNING number; ROLLBACK;"), '+15550100001', 'E.164 number accepted';
    like sql_error("INSERT INTO phone_numbers (org_id, number) VALUES ('$org_b', '+15550000001')"),
        qr/phone_numbers_number_key/, 'a number belongs to one tenant';

    my $call = "INSERT INTO calls (org_id, call_sid, from_number, to_number, direction, status)"
        . " VALUES ('$org_a', '%s', 'anonymous', '+15550000001', '%s', '%s')";
    for my $sid ('CA123', 'XX' . 'a' x 32, 'CA' . 'g' x 32) {
        like sql_error(sprintf $call, $sid, 'inbound', 'queued'), qr/calls_call_sid_format/,
            "call_sid $sid rejected";
    }
    like sql_error(sprintf $call, 'CA' . 'c' x 32, 'inbound', 'answered'), qr/calls_status_check/,
        'unknown status rejected';
    like sql_error(sprintf $call, 'CA' . 'c' x 32, 'sideways', 'queued'), qr/calls_direction_check/,
        'unknown direction rejected';
    like sql_error("UPDATE calls SET outcome = 'great' WHERE call_sid = '$sid_a'"),
        qr/calls_outcome_check/, 'unknown outcome rejected';
    like sql_error("UPDATE calls SET duration_seconds = -1 WHERE call_sid = '$sid_a'"),
        qr/calls_duration_seconds_check/, 'negative duration rejected';
    like sql_error("INSERT INTO call_events (call_id, org_id, type, event_key)"
            . " SELECT id, '$org_b', 'x', 'x' FROM calls WHERE call_sid = '$sid_a'"),
        qr/call_events_call_id_org_id_fkey/, 'event cannot point at another tenant\'s call';
    is $pg->psql("UPDATE calls SET status = 'in-progress' WHERE call_sid = '$sid_a'"
            . " RETURNING updated_at > created_at"), 't', 'updated_at touched on update';
};

subtest 'row-level security' => sub {
    my $as_app = sub {
        my ($org, $sql) = @_;
        my $set = defined $org ? "SET app.org_id = '$org';" : '';
        return $pg->psql("SET ROLE voxanne_app; $set $sql");
    };
    is $pg->psql(q{SELECT count(*) FROM pg_class
        WHERE relname IN ('organizations', 'agents', 'phone_numbers', 'calls', 'call_events')
          AND relrowsecurity AND relforcerowsecurity}), 5, 'enabled and forced on tenant tables';
    is $pg->psql('SELECT count(*) FROM calls'), 2, 'superuser bypasses RLS';
    is $as_app->($org_a, 'SELECT call_sid FROM calls'), $sid_a, 'app sees only its calls';
    is $as_app->($org_a, 'SELECT number FROM phone_numbers'), '+15550000001', '... and numbers';
    is $as_app->($org_a, 'SELECT name FROM organizations'), 'A', '... and organization';
    is $as_app->(undef, 'SELECT count(*) FROM calls'), 0, 'nothing visible without app.org_id';
    for my $value ('', 'garbage') {
        is $as_app->($value, 'SELECT count(*) FROM phone_numbers'), 0,
            "nothing visible with app.org_id '$value'";
    }
    like error_of(sub {
            $as_app->($org_a, "INSERT INTO phone_numbers (org_id, number) VALUES ('$org_b', '+15550000003')");
        }), qr/violates row-level security policy/, 'writing for another tenant refused';
    is $as_app->($org_a, "UPDATE calls SET status = 'completed' WHERE call_sid = '$sid_b' RETURNING 1"), '',
        'other tenant\'s rows cannot be updated';
    is $as_app->(undef, q{SELECT org_id || ' ' || org_name FROM voxanne_resolve_number('+15550000002')}),
        "$org_b B", 'voxanne_resolve_number works across tenants';
    is $as_app->(undef, q{SELECT count(*) FROM voxanne_resolve_number('+15559999999')}), 0,
        'unknown number resolves to nothing';
};

subtest 'demo seed' => sub {
    open my $fh, '<', 'sql/seed/demo.sql' or die $!;
    my $seed = do { local $/; <$fh> };
    is error_of(sub { $pg->psql($seed) for 1 .. 2 }), '', 'applies twice';
    is $pg->psql(q{SELECT o.name || '|' || o.timezone || '|' || a.name || '|' || a.voice
        FROM voxanne_resolve_number('+15550100001') r
        JOIN organizations o ON o.id = r.org_id JOIN agents a ON a.id = r.agent_id}),
        'Demo Clinic|America/New_York|Ava|alloy', 'number resolves to the demo clinic and Ava';
    is $pg->psql(q{SELECT count(*) FROM agents WHERE org_id = '00000000-0000-4000-8000-000000000001'}),
        1, 'no duplicates';
};

done_testing;
