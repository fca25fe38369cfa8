-- How the desk closed a resident's correction request: applied (the record was changed
-- with the ordinary correction, status 'done') or declined with a reason the resident
-- reads on their site; who closed it and when. Open requests of a centre are what the
-- desk's list reads, oldest first.
ALTER TABLE correction_requests DROP CONSTRAINT correction_requests_status_check;
ALTER TABLE correction_requests
    ADD CONSTRAINT correction_requests_status_check CHECK (status IN ('open', 'done', 'declined')),
    ADD COLUMN closed_by      text,
    ADD COLUMN closed_at      timestamptz,
    ADD COLUMN decline_reason text,
    ADD CONSTRAINT correction_requests_closed CHECK (
        (status = 'open') = (closed_at IS NULL)
        AND (status = 'declined') = (decline_reason IS NOT NULL));

CREATE INDEX correction_requests_open ON correction_requests (centre_id, requested_at)
    WHERE status = 'open';
