//! The residents' own site at `/r/`: signing in with a mobile number and a one-time code
//! sent through a real SMS provider stand-in (an HTTP server on loopback), the limits and
//! refusals of sign-in, a resident's token kept out of every staff route and off every
//! other resident, and, in Chromium at phone width, a resident booking a session and
//! cancelling it.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use linli_platform::auth::Role;
use linli_proto::bookings::v1 as bk;
use linli_proto::bookings::v1::bookings_client::BookingsClient;
use linli_proto::registry::v1 as pb;
use linli_proto::registry::v1::registry_client::RegistryClient;
use linli_tests::phone::Phone;
use linli_tests::webdriver::Browser;
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use linli_tests::phone::SiteCentre as Centre;

#[tokio::test]
async fn a_resident_signs_in_with_the_code_the_sms_provider_was_sent_and_sees_their_centre() {
    let c = Centre::open().await;
    c.resident("王秀英", "1950-03-02", "13812345678").await;
    let mut phone = Phone::new(&c.platform);

    let (status, page) = phone.get("/r/").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "home asks for sign-in first: {page}"
    );

    let (status, page) = phone
        .post("/r/sign-in/code", &[("phone", "138 1234 5678")])
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("5 分钟内有效"), "{page}");
    assert!(
        page.contains("value=\"13812345678\""),
        "the number is kept: {page}"
    );
    let code = c.sms.code("13812345678", 1).await;
    assert_eq!(
        *c.sms.refused_keys.lock().expect("lock"),
        0,
        "the key was sent"
    );
    assert!(c.sms.sent_to("13812345678")[0].contains("5 分钟内有效"));

    let (status, _) = phone
        .post("/r/sign-in", &[("phone", "13812345678"), ("code", &code)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, home) = phone.get("/r/").await;
    assert_eq!(status, StatusCode::OK, "{home}");
    assert!(home.contains("测试社区服务中心"), "{home}");
    assert!(
        home.contains("本周活动") && home.contains("通知公告"),
        "{home}"
    );

    // The registry keeps neither the number nor the code in clear.
    let pool = c.platform.pool("registry").await;
    let rows: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT phone_index, client_index, code_hash FROM sign_in_codes")
            .fetch_all(&pool)
            .await
            .expect("codes");
    assert_eq!(rows.len(), 1);
    for (phone_index, client_index, hash) in &rows {
        for bytes in [phone_index, client_index, hash] {
            assert!(!bytes.windows(11).any(|w| w == b"13812345678"));
            assert!(!bytes.windows(6).any(|w| w == code.as_bytes()));
        }
    }
    pool.close().await;
    c.platform.stop().await;
}

#[tokio::test]
async fn a_wrong_a_used_and_an_expired_code_are_refused_in_chinese_with_the_number_kept() {
    let c = Centre::open().await;
    c.resident("王秀英", "1950-03-02", "13812345678").await;
    let mut phone = Phone::new(&c.platform);
    phone
        .post("/r/sign-in/code", &[("phone", "13812345678")])
        .await;
    let code = c.sms.code("13812345678", 1).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };

    let (status, page) = phone
        .post("/r/sign-in", &[("phone", "13812345678"), ("code", wrong)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("验证码不对"), "{page}");
    assert!(page.contains("value=\"13812345678\""), "{page}");
    let (status, page) = phone
        .post("/r/sign-in", &[("phone", "13812345678"), ("code", "12ab")])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("验证码是 6 位数字"), "{page}");

    // The right code once; then it is used.
    let (status, _) = phone
        .post("/r/sign-in", &[("phone", "13812345678"), ("code", &code)])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, page) = Phone::new(&c.platform)
        .post("/r/sign-in", &[("phone", "13812345678"), ("code", &code)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("已过期或已经用过"), "{page}");

    // A new code that outlives its five minutes.
    let mut late = Phone::new(&c.platform);
    late.post("/r/sign-in/code", &[("phone", "13812345678")])
        .await;
    let code = c.sms.code("13812345678", 2).await;
    let pool = c.platform.pool("registry").await;
    sqlx::query(
        "UPDATE sign_in_codes SET expires_at = now() - interval '1 second' WHERE used_at IS NULL",
    )
    .execute(&pool)
    .await
    .expect("aged");
    pool.close().await;
    let (status, page) = late
        .post("/r/sign-in", &[("phone", "13812345678"), ("code", &code)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("已过期或已经用过"), "{page}");
    assert!(late.cookie.is_none(), "no sign-in");

    // Five wrong tries kill a code, even the right one after them.
    let mut guesser = Phone::new(&c.platform);
    guesser
        .post("/r/sign-in/code", &[("phone", "13812345678")])
        .await;
    let code = c.sms.code("13812345678", 3).await;
    for _ in 0..5 {
        let (status, _) = guesser
            .post("/r/sign-in", &[("phone", "13812345678"), ("code", wrong)])
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (status, page) = guesser
        .post("/r/sign-in", &[("phone", "13812345678"), ("code", &code)])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("输错次数太多"), "{page}");
    c.platform.stop().await;
}

#[tokio::test]
async fn codes_are_limited_per_number_and_per_client_and_a_number_nobody_has_answers_the_same() {
    let c = Centre::open().await;
    c.resident("王秀英", "1950-03-02", "13812345678").await;
    let mut phone = Phone::new(&c.platform);

    let (status, registered) = phone
        .post("/r/sign-in/code", &[("phone", "13812345678")])
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, unknown) = phone
        .post("/r/sign-in/code", &[("phone", "13900000001")])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        registered.replace("13812345678", "N"),
        unknown.replace("13900000001", "N"),
        "the page is the same for a number nobody has"
    );
    c.sms.code("13812345678", 1).await;
    // A number nobody has is sent nothing, and refused like a wrong code.
    let (status, page) = phone
        .post(
            "/r/sign-in",
            &[("phone", "13900000001"), ("code", "123456")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("验证码不对"), "{page}");
    assert!(c.sms.sent_to("13900000001").is_empty());

    // Five codes an hour for a number, then a Chinese refusal beside the number.
    for n in 2..=5 {
        let (status, _) = phone
            .post("/r/sign-in/code", &[("phone", "13812345678")])
            .await;
        assert_eq!(status, StatusCode::OK, "code {n}");
    }
    let (status, page) = phone
        .post("/r/sign-in/code", &[("phone", "13812345678")])
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("次数太多了"), "{page}");
    assert!(page.contains("value=\"13812345678\""), "{page}");
    // The same for a number nobody has: the limit does not tell them apart.
    for _ in 2..=5 {
        phone
            .post("/r/sign-in/code", &[("phone", "13900000001")])
            .await;
    }
    let (status, page) = phone
        .post("/r/sign-in/code", &[("phone", "13900000001")])
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.contains("次数太多了"), "{page}");

    // Twenty an hour from one client, whatever the numbers (12 were asked for so far,
    // two of them refused and not counted).
    let mut refused_at = None;
    for n in 0..20 {
        let number = format!("1370000{n:04}");
        let (status, _) = phone.post("/r/sign-in/code", &[("phone", &number)]).await;
        if status != StatusCode::OK {
            refused_at = Some(n);
            break;
        }
    }
    assert_eq!(
        refused_at,
        Some(10),
        "10 codes before, 10 more, then refused"
    );
    c.platform.stop().await;
}

