//! A resident as the front desk registers one. Each field is parsed once, at the edge, into
//! a type that cannot hold a bad value.

use chrono::{Datelike, NaiveDate};
use linli_platform::error::{Reason, Violations};

use super::NationalId;
use uuid::Uuid;

/// A resident's name as staff write it: trimmed, 1 to 64 characters, no control
/// characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResidentName(String);

impl ResidentName {
    pub fn parse(text: &str) -> Result<Self, Reason> {
        let name = text.trim();
        if name.is_empty() {
            return Err(Reason::required());
        }
        if name.chars().count() > 64 {
            return Err(Reason::too_long(64));
        }
        if name.chars().any(char::is_control) {
            return Err(linli_platform::text::reason());
        }
        Ok(ResidentName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }

    pub fn parse(text: &str) -> Result<Self, Reason> {
        match text {
            "male" => Ok(Gender::Male),
            "female" => Ok(Gender::Female),
            _ => Err(gender_required()),
        }
    }
}

/// A date of birth: a real calendar date, not in the future, within 130 years.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateOfBirth(NaiveDate);

impl DateOfBirth {
    pub fn parse(text: &str, today: NaiveDate) -> Result<Self, Reason> {
        if text.trim().is_empty() {
            return Err(Reason::required());
        }
        let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| Reason::new("date", "must be a calendar date written YYYY-MM-DD"))?;
        if date > today {
            return Err(Reason::not_in_future());
        }
        if today.year() - date.year() > 130 {
            return Err(Reason::new(
                "date_of_birth.too_old",
                "must be within the last 130 years",
            ));
        }
        Ok(DateOfBirth(date))
    }

    pub fn from_stored(date: NaiveDate) -> Self {
        DateOfBirth(date)
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }

    /// Age in whole years on `day`.
    pub fn age_on(self, day: NaiveDate) -> u32 {
        day.years_since(self.0).unwrap_or(0)
    }
}

/// A mainland mobile number: 11 digits starting 13–19, with an optional +86 and any
/// spaces or dashes removed. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(text: &str) -> Result<Self, Reason> {
        let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let digits = digits.strip_prefix("+86").unwrap_or(&digits);
        let valid = digits.len() == 11
            && digits.chars().all(|c| c.is_ascii_digit())
            && digits.starts_with('1')
            && matches!(digits.as_bytes()[1], b'3'..=b'9');
        if valid {
            Ok(Phone(digits.to_owned()))
        } else {
            Err(Reason::new(
                "phone.mobile",
                "must be an 11-digit mainland mobile number, e.g. 13812345678",
            ))
        }
    }

    /// The full number, for sealing or for a role that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `138****5678`.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

/// A registration as it arrives, every field still text.
#[derive(Clone, Copy, Debug, Default)]
pub struct ResidentForm<'a> {
    pub centre_id: &'a str,
    pub name: &'a str,
    pub gender: Option<&'a str>,
    pub date_of_birth: &'a str,
    pub phone: Option<&'a str>,
    pub national_id: Option<&'a str>,
    pub building: &'a str,
    pub unit: &'a str,
    pub room: &'a str,
    /// Recorded categories: `disability`, `low_income`, `living_alone`.
    pub categories: &'a [String],
    /// `(kind, name)`: kind `profession`, `skill` or `hobby`.
    pub skills: &'a [(String, String)],
    pub health_note: Option<&'a str>,
}

/// A health note: free text for care staff, at most 500 characters. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct HealthNote(String);

