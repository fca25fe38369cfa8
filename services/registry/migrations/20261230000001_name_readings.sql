-- A name has several search keys (a surname read two ways, ü typed v, u or yu), so the
-- keys move to a table of their own, one row per key. Each resident records which rule
-- computed its keys (name_keys_version): at start the registry indexes again every row
-- computed by an earlier rule, so residents registered before this change are found by
-- the new keys too. Until then (the few seconds of a start) they are found by name.

CREATE TABLE resident_name_keys (
    resident_id uuid NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    centre_id   uuid NOT NULL,
    key         text NOT NULL CHECK (key <> ''),
    PRIMARY KEY (resident_id, key)
);

CREATE INDEX resident_name_keys_by_prefix ON resident_name_keys (centre_id, key text_pattern_ops);

ALTER TABLE residents ADD COLUMN name_keys_version smallint NOT NULL DEFAULT 0;

-- The columns' one key each is gone; an erased resident still holds no key (erasure
-- deletes them with the rest).
ALTER TABLE residents
    DROP CONSTRAINT residents_erased_hold_nothing,
    DROP COLUMN name_pinyin,
    DROP COLUMN name_initials,
    ADD CONSTRAINT residents_erased_hold_nothing CHECK (
        erased_at IS NULL OR (phone_sealed IS NULL AND national_id_sealed IS NULL));
