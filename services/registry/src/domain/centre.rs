//! A centre as a district admin describes it: each field checked once, at the edge.

use linli_platform::error::Violations;

/// A centre's details, every field valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CentreDetails {
    pub code: String,
    pub name: String,
    pub address: String,
    pub time_zone: String,
    pub opening_hours: String,
    pub contact_phone: String,
}

/// A centre's details as they arrive.
#[derive(Clone, Copy, Debug, Default)]
pub struct CentreForm<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub address: &'a str,
    pub time_zone: &'a str,
    pub opening_hours: &'a str,
    pub contact_phone: &'a str,
}

impl CentreDetails {
    pub fn parse(form: &CentreForm<'_>) -> Result<Self, Violations> {
        let mut violations = Violations::default();
        let code = form.code.trim();
        let code_ok = (2..=32).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !code_ok {
            violations.push(
                "code",
                "must be 2 to 32 lower-case letters, digits or dashes",
            );
        }
        let name = form.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            violations.push("name", "is required, at most 100 characters");
        }
        let time_zone = match form.time_zone.trim() {
            "" => "Asia/Shanghai",
            zone => zone,
        };
        if time_zone.parse::<chrono_tz::Tz>().is_err() {
            violations.push(
                "time_zone",
                "must be an IANA time zone such as Asia/Shanghai",
            );
        }
        let opening_hours = form.opening_hours.trim();
        if opening_hours.chars().count() > 200 {
            violations.push("opening_hours", "must be at most 200 characters");
        }
        let contact_phone = form.contact_phone.trim();
        let phone_ok = contact_phone.len() <= 32
            && contact_phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
        if !phone_ok {
            violations.push(
                "contact_phone",
                "must be digits, spaces, dashes, brackets or +, at most 32",
            );
        }
        violations.into_result(|| CentreDetails {
            code: code.to_owned(),
            name: name.to_owned(),
            address: form.address.trim().to_owned(),
            time_zone: time_zone.to_owned(),
            opening_hours: opening_hours.to_owned(),
            contact_phone: contact_phone.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_centre_with_defaults_parses() {
        let centre = CentreDetails::parse(&CentreForm {
            code: "xinhua",
            name: "新华社区服务中心",
            ..Default::default()
        })
        .expect("valid");
        assert_eq!(centre.time_zone, "Asia/Shanghai");
    }

    #[test]
    fn bad_fields_are_named() {
        let form = CentreForm {
            code: "X Y",
            name: "",
            time_zone: "Mars/Olympus",
            contact_phone: "call me",
            ..Default::default()
        };
        let fields: Vec<String> = CentreDetails::parse(&form)
            .expect_err("invalid")
            .0
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["code", "name", "time_zone", "contact_phone"]);
    }
}
