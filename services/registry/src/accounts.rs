//! The console's staff accounts over gRPC: creating, listing, disabling and enabling them
//! for the people who manage them, and, for the console alone, checking passwords and
//! keeping sessions. A session that ends early (sign-out, a disabled account) is recorded
//! as revoked and published as `registry.session.ended` in the same transaction, so every
//! service refuses the tokens issued for it (see `linli_platform::revocation`).

use chrono::{DateTime, Utc};
use linli_platform::auth::{AuthError, Caller, Role, caller};
use linli_platform::bus::enqueue;
use linli_platform::error::Violations;
use linli_platform::revocation::{self, Revocations};
use linli_platform::wire::parse_id;
use linli_proto::registry::v1 as pb;
use sqlx::{PgConnection, PgPool};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::staff::{
    self, CONSOLE_SUBJECT, MAX_SESSION_TTL, NewAccount, SESSION_TTL, manages_accounts,
};
use crate::error::Error;
use crate::events::{self, timestamp};
use crate::store::{self, StaffAccountRow};
use linli_platform::error::Reason;

fn account(row: StaffAccountRow, now: DateTime<Utc>) -> pb::StaffAccount {
    pb::StaffAccount {
        id: row.id.to_string(),
        username: row.username,
        display_name: row.display_name,
        roles: row.roles,
        centre_ids: row.centres.iter().map(Uuid::to_string).collect(),
        active: row.active,
        locked_until: row.locked_until.filter(|until| *until > now).map(timestamp),
        failed_attempts: row.failed_attempts as u32,
    }
}

/// Only the console's own identity checks passwords and sessions.
fn console_only(caller: &Caller) -> Result<(), Status> {
    if caller.subject == CONSOLE_SUBJECT && caller.is_district_wide() {
        Ok(())
    } else {
        Err(AuthError::RoleDenied.into())
    }
}

pub async fn create(
    pool: &PgPool,
    request: Request<pb::CreateStaffAccountRequest>,
) -> Result<Response<pb::StaffAccount>, Status> {
    let caller = caller(&request)?.clone();
    if !manages_accounts(&caller) {
        return Err(AuthError::RoleDenied.into());
    }
    let req = request.into_inner();
    let new = NewAccount::parse(
        &req.username,
        &req.display_name,
        &req.password,
        &req.roles,
        &req.centre_ids,
    )
    .map_err(Error::from)?;
    if !new.may_be_created_by(&caller) {
        return Err(AuthError::CentreDenied.into());
    }
    // An account works at centres that exist (centres are never removed).
    if !store::centres_exist(pool, &new.centres)
        .await
        .map_err(Error::from)?
    {
        return Err(linli_platform::directory::Error::UnknownCentre("centre_ids").into());
    }
    let password = new.password.clone();
    let hash = tokio::task::spawn_blocking(move || staff::hash_password(&password))
        .await
        .map_err(|_| Status::internal("hashing failed"))?;
    let row = store::create_staff_account(pool, &new, &hash, &caller.subject)
        .await
        .map_err(Error::from)?
        .ok_or_else(|| {
            Error::from(Violations::one(
                "username",
                Reason::new("username.taken", "is taken"),
            ))
        })?;
    tracing::info!(username = %row.username, "staff account created");
    Ok(Response::new(account(row, Utc::now())))
}