impl HealthNote {
    pub fn parse(text: &str) -> Result<Self, Reason> {
        let text = text.trim();
        if text.chars().count() > 500 {
            return Err(Reason::too_long(500));
        }
        Ok(HealthNote(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for HealthNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HealthNote(…)")
    }
}

/// Categories staff record; the age-derived ones (`elderly`, `minor`) are computed.
pub const RECORDED_CATEGORIES: [&str; 3] = ["disability", "low_income", "living_alone"];
pub const SKILL_KINDS: [&str; 3] = ["profession", "skill", "hobby"];
const MAX_SKILLS: usize = 20;

/// Where a resident lives: building (楼), unit (单元) and room (室) at their centre.
/// Residents at one address form a household.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    pub building: String,
    pub unit: String,
    pub room: String,
}

/// A registration the front desk asked for, every field valid.
#[derive(Clone, Debug)]
pub struct NewResident {
    pub centre_id: Uuid,
    pub name: ResidentName,
    pub gender: Gender,
    pub date_of_birth: DateOfBirth,
    pub phone: Option<Phone>,
    pub national_id: Option<NationalId>,
    pub address: Address,
    pub categories: Vec<String>,
    pub skills: Vec<(String, String)>,
    pub health_note: Option<HealthNote>,
}

fn present(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

/// A masked value read back (`138****5678`) is not a new value: say so rather than
/// report it as malformed.
fn unmasked<'a>(text: &'a str, code: &'static str) -> Result<&'a str, Reason> {
    if text.contains('*') {
        Err(Reason::new(
            code,
            "is the masked value as read back, not the whole one; give the whole value, or leave the field out of a PATCH to keep it",
        ))
    } else {
        Ok(text)
    }
}

fn gender_required() -> Reason {
    Reason::new("gender", "must be `male` or `female`")
}

impl NewResident {
    /// Parses every field, reporting every problem at once. A national ID must agree with
    /// the birth date and gender given beside it.
    pub fn parse(form: &ResidentForm<'_>, today: NaiveDate) -> Result<Self, Violations> {
        let mut violations = Violations::default();
        let centre_id = Uuid::parse_str(form.centre_id)
            .map_err(|_| violations.push("centre_id", Reason::uuid()))
            .ok();
        let name = ResidentName::parse(form.name)
            .map_err(|e| violations.push("name", e))
            .ok();
        let gender = match form.gender {
            Some(text) => Gender::parse(text)
                .map_err(|e| violations.push("gender", e))
                .ok(),
            None => {
                violations.push("gender", gender_required());
                None
            }
        };
        let date_of_birth = DateOfBirth::parse(form.date_of_birth, today)
            .map_err(|e| violations.push("date_of_birth", e))
            .ok();
        let phone = present(form.phone).and_then(|text| {
            unmasked(text, "phone.masked")
                .and_then(Phone::parse)
                .map_err(|e| violations.push("phone", e))
                .ok()
        });
        let national_id = present(form.national_id).and_then(|text| {
            unmasked(text, "national_id.masked")
                .and_then(|text| NationalId::parse(text, today))
                .map_err(|e| violations.push("national_id", e))
                .ok()
        });
        if let Some(id) = &national_id {
            if date_of_birth.is_some_and(|dob| dob.date() != id.birth_date()) {
                violations.push(
                    "national_id",
                    Reason::new(
                        "national_id.date_of_birth_mismatch",
                        "does not match date_of_birth",
                    ),
                );
            }
            if gender.is_some_and(|g| g != id.gender()) {
                violations.push(
                    "national_id",
                    Reason::new("national_id.gender_mismatch", "does not match gender"),
                );
            }
        }
        let health_note = present(form.health_note).and_then(|text| {
            HealthNote::parse(text)
                .map_err(|e| violations.push("health_note", e))
                .ok()
        });
        let mut address = Address::default();
        for (field, value, slot) in [
            ("building", form.building, &mut address.building),
            ("unit", form.unit, &mut address.unit),
            ("room", form.room, &mut address.room),
        ] {
            let value = value.trim();
            if value.chars().count() > 16 || value.chars().any(char::is_control) {
                violations.push(field, Reason::too_long(16));
            }
            *slot = value.to_owned();
        }
        let mut categories: Vec<String> = Vec::new();
        for category in form.categories {
            let category = category.trim();
            if !RECORDED_CATEGORIES.contains(&category) {
                violations.push(
                    "categories",
                    Reason::new(
                        "one_of",
                        format!(
                            "`{category}` is not one of {}",
                            RECORDED_CATEGORIES.join(", ")
                        ),
                    ),
                );
            } else if !categories.iter().any(|c| c == category) {
                categories.push(category.to_owned());
            }
        }
        let mut skills: Vec<(String, String)> = Vec::new();
        if form.skills.len() > MAX_SKILLS {
            violations.push(
                "skills",
                Reason::new("too_many", format!("at most {MAX_SKILLS}")).with("max", MAX_SKILLS),
            );
        }
        for (kind, skill) in form.skills {
            let (kind, skill) = (kind.trim(), skill.trim());
            if !SKILL_KINDS.contains(&kind) {
                violations.push(
                    "skills",
                    Reason::new(
                        "one_of",
                        format!("kind must be one of {}", SKILL_KINDS.join(", ")),
                    ),
                );
            } else if skill.is_empty() || skill.chars().count() > 40 {
                violations.push(
                    "skills",
                    Reason::new("length", "each name must be 1 to 40 characters")
                        .with("min", 1)
                        .with("max", 40),
                );
            } else if !skills.iter().any(|(k, n)| k == kind && n == skill) {
                skills.push((kind.to_owned(), skill.to_owned()));
            }
        }
        match (centre_id, name, gender, date_of_birth) {
            (Some(centre_id), Some(name), Some(gender), Some(date_of_birth))
                if violations.is_empty() =>
            {
                Ok(NewResident {
                    centre_id,
                    name,
                    gender,
                    date_of_birth,
                    phone,
                    national_id,
                    address,
                    categories,
                    skills,
                    health_note,
                })
            }
            _ => Err(violations),
        }
    }
}

/// Birth-date bounds `(born on or after, born on or before)` for an inclusive age range on
/// `today`: ages 60 to 69 are those born after today 70 years ago and on or before today 60
/// years ago.
pub fn birth_bounds(
    min_age: Option<u32>,
    max_age: Option<u32>,
    today: NaiveDate,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), Violations> {
    let mut violations = Violations::default();
    for (field, age) in [("min_age", min_age), ("max_age", max_age)] {
        if age.is_some_and(|a| a > 130) {
            violations.push(
                field,
                Reason::new("too_large", "must be at most 130").with("max", 130),
            );
        }
    }
    if let (Some(min), Some(max)) = (min_age, max_age)
        && min > max
    {
        violations.push(
            "max_age",
            Reason::new("below", "must not be below min_age").with("other", "min_age"),
        );
    }
    let years_ago = |years: u32| today.checked_sub_months(chrono::Months::new(years * 12));
    violations.into_result(|| {
        let on_or_before = min_age.and_then(years_ago);
        let on_or_after = max_age
            .and_then(|max| years_ago(max + 1))
            .and_then(|d| d.succ_opt());
        (on_or_after, on_or_before)
    })
}

/// The age band other services are told instead of a birth date.
pub fn age_band(age: u32) -> &'static str {
    match age {
        0..=13 => "0-13",
        14..=17 => "14-17",
        18..=59 => "18-59",
        60..=79 => "60-79",
        _ => "80+",
    }
}

/// Categories that follow from age alone: `elderly` from 60, `minor` under 18.
pub fn categories(age: u32) -> Vec<String> {
    let mut categories = Vec::new();
    if age >= 60 {
        categories.push("elderly".to_owned());
    }
    if age < 18 {
        categories.push("minor".to_owned());
    }
    categories
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 29).expect("valid date")
    }

    #[test]
    fn a_valid_registration_parses() {
        let centre = Uuid::nil().to_string();
        let form = ResidentForm {
            centre_id: &centre,
            name: " 张三 ",
            gender: Some("male"),
            date_of_birth: "1950-03-01",
            phone: Some("+86 138-1234-5678"),
            national_id: None,
            ..Default::default()
        };
        let resident = NewResident::parse(&form, today()).expect("valid");
        assert_eq!(resident.name.as_str(), "张三");
        assert_eq!(resident.phone.expect("phone").expose(), "13812345678");
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let categories = ["retired".to_owned()];
        let skills = [("talent".to_owned(), "唱歌".to_owned())];
        let form = ResidentForm {
            centre_id: "nope",
            name: "",
            gender: Some("other"),
            date_of_birth: "1950-02-30",
            phone: Some("12345"),
            national_id: Some("1101051949123100"),
            categories: &categories,
            skills: &skills,
            ..Default::default()
        };
        let violations = NewResident::parse(&form, today()).expect_err("invalid");
        let fields: Vec<&str> = violations.0.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "centre_id",
                "name",
                "gender",
                "date_of_birth",
                "phone",
                "national_id",
                "categories",
                "skills"
            ]
        );
    }

    #[test]
    fn a_national_id_must_agree_with_birth_date_and_gender() {
        let centre = Uuid::nil().to_string();
        let form = ResidentForm {
            centre_id: &centre,
            name: "王芳",
            gender: Some("male"),
            date_of_birth: "1949-12-30",
            national_id: Some("11010519491231002X"),
            ..Default::default()
        };
        let violations = NewResident::parse(&form, today()).expect_err("mismatch");
        let reasons: Vec<&str> = violations.0.iter().map(|v| v.reason.as_str()).collect();
        assert_eq!(
            reasons,
            ["does not match date_of_birth", "does not match gender"]
        );
        let agreeing = ResidentForm {
            gender: Some("female"),
            date_of_birth: "1949-12-31",
            ..form
        };
        let resident = NewResident::parse(&agreeing, today()).expect("agrees");
        assert_eq!(
            resident.national_id.expect("kept").masked(),
            "110105********002X"
        );
    }

    #[test]
    fn an_age_range_becomes_birth_date_bounds() {
        let (after, before) = birth_bounds(Some(60), Some(69), today()).expect("valid");
        assert_eq!(before, NaiveDate::from_ymd_opt(1966, 11, 29));
        assert_eq!(after, NaiveDate::from_ymd_opt(1956, 11, 30));
        let sixty = DateOfBirth::parse("1966-11-29", today()).expect("valid");
        let seventy = DateOfBirth::parse("1956-11-29", today()).expect("valid");
        assert_eq!((sixty.age_on(today()), seventy.age_on(today())), (60, 70));
        assert!(birth_bounds(Some(70), Some(60), today()).is_err());
        assert_eq!(birth_bounds(None, None, today()), Ok((None, None)));
    }

    #[test]
    fn a_birth_date_in_the_future_is_refused() {
        assert_eq!(
            DateOfBirth::parse("2027-01-01", today()),
            Err(Reason::not_in_future())
        );
    }

    #[test]
    fn phone_debug_and_mask_hide_the_middle_digits() {
        let phone = Phone::parse("13812345678").expect("valid");
        assert_eq!(phone.masked(), "138****5678");
        assert!(!format!("{phone:?}").contains("1234"));
    }

    #[test]
    fn age_bands_and_categories_follow_the_plan() {
        let dob = DateOfBirth::parse("1966-11-29", today()).expect("valid");
        assert_eq!(dob.age_on(today()), 60);
        assert_eq!(age_band(60), "60-79");
        assert_eq!(categories(60), ["elderly"]);
        assert_eq!(categories(13), ["minor"]);
        assert_eq!(age_band(13), "0-13");
        assert!(categories(30).is_empty());
    }
}
