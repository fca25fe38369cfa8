//! The organisation and resource-integration review (运营管理评估, issue 24), without I/O:
//! the checklist the district defines, what a review copies of it when it begins (items
//! Linli measures pre-filled with evaluation's own figures for the period, the partner
//! income finance posted as an amount), one review per centre and period, and a score
//! within its item's maximum.

use chrono::{DateTime, NaiveDate, Utc};
use linli_platform::auth::Role;
use linli_platform::error::{Error, Reason, Violations};

use super::ids::{CentreId, ReviewId};
use super::kpi::{Figure, KPIS};
use super::period::Period;

/// Who reviews a centre: the district, or the centre's manager (a self-assessment).
pub const REVIEWERS: &[Role] = &[Role::DistrictAdmin, Role::CentreManager];
/// Who defines the checklist: the district.
pub const CHECKLIST_KEEPERS: &[Role] = &[Role::DistrictAdmin];
pub const SECTIONS: [&str; 6] = [
    "organisation",
    "staffing_training",
    "facilities_use",
    "partner_resources",
    "finance",
    "participation",
];
pub const MEASURES: [&str; 5] = [
    "training_coverage",
    "utilisation",
    "partner_income",
    "self_sufficiency",
    "participation",
];
pub const EVIDENCE_MAX: usize = 4000;
pub const FOLLOW_UP_MAX: usize = 2000;

/// The KPI a measure is read from, when evaluation has one.
pub fn kpi_of(measure: &str) -> Option<&'static str> {
    match measure {
        "training_coverage" => Some("training_coverage"),
        "utilisation" => Some("facility_utilisation"),
        "self_sufficiency" => Some("self_sufficiency"),
        "participation" => Some("participation"),
        _ => None,
    }
}

/// A score is whole and within the item's maximum.
pub fn score_within(score: i32, max: i32) -> Result<(), Error> {
    if (0..=max).contains(&score) {
        return Ok(());
    }
    Err(Violations::one("score", Reason::between(0, max as i64)).into())
}

/// One item of the district's checklist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChecklistItem {
    pub key: String,
    pub section: String,
    pub title: String,
    pub max_score: i32,
    pub measure: String,
}

/// A new checklist, each item checked: a unique key, a known section and measure, a
/// title and a maximum of 1 to 100.
pub fn checklist(items: Vec<ChecklistItem>) -> Result<Vec<ChecklistItem>, Violations> {
    let mut v = Violations::default();
    if items.is_empty() {
        v.push("items", Reason::required());
    }
    let mut keys: Vec<&str> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = |name: &str| format!("items[{i}].{name}");
        let key = item.key.as_str();
        let key_ok = (2..=50).contains(&key.len())
            && key.starts_with(|c: char| c.is_ascii_lowercase())
            && key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            v.push(
                field("key"),
                Reason::new(
                    "code.format",
                    "must be 2 to 50 lower-case letters, digits or _",
                ),
            );
        } else if keys.contains(&key) {
            v.push(
                field("key"),
                Reason::new("checklist.key_repeated", "is the key of an earlier item"),
            );
        }
        keys.push(key);
        if !SECTIONS.contains(&item.section.as_str()) {
            v.push(field("section"), Reason::one_of(&SECTIONS));
        }
        if !(1..=200).contains(&item.title.trim().chars().count()) {
            v.push(field("title"), Reason::length(1, 200));
        }
        if !(1..=100).contains(&item.max_score) {
            v.push(field("max_score"), Reason::between(1, 100));
        }
        if !item.measure.is_empty() && !MEASURES.contains(&item.measure.as_str()) {
            v.push(field("measure"), Reason::one_of(&MEASURES));
        }
    }
    v.into_result(|| ()).map(|()| {
        (items.into_iter())
            .map(|item| ChecklistItem {
                title: item.title.trim().to_owned(),
                ..item
            })
            .collect()
    })
}

