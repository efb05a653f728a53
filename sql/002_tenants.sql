-- 002_tenants: what the gateway needs to build a tenant from the database
-- (the voxanne_tenant block of nginx.conf, column by column), a tenant's
-- provider credentials (sealed with AES-256-GCM, never in clear), the tools
-- its agents may use, and the caller ids and call forwarding of hybrid
-- telephony (a clinic keeps its own number and forwards to ours).
--
-- Every table is org-owned under the same row-level security policy as
-- 001, and every foreign key carries org_id, so no row can point at another
-- tenant's.

-- An org-owned table as in 001: row-level security enabled, forced (the
-- owner is subject to it too) with one policy on org_id, and with touch,
-- the trigger that keeps updated_at.
CREATE PROCEDURE voxanne_org_table(tbl regclass, touch boolean)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (org_id = voxanne_current_org())', tbl);
  IF touch THEN
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %s'
                   ' FOR EACH ROW EXECUTE FUNCTION voxanne_touch_updated_at()',
                   tbl::text || '_touch_updated_at', tbl);
  END IF;
END
$$;
REVOKE EXECUTE ON PROCEDURE voxanne_org_table(regclass, boolean) FROM PUBLIC;

-- E.164, as phone_numbers checks it in 001
CREATE FUNCTION voxanne_is_e164(number text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT number ~ '^\+[1-9][0-9]{6,14}$'
$$;

-- The voxanne_tenant directives, for tenants kept in PostgreSQL (see
-- docs/database.md for the mapping). An organization is a gateway tenant
-- when it has a slug and a public_url; its numbers are its phone_numbers,
-- its Twilio auth token is the org_credentials row (twilio, auth_token).
ALTER TABLE organizations
  ADD COLUMN slug text UNIQUE
    CONSTRAINT organizations_slug_format CHECK (slug ~ '^[A-Za-z0-9_-]{1,64}$'),
  ADD COLUMN twilio_account_sid text
    CONSTRAINT organizations_twilio_account_sid_format
    CHECK (twilio_account_sid ~ '^AC[0-9a-f]{32}$'),
  ADD COLUMN public_url text
    CONSTRAINT organizations_public_url_format
    CHECK (public_url ~ '^https?://([a-z0-9-]+(\.[a-z0-9-]+)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$'),
  -- voxanne_tenant's syntax, 'mon-fri 09:00-17:00, sat 10:00-14:00'; NULL: always open
  ADD COLUMN hours text
    CONSTRAINT organizations_hours_format
    CHECK (hours ~ ('^\s*((mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?'
                    '(,(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?)*,?'
                    '(\s+([01][0-9]|2[0-4]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9],?)+\s*)+$')),
  ADD COLUMN closed_dates date[] NOT NULL DEFAULT '{}',
  ADD COLUMN max_calls integer NOT NULL DEFAULT 0 CHECK (max_calls >= 0),
  ADD COLUMN busy_action text NOT NULL DEFAULT 'say' CHECK (busy_action IN ('say', 'reject')),
  ADD COLUMN after_hours_action text NOT NULL DEFAULT 'voicemail'
    CHECK (after_hours_action IN ('voicemail', 'hangup', 'dial')),
  ADD COLUMN after_hours_number text,
  ADD COLUMN fallback_action text NOT NULL DEFAULT 'hangup'
    CHECK (fallback_action IN ('voicemail', 'hangup', 'dial')),
  ADD COLUMN fallback_number text,
  ADD COLUMN voicemail_greeting text,
  -- not in nginx.conf: the minutes kept free after each appointment, and
  -- the currency of service prices and call values
  ADD COLUMN buffer_minutes integer NOT NULL DEFAULT 0
    CONSTRAINT organizations_buffer_minutes_range CHECK (buffer_minutes BETWEEN 0 AND 240),
  ADD COLUMN currency text NOT NULL DEFAULT 'USD'
    CONSTRAINT organizations_currency_format CHECK (currency ~ '^[A-Z]{3}$'),
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
  -- an E.164 number exactly when the action is dial (NULL passes a CHECK)
  ADD CONSTRAINT organizations_after_hours_number
    CHECK ((after_hours_action = 'dial') = (after_hours_number IS NOT NULL)
           AND voxanne_is_e164(after_hours_number)),
  ADD CONSTRAINT organizations_fallback_number
    CHECK ((fallback_action = 'dial') = (fallback_number IS NOT NULL)
           AND voxanne_is_e164(fallback_number));

CREATE TRIGGER organizations_touch_updated_at BEFORE UPDATE ON organizations
  FOR EACH ROW EXECUTE FUNCTION voxanne_touch_updated_at();

-- target of same-tenant foreign keys to a number (hybrid forwarding)
ALTER TABLE phone_numbers ADD CONSTRAINT phone_numbers_number_org_key UNIQUE (number, org_id);

-- Provider secrets, sealed by scripts/credential (voxanne-credential) or the
-- gateway: AES-256-GCM under the key of the gateway's key file (key_id is
-- its fingerprint), with the org id, provider and name as associated data,
-- so a row copied to another tenant does not decrypt.
CREATE TABLE org_credentials (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id     uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  provider   text NOT NULL
             CONSTRAINT org_credentials_provider_format CHECK (provider ~ '^[a-z][a-z0-9_-]{0,31}$'),
  name       text NOT NULL
             CONSTRAINT org_credentials_name_format CHECK (name ~ '^[a-z][a-z0-9_.-]{0,63}$'),
  key_id     text NOT NULL
             CONSTRAINT org_credentials_key_id_format CHECK (key_id ~ '^[0-9a-f]{16}$'),
  nonce      bytea NOT NULL
             CONSTRAINT org_credentials_nonce_length CHECK (octet_length(nonce) = 12),
  ciphertext bytea NOT NULL
             CONSTRAINT org_credentials_ciphertext_length
             CHECK (octet_length(ciphertext) BETWEEN 1 AND 4096),
  tag        bytea NOT NULL
             CONSTRAINT org_credentials_tag_length CHECK (octet_length(tag) = 16),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, provider, name)
);

