//! The gateway: Linli's HTTP/JSON front door for staff and the console. It authenticates,
//! scopes requests to the caller's centres, translates JSON to gRPC and back, and
//! describes itself in OpenAPI 3.1 at `/openapi.json`. Business rules live in the
//! services.

pub mod auth;
pub mod bookings;
pub mod catalogue;
pub mod console;
pub mod evaluation;
pub mod export;
pub mod finance;
pub mod json;
pub mod limits;
pub mod merge_patch;
pub mod participation;
pub mod partners;
pub mod payments;
pub mod problem;
pub mod registry;
pub mod residents_site;
pub mod volunteers;
pub mod webhooks;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use linli_platform::CancellationToken;
use linli_platform::auth::TokenKeys;
use linli_platform::grpc::Link;
use linli_platform::metrics::{HTTP_DURATION, HTTP_REQUESTS};
use linli_platform::telemetry::{self, HeaderExtractor};
use linli_proto::bookings::v1::bookings_client::BookingsClient;
use linli_proto::evaluation::v1::evaluation_client::EvaluationClient;
use linli_proto::finance::v1::finance_client::FinanceClient;
use linli_proto::registry::v1::registry_client::RegistryClient;
use linli_proto::volunteers::v1::volunteers_client::VolunteersClient;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tracing::Instrument as _;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use crate::problem::Problem;

pub use crate::limits::Limits;

/// Where the gateway finds the services, and its limits.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// How the gateway reaches each service: over the network, or in this process.
    pub registry: Link,
    pub bookings: Link,
    pub volunteers: Link,
    pub finance: Link,
    pub evaluation: Link,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Per-credential rate and concurrency, and the request deadline.
    pub limits: Limits,
    /// Where residents' sign-in codes are sent (an SMS provider, or the front desk).
    pub sms: residents_site::SmsArgs,
}

#[derive(Clone)]
pub struct AppState {
    pub keys: TokenKeys,
    pub registry: RegistryClient<Link>,
    pub bookings: BookingsClient<Link>,
    pub volunteers: VolunteersClient<Link>,
    pub evaluation: EvaluationClient<Link>,
    pub finance: FinanceClient<Link>,
    /// The residents' site's code sender and the codes waiting at the desks.
    pub site: residents_site::Site,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Linli", description = "The community service centres of a district: residents, services, volunteers, money and evaluation."),
    paths(registry::update_centre, registry::patch_centre, registry::import_residents,
        registry::erase_resident, registry::export_resident, registry::update_resident,
        registry::patch_resident, openapi_document, docs_page),
    components(schemas(problem::Problem, problem::FieldError)),
    modifiers(&BearerScheme),
    tags((name = "registry", description = "Centres and residents"), (name = "api", description = "This document and its page"))
)]
pub struct ApiDoc;

/// The whole document: the registry's and evaluation's routes, and each service's own,
/// with the errors every route can answer filled in (see [`CommonErrors`]).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(registry::Forwarded::openapi());
    doc.merge(bookings::Forwarded::openapi());
    doc.merge(evaluation::EvaluationDoc::openapi());
    doc.merge(evaluation::Forwarded::openapi());
    doc.merge(participation::Forwarded::openapi());
    doc.merge(finance::FinanceDoc::openapi());
    doc.merge(finance::Forwarded::openapi());
    doc.merge(payments::Forwarded::openapi());
    doc.merge(volunteers::VolunteersDoc::openapi());
    doc.merge(volunteers::Forwarded::openapi());
    doc.merge(partners::Forwarded::openapi());
    doc.merge(webhooks::WebhooksDoc::openapi());
    doc.merge(webhooks::Forwarded::openapi());
    utoipa::Modify::modify(&CommonErrors, &mut doc);
    doc
}

/// This OpenAPI 3.1 document.
#[utoipa::path(get, path = "/openapi.json", tag = "api",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn openapi_document() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(openapi())
}

