//! How a sign-in code reaches a resident: the [`CodeSender`] seam, with an SMS provider
//! over HTTP for a district that has one, and the front desk for a centre that has not
//! (the code is shown to the centre's staff on the console page 验证码发放, and the desk
//! reads it out to the resident standing there). Neither logs a number or a code.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Where sign-in codes are sent. Without `LINLI_SMS_URL`, codes go to the front desk.
#[derive(clap::Args, Clone, Debug)]
pub struct SmsArgs {
    /// The SMS provider's endpoint: the gateway POSTs `{"phone", "message"}` as JSON to
    /// it. Unset: codes are shown to the centre's front desk instead (验证码发放).
    #[arg(long = "sms-url", env = "LINLI_SMS_URL")]
    pub url: Option<String>,
    /// The provider's API key, sent as `Authorization: Bearer <key>`.
    #[arg(long = "sms-key", env = "LINLI_SMS_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// The message, with `{code}` where the code goes (and `{minutes}` for its life).
    #[arg(
        long = "sms-template",
        env = "LINLI_SMS_TEMPLATE",
        default_value = SMS_TEMPLATE
    )]
    pub template: String,
}

/// The message sent when no template is configured.
pub const SMS_TEMPLATE: &str =
    "【邻里】您的登录验证码是 {code}，{minutes} 分钟内有效。请勿告诉他人。";

impl Default for SmsArgs {
    /// No provider: codes go to the front desk.
    fn default() -> Self {
        SmsArgs {
            url: None,
            key: None,
            template: SMS_TEMPLATE.into(),
        }
    }
}

/// One code to deliver. `Debug` hides the number and the code.
#[derive(Clone)]
pub struct Delivery {
    pub phone: String,
    pub code: String,
    pub centre: Uuid,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("centre", &self.centre)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the SMS provider could not be reached")]
    Unreachable,
    #[error("the SMS provider answered {0}")]
    Refused(u16),
}

pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// Delivers a sign-in code to a resident.
pub trait CodeSender: Send + Sync {
    fn send<'a>(&'a self, delivery: &'a Delivery) -> Sending<'a>;
}

/// The sender `args` configure: the SMS provider when it has a URL, else the desk.
pub fn from_args(args: &SmsArgs, desk: &DeskCodes) -> Arc<dyn CodeSender> {
    match &args.url {
        Some(url) if !url.trim().is_empty() => Arc::new(SmsProvider {
            url: url.trim().to_owned(),
            key: args.key.clone().unwrap_or_default(),
            template: args.template.clone(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .expect("an HTTP client with a timeout builds"),
        }),
        _ => Arc::new(desk.clone()),
    }
}

/// An SMS provider reached over HTTP.
pub struct SmsProvider {
    url: String,
    key: String,
    template: String,
    http: reqwest::Client,
}

impl SmsProvider {
    fn message(&self, delivery: &Delivery) -> String {
        // Whole minutes left, rounded up: a code sent at once says 5.
        let seconds = (delivery.expires_at - Utc::now()).num_seconds();
        let minutes = ((seconds + 59) / 60).max(1);
        self.template
            .replace("{code}", &delivery.code)
            .replace("{minutes}", &minutes.to_string())
    }
}

impl CodeSender for SmsProvider {
    fn send<'a>(&'a self, delivery: &'a Delivery) -> Sending<'a> {
        Box::pin(async move {
            let body = serde_json::json!({
                "phone": delivery.phone,
                "message": self.message(delivery),
            });
            let mut request = self.http.post(&self.url).json(&body);
            if !self.key.is_empty() {
                request = request.bearer_auth(&self.key);
            }
            // reqwest's error would name the URL only, never the body; still, say less.
            let response = request.send().await.map_err(|_| SendError::Unreachable)?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(SendError::Refused(response.status().as_u16()))
            }
        })
    }
}

/// One code waiting at a centre's desk.
#[derive(Clone)]
pub struct DeskCode {
    pub centre: Uuid,
    /// `138****5678`: enough for the desk to match the person, no more.
    pub masked_phone: String,
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

/// Codes for the front desk to read out, kept in this gateway's memory only until they
/// expire (never written anywhere), each shown only to the staff of the resident's centre.
#[derive(Clone, Default)]
pub struct DeskCodes {
    codes: Arc<Mutex<VecDeque<DeskCode>>>,
}

/// Past this many waiting codes the oldest are dropped (they expire in five minutes).
const DESK_MAX: usize = 1000;

impl DeskCodes {
    /// The codes still valid at `centre`, newest first.
    pub fn at(&self, centre: Uuid) -> Vec<DeskCode> {
        let now = Utc::now();
        let mut codes = self
            .codes
            .lock()
            .expect("desk codes lock is never poisoned");
        codes.retain(|c| c.expires_at > now);
        codes
            .iter()
            .rev()
            .filter(|c| c.centre == centre)
            .cloned()
            .collect()
    }
}

pub fn mask(phone: &str) -> String {
    if phone.len() == 11 && phone.is_ascii() {
        format!("{}****{}", &phone[..3], &phone[7..])
    } else {
        "****".into()
    }
}

impl CodeSender for DeskCodes {
    fn send<'a>(&'a self, delivery: &'a Delivery) -> Sending<'a> {
        Box::pin(async move {
            let mut codes = self
                .codes
                .lock()
                .expect("desk codes lock is never poisoned");
            let now = Utc::now();
            codes.retain(|c| c.expires_at > now);
            // A new code for the same number replaces the one before (only the latest works).
            let masked = mask(&delivery.phone);
            codes.retain(|c| !(c.centre == delivery.centre && c.masked_phone == masked));
            if codes.len() >= DESK_MAX {
                codes.pop_front();
            }
            codes.push_back(DeskCode {
                centre: delivery.centre,
                masked_phone: masked,
                code: delivery.code.clone(),
                expires_at: delivery.expires_at,
            });
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_prints_neither_number_nor_code() {
        let delivery = Delivery {
            phone: "13812345678".into(),
            code: "493817".into(),
            centre: Uuid::nil(),
            expires_at: Utc::now(),
        };
        let printed = format!("{delivery:?}");
        assert!(!printed.contains("13812345678") && !printed.contains("493817"));
    }

    #[tokio::test]
    async fn the_desk_shows_a_code_only_at_the_residents_centre_and_only_the_latest() {
        let desk = DeskCodes::default();
        let (here, there) = (Uuid::new_v4(), Uuid::new_v4());
        let later = Utc::now() + chrono::Duration::minutes(5);
        for code in ["111111", "222222"] {
            let delivery = Delivery {
                phone: "13812345678".into(),
                code: code.into(),
                centre: here,
                expires_at: later,
            };
            desk.send(&delivery)
                .await
                .expect("the desk always takes a code");
        }
        let shown = desk.at(here);
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].code, "222222");
        assert_eq!(shown[0].masked_phone, "138****5678");
        assert!(desk.at(there).is_empty());
    }
}
