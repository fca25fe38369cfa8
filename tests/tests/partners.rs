//! Partners end to end: organisations, agreements and certificates made through the
//! gateway; the partner's own system calling the services' gRPC on the partner port over
//! mutual TLS, where who it is comes from its certificate and what it may do from its
//! agreements in force at that moment.

use std::path::PathBuf;

use chrono::{Duration, Utc};
use linli_platform::auth::Role;
use linli_platform::partner::IssuedCertificate;
use linli_proto::bookings::v1 as bookings;
use linli_proto::bookings::v1::bookings_client::BookingsClient;
use linli_proto::evaluation::v1 as evaluation;
use linli_proto::evaluation::v1::evaluation_client::EvaluationClient;
use linli_proto::finance::v1::finance_client::FinanceClient;
use linli_proto::registry::v1 as registry;
use linli_proto::registry::v1::registry_client::RegistryClient;
use linli_proto::volunteers::v1 as volunteers;
use linli_proto::volunteers::v1::volunteers_client::VolunteersClient;
use linli_tests::{TestPlatform, partner_ca, partner_channel, poll, with_partner_tls};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tonic::Code;
use uuid::Uuid;

/// A platform with a partner port, two centres, a partner and helpers over the gateway.
struct District {
    platform: TestPlatform,
    dir: PathBuf,
    admin: String,
    a: Uuid,
    b: Uuid,
}

impl District {
    async fn open() -> District {
        let mut dir = PathBuf::new();
        let platform = TestPlatform::start_with(|args| dir = with_partner_tls(args)).await;
        let a = platform.bookable_centre("Asia/Shanghai").await;
        let b = platform.bookable_centre("Asia/Shanghai").await;
        let admin = platform.admin_token();
        District {
            platform,
            dir,
            admin,
            a,
            b,
        }
    }

    async fn stop(self) {
        std::fs::remove_dir_all(&self.dir).ok();
        self.platform.stop().await;
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.platform
            .post_json(&self.admin, path, &body, None)
            .await
    }

    async fn created(&self, path: &str, body: Value) -> Value {
        let (status, body) = self.post(path, body).await;
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    /// An hour-long session of `offering` at `centre`, two days from now.
    async fn session(&self, centre: impl std::fmt::Display, offering: &str) -> String {
        let starts = Utc::now() + Duration::days(2);
        self.created(
            &format!("/v1/centres/{centre}/sessions"),
            json!({ "offering_id": offering, "starts_at": starts.to_rfc3339(), "ends_at": (starts + Duration::hours(1)).to_rfc3339() }),
        )
        .await["id"]
            .as_str()
            .expect("session id")
            .to_owned()
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
        // The other services hear of the agreement through its event; a write that
        // names the partner is refused until they have.
        self.platform
            .wait_in_directories("partner_agreements", &[id.parse().expect("uuid")])
            .await;
        id
    }

    /// A client certificate from the platform's partner CA, registered for `partner`.
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
                json!({ "name": name, "gender": "female", "date_of_birth": "1950-03-04", "phone": "13912345678", "building": "3", "unit": "2", "room": "301" }),
            )
            .await;
        body["id"].as_str().expect("resident id").to_owned()
    }

    /// An event offering at `centre` (the partner's when `partner` is given), a session
    /// tomorrow, and a booking of it for `resident`: the booking's id.
    async fn booked(
        &self,
        centre: Uuid,
        partner: Option<&str>,
        resident: &str,
    ) -> (String, String) {
        let mut offering =
            json!({ "category": "life_services", "kind": "event", "name": "助餐", "capacity": 20 });
        if let Some(partner) = partner {
            offering["provider"] = json!("partner");
            offering["provider_id"] = json!(partner);
        }
        let offering = self
            .created(&format!("/v1/centres/{centre}/offerings"), offering)
            .await["id"]
            .as_str()
            .expect("offering id")
            .to_owned();
        let session = self.session(centre, &offering).await;
        let booking = self
            .created(
                &format!("/v1/centres/{centre}/bookings"),
                json!({ "offering_id": offering, "resident_id": resident, "session_id": session }),
            )
            .await["id"]
            .as_str()
            .expect("booking id")
            .to_owned();
        (offering, booking)
    }

    /// Records the resident's consent to sharing with partners, or its withdrawal.
    async fn partner_sharing(&self, centre: Uuid, resident: &str, granted: bool) {
        self.created(
            &format!("/v1/centres/{centre}/residents/{resident}/consents"),
            json!({ "purpose": "partner_sharing", "granted": granted, "source": "paper_form" }),
        )
        .await;
    }

    async fn residents_known_to_bookings(&self, residents: &[&str]) {
        let ids: Vec<Uuid> = residents.iter().map(|r| r.parse().expect("uuid")).collect();
        self.platform.wait_for_residents_in_bookings(&ids).await;
    }
}

