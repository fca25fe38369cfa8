//! `Idempotency-Key` for every create, once, for every service. A client that sends a
//! create again (a timeout, a dropped connection, a double click) with the same key gets
//! the first answer again and nothing is applied twice; the same key with another request
//! is refused (422 at the gateway), naming the header.
//!
//! How: [`Idempotent`] wraps each service's gRPC server, behind authentication, so it sees
//! the verified [`Caller`]. For a create-like method ([`is_create`]) whose request carries
//! `idempotency-key` metadata, it looks the key up for the caller and method (a key is
//! never shared between callers): an answer kept for it is replayed; none, and the handler
//! runs with a [`Claim`] in a task-local. The store's write transaction then claims the key
//! as its first statement ([`crate::db::begin`], or [`claim`] inside a statement of its
//! own), so the claim commits with the effect or not at all, and a concurrent duplicate's
//! transaction fails on it before it applies anything. Once the handler answers, its
//! answer is sealed and kept on the claim for a day. A crash between the commit and the
//! keeping leaves a claim without an answer: a retry is then told the create was applied
//! and its answer lost (409), never applied again.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use tonic::server::NamedService;
use tonic::{Code, Status};
use uuid::Uuid;

use crate::auth::Caller;
use crate::crypto::{Sealed, Vault};
use crate::error::Violations;

/// The gRPC metadata that carries the key (the gateway forwards the HTTP header).
pub const METADATA: &str = "idempotency-key";
/// The HTTP header, as errors name it.
pub const HEADER: &str = "Idempotency-Key";
/// The longest key accepted, in characters.
pub const MAX_KEY_LEN: usize = 200;
/// What a method's name starts with when it creates something.
/// (`Refund`: a refund moves money once, whatever the retries.)
pub const CREATE_PREFIXES: [&str; 8] = [
    "Create", "Record", "Register", "Post", "Log", "Submit", "Add", "Refund",
];
/// SQLSTATE raised by `linli_claim_idempotency_key` when another request holds the claim.
pub const CLAIM_TAKEN: &str = "LI409";

/// How long an answer is kept for a retry; the claim itself is kept for good.
const ANSWER_KEPT_HOURS: i64 = 24;
/// A claim this old without an answer belongs to a request that will never answer (its
/// process stopped between commit and keeping the answer).
const LOST_AFTER_SECONDS: f64 = 30.0;
/// How long a retry waits for the answer of a request still in flight elsewhere.
const WAIT_FOR_ANSWER: Duration = Duration::from_secs(5);
/// Largest request read, unless told otherwise: tonic's own default limit.
const DEFAULT_LIMIT: usize = 4 * 1024 * 1024;

/// Whether the method at `path` (`/package.Service/Method`) creates something.
pub fn is_create(path: &str) -> bool {
    let method = path.rsplit('/').next().unwrap_or_default();
    CREATE_PREFIXES.iter().any(|prefix| {
        method
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
    })
}

/// The key in a header's or metadata's bytes: 1 to [`MAX_KEY_LEN`] printable ASCII
/// characters, or a violation naming the header.
pub fn parse_key(bytes: &[u8]) -> Result<String, Violations> {
    let printable = bytes.iter().all(|b| (0x20..0x7f).contains(b));
    match std::str::from_utf8(bytes) {
        Ok(key)
            if printable && !key.is_empty() && key.len() <= MAX_KEY_LEN && key.trim() == key =>
        {
            Ok(key.to_owned())
        }
        _ => Err(Violations::one(
            HEADER,
            crate::error::Reason::new(
                "idempotency_key.invalid",
                "must be 1 to 200 printable ASCII characters",
            ),
        )),
    }
}

/// Puts `key` (checked with [`parse_key`]) on an outgoing call.
pub fn attach(metadata: &mut tonic::metadata::MetadataMap, key: &str) {
    if let Ok(value) = key.parse() {
        metadata.insert(METADATA, value);
    }
}

