-- Service volunteers: read models of the registry's centres and residents, volunteers and
-- staff, certifications, training, opportunities and shifts with their assignments, hours,
-- milestones, community groups and staff reviews. The invariants concurrency could break
-- (one person on one shift at a time, a shift's capacity, a milestone or an expiry notice
-- once) are table constraints, not only code.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- From registry.centre.created: the time zone shifts and availability are read in.
CREATE TABLE centres (
    id        uuid PRIMARY KEY,
    time_zone text NOT NULL
);

-- From registry.resident.*: whether a resident is known and active, nothing personal.
CREATE TABLE residents (
    id           uuid   PRIMARY KEY,
    centre_id    uuid   NOT NULL,
    age_band     text   NOT NULL,
    status       text   NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'moved_out', 'deceased')),
    status_since date
);

CREATE TABLE volunteers (
    id                    uuid        PRIMARY KEY,
    centre_id             uuid        NOT NULL,
    -- NULL once the resident was erased.
    resident_id           uuid        UNIQUE,
    display_name          text        NOT NULL DEFAULT '' CHECK (length(display_name) <= 100),
    skills                text[]      NOT NULL DEFAULT '{}',
    languages             text[]      NOT NULL DEFAULT '{}',
    status                text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'left')),
    background_checked    boolean     NOT NULL DEFAULT false,
    background_checked_on date,
    registered_at         timestamptz NOT NULL DEFAULT now(),
    status_changed_at     timestamptz NOT NULL DEFAULT now(),
    anonymised_at         timestamptz
);
CREATE INDEX volunteers_by_centre ON volunteers (centre_id, status);

-- Weekly windows in the centre's time zone.
CREATE TABLE availability (
    volunteer_id uuid NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    weekday      int  NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts       time NOT NULL,
    ends         time NOT NULL CHECK (ends > starts),
    PRIMARY KEY (volunteer_id, weekday, starts)
);

