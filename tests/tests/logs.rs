//! Personal data never reaches the logs: with every log line captured (at debug level),
//! registering, reading, revealing, searching and importing residents with national IDs
//! and phone numbers leaves neither in any line; nor is an event the broker hands back
//! (no queue subscribes to it) logged with its payload. In its own binary because it
//! installs the process-wide subscriber.

use std::io::Write;
use std::sync::{Arc, Mutex};

use linli_platform::auth::Role;
use linli_tests::TestPlatform;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::json;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn national_ids_and_phone_numbers_never_appear_in_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    linli_platform::telemetry::install_to(
        SdkTracerProvider::builder().build(),
        "debug,h2=info,hyper=info,tower=info,lapin=info,amq_protocol=info",
        true,
        BoxMakeWriter::new(move || writer.clone()),
    )
    .expect("subscriber installs");

    let sms = linli_tests::sms::SmsProvider::start().await;
    let sms_args = sms.args();
    let platform = TestPlatform::start_with(|args| args.sms = sms_args).await;
    let centre = platform.create_centre("logs").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    let url = format!("{}/v1/centres/{centre}/residents", platform.gateway);
    let created: serde_json::Value = platform
        .http
        .post(&url)
        .bearer_auth(&desk)
        .json(
            &json!({ "name": "王芳", "gender": "female", "date_of_birth": "1949-12-31",
                       "national_id": "11010519491231002X", "phone": "13912345678",
                       "health_note": "高血压，按时服药" }),
        )
        .send()
        .await
        .expect("gateway answers")
        .json()
        .await
        .expect("json");
    let id = created["id"].as_str().expect("id");
    // A bad number, a duplicate, a reveal, a search and an import with a bad row.
    for body in [
        json!({ "name": "甲", "gender": "female", "date_of_birth": "1949-12-31", "national_id": "110105194912310021" }),
        json!({ "name": "乙", "gender": "female", "date_of_birth": "1949-12-31", "national_id": "11010519491231002X" }),
    ] {
        platform
            .http
            .post(&url)
            .bearer_auth(&desk)
            .json(&body)
            .send()
            .await
            .expect("answers");
    }
    platform
        .http
        .get(format!("{url}/{id}?national_id_purpose=identity%20check"))
        .bearer_auth(&desk)
        .send()
        .await
        .expect("answers");
    platform
        .http
        .get(format!("{url}?q=wf"))
        .bearer_auth(&desk)
        .send()
        .await
        .expect("answers");
    let sheet =
        "姓名,性别,出生日期,手机,身份证号\n丙,女,1949-12-31,13712345678,110105194912310021\n";
    platform
        .http
        .post(format!("{url}/imports"))
        .bearer_auth(&desk)
        .body(sheet)
        .send()
        .await
        .expect("answers");
    // The resident signs in on their own site: a code asked for, a wrong one, the right
    // one; and a number nobody has.
    let site = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let site_post = |path: &str, form: Vec<(&'static str, String)>| {
        site.post(format!("{}{path}", platform.gateway))
            .form(&form)
            .send()
    };
    site_post("/r/sign-in/code", vec![("phone", "13912345678".into())])
        .await
        .expect("answers");
    site_post("/r/sign-in/code", vec![("phone", "13600001111".into())])
        .await
        .expect("answers");
    let code = sms.code("13912345678", 1).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    site_post(
        "/r/sign-in",
        vec![("phone", "13912345678".into()), ("code", wrong.into())],
    )
    .await
    .expect("answers");
    let signed = site_post(
        "/r/sign-in",
        vec![("phone", "13912345678".into()), ("code", code.clone())],
    )
    .await
    .expect("answers");
    assert_eq!(signed.status(), reqwest::StatusCode::SEE_OTHER);
    // An event nobody subscribes to: the broker hands it back, and that is counted by the
    // relay, not logged by lapin with its payload.
    let bus = linli_platform::bus::Bus::new(platform.args.bus.clone(), "logs-test");
    let channel = bus.channel().await.expect("broker");
    channel
        .confirm_select(lapin::options::ConfirmSelectOptions::default())
        .await
        .expect("confirms");
    let confirmation = channel
        .basic_publish(
            platform.args.bus.exchange().into(),
            "nobody.listens.here".into(),
            lapin::options::BasicPublishOptions {
                mandatory: true,
                ..Default::default()
            },
            b"unroutable payload",
            lapin::BasicProperties::default(),
        )
        .await
        .expect("published")
        .await
        .expect("confirmed");
    assert!(
        matches!(confirmation, lapin::Confirmation::Ack(Some(_))),
        "the broker handed the message back: {confirmation:?}"
    );
    bus.close().await;
    platform.stop().await;

    let logs =
        String::from_utf8(captured.0.lock().expect("not poisoned").clone()).expect("UTF-8 logs");
    assert!(logs.contains("resident registered"), "the capture works");
    assert!(logs.contains("residents imported"), "the capture works");
    assert!(logs.contains("resident signed in"), "the capture works");
    assert!(
        !logs.contains("Server returned us a message"),
        "lapin logged a returned message"
    );
    // The code as a word of its own (six digits also turn up inside hex ids by chance).
    let hex = |c: Option<char>| c.is_some_and(|c| c.is_ascii_hexdigit());
    let standalone = logs.match_indices(code.as_str()).find(|(at, _)| {
        !hex(logs[..*at].chars().next_back()) && !hex(logs[at + code.len()..].chars().next())
    });
    assert!(
        standalone.is_none(),
        "the sign-in code was logged: {}",
        logs.lines()
            .find(|l| l.contains(code.as_str()))
            .unwrap_or_default()
    );
    for secret in [
        "13600001111",
        "高血压",
        "19491231002",
        "13912345678",
        "13712345678",
        "1391234",
        "1371234",
    ] {
        let line = logs
            .lines()
            .find(|l| l.contains(secret))
            .unwrap_or_default();
        assert!(
            !logs.contains(secret),
            "`{secret}` was logged: {}",
            line.chars().take(400).collect::<String>()
        );
    }
    // Nor is anything logged as an error, the stop included: the relay used to close its
    // service's connection while the consumers were still closing their channels on it,
    // and lapin logged the answer to a close as a connection error in one stop of four.
    let errors: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("\"level\":\"ERROR\""))
        .collect();
    assert!(errors.is_empty(), "errors were logged: {errors:#?}");
}
