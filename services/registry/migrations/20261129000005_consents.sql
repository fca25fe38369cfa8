-- Consent per purpose, as a history: the latest record per resident and purpose is what
-- holds now, and every grant and withdrawal stays on record with its source.

CREATE TABLE consents (
    id          bigserial   PRIMARY KEY,
    resident_id uuid        NOT NULL REFERENCES residents (id),
    purpose     text        NOT NULL CHECK (purpose IN ('service_delivery', 'activity_contact', 'partner_sharing')),
    granted     boolean     NOT NULL,
    source      text        NOT NULL CHECK (source IN ('paper_form', 'in_person', 'phone', 'online')),
    guardian_id uuid        REFERENCES residents (id),
    recorded_by text        NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX consents_current ON consents (resident_id, purpose, id DESC);
