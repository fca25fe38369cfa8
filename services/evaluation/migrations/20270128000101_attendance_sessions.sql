-- The session an attendance was for (NULL for a facility booking, and for attendances
-- recorded before this column), so a check-in taken back at the desk
-- (bookings.booking.check_in_undone) removes exactly its own attendance.
ALTER TABLE attendances ADD COLUMN session_id uuid;
CREATE INDEX attendances_by_booking ON attendances (booking_id);
