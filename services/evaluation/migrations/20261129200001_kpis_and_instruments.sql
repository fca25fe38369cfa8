-- Evaluation's projections of other services' facts, the log of those facts (so the
-- projections can be rebuilt), and its own instruments: surveys, follow-ups, inspections
-- and the suggestion box.

-- Every fact a projection was built from, in arrival order. Rebuilding replays this log.
CREATE TABLE facts (
    event_id    uuid        PRIMARY KEY,
    seq         bigserial   NOT NULL UNIQUE,
    routing_key text        NOT NULL,
    message_type text       NOT NULL,
    centre_id   uuid,
    -- The resident a fact is about: an erasure deletes their facts, so the log keeps no
    -- link to them either.
    resident_id uuid,
    payload     bytea       NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX facts_by_resident ON facts (resident_id) WHERE resident_id IS NOT NULL;

CREATE TABLE centres (
    id        uuid PRIMARY KEY,
    time_zone text NOT NULL
);

-- Active from registration until the day they left (moved out, died); NULL while here.
ALTER TABLE registered_residents ADD COLUMN left_on date;

-- One row per attended session: participation counts distinct residents.
CREATE TABLE attendances (
    event_id    uuid        PRIMARY KEY,
    booking_id  uuid        NOT NULL,
    centre_id   uuid        NOT NULL,
    offering_id uuid        NOT NULL,
    resident_id uuid,
    category    text        NOT NULL,
    attended_at timestamptz NOT NULL
);
CREATE INDEX attendances_by_centre ON attendances (centre_id, attended_at);

CREATE TABLE facilities (
    id         uuid   PRIMARY KEY,
    centre_id  uuid   NOT NULL,
    opens      time   NOT NULL,
    closes     time   NOT NULL,
    open_days  int[]  NOT NULL,
    time_zone  text   NOT NULL
);

CREATE TABLE facility_holds (
    hold_id     uuid        PRIMARY KEY,
    facility_id uuid        NOT NULL,
    centre_id   uuid        NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    released_at timestamptz
);
CREATE INDEX facility_holds_by_centre ON facility_holds (centre_id, starts_at);

-- Survey templates; a NULL centre is district-wide.
CREATE TABLE survey_templates (
    id         uuid        PRIMARY KEY,
    centre_id  uuid,
    kind       text        NOT NULL CHECK (kind IN ('satisfaction', 'awareness', 'periodic')),
    title      text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE survey_questions (
    template_id uuid   NOT NULL REFERENCES survey_templates (id),
    position    int    NOT NULL,
    key         text   NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,39}$'),
    text        text   NOT NULL,
    kind        text   NOT NULL CHECK (kind IN ('scale', 'single', 'multiple', 'text')),
    options     text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (template_id, position),
    UNIQUE (template_id, key)
);

-- The district's default instruments, the same on every machine.
INSERT INTO survey_templates (id, centre_id, kind, title) VALUES
    ('5a7e0000-0000-4000-8000-000000000001', NULL, 'satisfaction', '服务满意度回访'),
    ('5a7e0000-0000-4000-8000-000000000002', NULL, 'awareness', '社区服务知晓度调查');
INSERT INTO survey_questions (template_id, position, key, text, kind, options) VALUES
    ('5a7e0000-0000-4000-8000-000000000001', 1, 'satisfaction', '您对本次服务的总体满意程度（1–5）', 'scale', '{}'),
    ('5a7e0000-0000-4000-8000-000000000001', 2, 'effectiveness', '服务是否解决了您的问题（1–5）', 'scale', '{}'),
    ('5a7e0000-0000-4000-8000-000000000001', 3, 'professionalism', '工作人员的专业程度（1–5）', 'scale', '{}'),
    ('5a7e0000-0000-4000-8000-000000000001', 4, 'comment', '其他意见和建议', 'text', '{}'),
    ('5a7e0000-0000-4000-8000-000000000002', 1, 'knows_services', '您是否了解社区服务中心提供的服务？', 'single', '{yes,no}'),
    ('5a7e0000-0000-4000-8000-000000000002', 2, 'used_services', '您用过哪些服务？', 'multiple',
        '{government_affairs,life_services,health,culture_education,elderly_care,youth}');

-- An invitation to answer a survey; one per delivered service at most.
CREATE TABLE invitations (
    id          uuid        PRIMARY KEY,
    centre_id   uuid        NOT NULL,
    template_id uuid        NOT NULL REFERENCES survey_templates (id),
    resident_id uuid,
    delivery_id text        UNIQUE,
    offering_id uuid,
    staff_id    uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    answered_at timestamptz
);
CREATE INDEX invitations_by_centre ON invitations (centre_id, created_at DESC);
CREATE INDEX invitations_by_resident ON invitations (resident_id) WHERE resident_id IS NOT NULL;

CREATE TABLE answers (
    invitation_id uuid   NOT NULL REFERENCES invitations (id),
    key           text   NOT NULL,
    score         int    CHECK (score BETWEEN 1 AND 5),
    choices       text[] NOT NULL DEFAULT '{}',
    text          text   NOT NULL DEFAULT '',
    PRIMARY KEY (invitation_id, key)
);

CREATE TABLE follow_ups (
    id          uuid        PRIMARY KEY,
    centre_id   uuid        NOT NULL,
    resident_id uuid,
    staff_id    uuid        NOT NULL,
    reason      text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    due_on      date        NOT NULL,
    status      text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'unreachable')),
    outcome     text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz
);
CREATE INDEX follow_ups_by_centre ON follow_ups (centre_id, status, due_on);

