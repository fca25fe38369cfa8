-- A household (户) is one address of a centre with its members, each with their
-- relationship to the head of household (户主). One household per address, at most one
-- head per household: the database keeps both, so neither two desks nor a re-imported
-- sheet can make a second.

CREATE TABLE households (
    id         uuid PRIMARY KEY,
    centre_id  uuid NOT NULL REFERENCES centres (id),
    building   text NOT NULL CHECK (length(building) <= 16),
    unit       text NOT NULL CHECK (length(unit) <= 16),
    room       text NOT NULL CHECK (length(room) <= 16),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT households_have_an_address CHECK (building <> '' OR room <> ''),
    CONSTRAINT households_one_per_address UNIQUE (centre_id, building, unit, room)
);

ALTER TABLE residents
    ADD COLUMN household_id uuid REFERENCES households (id),
    ADD COLUMN relationship text CHECK (relationship IN (
        'head', 'spouse', 'child', 'parent', 'grandchild', 'grandparent', 'sibling',
        'other_relative', 'other')),
    ADD CONSTRAINT residents_household_relationship
        CHECK ((household_id IS NULL) = (relationship IS NULL));

CREATE UNIQUE INDEX households_one_head ON residents (household_id) WHERE relationship = 'head';
CREATE INDEX residents_by_household ON residents (household_id) WHERE household_id IS NOT NULL;
