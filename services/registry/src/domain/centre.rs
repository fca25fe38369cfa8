//! A centre as a district admin describes it: each field checked once, at the edge.

use linli_platform::error::Reason;
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

/// The fields of a centre a correction can name.
pub const CENTRE_FIELDS: [&str; 6] = [
    "code",
    "name",
    "address",
    "time_zone",
    "opening_hours",
    "contact_phone",
];

/// The fields a correction names, from a field mask's paths; every unknown name is
/// reported under `mask_field`.
pub fn centre_fields(paths: &[String], mask_field: &str) -> Result<Vec<&'static str>, Violations> {
    let mut violations = Violations::default();
    let mut fields = Vec::new();
    for path in paths {
        match CENTRE_FIELDS.iter().find(|field| **field == path.trim()) {
            Some(field) if !fields.contains(field) => fields.push(*field),
            Some(_) => {}
            None => violations.push(
                mask_field,
                Reason::new(
                    "mask.unknown_field",
                    format!(
                        "`{path}` is not a field of a centre; the fields are {}",
                        CENTRE_FIELDS.join(", ")
                    ),
                ),
            ),
        }
    }
    violations.into_result(|| fields)
}

impl<'a> CentreForm<'a> {
    /// This form with `fields` taken from `change`; every other field stays as it is.
    pub fn corrected(mut self, change: CentreForm<'a>, fields: &[&str]) -> Self {
        for field in fields {
            match *field {
                "code" => self.code = change.code,
                "name" => self.name = change.name,
                "address" => self.address = change.address,
                "time_zone" => self.time_zone = change.time_zone,
                "opening_hours" => self.opening_hours = change.opening_hours,
                "contact_phone" => self.contact_phone = change.contact_phone,
                _ => {}
            }
        }
        self
    }
}

impl CentreDetails {
    /// A correction of `recorded`: the code, if given, must be the one it has.
    pub fn correct(recorded: &CentreDetails, form: &CentreForm<'_>) -> Result<Self, Violations> {
        let details = CentreDetails::parse(form)?;
        if details.code != recorded.code {
            return Err(Violations::one(
                "code",
                Reason::new("centre.code_fixed", "never changes once a centre exists"),
            ));
        }
        Ok(details)
    }

    pub fn form(&self) -> CentreForm<'_> {
        CentreForm {
            code: &self.code,
            name: &self.name,
            address: &self.address,
            time_zone: &self.time_zone,
            opening_hours: &self.opening_hours,
            contact_phone: &self.contact_phone,
        }
    }

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
                Reason::new(
                    "code.format",
                    "must be 2 to 32 lower-case letters, digits or dashes",
                ),
            );
        }
        let name = form.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            violations.push(
                "name",
                Reason::new("length", "is required, at most 100 characters")
                    .with("min", 1)
                    .with("max", 100),
            );
        }
        let time_zone = match form.time_zone.trim() {
            "" => "Asia/Shanghai",
            zone => zone,
        };
        if time_zone.parse::<chrono_tz::Tz>().is_err() {
            violations.push(
                "time_zone",
                Reason::new(
                    "time_zone",
                    "must be an IANA time zone such as Asia/Shanghai",
                ),
            );
        }
        let opening_hours = form.opening_hours.trim();
        if opening_hours.chars().count() > 200 {
            violations.push("opening_hours", Reason::too_long(200));
        }
        let contact_phone = form.contact_phone.trim();
        let phone_ok = contact_phone.len() <= 32
            && contact_phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'));
        if !phone_ok {
            violations.push(
                "contact_phone",
                Reason::new(
                    "phone.format",
                    "must be digits, spaces, dashes, brackets or +, at most 32",
                ),
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
    fn a_correction_changes_only_the_fields_it_names() {
        let recorded = CentreDetails::parse(&CentreForm {
            code: "xinhua",
            name: "新华社区服务中心",
            address: "新华路 1 号",
            time_zone: "Asia/Urumqi",
            contact_phone: "010-1234 5678",
            ..Default::default()
        })
        .expect("valid");
        let change = CentreForm {
            opening_hours: "每天 8:00-20:00",
            ..Default::default()
        };
        let fields = centre_fields(&["opening_hours".to_owned()], "update_mask").expect("known");
        let corrected =
            CentreDetails::correct(&recorded, &recorded.form().corrected(change, &fields))
                .expect("valid");
        assert_eq!(corrected.opening_hours, "每天 8:00-20:00");
        assert_eq!(corrected.time_zone, "Asia/Urumqi");
        assert_eq!(corrected.contact_phone, "010-1234 5678");
        let moved = CentreForm {
            code: "dongcheng",
            ..Default::default()
        };
        let refused =
            CentreDetails::correct(&recorded, &recorded.form().corrected(moved, &["code"]))
                .expect_err("codes never change");
        assert_eq!(refused.0[0].field, "code");
        assert!(centre_fields(&["id".to_owned()], "update_mask").is_err());
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
