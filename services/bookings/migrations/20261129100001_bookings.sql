-- Service bookings: read models of the registry's centres and residents, the catalogue,
-- facilities, sessions and their series, bookings with their seats, and idempotency keys.
-- Capacity and room clashes are enforced here, not only in code.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- From registry.centre.created: the time zone sessions are planned in.
CREATE TABLE centres (
    id        uuid PRIMARY KEY,
    time_zone text NOT NULL
);

-- From registry.resident.*: what eligibility needs, nothing more (no name, no contact).
CREATE TABLE residents (
    id           uuid   PRIMARY KEY,
    centre_id    uuid   NOT NULL,
    age_band     text   NOT NULL,
    categories   text[] NOT NULL DEFAULT '{}',
    status       text   NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'moved_out', 'deceased')),
    status_since date
);

CREATE TABLE facilities (
    id         uuid        PRIMARY KEY,
    centre_id  uuid        NOT NULL,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind       text        NOT NULL CHECK (kind IN ('room', 'equipment')),
    opens      time        NOT NULL,
    closes     time        NOT NULL CHECK (closes > opens),
    open_days  int[]       NOT NULL CHECK (open_days <@ ARRAY[1, 2, 3, 4, 5, 6, 7]),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (centre_id, name)
);

CREATE TABLE offerings (
    id                  uuid        PRIMARY KEY,
    centre_id           uuid        NOT NULL,
    category            text        NOT NULL,
    kind                text        NOT NULL CHECK (kind IN ('appointment', 'facility', 'course', 'event', 'recurring_care')),
    name                text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description         text        NOT NULL DEFAULT '',
    provider            text        NOT NULL DEFAULT 'centre' CHECK (provider IN ('centre', 'partner')),
    provider_id         uuid,
    min_age             int,
    max_age             int,
    eligible_categories text[]      NOT NULL DEFAULT '{}',
    fee_minor           bigint      NOT NULL DEFAULT 0 CHECK (fee_minor >= 0),
    currency            text        NOT NULL DEFAULT 'CNY' CHECK (currency ~ '^[A-Z]{3}$'),
    -- Concessions, pairwise: residents in concession_categories[i] pay concession_prices[i].
    concession_categories text[]    NOT NULL DEFAULT '{}',
    concession_prices   bigint[]    NOT NULL DEFAULT '{}',
    capacity            int         NOT NULL DEFAULT 0 CHECK (capacity >= 0),
    facility_id         uuid        REFERENCES facilities (id),
    staff_id            uuid,
    active              boolean     NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'facility' OR facility_id IS NOT NULL),
    CHECK ((provider = 'partner') = (provider_id IS NOT NULL)),
    CHECK (cardinality(concession_categories) = cardinality(concession_prices)),
    CHECK (0 <= ALL (concession_prices))
);
CREATE INDEX offerings_by_centre ON offerings (centre_id, category, name);

-- A weekly rule in a time zone; its sessions are rows of their own, so one instance can
-- move or be cancelled without touching the rest.
CREATE TABLE series (
    id               uuid        PRIMARY KEY,
    centre_id        uuid        NOT NULL,
    offering_id      uuid        NOT NULL REFERENCES offerings (id),
    weekdays         int[]       NOT NULL,
    start_time       time        NOT NULL,
    duration_minutes int         NOT NULL CHECK (duration_minutes > 0),
    starts_on        date        NOT NULL,
    until            date,
    count            int,
    time_zone        text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
    id          uuid        PRIMARY KEY,
    centre_id   uuid        NOT NULL,
    offering_id uuid        NOT NULL REFERENCES offerings (id),
    series_id   uuid        REFERENCES series (id),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    local_start timestamp   NOT NULL,
    capacity    int         NOT NULL CHECK (capacity >= 0),
    -- Seats held. The check is the last word on capacity, whatever the concurrency.
    confirmed   int         NOT NULL DEFAULT 0,
    status      text        NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
    moved       boolean     NOT NULL DEFAULT false,
    facility_id uuid        REFERENCES facilities (id),
    -- Set once no-shows were marked after the session ended.
    swept_at    timestamptz,
    CHECK (ends_at > starts_at),
    CONSTRAINT sessions_within_capacity CHECK (confirmed BETWEEN 0 AND capacity)
);
CREATE INDEX sessions_by_centre ON sessions (centre_id, starts_at);
CREATE INDEX sessions_by_offering ON sessions (offering_id, starts_at);
CREATE INDEX sessions_by_series ON sessions (series_id, starts_at) WHERE series_id IS NOT NULL;
CREATE INDEX sessions_to_sweep ON sessions (ends_at) WHERE swept_at IS NULL AND status = 'scheduled';

