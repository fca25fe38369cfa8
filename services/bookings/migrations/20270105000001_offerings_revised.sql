-- Offerings may now be revised (fee, capacity) and retired (issue 24). Bookings keeps the
-- offerings it has read in memory (store::Known), on every replica: each change raises the
-- row's revision, and the statement that books from memory checks the revision it
-- remembered is still the row's, so a replica that has not heard of a change reads the
-- offering afresh instead of booking at the old fee.
ALTER TABLE offerings ADD COLUMN revision integer NOT NULL DEFAULT 0;

DROP TRIGGER offerings_unchanged ON offerings;
DROP FUNCTION offerings_unchanged();

-- Only the fee, the capacity and whether it is offered change, and only with a higher
-- revision; a retired offering is never offered again.
CREATE FUNCTION offerings_revised() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.revision <= OLD.revision THEN
        RAISE EXCEPTION 'an offering changes only with a higher revision';
    END IF;
    IF (NEW.id, NEW.centre_id, NEW.category, NEW.kind, NEW.name, NEW.description, NEW.provider,
        NEW.provider_id, NEW.min_age, NEW.max_age, NEW.eligible_categories, NEW.currency,
        NEW.concession_categories, NEW.concession_prices, NEW.facility_id, NEW.staff_id)
       IS DISTINCT FROM
       (OLD.id, OLD.centre_id, OLD.category, OLD.kind, OLD.name, OLD.description, OLD.provider,
        OLD.provider_id, OLD.min_age, OLD.max_age, OLD.eligible_categories, OLD.currency,
        OLD.concession_categories, OLD.concession_prices, OLD.facility_id, OLD.staff_id) THEN
        RAISE EXCEPTION 'only an offering''s fee, capacity and being offered change';
    END IF;
    IF NEW.active AND NOT OLD.active THEN
        RAISE EXCEPTION 'a retired offering is not offered again';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER offerings_revised BEFORE UPDATE ON offerings
    FOR EACH ROW EXECUTE FUNCTION offerings_revised();
