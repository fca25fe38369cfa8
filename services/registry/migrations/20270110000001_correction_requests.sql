-- A resident's request, from the residents' site, to correct what the registry holds about
-- them (or a child they act for): which fields, and what they should be in their own words.
-- The words may hold a phone or ID number, so they are sealed like the record's own; an
-- erasure removes the requests with the rest.
CREATE TABLE correction_requests (
    id              uuid        PRIMARY KEY,
    resident_id     uuid        NOT NULL REFERENCES residents (id),
    centre_id       uuid        NOT NULL,
    fields          text[]      NOT NULL CHECK (cardinality(fields) BETWEEN 1 AND 8),
    details_key_id  text        NOT NULL,
    details_sealed  bytea       NOT NULL,
    requested_by    text        NOT NULL,
    requested_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    status          text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done'))
);

CREATE INDEX correction_requests_by_resident ON correction_requests (resident_id, requested_at DESC);
