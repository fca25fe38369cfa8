-- The auditor role the finance oversight group (财务监督小组) gives its members' console
-- accounts (issue 24; services/registry/src/board_auditors.rs): one row per member and
-- centre while they sit on the group, saying what was done (granted, already_auditor,
-- no_account, covers_other_centres), so leaving takes back only a role this gave.
CREATE TABLE board_auditor_grants (
    member_id  uuid        NOT NULL,
    centre_id  uuid        NOT NULL,
    account_id uuid        REFERENCES staff_accounts (id),
    role_added boolean     NOT NULL,
    outcome    text        NOT NULL CHECK (outcome IN ('granted', 'already_auditor', 'no_account', 'covers_other_centres')),
    at         timestamptz NOT NULL,
    PRIMARY KEY (member_id, centre_id)
);
CREATE INDEX board_auditor_grants_by_account ON board_auditor_grants (account_id) WHERE role_added;
