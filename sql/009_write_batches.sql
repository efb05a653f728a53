-- 009_write_batches: the gateway's writes of one event-loop pass, for one
-- tenant, in one statement and one round trip (docs/database.md, "Batches").
-- Each element is a write as the spool keeps it: ["call", org, sid, from,
-- to, status, at, duration], ["event", org, sid, key, type, payload, at] or
-- ["turn", org, sid, seq, role, text, at], at in Unix seconds as text, a
-- missing value null. The writes run in the array's order through 004's and
-- 005's functions, so a batch lands as its writes would one by one, and all
-- of it or none (the statement is one transaction). Returns how many.
CREATE FUNCTION voxanne_record_writes(writes jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  w jsonb;
  n integer := 0;
BEGIN
  IF jsonb_typeof(writes) IS DISTINCT FROM 'array' THEN
    RAISE EXCEPTION 'voxanne_record_writes: not an array of writes';
  END IF;

  FOR w IN SELECT e.value FROM jsonb_array_elements(writes) WITH ORDINALITY AS e
           ORDER BY e.ordinality
  LOOP
    CASE w->>0
      WHEN 'call' THEN
        PERFORM voxanne_record_call((w->>1)::uuid, w->>2, w->>3, w->>4, w->>5,
                                    to_timestamp((w->>6)::float8), (w->>7)::integer);
      WHEN 'event' THEN
        PERFORM voxanne_record_event((w->>1)::uuid, w->>2, w->>3, w->>4, (w->>5)::jsonb,
                                     to_timestamp((w->>6)::float8));
      WHEN 'turn' THEN
        PERFORM voxanne_record_turn((w->>1)::uuid, w->>2, (w->>3)::integer, w->>4, w->>5,
                                    to_timestamp((w->>6)::float8));
      ELSE
        RAISE EXCEPTION 'voxanne_record_writes: write % is not call, event or turn', n + 1;
    END CASE;
    n := n + 1;
  END LOOP;

  RETURN n;
END
$$;
