//! The rules of evaluation, without I/O: periods in a centre's time zone, the plan's KPIs
//! and targets, and the suggestion box's status flow.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use linli_platform::auth::Role;
use linli_platform::directory;
use linli_platform::error::Reason;

/// Staff roles that read their centre's figures and instruments.
pub const READERS: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FrontDesk,
    Role::Coordinator,
    Role::FinanceOfficer,
    Role::Auditor,
];
/// Roles that run surveys, follow-ups, inspections and the suggestion box.
pub const EVALUATORS: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FrontDesk,
    Role::Coordinator,
];

/// A KPI of the plan: its name, target (0 = reported only) and unit.
pub struct KpiDefinition {
    pub name: &'static str,
    pub target: f64,
    pub unit: &'static str,
}

pub const KPIS: [KpiDefinition; 7] = [
    KpiDefinition {
        name: "satisfaction",
        target: 0.80,
        unit: "answers",
    },
    KpiDefinition {
        name: "awareness",
        target: 0.85,
        unit: "respondents",
    },
    KpiDefinition {
        name: "participation",
        target: 0.30,
        unit: "residents",
    },
    KpiDefinition {
        name: "volunteer_ratio",
        target: 0.10,
        unit: "residents",
    },
    KpiDefinition {
        name: "training_coverage",
        target: 0.90,
        unit: "staff",
    },
    KpiDefinition {
        name: "self_sufficiency",
        target: 0.50,
        unit: "fen",
    },
    KpiDefinition {
        name: "facility_utilisation",
        target: 0.0,
        unit: "seconds",
    },
];

pub fn kpi(name: &str) -> Option<&'static KpiDefinition> {
    KPIS.iter().find(|k| k.name == name)
}

/// One KPI's figures for a scope and period.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figure {
    pub numerator: i64,
    pub denominator: i64,
}

impl Figure {
    pub fn value(&self) -> f64 {
        if self.denominator > 0 {
            self.numerator as f64 / self.denominator as f64
        } else {
            0.0
        }
    }

    /// Met when there is something to measure and the value reaches a set target.
    pub fn meets(&self, target: f64) -> bool {
        self.denominator > 0 && target > 0.0 && self.value() >= target
    }

    pub fn add(&mut self, other: &Figure) {
        self.numerator += other.numerator;
        self.denominator += other.denominator;
    }
}

/// A reporting period: a month, a quarter or a year, in local dates [start, end).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
    kind: PeriodKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PeriodKind {
    Month,
    Quarter,
    Year,
}

impl Period {
    /// Parses "2027-03", "2027-Q1" or "2027".
    pub fn parse(text: &str) -> Option<Period> {
        let text = text.trim();
        if let Some((year, quarter)) = text.split_once("-Q") {
            let (year, quarter): (i32, u32) = (year.parse().ok()?, quarter.parse().ok()?);
            if !(1..=4).contains(&quarter) {
                return None;
            }
            let start = NaiveDate::from_ymd_opt(year, 3 * quarter - 2, 1)?;
            return Some(Period {
                start,
                end: add_months(start, 3)?,
                kind: PeriodKind::Quarter,
            });
        }
        if let Some((year, month)) = text.split_once('-') {
            let start = NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, 1)?;
            return Some(Period {
                start,
                end: add_months(start, 1)?,
                kind: PeriodKind::Month,
            });
        }
        let year: i32 = text.parse().ok()?;
        let start = NaiveDate::from_ymd_opt(year, 1, 1)?;
        Some(Period {
            start,
            end: NaiveDate::from_ymd_opt(year + 1, 1, 1)?,
            kind: PeriodKind::Year,
        })
    }

    /// The month holding `day`.
    pub fn month_of(day: NaiveDate) -> Period {
        let start = day.with_day(1).unwrap_or(day);
        Period {
            start,
            end: add_months(start, 1).unwrap_or(start),
            kind: PeriodKind::Month,
        }
    }

    pub fn name(&self) -> String {
        match self.kind {
            PeriodKind::Month => self.start.format("%Y-%m").to_string(),
            PeriodKind::Quarter => {
                format!("{}-Q{}", self.start.year(), self.start.month().div_ceil(3))
            }
            PeriodKind::Year => self.start.year().to_string(),
        }
    }

    pub fn next_month(&self) -> Period {
        Period::month_of(self.end)
    }

    /// The period's bounds as instants in `zone`: local midnight to local midnight.
    pub fn bounds(&self, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (midnight(zone, self.start), midnight(zone, self.end))
    }
}

