//! Money as it enters: integer minor units (fen) and an ISO 4217 currency code.

use linli_platform::error::Reason;
use linli_platform::error::Violations;

/// A three-letter currency code; `CNY` when none is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Currency(String);

impl Currency {
    pub const DEFAULT: &'static str = "CNY";

    pub fn parse(field: &str, text: &str) -> Result<Currency, Violations> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Currency(Self::DEFAULT.to_owned()));
        }
        if text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Currency(text.to_owned()))
        } else {
            Err(Violations::one(
                field,
                Reason::new(
                    "currency",
                    "must be a three-letter ISO 4217 code such as CNY",
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A positive amount in minor units.
pub fn parse_amount(field: &str, minor: i64) -> Result<i64, Violations> {
    if minor > 0 {
        Ok(minor)
    } else {
        Err(Violations::one(
            field,
            Reason::new(
                "not_positive",
                "must be a positive amount in minor units (fen)",
            ),
        ))
    }
}

/// `12345` fen as `123.45`, for reports meant to be read by people.
pub fn format_minor(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_defaults_to_cny_and_refuses_anything_but_three_capitals() {
        assert_eq!(Currency::parse("currency", "").unwrap().as_str(), "CNY");
        assert_eq!(Currency::parse("currency", "USD").unwrap().as_str(), "USD");
        assert!(Currency::parse("currency", "usd").is_err());
        assert!(Currency::parse("currency", "YUAN").is_err());
    }

    #[test]
    fn amounts_are_positive_minor_units() {
        assert_eq!(parse_amount("amount_minor", 1), Ok(1));
        assert!(parse_amount("amount_minor", 0).is_err());
        assert!(parse_amount("amount_minor", -5).is_err());
    }

    #[test]
    fn minor_units_format_with_two_places() {
        assert_eq!(format_minor(12345), "123.45");
        assert_eq!(format_minor(5), "0.05");
        assert_eq!(format_minor(-1001), "-10.01");
    }
}
