//! The plan's KPIs and targets, the arithmetic of a figure against its target, and what a
//! centre's figures for a period are counted over and made of.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use super::Period;

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

/// What one centre's figures for a period are counted over, in the centre's own time zone:
/// the period's bounds as instants (local midnight to local midnight), the instant its
/// volunteers are counted at (the period's end, or now while it runs), and the day its
/// staff's training is read on (the period's last day, or today) with the day twelve
/// months before it. Centres in different zones have different windows for one period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KpiWindow {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub volunteers_at: DateTime<Utc>,
    pub training_on: NaiveDate,
    pub trained_since: NaiveDate,
}

impl KpiWindow {
    pub fn new(period: &Period, zone: Tz, now: DateTime<Utc>) -> KpiWindow {
        let (from, to) = period.bounds(zone);
        let today = now.with_timezone(&zone).date_naive();
        let training_on = period.end.pred_opt().unwrap_or(period.end).min(today);
        KpiWindow {
            from,
            to,
            volunteers_at: to.min(now),
            training_on,
            trained_since: training_on
                .checked_sub_months(chrono::Months::new(12))
                .unwrap_or(training_on),
        }
    }
}

/// What the store counts for one centre over its [`KpiWindow`]; [`figures`] makes the
/// KPIs of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KpiCounts {
    pub satisfied: i64,
    pub satisfaction_answers: i64,
    pub aware: i64,
    pub awareness_answers: i64,
    pub attended: i64,
    /// Registered before the period ended and not gone before it began.
    pub active_residents: i64,
    pub active_volunteers: i64,
    pub trained_staff: i64,
    pub staff: i64,
    pub own_income_minor: i64,
    pub expenditure_minor: i64,
    pub held_seconds: i64,
}

/// A facility's opening hours: from `opens` to `closes` on the ISO weekdays `days`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpeningHours {
    pub opens: NaiveTime,
    pub closes: NaiveTime,
    pub days: Vec<i32>,
}

/// Every KPI of a centre for `period`, in [`KPIS`]' order, from its counts and its
/// facilities' opening hours (open time is the utilisation's denominator).
pub fn figures(counts: &KpiCounts, facilities: &[OpeningHours], period: &Period) -> Vec<Figure> {
    let open: i64 = facilities
        .iter()
        .map(|f| open_seconds(f.opens, f.closes, &f.days, period.start, period.end))
        .sum();
    KPIS.iter()
        .map(|kpi| {
            let (numerator, denominator) = match kpi.name {
                "satisfaction" => (counts.satisfied, counts.satisfaction_answers),
                "awareness" => (counts.aware, counts.awareness_answers),
                "participation" => (counts.attended, counts.active_residents),
                "volunteer_ratio" => (counts.active_volunteers, counts.active_residents),
                "training_coverage" => (counts.trained_staff, counts.staff),
                "self_sufficiency" => (counts.own_income_minor, counts.expenditure_minor),
                "facility_utilisation" => (counts.held_seconds, open),
                _ => (0, 0),
            };
            Figure {
                numerator,
                denominator,
            }
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_window_is_the_period_in_the_centres_zone_and_stops_at_now() {
        use chrono::TimeZone;
        let march = Period::parse("2027-03").unwrap();
        let later = Utc.with_ymd_and_hms(2027, 6, 1, 0, 0, 0).unwrap();
        let shanghai = KpiWindow::new(&march, chrono_tz::Asia::Shanghai, later);
        let london = KpiWindow::new(&march, chrono_tz::Europe::London, later);
        assert_eq!(shanghai.from.to_rfc3339(), "2027-02-28T16:00:00+00:00");
        assert_eq!(shanghai.to.to_rfc3339(), "2027-03-31T16:00:00+00:00");
        // London moves to summer time on 28 March: its month ends at 23:00 UTC.
        assert_eq!(london.from.to_rfc3339(), "2027-03-01T00:00:00+00:00");
        assert_eq!(london.to.to_rfc3339(), "2027-03-31T23:00:00+00:00");
        assert_eq!(shanghai.volunteers_at, shanghai.to);
        assert_eq!(shanghai.training_on.to_string(), "2027-03-31");
        assert_eq!(shanghai.trained_since.to_string(), "2026-03-31");
        // While the month runs: volunteers now, training today (in the centre's zone).
        let running = Utc.with_ymd_and_hms(2027, 3, 10, 17, 0, 0).unwrap();
        let shanghai = KpiWindow::new(&march, chrono_tz::Asia::Shanghai, running);
        let london = KpiWindow::new(&march, chrono_tz::Europe::London, running);
        assert_eq!(shanghai.volunteers_at, running);
        assert_eq!(shanghai.training_on.to_string(), "2027-03-11");
        assert_eq!(london.training_on.to_string(), "2027-03-10");
    }

    #[test]
    fn figures_pair_each_kpi_with_its_counts_and_open_time() {
        let counts = KpiCounts {
            satisfied: 1,
            satisfaction_answers: 2,
            aware: 3,
            awareness_answers: 4,
            attended: 5,
            active_residents: 6,
            active_volunteers: 7,
            trained_staff: 8,
            staff: 9,
            own_income_minor: 10,
            expenditure_minor: 11,
            held_seconds: 12,
        };
        let hours = OpeningHours {
            opens: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            closes: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            days: vec![1, 2, 3, 4, 5, 6, 7],
        };
        let march = Period::parse("2027-03").unwrap();
        let pairs: Vec<(i64, i64)> = figures(&counts, &[hours.clone(), hours], &march)
            .iter()
            .map(|f| (f.numerator, f.denominator))
            .collect();
        assert_eq!(
            pairs,
            [
                (1, 2),
                (3, 4),
                (5, 6),
                (7, 6),
                (8, 9),
                (10, 11),
                (12, 2 * 31 * 3600)
            ]
        );
    }
}
