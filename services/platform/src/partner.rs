//! The partner listener: the services' gRPC once more, on a port of its own (50443) where
//! mutual TLS is required. A partner is whoever presents a client certificate the partner
//! CA signed *and* the registry knows by its SHA-256 fingerprint; what it may do is what
//! its agreements in force grant, asked of the registry on every call (no cache), so a
//! revoked agreement or credential stops the very next call. Nothing a partner sends — no
//! `authorization` header, no metadata — counts towards who it is.
//!
//! Also here: reading a certificate's facts for registration, and issuing a local CA,
//! server and client certificates (`linli partner`, and the tests).

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use chrono::{DateTime, Utc};
use linli_proto::registry::v1 as registry;
use linli_proto::registry::v1::registry_client::RegistryClient;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::server::NamedService;
use tonic::service::{Routes, RoutesBuilder};
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use uuid::Uuid;

use crate::auth::{Caller, Grant, Role, TokenKeys};
use crate::rate::{Limiters, Rate};

/// The partner listener's certificate and the CA whose client certificates it accepts.
/// Without all three the listener is not started.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct PartnerTlsArgs {
    /// PEM certificate (chain) the partner listener presents.
    #[arg(long, env = "LINLI_PARTNER_TLS_CERT")]
    pub partner_tls_cert: Option<PathBuf>,
    /// PEM private key of that certificate.
    #[arg(long, env = "LINLI_PARTNER_TLS_KEY")]
    pub partner_tls_key: Option<PathBuf>,
    /// PEM certificate of the CA that signs partners' client certificates.
    #[arg(long, env = "LINLI_PARTNER_CLIENT_CA")]
    pub partner_client_ca: Option<PathBuf>,
}

impl PartnerTlsArgs {
    /// The TLS settings, when configured: client certificates required.
    pub fn server_config(&self) -> anyhow::Result<Option<ServerTlsConfig>> {
        let (Some(cert), Some(key), Some(ca)) = (
            &self.partner_tls_cert,
            &self.partner_tls_key,
            &self.partner_client_ca,
        ) else {
            return Ok(None);
        };
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))
        };
        let (cert, ca) = (read(cert)?, read(ca)?);
        // For the expiry alert: the first certificate of each file (the listener's own,
        // and the client CA's), as the process read them.
        for (name, pem) in [("listener", &cert), ("client_ca", &ca)] {
            if let Ok(facts) = read_certificate(&String::from_utf8_lossy(pem)) {
                crate::metrics::PARTNER_CERT_EXPIRY
                    .with_label_values(&[name])
                    .set(facts.not_after.timestamp());
            }
        }
        Ok(Some(
            ServerTlsConfig::new()
                .identity(Identity::from_pem(cert, read(key)?))
                .client_ca_root(Certificate::from_pem(ca))
                .client_auth_optional(false)
                .timeout(Duration::from_secs(10)),
        ))
    }
}

/// Lower-case hex SHA-256 of a certificate's DER: how the registry knows a credential.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// What the registry records of a partner's certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateFacts {
    pub fingerprint: String,
    pub subject: String,
    pub not_after: DateTime<Utc>,
}

/// Reads one PEM certificate.
pub fn read_certificate(pem: &str) -> Result<CertificateFacts, String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|_| "is not a PEM certificate".to_owned())?;
    if pem.label != "CERTIFICATE" {
        return Err(format!("is a PEM {}, not a certificate", pem.label));
    }
    let cert = pem
        .parse_x509()
        .map_err(|_| "is not a valid X.509 certificate".to_owned())?;
    let not_after = DateTime::<Utc>::from_timestamp(cert.validity().not_after.timestamp(), 0)
        .ok_or_else(|| "has an end date out of range".to_owned())?;
    Ok(CertificateFacts {
        fingerprint: fingerprint(&pem.contents),
        subject: cert.subject().to_string(),
        not_after,
    })
}

