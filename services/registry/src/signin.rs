//! Residents' sign-in with a mobile number and a one-time code. The registry is its home
//! because it owns residents and their phone numbers, and finds a number only by its blind
//! index: the code can be checked against the resident it signs in, in one transaction,
//! without any other service (or the gateway) ever holding a number or a code at rest.
//!
//! Every request for a code makes a row, whether or not a resident has the number, so a
//! number nobody has answers exactly as one somebody has (the same limits, the same
//! expiry, the same refusals); only the gateway learns whether there is someone to send
//! the code to. Codes live five minutes, serve once, allow five wrong tries, and are kept
//! as a keyed hash of the row's id and the code. Numbers and clients are kept as blind
//! indexes. Nothing here logs a number or a code.

use chrono::{DateTime, Duration, Utc};
use linli_platform::auth::{AuthError, CONSOLE_SUBJECT, Caller, caller};
use linli_platform::bus::enqueue;
use linli_platform::crypto::Vault;
use linli_platform::error::{Reason, Violations, refusal};
use linli_platform::revocation::{self, Revocations};
use linli_platform::wire::parse_id;
use linli_proto::registry::v1 as pb;
use rand::Rng as _;
use sqlx::PgPool;
use tonic::{Code, Request, Response, Status};
use uuid::Uuid;

use crate::domain::Phone;
use crate::error::Error;
use crate::events::{self, timestamp};

/// How long a code may be used.
pub const CODE_TTL: Duration = Duration::minutes(5);
/// Codes one number may be sent within [`WINDOW`].
pub const PER_NUMBER: i64 = 5;
/// Codes one client (address) may ask for within [`WINDOW`], whatever the numbers.
pub const PER_CLIENT: i64 = 20;
/// The window of the limits.
pub const WINDOW: Duration = Duration::hours(1);
/// Wrong tries after which a code is dead.
pub const MAX_TRIES: i32 = 5;
/// Longest a resident's sign-in lasts (the gateway's token for it).
pub const SESSION_TTL: Duration = Duration::hours(24);
/// Age under which a resident is signed in for by a guardian.
const GUARDED_UNDER: i32 = 14;

/// A six-digit code, from the operating system's randomness.
pub fn new_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// What the database keeps of a code: a keyed hash bound to its row, so the same code in
/// two rows hashes differently and the table alone gives nothing to try.
pub fn code_hash(vault: &Vault, id: Uuid, code: &str) -> Vec<u8> {
    vault.blind_index("sign_in_code", &format!("{id}:{code}"))
}

/// Compares two hashes in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Only the gateway (the console's own identity) asks for and checks codes.
fn gateway_only(caller: &Caller) -> Result<(), Status> {
    if caller.subject == CONSOLE_SUBJECT && caller.is_district_wide() {
        Ok(())
    } else {
        Err(AuthError::RoleDenied.into())
    }
}

fn phone(text: &str) -> Result<Phone, Status> {
    Phone::parse(text).map_err(|reason| Status::from(Error::from(Violations::one("phone", reason))))
}

fn refused(code: &'static str, english: &str) -> Status {
    refusal(Code::FailedPrecondition, english, code, &[])
}

