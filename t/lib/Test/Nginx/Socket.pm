package Test::Nginx::Socket;

use strict;
use warnings;

use Test::Base -base;

use Cwd qw(getcwd);
use Fcntl qw(:flock);
use File::Basename qw(basename dirname);
use File::Path qw(make_path remove_tree);
use IO::Select;
use IO::Socket::INET;
use List::Util qw(any max min shuffle);
use POSIX qw(SIGKILL SIGQUIT SIGTERM WNOHANG);
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Test::LongString ();
use Time::HiRes qw(sleep time);

our $VERSION = '0.1';

our @EXPORT = qw(
    run_tests repeat_each no_shuffle workers master_on master_off log_level
    worker_connections no_long_string no_root_location add_block_preprocessor
    env_to_nginx check_accum_error_log server_port server_root html_dir
);

# Log lines that fail a block whatever it expects.
our @FATAL_PATTERNS = (
    qr/exited on signal/,
    qr/AddressSanitizer|LeakSanitizer|runtime error:/,
    qr/^==\d+== (?:Invalid |Conditional jump|Use of uninitialised|Syscall param|Mismatched )/,
    qr/^==\d+== (?:Source and destination overlap|.* are definitely lost)/,
);

# Severities that fail a block unless one of its error_log patterns expects the line.
our $SEVERE_PATTERN = qr/\[(?:alert|emerg|crit)\]/;

my $DEFAULT_TIMEOUT = 3;
my $PACKET_DELAY    = 0.02;
my $VALGRIND_EXIT   = 99;
my @TEMP_DIRS       = qw(client_body proxy fastcgi uwsgi scgi);
my @DEFAULT_ENV     = qw(ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS LD_PRELOAD LD_LIBRARY_PATH);

my $Binary      = $ENV{TEST_NGINX_BINARY} || (-x '/usr/sbin/nginx' ? '/usr/sbin/nginx' : 'nginx');
my $Verbose     = $ENV{TEST_NGINX_VERBOSE};
my $UseValgrind = $ENV{TEST_NGINX_USE_VALGRIND};
my $FixedPort   = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT};

