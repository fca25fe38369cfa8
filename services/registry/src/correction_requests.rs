//! A resident's request, from the residents' site, to correct what the registry holds about
//! them or a child they act for (PIPL art. 46): which fields are wrong and what they should
//! be. The registry keeps the request (its words sealed, as they may hold a number) and, in
//! the same transaction, publishes `registry.resident.correction_requested` naming the
//! fields only; the desk sees it in the alerts inbox and makes the change itself.
//!
//! The desk lists them (the words opened for the front desk and the manager only, as a
//! whole national ID is) and closes each one, applied or declined with a reason, publishing
//! `registry.resident.correction_closed` in the same transaction so the alert goes.

use chrono::{DateTime, Utc};
use linli_platform::auth::{Access, Caller, Role, caller, own_or_scoped_centre, scoped_centre};
use linli_platform::bus::enqueue;
use linli_platform::crypto::{Sealed, Vault};
use linli_platform::error::{Reason, Violations};
use linli_platform::wire::parse_id;
use linli_proto::events::v1::{ResidentCorrectionClosed, ResidentCorrectionRequested};
use linli_proto::registry::v1 as pb;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::STAFF_READERS;
use crate::error::Error;
use crate::events::timestamp;
use crate::store;

/// Roles that read a resident's words and close their requests: those who may see a whole
/// national ID (the words may hold one), the front desk and the manager.
pub const HANDLERS: &[Role] = crate::domain::NATIONAL_ID_READERS;

/// How the desk closes a request.
pub const OUTCOMES: [&str; 2] = ["applied", "declined"];

/// Shortest and longest reason for declining, in characters.
pub const REASON_LENGTH: (usize, usize) = (2, 200);

/// The fields a resident may say are wrong, as the registry's API spells them.
pub const FIELDS: [&str; 8] = [
    "name",
    "gender",
    "date_of_birth",
    "phone",
    "national_id",
    "address",
    "categories",
    "other",
];

/// Longest description of the correction, in characters.
pub const DETAILS_MAX: usize = 500;

/// The request's fields (each once, in [`FIELDS`]'s order) and its trimmed words, or what
/// is wrong with them.
pub fn check(fields: &[String], details: &str) -> Result<(Vec<String>, String), Violations> {
    let mut v = Violations::default();
    if fields.is_empty() {
        v.push("fields", Reason::required());
    } else if fields.iter().any(|f| !FIELDS.contains(&f.as_str())) {
        v.push("fields", Reason::one_of(&FIELDS));
    }
    let details = details.trim();
    if !(1..=DETAILS_MAX).contains(&details.chars().count()) {
        v.push("details", Reason::length(1, DETAILS_MAX));
    }
    let chosen = FIELDS
        .iter()
        .filter(|f| fields.iter().any(|g| g == *f))
        .map(|f| (*f).to_owned())
        .collect();
    v.into_result(|| (chosen, details.to_owned()))
}

/// `RequestCorrection`: a resident's token only, for themselves or one they act for.
pub async fn request(
    pool: &PgPool,
    vault: &Vault,
    request: Request<pb::RequestCorrectionRequest>,
) -> Result<Response<pb::CorrectionRequest>, Status> {
    let who = caller(&request)?.clone();
    let req = request.into_inner();
    let resident = parse_id("resident_id", &req.resident_id).map_err(Error::from)?;
    if !who.is_resident() {
        // Staff correct a record themselves (UpdateResident); this is the resident's way.
        return Err(Error::from(linli_platform::auth::AuthError::RoleDenied).into());
    }
    let centre = own_or_scoped_centre(&who, &req.centre_id, resident, Access::Write, &[])?;
    let (fields, details) = check(&req.fields, &req.details).map_err(Error::from)?;
    store::find_resident(pool, centre, resident)
        .await
        .map_err(Error::from)?
        .ok_or(Error::NotFound("resident"))?;
    let sealed = vault.seal(&details);
    let id = Uuid::new_v4();
    let mut tx = linli_platform::db::begin(pool).await.map_err(Error::from)?;
    let requested_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO correction_requests
             (id, resident_id, centre_id, fields, details_key_id, details_sealed, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING requested_at",
    )
    .bind(id)
    .bind(resident)
    .bind(centre)
    .bind(&fields)
    .bind(&sealed.key_id)
    .bind(&sealed.bytes)
    .bind(&who.subject)
    .fetch_one(&mut *tx)
    .await
    .map_err(Error::from)?;
    let event = ResidentCorrectionRequested {
        request_id: id.to_string(),
        resident_id: resident.to_string(),
        centre_id: centre.to_string(),
        fields: fields.clone(),
        requested_at: Some(timestamp(requested_at)),
    };
    enqueue(&mut tx, Some(centre), &event)
        .await
        .map_err(Error::from)?;
    tx.commit().await.map_err(Error::from)?;
    tracing::info!(request_id = %id, centre_id = %centre, ?fields, "correction requested");
    Ok(Response::new(pb::CorrectionRequest {
        id: id.to_string(),
        resident_id: resident.to_string(),
        fields,
        details,
        requested_at: Some(timestamp(requested_at)),
        status: "open".into(),
        ..Default::default()
    }))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    resident_id: Uuid,
    fields: Vec<String>,
    details_key_id: String,
    details_sealed: Vec<u8>,
    requested_at: DateTime<Utc>,
    status: String,
    closed_by: Option<String>,
    closed_at: Option<DateTime<Utc>>,
    decline_reason: Option<String>,
}

