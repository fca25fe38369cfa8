//! The bookings gRPC surface: requests in, checks, store calls, responses out.

mod residents;

use chrono::{Duration, NaiveTime, Utc};
use linli_platform::auth::{
    Access, Caller, RESIDENT_EXPORTERS, caller, partner_centre, request_centre, scoped_centre,
};
use linli_platform::error::Violations;
use linli_platform::page::{Page, PageRequest};
use linli_platform::wire::{instant, optional_id, parse_id};
use linli_proto::bookings::v1 as pb;
use linli_proto::bookings::v1::bookings_server::Bookings;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::{self, CATEGORIES, DESK, Kind, PLANNERS, READERS, WeeklyRule, limits};
use crate::error::{Error, retrying};
use crate::events::timestamp;
use crate::store::{
    self, BookingFilter, BookingView, FacilityRow, OfferingRow, SeriesRow, SessionFilter,
    SessionRow,
};
use linli_platform::error::Reason;

/// A partner's scopes here: the offerings it provides, and the bookings of them.
const OFFERINGS_WRITE: &str = "bookings.offerings:write";
const OFFERINGS_READ: &str = "bookings.offerings:read";
const BOOKINGS_READ: &str = "bookings.bookings:read";
/// A partner records who came to the sessions of its own offerings (check-in).
const ATTENDANCE_WRITE: &str = "bookings.attendance:write";

pub struct BookingsApi {
    pool: PgPool,
    known: store::Known,
}

impl BookingsApi {
    pub fn new(pool: PgPool) -> Self {
        BookingsApi {
            pool,
            known: store::Known::default(),
        }
    }
}

impl BookingsApi {
    /// The centre and offering a change names, once the caller may change it: a planner
    /// of the centre, or the partner that provides the offering (with its write scope).
    async fn offering_writer<T>(
        &self,
        request: &Request<T>,
        names: impl Fn(&T) -> (&String, &String),
    ) -> Result<(Uuid, Uuid), Status> {
        let who = caller(request)?;
        let (centre_id, offering_id) = names(request.get_ref());
        let id = parse_id("offering_id", offering_id)?;
        if who.is_partner() {
            let (centre, partner) = partner_at(who, centre_id, &[OFFERINGS_WRITE])?;
            let mut conn = self.pool.acquire().await.map_err(Error::from)?;
            let row = store::find_offering(&mut conn, centre, id).await?;
            provided_by(&row, partner)?;
            Ok((centre, id))
        } else {
            Ok((scoped_centre(who, centre_id, Access::Write, PLANNERS)?, id))
        }
    }
}

fn kind_of(kind: i32) -> Option<Kind> {
    match pb::OfferingKind::try_from(kind).ok()? {
        pb::OfferingKind::Appointment => Some(Kind::Appointment),
        pb::OfferingKind::Facility => Some(Kind::Facility),
        pb::OfferingKind::Course => Some(Kind::Course),
        pb::OfferingKind::Event => Some(Kind::Event),
        pb::OfferingKind::RecurringCare => Some(Kind::RecurringCare),
        pb::OfferingKind::Unspecified => None,
    }
}

fn kind_to_pb(kind: Kind) -> pb::OfferingKind {
    match kind {
        Kind::Appointment => pb::OfferingKind::Appointment,
        Kind::Facility => pb::OfferingKind::Facility,
        Kind::Course => pb::OfferingKind::Course,
        Kind::Event => pb::OfferingKind::Event,
        Kind::RecurringCare => pb::OfferingKind::RecurringCare,
    }
}

fn status_of(text: &str) -> pb::BookingStatus {
    match text {
        "confirmed" => pb::BookingStatus::Confirmed,
        "waitlisted" => pb::BookingStatus::Waitlisted,
        "cancelled" => pb::BookingStatus::Cancelled,
        "attended" => pb::BookingStatus::Attended,
        "no_show" => pb::BookingStatus::NoShow,
        _ => pb::BookingStatus::Unspecified,
    }
}

fn status_text(status: i32) -> Option<&'static str> {
    match pb::BookingStatus::try_from(status).ok()? {
        pb::BookingStatus::Confirmed => Some("confirmed"),
        pb::BookingStatus::Waitlisted => Some("waitlisted"),
        pb::BookingStatus::Cancelled => Some("cancelled"),
        pb::BookingStatus::Attended => Some("attended"),
        pb::BookingStatus::NoShow => Some("no_show"),
        pb::BookingStatus::Unspecified => None,
    }
}

fn offering_to_pb(row: OfferingRow) -> pb::Offering {
    let kind = kind_to_pb(row.kind());
    let concessions = row
        .concessions()
        .into_iter()
        .map(|c| pb::Concession {
            category: c.category,
            price_minor: c.price_minor,
        })
        .collect();
    pb::Offering {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        category: row.category,
        kind: kind as i32,
        name: row.name,
        description: row.description,
        provider: row.provider,
        provider_id: row.provider_id.map(|id| id.to_string()).unwrap_or_default(),
        min_age: row.min_age,
        max_age: row.max_age,
        eligible_categories: row.eligible_categories,
        fee_minor: row.fee_minor,
        currency: row.currency,
        concessions,
        capacity: row.capacity,
        facility_id: row.facility_id.map(|id| id.to_string()).unwrap_or_default(),
        staff_id: row.staff_id.map(|id| id.to_string()).unwrap_or_default(),
        active: row.active,
    }
}

