//! Errors as RFC 9457 problem details (`application/problem+json`), with the field errors
//! of a bad request, and the one mapping from gRPC status codes to HTTP statuses.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use linli_platform::error::violations_of;
use serde::Serialize;
use tonic::Code;
use utoipa::ToSchema;

/// A problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For a bad request: each field that is wrong, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// `code` and `params`, where the service gives them (boxed: most problems have none,
    /// and every handler's error carries a Problem).
    #[serde(flatten)]
    pub refusal: Option<Box<Refusal>>,
    /// The trace this request belongs to, for support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// A refusal's stable machine code and its parameters.
#[derive(Debug, Serialize, ToSchema)]
pub struct Refusal {
    /// A stable machine code (e.g. `resident_probably_registered`), for pages to say it in
    /// the reader's language.
    pub code: String,
    /// Its parameters, by name (e.g. `resident_id`: the resident it names).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub params: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: Some(detail.into()),
            errors: Vec::new(),
            refusal: None,
            trace_id: linli_platform::telemetry::trace_id(&tracing::Span::current()),
        }
    }

    /// A 400 naming one bad field.
    pub fn invalid_field(field: &str, reason: &str) -> Self {
        Problem::invalid(vec![FieldError {
            field: field.into(),
            reason: reason.into(),
        }])
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Problem {
            kind: "urn:linli:problem:invalid-request",
            errors,
            ..Problem::new(StatusCode::BAD_REQUEST, "the request has invalid fields")
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn forbidden() -> Self {
        Problem::new(
            StatusCode::FORBIDDEN,
            "the caller may not act for this centre",
        )
    }
}

impl From<tonic::Status> for Problem {
    fn from(status: tonic::Status) -> Self {
        let http = match status.code() {
            Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
            Code::FailedPrecondition => StatusCode::UNPROCESSABLE_ENTITY,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            // A deadline the gateway set that ran out shows here as Cancelled.
            Code::DeadlineExceeded | Code::Cancelled => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        // A bad request names its fields; so does a refusal of a write that names a centre,
        // resident, staff member or partner the service's directory does not know (404,
        // 422): the field is named whatever the status.
        let errors = violations_of(&status)
            .into_iter()
            .map(|v| FieldError {
                field: v.field,
                reason: v.reason,
            })
            .collect::<Vec<_>>();
        if http == StatusCode::BAD_REQUEST && !errors.is_empty() {
            return Problem::invalid(errors);
        }
        let detail = match http {
            StatusCode::INTERNAL_SERVER_ERROR => {
                tracing::error!(code = ?status.code(), message = status.message(), "service failed");
                "internal error".to_owned()
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                "the service is unavailable; try again shortly".to_owned()
            }
            _ => status.message().to_owned(),
        };
        let refusal = linli_platform::error::refusal_of(&status)
            .map(|(code, params)| Box::new(Refusal { code, params }));
        Problem {
            errors,
            refusal,
            ..Problem::new(http, detail)
        }
    }
}

/// How long a caller waits before trying again when a service is unavailable (a busy pool,
/// a database restarting): long enough for a pool to free, short enough for a person.
pub const RETRY_UNAVAILABLE_AFTER: &str = "2";

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_UNAVAILABLE_AFTER),
            );
        }
        response
    }
}
