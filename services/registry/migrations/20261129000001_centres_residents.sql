-- Centres of the district and the residents registered at them.

CREATE TABLE centres (
    id         uuid        PRIMARY KEY,
    code       text        NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9-]{2,32}$'),
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    address    text        NOT NULL DEFAULT '',
    time_zone  text        NOT NULL DEFAULT 'Asia/Shanghai',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE residents (
    id            uuid        PRIMARY KEY,
    centre_id     uuid        NOT NULL REFERENCES centres (id),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    gender        text        NOT NULL CHECK (gender IN ('male', 'female')),
    date_of_birth date        NOT NULL,
    -- The phone number sealed with AES-256-GCM, the id of the key that sealed it, and a
    -- keyed hash for exact lookup. Never stored in clear.
    phone_sealed  bytea,
    phone_key_id  text,
    phone_index   bytea,
    registered_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((phone_sealed IS NULL) = (phone_key_id IS NULL) AND (phone_sealed IS NULL) = (phone_index IS NULL))
);

-- Keyset pagination: newest registration first, id as the tie-breaker.
CREATE INDEX residents_by_centre ON residents (centre_id, registered_at DESC, id DESC);
CREATE INDEX residents_by_phone ON residents (centre_id, phone_index) WHERE phone_index IS NOT NULL;
