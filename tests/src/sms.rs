//! A small SMS provider on loopback for the suites: a real HTTP server (axum) that takes
//! the gateway's `{"phone", "message"}` with the right key and keeps what it was asked to
//! send, so a test reads the sign-in code a resident would have received.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderMap, StatusCode};
use linli_gateway::residents_site::SmsArgs;
use serde_json::Value;

use crate::poll;

const KEY: &str = "sms-test-key";

/// One message the stand-in was asked to send.
#[derive(Clone, Debug)]
pub struct Sms {
    pub phone: String,
    pub message: String,
}

/// A small SMS provider on loopback: it takes `{"phone", "message"}` with the right key
/// and keeps what it was asked to send.
pub struct SmsProvider {
    url: String,
    sent: Arc<Mutex<Vec<Sms>>>,
    pub refused_keys: Arc<Mutex<usize>>,
}

impl SmsProvider {
    pub async fn start() -> SmsProvider {
        let sent: Arc<Mutex<Vec<Sms>>> = Arc::default();
        let refused_keys: Arc<Mutex<usize>> = Arc::default();
        let (kept, refused) = (sent.clone(), refused_keys.clone());
        let app = axum::Router::new().route(
            "/v1/sms",
            axum::routing::post(move |headers: HeaderMap, Json(body): Json<Value>| {
                let (kept, refused) = (kept.clone(), refused.clone());
                async move {
                    let authorised = headers.get("authorization").and_then(|v| v.to_str().ok())
                        == Some(&format!("Bearer {KEY}"));
                    if !authorised {
                        *refused.lock().expect("lock") += 1;
                        return StatusCode::UNAUTHORIZED;
                    }
                    kept.lock().expect("lock").push(Sms {
                        phone: body["phone"].as_str().unwrap_or_default().to_owned(),
                        message: body["message"].as_str().unwrap_or_default().to_owned(),
                    });
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let address = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        SmsProvider {
            url: format!("http://{address}/v1/sms"),
            sent,
            refused_keys,
        }
    }

    pub fn args(&self) -> SmsArgs {
        SmsArgs {
            url: Some(self.url.clone()),
            key: Some(KEY.into()),
            template: "【邻里】验证码 {code}，{minutes} 分钟内有效".into(),
        }
    }

    pub fn sent_to(&self, phone: &str) -> Vec<String> {
        self.sent
            .lock()
            .expect("lock")
            .iter()
            .filter(|sms| sms.phone == phone)
            .map(|sms| sms.message.clone())
            .collect()
    }

    /// The code of the `n`th message (from 1) to `phone`, once it has come.
    pub async fn code(&self, phone: &str, n: usize) -> String {
        poll(
            "the SMS provider to be asked",
            Duration::from_secs(20),
            || async {
                let sent = self.sent_to(phone);
                let message = sent.get(n - 1)?;
                let code: String = message
                    .split("验证码 ")
                    .nth(1)?
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                (code.len() == 6).then_some(code)
            },
        )
        .await
    }
}