pub async fn list(
    pool: &PgPool,
    request: Request<pb::ListStaffAccountsRequest>,
) -> Result<Response<pb::ListStaffAccountsResponse>, Status> {
    let caller = caller(&request)?.clone();
    if !manages_accounts(&caller) {
        return Err(AuthError::RoleDenied.into());
    }
    let wanted = match request.get_ref().centre_id.as_str() {
        "" => None,
        text => {
            let centre = Uuid::parse_str(text)
                .map_err(|_| Error::from(Violations::one("centre_id", Reason::uuid())))?;
            if !caller.covers_centre(centre) {
                return Err(AuthError::CentreDenied.into());
            }
            Some(vec![centre])
        }
    };
    let scope = match (wanted, caller.is_district_wide()) {
        (Some(centres), _) => Some(centres),
        (None, true) => None,
        (None, false) => Some(caller.centres.iter().copied().collect()),
    };
    let rows = store::list_staff_accounts(pool, scope.as_deref())
        .await
        .map_err(Error::from)?;
    let now = Utc::now();
    Ok(Response::new(pb::ListStaffAccountsResponse {
        accounts: rows.into_iter().map(|row| account(row, now)).collect(),
    }))
}

pub async fn verify_password(
    pool: &PgPool,
    request: Request<pb::VerifyStaffPasswordRequest>,
) -> Result<Response<pb::StaffSession>, Status> {
    console_only(caller(&request)?)?;
    let req = request.into_inner();
    let ttl = match req.ttl_seconds {
        0 => SESSION_TTL,
        seconds => chrono::Duration::seconds(seconds.into()).min(MAX_SESSION_TTL),
    };
    let username = req.username.trim().to_lowercase();
    let wrong = || Status::unauthenticated("wrong username or password");
    let mut tx = pool.begin().await.map_err(Error::from)?;
    let Some(row) = store::staff_account_for_update(&mut tx, &username)
        .await
        .map_err(Error::from)?
    else {
        // As slow as a real check, so a guess cannot tell which usernames exist.
        let password = req.password;
        let _ = tokio::task::spawn_blocking(move || {
            staff::verify_password(&password, staff::decoy_hash())
        })
        .await;
        return Err(wrong());
    };
    let now = Utc::now();
    if staff::is_locked(row.locked_until, now) {
        // As slow as a real check: the gateway answers a locked account as it answers a
        // wrong password, and the time taken must not tell them apart either.
        let (password, hash) = (req.password, row.password_hash.clone());
        let _ = tokio::task::spawn_blocking(move || staff::verify_password(&password, &hash)).await;
        let until = row.locked_until.unwrap_or(now);
        let mut status = Status::failed_precondition(format!(
            "the account is locked until {}",
            until.to_rfc3339()
        ));
        status.metadata_mut().insert(
            "locked-until",
            until.timestamp().to_string().parse().expect("digits"),
        );
        return Err(status);
    }
    let (password, hash) = (req.password, row.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || staff::verify_password(&password, &hash))
        .await
        .map_err(|_| Status::internal("password check failed"))?;
    if !matches || !row.active {
        let (failed, locked_until) = staff::after_failure(row.failed_attempts, now);
        store::record_sign_in_attempt(&mut tx, row.id, failed, locked_until)
            .await
            .map_err(Error::from)?;
        tx.commit().await.map_err(Error::from)?;
        if locked_until.is_some() {
            tracing::warn!(username = %row.username, "staff account locked after repeated failures");
        }
        return Err(wrong());
    }
    store::record_sign_in_attempt(&mut tx, row.id, 0, None)
        .await
        .map_err(Error::from)?;
    let expires_at = now + ttl;
    let session = store::start_staff_session(&mut tx, row.id, expires_at)
        .await
        .map_err(Error::from)?;
    tx.commit().await.map_err(Error::from)?;
    Ok(Response::new(pb::StaffSession {
        id: session.to_string(),
        account: Some(account(row, now)),
        expires_at: Some(timestamp(expires_at)),
        active: true,
    }))
}

fn session_id(text: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(text)
        .map_err(|_| Error::from(Violations::one("session_id", Reason::uuid())).into())
}

