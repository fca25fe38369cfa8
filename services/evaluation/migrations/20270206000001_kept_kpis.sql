-- Kept figures (issue 25): each centre's KPI counts for a period, as `kpi_figures` last
-- counted them, so the district roll-up reads a hundred rows instead of counting a
-- year of attendances for every centre on every read. A read uses a row younger than
-- LINLI_KPI_MAX_AGE and counts the others again; a refresher in the service recounts
-- the rows asked for in the last day before they grow old. Counts only, never a person:
-- derived from the projections, emptied with them by a rebuild.
CREATE TABLE kept_kpis (
    centre_id uuid NOT NULL,
    -- As Period::name gives it: 2027-03, 2027-Q1 or 2027.
    period text NOT NULL,
    satisfied bigint NOT NULL,
    satisfaction_answers bigint NOT NULL,
    aware bigint NOT NULL,
    awareness_answers bigint NOT NULL,
    attended bigint NOT NULL,
    active_residents bigint NOT NULL,
    active_volunteers bigint NOT NULL,
    trained_staff bigint NOT NULL,
    staff bigint NOT NULL,
    own_income_minor bigint NOT NULL,
    expenditure_minor bigint NOT NULL,
    held_seconds bigint NOT NULL,
    registered bigint NOT NULL,
    -- The period's bounds in the centre's zone when counted: a centre whose zone has
    -- changed since has other bounds, and its row is counted again.
    window_from timestamptz NOT NULL,
    window_to timestamptz NOT NULL,
    computed_at timestamptz NOT NULL,
    last_asked_at timestamptz NOT NULL,
    PRIMARY KEY (centre_id, period),
    CHECK (window_from < window_to)
);

-- The refresher's pick: rows asked for lately whose counts are growing old.
CREATE INDEX kept_kpis_asked ON kept_kpis (last_asked_at, computed_at);
