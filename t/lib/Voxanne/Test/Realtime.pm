package Voxanne::Test::Realtime;

# build/mock-realtime (docs/mock-realtime.md) as a test fixture: started on
# a free port, its JSON event log read back, a Realtime client to drive it,
# and mu-law audio to feed it. The POD at the end is the reference.

use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(getcwd);
use Digest::SHA qw(sha1_base64);
use Exporter 'import';
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use JSON::PP ();
use MIME::Base64 qw(encode_base64);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

require Voxanne::Test::WebSocket;

our @EXPORT_OK = qw(ulaw_tone ulaw_silence ulaw_encode);

our $Binary = $ENV{VOXANNE_MOCK_REALTIME} // getcwd() . '/build/mock-realtime';

my $START_TIMEOUT = 10;
my $JSON = JSON::PP->new->utf8->canonical;
my %Live;    # pid => the fixture, stopped at exit if still running
my $OWNER = $$;

# ---------------------------------------------------------------- the fixture

# Voxanne::Test::Realtime->start(args => [...], log => 1): runs the mock
# with these options on a free port (unless args has --port) and a log in a
# temp folder; returns once it listens.
sub start {
    my ($class, %o) = @_;
    -x $Binary or croak "$Binary is not built: run make build";
    my $dir = File::Temp->newdir('voxanne-rt-XXXXXX', TMPDIR => 1);
    my $self = bless { dir => $dir, args => $o{args} || [] }, $class;
    my @args = @{ $self->{args} };
    if ($o{log} // 1) {
        $self->{log} = "$dir/events.jsonl";
        push @args, '--log', $self->{log};
    }
    $self->{stderr} = "$dir/stderr";
    pipe(my $read, my $write) or croak "pipe: $!";
    my $pid = fork // croak "fork: $!";
    if (!$pid) {
        close $read;
        open STDOUT, '>&', $write or POSIX::_exit(126);
        open STDERR, '>', $self->{stderr} or POSIX::_exit(126);
        exec $Binary, @args or POSIX::_exit(127);
    }
    close $write;
    $self->{pid} = $pid;
    $Live{$pid} = $self;

    # the first line is the port: then it listens
    my $sel = IO::Select->new($read);
    my ($line, $deadline) = ('', time + $START_TIMEOUT);
    while ($line !~ /\n/) {
        my $left = $deadline - time;
        last if $left <= 0 || !$sel->can_read($left);
        last unless sysread($read, $line, 64, length $line);
    }
    if ($line !~ /^(\d+)\n/) {
        $self->stop;
        croak "mock-realtime @args did not start: " . $self->stderr;
    }
    $self->{port} = $1;
    $self->{stdout} = $read;
    return $self;
}

sub port     { $_[0]{port} }
sub pid      { $_[0]{pid} }
sub log_file { $_[0]{log} }

# The URL a bridge connects to.
sub url {
    my ($self, %o) = @_;
    my $scheme = $o{tls} ? 'wss' : 'ws';
    my $model = $o{model} // 'gpt-realtime';
    return "$scheme://127.0.0.1:$self->{port}/v1/realtime?model=$model";
}

sub stderr {
    my ($self) = @_;
    open my $fh, '<', $self->{stderr} or return '';
    local $/;
    return <$fh> // '';
}

# Is it still running?
sub alive {
    my ($self) = @_;
    return 0 unless $self->{pid};
    return 1 if waitpid($self->{pid}, WNOHANG) == 0;
    $self->{status} = $?;
    delete $Live{ $self->{pid} };
    delete $self->{pid};
    return 0;
}

# SIGTERM (or the signal given), then the exit status ($?); SIGKILL after 5 s.
sub stop {
    my ($self, $signal) = @_;
    my $pid = delete $self->{pid} or return $self->{status};
    kill $signal // 'TERM', $pid;
    my $deadline = time + 5;
    while (waitpid($pid, WNOHANG) == 0) {
        if (time > $deadline) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
            last;
        }
        sleep 0.01;
    }
    $self->{status} = $?;
    delete $Live{$pid};
    close $self->{stdout} if $self->{stdout};
    return $self->{status};
}

