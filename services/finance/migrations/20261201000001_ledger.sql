-- The ledger. Every invariant that code could forget or concurrency could break is held
-- here: entries balance (checked at commit), entries and their lines never change, and
-- nothing posts into a closed month. Money is bigint minor units with a currency.

-- A centre finance keeps books for; its chart of accounts is seeded when it first appears.
CREATE TABLE centres (
    id         uuid        PRIMARY KEY,
    time_zone  text        NOT NULL DEFAULT 'Asia/Shanghai',
    currency   text        NOT NULL DEFAULT 'CNY' CHECK (currency ~ '^[A-Z]{3}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Every entry is in its centre's currency (see journal_entries), so sums never mix.
    UNIQUE (id, currency)
);

CREATE TABLE accounts (
    centre_id       uuid NOT NULL REFERENCES centres (id),
    code            text NOT NULL,
    name            text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('asset', 'liability', 'net_assets', 'income', 'expenditure')),
    funding_source  text CHECK (funding_source IN ('appropriation', 'special_fund', 'donation', 'service_fee', 'partnership')),
    budget_category text CHECK (budget_category IN ('personnel', 'service_costs', 'equipment_purchase', 'equipment_maintenance', 'office_costs')),
    PRIMARY KEY (centre_id, code),
    CHECK ((funding_source IS NULL) OR kind = 'income'),
    CHECK ((budget_category IS NULL) OR kind = 'expenditure')
);

-- Months that have been closed (a month with no row, or no closed_at, is open). Posting
-- takes a share lock on its month's row, closing an exclusive one, so a close waits for
-- postings in flight and a posting after the close sees it.
CREATE TABLE periods (
    centre_id uuid        NOT NULL REFERENCES centres (id),
    month     date        NOT NULL CHECK (extract(day FROM month) = 1),
    closed_at timestamptz,
    closed_by text,
    PRIMARY KEY (centre_id, month),
    CHECK ((closed_at IS NULL) = (closed_by IS NULL))
);

CREATE TABLE journal_entries (
    id          uuid        PRIMARY KEY,
    centre_id   uuid        NOT NULL REFERENCES centres (id),
    entry_date  date        NOT NULL,
    description text        NOT NULL,
    source      text        NOT NULL CHECK (source IN ('manual', 'expense', 'grant', 'donation', 'partnership', 'fee', 'refund', 'reversal')),
    -- What outside the ledger caused it (a fee charge id, a refund id), once per centre.
    source_ref  text,
    reverses    uuid        UNIQUE REFERENCES journal_entries (id),
    currency    text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    posted_at   timestamptz NOT NULL DEFAULT now(),
    posted_by   text        NOT NULL,
    -- The transaction that posted it: lines may only be added by that same transaction.
    posted_in   xid8        NOT NULL DEFAULT pg_current_xact_id(),
    UNIQUE (id, centre_id),
    UNIQUE (centre_id, source, source_ref),
    FOREIGN KEY (centre_id, currency) REFERENCES centres (id, currency),
    CHECK ((source = 'reversal') = (reverses IS NOT NULL))
);

CREATE INDEX journal_entries_by_date ON journal_entries (centre_id, entry_date);

CREATE TABLE journal_lines (
    entry_id     uuid   NOT NULL,
    line_no      int    NOT NULL,
    centre_id    uuid   NOT NULL,
    account_code text   NOT NULL,
    debit_minor  bigint NOT NULL DEFAULT 0 CHECK (debit_minor >= 0),
    credit_minor bigint NOT NULL DEFAULT 0 CHECK (credit_minor >= 0),
    PRIMARY KEY (entry_id, line_no),
    FOREIGN KEY (entry_id, centre_id) REFERENCES journal_entries (id, centre_id),
    FOREIGN KEY (centre_id, account_code) REFERENCES accounts (centre_id, code),
    -- One side per line, and never a zero line.
    CHECK ((debit_minor > 0) <> (credit_minor > 0))
);

CREATE INDEX journal_lines_by_account ON journal_lines (centre_id, account_code);

-- Balance: at commit, each touched entry has at least two lines and its debits equal its
-- credits. Deferred, so an entry and its lines can be written in any order.
CREATE FUNCTION journal_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    entry uuid;
    lines bigint;
    debits numeric;
    credits numeric;
BEGIN
    IF TG_TABLE_NAME = 'journal_entries' THEN
        entry := NEW.id;
    ELSE
        entry := NEW.entry_id;
    END IF;
    SELECT count(*), coalesce(sum(debit_minor), 0), coalesce(sum(credit_minor), 0)
      INTO lines, debits, credits
      FROM journal_lines WHERE entry_id = entry;
    IF lines < 2 OR debits <> credits THEN
        RAISE EXCEPTION 'journal entry % does not balance: % lines, debits %, credits %',
            entry, lines, debits, credits
            USING ERRCODE = 'LN001';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER journal_entries_balanced
    AFTER INSERT ON journal_entries
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION journal_check_balanced();

CREATE CONSTRAINT TRIGGER journal_lines_balanced
    AFTER INSERT ON journal_lines
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION journal_check_balanced();

-- Immutability: an entry is corrected by a reversing entry, never edited or removed.
CREATE FUNCTION journal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'LN002';
END
$$;

CREATE TRIGGER journal_entries_immutable BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse_change();
CREATE TRIGGER journal_lines_immutable BEFORE UPDATE OR DELETE ON journal_lines
    FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();
CREATE TRIGGER journal_lines_no_truncate BEFORE TRUNCATE ON journal_lines
    FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse_change();

-- Lines join only the entry their own transaction posted: no balanced pair can be slipped
-- into an old entry later.
CREATE FUNCTION journal_lines_same_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM journal_entries
                   WHERE id = NEW.entry_id AND posted_in = pg_current_xact_id()) THEN
        RAISE EXCEPTION 'lines may only be added to an entry by the transaction that posts it'
            USING ERRCODE = 'LN002';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER journal_lines_same_transaction BEFORE INSERT ON journal_lines
    FOR EACH ROW EXECUTE FUNCTION journal_lines_same_transaction();

-- Closed months: nothing posts into them.
CREATE FUNCTION journal_refuse_closed_period() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    month_start date := date_trunc('month', NEW.entry_date)::date;
    closed timestamptz;
BEGIN
    INSERT INTO periods (centre_id, month) VALUES (NEW.centre_id, month_start)
        ON CONFLICT DO NOTHING;
    SELECT closed_at INTO closed FROM periods
        WHERE centre_id = NEW.centre_id AND month = month_start FOR SHARE;
    IF closed IS NOT NULL THEN
        RAISE EXCEPTION 'the period % is closed', to_char(month_start, 'YYYY-MM')
            USING ERRCODE = 'LN003';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER journal_entries_open_period BEFORE INSERT ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION journal_refuse_closed_period();

-- A closed month stays closed.
CREATE FUNCTION periods_stay_closed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR OLD.closed_at IS NOT NULL THEN
        RAISE EXCEPTION 'a closed period cannot be reopened or removed'
            USING ERRCODE = 'LN003';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER periods_stay_closed BEFORE UPDATE OR DELETE ON periods
    FOR EACH ROW EXECUTE FUNCTION periods_stay_closed();