fn list(centre: Uuid, offering: &str) -> bookings::ListBookingsRequest {
    bookings::ListBookingsRequest {
        centre_id: centre.to_string(),
        offering_id: offering.to_owned(),
        ..Default::default()
    }
}

fn denied<T: std::fmt::Debug>(result: Result<tonic::Response<T>, tonic::Status>, what: &str) {
    match result {
        Err(status) => assert_eq!(status.code(), Code::PermissionDenied, "{what}: {status:?}"),
        Ok(reply) => panic!("{what}: answered {reply:?}"),
    }
}

#[tokio::test]
async fn a_partner_reads_bookings_of_its_own_offerings_at_its_centre_and_nothing_else() {
    let district = District::open().await;
    let (a, b) = (district.a, district.b);
    let partner = district.partner("幸福超市").await;
    district
        .agreement(&partner, a, &["bookings.bookings:read"])
        .await;
    let certificate = district.certificate(&partner).await;

    let at_a = district.resident(a, "王秀英").await;
    let at_b = district.resident(b, "刘芳").await;
    district.residents_known_to_bookings(&[&at_a, &at_b]).await;
    let (own, own_booking) = district.booked(a, Some(&partner), &at_a).await;
    let (centres, centres_booking) = district.booked(a, None, &at_a).await;
    // An offering of its own at B, from an agreement B has since revoked: a centre
    // names as provider only a partner it has an agreement with.
    let at_b_agreement = district
        .agreement(&partner, b, &["bookings.bookings:read"])
        .await;
    let (_, own_at_b) = district.booked(b, Some(&partner), &at_b).await;
    district
        .created(
            &format!("/v1/partners/{partner}/agreements/{at_b_agreement}/revocation"),
            json!({ "reason": "合作结束" }),
        )
        .await;

    let channel = partner_channel(&district.platform, &district.dir, Some(&certificate))
        .await
        .expect("the partner port accepts a registered certificate");
    let mut bookings_api = BookingsClient::new(channel.clone());

    // Its own offering's bookings at A, and only those, with or without a filter.
    let all = bookings_api
        .list_bookings(list(a, ""))
        .await
        .expect("its bookings at A")
        .into_inner();
    let ids: Vec<&str> = all.bookings.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, [own_booking.as_str()]);
    let filtered = bookings_api
        .list_bookings(list(a, &own))
        .await
        .expect("filtered by its offering")
        .into_inner();
    assert_eq!(filtered.bookings.len(), 1);
    let one = bookings_api
        .get_booking(bookings::GetBookingRequest {
            centre_id: a.to_string(),
            booking_id: own_booking.clone(),
        })
        .await
        .expect("its booking")
        .into_inner();
    assert_eq!(one.offering_id, own);

    // Everything else is refused.
    denied(
        bookings_api.list_bookings(list(a, &centres)).await,
        "another offering's bookings",
    );
    denied(
        bookings_api
            .get_booking(bookings::GetBookingRequest {
                centre_id: a.to_string(),
                booking_id: centres_booking,
            })
            .await,
        "another offering's booking",
    );
    denied(
        bookings_api.list_bookings(list(b, "")).await,
        "its own offering at a centre without an agreement",
    );
    denied(
        bookings_api
            .get_booking(bookings::GetBookingRequest {
                centre_id: b.to_string(),
                booking_id: own_at_b,
            })
            .await,
        "a booking at another centre",
    );
    denied(
        bookings_api
            .create_booking(bookings::CreateBookingRequest {
                centre_id: a.to_string(),
                offering_id: own.clone(),
                resident_id: at_a.clone(),
                ..Default::default()
            })
            .await,
        "a write",
    );
    denied(
        bookings_api
            .create_offering(bookings::CreateOfferingRequest {
                centre_id: a.to_string(),
                offering: Some(bookings::Offering {
                    category: "life_services".into(),
                    kind: bookings::OfferingKind::Event as i32,
                    name: "未授权".into(),
                    capacity: 5,
                    ..Default::default()
                }),
            })
            .await,
        "an offering without bookings.offerings:write",
    );
    let mut registry_api = RegistryClient::new(channel.clone());
    denied(
        registry_api
            .list_residents(registry::ListResidentsRequest {
                centre_id: a.to_string(),
                ..Default::default()
            })
            .await,
        "residents without registry.residents:read",
    );
    denied(
        registry_api
            .get_resident(registry::GetResidentRequest {
                centre_id: a.to_string(),
                id: at_a.clone(),
                national_id_purpose: "partner wants it".into(),
            })
            .await,
        "a resident's unmasked data",
    );
    denied(
        FinanceClient::new(channel.clone())
            .get_budget_report(linli_proto::finance::v1::GetBudgetReportRequest {
                centre_id: a.to_string(),
                ..Default::default()
            })
            .await,
        "the centre's books",
    );
    denied(
        EvaluationClient::new(channel)
            .get_centre_kpis(linli_proto::evaluation::v1::GetCentreKpisRequest {
                centre_id: a.to_string(),
                ..Default::default()
            })
            .await,
        "KPIs without evaluation.kpis:read",
    );
    district.stop().await;
}