fn add_months(date: NaiveDate, months: u32) -> Option<NaiveDate> {
    date.checked_add_months(chrono::Months::new(months))
}

fn midnight(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    zone.from_local_datetime(&day.and_time(NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN)))
}

/// The suggestion box's flow: the next status is the only one allowed.
pub fn suggestion_move(from: &str, to: &str) -> Result<(), Reason> {
    let next = match from {
        "received" => "in_progress",
        "in_progress" => "answered",
        "answered" => "closed",
        "closed" => {
            return Err(Reason::new(
                "suggestion.closed",
                "the suggestion is closed; nothing follows",
            ));
        }
        other => {
            return Err(Reason::new(
                "suggestion.unknown_status",
                format!("unknown status {other}"),
            )
            .with("status", other));
        }
    };
    if to == next {
        Ok(())
    } else {
        Err(Reason::new(
            "suggestion.out_of_order",
            format!("a suggestion goes from {from} to {next}, not to {to}"),
        )
        .with("from", from)
        .with("next", next)
        .with("to", to))
    }
}

/// Open hours of a facility on the local days [from, to).
pub fn open_seconds(
    opens: NaiveTime,
    closes: NaiveTime,
    days: &[i32],
    from: NaiveDate,
    to: NaiveDate,
) -> i64 {
    let daily = (closes - opens).num_seconds().max(0);
    let mut day = from;
    let mut total = 0;
    while day < to {
        if days.contains(&(day.weekday().number_from_monday() as i32)) {
            total += daily;
        }
        day = day.succ_opt().unwrap_or(to);
    }
    total
}

// ---------------------------------------------------------------------------------------
// Notices (the participation part: 通知公告 and 活动预告)

/// A notice's kind: 通知公告 (`notice`) or 活动预告 (`activity`).
pub const NOTICE_KINDS: [&str; 2] = ["notice", "activity"];
pub const NOTICE_TITLE_MAX: usize = 100;
pub const NOTICE_BODY_MAX: usize = 4000;

/// A notice as staff wrote it, its times and ids already read.
#[derive(Clone, Debug, PartialEq)]
pub struct NoticeDraft {
    pub title: String,
    pub body: String,
    pub kind: String,
    pub publish_from: DateTime<Utc>,
    pub publish_until: Option<DateTime<Utc>>,
    pub pinned: bool,
    pub audience_categories: Vec<String>,
    pub audience_age_bands: Vec<String>,
    pub offering_id: Option<uuid::Uuid>,
    pub session_id: Option<uuid::Uuid>,
}

impl NoticeDraft {
    /// What is wrong with the draft, field by field (nothing: it may be issued). The
    /// audience names only the directory's categories and age bands, so a notice is never
    /// aimed at a group no resident can be in.
    pub fn refusals(&self) -> Vec<(&'static str, Reason)> {
        let mut refused = Vec::new();
        if !(1..=NOTICE_TITLE_MAX).contains(&self.title.chars().count()) {
            refused.push(("title", Reason::length(1, NOTICE_TITLE_MAX)));
        }
        if !(1..=NOTICE_BODY_MAX).contains(&self.body.chars().count()) {
            refused.push(("body", Reason::length(1, NOTICE_BODY_MAX)));
        }
        if !NOTICE_KINDS.contains(&self.kind.as_str()) {
            refused.push(("kind", Reason::one_of(&NOTICE_KINDS)));
        }
        if self
            .publish_until
            .is_some_and(|until| until <= self.publish_from)
        {
            refused.push(("publish_until", Reason::after("publish_from")));
        }
        if (self.audience_categories.iter())
            .any(|c| !directory::RESIDENT_CATEGORIES.contains(&c.as_str()))
        {
            refused.push((
                "audience_categories",
                Reason::one_of(&directory::RESIDENT_CATEGORIES),
            ));
        }
        if (self.audience_age_bands.iter()).any(|b| !directory::AGE_BANDS.contains(&b.as_str())) {
            refused.push(("audience_age_bands", Reason::one_of(&directory::AGE_BANDS)));
        }
        if self.session_id.is_some() && self.offering_id.is_none() {
            refused.push((
                "session_id",
                Reason::new(
                    "notice.session_without_offering",
                    "a session to book needs its offering",
                ),
            ));
        }
        refused
    }
}

