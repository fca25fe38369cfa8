-- Who booked which partner's offerings (issue 24, partners who deliver): filled from the
-- bookings service's events by the partner-bookers consumer, so the registry can give a
-- partner the name and phone of a consenting resident who holds a booking of one of its
-- offerings, and no one else's. A cancelled booking or the resident's erasure removes
-- the row.
CREATE TABLE partner_bookers (
    booking_id  uuid        PRIMARY KEY,
    partner_id  uuid        NOT NULL,
    offering_id uuid        NOT NULL,
    resident_id uuid        NOT NULL,
    centre_id   uuid        NOT NULL,
    booked_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX partner_bookers_partner_resident ON partner_bookers (partner_id, resident_id);
CREATE INDEX partner_bookers_resident ON partner_bookers (resident_id);

-- Every time a partner was given a resident's full name and phone: who, whom, when.
CREATE TABLE partner_contact_reads (
    id          bigserial   PRIMARY KEY,
    partner_id  uuid        NOT NULL,
    resident_id uuid        NOT NULL,
    centre_id   uuid        NOT NULL,
    read_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX partner_contact_reads_by_resident ON partner_contact_reads (resident_id, read_at);
