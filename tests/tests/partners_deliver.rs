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

    /// A resident registered at `centre` and known to bookings, so they can book.
    async fn bookable_resident(&self, centre: Uuid, name: &str) -> String {
        let resident = self.resident(centre, name).await;
        self.platform
            .wait_for_residents_in_bookings(&[resident.parse().expect("uuid")])
            .await;
        resident
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
    let resident = district.bookable_resident(a, "王秀英").await;
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

/// The partner's registry client on the partner port (mutual TLS).
async fn partner_registry(
    district: &District,
    certificate: &IssuedCertificate,
) -> linli_proto::registry::v1::registry_client::RegistryClient<tonic::transport::Channel> {
    linli_proto::registry::v1::registry_client::RegistryClient::new(
        partner_channel(&district.platform, &district.dir, Some(certificate))
            .await
            .expect("connected"),
    )
}

impl District {
    /// Records the resident's consent to sharing with partners, or its withdrawal.
    async fn sharing(&self, resident: &str, granted: bool) {
        self.created(
            &format!("/v1/centres/{}/residents/{resident}/consents", self.a),
            json!({ "purpose": "partner_sharing", "granted": granted, "source": "paper_form" }),
        )
        .await;
    }

    /// A session of `offering` tomorrow, booked by staff for `resident`: the booking's id.
    async fn booked(&self, offering: &str, resident: &str) -> String {
        let a = self.a;
        let starts = Utc::now() + Duration::days(1);
        let session = self
            .created(
                &format!("/v1/centres/{a}/sessions"),
                json!({ "offering_id": offering, "starts_at": starts.to_rfc3339(), "ends_at": (starts + Duration::hours(1)).to_rfc3339() }),
            )
            .await["id"]
            .as_str()
            .expect("session id")
            .to_owned();
        self.created(
            &format!("/v1/centres/{a}/bookings"),
            json!({ "offering_id": offering, "resident_id": resident, "session_id": session }),
        )
        .await["id"]
            .as_str()
            .expect("booking id")
            .to_owned()
    }
}

/// The partner's list of residents at the centre.
async fn partner_list(
    api: &mut linli_proto::registry::v1::registry_client::RegistryClient<tonic::transport::Channel>,
    centre: Uuid,
) -> Vec<linli_proto::registry::v1::Resident> {
    api.list_residents(linli_proto::registry::v1::ListResidentsRequest {
        centre_id: centre.to_string(),
        ..Default::default()
    })
    .await
    .expect("the partner's list")
    .into_inner()
    .residents
}

#[tokio::test]
async fn a_partner_sees_the_name_and_phone_of_consenting_residents_who_booked_it() {
    let district = District::open().await;
    let a = district.a;
    let partner = district.partner("幸福超市").await;
    let other = district.partner("康乐家政").await;
    district
        .agreement(
            &partner,
            a,
            &["registry.residents:read", "bookings.offerings:write"],
        )
        .await;
    district
        .agreement(&other, a, &["bookings.offerings:write"])
        .await;
    let certificate = district.certificate(&partner).await;
    // 王秀英 consents and books the partner's offering; 刘芳 books it without consenting;
    // 陈静 consents but booked only the other partner's and the centre's own offerings.
    let booker = district.resident(a, "王秀英").await;
    let silent = district.resident(a, "刘芳").await;
    let elsewhere = district.resident(a, "陈静").await;
    district.sharing(&booker, true).await;
    district.sharing(&elsewhere, true).await;
    district
        .platform
        .wait_for_residents_in_bookings(
            &[&booker, &silent, &elsewhere].map(|r| r.parse().expect("uuid")),
        )
        .await;
    let own = district.offering(a, Some(&partner)).await;
    let others = district.offering(a, Some(&other)).await;
    let centres = district.offering(a, None).await;
    // The other bookings first, so that by the time the partner's booker is known to the
    // registry, so are they (one queue, in order).
    district.booked(&others, &elsewhere).await;
    district.booked(&centres, &elsewhere).await;
    district.booked(&own, &silent).await;
    district.booked(&own, &booker).await;
    let mut api = partner_registry(&district, &certificate).await;

    let listed = poll("the booker's name in the partner's list", DEADLINE, || {
        let mut api = api.clone();
        let booker = booker.clone();
        async move {
            let listed = partner_list(&mut api, a).await;
            listed
                .iter()
                .any(|r| r.id == booker && r.name == "王秀英")
                .then_some(listed)
        }
    })
    .await;
    assert_eq!(listed.len(), 2, "only the two who consented: {listed:?}");
    let seen = listed.iter().find(|r| r.id == booker).expect("the booker");
    assert_eq!(seen.phone.as_deref(), Some("13912345678"));
    assert_eq!(seen.national_id, None);
    assert_eq!(seen.health_note, None);
    assert!(seen.room.is_empty() && seen.unit.is_empty());
    // Consenting, but booked only with others: the masked view.
    let masked = listed.iter().find(|r| r.id == elsewhere).expect("陈静");
    assert_eq!(masked.name, "陈*");
    assert_eq!(masked.phone, None);
    // One by one, the same.
    let one = |id: &str| linli_proto::registry::v1::GetResidentRequest {
        centre_id: a.to_string(),
        id: id.to_owned(),
        national_id_purpose: String::new(),
    };
    let got = api
        .get_resident(one(&booker))
        .await
        .expect("the booker")
        .into_inner();
    assert_eq!(
        (got.name.as_str(), got.phone.as_deref()),
        ("王秀英", Some("13912345678"))
    );
    let got = api
        .get_resident(one(&elsewhere))
        .await
        .expect("a consenting resident")
        .into_inner();
    assert_eq!((got.name.as_str(), got.phone), ("陈*", None));
    // Booked the partner's offering without consenting: not given at all.
    let (code, _) = refused(api.get_resident(one(&silent)).await, "no consent");
    assert_eq!(code, Code::PermissionDenied);
    // Never the national ID, even for its booker.
    let mut asked = one(&booker);
    asked.national_id_purpose = "核对身份".to_owned();
    let (code, _) = refused(api.get_resident(asked).await, "a national ID");
    assert_eq!(code, Code::PermissionDenied);

    // Each full read was recorded in the registry.
    let registry = district.platform.pool("registry").await;
    let reads: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM partner_contact_reads WHERE partner_id = $1 AND resident_id = $2",
    )
    .bind(partner.parse::<Uuid>().expect("uuid"))
    .bind(booker.parse::<Uuid>().expect("uuid"))
    .fetch_one(&registry)
    .await
    .expect("the reads");
    assert!(reads >= 2, "reads recorded: {reads}");
    registry.close().await;
    district.stop().await;
}