CREATE SEQUENCE booking_arrival;

CREATE TABLE bookings (
    id            uuid        PRIMARY KEY,
    centre_id     uuid        NOT NULL,
    offering_id   uuid        NOT NULL REFERENCES offerings (id),
    -- NULL for a facility the centre books itself, and once the resident was erased.
    resident_id   uuid,
    status        text        NOT NULL CHECK (status IN ('confirmed', 'waitlisted', 'cancelled', 'attended', 'no_show')),
    -- Taken while the sessions are locked: the order seats and waitlist places were given.
    arrival       bigint      NOT NULL,
    facility_id   uuid        REFERENCES facilities (id),
    during        tstzrange,
    fee_minor     bigint      NOT NULL DEFAULT 0 CHECK (fee_minor >= 0),
    currency      text        NOT NULL DEFAULT 'CNY',
    concession    text        NOT NULL DEFAULT '',
    charge_id     uuid,
    refund_id     uuid,
    cancel_reason text,
    note          text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    anonymised_at timestamptz,
    CHECK ((facility_id IS NULL) = (during IS NULL))
);
CREATE INDEX bookings_by_resident ON bookings (centre_id, resident_id, created_at DESC);
CREATE INDEX bookings_by_offering ON bookings (offering_id, created_at DESC);
CREATE INDEX bookings_waiting ON bookings (offering_id, arrival) WHERE status = 'waitlisted';
CREATE INDEX bookings_facility_unattended ON bookings (lower(during)) WHERE status = 'confirmed' AND during IS NOT NULL;

-- One row per session a booking covers: held (has a seat), waiting (waitlisted),
-- attended, no_show, released (cancelled or given back).
CREATE TABLE seats (
    booking_id uuid        NOT NULL REFERENCES bookings (id),
    session_id uuid        NOT NULL REFERENCES sessions (id),
    state      text        NOT NULL CHECK (state IN ('held', 'waiting', 'attended', 'no_show', 'released')),
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (booking_id, session_id)
);
CREATE INDEX seats_by_session ON seats (session_id, state);

-- A room or piece of equipment is never held twice at once: by a session or by a
-- booking. Ranges are [start, end), so back-to-back holds are fine.
CREATE TABLE facility_holds (
    id          uuid        PRIMARY KEY,
    centre_id   uuid        NOT NULL,
    facility_id uuid        NOT NULL REFERENCES facilities (id),
    during      tstzrange   NOT NULL CHECK (NOT isempty(during)),
    session_id  uuid        REFERENCES sessions (id),
    booking_id  uuid        REFERENCES bookings (id),
    released_at timestamptz,
    CHECK ((session_id IS NULL) <> (booking_id IS NULL)),
    CONSTRAINT facility_never_double_booked
        EXCLUDE USING gist (facility_id WITH =, during WITH &&) WHERE (released_at IS NULL)
);
CREATE INDEX facility_holds_by_session ON facility_holds (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX facility_holds_by_booking ON facility_holds (booking_id) WHERE booking_id IS NOT NULL;

-- A create sent again with the same key answers with the same booking.
CREATE TABLE booking_requests (
    centre_id       uuid        NOT NULL,
    idempotency_key text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    request_hash    bytea       NOT NULL,
    booking_id      uuid        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (centre_id, idempotency_key)
);
