//! The registry's routes: centres, residents (registration, search, imports, corrections,
//! status, erasure, the resident's copy) and consents. JSON in, a gRPC call to the
//! registry, JSON out; no business rules here.

use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use linli_proto::registry::v1 as registry;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::json::{ApiJson, Grpc, Reply};
use crate::merge_patch::{Correctable, Correction, MergePatch};
use crate::problem::Problem;
use crate::{call, forward, reply};

/// A centre's correction changes its details.
impl Correctable for registry::CentreDetails {
    const FIELDS: &[&str] = &[
        "code",
        "name",
        "address",
        "time_zone",
        "opening_hours",
        "contact_phone",
    ];
}

/// A resident registered straight into a household, at its address.
#[derive(Deserialize, ToSchema)]
pub struct NewMember {
    #[serde(flatten)]
    pub resident: registry::CreateResidentRequest,
    /// As `Resident.relationship`, or the household register's word (户主, 配偶, 子女, …).
    pub relationship: Option<String>,
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Why, for the access log.
    pub purpose: Option<String>,
}

/// A resident's correction changes their details, not their centre or status.
impl Correctable for registry::CreateResidentRequest {
    const FIELDS: &[&str] = &[
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
}

forward! { tag = "registry";
    /// The centres the caller may see.
    get "/v1/centres" => list_centres(g) -> 200 registry::ListCentresResponse {
        call!(g.registry.list_centres(registry::ListCentresRequest {}))
    }

    /// Adds a centre to the district (district admins).
    post "/v1/centres" => create_centre(g; body c: registry::CentreDetails) -> 201 registry::Centre, (409, "The code is taken") {
        call!(g.registry.create_centre(registry::CreateCentreRequest { centre: Some(c) }))
    }

    /// Registers a resident at a centre.
    post "/v1/centres/{centre_id}/residents" params(("centre_id" = String, Path, description = "The centre's id"))
        => create_resident(g, centre_id; body r: registry::CreateResidentRequest) -> 201 registry::Resident,
        (409, "The national ID is already registered; or a resident of the centre has the same name, date of birth and phone (code `resident_probably_registered`, its id in params.resident_id): send confirm_not_duplicate to register this person anyway")
        = registry.create_resident

    /// One resident of a centre.
    get "/v1/centres/{centre_id}/residents/{resident_id}"
        => get_resident(g, centre_id, id; query q: registry::GetResidentRequest) -> 200 registry::Resident
        = registry.get_resident

    /// A centre's residents, newest registration first.
    get "/v1/centres/{centre_id}/residents" => list_residents(g, centre_id; query q: registry::ListResidentsRequest)
        -> 200 registry::ListResidentsResponse = registry.list_residents

    /// Records a consent or its withdrawal (which takes effect at once).
    post "/v1/centres/{centre_id}/residents/{resident_id}/consents"
        => record_consent(g, centre, resident_id; body c: ConsentChange) -> 200 registry::Consents,
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
        => get_consents(g, centre_id, resident_id) -> 200 registry::Consents
        = registry.get_consents(registry::GetConsentsRequest)

    /// Makes a resident the head of a new household at their address.
    post "/v1/centres/{centre_id}/households"
        => create_household(g, centre_id; body h: registry::CreateHouseholdRequest) -> 201 registry::Household,
        (409, "The address has a household already (code `household_exists`, its id in params.household_id): place the resident into it")
        = registry.create_household

    /// A household with its members.
    get "/v1/centres/{centre_id}/households/{household_id}"
        => get_household(g, centre_id, id) -> 200 registry::Household
        = registry.get_household(registry::GetHouseholdRequest)

    /// Registers a resident straight into a household, at its address.
    post "/v1/centres/{centre_id}/households/{household_id}/members"
        => register_household_member(g, centre, household_id; body m: NewMember) -> 201 registry::Resident,
        (400, "e.g. a second head of household (naming relationship)") {
        let resident = registry::CreateResidentRequest { centre_id: g.centre(&centre)?, ..m.resident };
        call!(g.registry.register_household_member(registry::RegisterHouseholdMemberRequest {
            resident: Some(resident),
            household_id,
            relationship: m.relationship.unwrap_or_default(),
        }))
    }

    /// Places a registered resident into a household, or changes their relationship in it.
    put "/v1/centres/{centre_id}/residents/{resident_id}/household"
        => place_in_household(g, centre_id, resident_id; body p: registry::PlaceInHouseholdRequest) -> 200 registry::Resident,
        (400, "e.g. a second head of household (naming relationship)") = registry.place_in_household

    /// Records a move out, a death or a return.
    post "/v1/centres/{centre_id}/residents/{resident_id}/status"
        => set_resident_status(g, centre_id, id; body s: registry::SetResidentStatusRequest) -> 200 registry::Resident
        = registry.set_resident_status
}

/// Corrects a centre's details (district admins): the members sent replace their fields
/// (null or empty clears one) and the members left out keep theirs; the code never
/// changes.
#[utoipa::path(put, path = "/v1/centres/{centre_id}", tag = "registry",
    request_body = registry::CentreDetails, responses((status = 200, body = registry::Centre)))]
