-- 003_call_data: what calls produce and what the receptionist's tools work
-- on: the end of a call (recording, transfer, value, Vapi's report), events
-- and transcript turns with natural keys (a replayed write lands exactly
-- once), contacts, services, appointments (never two at once for a tenant)
-- and the audit of outbound messages.
--
-- Same rules as 001 and 002: org-owned, org_id in every foreign key, row-
-- level security enabled and forced.

CREATE EXTENSION IF NOT EXISTS btree_gist;   -- uuid = in the appointments exclusion

CREATE TABLE contacts (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id            uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  phone             text NOT NULL CONSTRAINT contacts_phone_e164 CHECK (voxanne_is_e164(phone)),
  name              text,
  email             text CONSTRAINT contacts_email_format CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  lead_status       text NOT NULL DEFAULT 'new'
                    CHECK (lead_status IN ('new', 'contacted', 'booked', 'lost')),
  last_contacted_at timestamptz,
  notes             text NOT NULL DEFAULT '',
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, phone),
  UNIQUE (id, org_id)
);

-- keywords are lowercase words matched against transcripts when a call
-- booked nothing (its financial_value)
CREATE TABLE services (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id           uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  name             text NOT NULL
                   CONSTRAINT services_name_length CHECK (length(btrim(name)) BETWEEN 1 AND 100),
  price            numeric(12, 2) NOT NULL DEFAULT 0 CHECK (price >= 0),
  duration_minutes integer NOT NULL
                   CONSTRAINT services_duration_range CHECK (duration_minutes BETWEEN 1 AND 1440),
  keywords         text[] NOT NULL DEFAULT '{}'
                   CONSTRAINT services_keywords_lowercase
                   CHECK (keywords::text = lower(keywords::text) AND array_position(keywords, NULL) IS NULL),
  active           boolean NOT NULL DEFAULT true,   -- inactive: not offered, old bookings kept
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id, org_id)
);

-- names are unique per tenant whatever their case and outer spaces
CREATE UNIQUE INDEX services_org_name_key ON services (org_id, lower(btrim(name)));
CREATE INDEX services_keywords_idx ON services USING gin (keywords);

-- The end of a call. channel says how it came in: a Twilio call has its
-- CallSid, a Vapi call its Vapi id (and the CallSid too when Vapi reports
-- it). transfer_to is E.164 or a SIP URI; cost is what the provider
-- charged, in USD; financial_value is in the organization's currency.
-- outcome keeps 001's list (booked, rescheduled, cancelled, transferred,
-- voicemail, resolved, abandoned, failed).
ALTER TABLE calls
  ALTER COLUMN call_sid DROP NOT NULL,
  ADD COLUMN channel text NOT NULL DEFAULT 'twilio' CHECK (channel IN ('twilio', 'vapi')),
  ADD COLUMN vapi_call_id text
    CONSTRAINT calls_vapi_call_id_format CHECK (vapi_call_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  ADD COLUMN agent_id uuid,
  ADD COLUMN contact_id uuid,
  ADD COLUMN recording_url text CONSTRAINT calls_recording_url_format CHECK (recording_url ~ '^https?://'),
  ADD COLUMN recording_sid text CONSTRAINT calls_recording_sid_format CHECK (recording_sid ~ '^RE[0-9a-f]{32}$'),
  ADD COLUMN recording_duration_seconds integer CHECK (recording_duration_seconds >= 0),
  ADD COLUMN transfer_to text
    CONSTRAINT calls_transfer_to_format CHECK (voxanne_is_e164(transfer_to) OR transfer_to ~ '^sips?:'),
  ADD COLUMN transfer_reason text,
  ADD COLUMN financial_value numeric(12, 2)
    CONSTRAINT calls_financial_value_check CHECK (financial_value >= 0),
  ADD COLUMN ended_reason text,     -- Vapi's endedReason, or the gateway's own
  ADD COLUMN summary text,
  ADD COLUMN cost numeric(12, 4) CHECK (cost >= 0),
  ADD CONSTRAINT calls_channel_id
    CHECK (CASE channel WHEN 'twilio' THEN call_sid IS NOT NULL ELSE vapi_call_id IS NOT NULL END),
  ADD CONSTRAINT calls_org_vapi_call_id_key UNIQUE (org_id, vapi_call_id),
  ADD FOREIGN KEY (agent_id, org_id) REFERENCES agents (id, org_id) ON DELETE SET NULL (agent_id),
  ADD FOREIGN KEY (contact_id, org_id) REFERENCES contacts (id, org_id) ON DELETE SET NULL (contact_id);

CREATE INDEX calls_contact_idx ON calls (contact_id);
CREATE INDEX calls_agent_idx ON calls (agent_id);

-- event_key is the event's natural key within its call (or within the
-- tenant for call_id NULL), chosen by the writer from the event itself:
-- 'status:<SequenceNumber>', 'stream:start', 'tool:<tool call id>', ... A
-- write replayed from the spool with ON CONFLICT DO NOTHING lands once.
-- created_at is when the event happened (the writer sets it: a replay is
-- later), so it orders a call's events. Events of 001 get 'id:<id>'.
ALTER TABLE call_events ADD COLUMN event_key text;
UPDATE call_events SET event_key = 'id:' || id;
ALTER TABLE call_events
  ALTER COLUMN event_key SET NOT NULL,
  ADD CONSTRAINT call_events_event_key_length CHECK (length(event_key) BETWEEN 1 AND 200),
  ADD CONSTRAINT call_events_natural_key UNIQUE NULLS NOT DISTINCT (org_id, call_id, event_key);