pub async fn get_session(
    pool: &PgPool,
    request: Request<pb::GetStaffSessionRequest>,
) -> Result<Response<pb::StaffSession>, Status> {
    console_only(caller(&request)?)?;
    let id = session_id(&request.get_ref().session_id)?;
    let (expires_at, ended, row) = store::find_staff_session(pool, id)
        .await
        .map_err(Error::from)?
        .ok_or(Error::NotFound("session"))?;
    let now = Utc::now();
    Ok(Response::new(pb::StaffSession {
        id: id.to_string(),
        active: !ended && row.active && expires_at > now,
        account: Some(account(row, now)),
        expires_at: Some(timestamp(expires_at)),
    }))
}

/// Records, in `tx`, that `session` ended before `expires_at`, and publishes it.
async fn session_ended(
    tx: &mut PgConnection,
    session: Uuid,
    expires_at: DateTime<Utc>,
    reason: &str,
) -> Result<(), sqlx::Error> {
    revocation::record(tx, session, expires_at).await?;
    enqueue(
        tx,
        None,
        &events::session_ended(session, expires_at, Utc::now(), reason),
    )
    .await?;
    Ok(())
}

pub async fn end_session(
    pool: &PgPool,
    revocations: &Revocations,
    request: Request<pb::EndStaffSessionRequest>,
) -> Result<Response<pb::StaffSession>, Status> {
    console_only(caller(&request)?)?;
    let id = session_id(&request.get_ref().session_id)?;
    let mut tx = pool.begin().await.map_err(Error::from)?;
    let ended = store::end_staff_session(&mut tx, id)
        .await
        .map_err(Error::from)?;
    if let Some(expires_at) = ended {
        session_ended(&mut tx, id, expires_at, "signed_out")
            .await
            .map_err(Error::from)?;
    }
    tx.commit().await.map_err(Error::from)?;
    if let Some(expires_at) = ended {
        revocations.revoke(id, expires_at);
    }
    Ok(Response::new(pb::StaffSession {
        id: id.to_string(),
        active: false,
        account: None,
        expires_at: None,
    }))
}

/// Disables an account, ending its sessions for every service at once, or enables it
/// again; allowed to whoever may create such an account, never on one's own.
pub async fn set_active(
    pool: &PgPool,
    revocations: &Revocations,
    request: Request<pb::SetStaffAccountActiveRequest>,
) -> Result<Response<pb::StaffAccount>, Status> {
    let caller = caller(&request)?.clone();
    if !manages_accounts(&caller) {
        return Err(AuthError::RoleDenied.into());
    }
    let req = request.into_inner();
    let id = parse_id("account_id", &req.account_id).map_err(Error::from)?;
    let mut tx = pool.begin().await.map_err(Error::from)?;
    let row = store::staff_account_by_id_for_update(&mut tx, id)
        .await
        .map_err(Error::from)?
        .ok_or(Error::NotFound("account"))?;
    let roles: Vec<Role> = row.roles.iter().filter_map(|r| Role::parse(r)).collect();
    if !staff::may_manage(&caller, &roles, &row.centres) {
        return Err(AuthError::CentreDenied.into());
    }
    if !req.active && row.username == caller.subject {
        return Err(Error::from(Violations::one(
            "account_id",
            Reason::new(
                "account.own",
                "is your own account; another manager disables it",
            ),
        ))
        .into());
    }
    let row = store::set_staff_account_active(&mut tx, id, req.active)
        .await
        .map_err(Error::from)?;
    let ended = if req.active {
        Vec::new()
    } else {
        store::end_staff_sessions_of(&mut tx, id)
            .await
            .map_err(Error::from)?
    };
    for (session, expires_at) in &ended {
        session_ended(&mut tx, *session, *expires_at, "account_disabled")
            .await
            .map_err(Error::from)?;
    }
    tx.commit().await.map_err(Error::from)?;
    for (session, expires_at) in &ended {
        revocations.revoke(*session, *expires_at);
    }
    tracing::info!(
        username = %row.username,
        active = row.active,
        sessions_ended = ended.len(),
        by = %caller.subject,
        "staff account {}",
        if row.active { "enabled" } else { "disabled" }
    );
    Ok(Response::new(account(row, Utc::now())))
}
