-- Every booking asks whether the resident already has a place in the session. Through
-- bookings that cost one probe per booking the resident ever made, times the session's
-- seats; with the resident on the seat it is one probe of this index, and the database
-- itself keeps a resident to one place (or waitlist place) per session. An erasure
-- clears it with the booking's.
ALTER TABLE seats ADD COLUMN resident_id uuid;
UPDATE seats x SET resident_id = b.resident_id
FROM bookings b WHERE b.id = x.booking_id AND b.resident_id IS NOT NULL;
CREATE UNIQUE INDEX seats_one_place ON seats (session_id, resident_id)
    WHERE state IN ('held', 'waiting');