/// A review of a centre for a period, as begun.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Review {
    pub id: ReviewId,
    pub centre_id: CentreId,
    pub period: String,
    pub reviewer: String,
    pub started_at: DateTime<Utc>,
}

/// An amount of money and its currency (partner income posted by finance).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Amount {
    pub minor: i64,
    pub currency: String,
}

/// One item of a review: the checklist's item as it was when the review began, what
/// Linli measured for it, and the reviewer's score, evidence and follow-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub review_id: ReviewId,
    pub key: String,
    pub section: String,
    pub title: String,
    pub max_score: i32,
    pub measure: String,
    pub measured: bool,
    pub measured_numerator: i64,
    pub measured_denominator: i64,
    pub score: Option<i32>,
    pub evidence: String,
    pub follow_up: String,
    pub follow_up_due_on: Option<NaiveDate>,
    pub measured_amount_minor: i64,
    pub measured_currency: String,
}

impl Item {
    /// The measured ratio (0 when unmeasured or nothing to measure).
    pub fn measured_value(&self) -> f64 {
        if self.measured && self.measured_denominator > 0 {
            self.measured_numerator as f64 / self.measured_denominator as f64
        } else {
            0.0
        }
    }
}

/// The review's score and the most it could be.
pub fn totals(items: &[Item]) -> (i32, i32) {
    (
        items.iter().filter_map(|i| i.score).sum(),
        items.iter().map(|i| i.max_score).sum(),
    )
}

/// One review per centre and period: refused when one has begun (`taken`).
pub fn not_begun(taken: bool, period: &Period) -> Result<(), Error> {
    if taken {
        return Err(Error::Conflict(
            Reason::new(
                "review.exists",
                format!(
                    "the centre's review for {} has begun already",
                    period.name()
                ),
            )
            .with("period", period.name()),
        ));
    }
    Ok(())
}

/// A review of `centre` for `period` begins: each checklist item copied, those Linli measures pre-filled from the period's `figures` (in [`KPIS`]' order;
/// unmeasured when there was nothing to count) or, for partner income, the `partner_income`
/// finance posted (unmeasured when it posted nothing for the centre then).
pub fn begin(
    centre: CentreId,
    period: &Period,
    reviewer: &str,
    checklist: Vec<ChecklistItem>,
    figures: &[Figure],
    partner_income: Option<&Amount>,
    now: DateTime<Utc>,
) -> (Review, Vec<Item>) {
    let review = Review {
        id: ReviewId::new(),
        centre_id: centre,
        period: period.name(),
        reviewer: reviewer.to_owned(),
        started_at: now,
    };
    let items = (checklist.into_iter())
        .map(|item| {
            let figure = kpi_of(&item.measure).and_then(|kpi| {
                (KPIS.iter().position(|k| k.name == kpi))
                    .and_then(|at| figures.get(at))
                    .filter(|f| f.denominator > 0)
            });
            let amount = (item.measure == "partner_income")
                .then_some(partner_income)
                .flatten();
            Item {
                review_id: review.id,
                measured: figure.is_some() || amount.is_some(),
                measured_numerator: figure.map(|f| f.numerator).unwrap_or_default(),
                measured_denominator: figure.map(|f| f.denominator).unwrap_or_default(),
                measured_amount_minor: amount.map(|a| a.minor).unwrap_or_default(),
                measured_currency: amount.map(|a| a.currency.clone()).unwrap_or_default(),
                key: item.key,
                section: item.section,
                title: item.title,
                max_score: item.max_score,
                measure: item.measure,
                score: None,
                evidence: String::new(),
                follow_up: String::new(),
                follow_up_due_on: None,
            }
        })
        .collect();
    (review, items)
}

/// A reviewer's score of one item, with its evidence and follow-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scored {
    pub score: i32,
    pub evidence: String,
    pub follow_up: String,
    pub follow_up_due_on: Option<NaiveDate>,
}

