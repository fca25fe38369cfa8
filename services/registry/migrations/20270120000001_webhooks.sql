-- Webhooks: an agreement's endpoint for the event types its scopes cover, and one
-- delivery row per (agreement, event), written in the webhook consumer's inbox
-- transaction and sent by the registry's sender loop. The secret is sealed like other
-- secrets (AES-256-GCM under the data key, its key id beside it).

CREATE TABLE agreement_webhooks (
    agreement_id   uuid        PRIMARY KEY REFERENCES partner_agreements (id),
    url            text        NOT NULL CHECK (url ~ '^https?://'),
    event_types    text[]      NOT NULL CHECK (cardinality(event_types) > 0),
    secret_sealed  bytea       NOT NULL,
    secret_key_id  text        NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id               uuid        PRIMARY KEY,
    agreement_id     uuid        NOT NULL REFERENCES partner_agreements (id),
    event_id         uuid        NOT NULL,
    event_type       text        NOT NULL,
    centre_id        uuid        NOT NULL,
    -- The exact JSON sent (what is signed): the event's ids and codes, never a name,
    -- phone or ID number (events carry none).
    body             text        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending'
                                 CHECK (status IN ('pending', 'delivered', 'failing')),
    attempts         integer     NOT NULL DEFAULT 0,
    last_http_status integer,
    last_error       text        NOT NULL DEFAULT '',
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (agreement_id, event_id)
);

-- What the sender looks for: deliveries not yet delivered, by when they are due.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE status <> 'delivered';
CREATE INDEX webhook_deliveries_agreement ON webhook_deliveries (agreement_id, created_at DESC, id DESC);
