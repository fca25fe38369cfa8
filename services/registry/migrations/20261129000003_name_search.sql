-- Search keys for names: full pinyin and initials, filled by the registry for every new
-- name and, at start, for rows that predate these columns.

ALTER TABLE residents
    ADD COLUMN name_pinyin   text,
    ADD COLUMN name_initials text;

CREATE INDEX residents_by_pinyin ON residents (centre_id, name_pinyin text_pattern_ops);
CREATE INDEX residents_by_initials ON residents (centre_id, name_initials text_pattern_ops);
