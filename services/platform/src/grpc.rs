//! gRPC server assembly shared by every service: the health checking protocol (reporting
//! NOT_SERVING while the database is away; a broker outage is reported, not fatal),
//! server reflection, a span and metrics for every call (joining the caller's trace), and
//! graceful shutdown.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tracing::Instrument as _;

use crate::metrics::{RPC_DURATION, RPC_REQUESTS};
use crate::service::Probe;
use crate::telemetry::{self, HeaderExtractor};

/// Serves `routes` plus health and reflection on `listener` until `shutdown`, then stops
/// accepting and lets in-flight calls finish. `service_name` is the full gRPC service name
/// whose health is reported.
pub async fn serve(
    listener: TcpListener,
    service_name: &'static str,
    routes: Routes,
    probe: Probe,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (reporter, health) = tonic_health::server::health_reporter();
    let database = probe.database_up();
    let watcher = tokio::spawn(report_health(
        reporter,
        service_name,
        probe,
        shutdown.clone(),
    ));
    let routes = crate::reflection::add(
        routes.add_service(health),
        &[service_name, crate::reflection::HEALTH],
    )?;
    let result = Server::builder()
        .layer(tower::layer::layer_fn(|inner| Observe { inner }))
        .layer(tower::layer::layer_fn(move |inner| DatabaseGate {
            inner,
            database: database.clone(),
        }))
        .add_routes(routes)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown.cancelled_owned())
        .await;
    watcher.abort();
    result.map_err(Into::into)
}

async fn report_health(
    reporter: tonic_health::server::HealthReporter,
    service_name: &'static str,
    probe: Probe,
    shutdown: CancellationToken,
) {
    let mut last = None;
    loop {
        let health = probe.check().await;
        // Only the database decides: writes wait in the outbox while the broker is away.
        let status = if health.serving() {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        if last != Some(health) {
            match (health.database, health.broker) {
                (true, true) => tracing::info!(service = service_name, "serving"),
                (true, false) => tracing::warn!(
                    service = service_name,
                    "broker unreachable: serving, events wait in the outbox"
                ),
                (false, _) => {
                    tracing::warn!(service = service_name, "database unreachable: not serving")
                }
            }
            last = Some(health);
        }
        reporter.set_service_status(service_name, status).await;
        reporter.set_service_status("", status).await;
        tokio::select! {
            _ = shutdown.cancelled() => {
                reporter.set_service_status(service_name, ServingStatus::NotServing).await;
                reporter.set_service_status("", ServingStatus::NotServing).await;
                return;
            }
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

/// Answers a call `Unavailable` at once while the service's last probe found its database
/// unreachable, instead of letting it wait the pool's whole acquire timeout for a
/// connection that cannot be made; health and reflection still answer. The gateway turns
/// `Unavailable` into 503 with `Retry-After`.
#[derive(Clone)]
pub struct DatabaseGate<S> {
    pub(crate) inner: S,
    pub(crate) database: Arc<std::sync::atomic::AtomicBool>,
}

impl<S, B> tower::Service<http::Request<B>> for DatabaseGate<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        let always = path.starts_with("/grpc.health.") || path.starts_with("/grpc.reflection.");
        if !always && !self.database.load(std::sync::atomic::Ordering::Relaxed) {
            let status = tonic::Status::unavailable(
                "the service's database is unreachable; try again shortly",
            );
            return Box::pin(std::future::ready(Ok(status.into_http())));
        }
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move { inner.call(request).await })
    }
}

/// A tower service around every gRPC call: a server span that continues the caller's
/// trace, and request count and duration by method and status code.
#[derive(Clone)]
pub struct Observe<S> {
    pub(crate) inner: S,
}

impl<S, B, R> tower::Service<http::Request<B>> for Observe<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path().trim_start_matches('/').to_owned();
        let (service, method) = path.split_once('/').unwrap_or((path.as_str(), ""));
        let (service, method) = (service.to_owned(), method.to_owned());
        let span = tracing::info_span!(
            "rpc",
            otel.name = %path,
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = tracing::field::Empty,
            trace_id = tracing::field::Empty,
        );
        telemetry::adopt_parent(&span, &HeaderExtractor(request.headers()));
        // The clone is ready only if polled; take the ready one and leave the clone.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let started = Instant::now();
        Box::pin(
            async move {
                let result = inner.call(request).await;
                let code = match &result {
                    Ok(response) => response
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<i32>().ok())
                        .map(tonic::Code::from_i32)
                        .unwrap_or(tonic::Code::Ok),
                    Err(_) => tonic::Code::Unknown,
                };
                tracing::Span::current().record("rpc.grpc.status_code", code as i32);
                let code_label = format!("{code:?}");
                RPC_REQUESTS
                    .with_label_values(&[&service, &method, &code_label])
                    .inc();
                crate::metrics::observe_traced(
                    &RPC_DURATION,
                    &[&service, &method],
                    started.elapsed().as_secs_f64(),
                    &tracing::Span::current(),
                );
                result
            }
            .instrument(span),
        )
    }
}

/// How a gRPC client reaches a service: a channel over the network, or, where this process
/// runs the service too (`linli serve all`), the service's own routes called in the process
/// ([`InProcess`]).
pub type Link = tower::util::BoxCloneSyncService<
    http::Request<tonic::body::Body>,
    http::Response<tonic::body::Body>,
    LinkError,
>;

