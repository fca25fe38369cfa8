//! Who may book an offering: the resident's standing, age band and categories against the
//! offering's limits. One rule, read two ways: [`Eligibility::refusal`] says why a resident
//! the store loaded may not book, and [`Eligibility::row_test`] gives the same rule as
//! values a database statement tests a resident's row with (the fast path's statement,
//! which books without loading the resident first). Both are built from
//! [`Eligibility::admitted_bands`], [`may_book`] and the categories needed, so tightening
//! one of those tightens both readings.

pub use linli_platform::directory::ResidentStatus;
use linli_platform::error::{Reason, Violations};

/// The registry's age bands as inclusive ranges.
const AGE_BANDS: &[(&str, i32, i32)] = &[
    ("0-13", 0, 13),
    ("14-17", 14, 17),
    ("18-59", 18, 59),
    ("60-79", 60, 79),
    ("80+", 80, 200),
];

/// The registry's age bands, by name.
pub fn age_bands() -> impl Iterator<Item = &'static str> {
    AGE_BANDS.iter().map(|(name, _, _)| *name)
}

/// Every standing a resident may have.
pub const RESIDENT_STATUSES: [ResidentStatus; 3] = [
    ResidentStatus::Active,
    ResidentStatus::MovedOut,
    ResidentStatus::Deceased,
];

/// The standing the directory keeps as a word.
pub fn resident_status(text: &str) -> Option<ResidentStatus> {
    RESIDENT_STATUSES.into_iter().find(|s| s.as_str() == text)
}

/// Whether a resident of this standing may book anything: only one who lives here now.
pub fn may_book(status: ResidentStatus) -> bool {
    status == ResidentStatus::Active
}

/// The standings that may book, as the directory keeps them.
pub fn admitted_statuses() -> impl Iterator<Item = &'static str> {
    RESIDENT_STATUSES
        .into_iter()
        .filter(|s| may_book(*s))
        .map(ResidentStatus::as_str)
}

/// Checks an offering's age limits lie on band boundaries: the registry publishes age
/// bands, never birth dates, so a limit inside a band could not be decided.
pub fn check_age_limits(min_age: Option<i32>, max_age: Option<i32>, violations: &mut Violations) {
    if let Some(min) = min_age
        && !AGE_BANDS.iter().any(|(_, low, _)| *low == min)
    {
        violations.push(
            "min_age",
            Reason::new(
                "age_band_limit",
                "must be one of 0, 14, 18, 60, 80 (the registry's age bands)",
            ),
        );
    }
    if let Some(max) = max_age
        && !AGE_BANDS
            .iter()
            .any(|(_, _, high)| *high == max && *high < 200)
    {
        violations.push(
            "max_age",
            Reason::new(
                "age_band_limit",
                "must be one of 13, 17, 59, 79 (the registry's age bands)",
            ),
        );
    }
    if let (Some(min), Some(max)) = (min_age, max_age)
        && min > max
    {
        violations.push(
            "max_age",
            Reason::new("below", "must not be below min_age").with("other", "min_age"),
        );
    }
}

/// What eligibility needs of an offering.
#[derive(Clone, Copy, Debug)]
pub struct Eligibility<'a> {
    pub min_age: Option<i32>,
    pub max_age: Option<i32>,
    pub categories: &'a [String],
}

/// What eligibility knows of a resident.
#[derive(Clone, Copy, Debug)]
pub struct Applicant<'a> {
    pub age_band: &'a str,
    pub categories: &'a [String],
    pub status: ResidentStatus,
}

/// [`Eligibility`] as a statement tests a resident's row: the row's status must be one of
/// `statuses`, its age band one of `bands` (any band when None: the offering has no age
/// limits), and, when `categories` is not empty, it must have one of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowTest {
    pub statuses: Vec<&'static str>,
    pub bands: Option<Vec<String>>,
    pub categories: Vec<String>,
}

impl RowTest {
    /// The same test, on values: what the statement answers for such a row.
    pub fn admits(&self, status: &str, age_band: &str, categories: &[String]) -> bool {
        self.statuses.contains(&status)
            && self
                .bands
                .as_ref()
                .is_none_or(|bands| bands.iter().any(|b| b == age_band))
            && (self.categories.is_empty()
                || self.categories.iter().any(|c| categories.contains(c)))
    }
}

