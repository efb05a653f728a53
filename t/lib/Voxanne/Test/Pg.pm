package Voxanne::Test::Pg;

# A fresh, migrated PostgreSQL database for one test file.
#
#   use Voxanne::Test::Pg;
#   my $pg = Voxanne::Test::Pg->database;               # migrations applied
#   my $db = Voxanne::Test::Pg->database(migrate => 0); # empty database
#   $pg->psql($sql);   # stdout (-XAtq, trailing newline removed); dies on error
#   $pg->conninfo; $pg->host; $pg->port; $pg->dbname;
#   $pg->hold_lock($table, $seconds);  # a pid; $table is locked until then
#   $pg->sessions($where);   # pids of the database's sessions where $where holds
#   $pg->no_sessions($where);  # waits until there are none (dies after 2 s)
#
# Uses the cluster at VOXANNE_TEST_PG_HOST (default 127.0.0.1) and
# VOXANNE_TEST_PG_PORT when set (`make test` starts one per run), else starts
# a throwaway cluster in a temp folder for this process. Databases are named
# vx_<test>_<pid>[_<n>], dropped (or the own cluster stopped and removed) at
# exit. Each call exports TEST_NGINX_PG_HOST/PORT/DB for nginx configs.
# Run from the repository root; connects as the superuser postgres.

use strict;
use warnings;

use Cwd qw(getcwd);
use File::Basename qw(basename);
use File::Path qw(remove_tree);
use File::Temp ();
use POSIX ();

my $ROOT  = getcwd();
my $OWNER = $$;    # forked children must not clean up
my ($host, $port, $own_cluster);
my @databases;

sub database {
    my ($class, %opt) = @_;
    _cluster();

    (my $test = lc basename($0, '.t')) =~ s/[^a-z0-9]+/_/g;
    my $name = join '_', 'vx', substr($test, 0, 40), $$, @databases ? scalar @databases : ();
    my $self = bless { host => $host, port => $port, dbname => $name }, $class;

    _admin_sql("CREATE DATABASE $name");
    push @databases, $name;
    _run("$ROOT/scripts/db-migrate", $self->conninfo) if $opt{migrate} // 1;

    @ENV{qw(TEST_NGINX_PG_HOST TEST_NGINX_PG_PORT TEST_NGINX_PG_DB)} = ($host, $port, $name);
    return $self;
}

sub host   { $_[0]{host} }
sub port   { $_[0]{port} }
sub dbname { $_[0]{dbname} }

sub conninfo {
    my ($self) = @_;
    return "host=$self->{host} port=$self->{port} dbname=$self->{dbname} user=postgres";
}

sub psql {
    my ($self, $sql) = @_;
    my $file = File::Temp->new(SUFFIX => '.sql');
    print {$file} $sql;
    close $file;
    my $out = _run(qw(psql -XAtq -v ON_ERROR_STOP=1 -d), $self->conninfo, '-f', "$file");
    $out =~ s/\n\z//;
    return $out;
}

# a session of its own (a child process) holds $table in ACCESS EXCLUSIVE
# mode for $seconds, from when this returns: the child's pid, to waitpid
sub hold_lock {
    my ($self, $table, $seconds) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        eval { $self->psql("BEGIN; LOCK TABLE $table IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep($seconds); COMMIT") };
        POSIX::_exit(0);
    }
    my $until = time + 5;
    until ($self->psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                       . " WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                       . " AND c.relname = '$table' AND l.mode = 'AccessExclusiveLock' AND l.granted")) {
        die "$table: no lock after 5 s\n" if time > $until;
        select undef, undef, undef, 0.05;
    }
    return $pid;
}

# $where: an SQL condition on pg_stat_activity, e.g. "application_name = 'voxanne'"
sub sessions {
    my ($self, $where) = @_;
    my $pids = $self->psql("SELECT string_agg(pid::text, ' ' ORDER BY pid) FROM pg_stat_activity"
        . " WHERE datname = current_database() AND ($where)");
    return split ' ', $pids;
}

# the sessions of a client that just went away may take a moment to end
sub no_sessions {
    my ($self, $where) = @_;
    for (1 .. 100) {
        return if !$self->sessions($where);
        select undef, undef, undef, 0.02;
    }
    die "sessions where $where are still there\n";
}

# Run a command; return its stdout, or die with its stderr.
sub _run {
    my @cmd = @_;
    my $err = File::Temp->new;
    my $pid = open(my $out, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>&', $err or POSIX::_exit(126);
        exec @cmd or print STDERR "exec $cmd[0]: $!\n";
        POSIX::_exit(127);
    }
    my $stdout = do { local $/; <$out> } // '';
    close $out;
    return $stdout unless $?;
    my $status = $? >> 8;
    seek $err, 0, 0;
    my $stderr = do { local $/; <$err> } // '';
    die "@cmd: exit $status\n$stderr";
}

sub _admin_sql {
    my ($sql) = @_;
    _run(qw(psql -XAtq -v ON_ERROR_STOP=1 -d), "host=$host port=$port dbname=postgres user=postgres",
        '-c', $sql);
}

sub _cluster {
    return if defined $port;
    # Turn Ctrl-C and kill into a normal exit so that END cleans up.
    my %signo = (INT => POSIX::SIGINT(), TERM => POSIX::SIGTERM(), HUP => POSIX::SIGHUP());
    for my $sig (keys %signo) {
        next if $SIG{$sig} && $SIG{$sig} ne 'DEFAULT';
        $SIG{$sig} = sub { exit 128 + $signo{$sig} };
    }
    $host = $ENV{VOXANNE_TEST_PG_HOST} || '127.0.0.1';
    if ($ENV{VOXANNE_TEST_PG_PORT}) {
        $port = $ENV{VOXANNE_TEST_PG_PORT};
        return;
    }
    # in the temp folder: as root, PostgreSQL runs as the postgres user, who
    # may not be able to enter the folders above a checkout
    $own_cluster = File::Temp::tempdir('voxanne-pg-XXXXXX', TMPDIR => 1);
    ($port = _run("$ROOT/scripts/pg-cluster", 'start', '--throwaway', $own_cluster)) =~ s/\n\z//;
}

sub _try {
    my ($code) = @_;
    eval { $code->(); 1 } or warn $@;
}

END {
    if ($$ == $OWNER) {
        local $?;
        if ($own_cluster) {
            _try(sub { _run("$ROOT/scripts/pg-cluster", 'stop', $own_cluster) })
                if -e "$own_cluster/PG_VERSION";
            remove_tree($own_cluster);
        } else {
            _try(sub { _admin_sql("DROP DATABASE IF EXISTS $_ WITH (FORCE)") }) for @databases;
        }
    }
}

1;