/// A request's columns, as [`Row`] reads them.
macro_rules! columns {
    () => {
        "id, resident_id, fields, details_key_id, details_sealed, requested_at, status, \
         closed_by, closed_at, decline_reason"
    };
}

impl Row {
    /// The request, its words opened when `open_words`; `closed_by` only for staff.
    fn message(
        self,
        vault: &Vault,
        open_words: bool,
        staff: bool,
    ) -> Result<pb::CorrectionRequest, Error> {
        let details = if open_words {
            vault.open(&Sealed {
                key_id: self.details_key_id,
                bytes: self.details_sealed,
            })?
        } else {
            String::new()
        };
        Ok(pb::CorrectionRequest {
            id: self.id.to_string(),
            resident_id: self.resident_id.to_string(),
            fields: self.fields,
            details,
            requested_at: Some(timestamp(self.requested_at)),
            status: self.status,
            details_hidden: !open_words,
            decline_reason: self.decline_reason.unwrap_or_default(),
            closed_at: self.closed_at.map(timestamp),
            closed_by: if staff {
                self.closed_by.unwrap_or_default()
            } else {
                String::new()
            },
        })
    }
}

/// Whether the caller's role reads a resident's words.
fn reads_words(who: &Caller) -> bool {
    who.require_role(Access::Read, HANDLERS).is_ok()
}

/// A resident's correction requests, newest first, opened: for their copy.
pub async fn of_resident(
    pool: &PgPool,
    vault: &Vault,
    resident: Uuid,
) -> Result<Vec<pb::CorrectionRequest>, Error> {
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM correction_requests WHERE resident_id = $1 ORDER BY requested_at DESC"
    ))
    .bind(resident)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| row.message(vault, true, false))
        .collect()
}

/// `ListCorrectionRequests`: staff of the centre; a resident's requests or the centre's
/// open ones, the words only for [`HANDLERS`].
pub async fn list(
    pool: &PgPool,
    vault: &Vault,
    request: Request<pb::ListCorrectionRequestsRequest>,
) -> Result<Response<pb::ListCorrectionRequestsResponse>, Status> {
    let who = caller(&request)?.clone();
    let req = request.into_inner();
    let centre = scoped_centre(&who, &req.centre_id, Access::Read, STAFF_READERS)?;
    let rows: Vec<Row> = if req.resident_id.trim().is_empty() {
        sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM correction_requests
              WHERE centre_id = $1 AND status = 'open' ORDER BY requested_at, id LIMIT 500"
        ))
        .bind(centre)
        .fetch_all(pool)
        .await
    } else {
        let resident = parse_id("resident_id", &req.resident_id).map_err(Error::from)?;
        sqlx::query_as(concat!(
            "SELECT ",
            columns!(),
            " FROM correction_requests
              WHERE centre_id = $1 AND resident_id = $2 ORDER BY requested_at DESC, id"
        ))
        .bind(centre)
        .bind(resident)
        .fetch_all(pool)
        .await
    }
    .map_err(Error::from)?;
    let open_words = reads_words(&who);
    let requests = rows
        .into_iter()
        .map(|row| row.message(vault, open_words, true))
        .collect::<Result<_, _>>()?;
    Ok(Response::new(pb::ListCorrectionRequestsResponse {
        requests,
    }))
}

/// The outcome and the trimmed reason of a closing, or what is wrong with them.
pub fn check_close(
    outcome: &str,
    reason: &str,
) -> Result<(&'static str, Option<String>), Violations> {
    let reason = reason.trim();
    match outcome {
        "applied" => Ok(("done", None)),
        "declined" => {
            let (min, max) = REASON_LENGTH;
            if reason.is_empty() {
                Err(Violations::one("reason", Reason::required()))
            } else if !(min..=max).contains(&reason.chars().count()) {
                Err(Violations::one("reason", Reason::length(min, max)))
            } else {
                Ok(("declined", Some(reason.to_owned())))
            }
        }
        _ => Err(Violations::one("outcome", Reason::one_of(&OUTCOMES))),
    }
}