#[tokio::test]
async fn a_partner_sees_only_residents_who_consented_and_only_masked() {
    let district = District::open().await;
    let a = district.a;
    let partner = district.partner("阳光志愿者协会").await;
    district
        .agreement(&partner, a, &["registry.residents:read"])
        .await;
    let certificate = district.certificate(&partner).await;
    let consenting = district.resident(a, "王秀英").await;
    let silent = district.resident(a, "刘芳").await;
    let consent = |granted: bool| json!({ "purpose": "partner_sharing", "granted": granted, "source": "paper_form" });
    district
        .created(
            &format!("/v1/centres/{a}/residents/{consenting}/consents"),
            consent(true),
        )
        .await;

    let channel = partner_channel(&district.platform, &district.dir, Some(&certificate))
        .await
        .expect("connected");
    let mut registry_api = RegistryClient::new(channel);
    let listed = registry_api
        .list_residents(registry::ListResidentsRequest {
            centre_id: a.to_string(),
            ..Default::default()
        })
        .await
        .expect("consenting residents")
        .into_inner();
    assert_eq!(listed.residents.len(), 1, "{listed:?}");
    let seen = &listed.residents[0];
    assert_eq!(seen.id, consenting);
    assert_eq!(seen.name, "王**");
    assert_eq!(seen.date_of_birth, "1950");
    assert_eq!(seen.phone, None);
    assert_eq!(seen.national_id, None);
    assert!(seen.room.is_empty() && seen.unit.is_empty());
    denied(
        registry_api
            .get_resident(registry::GetResidentRequest {
                centre_id: a.to_string(),
                id: silent,
                national_id_purpose: String::new(),
            })
            .await,
        "a resident who never consented",
    );

    // Withdrawal hides the resident at once.
    district
        .created(
            &format!("/v1/centres/{a}/residents/{consenting}/consents"),
            consent(false),
        )
        .await;
    let after = registry_api
        .list_residents(registry::ListResidentsRequest {
            centre_id: a.to_string(),
            ..Default::default()
        })
        .await
        .expect("an empty list")
        .into_inner();
    assert!(after.residents.is_empty(), "{after:?}");
    district.stop().await;
}