fn facility_to_pb(row: FacilityRow) -> pb::Facility {
    pb::Facility {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        name: row.name,
        kind: row.kind,
        opens: row.opens.format("%H:%M").to_string(),
        closes: row.closes.format("%H:%M").to_string(),
        open_days: row.open_days,
    }
}

fn session_to_pb(row: SessionRow) -> pb::Session {
    pb::Session {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        offering_id: row.offering_id.to_string(),
        series_id: row.series_id.map(|id| id.to_string()).unwrap_or_default(),
        starts_at: Some(timestamp(row.starts_at)),
        ends_at: Some(timestamp(row.ends_at)),
        local_start: row.local_start.format("%Y-%m-%dT%H:%M").to_string(),
        capacity: row.capacity,
        confirmed: row.confirmed,
        waitlisted: row.waitlisted as i32,
        status: row.status,
        facility_id: row.facility_id.map(|id| id.to_string()).unwrap_or_default(),
        moved: row.moved,
    }
}

fn booking_to_pb(view: BookingView) -> pb::Booking {
    let b = view.booking;
    pb::Booking {
        id: b.id.to_string(),
        centre_id: b.centre_id.to_string(),
        offering_id: b.offering_id.to_string(),
        resident_id: b.resident_id.map(|id| id.to_string()).unwrap_or_default(),
        status: status_of(&b.status) as i32,
        waitlist_position: view.waitlist_position as i32,
        seats: view
            .seats
            .into_iter()
            .map(|s| pb::Seat {
                session_id: s.session_id.to_string(),
                starts_at: Some(timestamp(s.starts_at)),
                ends_at: Some(timestamp(s.ends_at)),
                state: s.state,
                check_in_opens_at: Some(timestamp(s.starts_at - domain::CHECK_IN_OPENS)),
            })
            .collect(),
        facility_id: b.facility_id.map(|id| id.to_string()).unwrap_or_default(),
        starts_at: b.starts_at.map(timestamp),
        ends_at: b.ends_at.map(timestamp),
        fee_minor: b.fee_minor,
        currency: b.currency,
        concession: b.concession,
        cancel_reason: b.cancel_reason.unwrap_or_default(),
        created_at: Some(timestamp(b.created_at)),
        note: b.note,
        check_in_opens_at: b.starts_at.map(|t| timestamp(t - domain::CHECK_IN_OPENS)),
        promoted_resident_ids: Vec::new(),
    }
}

/// What a partner learns of a booking of an offering it provides: never the desk's note
/// (it may hold health remarks); and who booked, the concession their categories gave
/// them and why the booking was cancelled (a move, a death) only when the resident
/// consented to sharing with partners, as the registry's partner view of residents does.
fn partner_view(booking: pb::Booking, resident_shares: bool) -> pb::Booking {
    let personal = |value: String| {
        if resident_shares {
            value
        } else {
            String::new()
        }
    };
    pb::Booking {
        note: String::new(),
        resident_id: personal(booking.resident_id),
        concession: personal(booking.concession),
        cancel_reason: personal(booking.cancel_reason),
        ..booking
    }
}

