//! The registry's routes: centres, residents (registration, search, imports, corrections,
//! status, erasure, the resident's copy) and consents. JSON in, a gRPC call to the
//! registry, JSON out; no business rules here.

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use linli_proto::registry::v1 as registry;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::json::{ApiJson, Grpc, Reply, micros};
use crate::merge_patch::MergePatch;
use crate::problem::Problem;
use crate::{call, forward, page, reply};

/// A centre as a district admin creates or corrects it; the code never changes.
#[derive(Deserialize, ToSchema)]
pub struct CentreDetails {
    #[schema(example = "xinhua")]
    pub code: Option<String>,
    #[schema(example = "新华社区服务中心")]
    pub name: Option<String>,
    pub address: Option<String>,
    /// IANA time zone; default Asia/Shanghai.
    pub time_zone: Option<String>,
    pub opening_hours: Option<String>,
    pub contact_phone: Option<String>,
}

impl From<CentreDetails> for registry::CentreDetails {
    fn from(d: CentreDetails) -> Self {
        registry::CentreDetails {
            code: d.code.unwrap_or_default(),
            name: d.name.unwrap_or_default(),
            address: d.address.unwrap_or_default(),
            time_zone: d.time_zone.unwrap_or_default(),
            opening_hours: d.opening_hours.unwrap_or_default(),
            contact_phone: d.contact_phone.unwrap_or_default(),
        }
    }
}

/// The members of [`CentreDetails`]: what a correction of a centre can change.
const CENTRE_FIELDS: [&str; 6] = [
    "code",
    "name",
    "address",
    "time_zone",
    "opening_hours",
    "contact_phone",
];

/// A registration as the front desk writes it.
#[derive(Deserialize, ToSchema)]
pub struct NewResident {
    #[schema(example = "张三")]
    pub name: Option<String>,
    /// `male` or `female`.
    #[schema(example = "male")]
    pub gender: Option<String>,
    /// YYYY-MM-DD.
    #[schema(example = "1950-03-01")]
    pub date_of_birth: Option<String>,
    /// Mainland mobile number.
    #[schema(example = "13812345678")]
    pub phone: Option<String>,
    /// 18-character PRC resident ID; must agree with date_of_birth and gender.
    #[schema(example = "11010519491231002X")]
    pub national_id: Option<String>,
    #[schema(example = "3号楼")]
    pub building: Option<String>,
    #[schema(example = "2单元")]
    pub unit: Option<String>,
    #[schema(example = "501")]
    pub room: Option<String>,
    /// Recorded categories: `disability`, `low_income`, `living_alone`.
    pub categories: Option<Vec<String>>,
    /// The resident's professions, skills and hobbies.
    pub skills: Option<Vec<registry::Skill>>,
    /// Sensitive; shown back only to care roles.
    pub health_note: Option<String>,
}

/// A registration at the front desk: the resident, and whether the desk has checked that
/// a resident of the centre with the same name, date of birth and phone is someone else.
#[derive(Deserialize, ToSchema)]
pub struct Registration {
    #[serde(flatten)]
    pub resident: NewResident,
    /// Registers the person even though the centre has a resident with the same name,
    /// date of birth and phone (refused with 409 naming that resident otherwise).
    #[serde(default)]
    pub confirm_not_duplicate: bool,
}

impl NewResident {
    fn into_request(self, centre: uuid::Uuid) -> registry::CreateResidentRequest {
        let gender = match self.gender.as_deref() {
            Some("male") => registry::Gender::Male,
            Some("female") => registry::Gender::Female,
            _ => registry::Gender::Unspecified,
        };
        registry::CreateResidentRequest {
            centre_id: centre.to_string(),
            name: self.name.unwrap_or_default(),
            gender: gender as i32,
            date_of_birth: self.date_of_birth.unwrap_or_default(),
            phone: self.phone,
            national_id: self.national_id,
            building: self.building.unwrap_or_default(),
            unit: self.unit.unwrap_or_default(),
            room: self.room.unwrap_or_default(),
            categories: self.categories.unwrap_or_default(),
            skills: self.skills.unwrap_or_default(),
            health_note: self.health_note,
            confirm_not_duplicate: false,
        }
    }
}

fn gender(number: i32) -> String {
    match registry::Gender::try_from(number) {
        Ok(registry::Gender::Male) => "male",
        Ok(registry::Gender::Female) => "female",
        _ => "unspecified",
    }
    .into()
}

