//! Partners who deliver (issue 24): a partner's own system, on the partner gRPC port over
//! mutual TLS, adds sessions to the offerings it provides at its agreement's centre (and
//! to no one else's), and records who came (check-in, under the desk's rules), which the
//! centre's evaluation counts as attendance like any other.

use std::path::PathBuf;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use linli_platform::partner::IssuedCertificate;
use linli_proto::bookings::v1 as bookings;
use linli_proto::bookings::v1::bookings_client::BookingsClient;
use linli_tests::{TestPlatform, partner_ca, partner_channel, poll, with_partner_tls};
use prost::Message;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tonic::Code;
use uuid::Uuid;

const DEADLINE: StdDuration = StdDuration::from_secs(30);

/// A platform with a partner port, one centre and helpers over the gateway (as in
/// tests/tests/partners.rs).
struct District {
    platform: TestPlatform,
    dir: PathBuf,
    admin: String,
    a: Uuid,
}

impl District {
    async fn open() -> District {
        let mut dir = PathBuf::new();
        let platform = TestPlatform::start_with(|args| dir = with_partner_tls(args)).await;
        let a = platform.bookable_centre("Asia/Shanghai").await;
        let admin = platform.admin_token();
        District {
            platform,
            dir,
            admin,
            a,
        }
    }

    async fn stop(self) {
        std::fs::remove_dir_all(&self.dir).ok();
        self.platform.stop().await;
    }

    async fn created(&self, path: &str, body: Value) -> Value {
        let (status, body) = self
            .platform
            .post_json(&self.admin, path, &body, None)
            .await;
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn partner(&self, name: &str) -> String {
        let body = self
            .created(
                "/v1/partners",
                json!({ "name": name, "kind": "enterprise", "contacts": [{ "name": "王经理", "phone": "13800138000" }] }),
            )
            .await;
        body["id"].as_str().expect("partner id").to_owned()
    }

    async fn agreement(&self, partner: &str, centre: Uuid, scopes: &[&str]) -> String {
        let today = (Utc::now() + Duration::hours(8)).date_naive();
        let body = self
            .created(
                &format!("/v1/partners/{partner}/agreements"),
                json!({
                    "centre_id": centre, "provides": "送餐服务", "scopes": scopes,
                    "valid_from": (today - Duration::days(1)).to_string(),
                    "valid_until": (today + Duration::days(365)).to_string(),
                }),
            )
            .await;
        let id = body["id"].as_str().expect("agreement id").to_owned();
        self.platform
            .wait_in_directories("partner_agreements", &[id.parse().expect("uuid")])
            .await;
        id
    }

    async fn certificate(&self, partner: &str) -> IssuedCertificate {
        let issued = partner_ca(&self.dir)
            .issue_client("partner-system", 30)
            .expect("a certificate");
        self.created(
            &format!("/v1/partners/{partner}/credentials"),
            json!({ "certificate_pem": issued.certificate_pem }),
        )
        .await;
        issued
    }

    async fn resident(&self, centre: Uuid, name: &str) -> String {
        let body = self
            .created(
                &format!("/v1/centres/{centre}/residents"),
                json!({ "name": name, "gender": "female", "date_of_birth": "1950-03-04", "phone": "13912345678", "building": "3", "unit": "2", "room": "301", "confirm_not_duplicate": true }),
            )
            .await;
        body["id"].as_str().expect("resident id").to_owned()
    }

    /// An event offering at `centre`: the partner's when `partner` is given, else the
    /// centre's own.
    async fn offering(&self, centre: Uuid, partner: Option<&str>) -> String {
        let mut offering =
            json!({ "category": "life_services", "kind": "event", "name": "助餐", "capacity": 20 });
        if let Some(partner) = partner {
            offering["provider"] = json!("partner");
            offering["provider_id"] = json!(partner);
        }
        self.created(&format!("/v1/centres/{centre}/offerings"), offering)
            .await["id"]
            .as_str()
            .expect("offering id")
            .to_owned()
    }

    async fn partner_api(
        &self,
        certificate: &IssuedCertificate,
    ) -> BookingsClient<tonic::transport::Channel> {
        BookingsClient::new(
            partner_channel(&self.platform, &self.dir, Some(certificate))
                .await
                .expect("connected"),
        )
    }
}

/// A session of `offering` starting `from_now`, an hour long.
fn new_session(centre: Uuid, offering: &str, from_now: Duration) -> bookings::CreateSessionRequest {
    let starts = Utc::now() + from_now;
    let at = |t: chrono::DateTime<Utc>| prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    };
    bookings::CreateSessionRequest {
        centre_id: centre.to_string(),
        offering_id: offering.to_owned(),
        starts_at: Some(at(starts)),
        ends_at: Some(at(starts + Duration::hours(1))),
        capacity: None,
    }
}

