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

RESET app.org_id;