reply! {
    /// A registered resident. The phone number is masked unless the caller's role needs it.
    pub struct Resident from registry::Resident as r {
        pub id: String,
        pub centre_id: String,
        pub name: String,
        pub gender: String = gender(r.gender),
        pub date_of_birth: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub phone: Option<String>,
        /// Masked (110105********002X) unless read with a purpose by a role that may see it.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub national_id: Option<String>,
        /// RFC 3339, UTC.
        pub registered_at: String = micros(r.registered_at).unwrap_or_default(),
        /// `active`, `moved_out` or `deceased`.
        pub status: String,
        /// The day the status took effect.
        pub status_since: String,
        pub building: String,
        pub unit: String,
        pub room: String,
        /// Recorded and age-derived categories.
        pub categories: Vec<String>,
        pub skills: Vec<registry::Skill> = r.skills,
        /// Present only for care roles (centre manager, coordinator).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub health_note: Option<String>,
        /// The resident's household; absent when none.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub household_id: Option<String>,
        /// Relationship to the head of household: `head`, `spouse`, `child`, `parent`,
        /// `grandchild`, `grandparent`, `sibling`, `other_relative` or `other`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub relationship: Option<String>,
    }
}

/// A household made for its head, at the head's address.
#[derive(Deserialize, ToSchema)]
pub struct NewHousehold {
    pub head_resident_id: Option<String>,
}

/// A resident registered straight into a household, at its address.
#[derive(Deserialize, ToSchema)]
pub struct NewMember {
    #[serde(flatten)]
    pub registration: Registration,
    /// As `Resident.relationship`, or the household register's word (户主, 配偶, 子女, …).
    pub relationship: Option<String>,
}

/// A registered resident placed into a household (its address becomes theirs).
#[derive(Deserialize, ToSchema)]
pub struct Placement {
    pub household_id: Option<String>,
    /// As `Resident.relationship`, or the household register's word (户主, 配偶, 子女, …).
    pub relationship: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevealQuery {
    /// Why the whole national ID is needed; the read is logged. Only the front desk and
    /// centre managers may ask.
    pub national_id_purpose: Option<String>,
}

page!(pub struct ResidentPage from registry::ListResidentsResponse { pub residents: Vec<Resident> });

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
    /// Name search: characters (张), pinyin initials (zs) or pinyin (zhang, zhangsan).
    pub q: Option<String>,
    /// Inclusive age range in whole years.
    pub min_age: Option<u32>,
    pub max_age: Option<u32>,
    /// `elderly`, `minor`, `disability`, `low_income` or `living_alone`.
    pub category: Option<String>,
    pub building: Option<String>,
    /// `active`, `moved_out` or `deceased`.
    pub status: Option<String>,
    /// Part of a directory entry, e.g. `医` for everyone with medical knowledge.
    pub skill: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `utf-8`, `gbk` or `auto` (default).
    pub encoding: Option<String>,
    /// Column headings for fields, e.g. `name:居民,date_of_birth:生日`; the usual
    /// 姓名/性别/出生日期/手机/身份证号 headings need no mapping.
    pub map: Option<String>,
}

reply! {
    /// One row an import refused.
    pub struct RowError from registry::RowError as e {
        /// The row's line in the sheet; the heading row is 1.
        pub row: u32,
        pub field: String,
        /// Why, for a person, in the language `Accept-Language` asks for (Chinese by
        /// default), from the code and its parameters.
        pub message: String = crate::catalogue::said(
            crate::problem::request_lang(),
            &e.code,
            &e.params.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            &e.reason,
        ),
        /// Why, in English.
        pub reason: String,
        /// Why, as a stable code (e.g. `national_id.check_character`).
        pub code: String,
        /// The code's parameters.
        pub params: std::collections::BTreeMap<String, String> = e.params.into_iter().collect(),
    }
}

reply! {
    /// What an import did with every row.
    pub struct ImportReport from registry::ImportResidentsReport as r {
        pub rows: u32,
        pub imported: u32,
        /// Rows skipped because the resident is already registered.
        pub already_registered: Vec<u32>,
        pub errors: Vec<RowError>,
    }
}

#[derive(Deserialize, ToSchema)]
pub struct Erasure {
    /// Why, for the record.
    pub reason: Option<String>,
}