/// The key a request being served claims: who sent it, for which method, and which of
/// the requests sent with the key this one is.
#[derive(Clone, Debug)]
pub struct Claim {
    pub subject: String,
    pub method: String,
    pub key: String,
    pub request_hash: Vec<u8>,
    pub attempt: Uuid,
}

tokio::task_local! {
    static CLAIM: Claim;
}

/// Runs `future` as the request `claim` describes, as [`Idempotent`] runs a handler: its
/// write transactions claim the key.
pub async fn claiming<F: std::future::Future>(claim: Claim, future: F) -> F::Output {
    CLAIM.scope(claim, future).await
}

/// The claim of the request this task serves, if it carries a key: for a statement that
/// claims it itself (see [`claim`]); most stores use [`crate::db::begin`].
pub fn pending() -> Option<Claim> {
    CLAIM.try_with(Claim::clone).ok()
}

/// Claims the key of the request being served, if any, inside the transaction on `conn`:
/// call it as the transaction's first statement. Fails with [`CLAIM_TAKEN`] (see
/// [`is_claim_taken`]) when another request holds it, which aborts the transaction.
pub async fn claim(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let Some(claim) = pending() else {
        return Ok(());
    };
    sqlx::query("SELECT linli_claim_idempotency_key($1, $2, $3, $4, $5)")
        .bind(&claim.subject)
        .bind(&claim.method)
        .bind(&claim.key)
        .bind(&claim.request_hash)
        .bind(claim.attempt)
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether a database error is another request's claim on the key: the layer answers
/// with that request's answer, so this error is never what the caller sees.
pub fn is_claim_taken(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some(CLAIM_TAKEN))
}

/// A gRPC service whose create-like methods honour `idempotency-key` (see the module).
#[derive(Clone)]
pub struct Idempotent<S> {
    inner: S,
    keeper: Keeper,
}

#[derive(Clone)]
struct Keeper {
    pool: PgPool,
    vault: Vault,
    limit: usize,
    turns: Arc<Turns>,
    /// When answers past their day were last cleared, in Unix seconds.
    last_sweep: Arc<AtomicI64>,
}

impl<S> Idempotent<S> {
    /// `pool` is the service's own database, which holds its claims.
    pub fn new(inner: S, pool: PgPool, vault: Vault) -> Self {
        Idempotent {
            inner,
            keeper: Keeper {
                pool,
                vault,
                limit: DEFAULT_LIMIT,
                turns: Arc::default(),
                last_sweep: Arc::default(),
            },
        }
    }

    /// The largest request read, in bytes (match the server's own decoding limit).
    pub fn limit(mut self, bytes: usize) -> Self {
        self.keeper.limit = bytes;
        self
    }
}

impl<S: NamedService> NamedService for Idempotent<S> {
    const NAME: &'static str = S::NAME;
}

type Answered = http::Response<tonic::body::Body>;

impl<S> tower::Service<http::Request<tonic::body::Body>> for Idempotent<S>
where
    S: tower::Service<http::Request<tonic::body::Body>, Response = Answered, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Answered;
    type Error = Infallible;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        // The clone is ready only if polled; take the ready one and leave the clone.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        // Other methods ignore the key; a request without a caller is refused by the
        // handler itself.
        let keyed = request
            .headers()
            .get(METADATA)
            .cloned()
            .filter(|_| is_create(request.uri().path()));
        let subject = keyed.as_ref().and_then(|_| {
            let caller = request.extensions().get::<Caller>()?;
            Some(caller.subject.clone())
        });
        let (Some(key), Some(subject)) = (keyed, subject) else {
            return Box::pin(inner.call(request));
        };
        let keeper = self.keeper.clone();
        Box::pin(async move {
            let key = match parse_key(key.as_bytes()) {
                Ok(key) => key,
                Err(violations) => return Ok(Status::from(violations).into_http()),
            };
            let (parts, body) = request.into_parts();
            let bytes = match axum::body::to_bytes(axum::body::Body::new(body), keeper.limit).await
            {
                Ok(bytes) => bytes,
                Err(_) => {
                    return Ok(crate::error::Reason::new(
                        "request.too_large",
                        "the request is too large or was not received whole",
                    )
                    .into_status(tonic::Code::OutOfRange)
                    .into_http());
                }
            };
            let claim = Claim {
                subject,
                method: parts.uri.path().to_owned(),
                key,
                request_hash: keeper.hash(&bytes),
                attempt: Uuid::new_v4(),
            };
            let request = http::Request::from_parts(
                parts,
                tonic::body::Body::new(axum::body::Body::from(bytes)),
            );
            Ok(keeper.serve(claim, request, inner).await)
        })
    }
}

