-- The directory: every service's read model of who and what exists in the district
-- (centres and their time zones, residents with their age band, categories and status,
-- staff members, partners' agreements with centres), kept from the registry's and
-- volunteers' events by the platform's `directory` module, the same way everywhere.
-- A write that names a centre, resident, staff member or partner is checked against it.
-- Its own schema, so the services' old copies (public.centres, public.residents, ...)
-- can be moved into it by each service's own migration, in SQL, and then dropped.

CREATE SCHEMA directory;

-- From registry.centre.created|updated.
CREATE TABLE directory.centres (
    id        uuid PRIMARY KEY,
    code      text NOT NULL DEFAULT '',
    name      text NOT NULL DEFAULT '',
    -- An IANA name the directory has parsed: it refuses an event naming no known zone.
    time_zone text NOT NULL
);

-- From registry.resident.*: what eligibility, figures and checks need, nothing personal
-- (no name, no contact, no birth date). Erasure deletes the row.
CREATE TABLE directory.residents (
    id            uuid   PRIMARY KEY,
    centre_id     uuid   NOT NULL,
    age_band      text   NOT NULL,
    categories    text[] NOT NULL DEFAULT '{}',
    status        text   NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'moved_out', 'deceased')),
    -- The day the status began (moved out, died, returned); NULL for a registration.
    status_since  date,
    -- NULL for a row heard of by an update before its registration.
    registered_at timestamptz
);

CREATE INDEX residents_by_centre ON directory.residents (centre_id);

-- From volunteers.staff.joined|left (volunteers keeps the staff register itself).
CREATE TABLE directory.staff (
    id             uuid PRIMARY KEY,
    centre_id      uuid NOT NULL,
    employed_from  date NOT NULL,
    -- The last day worked; NULL while employed.
    employed_until date
);

CREATE INDEX staff_by_centre ON directory.staff (centre_id);

-- From registry.partner.agreement_signed|agreement_revoked: a partner is one of a
-- centre's when it has an agreement with the centre.
CREATE TABLE directory.partner_agreements (
    id          uuid PRIMARY KEY,
    partner_id  uuid NOT NULL,
    centre_id   uuid NOT NULL,
    valid_from  date NOT NULL,
    valid_until date NOT NULL,
    revoked_at  timestamptz
);

CREATE INDEX partner_agreements_by_partner ON directory.partner_agreements (partner_id, centre_id);