/// A page that renders this document, served from the binary (no CDN, no fetch but
/// `/openapi.json`).
#[utoipa::path(get, path = "/docs", tag = "api",
    responses((status = 200, description = "The API reference page", content_type = "text/html")))]
pub async fn docs_page() -> axum::response::Html<&'static str> {
    axum::response::Html(include_str!("docs.html"))
}

/// Every `/v1` route is for bearer tokens, and every route can answer the gateway's own
/// errors: the document says so once here rather than in each route's attribute, so a new
/// route is complete by construction.
struct CommonErrors;

impl utoipa::Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::security::SecurityRequirement;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder, Type};

        let problem = |description: &str| {
            ResponseBuilder::new().description(description).content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let secured = path.starts_with("/v1/");
            path_parameters(path, item);
            if let Some(create) = item.post.as_mut().filter(|_| secured) {
                idempotency_key(create);
            }
            let operations = [
                item.get.as_mut(),
                item.put.as_mut(),
                item.post.as_mut(),
                item.delete.as_mut(),
                item.patch.as_mut(),
            ];
            for operation in operations.into_iter().flatten() {
                let mut errors = vec![
                    (
                        "429",
                        "Too many requests for this credential (per second or at once); see Retry-After",
                    ),
                    ("500", "An internal error; the trace id says where"),
                    (
                        "503",
                        "A service is unavailable or busy; try again after Retry-After",
                    ),
                    ("504", "The request took longer than its deadline"),
                ];
                if secured {
                    operation.security.get_or_insert_with(|| {
                        vec![SecurityRequirement::new("bearer", Vec::<String>::new())]
                    });
                    errors.extend([
                        ("400", "A field is missing or invalid; `errors` names each"),
                        ("401", "No bearer token, or one that is not valid"),
                        ("403", "The caller's role or centres do not cover this"),
                        ("404", "Nothing with this id, or no such centre"),
                        ("409", "It conflicts with what is recorded"),
                        ("422", "A rule of the service refused it"),
                    ]);
                }
                if operation.request_body.is_some() {
                    errors.push(("413", "The body is larger than the gateway accepts"));
                    errors.push(("415", "The body is not of the documented media type"));
                }
                for (status, description) in errors {
                    let mut response = problem(description);
                    if status == "429" || status == "503" {
                        response = response.header(
                            "Retry-After",
                            HeaderBuilder::new()
                                .schema(
                                    utoipa::openapi::ObjectBuilder::new()
                                        .schema_type(Type::Integer),
                                )
                                .description(Some("Seconds to wait before trying again"))
                                .build(),
                        );
                    }
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| response.build().into());
                }
            }
        }
    }
}

/// Declares each `{placeholder}` of the path as a required text path parameter, in the
/// template's order and before the rest, where the route's attribute does not declare it
/// with more to say (a type, a description): the path is the one place that names them.
fn path_parameters(path: &str, item: &mut utoipa::openapi::PathItem) {
    use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};

    let names: Vec<&str> = path
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect();
    let operations = [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ];
    for operation in operations.into_iter().flatten() {
        let mut rest = operation.parameters.take().unwrap_or_default();
        let mut parameters: Vec<Parameter> = names
            .iter()
            .map(|name| {
                let declared = rest
                    .iter()
                    .position(|p| p.name == *name && matches!(p.parameter_in, ParameterIn::Path));
                declared.map(|at| rest.remove(at)).unwrap_or_else(|| {
                    ParameterBuilder::new()
                        .name(*name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build()
                })
            })
            .collect();
        parameters.append(&mut rest);
        operation.parameters = Some(parameters).filter(|p| !p.is_empty());
    }
}

