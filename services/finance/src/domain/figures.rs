//! The arithmetic of the reports, in integers: ratios as basis points (10000 = 100%),
//! budget thresholds, and the plan's self-sufficiency target.

/// The thresholds of a budget line announced once each, in percent.
pub const THRESHOLDS: [i32; 2] = [90, 100];

/// The plan's target: own income covers half of expenditure or more.
pub const SELF_SUFFICIENCY_TARGET_BASIS_POINTS: i64 = 5000;

/// `part / whole` in basis points, rounded down; 0 when there is no whole.
pub fn basis_points(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    let points = i128::from(part) * 10_000 / i128::from(whole);
    points.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Whether `actual` spending has reached `percent` of `budget`. Any spending reaches the
/// thresholds of a zero budget.
pub fn threshold_reached(actual: i64, budget: i64, percent: i32) -> bool {
    actual > 0 && i128::from(actual) * 100 >= i128::from(budget) * i128::from(percent)
}

pub fn meets_self_sufficiency_target(own_income: i64, expenditure: i64) -> bool {
    expenditure > 0 && basis_points(own_income, expenditure) >= SELF_SUFFICIENCY_TARGET_BASIS_POINTS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_basis_points_rounded_down() {
        assert_eq!(basis_points(1, 3), 3333);
        assert_eq!(basis_points(5, 10), 5000);
        assert_eq!(basis_points(5, 0), 0);
        assert_eq!(basis_points(i64::MAX, 1), i64::MAX);
    }

    #[test]
    fn thresholds_are_reached_exactly_at_their_percent() {
        assert!(!threshold_reached(8_999, 10_000, 90));
        assert!(threshold_reached(9_000, 10_000, 90));
        assert!(!threshold_reached(9_999, 10_000, 100));
        assert!(threshold_reached(10_000, 10_000, 100));
        assert!(!threshold_reached(0, 0, 90));
        assert!(threshold_reached(1, 0, 100));
    }

    #[test]
    fn half_of_expenditure_meets_the_target() {
        assert!(meets_self_sufficiency_target(50, 100));
        assert!(!meets_self_sufficiency_target(49, 100));
        assert!(!meets_self_sufficiency_target(10, 0));
    }
}
