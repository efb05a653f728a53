# The schema of migrations 002 and 003: tenant isolation on every org-owned
# table, same-tenant foreign keys, the appointments exclusion constraint,
# the CHECKs, natural keys for replayed writes, the loader's tenant list,
# sealed credentials through PostgreSQL with build/voxanne-credential, and
# the demo seed.
use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);
use POSIX ();
use Voxanne::Test::Pg;

my $pg  = Voxanne::Test::Pg->database;
my $cli = 'build/voxanne-credential';
my $tmp = tempdir(CLEANUP => 1);

my %org = (a => '00000000-0000-4000-8000-00000000000a', b => '00000000-0000-4000-8000-00000000000b');

# The error $sql dies with, or '' if it succeeds.
sub sql_error {
    my ($sql, $db) = @_;
    return eval { ($db // $pg)->psql($sql); 1 } ? '' : $@;
}

# $sql as a member of voxanne_app with app.org_id set to $org.
sub as_app {
    my ($org, $sql) = @_;
    return $pg->psql("SET ROLE voxanne_app; SET app.org_id = '$org'; $sql");
}

sub app_error {
    my ($org, $sql) = @_;
    return sql_error("SET ROLE voxanne_app; SET app.org_id = '$org'; $sql");
}

# Run build/voxanne-credential with stdin from $input; (exit status, stdout, stderr).
sub credential {
    my ($input, @args) = @_;
    my $in = "$tmp/stdin";
    open my $fh, '>', $in or die $!;
    print {$fh} $input;
    close $fh;
    my $cmd = join ' ', map {"'$_'"} $cli, @args;
    my $out = qx{$cmd < '$in' 2> '$tmp/stderr'};
    my $status = $? >> 8;
    open $fh, '<', "$tmp/stderr" or die $!;
    my $err = do { local $/; <$fh> };
    return ($status, $out, $err);
}

# One row in every org-owned table for each tenant, with ids that say
# whose they are: $id{a}{contacts} is tenant a's contact.
my %id;
for my $t (sort keys %org) {
    my $o = $org{$t};
    my $n = $t eq 'a' ? 1 : 2;
    my %row = map { split /=/ } split /\n/, $pg->psql(<<"SQL");
INSERT INTO organizations (id, name) VALUES ('$o', 'Org $t');
SELECT 'organizations=' || '$o';
INSERT INTO agents (org_id, name) VALUES ('$o', 'Agent $t') RETURNING 'agents=' || id;
INSERT INTO phone_numbers (org_id, number) VALUES ('$o', '+1555000000$n') RETURNING 'phone_numbers=' || id;
INSERT INTO contacts (org_id, phone, name) VALUES ('$o', '+1555123000$n', 'Caller $t')
  RETURNING 'contacts=' || id;
INSERT INTO services (org_id, name, price, duration_minutes, keywords)
  VALUES ('$o', 'Botox', 300, 45, '{botox,wrinkles}') RETURNING 'services=' || id;
INSERT INTO calls (org_id, call_sid, from_number, to_number, direction, status)
  VALUES ('$o', 'CA' || repeat('$t', 32), '+1555123000$n', '+1555000000$n', 'inbound', 'completed')
  RETURNING 'calls=' || id;
INSERT INTO call_events (org_id, call_id, type, event_key)
  SELECT '$o', id, 'stream', 'stream:start' FROM calls WHERE org_id = '$o' RETURNING 'call_events=' || id;
INSERT INTO transcripts (org_id, call_id, seq, role, text, started_at)
  SELECT '$o', id, 0, 'caller', 'Hello from $t', now() FROM calls WHERE org_id = '$o'
  RETURNING 'transcripts=' || id;
INSERT INTO appointments (org_id, contact_id, service_id, starts_at, ends_at)
  SELECT '$o', c.id, s.id, '2030-01-07 09:00+00', '2030-01-07 09:45+00'
  FROM contacts c, services s WHERE c.org_id = '$o' AND s.org_id = '$o'
  RETURNING 'appointments=' || id;
INSERT INTO messages (org_id, method, recipient, content, provider, external_id)
  VALUES ('$o', 'sms', '+1555123000$n', 'See you soon', 'twilio', 'SM$t') RETURNING 'messages=' || id;
INSERT INTO org_credentials (org_id, provider, name, key_id, nonce, ciphertext, tag)
  VALUES ('$o', 'twilio', 'auth_token', '0123456789abcdef', decode(repeat('00', 12), 'hex'),
          'x', decode(repeat('00', 16), 'hex'))
  RETURNING 'org_credentials=' || id;
INSERT INTO org_tools (org_id, tool) VALUES ('$o', 'book_appointment') RETURNING 'org_tools=' || id;
INSERT INTO verified_caller_ids (org_id, number) VALUES ('$o', '+1555777000$n')
  RETURNING 'verified_caller_ids=' || id;
INSERT INTO hybrid_forwarding_configs (org_id, verified_caller_id, forwarding_type, carrier, destination)
  SELECT '$o', id, 'conditional', 'att', '+1555000000$n' FROM verified_caller_ids WHERE org_id = '$o'
  RETURNING 'hybrid_forwarding_configs=' || id;
SQL
    $id{$t} = \%row;
}

my @tables = sort grep { $_ ne 'organizations' } keys %{ $id{a} };

subtest 'migrations are idempotent' => sub {
    my $out = qx{scripts/db-migrate '${\ $pg->conninfo}' 2>&1};
    is $?, 0, 'a second run succeeds';
    is $out, "up to date\n", '... and changes nothing';
    is $pg->psql('SELECT string_agg(name, \' \' ORDER BY version) FROM schema_migrations'),
        join(' ', map { s{.*/}{}r } glob 'sql/[0-9][0-9][0-9]_*.sql'), 'each migration recorded once';

    # 003 on a database that already has events: they get keys from their ids
    my $db  = Voxanne::Test::Pg->database(migrate => 0);
    my $dir = tempdir(CLEANUP => 1);
    system('cp', 'sql/001_core.sql', $dir) == 0 or die 'cp';
    $out = qx{scripts/db-migrate --dir '$dir' '${\ $db->conninfo}' 2>&1};
    is $?, 0, '001 alone applies' or diag $out;
    $db->psql(<<"SQL");
INSERT INTO organizations (id, name) VALUES ('$org{a}', 'A');
INSERT INTO call_events (org_id, type) VALUES ('$org{a}', 'one'), ('$org{a}', 'two');
SQL
    $out = qx{scripts/db-migrate '${\ $db->conninfo}' 2>&1};
    is $?, 0, 'the later migrations apply over existing rows' or diag $out;
    is $db->psql(q{SELECT string_agg(type || '=' || event_key, ' ' ORDER BY id) FROM call_events}),
        'one=id:1 two=id:2', 'existing events keyed by their ids';
};

subtest 'row-level security on every org-owned table' => sub {
    my $unprotected = $pg->psql(q{
        SELECT string_agg(c.relname, ' ' ORDER BY c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind = 'r'
          AND (c.relname = 'organizations'
               OR EXISTS (SELECT FROM pg_attribute a
                          WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped))
          AND NOT (c.relrowsecurity AND c.relforcerowsecurity
                   AND EXISTS (SELECT FROM pg_policy p
                               WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation'))});
    is $unprotected, '', 'every table with org_id has RLS enabled, forced, with the policy';
    is $pg->psql(q{SELECT count(*) FROM information_schema.columns
                   WHERE table_schema = 'public' AND column_name = 'org_id'}),
        scalar(@tables), 'the tables checked here are all those with org_id';

    for my $table (@tables) {
        my $b_id = $id{b}{$table};
        is as_app($org{a}, "SELECT string_agg(id::text, ',') FROM $table"), $id{a}{$table},
            "$table: tenant a sees its own row only";
        is as_app($org{a}, "SELECT count(*) FROM $table WHERE id = '$b_id'"), 0,
            "$table: not even tenant b's by its id";
        is as_app($org{b}, "SELECT count(*) FROM $table WHERE id = '$b_id'"), 1,
            "$table: tenant b sees it";
        is as_app('', "SELECT count(*) FROM $table"), 0, "$table: no tenant, no rows";
        next if $table eq 'org_credentials';
        is as_app($org{a}, "UPDATE $table SET org_id = org_id WHERE id = '$b_id' RETURNING 1"), '',
            "$table: tenant a cannot update tenant b's row";
        is as_app($org{a}, "DELETE FROM $table WHERE id = '$b_id' RETURNING 1"), '',
            "$table: nor delete it";
        like app_error($org{a}, "UPDATE $table SET org_id = '$org{b}' WHERE id = '$id{a}{$table}'"),
            qr/violates row-level security policy|violates foreign key constraint/,
            "$table: nor give its own row to tenant b";
        is $pg->psql("SELECT count(*) FROM $table WHERE id = '$b_id'"), 1, "$table: tenant b's row is still there";
    }

    # inserts for another tenant, each with otherwise valid values
    my %insert = (
        contacts      => "INSERT INTO contacts (org_id, phone) VALUES ('%s', '+15559990001')",
        services      => "INSERT INTO services (org_id, name, duration_minutes) VALUES ('%s', 'New', 30)",
        org_tools     => "INSERT INTO org_tools (org_id, tool) VALUES ('%s', 'list_services')",
        verified_caller_ids => "INSERT INTO verified_caller_ids (org_id, number) VALUES ('%s', '+15559990002')",
        messages      => "INSERT INTO messages (org_id, method, recipient, content, provider)"
                       . " VALUES ('%s', 'email', 'a\@example.com', 'Hi', 'smtp')",
        call_events   => "INSERT INTO call_events (org_id, type, event_key) VALUES ('%s', 'x', 'x')",
        calls         => "INSERT INTO calls (org_id, channel, vapi_call_id, from_number, to_number,"
                       . " direction, status) VALUES ('%s', 'vapi', 'v1', 'x', 'y', 'inbound', 'ringing')",
    );
    for my $table (sort keys %insert) {
        like app_error($org{a}, sprintf $insert{$table}, $org{b}), qr/violates row-level security policy/,
            "$table: tenant a cannot insert a row for tenant b";
        is as_app($org{a}, (sprintf $insert{$table}, $org{a}) . ' RETURNING 1'), 1,
            "$table: ... but can for itself";
    }
    like app_error($org{a}, "UPDATE org_credentials SET name = name WHERE id = '$id{a}{org_credentials}'"),
        qr/permission denied/, 'the gateway only reads credentials, even its own';
};

subtest 'foreign keys stay within a tenant' => sub {
    my %bad = (
        appointments_contact => "INSERT INTO appointments (org_id, contact_id, service_id, starts_at, ends_at)"
            . " VALUES ('$org{a}', '$id{b}{contacts}', '$id{a}{services}', '2030-02-01 10:00+00',"
            . " '2030-02-01 11:00+00')",
        appointments_service => "INSERT INTO appointments (org_id, contact_id, service_id, starts_at, ends_at)"
            . " VALUES ('$org{a}', '$id{a}{contacts}', '$id{b}{services}', '2030-02-01 10:00+00',"
            . " '2030-02-01 11:00+00')",
        appointments_call => "UPDATE appointments SET call_id = '$id{b}{calls}' WHERE id = '$id{a}{appointments}'",
        transcripts_call => "INSERT INTO transcripts (org_id, call_id, seq, role, text, started_at)"
            . " VALUES ('$org{a}', '$id{b}{calls}', 1, 'agent', 'x', now())",
        messages_call    => "UPDATE messages SET call_id = '$id{b}{calls}' WHERE id = '$id{a}{messages}'",
        messages_contact => "UPDATE messages SET contact_id = '$id{b}{contacts}' WHERE id = '$id{a}{messages}'",
        calls_contact    => "UPDATE calls SET contact_id = '$id{b}{contacts}' WHERE id = '$id{a}{calls}'",
        calls_agent      => "UPDATE calls SET agent_id = '$id{b}{agents}' WHERE id = '$id{a}{calls}'",
        org_tools_agent  => "INSERT INTO org_tools (org_id, agent_id, tool)"
            . " VALUES ('$org{a}', '$id{b}{agents}', 'end_call')",
        forwarding_caller_id => "UPDATE hybrid_forwarding_configs SET verified_caller_id"
            . " = '$id{b}{verified_caller_ids}' WHERE id = '$id{a}{hybrid_forwarding_configs}'",
        forwarding_destination => "UPDATE hybrid_forwarding_configs SET destination = '+15550000002'"
            . " WHERE id = '$id{a}{hybrid_forwarding_configs}'",
    );
    for my $name (sort keys %bad) {
        like sql_error($bad{$name}), qr/violates foreign key constraint/,
            "$name: refused even for a superuser";
    }
};

subtest 'no overlapping appointments' => sub {
    my ($contact, $service) = ($id{a}{contacts}, $id{a}{services});
    my $book = sub {
        my ($from, $to, %opt) = @_;
        my $org = $opt{org} // 'a';
        my $status = $opt{status} // 'booked';
        return sql_error("INSERT INTO appointments (org_id, contact_id, service_id, starts_at, ends_at, status)"
            . " VALUES ('$org{$org}', '$id{$org}{contacts}', '$id{$org}{services}',"
            . " '2030-03-04 $from+00', '2030-03-04 $to+00', '$status')");
    };
    my $overlap = qr/appointments_no_overlap/;

    is $book->('10:00', '10:45'), '', '10:00-10:45 booked';
    like $book->('10:30', '11:15'), $overlap, 'an overlapping one refused';
    like $book->('09:00', '12:00'), $overlap, 'one around it refused';
    like $book->('10:15', '10:30'), $overlap, 'one inside it refused';
    is $book->('10:45', '11:30'), '', 'the adjacent one after it allowed';
    is $book->('09:15', '10:00'), '', 'the adjacent one before it allowed';
    is $book->('10:00', '10:45', org => 'b'), '', 'another tenant at the same time allowed';
    is $book->('10:00', '10:45', status => 'cancelled'), '', 'a cancelled one at the same time allowed';
    like $book->('10:00', '10:30', status => 'confirmed'), $overlap, 'a confirmed one is refused';
    like $book->('10:00', '10:00'), qr/appointments_ends_after_start/, 'an empty one refused';

    $pg->psql(q{UPDATE appointments SET status = 'cancelled'
                WHERE starts_at = '2030-03-04 10:00+00' AND status = 'booked'
                  AND org_id = '} . $org{a} . q{'});
    is $book->('10:00', '10:30'), '', 'the slot of a cancelled one can be booked again';
    like sql_error(q{UPDATE appointments SET status = 'booked'
                     WHERE starts_at = '2030-03-04 10:00+00' AND ends_at = '2030-03-04 10:45+00'
                       AND status = 'cancelled' AND org_id = '} . $org{a} . q{'}),
        $overlap, 'un-cancelling into a taken slot refused';
    like sql_error(q{UPDATE appointments SET starts_at = '2030-03-04 10:15+00', ends_at = '2030-03-04 11:00+00'
                     WHERE starts_at = '2030-03-04 10:45+00' AND org_id = '} . $org{a} . q{'}),
        $overlap, 'rescheduling into a taken slot refused';

    # buffer time: kept free after each appointment booked while it is set
    $pg->psql("UPDATE organizations SET buffer_minutes = 15 WHERE id = '$org{a}'");
    is as_app($org{a}, "INSERT INTO appointments (org_id, contact_id, service_id, starts_at, ends_at)"
            . " VALUES ('$org{a}', '$contact', '$service', '2030-03-04 11:30+00', '2030-03-04 12:00+00')"
            . " RETURNING blocked_until - ends_at"), '00:15:00',
        'booked by the gateway, after the earlier one (which had no buffer): 15 minutes blocked after it';
    like $book->('12:10', '12:40'), $overlap, 'a booking inside the buffer refused';
    is $book->('12:15', '12:45'), '', 'one at the end of the buffer allowed';
    is $pg->psql("UPDATE appointments SET starts_at = starts_at + interval '1 hour',"
            . " ends_at = ends_at + interval '1 hour'"
            . " WHERE starts_at = '2030-03-04 12:15+00' AND org_id = '$org{a}'"
            . " RETURNING to_char(blocked_until AT TIME ZONE 'UTC', 'HH24:MI')"), '14:00',
        'rescheduling moves the buffer too';

    # idempotent booking: a retried tool call finds the first
    my $retry = "INSERT INTO appointments (org_id, contact_id, service_id, starts_at, ends_at, idempotency_key)"
        . " VALUES ('$org{a}', '$contact', '$service', '2030-03-05 10:00+00', '2030-03-05 10:45+00', 'call-1:book')"
        . " ON CONFLICT (org_id, idempotency_key) DO NOTHING RETURNING 1";
    is as_app($org{a}, $retry), 1, 'a booking with an idempotency key';
    is as_app($org{a}, $retry), '', 'its retry books nothing';
    is $pg->psql("SELECT count(*) FROM appointments WHERE idempotency_key = 'call-1:book'"), 1, 'one row';

    # the race: parallel transactions for one slot, exactly one commits
    my @pids = map {
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            my $ok = eval {
                $pg->psql("BEGIN; INSERT INTO appointments (org_id, contact_id, service_id, starts_at, ends_at)"
                    . " VALUES ('$org{a}', '$contact', '$service', '2030-03-06 14:00+00', '2030-03-06 14:45+00');"
                    . " SELECT pg_sleep(0.3); COMMIT;");
                1;
            };
            POSIX::_exit($ok ? 0 : 1);
        }
        $pid;
    } 1 .. 6;
    my $won = grep { waitpid($_, 0); $? == 0 } @pids;
    is $won, 1, 'six parallel bookings of one slot: one wins';
    is $pg->psql("SELECT count(*) FROM appointments WHERE starts_at = '2030-03-06 14:00+00'"), 1,
        'one appointment';
};

subtest 'checks' => sub {
    my @bad = (
        [ "UPDATE contacts SET phone = '5551230001'", 'contacts_phone_e164' ],
        [ "UPDATE contacts SET email = 'nobody'", 'contacts_email_format' ],
        [ "UPDATE contacts SET lead_status = 'hot'", 'contacts_lead_status_check' ],
        [ "INSERT INTO contacts (org_id, phone) VALUES ('$org{a}', '+15551230001')", 'contacts_org_id_phone_key' ],
        [ "UPDATE verified_caller_ids SET number = '+0123456789'", 'verified_caller_ids_number_e164' ],
        [ "UPDATE verified_caller_ids SET attempts = 6", 'verified_caller_ids_attempts_limit' ],
        [ "UPDATE verified_caller_ids SET attempts = -1", 'verified_caller_ids_attempts_limit' ],
        [ "UPDATE verified_caller_ids SET code_hash = '123456', expires_at = now()",
          'verified_caller_ids_code_hash_length' ],
        [ "UPDATE verified_caller_ids SET code_hash = decode(repeat('ab', 32), 'hex')",
          'verified_caller_ids_code_expires' ],
        [ "UPDATE hybrid_forwarding_configs SET destination = '555'", 'hybrid_forwarding_configs_destination_e164' ],
        [ "UPDATE hybrid_forwarding_configs SET ring_seconds = 61", 'hybrid_forwarding_configs_ring_seconds_range' ],
        [ "UPDATE hybrid_forwarding_configs SET forwarding_type = 'sometimes'",
          'hybrid_forwarding_configs_forwarding_type_check' ],
        [ "UPDATE messages SET recipient = 'a\@example.com' WHERE method = 'sms'", 'messages_recipient_format' ],
        [ "UPDATE messages SET method = 'email' WHERE method = 'sms'", 'messages_recipient_format' ],
        [ "UPDATE messages SET status = 'lost'", 'messages_status_check' ],
        [ "INSERT INTO services (org_id, name, duration_minutes) VALUES ('$org{a}', ' BOTOX ', 30)",
          'services_org_name_key' ],
        [ "UPDATE services SET duration_minutes = 0", 'services_duration_range' ],
        [ "UPDATE services SET price = -1", 'services_price_check' ],
        [ "UPDATE services SET keywords = '{Botox}'", 'services_keywords_lowercase' ],
        [ "UPDATE services SET keywords = '{botox,NULL}'", 'services_keywords_lowercase' ],
        [ "UPDATE calls SET financial_value = -0.01", 'calls_financial_value_check' ],
        [ "UPDATE calls SET cost = -1", 'calls_cost_check' ],
        [ "UPDATE calls SET transfer_to = '5551230000'", 'calls_transfer_to_format' ],
        [ "UPDATE calls SET recording_sid = 'RE123'", 'calls_recording_sid_format' ],
        [ "UPDATE calls SET call_sid = NULL", 'calls_channel_id' ],
        [ "UPDATE calls SET channel = 'vapi'", 'calls_channel_id' ],
        [ "UPDATE call_events SET event_key = ''", 'call_events_event_key_length' ],
        [ "INSERT INTO call_events (org_id, call_id, type, event_key)"
          . " VALUES ('$org{a}', '$id{a}{calls}', 'stream', 'stream:start')", 'call_events_natural_key' ],
        [ "UPDATE transcripts SET role = 'system'", 'transcripts_role_check' ],
        [ "UPDATE transcripts SET ended_at = started_at - interval '1 second'", 'transcripts_ends_after_start' ],
        [ "UPDATE org_credentials SET nonce = decode(repeat('00', 11), 'hex')", 'org_credentials_nonce_length' ],
        [ "UPDATE org_credentials SET tag = decode(repeat('00', 15), 'hex')", 'org_credentials_tag_length' ],
        [ "UPDATE org_credentials SET ciphertext = ''", 'org_credentials_ciphertext_length' ],
        [ "UPDATE org_credentials SET key_id = 'k1'", 'org_credentials_key_id_format' ],
        [ "UPDATE org_credentials SET provider = 'Twilio'", 'org_credentials_provider_format' ],
        [ "UPDATE org_tools SET config = '[]'", 'org_tools_config_object' ],
        [ "INSERT INTO org_tools (org_id, tool) VALUES ('$org{a}', 'book_appointment')",
          'org_tools_org_id_agent_id_tool_key' ],
        [ "UPDATE organizations SET slug = 'a b'", 'organizations_slug_format' ],
        [ "UPDATE organizations SET public_url = 'https://edge.example.com/twilio'",
          'organizations_public_url_format' ],
        [ "UPDATE organizations SET hours = 'weekdays 9-5'", 'organizations_hours_format' ],
        [ "UPDATE organizations SET hours = 'mon-fri 09:00-17:00, sat'", 'organizations_hours_format' ],
        [ "UPDATE organizations SET after_hours_action = 'dial'", 'organizations_after_hours_number' ],
        [ "UPDATE organizations SET after_hours_number = '+15551230000'", 'organizations_after_hours_number' ],
        [ "UPDATE organizations SET fallback_action = 'dial', fallback_number = '555'",
          'organizations_fallback_number' ],
        [ "UPDATE organizations SET buffer_minutes = 241", 'organizations_buffer_minutes_range' ],
        [ "UPDATE organizations SET twilio_account_sid = 'AC123'", 'organizations_twilio_account_sid_format' ],
    );
    for my $case (@bad) {
        my ($sql, $constraint) = @$case;
        like sql_error("BEGIN; $sql; ROLLBACK;"), qr/\b$constraint\b/, "$constraint: $sql";
    }

    my @good = (
        "UPDATE verified_caller_ids SET attempts = 5",
        "UPDATE verified_caller_ids SET code_hash = decode(repeat('ab', 32), 'hex'),"
            . " expires_at = now() + interval '10 minutes'",
        "UPDATE calls SET transfer_to = '+15551230000'",
        "UPDATE calls SET transfer_to = 'sip:desk\@clinic.example.com'",
        "UPDATE calls SET channel = 'vapi', vapi_call_id = 'a1b2-c3', call_sid = NULL WHERE id = '$id{a}{calls}'",
        "UPDATE organizations SET hours = 'mon-fri 09:00-17:00, sat,sun 10:00-12:00 13:00-14:00'",
        "UPDATE organizations SET hours = 'fri-mon 00:00-24:00'",
        "UPDATE organizations SET after_hours_action = 'dial', after_hours_number = '+15551230000'",
        "UPDATE organizations SET public_url = 'https://edge.example.com:8443', slug = 'clinic-a_1'"
            . " WHERE id = '$org{a}'",
        "UPDATE organizations SET public_url = 'http://[::1]:8080'",
        "UPDATE services SET keywords = '{}'",
        "INSERT INTO org_tools (org_id, agent_id, tool) VALUES ('$org{a}', '$id{a}{agents}', 'book_appointment')",
    );
    for my $sql (@good) {
        is sql_error("BEGIN; $sql; ROLLBACK;"), '', "accepted: $sql";
    }

    is $pg->psql(q{SELECT indexdef ~ 'USING gin \(keywords\)' FROM pg_indexes
                   WHERE indexname = 'services_keywords_idx'}), 't', 'keywords have a GIN index';
    is as_app($org{a}, q{SELECT name FROM services WHERE keywords && '{wrinkles,lunch}'}), 'Botox',
        'a keyword finds its service';
};

subtest 'replayed writes land once' => sub {
    my $event = "INSERT INTO call_events (org_id, call_id, type, event_key, created_at)"
        . " VALUES ('$org{a}', '$id{a}{calls}', 'status', 'status:3', '2030-01-01 10:00+00')"
        . " ON CONFLICT DO NOTHING RETURNING 1";
    is as_app($org{a}, $event), 1, 'an event';
    is as_app($org{a}, $event), '', 'its replay is a no-op';
    my $tenant_event = "INSERT INTO call_events (org_id, type, event_key) VALUES ('$org{a}', 'spool', 'spool:full:1')"
        . " ON CONFLICT DO NOTHING RETURNING 1";
    is as_app($org{a}, $tenant_event), 1, 'a tenant-level event (no call)';
    is as_app($org{a}, $tenant_event), '', 'its replay is a no-op too';
    is as_app($org{b}, $tenant_event =~ s/'$org{a}'/'$org{b}'/r), 1, 'the same key in another tenant';

    my $turn = "INSERT INTO transcripts (org_id, call_id, seq, role, text, started_at)"
        . " VALUES ('$org{a}', '$id{a}{calls}', 1, 'agent', 'How can I help?', now())"
        . " ON CONFLICT (call_id, seq) DO NOTHING RETURNING 1";
    is as_app($org{a}, $turn), 1, 'a transcript turn';
    is as_app($org{a}, $turn), '', 'its replay is a no-op';
    is as_app($org{a}, "SELECT string_agg(role || ':' || text, '|' ORDER BY seq) FROM transcripts"),
        'caller:Hello from a|agent:How can I help?', 'the call\'s turns in order';

    my $status = "INSERT INTO messages (org_id, method, recipient, content, provider, external_id, status)"
        . " VALUES ('$org{a}', 'sms', '+15551230001', 'See you soon', 'twilio', 'SMa', 'delivered')"
        . " ON CONFLICT (org_id, provider, external_id) DO UPDATE SET status = EXCLUDED.status RETURNING status";
    is as_app($org{a}, $status), 'delivered', 'a message status finds its row by the provider\'s id';
    is $pg->psql("SELECT count(*) FROM messages WHERE external_id = 'SMa'"), 1, 'one row';
};

subtest 'tenants for the loader' => sub {
    $pg->psql(<<"SQL");
UPDATE organizations SET slug = 'clinic-b', public_url = 'https://edge.example.com',
       hours = 'mon-fri 09:00-17:00', twilio_account_sid = 'AC' || repeat('0', 32)
WHERE id = '$org{b}';
INSERT INTO phone_numbers (org_id, number) VALUES ('$org{b}', '+15550000003');
UPDATE organizations SET slug = 'clinic-a' WHERE id = '$org{a}';
SQL
    is as_app('', q{SELECT slug || ' ' || array_to_string(numbers, ',') || ' ' || hours || ' '
                    || busy_action || ' ' || after_hours_action || ' ' || fallback_action
                    FROM voxanne_db_tenants()}),
        'clinic-b +15550000002,+15550000003 mon-fri 09:00-17:00 say voicemail hangup',
        'a tenant with a slug and a public URL, with its numbers, seen across tenants';
    is $pg->psql(q{SELECT bool_and(acl::text !~ '^=') FROM pg_proc, unnest(proacl) AS acl
                   WHERE proname = 'voxanne_db_tenants'}), 't', 'not executable by PUBLIC';
};

subtest 'sealed credentials through PostgreSQL' => sub {
    ok -x $cli, "$cli is built" or return;
    my $keyfile = "$tmp/key";
    open my $fh, '>', $keyfile or die $!;
    print {$fh} unpack('H*', join '', map { chr int rand 256 } 1 .. 32), "\n";
    close $fh;
    chmod 0600, $keyfile;
    my $other = "$tmp/other.key";
    open $fh, '>', $other or die $!;
    print {$fh} join '', map { chr(128 + int rand 128) } 1 .. 32;
    close $fh;
    chmod 0600, $other;

    my $secret = 'tok3n with spaces and a quote \' inside';
    my @label = (qw(--org), uc $org{a}, qw(--provider twilio --name auth_token_next));
    my ($status, $sql, $err) = credential("$secret\n", 'seal', '--key-file', $keyfile, @label);
    is $status, 0, 'seal' or diag $err;
    unlike $sql, qr/tok3n/, 'the SQL does not hold the secret';
    is sql_error($sql), '', 'psql stores it';

    my $row_sql = "SELECT key_id, encode(nonce, 'hex'), encode(ciphertext, 'hex'), encode(tag, 'hex')"
        . " FROM org_credentials WHERE org_id = '%s' AND provider = 'twilio' AND name = 'auth_token_next'";
    my $row = $pg->psql(sprintf $row_sql, $org{a});
    my ($key_id, undef, $hex) = split /\|/, $row;
    my $kid = (credential('', 'key-id', '--key-file', $keyfile))[1];
    is $key_id, $kid =~ s/\n\z//r, 'the row names the key';
    is length($hex), 2 * length($secret), 'the ciphertext is as long as the secret';
    unlike pack('H*', $hex), qr/tok3n/, 'the ciphertext does not contain the secret';

    my @out = credential($row, 'open', '--key-file', $keyfile, @label);
    is_deeply [ @out[0, 1] ], [ 0, "$secret\n" ], 'open gives the secret back' or diag $out[2];
    is as_app($org{a}, "SELECT count(*) FROM org_credentials WHERE name = 'auth_token_next'"), 1,
        'the gateway role reads it under its tenant';
    is as_app($org{b}, "SELECT count(*) FROM org_credentials WHERE name = 'auth_token_next'"), 0,
        '... and not under another';

    # sealing again replaces the row with a fresh nonce
    ($status, $sql) = credential("$secret\n", 'seal', '--key-file', $keyfile, @label);
    $pg->psql($sql);
    my $again = $pg->psql(sprintf $row_sql, $org{a});
    isnt +(split /\|/, $again)[1], (split /\|/, $row)[1], 'sealing again: a new nonce';
    is $pg->psql("SELECT count(*) FROM org_credentials WHERE name = 'auth_token_next'"), 1, '... in the same row';

    # a copy in another tenant's row
    $pg->psql("INSERT INTO org_credentials (org_id, provider, name, key_id, nonce, ciphertext, tag)"
        . " SELECT '$org{b}', provider, name, key_id, nonce, ciphertext, tag FROM org_credentials"
        . " WHERE org_id = '$org{a}' AND name = 'auth_token_next'");
    my $copied = $pg->psql(sprintf $row_sql, $org{b});
    @out = credential($copied, 'open', '--key-file', $keyfile, '--org', $org{b},
        qw(--provider twilio --name auth_token_next));
    is $out[0], 1, 'the row copied to another tenant does not open';
    like $out[2], qr/cannot open/, '... and says so';
    @out = credential($again, 'open', '--key-file', $keyfile, @label[0, 1], qw(--provider twilio --name auth_token));
    is $out[0], 1, 'nor under another name';

    @out = credential($again, 'open', '--key-file', $other, @label);
    is $out[0], 1, 'another key does not open it';
    like $out[2], qr/sealed with key "$key_id"/, '... and names the key it needs';

    my @tampered = split /\|/, $again;
    substr($tampered[2], 0, 2) = sprintf '%02x', hex(substr $tampered[2], 0, 2) ^ 1;
    @out = credential(join('|', @tampered), 'open', '--key-file', $keyfile, @label);
    is $out[0], 1, 'a flipped ciphertext bit does not open';

    @out = credential("x\n", 'seal', '--key-file', $keyfile, '--org', 'not-a-uuid', qw(--provider twilio --name n));
    is $out[0], 1, 'seal refuses an org that is not a uuid';
    @out = credential("\n", 'seal', '--key-file', $keyfile, @label);
    is $out[0], 1, 'seal refuses an empty secret';
    @out = credential('', 'seal', @label);
    is $out[0], 2, 'no key file: a usage error';
};

subtest 'demo seed' => sub {
    open my $fh, '<', 'sql/seed/demo.sql' or die $!;
    my $seed = do { local $/; <$fh> };
    is sql_error($seed) . sql_error($seed), '', 'applies twice';
    my $demo = '00000000-0000-4000-8000-000000000001';
    is as_app($demo, q{SELECT string_agg(name || ' ' || duration_minutes || ' ' || price, ', ' ORDER BY name)
                       FROM services}),
        'Botox 45 300.00, Consultation 30 0.00, Dermal Filler 60 650.00, Hydrafacial 60 250.00', 'its services';
    is as_app($demo, q{SELECT name FROM services WHERE keywords && '{wrinkles}'}), 'Botox', 'found by keyword';
    is as_app($demo, q{SELECT name || ' ' || lead_status FROM contacts WHERE phone = '+15550100123'}),
        'Jordan Rivera contacted', 'a returning caller';
    is as_app($demo, q{SELECT buffer_minutes FROM organizations}), 10, 'ten minutes between appointments';
    is as_app($demo, q{SELECT config->>'destination' FROM org_tools WHERE tool = 'transfer_to_human'}),
        '+15550100009', 'transfers go to the front desk';
};

done_testing;
