//! A resident's request, from the residents' site, to correct what the registry holds about
//! them or a child they act for (PIPL art. 46): which fields are wrong and what they should
//! be. The registry keeps the request (its words sealed, as they may hold a number) and, in
//! the same transaction, publishes `registry.resident.correction_requested` naming the
//! fields only; the desk sees it in the alerts inbox and makes the change itself.

use chrono::{DateTime, Utc};
use linli_platform::auth::{Access, caller, own_or_scoped_centre};
use linli_platform::bus::enqueue;
use linli_platform::crypto::{Sealed, Vault};
use linli_platform::error::{Reason, Violations};
use linli_platform::wire::parse_id;
use linli_proto::events::v1::ResidentCorrectionRequested;
use linli_proto::registry::v1 as pb;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::error::Error;
use crate::events::timestamp;
use crate::store;

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
    }))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    fields: Vec<String>,
    details_key_id: String,
    details_sealed: Vec<u8>,
    requested_at: DateTime<Utc>,
    status: String,
}

/// A resident's correction requests, newest first, opened: for their copy.
pub async fn of_resident(
    pool: &PgPool,
    vault: &Vault,
    resident: Uuid,
) -> Result<Vec<pb::CorrectionRequest>, Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, fields, details_key_id, details_sealed, requested_at, status
         FROM correction_requests WHERE resident_id = $1 ORDER BY requested_at DESC",
    )
    .bind(resident)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let details = vault.open(&Sealed {
                key_id: row.details_key_id,
                bytes: row.details_sealed,
            })?;
            Ok(pb::CorrectionRequest {
                id: row.id.to_string(),
                resident_id: resident.to_string(),
                fields: row.fields,
                details,
                requested_at: Some(timestamp(row.requested_at)),
                status: row.status,
            })
        })
        .collect()
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
}
