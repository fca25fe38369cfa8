//! The gateway's limits, each answered with a problem document rather than a hang or a
//! 500: a rate and a number of requests in flight per credential (the token's subject),
//! both 429 with `Retry-After`; a deadline per request (504); and every error response the
//! framework itself writes (a body over the limit, 413; a malformed JSON body, 400; a
//! wrong method, 405) rewritten as `application/problem+json`.
//!
//! The rate is `governor`'s (through [`linli_platform::rate`]): a staff token has the
//! default (`LINLI_RATE_LIMIT` a second, `LINLI_RATE_BURST` at once); a token that carries
//! a rate of its own (`linli token --rate-per-minute N [--burst M]`: a kiosk's, an
//! integration's) has that one. Partners' rates are their agreements' (the partner
//! listener), and residents' sign-in has limits of its own (`residents_site::throttle`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use linli_platform::auth::{RateClaim, TokenKeys};
use linli_platform::rate::{Limiters, Rate, retry_after_secs};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::auth::Verified;
use crate::problem::Problem;

/// Per-credential limits and the request deadline.
#[derive(clap::Args, Clone, Debug)]
pub struct Limits {
    /// Requests per second one credential may make, on average (fractions allowed); also a
    /// partner's whose agreements set no rate.
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
/// Past this many credentials with permits tracked, idle ones are forgotten.
const TRACKED: usize = 10_000;

/// Every credential's rate (governor's keyed limiters, swept every minute) and permits.
#[derive(Clone)]
pub struct Limiter {
    limits: Limits,
    keys: TokenKeys,
    default_rate: Rate,
    rates: Limiters<String>,
    in_flight: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

impl Limiter {
    pub fn new(limits: Limits, keys: TokenKeys) -> Self {
        Limiter {
            default_rate: Rate::per_second(limits.rate_per_second, limits.rate_burst),
            limits,
            keys,
            rates: Limiters::default(),
            in_flight: Arc::default(),
        }
    }

    /// Takes a request of `subject`'s rate (its token's own, or the default) and a permit,
    /// or says how long to wait.
    fn admit(
        &self,
        subject: &str,
        own: Option<RateClaim>,
    ) -> Result<OwnedSemaphorePermit, Duration> {
        let rate = own.map_or(self.default_rate, |own| {
            Rate::per_minute(own.per_minute, own.burst)
        });
        self.rates.check(&subject.to_owned(), rate)?;
        let concurrency = self.limits.concurrency.max(1) as usize;
        let mut in_flight = self
            .in_flight
            .lock()
            .expect("limiter lock is never poisoned: no panics under it");
        if in_flight.len() > TRACKED {
            in_flight.retain(|_, permits| permits.available_permits() < concurrency);
        }
        in_flight
            .entry(subject.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(concurrency)))
            .clone()
            .try_acquire_owned()
            .map_err(|_| Duration::from_secs(1))
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
    let verified = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|header| limiter.keys.verify_bearer_with_rate(Some(header)).ok());
    let mut request = request;
    let _permit = match verified {
        Some((caller, rate)) => match limiter.admit(&caller.subject, rate) {
            Ok(permit) => {
                // The route's `Authenticated` takes it from here instead of verifying the
                // same header a second time.
                request.extensions_mut().insert(Verified(caller));
                Some(permit)
            }
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
    let seconds = retry_after_secs(wait);
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
            .map(|_| limiter.admit("a", None).expect("within the burst"))
            .collect();
        let wait = limiter.admit("a", None).expect_err("past the burst");
        assert!(wait <= Duration::from_secs(1));
        assert!(limiter.admit("b", None).is_ok());
        drop(permits);
    }

    #[test]
    fn a_token_with_its_own_rate_is_held_to_it() {
        let limiter = limiter(1.0, 3, 100);
        let kiosk = RateClaim {
            per_minute: 1,
            burst: 10,
        };
        for _ in 0..10 {
            drop(
                limiter
                    .admit("kiosk", Some(kiosk))
                    .expect("within its own burst"),
            );
        }
        assert!(limiter.admit("kiosk", Some(kiosk)).is_err());
    }

    #[test]
    fn requests_in_flight_are_capped_per_credential() {
        let limiter = limiter(1000.0, 1000, 2);
        let first = limiter.admit("a", None).expect("one");
        let _second = limiter.admit("a", None).expect("two");
        assert!(limiter.admit("a", None).is_err());
        drop(first);
        assert!(limiter.admit("a", None).is_ok());
    }
}
