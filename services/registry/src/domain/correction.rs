//! What a correction of a resident changes. A correction names the fields it changes (a
//! JSON merge patch, a gRPC field mask) and every other field keeps its value, including
//! what the caller cannot see; a whole replacement changes every field, so it must not
//! leave out a field the caller never saw in full, or it would erase it unseen.

use linli_platform::auth::Caller;
use linli_platform::error::Reason;
use linli_platform::error::Violations;

use super::{ResidentForm, reads_health_notes, sees_contact_details};

/// A field of a resident that a correction can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResidentField {
    Name,
    Gender,
    DateOfBirth,
    Phone,
    NationalId,
    Building,
    Unit,
    Room,
    Categories,
    Skills,
    HealthNote,
}

impl ResidentField {
    pub const ALL: [ResidentField; 11] = [
        ResidentField::Name,
        ResidentField::Gender,
        ResidentField::DateOfBirth,
        ResidentField::Phone,
        ResidentField::NationalId,
        ResidentField::Building,
        ResidentField::Unit,
        ResidentField::Room,
        ResidentField::Categories,
        ResidentField::Skills,
        ResidentField::HealthNote,
    ];

    /// The field's name, as in requests and responses.
    pub fn as_str(self) -> &'static str {
        match self {
            ResidentField::Name => "name",
            ResidentField::Gender => "gender",
            ResidentField::DateOfBirth => "date_of_birth",
            ResidentField::Phone => "phone",
            ResidentField::NationalId => "national_id",
            ResidentField::Building => "building",
            ResidentField::Unit => "unit",
            ResidentField::Room => "room",
            ResidentField::Categories => "categories",
            ResidentField::Skills => "skills",
            ResidentField::HealthNote => "health_note",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        ResidentField::ALL
            .into_iter()
            .find(|field| field.as_str() == name)
    }

    /// The fields a correction names, from a field mask's paths: every unknown name is
    /// reported under `mask_field`.
    pub fn parse_all(paths: &[String], mask_field: &str) -> Result<Vec<Self>, Violations> {
        let mut violations = Violations::default();
        let mut fields = Vec::new();
        for path in paths {
            match ResidentField::parse(path.trim()) {
                Some(field) if !fields.contains(&field) => fields.push(field),
                Some(_) => {}
                None => violations.push(
                    mask_field,
                    Reason::new("mask.unknown_field", format!(
                        "`{path}` is not a field of a resident that can be corrected; the fields are {}",
                        ResidentField::ALL.map(ResidentField::as_str).join(", ")
                    )),
                ),
            }
        }
        violations.into_result(|| fields)
    }
}

/// A resident's details as text: a registration or correction as it arrives, or a
/// resident's record as it stands, which a correction starts from. An optional field is
/// `None` when a request left it out. `Debug` shows no personal data.
#[derive(Clone, Default)]
pub struct ResidentDetails {
    pub centre_id: String,
    pub name: String,
    pub gender: Option<String>,
    pub date_of_birth: String,
    pub phone: Option<String>,
    pub national_id: Option<String>,
    pub building: String,
    pub unit: String,
    pub room: String,
    pub categories: Vec<String>,
    /// `(kind, name)`.
    pub skills: Vec<(String, String)>,
    pub health_note: Option<String>,
}

impl std::fmt::Debug for ResidentDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResidentDetails(…)")
    }
}

impl ResidentDetails {
    /// The details as a form to parse.
    pub fn form(&self) -> ResidentForm<'_> {
        ResidentForm {
            centre_id: &self.centre_id,
            name: &self.name,
            gender: self.gender.as_deref(),
            date_of_birth: &self.date_of_birth,
            phone: self.phone.as_deref(),
            national_id: self.national_id.as_deref(),
            building: &self.building,
            unit: &self.unit,
            room: &self.room,
            categories: &self.categories,
            skills: &self.skills,
            health_note: self.health_note.as_deref(),
        }
    }

    /// These details with `fields` taken from `change`; every other field stays as it is.
    pub fn corrected(mut self, change: ResidentDetails, fields: &[ResidentField]) -> Self {
        let mut change = change;
        for field in fields {
            match field {
                ResidentField::Name => self.name = std::mem::take(&mut change.name),
                ResidentField::Gender => self.gender = change.gender.take(),
                ResidentField::DateOfBirth => {
                    self.date_of_birth = std::mem::take(&mut change.date_of_birth)
                }
                ResidentField::Phone => self.phone = change.phone.take(),
                ResidentField::NationalId => self.national_id = change.national_id.take(),
                ResidentField::Building => self.building = std::mem::take(&mut change.building),
                ResidentField::Unit => self.unit = std::mem::take(&mut change.unit),
                ResidentField::Room => self.room = std::mem::take(&mut change.room),
                ResidentField::Categories => {
                    self.categories = std::mem::take(&mut change.categories)
                }
                ResidentField::Skills => self.skills = std::mem::take(&mut change.skills),
                ResidentField::HealthNote => self.health_note = change.health_note.take(),
            }
        }
        self
    }
}

