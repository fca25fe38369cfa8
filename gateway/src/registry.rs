//! The HTTP routes: JSON in, a gRPC call to the owning service, JSON out. No business
//! rules here; the services decide, the gateway translates.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use chrono::{DateTime, SecondsFormat};
use linli_proto::registry::v1 as registry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Authenticated;
use crate::merge_patch::MergePatch;
use crate::problem::Problem;

/// A JSON body whose rejections are problem documents.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => {
                let detail = match &rejection {
                    JsonRejection::JsonSyntaxError(_) => {
                        format!("malformed JSON: {}", rejection.body_text())
                    }
                    _ => rejection.body_text(),
                };
                Err(Problem::new(rejection.status(), detail))
            }
        }
    }
}

/// A centre of the district.
#[derive(Serialize, ToSchema)]
pub struct Centre {
    pub id: String,
    pub code: String,
    pub name: String,
    pub address: String,
    /// IANA time zone.
    pub time_zone: String,
    pub opening_hours: String,
    pub contact_phone: String,
}

impl From<registry::Centre> for Centre {
    fn from(c: registry::Centre) -> Self {
        Centre {
            id: c.id,
            code: c.code,
            name: c.name,
            address: c.address,
            time_zone: c.time_zone,
            opening_hours: c.opening_hours,
            contact_phone: c.contact_phone,
        }
    }
}

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

/// Adds a centre to the district (district admins).
#[utoipa::path(post, path = "/v1/centres", tag = "registry",
    request_body = CentreDetails,
    responses(
        (status = 201, body = Centre),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The code is taken")),
    security(("bearer" = [])))]
pub async fn create_centre(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<CentreDetails>,
) -> Result<(StatusCode, Json<Centre>), Problem> {
    let request = registry::CreateCentreRequest {
        centre: Some(body.into()),
    };
    let reply = state
        .registry
        .clone()
        .create_centre(auth.grpc(request))
        .await?;
    Ok((StatusCode::CREATED, Json(reply.into_inner().into())))
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

/// Corrects a centre's details (district admins): the members sent replace their fields
/// (null or empty clears one) and the members left out keep theirs; the code never
/// changes.
#[utoipa::path(put, path = "/v1/centres/{centre_id}", tag = "registry",
    params(("centre_id" = String, Path)),
    request_body = CentreDetails,
    responses(
        (status = 200, body = Centre),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn update_centre(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> Result<Json<Centre>, Problem> {
    let body = MergePatch(body);
    let mask = body.mask_of(&CENTRE_FIELDS);
    correct_centre(state, auth, &centre_id, body, mask).await
}

/// Corrects only the fields sent (JSON Merge Patch, RFC 7396): a member set to null clears
/// its field, an absent member keeps it; the code never changes (district admins).
#[utoipa::path(patch, path = "/v1/centres/{centre_id}", tag = "registry",
    params(("centre_id" = String, Path)),
    request_body(content = CentreDetails, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, body = Centre),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "Not sent as application/merge-patch+json")),
    security(("bearer" = [])))]
pub async fn patch_centre(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    patch: MergePatch,
) -> Result<Json<Centre>, Problem> {
    patch.check(&CENTRE_FIELDS)?;
    let mask = patch.mask();
    correct_centre(state, auth, &centre_id, patch, mask).await
}

async fn correct_centre(
    state: AppState,
    auth: Authenticated,
    centre_id: &str,
    body: MergePatch,
    mask: prost_types::FieldMask,
) -> Result<Json<Centre>, Problem> {
    let centre = auth.centre(centre_id)?;
    let details: CentreDetails = body.into_body()?;
    let request = registry::UpdateCentreRequest {
        id: centre.to_string(),
        centre: Some(details.into()),
        update_mask: Some(mask),
    };
    let reply = state
        .registry
        .clone()
        .update_centre(auth.grpc(request))
        .await?;
    Ok(Json(reply.into_inner().into()))
}

