-- Evaluation's own view of who is registered where, built only from registry events.
-- One row per resident, so a redelivered event can never count twice.

CREATE TABLE registered_residents (
    resident_id   uuid        PRIMARY KEY,
    centre_id     uuid        NOT NULL,
    age_band      text        NOT NULL,
    categories    text[]      NOT NULL DEFAULT '{}',
    registered_at timestamptz NOT NULL
);

CREATE INDEX registered_residents_by_centre ON registered_residents (centre_id);
