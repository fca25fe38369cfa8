-- Partner income for the organisation review (运营管理评估, issue 24): each posted entry's
-- net effect on partnership income, from finance.entry.posted (reversals negative), kept
-- beside its effect on own income; a review's partner-resources item is pre-filled with
-- the sum over its period, and keeps that amount.
ALTER TABLE ledger_effects
    ADD COLUMN partnership_income_minor bigint NOT NULL DEFAULT 0,
    ADD COLUMN currency text NOT NULL DEFAULT 'CNY';

ALTER TABLE org_review_items
    ADD COLUMN measured_amount_minor bigint NOT NULL DEFAULT 0,
    ADD COLUMN measured_currency text NOT NULL DEFAULT '';
