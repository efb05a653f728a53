-- 007_booking: the receptionist's booking tools (ngx_http_voxanne_tools.c),
-- one function per tool, so that a tool is one statement, one round trip
-- and one transaction: the appointment and the call's tool event land
-- together or not at all.
--
-- Every tool function takes the same context first, as the gateway holds
-- it for the call: the tenant (org, also app.org_id for row-level
-- security), the channel ('twilio' or 'vapi') and its call id (CallSid or
-- Vapi call id), the tool call's id, the caller's number ('' when not
-- known: then the call's from_number), and the tenant's time zone, hours
-- and closed days as nginx.conf or the database gave them to the gateway:
--
--   hours   int[], triplets (weekdays as bits, Sunday bit 0; opening
--           minute; closing minute, exclusive); empty: always open
--   closed  int[], dates as yyyymmdd
--
-- Each returns one row (ok, result): result is one line the model can
-- speak from; ok false is a refusal (closed day, past time, unknown
-- service, taken slot, ...), never a database error. Arguments arrive
-- validated and normalized by the gateway (E.164 phones, ISO dates and
-- times in the tenant's local time); SQL checks what needs the data. JIT
-- is off for them: the planner overestimates the day grids (generate_series)
-- and compiling them costs far more than running them.

-- The step between offered start times, in minutes.
CREATE FUNCTION voxanne_booking_step() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 15 $$;

-- The opening ranges (minutes after local midnight) of a local day.
CREATE FUNCTION voxanne_booking_ranges(hours integer[], closed integer[], day date)
RETURNS TABLE (opens integer, closes integer)
LANGUAGE sql IMMUTABLE AS $$
  SELECT r.opens, r.closes
  FROM (SELECT 0 AS opens, 1440 AS closes WHERE cardinality(hours) = 0
        UNION ALL
        SELECT hours[i + 1], hours[i + 2]
        FROM generate_series(1, cardinality(hours) - 2, 3) AS i
        WHERE (hours[i] >> extract(dow FROM day)::integer) & 1 = 1) AS r
  WHERE NOT (to_char(day, 'YYYYMMDD')::integer = ANY (closed))
$$;

-- A local day and minute as an instant.
CREATE FUNCTION voxanne_booking_at(day date, minute integer, tz text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT (day + make_interval(mins => minute)) AT TIME ZONE tz
$$;

-- Whether an appointment from "starts" for "minutes" lies within one
-- opening range of its local day.
CREATE FUNCTION voxanne_booking_fits(hours integer[], closed integer[], tz text,
                                     starts timestamptz, minutes integer)
RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT FROM voxanne_booking_ranges(hours, closed, (starts AT TIME ZONE tz)::date) AS r,
                LATERAL (SELECT extract(hour FROM starts AT TIME ZONE tz)::integer * 60
                                + extract(minute FROM starts AT TIME ZONE tz)::integer AS m) AS l
    WHERE l.m >= r.opens AND l.m + minutes <= r.closes)
$$;

-- Whether nothing booked blocks [starts, blocked) ("moving": the
-- appointment being moved).
CREATE FUNCTION voxanne_booking_free(org uuid, starts timestamptz, blocked timestamptz,
                                     moving uuid)
RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT NOT EXISTS (
    SELECT FROM appointments a
    WHERE a.org_id = org AND a.status IN ('booked', 'confirmed')
      AND a.id IS DISTINCT FROM moving
      AND tstzrange(a.starts_at, a.blocked_until) && tstzrange(starts, blocked))
$$;

-- The open start times of a local day for a service of "minutes" with the
-- tenant's buffer after it, in the future: the day's grid against what is
-- booked around it, read once.
CREATE FUNCTION voxanne_booking_slots(org uuid, tz text, hours integer[], closed integer[],
                                      minutes integer, day date, moving uuid)
RETURNS SETOF timestamptz LANGUAGE sql STABLE AS $$
  WITH busy AS MATERIALIZED (
    SELECT tstzrange(a.starts_at, a.blocked_until) AS span
    FROM appointments a
    WHERE a.org_id = org AND a.status IN ('booked', 'confirmed')
      AND a.id IS DISTINCT FROM moving
      AND a.starts_at < voxanne_booking_at(day + 2, 0, tz)
      AND a.blocked_until > voxanne_booking_at(day - 1, 0, tz)
  ), length AS MATERIALIZED (
    SELECT make_interval(mins => minutes + coalesce(
             (SELECT o.buffer_minutes FROM organizations o WHERE o.id = org), 0)) AS blocks
  )
  SELECT s.at
  FROM voxanne_booking_ranges(hours, closed, day) AS r,
       LATERAL generate_series(r.opens, r.closes - minutes, voxanne_booking_step()) AS m,
       LATERAL (SELECT voxanne_booking_at(day, m, tz) AS at) AS s,
       length AS l
  WHERE s.at > now()
    AND NOT EXISTS (SELECT FROM busy b WHERE b.span && tstzrange(s.at, s.at + l.blocks))
  ORDER BY s.at
$$;

CREATE FUNCTION voxanne_booking_time(at timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT to_char(at AT TIME ZONE tz, 'FMHH12:MI AM')
$$;

CREATE FUNCTION voxanne_booking_day(day date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(day, 'FMDay, FMMonth FMDD')
$$;

CREATE FUNCTION voxanne_booking_when(at timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT voxanne_booking_day((at AT TIME ZONE tz)::date) || ' at ' || voxanne_booking_time(at, tz)
$$;

-- Up to three open times nearest to "want": on its day, else on the first
-- of the next 14 days with any; NULL when there are none.
CREATE FUNCTION voxanne_booking_nearest(org uuid, tz text, hours integer[], closed integer[],
                                        minutes integer, want timestamptz, moving uuid)
RETURNS text LANGUAGE sql STABLE AS $$
  WITH open AS MATERIALIZED (
    SELECT d::date AS day, s.at
    FROM generate_series((want AT TIME ZONE tz)::date, (want AT TIME ZONE tz)::date + 14,
                         interval '1 day') AS d,
         LATERAL voxanne_booking_slots(org, tz, hours, closed, minutes, d::date, moving) AS s(at)
  ), nearest AS (
    SELECT o.at
    FROM open o
    WHERE o.day = (SELECT min(x.day) FROM open x)
    ORDER BY abs(extract(epoch FROM o.at - want)), o.at
    LIMIT 3
  )
  SELECT voxanne_booking_day((min(at) AT TIME ZONE tz)::date) || ' at '
         || string_agg(voxanne_booking_time(at, tz), ', ' ORDER BY at)
  FROM nearest
  HAVING count(*) > 0
$$;

-- A service the tenant offers by its name, any case, else by one of its
-- keywords.
CREATE FUNCTION voxanne_booking_service(org uuid, wanted text) RETURNS services
LANGUAGE sql STABLE AS $$
  SELECT s.*
  FROM services s
  WHERE s.org_id = org AND s.active
    AND (lower(btrim(s.name)) = lower(btrim(wanted)) OR lower(btrim(wanted)) = ANY (s.keywords))
  ORDER BY lower(btrim(s.name)) = lower(btrim(wanted)) DESC, s.name
  LIMIT 1
$$;

CREATE FUNCTION voxanne_booking_no_service(org uuid, wanted text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT format('We do not offer "%s". ', wanted)
         || coalesce('We offer: ' || string_agg(s.name, ', ' ORDER BY s.name) || '.',
                     'No services are set up for booking.')
  FROM services s
  WHERE s.org_id = org AND s.active
$$;

CREATE FUNCTION voxanne_booking_price(price numeric, org uuid) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN price = 0 THEN 'free'
              ELSE to_char(price, 'FM999999990.00') || ' '
                   || (SELECT o.currency FROM organizations o WHERE o.id = org) END
$$;

-- The call a tool runs in, created if no write of it has landed yet (a
-- Vapi call with the caller's number as its From); NULL when its id is not
-- one (then events are the tenant's).
CREATE FUNCTION voxanne_booking_call(org uuid, channel text, call text, caller text)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  id uuid;
BEGIN
  IF channel = 'twilio' AND call ~ '^CA[0-9a-f]{32}$' THEN
    RETURN voxanne_record_call(org, call, NULL, NULL, NULL, now(), NULL);
  END IF;
  IF channel = 'vapi' AND call ~ '^[A-Za-z0-9_-]{1,64}$' THEN
    INSERT INTO calls AS c (org_id, channel, vapi_call_id, from_number, to_number, direction,
                            status, started_at)
    VALUES (org, 'vapi', call, coalesce(caller, ''), '', 'inbound', 'in-progress', now())
    ON CONFLICT (org_id, vapi_call_id) DO UPDATE SET
      from_number = CASE WHEN c.from_number = '' THEN EXCLUDED.from_number ELSE c.from_number END,
      updated_at = now()
    RETURNING c.id INTO id;
    RETURN id;
  END IF;
  RETURN NULL;
END
$$;

-- The caller's number: the tool's argument, else the call's From.
CREATE FUNCTION voxanne_booking_phone(phone text, caller text, call uuid) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT p FROM (VALUES (1, nullif(phone, '')), (2, nullif(caller, '')),
                        (3, (SELECT c.from_number FROM calls c WHERE c.id = call))) AS v(n, p)
  WHERE p IS NOT NULL AND voxanne_is_e164(p)
  ORDER BY n
  LIMIT 1
$$;

-- A contact by E.164 number, created or completed with what the caller
-- gave.
CREATE FUNCTION voxanne_booking_contact(org uuid, phone text, who text, mail text) RETURNS uuid
LANGUAGE sql AS $$
  INSERT INTO contacts AS c (org_id, phone, name, email, last_contacted_at)
  VALUES (org, phone, nullif(who, ''), nullif(mail, ''), now())
  ON CONFLICT (org_id, phone) DO UPDATE SET
    name = coalesce(EXCLUDED.name, c.name),
    email = coalesce(EXCLUDED.email, c.email),
    last_contacted_at = now()
  RETURNING c.id
$$;

-- The call's tool event (contracts: type tool, key tool:<tool call id>).
CREATE FUNCTION voxanne_booking_event(org uuid, call uuid, tool_call text, data jsonb)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO call_events (call_id, org_id, event_key, type, payload)
  SELECT call, org, 'tool:' || tool_call, 'tool', data
  WHERE coalesce(tool_call, '') <> ''
  ON CONFLICT ON CONSTRAINT call_events_natural_key DO NOTHING
$$;

-- The contact's next booked appointment (on "day" when given).
CREATE FUNCTION voxanne_booking_next(org uuid, number text, tz text, day date)
RETURNS appointments LANGUAGE sql STABLE AS $$
  SELECT a.*
  FROM appointments a JOIN contacts c ON c.id = a.contact_id
  WHERE a.org_id = org AND c.phone = number AND a.status IN ('booked', 'confirmed')
    AND a.starts_at > now()
    AND (day IS NULL OR (a.starts_at AT TIME ZONE tz)::date = day)
  ORDER BY a.starts_at
  LIMIT 1
$$;

-- Why a start time cannot be booked for "minutes" (past, closed, outside
-- the hours, taken), with the nearest open times; NULL when it can.
CREATE FUNCTION voxanne_booking_refusal(org uuid, tz text, hours integer[], closed integer[],
                                        minutes integer, starts timestamptz, moving uuid)
RETURNS text LANGUAGE sql STABLE AS $$
  SELECT w.why || coalesce('The nearest open times are '
                           || voxanne_booking_nearest(org, tz, hours, closed, minutes,
                                                      greatest(starts, now()), moving) || '.',
                           'There are no open times in the next two weeks.')
  FROM (SELECT CASE
          WHEN starts <= now() THEN
            'That time has already passed. '
          WHEN NOT EXISTS (SELECT FROM voxanne_booking_ranges(hours, closed,
                                                              (starts AT TIME ZONE tz)::date)) THEN
            format('We are closed on %s. ', voxanne_booking_day((starts AT TIME ZONE tz)::date))
          WHEN NOT voxanne_booking_fits(hours, closed, tz, starts, minutes) THEN
            'That is outside our opening hours. '
          WHEN NOT voxanne_booking_free(org, starts, starts + make_interval(mins => minutes
                 + coalesce((SELECT o.buffer_minutes FROM organizations o WHERE o.id = org), 0)),
                 moving) THEN
            'That time is taken. '
          END AS why) AS w
  WHERE w.why IS NOT NULL
$$;


-- check_availability(service, date, [end_date], [time])
CREATE FUNCTION voxanne_tool_check_availability(org uuid, channel text, call text,
    tool_call text, caller text, tz text, hours integer[], closed integer[],
    wanted text, first_day date, last_day date, at_time time)
RETURNS TABLE (ok boolean, result text) LANGUAGE plpgsql
SET jit = off AS $$
DECLARE
  s services;
  want timestamptz;
  slots text;
  refusal text;
BEGIN
  s := voxanne_booking_service(org, wanted);
  IF s.id IS NULL THEN
    RETURN QUERY SELECT false, voxanne_booking_no_service(org, wanted);
    RETURN;
  END IF;

  IF at_time IS NOT NULL THEN
    want := (first_day + at_time) AT TIME ZONE tz;
    refusal := voxanne_booking_refusal(org, tz, hours, closed, s.duration_minutes, want, NULL);
    IF refusal IS NULL THEN
      RETURN QUERY SELECT true, format('%s is available for %s (%s minutes, %s).',
                                       voxanne_booking_when(want, tz), s.name, s.duration_minutes,
                                       voxanne_booking_price(s.price, org));
      RETURN;
    END IF;
    RETURN QUERY SELECT false, refusal;
    RETURN;
  END IF;

  IF last_day < first_day OR last_day > first_day + 13 THEN
    RETURN QUERY SELECT false, 'Ask for up to two weeks at a time, the end date after the first.';
    RETURN;
  END IF;

  IF coalesce(last_day, first_day) < (now() AT TIME ZONE tz)::date THEN
    RETURN QUERY SELECT false, 'That date has already passed.';
    RETURN;
  END IF;

  SELECT string_agg(t.day || ': ' || t.times, '; ' ORDER BY t.first)
  INTO slots
  FROM (SELECT voxanne_booking_day(d::date) AS day, min(x.at) AS first,
               string_agg(voxanne_booking_time(x.at, tz), ', ' ORDER BY x.at) AS times
        FROM generate_series(first_day, coalesce(last_day, first_day), interval '1 day') AS d,
             LATERAL (SELECT at FROM voxanne_booking_slots(org, tz, hours, closed,
                                                           s.duration_minutes, d::date, NULL) AS at
                      LIMIT 8) AS x
        GROUP BY d) AS t;

  IF slots IS NULL THEN
    RETURN QUERY SELECT false, format('No open times for %s then. ', s.name)
                 || coalesce('The nearest open times are ' || voxanne_booking_nearest(org, tz,
                                hours, closed, s.duration_minutes,
                                greatest(voxanne_booking_at(coalesce(last_day, first_day) + 1, 0, tz),
                                         now()), NULL) || '.',
                             'There are no open times in the next two weeks.');
    RETURN;
  END IF;

  RETURN QUERY SELECT true, format('Open times for %s (%s minutes, %s): %s.', s.name,
                                   s.duration_minutes, voxanne_booking_price(s.price, org), slots);
END
$$;


-- book_appointment(service, start, name, [phone], [email])
CREATE FUNCTION voxanne_tool_book_appointment(org uuid, channel text, call text,
    tool_call text, caller text, tz text, hours integer[], closed integer[],
    wanted text, local_start timestamp, who text, phone text, mail text)
RETURNS TABLE (ok boolean, result text) LANGUAGE plpgsql
SET jit = off AS $$
DECLARE
  s services;
  a appointments;
  call_uuid uuid;
  number text;
  starts timestamptz;
  key text;
  refusal text;
  booked text;
  inserted boolean := false;
BEGIN
  call_uuid := voxanne_booking_call(org, channel, call, caller);
  number := voxanne_booking_phone(phone, caller, call_uuid);
  s := voxanne_booking_service(org, wanted);
  starts := local_start AT TIME ZONE tz;

  IF number IS NULL THEN
    refusal := 'I need a phone number in international format, like +15551234567, to book.';
  ELSIF s.id IS NULL THEN
    refusal := voxanne_booking_no_service(org, wanted);
  END IF;

  -- a retry of this booking (same call, service, time and number) finds it
  key := coalesce(nullif(call, ''), tool_call) || ':'
         || md5(concat_ws('|', s.id, local_start, number));

  IF refusal IS NULL THEN
    SELECT * INTO a FROM appointments x WHERE x.org_id = org AND x.idempotency_key = key;
    IF a.id IS NULL THEN
      refusal := voxanne_booking_refusal(org, tz, hours, closed, s.duration_minutes, starts, NULL);
    END IF;
  END IF;

  IF refusal IS NULL AND a.id IS NULL THEN
    BEGIN
      INSERT INTO appointments (org_id, contact_id, service_id, call_id, starts_at, ends_at,
                                idempotency_key)
      VALUES (org, voxanne_booking_contact(org, number, who, mail), s.id, call_uuid, starts,
              starts + make_interval(mins => s.duration_minutes), key)
      RETURNING * INTO a;
      inserted := true;
    EXCEPTION WHEN exclusion_violation OR unique_violation THEN
      -- another booking took the slot first, or this one's retry did
      SELECT * INTO a FROM appointments x WHERE x.org_id = org AND x.idempotency_key = key;
      IF a.id IS NULL THEN
        refusal := 'That time was just taken. ' || coalesce('The nearest open times are '
                   || voxanne_booking_nearest(org, tz, hours, closed, s.duration_minutes, starts,
                                              NULL) || '.',
                   'There are no open times in the next two weeks.');
      END IF;
    END;

    -- the first booking records the event; a retry finds it recorded
    IF inserted THEN
      PERFORM voxanne_booking_event(org, call_uuid, tool_call,
        jsonb_build_object('name', 'book_appointment', 'ok', true, 'outcome', 'booked',
                           'appointment_id', a.id, 'service_id', s.id, 'value', s.price));
    END IF;
  END IF;

  IF refusal IS NOT NULL THEN
    PERFORM voxanne_booking_event(org, call_uuid, tool_call,
      jsonb_build_object('name', 'book_appointment', 'ok', false));
    RETURN QUERY SELECT false, refusal;
    RETURN;
  END IF;

  SELECT format('Booked: %s for %s on %s (%s minutes, %s).', s.name,
                coalesce(c.name, c.phone), voxanne_booking_when(a.starts_at, tz),
                s.duration_minutes, voxanne_booking_price(s.price, org))
  INTO booked
  FROM contacts c WHERE c.id = a.contact_id;

  RETURN QUERY SELECT true, booked;
END
$$;


-- reschedule_appointment(start, [phone], [date]): the caller's next
-- appointment (on date, when given) moves to start.
CREATE FUNCTION voxanne_tool_reschedule_appointment(org uuid, channel text, call text,
    tool_call text, caller text, tz text, hours integer[], closed integer[],
    local_start timestamp, phone text, day date)
RETURNS TABLE (ok boolean, result text) LANGUAGE plpgsql
SET jit = off AS $$
DECLARE
  s services;
  a appointments;
  call_uuid uuid;
  number text;
  starts timestamptz;
  was timestamptz;
  refusal text;
BEGIN
  call_uuid := voxanne_booking_call(org, channel, call, caller);
  number := voxanne_booking_phone(phone, caller, call_uuid);
  starts := local_start AT TIME ZONE tz;

  IF number IS NULL THEN
    refusal := 'I need the phone number the appointment was booked with.';
  ELSE
    a := voxanne_booking_next(org, number, tz, day);
    IF a.id IS NULL THEN
      refusal := 'I found no upcoming appointment for that phone number'
                 || CASE WHEN day IS NULL THEN '.' ELSE ' on ' || voxanne_booking_day(day) || '.' END;
    END IF;
  END IF;

  IF refusal IS NULL THEN
    SELECT * INTO s FROM services x WHERE x.id = a.service_id;
    was := a.starts_at;
    IF was <> starts THEN
      refusal := voxanne_booking_refusal(org, tz, hours, closed, s.duration_minutes, starts, a.id);
    END IF;
  END IF;

  IF refusal IS NULL AND was <> starts THEN
    BEGIN
      UPDATE appointments x
      SET starts_at = starts, ends_at = starts + make_interval(mins => s.duration_minutes)
      WHERE x.id = a.id;
    EXCEPTION WHEN exclusion_violation THEN
      refusal := 'That time was just taken. ' || coalesce('The nearest open times are '
                 || voxanne_booking_nearest(org, tz, hours, closed, s.duration_minutes, starts,
                                            a.id) || '.',
                 'There are no open times in the next two weeks.');
    END;
  END IF;

  IF refusal IS NOT NULL THEN
    PERFORM voxanne_booking_event(org, call_uuid, tool_call,
      jsonb_build_object('name', 'reschedule_appointment', 'ok', false));
    RETURN QUERY SELECT false, refusal;
    RETURN;
  END IF;

  PERFORM voxanne_booking_event(org, call_uuid, tool_call,
    jsonb_build_object('name', 'reschedule_appointment', 'ok', true, 'outcome', 'rescheduled',
                       'appointment_id', a.id, 'service_id', s.id));

  RETURN QUERY SELECT true, format('Rescheduled: %s from %s to %s.', s.name,
                                   voxanne_booking_when(was, tz), voxanne_booking_when(starts, tz));
END
$$;


-- cancel_appointment([phone], [date]): the caller's next appointment (on
-- date, when given).
CREATE FUNCTION voxanne_tool_cancel_appointment(org uuid, channel text, call text,
    tool_call text, caller text, tz text, hours integer[], closed integer[],
    phone text, day date)
RETURNS TABLE (ok boolean, result text) LANGUAGE plpgsql
SET jit = off AS $$
DECLARE
  a appointments;
  call_uuid uuid;
  number text;
  name text;
BEGIN
  call_uuid := voxanne_booking_call(org, channel, call, caller);
  number := voxanne_booking_phone(phone, caller, call_uuid);

  IF number IS NOT NULL THEN
    a := voxanne_booking_next(org, number, tz, day);
  END IF;

  IF a.id IS NULL THEN
    PERFORM voxanne_booking_event(org, call_uuid, tool_call,
      jsonb_build_object('name', 'cancel_appointment', 'ok', false));
    RETURN QUERY SELECT false,
      CASE WHEN number IS NULL THEN 'I need the phone number the appointment was booked with.'
           ELSE 'I found no upcoming appointment for that phone number'
                || CASE WHEN day IS NULL THEN '.' ELSE ' on ' || voxanne_booking_day(day) || '.' END
      END;
    RETURN;
  END IF;

  UPDATE appointments x SET status = 'cancelled' WHERE x.id = a.id;

  PERFORM voxanne_booking_event(org, call_uuid, tool_call,
    jsonb_build_object('name', 'cancel_appointment', 'ok', true, 'outcome', 'cancelled',
                       'appointment_id', a.id, 'service_id', a.service_id));

  SELECT s.name INTO name FROM services s WHERE s.id = a.service_id;

  RETURN QUERY SELECT true, format('Cancelled: %s on %s.', name,
                                   voxanne_booking_when(a.starts_at, tz));
END
$$;


-- find_customer([phone]): who calls, and their upcoming appointments.
CREATE FUNCTION voxanne_tool_find_customer(org uuid, channel text, call text,
    tool_call text, caller text, tz text, hours integer[], closed integer[],
    phone text)
RETURNS TABLE (ok boolean, result text) LANGUAGE plpgsql
SET jit = off AS $$
DECLARE
  number text;
  c contacts;
  upcoming text;
BEGIN
  number := voxanne_booking_phone(phone, caller,
    (SELECT x.id FROM calls x
     WHERE x.org_id = org
       AND CASE voxanne_tool_find_customer.channel
           WHEN 'vapi' THEN x.vapi_call_id = voxanne_tool_find_customer.call
           ELSE x.call_sid = voxanne_tool_find_customer.call END));
  IF number IS NULL THEN
    RETURN QUERY SELECT false, 'I need a phone number in international format, like +15551234567.';
    RETURN;
  END IF;

  SELECT * INTO c FROM contacts x WHERE x.org_id = org AND x.phone = number;
  IF c.id IS NULL THEN
    RETURN QUERY SELECT true, format('No customer on file for %s: a new caller.', number);
    RETURN;
  END IF;

  SELECT string_agg(s.name || ' on ' || voxanne_booking_when(a.starts_at, tz), '; '
                    ORDER BY a.starts_at)
  INTO upcoming
  FROM appointments a JOIN services s ON s.id = a.service_id
  WHERE a.org_id = org AND a.contact_id = c.id AND a.status IN ('booked', 'confirmed')
    AND a.starts_at > now();

  RETURN QUERY SELECT true, format('%s, %s. %s', coalesce(c.name, 'Name not on file'), c.phone,
                                   coalesce('Upcoming: ' || upcoming || '.',
                                            'No upcoming appointments.'));
END
$$;


-- list_services()
CREATE FUNCTION voxanne_tool_list_services(org uuid, channel text, call text,
    tool_call text, caller text, tz text, hours integer[], closed integer[])
RETURNS TABLE (ok boolean, result text) LANGUAGE sql STABLE
SET jit = off AS $$
  SELECT count(*) > 0,
         coalesce('We offer: ' || string_agg(format('%s (%s minutes, %s)', s.name,
                                                    s.duration_minutes,
                                                    voxanne_booking_price(s.price, org)),
                                             '; ' ORDER BY s.name) || '.',
                  'No services are set up for booking.')
  FROM services s
  WHERE s.org_id = org AND s.active
$$;


-- schedule_callback(when, reason, [phone]): a call event and a note on
-- the contact.
CREATE FUNCTION voxanne_tool_schedule_callback(org uuid, channel text, call text,
    tool_call text, caller text, tz text, hours integer[], closed integer[],
    at_when text, reason text, phone text)
RETURNS TABLE (ok boolean, result text) LANGUAGE plpgsql
SET jit = off AS $$
DECLARE
  call_uuid uuid;
  number text;
  contact uuid;
BEGIN
  call_uuid := voxanne_booking_call(org, channel, call, caller);
  number := voxanne_booking_phone(phone, caller, call_uuid);

  IF number IS NULL THEN
    PERFORM voxanne_booking_event(org, call_uuid, tool_call,
      jsonb_build_object('name', 'schedule_callback', 'ok', false));
    RETURN QUERY SELECT false, 'I need a phone number in international format, like +15551234567, '
                               'to call back.';
    RETURN;
  END IF;

  contact := voxanne_booking_contact(org, number, NULL, NULL);

  UPDATE contacts x
  SET notes = concat_ws(E'\n', nullif(x.notes, ''),
                        format('Callback requested %s: %s (%s)',
                               to_char(now() AT TIME ZONE tz, 'YYYY-MM-DD HH24:MI'), at_when, reason))
  WHERE x.id = contact;

  PERFORM voxanne_booking_event(org, call_uuid, tool_call,
    jsonb_build_object('name', 'schedule_callback', 'ok', true, 'outcome', 'callback',
                       'when', at_when, 'reason', reason, 'phone', number));

  RETURN QUERY SELECT true, format('Callback request noted: we will call %s %s about %s.', number,
                                   at_when, reason);
END
$$;