#[derive(Serialize, ToSchema)]
pub struct CentreList {
    pub centres: Vec<Centre>,
}

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
    pub skills: Option<Vec<Skill>>,
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

/// A directory entry.
#[derive(Deserialize, Serialize, ToSchema)]
pub struct Skill {
    /// `profession`, `skill` or `hobby`.
    pub kind: String,
    #[schema(example = "医生")]
    pub name: String,
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
            skills: self
                .skills
                .unwrap_or_default()
                .into_iter()
                .map(|s| registry::Skill {
                    kind: s.kind,
                    name: s.name,
                })
                .collect(),
            health_note: self.health_note,
            confirm_not_duplicate: false,
        }
    }
}

/// A registered resident. The phone number is masked unless the caller's role needs it.
#[derive(Serialize, ToSchema)]
pub struct Resident {
    pub id: String,
    pub centre_id: String,
    pub name: String,
    pub gender: String,
    pub date_of_birth: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Masked (110105********002X) unless read with a purpose by a role that may see it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub national_id: Option<String>,
    /// RFC 3339, UTC.
    pub registered_at: String,
    /// `active`, `moved_out` or `deceased`.
    pub status: String,
    /// The day the status took effect.
    pub status_since: String,
    pub building: String,
    pub unit: String,
    pub room: String,
    /// Recorded and age-derived categories.
    pub categories: Vec<String>,
    pub skills: Vec<Skill>,
    /// Present only for care roles (centre manager, coordinator).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health_note: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevealQuery {
    /// Why the whole national ID is needed; the read is logged. Only the front desk and
    /// centre managers may ask.
    pub national_id_purpose: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ResidentPage {
    pub residents: Vec<Resident>,
    /// Pass as `page_token` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

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

/// One row an import refused.
#[derive(Serialize, ToSchema)]
pub struct RowError {
    /// The row's line in the sheet; the heading row is 1.
    pub row: u32,
    pub field: String,
    pub reason: String,
}

/// What an import did with every row.
#[derive(Serialize, ToSchema)]
pub struct ImportReport {
    pub rows: u32,
    pub imported: u32,
    /// Rows skipped because the resident is already registered.
    pub already_registered: Vec<u32>,
    pub errors: Vec<RowError>,
}

fn resident(r: registry::Resident) -> Resident {
    let gender = match registry::Gender::try_from(r.gender) {
        Ok(registry::Gender::Male) => "male",
        Ok(registry::Gender::Female) => "female",
        _ => "unspecified",
    };
    Resident {
        id: r.id,
        centre_id: r.centre_id,
        name: r.name,
        gender: gender.into(),
        date_of_birth: r.date_of_birth,
        phone: r.phone,
        national_id: r.national_id,
        status: r.status,
        status_since: r.status_since,
        building: r.building,
        unit: r.unit,
        room: r.room,
        categories: r.categories,
        skills: r
            .skills
            .into_iter()
            .map(|s| Skill {
                kind: s.kind,
                name: s.name,
            })
            .collect(),
        health_note: r.health_note,
        registered_at: r
            .registered_at
            .and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true))
            .unwrap_or_default(),
    }
}