/// Declares the `Idempotency-Key` header on a create (an operation named like the services'
/// create-like calls, `create_…`, `record_…`, `register_…`, `post_…`, `log_…`, `submit_…`,
/// `add_…`): the gateway forwards it and the service answers a retry as the first time.
fn idempotency_key(operation: &mut utoipa::openapi::path::Operation) {
    use linli_platform::idempotency::{CREATE_PREFIXES, HEADER, MAX_KEY_LEN};
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};

    let creates = operation.operation_id.as_deref().is_some_and(|id| {
        CREATE_PREFIXES
            .iter()
            .any(|prefix| id.starts_with(&format!("{}_", prefix.to_ascii_lowercase())))
    });
    if !creates {
        return;
    }
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    if parameters.iter().any(|p| p.name == HEADER) {
        return;
    }
    parameters.push(
        ParameterBuilder::new()
            .name(HEADER)
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes a retry safe: the same key with the same body answers what the first request answered and applies nothing again; with another body, 422. Keys are the caller's own.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(MAX_KEY_LEN)),
            ))
            .build(),
    );
}

struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.bearer_format = Some("JWT".into());
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

/// Largest spreadsheet import, in bytes; the registry accepts the same.
pub(crate) const IMPORT_LIMIT: usize = 64 * 1024 * 1024;

/// The gateway's routes and layers.
pub fn router(config: &GatewayConfig, keys: TokenKeys) -> anyhow::Result<Router> {
    let state = AppState {
        keys,
        registry: RegistryClient::new(config.registry.clone())
            .max_encoding_message_size(IMPORT_LIMIT),
        bookings: BookingsClient::new(config.bookings.clone()),
        volunteers: VolunteersClient::new(config.volunteers.clone()),
        evaluation: EvaluationClient::new(config.evaluation.clone()),
        finance: FinanceClient::new(config.finance.clone()),
        site: residents_site::Site::new(&config.sms),
    };
    let request_id = HeaderName::from_static("x-request-id");
    let limiter = limits::Limiter::new(config.limits.clone(), state.keys.clone());
    Ok(Router::new()
        .merge(registry::routes())
        .merge(bookings::routes())
        .merge(evaluation::routes())
        .merge(participation::forwarded())
        .merge(finance::routes())
        .merge(payments::routes())
        .merge(volunteers::routes())
        .merge(partners::routes())
        .merge(webhooks::routes())
        .route_layer(middleware::from_fn_with_state(limiter, limits::enforce))
        // The console signs in with its own session cookie, not a bearer token.
        .merge(console::routes())
        // The residents' site signs in with a one-time code and a cookie of its own.
        .merge(residents_site::routes())
        .route("/openapi.json", get(openapi_document))
        .route("/asyncapi.json", get(webhooks::asyncapi_document))
        .route("/docs", get(docs_page))
        .fallback(|| async {
            Problem::new(StatusCode::NOT_FOUND, "no such route").with_code("route_not_found")
        })
        .with_state(state)
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(middleware::from_fn(limits::problems_only))
        // Outside every layer that answers with a problem, so each is said in the language
        // the request asks for.
        .layer(middleware::from_fn(problem::negotiate_language))
        .layer(middleware::from_fn(observe))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid)))
}

/// Serves the gateway on `listener` until `shutdown`, letting in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    config: GatewayConfig,
    keys: TokenKeys,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let app = router(&config, keys)?;
    tracing::info!(address = %listener.local_addr()?, "gateway listening");
    // The peer's address is the residents' sign-in's per-client limit.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.cancelled_owned())
    .await?;
    Ok(())
}

/// A server span per request that continues the caller's trace, and request metrics by
/// route template (never by raw path, which would carry ids).
async fn observe(request: Request, next: Next) -> Response {
    // Borrowed and shared, not copied: this runs on every request.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let method = request.method().clone();
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "http",
        otel.name = format!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
        request_id = %request_id,
        trace_id = tracing::field::Empty,
    );
    telemetry::adopt_parent(&span, &HeaderExtractor(request.headers()));
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    HTTP_REQUESTS
        .with_label_values(&[method.as_str(), route, status.as_str()])
        .inc();
    linli_platform::metrics::observe_traced(
        &HTTP_DURATION,
        &[method.as_str(), route],
        started.elapsed().as_secs_f64(),
        &span,
    );
    response.into_response()
}
