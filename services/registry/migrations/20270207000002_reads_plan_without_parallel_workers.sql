-- The registry's reads are pages: fifty residents of one centre, found through an index
-- and stopped as soon as the page is full. At 5 M residents the planner gave some of them
-- parallel workers (a skill search of one centre: two workers, each scanning ahead of the
-- page, 9.9 ms against 1.3 ms alone; initials 24 ms against 10 ms), and a worker is a
-- process started for the one statement, competing for the same cores as every other
-- request. The registry's connections plan without them. Set on the database, so it holds
-- whatever pool or connection pooler stands in front of it; it applies to connections
-- opened after this migration.

DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET max_parallel_workers_per_gather = 0', current_database());
END
$$;
