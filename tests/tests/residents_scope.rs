//! A resident's token is theirs alone (issue 23): it never reads another resident's data,
//! never reaches a staff route, and never writes outside its own scope. Three matrices
//! with resident A's token and resident B's ids (B lives at the same centre):
//!
//! - every operation of the gateway's OpenAPI document, A's centre in the path and B's
//!   ids in every id slot, the query and a plausible body: each answers 403 (or 404) and
//!   says nothing of B;
//! - every gRPC method that admits a resident's token, called straight at the service:
//!   refused for B (PermissionDenied or NotFound), and granted for A, so the matrix can
//!   fail;
//! - every id-bearing page and form of the residents' site (`/r/`) with A's cookie: none
//!   shows B's data or changes it.
//!
//! After each walk a fingerprint of B's data (registry record, consents, bookings,
//! invitations, suggestions, correction requests), read with a manager's token, is the
//! one taken before.

use linli_proto::bookings::v1 as bk;
use linli_proto::bookings::v1::bookings_client::BookingsClient;
use linli_proto::evaluation::v1 as ev;
use linli_proto::evaluation::v1::evaluation_client::EvaluationClient;
use linli_proto::finance::v1 as fi;
use linli_proto::finance::v1::finance_client::FinanceClient;
use linli_proto::registry::v1 as rg;
use linli_proto::registry::v1::registry_client::RegistryClient;
use linli_proto::volunteers::v1 as vo;
use linli_proto::volunteers::v1::volunteers_client::VolunteersClient;
use linli_tests::bearer;
use linli_tests::phone::SiteCentre as Centre;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// The satisfaction survey every centre has (see the evaluation's migrations).
const SATISFACTION: &str = "5a7e0000-0000-4000-8000-000000000001";

const B_NAME: &str = "李桂兰";
const B_PHONE: &str = "13987654321";
const B_SUGGESTION: &str = "李桂兰希望增加书法课";

/// Two residents of one centre and what B has there: a booking, a consent, an
/// invitation and a named suggestion, all made by the desk.
struct Scene {
    c: Centre,
    a: Uuid,
    b: Uuid,
    offering: String,
    session: String,
    b_booking: String,
    b_invitation: String,
    b_suggestion: String,
    a_invitation: String,
    awareness: String,
}

