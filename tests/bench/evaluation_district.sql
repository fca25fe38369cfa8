-- A district's year written straight into evaluation's projections, for measuring its
-- reads at a size whose seeding through the services takes hours (docs/performance.md,
-- issue 25). Not a seed: no fact is logged, so a rebuild would empty what this writes
-- (`load --mode scale --no-rebuild`). It fills every centre the directory already knows
-- (`linli seed district` announces them) in the proportions of a seeded district:
--
-- - :residents residents a centre (one in 50 moved out), registered over three years;
-- - 0.75 attendances a resident over the year before now, each with a satisfaction
--   invitation, one in five answered;
-- - one resident in 200 answering the awareness survey;
-- - one resident in 12 a volunteer (one in ten of them stopped since);
-- - 20 staff, half trained this year; 203 ledger entries; 3 facilities with 588 holds.
--
-- psql -v residents=50000 -f tests/bench/evaluation_district.sql <prefix>evaluation
--
-- Ids are md5s of the centre and a number, so a rerun writes the same rows (ON CONFLICT
-- DO NOTHING); random draws are seeded.

\set ON_ERROR_STOP on
SELECT setseed(0.25);

CREATE TEMP TABLE c AS
SELECT id AS centre_id, row_number() OVER (ORDER BY id) AS n FROM directory.centres;

INSERT INTO directory.residents (id, centre_id, age_band, categories, status, status_since, registered_at)
SELECT md5(c.centre_id::text || '/r/' || i)::uuid, c.centre_id,
       (ARRAY['0-17', '18-59', '60-79', '80+'])[1 + i % 4],
       CASE WHEN i % 7 = 0 THEN ARRAY['elderly_alone'] ELSE '{}' END,
       CASE WHEN i % 50 = 0 THEN 'moved_out' ELSE 'active' END,
       CASE WHEN i % 50 = 0 THEN (now() - (i % 300) * interval '1 day')::date END,
       now() - (i % 1095) * interval '1 day' - (i % 86400) * interval '1 second'
FROM c, generate_series(1, :residents) AS i
ON CONFLICT (id) DO NOTHING;

INSERT INTO attendances (event_id, booking_id, centre_id, offering_id, resident_id, category, attended_at)
SELECT md5(c.centre_id::text || '/a/' || i)::uuid, md5(c.centre_id::text || '/b/' || i)::uuid,
       c.centre_id, md5(c.centre_id::text || '/o/' || (i % 52))::uuid,
       md5(c.centre_id::text || '/r/' || (1 + (hashtext(c.centre_id::text || i) & 2147483647) % :residents))::uuid,
       'culture_education',
       now() - ((i * 7919) % 365) * interval '1 day' - (i % 36000) * interval '1 second'
FROM c, generate_series(1, (:residents * 3) / 4) AS i
ON CONFLICT (event_id) DO NOTHING;

INSERT INTO invitations (id, centre_id, template_id, resident_id, delivery_id, offering_id, created_at, answered_at)
SELECT md5(a.event_id::text || '/i')::uuid, a.centre_id, '5a7e0000-0000-4000-8000-000000000001',
       a.resident_id, a.booking_id::text, a.offering_id, a.attended_at,
       CASE WHEN (hashtext(a.event_id::text) & 7) < 2 THEN a.attended_at + interval '1 day' END
FROM attendances a JOIN c USING (centre_id)
ON CONFLICT DO NOTHING;

INSERT INTO answers (invitation_id, key, score)
SELECT i.id, 'satisfaction', 1 + (hashtext(i.id::text) & 2147483647) % 5
FROM invitations i JOIN c USING (centre_id)
WHERE i.answered_at IS NOT NULL AND i.template_id = '5a7e0000-0000-4000-8000-000000000001'
ON CONFLICT DO NOTHING;