#[tokio::test]
async fn a_partner_with_the_write_scope_creates_offerings_only_as_its_own() {
    let district = District::open().await;
    let a = district.a;
    let partner = district.partner("新华培训学校").await;
    district
        .agreement(&partner, a, &["bookings.offerings:write"])
        .await;
    let certificate = district.certificate(&partner).await;
    let channel = partner_channel(&district.platform, &district.dir, Some(&certificate))
        .await
        .expect("connected");
    let created = BookingsClient::new(channel)
        .create_offering(bookings::CreateOfferingRequest {
            centre_id: a.to_string(),
            offering: Some(bookings::Offering {
                category: "culture_education".into(),
                kind: bookings::OfferingKind::Course as i32,
                name: "电脑入门".into(),
                capacity: 10,
                // Claiming to be the centre changes nothing.
                provider: "centre".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("an offering")
        .into_inner();
    assert_eq!(created.provider, "partner");
    assert_eq!(created.provider_id, partner);
    district.stop().await;
}

fn get(centre: Uuid, booking: &str) -> bookings::GetBookingRequest {
    bookings::GetBookingRequest {
        centre_id: centre.to_string(),
        booking_id: booking.to_owned(),
    }
}

#[tokio::test]
async fn a_partner_sees_its_bookings_without_the_desks_note_and_names_only_residents_who_consented()
{
    let district = District::open().await;
    let a = district.a;
    let partner = district.partner("幸福超市").await;
    district
        .agreement(&partner, a, &["bookings.bookings:read"])
        .await;
    let certificate = district.certificate(&partner).await;
    let consenting = district.resident(a, "王秀英").await;
    let silent = district.resident(a, "刘芳").await;
    district.partner_sharing(a, &consenting, true).await;
    district
        .residents_known_to_bookings(&[&consenting, &silent])
        .await;

    // The partner's meal service, with a concession the elderly (both residents) get,
    // booked by both residents with a remark only the desk should read.
    let offering = district
        .created(
            &format!("/v1/centres/{a}/offerings"),
            json!({ "category": "life_services", "kind": "event", "name": "助餐", "capacity": 20,
                    "provider": "partner", "provider_id": partner,
                    "fee_minor": 1000, "currency": "CNY",
                    "concessions": [{ "category": "elderly", "price_minor": 500 }] }),
        )
        .await["id"]
        .as_str()
        .expect("offering id")
        .to_owned();
    let session = district.session(a, &offering).await;
    let note = "糖尿病，低糖饮食；行动不便";
    let mut booked = Vec::new();
    for resident in [&consenting, &silent] {
        let booking = district
            .created(
                &format!("/v1/centres/{a}/bookings"),
                json!({ "offering_id": offering, "resident_id": resident, "session_id": session, "note": note }),
            )
            .await;
        assert_eq!(booking["concession"], "elderly", "{booking}");
        booked.push(booking["id"].as_str().expect("booking id").to_owned());
    }
    let (consenting_booking, silent_booking) = (booked[0].clone(), booked[1].clone());

    let channel = partner_channel(&district.platform, &district.dir, Some(&certificate))
        .await
        .expect("connected");
    let mut bookings_api = BookingsClient::new(channel);

    // Bookings hears of the consent by the registry's event: until then the partner sees
    // no one, after it the resident who consented.
    let seen = poll(
        "the partner to see the consenting resident",
        std::time::Duration::from_secs(30),
        || {
            let mut api = bookings_api.clone();
            let request = get(a, &consenting_booking);
            async move {
                let booking = api.get_booking(request).await.ok()?.into_inner();
                (!booking.resident_id.is_empty()).then_some(booking)
            }
        },
    )
    .await;
    assert_eq!(seen.resident_id, consenting);
    assert_eq!(seen.note, "", "the desk's note never reaches a partner");
    assert_eq!(seen.concession, "elderly");

    let hidden = bookings_api
        .get_booking(get(a, &silent_booking))
        .await
        .expect("its offering's booking")
        .into_inner();
    assert_eq!(hidden.id, silent_booking);
    assert_eq!(hidden.resident_id, "", "a resident who never consented");
    assert_eq!(hidden.note, "");
    assert_eq!(
        hidden.concession, "",
        "a category of a resident who never consented"
    );
    assert_eq!(hidden.fee_minor, 500);

    let listed = bookings_api
        .list_bookings(list(a, &offering))
        .await
        .expect("its offering's bookings")
        .into_inner();
    let mut rows: Vec<(&str, &str, &str)> = listed
        .bookings
        .iter()
        .map(|b| (b.id.as_str(), b.resident_id.as_str(), b.note.as_str()))
        .collect();
    rows.sort();
    let mut expected = vec![
        (consenting_booking.as_str(), consenting.as_str(), ""),
        (silent_booking.as_str(), "", ""),
    ];
    expected.sort();
    assert_eq!(rows, expected);

    // Asking after one resident: the one who consented is found, the other is not even
    // said to have booked.
    let by_resident = |resident: &str| bookings::ListBookingsRequest {
        resident_id: resident.to_owned(),
        ..list(a, "")
    };
    let found = bookings_api
        .list_bookings(by_resident(&consenting))
        .await
        .expect("a list")
        .into_inner();
    assert_eq!(found.bookings.len(), 1, "{found:?}");
    let not_said = bookings_api
        .list_bookings(by_resident(&silent))
        .await
        .expect("a list")
        .into_inner();
    assert!(not_said.bookings.is_empty(), "{not_said:?}");

    // The centre's staff still see who booked and the remark, for both.
    let desk = district.platform.token(&[Role::FrontDesk], &[a]);
    for (booking, resident) in [
        (&consenting_booking, &consenting),
        (&silent_booking, &silent),
    ] {
        let (status, body) = district
            .platform
            .get_json(&desk, &format!("/v1/centres/{a}/bookings/{booking}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["resident_id"], resident.as_str());
        assert_eq!(body["note"], note);
        assert_eq!(body["concession"], "elderly");
    }

    // A withdrawal hides the resident from the partner again.
    district.partner_sharing(a, &consenting, false).await;
    poll(
        "the withdrawal to hide the resident from the partner",
        std::time::Duration::from_secs(30),
        || {
            let mut api = bookings_api.clone();
            let request = get(a, &consenting_booking);
            async move {
                let booking = api.get_booking(request).await.ok()?.into_inner();
                booking.resident_id.is_empty().then_some(())
            }
        },
    )
    .await;
    district.stop().await;
}

#[tokio::test]
async fn a_partner_reads_kpis_only_where_its_agreement_grants_the_published_figures() {
    let district = District::open().await;
    let (a, b) = (district.a, district.b);
    let reader = district.partner("区统计局").await;
    district
        .agreement(&reader, a, &["evaluation.kpis:read"])
        .await;
    let reader_cert = district.certificate(&reader).await;
    let other = district.partner("幸福超市").await;
    district
        .agreement(&other, a, &["bookings.bookings:read"])
        .await;
    let other_cert = district.certificate(&other).await;

    // Evaluation knows both centres, and one resident registered at A.
    district.resident(a, "王秀英").await;
    let evaluation_db = district.platform.pool("evaluation").await;
    poll(
        "evaluation to hear of both centres",
        std::time::Duration::from_secs(30),
        || {
            let pool = evaluation_db.clone();
            async move {
                let known: i64 =
                    sqlx::query_scalar("SELECT count(*) FROM directory.centres WHERE id = ANY($1)")
                        .bind([a, b])
                        .fetch_one(&pool)
                        .await
                        .ok()?;
                (known == 2).then_some(())
            }
        },
    )
    .await;
    evaluation_db.close().await;

    let channel = partner_channel(&district.platform, &district.dir, Some(&reader_cert))
        .await
        .expect("connected");
    let mut api = EvaluationClient::new(channel);
    let centre = |centre: Uuid| evaluation::GetCentreKpisRequest {
        centre_id: centre.to_string(),
        ..Default::default()
    };
    let figures = poll(
        "the partner to see A's registered resident in its figures",
        std::time::Duration::from_secs(30),
        || {
            let mut api = api.clone();
            let request = centre(a);
            async move {
                let figures = api.get_centre_kpis(request).await.ok()?.into_inner();
                (figures.registered_residents == 1).then_some(figures)
            }
        },
    )
    .await;
    assert_eq!(figures.centre_id, a.to_string());
    assert!(!figures.kpis.is_empty(), "{figures:?}");
    // The district's figures, over the centres its agreements grant them at.
    let district_figures = api
        .get_district_kpis(evaluation::GetDistrictKpisRequest::default())
        .await
        .expect("the district's KPIs")
        .into_inner();
    let centres: Vec<&str> = district_figures
        .centres
        .iter()
        .map(|c| c.centre_id.as_str())
        .collect();
    assert_eq!(centres, [a.to_string().as_str()]);
    assert_eq!(district_figures.district.len(), figures.kpis.len());
    // (The district's administrators see both centres in the same figures.)
    let (status, body) = district
        .platform
        .get_json(&district.admin, "/v1/kpis")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let all: Vec<&str> = body["centres"]
        .as_array()
        .expect("centres")
        .iter()
        .filter_map(|c| c["centre_id"].as_str())
        .collect();
    assert!(
        all.contains(&a.to_string().as_str()) && all.contains(&b.to_string().as_str()),
        "{body}"
    );
    denied(
        api.get_centre_kpis(centre(b)).await,
        "KPIs of a centre without an agreement",
    );

    // A partner whose agreement grants something else reads no figures at all.
    let channel = partner_channel(&district.platform, &district.dir, Some(&other_cert))
        .await
        .expect("connected");
    let mut api = EvaluationClient::new(channel);
    denied(
        api.get_centre_kpis(centre(a)).await,
        "a centre's KPIs without evaluation.kpis:read",
    );
    denied(
        api.get_district_kpis(evaluation::GetDistrictKpisRequest::default())
            .await,
        "the district's KPIs without evaluation.kpis:read",
    );
    district.stop().await;
}

#[tokio::test]
async fn a_volunteer_associations_system_logs_hours_at_its_centre_only_and_a_coordinator_verifies_them()
 {
    let district = District::open().await;
    // A centre the volunteers service knows (its time zone decides "today").
    let home = district.platform.volunteering_centre("Asia/Shanghai").await;
    let other = district.b;
    let association = district.partner("阳光志愿者协会").await;
    district
        .agreement(&association, home, &["volunteers.hours:write"])
        .await;
    district
        .agreement(&association, other, &["bookings.bookings:read"])
        .await;
    let certificate = district.certificate(&association).await;
    let resident = district.resident(home, "陈静").await;
    district
        .platform
        .wait_for_residents_in_volunteers(&[resident.parse().expect("uuid")])
        .await;
    let volunteer = district
        .created(
            &format!("/v1/centres/{home}/volunteers"),
            json!({ "resident_id": resident, "display_name": "陈静" }),
        )
        .await["id"]
        .as_str()
        .expect("volunteer id")
        .to_owned();

    let channel = partner_channel(&district.platform, &district.dir, Some(&certificate))
        .await
        .expect("connected");
    let mut api = VolunteersClient::new(channel);
    let worked_on = (Utc::now() + Duration::hours(8)).date_naive() - Duration::days(1);
    let hours = |centre: Uuid| volunteers::LogHoursRequest {
        centre_id: centre.to_string(),
        volunteer_id: volunteer.clone(),
        worked_on: worked_on.to_string(),
        minutes: 90,
        note: "社区清洁".into(),
        ..Default::default()
    };
    let entry = api
        .log_hours(hours(home))
        .await
        .expect("hours at its centre")
        .into_inner();
    assert_eq!(entry.volunteer_id, volunteer);
    assert_eq!(entry.minutes, 90);
    assert_eq!(
        entry.status, "pending",
        "logged hours wait for a coordinator"
    );
    assert_eq!(entry.logged_by, association, "logged in the partner's name");

    denied(
        api.log_hours(hours(other)).await,
        "hours at a centre where its agreement grants something else",
    );
    denied(
        api.verify_hours(volunteers::VerifyHoursRequest {
            centre_id: home.to_string(),
            entry_id: entry.id.clone(),
            approve: true,
            ..Default::default()
        })
        .await,
        "verifying the hours it logged",
    );
    denied(
        api.list_volunteers(volunteers::ListVolunteersRequest {
            centre_id: home.to_string(),
            ..Default::default()
        })
        .await,
        "the centre's volunteers",
    );

    // The centre's coordinator verifies what the association logged.
    let coordinator = district.platform.token(&[Role::Coordinator], &[home]);
    let (status, body) = district
        .platform
        .post_json(
            &coordinator,
            &format!("/v1/centres/{home}/hours/{}/verification", entry.id),
            &json!({ "approve": true }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "verified");
    district.stop().await;
}

/// Whether a call through a channel made with `client` is refused, and how.
async fn refusal(district: &District, client: Option<&IssuedCertificate>) -> String {
    let channel = match partner_channel(&district.platform, &district.dir, client).await {
        Ok(channel) => channel,
        Err(error) => return format!("handshake: {error}"),
    };
    match BookingsClient::new(channel)
        .list_bookings(list(district.a, ""))
        .await
    {
        Ok(_) => panic!("the call was answered"),
        Err(status) => {
            assert_ne!(status.code(), Code::Ok);
            format!("{:?}: {}", status.code(), status.message())
        }
    }
}

#[tokio::test]
async fn no_unknown_expired_or_revoked_credentials_reach_a_service() {
    let district = District::open().await;
    let partner = district.partner("区民政局").await;
    let agreement = district
        .agreement(&partner, district.a, &["bookings.bookings:read"])
        .await;
    let certificate = district.certificate(&partner).await;

    // The registered certificate is answered (an empty list).
    let channel = partner_channel(&district.platform, &district.dir, Some(&certificate))
        .await
        .expect("connected");
    BookingsClient::new(channel.clone())
        .list_bookings(list(district.a, ""))
        .await
        .expect("a partner in force is answered");

    // No certificate: the TLS handshake is refused.
    let none = refusal(&district, None).await;
    assert!(!none.starts_with("Ok"), "{none}");

    // Signed by the CA but never registered.
    let unknown = partner_ca(&district.dir)
        .issue_client("stranger", 30)
        .expect("a certificate");
    let refused = refusal(&district, Some(&unknown)).await;
    assert!(refused.starts_with("Unauthenticated"), "{refused}");

    // Signed by another CA that happens to use the same name.
    let (other_ca, _) =
        linli_platform::partner::PartnerCa::generate("test partner CA").expect("a CA");
    let forged = other_ca.issue_client("partner-system", 30).expect("a cert");
    let refused = refusal(&district, Some(&forged)).await;
    assert!(!refused.starts_with("Ok"), "{refused}");

    // Expired: refused in the handshake, and the registry would not take it either.
    let expired = partner_ca(&district.dir)
        .issue_client("partner-system", -1)
        .expect("an expired certificate");
    let refused = refusal(&district, Some(&expired)).await;
    assert!(!refused.is_empty());
    let (status, body) = district
        .post(
            &format!("/v1/partners/{partner}/credentials"),
            json!({ "certificate_pem": expired.certificate_pem }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A header claiming to be someone changes nothing: identity is the certificate's.
    let staff = district.platform.token(&[Role::DistrictAdmin], &[]);
    let mut request = tonic::Request::new(list(district.b, ""));
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {staff}").parse().unwrap());
    let refused = BookingsClient::new(channel.clone())
        .list_bookings(request)
        .await
        .expect_err("centre B is not the partner's");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // Revoking the agreement stops the very next call on the same connection.
    district
        .created(
            &format!("/v1/partners/{partner}/agreements/{agreement}/revocation"),
            json!({ "reason": "合同终止" }),
        )
        .await;
    let refused = BookingsClient::new(channel)
        .list_bookings(list(district.a, ""))
        .await
        .expect_err("no agreement in force");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");

    // Staff tokens claiming the partner role are refused outright.
    let forged = district.platform.token(&[Role::Partner], &[district.a]);
    let (status, _) = district
        .platform
        .get_json(&forged, &format!("/v1/centres/{}/bookings", district.a))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    district.stop().await;
}

/// A Python with grpcio and grpcio-tools: `target/python-venv`, made and filled with pip
/// when missing. Fails, never skips, when Python or pip cannot provide it.
fn python() -> PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("python-venv");
    let python = venv.join("bin").join("python");
    let ready = |python: &PathBuf| {
        std::process::Command::new(python)
            .args(["-c", "import grpc, grpc_tools"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready(&python) {
        return python;
    }
    let made = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap_or_else(|e| panic!("the Python example needs python3 (with venv): {e}"));
    assert!(made.success(), "python3 -m venv {} failed", venv.display());
    let installed = std::process::Command::new(venv.join("bin").join("pip"))
        .args(["install", "--quiet", "grpcio", "grpcio-tools"])
        .status()
        .unwrap_or_else(|e| panic!("the Python example needs pip to install grpcio: {e}"));
    assert!(
        installed.success() && ready(&python),
        "pip could not install grpcio and grpcio-tools into {}",
        venv.display()
    );
    python
}

#[tokio::test]
async fn the_python_example_lists_a_partners_bookings_with_its_certificate() {
    let python = tokio::task::spawn_blocking(python)
        .await
        .expect("the venv is made");
    let district = District::open().await;
    let a = district.a;
    let partner = district.partner("康乐家政").await;
    district
        .agreement(&partner, a, &["bookings.bookings:read"])
        .await;
    let certificate = district.certificate(&partner).await;
    let resident = district.resident(a, "赵丽").await;
    district.residents_known_to_bookings(&[&resident]).await;
    let (own, own_booking) = district.booked(a, Some(&partner), &resident).await;
    let (_, centres_booking) = district.booked(a, None, &resident).await;
    let (cert, key) = (
        district.dir.join("client.pem"),
        district.dir.join("client.key"),
    );
    std::fs::write(&cert, &certificate.certificate_pem).expect("written");
    std::fs::write(&key, &certificate.key_pem).expect("written");
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy/examples/partner_bookings.py");
    let run = |centre: Uuid| {
        let mut command = std::process::Command::new(&python);
        command
            .arg(&example)
            .arg("--address")
            .arg(district.platform.partner.expect("partner port").to_string())
            .arg("--ca")
            .arg(district.dir.join("ca.pem"))
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .arg("--centre")
            .arg(centre.to_string());
        async move {
            tokio::task::spawn_blocking(move || command.output())
                .await
                .expect("the example's thread joins")
        }
    };
    let output = run(a).await.expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert_eq!(lines[0]["id"], own_booking.as_str());
    assert_eq!(lines[0]["offering_id"], own.as_str());
    assert!(!stdout.contains(&centres_booking));

    // At a centre without an agreement the example reports the refusal.
    let output = run(district.b).await.expect("the example runs");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("PERMISSION_DENIED"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    district.stop().await;
}

/// Partner contacts are personal data: sealed at rest (no number in the table), the
/// district sees them whole, a centre's manager sees a partner's contacts (number masked)
/// only when it has an agreement at their centre, and only their own centre's agreements;
/// a centre with no agreement sees neither contacts nor other centres' agreements.
#[tokio::test]
async fn partner_contacts_are_sealed_and_each_centre_sees_only_its_own_agreements() {
    let district = District::open().await;
    let c = district.platform.create_centre("no-agreement").await;
    let partner = district.partner("邻里超市").await;
    let at_a = district
        .agreement(&partner, district.a, &["bookings.offerings:read"])
        .await;
    let at_b = district
        .agreement(&partner, district.b, &["bookings.offerings:read"])
        .await;

    let registry = district.platform.pool("registry").await;
    let stored: String =
        sqlx::query_scalar("SELECT row_to_json(p)::text FROM partners p WHERE id = $1")
            .bind(partner.parse::<Uuid>().expect("uuid"))
            .fetch_one(&registry)
            .await
            .expect("partner row");
    registry.close().await;
    assert!(
        !stored.contains("13800138000") && !stored.contains("王经理"),
        "contacts are sealed at rest: {stored}"
    );

    let seen = |token: String| {
        let platform = &district.platform;
        let partner = partner.clone();
        async move {
            let (status, body) = platform
                .get_json(&token, &format!("/v1/partners/{partner}"))
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let (status, list) = platform.get_json(&token, "/v1/partners").await;
            assert_eq!(status, StatusCode::OK, "{list}");
            let listed = list["partners"]
                .as_array()
                .expect("partners")
                .iter()
                .find(|p| p["id"] == partner.as_str())
                .expect("listed")
                .clone();
            assert_eq!(listed, body, "the list and the partner say the same");
            body
        }
    };
    let agreements = |body: &Value| -> Vec<String> {
        body["agreements"]
            .as_array()
            .expect("agreements")
            .iter()
            .map(|a| a["id"].as_str().expect("id").to_owned())
            .collect()
    };

    let whole = seen(district.admin.clone()).await;
    assert_eq!(whole["contacts"][0]["phone"], "13800138000");
    assert_eq!(whole["contacts"][0]["name"], "王经理");
    assert_eq!(agreements(&whole).len(), 2);

    let manager_a = district
        .platform
        .token(&[Role::CentreManager], &[district.a]);
    let at_a_view = seen(manager_a).await;
    assert_eq!(at_a_view["contacts"][0]["phone"], "138****8000");
    assert_eq!(at_a_view["contacts"][0]["name"], "王经理");
    assert_eq!(agreements(&at_a_view), vec![at_a.clone()]);
    assert!(
        !at_a_view.to_string().contains(&at_b),
        "not centre B's agreement"
    );
    assert_eq!(at_a_view["credentials"], json!([]));

    let manager_c = district.platform.token(&[Role::CentreManager], &[c]);
    let at_c_view = seen(manager_c).await;
    assert_eq!(at_c_view["contacts"], json!([]));
    assert_eq!(at_c_view["agreements"], json!([]));
    assert_eq!(at_c_view["name"], "邻里超市");
    district.stop().await;
}
