//! Events for outside systems: a partner agreement's webhook, end to end. The whole
//! platform on the real PostgreSQL and RabbitMQ, bookings made through the gateway (so
//! every event leaves through the bookings outbox and reaches the registry's webhook
//! consumer over the broker), and a real receiving HTTP server on loopback: the example
//! receiver (`linli_tests::webhook_receiver`), which checks the signature.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use linli_platform::auth::Role;
use linli_platform::webhook;
use linli_tests::webhook_receiver::{self, Receiver};
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(30);

/// Two centres, a partner with an agreement at the first one (bookings it may read), and
/// helpers over the gateway.
struct Scene {
    platform: TestPlatform,
    /// The agreement's centre.
    here: Uuid,
    /// Another centre, where the partner has no agreement.
    there: Uuid,
    admin: String,
    partner: String,
    agreement: String,
}

/// An agreement of `partner` at `centre` letting it read bookings of its own offerings;
/// its id.
async fn agree(platform: &TestPlatform, admin: &str, partner: &str, centre: Uuid) -> String {
    let today = chrono::Utc::now().date_naive();
    let (status, agreement) = platform
        .post_json(
            admin,
            &format!("/v1/partners/{partner}/agreements"),
            &json!({
                "centre_id": centre,
                "provides": "上门助餐",
                "scopes": ["bookings.bookings:read"],
                "valid_from": (today - chrono::Days::new(1)).to_string(),
                "valid_until": (today + chrono::Days::new(365)).to_string(),
            }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{agreement}");
    agreement["id"].as_str().expect("agreement id").to_owned()
}

impl Scene {
    async fn open() -> Scene {
        let platform = TestPlatform::start().await;
        let here = platform.bookable_centre("Asia/Shanghai").await;
        let there = platform.bookable_centre("Asia/Shanghai").await;
        let admin = platform.admin_token();
        let (status, partner) = platform
            .post_json(
                &admin,
                "/v1/partners",
                &json!({ "name": format!("幸福超市 {}", Uuid::new_v4()), "kind": "enterprise" }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{partner}");
        let partner = partner["id"].as_str().expect("partner id").to_owned();
        let agreement = agree(&platform, &admin, &partner, here).await;
        Scene {
            platform,
            here,
            there,
            admin,
            partner,
            agreement,
        }
    }

    fn webhook_path(&self) -> String {
        format!(
            "/v1/partners/{}/agreements/{}/webhook",
            self.partner, self.agreement
        )
    }

    /// Sets the agreement's webhook; its answer (with the secret).
    async fn set_webhook(&self, url: &str, event_types: &[&str]) -> (StatusCode, Value) {
        let response = self
            .platform
            .http
            .put(format!("{}{}", self.platform.gateway, self.webhook_path()))
            .bearer_auth(&self.admin)
            .json(&json!({ "url": url, "event_types": event_types }))
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status();
        (status, response.json().await.expect("JSON"))
    }

    /// The webhook, set to `url` for confirmed and attended bookings; its secret.
    async fn webhook(&self, url: &str) -> String {
        let (status, body) = self
            .set_webhook(
                url,
                &["bookings.booking.confirmed", "bookings.booking.attended"],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let secret = body["secret"]
            .as_str()
            .expect("the secret, once")
            .to_owned();
        assert!(secret.starts_with("whsec_"), "{secret}");
        secret
    }

    async fn deliveries(&self) -> Vec<Value> {
        let (status, body) = self
            .platform
            .get_json(
                &self.admin,
                &format!("{}/deliveries?page_size=200", self.webhook_path()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["deliveries"].as_array().cloned().unwrap_or_default()
    }

    async fn replay(&self, body: Value) -> (StatusCode, Value) {
        self.platform
            .post_json(
                &self.admin,
                &format!("{}/replay", self.webhook_path()),
                &body,
                None,
            )
            .await
    }

    /// Registers an adult at `centre` (with a phone number) and waits until bookings knows
    /// them.
    async fn resident(&self, centre: Uuid, phone: &str) -> String {
        let token = self.platform.token(&[Role::CentreManager], &[centre]);
        let (status, body) = self
            .platform
            .post_json(
                &token,
                &format!("/v1/centres/{centre}/residents"),
                &json!({ "name": "欧阳建国", "gender": "male", "date_of_birth": "1950-05-01",
                         "phone": phone, "confirm_not_duplicate": true }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id: Uuid = body["id"]
            .as_str()
            .expect("resident id")
            .parse()
            .expect("uuid");
        self.platform.wait_for_residents_in_bookings(&[id]).await;
        id.to_string()
    }

    /// A session of a class of `capacity` seats at `centre`, the partner's own offering
    /// or (`partners: false`) the centre's: (offering, session).
    async fn class(&self, centre: Uuid, capacity: i32, partners: bool) -> (String, String) {
        let token = self.platform.token(&[Role::CentreManager], &[centre]);
        let mut body = json!({ "category": "culture_education", "kind": "event", "name": "社区读书会", "capacity": capacity });
        if partners {
            body["provider"] = json!("partner");
            body["provider_id"] = json!(self.partner);
        }
        // The partner is the centre's once bookings has heard of the agreement.
        let offering = poll("the offering made", DEADLINE, || async {
            let (status, offering) = self
                .platform
                .post_json(
                    &token,
                    &format!("/v1/centres/{centre}/offerings"),
                    &body,
                    None,
                )
                .await;
            (status == StatusCode::CREATED).then_some(offering)
        })
        .await;
        let offering = offering["id"].as_str().expect("offering id").to_owned();
        let (status, session) = self
            .platform
            .post_json(
                &token,
                &format!("/v1/centres/{centre}/sessions"),
                &json!({ "offering_id": offering, "starts_at": "2027-03-04T14:00:00+08:00", "ends_at": "2027-03-04T15:00:00+08:00" }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{session}");
        (
            offering,
            session["id"].as_str().expect("session id").to_owned(),
        )
    }

    /// Books the session for the resident; the booking's id and status.
    async fn book(
        &self,
        centre: Uuid,
        (offering, session): &(String, String),
        resident: &str,
    ) -> (String, String) {
        let token = self.platform.token(&[Role::CentreManager], &[centre]);
        let (status, body) = self
            .platform
            .post_json(
                &token,
                &format!("/v1/centres/{centre}/bookings"),
                &json!({ "offering_id": offering, "resident_id": resident, "session_id": session }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["id"].as_str().expect("booking id").to_owned(),
            body["status"].as_str().expect("status").to_owned(),
        )
    }

    /// Waits until the registry's webhook consumer has taken in every event the bookings
    /// and registry services have published so far: after that, whatever it was going to
    /// record for the agreement is recorded.
    async fn wait_until_every_event_is_considered(&self) {
        let mut published: Vec<Uuid> = Vec::new();
        for service in ["bookings", "registry"] {
            let pool = self.platform.pool(service).await;
            // The consumer is bound to the types a webhook may cover (and the erasure),
            // so those are the events it must have considered.
            let bound: Vec<String> = linli_registry::webhooks::BINDINGS
                .iter()
                .map(|key| key.to_string())
                .collect();
            let ids: Vec<Uuid> =
                sqlx::query_scalar("SELECT id FROM outbox WHERE routing_key = ANY($1)")
                    .bind(&bound)
                    .fetch_all(&pool)
                    .await
                    .expect("outbox readable");
            pool.close().await;
            published.extend(ids);
        }
        let registry = self.platform.pool("registry").await;
        poll(
            "the webhook consumer to take in every event",
            DEADLINE,
            || async {
                let seen: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM inbox WHERE consumer = 'webhooks' AND event_id = ANY($1)",
                )
                .bind(&published)
                .fetch_one(&registry)
                .await
                .expect("inbox readable");
                (seen == published.len() as i64).then_some(())
            },
        )
        .await;
        registry.close().await;
    }

    async fn stop(self) {
        self.platform.stop().await;
    }
}

/// Each accepted event id, with how many times it was accepted.
fn counts(accepted: &[webhook_receiver::Received]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for received in accepted {
        *counts.entry(received.event_id.clone()).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn a_signature_that_does_not_match_is_refused_by_the_example_receiver() {
    let scene = Scene::open().await;
    let receiver = Receiver::start().await;
    let secret = scene.webhook(&receiver.url()).await;
    // The receiver holds another secret: every delivery is refused, and recorded so.
    receiver.trust("whsec_not_the_agreements");
    let resident = scene.resident(scene.here, "13800000001").await;
    let class = scene.class(scene.here, 5, true).await;
    let (booking, _) = scene.book(scene.here, &class, &resident).await;
    let failing = poll("a delivery refused by the receiver", DEADLINE, || async {
        scene
            .deliveries()
            .await
            .into_iter()
            .find(|d| d["status"] == "failing" && d["last_http_status"] == 401)
    })
    .await;
    assert_eq!(failing["event_type"], "bookings.booking.confirmed");
    assert!(receiver.accepted().is_empty());
    assert!(
        receiver
            .refused()
            .iter()
            .all(|r| *r == webhook::Refused::Mismatch),
        "{:?}",
        receiver.refused()
    );

    // With the agreement's secret the same delivery, retried, is accepted.
    receiver.trust(&secret);
    let accepted = poll("the delivery accepted", DEADLINE, || async {
        receiver.accepted().into_iter().next()
    })
    .await;
    assert_eq!(accepted.body["data"]["booking_id"], booking);
    assert_eq!(accepted.event_id, failing["event_id"].as_str().unwrap());

    // A body changed on the way, or a signed body sent again after five minutes, is
    // refused by the same check the receiver runs.
    let body = br#"{"id":"1","type":"bookings.booking.confirmed"}"#;
    let now = chrono::Utc::now().timestamp();
    let headers = |signature: String| {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            webhook::SIGNATURE_HEADER,
            signature.parse().expect("a header value"),
        );
        headers
    };
    let signed = headers(webhook::sign(&secret, now, body));
    assert_eq!(webhook_receiver::check(&secret, &signed, body, now), Ok(()));
    assert_eq!(
        webhook_receiver::check(&secret, &signed, br#"{"id":"2"}"#, now),
        Err(webhook::Refused::Mismatch)
    );
    let old = headers(webhook::sign(&secret, now - 301, body));
    assert_eq!(
        webhook_receiver::check(&secret, &old, body, now),
        Err(webhook::Refused::Stale)
    );
    // And over HTTP: a forged signature is answered 401, nothing kept.
    let before = receiver.accepted().len();
    let forged = reqwest::Client::new()
        .post(receiver.url())
        .header(
            webhook::SIGNATURE_HEADER,
            webhook::sign("whsec_guess", now, body),
        )
        .header(webhook::EVENT_ID_HEADER, Uuid::new_v4().to_string())
        .body(body.to_vec())
        .send()
        .await
        .expect("the receiver answers");
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(receiver.accepted().len(), before);
    scene.stop().await;
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_every_event_exactly_once_when_it_is_back() {
    let scene = Scene::open().await;
    // A port nobody listens on, for now.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("an address").port()
    };
    let secret = scene
        .webhook(&format!("http://127.0.0.1:{port}/events"))
        .await;
    let class = scene.class(scene.here, 10, true).await;
    let mut bookings = HashSet::new();
    for n in 0..3 {
        let resident = scene.resident(scene.here, &format!("1390000000{n}")).await;
        bookings.insert(scene.book(scene.here, &class, &resident).await.0);
    }
    // Each delivery fails a few times, the receiver unreached (no HTTP status: 0).
    poll("three deliveries failing, retried", DEADLINE, || async {
        let deliveries = scene.deliveries().await;
        (deliveries.len() == 3
            && deliveries.iter().all(|d| {
                d["status"] == "failing"
                    && d["attempts"].as_i64() >= Some(2)
                    && d["last_http_status"] == 0
            }))
        .then_some(())
    })
    .await;

    let receiver = Receiver::start_on(port).await;
    receiver.trust(&secret);
    poll("every delivery delivered", DEADLINE, || async {
        let deliveries = scene.deliveries().await;
        deliveries
            .iter()
            .all(|d| d["status"] == "delivered" && d["last_http_status"] == 204)
            .then_some(())
    })
    .await;
    let accepted = receiver.accepted();
    let counts = counts(&accepted);
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    let booked: HashSet<String> = accepted
        .iter()
        .map(|r| {
            r.body["data"]["booking_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(booked, bookings);
    for received in &accepted {
        assert_eq!(received.event_type, "bookings.booking.confirmed");
        assert_eq!(received.body["id"], received.event_id.as_str());
        assert_eq!(received.body["centre_id"], scene.here.to_string());
        // Ids and codes only: no name or phone of the resident.
        let text = received.body.to_string();
        assert!(
            !text.contains("欧阳建国") && !text.contains("139000000"),
            "{text}"
        );
    }
    scene.stop().await;
}

#[tokio::test]
async fn nothing_outside_the_agreement_is_ever_sent() {
    let scene = Scene::open().await;
    // A type the agreement's scopes do not cover is refused with its code.
    let (status, refused) = scene
        .set_webhook(
            "http://127.0.0.1:9/events",
            &["bookings.booking.confirmed", "registry.resident.registered"],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let errors = refused["errors"].as_array().expect("field errors");
    assert_eq!(errors.len(), 1, "{refused}");
    assert_eq!(errors[0]["code"], "webhook.event_type_not_covered");
    assert_eq!(errors[0]["field"], "event_types[1]");
    let (status, refused) = scene
        .set_webhook(
            "http://127.0.0.1:9/events",
            &["bookings.booking.waitlisted"],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(
        refused["errors"][0]["code"],
        "webhook.event_type_not_covered"
    );
    let (status, refused) = scene
        .set_webhook("ftp://127.0.0.1/events", &["bookings.booking.confirmed"])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["errors"][0]["code"], "webhook.url");

    let receiver = Receiver::start().await;
    let secret = scene.webhook(&receiver.url()).await;
    receiver.trust(&secret);
    // At the other centre, where the partner has an agreement without a webhook: a
    // confirmed booking of its own offering (a covered type, not the webhook's centre).
    agree(&scene.platform, &scene.admin, &scene.partner, scene.there).await;
    let elsewhere = scene.resident(scene.there, "13700000001").await;
    let other_class = scene.class(scene.there, 5, true).await;
    scene.book(scene.there, &other_class, &elsewhere).await;
    // Here: a resident registered (no scope covers it), a confirmed booking of the
    // centre's own offering (not the partner's), and a waitlisted booking (not a covered
    // type), beside one confirmed booking of the partner's offering.
    let first = scene.resident(scene.here, "13700000002").await;
    let second = scene.resident(scene.here, "13700000003").await;
    let centres_own = scene.class(scene.here, 5, false).await;
    scene.book(scene.here, &centres_own, &second).await;
    let class = scene.class(scene.here, 1, true).await;
    let (confirmed, status) = scene.book(scene.here, &class, &first).await;
    assert_eq!(status, "confirmed");
    let (_, status) = scene.book(scene.here, &class, &second).await;
    assert_eq!(status, "waitlisted");

    scene.wait_until_every_event_is_considered().await;
    poll("the confirmed booking delivered", DEADLINE, || async {
        (!receiver.accepted().is_empty()).then_some(())
    })
    .await;
    let deliveries = scene.deliveries().await;
    assert_eq!(deliveries.len(), 1, "{deliveries:?}");
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), 1, "{accepted:?}");
    assert_eq!(accepted[0].event_type, "bookings.booking.confirmed");
    assert_eq!(accepted[0].body["data"]["booking_id"], confirmed);
    assert_eq!(accepted[0].body["centre_id"], scene.here.to_string());
    assert_eq!(accepted[0].body["data"]["provider_id"], scene.partner);
    scene.stop().await;
}

#[tokio::test]
async fn a_replay_sends_a_delivered_event_again() {
    let scene = Scene::open().await;
    let receiver = Receiver::start().await;
    let secret = scene.webhook(&receiver.url()).await;
    receiver.trust(&secret);
    let resident = scene.resident(scene.here, "13600000001").await;
    let class = scene.class(scene.here, 5, true).await;
    scene.book(scene.here, &class, &resident).await;
    let delivered = poll("the delivery delivered", DEADLINE, || async {
        scene
            .deliveries()
            .await
            .into_iter()
            .find(|d| d["status"] == "delivered")
    })
    .await;
    assert_eq!(delivered["attempts"], 1);
    assert_eq!(receiver.accepted().len(), 1);
    let event_id = delivered["event_id"].as_str().expect("event id").to_owned();

    let (status, body) = scene
        .replay(json!({ "delivery_id": delivered["id"] }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["replayed"], 1);
    poll("the event received a second time", DEADLINE, || async {
        (counts(&receiver.accepted()).get(&event_id) == Some(&2)).then_some(())
    })
    .await;
    // Every delivery since a time: the same one once more.
    let since = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let (status, body) = scene.replay(json!({ "since": since })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["replayed"], 1);
    let again = poll("the event received a third time", DEADLINE, || async {
        let deliveries = scene.deliveries().await;
        (counts(&receiver.accepted()).get(&event_id) == Some(&3)
            && deliveries[0]["status"] == "delivered")
            .then(|| deliveries[0].clone())
    })
    .await;
    assert_eq!(again["attempts"], 3);
    // Naming nothing to replay is refused.
    let (status, body) = scene.replay(json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["code"], "webhook.replay_what");

    // Erasing the resident removes the deliveries that name them: nothing left to replay.
    let token = scene.platform.token(&[Role::CentreManager], &[scene.here]);
    let (status, body) = scene
        .platform
        .post_json(
            &token,
            &format!("/v1/centres/{}/residents/{resident}/erasure", scene.here),
            &json!({ "reason": "the resident's request" }),
            None,
        )
        .await;
    assert!(status.is_success(), "{body}");
    poll(
        "the erased resident's deliveries gone",
        DEADLINE,
        || async { scene.deliveries().await.is_empty().then_some(()) },
    )
    .await;
    let (status, _) = scene
        .replay(json!({ "delivery_id": delivered["id"] }))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    scene.stop().await;
}

/// A replay asked for while its delivery's attempt is in flight (sent, not yet answered)
/// is sent once that attempt is recorded: the attempt's outcome does not overwrite it.
#[tokio::test]
async fn a_replay_asked_while_its_delivery_is_in_flight_is_sent_after_it() {
    let scene = Scene::open().await;
    let receiver = Receiver::start().await;
    let secret = scene.webhook(&receiver.url()).await;
    receiver.trust(&secret);
    receiver.hold(true);
    let resident = scene.resident(scene.here, "13600000002").await;
    let class = scene.class(scene.here, 5, true).await;
    scene.book(scene.here, &class, &resident).await;
    let event_id = poll("the first attempt in flight", DEADLINE, || async {
        receiver.accepted().first().map(|r| r.event_id.clone())
    })
    .await;
    let in_flight = scene.deliveries().await;
    assert_eq!(in_flight.len(), 1, "{in_flight:#?}");
    assert_ne!(in_flight[0]["status"], "delivered");
    let (status, body) = scene
        .replay(json!({ "delivery_id": in_flight[0]["id"] }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["replayed"], 1);
    receiver.hold(false);
    let delivered = poll(
        "the replay received after the attempt",
        DEADLINE,
        || async {
            let deliveries = scene.deliveries().await;
            (counts(&receiver.accepted()).get(&event_id) == Some(&2)
                && deliveries[0]["status"] == "delivered")
                .then(|| deliveries[0].clone())
        },
    )
    .await;
    assert_eq!(delivered["attempts"], 2);
    scene.stop().await;
}

/// Every routing key a service publishes, read where they are named: the `Event` impls
/// of the contracts crate.
fn published_routing_keys() -> Vec<String> {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../proto/src/lib.rs"))
            .expect("proto/src/lib.rs");
    let marker = "const ROUTING_KEY: &'static str = \"";
    source
        .match_indices(marker)
        .filter_map(|(at, _)| {
            let rest = &source[at + marker.len()..];
            rest.split('"').next().map(str::to_owned)
        })
        .filter(|key| key.contains('.'))
        .collect()
}

/// Every `$ref` in `value`, as written.
fn refs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(target)) => into.push(target.clone()),
                    _ => refs(value, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, into)),
        _ => {}
    }
}

#[tokio::test]
async fn the_asyncapi_document_lists_every_published_event() {
    let platform = TestPlatform::start().await;
    let response = reqwest::get(format!("{}/asyncapi.json", platform.gateway))
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.expect("JSON");
    assert_eq!(doc["asyncapi"], "3.0.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let channel = &doc["channels"]["events"];
    assert_eq!(channel["address"], "linli.events");
    assert_eq!(channel["bindings"]["amqp"]["exchange"]["type"], "topic");
    let messages = doc["components"]["messages"].as_object().expect("messages");
    let operations = doc["operations"].as_object().expect("operations");

    let keys = published_routing_keys();
    assert!(keys.len() >= 40, "{keys:?}");
    let named: HashSet<&str> = messages
        .values()
        .filter_map(|m| m["name"].as_str())
        .collect();
    for key in &keys {
        assert!(
            named.contains(key.as_str()),
            "{key} is not in the AsyncAPI document"
        );
        let id = key.replace('.', "_");
        let operation = &operations[&format!("receive_{id}")];
        assert_eq!(operation["action"], "receive", "{key}");
        assert_eq!(operation["channel"]["$ref"], "#/channels/events");
        let payload = messages[&id]["payload"]["$ref"]
            .as_str()
            .expect("payload ref");
        let schema = payload.trim_start_matches("#/components/schemas/");
        let properties = doc["components"]["schemas"][schema]["properties"]
            .as_object()
            .unwrap_or_else(|| panic!("{key}: schema {schema} has properties"));
        assert!(
            properties.contains_key("centre_id") || !properties.is_empty(),
            "{key}"
        );
    }
    assert_eq!(named.len(), keys.len(), "only published events are listed");
    // Every reference points at something in the document.
    let mut targets = Vec::new();
    refs(&doc, &mut targets);
    for target in targets {
        let pointer = target.trim_start_matches('#');
        assert!(doc.pointer(pointer).is_some(), "{target} resolves");
    }
    // A booking's schema carries ids and times, never a name or phone.
    let booking = &doc["components"]["schemas"]["BookingConfirmed"]["properties"];
    assert_eq!(booking["resident_id"]["type"], "string");
    assert_eq!(booking["starts_at"]["oneOf"][0]["format"], "date-time");
    assert!(booking.get("phone").is_none() && booking.get("name").is_none());
    // Served beside /openapi.json, which names it.
    let (status, openapi) = platform
        .get_json(&platform.admin_token(), "/openapi.json")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(openapi["paths"]["/asyncapi.json"]["get"].is_object());
    platform.stop().await;
}