-- The tools an organization's agents may call, and their settings: a row
-- for an agent overrides the organization's row (agent_id NULL), which
-- overrides the gateway's default for the tool.
CREATE TABLE org_tools (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id     uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  agent_id   uuid,
  tool       text NOT NULL CONSTRAINT org_tools_tool_format CHECK (tool ~ '^[a-z][a-z0-9_]{0,63}$'),
  enabled    boolean NOT NULL DEFAULT true,
  config     jsonb NOT NULL DEFAULT '{}'
             CONSTRAINT org_tools_config_object CHECK (jsonb_typeof(config) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (org_id, agent_id, tool),
  FOREIGN KEY (agent_id, org_id) REFERENCES agents (id, org_id) ON DELETE CASCADE
);

-- Numbers a tenant proved it owns (a code sent by call or SMS and typed
-- back) before calls from or forwarded by them are trusted. Only a hash of
-- the code is stored: HMAC-SHA256 under a gateway key, 32 bytes; attempts
-- counts wrong codes and cannot pass 5.
CREATE TABLE verified_caller_ids (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id      uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  number      text NOT NULL
              CONSTRAINT verified_caller_ids_number_e164 CHECK (voxanne_is_e164(number)),
  code_hash   bytea
              CONSTRAINT verified_caller_ids_code_hash_length CHECK (octet_length(code_hash) = 32),
  attempts    integer NOT NULL DEFAULT 0
              CONSTRAINT verified_caller_ids_attempts_limit CHECK (attempts BETWEEN 0 AND 5),
  expires_at  timestamptz,
  verified_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  -- a pending code always expires
  CONSTRAINT verified_caller_ids_code_expires CHECK (code_hash IS NULL OR expires_at IS NOT NULL),
  UNIQUE (org_id, number),
  UNIQUE (id, org_id)
);

-- How a verified number forwards to one of the tenant's own numbers: all
-- calls (total) or when busy, unanswered or unreachable (conditional,
-- after ring_seconds), set up on the carrier's side.
CREATE TABLE hybrid_forwarding_configs (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id             uuid NOT NULL REFERENCES organizations ON DELETE CASCADE,
  verified_caller_id uuid NOT NULL,
  forwarding_type    text NOT NULL CHECK (forwarding_type IN ('total', 'conditional')),
  carrier            text NOT NULL
                     CONSTRAINT hybrid_forwarding_configs_carrier_format
                     CHECK (carrier ~ '^[a-z0-9][a-z0-9_-]{0,31}$'),
  destination        text NOT NULL
                     CONSTRAINT hybrid_forwarding_configs_destination_e164
                     CHECK (voxanne_is_e164(destination)),
  ring_seconds       integer
                     CONSTRAINT hybrid_forwarding_configs_ring_seconds_range
                     CHECK (ring_seconds BETWEEN 5 AND 60),
  status             text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'active', 'disabled', 'failed')),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, verified_caller_id),
  FOREIGN KEY (verified_caller_id, org_id) REFERENCES verified_caller_ids (id, org_id)
    ON DELETE CASCADE,
  -- the destination is one of this tenant's numbers
  FOREIGN KEY (destination, org_id) REFERENCES phone_numbers (number, org_id)
);

