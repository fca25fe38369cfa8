-- The organisation and resource-integration review (运营管理评估, issue 24): the district's
-- checklist, and per centre and period a review that copies it, with a score per item,
-- evidence and a follow-up action; items Linli can measure keep the figure it measured
-- when the review began.
CREATE TABLE review_checklist (
    key       text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{1,49}$'),
    position  int  NOT NULL,
    section   text NOT NULL CHECK (section IN ('organisation', 'staffing_training', 'facilities_use',
                                               'partner_resources', 'finance', 'participation')),
    title     text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    max_score int  NOT NULL CHECK (max_score BETWEEN 1 AND 100),
    -- What Linli measures for it ('' when nothing).
    measure   text NOT NULL DEFAULT '' CHECK (measure IN ('', 'training_coverage', 'utilisation',
                                               'partner_income', 'self_sufficiency', 'participation'))
);

-- The district's first checklist, one item per part of the plan; the district replaces it.
INSERT INTO review_checklist (key, position, section, title, max_score, measure) VALUES
    ('governance', 1, 'organisation', '理事会、章程与管理制度健全并运行', 15, ''),
    ('training_coverage', 2, 'staffing_training', '工作人员年度培训覆盖率', 15, 'training_coverage'),
    ('facility_utilisation', 3, 'facilities_use', '场地设施使用率', 20, 'utilisation'),
    ('partner_resources', 4, 'partner_resources', '引入社会资源与合作收入', 15, 'partner_income'),
    ('self_sufficiency', 5, 'finance', '财务自给率与收支公开', 20, 'self_sufficiency'),
    ('participation', 6, 'participation', '居民参与率', 15, 'participation');

CREATE TABLE org_reviews (
    id         uuid        PRIMARY KEY,
    centre_id  uuid        NOT NULL,
    -- "2027", "2027-Q1" or "2027-03".
    period     text        NOT NULL,
    reviewer   text        NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (centre_id, period)
);

CREATE TABLE org_review_items (
    review_id            uuid   NOT NULL REFERENCES org_reviews (id),
    key                  text   NOT NULL,
    position             int    NOT NULL,
    section              text   NOT NULL,
    title                text   NOT NULL,
    max_score            int    NOT NULL,
    measure              text   NOT NULL,
    -- The figure measured when the review began, when Linli measures the item.
    measured             boolean NOT NULL DEFAULT false,
    measured_numerator   bigint NOT NULL DEFAULT 0,
    measured_denominator bigint NOT NULL DEFAULT 0,
    score                int    CHECK (score BETWEEN 0 AND max_score),
    evidence             text   NOT NULL DEFAULT '' CHECK (length(evidence) <= 4000),
    follow_up            text   NOT NULL DEFAULT '' CHECK (length(follow_up) <= 2000),
    follow_up_due_on     date,
    PRIMARY KEY (review_id, key)
);