/// A claim as stored.
#[derive(sqlx::FromRow)]
struct Record {
    request_hash: Vec<u8>,
    attempt: Uuid,
    answered: bool,
    answer_sealed: Option<Vec<u8>>,
    answer_key_id: Option<String>,
    lost: bool,
}

impl Keeper {
    /// A keyed hash of the request: it holds personal data, so a plain digest could be
    /// tried against guesses.
    fn hash(&self, bytes: &[u8]) -> Vec<u8> {
        let digest: String = Sha256::digest(bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        self.vault.blind_index("idempotency-request", &digest)
    }

    async fn serve<S>(
        &self,
        claim: Claim,
        request: http::Request<tonic::body::Body>,
        mut inner: S,
    ) -> Answered
    where
        S: tower::Service<
                http::Request<tonic::body::Body>,
                Response = Answered,
                Error = Infallible,
            >,
    {
        // Requests with one key in this process take turns, so a retry sent while the
        // first is in flight waits for its answer instead of racing it to the claim.
        let _turn = self.turns.take(&claim).await;
        match self.recorded(&claim).await {
            Ok(Some(record)) => return self.answer_of(&claim, record).await,
            Ok(None) => {}
            Err(error) => return crate::error::database(&error).into_http(),
        }
        let Ok(response) = CLAIM.scope(claim.clone(), inner.call(request)).await;
        let answer = match Answer::collect(response).await {
            Ok(answer) => answer,
            Err(status) => return status.into_http(),
        };
        let sealed = self.vault.seal(&answer.to_json());
        match self.keep(&claim, &sealed).await {
            Ok(Kept::Ours) => {
                self.sweep_now_and_then();
                answer.into_http(false)
            }
            Ok(Kept::NotApplied) => {
                if answer.code() == Code::Ok {
                    tracing::warn!(
                        method = %claim.method,
                        "a create answered without claiming its Idempotency-Key; a retry would apply it again"
                    );
                }
                answer.into_http(false)
            }
            Ok(Kept::Other(record)) => self.answer_of(&claim, record).await,
            Err(error) => {
                tracing::warn!(error = %error, method = %claim.method, "keeping a create's answer failed; trying again in the background");
                self.keep_later(claim, sealed);
                answer.into_http(false)
            }
        }
    }

    /// The claim on the request's key, if any request committed one.
    async fn recorded(&self, claim: &Claim) -> Result<Option<Record>, sqlx::Error> {
        sqlx::query_as(
            "SELECT request_hash, attempt, answered_at IS NOT NULL AS answered,
                    answer_sealed, answer_key_id,
                    claimed_at < now() - make_interval(secs => $4) AS lost
             FROM idempotency_keys WHERE subject = $1 AND method = $2 AND key = $3",
        )
        .bind(&claim.subject)
        .bind(&claim.method)
        .bind(&claim.key)
        .bind(LOST_AFTER_SECONDS)
        .fetch_optional(&self.pool)
        .await
    }

    /// Keeps `sealed` as the answer when this request's claim committed; otherwise says
    /// whose the claim is, in one round trip.
    async fn keep(&self, claim: &Claim, sealed: &Sealed) -> Result<Kept, sqlx::Error> {
        let found: Option<(bool, Record)> = sqlx::query_as::<_, KeptRow>(
            "WITH kept AS (
                 UPDATE idempotency_keys
                 SET answered_at = now(), answer_sealed = $5, answer_key_id = $6
                 WHERE subject = $1 AND method = $2 AND key = $3 AND attempt = $4
                   AND answered_at IS NULL
                 RETURNING attempt)
             SELECT EXISTS (SELECT 1 FROM kept) AS kept,
                    request_hash, attempt, answered_at IS NOT NULL AS answered,
                    answer_sealed, answer_key_id,
                    claimed_at < now() - make_interval(secs => $7) AS lost
             FROM idempotency_keys WHERE subject = $1 AND method = $2 AND key = $3",
        )
        .bind(&claim.subject)
        .bind(&claim.method)
        .bind(&claim.key)
        .bind(claim.attempt)
        .bind(&sealed.bytes)
        .bind(&sealed.key_id)
        .bind(LOST_AFTER_SECONDS)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| (row.kept, row.record));
        Ok(match found {
            None => Kept::NotApplied,
            Some((true, _)) => Kept::Ours,
            Some((false, record)) if record.attempt == claim.attempt => Kept::Ours,
            Some((false, record)) => Kept::Other(record),
        })
    }

    /// Keeps the answer after all, when the database failed just after the commit (it
    /// may be restarting): a retry meanwhile waits for it, then hears it was lost.
    fn keep_later(&self, claim: Claim, sealed: Sealed) {
        let keeper = self.clone();
        tokio::spawn(async move {
            for attempt in 0..6 {
                tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
                if keeper.keep(&claim, &sealed).await.is_ok() {
                    return;
                }
            }
            tracing::warn!(method = %claim.method, "a create's answer could not be kept; a retry will hear it was lost");
        });
    }

    /// The answer to a request whose key another request claimed: that request's
    /// answer when the two are the same request, waiting a little for an answer still
    /// being made elsewhere.
    async fn answer_of(&self, claim: &Claim, mut record: Record) -> Answered {
        let until = Instant::now() + WAIT_FOR_ANSWER;
        loop {
            if record.request_hash != claim.request_hash {
                return key_reused().into_http();
            }
            if let (Some(bytes), Some(key_id)) = (&record.answer_sealed, &record.answer_key_id) {
                let sealed = Sealed {
                    key_id: key_id.clone(),
                    bytes: bytes.clone(),
                };
                return match self
                    .vault
                    .open(&sealed)
                    .ok()
                    .and_then(|json| Answer::from_json(&json))
                {
                    Some(answer) => answer.into_http(true),
                    None => {
                        crate::error::internal(&crate::crypto::CryptoError::Tampered).into_http()
                    }
                };
            }
            if record.answered {
                return crate::error::Reason::new(
                    "idempotency.applied",
                    format!(
                        "the request with this {HEADER} was applied already; its answer is kept for {ANSWER_KEPT_HOURS} hours only. Look the result up instead of sending it again"
                    ),
                )
                .with("hours", ANSWER_KEPT_HOURS)
                .into_status(tonic::Code::AlreadyExists)
                .into_http();
            }
            if record.lost {
                return crate::error::Reason::new(
                    "idempotency.answer_lost",
                    format!(
                        "the request with this {HEADER} was applied already, but its answer was lost. Look the result up instead of sending it again"
                    ),
                )
                .into_status(tonic::Code::AlreadyExists)
                .into_http();
            }
            if Instant::now() >= until {
                return Status::unavailable(format!(
                    "the request with this {HEADER} is still being applied; try again shortly"
                ))
                .into_http();
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
            record = match self.recorded(claim).await {
                Ok(Some(record)) => record,
                // A committed claim is never removed.
                Ok(None) => return Status::unavailable("try again shortly").into_http(),
                Err(error) => return crate::error::database(&error).into_http(),
            };
        }
    }

    /// Clears answers past their day, at most once a minute per process, in the
    /// background.
    fn sweep_now_and_then(&self) {
        let now = chrono::Utc::now().timestamp();
        let last = self.last_sweep.load(Ordering::Relaxed);
        if now - last < 60
            || self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let cleared = sqlx::query(
                "UPDATE idempotency_keys SET answer_sealed = NULL, answer_key_id = NULL
                 WHERE answer_sealed IS NOT NULL
                   AND answered_at < now() - make_interval(hours => $1)",
            )
            .bind(ANSWER_KEPT_HOURS as i32)
            .execute(&pool)
            .await;
            if let Err(error) = cleared {
                tracing::debug!(error = %error, "clearing old idempotency answers failed; next time");
            }
        });
    }
}

