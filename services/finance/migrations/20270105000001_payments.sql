-- Money that actually arrives (issue 24): a fee charged to receivables is paid at the desk
-- (cash, bank transfer, WeChat Pay, Alipay) with a numbered receipt, and a payment can be
-- given back the same way. The ledger holds the money (receivables -> cash or bank); these
-- tables hold who paid what for which charge, and what is still outstanding.

ALTER TABLE journal_entries DROP CONSTRAINT journal_entries_source_check;
ALTER TABLE journal_entries ADD CONSTRAINT journal_entries_source_check CHECK (source IN
    ('manual', 'expense', 'grant', 'donation', 'partnership', 'fee', 'refund', 'reversal',
     'payment', 'payment_refund'));

-- The resident a fee was charged to (from bookings.fee.charged; NULL for charges recorded
-- before finance kept it: they count for the centre, not for a resident), and what has
-- been paid of it, net of payments given back. What is outstanding is the amount less
-- what bookings refunded and what was paid; it may go below zero when bookings refunds a
-- fee already paid (the centre then owes the payer, until the payment is given back).
ALTER TABLE fee_charges
    ADD COLUMN resident_id uuid,
    ADD COLUMN paid_minor  bigint NOT NULL DEFAULT 0 CHECK (paid_minor >= 0);

CREATE INDEX fee_charges_by_resident ON fee_charges (centre_id, resident_id);

-- Payment receipts run 1, 2, 3 … per centre and year with no gap, as donations' do, in a
-- series of their own (P2026-000001).
CREATE TABLE payment_receipt_counters (
    centre_id   uuid NOT NULL REFERENCES centres (id),
    year        int  NOT NULL,
    last_number int  NOT NULL CHECK (last_number > 0),
    PRIMARY KEY (centre_id, year)
);

CREATE TABLE payments (
    id             uuid        PRIMARY KEY,
    centre_id      uuid        NOT NULL REFERENCES centres (id),
    charge_id      text        NOT NULL REFERENCES fee_charges (charge_id),
    resident_id    uuid,
    amount_minor   bigint      NOT NULL CHECK (amount_minor > 0),
    currency       text        NOT NULL,
    method         text        NOT NULL CHECK (method IN ('cash', 'bank_transfer', 'wechat_pay', 'alipay')),
    reference      text        NOT NULL DEFAULT '',
    received_on    date        NOT NULL,
    receipt_year   int         NOT NULL,
    receipt_number int         NOT NULL CHECK (receipt_number > 0),
    entry_id       uuid        NOT NULL REFERENCES journal_entries (id),
    refunded_minor bigint      NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor),
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    recorded_by    text        NOT NULL,
    UNIQUE (centre_id, receipt_year, receipt_number),
    CHECK (method = 'cash' OR reference <> '')
);

CREATE INDEX payments_by_charge ON payments (charge_id);

CREATE TABLE payment_refunds (
    id           uuid        PRIMARY KEY,
    payment_id   uuid        NOT NULL REFERENCES payments (id),
    centre_id    uuid        NOT NULL REFERENCES centres (id),
    amount_minor bigint      NOT NULL CHECK (amount_minor > 0),
    reason       text        NOT NULL CHECK (reason <> ''),
    refunded_on  date        NOT NULL,
    entry_id     uuid        NOT NULL REFERENCES journal_entries (id),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    recorded_by  text        NOT NULL
);

CREATE INDEX payment_refunds_by_payment ON payment_refunds (payment_id);