/// What a score may carry: evidence and a follow-up of bounded length, a due day.
pub fn scored(
    score: i32,
    evidence: &str,
    follow_up: &str,
    due: &str,
    v: &mut Violations,
) -> Scored {
    if evidence.chars().count() > EVIDENCE_MAX {
        v.push("evidence", Reason::too_long(EVIDENCE_MAX));
    }
    if follow_up.chars().count() > FOLLOW_UP_MAX {
        v.push("follow_up", Reason::too_long(FOLLOW_UP_MAX));
    }
    let follow_up_due_on = if due.trim().is_empty() {
        None
    } else {
        NaiveDate::parse_from_str(due.trim(), "%Y-%m-%d")
            .map_err(|_| v.push("follow_up_due_on", Reason::date()))
            .ok()
    };
    Scored {
        score,
        evidence: evidence.trim().to_owned(),
        follow_up: follow_up.trim().to_owned(),
        follow_up_due_on,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &str, measure: &str) -> ChecklistItem {
        ChecklistItem {
            key: key.into(),
            section: "finance".into(),
            title: " 自给率 ".into(),
            max_score: 15,
            measure: measure.into(),
        }
    }

    #[test]
    fn the_measures_linli_has_come_from_the_kpis() {
        for measure in MEASURES {
            if let Some(kpi) = kpi_of(measure) {
                assert!(KPIS.iter().any(|k| k.name == kpi), "{kpi}");
            }
        }
        assert_eq!(kpi_of("partner_income"), None);
        assert_eq!(kpi_of("utilisation"), Some("facility_utilisation"));
    }

    #[test]
    fn a_score_is_within_the_items_maximum() {
        assert!(score_within(0, 15).is_ok());
        assert!(score_within(15, 15).is_ok());
        assert!(score_within(16, 15).is_err());
        assert!(score_within(-1, 15).is_err());
    }

    #[test]
    fn a_checklist_is_refused_item_by_item_and_kept_trimmed() {
        let kept = checklist(vec![item("self", "self_sufficiency")]).unwrap();
        assert_eq!(kept[0].title, "自给率");
        let mut bad = item("self", "weather");
        bad.max_score = 0;
        let refused = checklist(vec![item("self", ""), bad]).unwrap_err();
        let fields: Vec<&str> = refused.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["items[1].key", "items[1].max_score", "items[1].measure"]
        );
        assert!(checklist(vec![]).is_err());
    }

    #[test]
    fn a_review_begins_once_with_what_linli_measured_for_the_period() {
        let period = Period::parse("2027").unwrap();
        let mut figures = vec![Figure::default(); KPIS.len()];
        let at = KPIS
            .iter()
            .position(|k| k.name == "self_sufficiency")
            .unwrap();
        figures[at] = Figure {
            numerator: 3,
            denominator: 4,
        };
        let list = vec![
            item("self", "self_sufficiency"),
            item("train", "training_coverage"),
            item("partners", "partner_income"),
            item("plain", ""),
        ];
        let income = Amount {
            minor: 1_234_500,
            currency: "CNY".into(),
        };
        let (centre, now) = (CentreId::new(), Utc::now());
        let (review, items) = begin(
            centre,
            &period,
            "district",
            list.clone(),
            &figures,
            Some(&income),
            now,
        );
        assert_eq!(review.period, "2027");
        let measured: Vec<bool> = items.iter().map(|i| i.measured).collect();
        assert_eq!(
            measured,
            [true, false, true, false],
            "nothing to count: unmeasured"
        );
        assert_eq!(items[0].measured_value(), 0.75);
        assert_eq!(items[2].measured_amount_minor, 1_234_500);
        assert_eq!(totals(&items), (0, 60));
        let (_, unpaid) = begin(centre, &period, "d", list, &figures, None, now);
        assert!(!unpaid[2].measured, "no income posted: unmeasured");
        assert!(not_begun(false, &period).is_ok());
        assert!(matches!(
            not_begun(true, &period),
            Err(Error::Conflict(r)) if r.code == "review.exists"
        ));
    }
}