/// google.rpc.Status and ErrorInfo, as far as the stable code: what the platform puts in
/// a refusal's details.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ErrorInfo {
    #[prost(string, tag = "1")]
    reason: String,
}

/// The refusal's gRPC code and its stable code (ErrorInfo's reason).
fn refused<T: std::fmt::Debug>(
    result: Result<tonic::Response<T>, tonic::Status>,
    what: &str,
) -> (Code, String) {
    let status = match result {
        Err(status) => status,
        Ok(reply) => panic!("{what}: answered {reply:?}"),
    };
    let details = RpcStatus::decode(status.details()).expect("status details");
    let reason = details
        .details
        .iter()
        .find(|any| any.type_url.ends_with("google.rpc.ErrorInfo"))
        .map(|any| {
            ErrorInfo::decode(any.value.as_slice())
                .expect("error info")
                .reason
        })
        .unwrap_or_default();
    (status.code(), reason)
}

#[tokio::test]
async fn a_partner_adds_sessions_to_its_own_offerings_only() {
    let district = District::open().await;
    let a = district.a;
    let partner = district.partner("幸福超市").await;
    let other = district.partner("康乐家政").await;
    district
        .agreement(&partner, a, &["bookings.offerings:write"])
        .await;
    // The other partner provides at the centre too, under its own agreement.
    district
        .agreement(&other, a, &["bookings.offerings:write"])
        .await;
    let certificate = district.certificate(&partner).await;
    let own = district.offering(a, Some(&partner)).await;
    let others = district.offering(a, Some(&other)).await;
    let centres = district.offering(a, None).await;
    let mut api = district.partner_api(&certificate).await;

    let session = api
        .create_session(new_session(a, &own, Duration::days(2)))
        .await
        .expect("a session of its own offering")
        .into_inner();
    assert_eq!(session.offering_id, own);
    assert_eq!(session.capacity, 20);
    // The centre's staff see it as any other session of the offering.
    let desk = district
        .platform
        .token(&[linli_platform::auth::Role::FrontDesk], &[a]);
    let (status, listed) = district
        .platform
        .get_json(
            &desk,
            &format!("/v1/centres/{a}/sessions?offering_id={own}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert!(listed.to_string().contains(&session.id), "{listed}");

    for (offering, whose) in [
        (&others, "another partner's"),
        (&centres, "the centre's own"),
    ] {
        let (code, reason) = refused(
            api.create_session(new_session(a, offering, Duration::days(2)))
                .await,
            whose,
        );
        assert_eq!(code, Code::PermissionDenied, "{whose}");
        assert_eq!(reason, "partner.not_own_offering", "{whose}");
    }
    // No session was added to them.
    for offering in [&others, &centres] {
        let (status, listed) = district
            .platform
            .get_json(
                &desk,
                &format!("/v1/centres/{a}/sessions?offering_id={offering}"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        assert!(
            !listed.to_string().contains("\"offering_id\""),
            "no session of {offering}: {listed}"
        );
    }
    district.stop().await;
}

#[tokio::test]
async fn a_partner_records_attendance_at_its_sessions_and_evaluation_counts_it() {
    let district = District::open().await;
    let a = district.a;
    let partner = district.partner("幸福超市").await;
    let other = district.partner("康乐家政").await;
    district
        .agreement(
            &partner,
            a,
            &[
                "bookings.offerings:write",
                "bookings.bookings:read",
                "bookings.attendance:write",
            ],
        )
        .await;
    district
        .agreement(&other, a, &["bookings.offerings:write"])
        .await;
    let certificate = district.certificate(&partner).await;
    let came = district.resident(a, "王秀英").await;
    let elsewhere = district.resident(a, "刘芳").await;
    district
        .platform
        .wait_for_residents_in_bookings(&[
            came.parse().expect("uuid"),
            elsewhere.parse().expect("uuid"),
        ])
        .await;
    let own = district.offering(a, Some(&partner)).await;
    let others = district.offering(a, Some(&other)).await;
    let mut api = district.partner_api(&certificate).await;

    // The partner's session starts in half an hour: check-in is open.
    let session = api
        .create_session(new_session(a, &own, Duration::minutes(30)))
        .await
        .expect("its session")
        .into_inner();
    let booking = district
        .created(
            &format!("/v1/centres/{a}/bookings"),
            json!({ "offering_id": own, "resident_id": came, "session_id": session.id }),
        )
        .await["id"]
        .as_str()
        .expect("booking id")
        .to_owned();
    // Another partner's session, booked by the other resident, the same way.
    let starts = Utc::now() + Duration::minutes(30);
    let other_session = district
        .created(
            &format!("/v1/centres/{a}/sessions"),
            json!({ "offering_id": others, "starts_at": starts.to_rfc3339(), "ends_at": (starts + Duration::hours(1)).to_rfc3339() }),
        )
        .await["id"]
        .as_str()
        .expect("session id")
        .to_owned();
    let other_booking = district
        .created(
            &format!("/v1/centres/{a}/bookings"),
            json!({ "offering_id": others, "resident_id": elsewhere, "session_id": other_session }),
        )
        .await["id"]
        .as_str()
        .expect("booking id")
        .to_owned();

    let token = district.platform.admin_token();
    let period = (Utc::now() + Duration::hours(8))
        .format("%Y-%m")
        .to_string();
    let participation = || async {
        let (status, report) = district
            .platform
            .get_json(&token, &format!("/v1/centres/{a}/kpis?period={period}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        let kpi = report["kpis"]
            .as_array()
            .expect("kpis")
            .iter()
            .find(|k| k["name"] == "participation")
            .expect("participation")
            .clone();
        kpi["numerator"].as_i64().expect("numerator")
    };
    assert_eq!(participation().await, 0, "no one came yet");

    // Another partner's booking: refused with the stable code, nothing recorded.
    let check_in = |booking: &str| bookings::CheckInRequest {
        centre_id: a.to_string(),
        booking_id: booking.to_owned(),
        session_id: String::new(),
    };
    let (code, reason) = refused(api.check_in(check_in(&other_booking)).await, "another's");
    assert_eq!(code, Code::PermissionDenied);
    assert_eq!(reason, "partner.not_own_offering");

    let attended = api
        .check_in(check_in(&booking))
        .await
        .expect("its own booking checked in")
        .into_inner();
    assert_eq!(attended.status, bookings::BookingStatus::Attended as i32);
    assert_eq!(attended.note, "", "never the desk's note");

    // Evaluation hears of it as of any check-in: one resident of two took part.
    poll(
        "the partner's check-in counted as attendance",
        DEADLINE,
        || async { (participation().await == 1).then_some(()) },
    )
    .await;
    let desk = district
        .platform
        .token(&[linli_platform::auth::Role::FrontDesk], &[a]);
    let (status, body) = district
        .platform
        .get_json(&desk, &format!("/v1/centres/{a}/bookings/{other_booking}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "confirmed", "{body}");
    district.stop().await;
}

#[tokio::test]
async fn attendance_needs_the_attendance_scope() {
    let district = District::open().await;
    let a = district.a;
    let partner = district.partner("幸福超市").await;
    district
        .agreement(
            &partner,
            a,
            &["bookings.offerings:write", "bookings.bookings:read"],
        )
        .await;
    let certificate = district.certificate(&partner).await;
    let resident = district.resident(a, "王秀英").await;
    district
        .platform
        .wait_for_residents_in_bookings(&[resident.parse().expect("uuid")])
        .await;
    let own = district.offering(a, Some(&partner)).await;
    let mut api = district.partner_api(&certificate).await;
    let session = api
        .create_session(new_session(a, &own, Duration::minutes(30)))
        .await
        .expect("its session")
        .into_inner();
    let booking = district
        .created(
            &format!("/v1/centres/{a}/bookings"),
            json!({ "offering_id": own, "resident_id": resident, "session_id": session.id }),
        )
        .await["id"]
        .as_str()
        .expect("booking id")
        .to_owned();
    let result = api
        .check_in(bookings::CheckInRequest {
            centre_id: a.to_string(),
            booking_id: booking,
            session_id: String::new(),
        })
        .await;
    match result {
        Err(status) => assert_eq!(status.code(), Code::PermissionDenied, "{status:?}"),
        Ok(reply) => panic!("checked in without the scope: {reply:?}"),
    }
    district.stop().await;
}