/// A consent given or withdrawn.
#[derive(Deserialize, ToSchema)]
pub struct ConsentChange {
    /// `service_delivery`, `activity_contact` or `partner_sharing`.
    pub purpose: Option<String>,
    pub granted: Option<bool>,
    /// `paper_form`, `in_person`, `phone` or `online`.
    pub source: Option<String>,
    /// For a resident under 14: the adult resident consenting for them.
    pub guardian_id: Option<String>,
}

reply! {
    pub struct Consent from registry::Consent as c {
        pub purpose: String,
        pub granted: bool,
        pub source: String,
        pub recorded_at: String = micros(c.recorded_at).unwrap_or_default(),
        pub recorded_by: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub guardian_id: Option<String>,
    }
}

reply! {
    /// A resident's current consent per purpose; a purpose not listed is not granted.
    pub struct Consents from registry::Consents as r {
        pub resident_id: String,
        pub consents: Vec<Consent>,
    }
}

/// A change of a resident's status.
#[derive(Deserialize, ToSchema)]
pub struct StatusChange {
    /// `active` (moved back), `moved_out` or `deceased`.
    pub status: Option<String>,
    /// YYYY-MM-DD; default today.
    pub since: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Why, for the access log.
    pub purpose: Option<String>,
}

/// The members of [`NewResident`]: what a correction of a resident can change.
const RESIDENT_FIELDS: [&str; 11] = [
    "name",
    "gender",
    "date_of_birth",
    "phone",
    "national_id",
    "building",
    "unit",
    "room",
    "categories",
    "skills",
    "health_note",
];

