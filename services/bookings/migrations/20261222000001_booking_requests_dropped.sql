-- A booking's Idempotency-Key is claimed in the platform's `idempotency_keys`, as every
-- create's is, scoped to the caller who sent it rather than to the centre.
DROP TABLE booking_requests;