/// Where each service in this process offers its gRPC server for partners; the listener
/// serves them together once every expected service has offered.
#[derive(Clone, Default)]
pub struct PartnerRoutes {
    inner: Arc<Mutex<Offered>>,
    changed: Arc<Notify>,
}

#[derive(Default)]
struct Offered {
    builder: RoutesBuilder,
    /// The full gRPC names of the services offered, for reflection to advertise.
    names: Vec<&'static str>,
}

impl PartnerRoutes {
    /// Adds a service (without its bearer-token interceptor: the listener authenticates).
    pub fn offer<S>(&self, service: S)
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Error = Infallible,
                Response = http::Response<tonic::body::Body>,
            > + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        let mut offered = self
            .inner
            .lock()
            .expect("partner routes lock is never poisoned: no panics under it");
        offered.builder.add_service(service);
        offered.names.push(S::NAME);
        drop(offered);
        self.changed.notify_waiters();
        self.changed.notify_one();
    }

    /// Waits for `expected` offers, then takes them, with their service names.
    async fn take(&self, expected: usize) -> (Routes, Vec<&'static str>) {
        loop {
            let notified = self.changed.notified();
            {
                let mut offered = self
                    .inner
                    .lock()
                    .expect("partner routes lock is never poisoned: no panics under it");
                if offered.names.len() >= expected {
                    let offered = std::mem::take(&mut *offered);
                    return (offered.builder.routes(), offered.names);
                }
            }
            notified.await;
        }
    }
}

/// Asks the registry who presents a certificate and what its agreements grant now, and
/// holds each partner to its agreements' rate (or the default one).
#[derive(Clone)]
pub struct Resolver {
    registry: RegistryClient<crate::grpc::Link>,
    keys: TokenKeys,
    default_rate: Rate,
    limiters: Limiters<String>,
}

/// Why a partner's call was refused before it reached a service.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    NoCertificate,
    Unknown,
    NoAgreement,
    Unavailable(String),
    /// Past the partner's rate: how long until a call would pass.
    TooMany(Duration),
}

impl From<Refusal> for tonic::Status {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NoCertificate => {
                tonic::Status::unauthenticated("a client certificate is required")
            }
            Refusal::Unknown => tonic::Status::unauthenticated(
                "this client certificate is not registered to a partner, or was revoked",
            ),
            Refusal::NoAgreement => {
                tonic::Status::permission_denied("the partner has no agreement in force")
            }
            Refusal::Unavailable(reason) => tonic::Status::unavailable(reason),
            Refusal::TooMany(wait) => {
                let seconds = crate::rate::retry_after_secs(wait);
                let mut status = crate::error::refusal(
                    tonic::Code::ResourceExhausted,
                    format!("too many requests for this partner; try again in {seconds} s"),
                    "rate_limited",
                    &[("retry_after", seconds.to_string())],
                );
                status.metadata_mut().insert(
                    "retry-after",
                    seconds
                        .to_string()
                        .parse()
                        .expect("digits are valid metadata"),
                );
                status
            }
        }
    }
}

impl Resolver {
    pub fn new(registry_endpoint: &str, keys: TokenKeys) -> anyhow::Result<Resolver> {
        Ok(Resolver {
            registry: RegistryClient::new(crate::grpc::remote(registry_endpoint)?),
            keys,
            default_rate: Rate::per_second(50.0, 100),
            limiters: Limiters::default(),
        })
    }

    /// The rate of a partner whose agreements set none (the gateway's per-credential
    /// default, `LINLI_RATE_LIMIT` and `LINLI_RATE_BURST`, in `linli serve`).
    pub fn with_default_rate(mut self, rate: Rate) -> Resolver {
        self.default_rate = rate;
        self
    }

