//! Rate limits per caller kind, through the real gateway and partner port (issue 25,
//! item 8): a staff token has the default per-credential rate; a kiosk's or an
//! integration's token carries a rate of its own; a partner has its agreement's; residents'
//! sign-in is limited per number and per client address. Each refusal is 429 with
//! `Retry-After` (a Chinese problem or page) or, on the partner port, RESOURCE_EXHAUSTED.
//!
//! The platforms here replenish one request every 10 minutes by default (and the
//! agreements one a minute), so a count is exact: governor lets through at most the
//! burst plus one per period elapsed, which each count's bound says.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use linli_platform::auth::{RateClaim, Role};
use linli_platform::partner::IssuedCertificate;
use linli_proto::bookings::v1 as bookings;
use linli_proto::bookings::v1::bookings_client::BookingsClient;
use linli_tests::phone::Phone;
use linli_tests::{TestPlatform, partner_ca, partner_channel, with_partner_tls};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tonic::Code;
use uuid::Uuid;

/// The default per-credential rate of these platforms: 10 at once, one back every 600 s.
const BURST: u32 = 10;
const PERIOD: Duration = Duration::from_secs(600);

fn slow_defaults(args: &mut linli::ServeArgs) {
    args.limits.rate_per_second = 1.0 / PERIOD.as_secs_f64();
    args.limits.rate_burst = BURST;
}

/// The most governor lets through for a burst of `burst` replenished one per `period`,
/// in `elapsed`.
fn at_most(burst: u32, period: Duration, elapsed: Duration) -> u32 {
    burst + (elapsed.as_secs_f64() / period.as_secs_f64()).floor() as u32
}

/// Sends `GET /v1/centres` with `token` (a client with no language preference: Chinese)
/// until refused, at most `limit` times: how many were answered, the refusal, and the time
/// taken.
async fn until_refused(
    platform: &TestPlatform,
    token: &str,
    limit: u32,
) -> (u32, Option<reqwest::Response>, Duration) {
    let http = reqwest::Client::new();
    let started = Instant::now();
    for answered in 0..limit {
        let response = http
            .get(format!("{}/v1/centres", platform.gateway))
            .bearer_auth(token)
            .send()
            .await
            .expect("the gateway answers");
        match response.status() {
            StatusCode::OK => {}
            StatusCode::TOO_MANY_REQUESTS => {
                return (answered, Some(response), started.elapsed());
            }
            other => panic!("answered {other}"),
        }
    }
    (limit, None, started.elapsed())
}

/// A 429 problem in Chinese with its stable code and a `Retry-After` of whole seconds,
/// at most `period`.
async fn assert_refused_in_chinese(response: reqwest::Response, period: Duration) {
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("whole seconds");
    assert!((1..=period.as_secs()).contains(&wait), "Retry-After {wait}");
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body: Value = response.json().await.expect("a problem document");
    assert_eq!(body["code"], "rate_limited", "{body}");
    assert_eq!(body["status"], 429, "{body}");
    assert!(
        body.to_string().contains("请求过于频繁"),
        "said in Chinese: {body}"
    );
}

fn district_token(platform: &TestPlatform, subject: &str, rate: Option<RateClaim>) -> String {
    let ttl = chrono::Duration::hours(1);
    match rate {
        Some(rate) => {
            platform
                .keys
                .issue_with_rate(subject, &[Role::DistrictAdmin], &[], ttl, rate)
        }
        None => platform
            .keys
            .issue(subject, &[Role::DistrictAdmin], &[], ttl),
    }
}

