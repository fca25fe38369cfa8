-- `Idempotency-Key` for every create (see `idempotency.rs`): one claim per caller, method
-- and key, written as the first statement of the transaction that applies the create, so
-- the claim and the effect commit together or not at all; then the create's answer,
-- sealed, for a retry to receive again. Answers are kept a day; claims are kept, so a key
-- is never applied twice.

CREATE TABLE idempotency_keys (
    subject       text        NOT NULL,
    method        text        NOT NULL,
    key           text        NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    -- A keyed hash of the request's bytes: the same key with another request is refused.
    request_hash  bytea       NOT NULL,
    -- The one request (of several sent with the key) whose transaction holds the claim.
    attempt       uuid        NOT NULL,
    claimed_at    timestamptz NOT NULL DEFAULT now(),
    answered_at   timestamptz,
    answer_sealed bytea,
    answer_key_id text,
    PRIMARY KEY (subject, method, key)
);

CREATE INDEX idempotency_answers_kept ON idempotency_keys (answered_at)
    WHERE answer_sealed IS NOT NULL;

-- Claims the key for `p_attempt` in the calling transaction. A claim that another
-- request holds (committed, or committed while this one waited on it) raises LI409 and
-- so aborts the transaction before anything else is applied; a claim this same request
-- took in an earlier transaction of its own (a create that commits in two steps, or one
-- retried after a deadlock) is left as it is.
CREATE FUNCTION linli_claim_idempotency_key(
    p_subject text, p_method text, p_key text, p_hash bytea, p_attempt uuid
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO idempotency_keys (subject, method, key, request_hash, attempt)
    VALUES (p_subject, p_method, p_key, p_hash, p_attempt)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND AND NOT EXISTS (
        SELECT 1 FROM idempotency_keys
        WHERE subject = p_subject AND method = p_method AND key = p_key
          AND attempt = p_attempt
    ) THEN
        RAISE EXCEPTION 'this Idempotency-Key was claimed by another request'
            USING ERRCODE = 'LI409';
    END IF;
END
$$;
