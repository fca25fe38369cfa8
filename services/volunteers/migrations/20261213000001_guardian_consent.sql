-- When the desk recorded a guardian's consent with a registration: required for a
-- volunteer aged 14 to 17.
ALTER TABLE volunteers ADD COLUMN guardian_consent_at timestamptz;
