-- Erasure: the row stays (so ids in other services' history still point somewhere) but
-- holds nothing personal: a placeholder name, the birth year only, no contact or ID.

ALTER TABLE residents
    ADD COLUMN erased_at     timestamptz,
    ADD COLUMN erasure_reason text,
    ADD CONSTRAINT residents_erased_hold_nothing CHECK (
        erased_at IS NULL OR (phone_sealed IS NULL AND national_id_sealed IS NULL
                              AND name_pinyin IS NULL AND name_initials IS NULL));
