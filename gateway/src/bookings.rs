//! The bookings routes: the catalogue, facilities, sessions, bookings, check-in and the
//! utilisation report, as JSON over the bookings service's gRPC.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use linli_proto::bookings::v1 as pb;
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::json::{Grpc, Reply, enum_name, enum_number, optional_timestamp, positive, timestamp};
use crate::problem::Problem;
use crate::{AppState, call, forward, reply};

#[derive(OpenApi)]
#[openapi(
    paths(check_in, cancel_booking),
    tags((name = "bookings", description = "Catalogue, facilities, sessions and bookings"))
)]
pub struct BookingsDoc;

pub fn routes() -> Router<AppState> {
    let check_in_at = "/v1/centres/{centre_id}/bookings/{booking_id}/check-in";
    let cancel_at = "/v1/centres/{centre_id}/bookings/{booking_id}/cancel";
    forwarded()
        .route(check_in_at, post(check_in))
        .route(cancel_at, post(cancel_booking))
}

const KINDS: [(&str, pb::OfferingKind); 5] = [
    ("appointment", pb::OfferingKind::Appointment),
    ("facility", pb::OfferingKind::Facility),
    ("course", pb::OfferingKind::Course),
    ("event", pb::OfferingKind::Event),
    ("recurring_care", pb::OfferingKind::RecurringCare),
];

const STATUSES: [(&str, pb::BookingStatus); 5] = [
    ("confirmed", pb::BookingStatus::Confirmed),
    ("waitlisted", pb::BookingStatus::Waitlisted),
    ("cancelled", pb::BookingStatus::Cancelled),
    ("attended", pb::BookingStatus::Attended),
    ("no_show", pb::BookingStatus::NoShow),
];

reply! {
    /// A category of the plan's catalogue.
    pub struct Category from pb::Category as c { pub code: String, pub name: String, pub name_en: String }
}

reply! {
    pub struct CategoryList from pb::ListCategoriesResponse as r { pub categories: Vec<Category> }
}

reply! {
    /// A lower price for residents of a category.
    #[derive(Deserialize)]
    pub struct Concession from pb::Concession as c {
        #[schema(example = "low_income")]
        pub category: String,
        /// Minor units (fen).
        pub price_minor: i64,
    }
}

