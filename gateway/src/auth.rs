//! Bearer authentication at the gateway. The gateway refuses a bad token early, but the
//! token itself travels on to the services, which check it again. A token issued for a
//! console session (the JWT half of the console's cookie) is good only while the registry
//! says the session is live: asked on every request, so signing out or a disabled account
//! closes the API at once, where the services learn of it from the session's event.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use linli_platform::auth::{AuthError, CONSOLE_SUBJECT, Caller, Role};
use linli_proto::registry::v1 as pb;
use uuid::Uuid;

use crate::AppState;
use crate::problem::Problem;

/// The caller whose bearer token the limits layer ([`crate::limits::enforce`]) verified
/// for this request, from the request's own `Authorization` header: the route's
/// [`Authenticated`] takes it rather than verifying the token again.
#[derive(Clone)]
pub(crate) struct Verified(pub(crate) Caller);

/// A request whose bearer token verified.
pub struct Authenticated {
    pub caller: Caller,
    token: String,
    /// A POST's `Idempotency-Key`, forwarded with its calls (the services honour it for
    /// creates and ignore it otherwise).
    idempotency_key: Option<String>,
}

impl Authenticated {
    /// A caller whose token was verified elsewhere (the console's session cookie).
    pub fn new(caller: Caller, token: String) -> Self {
        Authenticated {
            caller,
            token,
            idempotency_key: None,
        }
    }

    /// A gRPC request carrying the caller's token and the current trace context, with the
    /// usual deadline.
    pub fn grpc<T>(&self, message: T) -> tonic::Request<T> {
        self.grpc_within(message, std::time::Duration::from_secs(10))
    }

    /// A secret for `purpose` that only this token's holder and the gateway know (the
    /// console's token lives in an HttpOnly cookie): SHA-256 of the purpose and the token.
    /// The console seals what a page carries between two requests with it.
    pub fn secret_for(&self, purpose: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(format!("{purpose}:{}", self.token).as_bytes()).into()
    }

    /// The same, with a deadline of its own (long-running calls such as imports).
    pub fn grpc_within<T>(&self, message: T, deadline: std::time::Duration) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(deadline);
        let bearer = format!("Bearer {}", self.token)
            .parse()
            .expect("a token that verified is plain ASCII");
        request.metadata_mut().insert("authorization", bearer);
        if let Some(key) = &self.idempotency_key {
            linli_platform::idempotency::attach(request.metadata_mut(), key);
        }
        linli_platform::telemetry::inject_into_metadata(request.metadata_mut());
        request
    }

    /// The centre named in the path, if the caller's work covers it.
    pub fn centre(&self, text: &str) -> Result<Uuid, Problem> {
        let centre = Uuid::parse_str(text)
            .map_err(|_| Problem::invalid_field("centre_id", "must be a UUID"))?;
        if self.caller.covers_centre(centre) {
            Ok(centre)
        } else {
            Err(Problem::forbidden())
        }
    }
}

/// A request with the console's own identity, for the registry's password and session
/// calls.
pub(crate) fn system_request<T>(state: &AppState, message: T) -> tonic::Request<T> {
    let token = state.keys.issue(
        CONSOLE_SUBJECT,
        &[Role::DistrictAdmin],
        &[],
        chrono::Duration::minutes(1),
    );
    let caller = state
        .keys
        .verify(&token)
        .expect("a token just issued verifies");
    Authenticated::new(caller, token).grpc(message)
}

/// Whether the console `session` a token of `caller` was issued for is still live: not
/// ended, not expired, its account enabled, and the token's own subject.
pub(crate) async fn session_is_live(
    state: &AppState,
    caller: &Caller,
    session: Uuid,
) -> Result<Option<pb::StaffAccount>, tonic::Status> {
    let checked = state
        .registry
        .clone()
        .get_staff_session(system_request(
            state,
            pb::GetStaffSessionRequest {
                session_id: session.to_string(),
            },
        ))
        .await;
    match checked {
        Ok(found) => {
            let found = found.into_inner();
            Ok(found
                .account
                .filter(|account| found.active && account.username == caller.subject))
        }
        Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
        Err(status) => Err(status),
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let verified = match parts.extensions.remove::<Verified>() {
            Some(Verified(caller)) => Ok(caller),
            None => state.keys.verify_bearer(header),
        };
        match verified {
            // A resident's token is for the residents' site (`/r/`), never a staff route.
            Ok(caller) if caller.is_resident() => Err(Problem::forbidden()),
            Ok(caller) => {
                if let Some(session) = caller.session
                    && session_is_live(state, &caller, session).await?.is_none()
                {
                    return Err(ended());
                }
                let token = header
                    .and_then(|h| h.split_once(' '))
                    .map(|(_, token)| token.trim().to_owned())
                    .unwrap_or_default();
                let idempotency_key = idempotency_key(parts)?;
                Ok(Authenticated {
                    caller,
                    token,
                    idempotency_key,
                })
            }
            Err(AuthError::Missing) => Err(Problem::unauthorized("a bearer token is required")),
            Err(AuthError::SessionEnded) => Err(ended()),
            Err(_) => Err(Problem::unauthorized("the bearer token is not valid")),
        }
    }
}

/// A POST's `Idempotency-Key`, checked: every create honours it (see
/// `linli_platform::idempotency`).
fn idempotency_key(parts: &Parts) -> Result<Option<String>, Problem> {
    use linli_platform::idempotency::{HEADER, METADATA, parse_key};
    match parts.headers.get(METADATA) {
        Some(value) if parts.method == axum::http::Method::POST => {
            parse_key(value.as_bytes()).map(Some).map_err(|violations| {
                let reason = violations.0.first().map_or("", |v| v.reason.as_str());
                Problem::invalid_field(HEADER, reason)
            })
        }
        _ => Ok(None),
    }
}

fn ended() -> Problem {
    Problem::unauthorized("the session this token was issued for has ended; sign in again")
}
