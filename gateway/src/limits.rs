//! The gateway's limits, each answered with a problem document rather than a hang or a
//! 500: a rate and a number of requests in flight per credential (the token's subject),
//! both 429 with `Retry-After`; a deadline per request (504); and every error response the
//! framework itself writes (a body over the limit, 413; a malformed JSON body, 400; a
//! wrong method, 405) rewritten as `application/problem+json`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use linli_platform::auth::TokenKeys;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::problem::Problem;

/// Per-credential limits and the request deadline.
#[derive(clap::Args, Clone, Debug)]
pub struct Limits {
    /// Requests per second one credential may make, on average.
    #[arg(long, env = "LINLI_RATE_LIMIT", default_value_t = 50.0)]
    pub rate_per_second: f64,
    /// Requests one credential may make at once above the average (the bucket's size).
    #[arg(long, env = "LINLI_RATE_BURST", default_value_t = 100)]
    pub rate_burst: u32,
    /// Requests of one credential in flight at once.
    #[arg(long, env = "LINLI_CONCURRENCY_LIMIT", default_value_t = 32)]
    pub concurrency: u32,
    /// Longest a request may take, in seconds (spreadsheet imports and projection
    /// rebuilds get five minutes more).
    #[arg(long, env = "LINLI_REQUEST_TIMEOUT", default_value_t = 30)]
    pub request_timeout_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            rate_per_second: 50.0,
            rate_burst: 100,
            concurrency: 32,
            request_timeout_secs: 30,
        }
    }
}

/// Long-running routes whose deadline is the configured one plus five minutes.
const LONG_ROUTES: [&str; 2] = ["/residents/imports", "/rebuild"];
const LONG_EXTRA: Duration = Duration::from_secs(300);
/// Past this many credentials tracked, idle ones are forgotten.
const TRACKED: usize = 10_000;

/// The state of every credential's bucket and permits.
#[derive(Clone)]
pub struct Limiter {
    limits: Limits,
    keys: TokenKeys,
    credentials: Arc<Mutex<HashMap<String, Credential>>>,
}

struct Credential {
    tokens: f64,
    updated: Instant,
    in_flight: Arc<Semaphore>,
}

impl Limiter {
    pub fn new(limits: Limits, keys: TokenKeys) -> Self {
        Limiter {
            limits,
            keys,
            credentials: Arc::default(),
        }
    }

    /// Takes a token and a permit for `subject`, or says how long to wait.
    fn admit(&self, subject: &str) -> Result<OwnedSemaphorePermit, Duration> {
        let now = Instant::now();
        let rate = self.limits.rate_per_second.max(0.001);
        let burst = f64::from(self.limits.rate_burst.max(1));
        let mut credentials = self
            .credentials
            .lock()
            .expect("limiter lock is never poisoned: no panics under it");
        if credentials.len() > TRACKED {
            credentials.retain(|_, c| {
                c.tokens + now.duration_since(c.updated).as_secs_f64() * rate < burst
                    || c.in_flight.available_permits() < self.limits.concurrency as usize
            });
        }
        let credential = credentials
            .entry(subject.to_owned())
            .or_insert_with(|| Credential {
                tokens: burst,
                updated: now,
                in_flight: Arc::new(Semaphore::new(self.limits.concurrency.max(1) as usize)),
            });
        let elapsed = now.duration_since(credential.updated).as_secs_f64();
        credential.tokens = (credential.tokens + elapsed * rate).min(burst);
        credential.updated = now;
        if credential.tokens < 1.0 {
            return Err(Duration::from_secs_f64((1.0 - credential.tokens) / rate));
        }
        let permit = credential
            .in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| Duration::from_secs(1))?;
        credential.tokens -= 1.0;
        Ok(permit)
    }
}

/// Rate and concurrency per credential, and the deadline. Requests without a valid token
/// pass on to be refused (401) by the route itself.
pub async fn enforce(State(limiter): State<Limiter>, request: Request, next: Next) -> Response {
    let long = request
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|path| LONG_ROUTES.iter().any(|end| path.as_str().ends_with(end)));
    let mut deadline = Duration::from_secs(limiter.limits.request_timeout_secs.max(1));
    if long {
        deadline += LONG_EXTRA;
    }
    let subject = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|header| limiter.keys.verify_bearer(Some(header)).ok())
        .map(|caller| caller.subject);
    let _permit = match subject {
        Some(subject) => match limiter.admit(&subject) {
            Ok(permit) => Some(permit),
            Err(wait) => return too_many(wait),
        },
        None => None,
    };
    match tokio::time::timeout(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => Problem::new(
            StatusCode::GATEWAY_TIMEOUT,
            format!(
                "the request took longer than its {} s deadline",
                deadline.as_secs()
            ),
        )
        .into_response(),
    }
}

fn too_many(wait: Duration) -> Response {
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    let mut response = Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("too many requests for this credential; try again in {seconds} s"),
    )
    .into_response();
    response.headers_mut().insert(
        RETRY_AFTER,
        HeaderValue::from_str(&seconds.to_string()).expect("digits are a valid header"),
    );
    response
}

/// Rewrites an error response the framework wrote (plain text) as a problem document, so
/// every error the gateway answers is `application/problem+json`. A body the JSON
/// extractor could not read as the request's type (422 from axum) is a bad request (400):
/// the gateway keeps 422 for a rule a service refused.
pub async fn problems_only(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // Problem documents, and the console's own HTML error pages, stay as they are.
    let answered = response.headers().get(CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/problem+json")
            || v.as_bytes().starts_with(b"text/html")
    });
    if !(status.is_client_error() || status.is_server_error()) || answered {
        return response;
    }
    let retry_after = response.headers().get(RETRY_AFTER).cloned();
    let body = axum::body::to_bytes(response.into_body(), 16 * 1024)
        .await
        .unwrap_or_default();
    let detail = String::from_utf8_lossy(&body).trim().to_owned();
    let detail = if detail.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        detail
    };
    let mut rewritten = if status == StatusCode::UNPROCESSABLE_ENTITY {
        Problem::invalid_field("body", &detail).into_response()
    } else {
        Problem::new(status, detail).into_response()
    };
    if let Some(value) = retry_after {
        rewritten.headers_mut().insert(RETRY_AFTER, value);
    }
    rewritten
}

#[cfg(test)]
mod tests {
    use super::*;
    use linli_platform::auth::AuthArgs;

    fn limiter(rate: f64, burst: u32, concurrency: u32) -> Limiter {
        Limiter::new(
            Limits {
                rate_per_second: rate,
                rate_burst: burst,
                concurrency,
                request_timeout_secs: 30,
            },
            TokenKeys::new(&AuthArgs {
                jwt_secret: "s".into(),
                jwt_audience: "linli".into(),
                jwt_issuer: "linli".into(),
            }),
        )
    }

    #[test]
    fn a_burst_past_the_bucket_waits_and_other_credentials_do_not() {
        let limiter = limiter(1.0, 3, 100);
        let permits: Vec<_> = (0..3)
            .map(|_| limiter.admit("a").expect("within the burst"))
            .collect();
        let wait = limiter.admit("a").expect_err("past the burst");
        assert!(wait <= Duration::from_secs(1));
        assert!(limiter.admit("b").is_ok());
        drop(permits);
    }

    #[test]
    fn requests_in_flight_are_capped_per_credential() {
        let limiter = limiter(1000.0, 1000, 2);
        let first = limiter.admit("a").expect("one");
        let _second = limiter.admit("a").expect("two");
        assert!(limiter.admit("a").is_err());
        drop(first);
        assert!(limiter.admit("a").is_ok());
    }
}