#[tokio::test]
async fn withdrawal_or_cancellation_takes_the_name_and_phone_back() {
    let district = District::open().await;
    let a = district.a;
    let partner = district.partner("幸福超市").await;
    district
        .agreement(
            &partner,
            a,
            &["registry.residents:read", "bookings.offerings:write"],
        )
        .await;
    let certificate = district.certificate(&partner).await;
    let booker = district.resident(a, "王秀英").await;
    district.sharing(&booker, true).await;
    district
        .platform
        .wait_for_residents_in_bookings(&[booker.parse().expect("uuid")])
        .await;
    let own = district.offering(a, Some(&partner)).await;
    let booking = district.booked(&own, &booker).await;
    let mut api = partner_registry(&district, &certificate).await;
    let one = || linli_proto::registry::v1::GetResidentRequest {
        centre_id: a.to_string(),
        id: booker.clone(),
        national_id_purpose: String::new(),
    };
    let probe = api.clone();
    let full = || {
        let mut api = probe.clone();
        let request = one();
        async move {
            let got = api.get_resident(request).await.ok()?.into_inner();
            Some((got.name, got.phone))
        }
    };
    poll("the booker given in full", DEADLINE, || async {
        full().await.filter(|(name, _)| name == "王秀英")
    })
    .await;

    // Withdrawn: at once not given at all.
    district.sharing(&booker, false).await;
    let (code, _) = refused(api.get_resident(one()).await, "withdrawn");
    assert_eq!(code, Code::PermissionDenied);
    assert!(partner_list(&mut api, a).await.is_empty());

    // Consent again: in full again while the booking stands; cancelled, masked.
    district.sharing(&booker, true).await;
    let again = api.get_resident(one()).await.expect("again").into_inner();
    assert_eq!(
        (again.name.as_str(), again.phone.as_deref()),
        ("王秀英", Some("13912345678"))
    );
    district
        .created(
            &format!("/v1/centres/{a}/bookings/{booking}/cancel"),
            json!({}),
        )
        .await;
    let masked = poll("the cancelled booker masked", DEADLINE, || async {
        full().await.filter(|(name, _)| name == "王**")
    })
    .await;
    assert_eq!(masked.1, None);
    district.stop().await;
}

