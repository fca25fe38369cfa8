//! Licences end to end (issue 24): a nurse or doctor needs a medical licence, a teacher a
//! teacher's certificate, valid on the day of the session they are put on; the refusal
//! names the licence (and the day it expired) in Chinese through the gateway, and a licence
//! nearing its expiry raises the same alert in evaluation's inbox as any certification.
//! The whole platform on the real PostgreSQL and RabbitMQ, every write through the gateway.

use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use linli_platform::auth::Role;
use linli_proto::evaluation::v1 as ev;
use linli_proto::evaluation::v1::evaluation_client::EvaluationClient;
use linli_tests::{TestPlatform, bearer, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(30);

/// The centre's today (Asia/Shanghai).
fn today() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// A centre with its manager (who plans sessions and records staff) and a coordinator (who
/// records licences and puts staff on sessions).
struct Centre {
    platform: TestPlatform,
    id: Uuid,
    manager: String,
    coordinator: String,
}

impl Centre {
    async fn open() -> Centre {
        let platform = TestPlatform::start().await;
        let id = platform.bookable_centre("Asia/Shanghai").await;
        let manager = platform.token(&[Role::CentreManager], &[id]);
        let coordinator = platform.token(&[Role::Coordinator], &[id]);
        Centre {
            platform,
            id,
            manager,
            coordinator,
        }
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let path = format!("/v1/centres/{}{path}", self.id);
        self.platform.post_json(token, &path, &body, None).await
    }

    async fn created(&self, token: &str, path: &str, body: Value) -> String {
        let (status, body) = self.post(token, path, body).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {body}");
        body["id"].as_str().expect("an id").to_owned()
    }

    async fn staff(&self, name: &str, position: &str) -> String {
        self.created(
            &self.manager,
            "/staff",
            json!({ "name": name, "position": position, "employed_from": "2020-01-01" }),
        )
        .await
    }

    async fn licence(&self, holder: &str, kind: &str, expires_on: NaiveDate) {
        self.created(
            &self.coordinator,
            "/certifications",
            json!({ "holder_id": holder, "kind": kind, "issuer": "区卫生健康委员会",
                    "number": format!("L-{}", &Uuid::new_v4().simple().to_string()[..8]),
                    "issued_on": "2019-01-01", "expires_on": expires_on.to_string() }),
        )
        .await;
    }

    /// Puts `staff` on the session, in Chinese (no Accept-Language asks otherwise).
    async fn assign(&self, offering: &str, session: &str, staff: &str) -> (StatusCode, Value) {
        let response = reqwest::Client::new()
            .post(format!(
                "{}/v1/centres/{}/offerings/{offering}/sessions/{session}/staff",
                self.platform.gateway, self.id
            ))
            .bearer_auth(&self.coordinator)
            .json(&json!({ "staff_id": staff }))
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_nurse_is_put_on_a_session_only_with_a_medical_licence_valid_on_its_day() {
    let centre = Centre::open().await;
    let nurse = centre.staff("王护士", "nurse").await;
    let teacher = centre.staff("李老师", "teacher").await;
    let social_worker = centre.staff("张社工", "social_worker").await;
    let offering = centre
        .created(
            &centre.manager,
            "/offerings",
            json!({ "category": "health", "kind": "appointment", "name": "血压检测", "capacity": 3 }),
        )
        .await;
    let day = today() + Days::new(20);
    let session = centre
        .created(
            &centre.manager,
            "/sessions",
            json!({ "offering_id": offering, "starts_at": format!("{day}T09:00:00+08:00"),
                    "ends_at": format!("{day}T10:00:00+08:00") }),
        )
        .await;

    // No licence at all: refused, the licence named.
    let (status, body) = centre.assign(&offering, &session, &nurse).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "staff.not_licensed", "{body}");
    assert_eq!(body["params"]["licence"], "medical_licence", "{body}");
    assert_eq!(
        body["detail"],
        "该员工没有医师/护士执业证书，不能安排提供此项服务"
    );
    assert_eq!(body["errors"][0]["field"], "staff_id", "{body}");

    // A licence that expired the day before the session: refused, with both days.
    let expired = day - Days::new(1);
    centre.licence(&nurse, "medical_licence", expired).await;
    let (status, body) = centre.assign(&offering, &session, &nurse).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "staff.not_licensed", "{body}");
    assert_eq!(body["params"]["expired_on"], expired.to_string(), "{body}");
    assert_eq!(body["params"]["session_on"], day.to_string(), "{body}");
    assert_eq!(
        body["detail"],
        format!("该员工的医师/护士执业证书已于 {expired} 过期，早于场次日期 {day}，不能安排")
    );
    // A certificate of another kind does not stand in for it.
    centre
        .licence(&nurse, "first_aid", day + Days::new(365))
        .await;
    let (status, body) = centre.assign(&offering, &session, &nurse).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Renewed, valid through the session's very day: put on it.
    centre.licence(&nurse, "medical_licence", day).await;
    let (status, assigned) = centre.assign(&offering, &session, &nurse).await;
    assert_eq!(status, StatusCode::CREATED, "{assigned}");
    assert_eq!(assigned["staff_id"], nurse.as_str());
    assert_eq!(assigned["session_id"], session.as_str());
    assert_eq!(assigned["offering_id"], offering.as_str());
    assert_eq!(assigned["session_on"], day.to_string());
    assert_eq!(assigned["licence"], "medical_licence");
    // Asked again: the same assignment.
    let (status, again) = centre.assign(&offering, &session, &nurse).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["id"], assigned["id"]);

    // A teacher needs a teacher's certificate; a social worker needs no licence.
    let (status, body) = centre.assign(&offering, &session, &teacher).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["params"]["licence"], "teacher_certificate", "{body}");
    assert_eq!(body["detail"], "该员工没有教师资格证，不能安排提供此项服务");
    let (status, body) = centre.assign(&offering, &session, &social_worker).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["licence"], Value::String(String::new()));

    // The session's staff, as listed.
    let (status, list) = centre
        .platform
        .get_json(
            &centre.manager,
            &format!(
                "/v1/centres/{}/staff-assignments?session_id={session}",
                centre.id
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let mut staff: Vec<&str> = list["assignments"]
        .as_array()
        .expect("assignments")
        .iter()
        .map(|a| a["staff_id"].as_str().expect("staff id"))
        .collect();
    staff.sort();
    let mut expected = vec![nurse.as_str(), social_worker.as_str()];
    expected.sort();
    assert_eq!(staff, expected);

    // A session the offering does not have is not found; the desk may not assign.
    let (status, body) = centre
        .assign(&offering, &Uuid::new_v4().to_string(), &nurse)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let desk = centre.platform.token(&[Role::FrontDesk], &[centre.id]);
    let (status, body) = centre
        .platform
        .post_json(
            &desk,
            &format!(
                "/v1/centres/{}/offerings/{offering}/sessions/{session}/staff",
                centre.id
            ),
            &json!({ "staff_id": social_worker }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    centre.platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_session_day_decides_whether_a_licence_is_valid() {
    // The day decides, not the day of asking: a doctor licensed until the 30th is put on a
    // session on the 30th, and refused for one on the 31st.
    let centre = Centre::open().await;
    let doctor = centre.staff("赵医生", "doctor").await;
    let offering = centre
        .created(
            &centre.manager,
            "/offerings",
            json!({ "category": "health", "kind": "appointment", "name": "家庭医生义诊", "capacity": 10 }),
        )
        .await;
    let last = today() + Days::new(30);
    centre.licence(&doctor, "medical_licence", last).await;
    let mut sessions = Vec::new();
    for day in [last, last + Days::new(1)] {
        sessions.push(
            centre
                .created(
                    &centre.manager,
                    "/sessions",
                    json!({ "offering_id": offering, "starts_at": format!("{day}T14:00:00+08:00"),
                            "ends_at": format!("{day}T16:00:00+08:00") }),
                )
                .await,
        );
    }
    let (status, body) = centre.assign(&offering, &sessions[0], &doctor).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = centre.assign(&offering, &sessions[1], &doctor).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["params"]["expired_on"], last.to_string(), "{body}");
    centre.platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expiring_licence_raises_the_certification_alert() {
    let centre = Centre::open().await;
    let teacher = centre.staff("陈老师", "teacher").await;
    let expires_on = today() + Days::new(10);
    centre
        .licence(&teacher, "teacher_certificate", expires_on)
        .await;

    let mut client = EvaluationClient::connect(format!("http://{}", centre.platform.evaluation))
        .await
        .expect("evaluation answers");
    let alert = poll("the licence's alert", DEADLINE, || {
        let mut client = client.clone();
        let (manager, id) = (centre.manager.clone(), centre.id);
        async move {
            let page = client
                .list_alerts(bearer(
                    &manager,
                    ev::ListAlertsRequest {
                        centre_id: id.to_string(),
                        page_size: 50,
                        page_token: String::new(),
                    },
                ))
                .await
                .ok()?
                .into_inner();
            page.alerts
                .into_iter()
                .find(|a| a.kind == "certification_expiring")
        }
    })
    .await;
    assert_eq!(alert.subject_kind, "staff");
    assert_eq!(alert.subject_id, teacher);
    assert_eq!(alert.details["certification_kind"], "teacher_certificate");
    assert_eq!(alert.details["expires_on"], expires_on.to_string());
    assert_eq!(alert.details["days_left"], "10");
    // The coordinator, who handles certifications, sees it too.
    let page = client
        .list_alerts(bearer(
            &centre.coordinator,
            ev::ListAlertsRequest {
                centre_id: centre.id.to_string(),
                page_size: 50,
                page_token: String::new(),
            },
        ))
        .await
        .expect("the coordinator's inbox")
        .into_inner();
    assert!(page.alerts.iter().any(|a| a.id == alert.id));
    centre.platform.stop().await;
}