/// Every operation of the gateway's OpenAPI document, its path filled with ids of
/// another resident (and their centre's), as a resident signed in on the site.
#[tokio::test]
async fn a_residents_token_reaches_no_staff_route_and_no_other_resident() {
    let c = Centre::open().await;
    let me = c.resident("王秀英", "1950-03-02", "13812345678").await;
    let neighbour = c.resident("李桂兰", "1948-07-09", "13987654321").await;
    let (offering, session) = c.session("书法班", 10, json!({})).await;
    let theirs = c
        .post(
            "/bookings",
            json!({ "offering_id": offering, "resident_id": neighbour, "session_id": session }),
        )
        .await["id"]
        .as_str()
        .expect("a booking")
        .to_owned();
    let phone = c.sign_in("13812345678").await;
    let token = phone.token();

    let (status, document) = c.platform.get_json(&c.manager, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        if !path.starts_with("/v1/") {
            continue;
        }
        let filled = path
            .replace("{centre_id}", &c.centre.to_string())
            .replace("{resident_id}", &neighbour.to_string())
            .replace("{booking_id}", &theirs)
            .replace("{offering_id}", &offering)
            .replace("{session_id}", &session);
        let filled: String = filled
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
            if item.get(method).is_none() {
                continue;
            }
            operations += 1;
            let request = c
                .platform
                .http
                .request(
                    method.to_uppercase().parse().expect("a method"),
                    format!("{}{filled}", c.platform.gateway),
                )
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body("{}");
            let status = request.send().await.expect("an answer").status();
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{method} {path} answered a resident's token"
            );
        }
    }
    assert!(
        operations > 50,
        "only {operations} operations in the document"
    );

    // Straight to the services over gRPC, with the same token: their own checks.
    let mut bookings = BookingsClient::connect(format!("http://{}", c.platform.bookings))
        .await
        .expect("bookings");
    let mut registry = RegistryClient::connect(format!("http://{}", c.platform.registry))
        .await
        .expect("registry");
    let centre = c.centre.to_string();
    let denied = bookings
        .create_booking(as_resident(
            &token,
            bk::CreateBookingRequest {
                centre_id: centre.clone(),
                offering_id: offering.clone(),
                resident_id: neighbour.to_string(),
                session_id: session.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect_err("booking for a neighbour");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let denied = bookings
        .list_bookings(as_resident(
            &token,
            bk::ListBookingsRequest {
                centre_id: centre.clone(),
                resident_id: neighbour.to_string(),
                ..Default::default()
            },
        ))
        .await
        .expect_err("a neighbour's bookings");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let denied = bookings
        .list_bookings(as_resident(
            &token,
            bk::ListBookingsRequest {
                centre_id: centre.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect_err("the centre's bookings");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    for hidden in [
        bookings
            .get_booking(as_resident(
                &token,
                bk::GetBookingRequest {
                    centre_id: centre.clone(),
                    booking_id: theirs.clone(),
                },
            ))
            .await
            .expect_err("a neighbour's booking"),
        bookings
            .cancel_booking(as_resident(
                &token,
                bk::CancelBookingRequest {
                    centre_id: centre.clone(),
                    booking_id: theirs.clone(),
                    ..Default::default()
                },
            ))
            .await
            .expect_err("cancelling a neighbour's booking"),
    ] {
        assert_eq!(hidden.code(), tonic::Code::NotFound);
    }
    let denied = registry
        .get_resident(as_resident(
            &token,
            pb::GetResidentRequest {
                centre_id: centre.clone(),
                id: neighbour.to_string(),
                ..Default::default()
            },
        ))
        .await
        .expect_err("a neighbour's record");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let denied = registry
        .list_residents(as_resident(
            &token,
            pb::ListResidentsRequest {
                centre_id: centre.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect_err("the centre's residents");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    // Their own record, and their own booking, they may have.
    let own = registry
        .get_resident(as_resident(
            &token,
            pb::GetResidentRequest {
                centre_id: centre.clone(),
                id: me.to_string(),
                ..Default::default()
            },
        ))
        .await
        .expect("their own record")
        .into_inner();
    assert_eq!(own.name, "王秀英");
    assert_eq!(
        own.phone.as_deref(),
        Some("138****5678"),
        "masked, as for any reader"
    );
    let booked = bookings
        .create_booking(as_resident(
            &token,
            bk::CreateBookingRequest {
                centre_id: centre.clone(),
                offering_id: offering.clone(),
                resident_id: me.to_string(),
                session_id: session.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect("booking for themselves")
        .into_inner();
    assert_eq!(booked.resident_id, me.to_string());
    // The neighbour's booking is still there, untouched.
    let (status, body) = c
        .platform
        .get_json(
            &c.manager,
            &format!("/v1/centres/{}/bookings/{theirs}", c.centre),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "confirmed", "{body}");
    c.platform.stop().await;
}

fn screenshots() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("residents-screenshots");
    std::fs::create_dir_all(&dir).expect("a screenshot directory");
    dir
}

/// A resident on a phone (375 px wide): signs in with the code from the SMS provider,
/// finds this week's session on home, books it, sees it under 我的预约, cancels it;
/// is refused a course for children in Chinese; and switches to the age-friendly mode,
/// which stays on. Checked through the API and in screenshots.
#[tokio::test]
async fn a_resident_on_a_phone_books_a_session_and_cancels_it() {
    let c = Centre::open().await;
    let me = c.resident("王秀英", "1950-03-02", "13812345678").await;
    let (offering, session) = c
        .session(
            "太极拳晨练",
            12,
            json!({ "description": "社区广场，请穿运动鞋。", "fee_minor": 1000, "concessions": [{ "category": "elderly", "price_minor": 0 }] }),
        )
        .await;
    let (_, youth) = c
        .session("青少年科技营", 20, json!({ "max_age": 17 }))
        .await;

    // The centre announces the session, for the elderly.
    c.post(
        "/notices",
        json!({ "title": "太极拳晨练开课啦", "body": "每周日上午在社区广场，欢迎老年朋友参加。", "kind": "activity",
                "audience_categories": ["elderly"], "offering_id": offering, "session_id": session }),
    )
    .await;

    let shots = screenshots();
    let gw = c.platform.gateway.clone();
    let browser = Browser::start().await;
    browser.window_size(375, 812).await;
    browser.goto(&format!("{gw}/r/")).await;
    assert!(browser.url().await.ends_with("/r/sign-in"));
    browser.screenshot(&shots.join("01-sign-in.png")).await;
    browser
        .find("#f-phone")
        .await
        .type_text("13812345678")
        .await;
    browser.click_through("form button[type=submit]").await;
    let code = c.sms.code("13812345678", 1).await;
    // A slip of the finger first: said beside the code, the number kept.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    browser.find("#f-code").await.type_text(wrong).await;
    browser
        .click_through("form[action='/r/sign-in'] button[type=submit]")
        .await;
    let said = visible_text(&browser).await;
    assert!(said.contains("验证码不对"), "{said}");
    assert_eq!(
        browser.find("#f-phone").await.attribute("value").await,
        "13812345678"
    );
    assert_eq!(
        browser.find("#f-code").await.attribute("value").await,
        wrong
    );
    browser.screenshot(&shots.join("02-wrong-code.png")).await;
    fits_a_phone(&browser, "sign-in with an error").await;
    let message_top = browser
        .execute("return document.querySelector('p.error').getBoundingClientRect().bottom <= window.innerHeight;")
        .await;
    assert_eq!(
        message_top,
        Value::Bool(true),
        "the message shows without scrolling"
    );
    browser.find("#f-code").await.clear().await;
    browser.find("#f-code").await.type_text(&code).await;
    browser.screenshot(&shots.join("02-code.png")).await;
    browser
        .click_through("form[action='/r/sign-in'] button[type=submit]")
        .await;
    assert!(
        browser.url().await.ends_with("/r/"),
        "{}",
        browser.url().await
    );
    let home = browser.source().await;
    assert!(
        home.contains("太极拳晨练"),
        "this week's session is on home"
    );
    assert!(
        !home.contains("青少年科技营"),
        "a session the resident may not book is not offered"
    );
    browser.screenshot(&shots.join("03-home.png")).await;
    fits_a_phone(&browser, "home").await;

    assert!(
        home.contains("太极拳晨练开课啦"),
        "the announcement is on home"
    );
    // Read the notice and book the session it announces.
    browser
        .click_through("li.card.notice a.button.primary")
        .await;
    browser.screenshot(&shots.join("04-session.png")).await;
    fits_a_phone(&browser, "session").await;
    let page = browser.source().await;
    assert!(page.contains("免费") || page.contains("¥10.00"), "{page}");
    let shown = visible_text(&browser).await;
    assert!(
        !shown.contains(&me.to_string()) && !shown.contains(&session),
        "no ids on a page"
    );
    browser.click_through("main form button[type=submit]").await;
    assert!(
        browser.url().await.contains("/r/bookings"),
        "{}",
        browser.url().await
    );
    let mine = visible_text(&browser).await;
    assert!(
        mine.contains("预约已提交") && mine.contains("太极拳晨练") && mine.contains("已预约"),
        "{mine}"
    );
    browser.screenshot(&shots.join("05-my-bookings.png")).await;
    fits_a_phone(&browser, "my bookings").await;

    // Booked through the desk's own path: the desk sees it, with the elderly concession.
    let (status, listed) = c
        .platform
        .get_json(
            &c.manager,
            &format!("/v1/centres/{}/bookings?resident_id={me}", c.centre),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let booking = &listed["bookings"][0];
    assert_eq!(booking["offering_id"], offering.as_str());
    assert_eq!(booking["status"], "confirmed");
    assert_eq!(
        booking["fee_minor"], 0,
        "the concession the desk would give: {booking}"
    );
    assert_eq!(
        booking["seats"][0]["session_id"],
        session.as_str(),
        "{booking}"
    );

    browser.click_through("li.card.booking form button").await;
    let mine = visible_text(&browser).await;
    assert!(
        mine.contains("已取消预约") && mine.contains("已取消"),
        "{mine}"
    );
    browser.screenshot(&shots.join("06-cancelled.png")).await;
    let (_, listed) = c
        .platform
        .get_json(
            &c.manager,
            &format!("/v1/centres/{}/bookings?resident_id={me}", c.centre),
        )
        .await;
    assert_eq!(listed["bookings"][0]["status"], "cancelled", "{listed}");

    // A session the resident may not book, reached by its address: refused in Chinese.
    let youth_offering = {
        let (_, sessions) = c
            .platform
            .get_json(&c.manager, &format!("/v1/centres/{}/sessions", c.centre))
            .await;
        sessions["sessions"]
            .as_array()
            .and_then(|all| all.iter().find(|s| s["id"] == youth.as_str()))
            .and_then(|s| s["offering_id"].as_str())
            .map(str::to_owned)
            .expect("the youth session")
    };
    browser
        .goto(&format!(
            "{gw}/r/sessions/{youth}?offering={youth_offering}"
        ))
        .await;
    let refused = visible_text(&browser).await;
    assert!(
        refused.contains("不符合参加条件"),
        "said before any tap: {refused}"
    );
    assert!(
        !refused.contains("确认预约"),
        "no button to press in vain: {refused}"
    );
    browser.screenshot(&shots.join("07-not-eligible.png")).await;
    // Posted all the same (an old page, a second tab): the booking path refuses it, with
    // the desk's reason in Chinese beside where the button was.
    browser
        .execute(&format!(
            "const f = document.createElement('form'); f.method = 'post'; f.action = '/r/sessions/{youth}'; \
             f.innerHTML = '<input name=offering value={youth_offering}><input name=for value={me}><button id=force>go</button>'; \
             document.querySelector('main').appendChild(f);"
        ))
        .await;
    browser.click_through("#force").await;
    let refused = visible_text(&browser).await;
    assert!(
        refused.contains("不符合参加条件") && refused.contains("17"),
        "{refused}"
    );
    browser.screenshot(&shots.join("07-refused.png")).await;

    // The age-friendly mode: larger text, kept on the next page.
    browser.goto(&format!("{gw}/r/")).await;
    let before = browser
        .execute("return parseFloat(getComputedStyle(document.body).fontSize);")
        .await;
    browser.click_through("a.switch").await;
    browser.goto(&format!("{gw}/r/book")).await;
    let after = browser
        .execute("return parseFloat(getComputedStyle(document.body).fontSize);")
        .await;
    assert!(
        after.as_f64() > before.as_f64().map(|b| b * 1.2),
        "{before} then {after}"
    );
    browser.screenshot(&shots.join("08-large-book.png")).await;
    fits_a_phone(&browser, "large catalogue").await;
    browser.goto(&format!("{gw}/r/")).await;
    browser.screenshot(&shots.join("09-large-home.png")).await;
    fits_a_phone(&browser, "large home").await;

    let text = visible_text(&browser).await;
    let latin: BTreeSet<&str> = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| w.len() > 2)
        .collect();
    assert!(latin.is_empty(), "English on a resident's page: {latin:?}");
    browser.close().await;
    c.platform.stop().await;
}

/// Nothing runs off the side of a 375 px screen, and every link, button and field is at
/// least 44 px tall and wide (the age-friendly guideline's tap target).
async fn fits_a_phone(browser: &Browser, page: &str) {
    let overflow = browser
        .execute("return document.documentElement.scrollWidth > window.innerWidth;")
        .await;
    assert_eq!(
        overflow,
        Value::Bool(false),
        "{page} runs off a phone's screen"
    );
    let small = browser
        .execute(
            "return [...document.querySelectorAll('a, button, input:not([type=hidden])')].filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && (r.height < 44 || r.width < 44); }).map(e => e.outerHTML.slice(0, 80));",
        )
        .await;
    assert_eq!(small, json!([]), "tap targets under 44 px on {page}");
    // Chinese only: no English word, no id.
    let text = visible_text(browser).await;
    let latin: BTreeSet<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .filter(|w| w.chars().filter(char::is_ascii_alphabetic).count() > 2)
        .collect();
    assert!(latin.is_empty(), "English or an id on {page}: {latin:?}");
}

async fn visible_text(browser: &Browser) -> String {
    browser
        .execute("return document.body.innerText;")
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A guardian's number signs them in acting for their child under 14 (who shares it):
/// the site offers the child's own catalogue and books for the child through the same
/// path, and refuses a child the guardian does not act for.
#[tokio::test]
async fn a_guardian_books_for_their_child_and_for_no_other_child() {
    let c = Centre::open().await;
    let parent = c.resident("张丽", "1985-04-10", "13811112222").await;
    let child = c.resident("张小明", "2018-09-01", "13811112222").await;
    let other = c.resident("赵小红", "2017-02-03", "13933334444").await;
    // A second child with a number of their own, whose consent the parent gave as guardian.
    let ward = c.resident("张小华", "2019-05-20", "13755556666").await;
    let (status, body) = c
        .platform
        .post_json(
            &c.manager,
            &format!("/v1/centres/{}/residents/{ward}/consents", c.centre),
            &json!({ "purpose": "activity_contact", "granted": true, "source": "paper_form", "guardian_id": parent }),
            None,
        )
        .await;
    assert!(status.is_success(), "{status}: {body}");
    let (offering, session) = c.session("少儿绘画", 8, json!({ "max_age": 13 })).await;
    let mut phone = c.sign_in("13811112222").await;

    let (status, own) = phone.get("/r/book").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!own.contains("少儿绘画"), "not for the parent: {own}");
    assert!(
        own.contains("张小明"),
        "the child is offered as someone to book for"
    );
    assert!(
        own.contains("张小华"),
        "the child by guardian's consent too: {own}"
    );
    assert!(!own.contains("赵小红"), "never a neighbour's child");
    let (status, theirs) = phone.get(&format!("/r/book?for={child}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(theirs.contains("少儿绘画"), "{theirs}");

    let path = format!("/r/sessions/{session}");
    let (status, _) = phone
        .post(
            &path,
            &[("offering", &offering), ("for", &child.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "booked for the child");
    let (status, refused) = phone
        .post(
            &path,
            &[("offering", &offering), ("for", &other.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");

    for (resident, expected) in [(child, 1), (other, 0), (parent, 0)] {
        let (status, listed) = c
            .platform
            .get_json(
                &c.manager,
                &format!("/v1/centres/{}/bookings?resident_id={resident}", c.centre),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            listed["bookings"].as_array().map(Vec::len),
            Some(expected),
            "{resident}: {listed}"
        );
    }
    let (_, mine) = phone.get("/r/bookings").await;
    assert!(
        mine.contains("少儿绘画") && mine.contains("张小明"),
        "{mine}"
    );
    c.platform.stop().await;
}

const PASSWORD: &str = "correct-horse-battery";

/// A console user without a browser, signed in with their password.
async fn console_user(platform: &TestPlatform, username: &str) -> (reqwest::Client, String) {
    linli_tests::phone::console_user(platform, username, PASSWORD).await
}

async fn console_page(
    platform: &TestPlatform,
    user: &(reqwest::Client, String),
    path: &str,
) -> (StatusCode, String) {
    let response = user
        .0
        .get(format!("{}{path}", platform.gateway))
        .header("cookie", &user.1)
        .send()
        .await
        .expect("a page");
    (response.status(), response.text().await.unwrap_or_default())
}

/// Without an SMS provider, a code waits on the console page 验证码发放 of the resident's
/// own centre, for its front desk (and manager) only, masked but for the code; the
/// resident signs in with the code the desk reads out.
#[tokio::test]
async fn without_an_sms_provider_the_code_waits_at_the_residents_own_desk() {
    let platform = TestPlatform::start().await;
    let here = platform.bookable_centre("Asia/Shanghai").await;
    let there = platform.bookable_centre("Asia/Shanghai").await;
    let manager = platform.token(&[Role::CentreManager], &[here]);
    let (status, body) = platform
        .post_json(
            &manager,
            &format!("/v1/centres/{here}/residents"),
            &json!({ "name": "王秀英", "gender": "female", "date_of_birth": "1950-03-02", "phone": "13812345678" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    platform
        .staff_account("desk-here", "front_desk", &[here], PASSWORD)
        .await;
    platform
        .staff_account("desk-there", "front_desk", &[there], PASSWORD)
        .await;
    platform
        .staff_account("coordinator-here", "coordinator", &[here], PASSWORD)
        .await;

    let mut phone = Phone::new(&platform);
    let (status, _) = phone
        .post("/r/sign-in/code", &[("phone", "13812345678")])
        .await;
    assert_eq!(status, StatusCode::OK);

    let desk = console_user(&platform, "desk-here").await;
    let (_, residents) = console_page(&platform, &desk, &format!("/c/{here}/residents")).await;
    assert!(
        residents.contains(&format!("href=\"/c/{here}/sign-in-codes\"")),
        "the desk finds the page from its residents page"
    );
    let codes_here = format!("/c/{here}/sign-in-codes");
    let page = poll("the code at the desk", Duration::from_secs(20), || async {
        let (status, page) = console_page(&platform, &desk, &codes_here).await;
        (status == StatusCode::OK && page.contains("138****5678")).then_some(page)
    })
    .await;
    assert!(page.contains("验证码发放"), "{page}");
    assert!(
        !page.contains("13812345678"),
        "the number is masked: {page}"
    );
    let code: String = page
        .split("<strong>")
        .nth(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_digit).collect())
        .expect("a code on the page");
    assert_eq!(code.len(), 6, "{page}");
    // As the desk sees it, to read out.
    let browser = Browser::start().await;
    browser.window_size(1366, 768).await;
    browser.goto(&format!("{}/sign-in", platform.gateway)).await;
    browser
        .find("#f-username")
        .await
        .type_text("desk-here")
        .await;
    browser.find("#f-password").await.type_text(PASSWORD).await;
    browser.click_through("form button[type=submit]").await;
    browser
        .goto(&format!("{}{codes_here}", platform.gateway))
        .await;
    let shown = visible_text(&browser).await;
    assert!(
        shown.contains(&code) && shown.contains("138****5678"),
        "{shown}"
    );
    browser
        .screenshot(&screenshots().join("10-desk-codes-1366.png"))
        .await;
    browser.close().await;

    let elsewhere = console_user(&platform, "desk-there").await;
    let (status, _) = console_page(&platform, &elsewhere, &codes_here).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another centre's desk");
    let (status, theirs) =
        console_page(&platform, &elsewhere, &format!("/c/{there}/sign-in-codes")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!theirs.contains("138****5678") && !theirs.contains(&code));
    let coordinator = console_user(&platform, "coordinator-here").await;
    let (status, _) = console_page(&platform, &coordinator, &codes_here).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "only the desk and the manager"
    );

    let (status, _) = phone
        .post("/r/sign-in", &[("phone", "13812345678"), ("code", &code)])
        .await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the code the desk read out signs in"
    );
    platform.stop().await;
}

/// A full session queues the resident (the same waitlist as the desk's) and 我的预约 says
/// their place; when the desk cancels the seat holder, they are promoted and the page
/// says so. A cancel posted from another site is refused before it reaches anything.
#[tokio::test]
async fn a_full_session_queues_the_resident_and_shows_their_place_until_promoted() {
    let c = Centre::open().await;
    let first = c.resident("李桂兰", "1948-07-09", "13987654321").await;
    let me = c.resident("王秀英", "1950-03-02", "13812345678").await;
    let (offering, session) = c.session("八段锦", 1, json!({})).await;
    let seat = c
        .post(
            "/bookings",
            json!({ "offering_id": offering, "resident_id": first, "session_id": session }),
        )
        .await["id"]
        .as_str()
        .expect("a booking")
        .to_owned();
    let mut phone = c.sign_in("13812345678").await;

    let page = format!("/r/sessions/{session}?offering={offering}");
    let (_, full) = phone.get(&page).await;
    assert!(full.contains("已满") && full.contains("排队候补"), "{full}");
    let (status, _) = phone
        .post(
            &format!("/r/sessions/{session}"),
            &[("offering", &offering), ("for", &me.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, mine) = phone.get("/r/bookings").await;
    assert!(mine.contains("候补第 1 位"), "{mine}");
    let (_, listed) = c
        .platform
        .get_json(
            &c.manager,
            &format!("/v1/centres/{}/bookings?resident_id={me}", c.centre),
        )
        .await;
    let queued = &listed["bookings"][0];
    assert_eq!(queued["status"], "waitlisted", "{listed}");
    assert_eq!(queued["waitlist_position"], 1, "{listed}");

    // Another site's form cannot cancel it, even with the resident's cookie.
    let booking = queued["id"].as_str().expect("an id").to_owned();
    let forged = phone
        .http
        .post(format!("{}/r/bookings/{booking}/cancel", phone.gateway))
        .header("cookie", phone.cookie.clone().expect("signed in"))
        .header("origin", "http://elsewhere.example")
        .send()
        .await
        .expect("an answer");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // The desk cancels the seat holder: the resident moves up, as at the desk.
    let (status, body) = c
        .platform
        .post_json(
            &c.manager,
            &format!("/v1/centres/{}/bookings/{seat}/cancel", c.centre),
            &json!({}),
            None,
        )
        .await;
    assert!(status.is_success(), "{status}: {body}");
    let (_, mine) = phone.get("/r/bookings").await;
    assert!(
        mine.contains("已预约") && !mine.contains("候补第"),
        "{mine}"
    );
    c.platform.stop().await;
}

/// Signing out on the site ends the token's session everywhere: the old cookie is sent
/// back to sign-in, and the services refuse the token once the registry's event reached
/// them (a phone shared in a family, or a centre's tablet, can be handed on).
#[tokio::test]
async fn signing_out_ends_the_residents_token_at_the_site_and_in_every_service() {
    let c = Centre::open().await;
    c.resident("王秀英", "1950-03-02", "13812345678").await;
    let mut phone = c.sign_in("13812345678").await;
    let token = phone.token();
    let cookie = phone.cookie.clone().expect("signed in");
    let mut bookings = BookingsClient::connect(format!("http://{}", c.platform.bookings))
        .await
        .expect("bookings");
    let sessions = |token: &str| {
        let mut request = tonic::Request::new(bk::ListSessionsRequest {
            centre_id: c.centre.to_string(),
            ..Default::default()
        });
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("ascii"),
        );
        request
    };
    bookings
        .list_sessions(sessions(&token))
        .await
        .expect("the resident reads their centre's sessions while signed in");

    let (status, _) = phone.post("/r/sign-out", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(phone.cookie.is_none(), "the cookie is forgotten");

    let mut stale = Phone::new(&c.platform);
    stale.cookie = Some(cookie);
    let (status, _) = stale.get("/r/").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the old cookie signs in no more"
    );
    poll(
        "bookings to refuse the ended session's token",
        Duration::from_secs(30),
        || {
            let (mut bookings, request) = (bookings.clone(), sessions(&token));
            async move {
                match bookings.list_sessions(request).await {
                    Err(status) if status.code() == tonic::Code::Unauthenticated => Some(()),
                    _ => None,
                }
            }
        },
    )
    .await;
    c.platform.stop().await;
}

// ---------------------------------------------------------------------------------------
// 我的信息: a resident's own data, consents, corrections; and their surveys.

/// Satisfaction survey of the district (the migration's fixed id).
const SATISFACTION: &str = "5a7e0000-0000-4000-8000-000000000001";

/// A gRPC request carrying a resident's token, as the gateway sends it.
fn as_resident<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii"),
    );
    request
}

/// Two neighbours, each with a booking and a suggestion: the data page and the download
/// of one hold their own and nothing of the other's, and every service refuses the one's
/// token the other's copy.
#[tokio::test]
async fn a_residents_data_page_and_download_hold_only_their_own_data() {
    use linli_proto::evaluation::v1 as ev;
    use linli_proto::evaluation::v1::evaluation_client::EvaluationClient;
    use linli_proto::finance::v1 as fi;
    use linli_proto::finance::v1::finance_client::FinanceClient;
    use linli_proto::volunteers::v1 as vo;
    use linli_proto::volunteers::v1::volunteers_client::VolunteersClient;

    let c = Centre::open().await;
    let me = c.resident("王秀英", "1950-03-02", "13812345678").await;
    let neighbour = c.resident("李桂兰", "1948-07-09", "13987654321").await;
    let (mine_offering, mine_session) = c.session("书法班", 10, json!({})).await;
    let (their_offering, their_session) = c.session("合唱团", 10, json!({})).await;
    for (who, offering, session) in [
        (me, &mine_offering, &mine_session),
        (neighbour, &their_offering, &their_session),
    ] {
        c.post(
            "/bookings",
            json!({ "offering_id": offering, "resident_id": who, "session_id": session }),
        )
        .await;
    }
    let mut phone = c.sign_in("13812345678").await;
    let mut theirs = c.sign_in("13987654321").await;
    let (status, _) = phone
        .post("/r/suggestions", &[("text", "希望多办书法班")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = theirs
        .post("/r/suggestions", &[("text", "楼道灯坏了请修理")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let (status, page) = phone.get("/r/me").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    for own in [
        "王秀英",
        "书法班",
        "希望多办书法班",
        "138****5678",
        "已预约",
    ] {
        assert!(
            page.contains(own),
            "{own} missing from the data page: {page}"
        );
    }
    for other in [
        "李桂兰",
        "合唱团",
        "楼道灯坏了",
        "13812345678",
        "139****4321",
        &neighbour.to_string(),
    ] {
        assert!(!page.contains(other), "{other} on the resident's data page");
    }
    // Naming the neighbour in the address shows the resident's own page, never theirs.
    let (status, page) = phone.get(&format!("/r/me?for={neighbour}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("王秀英") && !page.contains("李桂兰"),
        "{page}"
    );

    // The download: the same copy, as a file.
    let response = phone
        .http
        .get(format!("{}/r/me/download", c.platform.gateway))
        .header("cookie", phone.cookie.clone().expect("signed in"))
        .send()
        .await
        .expect("a download");
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let text = response.text().await.expect("a body");
    assert!(
        !text.contains("李桂兰") && !text.contains("合唱团"),
        "{text}"
    );
    let copy: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(copy["resident"]["name"], "王秀英");
    assert_eq!(copy["resident"]["phone"], "138****5678", "masked: {copy}");
    assert_eq!(
        copy["bookings"]["bookings"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        copy["evaluation"]["suggestions"][0]["text"], "希望多办书法班",
        "{copy}"
    );
    // Looking at one's own data reads no national ID: nothing new in the access log.
    assert_eq!(copy["national_id_reads"], json!([]), "{copy}");

    // Straight to each service with the resident's token: the neighbour's copy is refused.
    let token = phone.token();
    let centre = c.centre.to_string();
    let other = neighbour.to_string();
    let mut registry = RegistryClient::connect(format!("http://{}", c.platform.registry))
        .await
        .expect("registry");
    let mut bookings = BookingsClient::connect(format!("http://{}", c.platform.bookings))
        .await
        .expect("bookings");
    let mut volunteers = VolunteersClient::connect(format!("http://{}", c.platform.volunteers))
        .await
        .expect("volunteers");
    let mut finance = FinanceClient::connect(format!("http://{}", c.platform.finance))
        .await
        .expect("finance");
    let mut evaluation = EvaluationClient::connect(format!("http://{}", c.platform.evaluation))
        .await
        .expect("evaluation");
    let refused = [
        registry
            .export_resident(as_resident(
                &token,
                pb::ExportResidentRequest {
                    centre_id: centre.clone(),
                    id: other.clone(),
                    purpose: "看看邻居".into(),
                },
            ))
            .await
            .map(|_| ()),
        registry
            .get_consents(as_resident(
                &token,
                pb::GetConsentsRequest {
                    centre_id: centre.clone(),
                    resident_id: other.clone(),
                },
            ))
            .await
            .map(|_| ()),
        registry
            .record_consent(as_resident(
                &token,
                pb::RecordConsentRequest {
                    centre_id: centre.clone(),
                    resident_id: other.clone(),
                    purpose: "partner_sharing".into(),
                    granted: true,
                    ..Default::default()
                },
            ))
            .await
            .map(|_| ()),
        registry
            .request_correction(as_resident(
                &token,
                pb::RequestCorrectionRequest {
                    centre_id: centre.clone(),
                    resident_id: other.clone(),
                    fields: vec!["name".into()],
                    details: "改名".into(),
                },
            ))
            .await
            .map(|_| ()),
        bookings
            .export_resident(as_resident(
                &token,
                bk::ExportResidentRequest {
                    centre_id: centre.clone(),
                    resident_id: other.clone(),
                },
            ))
            .await
            .map(|_| ()),
        volunteers
            .export_resident(as_resident(
                &token,
                vo::ExportResidentRequest {
                    centre_id: centre.clone(),
                    resident_id: other.clone(),
                },
            ))
            .await
            .map(|_| ()),
        finance
            .export_resident(as_resident(
                &token,
                fi::ExportResidentRequest {
                    centre_id: centre.clone(),
                    resident_id: other.clone(),
                },
            ))
            .await
            .map(|_| ()),
        evaluation
            .export_resident(as_resident(
                &token,
                ev::ExportResidentRequest {
                    centre_id: centre.clone(),
                    resident_id: other.clone(),
                },
            ))
            .await
            .map(|_| ()),
        evaluation
            .list_invitations(as_resident(
                &token,
                ev::ListInvitationsRequest {
                    centre_id: centre.clone(),
                    resident_id: other.clone(),
                    ..Default::default()
                },
            ))
            .await
            .map(|_| ()),
        evaluation
            .list_invitations(as_resident(
                &token,
                ev::ListInvitationsRequest {
                    centre_id: centre.clone(),
                    ..Default::default()
                },
            ))
            .await
            .map(|_| ()),
    ];
    for (n, answer) in refused.into_iter().enumerate() {
        let status = answer.expect_err("a neighbour's data");
        assert_eq!(status.code(), tonic::Code::PermissionDenied, "call {n}");
    }
    // Their own part they may have.
    let own = evaluation
        .export_resident(as_resident(
            &token,
            ev::ExportResidentRequest {
                centre_id: centre.clone(),
                resident_id: me.to_string(),
            },
        ))
        .await
        .expect("their own part")
        .into_inner();
    assert_eq!(own.suggestions.len(), 1);
    c.platform.stop().await;
}

/// 同意 and 撤回同意 on the data page: the registry records it from the resident (source
/// online) and the page says it; a guardian does the same for their child, recorded with
/// them as the guardian; and a correction request names its fields, is kept, and goes on
/// the bus naming the fields only.
#[tokio::test]
async fn a_resident_withdraws_a_consent_asks_for_a_correction_and_a_guardian_acts_for_a_child() {
    let c = Centre::open().await;
    let me = c.resident("王秀英", "1950-03-02", "13812345678").await;
    let (status, body) = c
        .platform
        .post_json(
            &c.manager,
            &format!("/v1/centres/{}/residents/{me}/consents", c.centre),
            &json!({ "purpose": "activity_contact", "granted": true, "source": "paper_form" }),
            None,
        )
        .await;
    assert!(status.is_success(), "{status}: {body}");
    let mut phone = c.sign_in("13812345678").await;
    let (_, page) = phone.get("/r/me").await;
    assert!(page.contains("撤回同意"), "{page}");
    let me_text = me.to_string();
    let (status, _) = phone
        .post(
            "/r/me/consents",
            &[
                ("purpose", "activity_contact"),
                ("granted", "0"),
                ("for", &me_text),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = phone.get("/r/me?done=consent").await;
    assert!(
        page.contains("已记录您的选择") && page.contains("已撤回"),
        "{page}"
    );
    let (status, consents) = c
        .platform
        .get_json(
            &c.manager,
            &format!("/v1/centres/{}/residents/{me}/consents", c.centre),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{consents}");
    let contact = consents["consents"]
        .as_array()
        .and_then(|all| all.iter().find(|x| x["purpose"] == "activity_contact"))
        .cloned()
        .expect("the consent");
    assert_eq!(contact["granted"], false, "{consents}");
    assert_eq!(contact["source"], "online", "{consents}");

    // A correction: nothing chosen, then too many words, each said beside its field with
    // what was typed kept; then a good one.
    let (status, page) = phone
        .post(
            "/r/me/correction",
            &[("for", &me_text), ("details", "名字应为王秀瑛")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("请选出哪一项不对") && page.contains("名字应为王秀瑛"),
        "{page}"
    );
    let long = "字".repeat(501);
    let (status, page) = phone
        .post(
            "/r/me/correction",
            &[("for", &me_text), ("fields", "name"), ("details", &long)],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("最多 500 个字"), "{page}");
    assert!(page.contains(&long), "the words kept");
    assert!(
        page.contains("value=\"name\" checked"),
        "the choice kept: {page}"
    );
    let (status, _) = phone
        .post(
            "/r/me/correction",
            &[
                ("for", &me_text),
                ("fields", "name"),
                ("fields", "phone"),
                ("details", "名字应为王秀瑛，手机号换成 13900001111"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = phone.get("/r/me?done=correction").await;
    assert!(
        page.contains("已收到您的更正申请")
            && page.contains("待处理")
            && page.contains("姓名、手机号"),
        "{page}"
    );
    // Kept sealed, and published with the field names only.
    let pool = c.platform.pool("registry").await;
    let (fields, sealed): (Vec<String>, Vec<u8>) = sqlx::query_as(
        "SELECT fields, details_sealed FROM correction_requests WHERE resident_id = $1",
    )
    .bind(me)
    .fetch_one(&pool)
    .await
    .expect("the request");
    assert_eq!(fields, ["name", "phone"]);
    assert!(
        !String::from_utf8_lossy(&sealed).contains("13900001111"),
        "the words are sealed"
    );
    let (payload,): (Vec<u8>,) = poll(
        "the correction's event in the outbox",
        Duration::from_secs(10),
        || async {
            sqlx::query_as(
                "SELECT payload FROM outbox WHERE routing_key = 'registry.resident.correction_requested'",
            )
            .fetch_optional(&pool)
            .await
            .expect("outbox")
        },
    )
    .await;
    let event = <linli_proto::events::v1::ResidentCorrectionRequested as prost::Message>::decode(
        payload.as_slice(),
    )
    .expect("the event");
    assert_eq!(event.resident_id, me.to_string());
    assert_eq!(event.centre_id, c.centre.to_string());
    assert_eq!(event.fields, ["name", "phone"]);
    let raw = String::from_utf8_lossy(&payload);
    assert!(
        !raw.contains("13900001111") && !raw.contains("王秀瑛"),
        "no values in the event"
    );

    // A guardian: the child's data and consents, from the parent's phone.
    let parent = c.resident("张丽", "1985-04-10", "13811112222").await;
    let child = c.resident("张小明", "2018-09-01", "13811112222").await;
    let mut guardian = c.sign_in("13811112222").await;
    let (_, page) = guardian.get("/r/me").await;
    assert!(
        page.contains("查看谁的信息") && page.contains("张小明"),
        "{page}"
    );
    let (status, page) = guardian.get(&format!("/r/me?for={child}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("张小明的信息"), "{page}");
    let child_text = child.to_string();
    let (status, _) = guardian
        .post(
            "/r/me/consents",
            &[
                ("purpose", "activity_contact"),
                ("granted", "1"),
                ("for", &child_text),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, consents) = c
        .platform
        .get_json(
            &c.manager,
            &format!("/v1/centres/{}/residents/{child}/consents", c.centre),
        )
        .await;
    let given = consents["consents"]
        .as_array()
        .and_then(|all| all.iter().find(|x| x["purpose"] == "activity_contact"))
        .cloned()
        .expect("the child's consent");
    assert_eq!(given["granted"], true, "{consents}");
    assert_eq!(given["guardian_id"], parent.to_string(), "{consents}");
    // The parent may not do it for a resident they do not act for.
    let (status, _) = guardian
        .post(
            "/r/me/consents",
            &[
                ("purpose", "activity_contact"),
                ("granted", "0"),
                ("for", &me_text),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // An erasure takes the correction request's words with the record.
    let (status, body) = c
        .platform
        .post_json(
            &c.manager,
            &format!("/v1/centres/{}/residents/{me}/erasure", c.centre),
            &json!({ "reason": "the resident's request" }),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM correction_requests WHERE resident_id = $1")
            .bind(me)
            .fetch_one(&pool)
            .await
            .expect("a count");
    assert_eq!(left, 0, "the request went with the erasure");
    c.platform.stop().await;
}

/// A satisfaction invitation the desk made for the resident is answered on the site, once:
/// a second answer is refused in Chinese; a neighbour's invitation is not found; and the
/// awareness survey is the resident's to answer once a month.
#[tokio::test]
async fn a_resident_answers_their_invitation_once_and_the_awareness_survey() {
    let c = Centre::open().await;
    let me = c.resident("王秀英", "1950-03-02", "13812345678").await;
    let neighbour = c.resident("李桂兰", "1948-07-09", "13987654321").await;
    let invite = |who: Uuid| {
        let c = &c;
        async move {
            c.post(
                "/invitations",
                json!({ "template_id": SATISFACTION, "resident_id": who }),
            )
            .await["id"]
                .as_str()
                .expect("an invitation")
                .to_owned()
        }
    };
    let mine = invite(me).await;
    let theirs = invite(neighbour).await;
    let mut phone = c.sign_in("13812345678").await;
    let (_, list) = phone.get("/r/surveys").await;
    assert!(
        list.contains("服务满意度回访") && list.contains(&format!("/r/surveys/{mine}")),
        "{list}"
    );
    assert!(!list.contains(&theirs), "{list}");
    let (status, _) = phone.get(&format!("/r/surveys/{theirs}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a neighbour's invitation");
    let path = format!("/r/surveys/{mine}");
    let (status, page) = phone.post(&path, &[("q_comment", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("请至少回答一题"), "{page}");
    let (status, _) = phone
        .post(
            &path,
            &[
                ("q_satisfaction", "5"),
                ("q_effectiveness", "4"),
                ("q_comment", "老师很耐心"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, again) = phone.post(&path, &[("q_satisfaction", "1")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.contains("已经回答过了"), "{again}");
    let (_, listed) = c
        .platform
        .get_json(
            &c.manager,
            &format!("/v1/centres/{}/invitations?resident_id={me}", c.centre),
        )
        .await;
    let answered = &listed["invitations"][0];
    assert_eq!(answered["answered"], true, "{listed}");
    let scores: Vec<Value> = answered["answers"]
        .as_array()
        .map(|a| a.iter().map(|x| x["score"].clone()).collect())
        .unwrap_or_default();
    assert!(
        scores.contains(&json!(5)),
        "the first answer stands: {listed}"
    );
    assert!(!scores.contains(&json!(1)), "{listed}");

    // The awareness survey: asked for, answered, and the same invitation the second time.
    let (status, _) = phone.post("/r/surveys/awareness", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, listed) = c
        .platform
        .get_json(
            &c.manager,
            &format!(
                "/v1/centres/{}/invitations?resident_id={me}&unanswered_only=true",
                c.centre
            ),
        )
        .await;
    let aware = listed["invitations"][0]["id"]
        .as_str()
        .expect("the awareness invitation")
        .to_owned();
    let (_, page) = phone.get(&format!("/r/surveys/{aware}")).await;
    assert!(
        page.contains("社区服务知晓度调查") && page.contains("养老服务"),
        "{page}"
    );
    let (status, _) = phone
        .post(
            &format!("/r/surveys/{aware}"),
            &[
                ("q_knows_services", "yes"),
                ("q_used_services", "health"),
                ("q_used_services", "elderly_care"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = phone.post("/r/surveys/awareness", &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = phone.get(&format!("/r/surveys/{aware}")).await;
    assert!(page.contains("已经填写过了"), "{page}");
    let (_, listed) = c
        .platform
        .get_json(
            &c.manager,
            &format!("/v1/centres/{}/invitations?resident_id={me}", c.centre),
        )
        .await;
    assert_eq!(
        listed["invitations"].as_array().map(Vec::len),
        Some(2),
        "one awareness invitation this month: {listed}"
    );
    c.platform.stop().await;
}

/// In Chromium at phone width: a resident answers the satisfaction survey the desk made
/// for them (the second try refused in Chinese), opens 我的信息, downloads it, withdraws
/// a consent, asks for a correction (refused first with nothing chosen, the words kept);
/// then a guardian opens their child's data and books for the child. Each page fits the
/// phone with 44 px targets, in Chinese with no ids, within three taps of home.
#[tokio::test]
async fn a_resident_on_a_phone_answers_a_survey_and_manages_their_data() {
    let c = Centre::open().await;
    let me = c.resident("王秀英", "1950-03-02", "13812345678").await;
    let (status, body) = c
        .platform
        .post_json(
            &c.manager,
            &format!("/v1/centres/{}/residents/{me}/consents", c.centre),
            &json!({ "purpose": "activity_contact", "granted": true, "source": "paper_form" }),
            None,
        )
        .await;
    assert!(status.is_success(), "{status}: {body}");
    let (offering, session) = c.session("书法班", 10, json!({})).await;
    c.post(
        "/bookings",
        json!({ "offering_id": offering, "resident_id": me, "session_id": session }),
    )
    .await;
    // A talk she attended (checked in at the desk): evaluation invites her to say how it was.
    let talk = c
        .post(
            "/offerings",
            json!({ "category": "health", "kind": "event", "name": "健康讲座", "capacity": 50 }),
        )
        .await;
    let now = chrono::Utc::now();
    let held = c
        .post(
            "/sessions",
            json!({ "offering_id": talk["id"], "starts_at": (now - chrono::Duration::minutes(10)).to_rfc3339(),
                    "ends_at": (now + chrono::Duration::hours(1)).to_rfc3339() }),
        )
        .await;
    let attended = c
        .post(
            "/bookings",
            json!({ "offering_id": talk["id"], "resident_id": me, "session_id": held["id"] }),
        )
        .await;
    let (status, body) = c
        .platform
        .post_json(
            &c.manager,
            &format!(
                "/v1/centres/{}/bookings/{}/check-in",
                c.centre,
                attended["id"].as_str().expect("a booking")
            ),
            &json!({}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    poll(
        "the satisfaction invitation after the talk",
        Duration::from_secs(20),
        || async {
            let (_, list) = c
                .platform
                .get_json(
                    &c.manager,
                    &format!("/v1/centres/{}/invitations?resident_id={me}", c.centre),
                )
                .await;
            list["invitations"]
                .as_array()
                .and_then(|l| l.first().cloned())
        },
    )
    .await;

    let shots = screenshots();
    let gw = c.platform.gateway.clone();
    let browser = Browser::start().await;
    browser.window_size(375, 812).await;
    sign_in_browser(&browser, &c, &gw, "13812345678").await;

    // Home → 我的信息 (tab) → 填写问卷 → the invitation: three taps.
    tap(&browser, "nav.tabs a[href='/r/me']").await;
    tap(&browser, "nav.actions a[href='/r/surveys']").await;
    tap(&browser, "li.card a.card-link").await;
    assert!(browser.url().await.contains("/r/surveys/"));
    let survey_url = browser.url().await;
    let said = visible_text(&browser).await;
    assert!(said.contains("关于您参加的 健康讲座"), "{said}");
    browser.screenshot(&shots.join("20-survey.png")).await;
    fits_a_phone(&browser, "survey").await;
    // Nothing chosen: said on the page, nothing lost.
    tap(&browser, "main form button[type=submit]").await;
    let said = visible_text(&browser).await;
    assert!(said.contains("请至少回答一题"), "{said}");
    tick(&browser, "input[name=q_satisfaction][value='5']").await;
    tick(&browser, "input[name=q_effectiveness][value='4']").await;
    tick(&browser, "input[name=q_professionalism][value='5']").await;
    browser
        .find("textarea[name=q_comment]")
        .await
        .type_text("老师很耐心")
        .await;
    browser
        .screenshot(&shots.join("21-survey-filled.png"))
        .await;
    tap(&browser, "main form button[type=submit]").await;
    let said = visible_text(&browser).await;
    assert!(
        said.contains("谢谢您的回答") && said.contains("已填写"),
        "{said}"
    );
    browser
        .screenshot(&shots.join("22-survey-thanks.png"))
        .await;
    // The same invitation again (a second tab, the back button): refused in Chinese.
    browser
        .execute(&format!(
            "const f = document.createElement('form'); f.method = 'post'; f.action = '{}'; \
             f.innerHTML = '<input name=q_satisfaction value=1><button id=again>go</button>'; \
             document.querySelector('main').appendChild(f);",
            survey_url.trim_start_matches(&gw)
        ))
        .await;
    tap(&browser, "#again").await;
    let said = visible_text(&browser).await;
    assert!(said.contains("已经回答过了"), "{said}");
    browser.screenshot(&shots.join("23-survey-again.png")).await;

    // 我的信息: everything, in words.
    browser.goto(&format!("{gw}/r/")).await;
    tap(&browser, "nav.tabs a[href='/r/me']").await;
    let page = visible_text(&browser).await;
    for shown in [
        "王秀英",
        "138****5678",
        "书法班",
        "已预约",
        "服务满意度回访",
        "已填写",
        "接收活动通知",
        "已同意",
    ] {
        assert!(page.contains(shown), "{shown} missing: {page}");
    }
    assert!(!page.contains(&me.to_string()), "no ids on the page");
    browser.screenshot(&shots.join("24-my-data.png")).await;
    fits_a_phone(&browser, "my data").await;

    // The download: the link the page offers, fetched with the browser's own cookie.
    let href = browser
        .find("nav.actions a[download]")
        .await
        .attribute("href")
        .await;
    let cookie = browser.cookie("linli_resident").await;
    let response = c
        .platform
        .http
        .get(format!("{gw}{href}"))
        .header("cookie", format!("linli_resident={cookie}"))
        .send()
        .await
        .expect("the download");
    let disposition = response
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let copy: Value = response.json().await.expect("JSON");
    assert_eq!(copy["resident"]["name"], "王秀英");
    assert_eq!(
        copy["evaluation"]["invitations"][0]["answered"], true,
        "{copy}"
    );

    // Withdraw a consent: one tap from the page.
    tap(
        &browser,
        "li.card.consent form:has(input[value=activity_contact]) button",
    )
    .await;
    let page = visible_text(&browser).await;
    assert!(
        page.contains("已记录您的选择") && page.contains("已撤回"),
        "{page}"
    );
    browser
        .screenshot(&shots.join("25-consent-withdrawn.png"))
        .await;

    // Ask for a correction: nothing chosen first.
    tap(&browser, "nav.actions a[href^='/r/me/correction']").await;
    browser
        .find("#details")
        .await
        .type_text("出生日期应为1950年3月12日")
        .await;
    tap(&browser, "main form button[type=submit]").await;
    let page = visible_text(&browser).await;
    assert!(page.contains("请选出哪一项不对"), "{page}");
    assert_eq!(
        browser.find("#details").await.text().await.trim(),
        "出生日期应为1950年3月12日",
        "the words kept"
    );
    browser
        .screenshot(&shots.join("26-correction-error.png"))
        .await;
    fits_a_phone(&browser, "correction with an error").await;
    tick(&browser, "input[name=fields][value=date_of_birth]").await;
    tap(&browser, "main form button[type=submit]").await;
    let page = visible_text(&browser).await;
    assert!(
        page.contains("已收到您的更正申请") && page.contains("出生日期"),
        "{page}"
    );
    browser
        .screenshot(&shots.join("27-correction-sent.png"))
        .await;

    // The age-friendly mode on the data page.
    tap(&browser, "a.switch").await;
    browser
        .screenshot(&shots.join("28-large-my-data.png"))
        .await;
    fits_a_phone(&browser, "large my data").await;
    browser.goto(&survey_url).await;
    browser
        .screenshot(&shots.join("29-large-survey-done.png"))
        .await;
    browser.goto(&format!("{gw}/r/surveys")).await;
    fits_a_phone(&browser, "large surveys").await;
    browser.close().await;

    // A guardian on their phone: the child's data, and a booking for the child.
    let parent = c.resident("张丽", "1985-04-10", "13811112222").await;
    let child = c.resident("张小明", "2018-09-01", "13811112222").await;
    let (kids_offering, _) = c.session("少儿绘画", 8, json!({ "max_age": 13 })).await;
    let browser = Browser::start().await;
    browser.window_size(375, 812).await;
    sign_in_browser(&browser, &c, &gw, "13811112222").await;
    tap(&browser, "nav.tabs a[href='/r/me']").await;
    tap(&browser, &format!("nav.who a[href='/r/me?for={child}']")).await;
    let page = visible_text(&browser).await;
    assert!(
        page.contains("张小明的信息") && page.contains("监护人"),
        "{page}"
    );
    browser.screenshot(&shots.join("30-child-data.png")).await;
    fits_a_phone(&browser, "child's data").await;
    tap(&browser, "nav.tabs a[href='/r/book']").await;
    tap(&browser, &format!("nav.who a[href='/r/book?for={child}']")).await;
    tap(
        &browser,
        &format!("a.card-link[href*='offering={kids_offering}']"),
    )
    .await;
    let page = visible_text(&browser).await;
    assert!(page.contains("为 张小明 预约"), "{page}");
    tap(&browser, "main form button[type=submit]").await;
    let page = visible_text(&browser).await;
    assert!(
        page.contains("预约已提交") && page.contains("少儿绘画"),
        "{page}"
    );
    browser.screenshot(&shots.join("31-child-booked.png")).await;
    let (_, listed) = c
        .platform
        .get_json(
            &c.manager,
            &format!("/v1/centres/{}/bookings?resident_id={child}", c.centre),
        )
        .await;
    assert_eq!(listed["bookings"][0]["status"], "confirmed", "{listed}");
    let (_, listed) = c
        .platform
        .get_json(
            &c.manager,
            &format!("/v1/centres/{}/bookings?resident_id={parent}", c.centre),
        )
        .await;
    assert_eq!(listed["bookings"], json!([]), "{listed}");
    browser.close().await;
    c.platform.stop().await;
}

/// Signs `phone` in on the browser with the code the SMS stand-in was sent.
async fn sign_in_browser(browser: &Browser, c: &Centre, gw: &str, phone: &str) {
    let before = c.sms.sent_to(phone).len();
    browser.goto(&format!("{gw}/r/sign-in")).await;
    browser.find("#f-phone").await.type_text(phone).await;
    browser.click_through("form button[type=submit]").await;
    let code = c.sms.code(phone, before + 1).await;
    browser.find("#f-code").await.type_text(&code).await;
    browser
        .click_through("form[action='/r/sign-in'] button[type=submit]")
        .await;
    assert!(
        browser.url().await.ends_with("/r/"),
        "{}",
        browser.url().await
    );
}

/// Taps what `css` finds, scrolled to the middle of the screen first (the tab bar stays
/// over the bottom of a phone's screen, as a finger would scroll past it), and waits for
/// the page it leads to.
async fn tap(browser: &Browser, css: &str) {
    centre_on(browser, css).await;
    browser.click_through(css).await;
}

/// Ticks a box or a choice (no page follows), scrolled to the middle first.
async fn tick(browser: &Browser, css: &str) {
    centre_on(browser, css).await;
    browser.find(css).await.click().await;
}

async fn centre_on(browser: &Browser, css: &str) {
    browser
        .execute(&format!(
            "document.querySelector({}).scrollIntoView({{block: 'center'}});",
            serde_json::to_string(css).expect("a selector")
        ))
        .await;
}

/// The delegate ids in the withdraw forms of `/r/me/family` (hidden, never shown).
fn delegates_on(page: &str) -> Vec<String> {
    page.split("name=\"delegate\" value=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn an_adult_lets_a_family_member_act_for_them_and_takes_it_back() {
    let c = Centre::open().await;
    let mother = c.resident("王秀英", "1948-03-02", "13900001111").await;
    let son = c.resident("李建国", "1975-06-01", "13900002222").await;
    let teen = c.resident("李小雨", "2010-01-05", "13900003333").await;
    let (offering, session) = c.session("老年太极", 10, json!({})).await;
    let mut her = c.sign_in("13900001111").await;

    let (status, page) = her.get("/r/me/family").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("委托一位家人") && page.contains("您还没有委托家人"),
        "{page}"
    );
    let (_, me) = her.get("/r/me").await;
    assert!(me.contains("/r/me/family"), "我的信息 links to 家人代办");

    // A stranger's number, and the son's number with another name: one neutral answer,
    // beside the field, with what was typed kept.
    let neutral = "没有找到这位家人";
    for (phone, name) in [("13900009999", "李建国"), ("13900002222", "李建军")] {
        let (status, refused) = her
            .post("/r/me/family", &[("phone", phone), ("name", name)])
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
        assert!(refused.contains(neutral), "{refused}");
        assert!(
            refused.contains(phone) && refused.contains(name),
            "typed kept"
        );
    }
    // A child is not someone to act for an adult either, and gets the same words.
    let (_, refused) = her
        .post(
            "/r/me/family",
            &[("phone", "13900003333"), ("name", "李小雨")],
        )
        .await;
    assert!(refused.contains(neutral), "{refused}");
    let (status, empty) = her
        .post("/r/me/family", &[("phone", ""), ("name", "")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.contains("请填写家人的手机号") && empty.contains("请填写家人的姓名"));

    let (status, _) = her
        .post(
            "/r/me/family",
            &[("phone", "139 0000 2222"), ("name", "李建国")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "granted");
    let (_, page) = her.get("/r/me/family").await;
    assert!(
        page.contains("李建国") && page.contains("取消委托"),
        "{page}"
    );
    assert!(!page.contains(&son.to_string().to_uppercase()));
    let ids = delegates_on(&page);
    assert_eq!(ids, [son.to_string()]);

    // The son's next sign-in acts for her: her data, and a booking for her.
    let mut his = c.sign_in("13900002222").await;
    let (status, hers) = his.get(&format!("/r/me?for={mother}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        hers.contains("王秀英的信息") && hers.contains("受家人委托"),
        "{hers}"
    );
    let path = format!("/r/sessions/{session}");
    let (status, booked) = his
        .post(
            &path,
            &[("offering", &offering), ("for", &mother.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{booked}");
    let (_, listed) = c
        .platform
        .get_json(
            &c.manager,
            &format!("/v1/centres/{}/bookings?resident_id={mother}", c.centre),
        )
        .await;
    assert_eq!(
        listed["bookings"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    // He cannot pass the leave on: his own family page is his, and the registry refuses
    // a grant for her made with his token.
    let registry_refusal = {
        let mut registry = RegistryClient::connect(format!("http://{}", c.platform.registry))
            .await
            .expect("registry");
        let request = as_resident(
            &his.token(),
            pb::RecordConsentRequest {
                centre_id: c.centre.to_string(),
                resident_id: mother.to_string(),
                purpose: "family_delegate".into(),
                granted: true,
                delegate_phone: "13900003333".into(),
                delegate_name: "李小雨".into(),
                ..Default::default()
            },
        );
        registry.record_consent(request).await.expect_err("refused")
    };
    assert_eq!(registry_refusal.code(), tonic::Code::FailedPrecondition);
    // A resident under 18 is told so and cannot grant it, even by posting the form.
    let mut young = c.sign_in("13900003333").await;
    let (_, page) = young.get("/r/me/family").await;
    assert!(
        page.contains("年满 18 周岁才能委托家人代办") && !page.contains("name=\"phone\""),
        "{page}"
    );
    let (status, refused) = young
        .post(
            "/r/me/family",
            &[("phone", "13900002222"), ("name", "李建国")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.contains("您还没有委托家人"), "{refused}");
    let _ = teen;

    // She takes it back: his live session stops acting for her at once.
    let (status, _) = her
        .post("/r/me/family/withdraw", &[("delegate", &ids[0])])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = her.get("/r/me/family").await;
    assert!(page.contains("您还没有委托家人"), "{page}");
    let (_, hers) = his.get(&format!("/r/me?for={mother}")).await;
    assert!(!hers.contains("王秀英"), "{hers}");
    let (status, _) = his
        .post(
            &path,
            &[("offering", &offering), ("for", &mother.to_string())],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no longer books for her");
    let again = c.sign_in("13900002222").await;
    let (_, book) = again.get("/r/book").await;
    assert!(!book.contains("王秀英"), "not in his next token: {book}");
    // Each change was published with the member named, in the registry's outbox.
    let pool = c.platform.pool("registry").await;
    let events: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT payload FROM outbox WHERE routing_key = 'registry.resident.consent_changed' ORDER BY seq",
    )
    .fetch_all(&pool)
    .await
    .expect("events");
    let changes: Vec<(String, String, bool, String)> = events
        .iter()
        .map(|payload| {
            let e = <linli_proto::events::v1::ResidentConsentChanged as prost::Message>::decode(
                payload.as_slice(),
            )
            .expect("an event");
            (e.resident_id, e.purpose, e.granted, e.delegate_id)
        })
        .collect();
    let (m, s) = (mother.to_string(), son.to_string());
    assert_eq!(
        changes,
        [
            (m.clone(), "family_delegate".into(), true, s.clone()),
            (m, "family_delegate".into(), false, s)
        ],
        "one event per change, none for a refusal"
    );
    pool.close().await;
    c.platform.stop().await;
}

/// In Chromium at phone width: 我的信息 → 家人代办, a stranger's number answered beside the
/// field with what was typed kept, then the son named and listed by name, no id shown.
#[tokio::test]
async fn on_a_phone_an_adult_names_a_family_member_and_sees_them_listed() {
    let c = Centre::open().await;
    c.resident("王秀英", "1948-03-02", "13900001111").await;
    c.resident("李建国", "1975-06-01", "13900002222").await;
    let shots = screenshots();
    let gw = c.platform.gateway.clone();
    let browser = Browser::start().await;
    browser.window_size(375, 812).await;
    sign_in_browser(&browser, &c, &gw, "13900001111").await;
    browser.goto(&format!("{gw}/r/me")).await;
    tap(&browser, "a[href='/r/me/family']").await;
    assert!(browser.url().await.ends_with("/r/me/family"));
    fits_a_phone(&browser, "家人代办").await;

    browser.find("#phone").await.type_text("13900009999").await;
    browser.find("#name").await.type_text("李建国").await;
    tap(&browser, "form[action='/r/me/family'] button[type=submit]").await;
    browser
        .screenshot(&shots.join("20-family-no-match.png"))
        .await;
    fits_a_phone(&browser, "家人代办 with an error").await;
    let text = visible_text(&browser).await;
    assert!(text.contains("没有找到这位家人"), "{text}");
    let kept = browser
        .execute("return [document.querySelector('#phone').value, document.querySelector('#name').value, document.querySelector('#name-error') !== null];")
        .await;
    assert_eq!(kept, json!(["13900009999", "李建国", true]));

    let phone = browser.find("#phone").await;
    phone.clear().await;
    phone.type_text("13900002222").await;
    tap(&browser, "form[action='/r/me/family'] button[type=submit]").await;
    browser
        .screenshot(&shots.join("21-family-granted.png"))
        .await;
    fits_a_phone(&browser, "家人代办 with a member").await;
    let text = visible_text(&browser).await;
    assert!(
        text.contains("已委托") && text.contains("李建国") && text.contains("取消委托"),
        "{text}"
    );
    c.platform.stop().await;
}