-- One row per turn; seq numbers a call's turns from 0 (the realtime
-- bridge counts them, a Vapi report gives them in order), so a replayed
-- turn lands once. The writer redacts card and social security numbers
-- before it stores text.
CREATE TABLE transcripts (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  org_id     uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  call_id    uuid NOT NULL,
  seq        integer NOT NULL CHECK (seq >= 0),
  role       text NOT NULL CHECK (role IN ('caller', 'agent', 'tool')),
  text       text NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at   timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT transcripts_ends_after_start CHECK (ended_at >= started_at),
  UNIQUE (call_id, seq),
  FOREIGN KEY (call_id, org_id) REFERENCES calls (id, org_id) ON DELETE CASCADE
);

-- Appointments of one tenant never overlap while booked or confirmed,
-- including the tenant's buffer after each: blocked_until is ends_at plus
-- organizations.buffer_minutes, set by a trigger when the times are written.
-- Cancelled, completed and no-show appointments block nothing.
-- idempotency_key, per tenant, makes a retried booking (same call, same
-- arguments) find the first one instead of booking twice.
CREATE TABLE appointments (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id          uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  contact_id      uuid NOT NULL,
  service_id      uuid NOT NULL,
  call_id         uuid,            -- the call that booked it
  starts_at       timestamptz NOT NULL,
  ends_at         timestamptz NOT NULL,
  blocked_until   timestamptz NOT NULL,
  status          text NOT NULL DEFAULT 'booked'
                  CHECK (status IN ('booked', 'confirmed', 'completed', 'cancelled', 'no_show')),
  idempotency_key text
                  CONSTRAINT appointments_idempotency_key_length
                  CHECK (length(idempotency_key) BETWEEN 1 AND 200),
  notes           text NOT NULL DEFAULT '',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT appointments_ends_after_start CHECK (ends_at > starts_at),
  CONSTRAINT appointments_blocked_after_end CHECK (blocked_until >= ends_at),
  CONSTRAINT appointments_no_overlap EXCLUDE USING gist
    (org_id WITH =, tstzrange(starts_at, blocked_until) WITH &&)
    WHERE (status IN ('booked', 'confirmed')),
  UNIQUE (org_id, idempotency_key),
  FOREIGN KEY (contact_id, org_id) REFERENCES contacts (id, org_id),
  FOREIGN KEY (service_id, org_id) REFERENCES services (id, org_id),
  FOREIGN KEY (call_id, org_id) REFERENCES calls (id, org_id) ON DELETE SET NULL (call_id)
);

CREATE FUNCTION voxanne_appointment_blocked_until() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.blocked_until := NEW.ends_at + make_interval(mins => coalesce(
    (SELECT o.buffer_minutes FROM organizations o WHERE o.id = NEW.org_id), 0));
  RETURN NEW;
END
$$;

CREATE TRIGGER appointments_blocked_until BEFORE INSERT OR UPDATE OF starts_at, ends_at
  ON appointments FOR EACH ROW EXECUTE FUNCTION voxanne_appointment_blocked_until();

CREATE INDEX appointments_org_starts_idx ON appointments (org_id, starts_at);
CREATE INDEX appointments_contact_idx ON appointments (contact_id);
CREATE INDEX appointments_service_idx ON appointments (service_id);
CREATE INDEX appointments_call_idx ON appointments (call_id);

-- Every SMS and email the gateway sends (and replies it receives): who to,
-- what, through which provider, and what became of it. The provider's id
-- (Twilio's SM..., an email message id) is unique per tenant and provider,
-- so status callbacks and replays find their row.
CREATE TABLE messages (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id      uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  call_id     uuid,
  contact_id  uuid,
  direction   text NOT NULL DEFAULT 'outbound' CHECK (direction IN ('outbound', 'inbound')),
  method      text NOT NULL CHECK (method IN ('sms', 'email')),
  recipient   text NOT NULL,
  sender      text,
  subject     text,
  content     text NOT NULL,
  status      text NOT NULL DEFAULT 'queued'
              CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed',
                                'received')),
  provider    text NOT NULL CONSTRAINT messages_provider_format CHECK (provider ~ '^[a-z][a-z0-9_-]{0,31}$'),
  external_id text,
  error       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT messages_recipient_format
    CHECK (CASE method WHEN 'sms' THEN voxanne_is_e164(recipient)
                       ELSE recipient ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' END),
  UNIQUE (org_id, provider, external_id),
  FOREIGN KEY (call_id, org_id) REFERENCES calls (id, org_id) ON DELETE SET NULL (call_id),
  FOREIGN KEY (contact_id, org_id) REFERENCES contacts (id, org_id) ON DELETE SET NULL (contact_id)
);

CREATE INDEX messages_org_created_idx ON messages (org_id, created_at DESC);
CREATE INDEX messages_call_idx ON messages (call_id);
CREATE INDEX messages_contact_idx ON messages (contact_id);

-- row-level security, and updated_at kept by a trigger
CALL voxanne_org_table('contacts', touch => true);
CALL voxanne_org_table('services', touch => true);
CALL voxanne_org_table('transcripts', touch => false);
CALL voxanne_org_table('appointments', touch => true);
CALL voxanne_org_table('messages', touch => true);

GRANT SELECT, INSERT, UPDATE, DELETE
  ON contacts, services, transcripts, appointments, messages TO voxanne_app;