#[tokio::test]
async fn a_waitlisted_booker_is_given_once_promoted() {
    let district = District::open().await;
    let a = district.a;
    let partner = district.partner("幸福超市").await;
    district
        .agreement(
            &partner,
            a,
            &["registry.residents:read", "bookings.offerings:write"],
        )
        .await;
    let certificate = district.certificate(&partner).await;
    let first = district.resident(a, "赵敏").await;
    let waiting = district.resident(a, "王秀英").await;
    district.sharing(&waiting, true).await;
    district
        .platform
        .wait_for_residents_in_bookings(&[&first, &waiting].map(|r| r.parse().expect("uuid")))
        .await;
    let own = district.offering(a, Some(&partner)).await;
    // One seat: 赵敏 takes it, 王秀英 waits.
    let starts = Utc::now() + Duration::days(1);
    let session = district
        .created(
            &format!("/v1/centres/{a}/sessions"),
            json!({ "offering_id": own, "starts_at": starts.to_rfc3339(), "ends_at": (starts + Duration::hours(1)).to_rfc3339(), "capacity": 1 }),
        )
        .await["id"]
        .as_str()
        .expect("session id")
        .to_owned();
    let book = |resident: &str| json!({ "offering_id": own, "resident_id": resident, "session_id": session });
    let taken = district
        .created(&format!("/v1/centres/{a}/bookings"), book(&first))
        .await["id"]
        .as_str()
        .expect("booking id")
        .to_owned();
    let waitlisted = district
        .created(&format!("/v1/centres/{a}/bookings"), book(&waiting))
        .await;
    assert_eq!(waitlisted["status"], "waitlisted", "{waitlisted}");
    let mut api = partner_registry(&district, &certificate).await;
    let one = linli_proto::registry::v1::GetResidentRequest {
        centre_id: a.to_string(),
        id: waiting.clone(),
        national_id_purpose: String::new(),
    };
    let got = api
        .get_resident(one.clone())
        .await
        .expect("a consenting resident")
        .into_inner();
    assert_eq!(
        (got.name.as_str(), got.phone),
        ("王**", None),
        "waiting only"
    );

    // The seat is freed: 王秀英 is promoted, and the partner is given her name and phone.
    district
        .created(
            &format!("/v1/centres/{a}/bookings/{taken}/cancel"),
            json!({}),
        )
        .await;
    let got = poll("the promoted booker given in full", DEADLINE, || {
        let mut api = api.clone();
        let request = one.clone();
        async move {
            let got = api.get_resident(request).await.ok()?.into_inner();
            (got.name == "王秀英").then_some(got)
        }
    })
    .await;
    assert_eq!(got.phone.as_deref(), Some("13912345678"));
    district.stop().await;
}

