//! The PRC resident identity number (居民身份证号码, GB 11643-1999): 6 digits of region,
//! 8 of birth date, 3 of sequence (odd for men, even for women) and an ISO 7064 MOD 11-2
//! check character. Sensitive personal information: `Debug` and `masked` never show the
//! middle, and only [`NationalId::expose`] yields the whole number.
//!
//! The old 15-digit form is refused with a message asking for the 18-digit number: every
//! 15-digit card expired years ago, and converting one would invent a check character the
//! holder's card does not show.

use chrono::NaiveDate;
use linli_platform::error::Reason;

use super::Gender;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";
/// Province-level codes (the first two digits) of GB/T 2260.
const PROVINCES: [&str; 34] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82",
];

#[derive(Clone, PartialEq, Eq)]
pub struct NationalId(String);

impl NationalId {
    /// Validates format, region, birth date (a real date, not after `today`) and check
    /// character. The reason never repeats the number.
    pub fn parse(text: &str, today: NaiveDate) -> Result<Self, Reason> {
        let id: String = text.trim().to_ascii_uppercase();
        if id.len() == 15 && id.chars().all(|c| c.is_ascii_digit()) {
            return Err(Reason::new(
                "national_id.old_form",
                "is an old 15-digit number; enter the 18-digit number on the current card",
            ));
        }
        let (body, check) = id.split_at(id.len().min(17));
        if id.len() != 18
            || !body.chars().all(|c| c.is_ascii_digit())
            || !matches!(check.as_bytes(), [b'0'..=b'9' | b'X'])
        {
            return Err(Reason::new(
                "national_id.length",
                "must be 18 characters: 17 digits and a check digit or X",
            ));
        }
        if !PROVINCES.contains(&&id[..2]) {
            return Err(Reason::new(
                "national_id.region",
                "does not begin with a valid region code",
            ));
        }
        let birth = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").map_err(|_| {
            Reason::new(
                "national_id.birth_date",
                "does not contain a real birth date",
            )
        })?;
        if birth > today || birth < NaiveDate::from_ymd_opt(1890, 1, 1).expect("a valid date") {
            return Err(Reason::new(
                "national_id.birth_date",
                "contains a birth date that is impossible",
            ));
        }
        let sum: u32 = body
            .bytes()
            .zip(WEIGHTS)
            .map(|(digit, weight)| u32::from(digit - b'0') * weight)
            .sum();
        if CHECK[(sum % 11) as usize] != check.as_bytes()[0] {
            return Err(Reason::new(
                "national_id.check_character",
                "has a wrong check character; please re-check the number",
            ));
        }
        Ok(NationalId(id))
    }

    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").expect("checked when parsed")
    }

    pub fn gender(&self) -> Gender {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }
    }

    /// The whole number: for sealing, a blind index, or a role that may see it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `110101********123X`.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

/// The check character for the first 17 digits of a number (for demo data and tests).
pub fn check_character(body: &str) -> Option<char> {
    if body.len() != 17 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(CHECK[(sum % 11) as usize] as char)
}

impl std::fmt::Debug for NationalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NationalId({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).expect("valid")
    }

    /// Builds a valid number from its first 17 digits, to test with numbers of no one.
    fn with_check(body: &str) -> String {
        format!("{body}{}", check_character(body).expect("17 digits"))
    }

    #[test]
    fn a_valid_number_parses_with_its_birth_date_and_gender() {
        // The standard's own example.
        let id = NationalId::parse("11010519491231002x", today()).expect("valid");
        assert_eq!(id.expose(), "11010519491231002X");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).expect("valid")
        );
        assert_eq!(id.gender(), Gender::Female);
        let man = NationalId::parse(&with_check("32010219800101003"), today()).expect("valid");
        assert_eq!(man.gender(), Gender::Male);
    }

    #[test]
    fn a_wrong_check_character_is_refused() {
        let refused = NationalId::parse("110105194912310021", today()).expect_err("refused");
        assert_eq!(refused.code, "national_id.check_character");
        assert_eq!(
            refused.english,
            "has a wrong check character; please re-check the number"
        );
    }

    #[test]
    fn an_impossible_birth_date_is_refused() {
        let feb_30 = with_check("11010519490230002");
        let refused = NationalId::parse(&feb_30, today()).expect_err("refused");
        assert_eq!(refused.english, "does not contain a real birth date");
        assert_eq!(refused.code, "national_id.birth_date");
        let future = with_check("11010520300101002");
        let refused = NationalId::parse(&future, today()).expect_err("refused");
        assert_eq!(refused.english, "contains a birth date that is impossible");
    }

    #[test]
    fn the_old_fifteen_digit_form_is_refused_with_a_clear_message() {
        let error = NationalId::parse("110105491231002", today()).expect_err("refused");
        assert!(error.english.contains("18-digit"), "{error}");
        assert_eq!(error.code, "national_id.old_form");
    }

    #[test]
    fn malformed_and_unknown_region_numbers_are_refused() {
        assert!(NationalId::parse("11010519491231002Y", today()).is_err());
        assert!(NationalId::parse("1101051949", today()).is_err());
        let refused =
            NationalId::parse(&with_check("99010519491231002"), today()).expect_err("refused");
        assert_eq!(refused.code, "national_id.region");
    }

    #[test]
    fn mask_and_debug_never_show_the_middle() {
        let id = NationalId::parse("11010519491231002X", today()).expect("valid");
        assert_eq!(id.masked(), "110105********002X");
        assert!(!format!("{id:?}").contains("19491231"));
    }

    #[test]
    fn errors_never_repeat_the_number() {
        let error = NationalId::parse("110105194912310021", today()).expect_err("refused");
        assert!(!error.to_string().contains("1101051949"));
    }
}