INSERT INTO invitations (id, centre_id, template_id, resident_id, created_at, answered_at)
SELECT md5(c.centre_id::text || '/w/' || i)::uuid, c.centre_id, '5a7e0000-0000-4000-8000-000000000002',
       md5(c.centre_id::text || '/r/' || (i * 200))::uuid,
       now() - (i % 330) * interval '1 day', now() - (i % 330) * interval '1 day' + interval '2 hours'
FROM c, generate_series(1, :residents / 200) AS i
ON CONFLICT DO NOTHING;

INSERT INTO answers (invitation_id, key, choices)
SELECT i.id, 'knows_services', CASE WHEN hashtext(i.id::text) & 3 = 0 THEN '{no}'::text[] ELSE '{yes}' END
FROM invitations i JOIN c USING (centre_id)
WHERE i.template_id = '5a7e0000-0000-4000-8000-000000000002'
ON CONFLICT DO NOTHING;

INSERT INTO volunteer_changes (event_id, volunteer_id, centre_id, active, changed_at)
SELECT md5(c.centre_id::text || '/v/' || i || '/' || k)::uuid, md5(c.centre_id::text || '/v/' || i)::uuid,
       c.centre_id, k = 1, now() - ((i * 31) % 700) * interval '1 day' + (k - 1) * interval '90 days'
FROM c, generate_series(1, :residents / 12) AS i, generate_series(1, 2) AS k
WHERE k = 1 OR i % 10 = 0
ON CONFLICT DO NOTHING;

INSERT INTO directory.staff (id, centre_id, employed_from, employed_until)
SELECT md5(c.centre_id::text || '/s/' || i)::uuid, c.centre_id,
       (now() - (400 + i * 20) * interval '1 day')::date, NULL
FROM c, generate_series(1, 20) AS i
ON CONFLICT DO NOTHING;

INSERT INTO training_completions (completion_id, centre_id, person_kind, person_id, completed_on)
SELECT md5(c.centre_id::text || '/t/' || i)::uuid, c.centre_id, 'staff',
       md5(c.centre_id::text || '/s/' || i)::uuid, (now() - (i * 15) * interval '1 day')::date
FROM c, generate_series(1, 10) AS i
ON CONFLICT DO NOTHING;

INSERT INTO ledger_effects (entry_id, centre_id, entry_date, own_income_minor, expenditure_minor)
SELECT md5(c.centre_id::text || '/l/' || i)::uuid, c.centre_id,
       (now() - (i % 340) * interval '1 day')::date,
       CASE WHEN i % 3 = 0 THEN 150000 + i * 100 ELSE 0 END,
       CASE WHEN i % 3 = 0 THEN 0 ELSE 80000 + i * 50 END
FROM c, generate_series(1, 203) AS i
ON CONFLICT DO NOTHING;

INSERT INTO facilities (id, centre_id, opens, closes, open_days, time_zone)
SELECT md5(c.centre_id::text || '/f/' || i)::uuid, c.centre_id, '08:30', '17:30',
       '{1,2,3,4,5,6}', 'Asia/Shanghai'
FROM c, generate_series(1, 3) AS i
ON CONFLICT DO NOTHING;

INSERT INTO facility_holds (hold_id, facility_id, centre_id, starts_at, ends_at, released_at)
SELECT md5(c.centre_id::text || '/h/' || i)::uuid, md5(c.centre_id::text || '/f/' || (1 + i % 3))::uuid,
       c.centre_id, date_trunc('hour', now()) - (i % 340) * interval '1 day' - interval '6 hours',
       date_trunc('hour', now()) - (i % 340) * interval '1 day' - interval '4 hours', NULL
FROM c, generate_series(1, 588) AS i
ON CONFLICT DO NOTHING;

ANALYZE;

SELECT (SELECT count(*) FROM c) AS centres,
       (SELECT count(*) FROM directory.residents) AS residents,
       (SELECT count(*) FROM attendances) AS attendances,
       (SELECT count(*) FROM invitations) AS invitations,
       (SELECT count(*) FROM answers) AS answers,
       (SELECT count(*) FROM volunteer_changes) AS volunteer_changes,
       pg_size_pretty(pg_database_size(current_database())) AS size;
