-- Kept figures (issue 25) count a few centres at a time, so each part of the KPI count must
-- reach one centre's rows without reading the whole table: satisfaction and awareness
-- read a centre's invitations answered in the period, which the index by creation time
-- could not find. At 100 centres x 10,000 residents a count of 5 centres for a month took
-- 727 ms without it (the invitations read whole) and 290-380 ms with it.
CREATE INDEX invitations_answered_by_centre ON invitations (centre_id, answered_at)
    WHERE answered_at IS NOT NULL;
