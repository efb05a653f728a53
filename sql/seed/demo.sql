-- Demo tenant for `make run` (not a migration). Safe to apply repeatedly.
-- Setting app.org_id lets this pass row-level security for non-superusers.
SET app.org_id = '00000000-0000-4000-8000-000000000001';

INSERT INTO organizations (id, name, timezone)
VALUES ('00000000-0000-4000-8000-000000000001', 'Demo Clinic', 'America/New_York')
ON CONFLICT DO NOTHING;

INSERT INTO agents (id, org_id, name, instructions, voice, greeting)
VALUES ('00000000-0000-4000-8000-000000000101', '00000000-0000-4000-8000-000000000001', 'Ava',
        'You are Ava, the receptionist of Demo Clinic. Be brief and friendly. '
        'Help callers book, reschedule or cancel appointments; offer to take a '
        'message for anything else.',
        'alloy',
        'Thanks for calling Demo Clinic, this is Ava. How can I help you today?')
ON CONFLICT DO NOTHING;

INSERT INTO phone_numbers (id, org_id, number, agent_id)
VALUES ('00000000-0000-4000-8000-000000000201', '00000000-0000-4000-8000-000000000001',
        '+15550100001', '00000000-0000-4000-8000-000000000101')
ON CONFLICT DO NOTHING;

-- What the receptionist's tools work on: ten minutes kept free after each
-- appointment, the clinic's services, a returning caller, and where a
-- transfer to a human goes.
UPDATE organizations SET slug = 'demo', buffer_minutes = 10
WHERE id = '00000000-0000-4000-8000-000000000001'
  AND (slug, buffer_minutes) IS DISTINCT FROM ('demo', 10);

INSERT INTO services (id, org_id, name, price, duration_minutes, keywords)
VALUES ('00000000-0000-4000-8000-000000000301', '00000000-0000-4000-8000-000000000001',
        'Consultation', 0, 30, '{consultation,consult,advice}'),
       ('00000000-0000-4000-8000-000000000302', '00000000-0000-4000-8000-000000000001',
        'Botox', 300, 45, '{botox,wrinkles,forehead}'),
       ('00000000-0000-4000-8000-000000000303', '00000000-0000-4000-8000-000000000001',
        'Dermal Filler', 650, 60, '{filler,fillers,lips,cheeks}'),
       ('00000000-0000-4000-8000-000000000304', '00000000-0000-4000-8000-000000000001',
        'Hydrafacial', 250, 60, '{hydrafacial,facial}')
ON CONFLICT DO NOTHING;

INSERT INTO contacts (id, org_id, phone, name, email, lead_status, last_contacted_at, notes)
VALUES ('00000000-0000-4000-8000-000000000401', '00000000-0000-4000-8000-000000000001',
        '+15550100123', 'Jordan Rivera', 'jordan.rivera@example.com', 'contacted',
        '2026-01-05 15:00:00-05', 'Asked about Botox; prefers afternoons.')
ON CONFLICT DO NOTHING;

INSERT INTO org_tools (org_id, tool, config)
VALUES ('00000000-0000-4000-8000-000000000001', 'transfer_to_human',
        '{"destination": "+15550100009"}')
ON CONFLICT DO NOTHING;

RESET app.org_id;
