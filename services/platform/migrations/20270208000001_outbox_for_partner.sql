-- Whether an event concerns a partner's offering (it names the offering's provider): the
-- relay also routes such an event under `partner.<routing key>` (as a BCC), so the
-- consumers that serve partners (who booked which partner's offering, partners' webhooks)
-- bind that key and never take the district's other bookings. Rows written before this
-- column say false: published without the partner key, they reach those consumers through
-- the direct binding an earlier build made, which stays until removed by hand.
ALTER TABLE outbox ADD COLUMN for_partner boolean NOT NULL DEFAULT false;
