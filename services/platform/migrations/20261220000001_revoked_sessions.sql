-- Console sessions that ended before their time (sign-out, a disabled account): a token
-- naming one in its `sid` claim is refused until `expires_at`, when its own expiry takes
-- over and the row can go. The registry writes its rows with the end itself; every other
-- service from `registry.session.ended`, in the inbox's transaction.
CREATE TABLE revoked_sessions (
    session_id  uuid        PRIMARY KEY,
    expires_at  timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX revoked_sessions_expiry ON revoked_sessions (expires_at);
