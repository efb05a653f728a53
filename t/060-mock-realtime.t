# build/mock-realtime (docs/mock-realtime.md), proven against the OpenAI
# Realtime GA protocol (protocols.md 5) before a bridge trusts it: driven
# from Perl as a bridge would drive the real server, on free ports, through
# Voxanne::Test::Realtime. No nginx here.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);
use JSON::PP ();
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX ();
use Time::HiRes qw(sleep time);
use Voxanne::Test::Realtime qw(ulaw_tone ulaw_silence);

my $KEY = 'sk-test-' . join '', map { ('a' .. 'z')[rand 26] } 1 .. 24;
my $dir = tempdir('voxanne-060-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $JSON = JSON::PP->new->canonical;

# The session.update a bridge sends (issue 5): GA shape, mu-law both ways,
# server VAD, input transcription, the call's tools.
sub bridge_session {
    my (%o) = @_;
    my @tools = @{ $o{tools} // [qw(get_current_time transfer_to_human end_call)] };
    return {
        type              => 'realtime',
        model             => 'gpt-realtime',
        output_modalities => ['audio'],
        instructions      => 'You are the receptionist of Clinic A.',
        audio => {
            input => {
                format         => { type => 'audio/pcmu' },
                transcription  => { model => 'gpt-4o-mini-transcribe', language => 'en' },
                turn_detection => { type => 'server_vad', silence_duration_ms => 300, %{ $o{vad} || {} } },
            },
            output => { format => { type => 'audio/pcmu' }, voice => 'alloy' },
        },
        tools => [ map { { type => 'function', name => $_, description => "the $_ tool",
                           parameters => { type => 'object', properties => {} } } } @tools ],
        tool_choice => 'auto',
    };
}

# A connected, configured session.
sub session {
    my ($mock, %o) = @_;
    my $c = $mock->connect(key => $KEY);
    is $c->status, 101, 'upgraded' or return $c;
    ok $c->wait_for('session.created'), 'session.created';
    $c->send({ type => 'session.update', session => bridge_session(%o) });
    ok $c->wait_for('session.updated'), 'session.updated';
    return $c;
}

sub of_type {
    my ($type, @events) = @_;
    return grep { ($_->{type} // '') eq $type } @events;
}

sub audio_bytes { my $n = 0; $n += length decode_base64($_->{delta}) for @_; $n }

sub types { join ' ', map { $_->{type} } @_ }

# A user text item, as the bridge forwards a DTMF key.
sub say_text {
    my ($c, $text) = @_;
    $c->send({ type => 'conversation.item.create',
               item => { type => 'message', role => 'user', content => [{ type => 'input_text', text => $text }] } });
}

# A-law of a 16-bit sample, from G.711.
sub alaw {
    my ($x) = @_;
    my $v = POSIX::floor($x / 8);
    my $mask = 0xd5;
    ($mask, $v) = (0x55, -$v - 1) if $v < 0;
    my $seg = 0;
    $seg++ while $seg < 8 && $v > (0x20 << $seg) - 1;
    return chr(0x7f ^ $mask) if $seg == 8;
    return chr((($seg << 4) | (($seg < 2 ? $v >> 1 : $v >> $seg) & 0x0f)) ^ $mask);
}

# $ms of a tone (or silence, $level 0) as samples at $rate
sub samples {
    my ($ms, $rate, $level) = @_;
    return map { int(($level // 8000) * sin(2 * 3.141592653589793 * 440 * $_ / $rate)) } 0 .. $ms * $rate / 1000 - 1;
}

my $mock = Voxanne::Test::Realtime->start(args => [
    '--api-key', $KEY, '--reply-ms', '1000', '--delta-ms', '50',
    '--greeting', 'Welcome to Clinic A.', '--reply', 'First reply.', '--reply', 'Second reply.',
    '--transcript', 'I would like an appointment.',
    '--tool', '9=transfer_to_human {"reason":"the caller asked for a person"}',
    '--tool', 'speak to a human=transfer_to_human {"reason":"asked"}',
    '--tool', '1=get_current_time',
]);

subtest 'the upgrade: the path, the API key (401 before any upgrade), never logged' => sub {
    my $c = $mock->connect;
    is $c->status, 401, 'no Authorization: 401';
    my $body = $JSON->decode($c->body);
    like $body->{error}{message}, qr/didn't provide an API key/, 'OpenAI\'s message';
    is $body->{error}{type}, 'invalid_request_error', 'error type';

    $c = $mock->connect(key => 'sk-wrong');
    is $c->status, 401, 'a wrong key: 401';
    is $JSON->decode($c->body)->{error}{code}, 'invalid_api_key', 'code invalid_api_key';

    $c = $mock->connect(key => $KEY, headers => { Authorization => "Basic $KEY" });
    is $c->status, 401, 'not Bearer: 401';

    $c = $mock->connect(key => $KEY, path => '/v1/chat?model=gpt-realtime');
    is $c->status, 404, 'another path: 404';

    $c = $mock->connect(key => $KEY, headers => { Upgrade => undef, Connection => 'close' });
    is $c->status, 400, 'no upgrade: 400';

    $c = $mock->connect(key => $KEY);
    is $c->status, 101, 'the key: 101';
    ok $c->wait_for('session.created'), 'then session.created';
    $c->close;

    my @up = $mock->wait_log(dir => 'upgrade', status => 101);
    ok @up, 'the upgrade is logged';
    ok $mock->wait_log(dir => 'close', by => 'client', code => 1000, conn => $up[0]{conn}), 'the client\'s close';
    ok $mock->wait_log(dir => 'closed', conn => $up[0]{conn}), 'the end of the connection';
    my @refused = $mock->log(dir => 'upgrade', status => 401);
    is_deeply [sort map { $_->{refused} } @refused], ['no key', 'wrong key', 'wrong key'], 'refusals logged with why';

    open my $fh, '<', $mock->log_file or die;
    my $log = do { local $/; <$fh> };
    unlike $log, qr/\Q$KEY\E/, 'the key is never in the log';
    unlike $mock->stderr, qr/\Q$KEY\E/, 'nor on stderr';
};

subtest 'session.created: the GA session with its defaults' => sub {
    my $c = $mock->connect(key => $KEY, path => '/v1/realtime?model=gpt-realtime-mini');
    my $ev = $c->wait_for('session.created');
    is $c->events, 1, 'the first event';
    like $ev->{event_id}, qr/^event_\w{22}$/, 'event_id';
    my $s = $ev->{session};
    is $s->{type}, 'realtime', 'session.type';
    is $s->{object}, 'realtime.session', 'object';
    like $s->{id}, qr/^sess_\w+$/, 'id';
    is $s->{model}, 'gpt-realtime-mini', 'the model of the URL';
    is_deeply $s->{output_modalities}, ['audio'], 'output_modalities';
    is_deeply $s->{audio}{input}{format}, { type => 'audio/pcm', rate => 24000 }, 'input: pcm 24 kHz until updated';
    is_deeply $s->{audio}{input}{turn_detection},
        { type => 'server_vad', threshold => 0.5, prefix_padding_ms => 300, silence_duration_ms => 500,
          idle_timeout_ms => undef, create_response => JSON::PP::true, interrupt_response => JSON::PP::true },
        'server VAD defaults';
    ok exists $s->{audio}{input}{transcription} && !defined $s->{audio}{input}{transcription}, 'no transcription';
    is_deeply $s->{audio}{output}{format}, { type => 'audio/pcm', rate => 24000 }, 'output format';
    ok $s->{audio}{output}{voice}, 'a voice';
    is_deeply $s->{tools}, [], 'no tools';
    is $s->{tool_choice}, 'auto', 'tool_choice';
    is $s->{max_output_tokens}, 'inf', 'max_output_tokens';
    ok !exists $s->{temperature} && !exists $s->{input_audio_format}, 'no beta fields';
    $c->close;

    $c = $mock->connect(key => $KEY, path => '/v1/realtime');
    is $c->wait_for('session.created')->{session}{model}, 'gpt-realtime', 'no model in the URL: --model';
    $c->close;
};

subtest 'session.update: the bridge\'s session, echoed whole; fields merge' => sub {
    my $c = $mock->connect(key => $KEY);
    $c->wait_for('session.created');
    $c->send({ type => 'session.update', event_id => 'evt_update_1', session => bridge_session() });
    my $ev = $c->wait_for('session.updated');
    ok $ev, 'session.updated';
    like $ev->{event_id}, qr/^event_/, 'a server event_id, not the client\'s';
    my $s = $ev->{session};
    is_deeply $s->{audio}{input}{format}, { type => 'audio/pcmu' }, 'pcmu in';
    is_deeply $s->{audio}{output}{format}, { type => 'audio/pcmu' }, 'pcmu out';
    is $s->{audio}{output}{voice}, 'alloy', 'the voice';
    is_deeply $s->{audio}{input}{transcription}, { model => 'gpt-4o-mini-transcribe', language => 'en' }, 'transcription';
    is_deeply $s->{audio}{input}{turn_detection},
        { type => 'server_vad', threshold => 0.5, prefix_padding_ms => 300, silence_duration_ms => 300,
          idle_timeout_ms => undef, create_response => JSON::PP::true, interrupt_response => JSON::PP::true },
        'turn detection: what was given, and the defaults';
    is_deeply [map { $_->{name} } @{ $s->{tools} }], [qw(get_current_time transfer_to_human end_call)], 'tools';
    is $s->{instructions}, 'You are the receptionist of Clinic A.', 'instructions';

    $c->send({ type => 'session.update', session => { type => 'realtime', instructions => 'Be brief.' } });
    $s = $c->wait_for('session.updated')->{session};
    is $s->{instructions}, 'Be brief.', 'a second update changes what it gives';
    is $s->{audio}{output}{voice}, 'alloy', '... and keeps the rest';
    is scalar @{ $s->{tools} }, 3, '... the tools too';

    $c->send({ type => 'session.update', session => { type => 'realtime',
        audio => { input => { turn_detection => undef, transcription => undef } } } });
    $s = $c->wait_for('session.updated')->{session};
    ok !defined $s->{audio}{input}{turn_detection}, 'null clears turn detection';
    is_deeply $s->{audio}{input}{format}, { type => 'audio/pcmu' }, '... and leaves the format';

    my ($in) = $mock->wait_log(dir => 'in', type => 'session.update', event_id => 'evt_update_1');
    is $in->{session}{audio}{input}{format}{type}, 'audio/pcmu', 'the log has what the client sent';
    my $mark = $mock->mark;
    ok $mark > 0, 'a mark';
    is_deeply [$mock->log(since => $mark, event_id => 'evt_update_1')], [], 'nothing of it after the mark';
    $c->send({ type => 'session.update', event_id => 'evt_update_2', session => { type => 'realtime' } });
    ok $mock->wait_log(since => $mark, event_id => 'evt_update_2'), 'what comes after it';
    $c->close;
};

subtest 'session.update: what the GA server refuses is an error event, and changes nothing' => sub {
    my $c = $mock->connect(key => $KEY);
    $c->wait_for('session.created');
    my $n = 0;
    my @cases = (
        [ { voice => 'alloy', input_audio_format => 'g711_ulaw', modalities => ['audio', 'text'] },
          'unknown_parameter', qr/^session\.(?:input_audio_format|modalities|voice)$/, 'the beta shape' ],
        [ { instructions => 'x' }, 'missing_required_parameter', 'session.type', 'no session.type' ],
        [ { type => 'realtime', temperature => 0.8 }, 'unknown_parameter', 'session.temperature', 'temperature' ],
        [ { type => 'realtime', audio => { input => { format => { type => 'audio/pcmu', rate => 8000 } } } },
          'unknown_parameter', 'session.audio.input.format.rate', 'a rate with pcmu' ],
        [ { type => 'realtime', audio => { input => { format => { type => 'g711_ulaw' } } } },
          'invalid_value', 'session.audio.input.format.type', 'a beta format name' ],
        [ { type => 'realtime', audio => { output => { voice => 'robot' } } },
          'invalid_value', 'session.audio.output.voice', 'an unknown voice' ],
        [ { type => 'realtime', instructions => 42 }, 'invalid_type', 'session.instructions', 'a number for a string' ],
        [ { type => 'realtime', audio => { input => { turn_detection => { type => 'server_vad', threshold => 2 } } } },
          'invalid_value', 'session.audio.input.turn_detection.threshold', 'a threshold above 1' ],
        [ { type => 'realtime', tools => [{ type => 'function', description => 'no name' }] },
          'missing_required_parameter', 'session.tools[0].name', 'a tool without a name' ],
        [ { type => 'realtime', output_modalities => ['text'] },
          'invalid_value', 'session.output_modalities[0]', 'text only (the mock speaks)' ],
        [ { type => 'realtime', instructions => 'CHANGED', audio => { output => { speed => 9 } } },
          'invalid_value', 'session.audio.output.speed', 'a bad field among good ones' ],
    );
    for my $case (@cases) {
        my ($session, $code, $param, $what) = @$case;
        my $id = 'evt_bad_' . ++$n;
        $c->send({ type => 'session.update', event_id => $id, session => $session });
        my $ev = $c->wait_for(sub { $_[0]{type} =~ /^(?:error|session\.updated)$/ });
        is $ev->{type}, 'error', "$what: an error";
        is $ev->{error}{type}, 'invalid_request_error', "$what: invalid_request_error";
        is $ev->{error}{code}, $code, "$what: code $code";
        ref $param ? like($ev->{error}{param}, $param, "$what: param") : is($ev->{error}{param}, $param, "$what: param $param");
        is $ev->{error}{event_id}, $id, "$what: the client's event_id";
        like $ev->{event_id}, qr/^event_/, "$what: a server event_id";
    }
    $c->send({ type => 'session.update', session => { type => 'realtime', audio => { output => { voice => 'coral' } } } });
    my $s = $c->wait_for('session.updated')->{session};
    is $s->{audio}{output}{voice}, 'coral', 'a good update still works';
    isnt $s->{instructions}, 'CHANGED', 'the refused update changed nothing';
    $c->close;
};

subtest 'server VAD on mu-law energy: a tone burst is speech, silence and a whisper are not' => sub {
    my $c = session($mock, vad => { create_response => JSON::PP::false, prefix_padding_ms => 0 });
    $c->append(ulaw_silence(1000));
    $c->append(ulaw_tone(500, 440, 100));    # RMS ~70, under the threshold
    my @quiet = $c->drain(0.4);
    is types(@quiet), '', 'silence and a whisper: no event';

    $c->append(ulaw_tone(500) . ulaw_silence(400));
    my @ev = $c->wait_for('conversation.item.input_audio_transcription.completed');
    is types(@ev), join(' ', qw(input_audio_buffer.speech_started input_audio_buffer.speech_stopped
        input_audio_buffer.committed conversation.item.added conversation.item.done
        conversation.item.input_audio_transcription.delta conversation.item.input_audio_transcription.completed)),
        'the events of a turn, in order';
    my ($start, $stop, $commit, $added, $done, undef, $text) = @ev;
    like $start->{item_id}, qr/^item_/, 'speech_started names the item to come';
    is $start->{audio_start_ms}, 1500, 'audio_start_ms: where the tone starts (1 s silence + 0.5 s whisper)';
    is $stop->{audio_end_ms}, 2300, 'audio_end_ms: the tone\'s end and silence_duration_ms';
    is $stop->{item_id}, $start->{item_id}, 'speech_stopped: the same item';
    is $commit->{item_id}, $start->{item_id}, 'committed: the same item';
    is $added->{item}{id}, $start->{item_id}, 'the user item';
    is_deeply [@{ $added->{item} }{qw(type role status)}], [qw(message user completed)], 'a user message';
    is $added->{item}{content}[0]{type}, 'input_audio', 'of audio';
    is $text->{transcript}, 'I would like an appointment.', 'the input transcription: --transcript';
    is $text->{item_id}, $start->{item_id}, '... of the item';
    is $text->{usage}{type}, 'duration', '... with its usage';
    is types($c->drain(0.5)), '', 'create_response false: no response';

    $c->send({ type => 'session.update', session => { type => 'realtime', audio => { input => {
        turn_detection => { type => 'server_vad', create_response => JSON::PP::false, prefix_padding_ms => 300,
                            silence_duration_ms => 200 } } } } });
    $c->wait_for('session.updated');
    $c->append(ulaw_silence(600) . ulaw_tone(300) . ulaw_silence(300));
    ($start) = $c->wait_for('input_audio_buffer.speech_started');
    is $start->{audio_start_ms}, 3000 - 300, 'prefix_padding_ms comes off audio_start_ms';
    is $c->wait_for('input_audio_buffer.speech_stopped')->{audio_end_ms}, 3000 + 300 + 200, 'silence_duration_ms';
    $c->append(ulaw_tone(300));
    is $c->wait_for('input_audio_buffer.speech_started')->{audio_start_ms}, 3500,
        'the prefix reaches back no further than the last commit';
    $c->close;

    my ($app) = $mock->log(dir => 'in', type => 'input_audio_buffer.append');
    is $app->{bytes}, 160, 'the log has an append\'s size, not its audio';
    ok !exists $app->{audio}, '... and no audio';
};

subtest 'manual turns: commit, clear, and the empty buffer\'s error' => sub {
    my $c = session($mock, vad => {});
    $c->send({ type => 'session.update', session => { type => 'realtime', audio => { input => { turn_detection => undef } } } });
    $c->wait_for('session.updated');
    $c->append(ulaw_tone(50));
    $c->send({ type => 'input_audio_buffer.commit', event_id => 'evt_commit' });
    my $err = $c->wait_for('error');
    is $err->{error}{code}, 'input_audio_buffer_commit_empty', 'under 100 ms: input_audio_buffer_commit_empty';
    is $err->{error}{event_id}, 'evt_commit', '... for the commit';
    $c->append(ulaw_tone(600));
    is types($c->drain(0.3)), '', 'no VAD: no speech events';
    $c->send({ type => 'input_audio_buffer.commit' });
    my @ev = $c->wait_for('conversation.item.input_audio_transcription.completed');
    is types(@ev), 'input_audio_buffer.committed conversation.item.added conversation.item.done '
        . 'conversation.item.input_audio_transcription.delta conversation.item.input_audio_transcription.completed',
        'commit: the item and its transcription';
    $c->append(ulaw_tone(200));
    $c->send({ type => 'input_audio_buffer.clear' });
    ok $c->wait_for('input_audio_buffer.cleared'), 'clear: cleared';
    $c->send({ type => 'input_audio_buffer.commit' });
    is $c->wait_for('error')->{error}{code}, 'input_audio_buffer_commit_empty', '... and the buffer is empty';
    $c->close;
};

subtest 'a response: audio deltas at real time, the transcript, the GA events in order' => sub {
    my $c = session($mock);
    my $t0 = time;
    $c->send({ type => 'response.create', response => { instructions => 'Greet the caller for Clinic A.' } });
    my @ev = $c->wait_for('rate_limits.updated', 5);
    my $elapsed = time - $t0;
    my @deltas = of_type('response.output_audio.delta', @ev);
    my @words = of_type('response.output_audio_transcript.delta', @ev);
    (my $order = types(@ev)) =~ s/(?: response\.output_audio(?:_transcript)?\.delta)+/ DELTAS/g;
    is $order, join(' ', qw(response.created response.output_item.added conversation.item.added
        response.content_part.added DELTAS response.output_audio.done response.output_audio_transcript.done
        response.content_part.done conversation.item.done response.output_item.done response.done
        rate_limits.updated)), 'the GA events of a spoken response';
    my ($created, $added) = @ev;
    is $created->{response}{status}, 'in_progress', 'response.created: in_progress';
    like $created->{response}{id}, qr/^resp_/, 'a response id';
    is $created->{response}{object}, 'realtime.response', 'object';
    is_deeply $created->{response}{audio}{output}, { format => { type => 'audio/pcmu' }, voice => 'alloy' }, 'its audio';
    my $item = $added->{item};
    is_deeply [@$item{qw(type role status)}], [qw(message assistant in_progress)], 'an assistant message';
    is 0 + @deltas, 20, '1 s of audio in 50 ms deltas';
    ok !(grep { $_->{item_id} ne $item->{id} || $_->{response_id} ne $created->{response}{id}
                || $_->{output_index} != 0 || $_->{content_index} != 0 } @deltas), 'every delta: the item, the response';
    is audio_bytes(@deltas), 8000, '8000 bytes of mu-law: 1 s';
    ok !(grep { length(decode_base64($_->{delta})) > 400 } @deltas), 'none over 50 ms';
    my $pcm = join '', map { decode_base64($_->{delta}) } @deltas;
    ok(($pcm =~ tr/\xff\x7f//) < 4000, 'a tone, not silence');
    ok $elapsed > 0.8, sprintf 'at real time (%.2f s for 1 s of audio)', $elapsed;
    is join('', map { $_->{delta} } @words), 'Welcome to Clinic A.', 'the transcript deltas: the greeting';
    my ($tdone) = of_type('response.output_audio_transcript.done', @ev);
    is $tdone->{transcript}, 'Welcome to Clinic A.', 'transcript done';
    my ($done) = of_type('response.done', @ev);
    is $done->{response}{status}, 'completed', 'response.done: completed';
    ok !defined $done->{response}{status_details}, 'no status details';
    is $done->{response}{output}[0]{content}[0]{transcript}, 'Welcome to Clinic A.', 'the output item';
    is $done->{response}{output}[0]{status}, 'completed', 'completed item';
    ok !exists $done->{response}{output}[0]{content}[0]{audio}, 'no audio in response.done';
    ok $done->{response}{usage}{total_tokens}, 'usage';

    $c->send({ type => 'response.create' });
    my ($t) = of_type('response.output_audio_transcript.done', $c->wait_for('response.done'));
    is $t->{transcript}, 'First reply.', 'the next response: the first --reply';
    $c->send({ type => 'response.create' });
    ($t) = of_type('response.output_audio_transcript.done', $c->wait_for('response.done'));
    is $t->{transcript}, 'Second reply.', 'then the second';

    $c->send({ type => 'response.create', event_id => 'evt_r1' });
    $c->wait_for('response.created');
    $c->send({ type => 'response.create', event_id => 'evt_r2' });
    my $err = $c->wait_for('error');
    is $err->{error}{code}, 'conversation_already_has_active_response', 'one response at a time';
    is $err->{error}{event_id}, 'evt_r2', '... the second create';
    $c->send({ type => 'response.cancel' });
    $done = $c->wait_for('response.done');
    is $done->{response}{status}, 'cancelled', 'response.cancel: cancelled';
    is $done->{response}{status_details}{reason}, 'client_cancelled', '... client_cancelled';
    $c->send({ type => 'response.cancel', event_id => 'evt_c' });
    $err = $c->wait_for('error');
    is $err->{error}{code}, 'response_cancel_not_active', 'nothing to cancel: response_cancel_not_active';
    $c->send({ type => 'response.create', response => { conversation => 'none', metadata => { purpose => 'x' } } });
    ($created) = $c->wait_for('response.created');
    ok !defined $created->{response}{conversation_id}, 'conversation none: out of band';
    is_deeply $created->{response}{metadata}, { purpose => 'x' }, 'metadata';
    @ev = $c->wait_for('response.done');
    ok !(of_type('conversation.item.added', @ev)), '... no conversation item';
    $c->close;
};

subtest '--burst: the whole reply at once' => sub {
    my $m = Voxanne::Test::Realtime->start(args => ['--burst', '--reply-ms', '3000']);
    my $c = session($m);
    my $t0 = time;
    $c->send({ type => 'response.create' });
    my @ev = $c->wait_for('response.done');
    my $elapsed = time - $t0;
    is audio_bytes(of_type('response.output_audio.delta', @ev)), 24000, '3 s of audio';
    ok $elapsed < 1, sprintf 'in %.2f s', $elapsed;
    $c->close;
    is $m->stop, 0, 'exit 0 on SIGTERM';
};

subtest 'barge-in: speech cancels the response (turn_detected); truncate within, and past, the audio sent' => sub {
    my $m = Voxanne::Test::Realtime->start(args => ['--reply-ms', '4000', '--delta-ms', '40',
                                                    '--greeting', 'Welcome to Clinic A.']);
    my $c = session($m, vad => { create_response => JSON::PP::false });
    $c->send({ type => 'response.create', response => { instructions => 'Greet the caller.' } });
    my @ev;
    push @ev, $c->event until 10 <= of_type('response.output_audio.delta', @ev);
    $c->append(ulaw_tone(200) . ulaw_silence(400));
    push @ev, $c->wait_for('response.done');
    my ($item) = map { $_->{item} } of_type('response.output_item.added', @ev);
    my @deltas = of_type('response.output_audio.delta', @ev);
    my ($started) = of_type('input_audio_buffer.speech_started', @ev);
    ok $started, 'speech_started';
    my @after = grep { $_->{type} ne 'input_audio_buffer.speech_started' } @ev[ (grep { $ev[$_] == $started } 0 .. $#ev)[0] .. $#ev ];
    (my $order = types(@after)) =~ s/^(?:response\.output_audio(?:_transcript)?\.delta )*//;
    is $order, join(' ', qw(response.output_audio.done response.output_audio_transcript.done
        response.content_part.done conversation.item.done response.output_item.done response.done)),
        'then the response ends, at once';
    my $done = $ev[-1];
    is $done->{response}{status}, 'cancelled', 'response.done: cancelled';
    is_deeply $done->{response}{status_details}, { type => 'cancelled', reason => 'turn_detected' }, 'turn_detected';
    is $done->{response}{output}[0]{status}, 'incomplete', 'the item is incomplete';
    my ($tdone) = of_type('response.output_audio_transcript.done', @ev);
    like 'Welcome to Clinic A.', qr/^\Q$tdone->{transcript}\E/, 'the transcript so far';
    my @later = $c->drain(0.3);
    ok !(of_type('response.output_audio.delta', @later)), 'no delta after the cancel';

    my $sent_ms = audio_bytes(@deltas) / 8;
    ok $sent_ms >= 400 && $sent_ms < 4000, "$sent_ms ms sent";
    $c->send({ type => 'conversation.item.truncate', event_id => 'evt_trunc_1', item_id => $item->{id},
               content_index => 0, audio_end_ms => $sent_ms + 200 });
    my $err = $c->wait_for(sub { $_[0]{type} =~ /^(?:error|conversation\.item\.truncated)$/ });
    is $err->{type}, 'error', 'truncate past the audio sent: an error';
    is $err->{error}{code}, 'invalid_value', 'invalid_value';
    is $err->{error}{param}, 'audio_end_ms', 'audio_end_ms';
    is $err->{error}{message}, sprintf('Audio content of %dms is already shorter than %dms', $sent_ms, $sent_ms + 200),
        'the real server\'s message';
    is $err->{error}{event_id}, 'evt_trunc_1', 'the event_id';

    my $end = int($sent_ms / 2);
    $c->send({ type => 'conversation.item.truncate', item_id => $item->{id}, content_index => 0, audio_end_ms => $end });
    my $tr = $c->wait_for('conversation.item.truncated');
    is_deeply [@$tr{qw(item_id content_index audio_end_ms)}], [$item->{id}, 0, $end], 'within it: truncated';
    $c->send({ type => 'conversation.item.truncate', item_id => $item->{id}, content_index => 0, audio_end_ms => $sent_ms });
    ok $c->wait_for('conversation.item.truncated'), 'up to all of it: truncated';

    $c->send({ type => 'conversation.item.truncate', item_id => 'item_nope', content_index => 0, audio_end_ms => 0 });
    is $c->wait_for('error')->{error}{code}, 'item_truncate_invalid_item_id', 'an unknown item';
    ok((grep { ($_->{item}{id} // '') eq $started->{item_id} } of_type('conversation.item.done', @later)),
       'the caller\'s turn ends');
    $c->send({ type => 'conversation.item.truncate', item_id => $started->{item_id}, content_index => 0, audio_end_ms => 0 });
    like $c->wait_for('error')->{error}{message}, qr/Only assistant messages/, 'a user item';
    $c->send({ type => 'conversation.item.truncate', item_id => $item->{id}, content_index => 1, audio_end_ms => 0 });
    is $c->wait_for('error')->{error}{param}, 'content_index', 'content_index 1';

    my @truncates = $m->wait_log(sub { grep { $_->{dir} eq 'in' && $_->{type} eq 'conversation.item.truncate' } @_ });
    is_deeply [map { $_->{audio_end_ms} } @truncates[0 .. 2]], [$sent_ms + 200, $end, $sent_ms], 'the log records each truncate';
    my @refused = $m->log(dir => 'out', type => 'error');
    ok((grep { ($_->{error}{param} // '') eq 'audio_end_ms' } @refused), '... and the refusal');
    $c->close;
};

subtest 'interrupt_response false: speech does not cancel; response.cancel names the response' => sub {
    my $m = Voxanne::Test::Realtime->start(args => ['--reply-ms', '1500']);
    my $c = session($m, vad => { interrupt_response => JSON::PP::false, create_response => JSON::PP::false });
    $c->send({ type => 'response.create' });
    my $created = $c->wait_for('response.created');
    $c->append(ulaw_tone(200) . ulaw_silence(400));
    my @ev = $c->wait_for('response.done');
    ok of_type('input_audio_buffer.speech_started', @ev), 'speech_started';
    is $ev[-1]{response}{status}, 'completed', 'the response plays out';
    $c->send({ type => 'response.create' });
    $c->wait_for('response.created');
    $c->send({ type => 'response.cancel', response_id => $created->{response}{id} });
    is $c->wait_for('error')->{error}{code}, 'response_cancel_not_active', 'cancel names a finished response: refused';
    $c->close;
};

subtest 'barge-in after all the audio was sent: speech_started, nothing to cancel, truncate to the end' => sub {
    my $m = Voxanne::Test::Realtime->start(args => ['--reply-ms', '500', '--burst']);
    my $c = session($m);
    $c->send({ type => 'response.create' });
    my @ev = $c->wait_for('response.done');
    my ($item) = map { $_->{item} } of_type('response.output_item.added', @ev);
    $c->append(ulaw_tone(200));
    my @more = $c->wait_for('input_audio_buffer.speech_started');
    is types(@more), 'rate_limits.updated input_audio_buffer.speech_started', 'speech_started only';
    is types($c->drain(0.2)), '', 'no response.done: none was active';
    $c->send({ type => 'conversation.item.truncate', item_id => $item->{id}, content_index => 0, audio_end_ms => 500 });
    is $c->wait_for('conversation.item.truncated')->{audio_end_ms}, 500, 'the whole reply may be truncated';
    $c->close;
};

subtest 'a turn answered by server VAD: the response follows the caller\'s speech' => sub {
    my $c = session($mock);
    $c->append(ulaw_tone(400) . ulaw_silence(400));
    my @ev = $c->wait_for('response.done', 5);
    my @types = map { $_->{type} } @ev;
    my %at = map { $types[$_] => $_ } reverse 0 .. $#types;
    ok defined $at{'response.created'} && $at{'input_audio_buffer.committed'} < $at{'response.created'},
        'committed, then response.created';
    ok defined $at{'conversation.item.input_audio_transcription.completed'}, 'the transcription meanwhile';
    my ($t) = of_type('response.output_audio_transcript.done', @ev);
    is $t->{transcript}, 'Welcome to Clinic A.', 'the first response of a session is the greeting';
    $c->close;
};

subtest 'function calls: DTMF as a user item -> function_call; function_call_output -> a spoken reply' => sub {
    my $c = session($mock);
    say_text($c, 'caller pressed 9');
    my ($added, $done) = ($c->wait_for('conversation.item.added'), $c->wait_for('conversation.item.done'));
    like $added->{item}{id}, qr/^item_/, 'the item gets an id';
    is $added->{item}{content}[0]{text}, 'caller pressed 9', 'conversation.item.added';
    is $done->{item}{status}, 'completed', 'conversation.item.done';
    is types($c->drain(0.3)), '', 'an item alone makes no response';

    $c->send({ type => 'response.create' });
    my @ev = $c->wait_for('response.done');
    is types(@ev), join(' ', qw(response.created response.output_item.added conversation.item.added
        response.function_call_arguments.delta response.function_call_arguments.delta
        response.function_call_arguments.done conversation.item.done response.output_item.done response.done)),
        'the GA events of a function call';
    my $item = $ev[1]{item};
    is_deeply [@$item{qw(type name status)}], [qw(function_call transfer_to_human in_progress)], 'a function_call item';
    like $item->{call_id}, qr/^call_/, 'its call_id';
    my @args = of_type('response.function_call_arguments.delta', @ev);
    my ($adone) = of_type('response.function_call_arguments.done', @ev);
    is join('', map { $_->{delta} } @args), $adone->{arguments}, 'the deltas make the arguments';
    is_deeply $JSON->decode($adone->{arguments}), { reason => 'the caller asked for a person' }, 'the arguments';
    is_deeply [@$adone{qw(name call_id item_id)}], ['transfer_to_human', $item->{call_id}, $item->{id}], 'name, call_id, item_id';
    is $ev[-1]{response}{output}[0]{status}, 'completed', 'response.done holds the completed call';
    is $ev[-1]{response}{output}[0]{arguments}, $adone->{arguments}, '... with its arguments';

    $c->send({ type => 'conversation.item.create',
               item => { type => 'function_call_output', call_id => $item->{call_id}, output => '{"transferred":true}' } });
    is $c->wait_for('conversation.item.done')->{item}{call_id}, $item->{call_id}, 'the output item';
    $c->send({ type => 'response.create' });
    my ($t) = of_type('response.output_audio_transcript.done', $c->wait_for('response.done'));
    is $t->{transcript}, 'Here is what I found: {"transferred":true}', 'the reply speaks the output';

    my ($out) = grep { ($_->{item}{type} // '') eq 'function_call_output' }
        $mock->log(dir => 'in', type => 'conversation.item.create');
    is $out->{item}{call_id}, $item->{call_id}, 'the log has the call_id the client sent back';

    say_text($c, 'caller pressed 1');
    $c->wait_for('conversation.item.done');
    $c->send({ type => 'response.create', response => { tool_choice => 'none' } });
    @ev = $c->wait_for('response.done');
    is $ev[1]{item}{type}, 'message', 'tool_choice none: a spoken reply';
    $c->close;

    $c = session($mock, tools => ['end_call']);
    say_text($c, 'caller pressed 1');
    $c->send({ type => 'response.create' });
    @ev = $c->wait_for('response.done');
    is $ev[1]{item}{type}, 'message', 'a tool the session does not declare is not called';
    $c->close;
};

subtest 'function calls from speech (a phrase in the transcript) and from a tools file' => sub {
    my $file = "$dir/tools";
    open my $fh, '>', $file or die;
    print $fh "# trigger=name arguments\n\n0=end_call\n2=get_current_time {\"timezone\":\"Europe/Paris\"}\n";
    close $fh;
    my $m = Voxanne::Test::Realtime->start(args => ['--tools', $file, '--tool', 'human=transfer_to_human',
                                                    '--transcript', 'Can I speak to a HUMAN please']);
    my $c = session($m);
    $c->append(ulaw_tone(400) . ulaw_silence(400));
    my @ev = $c->wait_for('response.done');
    my ($call) = of_type('response.function_call_arguments.done', @ev);
    is $call->{name}, 'transfer_to_human', 'what the caller said calls the tool (server VAD)';
    is $call->{arguments}, '{}', 'no arguments: {}';
    say_text($c, 'caller pressed 2');
    $c->send({ type => 'response.create' });
    ($call) = of_type('response.function_call_arguments.done', $c->wait_for('response.done'));
    is_deeply [$call->{name}, $JSON->decode($call->{arguments})], ['get_current_time', { timezone => 'Europe/Paris' }],
        'from the tools file';
    say_text($c, 'caller pressed 22');
    $c->send({ type => 'response.create' });
    @ev = $c->wait_for('response.done');
    is $ev[1]{item}{type}, 'message', '"pressed 22" is not the key 2';
    $c->close;

    ok !eval { Voxanne::Test::Realtime->start(args => ['--tool', '5=x not-json']); 1 }, 'arguments must be a JSON object';
};

subtest 'the other formats (pcma, pcm 24 kHz), --audio, --word-ms, the voice fixed once spoken' => sub {
    my $file = "$dir/reply.ulaw";
    open my $fh, '>', $file or die;
    print $fh ulaw_tone(300, 600);
    close $fh;
    my $m = Voxanne::Test::Realtime->start(args => ['--audio', $file, '--burst']);
    my $c = session($m, vad => { create_response => JSON::PP::false });
    $c->send({ type => 'response.create' });
    my @ev = $c->wait_for('response.done');
    is join('', map { decode_base64($_->{delta}) } of_type('response.output_audio.delta', @ev)), ulaw_tone(300, 600),
        '--audio: the reply is the file';

    $c->send({ type => 'session.update', session => { type => 'realtime', audio => { output => { voice => 'verse' } } } });
    my $err = $c->wait_for('error');
    is $err->{error}{code}, 'cannot_update_voice', 'a new voice after audio: cannot_update_voice';
    $c->send({ type => 'session.update', session => { type => 'realtime', audio => { output => { voice => 'alloy' } } } });
    ok $c->wait_for('session.updated'), 'the same voice is fine';

    $c->send({ type => 'session.update', session => { type => 'realtime', audio => {
        input => { format => { type => 'audio/pcma' } }, output => { format => { type => 'audio/pcma' } } } } });
    $c->wait_for('session.updated');
    $c->append(join('', map { alaw($_) } samples(400, 8000), samples(400, 8000, 0)));
    my $start = $c->wait_for('input_audio_buffer.speech_started');
    my $stop = $c->wait_for('input_audio_buffer.speech_stopped');
    is_deeply [$start->{audio_start_ms}, $stop->{audio_end_ms}], [0, 400 + 300], 'A-law: the VAD hears the tone';
    $c->send({ type => 'response.create' });
    is audio_bytes(of_type('response.output_audio.delta', $c->wait_for('response.done'))), 2400,
        'A-law out: 300 ms, 8 bytes a ms';
    $c->send({ type => 'response.create', response => { audio => { output => { format => { type => 'audio/pcm' } } } } });
    @ev = $c->wait_for('response.done');
    is_deeply((of_type('response.created', @ev))[0]{response}{audio}{output}{format}, { type => 'audio/pcm' },
              'a format for one response');
    my @pcm_deltas = of_type('response.output_audio.delta', @ev);
    is audio_bytes(@pcm_deltas), 300 * 48, '... its audio in that format';
    $c->send({ type => 'conversation.item.truncate', item_id => $pcm_deltas[0]{item_id}, content_index => 0,
               audio_end_ms => 300 });
    ok $c->wait_for('conversation.item.truncated'), '... and truncated in its milliseconds';
    $c->close;
    $m->stop;

    $m = Voxanne::Test::Realtime->start(args => ['--word-ms', '100', '--greeting', 'one two three four five']);
    $c = $m->connect;
    $c->wait_for('session.created');
    my $pcm = pack 's<*', samples(600, 24000, 0), samples(400, 24000), samples(600, 24000, 0);
    $c->append($pcm, chunk => 961);                           # samples cut in two
    my @turn = $c->wait_for('response.done');
    my ($s1, $s2) = (of_type('input_audio_buffer.speech_started', @turn), of_type('input_audio_buffer.speech_stopped', @turn));
    is_deeply [$s1->{audio_start_ms}, $s2->{audio_end_ms}], [600 - 300, 600 + 400 + 500],
        'pcm 24 kHz in (the default): the VAD hears it';
    is audio_bytes(of_type('response.output_audio.delta', @turn)), 24000, 'pcm out: 5 words of 100 ms, 48 bytes a ms';
    $c->close;
    $m->stop;
};

subtest 'conversation items: create checked, delete, retrieve' => sub {
    my $c = session($mock);
    $c->send({ type => 'conversation.item.create', event_id => 'evt_i1',
               item => { type => 'message', role => 'user', content => [{ type => 'input_text' }] } });
    my $err = $c->wait_for('error');
    is_deeply [@{ $err->{error} }{qw(code param event_id)}], ['missing_required_parameter', 'item.content[0].text', 'evt_i1'],
        'a text part without text';
    $c->send({ type => 'conversation.item.create', item => { type => 'function_call_output', output => 'x' } });
    is $c->wait_for('error')->{error}{param}, 'item.call_id', 'an output without call_id';
    $c->send({ type => 'conversation.item.create', item => { id => 'item_mine', type => 'message', role => 'system',
               content => [{ type => 'input_text', text => 'Be nice.' }] } });
    is $c->wait_for('conversation.item.done')->{item}{id}, 'item_mine', 'a client id is kept';
    $c->send({ type => 'conversation.item.retrieve', item_id => 'item_mine' });
    is $c->wait_for('conversation.item.retrieved')->{item}{content}[0]{text}, 'Be nice.', 'retrieve';
    $c->send({ type => 'conversation.item.delete', item_id => 'item_mine' });
    is $c->wait_for('conversation.item.deleted')->{item_id}, 'item_mine', 'delete';
    $c->send({ type => 'conversation.item.delete', item_id => 'item_mine' });
    is $c->wait_for('error')->{error}{code}, 'item_delete_invalid_item_id', 'deleted: gone';
    $c->close;
};

subtest 'bad input: malformed JSON, unknown events, bad audio are error events; binary closes 1003' => sub {
    my $c = session($mock);
    $c->send('{"type": "session.update", ');
    my $err = $c->wait_for('error');
    is $err->{error}{code}, 'invalid_json', 'malformed JSON: invalid_json';
    $c->send('[1, 2]');
    is $c->wait_for('error')->{error}{code}, 'invalid_type', 'an array';
    $c->send({ no => 'type' });
    is $c->wait_for('error')->{error}{code}, 'missing_required_parameter', 'no type';
    $c->send({ type => 'response.audio.delta', event_id => 'evt_x' });
    $err = $c->wait_for('error');
    is_deeply [@{ $err->{error} }{qw(code param event_id)}], [qw(invalid_value type evt_x)], 'an unknown type';
    $c->send({ type => 'input_audio_buffer.append', audio => 'not base64!' });
    is $c->wait_for('error')->{error}{param}, 'audio', 'audio that is not base64';
    $c->send({ type => 'input_audio_buffer.append' });
    is $c->wait_for('error')->{error}{code}, 'missing_required_parameter', 'no audio';
    $c->send({ type => 'session.update', session => { type => 'realtime', instructions => 'still here' } });
    is $c->wait_for('session.updated')->{session}{instructions}, 'still here', 'the session goes on';
    $c->send_frame(binary => "\x01\x02");
    my $closed = $c->closed;
    is $closed->{code}, 1003, 'a binary frame: close 1003';
    my @malformed = $mock->log(dir => 'in', malformed => JSON::PP::true);
    ok @malformed >= 2, 'malformed messages are logged';
};

subtest 'mutated events (seeded): every error has the GA shape, and the mock goes on' => sub {
    my $seed = $ENV{MOCK_RT_SEED} // 60;
    srand $seed;
    my $m = Voxanne::Test::Realtime->start(args => ['--burst', '--reply-ms', '100'], log => 0);
    my $c = session($m);
    my @values = (undef, 0, -1, 1.5, 1e300, '', 'x' x 300, "\x{263a}", [], [1, 'a'], {}, { a => [{}] },
                  JSON::PP::true, JSON::PP::false, 'audio/pcmu', 'server_vad', 'function');
    my @templates = (
        sub { { type => 'session.update', session => bridge_session() } },
        sub { { type => 'response.create', response => { instructions => 'x', tools => bridge_session()->{tools},
                                                         audio => { output => { voice => 'alloy' } } } } },
        sub { { type => 'conversation.item.create', item => { type => 'message', role => 'user',
                                                              content => [{ type => 'input_text', text => 'hi' }] } } },
        sub { { type => 'conversation.item.truncate', item_id => 'item_x', content_index => 0, audio_end_ms => 10 } },
        sub { { type => 'input_audio_buffer.append', audio => encode_base64(ulaw_tone(20), '') } },
        sub { { type => 'conversation.item.create', item => { type => 'function_call_output', call_id => 'c', output => 'o' } } },
    );
    my @bad;
    my $n = 0;
    for my $i (1 .. 300) {
        my $ev = $templates[rand @templates]->();
        # replace one value, anywhere in the event, with a random one
        my @slots;
        my $walk;
        $walk = sub {
            my ($ref) = @_;
            for my $k (ref $ref eq 'HASH' ? keys %$ref : 0 .. $#$ref) {
                push @slots, [$ref, $k];
                my $v = ref $ref eq 'HASH' ? $ref->{$k} : $ref->[$k];
                $walk->($v) if ref $v eq 'HASH' || ref $v eq 'ARRAY';
            }
        };
        $walk->($ev);
        my ($ref, $k) = @{ $slots[rand @slots] };
        my $v = $values[rand @values];
        ref $ref eq 'HASH' ? ($ref->{$k} = $v) : ($ref->[$k] = $v);
        $ref->{ 'extra' . $i } = 1 if ref $ref eq 'HASH' && rand() < 0.1;
        $c->send({ %$ev, event_id => "evt_$i" });
        $c->drain(0);
    }
    $c->drain(1);
    for my $got (of_type('error', $c->events)) {
        $n++;
        push @bad, $got unless ref $got->{error} eq 'HASH' && defined $got->{error}{type}
            && defined $got->{error}{message} && $got->{event_id} =~ /^event_/
            && ($got->{error}{event_id} // '') =~ /^evt_\d+$/;
    }
    ok $m->alive, "300 mutated events (seed $seed): the mock is up";
    ok $n > 50, "$n of them were refused";
    is_deeply \@bad, [], 'each with an error of the GA shape';
    $c->send({ type => 'session.update', session => bridge_session() });
    ok $c->wait_for('session.updated'), 'and the session still answers';
    $c->close;
    is $m->stop, 0, 'exit 0';
};

subtest 'caps: a message over --max-message closes 1009, whole or in fragments' => sub {
    my $m = Voxanne::Test::Realtime->start(args => ['--max-message', '4096']);
    my $c = $m->connect;
    $c->wait_for('session.created');
    $c->send({ type => 'input_audio_buffer.append', audio => encode_base64(ulaw_silence(250), '') });
    is types($c->drain(0.2)), '', 'under the cap: fine';
    $c->send({ type => 'input_audio_buffer.append', audio => encode_base64(ulaw_silence(500), '') });
    is $c->closed->{code}, 1009, 'over it: 1009';
    $c = $m->connect;
    $c->wait_for('session.created');
    $c->send_frame(text => 'x' x 3000, fin => 0);
    $c->send_frame(continuation => 'x' x 3000);
    is $c->closed->{code}, 1009, 'in fragments: 1009';
    ok $m->alive, 'the mock goes on';
    is $m->connect->status, 101, '... and serves';
    $m->stop;

    my $big = Voxanne::Test::Realtime->start;
    $c = session($big);
    $c->append(ulaw_silence(75_000), chunk => 600_000);
    $c->send({ type => 'input_audio_buffer.commit' });
    my $ev = $c->wait_for(sub { $_[0]{type} =~ /^(?:error|input_audio_buffer\.committed)$/ });
    is $ev->{type}, 'input_audio_buffer.committed', 'a 600 KB append (800 KB of JSON) is read whole';
    $c->close;
    $m = $big;
    is $m->stop, 0, 'exit 0';
};

subtest '--echo: every appended chunk comes back as a delta of one open response' => sub {
    my $m = Voxanne::Test::Realtime->start(args => ['--echo']);
    my $c = session($m);
    my @chunks = map { encode_base64(ulaw_tone(20, 300 + 100 * $_), '') } 1 .. 5;
    $c->send({ type => 'input_audio_buffer.append', audio => $_ }) for @chunks;
    my @ev = $c->wait_for(sub { $_[0]{delta} && $_[0]{delta} eq $chunks[-1] });
    is types(@ev), join(' ', qw(response.created response.output_item.added conversation.item.added
        response.content_part.added), ('response.output_audio.delta') x 5), 'one response, a delta a chunk, no VAD';
    my @deltas = of_type('response.output_audio.delta', @ev);
    is_deeply [map { $_->{delta} } @deltas], \@chunks, 'each chunk as it came';
    is scalar(keys %{{ map { $_->{response_id} => 1 } @deltas }}), 1, 'of one response';
    $c->send({ type => 'response.cancel' });
    is $c->wait_for('response.done')->{response}{status}, 'cancelled', 'cancel ends it';
    $c->send({ type => 'input_audio_buffer.append', audio => $chunks[0] });
    my $created = $c->wait_for('response.created');
    isnt $created->{response}{id}, $deltas[0]{response_id}, 'the next chunk opens another';
    is $c->wait_for('response.output_audio.delta')->{delta}, $chunks[0], '... and comes back in it';
    my ($line) = $m->wait_log(dir => 'out', type => 'response.output_audio.delta');
    is $line->{bytes}, 160, 'logged with its size';
    $c->send(qq({"type":"input_audio_buffer.append","audio":"$chunks[1]"}));    # as a bridge writes it
    is $c->wait_for('response.output_audio.delta')->{delta}, $chunks[1], 'the bridge\'s exact shape: echoed too';
    $c->send(qq({"type":"input_audio_buffer.append","audio":"AAAA\\"}"}));
    is $c->wait_for('error')->{error}{param}, 'audio', 'that shape with more than base64 in it: checked whole';
    $c->close;
};

subtest 'sessions are independent' => sub {
    my @c = map { session($mock) } 1 .. 3;
    $c[0]->send({ type => 'session.update', session => { type => 'realtime', instructions => 'zero' } });
    $c[0]->wait_for('session.updated');
    $c[1]->send({ type => 'response.create' });
    my @ev = $c[1]->wait_for('response.done');
    is types($c[0]->drain(0.2)), '', 'a response in one is not in the others';
    is types($c[2]->drain(0)), '', '...';
    $c[2]->send({ type => 'session.update', session => { type => 'realtime' } });
    isnt $c[2]->wait_for('session.updated')->{session}{instructions}, 'zero', 'nor a session.update';
    $c[0]->close;
    $c[2]->send({ type => 'response.create' });
    ok $c[2]->wait_for('response.done'), 'one closing leaves the others';
    $_->close for @c[1, 2];
};

subtest 'faults: --refuse, --delay-accept, for the first N connections' => sub {
    my $m = Voxanne::Test::Realtime->start(args => ['--refuse', '503', '--fault-first', '1']);
    my $c = $m->connect;
    is $c->status, 503, '--refuse 503: 503';
    like $JSON->decode($c->body)->{error}{message}, qr/not accepting/, 'with an error body';
    is $m->connect->status, 101, '--fault-first 1: the second connects';
    ok $m->wait_log(dir => 'upgrade', status => 503, refused => '--refuse'), 'logged';
    $m->stop;

    $m = Voxanne::Test::Realtime->start(args => ['--delay-accept', '700', '--fault-first', '1']);
    my $t0 = time;
    $c = $m->connect(timeout => 5);
    my $slow = time - $t0;
    is $c->status, 101, 'delayed, then upgraded';
    ok $slow >= 0.65, sprintf '--delay-accept 700: %.2f s to the 101', $slow;
    $t0 = time;
    is $m->connect->status, 101, 'the second';
    ok time - $t0 < 0.5, '... at once';
    $m->stop;
};

subtest 'faults: --drop-after ends TCP without a close frame; --error-after; --close-after' => sub {
    my $m = Voxanne::Test::Realtime->start(args => ['--drop-after', '300', '--error-after', '100', '--fault-first', '1',
                                                    '--reply-ms', '300']);
    my $c = $m->connect;
    my $other = $m->connect;
    my $err = $c->wait_for('error');
    is $err->{error}{type}, 'server_error', '--error-after: a server_error event';
    ok !defined $err->{error}{code}, 'no code';
    my $closed = $c->closed(3);
    is $closed->{type}, 'eof', '--drop-after: the connection ends';
    ok !defined $closed->{error}, '... cleanly, with no close frame';
    ok $m->wait_log(dir => 'drop'), 'the drop is logged';
    is types($other->drain(0.5)), 'session.created', 'the other session: untouched';
    $other->send({ type => 'response.create' });
    ok $other->wait_for('response.done'), '... and working';
    $other->close;
    $m->stop;

    $m = Voxanne::Test::Realtime->start(args => ['--close-after', '200', '--close-code', '4001']);
    $c = $m->connect;
    $closed = $c->closed(3);
    is $closed->{type}, 'close', '--close-after: a close frame';
    is $closed->{code}, 4001, 'with --close-code';
    ok $m->wait_log(dir => 'close', by => 'mock', code => 4001), 'logged';
    $m->stop;
};

subtest 'faults: --session-cap, the 60-minute limit made short: session_expired, then close 1001' => sub {
    my $m = Voxanne::Test::Realtime->start(args => ['--session-cap', '0.3s']);
    my $c = $m->connect;
    my $err = $c->wait_for('error', 3);
    is $err->{error}{code}, 'session_expired', 'session_expired';
    like $err->{error}{message}, qr/maximum duration of 60 minutes/, 'the server\'s message';
    my $closed = $c->closed(3);
    is_deeply [@$closed{qw(type code)}], ['close', 1001], 'close 1001';
    like $closed->{reason}, qr/maximum duration/, 'its reason';
    $m->stop;
};

subtest 'a beta client (OpenAI-Beta: realtime=v1) is closed 4000' => sub {
    my $c = $mock->connect(key => $KEY, headers => { 'OpenAI-Beta' => 'realtime=v1' });
    is $c->status, 101, 'upgraded';
    my $closed = $c->closed;
    is_deeply [@$closed{qw(code reason)}], [4000, 'beta_api_shape_disabled'], 'close 4000 beta_api_shape_disabled';
    is $c->events, 0, 'no session';
};

subtest 'wss://: TLS with a certificate made for the test' => sub {
    plan skip_all => 'no openssl' unless grep { -x "$_/openssl" } split /:/, $ENV{PATH};
    for my $name (qw(good other)) {
        my $out = qx{openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \\
            -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout $dir/$name.key -out $dir/$name.crt 2>&1};
        $? == 0 or die "openssl failed: $out";
    }
    my $m = Voxanne::Test::Realtime->start(args => ['--cert', "$dir/good.crt", '--key', "$dir/good.key",
                                                    '--api-key', $KEY, '--reply-ms', '300']);
    my $c = $m->connect(key => $KEY, tls => { ca => "$dir/good.crt", name => 'localhost' });
    is $c->status, 101, 'the certificate verifies; 101';
    is $c->wait_for('session.created')->{session}{type}, 'realtime', 'session.created over TLS';
    $c->send({ type => 'session.update', session => bridge_session() });
    $c->wait_for('session.updated');
    $c->send({ type => 'response.create' });
    ok audio_bytes(of_type('response.output_audio.delta', $c->wait_for('response.done'))) > 0, 'a response over TLS';
    $c->close;
    ok $m->wait_log(dir => 'upgrade', status => 101, tls => JSON::PP::true), 'logged as TLS';

    $c = $m->connect(key => $KEY, tls => { ca => "$dir/other.crt", name => 'localhost' });
    ok !$c->status, 'another CA: no connection';
    like $c->error, qr/verif|certificate/i, '... the certificate fails: ' . ($c->error // '');
    ok !eval { $m->connect(key => $KEY, timeout => 1)->status }, 'plain ws:// to the TLS port: no 101';
    ok $m->alive, 'the mock goes on';
    is $m->stop, 0, 'exit 0';
};

subtest 'SIGTERM: a clean exit with sessions open; --port prints the port it was given' => sub {
    my $m = Voxanne::Test::Realtime->start(args => []);
    my $c = session($m);
    is $m->stop, 0, 'exit status 0';
    ok $c->closed(2), 'the session ends';
    my $port = $m->port;
    my $again = Voxanne::Test::Realtime->start(args => ['--port', $port]);
    is $again->port, $port, 'the port given is the port printed';
    is $again->stop('INT'), 0, 'SIGINT: exit 0';
};

is $mock->stop, 0, 'the shared mock exits 0';
unlike $mock->stderr, qr/\S/, 'and said nothing on stderr';

done_testing;
