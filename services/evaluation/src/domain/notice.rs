//! Notices (the participation part: 通知公告 and 活动预告): what a draft may be, where a
//! notice stands, and whom it reaches.

use chrono::{DateTime, Utc};
use linli_platform::directory;
use linli_platform::error::Reason;

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
/// asks the same of its rows in `store::notices_for_resident`; the `notices_audience` suite
/// shows the two admit the same residents.)
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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
}
