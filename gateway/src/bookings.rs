//! The bookings routes: the catalogue, facilities, sessions, bookings, check-in and the
//! utilisation report, as JSON over the bookings service's gRPC.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat};
use linli_proto::bookings::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::AppState;
use crate::auth::Authenticated;
use crate::problem::Problem;
use crate::routes::ApiJson;

#[derive(OpenApi)]
#[openapi(
    paths(list_categories, list_offerings, create_offering, get_offering, list_facilities, create_facility,
        list_sessions, create_session, create_series, move_session, cancel_session, list_bookings,
        create_booking, get_booking, cancel_booking, check_in, utilisation),
    tags((name = "bookings", description = "Catalogue, facilities, sessions and bookings"))
)]
pub struct BookingsDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/centres/{centre_id}/service-categories",
            get(list_categories),
        )
        .route(
            "/v1/centres/{centre_id}/offerings",
            get(list_offerings).post(create_offering),
        )
        .route(
            "/v1/centres/{centre_id}/offerings/{offering_id}",
            get(get_offering),
        )
        .route(
            "/v1/centres/{centre_id}/facilities",
            get(list_facilities).post(create_facility),
        )
        .route(
            "/v1/centres/{centre_id}/sessions",
            get(list_sessions).post(create_session),
        )
        .route("/v1/centres/{centre_id}/series", post(create_series))
        .route(
            "/v1/centres/{centre_id}/sessions/{session_id}/move",
            post(move_session),
        )
        .route(
            "/v1/centres/{centre_id}/sessions/{session_id}/cancel",
            post(cancel_session),
        )
        .route(
            "/v1/centres/{centre_id}/bookings",
            get(list_bookings).post(create_booking),
        )
        .route(
            "/v1/centres/{centre_id}/bookings/{booking_id}",
            get(get_booking),
        )
        .route(
            "/v1/centres/{centre_id}/bookings/{booking_id}/cancel",
            post(cancel_booking),
        )
        .route(
            "/v1/centres/{centre_id}/bookings/{booking_id}/check-in",
            post(check_in),
        )
        .route("/v1/centres/{centre_id}/utilisation", get(utilisation))
}

fn time_text(t: Option<prost_types::Timestamp>) -> Option<String> {
    t.and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn timestamp(field: &str, text: &str) -> Result<prost_types::Timestamp, Problem> {
    let at = DateTime::parse_from_rfc3339(text).map_err(|_| {
        Problem::invalid_field(
            field,
            "must be an RFC 3339 time, e.g. 2027-03-01T09:00:00+08:00",
        )
    })?;
    Ok(prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    })
}

fn optional_timestamp(
    field: &str,
    text: &Option<String>,
) -> Result<Option<prost_types::Timestamp>, Problem> {
    text.as_deref().map(|t| timestamp(field, t)).transpose()
}

fn none_if_empty(text: String) -> Option<String> {
    Some(text).filter(|t| !t.is_empty())
}

const KINDS: [(&str, pb::OfferingKind); 5] = [
    ("appointment", pb::OfferingKind::Appointment),
    ("facility", pb::OfferingKind::Facility),
    ("course", pb::OfferingKind::Course),
    ("event", pb::OfferingKind::Event),
    ("recurring_care", pb::OfferingKind::RecurringCare),
];

fn kind_number(text: &str) -> Result<i32, Problem> {
    KINDS
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, kind)| *kind as i32)
        .ok_or_else(|| {
            Problem::invalid_field(
                "kind",
                "must be appointment, facility, course, event or recurring_care",
            )
        })
}

fn kind_name(number: i32) -> String {
    KINDS
        .iter()
        .find(|(_, kind)| *kind as i32 == number)
        .map(|(name, _)| (*name).to_owned())
        .unwrap_or_default()
}

