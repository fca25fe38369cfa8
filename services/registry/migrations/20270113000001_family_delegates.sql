-- Family (issue 23): an adult resident lets a named family member of the same centre act
-- for them. Recorded as a consent of its own purpose, with the member in delegate_id; the
-- latest record per (resident, delegate) is what holds now, as for other purposes.

ALTER TABLE consents DROP CONSTRAINT consents_purpose_check;
ALTER TABLE consents ADD CONSTRAINT consents_purpose_check
    CHECK (purpose IN ('service_delivery', 'activity_contact', 'partner_sharing', 'family_delegate'));
ALTER TABLE consents ADD COLUMN delegate_id uuid REFERENCES residents (id);
ALTER TABLE consents ADD CONSTRAINT consents_delegate_named
    CHECK ((purpose = 'family_delegate') = (delegate_id IS NOT NULL));

-- Who has let a resident act for them, read at every sign-in.
CREATE INDEX consents_by_delegate ON consents (delegate_id, resident_id, id DESC)
    WHERE delegate_id IS NOT NULL;