/// The fields a caller's ordinary read does not show in full: the national ID is masked
/// for everyone (the whole number needs a stated, logged purpose), the phone for roles
/// that do not phone residents, the health note is left out for roles that do not care
/// for them.
pub fn unseen_fields(caller: &Caller) -> Vec<ResidentField> {
    let mut unseen = vec![ResidentField::NationalId];
    if !sees_contact_details(caller) {
        unseen.push(ResidentField::Phone);
    }
    if !reads_health_notes(caller) {
        unseen.push(ResidentField::HealthNote);
    }
    unseen
}

/// A whole replacement must carry every field the caller does not see in full (an empty
/// value clears it); one left out is refused, naming it, rather than erased unseen.
pub fn check_replacement(caller: &Caller, given: &ResidentDetails) -> Result<(), Violations> {
    let mut violations = Violations::default();
    for field in unseen_fields(caller) {
        let present = match field {
            ResidentField::Phone => given.phone.is_some(),
            ResidentField::NationalId => given.national_id.is_some(),
            ResidentField::HealthNote => given.health_note.is_some(),
            _ => true,
        };
        if !present {
            violations.push(
                field.as_str(),
                Reason::new("correction.whole_replacement", "is not shown to your role in full, so a whole replacement must not leave it out: \
                 give it (empty or null clears it), or send only the fields to change with PATCH"),
            );
        }
    }
    violations.into_result(|| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use linli_platform::auth::Role;

    fn caller(roles: &[Role]) -> Caller {
        Caller {
            subject: "staff-1".into(),
            roles: roles.iter().copied().collect(),
            centres: Default::default(),
            scopes: Default::default(),
            session: None,
            acts_for: Default::default(),
        }
    }

    fn recorded() -> ResidentDetails {
        ResidentDetails {
            centre_id: "c".into(),
            name: "王芳".into(),
            gender: Some("female".into()),
            date_of_birth: "1949-12-31".into(),
            phone: Some("13812345678".into()),
            national_id: Some("11010519491231002X".into()),
            room: "501".into(),
            health_note: Some("高血压".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_correction_changes_only_the_fields_it_names() {
        let change = ResidentDetails {
            room: "502".into(),
            ..Default::default()
        };
        let corrected = recorded().corrected(change, &[ResidentField::Room]);
        assert_eq!(corrected.room, "502");
        assert_eq!(corrected.name, "王芳");
        assert_eq!(corrected.national_id.as_deref(), Some("11010519491231002X"));
        assert_eq!(corrected.health_note.as_deref(), Some("高血压"));
    }

    #[test]
    fn a_named_field_left_empty_is_cleared() {
        let corrected = recorded().corrected(
            ResidentDetails::default(),
            &[ResidentField::Phone, ResidentField::Room],
        );
        assert_eq!(corrected.phone, None);
        assert_eq!(corrected.room, "");
        assert_eq!(corrected.health_note.as_deref(), Some("高血压"));
    }

    #[test]
    fn unknown_mask_paths_are_named() {
        let paths = ["room".to_owned(), "status".to_owned(), "room".to_owned()];
        let violations = ResidentField::parse_all(&paths, "update_mask").expect_err("status");
        assert_eq!(violations.0.len(), 1);
        assert_eq!(violations.0[0].field, "update_mask");
        assert!(violations.0[0].reason.contains("`status`"));
        assert_eq!(
            ResidentField::parse_all(&paths[..1], "update_mask"),
            Ok(vec![ResidentField::Room])
        );
    }

    #[test]
    fn a_replacement_must_carry_what_the_caller_cannot_see() {
        let desk = caller(&[Role::FrontDesk]);
        let without_hidden = ResidentDetails {
            national_id: None,
            health_note: None,
            ..recorded()
        };
        let violations = check_replacement(&desk, &without_hidden).expect_err("refused");
        let fields: Vec<&str> = violations.0.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["national_id", "health_note"]);
        // A care role sees the health note, so leaving it out removes it on purpose.
        let manager = caller(&[Role::CentreManager]);
        let violations = check_replacement(&manager, &without_hidden).expect_err("refused");
        let fields: Vec<&str> = violations.0.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["national_id"]);
        // Given, even empty, is a choice the caller made.
        let cleared = ResidentDetails {
            national_id: Some(String::new()),
            health_note: Some(String::new()),
            ..recorded()
        };
        assert_eq!(check_replacement(&desk, &cleared), Ok(()));
        let admin = caller(&[Role::DistrictAdmin]);
        let fields: Vec<String> = check_replacement(&admin, &ResidentDetails::default())
            .expect_err("refused")
            .0
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(fields, ["national_id", "phone", "health_note"]);
    }
}
