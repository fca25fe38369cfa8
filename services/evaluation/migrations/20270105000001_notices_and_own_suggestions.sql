-- The participation part of evaluation (issue 23): notices and activity announcements,
-- and suggestions residents send themselves.
--
-- A notice is shown from publish_from until publish_until (none: no end) to its audience:
-- everyone when both lists are empty, otherwise residents in any of the categories or age
-- bands, read from the directory at the moment a resident asks.
CREATE TABLE notices (
    id                  uuid        PRIMARY KEY,
    centre_id           uuid        NOT NULL,
    title               text        NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    body                text        NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    kind                text        NOT NULL CHECK (kind IN ('notice', 'activity')),
    publish_from        timestamptz NOT NULL,
    publish_until       timestamptz CHECK (publish_until > publish_from),
    pinned              boolean     NOT NULL DEFAULT false,
    audience_categories text[]      NOT NULL DEFAULT '{}',
    audience_age_bands  text[]      NOT NULL DEFAULT '{}',
    offering_id         uuid,
    session_id          uuid CHECK (session_id IS NULL OR offering_id IS NOT NULL),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notices_by_centre ON notices (centre_id, pinned DESC, publish_from DESC, id DESC);

-- Who sent a suggestion through the residents' site, named or not: only so that they can
-- read its status and reply. Staff see resident_id, which is empty for an anonymous one;
-- submitted_by is never in a staff answer. An erasure forgets both.
ALTER TABLE suggestions ADD COLUMN submitted_by uuid;
CREATE INDEX suggestions_by_submitter ON suggestions (submitted_by, received_at)
    WHERE submitted_by IS NOT NULL;
