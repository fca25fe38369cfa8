//! The plan's KPIs and targets, and the arithmetic of a figure against its target.

use chrono::{Datelike, NaiveDate, NaiveTime};

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
}
