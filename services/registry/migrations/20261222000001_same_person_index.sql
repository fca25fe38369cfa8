-- A registration, and each row of an import, looks for a resident of the centre with the
-- same name and date of birth (`same_person!` in store.rs): find them by index rather
-- than by reading every resident of the centre.
CREATE INDEX residents_by_name_and_birth ON residents (centre_id, name, date_of_birth);