my %Conf = (
    repeat_each        => 1,
    shuffle            => !$ENV{TEST_NGINX_NO_SHUFFLE},
    workers            => 1,
    master             => scalar(($ENV{TEST_NGINX_MASTER_PROCESS} // '') =~ /^(?:1|on|yes)$/i),
    log_level          => $ENV{TEST_NGINX_LOG_LEVEL} || 'debug',
    worker_connections => 512,
    long_string        => 1,
    root_location      => 1,
    accum_log          => 0,
);
my (@Preprocessors, @Handlers, @NginxEnv, %Live, $NginxVersion);
my $MainPid = $$;

my ($ServRoot, $ServRootLock) = choose_servroot();
my $HtmlDir     = "$ServRoot/html";
my $LogDir      = "$ServRoot/logs";
my $ErrLog      = "$LogDir/error.log";
my $StderrLog   = "$LogDir/stderr.log";
my $ValgrindLog = "$LogDir/valgrind.log";
my $PidFile     = "$LogDir/nginx.pid";

$ENV{TEST_NGINX_SERVER_PORT} = $ENV{TEST_NGINX_PORT} = $FixedPort || free_port();
$ENV{TEST_NGINX_SERVROOT} = $ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;
$ENV{TEST_NGINX_HTML_DIR} = $HtmlDir;

# Interrupted runs still stop nginx (END below).
for my $sig (qw(INT TERM HUP)) {
    $SIG{$sig} = sub { exit 1 } if ($SIG{$sig} // 'DEFAULT') eq 'DEFAULT';
}

# ---------------------------------------------------------------- settings

sub repeat_each (;$) { $Conf{repeat_each} = shift if @_; $Conf{repeat_each} }
sub workers (;$) { $Conf{workers} = shift if @_; $Conf{workers} }
sub log_level (;$) { $Conf{log_level} = shift if @_; $Conf{log_level} }
sub worker_connections (;$) { $Conf{worker_connections} = shift if @_; $Conf{worker_connections} }
sub no_shuffle () { $Conf{shuffle} = 0 }
sub master_on () { $Conf{master} = 1 }
sub master_off () { $Conf{master} = 0 }
sub no_long_string () { $Conf{long_string} = 0 }
sub no_root_location () { $Conf{root_location} = 0 }
sub check_accum_error_log () { $Conf{accum_log} = 1 }
sub server_port () { $ENV{TEST_NGINX_SERVER_PORT} }
sub server_root () { $ServRoot }
sub html_dir () { $HtmlDir }

sub add_block_preprocessor (&) { push @Preprocessors, shift }

sub env_to_nginx (@) { push @NginxEnv, @_ }

sub add_block_handler {
    my ($handler) = @_;
    ref $handler eq 'CODE' or die "add_block_handler() needs a code reference\n";
    push @Handlers, $handler;
}

# ---------------------------------------------------------------- running

sub run_tests () {
    filters_delay();    # sections are evaluated per block, once its ports are known
    my @blocks = blocks();
    @blocks = shuffle(@blocks) if $Conf{shuffle};
    run_block($_) for @blocks;
}

sub run_block {
    my ($block) = @_;
    my $name = $block->name;

    assign_ports($block);
    $block->run_filters unless $block->is_filtered;
    $_->($block) for @Preprocessors;
    if (defined(my $code = $block->init)) {
        eval "package main; $code; 1" or bail_out("$name - init failed: $@");
    }
    return if skip_block($block);

    if (defined $block->must_die) {
        run_must_die($block, $_) for 0 .. $Conf{repeat_each} - 1;
        return;
    }

    my $srv = start_server($block, 0);
    if (defined $srv->{failure}) {
        fail("$name - nginx started");
        diag($srv->{failure});
        return;
    }
    for my $rep (0 .. $Conf{repeat_each} - 1) {
        run_repetition($block, $srv, $rep, $rep == $Conf{repeat_each} - 1);
        last unless $srv->{pid};
    }
    stop_nginx($srv);
    close $srv->{listener} if $srv->{listener};
}

sub run_must_die {
    my ($block, $rep) = @_;
    my $name = rep_name($block, $rep);
    my $srv = start_server($block, 1);
    ok(defined $srv->{failure}, "$name - nginx must die");
    stop_nginx($srv);
    close $srv->{listener} if $srv->{listener};
    check_log_patterns($block, $name, slurp($StderrLog) . slurp($ErrLog), $rep);
}

sub run_repetition {
    my ($block, $srv, $rep, $last) = @_;
    my $name = rep_name($block, $rep);
    my $mock = start_mock($block, $srv);
    my $ctx = Test::Nginx::Socket::Context->new(
        block => $block, name => $name, rep => $rep, log_pos => $srv->{log_pos},
        port => $ENV{TEST_NGINX_SERVER_PORT}, timeout => seconds(scalar $block->timeout, $DEFAULT_TIMEOUT),
    );

    send_requests($block, $ctx);
    check_responses($block, $name, $ctx->responses) unless defined $block->ignore_response;
    for my $handler (@Handlers) {
        eval { $handler->($block, $ctx); 1 } or fail("$name - block handler died: $@");
    }
    close $ctx->socket if $ctx->socket;
    sleep(seconds(scalar $block->wait, 0));

    my $from = $Conf{accum_log} ? 0 : $srv->{log_pos};
    check_log_patterns($block, $name, read_log_for_checks($block, $from), $rep);
    finish_mock($block, $name, $mock);

    my $scan = slurp($ErrLog, $srv->{log_pos});
    my $end = $srv->{log_pos} + length $scan;
    if ($last) {
        stop_nginx($srv);
        my $shutdown = slurp($ErrLog, $end);
        check_patterns($name, 'shutdown error.log', $shutdown, scalar $block->shutdown_error_log, 1);
        $scan .= $shutdown . slurp($ValgrindLog);
    }
    else {
        reap_if_exited($srv);
        $srv->{log_pos} = $end;
    }
    my $stderr = slurp($StderrLog, $srv->{err_pos});
    $srv->{err_pos} += length $stderr;
    $scan .= $stderr;

    my @expected = map { log_patterns(scalar $block->$_) } qw(error_log shutdown_error_log);
    my @bad = fatal_log_lines($scan, @expected);
    push @bad, $srv->{crash} if $srv->{crash};
    ok(!@bad, "$name - no alert, crit, emerg, sanitizer report or crash")
        or diag(join "\n", @bad[0 .. min($#bad, 19)]);
}

sub rep_name {
    my ($block, $rep) = @_;
    return $block->name . ($rep ? " (repeat $rep)" : '');
}

sub skip_block {
    my ($block) = @_;
    my $name = $block->name;
    my ($count, $why);
    if (defined(my $spec = $block->skip_nginx)) {
        my ($n, $op, $ver, $reason) = $spec =~ /^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+\.\d+\.\d+)\s*(?::\s*(.*?))?\s*$/
            or bail_out("$name - invalid skip_nginx: $spec");
        my ($have, $want) = map { sprintf '%03d%03d%03d', split /\./ } nginx_version(), $ver;
        my $cmp = $have cmp $want;
        my %holds = ('<' => $cmp < 0, '<=' => $cmp <= 0, '>' => $cmp > 0, '>=' => $cmp >= 0);
        ($count, $why) = ($n, $reason || "nginx version $op $ver") if $holds{$op};
    }
    elsif (defined(my $eval = $block->skip_eval)) {
        my ($n, $code) = $eval =~ /^\s*(\d+)\s*:\s*(.*)$/s or bail_out("$name - invalid skip_eval: $eval");
        my $skip = eval "package main; $code";
        bail_out("$name - skip_eval failed: $@") if $@;
        ($count, $why) = ($n, 'skip_eval') if $skip;
    }
    return 0 unless $count;
    Test::More->builder->skip("$name - $why") for 1 .. $count * $Conf{repeat_each};
    return 1;
}

sub nginx_version {
    $NginxVersion //= (qx{\Q$Binary\E -v 2>&1} =~ m{nginx/(\d+\.\d+\.\d+)})[0] // '0.0.0';
    return $NginxVersion;
}

# ---------------------------------------------------------------- nginx

sub choose_servroot {
    return ($ENV{TEST_NGINX_SERVROOT}, undef) if $ENV{TEST_NGINX_SERVROOT};
    my $top = getcwd() . '/t';
    return ("${top}/servroot_$$", undef) if $ENV{TEST_NGINX_RANDOMIZE};
    (my $base = basename($0)) =~ s/\.t$//;
    make_path("$top/servroot");
    open my $lock, '>', "$top/servroot/$base.lock" or die "cannot create $top/servroot/$base.lock: $!\n";
    return ("$top/servroot/$base", $lock) if flock $lock, LOCK_EX | LOCK_NB;
    return ("$top/servroot/$base.$$", undef);
}

sub assign_ports {
    my ($block, $again) = @_;
    my %taken = ($ENV{TEST_NGINX_SERVER_PORT} => 1);
    if ($again && !$FixedPort) {
        $ENV{TEST_NGINX_SERVER_PORT} = $ENV{TEST_NGINX_PORT} = free_port(\%taken);
    }
    my $text = join "\n", grep { defined && !ref } map { @{ $block->{$_} || [] } } @{ $block->_section_order };
    my %wanted = map { $_ => 1 } $text =~ /TEST_NGINX_RAND_PORT_(\d+)/g;
    $ENV{"TEST_NGINX_RAND_PORT_$_"} = free_port(\%taken) for sort { $a <=> $b } keys %wanted;
}

sub free_port {
    my ($taken) = @_;
    $taken //= {};
    for (1 .. 500) {
        my $port = 20000 + int rand 12000;    # below the ephemeral range
        next if $taken->{$port}++;
        my $sock = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1', LocalPort => $port, Proto => 'tcp', Listen => 1,
        ) or next;
        close $sock;
        return $port;
    }
    bail_out('cannot find a free TCP port');
}

sub expand_env {
    my ($text, $name) = @_;
    $text =~ s{\$(TEST_NGINX_[A-Z0-9_]+)}{
        $ENV{$1} // bail_out("$name - environment variable $1 is not set")
    }ge;
    return $text;
}

# master_on()/workers() for the file, or "--- master_on"/"--- workers: N"
# for a block
sub master_enabled {
    my ($block) = @_;
    return ($Conf{master} || defined $block->master_on) && !$UseValgrind;
}

sub nginx_conf {
    my ($block) = @_;
    my $name = $block->name;
    my %s = map { $_ => expand_env($block->$_ // '', $name) }
        qw(main_config http_config config post_main_config);
    my $server_name = expand_env($block->server_name // 'localhost', $name) =~ s/^\s+|\s+$//gr;
    my $level = ($block->log_level || $Conf{log_level}) =~ s/^\s+|\s+$//gr;
    my $master = master_enabled($block) ? 'on' : 'off';
    my $workers = ($block->workers // $Conf{workers}) =~ s/^\s+|\s+$//gr;

    my @top = map { "load_module $_;" } split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '';
    push @top, "worker_processes $workers;", "master_process $master;",
        "error_log $ErrLog $level;", "pid $PidFile;";
    push @top, 'user root root;' if $master eq 'on' && $> == 0 && $s{main_config} !~ /^\s*user\s/m;
    push @top, (map { "env $_;" } @DEFAULT_ENV), (map { 'env "' . s/(["\\])/\\$1/gr . '";' } @NginxEnv);

    my $temp = join '', map { "    ${_}_temp_path $ServRoot/${_}_temp;\n" } @TEMP_DIRS;
    my $root = !$Conf{root_location} ? '' : <<"EOC";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
EOC
    return join("\n", @top) . <<"EOC";


$s{main_config}

events {
    worker_connections $Conf{worker_connections};
}

http {
    access_log $LogDir/access.log;
    default_type text/plain;
    keepalive_timeout 68000ms;
$temp
$s{http_config}

    server {
        listen 127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT};
        server_name $server_name;
        client_max_body_size 30M;

$s{config}

$root    }
}

$s{post_main_config}
EOC
}

sub prepare_servroot {
    my ($block) = @_;
    remove_tree($ServRoot);
    make_path(map { "$ServRoot/$_" } qw(conf html logs), map { "${_}_temp" } @TEMP_DIRS);
    write_file("$ServRoot/conf/nginx.conf", nginx_conf($block));

    my $files = $block->user_files // return;
    my @files = ref $files eq 'ARRAY'
        ? @$files
        : map { [split /\n/, $_, 2] } grep { length } split /^>>>[ \t]*/m, $files;
    for my $file (@files) {
        my ($fname, $content) = @$file;
        $fname =~ s/\s+$//;
        make_path(dirname("$HtmlDir/$fname"));
        write_file("$HtmlDir/$fname", $content // '');
    }
}

# Returns the server state; {failure} holds nginx's output when it did not come up.
sub start_server {
    my ($block, $must_die) = @_;
    for my $attempt (1 .. 3) {
        my %srv = (log_pos => 0, err_pos => 0);
        prepare_servroot($block);
        my $failure = open_mock_listener($block, \%srv) // spawn_nginx(\%srv, $must_die);
        if (defined $failure && $failure =~ /Address already in use/ && $attempt < 3) {
            close $srv{listener} if $srv{listener};
            assign_ports($block, 1);
            next;
        }
        $srv{failure} = $failure;
        return \%srv;
    }
}

sub spawn_nginx {
    my ($srv, $must_die) = @_;
    my @cmd = ($Binary, '-p', "$ServRoot/", '-c', "$ServRoot/conf/nginx.conf", '-g', 'daemon off;');
    my $valgrind = $UseValgrind && !$must_die;
    if ($valgrind) {
        unshift @cmd, qw(valgrind -q --tool=memcheck --leak-check=full --show-leak-kinds=definite),
            '--errors-for-leak-kinds=definite', "--error-exitcode=$VALGRIND_EXIT",
            "--log-file=$ValgrindLog", (-f 't/valgrind.suppress' ? '--suppressions=t/valgrind.suppress' : ());
    }
    Test::More::note("nginx: @cmd") if $Verbose;

    my $pid = fork // bail_out("fork: $!");
    if (!$pid) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $StderrLog;
        open STDERR, '>&', \*STDOUT;
        exec { $cmd[0] } @cmd or print STDERR "cannot run $cmd[0]: $!\n";
        POSIX::_exit(127);
    }
    $srv->{pid} = $pid;
    $Live{server} = $srv;

    my $deadline = time + ($valgrind ? 60 : 5);
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $srv->{pid};
            delete $Live{server};
            return sprintf "nginx exited with status %d (signal %d):\n%s%s",
                $? >> 8, $? & 127, slurp($StderrLog), slurp($ErrLog);
        }
        my ($written) = slurp($PidFile) =~ /^(\d+)/;
        return undef if ($written // 0) == $pid;
        sleep 0.002;
    }
    stop_nginx($srv);
    return "nginx did not come up within the time limit:\n" . slurp($StderrLog) . slurp($ErrLog);
}

sub stop_nginx {
    my ($srv) = @_;
    my $pid = delete $srv->{pid} or return;
    delete $Live{server};
    for my $step ([SIGQUIT, $UseValgrind ? 60 : 3], [SIGTERM, 2], [SIGKILL, 5]) {
        my ($sig, $wait) = @$step;
        my $deadline = time + $wait;
        for (my $i = 0; time < $deadline; $i++) {
            # repeated: a signal that lands just before epoll_wait() is not noticed
            kill $sig, $sig == SIGKILL ? -$pid : $pid if $i % 50 == 0;
            if (waitpid($pid, WNOHANG) == $pid) {
                $srv->{crash} //= exit_problem($?, $sig == SIGQUIT ? 0 : $sig);
                return;
            }
            sleep 0.002;
        }
        $srv->{crash} //= "nginx did not exit within ${wait}s of signal $sig";
    }
}

sub reap_if_exited {
    my ($srv) = @_;
    return unless $srv->{pid} && waitpid($srv->{pid}, WNOHANG) == $srv->{pid};
    delete $srv->{pid};
    delete $Live{server};
    $srv->{crash} = exit_problem($?, 0) // 'nginx exited unexpectedly';
}

sub exit_problem {
    my ($status, $sent) = @_;
    my ($sig, $code) = ($status & 127, $status >> 8);
    return "nginx died on signal $sig" if $sig && $sig != $sent;
    return "valgrind reported errors, see $ValgrindLog" if $UseValgrind && $code == $VALGRIND_EXIT;
    return "nginx exited with status $code" if $code;
    return undef;
}

# ---------------------------------------------------------------- logs

sub fatal_log_lines {
    my ($text, @expected) = @_;
    return grep {
        my $line = $_;
        (any { $line =~ $_ } @FATAL_PATTERNS)
            || ($line =~ $SEVERE_PATTERN && !any { pattern_matches($line, $_) } @expected);
    } split /\n/, $text;
}

sub log_patterns {
    my ($spec) = @_;
    return () unless defined $spec;
    return @$spec if ref $spec eq 'ARRAY';
    return $spec if ref $spec;
    return grep { length } split /\n/, $spec;
}

sub pattern_matches {
    my ($text, $pattern) = @_;
    return index($text, $pattern) >= 0 unless ref $pattern;
    return any { $_ =~ $pattern } split /\n/, $text;
}

# nginx may write a line a moment after the response, so expected lines get a grace period.
sub read_log_for_checks {
    my ($block, $from) = @_;
    my @wanted = log_patterns(scalar $block->error_log);
    my $text = slurp($ErrLog, $from);
    for (1 .. 50) {
        last if !any { !pattern_matches($text, $_) } @wanted;
        sleep 0.02;
        $text = slurp($ErrLog, $from);
    }
    return $text;
}

sub check_log_patterns {
    my ($block, $name, $text, $rep) = @_;
    check_patterns($name, 'error.log', $text, scalar $block->error_log, 1);
    check_patterns($name, 'error.log', $text, scalar $block->no_error_log, 0);

    my $grep = $block->grep_error_log // return;
    my $re = ref $grep ? $grep : do { chomp(my $literal = $grep); qr/\Q$literal\E/ };
    my $found = '';
    for my $line (split /\n/, $text) {
        $found .= substr($line, $-[0], $+[0] - $-[0]) . "\n" while $line =~ /$re/g;
    }
    my $expected = pick($block, 'grep_error_log_out', $rep) // return;
    ref $expected eq 'Regexp'
        ? like($found, $expected, "$name - grep_error_log_out")
        : compare_str($found, $expected, "$name - grep_error_log_out");
}

sub check_patterns {
    my ($name, $where, $text, $spec, $want) = @_;
    for my $pattern (log_patterns($spec)) {
        my $found = pattern_matches($text, $pattern);
        ok($want ? $found : !$found, $want
            ? qq{$name - pattern "$pattern" matches a line in $where}
            : qq{$name - pattern "$pattern" does not match any line in $where});
    }
}

# ---------------------------------------------------------------- HTTP client

sub send_requests {
    my ($block, $ctx) = @_;
    my $name = $ctx->name;
    my @exchanges = request_plan($block, $name);
    for my $i (0 .. $#exchanges) {
        my $x = http_exchange($exchanges[$i], $ctx->timeout, scalar $block->raw_request_middle_delay);
        my $sfx = @exchanges > 1 ? " (req $i)" : '';
        if (!defined $block->abort) {
            fail("$name - request timed out after ${\ $ctx->timeout }s$sfx") if $x->{timed_out};
            my $excused = $x->{truncated} && defined $block->ignore_response;
            fail("$name - $x->{error}$sfx") if $x->{error} && !$excused;
        }
        push @{ $ctx->{responses} }, @{ $x->{responses} };
        close $ctx->{socket} if $ctx->{socket};
        $ctx->{socket} = $x->{socket};
    }
}

sub request_plan {
    my ($block, $name) = @_;
    if (defined(my $raw = $block->raw_request)) {
        my @packets = map { ref $_ ? $_ : { value => $_ } } ref $raw eq 'ARRAY' ? @$raw : $raw;
        my @methods = join('', map { $_->{value} } @packets) =~ m{^([A-Z]+) \S+ HTTP/\d\.\d\r?$}mg;
        return { packets => \@packets, methods => @methods ? \@methods : ['GET'] };
    }
    if (defined(my $list = $block->pipelined_requests)) {
        ref $list eq 'ARRAY' or bail_out("$name - pipelined_requests must be an array reference");
        my @reqs = map {
            build_request($list->[$_], more_headers($block, $_), $_ < $#$list ? 'keep-alive' : 'close')
        } 0 .. $#$list;
        return {
            packets => [{ value => join '', map { $_->{bytes} } @reqs }],
            methods => [map { $_->{method} } @reqs],
        };
    }
    my $request = $block->request // return;
    my @requests = ref $request eq 'ARRAY' ? @$request : ($request);
    return map {
        my @parts = ref $requests[$_] eq 'ARRAY' ? @{ $requests[$_] } : ($requests[$_]);
        split_request(\@parts, more_headers($block, $_));
    } 0 .. $#requests;
}

sub more_headers {
    my ($block, $i) = @_;
    my $spec = pick($block, 'more_headers', $i) // '';
    return join '', map { s/^\s+|\s+$//gr . "\r\n" } grep { /\S/ && !/^\s*#/ } split /\n/, $spec;
}

# Builds the request bytes and cuts them where the test cut its parts.
sub split_request {
    my ($parts, $headers) = @_;
    my @values = map { ref $_ ? $_->{value} : $_ } @$parts;
    my $req = build_request(join('', @values), $headers, 'close');
    my ($orig, $prev, @packets) = (0, 0);
    for my $i (0 .. $#values) {
        $orig += length $values[$i];
        my $end = $i == $#values ? length $req->{bytes} : $req->{map}->($orig);
        my %packet = ref $parts->[$i] ? %{ $parts->[$i] } : ();
        push @packets, { %packet, value => substr($req->{bytes}, $prev, $end - $prev) };
        $prev = $end;
    }
    return { packets => \@packets, methods => [$req->{method}] };
}

sub build_request {
    my ($text, $headers, $conn) = @_;
    my $skipped = length $text;
    $text =~ s/\A(?:[ \t]*(?:#[^\n]*)?\n)*//;
    $skipped -= length $text;
    my ($line, $body) = split /\n/, $text, 2;
    $body //= '';
    my ($method, $uri, $version) = split ' ', $line // '';
    defined $method or bail_out('empty request line');
    my $head = join ' ', $method, $uri // '/', $version // 'HTTP/1.1';

    my $fields = '';
    $fields .= "Host: localhost\r\n" unless $headers =~ /^Host\s*:/mi;
    $fields .= "Connection: $conn\r\n" unless $headers =~ /^Connection\s*:/mi;
    $fields .= $headers;
    my $lead = 0;
    if ($headers !~ /^Transfer-Encoding\s*:\s*chunked/mi) {
        $lead = length(($body =~ /\A(\s*)/)[0]);
        $body =~ s/^\s+|\s+$//g;
        $fields .= 'Content-Length: ' . length($body) . "\r\n"
            if length $body && $headers !~ /^Content-Length\s*:/mi;
    }
    my $body_at = length($head) + length($fields) + 4;
    my $line_len = length($line // '');
    return {
        method => uc $method,
        bytes  => "$head\r\n$fields\r\n$body",
        map    => sub {
            my $o = max(0, shift() - $skipped);
            return min($o, length $head) if $o <= $line_len;
            return $body_at + max(0, min(length $body, $o - $line_len - 1 - $lead));
        },
    };
}

sub http_exchange {
    my ($plan, $timeout, $middle_delay) = @_;
    my @methods = @{ $plan->{methods} };
    my %x = (responses => []);
    my $deadline = time + $timeout;
    local $SIG{PIPE} = 'IGNORE';

    my $sock = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1', PeerPort => $ENV{TEST_NGINX_SERVER_PORT}, Proto => 'tcp', Timeout => $timeout,
    );
    if (!$sock) {
        $x{error} = "cannot connect to nginx: $@";
    }
    else {
        setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
        $sock->blocking(0);
        my ($buf, $eof) = ('', 0);
        my @packets = @{ $plan->{packets} };
        for my $i (0 .. $#packets) {
            sleep($packets[$i]{delay_before} // ($i ? seconds($middle_delay, $PACKET_DELAY) : 0));
            my $err = write_all($sock, $packets[$i]{value}, $deadline) // next;
            $x{timed_out} = 1 if $err eq 'timeout';
            last;    # nginx may have answered already: read it
        }
        my $sel = IO::Select->new($sock);
        while (!$x{timed_out}) {
            my $left = $deadline - time;
            if ($left <= 0) { $x{timed_out} = 1; last }
            next unless $sel->can_read($left);
            my $got = sysread($sock, $buf, 65536, length $buf);
            next if !defined $got && ($!{EAGAIN} || $!{EINTR});
            if (!$got) { $eof = 1; last }
            my @res = parse_responses(\$buf, \@methods, 0);
            next unless @res >= @methods && $res[-1]{complete};
            if (($res[-1]{code} // 0) == 101) {
                $sock->blocking(1);
                $x{socket} = $sock;
                last;
            }
            last if (header($res[-1], 'connection') // '') !~ /close/i;
        }
        $x{responses} = [parse_responses(\$buf, \@methods, $eof)];
        my $last = $x{responses}[-1];
        if ($last && !$last->{complete} && $eof) {
            $x{truncated} = 1;
            $x{error} = $last->{error} // 'truncated response: ' . substr($buf, 0, 300);
        }
    }
    push @{ $x{responses} }, empty_response() while @{ $x{responses} } < @methods;
    return \%x;
}

sub write_all {
    my ($sock, $data, $deadline) = @_;
    utf8::encode($data) if utf8::is_utf8($data);
    my $sel = IO::Select->new($sock);
    while (length $data) {
        my $left = $deadline - time;
        return 'timeout' if $left <= 0;
        next unless $sel->can_write($left);
        my $n = syswrite($sock, $data);
        if (!defined $n) {
            next if $!{EAGAIN} || $!{EINTR};
            return "write: $!";
        }
        substr($data, 0, $n, '');
    }
    return;
}

sub empty_response {
    return { code => undef, status_line => '', raw_headers => '', headers => {}, body => '', complete => 0 };
}

sub header {
    my ($res, $name) = @_;
    my $values = $res->{headers}{ lc $name } or return undef;
    return join ', ', @$values;
}

# Splits a byte stream into responses to the given request methods.
sub parse_responses {
    my ($buf, $methods, $eof) = @_;
    my ($pos, @out) = (0);
    while ($pos < length $$buf) {
        my $res = parse_response($buf, $pos, $methods->[@out] // 'GET', $eof);
        push @out, $res;
        last unless $res->{complete};
        $pos = $res->{end};
        next if @out < @$methods;
        my $rest = substr($$buf, $pos);
        if (($res->{code} // 0) == 101) { $res->{leftover} = $rest } else { $res->{body} .= $rest }
        last;
    }
    return @out;
}

sub parse_response {
    my ($buf, $pos, $method, $eof) = @_;
    my $res = empty_response();
    my @lines;
    while (1) {
        if (substr($$buf, $pos, 5) ne 'HTTP/') {    # HTTP/0.9 or garbage: all of it is body
            @$res{qw(body complete end)} = (substr($$buf, $pos), $eof, length $$buf);
            return $res;
        }
        my $end = index($$buf, "\r\n\r\n", $pos);
        if ($end < 0) {
            $res->{raw_headers} = substr($$buf, $pos);
            return $res;
        }
        $res->{raw_headers} = substr($$buf, $pos, $end + 4 - $pos);
        $pos = $end + 4;
        ($res->{status_line}, @lines) = split /\r\n/, $res->{raw_headers};
        ($res->{code}) = $res->{status_line} =~ m{^HTTP/\d\.\d +(\d\d\d)};
        last unless ($res->{code} // '') =~ /^1/ && $res->{code} != 101;
    }
    for (@lines) {
        push @{ $res->{headers}{ lc $1 } }, $2 if /^([^:]+?)\s*:\s*(.*?)\s*$/;
    }
    my $code = $res->{code} // 0;
    my $length = ($res->{headers}{'content-length'} || [])->[0];
    if ($code == 101 || $code == 204 || $code == 304 || $method eq 'HEAD') {
        @$res{qw(complete end)} = (1, $pos);
    }
    elsif ((header($res, 'transfer-encoding') // '') =~ /chunked/i) {
        @$res{qw(body end complete error)} = dechunk($buf, $pos);
    }
    elsif (defined $length && $length =~ /^\d+$/) {
        $res->{body} = substr($$buf, $pos, $length);
        @$res{qw(complete end)} = (length $res->{body} == $length, $pos + length $res->{body});
    }
    else {
        @$res{qw(body complete end)} = (substr($$buf, $pos), $eof, length $$buf);
    }
    return $res;
}

# Returns (body, end offset, complete, error).
sub dechunk {
    my ($buf, $pos) = @_;
    my $body = '';
    while (1) {
        my $eol = index($$buf, "\r\n", $pos);
        return ($body, $pos, 0) if $eol < 0;
        my $line = substr($$buf, $pos, $eol - $pos);
        return ($body, $pos, 0, "invalid chunk size line: $line") unless $line =~ /^([0-9a-fA-F]+)/;
        my $size = hex $1;
        $pos = $eol + 2;
        if ($size == 0) {    # trailer fields up to an empty line
            while (1) {
                my $end = index($$buf, "\r\n", $pos);
                return ($body, $pos, 0) if $end < 0;
                my $empty = $end == $pos;
                $pos = $end + 2;
                return ($body, $pos, 1) if $empty;
            }
        }
        return ($body, $pos, 0, 'truncated chunk') if length($$buf) < $pos + $size + 2;
        $body .= substr($$buf, $pos, $size);
        return ($body, $pos, 0, 'chunk not followed by CRLF') if substr($$buf, $pos + $size, 2) ne "\r\n";
        $pos += $size + 2;
    }
}

# ---------------------------------------------------------------- response checks

sub check_responses {
    my ($block, $name, $responses) = @_;
    for my $i (0 .. $#$responses) {
        my $res = $responses->[$i];
        my $sfx = @$responses > 1 ? " (req $i)" : '';
        my $code = $res->{code} // '';

        if (defined(my $like = pick($block, 'error_code_like', $i))) {
            like($code, qr/$like/, "$name - status code like$sfx");
        }
        else {
            is($code, pick($block, 'error_code', $i) // 200, "$name - status code ok$sfx");
        }

        for my $line (grep { /\S/ } split /\n/, pick($block, 'response_headers', $i) // '') {
            $line =~ s/^\s+|\s+$//g;
            if ($line =~ s/^!\s*//) {
                ok(!defined header($res, $line), "$name - header $line not present$sfx");
                next;
            }
            my ($key, $val) = split /\s*:\s*/, $line, 2;
            is(header($res, $key) // '', $val // '', "$name - header $key ok$sfx");
        }
        for my $line (grep { /\S/ } split /\n/, pick($block, 'response_headers_like', $i) // '') {
            my ($key, $val) = split /\s*:\s*/, $line =~ s/^\s+|\s+$//gr, 2;
            like(header($res, $key) // '', qr/^$val$/, "$name - header $key like ok$sfx");
        }
        if (defined(my $pat = pick($block, 'raw_response_headers_like', $i))) {
            like($res->{raw_headers}, regex($pat), "$name - raw resp headers like$sfx");
        }
        if (defined(my $pat = pick($block, 'raw_response_headers_unlike', $i))) {
            unlike($res->{raw_headers}, regex($pat), "$name - raw resp headers unlike$sfx");
        }

        if (defined(my $expected = pick($block, 'response_body', $i))) {
            compare_str($res->{body}, $expected, "$name - response_body - response is expected$sfx");
        }
        if (defined(my $pat = pick($block, 'response_body_like', $i))) {
            like($res->{body}, regex($pat), "$name - response_body_like - response is expected$sfx");
        }
        if (defined(my $pat = pick($block, 'response_body_unlike', $i))) {
            unlike($res->{body}, regex($pat), "$name - response_body_unlike - response is expected$sfx");
        }
    }
}

sub regex { ref $_[0] eq 'Regexp' ? $_[0] : qr/$_[0]/s }

sub pick {
    my ($block, $section, $i) = @_;
    my $value = $block->$section;
    return ref $value eq 'ARRAY' ? $value->[$i] : $value;
}

sub compare_str {
    my ($got, $expected, $name) = @_;
    return $Conf{long_string}
        ? Test::LongString::is_string($got, $expected, $name)
        : Test::More::is($got, $expected, $name);
}

# ---------------------------------------------------------------- TCP mock

sub open_mock_listener {
    my ($block, $srv) = @_;
    my $spec = $block->tcp_listen // return undef;
    my $port = expand_env($spec, $block->name) =~ s/^\s+|\s+$//gr;
    $srv->{listener} = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => $port, Proto => 'tcp', Listen => 128, ReuseAddr => 1,
    ) and return undef;
    return "tcp_listen: cannot listen on 127.0.0.1:$port: $!";
}

sub start_mock {
    my ($block, $srv) = @_;
    my $listener = $srv->{listener} or return;
    my %mock = (
        file    => "$LogDir/tcp_query",
        reply   => scalar $block->tcp_reply,
        delay   => seconds(scalar $block->tcp_reply_delay, 0),
        want    => $block->tcp_query_len // (defined $block->tcp_query ? length $block->tcp_query : undef),
        timeout => seconds(scalar $block->timeout, $DEFAULT_TIMEOUT),
        keep    => defined $block->tcp_no_close,
    );
    unlink $mock{file};
    $mock{pid} = fork // bail_out("fork: $!");
    return $Live{mock} = \%mock if $mock{pid};
    eval { serve_mock($listener, \%mock) };
    POSIX::_exit(0);
}

# Runs in the mock's process: answers connections until killed.
sub serve_mock {
    my ($listener, $mock) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my @kept;
    while (my $conn = $listener->accept) {
        my $query = read_mock_query($conn, $mock->{want}, $mock->{timeout});
        if (open my $fh, '>>', $mock->{file}) {
            print {$fh} $query;
            close $fh;
        }
        my $out = ref $mock->{reply} eq 'CODE' ? $mock->{reply}->($query) : $mock->{reply};
        my @packets = ref $out eq 'ARRAY' ? @$out : defined $out ? ($out) : ();
        for my $i (0 .. $#packets) {
            sleep($mock->{delay} || ($i ? $PACKET_DELAY : 0));
            syswrite($conn, $packets[$i]) // last;
        }
        $mock->{keep} ? push(@kept, $conn) : close $conn;
    }
}

sub read_mock_query {
    my ($conn, $want, $timeout) = @_;
    my $sel = IO::Select->new($conn);
    my $deadline = time + $timeout;
    my $buf = '';
    until (defined $want ? length $buf >= $want : http_request_complete($buf)) {
        my $wait = $deadline - time;
        $wait = min($wait, 0.1) if length $buf && !defined $want;    # unknown protocol: stop when idle
        last if $wait <= 0 || !$sel->can_read($wait);
        sysread($conn, $buf, 65536, length $buf) or last;
    }
    return $buf;
}

sub http_request_complete {
    my ($buf) = @_;
    my $end = index($buf, "\r\n\r\n");
    return 0 if $end < 0;
    my $head = substr($buf, 0, $end);
    return length($buf) >= $end + 4 + $1 if $head =~ /^Content-Length\s*:\s*(\d+)/mi;
    return $buf =~ /(?:^|\r\n)0\r\n(?:[^\r\n]+\r\n)*\r\n\z/ if $head =~ /^Transfer-Encoding\s*:\s*chunked/mi;
    return 1;
}

sub finish_mock {
    my ($block, $name, $mock) = @_;
    return unless $mock;
    kill SIGKILL, $mock->{pid};
    waitpid $mock->{pid}, 0;
    delete $Live{mock};
    my $query = slurp($mock->{file});
    compare_str($query, $block->tcp_query, "$name - tcp_query ok") if defined $block->tcp_query;
    is(length $query, $block->tcp_query_len, "$name - tcp_query_len ok") if defined $block->tcp_query_len;
}

# ---------------------------------------------------------------- helpers

sub seconds {
    my ($spec, $default) = @_;
    return $default unless defined $spec && $spec =~ /\S/;
    $spec =~ /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s)?\s*$/ or bail_out("invalid duration: $spec");
    return ($2 // '') eq 'ms' ? $1 / 1000 : $1;
}

sub slurp {
    my ($file, $from) = @_;
    open my $fh, '<', $file or return '';
    binmode $fh;
    seek $fh, $from, 0 if $from;
    local $/;
    return scalar(<$fh>) // '';
}

sub write_file {
    my ($file, $content, $mode) = @_;
    open my $fh, $mode // '>', $file or bail_out("cannot write $file: $!");
    binmode $fh;
    print {$fh} $content;
    close $fh or bail_out("cannot write $file: $!");
}

sub bail_out { Test::More::BAIL_OUT(join '', @_) }

END {
    if ($$ == $MainPid) {
        local $?;
        stop_nginx($Live{server}) if $Live{server};
        if (my $mock = delete $Live{mock}) {
            kill SIGKILL, $mock->{pid};
            waitpid $mock->{pid}, 0;
        }
        if (!$ENV{TEST_NGINX_NO_CLEAN} && Test::More->builder->is_passing) {
            remove_tree($ServRoot);
            unlink "$ServRoot.lock" if $ServRootLock;
        }
    }
}

# ---------------------------------------------------------------- handler context

package Test::Nginx::Socket::Context;

sub new {
    my ($class, %fields) = @_;
    return bless { responses => [], %fields }, $class;
}

sub block      { $_[0]{block} }
sub name       { $_[0]{name} }
sub port       { $_[0]{port} }
sub repetition { $_[0]{rep} }
sub timeout    { $_[0]{timeout} }
sub responses  { $_[0]{responses} }
sub socket     { $_[0]{socket} }
sub error_log  { Test::Nginx::Socket::slurp($ErrLog, $_[0]{log_pos}) }

1;

__END__

=head1 NAME

Test::Nginx::Socket - data-driven nginx tests, compatible with openresty's Test::Nginx::Socket

=head1 SYNOPSIS

    use Test::Nginx::Socket 'no_plan';
    run_tests();

    __DATA__

    === TEST 1: health
    --- config
        location = /t { return 200 "hi\n"; }
    --- request
    GET /t
    --- response_body
    hi
    --- no_error_log
    [error]

=head1 DESCRIPTION

A from-scratch harness for the test-file format of openresty's
Test::Nginx::Socket (built on Test::Base). Each block gets a fresh server
root and its own nginx, run in the foreground (C<-g "daemon off;">, own
process group), started once per block and stopped with SIGQUIT (then
SIGTERM, SIGKILL) after its C<repeat_each> repetitions. Blocks are shuffled
unless C<no_shuffle()> or C<TEST_NGINX_NO_SHUFFLE>. Sections are evaluated
(Test::Base filters) per block, once its C<$TEST_NGINX_RAND_PORT_n> ports are
chosen; C<$TEST_NGINX_*> names in config sections and C<tcp_listen> expand
from C<%ENV>, and an unset one bails out.

Every repetition also asserts that its slice of error.log, nginx's stderr
(and valgrind's log) holds no C<[alert]>, C<[crit]> or C<[emerg]> line that
the block's C<error_log> does not expect, no sanitizer or valgrind report, and
that nginx neither crashed nor ignored SIGQUIT (see C<fatal_log_lines> below). Count
that test when planning, or use C<no_plan>.

=head2 Sections

Config: C<main_config>, C<http_config>, C<config>, C<post_main_config>,
C<server_name>, C<user_files>, C<log_level>, C<init>, C<workers> and
C<master_on> (the block's own, over the file's C<workers()> and
C<master_on()>). Requests: C<request>
(string, or array of requests each sent on its own connection, a request
itself an array of packets, strings or C<< {value, delay_before} >>),
C<more_headers>, C<raw_request> (string or array of packets),
C<raw_request_middle_delay>, C<pipelined_requests>, C<timeout>, C<abort>.
Responses (an array value applies per request): C<error_code>,
C<error_code_like>, C<response_headers> (C<!Name> for absence),
C<response_headers_like>, C<raw_response_headers_like>,
C<raw_response_headers_unlike>, C<response_body>, C<response_body_like>,
C<response_body_unlike>, C<ignore_response>. Logs: C<error_log>,
C<no_error_log>, C<grep_error_log>, C<grep_error_log_out> (an array value
applies per repetition), C<shutdown_error_log> (last repetition), C<wait>.
Control: C<must_die>, C<skip_eval>, C<skip_nginx>, and Test::Base's C<ONLY>,
C<SKIP>, C<LAST>. Upstream mock: C<tcp_listen>, C<tcp_query>,
C<tcp_query_len>, C<tcp_reply> (string, array of packets or code),
C<tcp_reply_delay>, C<tcp_no_close>.

=head2 Environment

C<TEST_NGINX_BINARY>, C<TEST_NGINX_SERVER_PORT> or C<TEST_NGINX_PORT>
(default: a free port), C<TEST_NGINX_SERVROOT> (default
F<t/servroot/E<lt>test-nameE<gt>>, or a per-process directory next to it when
another run holds that one, or F<t/servroot_E<lt>pidE<gt>> with
C<TEST_NGINX_RANDOMIZE>; removed after a passing run unless
C<TEST_NGINX_NO_CLEAN>), C<TEST_NGINX_LOAD_MODULES>, C<TEST_NGINX_LOG_LEVEL>,
C<TEST_NGINX_MASTER_PROCESS>, C<TEST_NGINX_USE_VALGRIND> (suppressions from
F<t/valgrind.suppress>), C<TEST_NGINX_NO_SHUFFLE>, C<TEST_NGINX_VERBOSE>.
The harness sets C<TEST_NGINX_SERVER_PORT>, C<TEST_NGINX_SERVROOT>,
C<TEST_NGINX_SERVER_ROOT> and C<TEST_NGINX_HTML_DIR>.

=head1 EXTENSIONS

C<Test::Nginx::Socket::add_block_handler(sub { my ($block, $ctx) = @_; ... })>
registers code run in every repetition of every block, after the requests and
response checks, before C<wait> and the error-log checks. A handler looks at
the sections it owns (C<< $block->ws_send >>) and returns if there are none.
C<$ctx> offers C<block>, C<name> (test-name prefix), C<port>, C<repetition>,
C<timeout>, C<responses> (hashes with C<code>, C<status_line>, C<headers>
(lower-cased name => [values]), C<raw_headers>, C<body>, C<leftover>),
C<socket> (the still-open connection after a C<101> response, else undef) and
C<error_log> (this repetition's error.log text so far).

C<Test::Nginx::Socket::fatal_log_lines($text, @expected_patterns)> returns the
lines of C<$text> that break the log policy (C<@FATAL_PATTERNS>,
C<$SEVERE_PATTERN>).

=cut