const STATUSES: [(&str, pb::BookingStatus); 5] = [
    ("confirmed", pb::BookingStatus::Confirmed),
    ("waitlisted", pb::BookingStatus::Waitlisted),
    ("cancelled", pb::BookingStatus::Cancelled),
    ("attended", pb::BookingStatus::Attended),
    ("no_show", pb::BookingStatus::NoShow),
];

/// A category of the plan's catalogue.
#[derive(Serialize, ToSchema)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub name_en: String,
}

#[derive(Serialize, ToSchema)]
pub struct CategoryList {
    pub categories: Vec<Category>,
}

/// A lower price for residents of a category.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Concession {
    #[schema(example = "low_income")]
    pub category: String,
    /// Minor units (fen).
    pub price_minor: i64,
}

/// Something a centre offers.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Offering {
    #[serde(default)]
    pub id: String,
    #[schema(example = "health")]
    pub category: String,
    /// appointment, facility, course, event or recurring_care.
    #[schema(example = "course")]
    pub kind: String,
    #[schema(example = "老年大学·书法班")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// centre, or partner with provider_id.
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub provider_id: String,
    /// On the registry's age band boundaries: 0, 14, 18, 60, 80.
    pub min_age: Option<i32>,
    /// On the registry's age band boundaries: 13, 17, 59, 79.
    pub max_age: Option<i32>,
    #[serde(default)]
    pub eligible_categories: Vec<String>,
    /// Minor units (fen); 0 is free.
    #[serde(default)]
    pub fee_minor: i64,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub concessions: Vec<Concession>,
    #[serde(default)]
    pub capacity: i32,
    #[serde(default)]
    pub facility_id: String,
    #[serde(default)]
    pub staff_id: String,
    #[serde(default)]
    pub active: bool,
}