#[derive(sqlx::FromRow)]
struct KeptRow {
    kept: bool,
    #[sqlx(flatten)]
    record: Record,
}

enum Kept {
    /// This request's claim committed, and its answer is kept.
    Ours,
    /// No request's claim committed: nothing was applied.
    NotApplied,
    /// Another request with the key committed its claim first.
    Other(Record),
}

/// 422 at the gateway: the key was used for another request.
fn key_reused() -> Status {
    crate::error::Reason::new(
        "idempotency.key_reused",
        format!(
            "{HEADER}: this key was already used for a different request; send a new key for a new request"
        ),
    )
    .into_status(tonic::Code::FailedPrecondition)
}

/// Requests with one key in this process, one at a time.
#[derive(Default)]
struct Turns(Mutex<HashMap<KeyOf, Weak<tokio::sync::Mutex<()>>>>);

/// A key as its caller and method scope it: (subject, method, key).
type KeyOf = (String, String, String);

impl Turns {
    async fn take(&self, claim: &Claim) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut turns = self.0.lock().expect("no panic while taking a turn");
            turns.retain(|_, turn| turn.strong_count() > 0);
            let id = (
                claim.subject.clone(),
                claim.method.clone(),
                claim.key.clone(),
            );
            match turns.get(&id).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(tokio::sync::Mutex::new(()));
                    turns.insert(id, Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }
}

