-- Staff put on sessions of the centre's offerings (bookings keeps the sessions; the
-- assignment keeps their times as given when assigned). A nurse, doctor or teacher is
-- assigned only with a licence valid on `session_on` (the rule is the domain's licence
-- module); assigning the same person to the same session twice is one assignment.
CREATE TABLE staff_assignments (
    id          uuid        PRIMARY KEY,
    centre_id   uuid        NOT NULL,
    staff_id    uuid        NOT NULL REFERENCES staff (id),
    offering_id uuid        NOT NULL,
    session_id  uuid        NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
    -- The session's day in the centre's time zone: the licence must be valid on it.
    session_on  date        NOT NULL,
    -- The licence the position needed when assigned; '' when none.
    licence     text        NOT NULL DEFAULT '',
    assigned_by text        NOT NULL,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session_id, staff_id)
);
CREATE INDEX staff_assignments_by_centre ON staff_assignments (centre_id, starts_at);
