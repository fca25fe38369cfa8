-- Where the money comes from (grants, donations with receipts, partnerships, fees), what
-- each category may spend, and the audit trail no one can edit.

CREATE TABLE grants (
    id            uuid   PRIMARY KEY,
    centre_id     uuid   NOT NULL REFERENCES centres (id),
    kind          text   NOT NULL CHECK (kind IN ('appropriation', 'special_fund')),
    granting_body text   NOT NULL CHECK (granting_body <> ''),
    purpose       text   NOT NULL CHECK (purpose <> ''),
    amount_minor  bigint NOT NULL CHECK (amount_minor > 0),
    currency      text   NOT NULL,
    received_on   date   NOT NULL,
    entry_id      uuid   NOT NULL REFERENCES journal_entries (id)
);

-- The last receipt number issued per centre and year. A donation takes the next one with
-- UPDATE … RETURNING in its own transaction, so a rolled-back donation gives its number
-- back and no two donations share one: numbers run 1, 2, 3 … with no gap.
CREATE TABLE receipt_counters (
    centre_id   uuid NOT NULL REFERENCES centres (id),
    year        int  NOT NULL,
    last_number int  NOT NULL CHECK (last_number > 0),
    PRIMARY KEY (centre_id, year)
);

CREATE TABLE donations (
    id                uuid        PRIMARY KEY,
    centre_id         uuid        NOT NULL REFERENCES centres (id),
    receipt_year      int         NOT NULL,
    receipt_number    int         NOT NULL CHECK (receipt_number > 0),
    anonymous         boolean     NOT NULL,
    -- The donor's name, sealed like all personal data; NULL when anonymous or erased.
    donor_name_sealed bytea,
    donor_name_key_id text,
    donor_resident_id uuid,
    donor_erased_at   timestamptz,
    amount_minor      bigint      NOT NULL CHECK (amount_minor > 0),
    currency          text        NOT NULL,
    purpose           text        NOT NULL,
    method            text        NOT NULL CHECK (method IN ('cash', 'bank')),
    received_on       date        NOT NULL,
    entry_id          uuid        NOT NULL REFERENCES journal_entries (id),
    UNIQUE (centre_id, receipt_year, receipt_number),
    CHECK ((donor_name_sealed IS NULL) = (donor_name_key_id IS NULL)),
    CHECK (NOT anonymous OR (donor_name_sealed IS NULL AND donor_resident_id IS NULL))
);

CREATE INDEX donations_by_resident ON donations (donor_resident_id) WHERE donor_resident_id IS NOT NULL;

CREATE TABLE partnership_income (
    id           uuid   PRIMARY KEY,
    centre_id    uuid   NOT NULL REFERENCES centres (id),
    partner_id   uuid   NOT NULL,
    description  text   NOT NULL,
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    currency     text   NOT NULL,
    received_on  date   NOT NULL,
    entry_id     uuid   NOT NULL REFERENCES journal_entries (id)
);

-- Fees charged by bookings, as recorded from its events.
CREATE TABLE fee_charges (
    charge_id        text   PRIMARY KEY,
    centre_id        uuid   NOT NULL REFERENCES centres (id),
    booking_id       text   NOT NULL,
    amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
    list_price_minor bigint NOT NULL CHECK (list_price_minor >= 0),
    concession       text   NOT NULL,
    currency         text   NOT NULL,
    entry_id         uuid   NOT NULL REFERENCES journal_entries (id),
    refunded_minor   bigint NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor)
);

CREATE TABLE budgets (
    centre_id    uuid   NOT NULL REFERENCES centres (id),
    fiscal_year  int    NOT NULL,
    category     text   NOT NULL CHECK (category IN ('personnel', 'service_costs', 'equipment_purchase', 'equipment_maintenance', 'office_costs')),
    amount_minor bigint NOT NULL CHECK (amount_minor >= 0),
    currency     text   NOT NULL,
    PRIMARY KEY (centre_id, fiscal_year, category)
);

-- Each threshold of each budget line is announced once.
CREATE TABLE budget_alerts (
    centre_id         uuid        NOT NULL,
    fiscal_year       int         NOT NULL,
    category          text        NOT NULL,
    threshold_percent int         NOT NULL CHECK (threshold_percent IN (90, 100)),
    reached_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (centre_id, fiscal_year, category, threshold_percent),
    FOREIGN KEY (centre_id, fiscal_year, category) REFERENCES budgets (centre_id, fiscal_year, category)
);

-- Every change in finance: who, what, when, and the trace it belongs to. Details never
-- hold personal data (a donor's name stays in `donations`, where erasure can reach it).
CREATE TABLE audit_trail (
    seq       bigserial   PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text        NOT NULL,
    action    text        NOT NULL,
    centre_id uuid,
    subject   text        NOT NULL,
    details   jsonb       NOT NULL DEFAULT '{}',
    trace_id  text
);

CREATE INDEX audit_trail_by_centre ON audit_trail (centre_id, seq);

CREATE FUNCTION audit_trail_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP
        USING ERRCODE = 'LN004';
END
$$;

CREATE TRIGGER audit_trail_append_only BEFORE UPDATE OR DELETE ON audit_trail
    FOR EACH ROW EXECUTE FUNCTION audit_trail_append_only();
CREATE TRIGGER audit_trail_no_truncate BEFORE TRUNCATE ON audit_trail
    FOR EACH STATEMENT EXECUTE FUNCTION audit_trail_append_only();
