-- Rate limits per caller kind (issue 25, item 8): a partner's agreement carries its own
-- rate on the partner gRPC port, requests per minute on average and at once. 0: the
-- default per-credential rate.

ALTER TABLE partner_agreements
    ADD COLUMN rate_per_minute integer NOT NULL DEFAULT 0 CHECK (rate_per_minute >= 0),
    ADD COLUMN rate_burst integer NOT NULL DEFAULT 0 CHECK (rate_burst >= 0);
