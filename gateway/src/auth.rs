//! Bearer authentication at the gateway. The gateway refuses a bad token early, but the
//! token itself travels on to the services, which check it again.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use linli_platform::auth::{AuthError, Caller};
use uuid::Uuid;

use crate::AppState;
use crate::problem::Problem;

/// A request whose bearer token verified.
pub struct Authenticated {
    pub caller: Caller,
    token: String,
}

impl Authenticated {
    /// A caller whose token was verified elsewhere (the console's session cookie).
    pub fn new(caller: Caller, token: String) -> Self {
        Authenticated { caller, token }
    }

    /// A gRPC request carrying the caller's token and the current trace context, with the
    /// usual deadline.
    pub fn grpc<T>(&self, message: T) -> tonic::Request<T> {
        self.grpc_within(message, std::time::Duration::from_secs(10))
    }

    /// The same, with a deadline of its own (long-running calls such as imports).
    pub fn grpc_within<T>(&self, message: T, deadline: std::time::Duration) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.set_timeout(deadline);
        let bearer = format!("Bearer {}", self.token)
            .parse()
            .expect("a token that verified is plain ASCII");
        request.metadata_mut().insert("authorization", bearer);
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
        match state.keys.verify_bearer(header) {
            Ok(caller) => {
                let token = header
                    .and_then(|h| h.split_once(' '))
                    .map(|(_, token)| token.trim().to_owned())
                    .unwrap_or_default();
                Ok(Authenticated { caller, token })
            }
            Err(AuthError::Missing) => Err(Problem::unauthorized("a bearer token is required")),
            Err(_) => Err(Problem::unauthorized("the bearer token is not valid")),
        }
    }
}