/// Where a notice stands at `now`: not yet shown, shown, or no longer shown.
pub fn notice_state(
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> &'static str {
    if now < from {
        "scheduled"
    } else if until.is_some_and(|until| now >= until) {
        "ended"
    } else {
        "published"
    }
}

/// Whether a resident of `age_band` in `categories` is in a notice's audience: everyone
/// when it names no category and no band, otherwise anyone in one of them. (The store
/// asks the same of its rows: `store::NOTICE_FOR_RESIDENT`.)
pub fn in_audience(
    audience_categories: &[String],
    audience_age_bands: &[String],
    age_band: &str,
    categories: &[String],
) -> bool {
    (audience_categories.is_empty() && audience_age_bands.is_empty())
        || audience_age_bands.iter().any(|b| b == age_band)
        || audience_categories.iter().any(|c| categories.contains(c))
}

// ---------------------------------------------------------------------------------------
// The forum (居民议事)

pub const FORUM_TITLE_MAX: usize = 60;
pub const FORUM_BODY_MAX: usize = 1000;
pub const MODERATIONS: [&str; 6] = ["hide", "restore", "pin", "unpin", "lock", "unlock"];

/// The flag a moderation action sets, and to what.
pub fn moderation(action: &str) -> Option<(&'static str, bool)> {
    Some(match action {
        "hide" => ("hidden", true),
        "restore" => ("hidden", false),
        "pin" => ("pinned", true),
        "unpin" => ("pinned", false),
        "lock" => ("locked", true),
        "unlock" => ("locked", false),
        _ => return None,
    })
}

