//! What every JSON route shares: the body extractor whose rejections are problem
//! documents, the [`Grpc`] extractor (the caller and the services' clients), the
//! [`call!`](crate::call) forwarder, the [`reply!`](crate::reply) reply types with their
//! conversion from the services' messages (for the replies that are not the messages
//! themselves, see `proto/build.rs`), and times on the wire by the one rule,
//! `linli_proto::json::rfc3339` (RFC 3339, UTC). A route is then its OpenAPI attribute,
//! the gRPC request it builds, and the reply type it answers.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use chrono::SecondsFormat;
use linli_proto::json::rfc3339;
use prost_types::Timestamp;

use crate::AppState;
use crate::auth::Authenticated;
use crate::problem::Problem;

/// A route's answer: 200 with a JSON body, or a problem document.
pub type Reply<T> = Result<Json<T>, Problem>;
/// A JSON body whose rejections are problem documents.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => {
                let detail = match &rejection {
                    JsonRejection::JsonSyntaxError(_) => {
                        format!("malformed JSON: {}", rejection.body_text())
                    }
                    _ => rejection.body_text(),
                };
                Err(Problem::new(rejection.status(), detail))
            }
        }
    }
}

/// A route's JSON body: a member left out or null is the field's default, as the service
/// reads it, and so is every member of a body left out altogether (no content type, no
/// bytes); other rejections as [`ApiJson`]'s.
pub struct Message<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Message<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = (request.headers().get(CONTENT_TYPE))
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .is_some_and(|kind| {
                let kind = kind.trim();
                kind == "application/json"
                    || kind.starts_with("application/") && kind.ends_with("+json")
            });
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| Problem::new(rejection.status(), rejection.body_text()))?;
        let mut value = match (bytes.is_empty(), json) {
            (true, _) => serde_json::Value::Object(Default::default()),
            (false, false) => {
                let detail = "Expected request with `Content-Type: application/json`";
                return Err(Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, detail));
            }
            (false, true) => serde_json::from_slice(&bytes).map_err(|e| {
                let detail =
                    format!("malformed JSON: Failed to parse the request body as JSON: {e}");
                Problem::new(StatusCode::BAD_REQUEST, detail)
            })?,
        };
        if let Some(members) = value.as_object_mut() {
            members.retain(|_, member| !member.is_null());
        }
        serde_path_to_error::deserialize(value)
            .map(Message)
            .map_err(|e| unreadable(e, StatusCode::UNPROCESSABLE_ENTITY, "the JSON body"))
    }
}

/// A route's query string, read as [`Message`] reads a body: a value its field's rule
/// refuses is that field's error (400), anything else a query not understood (400).
pub struct Params<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let query = parts.uri.query().unwrap_or_default().as_bytes();
        let query = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query));
        serde_path_to_error::deserialize(query)
            .map(Params)
            .map_err(|e| unreadable(e, StatusCode::BAD_REQUEST, "the query string"))
    }
}

/// Why a body or query was not read: the field and its rule's words when a value's own
/// rule refused it (`linli_proto::json::MUST_BE`), else `status` with serde's words.
fn unreadable<E: std::fmt::Display>(
    error: serde_path_to_error::Error<E>,
    status: StatusCode,
    what: &str,
) -> Problem {
    let why = error.inner().to_string();
    if why.starts_with(linli_proto::json::MUST_BE) {
        return Problem::invalid_field(&error.path().to_string(), &why);
    }
    let detail = format!("Failed to deserialize {what} into the target type: {error}");
    Problem::new(status, detail)
}

/// An authenticated request's way to the services: the verified caller (whose token every
/// call carries) and the services' clients.
pub struct Grpc {
    pub state: AppState,
    pub auth: Authenticated,
}

impl FromRequestParts<AppState> for Grpc {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let auth = Authenticated::from_request_parts(parts, state).await?;
        Ok(Grpc {
            state: state.clone(),
            auth,
        })
    }
}

impl Grpc {
    /// The centre named in the path, as the services take it, if the caller's work covers
    /// it.
    pub fn centre(&self, text: &str) -> Result<String, Problem> {
        self.auth.centre(text).map(|centre| centre.to_string())
    }
}