reply! {
    /// Something a centre offers.
    #[derive(Deserialize)]
    pub struct Offering from pb::Offering as o {
        #[serde(default)]
        pub id: String,
        #[schema(example = "health")]
        pub category: String,
        /// appointment, facility, course, event or recurring_care.
        #[schema(example = "course")]
        pub kind: String = enum_name(&KINDS, o.kind),
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
}

reply! {
    pub struct OfferingList from pb::ListOfferingsResponse as r { pub offerings: Vec<Offering> }
}

reply! {
    /// A room or piece of equipment.
    #[derive(Deserialize)]
    pub struct Facility from pb::Facility as f {
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
}

reply! {
    pub struct FacilityList from pb::ListFacilitiesResponse as r { pub facilities: Vec<Facility> }
}

reply! {
    /// One session of an offering.
    pub struct Session from pb::Session as s {
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
}

reply! {
    pub struct SessionList from pb::ListSessionsResponse as r {
        pub sessions: Vec<Session>,
        /// Pass as `page_token` for the next page; absent on the last page (and after a move
        /// or a cancellation, which answer every session changed).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub next_page_token: Option<String>,
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

reply! {
    pub struct Series from pb::Series as s {
        pub id: String,
        pub offering_id: String,
        pub weekdays: Vec<i32>,
        pub start_time: String,
        pub duration_minutes: i32,
        pub starts_on: String,
        pub until: Option<String>,
        pub count: Option<i32> = positive(s.count),
        pub time_zone: String,
        pub sessions: Vec<Session>,
    }
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

reply! {
    /// One session a booking covers.
    pub struct Seat from pb::Seat as s {
        pub session_id: String,
        pub starts_at: Option<String>,
        pub ends_at: Option<String>,
        /// held, waiting, attended, no_show or released.
        pub state: String,
    }
}

reply! {
    /// A booking.
    pub struct Booking from pb::Booking as b {
        pub id: String,
        pub offering_id: String,
        /// Absent once the resident was erased.
        pub resident_id: Option<String>,
        /// confirmed, waitlisted, cancelled, attended or no_show.
        pub status: String = enum_name(&STATUSES, b.status),
        /// For a waitlisted booking, its place (1 = next).
        pub waitlist_position: Option<i32> = positive(b.waitlist_position),
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
        /// Only in the reply to a cancellation: the residents the waitlist gave its seats.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        pub promoted_resident_ids: Vec<String>,
    }
}

reply! {
    pub struct BookingPage from pb::ListBookingsResponse as r {
        pub bookings: Vec<Booking>,
        /// Pass as `page_token` for the next page; absent on the last page (it was `null`).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub next_page_token: Option<String>,
    }
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

#[derive(Deserialize, Default, ToSchema)]
pub struct BookingCancellation {
    /// Why, in the desk's words (at most 200 characters); absent means the resident asked.
    pub reason: Option<String>,
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

reply! {
    pub struct FacilityUtilisation from pb::FacilityUtilisation as f {
        pub facility_id: String,
        pub name: String,
        pub booked_hours: f64,
        pub open_hours: f64,
        pub utilisation: f64,
    }
}

reply! {
    pub struct UtilisationReport from pb::UtilisationReport as r {
        pub from: String,
        pub to: String,
        pub facilities: Vec<FacilityUtilisation>,
    }
}

forward! { tag = "bookings";
    /// The plan's service categories.
    get "/v1/centres/{centre_id}/service-categories" => list_categories(g, centre) -> 200 CategoryList {
        call!(g.bookings.list_categories(pb::ListCategoriesRequest { centre_id: g.centre(&centre)? }))
    }

    /// A centre's offerings.
    get "/v1/centres/{centre_id}/offerings" => list_offerings(g, centre; query q: OfferingQuery)
        -> 200 OfferingList {
        let kind = q.kind.map(|kind| enum_number(&KINDS, "kind", &kind)).transpose()?;
        let category = q.category.unwrap_or_default();
        let request = pb::ListOfferingsRequest { centre_id: g.centre(&centre)?, category, kind: kind.unwrap_or(0), ..Default::default() };
        call!(g.bookings.list_offerings(request))
    }

    /// Adds an offering to the centre's catalogue.
    post "/v1/centres/{centre_id}/offerings" => create_offering(g, centre; body o: Offering) -> 201 Offering {
        let centre_id = g.centre(&centre)?;
        let offering = pb::Offering {
            id: String::new(), centre_id: centre_id.clone(), category: o.category,
            kind: enum_number(&KINDS, "kind", &o.kind)?, name: o.name, description: o.description,
            provider: o.provider, provider_id: o.provider_id, min_age: o.min_age, max_age: o.max_age,
            eligible_categories: o.eligible_categories, fee_minor: o.fee_minor, currency: o.currency,
            concessions: (o.concessions.into_iter())
                .map(|c| pb::Concession { category: c.category, price_minor: c.price_minor })
                .collect(),
            capacity: o.capacity, facility_id: o.facility_id, staff_id: o.staff_id, active: true,
        };
        call!(g.bookings.create_offering(pb::CreateOfferingRequest { centre_id, offering: Some(offering) }))
    }

    /// One offering.
    get "/v1/centres/{centre_id}/offerings/{offering_id}" => get_offering(g, centre, offering_id) -> 200 Offering {
        call!(g.bookings.get_offering(pb::GetOfferingRequest { centre_id: g.centre(&centre)?, offering_id }))
    }

    /// A centre's rooms and equipment.
    get "/v1/centres/{centre_id}/facilities" => list_facilities(g, centre) -> 200 FacilityList {
        call!(g.bookings.list_facilities(pb::ListFacilitiesRequest { centre_id: g.centre(&centre)? }))
    }

    /// Adds a room or piece of equipment.
    post "/v1/centres/{centre_id}/facilities" => create_facility(g, centre; body f: Facility) -> 201 Facility {
        let centre_id = g.centre(&centre)?;
        let facility = pb::Facility {
            id: String::new(), centre_id: centre_id.clone(), name: f.name, kind: f.kind,
            opens: f.opens, closes: f.closes, open_days: f.open_days,
        };
        call!(g.bookings.create_facility(pb::CreateFacilityRequest { centre_id, facility: Some(facility) }))
    }

    /// Sessions in a time window, in start order, a page at a time.
    get "/v1/centres/{centre_id}/sessions" => list_sessions(g, centre; query q: SessionQuery) -> 200 SessionList {
        call!(g.bookings.list_sessions(pb::ListSessionsRequest {
            centre_id: g.centre(&centre)?,
            from: optional_timestamp("from", &q.from)?,
            to: optional_timestamp("to", &q.to)?,
            offering_id: q.offering_id.unwrap_or_default(),
            series_id: q.series_id.unwrap_or_default(),
            page_size: q.page_size.unwrap_or(0),
            page_token: q.page_token.unwrap_or_default(),
        }))
    }

    /// Adds one session to an offering.
    post "/v1/centres/{centre_id}/sessions" => create_session(g, centre; body s: NewSession) -> 201 Session,
        (409, "The room is held at that time") {
        call!(g.bookings.create_session(pb::CreateSessionRequest {
            centre_id: g.centre(&centre)?,
            offering_id: s.offering_id,
            starts_at: Some(timestamp("starts_at", &s.starts_at)?),
            ends_at: Some(timestamp("ends_at", &s.ends_at)?),
            capacity: s.capacity,
        }))
    }

    /// Adds a weekly series of sessions; refused whole when any instance clashes.
    post "/v1/centres/{centre_id}/series" => create_series(g, centre; body s: NewSeries) -> 201 Series,
        (409, "An instance clashes with its room's other holds") {
        call!(g.bookings.create_series(pb::CreateSeriesRequest {
            centre_id: g.centre(&centre)?,
            offering_id: s.offering_id,
            weekdays: s.weekdays,
            start_time: s.start_time,
            duration_minutes: s.duration_minutes,
            starts_on: s.starts_on,
            until: s.until.unwrap_or_default(),
            count: s.count.unwrap_or(0),
        }))
    }

    /// Moves a session, or it and every later one of its series.
    post "/v1/centres/{centre_id}/sessions/{session_id}/move"
        => move_session(g, centre, session_id; body m: SessionMove) -> 200 SessionList {
        call!(g.bookings.move_session(pb::MoveSessionRequest {
            centre_id: g.centre(&centre)?,
            session_id,
            scope: scope_number(m.scope),
            starts_at: Some(timestamp("starts_at", &m.starts_at)?),
            duration_minutes: m.duration_minutes,
        }))
    }

    /// Cancels a session, or it and every later one of its series.
    post "/v1/centres/{centre_id}/sessions/{session_id}/cancel"
        => cancel_session(g, centre, session_id; body c: SessionCancellation) -> 200 SessionList {
        let (centre_id, scope) = (g.centre(&centre)?, scope_number(c.scope));
        call!(g.bookings.cancel_session(pb::CancelSessionRequest { centre_id, session_id, scope }))
    }

    /// Bookings, newest first: a resident's history, an offering's or a session's list.
    get "/v1/centres/{centre_id}/bookings" => list_bookings(g, centre; query q: BookingQuery) -> 200 BookingPage {
        let status = match q.status.as_deref() {
            None | Some("") => 0,
            Some(text) => enum_number(&STATUSES, "status", text)?,
        };
        call!(g.bookings.list_bookings(pb::ListBookingsRequest {
            centre_id: g.centre(&centre)?,
            resident_id: q.resident_id.unwrap_or_default(),
            offering_id: q.offering_id.unwrap_or_default(),
            session_id: q.session_id.unwrap_or_default(),
            status,
            page_size: q.page_size.unwrap_or(0),
            page_token: q.page_token.unwrap_or_default(),
        }))
    }

    /// Books for a resident: confirmed while there is room, waitlisted after.
    post "/v1/centres/{centre_id}/bookings" => create_booking(g, centre; body b: NewBooking) -> 201 Booking,
        (409, "The facility is held at that time, named"), (422, "Not eligible, with the reason") {
        call!(g.bookings.create_booking(pb::CreateBookingRequest {
            centre_id: g.centre(&centre)?,
            offering_id: b.offering_id,
            resident_id: b.resident_id.unwrap_or_default(),
            session_id: b.session_id.unwrap_or_default(),
            starts_at: optional_timestamp("starts_at", &b.starts_at)?,
            ends_at: optional_timestamp("ends_at", &b.ends_at)?,
            note: b.note.unwrap_or_default(),
        }))
    }

    /// One booking with its seats.
    get "/v1/centres/{centre_id}/bookings/{booking_id}" => get_booking(g, centre, booking_id) -> 200 Booking {
        call!(g.bookings.get_booking(pb::GetBookingRequest { centre_id: g.centre(&centre)?, booking_id }))
    }

    /// Booked hours against open hours per facility.
    get "/v1/centres/{centre_id}/utilisation" => utilisation(g, centre; query q: PeriodQuery) -> 200 UtilisationReport {
        let request = pb::GetUtilisationRequest { centre_id: g.centre(&centre)?, from: q.from, to: q.to };
        call!(g.bookings.get_utilisation(request))
    }
}

/// Checks the resident in at the desk.
#[utoipa::path(post, path = "/v1/centres/{centre_id}/bookings/{booking_id}/check-in", tag = "bookings",
    request_body = CheckInRequest, responses((status = 200, body = Booking)))]
pub async fn check_in(
    g: Grpc,
    Path((centre, booking_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Reply<Booking> {
    let centre_id = g.centre(&centre)?;
    // The body is optional: an empty one checks in for the booking's session today.
    let body: CheckInRequest = optional_body(&body)?;
    let session_id = body.session_id.unwrap_or_default();
    let request = pb::CheckInRequest {
        centre_id,
        booking_id,
        session_id,
    };
    Ok(Json(call!(g.bookings.check_in(request)).into()))
}

/// Cancels a booking; the first waitlisted booking takes the seat, and the reply names the
/// residents the waitlist gave the freed seats (`promoted_resident_ids`).
#[utoipa::path(post, path = "/v1/centres/{centre_id}/bookings/{booking_id}/cancel", tag = "bookings",
    request_body = BookingCancellation, responses((status = 200, body = Booking)))]
pub async fn cancel_booking(
    g: Grpc,
    Path((centre, booking_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Reply<Booking> {
    let centre_id = g.centre(&centre)?;
    // The body is optional: an empty one cancels because the resident asked.
    let body: BookingCancellation = optional_body(&body)?;
    let request = pb::CancelBookingRequest {
        centre_id,
        booking_id,
        reason: body.reason.unwrap_or_default(),
    };
    Ok(Json(call!(g.bookings.cancel_booking(request)).into()))
}

/// A JSON body that may be left out (empty means every field absent).
fn optional_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, Problem> {
    if body.is_empty() {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| Problem::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {e}")))
}
