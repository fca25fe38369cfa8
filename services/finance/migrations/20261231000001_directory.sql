-- Finance read a centre's time zone from its own books (`centres.time_zone`, defaulting to
-- Asia/Shanghai); it now reads the platform's directory (see the platform's
-- 20261215000001_directory.sql), as every service does, and opens books only for a centre
-- the directory knows. The zones finance heard from the registry move into the directory
-- (a row it already holds is newer and stays), and the column goes.
--
-- Books opened before this change by a write naming a centre the registry never announced
-- (a "ghost" centre, on the default zone) come along too: finance alone cannot tell them
-- from the registry's own. Compare the directory's centres with the registry's to find any.

INSERT INTO directory.centres (id, time_zone)
SELECT id, time_zone FROM centres
ON CONFLICT (id) DO NOTHING;

ALTER TABLE centres DROP COLUMN time_zone;