forward! { tag = "registry";
    /// The centres the caller may see.
    get "/v1/centres" => list_centres(g) -> 200 registry::ListCentresResponse {
        call!(g.registry.list_centres(registry::ListCentresRequest {}))
    }

    /// Adds a centre to the district (district admins).
    post "/v1/centres" => create_centre(g; body c: CentreDetails) -> 201 registry::Centre, (409, "The code is taken") {
        call!(g.registry.create_centre(registry::CreateCentreRequest { centre: Some(c.into()) }))
    }

    /// Registers a resident at a centre.
    post "/v1/centres/{centre_id}/residents" params(("centre_id" = String, Path, description = "The centre's id"))
        => create_resident(g, centre; body r: Registration) -> 201 Resident,
        (409, "The national ID is already registered; or a resident of the centre has the same name, date of birth and phone (code `resident_probably_registered`, its id in params.resident_id): send confirm_not_duplicate to register this person anyway") {
        let centre = g.auth.centre(&centre)?;
        let request = registry::CreateResidentRequest {
            confirm_not_duplicate: r.confirm_not_duplicate,
            ..r.resident.into_request(centre)
        };
        call!(g.registry.create_resident(request))
    }

    /// One resident of a centre.
    get "/v1/centres/{centre_id}/residents/{resident_id}"
        => get_resident(g, centre, id; query reveal: RevealQuery) -> 200 Resident {
        let national_id_purpose = reveal.national_id_purpose.unwrap_or_default();
        let request = registry::GetResidentRequest { centre_id: g.centre(&centre)?, id, national_id_purpose };
        call!(g.registry.get_resident(request))
    }

    /// A centre's residents, newest registration first.
    get "/v1/centres/{centre_id}/residents" => list_residents(g, centre; query page: PageQuery) -> 200 ResidentPage {
        call!(g.registry.list_residents(registry::ListResidentsRequest {
            centre_id: g.centre(&centre)?,
            page_size: page.page_size.unwrap_or(0),
            page_token: page.page_token.unwrap_or_default(),
            q: page.q.unwrap_or_default(),
            min_age: page.min_age,
            max_age: page.max_age,
            category: page.category.unwrap_or_default(),
            building: page.building.unwrap_or_default(),
            status: page.status.unwrap_or_default(),
            skill: page.skill.unwrap_or_default(),
            ids: Vec::new(),
        }))
    }

    /// Records a consent or its withdrawal (which takes effect at once).
    post "/v1/centres/{centre_id}/residents/{resident_id}/consents"
        => record_consent(g, centre, resident_id; body c: ConsentChange) -> 200 Consents,
        (400, "e.g. a child under 14 without a guardian") {
        let centre_id = g.centre(&centre)?;
        let granted = (c.granted)
            .ok_or_else(|| Problem::invalid_field("granted", "is required (true or false)"))?;
        call!(g.registry.record_consent(registry::RecordConsentRequest {
            centre_id,
            resident_id,
            purpose: c.purpose.unwrap_or_default(),
            granted,
            source: c.source.unwrap_or_default(),
            guardian_id: c.guardian_id.unwrap_or_default(),
            ..Default::default()
        }))
    }

    /// A resident's current consents.
    get "/v1/centres/{centre_id}/residents/{resident_id}/consents"
        => get_consents(g, centre, resident_id) -> 200 Consents {
        let request = registry::GetConsentsRequest { centre_id: g.centre(&centre)?, resident_id };
        call!(g.registry.get_consents(request))
    }

    /// Makes a resident the head of a new household at their address.
    post "/v1/centres/{centre_id}/households"
        => create_household(g, centre; body h: NewHousehold) -> 201 registry::Household,
        (409, "The address has a household already (code `household_exists`, its id in params.household_id): place the resident into it") {
        call!(g.registry.create_household(registry::CreateHouseholdRequest {
            centre_id: g.centre(&centre)?,
            head_resident_id: h.head_resident_id.unwrap_or_default(),
        }))
    }

    /// A household with its members.
    get "/v1/centres/{centre_id}/households/{household_id}"
        => get_household(g, centre, id) -> 200 registry::Household {
        call!(g.registry.get_household(registry::GetHouseholdRequest { centre_id: g.centre(&centre)?, id }))
    }

    /// Registers a resident straight into a household, at its address.
    post "/v1/centres/{centre_id}/households/{household_id}/members"
        => register_household_member(g, centre, household_id; body m: NewMember) -> 201 Resident,
        (400, "e.g. a second head of household (naming relationship)") {
        let centre = g.auth.centre(&centre)?;
        let resident = registry::CreateResidentRequest {
            confirm_not_duplicate: m.registration.confirm_not_duplicate,
            ..m.registration.resident.into_request(centre)
        };
        call!(g.registry.register_household_member(registry::RegisterHouseholdMemberRequest {
            resident: Some(resident),
            household_id,
            relationship: m.relationship.unwrap_or_default(),
        }))
    }

    /// Places a registered resident into a household, or changes their relationship in it.
    put "/v1/centres/{centre_id}/residents/{resident_id}/household"
        => place_in_household(g, centre, resident_id; body p: Placement) -> 200 Resident,
        (400, "e.g. a second head of household (naming relationship)") {
        call!(g.registry.place_in_household(registry::PlaceInHouseholdRequest {
            centre_id: g.centre(&centre)?,
            resident_id,
            household_id: p.household_id.unwrap_or_default(),
            relationship: p.relationship.unwrap_or_default(),
        }))
    }

    /// Records a move out, a death or a return.
    post "/v1/centres/{centre_id}/residents/{resident_id}/status"
        => set_resident_status(g, centre, id; body s: StatusChange) -> 200 Resident {
        call!(g.registry.set_resident_status(registry::SetResidentStatusRequest {
            centre_id: g.centre(&centre)?,
            id,
            status: s.status.unwrap_or_default(),
            since: s.since.unwrap_or_default(),
        }))
    }
}

/// Corrects a centre's details (district admins): the members sent replace their fields
/// (null or empty clears one) and the members left out keep theirs; the code never
/// changes.
#[utoipa::path(put, path = "/v1/centres/{centre_id}", tag = "registry",
    request_body = CentreDetails, responses((status = 200, body = registry::Centre)))]
pub async fn update_centre(
    g: Grpc,
    Path(centre): Path<String>,
    ApiJson(body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> Reply<registry::Centre> {
    let body = MergePatch(body);
    let mask = body.mask_of(&CENTRE_FIELDS);
    correct_centre(g, &centre, body, mask).await
}

/// Corrects only the fields sent (JSON Merge Patch, RFC 7396): a member set to null clears
/// its field, an absent member keeps it; the code never changes (district admins).
#[utoipa::path(patch, path = "/v1/centres/{centre_id}", tag = "registry",
    request_body(content = CentreDetails, content_type = "application/merge-patch+json"),
    responses((status = 200, body = registry::Centre),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "Not sent as application/merge-patch+json")))]
pub async fn patch_centre(
    g: Grpc,
    Path(centre): Path<String>,
    patch: MergePatch,
) -> Reply<registry::Centre> {
    patch.check(&CENTRE_FIELDS)?;
    let mask = patch.mask();
    correct_centre(g, &centre, patch, mask).await
}