/// A call that never reached the service (the transport's error, as a type of its own: a
/// boxed error here would leave the clients' futures' lifetimes unprovable).
#[derive(Debug)]
pub struct LinkError(tower::BoxError);

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for LinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// A link to `endpoint` over the network, connecting on its first call.
pub fn remote(endpoint: &str) -> anyhow::Result<Link> {
    let channel = tonic::transport::Endpoint::from_shared(endpoint.to_owned())?
        .connect_timeout(Duration::from_secs(3))
        .connect_lazy();
    Ok(Link::new(ClientSpan {
        inner: tower::ServiceExt::map_err(channel, |error| LinkError(error.into())),
    }))
}

/// A client span around every outgoing call, child of the caller's current span (the
/// gateway's HTTP span), whose context travels in the call's headers: the service's server
/// span then hangs under the call that made it, as OpenTelemetry's RPC conventions expect.
#[derive(Clone)]
struct ClientSpan<S> {
    inner: S,
}

impl<S> tower::Service<http::Request<tonic::body::Body>> for ClientSpan<S>
where
    S: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = LinkError,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = LinkError;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<tonic::body::Body>) -> Self::Future {
        let path = request.uri().path().trim_start_matches('/').to_owned();
        let (service, method) = path.split_once('/').unwrap_or((path.as_str(), ""));
        let span = tracing::info_span!(
            "rpc client",
            otel.name = %path,
            otel.kind = "client",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
        );
        {
            use tracing_opentelemetry::OpenTelemetrySpanExt as _;
            telemetry::inject(
                &span.context(),
                &mut telemetry::HeaderCarrier(request.headers_mut()),
            );
        }
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move { inner.call(request).await }.instrument(span))
    }
}

/// The services this process runs, by gRPC service name, for the gateway in the same
/// process to call without the network: the same routes, interceptors, span and metrics
/// as a call over the network, without HTTP/2 framing and loopback sockets in between.
/// A service is offered while it serves. A call made before it is offered waits for it,
/// as a connection would wait in its bound listener's backlog while the service starts
/// (the caller's deadline bounds the wait); once it stops, a call is answered
/// `Unavailable`, as a refused connection would be. Calls in flight when it stops finish
/// before its pools close (every Linli call is unary: its handler has finished by the
/// time its answer returns).
#[derive(Clone, Default)]
pub struct InProcess {
    inner: Arc<Services>,
}

#[derive(Default)]
struct Services {
    offered: std::sync::RwLock<HashMap<&'static str, Option<Offered>>>,
    /// Woken whenever a service is offered or withdrawn.
    changed: tokio::sync::Notify,
}

#[derive(Clone)]
struct Offered {
    routes: Observe<DatabaseGate<Routes>>,
    /// Held (shared) by every call in flight; taken whole when the service stops.
    in_flight: Arc<tokio::sync::RwLock<()>>,
}

impl InProcess {
    /// A link to `service_name` in this process, whether or not it is offered yet.
    pub fn link(&self, service_name: &'static str) -> Link {
        Link::new(ClientSpan {
            inner: Local {
                services: self.clone(),
                name: service_name,
            },
        })
    }

    /// Offers `routes` as `service_name` until [`InProcess::withdraw`]; calls are refused
    /// at once while `database` says the service's database is unreachable.
    pub fn offer(
        &self,
        service_name: &'static str,
        routes: Routes,
        database: Arc<std::sync::atomic::AtomicBool>,
    ) {
        let offered = Offered {
            routes: Observe {
                inner: DatabaseGate {
                    inner: routes,
                    database,
                },
            },
            in_flight: Arc::default(),
        };
        self.inner
            .offered
            .write()
            .expect("no panic while offering")
            .insert(service_name, Some(offered));
        self.inner.changed.notify_waiters();
    }

    /// Stops offering `service_name` and waits for its calls in flight.
    pub async fn withdraw(&self, service_name: &'static str) {
        let offered = self
            .inner
            .offered
            .write()
            .expect("no panic while offering")
            .insert(service_name, None);
        self.inner.changed.notify_waiters();
        if let Some(Some(offered)) = offered {
            let _drained = offered.in_flight.write().await;
        }
    }

    /// The service once it is offered; None once it was withdrawn.
    async fn offered(&self, service_name: &'static str) -> Option<Offered> {
        loop {
            let changed = self.inner.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(offered) = self
                .inner
                .offered
                .read()
                .expect("no panic while offering")
                .get(service_name)
            {
                return offered.clone();
            }
            changed.await;
        }
    }
}

#[derive(Clone)]
struct Local {
    services: InProcess,
    name: &'static str,
}

impl tower::Service<http::Request<tonic::body::Body>> for Local {
    type Response = http::Response<tonic::body::Body>;
    type Error = LinkError;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        let (services, name) = (self.services.clone(), self.name);
        Box::pin(async move {
            let unavailable = || {
                Ok(
                    tonic::Status::unavailable(format!("{name} is not serving in this process"))
                        .into_http(),
                )
            };
            let Some(offered) = services.offered(name).await else {
                return unavailable();
            };
            // A service stopping takes the lock whole: no new call starts.
            let Ok(_in_flight) = offered.in_flight.clone().try_read_owned() else {
                return unavailable();
            };
            let response = tower::ServiceExt::oneshot(offered.routes, request).await;
            response.map_err(|never| match never {})
        })
    }
}
