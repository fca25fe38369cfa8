-- An erasure empties what the person wrote or what was written about them: a suggestion's
-- text and the centre's reply, a follow-up's reason and outcome, free-text survey answers.
-- The rows stay, so the KPIs counted from them keep their totals; `erased_at` is why a
-- text that is otherwise required may be empty.
ALTER TABLE suggestions ADD COLUMN erased_at timestamptz;
ALTER TABLE suggestions DROP CONSTRAINT suggestions_text_check;
ALTER TABLE suggestions ADD CONSTRAINT suggestions_text_check
    CHECK (length(text) BETWEEN 1 AND 2000 OR (erased_at IS NOT NULL AND text = ''));

ALTER TABLE follow_ups ADD COLUMN erased_at timestamptz;
ALTER TABLE follow_ups DROP CONSTRAINT follow_ups_reason_check;
ALTER TABLE follow_ups ADD CONSTRAINT follow_ups_reason_check
    CHECK (length(reason) BETWEEN 1 AND 500 OR (erased_at IS NOT NULL AND reason = ''));