/// The offering as a planner described it, checked field by field.
fn offering_from(centre: Uuid, o: pb::Offering) -> Result<OfferingRow, Violations> {
    let mut v = Violations::default();
    if !domain::is_category(&o.category) {
        v.push(
            "offering.category",
            Reason::new(
                "one_of",
                "must be one of the plan's categories (see ListCategories)",
            ),
        );
    }
    let kind = kind_of(o.kind);
    if kind.is_none() {
        v.push(
            "offering.kind",
            Reason::new(
                "one_of",
                "must be appointment, facility, course, event or recurring_care",
            ),
        );
    }
    let name = o.name.trim().to_owned();
    limits::check_name("offering.name", &name, &mut v);
    let provider = if o.provider.is_empty() {
        "centre".to_owned()
    } else {
        o.provider
    };
    let provider_id = match optional_id("offering.provider_id", &o.provider_id) {
        Ok(id) => id,
        Err(e) => {
            v.0.extend(e.0);
            None
        }
    };
    match (provider.as_str(), provider_id) {
        ("centre", None) | ("partner", Some(_)) => {}
        ("partner", None) => v.push(
            "offering.provider_id",
            Reason::new(
                "required",
                "is required when a partner provides the offering",
            ),
        ),
        ("centre", Some(_)) => v.push(
            "offering.provider_id",
            Reason::new(
                "offering.provider_id_not_allowed",
                "must be empty when the centre provides the offering",
            ),
        ),
        _ => v.push(
            "offering.provider",
            Reason::new("one_of", "must be centre or partner"),
        ),
    }
    domain::check_age_limits(o.min_age, o.max_age, &mut v);
    if o.fee_minor < 0 {
        v.push("offering.fee_minor", Reason::not_negative());
    }
    let currency = if o.currency.is_empty() {
        "CNY".to_owned()
    } else {
        o.currency
    };
    limits::check_currency(&currency, &mut v);
    if o.concessions
        .iter()
        .any(|c| c.price_minor < 0 || c.category.is_empty())
    {
        v.push(
            "offering.concessions",
            Reason::new(
                "offering.concessions",
                "each needs a category and a price that is not negative",
            ),
        );
    }
    limits::check_offering_capacity(kind, o.capacity, &mut v);
    let facility_id = match optional_id("offering.facility_id", &o.facility_id) {
        Ok(id) => id,
        Err(e) => {
            v.0.extend(e.0);
            None
        }
    };
    if kind == Some(Kind::Facility) && facility_id.is_none() {
        v.push(
            "offering.facility_id",
            Reason::new("required", "is required for a facility offering"),
        );
    }
    let staff_id = optional_id("offering.staff_id", &o.staff_id).unwrap_or_else(|e| {
        v.0.extend(e.0);
        None
    });
    v.into_result(|| OfferingRow {
        id: Uuid::new_v4(),
        centre_id: centre,
        category: o.category,
        kind: kind.map_or("event", Kind::as_str).to_owned(),
        name,
        description: o.description,
        provider,
        provider_id,
        min_age: o.min_age,
        max_age: o.max_age,
        eligible_categories: o.eligible_categories,
        fee_minor: o.fee_minor,
        currency,
        concession_categories: o.concessions.iter().map(|c| c.category.clone()).collect(),
        concession_prices: o.concessions.iter().map(|c| c.price_minor).collect(),
        capacity: o.capacity,
        facility_id,
        staff_id,
        active: true,
        revision: 0,
    })
}

/// For a partner: the centre, once one of `scopes` is granted there, and the partner.
/// The centre a reader of offerings acts for, and the partner when it is one (who reads,
/// with either offerings scope, its own offerings only).
fn offering_reader(who: &Caller, centre_id: &str) -> Result<(Uuid, Option<Uuid>), Status> {
    if who.is_partner() {
        let (centre, partner) = partner_at(who, centre_id, &[OFFERINGS_READ, OFFERINGS_WRITE])?;
        Ok((centre, Some(partner)))
    } else {
        Ok((residents::reading_centre(who, centre_id)?, None))
    }
}

fn partner_at(caller: &Caller, centre_id: &str, scopes: &[&str]) -> Result<(Uuid, Uuid), Status> {
    let partner = caller
        .partner_id()
        .ok_or_else(|| Status::permission_denied("not a partner"))?;
    let mut refusal = None;
    for scope in scopes {
        match partner_centre(caller, centre_id, scope) {
            Ok(centre) => return Ok((centre, partner)),
            Err(status) => refusal = Some(status),
        }
    }
    Err(refusal.unwrap_or_else(|| Status::permission_denied("no scope")))
}

/// A partner sees only the offerings it provides, and their bookings.
fn provided_by(row: &OfferingRow, partner: Uuid) -> Result<(), Status> {
    if row.provider == "partner" && row.provider_id == Some(partner) {
        Ok(())
    } else {
        Err(Reason::new(
            "partner.not_own_offering",
            "the offering is not one this partner provides",
        )
        .into_status(tonic::Code::PermissionDenied))
    }
}

fn scope(scope: i32) -> Result<bool, Violations> {
    match pb::Scope::try_from(scope) {
        Ok(pb::Scope::This) | Ok(pb::Scope::Unspecified) => Ok(false),
        Ok(pb::Scope::ThisAndFollowing) => Ok(true),
        Err(_) => Err(Violations::one(
            "scope",
            Reason::new("one_of", "must be this or this_and_following"),
        )),
    }
}

#[tonic::async_trait]
impl Bookings for BookingsApi {
    async fn list_categories(
        &self,
        request: Request<pb::ListCategoriesRequest>,
    ) -> Result<Response<pb::ListCategoriesResponse>, Status> {
        request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        Ok(Response::new(pb::ListCategoriesResponse {
            categories: CATEGORIES
                .iter()
                .map(|(code, name, name_en)| pb::Category {
                    code: (*code).into(),
                    name: (*name).into(),
                    name_en: (*name_en).into(),
                })
                .collect(),
        }))
    }

    async fn create_offering(
        &self,
        request: Request<pb::CreateOfferingRequest>,
    ) -> Result<Response<pb::Offering>, Status> {
        let who = caller(&request)?;
        let (centre, partner) = if who.is_partner() {
            let (centre, partner) =
                partner_at(who, &request.get_ref().centre_id, &[OFFERINGS_WRITE])?;
            (centre, Some(partner))
        } else {
            let centre = scoped_centre(who, &request.get_ref().centre_id, Access::Write, PLANNERS)?;
            (centre, None)
        };
        let mut offering = request
            .into_inner()
            .offering
            .ok_or_else(|| Violations::one("offering", Reason::required()))?;
        // A partner's offering is always its own.
        if let Some(partner) = partner {
            offering.provider = "partner".into();
            offering.provider_id = partner.to_string();
            offering.staff_id.clear();
        }
        let row = offering_from(centre, offering)?;
        let created = store::create_offering(&self.pool, &row, partner).await?;
        Ok(Response::new(offering_to_pb(created)))
    }