CREATE INDEX org_tools_agent_idx ON org_tools (agent_id);
CREATE INDEX hybrid_forwarding_configs_caller_idx ON hybrid_forwarding_configs (verified_caller_id);
CREATE INDEX hybrid_forwarding_configs_destination_idx ON hybrid_forwarding_configs (destination);

-- row-level security, and updated_at kept by a trigger
CALL voxanne_org_table('org_credentials', touch => true);
CALL voxanne_org_table('org_tools', touch => true);
CALL voxanne_org_table('verified_caller_ids', touch => true);
CALL voxanne_org_table('hybrid_forwarding_configs', touch => true);

-- The tenants kept in PostgreSQL, across tenants, for the gateway's loader
-- (bypasses RLS as its owner, like voxanne_resolve_number). No secrets: the
-- loader reads each tenant's credentials under that tenant's app.org_id.
CREATE FUNCTION voxanne_db_tenants()
RETURNS TABLE (org_id uuid, slug text, org_name text, timezone text, twilio_account_sid text,
               public_url text, hours text, closed_dates date[], max_calls integer,
               busy_action text, after_hours_action text, after_hours_number text,
               fallback_action text, fallback_number text, voicemail_greeting text,
               numbers text[], updated_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
  SELECT o.id, o.slug, o.name, o.timezone, o.twilio_account_sid, o.public_url, o.hours,
         o.closed_dates, o.max_calls, o.busy_action, o.after_hours_action, o.after_hours_number,
         o.fallback_action, o.fallback_number, o.voicemail_greeting,
         ARRAY(SELECT p.number FROM phone_numbers p WHERE p.org_id = o.id ORDER BY p.number),
         o.updated_at
  FROM organizations o
  WHERE o.slug IS NOT NULL AND o.public_url IS NOT NULL
  ORDER BY o.slug
$$;
REVOKE EXECUTE ON FUNCTION voxanne_db_tenants() FROM PUBLIC;

-- The gateway only reads credentials; operators write them (as the owner).
GRANT SELECT ON org_credentials TO voxanne_app;
GRANT SELECT, INSERT, UPDATE, DELETE
  ON org_tools, verified_caller_ids, hybrid_forwarding_configs TO voxanne_app;
GRANT EXECUTE ON FUNCTION voxanne_db_tenants() TO voxanne_app;
