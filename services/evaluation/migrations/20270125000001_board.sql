-- The board (理事会) of a centre: members with terms and committees, the audit of every
-- membership change, meetings with attendance, agenda and minutes, and decisions tracked
-- to done (issue 24). The finance oversight group (财务监督小组) is the committee
-- `finance_oversight`; its members are the centre's auditors.
CREATE TABLE board_members (
    id             uuid        PRIMARY KEY,
    centre_id      uuid        NOT NULL,
    name           text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    sector         text        NOT NULL CHECK (sector IN ('resident', 'government', 'business', 'ngo')),
    resident_id    uuid,
    partner_id     uuid,
    role           text        NOT NULL DEFAULT 'member' CHECK (role IN ('chair', 'vice_chair', 'secretary', 'member')),
    committees     text[]      NOT NULL DEFAULT '{}' CHECK (committees <@ ARRAY['finance_oversight']),
    term_from      date        NOT NULL,
    term_until     date        NOT NULL CHECK (term_until >= term_from),
    ended_on       date        CHECK (ended_on BETWEEN term_from AND term_until),
    staff_username text        NOT NULL DEFAULT '' CHECK (length(staff_username) <= 32),
    created_at     timestamptz NOT NULL DEFAULT now(),
    -- A resident sits for the residents.
    CHECK ((sector = 'resident') = (resident_id IS NOT NULL))
);
CREATE INDEX board_members_by_centre ON board_members (centre_id, term_from);

-- Every membership change, in the same transaction as the change and its event.
CREATE TABLE board_audit (
    id        uuid        PRIMARY KEY,
    centre_id uuid        NOT NULL,
    member_id uuid        NOT NULL REFERENCES board_members (id),
    action    text        NOT NULL CHECK (action IN ('added', 'committee_joined', 'committee_left', 'ended')),
    committee text        NOT NULL DEFAULT '',
    actor     text        NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX board_audit_by_centre ON board_audit (centre_id, at DESC);

CREATE TABLE board_meetings (
    id           uuid        PRIMARY KEY,
    centre_id    uuid        NOT NULL,
    held_on      date        NOT NULL,
    title        text        NOT NULL DEFAULT '' CHECK (length(title) <= 200),
    agenda       text[]      NOT NULL DEFAULT '{}',
    minutes      text        NOT NULL DEFAULT '' CHECK (length(minutes) <= 20000),
    attendee_ids uuid[]      NOT NULL DEFAULT '{}',
    recorded_by  text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX board_meetings_by_centre ON board_meetings (centre_id, held_on DESC);

CREATE TABLE board_decisions (
    id              uuid        PRIMARY KEY,
    centre_id       uuid        NOT NULL,
    meeting_id      uuid        NOT NULL REFERENCES board_meetings (id),
    text            text        NOT NULL CHECK (length(text) BETWEEN 1 AND 2000),
    owner_member_id uuid        NOT NULL REFERENCES board_members (id),
    due_on          date        NOT NULL,
    done_on         date,
    done_by         text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX board_decisions_by_centre ON board_decisions (centre_id, due_on);
