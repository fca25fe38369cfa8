//! Refusals as a client reads them through the gateway: every problem document carries a
//! stable `code` with its `params` (and each field error its own), and says `detail` (and
//! each field's `message`) in Simplified Chinese unless `Accept-Language` asks for
//! English. The services' refusals are triggered for real: an ineligible booking, a
//! national ID with a wrong check character, a check-in before it opens, an unknown route.

use std::time::Duration;

use linli_platform::auth::Role;
use linli_tests::TestPlatform;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// A centre, a manager's token, and a client that sends no `Accept-Language` at all.
struct Caller {
    platform: TestPlatform,
    centre: Uuid,
    token: String,
    plain: reqwest::Client,
}

impl Caller {
    async fn open() -> Caller {
        let platform = TestPlatform::start().await;
        let centre = platform.bookable_centre("Asia/Shanghai").await;
        let token = platform.token(&[Role::CentreManager], &[centre]);
        Caller {
            platform,
            centre,
            token,
            plain: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1/centres/{}{path}", self.platform.gateway, self.centre)
    }

    /// POSTs as the manager, asking for `language` (none: no header). Answers the status,
    /// the Content-Language and the body.
    async fn post(
        &self,
        path: &str,
        body: &Value,
        language: Option<&str>,
    ) -> (StatusCode, String, Value) {
        let mut request = self
            .plain
            .post(self.url(path))
            .bearer_auth(&self.token)
            .json(body);
        if let Some(language) = language {
            request = request.header("Accept-Language", language);
        }
        answer(request.send().await.expect("the gateway answers")).await
    }

    /// Creates something that must be created (asked in English, as any client may).
    async fn create(&self, path: &str, body: Value) -> String {
        let (status, _, body) = self.post(path, &body, Some("en")).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("an id").to_owned()
    }

    async fn resident(&self, born: &str) -> String {
        let id = self
            .create(
                "/residents",
                json!({ "name": "王芳", "gender": "female", "date_of_birth": born, "confirm_not_duplicate": true }),
            )
            .await;
        self.platform
            .wait_for_residents_in_bookings(&[id.parse().expect("uuid")])
            .await;
        id
    }
}

async fn answer(response: reqwest::Response) -> (StatusCode, String, Value) {
    let status = response.status();
    let headers = response.headers().clone();
    assert!(
        status.is_success()
            || headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/problem+json")),
        "a problem document: {headers:?}"
    );
    let language = headers
        .get("content-language")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, language, response.json().await.expect("JSON"))
}

fn detail(body: &Value) -> &str {
    body["detail"].as_str().expect("a detail")
}

