-- 001_core: tenants, their phone numbers, agents, calls and call events.
--
-- Tenant isolation is row-level security keyed on the session setting
-- app.org_id (SET app.org_id = '<uuid>'); unset, empty or malformed means no
-- rows. RLS is FORCEd so the table owner is subject to it too; superusers and
-- BYPASSRLS roles are not. The application connects as (or SET ROLE to)
-- voxanne_app, a plain role. Before the tenant is known, the gateway maps the
-- dialled number with voxanne_resolve_number(), a SECURITY DEFINER function
-- owned by the migration user, which therefore must be superuser or BYPASSRLS
-- (checked below).

DO $$
BEGIN
  IF NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'run migrations as a superuser or BYPASSRLS role (voxanne_resolve_number needs it)';
  END IF;
END
$$;

-- Roles are cluster-wide: another database may already have it, or be
-- creating it right now (the unique_violation race).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'voxanne_app') THEN
    CREATE ROLE voxanne_app NOLOGIN;
  END IF;
EXCEPTION
  WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

-- The current tenant, or NULL when app.org_id is not a valid uuid.
CREATE FUNCTION voxanne_current_org() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN s ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' THEN s::uuid END
  FROM (SELECT current_setting('app.org_id', true) AS s) AS setting
$$;

CREATE FUNCTION voxanne_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TABLE organizations (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL,
  timezone   text NOT NULL DEFAULT 'UTC',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agents (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id       uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  name         text NOT NULL,
  instructions text NOT NULL DEFAULT '',
  voice        text,            -- NULL: the gateway's default voice
  greeting     text,            -- NULL: no scripted greeting
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id, org_id)           -- target of same-tenant foreign keys
);

CREATE TABLE phone_numbers (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id     uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  number     text NOT NULL UNIQUE
             CONSTRAINT phone_numbers_number_e164 CHECK (number ~ '^\+[1-9][0-9]{6,14}$'),
  agent_id   uuid,              -- the agent answering this number
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (agent_id, org_id) REFERENCES agents (id, org_id) ON DELETE SET NULL (agent_id)
);

-- status is Twilio's CallStatus. outcome is what the conversation achieved,
-- NULL until known: booked / rescheduled / cancelled (an appointment),
-- transferred (to a human), voicemail (message left), resolved (answered
-- without booking), abandoned (caller hung up first), failed (our error).
-- Unanswered calls (busy, no-answer, ...) show in status, not outcome.
CREATE TABLE calls (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  call_sid         text NOT NULL UNIQUE
                   CONSTRAINT calls_call_sid_format CHECK (call_sid ~ '^CA[0-9a-f]{32}$'),
  org_id           uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  from_number      text NOT NULL, -- as Twilio sends it: may be 'anonymous', sip:, client:
  to_number        text NOT NULL,
  direction        text NOT NULL
                   CHECK (direction IN ('inbound', 'outbound-api', 'outbound-dial')),
  status           text NOT NULL
                   CHECK (status IN ('queued', 'initiated', 'ringing', 'in-progress', 'completed',
                                     'busy', 'failed', 'no-answer', 'canceled')),
  started_at       timestamptz,
  answered_at      timestamptz,
  ended_at         timestamptz,
  duration_seconds integer CHECK (duration_seconds >= 0),
  outcome          text CHECK (outcome IN ('booked', 'rescheduled', 'cancelled', 'transferred',
                                           'voicemail', 'resolved', 'abandoned', 'failed')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (id, org_id)
);

CREATE TABLE call_events (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  call_id    uuid,              -- NULL for tenant-level events
  org_id     uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  type       text NOT NULL,
  payload    jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (call_id, org_id) REFERENCES calls (id, org_id) ON DELETE CASCADE
);

CREATE INDEX calls_org_created_idx ON calls (org_id, created_at DESC);
CREATE INDEX calls_org_status_idx ON calls (org_id, status);
CREATE INDEX call_events_call_created_idx ON call_events (call_id, created_at);
CREATE INDEX call_events_org_idx ON call_events (org_id);
CREATE INDEX phone_numbers_org_idx ON phone_numbers (org_id);
CREATE INDEX agents_org_idx ON agents (org_id);

CREATE TRIGGER agents_touch_updated_at BEFORE UPDATE ON agents
  FOR EACH ROW EXECUTE FUNCTION voxanne_touch_updated_at();
CREATE TRIGGER calls_touch_updated_at BEFORE UPDATE ON calls
  FOR EACH ROW EXECUTE FUNCTION voxanne_touch_updated_at();

-- A policy's USING clause also serves as its WITH CHECK: rows can only be
-- written for the current tenant.
ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON organizations USING (id = voxanne_current_org());

ALTER TABLE agents ENABLE ROW LEVEL SECURITY;
ALTER TABLE agents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON agents USING (org_id = voxanne_current_org());

ALTER TABLE phone_numbers ENABLE ROW LEVEL SECURITY;
ALTER TABLE phone_numbers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON phone_numbers USING (org_id = voxanne_current_org());

ALTER TABLE calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE calls FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON calls USING (org_id = voxanne_current_org());

ALTER TABLE call_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE call_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON call_events USING (org_id = voxanne_current_org());

-- Tenant lookup by dialled number, across tenants (bypasses RLS as its owner).
CREATE FUNCTION voxanne_resolve_number(dialled text)
RETURNS TABLE (org_id uuid, org_name text, timezone text, phone_number_id uuid, agent_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT o.id, o.name, o.timezone, p.id, p.agent_id
  FROM phone_numbers p
  JOIN organizations o ON o.id = p.org_id
  WHERE p.number = dialled
$$;
REVOKE EXECUTE ON FUNCTION voxanne_resolve_number(text) FROM PUBLIC;

GRANT USAGE ON SCHEMA public TO voxanne_app;
GRANT SELECT, INSERT, UPDATE, DELETE
  ON organizations, agents, phone_numbers, calls, call_events TO voxanne_app;
GRANT EXECUTE ON FUNCTION voxanne_resolve_number(text) TO voxanne_app;
