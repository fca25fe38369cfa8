//! The bookings routes: the catalogue, facilities, sessions, bookings, check-in and the
//! utilisation report, as JSON over the bookings service's gRPC.

use axum::Router;
use linli_proto::bookings::v1 as pb;

use crate::{AppState, forward};

pub fn routes() -> Router<AppState> {
    forwarded()
}

forward! { tag = "bookings", "Catalogue, facilities, sessions and bookings";
    /// The plan's service categories.
    get "/v1/centres/{centre_id}/service-categories" => list_categories(g, centre_id) -> 200 pb::ListCategoriesResponse
        = bookings.list_categories(pb::ListCategoriesRequest)

    /// A centre's offerings.
    get "/v1/centres/{centre_id}/offerings" => list_offerings(g, centre_id; query q: pb::ListOfferingsRequest)
        -> 200 pb::ListOfferingsResponse = bookings.list_offerings

    /// Adds an offering to the centre's catalogue.
    post "/v1/centres/{centre_id}/offerings" => create_offering(g, centre_id; body o: pb::Offering) -> 201 pb::Offering
        = bookings.create_offering(pb::CreateOfferingRequest, offering)

    /// One offering.
    get "/v1/centres/{centre_id}/offerings/{offering_id}" => get_offering(g, centre_id, offering_id) -> 200 pb::Offering
        = bookings.get_offering(pb::GetOfferingRequest)

    /// Changes an offering's fee or capacity for bookings made from then on: bookings made
    /// before keep their fee; sessions not yet started take the new capacity (never below
    /// their confirmed seats). A retired offering is not changed (offering.inactive).
    patch "/v1/centres/{centre_id}/offerings/{offering_id}"
        => update_offering(g, centre_id, offering_id; body change: pb::UpdateOfferingRequest) -> 200 pb::Offering,
        (422, "The offering is retired (offering.inactive)") = bookings.update_offering

    /// Retires an offering: no new bookings (offering.inactive), existing ones kept; it
    /// stays readable with `active` false. Retiring twice is harmless.
    post "/v1/centres/{centre_id}/offerings/{offering_id}/retire" => retire_offering(g, centre_id, offering_id)
        -> 200 pb::Offering = bookings.retire_offering(pb::RetireOfferingRequest)

    /// A centre's rooms and equipment.
    get "/v1/centres/{centre_id}/facilities" => list_facilities(g, centre_id) -> 200 pb::ListFacilitiesResponse
        = bookings.list_facilities(pb::ListFacilitiesRequest)

    /// Adds a room or piece of equipment.
    post "/v1/centres/{centre_id}/facilities" => create_facility(g, centre_id; body f: pb::Facility) -> 201 pb::Facility
        = bookings.create_facility(pb::CreateFacilityRequest, facility)

    /// Sessions in a time window, in start order, a page at a time.
    get "/v1/centres/{centre_id}/sessions" => list_sessions(g, centre_id; query q: pb::ListSessionsRequest)
        -> 200 pb::ListSessionsResponse = bookings.list_sessions

    /// Adds one session to an offering.
    post "/v1/centres/{centre_id}/sessions" => create_session(g, centre_id; body s: pb::CreateSessionRequest)
        -> 201 pb::Session, (409, "The room is held at that time") = bookings.create_session

    /// Adds a weekly series of sessions; refused whole when any instance clashes.
    post "/v1/centres/{centre_id}/series" => create_series(g, centre_id; body s: pb::CreateSeriesRequest) -> 201 pb::Series,
        (409, "An instance clashes with its room's other holds") = bookings.create_series

    /// Moves a session, or it and every later one of its series.
    post "/v1/centres/{centre_id}/sessions/{session_id}/move"
        => move_session(g, centre_id, session_id; body m: pb::MoveSessionRequest) -> 200 pb::ListSessionsResponse
        = bookings.move_session

    /// Cancels a session, or it and every later one of its series.
    post "/v1/centres/{centre_id}/sessions/{session_id}/cancel"
        => cancel_session(g, centre_id, session_id; body c: pb::CancelSessionRequest) -> 200 pb::ListSessionsResponse
        = bookings.cancel_session

    /// Bookings, newest first: a resident's history, an offering's or a session's list.
    get "/v1/centres/{centre_id}/bookings" => list_bookings(g, centre_id; query q: pb::ListBookingsRequest)
        -> 200 pb::ListBookingsResponse = bookings.list_bookings

    /// Books for a resident: confirmed while there is room, waitlisted after. A session
    /// (appointment, event), a whole course or recurring care, or a facility for a time
    /// range. Send an `Idempotency-Key` header to make retries safe.
    post "/v1/centres/{centre_id}/bookings" => create_booking(g, centre_id; body b: pb::CreateBookingRequest)
        -> 201 pb::Booking, (409, "The facility is held at that time, named"), (422, "Not eligible, with the reason")
        = bookings.create_booking

    /// One booking with its seats.
    get "/v1/centres/{centre_id}/bookings/{booking_id}" => get_booking(g, centre_id, booking_id) -> 200 pb::Booking
        = bookings.get_booking(pb::GetBookingRequest)

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