async fn correct_centre(
    g: Grpc,
    centre: &str,
    body: MergePatch,
    mask: prost_types::FieldMask,
) -> Reply<registry::Centre> {
    let id = g.centre(centre)?;
    let details: CentreDetails = body.into_body()?;
    let request = registry::UpdateCentreRequest {
        id,
        centre: Some(details.into()),
        update_mask: Some(mask),
    };
    Ok(Json(call!(g.registry.update_centre(request))))
}

/// Largest spreadsheet the import route takes, in bytes (about 12 million rows of ten
/// columns); it is streamed to the registry as it arrives, never held whole. The request's
/// deadline (300 s more than others') is the limit met first at today's import rates.
const IMPORT_STREAM_LIMIT: usize = 1 << 30;

/// Registers the residents of a spreadsheet (CSV in UTF-8 or GBK, as the body).
#[utoipa::path(post, path = "/v1/centres/{centre_id}/residents/imports", tag = "registry",
    params(ImportQuery), request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport, description = "Good rows imported; every bad row reported"),
        (status = 413, body = Problem, content_type = "application/problem+json", description = "Larger than 1 GiB")))]
pub async fn import_residents(
    g: Grpc,
    Path(centre): Path<String>,
    Query(query): Query<ImportQuery>,
    file: axum::body::Body,
) -> Reply<ImportReport> {
    use tonic::codegen::tokio_stream::{StreamExt as _, wrappers::ReceiverStream};
    let centre_id = g.centre(&centre)?;
    let mut mapping = std::collections::HashMap::new();
    for pair in
        (query.map.as_deref().unwrap_or_default().split(',')).filter(|p| !p.trim().is_empty())
    {
        let (field, heading) = pair.split_once(':').ok_or_else(|| {
            Problem::invalid_field("map", "must be field:heading pairs separated by commas")
        })?;
        mapping.insert(field.trim().to_owned(), heading.trim().to_owned());
    }
    let first = registry::ImportResidentsRequest {
        centre_id,
        file: Vec::new(),
        encoding: query.encoding.unwrap_or_default(),
        mapping,
    };
    // The body goes on to the registry as it arrives, a few parts held at most.
    let (parts, stream) = tokio::sync::mpsc::channel(4);
    let (failed, mut failure) = tokio::sync::oneshot::channel();
    let sending = tokio::spawn(async move {
        let (mut body, mut size) = (file.into_data_stream(), 0);
        if parts.send(first).await.is_err() {
            return;
        }
        let problem = loop {
            match body.next().await {
                None => return,
                Some(Ok(bytes)) if size + bytes.len() <= IMPORT_STREAM_LIMIT => {
                    size += bytes.len();
                    let part = registry::ImportResidentsRequest {
                        file: bytes.to_vec(),
                        ..Default::default()
                    };
                    if parts.send(part).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {
                    break Problem::new(StatusCode::PAYLOAD_TOO_LARGE, "the sheet is over 1 GiB");
                }
                Some(Err(_)) => {
                    break Problem::new(
                        StatusCode::BAD_REQUEST,
                        "the sheet was not received whole",
                    )
                    .with_code("request.too_large");
                }
            }
        };
        let _ = failed.send(problem);
        // The stream stays open until the call is dropped: ending it here would pass for
        // the file's end, and a row cut in two for a whole one.
        std::future::pending::<()>().await;
        drop(parts);
    });
    let deadline = std::time::Duration::from_secs(300);
    let request = g.auth.grpc_within(ReceiverStream::new(stream), deadline);
    let mut registry = g.state.registry.clone();
    let answer = tokio::select! {
        answer = registry.import_residents_stream(request) => answer.map_err(Problem::from),
        Ok(problem) = &mut failure => Err(problem),
    };
    sending.abort();
    Ok(Json(answer?.into_inner().into()))
}

/// Erases a resident's personal data for good; every service erases its copy.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/residents/{resident_id}/erasure", tag = "registry",
    request_body = Erasure,
    responses((status = 204, description = "Erased"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such resident, or already erased")))]
pub async fn erase_resident(
    g: Grpc,
    Path((centre, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Erasure>,
) -> Result<StatusCode, Problem> {
    let (centre_id, reason) = (g.centre(&centre)?, body.reason.unwrap_or_default());
    call!(g.registry.erase_resident(registry::EraseResidentRequest {
        centre_id,
        id,
        reason
    }));
    Ok(StatusCode::NO_CONTENT)
}

/// Everything Linli holds about a resident, as one JSON document (the resident's right to
/// a copy): the registry's part (the resident, consents, reads of their national ID) and a
/// section from each other service: bookings with attendance, the volunteer profile with
/// shifts and hours, donations, survey answers, follow-ups and suggestions. Every service
/// is asked at once; when one does not answer the export fails (503) rather than leave its
/// part out. The export is logged with its purpose.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/residents/{resident_id}/export", tag = "registry",
    params(ExportQuery),
    responses(
        (status = 200, description = "Everything held about the resident", content_type = "application/json"),
        (status = 503, description = "A service did not answer; no partial copy is given", body = Problem, content_type = "application/problem+json")))]
pub async fn export_resident(
    g: Grpc,
    Path((centre, resident_id)): Path<(String, String)>,
    Query(query): Query<ExportQuery>,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse as _;
    let centre = g.auth.centre(&centre)?;
    let purpose = query.purpose.unwrap_or_default();
    let copy = crate::export::gather(&g.state, &g.auth, centre, &resident_id, &purpose).await?;
    let disposition = format!("attachment; filename=\"resident-{resident_id}.json\"");
    let headers = [
        (
            axum::http::header::CONTENT_TYPE,
            "application/json".to_owned(),
        ),
        (axum::http::header::CONTENT_DISPOSITION, disposition),
    ];
    Ok((headers, copy.document().to_string()).into_response())
}

/// Replaces a resident's details: every field as given. A field the caller's role does
/// not see in full (the national ID always; the phone for roles that see it masked; the
/// health note for roles that do not care for residents) must be sent, null to clear it:
/// left out, the request is refused with 400 naming it rather than erasing it. To change
/// some fields only, use PATCH.
#[utoipa::path(put, path = "/v1/centres/{centre_id}/residents/{resident_id}", tag = "registry",
    request_body = NewResident, responses((status = 200, body = Resident)))]
pub async fn update_resident(
    g: Grpc,
    Path((centre, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> Reply<Resident> {
    let centre = g.auth.centre(&centre)?;
    let body = MergePatch(body);
    // Null is the caller's choice to clear; absent is not, and the registry refuses
    // leaving out what the caller cannot see. The request says which by "" and unset.
    let cleared = |member: &str| body.clears(member).then(String::new);
    let (phone, national_id, health_note) = (
        cleared("phone"),
        cleared("national_id"),
        cleared("health_note"),
    );
    let mut details = body.into_body::<NewResident>()?.into_request(centre);
    details.phone = details.phone.or(phone);
    details.national_id = details.national_id.or(national_id);
    details.health_note = details.health_note.or(health_note);
    let request = registry::UpdateResidentRequest {
        id,
        resident: Some(details),
        update_mask: None,
    };
    Ok(Json(call!(g.registry.update_resident(request)).into()))
}

/// Corrects only the fields sent (JSON Merge Patch, RFC 7396): a member set to null clears
/// its field, an absent member keeps it, including fields the caller cannot see (the
/// health note for the front desk, the whole national ID).
#[utoipa::path(patch, path = "/v1/centres/{centre_id}/residents/{resident_id}", tag = "registry",
    request_body(content = NewResident, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, body = Resident),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "A field is invalid, cannot be cleared, or is not one a correction changes"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Another resident holds the national ID"),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "Not sent as application/merge-patch+json")))]
pub async fn patch_resident(
    g: Grpc,
    Path((centre, id)): Path<(String, String)>,
    patch: MergePatch,
) -> Reply<Resident> {
    let centre = g.auth.centre(&centre)?;
    patch.check(&RESIDENT_FIELDS)?;
    let mask = patch.mask();
    let request = registry::UpdateResidentRequest {
        id,
        resident: Some(patch.into_body::<NewResident>()?.into_request(centre)),
        update_mask: Some(mask),
    };
    Ok(Json(call!(g.registry.update_resident(request)).into()))
}

pub fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post, put};
    let resident = "/v1/centres/{centre_id}/residents/{resident_id}";
    forwarded()
        .route(
            "/v1/centres/{centre_id}",
            put(update_centre).patch(patch_centre),
        )
        .route(resident, put(update_resident).patch(patch_resident))
        .route(
            "/v1/centres/{centre_id}/residents/imports",
            post(import_residents),
        )
        .route(&format!("{resident}/erasure"), post(erase_resident))
        .route(&format!("{resident}/export"), get(export_resident))
}