    /// The caller behind a certificate, once its rate lets this call through.
    async fn admit(&self, der: &[u8]) -> Result<Caller, Refusal> {
        let (caller, rate) = self.resolve_with_rate(der).await?;
        self.limiters
            .check(&caller.subject, rate.unwrap_or(self.default_rate))
            .map_err(Refusal::TooMany)?;
        Ok(caller)
    }

    /// The caller behind a certificate: role `partner`, its id as subject, and its grants.
    pub async fn resolve(&self, der: &[u8]) -> Result<Caller, Refusal> {
        self.resolve_with_rate(der).await.map(|(caller, _)| caller)
    }

    /// [`resolve`](Self::resolve), and the rate its agreements in force set, if any.
    async fn resolve_with_rate(&self, der: &[u8]) -> Result<(Caller, Option<Rate>), Refusal> {
        let mut request = tonic::Request::new(registry::ResolvePartnerCertificateRequest {
            fingerprint: fingerprint(der),
        });
        request.set_timeout(Duration::from_secs(5));
        // The listener speaks to the registry as the district, for this one question.
        let token = self.keys.issue(
            "linli-partner-listener",
            &[Role::DistrictAdmin],
            &[],
            chrono::Duration::minutes(1),
        );
        let bearer = format!("Bearer {token}")
            .parse()
            .expect("a signed token is plain ASCII");
        request.metadata_mut().insert("authorization", bearer);
        let access = match self
            .registry
            .clone()
            .resolve_partner_certificate(request)
            .await
        {
            Ok(response) => response.into_inner(),
            Err(status) if status.code() == tonic::Code::NotFound => return Err(Refusal::Unknown),
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "partner lookup failed");
                return Err(Refusal::Unavailable(
                    "partner access cannot be checked now; try again shortly".into(),
                ));
            }
        };
        let mut scopes = BTreeSet::new();
        for grant in access.grants {
            if let Ok(centre) = Uuid::parse_str(&grant.centre_id) {
                scopes.insert(Grant {
                    centre,
                    scope: grant.scope,
                });
            }
        }
        if scopes.is_empty() {
            return Err(Refusal::NoAgreement);
        }
        let rate = (access.rate_per_minute > 0)
            .then(|| Rate::per_minute(access.rate_per_minute, access.rate_burst));
        let caller = Caller {
            subject: access.partner_id,
            roles: [Role::Partner].into_iter().collect(),
            centres: scopes.iter().map(|grant| grant.centre).collect(),
            scopes,
            session: None,
            acts_for: Default::default(),
        };
        Ok((caller, rate))
    }
}

/// Serves the offered services to partners on `listener` over mutual TLS until shutdown.
pub async fn serve(
    listener: TcpListener,
    tls: ServerTlsConfig,
    routes: PartnerRoutes,
    expected: usize,
    resolver: Resolver,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (routes, names) = tokio::select! {
        taken = routes.take(expected) => taken,
        _ = shutdown.cancelled() => return Ok(()),
    };
    // This listener serves no health service: reflection advertises what it does serve.
    let routes = crate::reflection::add(routes, &names)?;
    tracing::info!(address = %listener.local_addr()?, "partner gRPC listening (mutual TLS)");
    Server::builder()
        .tls_config(tls)?
        .layer(tower::layer::layer_fn(|inner| crate::grpc::Observe {
            inner,
        }))
        .layer(tower::layer::layer_fn(move |inner| PartnerAuth {
            inner,
            resolver: resolver.clone(),
        }))
        .add_routes(routes)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown.cancelled_owned())
        .await?;
    Ok(())
}

/// Puts the partner's [`Caller`] into every request, from its verified certificate, or
/// answers the refusal itself.
#[derive(Clone)]
struct PartnerAuth<S> {
    inner: S,
    resolver: Resolver,
}

