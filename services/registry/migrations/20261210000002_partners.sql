-- Partner organisations, their agreements with centres, and the client certificates their
-- systems present. A partner's access is computed from these rows on every call, so a
-- revoked agreement or credential takes effect at once.

CREATE TABLE partners (
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind       text        NOT NULL CHECK (kind IN ('government', 'enterprise', 'social_organisation')),
    -- [{"name", "role", "phone", "email"}]: who to call at the organisation.
    contacts   jsonb       NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX partners_name ON partners (lower(name));

CREATE TABLE partner_agreements (
    id             uuid        PRIMARY KEY,
    partner_id     uuid        NOT NULL REFERENCES partners (id),
    centre_id      uuid        NOT NULL REFERENCES centres (id),
    provides       text        NOT NULL,
    scopes         text[]      NOT NULL CHECK (cardinality(scopes) > 0),
    valid_from     date        NOT NULL,
    valid_until    date        NOT NULL CHECK (valid_until > valid_from),
    revoked_at     timestamptz,
    revoked_reason text        NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX partner_agreements_partner ON partner_agreements (partner_id);

CREATE TABLE partner_credentials (
    id          uuid        PRIMARY KEY,
    partner_id  uuid        NOT NULL REFERENCES partners (id),
    -- Lower-case hex SHA-256 of the certificate's DER: what the listener looks up.
    fingerprint text        NOT NULL UNIQUE CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    subject     text        NOT NULL,
    not_after   timestamptz NOT NULL,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
