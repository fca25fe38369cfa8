-- Residents' one-time sign-in codes. A row for every code asked for, whether or not a
-- resident has the number (so a number nobody has answers exactly as one somebody has),
-- holding neither the number nor the code: the number and the asking client by their
-- blind indexes, the code as a keyed hash of the row's id and the code. The rows of the
-- last hour are the rate limits; older ones are deleted as new ones are made.

CREATE TABLE sign_in_codes (
    id           uuid        PRIMARY KEY,
    phone_index  bytea       NOT NULL,
    client_index bytea       NOT NULL,
    code_hash    bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    wrong_tries  integer     NOT NULL DEFAULT 0 CHECK (wrong_tries >= 0)
);

CREATE INDEX sign_in_codes_by_phone ON sign_in_codes (phone_index, created_at DESC);
CREATE INDEX sign_in_codes_by_client ON sign_in_codes (client_index, created_at DESC);
CREATE INDEX sign_in_codes_by_age ON sign_in_codes (created_at);
