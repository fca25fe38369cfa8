-- The alerts inbox: facts other services published that need a person at the centre
-- (a budget threshold reached, a certification expiring, an hours milestone, a resident
-- asking for a correction). One row per event (its id), so a redelivery adds nothing.
-- Ids, codes, numbers and dates only: never a name or what a resident wrote.
CREATE TABLE alerts (
    id              uuid        PRIMARY KEY,
    centre_id       uuid        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('budget_threshold',
                        'certification_expiring', 'hours_milestone', 'correction_requested')),
    subject_kind    text        NOT NULL CHECK (subject_kind IN ('budget_category',
                        'volunteer', 'staff', 'resident')),
    subject_id      text        NOT NULL CHECK (length(subject_id) BETWEEN 1 AND 100),
    -- The event's particulars as key=value.
    details         text[]      NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by text
);
CREATE INDEX alerts_open ON alerts (centre_id, created_at DESC, id DESC)
    WHERE acknowledged_at IS NULL;
CREATE INDEX alerts_by_subject ON alerts (subject_id);