    async fn get_offering(
        &self,
        request: Request<pb::GetOfferingRequest>,
    ) -> Result<Response<pb::Offering>, Status> {
        let who = caller(&request)?;
        let (centre, partner) = offering_reader(who, &request.get_ref().centre_id)?;
        let id = parse_id("offering_id", &request.get_ref().offering_id)?;
        let mut conn = self.pool.acquire().await.map_err(Error::from)?;
        let row = store::find_offering(&mut conn, centre, id).await?;
        if let Some(partner) = partner {
            provided_by(&row, partner)?;
        }
        Ok(Response::new(offering_to_pb(row)))
    }

    async fn update_offering(
        &self,
        request: Request<pb::UpdateOfferingRequest>,
    ) -> Result<Response<pb::Offering>, Status> {
        let (centre, id) = self
            .offering_writer(&request, |r| (&r.centre_id, &r.offering_id))
            .await?;
        let req = request.into_inner();
        let change = domain::offering::Change {
            fee_minor: req.fee_minor,
            capacity: req.capacity,
        };
        let row = store::revise_offering(
            &self.pool,
            centre,
            id,
            |current| domain::offering::revise(current, change),
            Utc::now(),
        )
        .await?;
        self.known.forget_offering(centre, id);
        Ok(Response::new(offering_to_pb(row)))
    }

    async fn retire_offering(
        &self,
        request: Request<pb::RetireOfferingRequest>,
    ) -> Result<Response<pb::Offering>, Status> {
        let (centre, id) = self
            .offering_writer(&request, |r| (&r.centre_id, &r.offering_id))
            .await?;
        let row = store::revise_offering(
            &self.pool,
            centre,
            id,
            |current| Ok(domain::offering::retire(current)),
            Utc::now(),
        )
        .await?;
        self.known.forget_offering(centre, id);
        Ok(Response::new(offering_to_pb(row)))
    }

    async fn list_offerings(
        &self,
        request: Request<pb::ListOfferingsRequest>,
    ) -> Result<Response<pb::ListOfferingsResponse>, Status> {
        let who = caller(&request)?;
        let (centre, partner) = offering_reader(who, &request.get_ref().centre_id)?;
        // A resident sees only what they (or the one they name, whom they act for) may
        // book: the same rule the booking path tests.
        let eligible_for = match request.get_ref().eligible_for.as_str() {
            "" if who.is_resident() => {
                return Err(linli_platform::auth::AuthError::ResidentDenied.into());
            }
            "" => None,
            text => {
                let resident = parse_id("eligible_for", text)?;
                if who.is_resident() {
                    who.require_resident(centre, resident)?;
                }
                Some(resident)
            }
        };
        let req = request.into_inner();
        let category = (!req.category.is_empty()).then_some(req.category.as_str());
        let kind = kind_of(req.kind).map(Kind::as_str);
        let mut rows = store::list_offerings(&self.pool, centre, category, kind)
            .await
            .map_err(Error::from)?;
        if let Some(partner) = partner {
            rows.retain(|row| provided_by(row, partner).is_ok());
        }
        if let Some(resident) = eligible_for {
            rows = residents::eligible_only(&self.pool, centre, resident, rows).await?;
        }
        Ok(Response::new(pb::ListOfferingsResponse {
            offerings: rows.into_iter().map(offering_to_pb).collect(),
        }))
    }