CREATE TABLE inspections (
    id           uuid        PRIMARY KEY,
    centre_id    uuid        NOT NULL,
    inspector    text        NOT NULL CHECK (length(inspector) BETWEEN 1 AND 100),
    inspected_on date        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inspection_items (
    inspection_id uuid NOT NULL REFERENCES inspections (id),
    position      int  NOT NULL,
    item          text NOT NULL CHECK (length(item) BETWEEN 1 AND 200),
    passed        boolean NOT NULL,
    score         int  NOT NULL CHECK (score BETWEEN 0 AND 10),
    note          text NOT NULL DEFAULT '',
    PRIMARY KEY (inspection_id, position)
);

CREATE TABLE suggestions (
    id          uuid        PRIMARY KEY,
    centre_id   uuid        NOT NULL,
    resident_id uuid,
    channel     text        NOT NULL CHECK (channel IN ('box', 'phone', 'online', 'in_person')),
    text        text        NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
    status      text        NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'in_progress', 'answered', 'closed')),
    reply       text        NOT NULL DEFAULT '',
    received_at timestamptz NOT NULL DEFAULT now(),
    answered_at timestamptz,
    closed_at   timestamptz,
    CHECK ((status IN ('answered', 'closed')) = (answered_at IS NOT NULL))
);
CREATE INDEX suggestions_by_centre ON suggestions (centre_id, status, received_at);

-- From finance.entry.posted: each entry's effect on own income and expenditure, by the
-- centre's calendar day (reversals carry negative amounts).
CREATE TABLE ledger_effects (
    entry_id          uuid   PRIMARY KEY,
    centre_id         uuid   NOT NULL,
    entry_date        date   NOT NULL,
    own_income_minor  bigint NOT NULL,
    expenditure_minor bigint NOT NULL
);
CREATE INDEX ledger_effects_by_centre ON ledger_effects (centre_id, entry_date);

-- From volunteers.volunteer.*: each change of a volunteer between active and not.
CREATE TABLE volunteer_changes (
    event_id     uuid        PRIMARY KEY,
    volunteer_id uuid        NOT NULL,
    centre_id    uuid        NOT NULL,
    active       boolean     NOT NULL,
    changed_at   timestamptz NOT NULL
);
CREATE INDEX volunteer_changes_by_centre ON volunteer_changes (centre_id, volunteer_id, changed_at);

-- From volunteers.staff.joined|left.
CREATE TABLE staff (
    staff_id       uuid PRIMARY KEY,
    centre_id      uuid NOT NULL,
    employed_from  date NOT NULL,
    employed_until date
);

-- From volunteers.training.completed.
CREATE TABLE training_completions (
    completion_id uuid PRIMARY KEY,
    centre_id     uuid NOT NULL,
    person_kind   text NOT NULL,
    person_id     uuid NOT NULL,
    completed_on  date NOT NULL
);
CREATE INDEX training_completions_by_person ON training_completions (person_id, completed_on);