impl From<pb::Offering> for Offering {
    fn from(o: pb::Offering) -> Self {
        Offering {
            id: o.id,
            category: o.category,
            kind: kind_name(o.kind),
            name: o.name,
            description: o.description,
            provider: o.provider,
            provider_id: o.provider_id,
            min_age: o.min_age,
            max_age: o.max_age,
            eligible_categories: o.eligible_categories,
            fee_minor: o.fee_minor,
            currency: o.currency,
            concessions: o
                .concessions
                .into_iter()
                .map(|c| Concession {
                    category: c.category,
                    price_minor: c.price_minor,
                })
                .collect(),
            capacity: o.capacity,
            facility_id: o.facility_id,
            staff_id: o.staff_id,
            active: o.active,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OfferingList {
    pub offerings: Vec<Offering>,
}

/// A room or piece of equipment.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Facility {
    #[serde(default)]
    pub id: String,
    #[schema(example = "多功能活动室")]
    pub name: String,
    /// room or equipment.
    #[serde(default)]
    pub kind: String,
    /// HH:MM in the centre's time zone; default 08:00.
    #[serde(default)]
    pub opens: String,
    /// Default 20:00.
    #[serde(default)]
    pub closes: String,
    /// ISO weekdays, 1 = Monday; default every day.
    #[serde(default)]
    pub open_days: Vec<i32>,
}

impl From<pb::Facility> for Facility {
    fn from(f: pb::Facility) -> Self {
        Facility {
            id: f.id,
            name: f.name,
            kind: f.kind,
            opens: f.opens,
            closes: f.closes,
            open_days: f.open_days,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct FacilityList {
    pub facilities: Vec<Facility>,
}

/// One session of an offering.
#[derive(Serialize, ToSchema)]
pub struct Session {
    pub id: String,
    pub offering_id: String,
    pub series_id: Option<String>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    /// The start in the centre's time zone.
    pub local_start: String,
    pub capacity: i32,
    pub confirmed: i32,
    pub waitlisted: i32,
    /// scheduled or cancelled.
    pub status: String,
    pub facility_id: Option<String>,
    pub moved: bool,
}

impl From<pb::Session> for Session {
    fn from(s: pb::Session) -> Self {
        Session {
            id: s.id,
            offering_id: s.offering_id,
            series_id: none_if_empty(s.series_id),
            starts_at: time_text(s.starts_at),
            ends_at: time_text(s.ends_at),
            local_start: s.local_start,
            capacity: s.capacity,
            confirmed: s.confirmed,
            waitlisted: s.waitlisted,
            status: s.status,
            facility_id: none_if_empty(s.facility_id),
            moved: s.moved,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<Session>,
    /// Pass as `page_token` for the next page; absent on the last page (and after a move
    /// or a cancellation, which answer every session changed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

impl From<pb::ListSessionsResponse> for SessionList {
    fn from(reply: pb::ListSessionsResponse) -> Self {
        SessionList {
            sessions: reply.sessions.into_iter().map(Session::from).collect(),
            next_page_token: none_if_empty(reply.next_page_token),
        }
    }
}

/// A session to add to an offering.
#[derive(Deserialize, ToSchema)]
pub struct NewSession {
    pub offering_id: String,
    #[schema(example = "2027-03-01T09:00:00+08:00")]
    pub starts_at: String,
    #[schema(example = "2027-03-01T10:00:00+08:00")]
    pub ends_at: String,
    /// Overrides the offering's capacity.
    pub capacity: Option<i32>,
}

/// A weekly rule in the centre's time zone.
#[derive(Deserialize, ToSchema)]
pub struct NewSeries {
    pub offering_id: String,
    /// ISO weekdays, 1 = Monday.
    pub weekdays: Vec<i32>,
    #[schema(example = "09:30")]
    pub start_time: String,
    pub duration_minutes: i32,
    #[schema(example = "2027-03-01")]
    pub starts_on: String,
    /// Last day (inclusive); or give count.
    pub until: Option<String>,
    pub count: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct Series {
    pub id: String,
    pub offering_id: String,
    pub weekdays: Vec<i32>,
    pub start_time: String,
    pub duration_minutes: i32,
    pub starts_on: String,
    pub until: Option<String>,
    pub count: Option<i32>,
    pub time_zone: String,
    pub sessions: Vec<Session>,
}

/// Which sessions a change touches.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeScope {
    This,
    ThisAndFollowing,
}

fn scope_number(scope: Option<ChangeScope>) -> i32 {
    match scope {
        Some(ChangeScope::ThisAndFollowing) => pb::Scope::ThisAndFollowing as i32,
        _ => pb::Scope::This as i32,
    }
}

#[derive(Deserialize, ToSchema)]
pub struct SessionMove {
    /// The new start of this session; later ones shift by the same local time.
    pub starts_at: String,
    pub duration_minutes: Option<i32>,
    pub scope: Option<ChangeScope>,
}

#[derive(Deserialize, ToSchema)]
pub struct SessionCancellation {
    pub scope: Option<ChangeScope>,
}

/// One session a booking covers.
#[derive(Serialize, ToSchema)]
pub struct Seat {
    pub session_id: String,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    /// held, waiting, attended, no_show or released.
    pub state: String,
}

/// A booking.
#[derive(Serialize, ToSchema)]
pub struct Booking {
    pub id: String,
    pub offering_id: String,
    /// Absent once the resident was erased.
    pub resident_id: Option<String>,
    /// confirmed, waitlisted, cancelled, attended or no_show.
    pub status: String,
    /// For a waitlisted booking, its place (1 = next).
    pub waitlist_position: Option<i32>,
    pub seats: Vec<Seat>,
    pub facility_id: Option<String>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub fee_minor: i64,
    pub currency: String,
    pub concession: Option<String>,
    pub cancel_reason: Option<String>,
    pub created_at: Option<String>,
    pub note: String,
}

impl From<pb::Booking> for Booking {
    fn from(b: pb::Booking) -> Self {
        let status = STATUSES
            .iter()
            .find(|(_, s)| *s as i32 == b.status)
            .map(|(name, _)| (*name).to_owned())
            .unwrap_or_default();
        Booking {
            id: b.id,
            offering_id: b.offering_id,
            resident_id: none_if_empty(b.resident_id),
            status,
            waitlist_position: Some(b.waitlist_position).filter(|p| *p > 0),
            seats: b
                .seats
                .into_iter()
                .map(|s| Seat {
                    session_id: s.session_id,
                    starts_at: time_text(s.starts_at),
                    ends_at: time_text(s.ends_at),
                    state: s.state,
                })
                .collect(),
            facility_id: none_if_empty(b.facility_id),
            starts_at: time_text(b.starts_at),
            ends_at: time_text(b.ends_at),
            fee_minor: b.fee_minor,
            currency: b.currency,
            concession: none_if_empty(b.concession),
            cancel_reason: none_if_empty(b.cancel_reason),
            created_at: time_text(b.created_at),
            note: b.note,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BookingPage {
    pub bookings: Vec<Booking>,
    /// Pass as `page_token` for the next page; absent on the last page (it was `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// A booking to make: a session (appointment, event), a whole course or recurring care,
/// or a facility for a time range. Send an `Idempotency-Key` header to make retries safe.
#[derive(Deserialize, ToSchema)]
pub struct NewBooking {
    pub offering_id: String,
    pub resident_id: Option<String>,
    pub session_id: Option<String>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub note: Option<String>,
}

#[derive(Deserialize, Default, ToSchema)]
pub struct CheckInRequest {
    /// The session, when the booking has several.
    pub session_id: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfferingQuery {
    pub category: Option<String>,
    pub kind: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SessionQuery {
    /// RFC 3339; sessions ending after it.
    pub from: Option<String>,
    /// RFC 3339; sessions starting before it.
    pub to: Option<String>,
    pub offering_id: Option<String>,
    pub series_id: Option<String>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BookingQuery {
    pub resident_id: Option<String>,
    pub offering_id: Option<String>,
    pub session_id: Option<String>,
    pub status: Option<String>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    /// The previous page's `next_page_token`.
    pub page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// Local date YYYY-MM-DD, inclusive.
    pub from: String,
    /// Local date YYYY-MM-DD, exclusive.
    pub to: String,
}

#[derive(Serialize, ToSchema)]
pub struct FacilityUtilisation {
    pub facility_id: String,
    pub name: String,
    pub booked_hours: f64,
    pub open_hours: f64,
    pub utilisation: f64,
}

#[derive(Serialize, ToSchema)]
pub struct UtilisationReport {
    pub from: String,
    pub to: String,
    pub facilities: Vec<FacilityUtilisation>,
}

/// The plan's service categories.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/service-categories", tag = "bookings",
    params(("centre_id" = String, Path)),
    responses((status = 200, body = CategoryList), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_categories(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
) -> Result<Json<CategoryList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ListCategoriesRequest {
        centre_id: centre.to_string(),
    };
    let reply = state
        .bookings
        .clone()
        .list_categories(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(CategoryList {
        categories: reply
            .categories
            .into_iter()
            .map(|c| Category {
                code: c.code,
                name: c.name,
                name_en: c.name_en,
            })
            .collect(),
    }))
}

/// A centre's offerings.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/offerings", tag = "bookings",
    params(("centre_id" = String, Path), OfferingQuery),
    responses((status = 200, body = OfferingList), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_offerings(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(query): Query<OfferingQuery>,
) -> Result<Json<OfferingList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let kind = query
        .kind
        .as_deref()
        .map(kind_number)
        .transpose()?
        .unwrap_or(0);
    let request = pb::ListOfferingsRequest {
        centre_id: centre.to_string(),
        category: query.category.unwrap_or_default(),
        kind,
    };
    let reply = state
        .bookings
        .clone()
        .list_offerings(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(OfferingList {
        offerings: reply.offerings.into_iter().map(Offering::from).collect(),
    }))
}

/// Adds an offering to the centre's catalogue.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/offerings", tag = "bookings",
    params(("centre_id" = String, Path)), request_body = Offering,
    responses((status = 201, body = Offering), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_offering(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<Offering>,
) -> Result<(StatusCode, Json<Offering>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let offering = pb::Offering {
        id: String::new(),
        centre_id: centre.to_string(),
        category: body.category,
        kind: kind_number(&body.kind).map_err(|_| {
            Problem::invalid_field(
                "kind",
                "must be appointment, facility, course, event or recurring_care",
            )
        })?,
        name: body.name,
        description: body.description,
        provider: body.provider,
        provider_id: body.provider_id,
        min_age: body.min_age,
        max_age: body.max_age,
        eligible_categories: body.eligible_categories,
        fee_minor: body.fee_minor,
        currency: body.currency,
        concessions: body
            .concessions
            .into_iter()
            .map(|c| pb::Concession {
                category: c.category,
                price_minor: c.price_minor,
            })
            .collect(),
        capacity: body.capacity,
        facility_id: body.facility_id,
        staff_id: body.staff_id,
        active: true,
    };
    let request = pb::CreateOfferingRequest {
        centre_id: centre.to_string(),
        offering: Some(offering),
    };
    let reply = state
        .bookings
        .clone()
        .create_offering(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// One offering.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/offerings/{offering_id}", tag = "bookings",
    params(("centre_id" = String, Path), ("offering_id" = String, Path)),
    responses((status = 200, body = Offering), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_offering(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, offering_id)): Path<(String, String)>,
) -> Result<Json<Offering>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::GetOfferingRequest {
        centre_id: centre.to_string(),
        offering_id,
    };
    let reply = state
        .bookings
        .clone()
        .get_offering(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// A centre's rooms and equipment.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/facilities", tag = "bookings",
    params(("centre_id" = String, Path)),
    responses((status = 200, body = FacilityList), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_facilities(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
) -> Result<Json<FacilityList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ListFacilitiesRequest {
        centre_id: centre.to_string(),
    };
    let reply = state
        .bookings
        .clone()
        .list_facilities(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(FacilityList {
        facilities: reply.facilities.into_iter().map(Facility::from).collect(),
    }))
}

/// Adds a room or piece of equipment.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/facilities", tag = "bookings",
    params(("centre_id" = String, Path)), request_body = Facility,
    responses((status = 201, body = Facility), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create_facility(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<Facility>,
) -> Result<(StatusCode, Json<Facility>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let facility = pb::Facility {
        id: String::new(),
        centre_id: centre.to_string(),
        name: body.name,
        kind: body.kind,
        opens: body.opens,
        closes: body.closes,
        open_days: body.open_days,
    };
    let request = pb::CreateFacilityRequest {
        centre_id: centre.to_string(),
        facility: Some(facility),
    };
    let reply = state
        .bookings
        .clone()
        .create_facility(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// Sessions in a time window, in start order, a page at a time.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/sessions", tag = "bookings",
    params(("centre_id" = String, Path), SessionQuery),
    responses((status = 200, body = SessionList), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_sessions(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(query): Query<SessionQuery>,
) -> Result<Json<SessionList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::ListSessionsRequest {
        centre_id: centre.to_string(),
        from: optional_timestamp("from", &query.from)?,
        to: optional_timestamp("to", &query.to)?,
        offering_id: query.offering_id.unwrap_or_default(),
        series_id: query.series_id.unwrap_or_default(),
        page_size: query.page_size.unwrap_or(0),
        page_token: query.page_token.unwrap_or_default(),
    };
    let reply = state
        .bookings
        .clone()
        .list_sessions(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Adds one session to an offering.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/sessions", tag = "bookings",
    params(("centre_id" = String, Path)), request_body = NewSession,
    responses((status = 201, body = Session), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The room is held at that time")),
    security(("bearer" = [])))]
pub async fn create_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<NewSession>,
) -> Result<(StatusCode, Json<Session>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::CreateSessionRequest {
        centre_id: centre.to_string(),
        offering_id: body.offering_id,
        starts_at: Some(timestamp("starts_at", &body.starts_at)?),
        ends_at: Some(timestamp("ends_at", &body.ends_at)?),
        capacity: body.capacity,
    };
    let reply = state
        .bookings
        .clone()
        .create_session(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// Adds a weekly series of sessions; refused whole when any instance clashes.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/series", tag = "bookings",
    params(("centre_id" = String, Path)), request_body = NewSeries,
    responses((status = 201, body = Series), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "An instance clashes with its room's other holds")),
    security(("bearer" = [])))]
pub async fn create_series(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<NewSeries>,
) -> Result<(StatusCode, Json<Series>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::CreateSeriesRequest {
        centre_id: centre.to_string(),
        offering_id: body.offering_id,
        weekdays: body.weekdays,
        start_time: body.start_time,
        duration_minutes: body.duration_minutes,
        starts_on: body.starts_on,
        until: body.until.unwrap_or_default(),
        count: body.count.unwrap_or(0),
    };
    let s = state
        .bookings
        .clone()
        .create_series(auth.grpc(request))
        .await?
        .into_inner();
    Ok((
        StatusCode::CREATED,
        Json(Series {
            id: s.id,
            offering_id: s.offering_id,
            weekdays: s.weekdays,
            start_time: s.start_time,
            duration_minutes: s.duration_minutes,
            starts_on: s.starts_on,
            until: none_if_empty(s.until),
            count: Some(s.count).filter(|c| *c > 0),
            time_zone: s.time_zone,
            sessions: s.sessions.into_iter().map(Session::from).collect(),
        }),
    ))
}

/// Moves a session, or it and every later one of its series.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/sessions/{session_id}/move", tag = "bookings",
    params(("centre_id" = String, Path), ("session_id" = String, Path)), request_body = SessionMove,
    responses((status = 200, body = SessionList), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn move_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, session_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<SessionMove>,
) -> Result<Json<SessionList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::MoveSessionRequest {
        centre_id: centre.to_string(),
        session_id,
        scope: scope_number(body.scope),
        starts_at: Some(timestamp("starts_at", &body.starts_at)?),
        duration_minutes: body.duration_minutes,
    };
    let reply = state
        .bookings
        .clone()
        .move_session(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Cancels a session, or it and every later one of its series.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/sessions/{session_id}/cancel", tag = "bookings",
    params(("centre_id" = String, Path), ("session_id" = String, Path)), request_body = SessionCancellation,
    responses((status = 200, body = SessionList), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn cancel_session(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, session_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<SessionCancellation>,
) -> Result<Json<SessionList>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::CancelSessionRequest {
        centre_id: centre.to_string(),
        session_id,
        scope: scope_number(body.scope),
    };
    let reply = state
        .bookings
        .clone()
        .cancel_session(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Bookings, newest first: a resident's history, an offering's or a session's list.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/bookings", tag = "bookings",
    params(("centre_id" = String, Path), BookingQuery),
    responses((status = 200, body = BookingPage), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list_bookings(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(query): Query<BookingQuery>,
) -> Result<Json<BookingPage>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let status = match query.status.as_deref() {
        None | Some("") => 0,
        Some(text) => STATUSES
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, s)| *s as i32)
            .ok_or_else(|| {
                Problem::invalid_field(
                    "status",
                    "must be confirmed, waitlisted, cancelled, attended or no_show",
                )
            })?,
    };
    let request = pb::ListBookingsRequest {
        centre_id: centre.to_string(),
        resident_id: query.resident_id.unwrap_or_default(),
        offering_id: query.offering_id.unwrap_or_default(),
        session_id: query.session_id.unwrap_or_default(),
        status,
        page_size: query.page_size.unwrap_or(0),
        page_token: query.page_token.unwrap_or_default(),
    };
    let reply = state
        .bookings
        .clone()
        .list_bookings(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(BookingPage {
        bookings: reply.bookings.into_iter().map(Booking::from).collect(),
        next_page_token: none_if_empty(reply.next_page_token),
    }))
}

/// Books for a resident: confirmed while there is room, waitlisted after.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/bookings", tag = "bookings",
    params(("centre_id" = String, Path)),
    request_body = NewBooking,
    responses((status = 201, body = Booking), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The facility is held at that time, named"),
        (status = 422, body = Problem, content_type = "application/problem+json", description = "Not eligible, with the reason")),
    security(("bearer" = [])))]
pub async fn create_booking(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    ApiJson(body): ApiJson<NewBooking>,
) -> Result<(StatusCode, Json<Booking>), Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::CreateBookingRequest {
        centre_id: centre.to_string(),
        offering_id: body.offering_id,
        resident_id: body.resident_id.unwrap_or_default(),
        session_id: body.session_id.unwrap_or_default(),
        starts_at: optional_timestamp("starts_at", &body.starts_at)?,
        ends_at: optional_timestamp("ends_at", &body.ends_at)?,
        note: body.note.unwrap_or_default(),
    };
    let reply = state
        .bookings
        .clone()
        .create_booking(auth.grpc(request))
        .await?
        .into_inner();
    Ok((StatusCode::CREATED, Json(reply.into())))
}

/// One booking with its seats.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/bookings/{booking_id}", tag = "bookings",
    params(("centre_id" = String, Path), ("booking_id" = String, Path)),
    responses((status = 200, body = Booking), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn get_booking(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, booking_id)): Path<(String, String)>,
) -> Result<Json<Booking>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::GetBookingRequest {
        centre_id: centre.to_string(),
        booking_id,
    };
    let reply = state
        .bookings
        .clone()
        .get_booking(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Cancels a booking; the first waitlisted booking takes the seat.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/bookings/{booking_id}/cancel", tag = "bookings",
    params(("centre_id" = String, Path), ("booking_id" = String, Path)),
    responses((status = 200, body = Booking), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn cancel_booking(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, booking_id)): Path<(String, String)>,
) -> Result<Json<Booking>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::CancelBookingRequest {
        centre_id: centre.to_string(),
        booking_id,
    };
    let reply = state
        .bookings
        .clone()
        .cancel_booking(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Checks the resident in at the desk.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/bookings/{booking_id}/check-in", tag = "bookings",
    params(("centre_id" = String, Path), ("booking_id" = String, Path)), request_body = CheckInRequest,
    responses((status = 200, body = Booking), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn check_in(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((centre_id, booking_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Booking>, Problem> {
    let centre = auth.centre(&centre_id)?;
    // The body is optional: an empty one checks in for the booking's session today.
    let body: CheckInRequest = if body.is_empty() {
        CheckInRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")))?
    };
    let request = pb::CheckInRequest {
        centre_id: centre.to_string(),
        booking_id,
        session_id: body.session_id.unwrap_or_default(),
    };
    let reply = state
        .bookings
        .clone()
        .check_in(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(reply.into()))
}

/// Booked hours against open hours per facility.
#[utoipa::path(get, path = "/v1/centres/{centre_id}/utilisation", tag = "bookings",
    params(("centre_id" = String, Path), PeriodQuery),
    responses((status = 200, body = UtilisationReport), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn utilisation(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(centre_id): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Json<UtilisationReport>, Problem> {
    let centre = auth.centre(&centre_id)?;
    let request = pb::GetUtilisationRequest {
        centre_id: centre.to_string(),
        from: query.from,
        to: query.to,
    };
    let r = state
        .bookings
        .clone()
        .get_utilisation(auth.grpc(request))
        .await?
        .into_inner();
    Ok(Json(UtilisationReport {
        from: r.from,
        to: r.to,
        facilities: r
            .facilities
            .into_iter()
            .map(|f| FacilityUtilisation {
                facility_id: f.facility_id,
                name: f.name,
                booked_hours: f.booked_hours,
                open_hours: f.open_hours,
                utilisation: f.utilisation,
            })
            .collect(),
    }))
}
