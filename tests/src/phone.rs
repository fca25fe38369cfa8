//! A resident's phone and a clerk's desk without a browser: HTTP clients that keep their
//! cookies by hand and do not follow redirects, so a suite reads each answer as it came.

use linli_platform::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::TestPlatform;
use crate::sms::SmsProvider;

/// A phone on the residents' site, with the resident's cookie once signed in.
pub struct Phone {
    pub http: reqwest::Client,
    pub gateway: String,
    pub cookie: Option<String>,
}

impl Phone {
    pub fn new(platform: &TestPlatform) -> Phone {
        Phone {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
            gateway: platform.gateway.clone(),
            cookie: None,
        }
    }

    /// Signs `phone` in through the site with the code `sms` was sent for it.
    pub async fn signed_in(platform: &TestPlatform, sms: &SmsProvider, phone: &str) -> Phone {
        let mut browser = Phone::new(platform);
        let before = sms.sent_to(phone).len();
        let (status, _) = browser.post("/r/sign-in/code", &[("phone", phone)]).await;
        assert_eq!(status, StatusCode::OK);
        let code = sms.code(phone, before + 1).await;
        let (status, _) = browser
            .post("/r/sign-in", &[("phone", phone), ("code", &code)])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "a right code signs in");
        browser
    }

    /// Posts a form; a resident's cookie it is given is kept (an emptied one dropped).
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
        let mut request = self.http.post(format!("{}{path}", self.gateway)).form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.expect("the gateway answers");
        let status = response.status();
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().expect("ascii");
            if let Some(rest) = text.strip_prefix("linli_resident=") {
                let token = rest.split(';').next().unwrap_or_default();
                self.cookie = (!token.is_empty()).then(|| format!("linli_resident={token}"));
            }
        }
        (status, response.text().await.unwrap_or_default())
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let mut request = self.http.get(format!("{}{path}", self.gateway));
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        let response = request.send().await.expect("the gateway answers");
        (response.status(), response.text().await.unwrap_or_default())
    }

    /// The resident's token the cookie holds.
    pub fn token(&self) -> String {
        self.cookie
            .as_deref()
            .and_then(|c| c.strip_prefix("linli_resident="))
            .expect("signed in")
            .to_owned()
    }
}

/// The value of the first CSRF field on a console page.
pub fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a csrf field")
        .to_owned()
}

/// A console user signed in with their password: a client and the cookies to send.
pub async fn console_user(
    platform: &TestPlatform,
    username: &str,
    password: &str,
) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let page = http
        .get(format!("{}/sign-in", platform.gateway))
        .send()
        .await
        .expect("sign-in page");
    let mut cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    let csrf = csrf_of(&page.text().await.unwrap_or_default());
    let signed = http
        .post(format!("{}/sign-in", platform.gateway))
        .header("cookie", cookies.join("; "))
        .form(&[
            ("csrf", csrf.as_str()),
            ("next", "/dashboard"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .expect("signed in");
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    cookies.extend(
        signed
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned)),
    );
    (http, cookies.join("; "))
}

/// A centre for the residents' suites: a platform whose codes go to a loopback SMS
/// provider, one centre, its manager's token, and residents registered through the API
/// with their phone numbers on record.
pub struct SiteCentre {
    pub platform: TestPlatform,
    pub sms: SmsProvider,
    pub centre: Uuid,
    pub manager: String,
}

impl SiteCentre {
    pub async fn open() -> SiteCentre {
        let sms = SmsProvider::start().await;
        let args = sms.args();
        let platform = TestPlatform::start_with(|serve| serve.sms = args).await;
        let centre = platform.bookable_centre("Asia/Shanghai").await;
        let manager = platform.token(&[Role::CentreManager], &[centre]);
        SiteCentre {
            platform,
            sms,
            centre,
            manager,
        }
    }

    /// POSTs to the centre's `path` as its manager, expecting 201.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let path = format!("/v1/centres/{}{path}", self.centre);
        let (status, body) = self
            .platform
            .post_json(&self.manager, &path, &body, None)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {body}");
        body
    }

    /// PUTs to the centre's `path` as its manager, expecting 200.
    pub async fn put(&self, path: &str, body: Value) -> Value {
        let response = self
            .platform
            .http
            .put(format!(
                "{}/v1/centres/{}{path}",
                self.platform.gateway, self.centre
            ))
            .bearer_auth(&self.manager)
            .json(&body)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// A resident registered with `phone`, once bookings and evaluation know of them.
    pub async fn resident(&self, name: &str, born: &str, phone: &str) -> Uuid {
        let body = self
            .post(
                "/residents",
                json!({ "name": name, "gender": "female", "date_of_birth": born, "phone": phone, "confirm_not_duplicate": true }),
            )
            .await;
        let id: Uuid = body["id"].as_str().expect("an id").parse().expect("uuid");
        self.platform.wait_for_residents_in_bookings(&[id]).await;
        self.platform
            .wait_in_directory("evaluation", "residents", &[id])
            .await;
        id
    }

    /// A session of a new offering (its body `extra` added), tomorrow at 09:30 Beijing time.
    pub async fn session(&self, name: &str, capacity: i32, extra: Value) -> (String, String) {
        let mut offering = json!({ "category": "culture_education", "kind": "event", "name": name, "capacity": capacity });
        if let (Some(body), Some(extra)) = (offering.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let offering = self.post("/offerings", offering).await["id"]
            .as_str()
            .expect("an offering")
            .to_owned();
        let day = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
        let session = self
            .post(
                "/sessions",
                json!({ "offering_id": offering, "starts_at": format!("{day}T01:30:00Z"), "ends_at": format!("{day}T03:00:00Z") }),
            )
            .await["id"]
            .as_str()
            .expect("a session")
            .to_owned();
        (offering, session)
    }

    /// Signs `phone` in through the site with the code the SMS provider was sent.
    pub async fn sign_in(&self, phone: &str) -> Phone {
        Phone::signed_in(&self.platform, &self.sms, phone).await
    }
}
