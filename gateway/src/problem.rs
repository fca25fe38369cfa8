//! Errors as RFC 9457 problem details (`application/problem+json`), with the field errors
//! of a bad request, and the one mapping from gRPC status codes to HTTP statuses. Every
//! problem carries a stable `code` (the service's, or one the gateway gives by status) with
//! its `params`, and each field error its own; `detail` and each field's `message` are said
//! in the language the request's `Accept-Language` asks for (zh-CN by default) through the
//! [`catalogue`](crate::catalogue). In English the service's own words stay the `detail`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use linli_platform::error::violations_of;
use serde::Serialize;
use tonic::Code;
use utoipa::ToSchema;

use crate::catalogue::{self, Lang};

tokio::task_local! {
    /// The language the request being answered asked for.
    static LANG: Lang;
}

/// Middleware: answers the request's problems in the language its `Accept-Language`
/// asks for.
pub async fn negotiate_language(request: Request, next: Next) -> Response {
    let lang = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::from_accept_language)
        .unwrap_or_default();
    LANG.scope(lang, next.run(request)).await
}

/// The language of the request being answered (Chinese outside one).
pub fn request_lang() -> Lang {
    LANG.try_with(|lang| *lang).unwrap_or_default()
}

/// A problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: &'static str,
    pub status: u16,
    /// What went wrong, for a person, in the language asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// `code` and `params` (boxed: every handler's error carries a Problem, and most are
    /// never made).
    #[serde(flatten)]
    pub refusal: Box<Refusal>,
    /// For a bad request: each field that is wrong, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The trace this request belongs to, for support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// A problem's stable machine code and its parameters.
#[derive(Debug, Serialize, ToSchema)]
pub struct Refusal {
    /// A stable machine code (e.g. `ineligible.min_age`, `not_found`), for clients to act
    /// on and to say in their reader's language.
    #[schema(value_type = String)]
    pub code: Cow<'static, str>,
    /// The code's parameters, by name (e.g. `min_age`: 60; `resident_id`: the resident it
    /// names).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

/// One field that is wrong.
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    /// Why, in English (the service's words).
    pub reason: String,
    /// A stable machine code (e.g. `required`, `too_long`, `national_id.check_character`).
    pub code: String,
    /// The code's parameters (e.g. `max`: 500).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    /// Why, in the language asked for.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl FieldError {
    /// A field error with no code of its own (`invalid`).
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError::coded(field, linli_platform::error::UNCODED, reason)
    }

    pub fn coded(field: impl Into<String>, code: &str, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
            code: code.to_owned(),
            params: BTreeMap::new(),
            message: String::new(),
        }
    }
}

impl From<linli_platform::error::FieldViolation> for FieldError {
    fn from(v: linli_platform::error::FieldViolation) -> Self {
        FieldError {
            field: v.field,
            reason: v.reason,
            code: v.code,
            params: v.params,
            message: String::new(),
        }
    }
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: Some(detail.into()),
            refusal: Box::new(Refusal {
                code: Cow::Borrowed(catalogue::code_of_status(status.as_u16())),
                params: BTreeMap::new(),
            }),
            errors: Vec::new(),
            trace_id: linli_platform::telemetry::trace_id(&tracing::Span::current()),
        }
    }

    /// The same problem with a code of its own.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.refusal.code = Cow::Borrowed(code);
        self
    }

    /// A 400 naming one bad field.
    pub fn invalid_field(field: &str, reason: &str) -> Self {
        Problem::invalid(vec![FieldError::new(field, reason)])
    }

    pub fn invalid(errors: Vec<FieldError>) -> Self {
        Problem {
            kind: "urn:linli:problem:invalid-request",
            errors,
            ..Problem::new(StatusCode::BAD_REQUEST, "the request has invalid fields")
                .with_code(linli_platform::error::INVALID_REQUEST)
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

    /// Says `detail` and each field's `message` in `lang`: in Chinese through the catalogue
    /// by code (or by status, for a code it does not know); in English the service's (or
    /// the gateway's) own words stay, being the most precise. Field messages come from the
    /// catalogue in both.
    pub fn localise(&mut self, lang: Lang) {
        let said = catalogue::message(lang, &self.refusal.code, &self.refusal.params);
        match lang {
            Lang::Zh => {
                self.detail =
                    Some(said.unwrap_or_else(|| catalogue::status_message(Lang::Zh, self.status)));
            }
            Lang::En => {
                if self.detail.is_none() {
                    self.detail = Some(
                        said.unwrap_or_else(|| catalogue::status_message(Lang::En, self.status)),
                    );
                }
            }
        }
        for error in &mut self.errors {
            error.message = catalogue::field_message(
                lang,
                &linli_platform::error::FieldViolation {
                    field: error.field.clone(),
                    reason: error.reason.clone(),
                    code: error.code.clone(),
                    params: error.params.clone(),
                },
            );
        }
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
        // 422), or a resident who may not book: the field is named whatever the status.
        let errors = violations_of(&status)
            .into_iter()
            .map(FieldError::from)
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
        let mut problem = Problem {
            errors,
            ..Problem::new(http, detail)
        };
        // Only a refusal's code: an internal failure's or an outage's is the status's.
        if !matches!(
            http,
            StatusCode::INTERNAL_SERVER_ERROR | StatusCode::SERVICE_UNAVAILABLE
        ) && let Some((code, params)) = linli_platform::error::refusal_of(&status)
        {
            *problem.refusal = Refusal {
                code: Cow::Owned(code),
                params,
            };
        }
        problem
    }
}

/// How long a caller waits before trying again when a service is unavailable (a busy pool,
/// a database restarting): long enough for a pool to free, short enough for a person.
pub const RETRY_UNAVAILABLE_AFTER: &str = "2";

impl IntoResponse for Problem {
    fn into_response(mut self) -> Response {
        let lang = request_lang();
        self.localise(lang);
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response.headers_mut().insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.html()),
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
