-- Volunteers' copy of the registry's centres and residents moves into the platform's
-- directory (see the platform's 20261215000001_directory.sql), which every service keeps
-- the same way. The rows were built from events consumed long ago and cannot be heard
-- again, so they are moved here, not dropped; a row the directory already holds (heard
-- since the directory began) is newer and stays as it is. Volunteers never kept a
-- resident's categories: they arrive with the resident's next update.

INSERT INTO directory.centres (id, time_zone)
SELECT id, time_zone FROM centres
ON CONFLICT (id) DO NOTHING;

INSERT INTO directory.residents (id, centre_id, age_band, status, status_since)
SELECT id, centre_id, age_band, status, status_since FROM residents
ON CONFLICT (id) DO NOTHING;

DROP TABLE residents;
DROP TABLE centres;
