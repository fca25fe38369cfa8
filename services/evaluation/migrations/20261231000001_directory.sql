-- Evaluation's copies of the registry's centres and residents, and of volunteers' staff,
-- move into the platform's directory (see the platform's 20261215000001_directory.sql),
-- which every service keeps the same way. The rows were built from events consumed long
-- ago, so they are moved here, not dropped; a row the directory already holds (heard
-- since the directory began) is newer and stays as it is.
--
-- registered_residents kept the day a resident left (moved out or died) but not which:
-- such a resident comes over as moved out, since the day, which is all the figures read.
-- A rebuild replays the fact log over the directory (it is not emptied first).

INSERT INTO directory.centres (id, time_zone)
SELECT id, time_zone FROM centres
ON CONFLICT (id) DO NOTHING;

INSERT INTO directory.residents (id, centre_id, age_band, categories, status, status_since, registered_at)
SELECT resident_id, centre_id, age_band, categories,
       CASE WHEN left_on IS NULL THEN 'active' ELSE 'moved_out' END, left_on, registered_at
FROM registered_residents
ON CONFLICT (id) DO NOTHING;

INSERT INTO directory.staff (id, centre_id, employed_from, employed_until)
SELECT staff_id, centre_id, employed_from, employed_until FROM staff
ON CONFLICT (id) DO NOTHING;

DROP TABLE registered_residents;
DROP TABLE centres;
DROP TABLE staff;
