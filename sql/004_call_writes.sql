-- 004_call_writes: the gateway's writes of the call path, as functions, so
-- that each is one statement that lands the same whatever order the writes
-- arrive in and however often: a call's webhooks and stream reach
-- different workers and nodes, and a write that waited in a spool is
-- replayed after later ones (docs/database.md, "Writes").

-- Twilio's CallStatus values in their order; the final ones share a rank.
CREATE FUNCTION voxanne_call_status_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT CASE status
           WHEN 'queued' THEN 0
           WHEN 'initiated' THEN 1
           WHEN 'ringing' THEN 2
           WHEN 'in-progress' THEN 3
           ELSE 4
         END
$$;

-- A Twilio call as one write saw it, at time "at": created by its first
-- write, whatever that is; its status only moves forward (a final status
-- is never replaced); From and To are filled once known; started_at is the
-- earliest write, answered_at the first in-progress, ended_at the first
-- final status, duration the one Twilio reports. st NULL (an event's
-- write) changes nothing but the times. Returns the call's id.
CREATE FUNCTION voxanne_record_call(org uuid, sid text, caller text, called text, st text,
                                    at timestamptz, duration integer)
RETURNS uuid LANGUAGE sql AS $$
  INSERT INTO calls AS c (org_id, call_sid, channel, from_number, to_number, direction, status,
                          started_at, answered_at, ended_at, duration_seconds)
  VALUES (org, sid, 'twilio', coalesce(caller, ''), coalesce(called, ''), 'inbound',
          coalesce(st, 'ringing'), at,
          CASE WHEN st = 'in-progress' THEN at END,
          CASE WHEN voxanne_call_status_rank(st) = 4 THEN at END,
          duration)
  ON CONFLICT (call_sid) DO UPDATE SET
    status = CASE WHEN st IS NOT NULL
                       AND voxanne_call_status_rank(st) > voxanne_call_status_rank(c.status)
                  THEN st ELSE c.status END,
    from_number = CASE WHEN c.from_number = '' THEN EXCLUDED.from_number ELSE c.from_number END,
    to_number = CASE WHEN c.to_number = '' THEN EXCLUDED.to_number ELSE c.to_number END,
    started_at = least(c.started_at, EXCLUDED.started_at),
    answered_at = least(c.answered_at, EXCLUDED.answered_at),
    ended_at = least(c.ended_at, EXCLUDED.ended_at),
    duration_seconds = coalesce(c.duration_seconds, EXCLUDED.duration_seconds),
    updated_at = now()
  RETURNING c.id
$$;

-- An event of a Twilio call (key: its natural key within the call), at
-- time "at"; the call is created if no write of it has landed yet. An
-- event written again is left as it was.
CREATE FUNCTION voxanne_record_event(org uuid, sid text, key text, kind text, data jsonb,
                                     at timestamptz)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO call_events (call_id, org_id, event_key, type, payload, created_at)
  VALUES (voxanne_record_call(org, sid, NULL, NULL, NULL, at, NULL), org, key, kind,
          coalesce(data, '{}'), at)
  ON CONFLICT ON CONSTRAINT call_events_natural_key DO NOTHING
$$;