/// What is wrong with a post: a thread needs a title, a reply has none; the text is
/// 1 to [`FORUM_BODY_MAX`] characters (markup is text, not a refusal).
pub fn forum_post_refusals(reply: bool, title: &str, body: &str) -> Vec<(&'static str, Reason)> {
    let mut refused = Vec::new();
    if !reply && !(1..=FORUM_TITLE_MAX).contains(&title.chars().count()) {
        refused.push(("title", Reason::length(1, FORUM_TITLE_MAX)));
    }
    if !(1..=FORUM_BODY_MAX).contains(&body.chars().count()) {
        refused.push(("body", Reason::length(1, FORUM_BODY_MAX)));
    }
    refused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_and_bound_in_the_centres_zone() {
        let march = Period::parse("2027-03").unwrap();
        assert_eq!(march.name(), "2027-03");
        let (from, to) = march.bounds(chrono_tz::Asia::Shanghai);
        assert_eq!(from.to_rfc3339(), "2027-02-28T16:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2027-03-31T16:00:00+00:00");
        let q = Period::parse("2027-Q2").unwrap();
        assert_eq!(
            (q.start.to_string(), q.end.to_string()),
            ("2027-04-01".into(), "2027-07-01".into())
        );
        assert_eq!(q.name(), "2027-Q2");
        assert_eq!(Period::parse("2027").unwrap().end.to_string(), "2028-01-01");
        assert!(Period::parse("2027-13").is_none());
        assert!(Period::parse("2027-Q5").is_none());
        assert!(Period::parse("soon").is_none());
    }

    #[test]
    fn suggestions_only_move_forward_one_step() {
        assert!(suggestion_move("received", "in_progress").is_ok());
        assert!(suggestion_move("in_progress", "answered").is_ok());
        assert!(suggestion_move("answered", "closed").is_ok());
        assert!(
            suggestion_move("received", "closed")
                .unwrap_err()
                .english
                .contains("in_progress")
        );
        assert!(suggestion_move("closed", "received").is_err());
    }

    #[test]
    fn targets_are_met_only_with_data() {
        assert!(
            Figure {
                numerator: 9,
                denominator: 10
            }
            .meets(0.8)
        );
        assert!(
            !Figure {
                numerator: 7,
                denominator: 10
            }
            .meets(0.8)
        );
        assert!(
            !Figure {
                numerator: 0,
                denominator: 0
            }
            .meets(0.8)
        );
        assert!(
            !Figure {
                numerator: 5,
                denominator: 10
            }
            .meets(0.0),
            "reported KPIs are never 'met'"
        );
    }

    #[test]
    fn open_seconds_count_open_days_only() {
        let (opens, closes) = (
            NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(20, 0, 0).unwrap(),
        );
        let monday = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        let week = open_seconds(
            opens,
            closes,
            &[1, 2, 3, 4, 5],
            monday,
            monday + chrono::Duration::days(7),
        );
        assert_eq!(week, 60 * 3600);
    }

    fn draft() -> NoticeDraft {
        NoticeDraft {
            title: "重阳节茶话会".into(),
            body: "<script>alert(1)</script> 欢迎参加".into(),
            kind: "activity".into(),
            publish_from: Utc.with_ymd_and_hms(2027, 10, 1, 0, 0, 0).unwrap(),
            publish_until: None,
            pinned: false,
            audience_categories: vec!["elderly".into()],
            audience_age_bands: vec![],
            offering_id: None,
            session_id: None,
        }
    }

    #[test]
    fn a_notice_is_scheduled_then_published_then_ended() {
        let from = Utc.with_ymd_and_hms(2027, 10, 1, 0, 0, 0).unwrap();
        let until = Some(from + chrono::Duration::days(3));
        assert_eq!(
            notice_state(from, until, from - chrono::Duration::seconds(1)),
            "scheduled"
        );
        assert_eq!(notice_state(from, until, from), "published");
        assert_eq!(
            notice_state(from, until, from + chrono::Duration::days(3)),
            "ended"
        );
        assert_eq!(
            notice_state(from, None, from + chrono::Duration::days(3000)),
            "published"
        );
    }

    #[test]
    fn a_notice_reaches_everyone_or_only_its_categories_and_bands() {
        let elderly = vec!["elderly".to_owned()];
        assert!(in_audience(&[], &[], "18-59", &[]));
        assert!(in_audience(&elderly, &[], "60-79", &elderly));
        assert!(!in_audience(&elderly, &[], "18-59", &[]));
        assert!(in_audience(&elderly, &["0-13".into()], "0-13", &[]));
    }

    #[test]
    fn a_draft_is_refused_field_by_field() {
        assert!(
            draft().refusals().is_empty(),
            "markup is text, not a refusal"
        );
        let mut bad = draft();
        bad.title = "题".repeat(NOTICE_TITLE_MAX + 1);
        bad.publish_until = Some(bad.publish_from);
        bad.audience_categories = vec!["vip".into()];
        bad.audience_age_bands = vec!["60+".into()];
        bad.session_id = Some(uuid::Uuid::nil());
        let fields: Vec<&str> = bad.refusals().iter().map(|(f, _)| *f).collect();
        assert_eq!(
            fields,
            [
                "title",
                "publish_until",
                "audience_categories",
                "audience_age_bands",
                "session_id"
            ]
        );
    }

    #[test]
    fn a_forum_post_needs_a_title_only_to_open_a_thread_and_keeps_to_its_length() {
        assert!(forum_post_refusals(false, "广场舞音量", "<b>请小声</b>").is_empty());
        assert!(forum_post_refusals(true, "", "同意").is_empty());
        let fields =
            |r: Vec<(&'static str, Reason)>| r.into_iter().map(|(f, _)| f).collect::<Vec<_>>();
        assert_eq!(fields(forum_post_refusals(false, "", "x")), ["title"]);
        let long = "吵".repeat(FORUM_BODY_MAX + 1);
        assert_eq!(fields(forum_post_refusals(true, "", &long)), ["body"]);
        assert_eq!(moderation("lock"), Some(("locked", true)));
        assert_eq!(moderation("restore"), Some(("hidden", false)));
        assert_eq!(moderation("delete"), None);
    }
}