/// `CloseCorrectionRequest`: the front desk or the manager of the request's centre.
pub async fn close(
    pool: &PgPool,
    vault: &Vault,
    request: Request<pb::CloseCorrectionRequestRequest>,
) -> Result<Response<pb::CorrectionRequest>, Status> {
    let who = caller(&request)?.clone();
    let req = request.into_inner();
    let centre = scoped_centre(&who, &req.centre_id, Access::Write, HANDLERS)?;
    let id = parse_id("request_id", &req.request_id).map_err(Error::from)?;
    let (status, reason) = check_close(req.outcome.trim(), &req.reason).map_err(Error::from)?;
    let mut tx = linli_platform::db::begin(pool).await.map_err(Error::from)?;
    let found: Option<Row> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM correction_requests WHERE id = $1 AND centre_id = $2 FOR UPDATE"
    ))
    .bind(id)
    .bind(centre)
    .fetch_optional(&mut *tx)
    .await
    .map_err(Error::from)?;
    let found = found.ok_or(Error::NotFound("correction request"))?;
    if found.status != "open" {
        return Err(Error::State(Reason::new(
            "correction.closed",
            "the correction request was closed already",
        ))
        .into());
    }
    let row: Row = sqlx::query_as(concat!(
        "UPDATE correction_requests
            SET status = $2, decline_reason = $3, closed_by = $4, closed_at = clock_timestamp()
          WHERE id = $1 RETURNING ",
        columns!(),
        ""
    ))
    .bind(id)
    .bind(status)
    .bind(&reason)
    .bind(&who.subject)
    .fetch_one(&mut *tx)
    .await
    .map_err(Error::from)?;
    let outcome = if status == "done" {
        "applied"
    } else {
        "declined"
    };
    let event = ResidentCorrectionClosed {
        request_id: id.to_string(),
        resident_id: row.resident_id.to_string(),
        centre_id: centre.to_string(),
        outcome: outcome.into(),
        closed_by: who.subject.clone(),
        closed_at: row.closed_at.map(timestamp),
    };
    enqueue(&mut tx, Some(centre), &event)
        .await
        .map_err(Error::from)?;
    tx.commit().await.map_err(Error::from)?;
    tracing::info!(request_id = %id, centre_id = %centre, outcome, "correction request closed");
    Ok(Response::new(row.message(
        vault,
        reads_words(&who),
        true,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(error: Violations) -> Vec<(String, String)> {
        error.0.into_iter().map(|v| (v.field, v.code)).collect()
    }

    #[test]
    fn a_request_names_known_fields_and_says_what_they_should_be() {
        let (fields, details) = check(
            &["phone".into(), "name".into(), "phone".into()],
            "  名字应为王秀英  ",
        )
        .expect("valid");
        assert_eq!(fields, ["name", "phone"]);
        assert_eq!(details, "名字应为王秀英");
    }

    #[test]
    fn nothing_chosen_an_unknown_field_or_too_many_words_are_refused_by_field() {
        let none = codes(check(&[], "应为王秀英").expect_err("no field"));
        assert_eq!(none, [("fields".into(), "required".into())]);
        let unknown = codes(check(&["salary".into()], "x").expect_err("unknown"));
        assert_eq!(unknown, [("fields".into(), "one_of".into())]);
        let long = "字".repeat(DETAILS_MAX + 1);
        let words = codes(check(&["name".into()], &long).expect_err("long"));
        assert_eq!(words, [("details".into(), "length".into())]);
        let blank = codes(check(&["name".into()], "   ").expect_err("blank"));
        assert_eq!(blank, [("details".into(), "length".into())]);
        assert!(check(&["name".into()], &"字".repeat(DETAILS_MAX)).is_ok());
    }

    #[test]
    fn applied_needs_nothing_more_and_declined_needs_a_reason() {
        assert_eq!(check_close("applied", "").expect("applied"), ("done", None));
        assert_eq!(
            check_close("declined", "  与户籍信息一致 ").expect("declined"),
            ("declined", Some("与户籍信息一致".into()))
        );
        let none = codes(check_close("declined", "  ").expect_err("no reason"));
        assert_eq!(none, [("reason".into(), "required".into())]);
        let short = codes(check_close("declined", "否").expect_err("short"));
        assert_eq!(short, [("reason".into(), "length".into())]);
        let other = codes(check_close("ignored", "").expect_err("outcome"));
        assert_eq!(other, [("outcome".into(), "one_of".into())]);
    }
}
