-- Where a resident lives (a household is the residents at one address of a centre), the
-- categories staff record that age alone cannot tell, and the directory of what residents
-- know and enjoy that the plan asks centres to draw on.

ALTER TABLE residents
    ADD COLUMN building   text   NOT NULL DEFAULT '' CHECK (length(building) <= 16),
    ADD COLUMN unit       text   NOT NULL DEFAULT '' CHECK (length(unit) <= 16),
    ADD COLUMN room       text   NOT NULL DEFAULT '' CHECK (length(room) <= 16),
    ADD COLUMN categories text[] NOT NULL DEFAULT '{}'
        CHECK (categories <@ ARRAY['disability', 'low_income', 'living_alone']::text[]);

CREATE INDEX residents_by_address ON residents (centre_id, building, unit, room);

CREATE TABLE resident_skills (
    resident_id uuid NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('profession', 'skill', 'hobby')),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    PRIMARY KEY (resident_id, kind, name)
);

CREATE INDEX resident_skills_by_name ON resident_skills (name);
