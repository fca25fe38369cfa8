-- What the front door of a centre says: its opening hours and a phone number to call.

ALTER TABLE centres
    ADD COLUMN opening_hours text NOT NULL DEFAULT '' CHECK (length(opening_hours) <= 200),
    ADD COLUMN contact_phone text NOT NULL DEFAULT '' CHECK (length(contact_phone) <= 32),
    ADD COLUMN updated_at    timestamptz NOT NULL DEFAULT now();
