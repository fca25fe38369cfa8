-- Why a coordinator rejected logged hours: required when rejecting, so the volunteer can be
-- told; empty for pending and verified entries (and cleared when the resident is erased).
ALTER TABLE hour_entries
    ADD COLUMN rejection_reason text NOT NULL DEFAULT '' CHECK (length(rejection_reason) <= 200);