CREATE TABLE staff (
    id             uuid        PRIMARY KEY,
    centre_id      uuid        NOT NULL,
    name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    position       text        NOT NULL CHECK (position IN ('government_affairs_clerk', 'nurse', 'doctor', 'teacher', 'social_worker', 'manager')),
    employed_from  date        NOT NULL,
    -- The last day worked; NULL while employed.
    employed_until date        CHECK (employed_until >= employed_from),
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_by_centre ON staff (centre_id, employed_from);

CREATE TABLE certifications (
    id                     uuid        PRIMARY KEY,
    centre_id              uuid        NOT NULL,
    holder_kind            text        NOT NULL CHECK (holder_kind IN ('staff', 'volunteer')),
    holder_id              uuid        NOT NULL,
    kind                   text        NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{1,49}$'),
    issuer                 text        NOT NULL CHECK (length(issuer) BETWEEN 1 AND 200),
    number                 text        NOT NULL CHECK (length(number) BETWEEN 1 AND 100),
    issued_on              date,
    expires_on             date,
    -- Set in the same transaction as the outbox row of volunteers.certification.expiring.
    expiring_announced_at  timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    CHECK (expires_on IS NULL OR issued_on IS NULL OR expires_on > issued_on)
);
CREATE INDEX certifications_by_holder ON certifications (holder_id, kind, expires_on);
CREATE INDEX certifications_to_announce ON certifications (expires_on)
    WHERE expiring_announced_at IS NULL AND expires_on IS NOT NULL;

CREATE TABLE courses (
    id        uuid PRIMARY KEY,
    centre_id uuid NOT NULL,
    title     text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    topic     text NOT NULL DEFAULT '',
    audience  text NOT NULL CHECK (audience IN ('staff', 'volunteers', 'all')),
    minutes   int  NOT NULL CHECK (minutes > 0)
);

CREATE TABLE training_sessions (
    id        uuid        PRIMARY KEY,
    centre_id uuid        NOT NULL,
    course_id uuid        NOT NULL REFERENCES courses (id),
    starts_at timestamptz NOT NULL,
    ends_at   timestamptz NOT NULL CHECK (ends_at > starts_at),
    location  text        NOT NULL DEFAULT '',
    capacity  int         NOT NULL CHECK (capacity > 0)
);

CREATE TABLE completions (
    id           uuid        PRIMARY KEY,
    centre_id    uuid        NOT NULL,
    course_id    uuid        NOT NULL REFERENCES courses (id),
    session_id   uuid        REFERENCES training_sessions (id),
    person_kind  text        NOT NULL CHECK (person_kind IN ('staff', 'volunteer')),
    person_id    uuid        NOT NULL,
    completed_on date        NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    -- Recording the same completion twice records it once.
    UNIQUE (course_id, person_id, completed_on)
);
CREATE INDEX completions_by_person ON completions (centre_id, person_kind, person_id, completed_on);

CREATE TABLE opportunities (
    id                      uuid    PRIMARY KEY,
    centre_id               uuid    NOT NULL,
    title                   text    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description             text    NOT NULL DEFAULT '',
    required_skills         text[]  NOT NULL DEFAULT '{}',
    required_certifications text[]  NOT NULL DEFAULT '{}',
    works_with_minors       boolean NOT NULL DEFAULT false,
    location                text    NOT NULL DEFAULT ''
);

CREATE TABLE shifts (
    id             uuid        PRIMARY KEY,
    centre_id      uuid        NOT NULL,
    opportunity_id uuid        NOT NULL REFERENCES opportunities (id),
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL CHECK (ends_at > starts_at),
    -- The shift's day in the centre's time zone: certifications must be valid on it.
    local_date     date        NOT NULL,
    capacity       int         NOT NULL CHECK (capacity > 0),
    -- Places taken. The check is the last word on capacity, whatever the concurrency.
    signed_up      int         NOT NULL DEFAULT 0,
    location       text        NOT NULL DEFAULT '',
    CONSTRAINT shifts_within_capacity CHECK (signed_up BETWEEN 0 AND capacity)
);
CREATE INDEX shifts_by_centre ON shifts (centre_id, starts_at);

-- A volunteer is never on two overlapping shifts: ranges are [start, end), so
-- back-to-back shifts are fine; a withdrawal frees the time.
CREATE TABLE assignments (
    id             uuid        PRIMARY KEY,
    centre_id      uuid        NOT NULL,
    shift_id       uuid        NOT NULL REFERENCES shifts (id),
    volunteer_id   uuid        NOT NULL REFERENCES volunteers (id),
    during         tstzrange   NOT NULL CHECK (NOT isempty(during)),
    status         text        NOT NULL DEFAULT 'signed_up' CHECK (status IN ('signed_up', 'withdrawn', 'checked_in', 'completed')),
    checked_in_at  timestamptz,
    checked_out_at timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (checked_out_at IS NULL OR checked_out_at > checked_in_at),
    CONSTRAINT volunteer_never_on_overlapping_shifts
        EXCLUDE USING gist (volunteer_id WITH =, during WITH &&) WHERE (status <> 'withdrawn')
);
CREATE INDEX assignments_by_shift ON assignments (shift_id, status);

CREATE TABLE hour_entries (
    id            uuid        PRIMARY KEY,
    centre_id     uuid        NOT NULL,
    volunteer_id  uuid        NOT NULL REFERENCES volunteers (id),
    -- One entry per assignment at most.
    assignment_id uuid        UNIQUE REFERENCES assignments (id),
    source        text        NOT NULL CHECK (source IN ('check_out', 'self_logged')),
    worked_on     date        NOT NULL,
    minutes       int         NOT NULL CHECK (minutes BETWEEN 1 AND 1440),
    status        text        NOT NULL CHECK (status IN ('pending', 'verified', 'rejected')),
    note          text        NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    logged_by     text        NOT NULL,
    verified_by   text,
    verified_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX hour_entries_by_volunteer ON hour_entries (volunteer_id, status, worked_on);
CREATE INDEX hour_entries_by_centre ON hour_entries (centre_id, worked_on);

-- A milestone is reached once: the primary key says so, and its outbox row is written in
-- the same transaction as this row.
CREATE TABLE milestones (
    volunteer_id uuid        NOT NULL REFERENCES volunteers (id),
    hours        int         NOT NULL CHECK (hours IN (50, 100, 500)),
    reached_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (volunteer_id, hours)
);

CREATE TABLE community_groups (
    id                uuid        PRIMARY KEY,
    centre_id         uuid        NOT NULL,
    name              text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind              text        NOT NULL CHECK (kind IN ('art_team', 'volunteer_group', 'interest_group')),
    description       text        NOT NULL DEFAULT '',
    support_rooms     text[]      NOT NULL DEFAULT '{}',
    support_equipment text[]      NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (centre_id, name)
);

CREATE TABLE group_members (
    group_id    uuid NOT NULL REFERENCES community_groups (id),
    resident_id uuid NOT NULL,
    role        text NOT NULL CHECK (role IN ('leader', 'member')),
    joined_on   date NOT NULL,
    PRIMARY KEY (group_id, resident_id)
);

CREATE TABLE reviews (
    id           uuid        PRIMARY KEY,
    centre_id    uuid        NOT NULL,
    staff_id     uuid        NOT NULL REFERENCES staff (id),
    period_start date        NOT NULL,
    period_end   date        NOT NULL CHECK (period_end >= period_start),
    reviewer     text        NOT NULL,
    criteria     text[]      NOT NULL,
    scores       int[]       NOT NULL CHECK (1 <= ALL (scores) AND 5 >= ALL (scores)),
    comments     text        NOT NULL DEFAULT '' CHECK (length(comments) <= 4000),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (cardinality(criteria) = cardinality(scores))
);
CREATE INDEX reviews_by_staff ON reviews (staff_id, period_start DESC);

-- From evaluation.staff.quality_updated: the latest figures per staff member.
CREATE TABLE staff_quality (
    staff_id              uuid        PRIMARY KEY,
    centre_id             uuid        NOT NULL,
    period                text        NOT NULL,
    satisfaction_permille int         NOT NULL,
    quality_permille      int         NOT NULL,
    responses             int         NOT NULL,
    updated_at            timestamptz NOT NULL
);