#[tokio::test]
async fn refusals_carry_code_and_params_and_speak_chinese_unless_english_is_asked_for() {
    let caller = Caller::open().await;
    let young = caller.resident("1990-06-01").await;
    let old = caller.resident("1950-06-01").await;
    let offering = caller
        .create(
            "/offerings",
            json!({ "category": "elderly_care", "kind": "event", "name": "重阳节联欢", "capacity": 50, "min_age": 60 }),
        )
        .await;
    let session = caller
        .create(
            "/sessions",
            json!({ "offering_id": offering, "starts_at": "2030-10-10T09:00:00+08:00", "ends_at": "2030-10-10T11:00:00+08:00" }),
        )
        .await;

    // An ineligible booking: the code, its parameter and the field it is about.
    let booking = json!({ "offering_id": offering, "resident_id": young, "session_id": session });
    let (status, language, body) = caller.post("/bookings", &booking, None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(language, "zh-CN");
    assert_eq!(body["code"], "ineligible.min_age", "{body}");
    assert_eq!(body["params"]["min_age"], "60", "{body}");
    assert_eq!(body["params"]["age_band"], "18-59", "{body}");
    assert_eq!(
        detail(&body),
        "不符合参加条件：本项目限 60 岁及以上居民参加"
    );
    assert_eq!(body["errors"][0]["field"], "resident_id", "{body}");
    assert_eq!(body["errors"][0]["code"], "ineligible.min_age", "{body}");
    assert_eq!(body["errors"][0]["params"]["min_age"], "60", "{body}");
    assert_eq!(
        body["errors"][0]["message"],
        "不符合参加条件：本项目限 60 岁及以上居民参加"
    );
    // The same refusal in English: the same code, English words.
    let (status, language, body) = caller
        .post("/bookings", &booking, Some("en-GB,en;q=0.9,zh;q=0.5"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(language, "en");
    assert_eq!(body["code"], "ineligible.min_age");
    assert!(detail(&body).contains("60 and over"), "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("60 and over")),
        "{body}"
    );
    // A browser that prefers Chinese gets Chinese.
    let (_, language, body) = caller
        .post("/bookings", &booking, Some("zh-CN,zh;q=0.9,en;q=0.8"))
        .await;
    assert_eq!(language, "zh-CN");
    assert!(detail(&body).contains("60 岁及以上"), "{body}");

    // A national ID with a wrong check character: a bad request naming the field.
    let resident = json!({ "name": "赵强", "gender": "male", "date_of_birth": "1949-12-31", "national_id": "110105194912310021", "confirm_not_duplicate": true });
    let (status, _, body) = caller.post("/residents", &resident, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "invalid_request");
    assert_eq!(detail(&body), "填写的内容有误，请按提示修改");
    let error = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .find(|e| e["field"] == "national_id")
        .unwrap_or_else(|| panic!("the national ID is named: {body}"));
    assert_eq!(error["code"], "national_id.check_character");
    assert_eq!(error["message"], "身份证号校验位不正确，请再核对一遍号码");
    assert!(
        !body.to_string().contains("110105194912310021"),
        "the number is never repeated"
    );
    let (_, _, body) = caller.post("/residents", &resident, Some("en")).await;
    let error = &body["errors"][0];
    assert_eq!(error["code"], "national_id.check_character", "{body}");
    assert_eq!(
        error["reason"],
        "has a wrong check character; please re-check the number"
    );
    assert_eq!(
        error["message"],
        "has a wrong check character; please re-check the number"
    );

    // A check-in long before the session: the code says when it opens.
    let booked = caller
        .create(
            "/bookings",
            json!({ "offering_id": offering, "resident_id": old, "session_id": session }),
        )
        .await;
    let (status, _, body) = caller
        .post(&format!("/bookings/{booked}/check-in"), &json!({}), None)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "checkin.not_open", "{body}");
    assert_eq!(body["params"]["hours_before"], "2");
    assert_eq!(body["params"]["opens_at"], "2030-10-09T23:00:00Z");
    assert_eq!(detail(&body), "签到尚未开始：活动开始前 2 小时才能签到");
    let (_, _, body) = caller
        .post(
            &format!("/bookings/{booked}/check-in"),
            &json!({}),
            Some("en"),
        )
        .await;
    assert_eq!(body["code"], "checkin.not_open");
    assert_eq!(detail(&body), "check-in opens two hours before the session");

    // A field's form: a name too long and a missing one, each with its code.
    let (status, _, body) = caller
        .post(
            "/residents",
            &json!({ "name": "长".repeat(65), "gender": "male", "date_of_birth": "1949-12-31", "phone": "12345" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let by_field = |field: &str| {
        body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .find(|e| e["field"] == field)
            .cloned()
            .unwrap_or_else(|| panic!("{field} is named: {body}"))
    };
    let name = by_field("name");
    assert_eq!(name["code"], "too_long");
    assert_eq!(name["params"]["max"], "64");
    assert_eq!(name["message"], "最多 64 个字");
    assert_eq!(by_field("phone")["code"], "phone.mobile");

    // A route the gateway does not have.
    let response = caller
        .plain
        .get(format!("{}/v1/no-such-thing", caller.platform.gateway))
        .send()
        .await
        .expect("the gateway answers");
    let (status, language, body) = answer(response).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(language, "zh-CN");
    assert_eq!(body["code"], "route_not_found");
    assert_eq!(detail(&body), "没有这个地址");
    let response = caller
        .plain
        .get(format!("{}/v1/no-such-thing", caller.platform.gateway))
        .header("Accept-Language", "en")
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("the gateway answers");
    let (_, _, body) = answer(response).await;
    assert_eq!(detail(&body), "no such route");

    caller.platform.stop().await;
}

/// The services' Rust sources outside their test modules, by path.
fn service_sources() -> Vec<(std::path::PathBuf, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).expect("readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("readable");
                // Unit tests sit at the end of a file, after #[cfg(test)].
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                out.push((path, code.to_owned()));
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../services"),
        &mut out,
    );
    assert!(out.len() > 50, "the services' sources are found");
    out
}

/// Every code a service gives with `Reason::new("…")` is in the gateway's catalogue in
/// both languages, so a person never reads a code, and a new code without words fails
/// here rather than on a page.
#[test]
fn every_code_the_services_give_is_in_the_catalogue() {
    use linli_gateway::catalogue::{Lang, message};
    let mut codes = std::collections::BTreeSet::new();
    for (_, code) in service_sources() {
        for (at, _) in code.match_indices("Reason::new(") {
            let rest = code[at + "Reason::new(".len()..].trim_start();
            if let Some(quoted) = rest.strip_prefix('"') {
                codes.insert(quoted.split('"').next().unwrap_or_default().to_owned());
            }
        }
    }
    // The platform's own constructors and the directory's, named here once.
    codes.extend(
        [
            "required",
            "uuid",
            "date",
            "month",
            "time_of_day",
            "instant",
            "length",
            "too_long",
            "out_of_range",
            "one_of",
            "negative",
            "not_positive",
            "not_after",
            "in_future",
            "directory.unknown_centre",
            "directory.not_a_resident",
            "directory.not_staff",
            "directory.not_a_partner",
            "resident_probably_registered",
            "household_exists",
        ]
        .map(str::to_owned),
    );
    assert!(codes.len() > 100, "the codes are found: {codes:?}");
    let params = std::collections::BTreeMap::new();
    let missing: Vec<&String> = codes
        .iter()
        .filter(|code| {
            message(Lang::Zh, code, &params).is_none() || message(Lang::En, code, &params).is_none()
        })
        .collect();
    assert!(missing.is_empty(), "codes without words: {missing:?}");
}

/// No service refuses a field with bare English words (which travel as code `invalid`):
/// every `Violations::one(field, …)` and `violations.push(field, …)` gives a `Reason`.
#[test]
fn no_service_refuses_a_field_with_bare_words() {
    let mut bare = Vec::new();
    for (path, code) in service_sources() {
        for call in ["Violations::one(", ".push("] {
            for (at, _) in code.match_indices(call) {
                let args = &code[at + call.len()..];
                // The second argument: after the first comma outside brackets and quotes.
                let (mut depth, mut quoted, mut second) = (0i32, false, None);
                for (i, c) in args.char_indices() {
                    match c {
                        '"' => quoted = !quoted,
                        _ if quoted => {}
                        '(' | '[' | '{' => depth += 1,
                        ')' | ']' | '}' if depth == 0 => break,
                        ')' | ']' | '}' => depth -= 1,
                        ',' if depth == 0 => {
                            second = Some(args[i + 1..].trim_start());
                            break;
                        }
                        _ => {}
                    }
                }
                // A certificate's distinguished name is pushed the same way; it is no refusal.
                if let Some(second) = second
                    && (second.starts_with('"') || second.starts_with("format!"))
                    && !second.starts_with("\"linli partner gRPC\"")
                {
                    let line = code[..at].lines().count();
                    bare.push(format!("{}:{line}", path.display()));
                }
            }
        }
    }
    assert!(bare.is_empty(), "field refusals without a code: {bare:#?}");
}
