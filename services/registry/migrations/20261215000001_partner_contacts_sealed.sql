-- Partner contacts name people and their phone numbers: sealed like residents' phones
-- (AES-256-GCM, with the id of the key that sealed them), never stored in clear. Rows
-- written before this migration are sealed by the registry when it starts
-- (`store::partners::seal_clear_contacts`), which then empties the clear column.
ALTER TABLE partners
    ADD COLUMN contacts_sealed bytea,
    ADD COLUMN contacts_key_id text,
    ADD CHECK ((contacts_sealed IS NULL) = (contacts_key_id IS NULL));