/// A gRPC answer as kept: its headers, its body's bytes and its trailers.
#[derive(Serialize, Deserialize)]
struct Answer {
    headers: Vec<(String, String)>,
    body: String,
    trailers: Option<Vec<(String, String)>>,
}

impl Answer {
    async fn collect(response: Answered) -> Result<Answer, Status> {
        let (parts, body) = response.into_parts();
        let collected = body.collect().await?;
        let trailers = collected.trailers().map(pairs);
        Ok(Answer {
            headers: pairs(&parts.headers),
            body: STANDARD.encode(collected.to_bytes()),
            trailers,
        })
    }

    /// The gRPC status: in the trailers, or in the headers of a trailers-only answer.
    fn code(&self) -> Code {
        self.trailers
            .iter()
            .flatten()
            .chain(&self.headers)
            .find(|(name, _)| name == "grpc-status")
            .and_then(|(_, value)| value.parse::<i32>().ok())
            .map_or(Code::Unknown, Code::from_i32)
    }

    fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an answer serialises")
    }

    fn from_json(json: &str) -> Option<Answer> {
        serde_json::from_str(json).ok()
    }

    fn into_http(self, replayed: bool) -> Answered {
        let data = STANDARD.decode(&self.body).unwrap_or_default();
        let body = AnswerBody {
            data: Some(Bytes::from(data)),
            trailers: self.trailers.map(|t| header_map(&t)),
        };
        let mut response = http::Response::new(tonic::body::Body::new(body));
        *response.headers_mut() = header_map(&self.headers);
        if replayed {
            response.headers_mut().insert(
                "idempotent-replayed",
                http::HeaderValue::from_static("true"),
            );
        }
        response
    }
}

fn pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect()
}

