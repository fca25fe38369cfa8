-- From registry.resident.consent_changed (purpose partner_sharing): whether a resident's
-- consent to sharing with partners holds, so a partner reading bookings of its offerings
-- sees who booked only when the resident agreed. Kept apart from `residents` so a consent
-- heard before the resident's registration is not lost; the latest record (by the time
-- the registry recorded it) wins, whatever order the events arrive in. No row: never
-- consented, or consented before bookings listened (the registry's consents are not
-- replayed), and the partner sees no resident.
CREATE TABLE partner_sharing (
    resident_id uuid        PRIMARY KEY,
    granted     boolean     NOT NULL,
    recorded_at timestamptz NOT NULL
);
