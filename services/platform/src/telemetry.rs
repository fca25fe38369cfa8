//! Logs and traces. Every process logs JSON lines; every request, RPC and event handling
//! is a span whose W3C trace context travels in HTTP headers, gRPC metadata and AMQP
//! headers, so one request is one trace from the gateway to the last consumer. Spans go to
//! an OTLP collector when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; trace ids are made and
//! propagated (and appear in the logs) either way.

use std::collections::HashMap;

use anyhow::Context as _;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry::{Context, global};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Where traces go.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct TelemetryArgs {
    /// OTLP/gRPC collector; spans are exported only when set.
    #[arg(long = "otlp-endpoint", env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,

    /// Service name reported with every span.
    #[arg(
        long = "otel-service-name",
        env = "OTEL_SERVICE_NAME",
        default_value = "linli"
    )]
    pub service_name: String,

    /// Log filter, e.g. `info` or `linli=debug,sqlx=warn`.
    #[arg(
        long = "log",
        env = "RUST_LOG",
        default_value = "info,sqlx::postgres::notice=warn"
    )]
    pub log: String,
}

/// Keeps the tracer provider alive; dropping it flushes the spans still buffered.
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        let _ = self.provider.shutdown();
    }
}

/// Installs JSON logging and tracing for this process, exporting spans over OTLP/gRPC when
/// an endpoint is configured.
pub fn init(args: &TelemetryArgs) -> anyhow::Result<Telemetry> {
    let resource = Resource::builder()
        .with_service_name(args.service_name.clone())
        .build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if let Some(endpoint) = &args.otlp_endpoint {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint.clone())
            .build()
            .context("building the OTLP span exporter")?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    install(provider.clone(), &args.log, true)?;
    Ok(Telemetry { provider })
}

/// Installs the global subscriber with the given tracer provider: what `init` does, and
/// what a test does with an in-memory exporter.
pub fn install(provider: SdkTracerProvider, filter: &str, json: bool) -> anyhow::Result<()> {
    install_to(provider, filter, json, BoxMakeWriter::new(std::io::stdout))
}

/// The same, logging to `writer` (a test reads what was logged).
pub fn install_to(
    provider: SdkTracerProvider,
    filter: &str,
    json: bool,
    writer: BoxMakeWriter,
) -> anyhow::Result<()> {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let tracer = provider.tracer("linli");
    global::set_tracer_provider(provider);
    let filter = EnvFilter::try_new(quieted(filter)).context("parsing the log filter")?;
    let fmt = if json {
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .compact()
            .with_writer(writer)
            .boxed()
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                // Each of these costs every request on every poll of its futures, three
                // spans deep (the gateway's, the call's, the service's): context activation
                // attaches the span's OpenTelemetry context at every enter (nothing here
                // reads `Context::current()`: parents come from the tracing span, trace
                // context travels by `OpenTelemetrySpanExt::context`); tracked inactivity
                // reads the clock at every enter and exit for `busy_ns`/`idle_ns`; threads
                // copies the thread's name into every span.
                .with_context_activation(false)
                .with_tracked_inactivity(false)
                .with_threads(false)
                .with_filter(tracing_subscriber::filter::filter_fn(|meta| {
                    !is_broker_client(meta.target())
                })),
        )
        .try_init()
        .context("installing the tracing subscriber")
}

/// lapin logs every message the broker hands back as unroutable at WARN, payload and all:
/// a line of kilobytes for every event no queue subscribes to yet (every booking's
/// confirmation, in the demo seven hundred lines at start). The relay counts those
/// (`linli_events_published_total{outcome="unroutable"}`) and warns once per routing key,
/// so lapin's line is left out unless the filter names its target.
fn quieted(filter: &str) -> String {
    const RETURNS: &str = "lapin::returned_messages";
    if filter.contains(RETURNS) {
        filter.to_owned()
    } else if filter.trim().is_empty() {
        format!("{RETURNS}=off")
    } else {
        format!("{filter},{RETURNS}=off")
    }
}

/// The AMQP client's own spans (`io_loop`, one per connection's life) belong to no
/// request: exported, each reconnection was a one-span root trace of its own (126 of 134
/// traces in one broker outage). They stay in the logs' span context, out of the traces;
/// the relay's publish and the consumers' process spans say what the bus did.
fn is_broker_client(target: &str) -> bool {
    target.starts_with("lapin") || target.starts_with("amq_protocol")
}

/// The trace id of a span, as the 32 hex digits W3C uses, for logs and error documents.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let context = span.context();
    let span_context = context.span().span_context().clone();
    span_context
        .is_valid()
        .then(|| span_context.trace_id().to_string())
}

/// Makes `span` a child of the trace context found in `carrier`, and records its trace id
/// in the span's `trace_id` field so every log line inside it carries the id.
pub fn adopt_parent(span: &tracing::Span, carrier: &dyn Extractor) {
    let parent = global::get_text_map_propagator(|propagator| propagator.extract(carrier));
    // An error here means the span is disabled by the filter: nothing to link.
    let _ = span.set_parent(parent);
    if let Some(id) = trace_id(span) {
        span.record("trace_id", id.as_str());
    }
}

/// The current span's context in W3C form (`traceparent`, `tracestate`), for carriers that
/// outlive the request, such as an outbox row.
pub fn current_trace_headers() -> HashMap<String, String> {
    let mut headers = HashMap::new();
    inject(&tracing::Span::current().context(), &mut headers);
    headers
}

/// Writes `context` into `carrier` with the global propagator.
pub fn inject(context: &Context, carrier: &mut dyn Injector) {
    global::get_text_map_propagator(|propagator| propagator.inject_context(context, carrier));
}

/// W3C trace context read from and written to HTTP (and so gRPC) headers.
pub struct HeaderCarrier<'a>(pub &'a mut http::HeaderMap);

impl Injector for HeaderCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Reads W3C trace context from HTTP (and so gRPC) request headers.
pub struct HeaderExtractor<'a>(pub &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Puts the current span's trace context into an outgoing gRPC request.
pub fn inject_into_metadata(metadata: &mut tonic::metadata::MetadataMap) {
    let mut headers = HashMap::new();
    inject(&tracing::Span::current().context(), &mut headers);
    for (key, value) in headers {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            value.parse(),
        ) {
            metadata.insert(key, value);
        }
    }
}
