//! The participation part (evaluation's notices and suggestion box) through the gateway:
//! notices shown only from their publish-from and only to their audience, each issue
//! published as `evaluation.notice.published`, a resident's own suggestion answered by
//! staff in the console and read back by the resident, and, in Chromium at phone width,
//! a resident reading a notice on home and booking the session it links to.

use std::path::PathBuf;
use std::time::Duration;

use lapin::options::{BasicAckOptions, BasicGetOptions};
use linli_platform::bus::Bus;
use linli_proto::events::v1::NoticePublished;
use linli_tests::phone::{console_user, csrf_of};
use linli_tests::poll;
use linli_tests::webdriver::Browser;
use prost::Message;
use reqwest::StatusCode;
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(20);
const PASSWORD: &str = "correct-horse-battery";

use linli_tests::phone::SiteCentre as Centre;

/// A notice for the elderly shows to a resident of 76 and not to one of 36; one for
/// everyone whose publish-from is an hour ahead shows to nobody until it is moved to now;
/// a pinned one comes first; markup in a notice is shown as text.
#[tokio::test]
async fn a_notice_shows_only_to_its_audience_and_only_from_its_publish_from() {
    let c = Centre::open().await;
    c.resident("王秀英", "1950-03-02", "13812345678").await;
    c.resident("李明", "1990-05-06", "13912345678").await;
    let now = chrono::Utc::now();

    c.post(
        "/notices",
        json!({ "title": "老年人免费体检", "body": "请带身份证。<script>alert('x')</script>", "audience_categories": ["elderly"] }),
    )
    .await;
    let later = c
        .post(
            "/notices",
            json!({ "title": "停水通知", "body": "周六上午停水。", "publish_from": (now + chrono::Duration::hours(1)).to_rfc3339() }),
        )
        .await;
    assert_eq!(later["state"], "scheduled", "{later}");
    c.post(
        "/notices",
        json!({ "title": "中心开放时间调整", "body": "每天 8 点开门。", "pinned": true }),
    )
    .await;
    // Refusals name the field.
    let (status, refused) = c
        .platform
        .post_json(
            &c.manager,
            &format!("/v1/centres/{}/notices", c.centre),
            &json!({ "title": "x", "body": "y", "audience_age_bands": ["60+"] }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(
        refused["errors"][0]["field"], "audience_age_bands",
        "{refused}"
    );

    let elder = c.sign_in("13812345678").await;
    let adult = c.sign_in("13912345678").await;
    let (status, home) = elder.get("/r/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("老年人免费体检"), "{home}");
    assert!(
        home.contains("&lt;script&gt;") && !home.contains("<script>alert"),
        "markup is shown as text: {home}"
    );
    assert!(!home.contains("停水通知"), "not before its publish-from");
    let pinned = home.find("中心开放时间调整").expect("the pinned notice");
    assert!(pinned < home.find("老年人免费体检").expect("the elderly's"));
    let (_, home) = adult.get("/r/").await;
    assert!(home.contains("中心开放时间调整"), "{home}");
    assert!(
        !home.contains("老年人免费体检"),
        "only the elderly's: {home}"
    );
    assert!(!home.contains("停水通知"));

    // Staff see all three, the later one as scheduled.
    let (_, listed) = c
        .platform
        .get_json(
            &c.manager,
            &format!("/v1/centres/{}/notices?state=scheduled", c.centre),
        )
        .await;
    let titles: Vec<&str> = listed["notices"]
        .as_array()
        .expect("notices")
        .iter()
        .filter_map(|n| n["title"].as_str())
        .collect();
    assert_eq!(titles, ["停水通知"]);

    // Moved to now, it shows to both.
    let id = later["id"].as_str().expect("an id");
    c.put(
        &format!("/notices/{id}"),
        json!({ "title": "停水通知", "body": "周六上午停水。" }),
    )
    .await;
    for phone in [&elder, &adult] {
        let (_, home) = phone.get("/r/").await;
        assert!(home.contains("停水通知"), "{home}");
    }
    c.platform.stop().await;
}

/// Issuing a notice publishes `evaluation.notice.published` through the outbox, with who
/// it is for and what to book.
#[tokio::test]
async fn issuing_a_notice_publishes_it_on_the_bus() {
    let c = Centre::open().await;
    let bus = Bus::new(c.platform.args.bus.clone(), "test");
    let channel = bus.channel().await.expect("broker");
    bus.declare_queue(&channel, "notice-watcher", &["evaluation.notice.published"])
        .await
        .expect("a watcher queue");
    let queue = bus.args().queue("notice-watcher");
    let (offering, session) = c.session("重阳节茶话会", 10, json!({})).await;
    let notice = c
        .post(
            "/notices",
            json!({ "title": "重阳节茶话会", "body": "欢迎长者参加。", "kind": "activity",
                    "audience_age_bands": ["60-79", "80+"], "offering_id": offering, "session_id": session }),
        )
        .await;
    let event = poll("the notice's event on the bus", DEADLINE, || async {
        let message = channel
            .basic_get(queue.clone().into(), BasicGetOptions::default())
            .await
            .expect("basic.get")?;
        message
            .delivery
            .ack(BasicAckOptions::default())
            .await
            .expect("ack");
        let event = NoticePublished::decode(message.delivery.data.as_slice()).expect("a notice");
        (event.notice_id == notice["id"].as_str().unwrap_or_default()).then_some(event)
    })
    .await;
    assert_eq!(event.centre_id, c.centre.to_string());
    assert_eq!(event.kind, "activity");
    assert_eq!(event.audience_age_bands, ["60-79", "80+"]);
    assert_eq!(event.session_id, session);
    bus.close().await;
    c.platform.stop().await;
}

/// A resident sends a suggestion anonymously on the site (an over-long one is refused in
/// Chinese with the text kept); staff see it without a name, answer it in the console,
/// and the resident reads the reply; a neighbour sees none of it.
#[tokio::test]
async fn a_residents_suggestion_answered_in_the_console_shows_its_reply_to_them_only() {
    let c = Centre::open().await;
    c.resident("王秀英", "1950-03-02", "13812345678").await;
    c.resident("李明", "1990-05-06", "13912345678").await;
    let mut me = c.sign_in("13812345678").await;
    let neighbour = c.sign_in("13912345678").await;

    let long = "长".repeat(2001);
    let (status, page) = me
        .post(
            "/r/suggestions",
            &[("text", long.as_str()), ("anonymous", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("最多 2000 个字"), "{page}");
    assert!(page.contains(&long), "the text is kept");

    let text = "希望<b>周末</b>也开放阅览室";
    let (status, _) = me
        .post("/r/suggestions", &[("text", text), ("anonymous", "1")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = me.get("/r/suggestions").await;
    assert!(
        page.contains("希望&lt;b&gt;周末&lt;/b&gt;也开放阅览室"),
        "{page}"
    );
    assert!(page.contains("已收到") && page.contains("匿名"), "{page}");

    // Staff see it, without a name.
    let (_, listed) = c
        .platform
        .get_json(&c.manager, &format!("/v1/centres/{}/suggestions", c.centre))
        .await;
    let suggestion = &listed["suggestions"][0];
    assert_eq!(suggestion["text"], text);
    assert_eq!(suggestion["channel"], "online");
    assert!(suggestion["resident_id"].is_null(), "{suggestion}");
    let id = suggestion["id"].as_str().expect("an id");

    // Answered in the console.
    c.platform
        .staff_account("desk", "front_desk", &[c.centre], PASSWORD)
        .await;
    let desk = console_user(&c.platform, "desk", PASSWORD).await;
    let page = desk
        .0
        .get(format!("{}/c/{}/evaluation", c.platform.gateway, c.centre))
        .header("cookie", &desk.1)
        .send()
        .await
        .expect("the evaluation page")
        .text()
        .await
        .expect("html");
    for (status, reply) in [("in_progress", ""), ("answered", "从下月起周六上午开放。")]
    {
        let moved = desk
            .0
            .post(format!(
                "{}/c/{}/evaluation/suggestions/{id}",
                c.platform.gateway, c.centre
            ))
            .header("cookie", &desk.1)
            .form(&[
                ("csrf", csrf_of(&page).as_str()),
                ("status", status),
                ("reply", reply),
            ])
            .send()
            .await
            .expect("moved");
        assert_eq!(moved.status(), StatusCode::SEE_OTHER, "to {status}");
        if status == "in_progress" {
            let (_, page) = me.get("/r/suggestions").await;
            assert!(page.contains("处理中"), "{page}");
        }
    }

    let (_, page) = me.get("/r/suggestions").await;
    assert!(
        page.contains("已答复") && page.contains("从下月起周六上午开放。"),
        "{page}"
    );
    let (_, page) = neighbour.get("/r/suggestions").await;
    assert!(!page.contains("阅览室"), "{page}");
    assert!(page.contains("您还没有提过建议"), "{page}");
    c.platform.stop().await;
}

/// Nothing runs off a phone's screen and every tap target is at least 44 px tall.
async fn fits_a_phone(browser: &Browser, what: &str) {
    let overflow = browser
        .execute("return document.documentElement.scrollWidth > window.innerWidth;")
        .await;
    assert_eq!(overflow, Value::Bool(false), "{what} runs off the screen");
    let small = browser
        .execute(
            "return [...document.querySelectorAll('a, button, input, textarea')].filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height < 44; }).map(e => e.outerHTML.slice(0, 80));",
        )
        .await;
    assert_eq!(small, json!([]), "{what}: a tap target under 44 px");
}

fn screenshots() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("participation-screenshots");
    std::fs::create_dir_all(&dir).expect("a screenshot directory");
    dir
}

/// On a phone (375 px), a resident reads an activity notice on home and books the session
/// it links to, through the desk's booking path.
#[tokio::test]
async fn a_resident_on_a_phone_reads_a_notice_and_books_its_session() {
    let c = Centre::open().await;
    let me = c.resident("王秀英", "1950-03-02", "13812345678").await;
    let (offering, session) = c.session("重阳节茶话会", 10, json!({})).await;
    c.post(
        "/notices",
        json!({ "title": "重阳节茶话会报名开始", "body": "本周六下午两点，社区活动室。\n欢迎长者参加，名额有限。",
                "kind": "activity", "pinned": true, "audience_categories": ["elderly"],
                "offering_id": offering, "session_id": session }),
    )
    .await;
    c.post(
        "/notices",
        json!({ "title": "燃气安全检查", "body": "下周一至周三入户检查，请家中留人。" }),
    )
    .await;

    let shots = screenshots();
    let gw = c.platform.gateway.clone();
    let browser = Browser::start().await;
    browser.window_size(375, 812).await;
    browser.goto(&format!("{gw}/r/sign-in")).await;
    browser
        .find("#f-phone")
        .await
        .type_text("13812345678")
        .await;
    browser.click_through("form button[type=submit]").await;
    let code = c.sms.code("13812345678", 1).await;
    browser.find("#f-code").await.type_text(&code).await;
    browser
        .click_through("form[action='/r/sign-in'] button[type=submit]")
        .await;
    assert!(
        browser.url().await.ends_with("/r/"),
        "{}",
        browser.url().await
    );
    let home = browser.source().await;
    assert!(home.contains("重阳节茶话会报名开始") && home.contains("燃气安全检查"));
    browser.screenshot(&shots.join("01-home-notices.png")).await;
    let overflow = browser
        .execute("return document.documentElement.scrollWidth > window.innerWidth;")
        .await;
    assert_eq!(
        overflow,
        Value::Bool(false),
        "nothing runs off a phone's screen"
    );
    let small = browser
        .execute(
            "return [...document.querySelectorAll('a, button, input')].filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height < 44; }).map(e => e.outerHTML.slice(0, 80));",
        )
        .await;
    assert_eq!(small, json!([]), "every tap target is at least 44 px tall");

    browser.click_through("li.card.notice a.button").await;
    assert!(
        browser
            .url()
            .await
            .contains(&format!("/r/sessions/{session}")),
        "{}",
        browser.url().await
    );
    browser
        .screenshot(&shots.join("02-notice-session.png"))
        .await;
    browser.click_through("main form button[type=submit]").await;
    assert!(
        browser.url().await.contains("/r/bookings"),
        "{}",
        browser.url().await
    );
    browser.screenshot(&shots.join("03-booked.png")).await;

    let (status, listed) = c
        .platform
        .get_json(
            &c.manager,
            &format!("/v1/centres/{}/bookings?resident_id={me}", c.centre),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let booking = &listed["bookings"][0];
    assert_eq!(booking["offering_id"], offering.as_str(), "{booking}");
    assert_eq!(
        booking["seats"][0]["session_id"],
        session.as_str(),
        "{booking}"
    );
    assert_eq!(booking["status"], "confirmed");

    // Home's way to the suggestion box (below the fold, under the tab bar: followed, not
    // tapped), and the box with a suggestion typed.
    browser.goto(&format!("{gw}/r/")).await;
    let href = browser
        .find("p.participate a")
        .await
        .attribute("href")
        .await;
    browser.goto(&format!("{gw}{href}")).await;
    browser
        .find("#text")
        .await
        .type_text("希望周末也开放阅览室")
        .await;
    browser.screenshot(&shots.join("04-suggestions.png")).await;
    fits_a_phone(&browser, "the suggestion box").await;
    browser.click_through("main form button[type=submit]").await;
    assert!(browser.url().await.ends_with("/r/suggestions?done=1"));
    browser
        .screenshot(&shots.join("05-suggestion-sent.png"))
        .await;

    // 居民议事: a thread started on the phone, then read.
    browser.goto(&format!("{gw}/r/forum")).await;
    browser.find("#title").await.type_text("广场舞音量").await;
    browser
        .find("#body")
        .await
        .type_text("晚上九点以后请小声一些，谢谢大家。")
        .await;
    // Scrolled to the middle, as a thumb does: the fixed tab bar covers the page's foot.
    browser
        .execute("document.querySelector('main form button[type=submit]').scrollIntoView({block: 'center'});")
        .await;
    browser.screenshot(&shots.join("06-forum.png")).await;
    browser.click_through("main form button[type=submit]").await;
    assert!(
        browser.url().await.contains("/r/forum/"),
        "{}",
        browser.url().await
    );
    browser.screenshot(&shots.join("07-forum-thread.png")).await;
    fits_a_phone(&browser, "a forum thread").await;
    // The age-friendly mode on home, with the notices.
    browser
        .goto(&format!("{gw}/r/large-text?on=1&back=/r/"))
        .await;
    browser.screenshot(&shots.join("08-home-large.png")).await;
    fits_a_phone(&browser, "home in large text").await;
    let overflow = browser
        .execute("return document.documentElement.scrollWidth > window.innerWidth;")
        .await;
    assert_eq!(overflow, Value::Bool(false), "the thread fits a phone");
    browser.close().await;
    c.platform.stop().await;
}

/// The console's 通知公告: a refused notice keeps what was typed with the message beside
/// the field; a notice scheduled for tomorrow evening (the centre's time) for the elderly
/// with a session attached is saved as such; pinning it from the list pins it.
#[tokio::test]
async fn staff_write_schedule_target_and_pin_a_notice_in_the_console() {
    let c = Centre::open().await;
    let (offering, session) = c.session("重阳节茶话会", 10, json!({})).await;
    c.platform
        .staff_account("coordinator", "coordinator", &[c.centre], PASSWORD)
        .await;
    let user = console_user(&c.platform, "coordinator", PASSWORD).await;
    let url = format!("{}/c/{}/notices", c.platform.gateway, c.centre);
    let get = |url: String| {
        let user = &user;
        async move {
            let response = user
                .0
                .get(url)
                .header("cookie", &user.1)
                .send()
                .await
                .expect("a page");
            (response.status(), response.text().await.expect("html"))
        }
    };
    let (status, page) = get(url.clone()).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("发布通知") && page.contains("重阳节茶话会"),
        "{page}"
    );
    let csrf = csrf_of(&page);
    let attach = format!("{offering}:{session}");
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    let from = format!("{tomorrow}T18:00");

    let long_title = "题".repeat(101);
    let refused = user
        .0
        .post(&url)
        .header("cookie", &user.1)
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", long_title.as_str()),
            ("kind", "activity"),
            ("body", "欢迎长者参加。"),
            ("publish_from", from.as_str()),
            ("category", "elderly"),
            ("attach", attach.as_str()),
        ])
        .send()
        .await
        .expect("posted");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let page = refused.text().await.expect("html");
    assert!(page.contains("1 到 100") || page.contains("100"), "{page}");
    assert!(
        page.contains("欢迎长者参加。") && page.contains(&long_title),
        "typed kept"
    );

    let saved = user
        .0
        .post(&url)
        .header("cookie", &user.1)
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "重阳节茶话会报名"),
            ("kind", "activity"),
            ("body", "欢迎长者参加。"),
            ("publish_from", from.as_str()),
            ("category", "elderly"),
            ("band", "80+"),
            ("attach", attach.as_str()),
        ])
        .send()
        .await
        .expect("posted");
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (_, listed) = c
        .platform
        .get_json(&c.manager, &format!("/v1/centres/{}/notices", c.centre))
        .await;
    let notice = &listed["notices"][0];
    assert_eq!(notice["state"], "scheduled", "{notice}");
    assert_eq!(notice["audience_categories"], json!(["elderly"]));
    assert_eq!(notice["audience_age_bands"], json!(["80+"]));
    assert_eq!(notice["session_id"], session.as_str());
    assert_eq!(
        notice["publish_from"],
        format!("{tomorrow}T10:00:00Z"),
        "18:00 in Shanghai"
    );
    assert_eq!(notice["pinned"], false);
    let (_, page) = get(format!("{url}?notice=created")).await;
    assert!(
        page.contains("待发布") && page.contains("老年人、80 岁及以上"),
        "{page}"
    );

    let id = notice["id"].as_str().expect("an id");
    let pinned = user
        .0
        .post(format!("{url}/{id}/pin"))
        .header("cookie", &user.1)
        .form(&[("csrf", csrf.as_str()), ("pinned", "on")])
        .send()
        .await
        .expect("posted");
    assert_eq!(pinned.status(), StatusCode::SEE_OTHER);
    let (_, listed) = c
        .platform
        .get_json(&c.manager, &format!("/v1/centres/{}/notices", c.centre))
        .await;
    assert_eq!(listed["notices"][0]["pinned"], true);
    assert_eq!(listed["notices"][0]["session_id"], session.as_str());

    // Shown at once, then ended.
    for (when, state) in [("publish_now", "published"), ("end_now", "ended")] {
        let changed = user
            .0
            .post(format!("{url}/{id}/schedule"))
            .header("cookie", &user.1)
            .form(&[("csrf", csrf.as_str()), ("when", when)])
            .send()
            .await
            .expect("posted");
        let status = changed.status();
        let body = changed.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::SEE_OTHER, "{when}: {body}");
        let (_, listed) = c
            .platform
            .get_json(&c.manager, &format!("/v1/centres/{}/notices", c.centre))
            .await;
        assert_eq!(listed["notices"][0]["state"], state, "after {when}");
    }

    // As the coordinator sees it at a desk's 1366 px.
    let browser = Browser::start().await;
    browser.window_size(1366, 900).await;
    browser.goto(&format!("{}/", c.platform.gateway)).await;
    browser
        .find("#f-username")
        .await
        .type_text("coordinator")
        .await;
    browser.find("#f-password").await.type_text(PASSWORD).await;
    browser.click_through("form button[type=submit]").await;
    browser.goto(&url).await;
    browser
        .find("#f-title")
        .await
        .type_text("燃气安全检查")
        .await;
    browser
        .screenshot(&screenshots().join("10-console-notices.png"))
        .await;
    let shown = browser.execute("return document.body.innerText;").await;
    let shown = shown.as_str().unwrap_or_default();
    assert!(
        !shown.contains(&session) && !shown.contains(&offering) && !shown.contains(id),
        "no ids on the page"
    );
    browser.close().await;
    c.platform.stop().await;
}