pub async fn issue(
    pool: &PgPool,
    vault: &Vault,
    request: Request<pb::IssueSignInCodeRequest>,
) -> Result<Response<pb::SignInCode>, Status> {
    gateway_only(caller(&request)?)?;
    let req = request.into_inner();
    let phone = phone(&req.phone)?;
    let phone_index = vault.blind_index("phone", phone.expose());
    let client_index = vault.blind_index("sign_in_client", &req.client);
    let now = Utc::now();
    let (id, code) = (Uuid::new_v4(), new_code());
    let expires_at = now + CODE_TTL;
    let mut tx = pool.begin().await.map_err(Error::from)?;
    // One request per number at a time, so two at once cannot both pass the limit.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended(encode($1, 'hex'), 23))")
        .bind(&phone_index)
        .execute(&mut *tx)
        .await
        .map_err(Error::from)?;
    sqlx::query("DELETE FROM sign_in_codes WHERE created_at < $1")
        .bind(now - Duration::days(1))
        .execute(&mut *tx)
        .await
        .map_err(Error::from)?;
    let (by_number, by_client, number_since, client_since): (
        i64,
        i64,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
    ) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE phone_index = $1),
                count(*) FILTER (WHERE client_index = $2),
                min(created_at) FILTER (WHERE phone_index = $1),
                min(created_at) FILTER (WHERE client_index = $2)
           FROM sign_in_codes
          WHERE created_at > $3 AND (phone_index = $1 OR client_index = $2)",
    )
    .bind(&phone_index)
    .bind(&client_index)
    .bind(now - WINDOW)
    .fetch_one(&mut *tx)
    .await
    .map_err(Error::from)?;
    if by_number >= PER_NUMBER || by_client >= PER_CLIENT {
        // When the oldest code that counts leaves the window: the gateway's Retry-After.
        let since = [
            (by_number >= PER_NUMBER).then_some(number_since).flatten(),
            (by_client >= PER_CLIENT).then_some(client_since).flatten(),
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(now);
        let retry_after = (since + WINDOW - now)
            .num_seconds()
            .clamp(1, WINDOW.num_seconds());
        return Err(refusal(
            Code::ResourceExhausted,
            "too many codes were asked for; try again later",
            "sign_in.too_many_codes",
            &[("retry_after", retry_after.to_string())],
        ));
    }
    sqlx::query(
        "INSERT INTO sign_in_codes (id, phone_index, client_index, code_hash, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(&phone_index)
    .bind(&client_index)
    .bind(code_hash(vault, id, &code))
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await
    .map_err(Error::from)?;
    let known = signs_in(&mut tx, &phone_index).await?;
    tx.commit().await.map_err(Error::from)?;
    Ok(Response::new(match known {
        Some(resident) => pb::SignInCode {
            code,
            expires_at: Some(timestamp(expires_at)),
            centre_id: resident.centre_id,
        },
        None => pb::SignInCode {
            code: String::new(),
            expires_at: Some(timestamp(expires_at)),
            centre_id: String::new(),
        },
    }))
}

/// Ends a resident's session at once everywhere: recorded as revoked and published as
/// `registry.session.ended` in one transaction, as a console sign-out is.
pub async fn end_session(
    pool: &PgPool,
    revocations: &Revocations,
    request: Request<pb::EndResidentSessionRequest>,
) -> Result<Response<pb::ResidentSessionEnded>, Status> {
    gateway_only(caller(&request)?)?;
    let req = request.into_inner();
    let session = parse_id("session_id", &req.session_id).map_err(Error::from)?;
    let now = Utc::now();
    // A token lives at most a day: a later expiry asked for is not kept longer.
    let expires_at = req
        .expires_at
        .and_then(|t| DateTime::from_timestamp(t.seconds, 0))
        .unwrap_or(now + SESSION_TTL)
        .clamp(now, now + SESSION_TTL);
    let mut tx = pool.begin().await.map_err(Error::from)?;
    revocation::record(&mut tx, session, expires_at)
        .await
        .map_err(Error::from)?;
    enqueue(
        &mut tx,
        None,
        &events::session_ended(session, expires_at, now, "signed_out"),
    )
    .await
    .map_err(Error::from)?;
    tx.commit().await.map_err(Error::from)?;
    revocations.revoke(session, expires_at);
    Ok(Response::new(pb::ResidentSessionEnded {}))
}

/// A number's latest code as kept.
#[derive(sqlx::FromRow)]
struct CodeRow {
    id: Uuid,
    code_hash: Vec<u8>,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    wrong_tries: i32,
}

pub async fn verify(
    pool: &PgPool,
    vault: &Vault,
    request: Request<pb::VerifySignInCodeRequest>,
) -> Result<Response<pb::ResidentSignIn>, Status> {
    gateway_only(caller(&request)?)?;
    let req = request.into_inner();
    let phone = phone(&req.phone)?;
    let typed = req.code.trim();
    if typed.len() != 6 || !typed.chars().all(|c| c.is_ascii_digit()) {
        return Err(Error::from(Violations::one(
            "code",
            Reason::new("sign_in.code_format", "must be 6 digits"),
        ))
        .into());
    }
    let phone_index = vault.blind_index("phone", phone.expose());
    let now = Utc::now();
    let mut tx = pool.begin().await.map_err(Error::from)?;
    let latest: Option<CodeRow> = sqlx::query_as(
        "SELECT id, code_hash, expires_at, used_at, wrong_tries FROM sign_in_codes
              WHERE phone_index = $1 ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
    )
    .bind(&phone_index)
    .fetch_optional(&mut *tx)
    .await
    .map_err(Error::from)?;
    let Some(CodeRow {
        id,
        code_hash: hash,
        expires_at,
        used_at,
        wrong_tries: tries,
    }) = latest
    else {
        return Err(refused("sign_in.code_wrong", "the code is not right"));
    };
    if used_at.is_some() || expires_at <= now {
        return Err(refused(
            "sign_in.code_expired",
            "the code has expired or was used; ask for a new one",
        ));
    }
    if tries >= MAX_TRIES {
        return Err(refused(
            "sign_in.too_many_tries",
            "too many wrong tries; ask for a new code",
        ));
    }
    if !same(&hash, &code_hash(vault, id, typed)) {
        sqlx::query("UPDATE sign_in_codes SET wrong_tries = wrong_tries + 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(Error::from)?;
        tx.commit().await.map_err(Error::from)?;
        return Err(refused("sign_in.code_wrong", "the code is not right"));
    }
    sqlx::query("UPDATE sign_in_codes SET used_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(Error::from)?;
    let signed_in = signs_in(&mut tx, &phone_index).await?;
    tx.commit().await.map_err(Error::from)?;
    // A right code for a number nobody has cannot happen (none was sent), but if the
    // resident left meanwhile the answer is the same as for a wrong code.
    let Some(signed_in) = signed_in else {
        return Err(refused("sign_in.code_wrong", "the code is not right"));
    };
    tracing::info!(resident_id = %signed_in.resident_id, "resident signed in");
    Ok(Response::new(signed_in))
}

/// The resident a number signs in, if any: the earliest registered active resident of 14
/// or over with the number (a number shared by a household signs in whoever registered
/// it first; the others act through the desk), their centre, the children under 14 at
/// the same centre they are guardian of (by a guardian's consent, or by sharing the
/// number), and then the adults of the same centre who let them act for them (a
/// "family_delegate" consent naming them whose latest record is a grant, see
/// [`crate::family`]). The list is read here, at sign-in: a withdrawal takes the adult
/// out of the member's next token, and the residents' site asks again on each page
/// meanwhile (see the gateway's `residents_site::family`).
async fn signs_in(
    conn: &mut sqlx::PgConnection,
    phone_index: &[u8],
) -> Result<Option<pb::ResidentSignIn>, Status> {
    let found: Option<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT id, centre_id FROM residents
          WHERE phone_index = $1 AND erased_at IS NULL AND status = 'active'
            AND date_of_birth <= (current_date - make_interval(years => $2))::date
          ORDER BY registered_at, id LIMIT 1",
    )
    .bind(phone_index)
    .bind(GUARDED_UNDER)
    .fetch_optional(&mut *conn)
    .await
    .map_err(Error::from)?;
    let Some((resident, centre)) = found else {
        return Ok(None);
    };
    let children: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT r.id FROM residents r
          WHERE r.centre_id = $2 AND r.id <> $1 AND r.erased_at IS NULL AND r.status = 'active'
            AND r.date_of_birth > (current_date - make_interval(years => $4))::date
            AND (r.phone_index = $3
                 OR EXISTS (SELECT 1 FROM consents c
                             WHERE c.resident_id = r.id AND c.guardian_id = $1))
          ORDER BY r.date_of_birth, r.id",
    )
    .bind(resident)
    .bind(centre)
    .bind(phone_index)
    .bind(GUARDED_UNDER)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::from)?;
    let family = family_of(&mut *conn, resident, centre).await?;
    Ok(Some(pb::ResidentSignIn {
        resident_id: resident.to_string(),
        centre_id: centre.to_string(),
        acts_for: children
            .into_iter()
            .map(|(id,)| id)
            .chain(family)
            .map(|id| id.to_string())
            .collect(),
    }))
}

