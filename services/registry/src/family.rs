//! Family (issue 23): an adult resident lets a named family member act for them, say an
//! elderly parent their grown child. It is a consent of its own purpose,
//! [`PURPOSE`], with the member in `delegate_id`, recorded and published
//! (`registry.resident.consent_changed`, with `delegate_id`) in one transaction like any
//! other consent, and withdrawn the same way. Sign-in ([`crate::signin`]) puts everyone
//! whose grant holds into the member's token's `acts_for`.
//!
//! Only the resident themselves gives or withdraws it, on the residents' site: not a
//! guardian or a member acting for them (a member cannot pass the leave on), not staff,
//! not a resident under 18. The member is named by their registered mobile number and
//! their name at the same centre, so nobody can browse residents: a pair that matches
//! nobody (a stranger's number, a wrong name, a child, someone who left) gets one and the
//! same answer. Nothing here logs the number or the name.

use chrono::NaiveDate;
use linli_platform::auth::Caller;
use linli_platform::crypto::Vault;
use linli_platform::error::{Reason, Violations, refusal};
use linli_platform::wire::parse_id;
use linli_proto::registry::v1 as pb;
use sqlx::PgPool;
use tonic::{Code, Status};
use uuid::Uuid;

use crate::domain::{DateOfBirth, Phone};
use crate::error::Error;
use crate::store;

/// The consent's purpose.
pub const PURPOSE: &str = "family_delegate";
/// Age from which a resident may let someone act for them, and be the one who acts.
pub const ADULT: u32 = 18;

fn no_match() -> Status {
    Error::from(Violations::one(
        "delegate",
        Reason::new(
            "family.no_match",
            "no resident of this centre has this mobile number and name",
        ),
    ))
    .into()
}

/// Records a grant or a withdrawal of [`PURPOSE`] for `resident_id`, already scoped to
/// `centre_id` by the caller's token.
pub async fn record(
    pool: &PgPool,
    vault: &Vault,
    caller: &Caller,
    centre_id: Uuid,
    resident_id: Uuid,
    req: &pb::RecordConsentRequest,
    today: NaiveDate,
) -> Result<(), Status> {
    if caller.resident_id() != Some(resident_id) {
        return Err(refusal(
            Code::FailedPrecondition,
            "only the resident themselves lets a family member act for them",
            "family.own_only",
            &[],
        ));
    }
    let resident = store::find_resident(pool, centre_id, resident_id)
        .await
        .map_err(Error::from)?
        .ok_or(Error::NotFound("resident"))?;
    let delegate = if req.granted {
        if DateOfBirth::from_stored(resident.date_of_birth).age_on(today) < ADULT {
            return Err(refusal(
                Code::FailedPrecondition,
                "a resident under 18 cannot let someone act for them",
                "family.minor",
                &[("age", ADULT.to_string())],
            ));
        }
        let mut violations = Violations::default();
        let phone = Phone::parse(&req.delegate_phone)
            .map_err(|reason| violations.push("delegate_phone", reason))
            .ok();
        let name = req.delegate_name.trim();
        if name.is_empty() {
            violations.push("delegate_name", Reason::required());
        }
        violations.into_result(|| ()).map_err(Error::from)?;
        let Some(phone) = phone else {
            return Err(no_match());
        };
        let found: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM residents
              WHERE centre_id = $1 AND phone_index = $2 AND name = $3 AND id <> $4
                AND erased_at IS NULL AND status = 'active'
                AND date_of_birth <= (current_date - make_interval(years => $5))::date
              ORDER BY registered_at, id LIMIT 1",
        )
        .bind(centre_id)
        .bind(vault.blind_index("phone", phone.expose()))
        .bind(name)
        .bind(resident_id)
        .bind(ADULT as i32)
        .fetch_optional(pool)
        .await
        .map_err(Error::from)?;
        found.ok_or_else(no_match)?
    } else {
        let named = parse_id("delegate_id", &req.delegate_id).map_err(Error::from)?;
        if !holds(pool, resident_id, named).await? {
            return Err(Error::NotFound("delegate").into());
        }
        named
    };
    // A grant that holds already, or a withdrawal of one that does not, changes nothing.
    if holds(pool, resident_id, delegate).await? == req.granted {
        return Ok(());
    }
    store::record_consent(
        pool,
        &store::NewConsent {
            resident_id,
            centre_id,
            purpose: PURPOSE,
            granted: req.granted,
            source: "online",
            guardian_id: None,
            recorded_by: &caller.subject,
            delegate_id: Some(delegate),
        },
    )
    .await
    .map_err(Error::from)?;
    tracing::info!(%resident_id, granted = req.granted, "family delegate recorded");
    Ok(())
}

/// Whether `resident`'s latest record for `delegate` is a grant.
async fn holds(pool: &PgPool, resident: Uuid, delegate: Uuid) -> Result<bool, Status> {
    let latest: Option<bool> = sqlx::query_scalar(
        "SELECT granted FROM consents
          WHERE resident_id = $1 AND purpose = 'family_delegate' AND delegate_id = $2
          ORDER BY id DESC LIMIT 1",
    )
    .bind(resident)
    .bind(delegate)
    .fetch_optional(pool)
    .await
    .map_err(Error::from)?;
    Ok(latest == Some(true))
}