#[tokio::test]
async fn a_staff_token_is_refused_past_its_burst_others_are_not_and_a_kiosk_token_has_its_own_rate()
{
    let platform = TestPlatform::start_with(slow_defaults).await;

    // A staff token: the default burst, then 429; another staff token is still answered.
    let desk = district_token(&platform, "desk-clerk", None);
    let (answered, refused, elapsed) = until_refused(&platform, &desk, 40).await;
    assert!(
        answered >= BURST && answered <= at_most(BURST, PERIOD, elapsed),
        "{answered} answered in {elapsed:?}"
    );
    assert_refused_in_chinese(refused.expect("refused past the burst"), PERIOD).await;
    let other = district_token(&platform, "other-clerk", None);
    let (status, _) = platform.get_json(&other, "/v1/centres").await;
    assert_eq!(status, StatusCode::OK, "another credential is unaffected");
    // The refused one is still refused.
    let (status, _) = platform.get_json(&desk, "/v1/centres").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // A kiosk's token given more (`linli token --rate-per-minute 1 --burst 25`), and an
    // integration's given less.
    let minute = Duration::from_secs(60);
    let kiosk = district_token(
        &platform,
        "lobby-kiosk",
        Some(RateClaim {
            per_minute: 1,
            burst: 25,
        }),
    );
    let (answered, refused, elapsed) = until_refused(&platform, &kiosk, 60).await;
    assert!(
        answered >= 25 && answered <= at_most(25, minute, elapsed),
        "the kiosk: {answered} answered in {elapsed:?}"
    );
    assert_refused_in_chinese(refused.expect("refused past its own burst"), minute).await;
    let integration = district_token(
        &platform,
        "nightly-export",
        Some(RateClaim {
            per_minute: 1,
            burst: 3,
        }),
    );
    let (answered, refused, elapsed) = until_refused(&platform, &integration, 20).await;
    assert!(
        answered >= 3 && answered <= at_most(3, minute, elapsed),
        "the integration: {answered} answered in {elapsed:?}"
    );
    assert!(answered < BURST, "fewer than the default");
    assert_refused_in_chinese(refused.expect("refused past its own burst"), minute).await;
    platform.stop().await;
}

/// A platform with a partner port and the slow default, a centre, and a setup token with
/// room for the setting up.
struct District {
    platform: TestPlatform,
    dir: PathBuf,
    admin: String,
    centre: Uuid,
}

impl District {
    async fn open() -> District {
        let mut dir = PathBuf::new();
        let platform = TestPlatform::start_with(|args| {
            slow_defaults(args);
            dir = with_partner_tls(args);
        })
        .await;
        let centre = platform.bookable_centre("Asia/Shanghai").await;
        let admin = district_token(
            &platform,
            "district-setup",
            Some(RateClaim {
                per_minute: 600_000,
                burst: 10_000,
            }),
        );
        District {
            platform,
            dir,
            admin,
            centre,
        }
    }