impl Eligibility<'_> {
    /// The age bands admitted, None when the offering has no age limits (then a band the
    /// registry may add later is admitted too).
    pub fn admitted_bands(&self) -> Option<Vec<&'static str>> {
        (self.min_age.is_some() || self.max_age.is_some()).then(|| {
            AGE_BANDS
                .iter()
                .filter(|(_, low, high)| {
                    self.min_age.is_none_or(|min| *low >= min)
                        && self.max_age.is_none_or(|max| *high <= max)
                })
                .map(|(name, _, _)| *name)
                .collect()
        })
    }

    /// The rule as a database statement tests it on the resident's row.
    pub fn row_test(&self) -> RowTest {
        RowTest {
            statuses: admitted_statuses().collect(),
            bands: self
                .admitted_bands()
                .map(|bands| bands.into_iter().map(str::to_owned).collect()),
            categories: self.categories.to_vec(),
        }
    }

    /// Why a resident may not book (its code, parameters and words the desk can read out);
    /// `None` when they may.
    pub fn refusal(&self, resident: &Applicant<'_>) -> Option<Reason> {
        if !may_book(resident.status) {
            return Some(match resident.status {
                ResidentStatus::MovedOut => Reason::new(
                    "ineligible.moved_out",
                    "the resident has moved out of the community",
                ),
                ResidentStatus::Deceased => Reason::new(
                    "ineligible.deceased",
                    "the resident is recorded as deceased",
                ),
                other => Reason::new(
                    "ineligible.status",
                    format!("the resident's status is {}", other.as_str()),
                )
                .with("status", other.as_str()),
            });
        }
        if let Some(bands) = self.admitted_bands()
            && !bands.contains(&resident.age_band)
        {
            let band = AGE_BANDS
                .iter()
                .find(|(name, _, _)| *name == resident.age_band);
            let Some((_, low, _)) = band else {
                return Some(Reason::new(
                    "ineligible.age_unknown",
                    "the resident's age band is unknown",
                ));
            };
            return Some(match self.min_age {
                Some(min) if *low < min => Reason::new(
                    "ineligible.min_age",
                    format!(
                        "the offering is for ages {min} and over; the resident is {}",
                        resident.age_band
                    ),
                )
                .with("min_age", min)
                .with("age_band", resident.age_band),
                _ => {
                    let max = self.max_age.unwrap_or_default();
                    Reason::new(
                        "ineligible.max_age",
                        format!(
                            "the offering is for ages up to {max}; the resident is {}",
                            resident.age_band
                        ),
                    )
                    .with("max_age", max)
                    .with("age_band", resident.age_band)
                }
            });
        }
        if !self.categories.is_empty()
            && !self
                .categories
                .iter()
                .any(|c| resident.categories.contains(c))
        {
            return Some(
                Reason::new(
                    "ineligible.category",
                    format!(
                        "the offering is for residents who are {}; the resident is not",
                        self.categories.join(" or ")
                    ),
                )
                .with("categories", self.categories.join(",")),
            );
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_row_test_admits_exactly_whom_refusal_admits() {
        let limits = [None, Some(0), Some(14), Some(18), Some(60), Some(80)];
        let maxima = [None, Some(13), Some(17), Some(59), Some(79)];
        let rule_categories = [
            strings(&[]),
            strings(&["elderly"]),
            strings(&["elderly", "disabled"]),
        ];
        let bands = ["0-13", "14-17", "18-59", "60-79", "80+", "unknown"];
        let resident_categories = [
            strings(&[]),
            strings(&["elderly"]),
            strings(&["disabled", "veteran"]),
        ];
        let mut compared = 0;
        for min_age in limits {
            for max_age in maxima {
                for categories in &rule_categories {
                    let rule = Eligibility {
                        min_age,
                        max_age,
                        categories,
                    };
                    let test = rule.row_test();
                    for band in bands {
                        for resident in &resident_categories {
                            for status in RESIDENT_STATUSES {
                                let applicant = Applicant {
                                    age_band: band,
                                    categories: resident,
                                    status,
                                };
                                assert_eq!(
                                    test.admits(status.as_str(), band, resident),
                                    rule.refusal(&applicant).is_none(),
                                    "min {min_age:?} max {max_age:?} needs {categories:?}; {band} {resident:?} {status:?}"
                                );
                                compared += 1;
                            }
                        }
                    }
                }
            }
        }
        assert_eq!(compared, 6 * 5 * 3 * 6 * 3 * 3);
    }

    #[test]
    fn age_and_category_refusals_say_why() {
        let elderly_only = Eligibility {
            min_age: Some(60),
            max_age: None,
            categories: &[],
        };
        let young = Applicant {
            age_band: "18-59",
            categories: &[],
            status: ResidentStatus::Active,
        };
        let old = Applicant {
            age_band: "80+",
            categories: &[],
            status: ResidentStatus::Active,
        };
        let refused = elderly_only.refusal(&young).unwrap();
        assert!(refused.english.contains("60 and over"));
        assert_eq!(refused.code, "ineligible.min_age");
        assert_eq!(refused.param("min_age"), Some("60"));
        assert_eq!(elderly_only.refusal(&old), None);
        let children = Eligibility {
            min_age: None,
            max_age: Some(13),
            categories: &[],
        };
        let refused = children.refusal(&young).unwrap();
        assert!(refused.english.contains("up to 13"));
        assert_eq!(refused.code, "ineligible.max_age");
        assert_eq!(refused.param("max_age"), Some("13"));

        let categories = strings(&["low_income"]);
        let needs = Eligibility {
            min_age: None,
            max_age: None,
            categories: &categories,
        };
        let refused = needs.refusal(&old).unwrap();
        assert!(refused.english.contains("low_income"));
        assert_eq!(refused.code, "ineligible.category");
        assert_eq!(refused.param("categories"), Some("low_income"));
        let moved = Applicant {
            age_band: "80+",
            categories: &categories,
            status: ResidentStatus::MovedOut,
        };
        let refused = needs.refusal(&moved).unwrap();
        assert!(refused.english.contains("moved out"));
        assert_eq!(refused.code, "ineligible.moved_out");
    }

    #[test]
    fn age_limits_must_lie_on_band_boundaries() {
        let mut v = Violations::default();
        check_age_limits(Some(60), Some(79), &mut v);
        assert!(v.is_empty());
        check_age_limits(Some(65), Some(70), &mut v);
        assert_eq!(v.0.len(), 2);
    }
}
