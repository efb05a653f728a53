package Voxanne::Test::WebSocket;

# WebSocket sections for Test::Nginx blocks (ws_send, ws_expect,
# ws_close_code, ws_no_close, ws_skip_unmatched, ws_timeout): run by a block
# handler on the connection the harness keeps open after a 101. The POD at
# the end is the reference.

use strict;
use warnings;

use Data::Dumper ();
use Encode ();
use IO::Select;
use JSON::PP ();
use List::Util qw(any);
use Protocol::WebSocket::Frame;
use Test::More ();
use Time::HiRes qw(sleep time);

require Test::Nginx::Socket;

our $VERSION = '0.1';

my $DEFAULT_TIMEOUT = 5;        # seconds, each WebSocket wait
my $SPLIT_DELAY     = 0.002;    # seconds between the chunks of a split write
my $OPEN_GRACE      = 0.05;     # ws_no_close: how long the connection must stay quiet-open
my $MAX_DIAG_FRAMES = 20;
my $MAX_DIAG_CHARS  = 100;

my %OPCODE = (continuation => 0, text => 1, binary => 2, close => 8, ping => 9, pong => 10);
my %EXPECT = map { $_ => 1 } qw(text text_like json binary ping pong close);

my $Registered;

sub import {
    Test::Nginx::Socket::add_block_handler(\&handle_block) unless $Registered++;
}

# ---------------------------------------------------------------- the handler

sub handle_block {
    my ($block, $ctx) = @_;
    return unless any { defined scalar $block->$_ } qw(ws_send ws_expect ws_close_code ws_no_close);
    my $name = $ctx->name;
    my $plan = block_plan($block);    # dies on a malformed section: the harness fails the block

    my $sock = $ctx->socket;
    if (!$sock) {
        my $res = $ctx->responses->[-1];
        Test::More::fail("$name - ws connection upgraded");
        Test::More::diag('no open connection after the request; the response was: '
            . (($res && $res->{status_line}) || 'none'));
        return;
    }
    local $SIG{PIPE} = 'IGNORE';
    my $conn = Voxanne::Test::WebSocket::Conn->new(
        socket   => $sock,
        leftover => $ctx->responses->[-1]{leftover} // '',
        timeout  => $plan->{timeout},
        skip     => $plan->{skip_unmatched},
    );

    my $write_failed;
    for my $i (1 .. @{ $plan->{steps} }) {
        my $step = $plan->{steps}[ $i - 1 ];
        if ($step->{kind} eq 'sleep') {
            sleep $step->{seconds};
        }
        elsif ($step->{kind} eq 'run') {
            Test::More::ok(eval { $step->{code}->($ctx); 1 }, "$name - ws send step $i: run")
                or Test::More::diag("the step died: $@");
        }
        elsif ($step->{kind} eq 'write') {
            next if $write_failed;    # the connection is gone: the expectations tell the rest
            my $err = $conn->write($step->{bytes}, $step->{split}, $step->{split_delay});
            $conn->{sent_close} = 1 if $step->{close};
            next unless $err;
            $write_failed = 1;
            Test::More::fail("$name - ws send step $i: $step->{desc}");
            Test::More::diag("write failed: $err\n" . $conn->received_diag(0));
        }
        else {
            check_expect($conn, $_, "$name - ws send step $i: expect $_->{desc}") for @{ $step->{expect} };
        }
    }
    my $n = 0;
    check_expect($conn, $_, "$name - ws expect " . ++$n . ": $_->{desc}") for @{ $plan->{expect} };

    check_close_code($conn, $plan->{close_code}, $name) if defined $plan->{close_code};
    check_no_close($conn, $name) if $plan->{no_close};
}

sub check_expect {
    my ($conn, $exp, $test_name) = @_;
    my $from = $conn->log_pos;
    my $why = $conn->await($exp);
    Test::More::ok(!defined $why, $test_name)
        or Test::More::diag("expected: $exp->{desc}\n$why\n" . $conn->received_diag($from));
}

