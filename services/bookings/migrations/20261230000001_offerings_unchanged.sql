-- Bookings keeps the offerings it has read in memory (store::Known): an offering, once
-- written, is never changed. The table holds every writer to that, so a later change that
-- needs to alter offerings meets this first, and must teach that memory to forget.
CREATE FUNCTION offerings_unchanged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an offering is never changed once written; bookings keeps offerings in memory';
END
$$;

CREATE TRIGGER offerings_unchanged BEFORE UPDATE ON offerings
    FOR EACH ROW EXECUTE FUNCTION offerings_unchanged();
