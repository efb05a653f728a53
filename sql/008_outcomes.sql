-- 008_outcomes: Vapi calls and their end-of-call reports, written like
-- 004's writes (one statement that lands the same in any order and any
-- number of times); and what every call achieved, derived from what
-- happened in it (docs/outcomes.md).

-- A timestamp Vapi sent (ISO 8601), or NULL when it is not one.
CREATE FUNCTION voxanne_timestamp(t text) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF t !~ '^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d(:?\d\d)?)?$' THEN
    RETURN NULL;
  END IF;
  RETURN t::timestamptz;
EXCEPTION
  WHEN datetime_field_overflow OR invalid_datetime_format THEN
    RETURN NULL;
END
$$;

-- Vapi's call status as Twilio's: ended is completed, unless the call was
-- never answered (its ended reason says so); forwarding is in-progress
-- (with a transfer event); others (not-found, ...) change nothing.
CREATE FUNCTION voxanne_vapi_status(status text, reason text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE status
           WHEN 'scheduled' THEN 'queued'
           WHEN 'queued' THEN 'queued'
           WHEN 'ringing' THEN 'ringing'
           WHEN 'in-progress' THEN 'in-progress'
           WHEN 'forwarding' THEN 'in-progress'
           WHEN 'ended' THEN
             CASE WHEN reason ~ 'busy' THEN 'busy'
                  WHEN reason ~ 'did-not-answer|no-answer' THEN 'no-answer'
                  ELSE 'completed' END
         END
$$;

-- A Vapi call as one message saw it, at time "at": data holds what the
-- message said, each optional: from, to, direction, status (Vapi's),
-- ended_reason, sid (the CallSid, kept when no other call has it),
-- started_at and ended_at (ISO 8601), transfer_to and transfer_reason
-- (a forwarding: a transfer event). Same rules as voxanne_record_call():
-- the status only moves forward, numbers are filled once known, the times
-- are the earliest seen. Returns the call's id.
CREATE FUNCTION voxanne_record_vapi_call(org uuid, vid text, data jsonb, at timestamptz)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  st      text := voxanne_vapi_status(data->>'status', data->>'ended_reason');
  started timestamptz := coalesce(voxanne_timestamp(data->>'started_at'), at);
  ended   timestamptz := coalesce(voxanne_timestamp(data->>'ended_at'), at);
  sid     text := data->>'sid';
  cid     uuid;
BEGIN
  IF sid !~ '^CA[0-9a-f]{32}$' OR EXISTS (SELECT FROM calls WHERE call_sid = sid) THEN
    sid := NULL;
  END IF;

  -- a CallSid another tenant's call has (row-level security hides it from
  -- the check above) is left out too
  LOOP
    BEGIN
      INSERT INTO calls AS c (org_id, channel, vapi_call_id, call_sid, from_number, to_number,
                              direction, status, started_at, answered_at, ended_at, ended_reason)
      VALUES (org, 'vapi', vid, sid, coalesce(data->>'from', ''), coalesce(data->>'to', ''),
              CASE WHEN data->>'direction' = 'outbound' THEN 'outbound-api' ELSE 'inbound' END,
              coalesce(st, 'ringing'), started,
              CASE WHEN st = 'in-progress' THEN at END,
              CASE WHEN voxanne_call_status_rank(st) = 4 THEN ended END,
              data->>'ended_reason')
      ON CONFLICT (org_id, vapi_call_id) DO UPDATE SET
        status = CASE WHEN st IS NOT NULL
                           AND voxanne_call_status_rank(st) > voxanne_call_status_rank(c.status)
                      THEN st ELSE c.status END,
        call_sid = coalesce(c.call_sid, EXCLUDED.call_sid),
        from_number = CASE WHEN c.from_number = '' THEN EXCLUDED.from_number ELSE c.from_number END,
        to_number = CASE WHEN c.to_number = '' THEN EXCLUDED.to_number ELSE c.to_number END,
        started_at = least(c.started_at, EXCLUDED.started_at),
        answered_at = least(c.answered_at, EXCLUDED.answered_at),
        ended_at = least(c.ended_at, EXCLUDED.ended_at),
        ended_reason = coalesce(c.ended_reason, EXCLUDED.ended_reason),
        updated_at = now()
      RETURNING c.id INTO cid;
      EXIT;
    EXCEPTION
      WHEN unique_violation THEN
        IF sid IS NULL THEN
          RAISE;
        END IF;
        sid := NULL;
    END;
  END LOOP;

  IF data ? 'transfer_to' THEN
    INSERT INTO call_events (call_id, org_id, event_key, type, payload, created_at)
    VALUES (cid, org, 'transfer', 'transfer',
            jsonb_build_object('to', data->>'transfer_to',
                               'reason', left(data->>'transfer_reason', 200)),
            at)
    ON CONFLICT ON CONSTRAINT call_events_natural_key DO NOTHING;
  END IF;

  RETURN cid;
END
$$;

-- Vapi's end-of-call report: the call (as above, ended), then what the
-- report adds: ended_reason (the report's wins over a status update's),
-- summary, recording_url, cost (USD), duration (seconds; else from the
-- start and end), and turns [{role, text, at (Unix seconds; else the
-- call's start)}], numbered from first_seq (else 0) in the report's order:
-- a long report comes in several writes, the later ones with only the
-- call's fields and turns. Written again, it changes nothing but what a
-- later report says otherwise.
CREATE FUNCTION voxanne_record_vapi_report(org uuid, vid text, data jsonb, at timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  cid   uuid;
  first integer := CASE WHEN jsonb_typeof(data->'first_seq') = 'number'
                        THEN (data->>'first_seq')::integer ELSE 0 END;
BEGIN
  cid := voxanne_record_vapi_call(org, vid, data || '{"status": "ended"}', at);

  UPDATE calls c SET
    ended_reason = coalesce(data->>'ended_reason', c.ended_reason),
    summary = coalesce(data->>'summary', c.summary),
    recording_url = CASE WHEN data->>'recording_url' ~ '^https?://'
                         THEN data->>'recording_url' ELSE c.recording_url END,
    cost = CASE WHEN jsonb_typeof(data->'cost') = 'number' AND (data->>'cost')::numeric >= 0
                THEN round((data->>'cost')::numeric, 4) ELSE c.cost END,
    duration_seconds = coalesce(
      CASE WHEN jsonb_typeof(data->'duration') = 'number'
                AND (data->>'duration')::numeric BETWEEN 0 AND 2147483647
           THEN round((data->>'duration')::numeric)::integer END,
      c.duration_seconds,
      round(extract(epoch FROM c.ended_at - c.started_at))::integer)
  WHERE c.id = cid;

  INSERT INTO transcripts (org_id, call_id, seq, role, text, started_at)
  SELECT org, cid, first + (t.n - 1)::integer, t.turn->>'role', t.turn->>'text',
         coalesce(CASE WHEN jsonb_typeof(t.turn->'at') = 'number'
                       THEN to_timestamp((t.turn->>'at')::float8) END,
                  voxanne_timestamp(data->>'started_at'), at)
  FROM jsonb_array_elements(CASE WHEN jsonb_typeof(data->'turns') = 'array'
                                 THEN data->'turns' ELSE '[]' END)
       WITH ORDINALITY AS t(turn, n)
  WHERE t.turn->>'role' IN ('caller', 'agent', 'tool') AND t.turn->>'text' IS NOT NULL
  ON CONFLICT (call_id, seq) DO NOTHING;
END
$$;

-- text as lowercase words between single spaces, for keyword matching
CREATE FUNCTION voxanne_words(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT btrim(regexp_replace(lower(t), '[^[:alnum:]]+', ' ', 'g'))
$$;

-- What an ended call achieved, derived again from all its rows each time
-- (so the same whatever order they landed in): outcome, transfer_to and
-- transfer_reason, financial_value, the contact, and the contact's
-- lead_status and last_contacted_at. A call that has not ended is left.
CREATE FUNCTION voxanne_call_outcome(id uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  c        calls%ROWTYPE;
  o        text;
  value    numeric;
  tto      text;
  treason  text;
  party    text;
  contact  uuid;
BEGIN
  -- the writes of one call serialise on its row
  SELECT * INTO c FROM calls WHERE calls.id = voxanne_call_outcome.id FOR UPDATE;

  IF NOT FOUND OR c.ended_at IS NULL THEN
    RETURN;
  END IF;

  -- unanswered calls (busy, no-answer, canceled, failed) show in status
  IF c.status = 'completed' THEN
    SELECT CASE
             WHEN bool_or(e.type = 'tool' AND e.payload->'ok' = 'true'
                          AND e.payload->>'outcome' = 'booked') THEN 'booked'
             WHEN bool_or(e.type = 'tool' AND e.payload->'ok' = 'true'
                          AND e.payload->>'outcome' = 'rescheduled') THEN 'rescheduled'
             WHEN bool_or(e.type = 'tool' AND e.payload->'ok' = 'true'
                          AND e.payload->>'outcome' = 'cancelled') THEN 'cancelled'
             WHEN bool_or(e.type = 'transfer')
                  OR c.ended_reason ~ 'forwarded' THEN 'transferred'
             WHEN bool_or(e.type = 'recording'
                          AND coalesce(e.payload->>'status', '') IN ('', 'completed')
                          AND e.payload->>'duration' ~ '^0*[1-9][0-9]{0,8}$') THEN 'voicemail'
             WHEN bool_or(e.payload->'failed' = 'true'
                          OR (e.type = 'webhook' AND e.payload->>'outcome' = 'fallback'))
                  OR c.ended_reason ~ 'error|failed|fault' THEN 'failed'
             WHEN bool_or(e.type = 'end'
                          OR (e.type = 'tool' AND e.payload->'ok' = 'true'
                              AND e.payload->>'outcome' = 'callback'))
                  OR c.ended_reason ~ '^assistant-(ended|said-end)'
                  OR EXISTS (SELECT FROM transcripts t
                             WHERE t.call_id = c.id AND t.role = 'caller') THEN 'resolved'
             ELSE 'abandoned'
           END
    INTO o
    FROM call_events e
    WHERE e.call_id = c.id;

    -- the booked services' prices, else the dearest service whose
    -- keywords the caller said
    SELECT sum(coalesce(CASE WHEN jsonb_typeof(e.payload->'value') = 'number'
                             THEN greatest((e.payload->>'value')::numeric, 0) END,
                        s.price))
    INTO value
    FROM call_events e
    LEFT JOIN services s ON s.org_id = c.org_id AND s.id::text = e.payload->>'service_id'
    WHERE e.call_id = c.id AND e.type = 'tool' AND e.payload->'ok' = 'true'
      AND e.payload->>'outcome' = 'booked';

    IF value IS NULL THEN
      SELECT max(s.price) INTO value
      FROM services s
      WHERE s.org_id = c.org_id AND s.active
        AND EXISTS (SELECT FROM unnest(s.keywords) AS k(word), transcripts t
                    WHERE t.call_id = c.id AND t.role = 'caller'
                      AND voxanne_words(k.word) <> ''
                      AND position(' ' || voxanne_words(k.word) || ' '
                                   IN ' ' || voxanne_words(t.text) || ' ') > 0);
    END IF;

    SELECT e.payload->>'to', left(e.payload->>'reason', 200)
    INTO tto, treason
    FROM call_events e
    WHERE e.call_id = c.id AND e.type = 'transfer'
    ORDER BY e.created_at DESC, e.event_key DESC
    LIMIT 1;

    IF NOT (voxanne_is_e164(tto) OR tto ~ '^sips?:') THEN
      tto := NULL;
    END IF;
  END IF;

  -- the other party, a contact once the call was answered
  party := CASE WHEN c.direction = 'inbound' THEN c.from_number ELSE c.to_number END;
  contact := c.contact_id;

  IF contact IS NULL AND o IS NOT NULL AND voxanne_is_e164(party) THEN
    INSERT INTO contacts (org_id, phone) VALUES (c.org_id, party)
    ON CONFLICT (org_id, phone) DO NOTHING;

    SELECT ct.id INTO contact FROM contacts ct WHERE ct.org_id = c.org_id AND ct.phone = party;
  END IF;

  UPDATE calls SET outcome = o, transfer_to = tto, transfer_reason = treason,
                   financial_value = round(value, 2), contact_id = contact
  WHERE calls.id = c.id
    AND (outcome, transfer_to, transfer_reason, financial_value, contact_id)
        IS DISTINCT FROM (o, tto, treason, round(value, 2), contact);

  -- the calls of one contact serialise on its row: the derivation after
  -- the lock sees every call that ended before
  IF contact IS NOT NULL THEN
    PERFORM FROM contacts ct WHERE ct.id = contact FOR UPDATE;
    PERFORM voxanne_contact_lead(contact);
  END IF;
END
$$;

-- A contact's lead status from all its calls: the latest call that booked,
-- rescheduled or cancelled decides booked or lost (lost: a cancellation
-- leaving nothing booked ahead); otherwise a new contact whom a call
-- reached (not abandoned, not failed) is contacted. last_contacted_at is
-- the end of its latest answered call, or later when something else (a
-- booking tool during a call) set it later.
CREATE FUNCTION voxanne_contact_lead(contact uuid) RETURNS void
LANGUAGE sql AS $$
  UPDATE contacts ct SET
    lead_status = coalesce(
      CASE d.decisive
        WHEN 'booked' THEN 'booked'
        WHEN 'rescheduled' THEN 'booked'
        WHEN 'cancelled' THEN
          CASE WHEN EXISTS (SELECT FROM appointments a
                            WHERE a.contact_id = ct.id AND a.starts_at > now()
                              AND a.status IN ('booked', 'confirmed'))
               THEN 'booked' ELSE 'lost' END
      END,
      CASE WHEN ct.lead_status = 'new' AND d.reached THEN 'contacted' END,
      ct.lead_status),
    last_contacted_at = greatest(ct.last_contacted_at, d.last)
  FROM (SELECT (array_agg(c.outcome ORDER BY c.ended_at DESC, c.id DESC)
                  FILTER (WHERE c.outcome IN ('booked', 'rescheduled', 'cancelled')))[1]
                 AS decisive,
               coalesce(bool_or(c.outcome NOT IN ('abandoned', 'failed')), false) AS reached,
               max(c.ended_at) FILTER (WHERE c.outcome IS NOT NULL) AS last
        FROM calls c
        WHERE c.contact_id = contact) AS d
  WHERE ct.id = contact
$$;

-- Run at a call's end, and again whenever something of an ended call
-- lands late: an event, a turn, a later status or ended reason.
CREATE FUNCTION voxanne_call_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM voxanne_call_outcome(NEW.id);
  RETURN NULL;
END
$$;

CREATE FUNCTION voxanne_call_rows_landed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM voxanne_call_outcome(n.call_id)
  FROM (SELECT DISTINCT call_id FROM landed WHERE call_id IS NOT NULL) AS n;
  RETURN NULL;
END
$$;

CREATE TRIGGER calls_outcome_insert AFTER INSERT ON calls
  FOR EACH ROW WHEN (NEW.ended_at IS NOT NULL)
  EXECUTE FUNCTION voxanne_call_changed();

CREATE TRIGGER calls_outcome_update
  AFTER UPDATE OF status, ended_at, ended_reason, from_number, to_number ON calls
  FOR EACH ROW
  WHEN (NEW.ended_at IS NOT NULL
        AND (OLD.status, OLD.ended_at, OLD.ended_reason, OLD.from_number, OLD.to_number)
            IS DISTINCT FROM
            (NEW.status, NEW.ended_at, NEW.ended_reason, NEW.from_number, NEW.to_number))
  EXECUTE FUNCTION voxanne_call_changed();

CREATE TRIGGER call_events_outcome AFTER INSERT ON call_events
  REFERENCING NEW TABLE AS landed
  FOR EACH STATEMENT EXECUTE FUNCTION voxanne_call_rows_landed();

CREATE TRIGGER transcripts_outcome AFTER INSERT ON transcripts
  REFERENCING NEW TABLE AS landed
  FOR EACH STATEMENT EXECUTE FUNCTION voxanne_call_rows_landed();
