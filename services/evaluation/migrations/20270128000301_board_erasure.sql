-- A resident's erasure reaches the board (issue 24): a resident member's name and their
-- link to the resident go, the seat's history (sector, term, committees, audit) stays.
ALTER TABLE board_members ADD COLUMN erased_at timestamptz;
ALTER TABLE board_members DROP CONSTRAINT board_members_check2;
ALTER TABLE board_members ADD CONSTRAINT board_members_resident_sits_for_residents
    CHECK ((sector = 'resident') = (resident_id IS NOT NULL) OR (erased_at IS NOT NULL AND resident_id IS NULL));
ALTER TABLE board_members DROP CONSTRAINT board_members_name_check;
ALTER TABLE board_members ADD CONSTRAINT board_members_name_check
    CHECK (length(name) <= 100 AND (length(name) >= 1 OR erased_at IS NOT NULL));
