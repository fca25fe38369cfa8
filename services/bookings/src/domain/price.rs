//! What a resident pays for an offering: its fee, or the lowest concession they qualify for.

/// A cheaper price for residents of a category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Concession {
    pub category: String,
    pub price_minor: i64,
}

/// What a resident pays: the lowest price they qualify for, and the concession that gave it.
pub fn price_for(
    fee_minor: i64,
    concessions: &[Concession],
    categories: &[String],
) -> (i64, String) {
    concessions
        .iter()
        .filter(|c| categories.contains(&c.category) && c.price_minor < fee_minor)
        .min_by_key(|c| c.price_minor)
        .map_or((fee_minor, String::new()), |c| {
            (c.price_minor, c.category.clone())
        })
}

/// Whether what a resident pays depends on who they are: a concession cheaper than the fee.
pub fn priced_by_category(fee_minor: i64, concessions: &[Concession]) -> bool {
    concessions.iter().any(|c| c.price_minor < fee_minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_lowest_concession_the_resident_qualifies_for_applies() {
        let concessions = vec![
            Concession {
                category: "low_income".into(),
                price_minor: 0,
            },
            Concession {
                category: "elderly".into(),
                price_minor: 500,
            },
        ];
        assert_eq!(
            price_for(1000, &concessions, &strings(&["elderly"])),
            (500, "elderly".into())
        );
        assert_eq!(
            price_for(1000, &concessions, &strings(&["elderly", "low_income"])),
            (0, "low_income".into())
        );
        assert_eq!(
            price_for(1000, &concessions, &strings(&["minor"])),
            (1000, String::new())
        );
        assert!(priced_by_category(1000, &concessions));
        assert!(!priced_by_category(0, &concessions));
    }
}
