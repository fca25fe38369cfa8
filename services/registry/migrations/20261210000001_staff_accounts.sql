-- Staff accounts for the web console, and their sessions. A password is stored only as an
-- argon2id hash (PHC string); a session row is what sign-out ends, so a stolen cookie dies
-- with it even before its token expires.
CREATE TABLE staff_accounts (
    id              uuid PRIMARY KEY,
    username        text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,31}$'),
    display_name    text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 64),
    password_hash   text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    roles           text[] NOT NULL CHECK (cardinality(roles) > 0),
    centres         uuid[] NOT NULL DEFAULT '{}',
    active          boolean NOT NULL DEFAULT true,
    -- Wrong passwords since the last success; at five the account locks.
    failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    created_by      text NOT NULL
);

CREATE INDEX staff_accounts_centres ON staff_accounts USING gin (centres);

CREATE TABLE staff_sessions (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES staff_accounts (id),
    started_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    CHECK (expires_at > started_at)
);

CREATE INDEX staff_sessions_account ON staff_sessions (account_id);
