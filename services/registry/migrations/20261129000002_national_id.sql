-- National ID numbers: sealed like phone numbers, with a blind index that finds duplicates
-- across the whole district; and the log of every read of a whole number.

ALTER TABLE residents
    ADD COLUMN national_id_sealed bytea,
    ADD COLUMN national_id_key_id text,
    ADD COLUMN national_id_index  bytea,
    ADD CONSTRAINT residents_national_id_sealed_together CHECK (
        (national_id_sealed IS NULL) = (national_id_key_id IS NULL)
        AND (national_id_sealed IS NULL) = (national_id_index IS NULL));

CREATE UNIQUE INDEX residents_national_id_unique ON residents (national_id_index)
    WHERE national_id_index IS NOT NULL;

CREATE TABLE national_id_reads (
    id          bigserial   PRIMARY KEY,
    resident_id uuid        NOT NULL REFERENCES residents (id),
    centre_id   uuid        NOT NULL,
    reader      text        NOT NULL,
    roles       text[]      NOT NULL,
    purpose     text        NOT NULL CHECK (length(purpose) BETWEEN 3 AND 200),
    trace_id    text,
    read_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX national_id_reads_by_resident ON national_id_reads (resident_id, read_at);