impl Scene {
    async fn set() -> Scene {
        let c = Centre::open().await;
        let a = c.resident("王秀英", "1950-03-02", "13812345678").await;
        let b = c.resident(B_NAME, "1948-07-09", B_PHONE).await;
        let (offering, session) = c.session("书法班", 10, json!({})).await;
        let id = |v: Value| v["id"].as_str().expect("an id").to_owned();
        let b_booking = id(c
            .post(
                "/bookings",
                json!({ "offering_id": offering, "resident_id": b, "session_id": session }),
            )
            .await);
        let (status, consents) = c
            .platform
            .post_json(
                &c.manager,
                &format!("/v1/centres/{}/residents/{b}/consents", c.centre),
                &json!({ "purpose": "activity_contact", "granted": true, "source": "paper_form" }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{consents}");
        let invite = |who: Uuid| {
            let c = &c;
            async move {
                c.post(
                    "/invitations",
                    json!({ "template_id": SATISFACTION, "resident_id": who }),
                )
                .await
            }
        };
        let b_invitation = id(invite(b).await);
        let a_invitation = id(invite(a).await);
        let b_suggestion = id(c
            .post(
                "/suggestions",
                json!({ "resident_id": b, "channel": "box", "text": B_SUGGESTION }),
            )
            .await);
        let (status, templates) = c
            .platform
            .get_json(
                &c.manager,
                &format!("/v1/centres/{}/survey-templates", c.centre),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{templates}");
        let awareness = templates["templates"]
            .as_array()
            .and_then(|all| all.iter().find(|t| t["kind"] == "awareness"))
            .and_then(|t| t["id"].as_str())
            .expect("the centre's awareness survey")
            .to_owned();
        Scene {
            c,
            a,
            b,
            offering,
            session,
            b_booking,
            b_invitation,
            b_suggestion,
            a_invitation,
            awareness,
        }
    }

    /// Everything of B's, as the centre's manager reads it, and B's correction requests
    /// and answered invitations as the registry and evaluation hold them.
    async fn fingerprint(&self) -> Value {
        let (c, b) = (&self.c, self.b);
        let mut print = serde_json::Map::new();
        for (what, path) in [
            ("record", format!("/residents/{b}")),
            ("consents", format!("/residents/{b}/consents")),
            ("bookings", format!("/bookings?resident_id={b}")),
            ("invitations", format!("/invitations?resident_id={b}")),
            ("suggestions", "/suggestions?page_size=200".to_owned()),
        ] {
            let (status, mut body) = c
                .platform
                .get_json(&c.manager, &format!("/v1/centres/{}{path}", c.centre))
                .await;
            assert_eq!(status, StatusCode::OK, "{what}: {body}");
            if what == "suggestions" {
                // The centre's list: B's only (A's own may be added by A's own calls).
                let b = b.to_string();
                body = json!(
                    body["suggestions"]
                        .as_array()
                        .expect("suggestions")
                        .iter()
                        .filter(|s| s["resident_id"] == b.as_str() || s["text"] == B_SUGGESTION)
                        .collect::<Vec<_>>()
                );
                assert_eq!(
                    body.as_array().map(Vec::len),
                    Some(1),
                    "B's one suggestion: {body}"
                );
            }
            print.insert(what.into(), body);
        }
        let registry = c.platform.pool("registry").await;
        let corrections: i64 =
            sqlx::query_scalar("SELECT count(*) FROM correction_requests WHERE resident_id = $1")
                .bind(b)
                .fetch_one(&registry)
                .await
                .expect("correction requests");
        registry.close().await;
        print.insert("corrections".into(), json!(corrections));
        Value::Object(print)
    }
}

/// The resident's token A's phone was given, and the phone.
async fn sign_in_a(s: &Scene) -> linli_tests::phone::Phone {
    s.c.sign_in("13812345678").await
}

/// Every operation of the gateway's OpenAPI document, with A's token: A's centre and B's
/// ids in the path, B's id in the query, a body naming B and B's things. Each answers
/// 403 (404 at most) with no word of B, and B's data is as it was.
#[tokio::test]
async fn every_operation_of_the_api_refuses_a_residents_token_with_another_residents_ids() {
    let s = Scene::set().await;
    let (c, b) = (&s.c, s.b.to_string());
    let before = s.fingerprint().await;
    let token = sign_in_a(&s).await.token();

    let (status, document) = c.platform.get_json(&c.manager, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let slots = [
        ("centre_id", c.centre.to_string()),
        ("resident_id", b.clone()),
        ("id", b.clone()),
        ("booking_id", s.b_booking.clone()),
        ("invitation_id", s.b_invitation.clone()),
        ("suggestion_id", s.b_suggestion.clone()),
        ("offering_id", s.offering.clone()),
        ("session_id", s.session.clone()),
    ];
    let body = json!({
        "resident_id": b, "id": b, "booking_id": s.b_booking, "invitation_id": s.b_invitation,
        "suggestion_id": s.b_suggestion, "offering_id": s.offering, "session_id": s.session,
        "template_id": SATISFACTION, "purpose": "activity_contact", "granted": false,
        "source": "online", "channel": "box", "text": "改掉", "status": "answered",
        "reply": "已处理", "name": "改名", "gender": "female", "date_of_birth": "1948-07-09",
        "phone": "13700000000", "confirm_not_duplicate": true, "reason": "test",
        "answers": [{ "key": "satisfaction", "score": 1 }], "fields": ["name"],
        "details": "改名", "title": "标题", "body": "内容", "kind": "general",
        "action": "hide", "amount_minor": 100, "category": "elderly"
    })
    .to_string();

    let mut walked = 0;
    let mut failures = Vec::new();
    for (template, item) in document["paths"].as_object().expect("paths") {
        let mut path = template.clone();
        for (slot, value) in &slots {
            path = path.replace(&format!("{{{slot}}}"), value);
        }
        // Any other id slot: a fresh id, so the route itself is reached.
        let path = path
            .split('/')
            .map(|part| {
                if part.starts_with('{') {
                    Uuid::new_v4().to_string()
                } else {
                    part.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for method in ["get", "post", "put", "patch", "delete"] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            // The document and its page (no security named) are for anyone; the rest is
            // staff's.
            let public = operation
                .get("security")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
            if public {
                continue;
            }
            walked += 1;
            let response = c
                .platform
                .http
                .request(
                    method.to_uppercase().parse().expect("a method"),
                    format!(
                        "{}{path}?resident_id={b}&eligible_for={b}",
                        c.platform.gateway
                    ),
                )
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .header("idempotency-key", Uuid::new_v4().to_string())
                .body(body.clone())
                .send()
                .await
                .expect("an answer");
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            if !matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) {
                failures.push(format!(
                    "{} {template}: {status} {text}",
                    method.to_uppercase()
                ));
            } else if text.contains(B_NAME) || text.contains(&b) || text.contains("139****4321") {
                failures.push(format!(
                    "{} {template}: told of B: {text}",
                    method.to_uppercase()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "a resident's token was answered ({} of {walked}):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(walked > 50, "only {walked} operations in the document");
    assert_eq!(
        s.fingerprint().await,
        before,
        "B's data changed under the walk"
    );
    eprintln!("{walked} operations refused a resident's token");
    s.c.platform.stop().await;
}

/// The outcome of one gRPC call, without its answer.
type Outcome = Result<(), tonic::Status>;

fn done<T>(result: Result<tonic::Response<T>, tonic::Status>) -> Outcome {
    result.map(|_| ())
}

/// Every service method that admits a resident's token, straight at the service with A's
/// token: each refuses B's id (PermissionDenied or NotFound) and grants A's own, and B's
/// data is as it was.
#[tokio::test]
async fn every_service_method_a_resident_may_call_refuses_another_residents_id() {
    let s = Scene::set().await;
    let c = &s.c;
    let (a, b) = (s.a.to_string(), s.b.to_string());
    let centre = c.centre.to_string();
    let before = s.fingerprint().await;
    let token = sign_in_a(&s).await.token();
    let t = token.as_str();
    let p = &c.platform;
    let mut registry = RegistryClient::connect(format!("http://{}", p.registry))
        .await
        .expect("registry");
    let mut bookings = BookingsClient::connect(format!("http://{}", p.bookings))
        .await
        .expect("bookings");
    let mut evaluation = EvaluationClient::connect(format!("http://{}", p.evaluation))
        .await
        .expect("evaluation");
    let mut finance = FinanceClient::connect(format!("http://{}", p.finance))
        .await
        .expect("finance");
    let mut volunteers = VolunteersClient::connect(format!("http://{}", p.volunteers))
        .await
        .expect("volunteers");

    // The calls, each for someone: (what, B's outcome, A's outcome).
    let mut matrix: Vec<(&str, Outcome, Outcome)> = Vec::new();
    macro_rules! both {
        ($what:expr, |$who:ident| $call:expr) => {{
            let for_b = {
                let $who = b.clone();
                done($call.await)
            };
            let for_a = {
                let $who = a.clone();
                done($call.await)
            };
            matrix.push(($what, for_b, for_a));
        }};
    }

    // Registry: the record, the copy, consents, corrections.
    both!("registry GetResident", |who| registry.get_resident(bearer(
        t,
        rg::GetResidentRequest {
            centre_id: centre.clone(),
            id: who,
            ..Default::default()
        }
    )));
    both!("registry ExportResident", |who| registry.export_resident(
        bearer(
            t,
            rg::ExportResidentRequest {
                centre_id: centre.clone(),
                id: who,
                purpose: "resident's own request".into(),
            }
        )
    ));
    both!("registry GetConsents", |who| registry.get_consents(bearer(
        t,
        rg::GetConsentsRequest {
            centre_id: centre.clone(),
            resident_id: who,
        }
    )));
    both!("registry RecordConsent", |who| registry.record_consent(
        bearer(
            t,
            rg::RecordConsentRequest {
                centre_id: centre.clone(),
                resident_id: who,
                purpose: "activity_contact".into(),
                granted: false,
                ..Default::default()
            }
        )
    ));
    both!("registry RequestCorrection", |who| registry
        .request_correction(bearer(
            t,
            rg::RequestCorrectionRequest {
                centre_id: centre.clone(),
                resident_id: who,
                fields: vec!["name".into()],
                details: "名字写错了".into(),
            }
        )));

    // Bookings: the catalogue for someone, booking, their list, the copy.
    both!("bookings ListOfferings eligible_for", |who| bookings
        .list_offerings(bearer(
            t,
            bk::ListOfferingsRequest {
                centre_id: centre.clone(),
                eligible_for: who,
                ..Default::default()
            }
        )));
    both!("bookings CreateBooking", |who| bookings.create_booking(
        bearer(
            t,
            bk::CreateBookingRequest {
                centre_id: centre.clone(),
                offering_id: s.offering.clone(),
                session_id: s.session.clone(),
                resident_id: who,
                ..Default::default()
            }
        )
    ));
    both!("bookings ListBookings", |who| bookings.list_bookings(
        bearer(
            t,
            bk::ListBookingsRequest {
                centre_id: centre.clone(),
                resident_id: who,
                ..Default::default()
            }
        )
    ));
    both!("bookings ExportResident", |who| bookings.export_resident(
        bearer(
            t,
            bk::ExportResidentRequest {
                centre_id: centre.clone(),
                resident_id: who,
            }
        )
    ));
    // One booking each: B's (the desk made it) and A's own, just made above.
    let (_, listed) = p
        .get_json(
            &c.manager,
            &format!("/v1/centres/{centre}/bookings?resident_id={a}"),
        )
        .await;
    let a_booking = listed["bookings"][0]["id"]
        .as_str()
        .expect("A's booking")
        .to_owned();
    let booking_of = |who: &str| {
        if *who == b {
            s.b_booking.clone()
        } else {
            a_booking.clone()
        }
    };
    both!("bookings GetBooking", |who| bookings.get_booking(bearer(
        t,
        bk::GetBookingRequest {
            centre_id: centre.clone(),
            booking_id: booking_of(&who),
        }
    )));
    both!("bookings CancelBooking", |who| bookings.cancel_booking(
        bearer(
            t,
            bk::CancelBookingRequest {
                centre_id: centre.clone(),
                booking_id: booking_of(&who),
                ..Default::default()
            }
        )
    ));

    // Evaluation: invitations, answers, the awareness survey, suggestions, the copy.
    both!("evaluation ListInvitations", |who| evaluation
        .list_invitations(bearer(
            t,
            ev::ListInvitationsRequest {
                centre_id: centre.clone(),
                resident_id: who,
                ..Default::default()
            }
        )));
    let invitation_of = |who: &str| {
        if *who == b {
            s.b_invitation.clone()
        } else {
            s.a_invitation.clone()
        }
    };
    both!("evaluation SubmitResponse", |who| evaluation
        .submit_response(bearer(
            t,
            ev::SubmitResponseRequest {
                centre_id: centre.clone(),
                invitation_id: invitation_of(&who),
                answers: vec![ev::Answer {
                    key: "satisfaction".into(),
                    score: Some(1),
                    ..Default::default()
                }],
            }
        )));
    both!("evaluation CreateInvitation (awareness)", |who| evaluation
        .create_invitation(bearer(
            t,
            ev::CreateInvitationRequest {
                centre_id: centre.clone(),
                template_id: s.awareness.clone(),
                resident_id: who,
            }
        )));
    both!("evaluation SubmitSuggestion", |who| evaluation
        .submit_suggestion(bearer(
            t,
            ev::SubmitSuggestionRequest {
                centre_id: centre.clone(),
                resident_id: who,
                channel: "online".into(),
                text: "以别人的名义提建议".into(),
                ..Default::default()
            }
        )));
    both!("evaluation ExportResident", |who| evaluation
        .export_resident(bearer(
            t,
            ev::ExportResidentRequest {
                centre_id: centre.clone(),
                resident_id: who,
            }
        )));

    // Finance and volunteers: their parts of the copy.
    both!("finance ExportResident", |who| finance.export_resident(
        bearer(
            t,
            fi::ExportResidentRequest {
                centre_id: centre.clone(),
                resident_id: who,
            }
        )
    ));
    both!("volunteers ExportResident", |who| volunteers
        .export_resident(bearer(
            t,
            vo::ExportResidentRequest {
                centre_id: centre.clone(),
                resident_id: who,
            }
        )));

    let mut failures = Vec::new();
    for (what, for_b, for_a) in &matrix {
        match for_b {
            Ok(()) => failures.push(format!("{what}: granted for B")),
            Err(status)
                if !matches!(
                    status.code(),
                    tonic::Code::PermissionDenied | tonic::Code::NotFound
                ) =>
            {
                failures.push(format!("{what}: B's refused as {status:?}"))
            }
            Err(_) => {}
        }
        if let Err(status) = for_a {
            failures.push(format!("{what}: A's own refused: {status:?}"));
        }
    }

    // Reads that name no one: A's own only.
    let own = evaluation
        .list_suggestions(bearer(
            t,
            ev::ListSuggestionsRequest {
                centre_id: centre.clone(),
                page_size: 200,
                ..Default::default()
            },
        ))
        .await
        .expect("A's own suggestions")
        .into_inner();
    if own
        .suggestions
        .iter()
        .any(|x| x.id == s.b_suggestion || x.resident_id == b)
    {
        failures.push(format!(
            "evaluation ListSuggestions: B's among A's: {own:?}"
        ));
    }
    for (what, refused) in [
        (
            "bookings ListBookings naming no one",
            done(
                bookings
                    .list_bookings(bearer(
                        t,
                        bk::ListBookingsRequest {
                            centre_id: centre.clone(),
                            ..Default::default()
                        },
                    ))
                    .await,
            ),
        ),
        (
            "evaluation ListInvitations naming no one",
            done(
                evaluation
                    .list_invitations(bearer(
                        t,
                        ev::ListInvitationsRequest {
                            centre_id: centre.clone(),
                            ..Default::default()
                        },
                    ))
                    .await,
            ),
        ),
        // Staff's and the gateway's own calls about B: never a resident's.
        (
            "registry UpdateResident",
            done(
                registry
                    .update_resident(bearer(
                        t,
                        rg::UpdateResidentRequest {
                            id: b.clone(),
                            resident: Some(rg::CreateResidentRequest {
                                centre_id: centre.clone(),
                                name: "改名".into(),
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                    ))
                    .await,
            ),
        ),
        (
            "registry SetResidentStatus",
            done(
                registry
                    .set_resident_status(bearer(
                        t,
                        rg::SetResidentStatusRequest {
                            centre_id: centre.clone(),
                            id: b.clone(),
                            status: "moved_away".into(),
                            ..Default::default()
                        },
                    ))
                    .await,
            ),
        ),
        (
            "registry EraseResident",
            done(
                registry
                    .erase_resident(bearer(
                        t,
                        rg::EraseResidentRequest {
                            centre_id: centre.clone(),
                            id: b.clone(),
                            reason: "test".into(),
                        },
                    ))
                    .await,
            ),
        ),
        (
            "registry ListCorrectionRequests",
            done(
                registry
                    .list_correction_requests(bearer(
                        t,
                        rg::ListCorrectionRequestsRequest {
                            centre_id: centre.clone(),
                            resident_id: b.clone(),
                        },
                    ))
                    .await,
            ),
        ),
        (
            "registry IssueSignInCode for B's number",
            done(
                registry
                    .issue_sign_in_code(bearer(
                        t,
                        rg::IssueSignInCodeRequest {
                            phone: B_PHONE.into(),
                            client: "127.0.0.1".into(),
                        },
                    ))
                    .await,
            ),
        ),
        (
            "bookings CheckIn of B's booking",
            done(
                bookings
                    .check_in(bearer(
                        t,
                        bk::CheckInRequest {
                            centre_id: centre.clone(),
                            booking_id: s.b_booking.clone(),
                            ..Default::default()
                        },
                    ))
                    .await,
            ),
        ),
        (
            "evaluation MoveSuggestion of B's",
            done(
                evaluation
                    .move_suggestion(bearer(
                        t,
                        ev::MoveSuggestionRequest {
                            centre_id: centre.clone(),
                            suggestion_id: s.b_suggestion.clone(),
                            status: "answered".into(),
                            reply: "已处理".into(),
                        },
                    ))
                    .await,
            ),
        ),
        (
            "registry ListResidents",
            done(
                registry
                    .list_residents(bearer(
                        t,
                        rg::ListResidentsRequest {
                            centre_id: centre.clone(),
                            ..Default::default()
                        },
                    ))
                    .await,
            ),
        ),
    ] {
        match refused {
            Ok(()) => failures.push(format!("{what}: granted")),
            Err(status)
                if !matches!(
                    status.code(),
                    tonic::Code::PermissionDenied | tonic::Code::NotFound
                ) =>
            {
                failures.push(format!("{what}: refused as {status:?}"))
            }
            Err(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} methods:\n{}",
        failures.len(),
        matrix.len(),
        failures.join("\n")
    );
    assert_eq!(
        s.fingerprint().await,
        before,
        "B's data changed under A's calls"
    );
    eprintln!(
        "{} methods refused B's id and granted A's own",
        matrix.len()
    );
    s.c.platform.stop().await;
}

/// The residents' site with A's cookie and B's ids in every id-bearing page and form:
/// nothing of B's is shown, and nothing of B's changes.
#[tokio::test]
async fn the_residents_site_shows_and_changes_nothing_of_another_resident() {
    let s = Scene::set().await;
    let b = s.b.to_string();
    let before = s.fingerprint().await;
    let mut phone = sign_in_a(&s).await;
    let tells_of_b = |page: &str| {
        page.contains(B_NAME)
            || page.contains("139****4321")
            || page.contains(B_PHONE)
            || page.contains(B_SUGGESTION)
            || page.contains(&b)
            || page.contains(&s.b_booking)
            || page.contains(&s.b_invitation)
    };
    let mut failures = Vec::new();

    let session = &s.session;
    let invitation = &s.b_invitation;
    let booking = &s.b_booking;
    let gets = [
        "/r/".to_owned(),
        format!("/r/me?for={b}"),
        format!("/r/me/download?for={b}"),
        format!("/r/me/correction?for={b}"),
        format!("/r/book?for={b}"),
        format!("/r/bookings?for={b}"),
        format!("/r/sessions/{session}?for={b}&offering={}", s.offering),
        "/r/surveys".to_owned(),
        format!("/r/surveys/{invitation}"),
        "/r/suggestions".to_owned(),
    ];
    for path in &gets {
        let (status, page) = phone.get(path).await;
        if status.is_server_error() || tells_of_b(&page) {
            failures.push(format!("GET {path}: {status} told of B"));
        }
        // Naming B, 我的信息 is A's own (so the check above has something to read).
        if path.starts_with("/r/me?") && (status != StatusCode::OK || !page.contains("王秀英")) {
            failures.push(format!("GET {path}: {status}, not A's own page"));
        }
    }
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/r/me/consents".into(),
            vec![
                ("purpose", "activity_contact"),
                ("granted", "0"),
                ("for", b.as_str()),
            ],
        ),
        (
            "/r/me/correction".into(),
            vec![
                ("fields", "name"),
                ("details", "名字写错了"),
                ("for", b.as_str()),
            ],
        ),
        (
            format!("/r/sessions/{session}"),
            vec![("offering", s.offering.as_str()), ("for", b.as_str())],
        ),
        (format!("/r/bookings/{booking}/cancel"), vec![]),
        (
            format!("/r/bookings/{booking}/cancel"),
            vec![("for", b.as_str())],
        ),
        (
            format!("/r/surveys/{invitation}"),
            vec![("q_satisfaction", "1"), ("q_comment", "不好")],
        ),
    ];
    for (path, form) in &posts {
        let (status, page) = phone.post(path, form).await;
        // Refused outright (a redirect would say it was done), and no word of B.
        if !status.is_client_error() || tells_of_b(&page) {
            failures.push(format!("POST {path} {form:?}: {status} {page}"));
        }
    }
    // The same forms work for A's own (so the refusals above are about B).
    let a = s.a.to_string();
    let (status, _) = phone
        .post(
            "/r/me/consents",
            &[
                ("purpose", "activity_contact"),
                ("granted", "1"),
                ("for", a.as_str()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "A's own consent");
    let (status, page) = phone.get("/r/me").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("王秀英"), "A's own page: {page}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        s.fingerprint().await,
        before,
        "B's data changed through A's site"
    );
    s.c.platform.stop().await;
}
