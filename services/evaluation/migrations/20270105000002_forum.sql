-- The forum (居民议事), the participation part's message board: a post with no thread_id
-- opens a thread (with a title); the others reply to one. Staff hide and restore any
-- post, pin and lock threads; a resident reports a post once.
CREATE TABLE forum_posts (
    id               uuid        PRIMARY KEY,
    centre_id        uuid        NOT NULL,
    thread_id        uuid        REFERENCES forum_posts (id),
    author_id        uuid,
    title            text        NOT NULL DEFAULT '',
    body             text        NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
    hidden           boolean     NOT NULL DEFAULT false,
    pinned           boolean     NOT NULL DEFAULT false,
    locked           boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    last_activity_at timestamptz NOT NULL,
    CHECK ((thread_id IS NULL) = (length(title) BETWEEN 1 AND 60)),
    CHECK (thread_id IS NULL OR NOT (pinned OR locked))
);
CREATE INDEX forum_threads ON forum_posts (centre_id, pinned DESC, last_activity_at DESC, id DESC)
    WHERE thread_id IS NULL;
CREATE INDEX forum_replies ON forum_posts (thread_id, created_at);

CREATE TABLE forum_reports (
    post_id     uuid        NOT NULL REFERENCES forum_posts (id),
    reporter_id uuid        NOT NULL,
    reported_at timestamptz NOT NULL,
    PRIMARY KEY (post_id, reporter_id)
);