# Every line of the event log so far, decoded; with filters, the lines
# whose fields equal them (a Regexp matches); since => N skips the first N
# lines (a mark).
sub log {
    my ($self, %want) = @_;
    my $since = delete $want{since} // 0;
    return () unless $self->{log} && open my $fh, '<', $self->{log};
    my @lines;
    while (my $line = <$fh>) {
        last unless $line =~ /\n\z/;    # a line being written
        push @lines, $JSON->decode($line) if $. > $since;
    }
    return grep { matches($_, \%want) } @lines;
}

# The lines of the last connection so far (the last call's), filtered as
# log() filters them.
sub conn_log {
    my ($self, %want) = @_;
    my @lines = $self->log;
    my ($conn) = map { $_->{conn} } grep { ($_->{dir} // '') eq 'upgrade' } reverse @lines;
    return grep { ($_->{conn} // 0) == ($conn // -1) && matches($_, \%want) } @lines;
}

# How many lines the log has: log(since => $mark) reads what comes after.
sub mark {
    my ($self) = @_;
    return scalar(my @all = $self->log);
}

# Waits until the log holds a line matching the filters (or the code
# reference, given the lines, returns true); returns the matching lines.
sub wait_log {
    my ($self, @want) = @_;
    my $timeout = 5;
    if (ref $want[0] eq 'CODE') {
        $timeout = $want[1] // $timeout;
        splice @want, 1;
    }
    elsif (@want % 2) {
        $timeout = pop @want;
    }
    my $deadline = time + $timeout;
    while (1) {
        my @got = ref $want[0] eq 'CODE' ? $want[0]->($self->log) : $self->log(@want);
        return @got if @got;
        return () if time > $deadline;
        sleep 0.02;
    }
}

# The bridge's answer to the last connection's function call: waits for its
# function_call_output (dies after $timeout, default 5 s), checks that it
# answers that call and that a response.create follows; returns the
# output's line and the call's (response.function_call_arguments.done).
sub function_output {
    my ($self, $timeout) = @_;
    my ($output) = $self->wait_log(sub { grep { ($_->{item}{type} // '') eq 'function_call_output' }
                                         $self->conn_log(dir => 'in', type => 'conversation.item.create') },
                                   $timeout // 5)
        or die "no function_call_output\n";
    my ($call) = $self->conn_log(dir => 'out', type => 'response.function_call_arguments.done');
    die "the output answers no function call\n" unless $call && $output->{item}{call_id} eq $call->{call_id};
    $self->wait_log(sub { grep { $_->{t} > $output->{t} } $self->conn_log(dir => 'in', type => 'response.create') },
                    $timeout // 5)
        or die "no response.create after the function's output\n";
    return ($output, $call);
}

sub matches {
    my ($line, $want) = @_;
    for my $key (keys %$want) {
        my ($got, $w) = ($line->{$key}, $want->{$key});
        return 0 unless defined $got;
        return 0 if ref $w eq 'Regexp' ? $got !~ $w : $got ne $w;
    }
    return 1;
}

# A client connection, upgraded or refused: see Voxanne::Test::Realtime::Client.
sub connect {
    my ($self, %o) = @_;
    return Voxanne::Test::Realtime::Client->open(port => $self->{port}, %o);
}

END {
    if ($$ == $OWNER) {
        local $?;
        $_->stop for values %Live;
    }
}

# ---------------------------------------------------------------- audio

# mu-law of a 16-bit sample, written from G.711, apart from the mock's C.
sub ulaw_encode {
    my ($x) = @_;
    my $sign = $x < 0 ? 0x80 : 0;
    $x = -$x if $x < 0;
    $x = 32635 if $x > 32635;
    $x += 0x84;
    my $exp = 7;
    $exp-- while $exp > 0 && !($x & (0x4000 >> (7 - $exp)));
    my $mant = ($x >> ($exp + 3)) & 0x0f;
    return chr(~($sign | ($exp << 4) | $mant) & 0xff);
}

# $ms of a sine at $hz and $level (of 32767), as mu-law 8000 Hz.
sub ulaw_tone {
    my ($ms, $hz, $level) = @_;
    $hz //= 440;
    $level //= 8000;
    my $n = $ms * 8;
    return join '', map { ulaw_encode(int($level * sin(2 * 3.141592653589793 * $hz * $_ / 8000))) } 0 .. $n - 1;
}

sub ulaw_silence { "\xff" x ($_[0] * 8) }

# ---------------------------------------------------------------- the client

package Voxanne::Test::Realtime::Client;

use Carp qw(croak);
use Digest::SHA qw(sha1_base64);
use IO::Select;
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(sleep time);

my $GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
my $CJSON = JSON::PP->new->utf8->canonical;

# Opens a connection and asks for the upgrade. Options: port, key (sent as
# Authorization: Bearer), path (default /v1/realtime?model=gpt-realtime),
# headers (a hash), tls (a hash: ca, name), timeout (each wait, default 5).
sub open {
    my ($class, %o) = @_;
    my $timeout = $o{timeout} // 5;
    my $self = bless { timeout => $timeout, events => [] }, $class;
    my $sock;
    if ($o{tls}) {
        require IO::Socket::SSL;
        $sock = IO::Socket::SSL->new(
            PeerHost        => '127.0.0.1',
            PeerPort        => $o{port},
            Timeout         => $timeout,
            SSL_hostname    => $o{tls}{name} // 'localhost',
            SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_PEER(),
            SSL_ca_file     => $o{tls}{ca},
            SSL_verifycn_name   => $o{tls}{name} // 'localhost',
            SSL_verifycn_scheme => 'http',
        );
        if (!$sock) {
            $self->{error} = "TLS: " . IO::Socket::SSL::errstr();
            return $self;
        }
    }
    else {
        $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $o{port},
                                      Timeout => $timeout)
            or croak "connect to 127.0.0.1:$o{port}: $!";
    }
    $self->{socket} = $sock;

    my $key = encode_base64(join('', map { chr int rand 256 } 1 .. 16), '');
    my %h = (
        Host                    => "127.0.0.1:$o{port}",
        Upgrade                 => 'websocket',
        Connection              => 'Upgrade',
        'Sec-WebSocket-Key'     => $key,
        'Sec-WebSocket-Version' => 13,
        (defined $o{key} ? (Authorization => "Bearer $o{key}") : ()),
        %{ $o{headers} || {} },
    );
    my $path = $o{path} // '/v1/realtime?model=gpt-realtime';
    my $req = "GET $path HTTP/1.1\r\n"
        . join('', map { defined $h{$_} ? "$_: $h{$_}\r\n" : '' } sort keys %h) . "\r\n";
    my $err = Test::Nginx::Socket::write_all($sock, $req, time + $timeout);
    croak "sending the upgrade: $err" if $err;

    # the response head, and a refusal's body
    my $buf = '';
    my $deadline = time + $timeout;
    while ($buf !~ /\r\n\r\n/) {
        my $n = $self->_read(\$buf, $deadline);
        croak "no response to the upgrade; got: $buf" unless $n;
    }
    my ($head, $rest) = split /\r\n\r\n/, $buf, 2;
    my ($status_line, @lines) = split /\r\n/, $head;
    ($self->{status}) = $status_line =~ m{^HTTP/1\.1 (\d{3})} or croak "not HTTP: $status_line";
    for (@lines) {
        my ($name, $value) = /^([^:]+):\s*(.*)$/ or next;
        $self->{headers}{ lc $name } = $value;
    }
    if ($self->{status} != 101) {
        my $length = $self->{headers}{'content-length'} // 0;
        $self->_read(\$rest, $deadline) || last while length $rest < $length;
        $self->{body} = $rest;
        CORE::close($sock);
        delete $self->{socket};
        return $self;
    }
    my $accept = sha1_base64($key . $GUID) . '=';
    croak "a wrong Sec-WebSocket-Accept: " . ($self->{headers}{'sec-websocket-accept'} // 'none')
        if ($self->{headers}{'sec-websocket-accept'} // '') ne $accept;
    $self->{conn} = Voxanne::Test::Realtime::Conn->new(
        socket => $sock, leftover => $rest, timeout => $timeout, skip => 0);
    return $self;
}

sub _read {
    my ($self, $buf, $deadline) = @_;
    my $sock = $self->{socket};
    while (1) {
        if (!($sock->can('pending') && $sock->pending)) {
            my $left = $deadline - time;
            return 0 if $left <= 0 || !IO::Select->new($sock)->can_read($left);
        }
        my $n = sysread($sock, $$buf, 65536, length $$buf);
        next if !defined $n && ($!{EAGAIN} || $!{EINTR});
        return $n;
    }
}

sub status  { $_[0]{status} }
sub body    { $_[0]{body} }
sub headers { $_[0]{headers} }
sub error   { $_[0]{error} }
sub upgraded { defined $_[0]{conn} }

# The events received so far (decoded), in order.
sub events { @{ $_[0]{events} } }

# Sends an event (a hash, JSON-encoded) or a text as it is.
sub send {
    my ($self, $event) = @_;
    my $text = ref $event ? $CJSON->encode($event) : $event;
    return $self->send_frame(text => $text);
}

# Sends a frame built by Voxanne::Test::WebSocket::frame (text, binary,
# close, ping ...); returns an error or undef.
sub send_frame {
    my ($self, @frame) = @_;
    return $self->{conn}->write(Voxanne::Test::WebSocket::frame(@frame));
}

# Appends audio (bytes in the session's format) as input_audio_buffer.append
# events of $chunk bytes (default 160: 20 ms of mu-law), $pace seconds apart
# (default 0: at once).
sub append {
    my ($self, $audio, %o) = @_;
    my $chunk = $o{chunk} // 160;
    for (my $i = 0; $i < length $audio; $i += $chunk) {
        $self->send({ type => 'input_audio_buffer.append',
                      audio => encode_base64(substr($audio, $i, $chunk), '') });
        sleep $o{pace} if $o{pace};
    }
}

# The next server event (a hash), or undef after the timeout or at the
# close (then closed() tells which); pings are skipped.
sub event {
    my ($self, $timeout) = @_;
    my $deadline = time + ($timeout // $self->{timeout});
    return undef if $self->{closed};
    while (1) {
        my $m = $self->{conn}->next_message($deadline) // return undef;
        next if $m->{type} eq 'ping' || $m->{type} eq 'pong';
        if ($m->{type} eq 'text') {
            my $ev = eval { $CJSON->decode($m->{payload}) } // { type => undef, not_json => $m->{payload} };
            push @{ $self->{events} }, $ev;
            return $ev;
        }
        $self->{closed} = $m;    # close, eof, invalid or binary
        return undef;
    }
}

# Events until one of this type (or, given a code reference, one it accepts);
# returns that one in scalar context, all of them in list context; undef or
# () after the timeout.
sub wait_for {
    my ($self, $want, $timeout) = @_;
    my $deadline = time + ($timeout // $self->{timeout});
    my @seen;
    while (1) {
        my $ev = $self->event(($deadline - time) > 0 ? $deadline - time : 0) or return;
        push @seen, $ev;
        my $hit = ref $want eq 'CODE' ? $want->($ev) : ($ev->{type} // '') eq $want;
        return wantarray ? @seen : $ev if $hit;
    }
}

# Every event that arrives within $seconds.
sub drain {
    my ($self, $seconds) = @_;
    my $deadline = time + $seconds;
    my @seen;
    while (my $ev = $self->event(($deadline - time) > 0 ? $deadline - time : 0)) {
        push @seen, $ev;
    }
    return @seen;
}

# How the server ended the connection: {type => 'close', code, reason}
# (answered with the same code), or {type => 'eof'} for a drop; waits up
# to $timeout for it, skipping events.
sub closed {
    my ($self, $timeout) = @_;
    my $deadline = time + ($timeout // $self->{timeout});
    while (!$self->{closed}) {
        last if time > $deadline;
        $self->event($deadline - time);
    }
    my $c = $self->{closed} or return undef;
    if ($c->{type} eq 'close' && !$self->{answered}++) {
        $self->send_frame(close => $c->{code}) if defined $c->{code};
        $self->{conn}->await_eof;
    }
    return $c;
}

# Our close (1000 unless given), then the server's answer and the end.
sub close {
    my ($self, $code) = @_;
    return unless $self->{conn};
    $self->send_frame(close => $code // 1000);
    $self->{answered} = 1;
    my $deadline = time + $self->{timeout};
    while (!$self->{closed} && time < $deadline) {
        $self->event($deadline - time);
    }
    $self->{conn}->await_eof if ($self->{closed}{type} // '') eq 'close';
    CORE::close($self->{socket});
    return $self->{closed};
}

# ---------------------------------------------------------------- TLS reads

package Voxanne::Test::Realtime::Conn;

our @ISA = ('Voxanne::Test::WebSocket::Conn');

# Bytes IO::Socket::SSL holds already do not wake select().
sub read_more {
    my ($self, $deadline) = @_;
    my $sock = $self->{socket};
    if ($sock->can('pending') && $sock->pending) {
        my $got = sysread($sock, $self->{buf}, 65536, length $self->{buf});
        $self->{eof} = 1 if defined $got && !$got;
        return 1;
    }
    return $self->SUPER::read_more($deadline);
}

1;

__END__

=head1 NAME

Voxanne::Test::Realtime - the mock OpenAI Realtime provider as a test fixture

=head1 SYNOPSIS

    use Voxanne::Test::Realtime qw(ulaw_tone ulaw_silence);

    my $mock = Voxanne::Test::Realtime->start(args => ['--api-key', 'sk-test']);
    $mock->port;                 # a free loopback port
    $mock->url;                  # ws://127.0.0.1:PORT/v1/realtime?model=gpt-realtime

    # a client, as a bridge would be
    my $c = $mock->connect(key => 'sk-test');
    $c->status;                  # 101, or the refusal's status ($c->body)
    my $created = $c->wait_for('session.created');
    $c->send({ type => 'session.update', session => { type => 'realtime', ... } });
    $c->append(ulaw_tone(600) . ulaw_silence(700));
    my @events = $c->wait_for('response.done', 10);
    $c->close;

    # what a bridge sent, from the mock's event log
    my @truncates = $mock->log(dir => 'in', type => 'conversation.item.truncate');
    my ($line) = $mock->wait_log(dir => 'out', type => 'response.done', 5);

    $mock->stop;                 # SIGTERM; the exit status; also done at exit

=head1 DESCRIPTION

C<start> runs C<build/mock-realtime> (or C<$VOXANNE_MOCK_REALTIME>) with
the options in C<args> on a free port (the mock prints the port the kernel
picked) and C<--log> in a temp folder (C<< log => 0 >> for none). It dies
when the mock does not start, with its stderr. Every fixture still running
is stopped when the test process exits.

C<mark> counts the lines so far, and C<< log(since => $mark, ...) >> reads only
the later ones: a test file that shares one mock between blocks marks the
log at the start of each. C<log(%filter)> reads the mock's JSON lines (C<t>, C<conn> (the
connection, from 1), C<dir>:
C<in>, C<out>, C<upgrade>, C<close>, C<closed>, C<drop>, and the event's
own fields; audio as C<bytes>); a filter value is a string or a Regexp.
C<wait_log(%filter, $timeout)> polls until a line matches (or a code
reference given the lines returns something true). C<function_output($timeout)>
waits for the bridge's C<function_call_output> on the last connection, dies
unless it answers that connection's function call and a C<response.create>
follows, and returns the output's line and the call's.

C<connect(%options)> returns a C<Voxanne::Test::Realtime::Client>: C<key>,
C<path>, C<headers>, C<< tls => { ca => FILE, name => 'localhost' } >>
(verified with IO::Socket::SSL; C<error> holds a TLS failure), C<timeout>.
Its methods: C<status>, C<headers>, C<body>, C<upgraded>, C<send(\%event)>,
C<send_frame(...)> (frames of L<Voxanne::Test::WebSocket>), C<append($audio,
chunk => 160, pace => 0.02)>, C<event($timeout)>, C<wait_for($type |
\&code, $timeout)>, C<drain($seconds)>, C<events>, C<closed($timeout)>
(C<< {type => 'close', code, reason} >> or C<< {type => 'eof'} >>),
C<close($code)>.

C<ulaw_tone($ms, $hz, $level)> and C<ulaw_silence($ms)> make mu-law audio
at 8000 Hz (C<ulaw_encode> is written from G.711, independently of the
mock's C).

=cut