/// Straight to evaluation over gRPC with a resident's token: they read only their own
/// centre's notices meant for them and their own suggestions, send a suggestion only as
/// themselves, and reach no staff call of the participation part.
#[tokio::test]
async fn a_residents_token_reaches_only_their_own_participation() {
    use linli_proto::evaluation::v1 as ev;
    use linli_proto::evaluation::v1::evaluation_client::EvaluationClient;

    let c = Centre::open().await;
    let me = c.resident("王秀英", "1950-03-02", "13812345678").await;
    let neighbour = c.resident("李明", "1990-05-06", "13912345678").await;
    let elsewhere = c.platform.bookable_centre("Asia/Shanghai").await;
    let notice = c
        .post(
            "/notices",
            json!({ "title": "停水通知", "body": "周六停水。" }),
        )
        .await;
    let phone = c.sign_in("13812345678").await;
    let token = phone.token();
    let neighbours = c.sign_in("13912345678").await;
    neighbours.get("/r/").await;
    let mut neighbour_phone = neighbours;
    neighbour_phone
        .post("/r/suggestions", &[("text", "楼道灯坏了")])
        .await;

    fn as_resident<T>(token: &str, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("ascii"),
        );
        request
    }
    let mut evaluation = EvaluationClient::connect(format!("http://{}", c.platform.evaluation))
        .await
        .expect("evaluation");
    let centre = c.centre.to_string();

    let mine = evaluation
        .list_suggestions(as_resident(
            &token,
            ev::ListSuggestionsRequest {
                centre_id: centre.clone(),
                ..Default::default()
            },
        ))
        .await
        .expect("their own list")
        .into_inner();
    assert!(mine.suggestions.is_empty(), "not the neighbour's: {mine:?}");
    let denied = evaluation
        .submit_suggestion(as_resident(
            &token,
            ev::SubmitSuggestionRequest {
                centre_id: centre.clone(),
                resident_id: neighbour.to_string(),
                text: "冒名".into(),
                ..Default::default()
            },
        ))
        .await
        .expect_err("a suggestion in a neighbour's name");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let sent = evaluation
        .submit_suggestion(as_resident(
            &token,
            ev::SubmitSuggestionRequest {
                centre_id: centre.clone(),
                channel: "phone".into(),
                text: "多些书法课".into(),
                ..Default::default()
            },
        ))
        .await
        .expect("their own")
        .into_inner();
    assert_eq!(sent.resident_id, me.to_string());
    assert_eq!(sent.channel, "online", "a resident's own is online");

    let denied = evaluation
        .list_notices(as_resident(
            &token,
            ev::ListNoticesRequest {
                centre_id: elsewhere.to_string(),
                ..Default::default()
            },
        ))
        .await
        .expect_err("another centre's notices");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let denied = evaluation
        .create_notice(as_resident(
            &token,
            ev::CreateNoticeRequest {
                centre_id: centre.clone(),
                notice: Some(ev::NoticeDraft {
                    title: "假通知".into(),
                    body: "x".into(),
                    ..Default::default()
                }),
            },
        ))
        .await
        .expect_err("a resident writing a notice");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let denied = evaluation
        .update_notice(as_resident(
            &token,
            ev::UpdateNoticeRequest {
                centre_id: centre.clone(),
                notice_id: notice["id"].as_str().expect("an id").to_owned(),
                notice: Some(ev::NoticeDraft {
                    title: "改".into(),
                    body: "x".into(),
                    ..Default::default()
                }),
            },
        ))
        .await
        .expect_err("a resident changing a notice");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let denied = evaluation
        .move_suggestion(as_resident(
            &token,
            ev::MoveSuggestionRequest {
                centre_id: centre.clone(),
                suggestion_id: sent.id.clone(),
                status: "in_progress".into(),
                ..Default::default()
            },
        ))
        .await
        .expect_err("a resident moving a suggestion");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    // And a staff list through the gateway is 403 with their cookie's token.
    let (status, _) = c
        .platform
        .get_json(&token, &format!("/v1/centres/{centre}/notices"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    c.platform.stop().await;
}

/// 居民议事: a resident starts a thread (an over-long title refused in Chinese, the text
/// kept; markup shown as text), a neighbour replies and reports it; staff find it in the
/// reported queue with its author, lock it (a reply is then refused in Chinese), hide it
/// (residents no longer see it), restore and pin it.
#[tokio::test]
async fn residents_talk_in_the_forum_and_staff_moderate_what_they_report() {
    let c = Centre::open().await;
    let author = c.resident("王秀英", "1950-03-02", "13812345678").await;
    c.resident("李明", "1990-05-06", "13912345678").await;
    let mut me = c.sign_in("13812345678").await;
    let mut neighbour = c.sign_in("13912345678").await;

    let long = "吵".repeat(61);
    let (status, page) = me
        .post(
            "/r/forum",
            &[("title", long.as_str()), ("body", "晚上九点以后")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("标题最多 60 个字"), "{page}");
    assert!(
        page.contains(&long) && page.contains("晚上九点以后"),
        "kept"
    );

    let (status, _) = me
        .post(
            "/r/forum",
            &[
                ("title", "广场舞音量"),
                ("body", "<img src=x onerror=alert(1)>晚上九点以后请小声"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, list) = neighbour.get("/r/forum").await;
    assert!(list.contains("广场舞音量"), "{list}");
    let thread = list
        .split("href=\"/r/forum/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a thread link")
        .to_owned();
    let (_, page) = neighbour.get(&format!("/r/forum/{thread}")).await;
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;") && !page.contains("<img src=x"),
        "{page}"
    );
    let (status, _) = neighbour
        .post(
            &format!("/r/forum/{thread}"),
            &[("body", "同意，八点半就好")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = neighbour
        .post(
            &format!("/r/forum/posts/{thread}/report"),
            &[("thread", thread.as_str())],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = me.get(&format!("/r/forum/{thread}")).await;
    assert!(page.contains("同意，八点半就好"), "{page}");

    let forum = format!("/v1/centres/{}/forum", c.centre);
    let (_, reported) = c
        .platform
        .get_json(&c.manager, &format!("{forum}/reported"))
        .await;
    assert_eq!(reported["posts"][0]["id"], thread.as_str(), "{reported}");
    assert_eq!(reported["posts"][0]["reports"], 1);
    assert_eq!(reported["posts"][0]["author_id"], author.to_string());

    let moderate = |action: &'static str| {
        let c = &c;
        let path = format!("{forum}/posts/{thread}/moderation");
        async move {
            let (status, body) = c
                .platform
                .post_json(&c.manager, &path, &json!({ "action": action }), None)
                .await;
            assert_eq!(status, StatusCode::OK, "{action}: {body}");
            body
        }
    };
    moderate("lock").await;
    let (status, page) = neighbour
        .post(&format!("/r/forum/{thread}"), &[("body", "再说一句")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("这个话题已关闭"), "{page}");

    moderate("hide").await;
    let (_, list) = neighbour.get("/r/forum").await;
    assert!(!list.contains("广场舞音量"), "hidden: {list}");
    let (status, _) = neighbour.get(&format!("/r/forum/{thread}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, reported) = c
        .platform
        .get_json(&c.manager, &format!("{forum}/reported"))
        .await;
    assert_eq!(
        reported["posts"],
        json!([]),
        "a hidden post leaves the queue"
    );

    moderate("restore").await;

    // The console's 居民议事: the reported post in the queue again (restored), and pinned
    // from there.
    c.platform
        .staff_account("desk", "front_desk", &[c.centre], PASSWORD)
        .await;
    let desk = console_user(&c.platform, "desk", PASSWORD).await;
    let page = desk
        .0
        .get(format!("{}/c/{}/forum", c.platform.gateway, c.centre))
        .header("cookie", &desk.1)
        .send()
        .await
        .expect("the forum page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("被举报的帖子") && page.contains("广场舞音量") && page.contains("&lt;img"),
        "{page}"
    );
    let pinned = desk
        .0
        .post(format!(
            "{}/c/{}/forum/posts/{thread}",
            c.platform.gateway, c.centre
        ))
        .header("cookie", &desk.1)
        .form(&[("csrf", csrf_of(&page).as_str()), ("action", "pin")])
        .send()
        .await
        .expect("pinned");
    assert_eq!(pinned.status(), StatusCode::SEE_OTHER);
    let (_, thread_now) = c
        .platform
        .get_json(&c.manager, &format!("{forum}/threads/{thread}"))
        .await;
    assert_eq!(thread_now["posts"][0]["pinned"], true, "{thread_now}");
    let pinned = moderate("pin").await;
    assert_eq!(pinned["pinned"], true);
    let (_, list) = neighbour.get("/r/forum").await;
    assert!(
        list.contains("广场舞音量") && list.contains("置顶"),
        "{list}"
    );

    // The author's erasure: their posts stay in place, hidden, without them or their words;
    // their anonymous suggestion no longer knows who sent it.
    me.post(
        "/r/suggestions",
        &[("text", "多些书法课"), ("anonymous", "1")],
    )
    .await;
    let (status, body) = c
        .platform
        .post_json(
            &c.manager,
            &format!("/v1/centres/{}/residents/{author}/erasure", c.centre),
            &json!({ "reason": "the resident's request" }),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let pool = c.platform.pool("evaluation").await;
    poll("the erasure in evaluation", DEADLINE, || async {
        let left: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM forum_posts WHERE author_id = $1 OR body LIKE '%九点%')
                  + (SELECT count(*) FROM suggestions WHERE submitted_by = $1)",
        )
        .bind(author)
        .fetch_one(&pool)
        .await
        .expect("counted");
        (left == 0).then_some(())
    })
    .await;
    let hidden: bool = sqlx::query_scalar("SELECT hidden FROM forum_posts WHERE id = $1::uuid")
        .bind(&thread)
        .fetch_one(&pool)
        .await
        .expect("the thread stays");
    assert!(hidden);
    pool.close().await;
    c.platform.stop().await;
}
