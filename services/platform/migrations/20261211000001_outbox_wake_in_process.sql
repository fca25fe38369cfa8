-- The relay is woken from inside the process now (see bus/outbox.rs): a NOTIFY at commit
-- takes a database-wide lock held through the commit's WAL flush, so every transaction
-- that wrote an event committed one at a time.
DROP TRIGGER IF EXISTS outbox_notify ON outbox;
DROP FUNCTION IF EXISTS outbox_notify();