impl<S, B> tower::Service<http::Request<B>> for PartnerAuth<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
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

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let certificate = request
            .extensions()
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(|info| info.peer_certs())
            .and_then(|certs| certs.first().map(|cert| cert.as_ref().to_vec()));
        // Anything a client put in the extensions' place is replaced below; and a caller
        // is only ever inserted from the certificate.
        request.extensions_mut().remove::<Caller>();
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let resolver = self.resolver.clone();
        Box::pin(async move {
            let resolved = match certificate {
                None => Err(Refusal::NoCertificate),
                Some(der) => resolver.admit(&der).await,
            };
            match resolved {
                Ok(caller) => {
                    request.extensions_mut().insert(caller);
                    inner.call(request).await
                }
                Err(refusal) => Ok(tonic::Status::from(refusal).into_http()),
            }
        })
    }
}

/// A certificate and its key, PEM.
pub struct IssuedCertificate {
    pub certificate_pem: String,
    pub key_pem: String,
}

/// A certificate authority for partner certificates and the listener's own.
pub struct PartnerCa {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    pub certificate_pem: String,
}

impl PartnerCa {
    /// A new CA, valid for ten years; returns it and its key (PEM).
    pub fn generate(name: &str) -> anyhow::Result<(PartnerCa, String)> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let now = time_now();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(3650);
        let key = rcgen::KeyPair::generate()?;
        let certificate = params.self_signed(&key)?;
        let key_pem = key.serialize_pem();
        Ok((
            PartnerCa {
                certificate_pem: certificate.pem(),
                issuer: rcgen::Issuer::new(params, key),
            },
            key_pem,
        ))
    }

    /// A CA from its certificate and key, PEM (e.g. `deploy/partners/ca.pem`).
    pub fn load(certificate_pem: &str, key_pem: &str) -> anyhow::Result<PartnerCa> {
        let key = rcgen::KeyPair::from_pem(key_pem)?;
        let issuer = rcgen::Issuer::from_ca_cert_pem(certificate_pem, key)?;
        Ok(PartnerCa {
            issuer,
            certificate_pem: certificate_pem.to_owned(),
        })
    }

    /// The listener's certificate for these host names and addresses.
    pub fn issue_server(&self, hosts: &[String]) -> anyhow::Result<IssuedCertificate> {
        let mut params = rcgen::CertificateParams::new(hosts.to_vec())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "linli partner gRPC");
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let now = time_now();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(825);
        self.sign(params)
    }

    /// A partner's client certificate, valid for `days` (negative: already expired, for
    /// tests).
    pub fn issue_client(&self, common_name: &str, days: i64) -> anyhow::Result<IssuedCertificate> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, common_name);
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        let now = time_now();
        if days > 0 {
            params.not_before = now - time::Duration::days(1);
            params.not_after = now + time::Duration::days(days);
        } else {
            params.not_before = now - time::Duration::days(30);
            params.not_after = now + time::Duration::days(days) - time::Duration::hours(1);
        }
        self.sign(params)
    }

    fn sign(&self, params: rcgen::CertificateParams) -> anyhow::Result<IssuedCertificate> {
        let key = rcgen::KeyPair::generate()?;
        let certificate = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCertificate {
            certificate_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_issued_client_certificate_reads_back_with_its_subject_and_fingerprint() {
        let (ca, _) = PartnerCa::generate("test CA").expect("a CA");
        let issued = ca.issue_client("meals-partner", 30).expect("a certificate");
        let facts = read_certificate(&issued.certificate_pem).expect("readable");
        assert!(facts.subject.contains("meals-partner"), "{}", facts.subject);
        assert_eq!(facts.fingerprint.len(), 64);
        assert!(facts.not_after > Utc::now() + chrono::Duration::days(29));
        let again = read_certificate(&issued.certificate_pem).expect("readable");
        assert_eq!(facts.fingerprint, again.fingerprint);
    }

    #[test]
    fn a_key_is_not_a_certificate() {
        let (_, key) = PartnerCa::generate("test CA").expect("a CA");
        assert!(read_certificate(&key).is_err());
        assert!(read_certificate("hello").is_err());
    }
}