# ws_close_code: the server's close frame (perhaps consumed by an expectation
# already), our answer unless we closed first, then the end of the TCP
# connection.
sub check_close_code {
    my ($conn, $code, $name) = @_;
    my $from = $conn->log_pos;
    my @why;
    if (!$conn->{got_close}) {
        my $why = $conn->await(expectation({ close => undef }, 'ws_close_code'));
        push @why, "waiting for the server's close frame: $why" if defined $why;
    }
    if (my $close = $conn->{got_close}) {
        push @why, 'the close frame has ' . (defined $close->{code} ? "code $close->{code}" : 'no code')
            if ($close->{code} // -1) != $code;
        if (!$conn->{sent_close}) {    # the server closed first: answer as a client should
            my $err = $conn->write(frame(close => $close->{code}));
            $conn->{sent_close} = 1;
            push @why, "answering the close frame failed: $err" if $err;
        }
        my $why = $conn->await_eof;
        push @why, $why if defined $why;
    }
    Test::More::ok(!@why, "$name - ws close code $code")
        or Test::More::diag(join("\n", @why) . "\n" . $conn->received_diag($from));
}

# ws_no_close: nothing has closed the connection; then a close 1000 of ours
# must be answered with close 1000 and the end of the TCP connection.
sub check_no_close {
    my ($conn, $name) = @_;
    my $from = $conn->log_pos;
    my $closed = $conn->{got_close} ? 'the server sent ' . describe_message($conn->{got_close}) : undef;
    $closed //= $conn->poll_closed($OPEN_GRACE);
    Test::More::ok(!defined $closed, "$name - ws connection still open")
        or Test::More::diag("$closed\n" . $conn->received_diag($from));
    if (defined $closed) {
        # named like the harness's skipped blocks: TAP shows no name for a skip
        Test::More->builder->skip("$name - ws close 1000 answered: the connection is closed already");
        return;
    }

    $from = $conn->log_pos;
    my @why;
    my $err = $conn->write(frame(close => 1000));
    $conn->{sent_close} = 1;
    if ($err) {
        push @why, "sending close 1000 failed: $err";
    }
    else {
        # data frames the server sent before it saw our close are allowed
        my $why = $conn->await(expectation({ close => 1000 }, 'ws_no_close'), skip_all => 1);
        push @why, $why if defined $why;
        if ($conn->{got_close}) {
            $why = $conn->await_eof;
            push @why, $why if defined $why;
        }
    }
    Test::More::ok(!@why, "$name - ws close 1000 answered")
        or Test::More::diag(join("\n", @why) . "\n" . $conn->received_diag($from));
}

# ---------------------------------------------------------------- sections

sub block_plan {
    my ($block) = @_;
    my %plan = (
        timeout        => Test::Nginx::Socket::seconds(scalar $block->ws_timeout, $DEFAULT_TIMEOUT),
        skip_unmatched => defined scalar $block->ws_skip_unmatched,
        no_close       => defined scalar $block->ws_no_close,
    );
    my @send = section_list(scalar $block->ws_send, 'ws_send');
    $plan{steps} = [map { send_step($send[$_], 'ws_send step ' . ($_ + 1)) } 0 .. $#send];
    my @expect = section_list(scalar $block->ws_expect, 'ws_expect');
    $plan{expect} = [map { expectation($expect[$_], 'ws_expect ' . ($_ + 1)) } 0 .. $#expect];

    if (defined(my $code = $block->ws_close_code)) {
        $code =~ /^\s*(\d+)\s*$/ or die "ws_close_code: not a close code: $code\n";
        $plan{close_code} = $1;
        die "ws_close_code and ws_no_close contradict each other\n" if $plan{no_close};
    }
    die "ws_no_close: the connection cannot stay open after a close step in ws_send\n"
        if $plan{no_close} && any { $_->{close} } @{ $plan{steps} };
    return \%plan;
}

# An eval section gives an array (or one hash); a plain section one text per line.
sub section_list {
    my ($value, $section) = @_;
    return () unless defined $value;
    return @$value if ref $value eq 'ARRAY';
    return $value if ref $value eq 'HASH';
    die "$section: an array reference, a hash reference or lines of text, not $value\n" if ref $value;
    return grep { length } split /\n/, $value;
}

sub send_step {
    my ($step, $where) = @_;
    if (!ref $step) {
        return { kind => 'write', bytes => frame(text => $step), desc => 'text ' . quote($step) };
    }
    ref $step eq 'HASH' or die "$where: a step is a string or a hash reference\n";
    my %s = %$step;
    if (exists $s{sleep}) {
        die "$where: sleep takes no other keys\n" if keys %s > 1;
        return { kind => 'sleep', seconds => Test::Nginx::Socket::seconds($s{sleep}, 0) };
    }
    if (exists $s{run}) {
        die "$where: run takes a code reference and no other keys\n"
            if keys %s > 1 || ref $s{run} ne 'CODE';
        return { kind => 'run', code => $s{run} };
    }
    if (exists $s{expect}) {
        die "$where: expect takes no other keys\n" if keys %s > 1;
        my @exp = ref $s{expect} eq 'ARRAY' ? @{ $s{expect} } : ($s{expect});
        return { kind => 'expect', expect => [map { expectation($_, "$where expect") } @exp] };
    }
    my %w = (kind => 'write', split => delete $s{split}, split_delay => delete $s{split_delay});
    die "$where: split is a positive number of bytes\n" if defined $w{split} && $w{split} !~ /^[1-9]\d*$/;
    if (exists $s{raw}) {
        my $raw = delete $s{raw};
        die "$where: unknown keys with raw: @{[ sort keys %s ]}\n" if keys %s;
        $w{bytes} = binary_bytes($raw // '');
        $w{desc} = 'raw ' . length($w{bytes}) . ' bytes';
    }
    else {
        $w{bytes} = eval { frame(%s) } // die "$where: $@";
        $w{close} = exists $s{close};
        $w{desc} = describe_step(\%s);
    }
    $w{desc} .= " in chunks of $w{split}" if $w{split};
    return \%w;
}

sub expectation {
    my ($e, $where) = @_;
    $e = { text => $e } unless ref $e;
    ref $e eq 'HASH' or die "$where: an expectation is a string or a hash reference\n";
    my @kind = grep { $EXPECT{$_} } sort keys %$e;
    @kind == 1 or die "$where: an expectation has exactly one of " . join(', ', sort keys %EXPECT) . "\n";
    my $kind = $kind[0];
    my %allowed = ($kind => 1, $kind eq 'close' ? (reason => 1, reason_like => 1) : ());
    my @extra = grep { !$allowed{$_} } sort keys %$e;
    die "$where: unknown keys in a $kind expectation: @extra\n" if @extra;
    my %x = (kind => $kind, want => $e->{$kind});
    $x{want} = regex($x{want}) if $kind eq 'text_like';
    $x{reason} = $e->{reason};
    $x{reason_like} = regex($e->{reason_like}) if defined $e->{reason_like};
    die "$where: json wants a data structure\n" if $kind eq 'json' && !defined $x{want};
    $x{desc} = describe_expectation(\%x);
    return \%x;
}

sub regex { ref $_[0] eq 'Regexp' ? $_[0] : qr/$_[0]/s }

# ---------------------------------------------------------------- frames

# The bytes of one frame, built by Protocol::WebSocket::Frame (a client's
# frames are masked unless mask => 0). Public: test files can build frames to
# cut up or garble in raw steps.
sub frame {
    my (%a) = @_;
    my @type = grep { exists $a{$_} } sort keys %OPCODE;
    @type == 1 or die 'a frame has exactly one of ' . join(', ', sort keys %OPCODE) . "\n";
    my $type = $type[0];
    my $data = delete $a{$type};
    my $payload;
    if ($type eq 'close') {
        my $reason = delete $a{reason};
        die "a close frame with a reason needs a code\n" if defined $reason && !defined $data;
        $payload = defined $data ? pack('n', $data) . text_bytes($reason // '') : '';
    }
    else {
        $payload = $type eq 'binary' ? binary_bytes($data // '') : text_bytes($data // '');
    }
    my %opt = map { $_ => delete $a{$_} } grep { exists $a{$_} } qw(fin mask rsv);
    die 'unknown frame keys: ' . join(' ', sort keys %a) . "\n" if keys %a;
    my $rsv = $opt{rsv};
    $rsv = [map { ($rsv >> $_) & 1 } 2, 1, 0] if defined $rsv && !ref $rsv;
    return Protocol::WebSocket::Frame->new(
        buffer           => $payload,
        type             => $type,
        fin              => ($opt{fin} // 1) ? 1 : 0,
        masked           => ($opt{mask} // 1) ? 1 : 0,
        max_payload_size => 0,
        ($rsv ? (rsv => $rsv) : ()),
    )->to_bytes;
}

# Character strings go out as UTF-8; byte strings as they are.
sub text_bytes {
    my ($s) = @_;
    return utf8::is_utf8($s) ? Encode::encode('UTF-8', $s) : $s;
}

sub binary_bytes {
    my ($s) = @_;
    my $copy = $s;
    return utf8::downgrade($copy, 1) ? $copy : Encode::encode('UTF-8', $s);
}

# A received message (or control frame) against an expectation: undef when it
# matches, else why not.
sub mismatch {
    my ($x, $m) = @_;
    my $type = $x->{kind} =~ /^(?:text_like|json)$/ ? 'text' : $x->{kind};
    return "not a $type frame" if $m->{type} ne $type;
    my $want = $x->{want};
    if ($x->{kind} eq 'text') {
        return undef if !defined $want || $m->{text} eq expected_text($want);
        return 'different text';
    }
    if ($x->{kind} eq 'text_like') {
        return $m->{text} =~ $want ? undef : "text does not match $want";
    }
    if ($x->{kind} eq 'json') {
        my $got = eval { JSON::PP->new->utf8->allow_nonref->decode($m->{payload}) };
        return 'not JSON: ' . ($@ =~ s/ at \S+ line \d+.*//sr) unless defined $got || !$@;
        return json_mismatch($got, $want, '');
    }
    if ($x->{kind} eq 'close') {
        return 'close code ' . ($m->{code} // 'none') if defined $want && ($m->{code} // -1) != $want;
        return 'different reason' if defined $x->{reason} && $m->{reason} ne expected_text($x->{reason});
        return "reason does not match $x->{reason_like}"
            if defined $x->{reason_like} && $m->{reason} !~ $x->{reason_like};
        return undef;
    }
    return undef if !defined $want || $m->{payload} eq binary_bytes($want);    # binary, ping, pong
    return 'different payload';
}

# Test files without "use utf8" write UTF-8 bytes; received text is decoded.
sub expected_text {
    my ($s) = @_;
    return $s if utf8::is_utf8($s);
    my $copy = $s;
    my $chars = eval { Encode::decode('UTF-8', $copy, Encode::FB_CROAK) };
    return $chars // $s;
}

# The JSON value must contain the wanted one: every key of a wanted object
# (recursively), arrays element by element, qr// for strings.
sub json_mismatch {
    my ($got, $want, $path) = @_;
    my $at = length $path ? $path : 'the document';
    if (ref $want eq 'HASH') {
        return "$at is not an object" unless ref $got eq 'HASH';
        for my $key (sort keys %$want) {
            return "$path.$key is missing" unless exists $got->{$key};
            my $why = json_mismatch($got->{$key}, $want->{$key}, "$path.$key");
            return $why if defined $why;
        }
        return undef;
    }
    if (ref $want eq 'ARRAY') {
        return "$at is not an array" unless ref $got eq 'ARRAY';
        return "$at has " . @$got . ' elements, not ' . @$want if @$got != @$want;
        for my $i (0 .. $#$want) {
            my $why = json_mismatch($got->[$i], $want->[$i], "${path}[$i]");
            return $why if defined $why;
        }
        return undef;
    }
    if (!defined $want) {
        return defined $got ? "$at is " . json_text($got) . ', not null' : undef;
    }
    return "$at is null" unless defined $got;
    return "$at is " . json_text($got) if ref $got && !JSON::PP::is_bool($got);
    if (ref $want eq 'Regexp') {
        return $got =~ $want ? undef : "$at is " . json_text($got) . ", not like $want";
    }
    if (JSON::PP::is_bool($want) || JSON::PP::is_bool($got)) {
        my $same = JSON::PP::is_bool($want) && JSON::PP::is_bool($got) && !$want == !$got;
        return $same ? undef : "$at is " . json_text($got) . ', not ' . json_text($want);
    }
    return "$got" eq expected_text("$want") ? undef : "$at is " . json_text($got) . ', not ' . json_text($want);
}

sub json_text {
    my ($v) = @_;
    return JSON::PP->new->canonical->ascii->allow_nonref->allow_blessed->encode($v);
}

# ---------------------------------------------------------------- descriptions

sub quote {
    my ($s, $max) = @_;
    $max //= $MAX_DIAG_CHARS;
    return 'undef' unless defined $s;
    my $len = length $s;
    $s = substr($s, 0, $max) if $len > $max;
    $s =~ s/([\\"])/\\$1/g;
    $s =~ s/\n/\\n/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\t/\\t/g;
    $s =~ s/([^\x20-\x7e])/sprintf(ord $1 > 255 ? '\\x{%x}' : '\\x%02x', ord $1)/ge;
    return qq{"$s"} . ($len > $max ? "... ($len characters)" : '');
}

sub hex_bytes {
    my ($s) = @_;
    my $hex = unpack 'H*', substr($s, 0, 32);
    return length($s) . ' bytes' . (length $s ? " $hex" . (length $s > 32 ? '...' : '') : '');
}

sub data_text {
    my ($v) = @_;
    local $Data::Dumper::Indent   = 0;
    local $Data::Dumper::Terse    = 1;
    local $Data::Dumper::Sortkeys = 1;
    local $Data::Dumper::Useqq    = 1;
    my $s = Data::Dumper::Dumper($v);
    return length $s > $MAX_DIAG_CHARS ? substr($s, 0, $MAX_DIAG_CHARS) . '...' : $s;
}

sub describe_step {
    my ($s) = @_;
    my ($type) = grep { exists $s->{$_} } sort keys %OPCODE;
    my $desc = $type;
    if ($type eq 'close') {
        $desc .= ' ' . ($s->{close} // '(no code)');
        $desc .= ' ' . quote($s->{reason}) if defined $s->{reason};
    }
    elsif ($type eq 'binary') {
        $desc .= ' ' . hex_bytes(binary_bytes($s->{binary} // ''));
    }
    else {
        $desc .= ' ' . quote($s->{$type} // '');
    }
    $desc .= ' fin=0' if defined $s->{fin} && !$s->{fin};
    $desc .= ' unmasked' if defined $s->{mask} && !$s->{mask};
    $desc .= ' rsv' if $s->{rsv};
    return $desc;
}

sub describe_expectation {
    my ($x) = @_;
    my ($kind, $want) = @$x{qw(kind want)};
    return "text like $want" if $kind eq 'text_like';
    return 'json ' . data_text($want) if $kind eq 'json';
    if ($kind eq 'close') {
        my $desc = 'close' . (defined $want ? " $want" : '');
        $desc .= ' reason ' . quote($x->{reason}) if defined $x->{reason};
        $desc .= " reason like $x->{reason_like}" if defined $x->{reason_like};
        return $desc;
    }
    return "$kind (any)" unless defined $want;
    return 'binary ' . hex_bytes(binary_bytes($want)) if $kind eq 'binary';
    return "$kind " . quote($want);
}

sub describe_message {
    my ($m) = @_;
    my $type = $m->{type};
    return 'the end of the connection' . ($m->{error} ? " ($m->{error})" : '') if $type eq 'eof';
    return "protocol error: $m->{error}" if $type eq 'invalid';
    my $desc = $type;
    if ($type eq 'text') {
        $desc .= ' ' . quote($m->{text});
    }
    elsif ($type eq 'binary') {
        $desc .= ' ' . hex_bytes($m->{payload});
    }
    elsif ($type eq 'close') {
        $desc .= ' ' . ($m->{code} // '(no code)');
        $desc .= ' ' . quote($m->{reason}) if length $m->{reason};
    }
    else {
        $desc .= ' ' . quote($m->{payload});
    }
    $desc .= " in $m->{frames} frames" if ($m->{frames} // 1) > 1;
    return $desc;
}

# ---------------------------------------------------------------- the connection

package Voxanne::Test::WebSocket::Conn;

use Encode ();
use IO::Select;
use List::Util qw(max);
use Time::HiRes qw(sleep time);

my $MAX_PAYLOAD = 16 * 1024 * 1024;

sub new {
    my ($class, %a) = @_;
    my $self = bless {
        socket  => $a{socket},
        buf     => $a{leftover},
        timeout => $a{timeout},
        skip    => $a{skip},
        pending => [],     # messages read but not consumed
        log     => [],     # every message received, in order
        frag    => undef,  # the fragmented message being assembled
        eof     => undef,  # the end of the connection, once seen
    }, $class;
    $self->{socket}->blocking(0);
    $self->{select} = IO::Select->new($self->{socket});
    return $self;
}

# Where the frames of the next wait start in the log: at the first unread one.
sub log_pos {
    my ($self) = @_;
    my $unread = $self->{pending}[0];
    return $unread ? $unread->{seq} : scalar @{ $self->{log} };
}

# Writes all the bytes, in chunks of $split with a pause between them;
# returns an error or undef.
sub write {
    my ($self, $bytes, $split, $delay) = @_;
    my $deadline = time + $self->{timeout};
    my @chunks = $split ? unpack("(a$split)*", $bytes) : ($bytes);
    for my $i (0 .. $#chunks) {
        sleep($delay // $SPLIT_DELAY) if $i;
        my $err = Test::Nginx::Socket::write_all($self->{socket}, $chunks[$i], $deadline);
        return $err if $err;
    }
    return undef;
}

# Reads frames until one matches the expectation. Pings are skipped (every
# unmatched frame with ws_skip_unmatched or skip_all); any other frame fails,
# and stays unread: the next expectation may match it, or skips it (a wrong
# frame fails one expectation only). A close frame that does not match stays
# unread for the close checks. Returns undef on a match, else why not.
sub await {
    my ($self, $x, %opt) = @_;
    my $deadline = time + $self->{timeout};
    while (1) {
        my $m = $self->next_message($deadline)
            // return "no matching frame within $self->{timeout}s";
        return 'the connection ended first' . ($m->{error} ? " ($m->{error})" : '') if $m->{type} eq 'eof';
        return "the server broke the protocol: $m->{error}" if $m->{type} eq 'invalid';
        my $why = Voxanne::Test::WebSocket::mismatch($x, $m);
        if (!defined $why) {
            $self->{got_close} = $m if $m->{type} eq 'close';
            return undef;
        }
        if ($m->{type} eq 'close') {
            $self->unread($m);
            return 'the server closed first with ' . Voxanne::Test::WebSocket::describe_message($m)
                . ($x->{kind} eq 'close' ? " ($why)" : '');
        }
        if ($m->{type} eq 'ping' || $m->{reported} || $self->{skip} || $opt{skip_all}) {
            $m->{skipped} = $m->{reported} ? 'reported already' : $why;
            next;
        }
        $m->{reported} = 1;
        $self->unread($m);
        return 'unexpected ' . Voxanne::Test::WebSocket::describe_message($m) . " ($why)";
    }
}

# After the close handshake the server must end the TCP connection, and send nothing more.
sub await_eof {
    my ($self) = @_;
    my $deadline = time + $self->{timeout};
    my @after;
    while (1) {
        my $m = $self->next_message($deadline)
            // return "the server did not close the TCP connection within $self->{timeout}s";
        last if $m->{type} eq 'eof';
        push @after, Voxanne::Test::WebSocket::describe_message($m);
    }
    return @after ? 'frames after the close frame: ' . join(', ', @after) : undef;
}

# ws_no_close: reads what arrives within $grace; returns what closed the connection, or undef.
sub poll_closed {
    my ($self, $grace) = @_;
    my $deadline = time + $grace;
    while (my $m = $self->next_message($deadline)) {
        return 'the server ended the connection' . ($m->{error} ? " ($m->{error})" : '') if $m->{type} eq 'eof';
        return 'the server sent ' . Voxanne::Test::WebSocket::describe_message($m)
            if $m->{type} =~ /^(?:close|invalid)$/;
    }
    return undef;
}

sub unread { unshift @{ $_[0]{pending} }, $_[1] }

# The next message or control frame, {type => 'eof'} at the end of the
# connection, {type => 'invalid', error => ...} for a protocol error, undef
# when the deadline passes first.
sub next_message {
    my ($self, $deadline) = @_;
    return shift @{ $self->{pending} } if @{ $self->{pending} };
    while (1) {
        if (my $m = $self->parse_message) {
            $m->{seq} = @{ $self->{log} };
            push @{ $self->{log} }, $m;
            return $m;
        }
        if ($self->{eof}) {
            my %eof = (type => 'eof', error => $self->{eof_error});
            $eof{error} //= length($self->{buf}) . ' bytes of an incomplete frame' if length $self->{buf};
            $eof{error} //= 'in the middle of a fragmented message' if $self->{frag};
            $eof{seq} = @{ $self->{log} };
            push @{ $self->{log} }, \%eof unless $self->{eof_logged}++;
            return \%eof;
        }
        $self->read_more($deadline) or return undef;
    }
}

sub read_more {
    my ($self, $deadline) = @_;
    while (1) {
        my $left = $deadline - time;
        return 0 if $left < 0 || !$self->{select}->can_read(max($left, 0));
        my $got = sysread($self->{socket}, $self->{buf}, 65536, length $self->{buf});
        next if !defined $got && ($!{EAGAIN} || $!{EINTR});
        if (!$got) {
            $self->{eof} = 1;
            $self->{eof_error} = "read: $!" unless defined $got;
        }
        return 1;
    }
}

# One complete message from the buffer (fragments joined, control frames as
# they come), checked against RFC 6455 as a client sees a server's frames.
sub parse_message {
    my ($self) = @_;
    while (defined(my $f = $self->parse_frame)) {
        return $f if ($f->{type} // '') eq 'invalid';
        my @bad;
        push @bad, 'a masked frame (a server must not mask)' if $f->{masked};
        push @bad, "RSV bits $f->{rsv} (no extension was negotiated)" if $f->{rsv};
        my $op = $f->{opcode};
        if ($op >= 8) {
            push @bad, "reserved control opcode $op" if $op > 10;
            push @bad, 'a fragmented control frame' unless $f->{fin};
            push @bad, 'a control frame of ' . length($f->{payload}) . ' bytes' if length $f->{payload} > 125;
            my %m = (type => $op == 8 ? 'close' : $op == 9 ? 'ping' : 'pong', payload => $f->{payload});
            push @bad, close_problems(\%m) if $op == 8;
            return invalid($f, @bad) if @bad;
            return \%m;
        }
        push @bad, "reserved data opcode $op" if $op > 2;
        push @bad, 'a continuation frame outside a fragmented message' if $op == 0 && !$self->{frag};
        push @bad, 'a new message inside a fragmented message' if $op != 0 && $self->{frag};
        if (@bad) {
            undef $self->{frag};
            return invalid($f, @bad);
        }
        my $msg = $self->{frag} //= { type => $op == 1 ? 'text' : 'binary', payload => '', frames => 0 };
        $msg->{payload} .= $f->{payload};
        $msg->{frames}++;
        next unless $f->{fin};
        undef $self->{frag};
        if ($msg->{type} eq 'text') {
            my $bytes = $msg->{payload};
            $msg->{text} = eval { Encode::decode('UTF-8', $bytes, Encode::FB_CROAK) };
            return invalid($f, 'a text message that is not UTF-8') unless defined $msg->{text};
        }
        return $msg;
    }
    return undef;
}

sub close_problems {
    my ($m) = @_;
    my $p = $m->{payload};
    $m->{reason} = '';
    return () if $p eq '';
    return 'a close frame with a 1-byte payload' if length $p == 1;
    my $code = $m->{code} = unpack 'n', $p;
    my $reason = substr($p, 2);
    $m->{reason} = eval { Encode::decode('UTF-8', $reason, Encode::FB_CROAK) };
    my @bad;
    push @bad, 'a close reason that is not UTF-8' unless defined $m->{reason};
    push @bad, "close code $code, which must not be sent"
        unless ($code >= 1000 && $code <= 1003) || ($code >= 1007 && $code <= 1014) || ($code >= 3000 && $code <= 4999);
    return @bad;
}

sub invalid {
    my ($f, @bad) = @_;
    return {
        type  => 'invalid',
        error => join('; ', @bad) . sprintf(' (opcode %d, fin %d, %d bytes)', $f->{opcode}, $f->{fin}, length $f->{payload}),
    };
}

# One frame off the buffer, or undef when it is not all there. By hand rather
# than with Protocol::WebSocket::Frame, whose parser joins fragments (hiding
# them), does not check what a server must not send, and reads the 64-bit
# length having checked for only 4 of its 8 bytes.
sub parse_frame {
    my ($self) = @_;
    my $buf = \$self->{buf};
    return undef if length $$buf < 2;
    my ($b0, $b1) = unpack 'CC', $$buf;
    my %f = (fin => $b0 >> 7, rsv => ($b0 >> 4) & 7, opcode => $b0 & 15, masked => $b1 >> 7);
    my ($len, $off) = ($b1 & 127, 2);
    my @bad;
    if ($len == 126) {
        return undef if length $$buf < 4;
        $len = unpack 'n', substr($$buf, 2, 2);
        $off = 4;
        push @bad, "a 16-bit length for $len bytes" if $len < 126;
    }
    elsif ($len == 127) {
        return undef if length $$buf < 10;
        my ($hi, $lo) = unpack 'NN', substr($$buf, 2, 8);
        $off = 10;
        if ($hi >= 0x80000000 || $hi * 4294967296 + $lo > $MAX_PAYLOAD) {
            # nothing after this can be framed: drop the stream
            $f{payload} = '';
            $$buf = '';
            $self->{eof} = 1;
            $self->{eof_error} = 'unreadable after an oversized frame';
            return invalid(\%f, sprintf 'a frame length of 0x%08x%08x bytes', $hi, $lo);
        }
        $len = $hi * 4294967296 + $lo;
        push @bad, "a 64-bit length for $len bytes" if $len < 65536;
    }
    my $mask = '';
    if ($f{masked}) {
        return undef if length $$buf < $off + 4;
        $mask = substr($$buf, $off, 4);
        $off += 4;
    }
    return undef if length $$buf < $off + $len;
    $f{payload} = substr($$buf, $off, $len);
    substr($$buf, 0, $off + $len, '');
    $f{payload} ^= substr($mask x (int($len / 4) + 1), 0, $len) if $f{masked};
    return @bad ? invalid(\%f, @bad) : \%f;
}

# The frames received since log position $from, for a diagnostic.
sub received_diag {
    my ($self, $from) = @_;
    my @log = @{ $self->{log} }[ $from .. $#{ $self->{log} } ];
    my $earlier = $from ? " (after $from earlier frames)" : '';
    return "received: nothing$earlier" unless @log;
    my @lines = map {
        '  ' . Voxanne::Test::WebSocket::describe_message($_) . ($_->{skipped} ? " (skipped: $_->{skipped})" : '')
    } @log;
    if (@lines > $MAX_DIAG_FRAMES) {
        my $cut = @lines - $MAX_DIAG_FRAMES;
        splice @lines, 0, $cut, "  ... $cut more";
    }
    return "received$earlier:\n" . join "\n", @lines;
}

1;

__END__

=head1 NAME

Voxanne::Test::WebSocket - WebSocket sections for Test::Nginx blocks

=head1 SYNOPSIS

    use Test::Nginx::Socket 'no_plan';
    use Voxanne::Test::WebSocket;
    run_tests();

    __DATA__

    === TEST 1: echo
    --- config
        location /ws { ... }
    --- request
    GET /ws
    --- more_headers
    Upgrade: websocket
    Connection: Upgrade
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
    Sec-WebSocket-Version: 13
    --- error_code: 101
    --- response_headers
    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
    --- ws_send eval
    ['hello', { expect => 'hello' }, { binary => "\x00\x01" }, { ping => 'p' }]
    --- ws_expect eval
    [{ binary => "\x00\x01" }, { pong => 'p' }]
    --- ws_no_close

=head1 DESCRIPTION

C<use Voxanne::Test::WebSocket;> registers a block handler
(L<Test::Nginx::Socket/EXTENSIONS>) that runs the sections below on the
connection the harness keeps open after a C<101> response. The upgrade request
itself is an ordinary C<request> with C<more_headers>, checked with
C<error_code: 101> and the other response sections. Bytes that arrived with
the C<101> (the response's C<leftover>) are read first.

A block with none of C<ws_send>, C<ws_expect>, C<ws_close_code> and
C<ws_no_close> is left alone. When it has one of them but the request did not
end with an open, upgraded connection, the block fails
C<"... - ws connection upgraded">. A malformed section fails the block with
C<"... - block handler died: ...">.

=head2 Sections

=over

=item C<--- ws_send eval>

An array of steps, run in order (a plain, non-eval section sends each line as
a text frame). A step is:

=over

=item a string: a masked text frame, FIN set;

=item C<< { text => $s } >>, C<< { binary => $bytes } >>,
C<< { continuation => $s } >>, C<< { ping => $s } >>, C<< { pong => $s } >>:
a frame of that type, with the options C<< fin => 0|1 >> (default 1),
C<< mask => 0|1 >> (default 1: a client masks; 0 makes a malformed frame),
C<< rsv => 0..7 >> (or C<[rsv1, rsv2, rsv3]>);

=item C<< { close => 1000, reason => '...' } >>: a close frame
(C<< close => undef >>: one without a payload);

=item C<< { raw => $bytes } >>: the bytes as they are (malformed frames);

=item C<< { sleep => 0.2 } >> (seconds, or C<"200ms">);

=item C<< { run => sub { my ($ctx) = @_; ... } } >>: runs Perl code between
frames, given the harness's handler context (e.g. to reload nginx during a
stream); one assertion C<"... - ws send step N: run">, failing if it dies;

=item C<< { expect => $expectation } >> (or an array of them): reads frames
until one matches, as in C<ws_expect>; one assertion
C<"... - ws send step N: expect DESCRIPTION"> each.

=back

Any writing step takes C<< split => N >> to go out N bytes at a time
(C<< split => 1 >>: byte by byte), C<< split_delay => $seconds >> apart
(default 0.002). Text, continuation, ping, pong and reason strings with
characters (not bytes) go out UTF-8 encoded; binary and raw strings are
bytes. A write that fails is one failed assertion
C<"... - ws send step N: DESCRIPTION">, and the writing steps after it are
skipped.

C<Voxanne::Test::WebSocket::frame(%step)> returns the bytes of the frame
such a step writes, for raw steps that cut or garble one (eval sections run
outside package main: call it by its full name).

=item C<--- ws_expect eval>

After all the steps, the frames the server must send, in order (a plain
string, or each line of a non-eval section, means C<< { text => ... } >>):

    { text => 'exact' }                  # fragments are joined first
    { text_like => qr/.../ }
    { json => { event => 'media', streamSid => 'MZ...' } }
    { binary => $bytes }
    { ping => '...' }
    { pong => '...' }
    { close => 1009 }                    # optionally reason => '...', reason_like => qr/.../

C<undef> as the value matches any text, binary, ping, pong or close frame.
C<json> is a text frame whose JSON (decoded with JSON::PP) contains the given
structure: every key of a wanted object, recursively, arrays element by
element, C<qr//> values matched as patterns, C<undef> for null, and
C<JSON::PP::true>/C<false> for booleans. Text is compared as characters:
received text is decoded from UTF-8, expected strings are decoded when they
are valid UTF-8 bytes.

Each expectation is one assertion C<"... - ws expect N: DESCRIPTION">. Frames
are read until one matches; pings the server sends in between are skipped,
anything else fails the expectation, and stays unread: the next expectation
may match it, or skips it, so a missing or a wrong frame fails one assertion
only. A close frame, the end of the
connection, a protocol error by the server (a masked frame, RSV bits, a
reserved opcode, a fragmented or over-long control frame, a continuation out
of place, text that is not UTF-8, a bad close code, a non-minimal length) or
C<ws_timeout> with no match also fail it. The diagnostic lists the frames
received meanwhile, truncated.

Pings are not answered by themselves: a test that must answer one sends the
C<pong> step.

=item C<--- ws_skip_unmatched>

Frames that match nothing are skipped, not only pings (close frames and
protocol errors still fail).

=item C<--- ws_close_code: N>

After the expectations, the server must send a close frame with code N (an
expectation may have read it already), then end the TCP connection, sending
nothing more. When the server closed first, the handler answers with a close
frame of the same code, as a client should. One assertion,
C<"... - ws close code N">. With a C<close> step in C<ws_send> this checks
the server's answer to it.

=item C<--- ws_no_close>

After the expectations, the connection must still be open (nothing closed it
within 50 ms): C<"... - ws connection still open">. Then the handler sends
close 1000, and the server must answer close 1000 and end the TCP connection
(data frames before its close are allowed): C<"... - ws close 1000 answered">.

=item C<--- ws_timeout: 5>

The limit for each WebSocket wait: one expectation, the server's close frame,
the end of the connection, one write (seconds, or C<"500ms">; default 5).

=back

Without C<ws_close_code> or C<ws_no_close>, the harness just closes the TCP
connection after the checks.

=cut
