-- 005_turns: a conversation's turns, written by the gateway as they
-- complete, in the same way as 004's writes: one statement that lands the
-- same in any order and any number of times.

-- Turn seq of a Twilio call (caller, agent or tool), at time "at"; the call
-- is created if no write of it has landed yet. A turn written again is left
-- as it was.
CREATE FUNCTION voxanne_record_turn(org uuid, sid text, seq integer, speaker text, body text,
                                    at timestamptz)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO transcripts (org_id, call_id, seq, role, text, started_at)
  VALUES (org, voxanne_record_call(org, sid, NULL, NULL, NULL, at, NULL), seq, speaker, body, at)
  ON CONFLICT (call_id, seq) DO NOTHING
$$;