    async fn created(&self, path: &str, body: Value) -> Value {
        let (status, body) = self
            .platform
            .post_json(&self.admin, path, &body, None)
            .await;
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// A partner with an agreement to read bookings at the centre, at `rate` (per minute,
    /// burst) or the default, and its registered certificate.
    async fn partner(&self, name: &str, rate: Option<(u32, u32)>) -> IssuedCertificate {
        let partner = self
            .created(
                "/v1/partners",
                json!({ "name": name, "kind": "enterprise", "contacts": [] }),
            )
            .await["id"]
            .as_str()
            .expect("partner id")
            .to_owned();
        let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
        let mut body = json!({
            "centre_id": self.centre, "provides": "送餐服务",
            "scopes": ["bookings.bookings:read"],
            "valid_from": (today - chrono::Duration::days(1)).to_string(),
            "valid_until": (today + chrono::Duration::days(365)).to_string(),
        });
        if let Some((per_minute, burst)) = rate {
            body["rate_per_minute"] = json!(per_minute);
            body["rate_burst"] = json!(burst);
        }
        let agreement = self
            .created(&format!("/v1/partners/{partner}/agreements"), body)
            .await;
        let (per_minute, burst) = rate.unwrap_or((0, 0));
        assert_eq!(agreement["rate_per_minute"], per_minute, "{agreement}");
        assert_eq!(agreement["rate_burst"], burst, "{agreement}");
        let issued = partner_ca(&self.dir)
            .issue_client(name, 30)
            .expect("a certificate");
        self.created(
            &format!("/v1/partners/{partner}/credentials"),
            json!({ "certificate_pem": issued.certificate_pem }),
        )
        .await;
        issued
    }

    /// Lists the centre's bookings on the partner port as `certificate` until refused, at
    /// most `limit` times: how many were answered, and the time taken.
    async fn calls_until_refused(
        &self,
        certificate: &IssuedCertificate,
        limit: u32,
    ) -> (u32, Duration) {
        let channel = partner_channel(&self.platform, &self.dir, Some(certificate))
            .await
            .expect("the partner port accepts a registered certificate");
        let mut api = BookingsClient::new(channel);
        let started = Instant::now();
        for answered in 0..limit {
            let request = bookings::ListBookingsRequest {
                centre_id: self.centre.to_string(),
                ..Default::default()
            };
            match api.list_bookings(request).await {
                Ok(_) => {}
                Err(status) => {
                    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                    let wait: u64 = status
                        .metadata()
                        .get("retry-after")
                        .expect("a retry-after")
                        .to_str()
                        .expect("ASCII")
                        .parse()
                        .expect("whole seconds");
                    assert!((1..=PERIOD.as_secs()).contains(&wait), "retry-after {wait}");
                    return (answered, started.elapsed());
                }
            }
        }
        (limit, started.elapsed())
    }
}

#[tokio::test]
async fn a_partner_is_held_to_its_agreements_rate_more_or_less_than_the_default() {
    let district = District::open().await;
    let minute = Duration::from_secs(60);
    let generous = district.partner("送餐平台", Some((1, 25))).await;
    let sparing = district.partner("体检机构", Some((1, 3))).await;
    let plain = district.partner("家政公司", None).await;

    let (answered, elapsed) = district.calls_until_refused(&plain, 40).await;
    assert!(
        answered >= BURST && answered <= at_most(BURST, PERIOD, elapsed),
        "no rate of its own, the default: {answered} in {elapsed:?}"
    );
    let (answered, elapsed) = district.calls_until_refused(&generous, 60).await;
    assert!(
        answered >= 25 && answered <= at_most(25, minute, elapsed),
        "a higher agreement rate: {answered} in {elapsed:?}"
    );
    let (answered, elapsed) = district.calls_until_refused(&sparing, 20).await;
    assert!(
        answered >= 3 && answered <= at_most(3, minute, elapsed) && answered < BURST,
        "a lower agreement rate: {answered} in {elapsed:?}"
    );
    std::fs::remove_dir_all(&district.dir).ok();
    district.platform.stop().await;
}

#[tokio::test]
async fn residents_sign_in_is_limited_per_number_and_per_address_in_chinese_with_retry_after() {
    let platform = TestPlatform::start().await;
    let mut phone = Phone::new(&platform);
    let started = Instant::now();
    let mut posts = 0u32;

    // Five codes for a number, then 429 beside the number, with when to try again (the
    // registry's hour, from the first of the five).
    for n in 1..=5 {
        let (status, page) = phone
            .post("/r/sign-in/code", &[("phone", "13812345678")])
            .await;
        posts += 1;
        assert_eq!(status, StatusCode::OK, "code {n}: {page}");
    }
    let response = phone
        .http
        .post(format!("{}/r/sign-in/code", platform.gateway))
        .form(&[("phone", "13812345678")])
        .send()
        .await
        .expect("the gateway answers");
    posts += 1;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("whole seconds");
    assert!((3000..=3600).contains(&wait), "Retry-After {wait}");
    let page = response.text().await.expect("a page");
    assert!(page.contains("获取验证码的次数太多了"), "{page}");
    assert!(page.contains("value=\"13812345678\""), "kept: {page}");
    // Another number from the same address is not held by that number's limit.
    let (status, _) = phone
        .post("/r/sign-in/code", &[("phone", "13912345678")])
        .await;
    posts += 1;
    assert_eq!(status, StatusCode::OK);

    // Per address: tries at many numbers (which the registry counts per code only) are
    // answered until the address's 30 sign-in posts are spent, then 429 in Chinese.
    let mut refused = None;
    for n in 0..60 {
        let number = format!("1370000{n:04}");
        let response = phone
            .http
            .post(format!("{}/r/sign-in", platform.gateway))
            .form(&[("phone", number.as_str()), ("code", "123456")])
            .send()
            .await
            .expect("the gateway answers");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            refused = Some(response);
            break;
        }
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "a wrong code");
        posts += 1;
    }
    let elapsed = started.elapsed();
    let every = Duration::from_secs(2);
    assert!(
        posts >= 30 && posts <= at_most(30, every, elapsed),
        "{posts} posts answered in {elapsed:?}"
    );
    let response = refused.expect("refused past the address's allowance");
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("whole seconds");
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
    let page = response.text().await.expect("a page");
    assert!(page.contains("操作太频繁了"), "{page}");
    assert!(page.contains("lang=\"zh"), "a Chinese page: {page}");
    platform.stop().await;
}