    async fn create_facility(
        &self,
        request: Request<pb::CreateFacilityRequest>,
    ) -> Result<Response<pb::Facility>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, PLANNERS)?;
        let f = request
            .into_inner()
            .facility
            .ok_or_else(|| Violations::one("facility", Reason::required()))?;
        let mut v = Violations::default();
        let name = f.name.trim().to_owned();
        limits::check_name("facility.name", &name, &mut v);
        let kind = if f.kind.is_empty() {
            "room".to_owned()
        } else {
            f.kind
        };
        limits::check_facility_kind(&kind, &mut v);
        let opens = domain::parse_time(
            "facility.opens",
            if f.opens.is_empty() {
                "08:00"
            } else {
                &f.opens
            },
            &mut v,
        );
        let closes = domain::parse_time(
            "facility.closes",
            if f.closes.is_empty() {
                "20:00"
            } else {
                &f.closes
            },
            &mut v,
        );
        if let (Some(o), Some(c)) = (opens, closes)
            && c <= o
        {
            v.push("facility.closes", Reason::after("opens"));
        }
        let days = if f.open_days.is_empty() {
            vec![1, 2, 3, 4, 5, 6, 7]
        } else {
            f.open_days
        };
        limits::check_open_days(&days, &mut v);
        let row = v.into_result(|| FacilityRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            name,
            kind,
            opens: opens.unwrap_or(NaiveTime::MIN),
            closes: closes.unwrap_or(NaiveTime::MIN),
            open_days: days,
        })?;
        let created = store::create_facility(&self.pool, &row).await?;
        Ok(Response::new(facility_to_pb(created)))
    }

    async fn list_facilities(
        &self,
        request: Request<pb::ListFacilitiesRequest>,
    ) -> Result<Response<pb::ListFacilitiesResponse>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let rows = store::list_facilities(&self.pool, centre)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::ListFacilitiesResponse {
            facilities: rows.into_iter().map(facility_to_pb).collect(),
        }))
    }

    async fn create_session(
        &self,
        request: Request<pb::CreateSessionRequest>,
    ) -> Result<Response<pb::Session>, Status> {
        // A partner adds sessions only to the offerings it provides, with its write scope.
        let who = caller(&request)?;
        let (centre, partner) = if who.is_partner() {
            let (centre, partner) =
                partner_at(who, &request.get_ref().centre_id, &[OFFERINGS_WRITE])?;
            (centre, Some(partner))
        } else {
            let centre = scoped_centre(who, &request.get_ref().centre_id, Access::Write, PLANNERS)?;
            (centre, None)
        };
        let req = request.into_inner();
        let offering_id = parse_id("offering_id", &req.offering_id)?;
        let starts = instant("starts_at", req.starts_at.as_ref())?
            .ok_or_else(|| Violations::one("starts_at", Reason::required()))?;
        let ends = instant("ends_at", req.ends_at.as_ref())?
            .ok_or_else(|| Violations::one("ends_at", Reason::required()))?;
        limits::check_session_times(starts, ends)?;
        limits::check_session_capacity(req.capacity)?;
        let mut conn = self.pool.acquire().await.map_err(Error::from)?;
        let offering = store::find_offering(&mut conn, centre, offering_id).await?;
        if let Some(partner) = partner {
            provided_by(&offering, partner)?;
        }
        let zone = store::centre_zone(&mut conn, centre).await?;
        drop(conn);
        limits::has_sessions(offering.kind()).map_err(Error::from)?;
        let occurrence = (domain::to_local(zone, starts), starts, ends);
        let capacity = req.capacity.unwrap_or(offering.capacity);
        let mut sessions =
            store::create_sessions(&self.pool, &offering, None, &[occurrence], capacity).await?;
        let session = sessions.pop().ok_or(Error::NotFound("session"))?;
        Ok(Response::new(session_to_pb(session)))
    }

    async fn create_series(
        &self,
        request: Request<pb::CreateSeriesRequest>,
    ) -> Result<Response<pb::Series>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, PLANNERS)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let offering_id = optional_id("offering_id", &req.offering_id).unwrap_or_else(|e| {
            v.0.extend(e.0);
            None
        });
        let start_time = domain::parse_time("start_time", &req.start_time, &mut v);
        let starts_on = domain::parse_date("starts_on", &req.starts_on, &mut v);
        let until = if req.until.is_empty() {
            None
        } else {
            domain::parse_date("until", &req.until, &mut v)
        };
        let (Some(offering_id), Some(start_time), Some(starts_on)) =
            (offering_id, start_time, starts_on)
        else {
            if offering_id.is_none() && !v.0.iter().any(|f| f.field == "offering_id") {
                v.push("offering_id", Reason::required());
            }
            return Err(v.into());
        };
        let rule = WeeklyRule {
            weekdays: req.weekdays.iter().map(|d| *d as u32).collect(),
            start_time,
            duration: Duration::minutes(req.duration_minutes.into()),
            starts_on,
            until,
            count: (req.count > 0).then_some(req.count as u32),
        };
        rule.validate(&mut v);
        if !v.is_empty() {
            return Err(v.into());
        }
        let mut conn = self.pool.acquire().await.map_err(Error::from)?;
        let offering = store::find_offering(&mut conn, centre, offering_id).await?;
        let zone = store::centre_zone(&mut conn, centre).await?;
        drop(conn);
        limits::has_sessions(offering.kind()).map_err(Error::from)?;
        let occurrences = rule.occurrences(zone);
        if occurrences.is_empty() {
            return Err(Violations::one(
                "weekdays",
                Reason::new(
                    "series.empty",
                    "the rule gives no session between starts_on and until",
                ),
            )
            .into());
        }
        let series = SeriesRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            offering_id,
            weekdays: req.weekdays.clone(),
            start_time,
            duration_minutes: req.duration_minutes,
            starts_on,
            until,
            count: rule.count.map(|c| c as i32),
            time_zone: zone.name().to_owned(),
        };
        let sessions = store::create_sessions(
            &self.pool,
            &offering,
            Some(&series),
            &occurrences,
            offering.capacity,
        )
        .await?;
        Ok(Response::new(pb::Series {
            id: series.id.to_string(),
            centre_id: centre.to_string(),
            offering_id: offering_id.to_string(),
            weekdays: series.weekdays,
            start_time: start_time.format("%H:%M").to_string(),
            duration_minutes: series.duration_minutes,
            starts_on: starts_on.to_string(),
            until: until.map(|d| d.to_string()).unwrap_or_default(),
            count: series.count.unwrap_or(0),
            time_zone: series.time_zone,
            sessions: sessions.into_iter().map(session_to_pb).collect(),
        }))
    }

    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        let centre = residents::reading_centre(caller(&request)?, &request.get_ref().centre_id)?;
        let req = request.into_inner();
        let filter = SessionFilter {
            centre,
            from: instant("from", req.from.as_ref())?,
            to: instant("to", req.to.as_ref())?,
            offering: optional_id("offering_id", &req.offering_id)?,
            series: optional_id("series_id", &req.series_id)?,
        };
        let page = PageRequest::parse("bookings.sessions", req.page_size, &req.page_token)?;
        let rows = store::list_sessions(&self.pool, &filter, page.after(), page.limit())
            .await
            .map_err(Error::from)?;
        let page = page
            .page(rows, |row| (row.starts_at, row.id))
            .map(session_to_pb);
        Ok(Response::new(pb::ListSessionsResponse {
            sessions: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn move_session(
        &self,
        request: Request<pb::MoveSessionRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, PLANNERS)?;
        let req = request.into_inner();
        let session = parse_id("session_id", &req.session_id)?;
        let following = scope(req.scope)?;
        let starts = instant("starts_at", req.starts_at.as_ref())?
            .ok_or_else(|| Violations::one("starts_at", Reason::required()))?;
        limits::check_duration_minutes(req.duration_minutes)?;
        let duration = req.duration_minutes.map(|d| Duration::minutes(d.into()));
        let pool = &self.pool;
        let rows =
            retrying(|| store::move_sessions(pool, centre, session, following, starts, duration))
                .await?;
        // Every session changed, whole: a change is not a list to page.
        Ok(Response::new(pb::ListSessionsResponse {
            sessions: rows.into_iter().map(session_to_pb).collect(),
            next_page_token: String::new(),
        }))
    }

    async fn cancel_session(
        &self,
        request: Request<pb::CancelSessionRequest>,
    ) -> Result<Response<pb::ListSessionsResponse>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, PLANNERS)?;
        let req = request.into_inner();
        let session = parse_id("session_id", &req.session_id)?;
        let following = scope(req.scope)?;
        let pool = &self.pool;
        let rows =
            retrying(|| store::cancel_sessions(pool, centre, session, following, Utc::now()))
                .await?;
        // Every session changed, whole: a change is not a list to page.
        Ok(Response::new(pb::ListSessionsResponse {
            sessions: rows.into_iter().map(session_to_pb).collect(),
            next_page_token: String::new(),
        }))
    }

    async fn create_booking(
        &self,
        request: Request<pb::CreateBookingRequest>,
    ) -> Result<Response<pb::Booking>, Status> {
        let centre = residents::booking_centre(
            caller(&request)?,
            &request.get_ref().centre_id,
            &request.get_ref().resident_id,
        )?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let offering = optional_id("offering_id", &req.offering_id).unwrap_or_else(|e| {
            v.0.extend(e.0);
            None
        });
        if offering.is_none() && req.offering_id.is_empty() {
            v.push("offering_id", Reason::required());
        }
        let resident = optional_id("resident_id", &req.resident_id).unwrap_or_else(|e| {
            v.0.extend(e.0);
            None
        });
        let session = optional_id("session_id", &req.session_id).unwrap_or_else(|e| {
            v.0.extend(e.0);
            None
        });
        let starts = instant("starts_at", req.starts_at.as_ref()).unwrap_or_else(|e| {
            v.0.extend(e.0);
            None
        });
        let ends = instant("ends_at", req.ends_at.as_ref()).unwrap_or_else(|e| {
            v.0.extend(e.0);
            None
        });
        let range = match (starts, ends) {
            (Some(s), Some(e)) if e > s => Some((s, e)),
            (Some(_), Some(_)) => {
                v.push("ends_at", Reason::after("starts_at"));
                None
            }
            (None, None) => None,
            _ => {
                v.push(
                    "ends_at",
                    Reason::new("range.both", "give both starts_at and ends_at, or neither"),
                );
                None
            }
        };
        limits::check_note(&req.note, &mut v);
        if !v.is_empty() {
            return Err(v.into());
        }
        let new = store::NewBooking {
            centre,
            offering: offering.unwrap_or_default(),
            resident,
            session,
            range,
            note: req.note,
        };
        let (pool, known) = (&self.pool, &self.known);
        let view = retrying(|| store::create_booking(pool, known, &new, Utc::now())).await?;
        Ok(Response::new(booking_to_pb(view)))
    }

    async fn get_booking(
        &self,
        request: Request<pb::GetBookingRequest>,
    ) -> Result<Response<pb::Booking>, Status> {
        let who = caller(&request)?;
        let (centre, partner) = if who.is_partner() {
            let (centre, partner) =
                partner_at(who, &request.get_ref().centre_id, &[BOOKINGS_READ])?;
            (centre, Some(partner))
        } else {
            let centre = residents::booking_owner_centre(
                &self.pool,
                who,
                &request.get_ref().centre_id,
                &request.get_ref().booking_id,
                Access::Read,
                READERS,
            )
            .await?;
            (centre, None)
        };
        let id = parse_id("booking_id", &request.get_ref().booking_id)?;
        let view = store::find_booking(&self.pool, centre, id).await?;
        let Some(partner) = partner else {
            return Ok(Response::new(booking_to_pb(view)));
        };
        let mut conn = self.pool.acquire().await.map_err(Error::from)?;
        let offering = store::find_offering(&mut conn, centre, view.booking.offering_id).await?;
        provided_by(&offering, partner)?;
        drop(conn);
        let sharing = match view.booking.resident_id {
            Some(resident) => store::sharing_with_partners(&self.pool, &[resident])
                .await
                .map_err(Error::from)?
                .contains(&resident),
            None => false,
        };
        Ok(Response::new(partner_view(booking_to_pb(view), sharing)))
    }

    async fn list_bookings(
        &self,
        request: Request<pb::ListBookingsRequest>,
    ) -> Result<Response<pb::ListBookingsResponse>, Status> {
        let who = caller(&request)?;
        let (centre, partner) = if who.is_partner() {
            let (centre, partner) =
                partner_at(who, &request.get_ref().centre_id, &[BOOKINGS_READ])?;
            (centre, Some(partner))
        } else {
            let centre = residents::listing_centre(
                who,
                &request.get_ref().centre_id,
                &request.get_ref().resident_id,
            )?;
            (centre, None)
        };
        let req = request.into_inner();
        if let Some(partner) = partner
            && let Some(offering) = optional_id("offering_id", &req.offering_id)?
        {
            let mut conn = self.pool.acquire().await.map_err(Error::from)?;
            let row = store::find_offering(&mut conn, centre, offering).await?;
            provided_by(&row, partner)?;
        }
        let page = PageRequest::<i64>::parse("bookings.bookings", req.page_size, &req.page_token)?;
        let resident = optional_id("resident_id", &req.resident_id)?;
        // A partner asking after one resident learns nothing of one who did not consent,
        // not even that they booked.
        if partner.is_some()
            && let Some(resident) = resident
            && !store::sharing_with_partners(&self.pool, &[resident])
                .await
                .map_err(Error::from)?
                .contains(&resident)
        {
            return Ok(Response::new(pb::ListBookingsResponse::default()));
        }
        let filter = BookingFilter {
            centre,
            resident,
            offering: optional_id("offering_id", &req.offering_id)?,
            session: optional_id("session_id", &req.session_id)?,
            status: status_text(req.status).map(str::to_owned),
            before: page.after(),
            limit: page.limit(),
            provider: partner,
        };
        let views = store::list_bookings(&self.pool, &filter).await?;
        let Page {
            rows: views,
            next_page_token,
        } = page.page(views, |view| view.booking.arrival);
        if partner.is_none() {
            return Ok(Response::new(pb::ListBookingsResponse {
                bookings: views.into_iter().map(booking_to_pb).collect(),
                next_page_token,
            }));
        }
        let residents: Vec<Uuid> = views.iter().filter_map(|v| v.booking.resident_id).collect();
        let sharing = store::sharing_with_partners(&self.pool, &residents)
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::ListBookingsResponse {
            bookings: views
                .into_iter()
                .map(|view| {
                    let shares = view
                        .booking
                        .resident_id
                        .is_some_and(|resident| sharing.contains(&resident));
                    partner_view(booking_to_pb(view), shares)
                })
                .collect(),
            next_page_token,
        }))
    }

    async fn cancel_booking(
        &self,
        request: Request<pb::CancelBookingRequest>,
    ) -> Result<Response<pb::Booking>, Status> {
        let centre = residents::booking_owner_centre(
            &self.pool,
            caller(&request)?,
            &request.get_ref().centre_id,
            &request.get_ref().booking_id,
            Access::Write,
            DESK,
        )
        .await?;
        let id = parse_id("booking_id", &request.get_ref().booking_id)?;
        let reason = match request.get_ref().reason.trim() {
            "" => "resident",
            text if text.chars().count() > domain::CANCEL_REASON_MAX => {
                return Err(Error::from(Violations::one("reason", Reason::too_long(200))).into());
            }
            text => text,
        };
        let pool = &self.pool;
        let (view, promoted) =
            retrying(|| store::cancel_booking(pool, centre, id, reason, Utc::now())).await?;
        Ok(Response::new(pb::Booking {
            promoted_resident_ids: promoted.iter().map(Uuid::to_string).collect(),
            ..booking_to_pb(view)
        }))
    }

    async fn check_in(
        &self,
        request: Request<pb::CheckInRequest>,
    ) -> Result<Response<pb::Booking>, Status> {
        // A partner records attendance only at sessions of the offerings it provides, with
        // its attendance scope; the check-in is the desk's, under the same rules.
        let who = caller(&request)?;
        let (centre, partner) = if who.is_partner() {
            let (centre, partner) =
                partner_at(who, &request.get_ref().centre_id, &[ATTENDANCE_WRITE])?;
            (centre, Some(partner))
        } else {
            let centre = scoped_centre(who, &request.get_ref().centre_id, Access::Write, DESK)?;
            (centre, None)
        };
        let id = parse_id("booking_id", &request.get_ref().booking_id)?;
        let session = optional_id("session_id", &request.get_ref().session_id)?;
        if let Some(partner) = partner {
            let booking = store::find_booking(&self.pool, centre, id).await?;
            let mut conn = self.pool.acquire().await.map_err(Error::from)?;
            let offering =
                store::find_offering(&mut conn, centre, booking.booking.offering_id).await?;
            provided_by(&offering, partner)?;
        }
        let pool = &self.pool;
        let view = retrying(|| store::check_in(pool, centre, id, session, Utc::now())).await?;
        if partner.is_some() {
            let sharing = match view.booking.resident_id {
                Some(resident) => store::sharing_with_partners(&self.pool, &[resident])
                    .await
                    .map_err(Error::from)?
                    .contains(&resident),
                None => false,
            };
            return Ok(Response::new(partner_view(booking_to_pb(view), sharing)));
        }
        Ok(Response::new(booking_to_pb(view)))
    }

    async fn undo_check_in(
        &self,
        request: Request<pb::UndoCheckInRequest>,
    ) -> Result<Response<pb::Booking>, Status> {
        let who = caller(&request)?;
        let centre = scoped_centre(
            who,
            &request.get_ref().centre_id,
            Access::Write,
            domain::undo::UNDOERS,
        )?;
        let by = who.subject.clone();
        let id = parse_id("booking_id", &request.get_ref().booking_id)?;
        let session = optional_id("session_id", &request.get_ref().session_id)?;
        let pool = &self.pool;
        let view =
            retrying(|| store::undo_check_in(pool, centre, id, session, &by, Utc::now())).await?;
        Ok(Response::new(booking_to_pb(view)))
    }

    async fn get_utilisation(
        &self,
        request: Request<pb::GetUtilisationRequest>,
    ) -> Result<Response<pb::UtilisationReport>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let from = domain::parse_date("from", &req.from, &mut v);
        let to = domain::parse_date("to", &req.to, &mut v);
        let (Some(from), Some(to)) = (from, to) else {
            return Err(v.into());
        };
        limits::check_report_days(from, to)?;
        let zone = store::zone_of(&self.pool, centre).await?;
        let from_at = domain::to_instant(zone, from.and_time(NaiveTime::MIN));
        let to_at = domain::to_instant(zone, to.and_time(NaiveTime::MIN));
        let facilities = store::list_facilities(&self.pool, centre)
            .await
            .map_err(Error::from)?;
        let booked = store::booked_seconds(&self.pool, centre, from_at, to_at)
            .await
            .map_err(Error::from)?;
        let report = facilities
            .into_iter()
            .map(|f| {
                let booked_hours = booked
                    .iter()
                    .find(|(id, _)| *id == f.id)
                    .map_or(0.0, |(_, seconds)| *seconds as f64 / 3600.0);
                let open_hours = f.hours().open_hours(from, to);
                pb::FacilityUtilisation {
                    facility_id: f.id.to_string(),
                    name: f.name,
                    booked_hours,
                    open_hours,
                    utilisation: if open_hours > 0.0 {
                        booked_hours / open_hours
                    } else {
                        0.0
                    },
                }
            })
            .collect();
        Ok(Response::new(pb::UtilisationReport {
            centre_id: centre.to_string(),
            from: from.to_string(),
            to: to.to_string(),
            facilities: report,
        }))
    }

    async fn export_resident(
        &self,
        request: Request<pb::ExportResidentRequest>,
    ) -> Result<Response<pb::ResidentExport>, Status> {
        // The centre's exporters, or the resident themselves (the residents' site's 我的信息).
        let resident = parse_id("resident_id", &request.get_ref().resident_id)?;
        let centre = linli_platform::auth::own_or_scoped_centre(
            caller(&request)?,
            &request.get_ref().centre_id,
            resident,
            Access::Read,
            RESIDENT_EXPORTERS,
        )?;
        // Every booking, however many: a copy cut at a page would be silently partial.
        let filter = BookingFilter {
            centre,
            resident: Some(resident),
            offering: None,
            session: None,
            status: None,
            before: None,
            limit: i64::MAX,
            provider: None,
        };
        let views = store::list_bookings(&self.pool, &filter).await?;
        let booked: std::collections::BTreeSet<Uuid> =
            views.iter().map(|v| v.booking.offering_id).collect();
        let offerings = store::list_offerings(&self.pool, centre, None, None)
            .await
            .map_err(Error::from)?
            .into_iter()
            .filter(|o| booked.contains(&o.id))
            .map(offering_to_pb)
            .collect();
        Ok(Response::new(pb::ResidentExport {
            bookings: views.into_iter().map(booking_to_pb).collect(),
            offerings,
        }))
    }
}
