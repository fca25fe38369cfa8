-- Health notes (a care need, a condition) are sensitive personal information: sealed like
-- national IDs, never indexed, shown only to care roles, and gone with an erasure.

ALTER TABLE residents
    ADD COLUMN health_note_sealed bytea,
    ADD COLUMN health_note_key_id text,
    ADD CONSTRAINT residents_health_note_sealed_together
        CHECK ((health_note_sealed IS NULL) = (health_note_key_id IS NULL)),
    ADD CONSTRAINT residents_erased_hold_no_health_note
        CHECK (erased_at IS NULL OR health_note_sealed IS NULL);
