//! An example webhook receiver, as a partner would write one: a real HTTP server (axum) on
//! loopback that checks `Linli-Signature` (HMAC-SHA256 over `t.body` with the agreement's
//! secret, `t` within five minutes of its clock) before it believes a body, answers 401 to
//! anything else, and keeps what it accepted (every delivery, duplicates included, so a
//! test can count them by event id).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use linli_platform::webhook::{self, Refused};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// One delivery the receiver accepted.
#[derive(Clone, Debug)]
pub struct Received {
    pub event_id: String,
    pub event_type: String,
    pub body: Value,
}

#[derive(Default)]
struct Kept {
    secret: String,
    accepted: Vec<Received>,
    refused: Vec<Refused>,
}

/// The receiver: where it listens and what it has kept.
pub struct Receiver {
    pub address: SocketAddr,
    kept: Arc<Mutex<Kept>>,
    /// While true, an accepted delivery waits to be answered (an attempt in flight).
    holding: tokio::sync::watch::Sender<bool>,
    stop: CancellationToken,
}

/// What the example receiver does with one request: verify, then accept or refuse.
pub fn check(secret: &str, headers: &HeaderMap, body: &[u8], now: i64) -> Result<(), Refused> {
    let signature = headers
        .get(webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(Refused::Malformed)?;
    webhook::verify(secret, signature, body, now)
}

impl Receiver {
    /// Listens on a free loopback port.
    pub async fn start() -> Receiver {
        Receiver::start_on(0).await
    }

    /// Listens on `port` of loopback (0: any free one).
    pub async fn start_on(port: u16) -> Receiver {
        let kept: Arc<Mutex<Kept>> = Arc::default();
        let (holding, held) = tokio::sync::watch::channel(false);
        let state = kept.clone();
        let app = axum::Router::new().route(
            "/events",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (state, mut held) = (state.clone(), held.clone());
                async move {
                    {
                        let mut kept = state.lock().expect("lock");
                        let now = chrono::Utc::now().timestamp();
                        if let Err(refused) = check(&kept.secret, &headers, &body, now) {
                            kept.refused.push(refused);
                            return StatusCode::UNAUTHORIZED;
                        }
                        let text = |name: &str| {
                            headers
                                .get(name)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned()
                        };
                        kept.accepted.push(Received {
                            event_id: text(webhook::EVENT_ID_HEADER),
                            event_type: text(webhook::EVENT_TYPE_HEADER),
                            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                        });
                    }
                    let _ = held.wait_for(|holding| !holding).await;
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("a loopback port");
        let address = listener.local_addr().expect("an address");
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { stopped.cancelled().await })
                .await
        });
        Receiver {
            address,
            kept,
            holding,
            stop,
        }
    }

    /// The URL to give the agreement's webhook.
    pub fn url(&self) -> String {
        format!("http://{}/events", self.address)
    }

    /// The secret the agreement's webhook answered.
    pub fn trust(&self, secret: &str) {
        self.kept.lock().expect("lock").secret = secret.to_owned();
    }

    /// Holds each accepted delivery's answer until `hold(false)`: the attempt stays in
    /// flight meanwhile.
    pub fn hold(&self, holding: bool) {
        self.holding.send_replace(holding);
    }

    pub fn accepted(&self) -> Vec<Received> {
        self.kept.lock().expect("lock").accepted.clone()
    }

    pub fn refused(&self) -> Vec<Refused> {
        self.kept.lock().expect("lock").refused.clone()
    }

    /// Stops listening (the port is free again).
    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
