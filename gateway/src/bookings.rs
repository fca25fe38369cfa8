//! The bookings routes: the catalogue, facilities, sessions, bookings, check-in and the
//! utilisation report, as JSON over the bookings service's gRPC.

use axum::Router;
use linli_proto::bookings::v1 as pb;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::json::{known, named, optional_timestamp, timestamp};
use crate::{AppState, call, forward};

pub fn routes() -> Router<AppState> {
    forwarded()
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

forward! { tag = "bookings", "Catalogue, facilities, sessions and bookings";
    /// The plan's service categories.
    get "/v1/centres/{centre_id}/service-categories" => list_categories(g, centre) -> 200 pb::ListCategoriesResponse {
        call!(g.bookings.list_categories(pb::ListCategoriesRequest { centre_id: g.centre(&centre)? }))
    }

    /// A centre's offerings.
    get "/v1/centres/{centre_id}/offerings" => list_offerings(g, centre; query q: OfferingQuery)
        -> 200 pb::ListOfferingsResponse {
        let kind = q.kind.map(|kind| named::<pb::OfferingKind>("kind", &kind)).transpose()?;
        let category = q.category.unwrap_or_default();
        let request = pb::ListOfferingsRequest { centre_id: g.centre(&centre)?, category, kind: kind.unwrap_or(0), ..Default::default() };
        call!(g.bookings.list_offerings(request))
    }

    /// Adds an offering to the centre's catalogue.
    post "/v1/centres/{centre_id}/offerings" => create_offering(g, centre; body o: pb::Offering) -> 201 pb::Offering {
        let centre_id = g.centre(&centre)?;
        known::<pb::OfferingKind>("kind", o.kind)?;
        let offering = pb::Offering { id: String::new(), centre_id: centre_id.clone(), active: true, ..o };
        call!(g.bookings.create_offering(pb::CreateOfferingRequest { centre_id, offering: Some(offering) }))
    }

    /// One offering.
    get "/v1/centres/{centre_id}/offerings/{offering_id}" => get_offering(g, centre, offering_id) -> 200 pb::Offering {
        call!(g.bookings.get_offering(pb::GetOfferingRequest { centre_id: g.centre(&centre)?, offering_id }))
    }

    /// Changes an offering's fee or capacity for bookings made from then on: bookings made
    /// before keep their fee; sessions not yet started take the new capacity (never below
    /// their confirmed seats). A retired offering is not changed (offering.inactive).
    patch "/v1/centres/{centre_id}/offerings/{offering_id}"
        => update_offering(g, centre_id, offering_id; body change: pb::UpdateOfferingRequest) -> 200 pb::Offering,
        (422, "The offering is retired (offering.inactive)") = bookings.update_offering

    /// Retires an offering: no new bookings (offering.inactive), existing ones kept; it
    /// stays readable with `active` false. Retiring twice is harmless.
    post "/v1/centres/{centre_id}/offerings/{offering_id}/retire" => retire_offering(g, centre, offering_id) -> 200 pb::Offering {
        call!(g.bookings.retire_offering(pb::RetireOfferingRequest { centre_id: g.centre(&centre)?, offering_id }))
    }

    /// A centre's rooms and equipment.
    get "/v1/centres/{centre_id}/facilities" => list_facilities(g, centre) -> 200 pb::ListFacilitiesResponse {
        call!(g.bookings.list_facilities(pb::ListFacilitiesRequest { centre_id: g.centre(&centre)? }))
    }

    /// Adds a room or piece of equipment.
    post "/v1/centres/{centre_id}/facilities" => create_facility(g, centre; body f: pb::Facility) -> 201 pb::Facility {
        let centre_id = g.centre(&centre)?;
        let facility = pb::Facility { id: String::new(), centre_id: centre_id.clone(), ..f };
        call!(g.bookings.create_facility(pb::CreateFacilityRequest { centre_id, facility: Some(facility) }))
    }

    /// Sessions in a time window, in start order, a page at a time.
    get "/v1/centres/{centre_id}/sessions" => list_sessions(g, centre; query q: SessionQuery) -> 200 pb::ListSessionsResponse {
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
    post "/v1/centres/{centre_id}/sessions" => create_session(g, centre; body s: NewSession) -> 201 pb::Session,
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
    post "/v1/centres/{centre_id}/series" => create_series(g, centre_id; body s: pb::CreateSeriesRequest) -> 201 pb::Series,
        (409, "An instance clashes with its room's other holds") = bookings.create_series

    /// Moves a session, or it and every later one of its series.
    post "/v1/centres/{centre_id}/sessions/{session_id}/move"
        => move_session(g, centre, session_id; body m: SessionMove) -> 200 pb::ListSessionsResponse {
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
        => cancel_session(g, centre, session_id; body c: SessionCancellation) -> 200 pb::ListSessionsResponse {
        let (centre_id, scope) = (g.centre(&centre)?, scope_number(c.scope));
        call!(g.bookings.cancel_session(pb::CancelSessionRequest { centre_id, session_id, scope }))
    }

    /// Bookings, newest first: a resident's history, an offering's or a session's list.
    get "/v1/centres/{centre_id}/bookings" => list_bookings(g, centre; query q: BookingQuery) -> 200 pb::ListBookingsResponse {
        let status = match q.status.as_deref() {
            None | Some("") => 0,
            Some(text) => named::<pb::BookingStatus>("status", text)?,
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
    post "/v1/centres/{centre_id}/bookings" => create_booking(g, centre; body b: NewBooking) -> 201 pb::Booking,
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
    get "/v1/centres/{centre_id}/bookings/{booking_id}" => get_booking(g, centre, booking_id) -> 200 pb::Booking {
        call!(g.bookings.get_booking(pb::GetBookingRequest { centre_id: g.centre(&centre)?, booking_id }))
    }

    /// Booked hours against open hours per facility.
    get "/v1/centres/{centre_id}/utilisation" => utilisation(g, centre_id; query q: pb::GetUtilisationRequest)
        -> 200 pb::UtilisationReport = bookings.get_utilisation

    /// Checks the resident in at the desk (the body may be left out: the booking's session
    /// today).
    post "/v1/centres/{centre_id}/bookings/{booking_id}/check-in"
        => check_in(g, centre_id, booking_id; body b: pb::CheckInRequest) -> 200 pb::Booking = bookings.check_in

    /// Takes back a check-in made by mistake: the booking is confirmed again for the session
    /// (and evaluation no longer counts the attendance). Front desk and centre manager only,
    /// on the session's own day in the centre's time zone and before the session ends
    /// (`checkin.undo_other_day`, `checkin.undo_ended` otherwise). A booking not checked in
    /// is answered as it is, so a retry is harmless. The body may be left out.
    post "/v1/centres/{centre_id}/bookings/{booking_id}/undo-check-in"
        => undo_check_in(g, centre_id, booking_id; body b: pb::UndoCheckInRequest) -> 200 pb::Booking,
        (403, "Not the desk or the centre manager of the centre"),
        (422, "Another day, the session ended, or the booking is cancelled") = bookings.undo_check_in

    /// Cancels a booking; the first waitlisted booking takes the seat, and the reply names the
    /// residents the waitlist gave the freed seats (`promoted_resident_ids`). The body may be
    /// left out: the resident asked.
    post "/v1/centres/{centre_id}/bookings/{booking_id}/cancel"
        => cancel_booking(g, centre_id, booking_id; body b: pb::CancelBookingRequest) -> 200 pb::Booking
        = bookings.cancel_booking
}