/// The adults of `centre` whose leave for `member` to act for them holds now, by name.
pub async fn family_of(
    conn: &mut sqlx::PgConnection,
    member: Uuid,
    centre: Uuid,
) -> Result<Vec<Uuid>, Status> {
    let adults: Vec<(Uuid,)> = sqlx::query_as(
        "SELECT r.id FROM residents r
          WHERE r.centre_id = $2 AND r.id <> $1 AND r.erased_at IS NULL AND r.status = 'active'
            AND r.date_of_birth <= (current_date - make_interval(years => $3))::date
            AND (SELECT c.granted FROM consents c
                  WHERE c.resident_id = r.id AND c.purpose = 'family_delegate'
                    AND c.delegate_id = $1
                  ORDER BY c.id DESC LIMIT 1) IS TRUE
          ORDER BY r.registered_at, r.id",
    )
    .bind(member)
    .bind(centre)
    .bind(crate::family::ADULT as i32)
    .fetch_all(&mut *conn)
    .await
    .map_err(Error::from)?;
    Ok(adults.into_iter().map(|(id,)| id).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use linli_platform::crypto::{LOCAL_DATA_KEY, LOCAL_INDEX_KEY, PersonalDataArgs};

    fn vault() -> Vault {
        Vault::new(&PersonalDataArgs {
            data_key: LOCAL_DATA_KEY.into(),
            data_key_id: "k1".into(),
            blind_index_key: LOCAL_INDEX_KEY.into(),
        })
        .expect("local keys are valid")
    }

    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: std::collections::BTreeSet<String> = (0..50).map(|_| new_code()).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 6 && c.chars().all(|d| d.is_ascii_digit()))
        );
        assert!(
            codes.len() > 40,
            "50 codes drawn, only {} differ",
            codes.len()
        );
    }

    #[test]
    fn a_code_hash_is_bound_to_its_row_and_holds_no_digits() {
        let (one, two) = (Uuid::new_v4(), Uuid::new_v4());
        let hash = code_hash(&vault(), one, "123456");
        assert!(same(&hash, &code_hash(&vault(), one, "123456")));
        assert!(!same(&hash, &code_hash(&vault(), two, "123456")));
        assert!(!same(&hash, &code_hash(&vault(), one, "123457")));
        assert!(!hash.windows(6).any(|w| w == b"123456"));
    }
}