/// Calls a service as the caller and answers its reply, or returns the service's refusal
/// as a problem: `call!(grpc.bookings.get_booking(request))`.
#[macro_export]
macro_rules! call {
    ($grpc:ident . $service:ident . $method:ident ($request:expr)) => {
        $grpc
            .state
            .$service
            .clone()
            .$method($grpc.auth.grpc($request))
            .await?
            .into_inner()
    };
}

/// A reply type and its conversion from the service's message (`From`, and [`FromPb`] so
/// lists and nested messages convert too). Each field is taken from the message's field
/// of the same name by [`FromPb`], or given by the expression after `=`, which sees the
/// message by the name after `as`.
#[macro_export]
macro_rules! reply {
    ($(#[$attr:meta])* pub struct $name:ident from $pb:ty as $p:ident {
        $($(#[$fattr:meta])* pub $field:ident: $ty:ty $(= $conv:expr)?),* $(,)?
    }) => {
        $(#[$attr])*
        #[derive(serde::Serialize, utoipa::ToSchema)]
        pub struct $name { $($(#[$fattr])* pub $field: $ty),* }

        impl From<$pb> for $name {
            #[allow(unused_variables)]
            fn from($p: $pb) -> Self {
                $name { $($field: $crate::reply!(@field $p, $field $(, $conv)?)),* }
            }
        }

        impl $crate::json::FromPb<$pb> for $name {
            fn from_pb(message: $pb) -> Self {
                message.into()
            }
        }
    };
    (@field $p:ident, $field:ident) => { $crate::json::FromPb::from_pb($p.$field) };
    (@field $p:ident, $field:ident, $conv:expr) => { $conv };
}

/// How a field of a service's message becomes a field of a reply: as it is, a list or an
/// optional message member by member, an empty text as absent, a time as RFC 3339 text.
pub trait FromPb<P> {
    fn from_pb(message: P) -> Self;
}

macro_rules! as_it_is {
    ($($t:ty),*) => {
        $(impl FromPb<$t> for $t {
            fn from_pb(message: $t) -> Self {
                message
            }
        })*
    };
}

as_it_is!(String, bool, i32, i64, u32, u64, f64);

impl<P, J: FromPb<P>> FromPb<Vec<P>> for Vec<J> {
    fn from_pb(message: Vec<P>) -> Self {
        message.into_iter().map(J::from_pb).collect()
    }
}

impl<P, J: FromPb<P>> FromPb<Option<P>> for Option<J> {
    fn from_pb(message: Option<P>) -> Self {
        message.map(J::from_pb)
    }
}

impl FromPb<String> for Option<String> {
    fn from_pb(message: String) -> Self {
        Some(message).filter(|t| !t.is_empty())
    }
}

/// A time to the second (the services' times for people: sessions, shifts, answers).
impl FromPb<Timestamp> for String {
    fn from_pb(message: Timestamp) -> Self {
        rfc3339(&message, SecondsFormat::Secs)
    }
}

/// Routes of the common shape: the caller's token checked, a gRPC request built from the
/// path, the query or the body, the call, its reply as the JSON reply type. Each item is
/// the route's documentation, method and path (its placeholders are declared by
/// `lib.rs`'s modifier, `params(..)` only for one with more to say), the handler's name and
/// what it binds (the [`Grpc`], the path's values in order, then `; query name: Type`
/// and/or `; body name: Type`), the status and reply type, any refusal worth its own
/// words as `(status, "description")`, and either a block that answers the service's
/// reply or `= service.method`: then the query or body is the service's request message
/// itself (see `proto/build.rs`), the path's values are its fields of the names bound (the
/// centre checked against the caller's), and the call is made as it is. With
/// `= service.method(Request)` a route with neither query nor body calls with the request
/// made of the path alone; with `(Request, field)` the body is that field of the request.
/// Everything the modifier in `lib.rs` adds (bearer security, the common problems) is
/// left out. One invocation per module (`tag = "name", "what it covers";` declares the
/// tag): it also defines `forwarded()`, the routes'
/// router, and `Forwarded`, their part of the OpenAPI document, so a route's method and
/// path are written once.
#[macro_export]
macro_rules! forward {
    (tag = $tag:literal $(, $about:literal)?; $(
        $(#[$doc:meta])*
        $method:ident $path:literal $(params($($param:tt)*))? => $name:ident($grpc:ident $(, $arg:ident)*
            $(; query $query:ident: $Query:ty)? $(; body $body:ident: $Body:ty)?)
            -> $status:literal $Out:ty $(, ($error:literal, $words:literal))*
            $(= $service:ident . $rpc:ident $(($Req:ty $(, $wrap:ident)?))?)? $($call:block)?
    )*) => {$(
        $(#[$doc])*
        #[utoipa::path($method, path = $path, tag = $tag, params($($($param)*,)? $($Query)?)
            $(, request_body = $Body)?, responses((status = $status, body = $Out)
            $(, (status = $error, body = $crate::problem::Problem,
                content_type = "application/problem+json", description = $words))*))]
        pub async fn $name(
            $grpc: $crate::json::Grpc,
            axum::extract::Path(($($arg,)*)): axum::extract::Path<($($crate::forward!(@text $arg),)*)>,
            $($crate::json::Params($query): $crate::json::Params<$Query>,)?
            $($crate::json::Message($body): $crate::json::Message<$Body>,)?
        ) -> Result<(axum::http::StatusCode, axum::Json<$Out>), $crate::problem::Problem> {
            let reply = $crate::forward!(@call $grpc [$($arg),*] [$($query)? $($body)?]
                [$($service . $rpc $(($Req $(, $wrap)?))?)?] $($call)?);
            let status = axum::http::StatusCode::from_u16($status).expect("a status code");
            Ok((status, axum::Json(<$Out>::from(reply))))
        }
    )*

        /// The routes above, each at its documented path and method.
        pub fn forwarded() -> axum::Router<$crate::AppState> {
            axum::Router::new()$(.route($path, axum::routing::$method($name)))*
        }

        /// The routes above, for the OpenAPI document.
        #[derive(utoipa::OpenApi)]
        #[openapi(paths($($name),*) $(, tags((name = $tag, description = $about)))?)]
        pub struct Forwarded;
    };
    (@text $arg:ident) => { String };
    (@call $g:ident [$($arg:ident),*] [$($input:ident)?] [] $call:block) => { $call };
    (@call $g:ident [$($arg:ident),*] [$input:ident] [$service:ident . $rpc:ident]) => {{
        #[allow(unused_mut)]
        let mut request = $input;
        $crate::forward!(@path $g request $($arg $arg)*);
        $crate::call!($g.$service.$rpc(request))
    }};
    (@call $g:ident [$($arg:ident),*] [] [$service:ident . $rpc:ident ($Req:ty)]) => {{
        #[allow(unused_mut)]
        let mut request = <$Req>::default();
        $crate::forward!(@path $g request $($arg $arg)*);
        $crate::call!($g.$service.$rpc(request))
    }};
    (@call $g:ident [$($arg:ident),*] [$input:ident] [$service:ident . $rpc:ident ($Req:ty, $wrap:ident)]) => {{
        let mut request = <$Req>::default();
        request.$wrap = Some($input);
        $crate::forward!(@path $g request $($arg $arg)*);
        $crate::call!($g.$service.$rpc(request))
    }};
    (@path $g:ident $r:ident) => {};
    (@path $g:ident $r:ident centre_id $c:ident $($rest:ident)*) => {
        $r.$c = $g.centre(&$c)?;
        $crate::forward!(@path $g $r $($rest)*);
    };
    (@path $g:ident $r:ident $other:ident $field:ident $($rest:ident)*) => {
        $r.$field = $crate::json::FromPath::from_path(stringify!($field), $field)?;
        $crate::forward!(@path $g $r $($rest)*);
    };
}

/// A path's value as the request's field of its name: text as it is, a number read.
pub trait FromPath: Sized {
    fn from_path(field: &str, text: String) -> Result<Self, Problem>;
}

impl FromPath for String {
    fn from_path(_: &str, text: String) -> Result<Self, Problem> {
        Ok(text)
    }
}

impl FromPath for i32 {
    fn from_path(field: &str, text: String) -> Result<Self, Problem> {
        text.parse()
            .map_err(|_| Problem::invalid_field(field, "must be a whole number"))
    }
}

/// A page of a list: its items and, on every page but the last, the token of the next.
#[macro_export]
macro_rules! page {
    (pub struct $name:ident from $pb:ty { pub $items:ident: Vec<$item:ty> }) => {
        $crate::reply! {
            pub struct $name from $pb as page {
                pub $items: Vec<$item>,
                /// Pass as `page_token` for the next page; absent on the last page.
                #[serde(skip_serializing_if = "Option::is_none")]
                pub next_page_token: Option<String>,
            }
        }
    };
}
