-- Whether a resident still lives in the community: active, moved out or deceased, and
-- since when (the centre's calendar day).

ALTER TABLE residents
    ADD COLUMN status       text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'moved_out', 'deceased')),
    ADD COLUMN status_since date;

UPDATE residents SET status_since = (registered_at AT TIME ZONE 'Asia/Shanghai')::date;
ALTER TABLE residents ALTER COLUMN status_since SET NOT NULL;
ALTER TABLE residents ALTER COLUMN status_since SET DEFAULT (now() AT TIME ZONE 'Asia/Shanghai')::date;