pub async fn update_centre(
    g: Grpc,
    Path(centre): Path<String>,
    c: Correction<registry::CentreDetails>,
) -> Reply<registry::Centre> {
    let (id, update_mask) = (g.centre(&centre)?, Some(c.mask));
    let request = registry::UpdateCentreRequest {
        id,
        centre: Some(c.body),
        update_mask,
    };
    Ok(Json(call!(g.registry.update_centre(request))))
}

/// Corrects only the fields sent (JSON Merge Patch, RFC 7396): a member set to null clears
/// its field, an absent member keeps it; the code never changes (district admins).
#[utoipa::path(patch, path = "/v1/centres/{centre_id}", tag = "registry",
    request_body(content = registry::CentreDetails, content_type = "application/merge-patch+json"),
    responses((status = 200, body = registry::Centre),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "Not sent as application/merge-patch+json")))]
pub async fn patch_centre(
    g: Grpc,
    centre: Path<String>,
    c: Correction<registry::CentreDetails>,
) -> Reply<registry::Centre> {
    update_centre(g, centre, c).await
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
    request_body = registry::CreateResidentRequest, responses((status = 200, body = registry::Resident)))]
pub async fn update_resident(
    g: Grpc,
    Path((centre, id)): Path<(String, String)>,
    ApiJson(body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> Reply<registry::Resident> {
    let centre_id = g.centre(&centre)?;
    let body = MergePatch(body);
    // Null is the caller's choice to clear; absent is not, and the registry refuses
    // leaving out what the caller cannot see. The request says which by "" and unset.
    let cleared = |member: &str| body.clears(member).then(String::new);
    let (phone, national_id, health_note) = (
        cleared("phone"),
        cleared("national_id"),
        cleared("health_note"),
    );
    let mut details = registry::CreateResidentRequest {
        centre_id,
        ..body.into_body()?
    };
    details.phone = details.phone.or(phone);
    details.national_id = details.national_id.or(national_id);
    details.health_note = details.health_note.or(health_note);
    let request = registry::UpdateResidentRequest {
        id,
        resident: Some(details),
        update_mask: None,
    };
    Ok(Json(call!(g.registry.update_resident(request))))
}

/// Corrects only the fields sent (JSON Merge Patch, RFC 7396): a member set to null clears
/// its field, an absent member keeps it, including fields the caller cannot see (the
/// health note for the front desk, the whole national ID).
#[utoipa::path(patch, path = "/v1/centres/{centre_id}/residents/{resident_id}", tag = "registry",
    request_body(content = registry::CreateResidentRequest, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, body = registry::Resident),
        (status = 400, body = Problem, content_type = "application/problem+json", description = "A field is invalid, cannot be cleared, or is not one a correction changes"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "Another resident holds the national ID"),
        (status = 415, body = Problem, content_type = "application/problem+json", description = "Not sent as application/merge-patch+json")))]
pub async fn patch_resident(
    g: Grpc,
    Path((centre, id)): Path<(String, String)>,
    c: Correction<registry::CreateResidentRequest>,
) -> Reply<registry::Resident> {
    let resident = registry::CreateResidentRequest {
        centre_id: g.centre(&centre)?,
        ..c.body
    };
    let (resident, update_mask) = (Some(resident), Some(c.mask));
    let request = registry::UpdateResidentRequest {
        id,
        resident,
        update_mask,
    };
    Ok(Json(call!(g.registry.update_resident(request))))
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