/// The ids of the booking events `consumer` (a registry queue) has taken.
async fn taken(district: &District, consumer: &str) -> Vec<Uuid> {
    sqlx::query_scalar(
        "SELECT event_id FROM inbox WHERE consumer = $1 AND routing_key LIKE 'bookings.%'
         ORDER BY event_id",
    )
    .bind(consumer)
    .fetch_all(&district.platform.pool("registry").await)
    .await
    .expect("the registry's inbox")
}

/// The id of the event `routing_key` that bookings recorded for `booking`.
async fn event_of(district: &District, routing_key: &str, booking: &str) -> Uuid {
    let recorded: Vec<(Uuid, Vec<u8>)> =
        sqlx::query_as("SELECT id, payload FROM outbox WHERE routing_key = $1")
            .bind(routing_key)
            .fetch_all(&district.platform.pool("bookings").await)
            .await
            .expect("the bookings outbox");
    let named = |payload: &[u8]| match routing_key {
        "bookings.booking.confirmed" => {
            linli_proto::events::v1::BookingConfirmed::decode(payload)
                .expect("a confirmation")
                .booking_id
        }
        _ => {
            linli_proto::events::v1::BookingCancelled::decode(payload)
                .expect("a cancellation")
                .booking_id
        }
    };
    let mut of = recorded
        .into_iter()
        .filter(|(_, payload)| named(payload) == booking)
        .map(|(id, _)| id);
    let id = of.next().expect("the booking's event");
    assert_eq!(of.next(), None, "one {routing_key} for {booking}");
    id
}

#[tokio::test]
async fn only_partners_bookings_and_nothing_of_the_directory_reach_the_registrys_queues() {
    let district = District::open().await;
    let a = district.a;
    let partner = district.partner("幸福超市").await;
    district
        .agreement(
            &partner,
            a,
            &["registry.residents:read", "bookings.bookings:read"],
        )
        .await;
    let resident = district.bookable_resident(a, "王秀英").await;
    let centres = district.offering(a, None).await;
    let partners = district.offering(a, Some(&partner)).await;
    // The centre's own booking, made and cancelled, first: the relay publishes in order and
    // each queue delivers in order, so had its events reached a partner queue they would be
    // in its inbox by the time the partner's are.
    let own = district.booked(&centres, &resident).await;
    district
        .created(&format!("/v1/centres/{a}/bookings/{own}/cancel"), json!({}))
        .await;
    let theirs = district.booked(&partners, &resident).await;
    district
        .created(
            &format!("/v1/centres/{a}/bookings/{theirs}/cancel"),
            json!({}),
        )
        .await;
    let confirmed = event_of(&district, "bookings.booking.confirmed", &theirs).await;
    let cancelled = event_of(&district, "bookings.booking.cancelled", &theirs).await;

    let bookers = poll("the partner's cancellation taken", DEADLINE, || async {
        let taken = taken(&district, "partner-bookers").await;
        taken.contains(&cancelled).then_some(taken)
    })
    .await;
    let mut partners_own = vec![confirmed, cancelled];
    partners_own.sort();
    assert_eq!(
        bookers, partners_own,
        "the partner's booking and its cancellation, and nothing of the centre's own"
    );
    let webhooks = poll(
        "the partner's booking taken for webhooks",
        DEADLINE,
        || async {
            let taken = taken(&district, "webhooks").await;
            taken.contains(&confirmed).then_some(taken)
        },
    )
    .await;
    assert_eq!(webhooks, [confirmed], "the partner's booking only");
    // The centre, the resident and the agreement were announced before any booking (a
    // booking waits for the resident in bookings' directory): the registry keeps no
    // directory of its own, and none of its queues took them.
    let directory: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT routing_key FROM inbox
         WHERE routing_key NOT LIKE 'bookings.%' AND routing_key <> ALL($1)",
    )
    .bind(linli_platform::revocation::BINDINGS)
    .fetch_all(&district.platform.pool("registry").await)
    .await
    .expect("the registry's inbox");
    assert_eq!(directory, Vec::<String>::new(), "the registry took these");
    district.stop().await;
}