fn header_map(pairs: &[(String, String)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(value),
        ) {
            map.append(name, value);
        }
    }
    map
}

/// A kept answer's body: its bytes, then its trailers.
struct AnswerBody {
    data: Option<Bytes>,
    trailers: Option<http::HeaderMap>,
}

impl http_body::Body for AnswerBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(data) = this.data.take().filter(|data| !data.is_empty()) {
            return Poll::Ready(Some(Ok(http_body::Frame::data(data))));
        }
        Poll::Ready(
            this.trailers
                .take()
                .map(|trailers| Ok(http_body::Frame::trailers(trailers))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.data.as_ref().is_none_or(Bytes::is_empty) && self.trailers.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_are_told_by_their_names() {
        for path in [
            "/linli.finance.v1.Finance/RecordDonation",
            "/linli.registry.v1.Registry/CreateResident",
            "/linli.volunteers.v1.Volunteers/LogHours",
            "/linli.volunteers.v1.Volunteers/AddGroupMember",
        ] {
            assert!(is_create(path), "{path}");
        }
        for path in [
            "/linli.registry.v1.Registry/GetResident",
            "/linli.bookings.v1.Bookings/CancelBooking",
            "/linli.finance.v1.Finance/ReverseEntry",
            "/linli.evaluation.v1.Evaluation/RebuildProjections",
            "/x.y/Logout",
        ] {
            assert!(!is_create(path), "{path}");
        }
    }

    /// The contracts' create-like methods, counted from the compiled descriptors: a new
    /// create is covered without editing the layer, and a rename that hides one shows.
    #[test]
    fn forty_two_methods_of_the_contracts_are_creates() {
        use prost::Message as _;
        let set = prost_types::FileDescriptorSet::decode(linli_proto::FILE_DESCRIPTOR_SET)
            .expect("the descriptor set decodes");
        let creates: Vec<String> = set
            .file
            .iter()
            .filter(|file| !file.package().starts_with("linli.events"))
            .flat_map(|file| {
                file.service.iter().flat_map(move |service| {
                    service.method.iter().map(move |method| {
                        format!("/{}.{}/{}", file.package(), service.name(), method.name())
                    })
                })
            })
            .filter(|path| path.starts_with("/linli.") && is_create(path))
            .collect();
        assert_eq!(creates.len(), 42, "{creates:#?}");
    }

    #[test]
    fn keys_are_printable_ascii_of_at_most_two_hundred() {
        assert!(parse_key(b"desk-7-2027-03-09-0900").is_ok());
        assert!(parse_key("k".repeat(200).as_bytes()).is_ok());
        for bad in ["", " padded", "tab\there", "钥匙"] {
            assert!(parse_key(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(parse_key("k".repeat(201).as_bytes()).is_err());
    }

    #[tokio::test]
    async fn a_kept_answer_replays_its_body_and_trailers() {
        let status = Status::already_exists("taken");
        let answer = Answer::collect(status.into_http())
            .await
            .expect("collected");
        assert_eq!(answer.code(), Code::AlreadyExists);
        let again = Answer::from_json(&answer.to_json()).expect("round trip");
        let replayed = Answer::collect(again.into_http(true))
            .await
            .expect("collected");
        assert_eq!(replayed.code(), Code::AlreadyExists);

        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
        let ok = Answer {
            headers: vec![("content-type".into(), "application/grpc".into())],
            body: STANDARD.encode(b"\0\0\0\0\x02\x08\x01"),
            trailers: Some(pairs(&trailers)),
        };
        let replayed = ok.into_http(true);
        assert_eq!(replayed.headers()["idempotent-replayed"], "true");
        let collected = replayed.into_body().collect().await.expect("a body");
        assert_eq!(collected.trailers().expect("trailers")["grpc-status"], "0");
        assert_eq!(collected.to_bytes().as_ref(), b"\0\0\0\0\x02\x08\x01");
    }
}