/// The centres the caller may see.
#[utoipa::path(get, path = "/v1/centres", tag = "registry",
    responses((status = 200, body = CentreList), (status = 401, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_centres(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<CentreList>, Problem> {
    let reply = state
        .registry
        .clone()
        .list_centres(auth.grpc(registry::ListCentresRequest {}))
        .await?;
    let centres = reply
        .into_inner()
        .centres
        .into_iter()
        .map(Centre::from)
        .collect();
    Ok(Json(CentreList { centres }))
}

/// Registers a resident at a centre.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/residents", tag = "registry",
    params(("centre_id" = String, Path, description = "The centre's id")),
    request_body = Registration,
    responses(
        (status = 201, body = Resident),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "A field is missing or invalid"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The national ID is already registered; or a resident of the centre has the same name, date of birth and phone (code `resident_probably_registered`, its id in params.resident_id): send confirm_not_duplicate to register this person anyway"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_resident(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<Registration>,
) -> Result<(StatusCode, Json<Resident>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = registry::CreateResidentRequest {
        confirm_not_duplicate: body.confirm_not_duplicate,
        ..body.resident.into_request(centre)
    };
    let reply = state
        .registry
        .clone()
        .create_resident(auth.grpc(request))
        .await?;
    Ok((StatusCode::CREATED, Json(resident(reply.into_inner()))))
}

/// One resident of a centre.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/residents/{resident_id}", tag = "registry",
    params(("centre_id" = String, Path), ("resident_id" = String, Path), RevealQuery),
    responses(
        (status = 200, body = Resident),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_resident(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, resident_id)): Path<(String, String)>,
    Query(reveal): Query<RevealQuery>,
) -> Result<Json<Resident>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = registry::GetResidentRequest {
        centre_id: centre.to_string(),
        id: resident_id,
        national_id_purpose: reveal.national_id_purpose.unwrap_or_default(),
    };
    let reply = state
        .registry
        .clone()
        .get_resident(auth.grpc(request))
        .await?;
    Ok(Json(resident(reply.into_inner())))
}

/// A centre's residents, newest registration first.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/residents", tag = "registry",
    params(("centre_id" = String, Path), PageQuery),
    responses(
        (status = 200, body = ResidentPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_residents(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(page): Query<PageQuery>,
) -> Result<Json<ResidentPage>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = registry::ListResidentsRequest {
        centre_id: centre.to_string(),
        page_size: page.page_size.unwrap_or(0),
        page_token: page.page_token.unwrap_or_default(),
        q: page.q.unwrap_or_default(),
        min_age: page.min_age,
        max_age: page.max_age,
        category: page.category.unwrap_or_default(),
        building: page.building.unwrap_or_default(),
        status: page.status.unwrap_or_default(),
        skill: page.skill.unwrap_or_default(),
    };
    let reply = state
        .registry
        .clone()
        .list_residents(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(ResidentPage {
        residents: reply.residents.into_iter().map(resident).collect(),
        next_page_token: Some(reply.next_page_token).filter(|t| !t.is_empty()),
    }))
}

/// Registers the residents of a spreadsheet (CSV in UTF-8 or GBK, as the body).
#[utoipa::path(post, path = "/v1/centres/{centre_id}/residents/imports", tag = "registry",
    params(("centre_id" = String, Path), ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses(
        (status = 200, body = ImportReport, description = "Good rows imported; every bad row reported"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn import_residents(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(query): Query<ImportQuery>,
    file: axum::body::Bytes,
) -> Result<Json<ImportReport>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let mut mapping = std::collections::HashMap::new();
    for pair in query
        .map
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.trim().is_empty())
    {
        let (field, heading) = pair.split_once(':').ok_or_else(|| {
            Problem::invalid_field("map", "must be field:heading pairs separated by commas")
        })?;
        mapping.insert(field.trim().to_owned(), heading.trim().to_owned());
    }
    let request = registry::ImportResidentsRequest {
        centre_id: centre.to_string(),
        file: file.to_vec(),
        encoding: query.encoding.unwrap_or_default(),
        mapping,
    };
    let deadline = std::time::Duration::from_secs(300);
    let report = state
        .registry
        .clone()
        .import_residents(auth.grpc_within(request, deadline))
        .await?
        .into_inner();
    Ok(Json(ImportReport {
        rows: report.rows,
        imported: report.imported,
        already_registered: report.already_registered,
        errors: report
            .errors
            .into_iter()
            .map(|e| RowError {
                row: e.row,
                field: e.field,
                reason: e.reason,
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct Erasure {
    /// Why, for the record.
    pub reason: Option<String>,
}

/// Erases a resident's personal data for good; every service erases its copy.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/residents/{resident_id}/erasure", tag = "registry",
    params(("centre_id" = String, Path), ("resident_id" = String, Path)),
    request_body = Erasure,
    responses(
        (status = 204, description = "Erased"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json", description = "No such resident, or already erased")),
    security(("bearer" = [])))]
pub async fn erase_resident(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, resident_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Erasure>,
) -> Result<StatusCode, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = registry::EraseResidentRequest {
        centre_id: centre.to_string(),
        id: resident_id,
        reason: body.reason.unwrap_or_default(),
    };
    state
        .registry
        .clone()
        .erase_resident(auth.grpc(request))
        .await?;
    Ok(StatusCode::NO_CONTENT)
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

#[derive(Serialize, ToSchema)]
pub struct Consent {
    pub purpose: String,
    pub granted: bool,
    pub source: String,
    pub recorded_at: String,
    pub recorded_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guardian_id: Option<String>,
}

/// A resident's current consent per purpose; a purpose not listed is not granted.
#[derive(Serialize, ToSchema)]
pub struct Consents {
    pub resident_id: String,
    pub consents: Vec<Consent>,
}

fn consents(reply: registry::Consents) -> Consents {
    Consents {
        resident_id: reply.resident_id,
        consents: reply
            .consents
            .into_iter()
            .map(|c| Consent {
                purpose: c.purpose,
                granted: c.granted,
                source: c.source,
                recorded_at: c
                    .recorded_at
                    .and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
                    .map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true))
                    .unwrap_or_default(),
                recorded_by: c.recorded_by,
                guardian_id: Some(c.guardian_id).filter(|g| !g.is_empty()),
            })
            .collect(),
    }
}

/// Records a consent or its withdrawal (which takes effect at once).
#[utoipa::path(post, path = "/v1/centres/{centre_id}/residents/{resident_id}/consents", tag = "registry",
    params(("centre_id" = String, Path), ("resident_id" = String, Path)),
    request_body = ConsentChange,
    responses(
        (status = 200, body = Consents),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "e.g. a child under 14 without a guardian"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn record_consent(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, resident_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<ConsentChange>,
) -> Result<Json<Consents>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let granted = body
        .granted
        .ok_or_else(|| Problem::invalid_field("granted", "is required (true or false)"))?;
    let request = registry::RecordConsentRequest {
        centre_id: centre.to_string(),
        resident_id,
        purpose: body.purpose.unwrap_or_default(),
        granted,
        source: body.source.unwrap_or_default(),
        guardian_id: body.guardian_id.unwrap_or_default(),
    };
    let reply = state
        .registry
        .clone()
        .record_consent(auth.grpc(request))
        .await?;
    Ok(Json(consents(reply.into_inner())))
}

/// A resident's current consents.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/residents/{resident_id}/consents", tag = "registry",
    params(("centre_id" = String, Path), ("resident_id" = String, Path)),
    responses((status = 200, body = Consents), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_consents(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, resident_id)): Path<(String, String)>,
) -> Result<Json<Consents>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = registry::GetConsentsRequest {
        centre_id: centre.to_string(),
        resident_id,
    };
    let reply = state
        .registry
        .clone()
        .get_consents(auth.grpc(request))
        .await?;
    Ok(Json(consents(reply.into_inner())))
}

/// A change of a resident's status.
#[derive(Deserialize, ToSchema)]
pub struct StatusChange {
    /// `active` (moved back), `moved_out` or `deceased`.
    pub status: Option<String>,
    /// YYYY-MM-DD; default today.
    pub since: Option<String>,
}

/// Records a move out, a death or a return.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/residents/{resident_id}/status", tag = "registry",
    params(("centre_id" = String, Path), ("resident_id" = String, Path)),
    request_body = StatusChange,
    responses(
        (status = 200, body = Resident),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn set_resident_status(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, resident_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<StatusChange>,
) -> Result<Json<Resident>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = registry::SetResidentStatusRequest {
        centre_id: centre.to_string(),
        id: resident_id,
        status: body.status.unwrap_or_default(),
        since: body.since.unwrap_or_default(),
    };
    let reply = state
        .registry
        .clone()
        .set_resident_status(auth.grpc(request))
        .await?;
    Ok(Json(resident(reply.into_inner())))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Why, for the access log.
    pub purpose: Option<String>,
}

/// Everything Linli holds about a resident, as one JSON document (the resident's right to
/// a copy): the registry's part (the resident, consents, reads of their national ID) and a
/// section from each other service: bookings with attendance, the volunteer profile with
/// shifts and hours, donations, survey answers, follow-ups and suggestions. Every service
/// is asked at once; when one does not answer the export fails (503) rather than leave its
/// part out. The export is logged with its purpose.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/residents/{resident_id}/export", tag = "registry",
    params(("centre_id" = String, Path), ("resident_id" = String, Path), ExportQuery),
    responses(
        (status = 200, description = "Everything held about the resident", content_type = "application/json"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "A service did not answer; no partial copy is given", body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn export_resident(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, resident_id)): Path<(String, String)>,
    Query(query): Query<ExportQuery>,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse as _;
    let centre = auth.centre(&centre_id)?;
    let purpose = query.purpose.unwrap_or_default();
    let copy = crate::export::gather(&state, &auth, centre, &resident_id, &purpose).await?;
    let disposition = format!("attachment; filename=\"resident-{resident_id}.json\"");
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json".to_owned(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        copy.document().to_string(),
    )
        .into_response())
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

/// Replaces a resident's details: every field as given. A field the caller's role does
/// not see in full (the national ID always; the phone for roles that see it masked; the
/// health note for roles that do not care for residents) must be sent, null to clear it:
/// left out, the request is refused with 400 naming it rather than erasing it. To change
/// some fields only, use PATCH.
#[utoipa::path(put, path = "/v1/centres/{centre_id}/residents/{resident_id}", tag = "registry",
    params(("centre_id" = String, Path), ("resident_id" = String, Path)),
    request_body = NewResident,
    responses(
        (status = 200, body = Resident),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn update_resident(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, resident_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> Result<Json<Resident>, Problem> {
    let centre = auth.centre(&centre_id)?;
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
        id: resident_id,
        resident: Some(details),
        update_mask: None,
    };
    let reply = state
        .registry
        .clone()
        .update_resident(auth.grpc(request))
        .await?;
    Ok(Json(resident(reply.into_inner())))
}

/// Corrects only the fields sent (JSON Merge Patch, RFC 7396): a member set to null clears
/// its field, an absent member keeps it, including fields the caller cannot see (the
/// health note for the front desk, the whole national ID).
#[utoipa::path(patch, path = "/v1/centres/{centre_id}/residents/{resident_id}", tag = "registry",
    params(("centre_id" = String, Path), ("resident_id" = String, Path)),
    request_body(content = NewResident, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, body = Resident),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "A field is invalid, cannot be cleared, or is not one a correction changes"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Another resident holds the national ID"),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "Not sent as application/merge-patch+json")),
    security(("bearer" = [])))]
pub async fn patch_resident(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, resident_id)): Path<(String, String)>,
    patch: MergePatch,
) -> Result<Json<Resident>, Problem> {
    let centre = auth.centre(&centre_id)?;
    patch.check(&RESIDENT_FIELDS)?;
    let mask = patch.mask();
    let request = registry::UpdateResidentRequest {
        id: resident_id,
        resident: Some(patch.into_body::<NewResident>()?.into_request(centre)),
        update_mask: Some(mask),
    };
    let reply = state
        .registry
        .clone()
        .update_resident(auth.grpc(request))
        .await?;
    Ok(Json(resident(reply.into_inner())))
}
