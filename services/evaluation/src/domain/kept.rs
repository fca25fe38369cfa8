//! Kept figures (issue 25): how long a centre's counted KPI figures may answer a read, and
//! which kept counts the refresher counts again. Counting a centre's period reads every row
//! of it, so the district roll-up counted afresh took 14–21 s at 5 M residents; kept, it
//! reads one row per centre, at most a bounded age old.

use chrono::{DateTime, Duration, Utc};

use super::{KpiCounts, KpiWindow};

/// Kept counts asked for within this long are counted again by the refresher before they
/// grow old; others wait for the next read to count them.
pub const ASKED_WITHIN: Duration = Duration::hours(24);

/// A read marks the kept counts it used as asked for at most once in this long, so a read
/// seldom writes (the refresher only needs to know a row was asked for today).
pub const ASKED_EVERY: Duration = Duration::minutes(1);

/// How old counted figures may be when a read answers with them. Zero keeps nothing: every
/// read counts afresh, as before kept figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxAge(Duration);

impl MaxAge {
    pub fn seconds(seconds: u64) -> MaxAge {
        MaxAge(Duration::seconds(
            i64::try_from(seconds).unwrap_or(i64::MAX / 1_000),
        ))
    }

    /// Whether figures are kept at all.
    pub fn keeps(self) -> bool {
        self.0 > Duration::zero()
    }

    /// How often the refresher looks, and how old kept counts it counts again: half the
    /// max age, so counts asked for are counted again before a read finds them too old.
    /// None when nothing is kept.
    pub fn refresh_every(self) -> Option<std::time::Duration> {
        self.keeps()
            .then(|| (self.0 / 2).to_std().unwrap_or_default())
    }

    /// Kept counts computed before this are the refresher's to count again at `now`.
    pub fn refresh_before(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.0 / 2
    }

    /// How long a roll-up assembled at `now`, whose oldest figures were counted at
    /// `oldest`, may be answered again as it is: [`ANSWER_KEPT_FOR`] at most, and never
    /// past the max age of those figures, so an answer is never older than a read of the
    /// kept counts could be. Zero when nothing is kept (every read counts afresh).
    pub fn answer_kept_for(self, oldest: DateTime<Utc>, now: DateTime<Utc>) -> std::time::Duration {
        if !self.keeps() {
            return std::time::Duration::ZERO;
        }
        let left = (oldest + self.0 - now).to_std().unwrap_or_default();
        left.min(ANSWER_KEPT_FOR)
    }
}

/// How long the roll-up of a set of centres, once assembled from their kept counts, is
/// answered again without reading them (the same centres and period, in one process):
/// at 64 clients every read of 100 centres read their kept counts and opening hours and
/// made their figures again, and a morning's first reads each held a connection while
/// one of them counted. Short against [`ASKED_EVERY`], so the counts it answers with are
/// still marked as asked for.
pub const ANSWER_KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(5);

/// A centre's counts for a period as kept: what was counted, over which bounds, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    pub counts: KpiCounts,
    /// The residents registered at the centre when counted.
    pub registered: i64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub computed_at: DateTime<Utc>,
}

impl Kept {
    /// Whether a read at `now` over `window` may answer with these counts: figures are
    /// kept, these were counted no longer than the max age ago, and over the bounds the
    /// centre's period has now (a centre whose time zone changed has other bounds).
    pub fn answers(&self, window: &KpiWindow, now: DateTime<Utc>, max_age: MaxAge) -> bool {
        max_age.keeps()
            && self.from == window.from
            && self.to == window.to
            && now - self.computed_at <= max_age.0
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::Period;

    fn kept_at(computed_at: DateTime<Utc>, zone: chrono_tz::Tz) -> (Kept, KpiWindow) {
        let window = KpiWindow::new(&Period::parse("2027-03").unwrap(), zone, computed_at);
        let kept = Kept {
            counts: KpiCounts::default(),
            registered: 0,
            from: window.from,
            to: window.to,
            computed_at,
        };
        (kept, window)
    }

    #[test]
    fn kept_counts_answer_until_they_are_older_than_the_max_age() {
        let counted = Utc.with_ymd_and_hms(2027, 3, 10, 8, 0, 0).unwrap();
        let (kept, window) = kept_at(counted, chrono_tz::Asia::Shanghai);
        let two_minutes = MaxAge::seconds(120);
        assert!(kept.answers(&window, counted, two_minutes));
        assert!(kept.answers(&window, counted + Duration::seconds(120), two_minutes));
        assert!(!kept.answers(&window, counted + Duration::seconds(121), two_minutes));
    }

    #[test]
    fn a_max_age_of_zero_keeps_nothing_and_refreshes_nothing() {
        let counted = Utc.with_ymd_and_hms(2027, 3, 10, 8, 0, 0).unwrap();
        let (kept, window) = kept_at(counted, chrono_tz::Asia::Shanghai);
        let none = MaxAge::seconds(0);
        assert!(!none.keeps());
        assert!(!kept.answers(&window, counted, none));
        assert_eq!(none.refresh_every(), None);
    }

    #[test]
    fn counts_kept_over_another_zones_bounds_never_answer() {
        let counted = Utc.with_ymd_and_hms(2027, 3, 10, 8, 0, 0).unwrap();
        let (kept, _) = kept_at(counted, chrono_tz::Asia::Shanghai);
        let (_, london) = kept_at(counted, chrono_tz::Europe::London);
        assert!(!kept.answers(&london, counted, MaxAge::seconds(120)));
    }

    #[test]
    fn an_assembled_roll_up_is_answered_again_for_a_few_seconds_never_past_its_figures_max_age() {
        let now = Utc.with_ymd_and_hms(2027, 3, 10, 8, 0, 0).unwrap();
        let two_minutes = MaxAge::seconds(120);
        assert_eq!(two_minutes.answer_kept_for(now, now), ANSWER_KEPT_FOR);
        assert_eq!(
            two_minutes.answer_kept_for(now - Duration::seconds(118), now),
            std::time::Duration::from_secs(2),
            "its oldest figures reach the max age in two seconds"
        );
        assert_eq!(
            two_minutes.answer_kept_for(now - Duration::seconds(121), now),
            std::time::Duration::ZERO,
            "figures already too old"
        );
        assert_eq!(
            MaxAge::seconds(0).answer_kept_for(now, now),
            std::time::Duration::ZERO
        );
    }

    #[test]
    fn the_refresher_looks_every_half_max_age_for_counts_that_old() {
        let max_age = MaxAge::seconds(120);
        assert_eq!(
            max_age.refresh_every(),
            Some(std::time::Duration::from_secs(60))
        );
        let now = Utc.with_ymd_and_hms(2027, 3, 10, 8, 0, 0).unwrap();
        assert_eq!(max_age.refresh_before(now), now - Duration::seconds(60));
    }
}
