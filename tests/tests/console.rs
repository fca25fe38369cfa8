//! The staff console end to end: a real browser (headless Chromium through chromedriver)
//! against the whole platform for the desk's everyday flow, and plain HTTP for sign-in,
//! lockout, roles, centre scoping, CSRF and field errors.

use std::time::Duration;

use chrono::Utc;
use linli_platform::auth::Role;
use linli_tests::webdriver::Browser;
use linli_tests::webdriver::{PASSWORD, screenshots, sign_in_browser};
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;
use uuid::Uuid;

async fn resident(platform: &TestPlatform, centre: Uuid, name: &str) -> String {
    let (status, body) = platform
        .post_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/residents"),
            &json!({ "name": name, "gender": "male", "date_of_birth": "1950-03-01", "phone": "13812345678" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().expect("resident id").to_owned()
}

/// An event with `capacity` seats starting in an hour (check-in opens two hours ahead).
/// An offering and its one session an hour from now; with the session's day at a centre in
/// Asia/Shanghai (UTC+8 all year), which is tomorrow when the test runs after 23:00 there.
async fn session_soon(
    platform: &TestPlatform,
    centre: Uuid,
    capacity: i32,
) -> (String, String, chrono::NaiveDate) {
    let admin = platform.admin_token();
    let (status, offering) = platform
        .post_json(
            &admin,
            &format!("/v1/centres/{centre}/offerings"),
            &json!({ "category": "culture_education", "kind": "event", "name": "社区读书会", "capacity": capacity }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{offering}");
    let offering = offering["id"].as_str().expect("offering id").to_owned();
    let starts_at = Utc::now() + chrono::Duration::hours(1);
    let day = starts_at
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive();
    let starts = starts_at.to_rfc3339();
    let ends = (starts_at + chrono::Duration::hours(1)).to_rfc3339();
    let (status, session) = platform
        .post_json(
            &admin,
            &format!("/v1/centres/{centre}/sessions"),
            &json!({ "offering_id": offering, "starts_at": starts, "ends_at": ends }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    (
        offering,
        session["id"].as_str().expect("session id").to_owned(),
        day,
    )
}

/// A browser-less console user: cookies kept by hand, redirects not followed.
struct Desk {
    http: reqwest::Client,
    gateway: String,
    cookies: Vec<(String, String)>,
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .map(|i| i + marker.len())
        .unwrap_or_else(|| panic!("no {name} field in {html}"));
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

impl Desk {
    fn new(platform: &TestPlatform) -> Desk {
        Desk {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
            gateway: platform.gateway.clone(),
            cookies: Vec::new(),
        }
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.retain(|(n, _)| n != name);
                if !text.contains("Max-Age=0") {
                    self.cookies.push((name.to_owned(), value.to_owned()));
                }
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.gateway))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("the gateway answers");
        self.keep(&response);
        let status = response.status();
        (status, response.text().await.unwrap_or_default())
    }

    /// POSTs a form; the status, the Location if any, and the body.
    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, String, String) {
        let response = self
            .http
            .post(format!("{}{path}", self.gateway))
            .header(COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .expect("the gateway answers");
        self.keep(&response);
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, location, response.text().await.unwrap_or_default())
    }

    async fn sign_in(&mut self, username: &str, password: &str) -> (StatusCode, String) {
        let (_, page) = self.get("/sign-in").await;
        let csrf = hidden(&page, "csrf");
        let (status, _, body) = self
            .post(
                "/sign-in",
                &[
                    ("csrf", &csrf),
                    ("next", "/dashboard"),
                    ("username", username),
                    ("password", password),
                ],
            )
            .await;
        (status, body)
    }

    /// The CSRF token of the signed-in session, from any page's sign-out form.
    async fn csrf(&mut self, page: &str) -> String {
        let (_, html) = self.get(page).await;
        hidden(&html, "csrf")
    }
}

#[tokio::test]
async fn the_desk_finds_a_resident_by_initials_books_the_last_seat_waitlists_the_next_and_checks_in()
 {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("desk-a", "front_desk", &[centre])
        .await;
    platform
        .console_account("manager-a", "centre_manager", &[centre])
        .await;
    let zhang = resident(&platform, centre, "张三丰").await;
    let li = resident(&platform, centre, "李四").await;
    let wang = resident(&platform, centre, "王五").await;
    platform
        .wait_for_residents_in_bookings(&[
            zhang.parse().expect("uuid"),
            li.parse().expect("uuid"),
            wang.parse().expect("uuid"),
        ])
        .await;
    let (offering, session, day) = session_soon(&platform, centre, 2).await;
    let (status, body) = platform
        .post_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/bookings"),
            &json!({ "offering_id": offering, "resident_id": wang, "session_id": session }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let shots = screenshots();
    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    browser.goto(&format!("{gw}/")).await;
    assert!(
        browser.url().await.contains("/sign-in"),
        "an anonymous visit goes to sign-in"
    );
    browser.screenshot(&shots.join("01-sign-in.png")).await;
    browser.find("#f-username").await.type_text("desk-a").await;
    browser.find("#f-password").await.type_text(PASSWORD).await;
    browser.click_through("form button[type=submit]").await;
    assert!(
        browser
            .url()
            .await
            .ends_with(&format!("/c/{centre}/dashboard")),
        "{}",
        browser.url().await
    );

    let participation = |source: String| {
        let marker = "id=\"kpi-participation\" data-numerator=\"";
        let start = source.find(marker).expect("the participation row") + marker.len();
        source[start..]
            .split('"')
            .next()
            .unwrap_or_default()
            .parse::<i64>()
            .expect("a number")
    };
    let before = participation(browser.source().await);
    browser
        .screenshot(&shots.join("02-dashboard-before.png"))
        .await;

    browser.goto(&format!("{gw}/c/{centre}/residents")).await;
    browser.find("#q").await.type_text("zsf").await;
    browser
        .click_through("form.filters button[type=submit]")
        .await;
    let found = browser.find("#residents tbody").await.text().await;
    assert!(found.contains("张三丰"), "zsf finds 张三丰: {found}");
    assert!(!found.contains("李四"), "and only them: {found}");
    browser
        .screenshot(&shots.join("03-residents-search.png"))
        .await;

    browser
        .goto(&format!("{gw}/c/{centre}/bookings?view=week"))
        .await;
    browser
        .screenshot(&shots.join("04-bookings-week.png"))
        .await;
    browser
        .goto(&format!("{gw}/c/{centre}/bookings?day={day}"))
        .await;
    browser
        .click_through(&format!("a[href*=\"/sessions/{session}\"]"))
        .await;
    assert_eq!(browser.find("#seats").await.text().await, "1 / 2");
    browser.find("#q").await.type_text("zsf").await;
    browser
        .click_through("#book form[role=search] button")
        .await;
    browser.click_through("button[data-book=\"张三丰\"]").await;
    let notice = browser.find(".notice").await.text().await;
    assert!(
        notice.contains("已确认"),
        "the last seat is 张三丰's: {notice}"
    );
    assert_eq!(browser.find("#seats").await.text().await, "2 / 2");

    browser.find("#q").await.type_text("ls").await;
    browser
        .click_through("#book form[role=search] button")
        .await;
    browser.click_through("button[data-book=\"李四\"]").await;
    let notice = browser.find(".notice").await.text().await;
    assert!(
        notice.contains("候补") && notice.contains('1'),
        "李四 waits first: {notice}"
    );
    assert!(
        browser
            .find("#waitlist")
            .await
            .text()
            .await
            .contains("李四")
    );
    browser
        .screenshot(&shots.join("05-session-waitlist.png"))
        .await;

    browser
        .click_through("button[data-check-in=\"张三丰\"]")
        .await;
    assert!(browser.find(".notice").await.text().await.contains("签到"));
    let row = browser
        .find("#attendees tr[data-seat=attended]")
        .await
        .text()
        .await;
    assert!(row.contains("张三丰"), "{row}");
    browser
        .screenshot(&shots.join("06-session-checked-in.png"))
        .await;

    let dashboard = format!("{gw}/c/{centre}/dashboard");
    poll(
        "the participation KPI to count the check-in",
        Duration::from_secs(60),
        || {
            let browser = &browser;
            let dashboard = dashboard.clone();
            async move {
                browser.goto(&dashboard).await;
                (participation(browser.source().await) > before).then_some(())
            }
        },
    )
    .await;
    browser
        .screenshot(&shots.join("07-dashboard-after.png"))
        .await;

    browser.goto(&format!("{gw}/c/{centre}/finance")).await;
    assert!(
        browser.source().await.contains("403"),
        "the desk may not open finance"
    );
    browser
        .screenshot(&shots.join("08-finance-forbidden-for-desk.png"))
        .await;
    browser.goto(&format!("{gw}/language?to=en")).await;
    browser.goto(&format!("{gw}/c/{centre}/bookings")).await;
    assert!(browser.source().await.contains("Bookings and check-in"));
    browser
        .screenshot(&shots.join("09-bookings-english.png"))
        .await;
    browser.goto(&format!("{gw}/language?to=zh")).await;
    browser
        .click_through("form[action=\"/sign-out\"] button")
        .await;
    assert!(browser.url().await.contains("/sign-in"));

    browser
        .find("#f-username")
        .await
        .type_text("manager-a")
        .await;
    browser.find("#f-password").await.type_text(PASSWORD).await;
    browser.click_through("form button[type=submit]").await;
    for (page, shot) in [
        ("volunteers", "10-volunteers.png"),
        ("finance", "11-finance.png"),
        ("evaluation", "12-evaluation.png"),
        (&format!("residents/{zhang}") as &str, "13-resident.png"),
        ("residents/new", "14-resident-new.png"),
    ] {
        browser.goto(&format!("{gw}/c/{centre}/{page}")).await;
        let source = browser.source().await;
        assert!(!source.contains("出错了"), "{page} renders: {source}");
        browser.screenshot(&shots.join(shot)).await;
    }
    browser.goto(&format!("{gw}/accounts")).await;
    assert!(
        browser
            .find("#accounts")
            .await
            .text()
            .await
            .contains("desk-a")
    );
    browser.screenshot(&shots.join("15-accounts.png")).await;
    browser.close().await;
    platform.stop().await;
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_account_even_against_the_right_one_answered_as_an_unknown_username_and_sign_out_ends_the_session()
 {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("desk-a", "front_desk", &[centre])
        .await;
    platform
        .console_account("desk-b", "front_desk", &[centre])
        .await;

    let mut desk = Desk::new(&platform);
    let (status, _) = desk.sign_in("desk-a", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = desk.get("/dashboard").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "to the centre's dashboard");
    let (status, page) = desk.get(&format!("/c/{centre}/dashboard")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let stolen = desk.cookies.clone();
    let csrf = hidden(&page, "csrf");
    let (status, location, _) = desk.post("/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/sign-in")
    );
    desk.cookies = stolen;
    let (status, _) = desk.get(&format!("/c/{centre}/dashboard")).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the old cookie no longer opens anything"
    );

    let mut guesser = Desk::new(&platform);
    for _ in 0..5 {
        let (status, page) = guesser.sign_in("desk-b", "wrong-password").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(page.contains("用户名或密码不正确"), "{page}");
    }
    // Locked: the right password is refused, and the answer is the one an unknown
    // username gets (but for the username typed and the form's fresh CSRF token), so a
    // guess cannot tell which usernames exist.
    let (status, locked) = guesser.sign_in("desk-b", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{locked}");
    let (status, unknown) = Desk::new(&platform).sign_in("nobody", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{unknown}");
    let same = |page: &str, username: &str| {
        page.replace(&hidden(page, "csrf"), "")
            .replace(username, "someone")
    };
    assert_eq!(same(&locked, "desk-b"), same(&unknown, "nobody"));
    let registry = platform.pool("registry").await;
    let still_locked: bool = sqlx::query_scalar(
        "SELECT locked_until > now() FROM staff_accounts WHERE username = 'desk-b'",
    )
    .fetch_one(&registry)
    .await
    .expect("the account");
    assert!(still_locked, "the lockout itself stays");
    registry.close().await;
    let (status, _) = Desk::new(&platform).sign_in("desk-a", PASSWORD).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "another account is not locked"
    );
    platform.stop().await;
}

/// A POST whose Origin (or, without one, Referer) names another site is refused before it
/// is read; pages may run only the console's own script and style, never sit in a frame,
/// never be cached, and send their address only back to the console.
#[tokio::test]
async fn a_post_from_another_site_is_refused_and_pages_forbid_frames_caches_and_foreign_scripts() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("desk-a", "front_desk", &[centre])
        .await;
    let here = platform.gateway.clone();

    let mut desk = Desk::new(&platform);
    let response = desk
        .http
        .get(format!("{here}/sign-in"))
        .send()
        .await
        .expect("the sign-in page");
    let headers = response.headers().clone();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let policy = header("content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("referrer-policy"), "same-origin");
    // The page has no inline script or style for the policy to break.
    let page = response.text().await.expect("html");
    assert!(
        !page.contains("<script>") && !page.contains("style="),
        "{page}"
    );
    assert!(!page.contains("<style"), "{page}");
    // The script and stylesheet keep their own caching.
    let script = desk
        .http
        .get(format!("{here}/console.js"))
        .send()
        .await
        .expect("the script");
    assert_eq!(script.headers()["cache-control"], "max-age=3600");

    // Signing in from another site: refused; from this one, or saying nothing, as usual.
    let sign_in = |origin: Option<(&'static str, String)>| {
        let (desk, platform, here) = (&desk, &platform, &here);
        async move {
            let (_, page) = Desk::new(platform).get("/sign-in").await;
            let csrf = hidden(&page, "csrf");
            let mut request = desk
                .http
                .post(format!("{here}/sign-in"))
                .header(COOKIE, format!("linli_signin={csrf}"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("next", "/dashboard"),
                    ("username", "desk-a"),
                    ("password", PASSWORD),
                ]);
            if let Some((name, value)) = origin {
                request = request.header(name, value);
            }
            request.send().await.expect("the gateway answers").status()
        }
    };
    assert_eq!(
        sign_in(Some(("origin", "https://evil.example".into()))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sign_in(Some(("referer", "https://evil.example/form".into()))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sign_in(Some(("origin", here.clone()))).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        sign_in(Some(("referer", format!("{here}/sign-in")))).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(sign_in(None).await, StatusCode::SEE_OTHER);

    // Signed in, a form posted from another site with the right token is still refused,
    // and the session it tried to end goes on.
    let (status, _) = desk.sign_in("desk-a", PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = desk.get(&format!("/c/{centre}/dashboard")).await;
    let csrf = hidden(&page, "csrf");
    let refused = desk
        .http
        .post(format!("{here}/sign-out"))
        .header(COOKIE, desk.cookie_header())
        .header("origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let (status, _) = desk.get(&format!("/c/{centre}/dashboard")).await;
    assert_eq!(status, StatusCode::OK, "still signed in");
    platform.stop().await;
}

#[tokio::test]
async fn roles_and_centres_bound_every_page() {
    let platform = TestPlatform::start().await;
    let a = platform.bookable_centre("Asia/Shanghai").await;
    let b = platform.bookable_centre("Asia/Shanghai").await;
    platform.console_account("desk-a", "front_desk", &[a]).await;
    let in_b = resident(&platform, b, "欧阳娜娜").await;
    resident(&platform, a, "张三丰").await;

    let mut desk = Desk::new(&platform);
    assert_eq!(
        desk.sign_in("desk-a", PASSWORD).await.0,
        StatusCode::SEE_OTHER
    );
    for page in ["finance", "finance/transparency.csv"] {
        let (status, html) = desk.get(&format!("/c/{a}/{page}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
        assert!(html.contains("无权访问"), "a 403 page, not a crash: {html}");
    }
    assert_eq!(desk.get("/accounts").await.0, StatusCode::FORBIDDEN);
    for page in [
        "dashboard",
        "residents",
        "bookings",
        "volunteers",
        "finance",
        "evaluation",
        "residents/new",
    ] {
        let (status, html) = desk.get(&format!("/c/{b}/{page}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page} of another centre");
        assert!(!html.contains("欧阳娜娜"));
    }
    let (status, html) = desk.get(&format!("/c/{a}/residents/{in_b}")).await;
    assert!(
        matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{status}"
    );
    assert!(!html.contains("欧阳娜娜"));
    for page in [
        "dashboard",
        "residents",
        "residents?q=oy",
        "bookings",
        "volunteers",
        "evaluation",
    ] {
        let (status, html) = desk.get(&format!("/c/{a}/{page}")).await;
        assert_eq!(status, StatusCode::OK, "{page}: {html}");
        assert!(
            !html.contains("欧阳娜娜"),
            "{page} shows nothing of centre B"
        );
        assert!(
            !html.contains(&b.to_string()),
            "{page} does not even name centre B"
        );
    }
    platform.stop().await;
}

#[tokio::test]
async fn forms_refuse_bad_input_beside_the_field_and_posts_without_csrf() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("manager-a", "centre_manager", &[centre])
        .await;
    let someone = resident(&platform, centre, "张三丰").await;
    let (_, session, _) = session_soon(&platform, centre, 2).await;

    let mut anonymous = Desk::new(&platform);
    let (status, _, _) = anonymous
        .post(
            "/sign-in",
            &[("username", "manager-a"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a sign-in without its CSRF token"
    );

    let mut manager = Desk::new(&platform);
    assert_eq!(
        manager.sign_in("manager-a", PASSWORD).await.0,
        StatusCode::SEE_OTHER
    );
    let new_resident = format!("/c/{centre}/residents/new");
    for csrf in [None, Some("forged")] {
        let mut form = vec![
            ("name", "李四"),
            ("gender", "male"),
            ("date_of_birth", "1950-01-01"),
        ];
        if let Some(token) = csrf {
            form.push(("csrf", token));
        }
        let (status, _, _) = manager.post(&new_resident, &form).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "csrf {csrf:?}");
    }
    let csrf = manager.csrf(&new_resident).await;

    let (status, _, html) = manager
        .post(
            &new_resident,
            &[
                ("csrf", &csrf),
                ("name", ""),
                ("date_of_birth", "1950-13-40"),
                ("phone", "123"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for (field, message) in [
        ("name", "请填写姓名"),
        ("gender", "请选择性别"),
        ("date_of_birth", "请填写出生日期"),
        ("phone", "11 位数字"),
    ] {
        let at = html
            .find(&format!("id=\"f-{field}-error\""))
            .unwrap_or_else(|| panic!("no error beside {field}: {html}"));
        assert!(
            html[at..]
                .split("</span>")
                .next()
                .unwrap_or_default()
                .contains(message),
            "{field}"
        );
    }
    // The registry's own refusal lands beside its field too (a national ID that fails its check).
    let (status, _, html) = manager
        .post(
            &new_resident,
            &[
                ("csrf", &csrf),
                ("name", "李四"),
                ("gender", "male"),
                ("date_of_birth", "1950-01-01"),
                ("national_id", "110105195001010000"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert!(html.contains("id=\"f-national_id-error\""), "{html}");

    let (status, _, html) = manager
        .post(
            &format!("/c/{centre}/residents/{someone}/consents"),
            &[("csrf", &csrf), ("purpose", ""), ("source", "phone")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("请选择用途"), "{html}");

    let (status, _, html) = manager
        .post(
            &format!("/c/{centre}/sessions/{session}/bookings"),
            &[("csrf", &csrf), ("resident_id", "")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("请先查找并选择居民"), "{html}");

    let (status, _, html) = manager
        .post(
            "/accounts",
            &[
                ("csrf", &csrf),
                ("username", "A B"),
                ("display_name", "x"),
                ("password", "long-enough-pass"),
                ("roles", "front_desk"),
                ("centre_ids", &centre.to_string()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"f-username-error\""), "{html}");
    let (status, _, html) = manager
        .post(
            "/accounts",
            &[
                ("csrf", &csrf),
                ("username", "desk-new"),
                ("display_name", "新前台"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html.contains("密码至少 10 位") && html.contains("请至少选择一个角色"),
        "{html}"
    );

    let (status, _, html) = manager
        .post(
            &format!("/c/{centre}/residents/import"),
            &[
                ("csrf", &csrf),
                (
                    "file",
                    "姓名,性别,出生日期\n王五,男,1950-01-01\n,女,2999-01-01\n",
                ),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("import-report") && html.contains("<td class=\"num\">3</td>"),
        "the bad row is reported: {html}"
    );

    let (status, _, html) = manager
        .post(
            &format!("/c/{centre}/residents/import"),
            &[("csrf", &csrf), ("file", "")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("id=\"f-file\""), "{html}");

    let _ = Role::FrontDesk;
    platform.stop().await;
}

/// Puts JSON to the gateway as the platform's administrator.
async fn put_json(platform: &TestPlatform, path: &str, body: &serde_json::Value) {
    let response = platform
        .http
        .put(format!("{}{path}", platform.gateway))
        .bearer_auth(platform.admin_token())
        .json(body)
        .send()
        .await
        .expect("the gateway answers");
    let status = response.status();
    assert!(
        status.is_success(),
        "{path}: {status} {}",
        response.text().await.unwrap_or_default()
    );
}

async fn created(
    platform: &TestPlatform,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let (status, reply) = platform
        .post_json(&platform.admin_token(), path, &body, None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{path}: {reply}");
    reply
}

/// A centre with something on every page: residents with addresses stored both ways, a
/// session with a booking, a volunteer with skills and a certification about to expire,
/// a shift short of people, hours waiting, a budget, an expense and a donation in the
/// plan's categories, and a suggestion.
async fn busy_centre(platform: &TestPlatform) -> Uuid {
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let base = format!("/v1/centres/{centre}");
    let zhang = created(
        platform,
        &format!("{base}/residents"),
        json!({ "name": "张三丰", "gender": "male", "date_of_birth": "1950-03-01", "phone": "13812345678",
                "building": "1号楼", "unit": "3单元", "room": "403室", "categories": ["living_alone"] }),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let li = created(
        platform,
        &format!("{base}/residents"),
        json!({ "name": "李四", "gender": "female", "date_of_birth": "1970-05-01", "phone": "13912345678",
                "building": "2", "unit": "1", "room": "201" }),
    )
    .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    platform
        .wait_for_residents(&[zhang.parse().expect("uuid"), li.parse().expect("uuid")])
        .await;
    let (offering, session, _) = session_soon(platform, centre, 5).await;
    created(
        platform,
        &format!("{base}/bookings"),
        json!({ "offering_id": offering, "resident_id": zhang, "session_id": session }),
    )
    .await;

    let volunteer = created(
        platform,
        &format!("{base}/volunteers"),
        json!({ "resident_id": li, "display_name": "李四", "skills": ["first_aid", "elderly_care"] }),
    )
    .await["id"]
        .as_str()
        .expect("volunteer id")
        .to_owned();
    let today = Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive();
    created(
        platform,
        &format!("{base}/certifications"),
        json!({ "holder_id": volunteer, "kind": "first_aid", "issuer": "区红十字会", "number": "RC-0001",
                "expires_on": (today + chrono::Days::new(10)).to_string() }),
    )
    .await;
    let opportunity = created(
        platform,
        &format!("{base}/opportunities"),
        json!({ "title": "健康讲座急救员", "required_skills": ["first_aid", "cooking"], "required_certifications": ["first_aid"] }),
    )
    .await["id"]
        .as_str()
        .expect("opportunity id")
        .to_owned();
    created(
        platform,
        &format!("{base}/shifts"),
        json!({ "opportunity_id": opportunity, "starts_at": format!("{today}T14:00:00+08:00"),
                "ends_at": format!("{today}T16:00:00+08:00"), "capacity": 2 }),
    )
    .await;
    created(
        platform,
        &format!("{base}/hours"),
        json!({ "volunteer_id": volunteer, "worked_on": today.to_string(), "minutes": 90 }),
    )
    .await;

    let year = chrono::Datelike::year(&today);
    put_json(
        platform,
        &format!("{base}/finance/budgets/{year}/equipment_purchase"),
        &json!({ "amount_minor": 500_000 }),
    )
    .await;
    created(
        platform,
        &format!("{base}/finance/expenses"),
        json!({ "category": "equipment_purchase", "amount_minor": 151_000, "description": "购买血压计", "spent_on": today.to_string() }),
    )
    .await;
    created(
        platform,
        &format!("{base}/finance/donations"),
        json!({ "donor_name": "王大爷", "amount_minor": 151_000, "purpose": "助老" }),
    )
    .await;
    created(
        platform,
        &format!("{base}/suggestions"),
        json!({ "channel": "box", "text": "希望增加书法课" }),
    )
    .await;
    centre
}

/// What a person would object to in the visible text of the page the browser shows: an
/// English sentence (three English words in a row), a raw code (a word_with_underscores,
/// or a unit such as fen or seconds), a UUID, an address with its words doubled, a day
/// written as ISO 2026-12-06 rather than 2026年12月6日, or a JSON document instead of a
/// page. Also a page that failed (出错了), and a page not marked lang="zh-CN".
const OBJECTIONS: &str = r#"
const text = document.body ? document.body.innerText : '';
const found = [];
const add = (what, re) => { for (const m of text.matchAll(re)) found.push(what + ': ' + m[0]); };
add('UUID', /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi);
add('code', /\b[a-z]+(?:_[a-z]+)+\b/g);
add('unit', /\b(?:fen|seconds|minutes|answers|respondents)\b/g);
add('English', /[A-Za-z]{2,}(?:[ ,:;'’]+[A-Za-z]{2,}){2,}/g);
add('doubled', /号楼号楼|单元单元|室室/g);
add('ISO date', /\b\d{4}-\d{2}-\d{2}\b/g);
if (document.documentElement.lang !== 'zh-CN') found.push('lang: ' + document.documentElement.lang);
if (/^\s*[\[{]/.test(text)) found.push('JSON: ' + text.slice(0, 80));
const heading = document.querySelector('h1');
if (heading && /出错了|服务暂时不可用/.test(heading.innerText)) found.push('failed: ' + heading.innerText);
return found;
"#;

/// The links of the page the browser shows that lead to another console page (not a
/// download, not the language switch).
const LINKS: &str = r#"
return Array.from(document.querySelectorAll('a[href]'))
  .filter(a => !a.hasAttribute('download') && a.origin === location.origin)
  .map(a => a.href)
  .filter(h => !/\/language|\/sign-out|\.csv|\.json/.test(h));
"#;

/// Every page reachable by links from `start`, each kind of page once (the same path with
/// the same query names: a calendar's next day is the same page as today's), at most
/// `limit`; what was objected to on each.
async fn crawl(browser: &Browser, start: &str, limit: usize) -> Vec<(String, Vec<String>)> {
    let kind = |url: &str| {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let mut names: Vec<&str> = query
            .split('&')
            .filter_map(|p| p.split('=').next())
            .filter(|n| !n.is_empty())
            .collect();
        names.sort();
        format!(
            "{}?{}",
            path.split('#').next().unwrap_or(path),
            names.join("&")
        )
    };
    let mut seen = std::collections::HashSet::from([kind(start)]);
    let mut queue = std::collections::VecDeque::from([start.to_owned()]);
    let mut visited = Vec::new();
    while let Some(url) = queue.pop_front() {
        if visited.len() >= limit {
            break;
        }
        browser.goto(&url).await;
        let mut objections: Vec<String> = serde_json::from_value(browser.execute(OBJECTIONS).await)
            .expect("a list of objections");
        // A service that timed out on a loaded test machine says so (服务暂时不可用) and is
        // asked once more; a page that fails twice is reported.
        if objections.iter().any(|o| o.contains("服务暂时不可用")) {
            browser.goto(&url).await;
            objections = serde_json::from_value(browser.execute(OBJECTIONS).await)
                .expect("a list of objections");
        }
        let links: Vec<String> =
            serde_json::from_value(browser.execute(LINKS).await).expect("a list of links");
        for link in links {
            if seen.insert(kind(&link)) {
                queue.push_back(link);
            }
        }
        visited.push((url, objections));
    }
    visited
}

async fn sign_out_browser(browser: &Browser) {
    browser
        .click_through("form[action=\"/sign-out\"] button")
        .await;
}

#[tokio::test]
async fn every_console_page_as_every_role_shows_chinese_words_never_english_sentences_codes_or_ids()
{
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = busy_centre(&platform).await;
    let roles = [
        ("district-a", "district_admin"),
        ("manager-a", "centre_manager"),
        ("desk-a", "front_desk"),
        ("coordinator-a", "coordinator"),
        ("finance-a", "finance_officer"),
        ("auditor-a", "auditor"),
    ];
    for (username, role) in roles {
        let centres: &[Uuid] = if role == "district_admin" {
            &[]
        } else {
            &[centre]
        };
        platform.console_account(username, role, centres).await;
    }
    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    let mut objections = Vec::new();
    let mut pages = 0;
    for (username, _) in roles {
        sign_in_browser(&browser, &gw, username).await;
        let start = format!("{gw}/dashboard");
        let visited = crawl(&browser, &start, 80).await;
        assert!(
            visited.len() >= 3,
            "{username} reached too few pages: {visited:?}"
        );
        pages += visited.len();
        for (url, found) in visited {
            if !found.is_empty() {
                objections.push(format!("{username} {url}: {found:?}"));
            }
        }
        // The pages this crawl guards, as people see them on a laptop and a tablet.
        let shots: &[(&str, &str)] = match username {
            "manager-a" => &[
                ("dashboard", "40-dashboard"),
                ("residents", "41-residents"),
                ("volunteers", "42-volunteers"),
                ("evaluation", "43-evaluation"),
            ],
            _ => &[],
        };
        for (page, name) in shots {
            browser.goto(&format!("{gw}/c/{centre}/{page}")).await;
            shots_at_both_widths(&browser, name).await;
        }
        if username == "district-a" {
            browser.goto(&format!("{gw}/dashboard")).await;
            shots_at_both_widths(&browser, "44-district-dashboard").await;
        }
        // Addresses that do not exist and values that do not fit: a Chinese page each.
        let stranger = Uuid::new_v4();
        for bad in [
            format!("/c/{centre}/no-such-page"),
            format!("/c/{centre}/finance?year=abc"),
            format!("/c/{centre}/residents/{stranger}"),
            format!("/c/{centre}/sessions/{stranger}"),
            "/c/not-a-centre/dashboard".to_owned(),
            format!("/c/{stranger}/residents"),
            "/accounts/nothing/here".to_owned(),
        ] {
            browser.goto(&format!("{gw}{bad}")).await;
            let found: Vec<String> =
                serde_json::from_value(browser.execute(OBJECTIONS).await).expect("a list");
            let page = browser.source().await;
            if !found.is_empty() || !page.contains("lang=\"zh-CN\"") {
                objections.push(format!("{username} {bad}: {found:?}"));
            }
        }
        browser.goto(&format!("{gw}/dashboard")).await;
        sign_out_browser(&browser).await;
    }
    browser.close().await;
    platform.stop().await;
    assert!(
        objections.is_empty(),
        "{} of {pages} pages show what a person should not read:\n{}",
        objections.len(),
        objections.join("\n")
    );
}

/// A district admin works in a centre: the menu's centre sections ask which centre first
/// (they used to lead back to the district dashboard), and once in one, every section of
/// the menu and the picker stay in a centre.
#[tokio::test]
async fn a_district_admin_chooses_a_centre_and_every_section_of_the_menu_works_in_it() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let a = platform.bookable_centre("Asia/Shanghai").await;
    let b = platform.bookable_centre("Asia/Shanghai").await;
    let in_a = resident(&platform, a, "张三丰").await;
    platform
        .console_account("district-a", "district_admin", &[])
        .await;
    let gw = platform.gateway.clone();
    let shots = screenshots();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "district-a").await;
    assert!(browser.url().await.ends_with("/dashboard"));
    let charts = browser
        .execute("return document.querySelectorAll('#district-charts figure svg').length;")
        .await;
    assert_eq!(charts, json!(7), "every KPI compared across the centres");
    browser
        .screenshot(&shots.join("22-district-dashboard.png"))
        .await;

    browser
        .click_through("header nav a[href*=\"to=residents\"]")
        .await;
    assert!(
        browser.url().await.contains("/centres?to=residents"),
        "居民 asks which centre: {}",
        browser.url().await
    );
    browser
        .screenshot(&shots.join("20-district-choose-centre.png"))
        .await;
    browser
        .click_through(&format!("#centres a[href=\"/c/{a}/residents\"]"))
        .await;
    assert!(browser.url().await.ends_with(&format!("/c/{a}/residents")));
    let rows = browser.find("#residents tbody").await.text().await;
    assert!(rows.contains("张三丰"), "centre A's residents: {rows}");
    let _ = in_a;

    for (section, marker) in [
        ("bookings", "div.calendar"),
        ("volunteers", "#shifts"),
        ("finance", "#budget"),
        ("evaluation", "#suggestions"),
        ("residents", "#residents"),
        ("dashboard", "#kpis"),
    ] {
        browser
            .click_through(&format!("header nav a[href=\"/c/{a}/{section}\"]"))
            .await;
        assert!(
            browser.url().await.ends_with(&format!("/c/{a}/{section}")),
            "{section} stays in centre A: {}",
            browser.url().await
        );
        browser.find(marker).await;
    }
    // The picker moves to the same section of another centre.
    browser
        .click_through(&format!("header nav a[href=\"/c/{a}/finance\"]"))
        .await;
    browser
        .click_through(&format!("#centre-picker option[value=\"{b}\"]"))
        .await;
    assert!(
        browser.url().await.ends_with(&format!("/c/{b}/finance")),
        "the picker keeps the section: {}",
        browser.url().await
    );
    browser
        .screenshot(&shots.join("21-district-in-centre.png"))
        .await;
    browser.goto(&format!("{gw}/dashboard")).await;
    sign_out_browser(&browser).await;
    browser.close().await;
    platform.stop().await;
}

/// Types `text` into the field `css` after clearing what is there.
async fn retype(browser: &Browser, css: &str, text: &str) {
    let input = browser.find(css).await;
    input.clear().await;
    input.type_text(text).await;
}

/// Screenshots of the page the browser shows at a laptop's width and a tablet's.
async fn shots_at_both_widths(browser: &Browser, name: &str) {
    let dir = screenshots();
    browser.window_size(1366, 900).await;
    browser
        .screenshot(&dir.join(format!("{name}-1366.png")))
        .await;
    browser.window_size(1024, 900).await;
    browser
        .screenshot(&dir.join(format!("{name}-1024.png")))
        .await;
    browser.window_size(1366, 900).await;
}

/// The finance officer's writing, by clicking only: a donation (an amount that is not one
/// refused beside its field, the donor's name kept), its numbered receipt with the amount
/// in capitals; an expense (a missing amount refused, the rest kept); a month that has not
/// ended refused and the last one closed. Each checked through the API.
#[tokio::test]
async fn the_finance_officer_records_a_donation_prints_its_receipt_records_an_expense_and_closes_a_month()
 {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("finance-a", "finance_officer", &[centre])
        .await;
    let admin = platform.admin_token();
    let api = format!("/v1/centres/{centre}/finance");
    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "finance-a").await;
    browser
        .click_through(&format!("header nav a[href=\"/c/{centre}/finance\"]"))
        .await;
    shots_at_both_widths(&browser, "30-finance").await;

    // A donation, with a mistake first.
    browser.click_through("#new-donation").await;
    browser
        .find("#f-donor_name")
        .await
        .type_text("王大爷")
        .await;
    browser.find("#f-amount").await.type_text("一千五").await;
    browser.find("#f-purpose").await.type_text("助老餐桌").await;
    browser.click_through("#donation button[type=submit]").await;
    let error = browser.find("#f-amount-error").await.text().await;
    assert!(
        error.contains("金额格式不正确"),
        "beside the amount: {error}"
    );
    assert_eq!(
        browser.find("#f-donor_name").await.attribute("value").await,
        "王大爷",
        "what was typed is kept"
    );
    assert!(
        !browser.url().await.contains("/donations/new")
            || browser.source().await.contains("f-amount-error"),
    );
    shots_at_both_widths(&browser, "31-donation-error").await;
    let (_, none) = platform.get_json(&admin, &format!("{api}/donations")).await;
    assert_eq!(
        none["donations"].as_array().map(Vec::len),
        Some(0),
        "{none}"
    );
    retype(&browser, "#f-amount", "1,510").await;
    browser.click_through("#donation button[type=submit]").await;
    assert!(
        browser.url().await.contains("/receipt"),
        "the receipt follows: {}",
        browser.url().await
    );
    let (status, donations) = platform.get_json(&admin, &format!("{api}/donations")).await;
    assert_eq!(status, StatusCode::OK, "{donations}");
    let donation = &donations["donations"][0];
    assert_eq!(donation["amount_minor"], 151_000, "{donations}");
    assert_eq!(donation["donor_name"], "王大爷");
    assert_eq!(donation["purpose"], "助老餐桌");
    let number = donation["receipt"].as_str().expect("a receipt number");
    let receipt = browser.find("#receipt").await.text().await;
    for part in [
        "测试社区服务中心",
        "壹仟伍佰壹拾元整",
        "¥1,510.00",
        number,
        "王大爷",
        "助老餐桌",
    ] {
        assert!(receipt.contains(part), "{part} on the receipt: {receipt}");
    }
    let received = donation["received_on"].as_str().expect("a date");
    let (y, rest) = received.split_once('-').expect("YYYY-MM-DD");
    let (m, d) = rest.split_once('-').expect("MM-DD");
    let day = format!(
        "{y}年{}月{}日",
        m.trim_start_matches('0'),
        d.trim_start_matches('0')
    );
    assert!(receipt.contains(&day), "{day} on the receipt: {receipt}");
    shots_at_both_widths(&browser, "32-receipt").await;
    // As printed: an A5 sheet, landscape (210 × 148 mm, 794 × 559 px at 96 dpi, 8 mm
    // margins), holds the receipt alone, without the console's menu or buttons.
    browser.print_media(true).await;
    browser.window_size(794, 559).await;
    let printed: serde_json::Value = browser
        .execute(
            "const shown = s => { const e = document.querySelector(s); return !!e && e.getClientRects().length > 0; };
             return { height: document.getElementById('receipt').getBoundingClientRect().height,
                      width: document.getElementById('receipt').getBoundingClientRect().width,
                      menu: shown('header.top'), buttons: shown('#print') };",
        )
        .await;
    assert_eq!(printed["menu"], false, "{printed}");
    assert_eq!(printed["buttons"], false, "{printed}");
    let (height, width) = (
        printed["height"].as_f64().unwrap_or(f64::MAX),
        printed["width"].as_f64().unwrap_or(f64::MAX),
    );
    assert!(
        height <= 559.0 - 2.0 * 30.0 && width <= 794.0,
        "the receipt fits one A5 sheet: {printed}"
    );
    // (A taller window for the picture: headless Chromium's viewport is shorter than its
    // window, and the picture should show the whole sheet.)
    browser.window_size(794, 760).await;
    browser
        .screenshot(&screenshots().join("32-receipt-printed-a5.png"))
        .await;
    browser.print_media(false).await;
    browser.window_size(1366, 900).await;

    // An expense, with the amount forgotten first.
    browser
        .click_through(&format!("a[href=\"/c/{centre}/finance\"]"))
        .await;
    browser.click_through("#new-expense").await;
    browser
        .find("#f-category option[value=equipment_purchase]")
        .await
        .click()
        .await;
    browser
        .find("#f-description")
        .await
        .type_text("购买血压计两台")
        .await;
    browser.click_through("#expense button[type=submit]").await;
    let error = browser.find("#f-amount-error").await.text().await;
    assert!(error.contains("请填写金额"), "{error}");
    assert_eq!(
        browser
            .find("#f-description")
            .await
            .attribute("value")
            .await,
        "购买血压计两台"
    );
    let chosen: serde_json::Value = browser
        .execute("return document.getElementById('f-category').value;")
        .await;
    assert_eq!(chosen, "equipment_purchase", "the chosen category is kept");
    shots_at_both_widths(&browser, "33-expense-error").await;
    browser.find("#f-amount").await.type_text("320.50").await;
    browser.click_through("#expense button[type=submit]").await;
    assert!(
        browser
            .find(".notice")
            .await
            .text()
            .await
            .contains("已登记支出"),
        "a notice on the finance page"
    );
    let year = browser.find("#year").await.attribute("value").await;
    let (_, budget) = platform
        .get_json(&admin, &format!("{api}/budgets/{year}"))
        .await;
    let spent = budget["categories"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["category"] == "equipment_purchase"))
        .map(|c| c["actual_minor"].clone());
    assert_eq!(spent, Some(json!(32_050)), "{budget}");
    let page = browser.find("#budget").await.text().await;
    assert!(
        page.contains("设备购置") && page.contains("¥320.50"),
        "{page}"
    );
    shots_at_both_widths(&browser, "34-finance-after").await;

    // Closing: this month has not ended; last month closes once confirmed.
    browser.click_through("#periods-link").await;
    let this_month: String = serde_json::from_value(
        browser
            .execute("return document.querySelector('#f-period option').value;")
            .await,
    )
    .expect("a month");
    browser
        .find(&format!("#f-period option[value=\"{this_month}\"]"))
        .await
        .click()
        .await;
    browser
        .click_through("#close-period button[type=submit]")
        .await;
    let error = browser.find("#f-confirm-error").await.text().await;
    assert!(
        error.contains("确认"),
        "closing asks to be confirmed: {error}"
    );
    browser.find("#f-confirm").await.click().await;
    browser
        .click_through("#close-period button[type=submit]")
        .await;
    let error = browser.find("#f-period-error").await.text().await;
    assert!(error.contains("尚未结束"), "{error}");
    let kept: serde_json::Value = browser
        .execute("return [document.getElementById('f-period').value, document.getElementById('f-confirm').checked];")
        .await;
    assert_eq!(kept, json!([this_month, true]), "the choices are kept");
    shots_at_both_widths(&browser, "35-close-error").await;
    let last_month: String = serde_json::from_value(
        browser
            .execute("return document.querySelectorAll('#f-period option')[1].value;")
            .await,
    )
    .expect("a month");
    browser
        .find(&format!("#f-period option[value=\"{last_month}\"]"))
        .await
        .click()
        .await;
    browser
        .click_through("#close-period button[type=submit]")
        .await;
    assert!(
        browser
            .find(".notice")
            .await
            .text()
            .await
            .contains("已结账"),
        "{}",
        browser.source().await
    );
    let (_, periods) = platform.get_json(&admin, &format!("{api}/periods")).await;
    let closed: Vec<&str> = periods["periods"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["closed"] == true)
        .filter_map(|p| p["period"].as_str())
        .collect();
    assert_eq!(closed, [last_month.as_str()], "{periods}");
    shots_at_both_widths(&browser, "36-periods").await;

    sign_out_browser(&browser).await;
    browser.close().await;
    platform.stop().await;
}

/// An offering named `name` with one session starting `starts_in` from now (an hour long)
/// and `capacity` seats; its id, the session's and the session's day in Asia/Shanghai.
async fn session_in(
    platform: &TestPlatform,
    centre: Uuid,
    name: &str,
    capacity: i32,
    starts_in: chrono::Duration,
) -> (String, String, chrono::NaiveDate) {
    let admin = platform.admin_token();
    let (status, offering) = platform
        .post_json(
            &admin,
            &format!("/v1/centres/{centre}/offerings"),
            &json!({ "category": "culture_education", "kind": "event", "name": name, "capacity": capacity }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{offering}");
    let offering = offering["id"].as_str().expect("offering id").to_owned();
    let starts_at = Utc::now() + starts_in;
    let day = starts_at
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive();
    let (status, session) = platform
        .post_json(
            &admin,
            &format!("/v1/centres/{centre}/sessions"),
            &json!({
                "offering_id": offering,
                "starts_at": starts_at.to_rfc3339(),
                "ends_at": (starts_at + chrono::Duration::hours(1)).to_rfc3339(),
            }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    (
        offering,
        session["id"].as_str().expect("session id").to_owned(),
        day,
    )
}

/// Books `resident` on the session through the API; the booking's id.
async fn book_through_api(
    platform: &TestPlatform,
    centre: Uuid,
    offering: &str,
    session: &str,
    resident: &str,
) -> String {
    let (status, body) = platform
        .post_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/bookings"),
            &json!({ "offering_id": offering, "resident_id": resident, "session_id": session }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().expect("booking id").to_owned()
}

async fn booking_json(platform: &TestPlatform, centre: Uuid, booking: &str) -> serde_json::Value {
    let (status, body) = platform
        .get_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/bookings/{booking}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The desk's page of one resident: every booking and waitlist place, to come and past,
/// with check-in where it is open, when it opens where it is not, and cancellation asked
/// first with a reason (a missing reason said beside the field, on the form's own address).
#[tokio::test]
async fn a_residents_page_lists_every_booking_and_waitlist_place_checks_in_and_cancels_with_a_reason()
 {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("desk-r", "front_desk", &[centre])
        .await;
    let zhang = resident(&platform, centre, "张三丰").await;
    let li = resident(&platform, centre, "李四").await;
    platform
        .wait_for_residents_in_bookings(&[zhang.parse().expect("uuid"), li.parse().expect("uuid")])
        .await;
    let (reading, reading_session, _) = session_in(
        &platform,
        centre,
        "社区读书会",
        5,
        chrono::Duration::hours(1),
    )
    .await;
    let (choir, choir_session, _) = session_in(
        &platform,
        centre,
        "合唱团排练",
        5,
        chrono::Duration::hours(26),
    )
    .await;
    let (tea, tea_session, _) =
        session_in(&platform, centre, "茶话会", 1, chrono::Duration::hours(30)).await;
    let (film, film_session, _) = session_in(
        &platform,
        centre,
        "露天电影",
        5,
        chrono::Duration::hours(50),
    )
    .await;
    let reading_booking =
        book_through_api(&platform, centre, &reading, &reading_session, &zhang).await;
    let choir_booking = book_through_api(&platform, centre, &choir, &choir_session, &zhang).await;
    book_through_api(&platform, centre, &tea, &tea_session, &li).await;
    let tea_booking = book_through_api(&platform, centre, &tea, &tea_session, &zhang).await;
    let film_booking = book_through_api(&platform, centre, &film, &film_session, &zhang).await;
    let (status, body) = platform
        .post_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/bookings/{film_booking}/cancel"),
            &json!({}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "desk-r").await;
    browser
        .click_through(&format!("header nav a[href=\"/c/{centre}/residents\"]"))
        .await;
    browser.find("#q").await.type_text("zsf").await;
    browser
        .click_through("form.filters button[type=submit]")
        .await;
    browser
        .click_through(&format!("#residents a[href*=\"{zhang}\"]"))
        .await;
    let coming = browser.find("#bookings-to-come").await.text().await;
    for name in ["社区读书会", "合唱团排练", "茶话会"] {
        assert!(coming.contains(name), "{name} is to come: {coming}");
    }
    assert!(
        coming.contains("候补，排第 1"),
        "the waitlist place and its position: {coming}"
    );
    let past = browser.find("#bookings-past").await.text().await;
    assert!(
        past.contains("露天电影") && past.contains("已取消") && past.contains("居民本人取消"),
        "the cancelled booking is in the past, with why: {past}"
    );
    let choir_row = browser
        .find(&format!("tr[data-booking=\"{choir_booking}\"]"))
        .await
        .text()
        .await;
    assert!(
        choir_row.contains("签到于") && choir_row.contains("开放"),
        "tomorrow's session says when check-in opens: {choir_row}"
    );
    assert!(
        browser
            .execute(&format!(
                "return document.querySelector('tr[data-booking=\"{choir_booking}\"] button[data-check-in]') === null;"
            ))
            .await
            == serde_json::Value::Bool(true),
        "and has no check-in button"
    );
    shots_at_both_widths(&browser, "40-resident-bookings").await;

    // Check in from the resident's page: the session an hour away is open.
    browser
        .click_through(&format!(
            "tr[data-booking=\"{reading_booking}\"] button[data-check-in]"
        ))
        .await;
    assert!(browser.url().await.contains(&format!("/residents/{zhang}")));
    assert!(
        browser
            .find(".notice")
            .await
            .text()
            .await
            .contains("已签到")
    );
    let booking = booking_json(&platform, centre, &reading_booking).await;
    assert_eq!(booking["seats"][0]["state"], "attended", "{booking}");

    // Cancel tomorrow's choir: asked first; no reason is said beside the field.
    browser
        .click_through(&format!(
            "tr[data-booking=\"{choir_booking}\"] a[data-cancel]"
        ))
        .await;
    assert!(
        browser
            .find("#booking")
            .await
            .text()
            .await
            .contains("合唱团排练"),
        "the confirmation names the booking"
    );
    let form_url = browser.url().await;
    browser.click_through("#confirm-cancel").await;
    let error = browser.find("#f-reason-error").await.text().await;
    assert!(error.contains("原因"), "beside the reason: {error}");
    assert_eq!(browser.url().await, form_url, "the form's own address");
    shots_at_both_widths(&browser, "46-cancel-confirm").await;
    assert_eq!(
        booking_json(&platform, centre, &choir_booking).await["status"],
        "confirmed",
        "nothing is cancelled without a reason"
    );
    browser.find("#f-reason").await.type_text("身体不适").await;
    browser.click_through("#confirm-cancel").await;
    assert!(browser.url().await.contains(&format!("/residents/{zhang}")));
    assert!(
        browser
            .find(".notice")
            .await
            .text()
            .await
            .contains("已取消预约")
    );
    let booking = booking_json(&platform, centre, &choir_booking).await;
    assert_eq!(booking["status"], "cancelled", "{booking}");
    assert_eq!(booking["cancel_reason"], "身体不适", "{booking}");
    assert!(
        browser
            .find("#bookings-past")
            .await
            .text()
            .await
            .contains("身体不适")
    );

    // Give up the waitlist place the same way.
    browser
        .click_through(&format!(
            "tr[data-booking=\"{tea_booking}\"] a[data-cancel]"
        ))
        .await;
    browser.find("#f-reason").await.type_text("时间冲突").await;
    browser.click_through("#confirm-cancel").await;
    assert!(
        browser
            .find(".notice")
            .await
            .text()
            .await
            .contains("已移出候补")
    );
    assert_eq!(
        booking_json(&platform, centre, &tea_booking).await["status"],
        "cancelled"
    );
    browser.close().await;
    platform.stop().await;
}

/// The waitlist at the desk: someone is removed from it (asked first, with a reason), and
/// when a seat is cancelled the notice names who the waitlist gave it to; both checked
/// through the API.
#[tokio::test]
async fn the_desk_removes_someone_from_a_waitlist_and_a_cancellation_names_who_was_promoted() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("desk-w", "front_desk", &[centre])
        .await;
    let wang = resident(&platform, centre, "王五").await;
    let li = resident(&platform, centre, "李四").await;
    let zhao = resident(&platform, centre, "赵六").await;
    platform
        .wait_for_residents_in_bookings(&[
            wang.parse().expect("uuid"),
            li.parse().expect("uuid"),
            zhao.parse().expect("uuid"),
        ])
        .await;
    let (offering, session, day) =
        session_in(&platform, centre, "太极拳", 1, chrono::Duration::hours(1)).await;
    let wang_booking = book_through_api(&platform, centre, &offering, &session, &wang).await;
    let li_booking = book_through_api(&platform, centre, &offering, &session, &li).await;
    let zhao_booking = book_through_api(&platform, centre, &offering, &session, &zhao).await;

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "desk-w").await;
    browser
        .goto(&format!("{gw}/c/{centre}/bookings?day={day}"))
        .await;
    browser
        .click_through(&format!("a[href*=\"/sessions/{session}\"]"))
        .await;
    let waiting = browser.find("#waitlist").await.text().await;
    assert!(
        waiting.find("李四") < waiting.find("赵六") && waiting.contains("赵六"),
        "李四 waits before 赵六: {waiting}"
    );

    browser.click_through("a[data-remove=\"赵六\"]").await;
    assert!(browser.find("#who").await.text().await.contains("赵六"));
    browser
        .find("#f-reason")
        .await
        .type_text("本人不再需要")
        .await;
    browser.click_through("#confirm-cancel").await;
    assert!(
        browser
            .url()
            .await
            .contains(&format!("/sessions/{session}")),
        "back on the roster: {}",
        browser.url().await
    );
    assert!(
        browser
            .find(".notice")
            .await
            .text()
            .await
            .contains("已移出候补名单")
    );
    assert!(
        !browser
            .find("#waitlist")
            .await
            .text()
            .await
            .contains("赵六")
    );
    let zhao_now = booking_json(&platform, centre, &zhao_booking).await;
    assert_eq!(zhao_now["status"], "cancelled", "{zhao_now}");
    assert_eq!(zhao_now["cancel_reason"], "本人不再需要");

    browser.click_through("a[data-cancel=\"王五\"]").await;
    browser.find("#f-reason").await.type_text("家中有事").await;
    browser.click_through("#confirm-cancel").await;
    let notice = browser.find(".notice").await.text().await;
    assert!(
        notice.contains("已取消预约") && notice.contains("李四"),
        "the notice names who took the seat: {notice}"
    );
    assert_eq!(
        booking_json(&platform, centre, &wang_booking).await["status"],
        "cancelled"
    );
    assert_eq!(
        booking_json(&platform, centre, &li_booking).await["status"],
        "confirmed",
        "李四 was promoted"
    );
    assert!(
        browser
            .find("#attendees")
            .await
            .text()
            .await
            .contains("李四")
    );
    browser
        .screenshot(&screenshots().join("41-waitlist-promoted.png"))
        .await;
    browser.close().await;
    platform.stop().await;
}

/// A session's roster: every name shown (asked of the registry in one call), in pinyin
/// order, found by characters, pinyin or initials; a large check-in toggle per row and
/// cancellation a separate action; pictures at 1366 and 1024 px.
#[tokio::test]
async fn a_sessions_roster_is_in_pinyin_order_searchable_by_name_or_pinyin_with_a_large_check_in() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("desk-s", "front_desk", &[centre])
        .await;
    // Registered in no order; read in pinyin order an, chen, li, liu, sun, wang, zhang, zhao.
    let names = [
        "张三丰",
        "李四",
        "赵六",
        "安大妈",
        "王五",
        "孙丽",
        "陈小红",
        "刘洋",
    ];
    let mut ids = Vec::new();
    for name in names {
        ids.push(resident(&platform, centre, name).await);
    }
    let uuids: Vec<Uuid> = ids.iter().map(|id| id.parse().expect("uuid")).collect();
    platform.wait_for_residents_in_bookings(&uuids).await;
    let (offering, session, day) = session_in(
        &platform,
        centre,
        "健康讲座",
        20,
        chrono::Duration::hours(1),
    )
    .await;
    let mut bookings = Vec::new();
    for id in &ids {
        bookings.push(book_through_api(&platform, centre, &offering, &session, id).await);
    }

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "desk-s").await;
    browser
        .goto(&format!("{gw}/c/{centre}/bookings?day={day}"))
        .await;
    browser
        .click_through(&format!("a[href*=\"/sessions/{session}\"]"))
        .await;
    let shown = browser
        .execute("return [...document.querySelectorAll('#attendees tbody td.name')].map(td => td.textContent.trim());")
        .await;
    assert_eq!(
        shown,
        json!([
            "安大妈",
            "陈小红",
            "李四",
            "刘洋",
            "孙丽",
            "王五",
            "张三丰",
            "赵六"
        ]),
        "every name, in pinyin order"
    );
    let toggles = browser
        .execute(
            "return document.querySelectorAll('#attendees button.toggle[data-check-in]').length;",
        )
        .await;
    assert_eq!(toggles, json!(8), "a check-in toggle on every row");
    let height = browser
        .execute("return document.querySelector('#attendees button.toggle').getBoundingClientRect().height;")
        .await
        .as_f64()
        .expect("a height");
    assert!(height >= 44.0, "a large target: {height} px");
    let cancel_is_a_form = browser
        .execute("return document.querySelector('#attendees form[action$=\"/cancel\"]') !== null;")
        .await;
    assert_eq!(
        cancel_is_a_form,
        json!(false),
        "cancelling is a separate, confirmed step"
    );
    shots_at_both_widths(&browser, "42-roster").await;

    for (typed, expect) in [("zs", "张三丰"), ("liu", "刘洋"), ("李", "李四")] {
        retype(&browser, "#find", typed).await;
        browser
            .click_through("#roster form[role=search] button")
            .await;
        let shown = browser
            .execute("return [...document.querySelectorAll('#attendees tbody td.name')].map(td => td.textContent.trim());")
            .await;
        assert_eq!(shown, json!([expect]), "{typed} finds {expect}");
        assert_eq!(
            browser.find("#find").await.attribute("value").await,
            typed,
            "what was typed is kept"
        );
    }
    shots_at_both_widths(&browser, "43-roster-found").await;

    browser
        .click_through("button[data-check-in=\"李四\"]")
        .await;
    assert!(
        browser
            .find(".notice")
            .await
            .text()
            .await
            .contains("已签到")
    );
    let row = browser
        .find("#attendees tr[data-seat=attended]")
        .await
        .text()
        .await;
    assert!(row.contains("李四") && row.contains("已签到"), "{row}");
    assert_eq!(
        booking_json(&platform, centre, &bookings[1]).await["seats"][0]["state"],
        "attended"
    );
    browser.close().await;
    platform.stop().await;
}

/// Check-in only while it is open: a session five hours away shows no 签到 button but
/// the day and time (in the centre's zone) it opens, two hours before the start.
#[tokio::test]
async fn the_check_in_button_appears_only_when_check_in_is_open_otherwise_the_page_says_when() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    use chrono::{Datelike, Timelike};
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("desk-c", "front_desk", &[centre])
        .await;
    let zhang = resident(&platform, centre, "张三丰").await;
    platform
        .wait_for_residents_in_bookings(&[zhang.parse().expect("uuid")])
        .await;
    let later = chrono::Duration::hours(5);
    let (offering, session, day) = session_in(&platform, centre, "书法课", 5, later).await;
    let booking = book_through_api(&platform, centre, &offering, &session, &zhang).await;
    let (_, body) = platform
        .get_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/bookings/{booking}"),
        )
        .await;
    let starts: chrono::DateTime<Utc> = body["seats"][0]["starts_at"]
        .as_str()
        .expect("starts_at")
        .parse()
        .expect("a time");
    let opens = (starts - chrono::Duration::hours(2))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"));
    let weekday = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
        [opens.weekday().num_days_from_monday() as usize];
    let expected = format!(
        "签到于 {}月{}日（{weekday}）{:02}:{:02} 开放",
        opens.month(),
        opens.day(),
        opens.hour(),
        opens.minute()
    );

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "desk-c").await;
    browser
        .goto(&format!("{gw}/c/{centre}/sessions/{session}?on={day}"))
        .await;
    let row = browser.find("#attendees tbody tr").await.text().await;
    assert!(row.contains(&expected), "{expected} in {row}");
    assert_eq!(
        browser
            .execute("return document.querySelectorAll('button[data-check-in]').length;")
            .await,
        json!(0),
        "no 签到 button before it opens"
    );
    browser
        .screenshot(&screenshots().join("44-check-in-not-yet.png"))
        .await;
    browser.close().await;
    platform.stop().await;
}

/// The room grid (活动室预约): rooms by the hour for a day in the centre's zone; a taken
/// hour names who holds it; a free hour, clicked, reserves the room for a resident found
/// by initials (a group without a purpose refused beside the field first, what was chosen
/// kept). Checked through the API; pictures at 1366 and 1024 px.
#[tokio::test]
async fn the_room_grid_shows_who_holds_each_hour_and_a_free_hour_is_reserved_for_a_resident() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("desk-g", "front_desk", &[centre])
        .await;
    let zhang = resident(&platform, centre, "张三丰").await;
    let li = resident(&platform, centre, "李四").await;
    platform
        .wait_for_residents_in_bookings(&[zhang.parse().expect("uuid"), li.parse().expect("uuid")])
        .await;
    let admin = platform.admin_token();
    let mut rooms = Vec::new();
    for name in ["多功能活动室", "书画室"] {
        let (status, body) = platform
            .post_json(
                &admin,
                &format!("/v1/centres/{centre}/facilities"),
                &json!({ "name": name, "kind": "room", "opens": "08:00", "closes": "21:00", "open_days": [1, 2, 3, 4, 5, 6, 7] }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let room = body["id"].as_str().expect("room id").to_owned();
        let (status, body) = platform
            .post_json(
                &admin,
                &format!("/v1/centres/{centre}/offerings"),
                &json!({ "category": "facilities", "kind": "facility", "name": format!("{name}预约"), "facility_id": room }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        rooms.push((room, body["id"].as_str().expect("offering id").to_owned()));
    }
    // Tomorrow in the centre's zone, so no hour of it has passed.
    let tomorrow = (Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive())
        + chrono::Duration::days(1);
    let (status, body) = platform
        .post_json(
            &admin,
            &format!("/v1/centres/{centre}/bookings"),
            &json!({
                "offering_id": rooms[0].1, "resident_id": li,
                "starts_at": format!("{tomorrow}T10:00:00+08:00"), "ends_at": format!("{tomorrow}T12:00:00+08:00"),
            }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "desk-g").await;
    browser
        .click_through(&format!("header nav a[href=\"/c/{centre}/bookings\"]"))
        .await;
    browser.click_through("#rooms-link").await;
    browser.click_through("#next-day").await;
    let taken = browser
        .find("tr[data-room=\"多功能活动室\"] td.taken[data-hour=\"10\"]")
        .await;
    let words = |text: String| text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(
        words(taken.text().await),
        "李四 10:00–12:00",
        "the taken hours name who holds them"
    );
    assert_eq!(
        taken.attribute("colspan").await,
        "2",
        "10:00–12:00 is one cell"
    );
    shots_at_both_widths(&browser, "45-room-grid").await;

    browser
        .click_through("tr[data-room=\"多功能活动室\"] td.free[data-hour=\"14\"] a")
        .await;
    assert_eq!(browser.find("#room").await.text().await, "多功能活动室");
    browser.find("#q").await.type_text("zsf").await;
    browser.click_through("form[role=search] button").await;
    browser
        .find("select#f-hours option[value=\"2\"]")
        .await
        .click()
        .await;
    // No resident chosen and no purpose: refused beside the purpose.
    browser.click_through("#confirm-reserve").await;
    let error = browser.find("#f-note-error").await.text().await;
    assert!(error.contains("用途"), "beside the purpose: {error}");
    shots_at_both_widths(&browser, "47-room-reserve").await;
    assert!(
        browser.url().await.contains("/rooms/reserve?facility="),
        "the form's own address: {}",
        browser.url().await
    );
    browser
        .find("input[data-resident=\"张三丰\"]")
        .await
        .click()
        .await;
    browser.find("#f-note").await.type_text("书法练习").await;
    browser.click_through("#confirm-reserve").await;
    assert!(
        browser
            .find(".notice")
            .await
            .text()
            .await
            .contains("已预约")
    );
    let held = browser
        .find("tr[data-room=\"多功能活动室\"] td.taken[data-hour=\"14\"]")
        .await;
    assert_eq!(words(held.text().await), "张三丰 14:00–16:00");
    assert_eq!(held.attribute("colspan").await, "2");

    let (status, body) = platform
        .get_json(
            &admin,
            &format!(
                "/v1/centres/{centre}/bookings?resident_id={zhang}&offering_id={}",
                rooms[0].1
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let booking = &body["bookings"][0];
    let starts: chrono::DateTime<Utc> = booking["starts_at"]
        .as_str()
        .expect("starts_at")
        .parse()
        .expect("a time");
    let ends: chrono::DateTime<Utc> = booking["ends_at"]
        .as_str()
        .expect("ends_at")
        .parse()
        .expect("a time");
    assert_eq!(
        starts,
        format!("{tomorrow}T14:00:00+08:00")
            .parse::<chrono::DateTime<Utc>>()
            .expect("a time"),
        "{booking}"
    );
    assert_eq!(ends - starts, chrono::Duration::hours(2), "{booking}");
    assert_eq!(booking["note"], "书法练习");
    browser.close().await;
    platform.stop().await;
}

/// The text of the error span with `id`, or a panic showing the page.
fn error_beside(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} on the page: {html}"));
    let text = &html[at..];
    let start = text.find('>').map(|i| i + 1).unwrap_or_default();
    text[start..]
        .split("</span>")
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The services' refusals reach the desk in Chinese beside what they are about, by their
/// codes (never the service's English), and the page comes back as the desk left it: a
/// resident too young for an offering (beside that resident, the search still typed), and
/// a national ID whose check character is wrong (beside the field, every value typed kept).
#[tokio::test]
async fn a_services_refusal_is_said_in_chinese_beside_its_field_with_what_was_typed_kept() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("desk-refusals", "front_desk", &[centre])
        .await;
    let admin = platform.admin_token();
    let (status, young) = platform
        .post_json(
            &admin,
            &format!("/v1/centres/{centre}/residents"),
            &json!({ "name": "周小明", "gender": "male", "date_of_birth": "1990-06-01" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{young}");
    let young = young["id"].as_str().expect("resident id").to_owned();
    platform
        .wait_for_residents_in_bookings(&[young.parse().expect("uuid")])
        .await;
    let (status, offering) = platform
        .post_json(
            &admin,
            &format!("/v1/centres/{centre}/offerings"),
            &json!({ "category": "elderly_care", "kind": "event", "name": "重阳节联欢", "capacity": 20, "min_age": 60 }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{offering}");
    // In three days, on its day at the centre (UTC+8).
    let starts = Utc::now() + chrono::Duration::days(3);
    let on = starts
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive()
        .to_string();
    let (status, session) = platform
        .post_json(
            &admin,
            &format!("/v1/centres/{centre}/sessions"),
            &json!({ "offering_id": offering["id"], "starts_at": starts.to_rfc3339(), "ends_at": (starts + chrono::Duration::hours(2)).to_rfc3339() }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let session = session["id"].as_str().expect("session id").to_owned();

    let mut desk = Desk::new(&platform);
    assert_eq!(
        desk.sign_in("desk-refusals", PASSWORD).await.0,
        StatusCode::SEE_OTHER
    );
    let page = format!("/c/{centre}/sessions/{session}?on={on}&q=zxm");
    let csrf = desk.csrf(&page).await;
    let (status, _, html) = desk
        .post(
            &format!("/c/{centre}/sessions/{session}/bookings"),
            &[
                ("csrf", &csrf),
                ("resident_id", &young),
                ("on", &on),
                ("q", "zxm"),
            ],
        )
        .await;
    assert!(status.is_client_error(), "{status}: {html}");
    assert_eq!(
        error_beside(&html, "f-resident_id-error"),
        "不符合参加条件：本项目限 60 岁及以上居民参加"
    );
    // Beside the resident it is about: inside the row that books them.
    let row = html
        .split("<li>")
        .find(|li| li.contains("f-resident_id-error"))
        .expect("the error sits in a resident's row");
    assert!(
        row.contains(&format!("value=\"{young}\"")) && row.contains("周小明"),
        "{row}"
    );
    assert!(
        html.contains("name=\"q\" value=\"zxm\""),
        "the search stays typed"
    );
    assert!(!html.contains("not eligible"), "no English: {html}");

    let new_resident = format!("/c/{centre}/residents/new");
    let (status, _, html) = desk
        .post(
            &new_resident,
            &[
                ("csrf", &csrf),
                ("name", "赵强"),
                ("gender", "male"),
                ("date_of_birth", "1949-12-31"),
                ("phone", "13812345678"),
                ("national_id", "110105194912310021"),
                ("building", "3号楼"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    assert_eq!(
        error_beside(&html, "f-national_id-error"),
        "身份证号校验位不正确，请再核对一遍号码"
    );
    for kept in [
        "value=\"赵强\"",
        "value=\"1949-12-31\"",
        "value=\"13812345678\"",
        "value=\"110105194912310021\"",
    ] {
        assert!(html.contains(kept), "{kept} is kept: {html}");
    }
    assert!(!html.contains("check character"), "no English: {html}");

    // The same by clicking, as the desk sees it.
    let browser = Browser::start().await;
    sign_in_browser(&browser, &platform.gateway, "desk-refusals").await;
    browser.goto(&format!("{}{page}", platform.gateway)).await;
    browser.click_through("button[data-book]").await;
    let beside = browser.find("#f-resident_id-error").await.text().await;
    assert_eq!(beside, "不符合参加条件：本项目限 60 岁及以上居民参加");
    assert_eq!(browser.find("#q").await.attribute("value").await, "zxm");
    shots_at_both_widths(&browser, "refusal-ineligible").await;
    browser
        .goto(&format!("{}{new_resident}", platform.gateway))
        .await;
    retype(&browser, "#f-name", "赵强").await;
    retype(&browser, "#f-national_id", "110105194912310021").await;
    // A date input and a radio button, set as a person's picking would leave them.
    browser
        .execute(
            "document.querySelector('#f-date_of_birth').value = '1949-12-31';
             document.querySelector('[name=gender][value=male]').checked = true;",
        )
        .await;
    browser.click_through("main form button[type=submit]").await;
    assert_eq!(
        browser.find("#f-national_id-error").await.text().await,
        "身份证号校验位不正确，请再核对一遍号码"
    );
    assert_eq!(
        browser
            .find("#f-national_id")
            .await
            .attribute("value")
            .await,
        "110105194912310021"
    );
    shots_at_both_widths(&browser, "refusal-national-id").await;
    browser.close().await;
    platform.stop().await;
}

/// The coordinator's day on the volunteers pages, by clicking only: 指派 on a shift's
/// suggestion signs the volunteer up; one who took an overlapping shift meanwhile is refused
/// in Chinese beside their row, on the page's own address; hours typed as "abc" are refused
/// beside the field with the note kept, then 1.5 hours are logged as 90 minutes; hours
/// another logged are verified with a notice. Each checked through the API.
#[tokio::test]
async fn the_coordinator_assigns_from_the_suggestions_logs_hours_and_verifies_them() {
    use chrono::Datelike;
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.volunteering_centre("Asia/Shanghai").await;
    platform
        .console_account("coord-a", "coordinator", &[centre])
        .await;
    let base = format!("/v1/centres/{centre}");
    let mut volunteers = Vec::new();
    // 王芳 was registered (as the demo seeds do) under a placeholder: pages use her name.
    for (name, display) in [("王芳", "志愿者007"), ("刘洋", "刘洋"), ("阿丽", "阿丽")]
    {
        let resident = resident(&platform, centre, name).await;
        platform
            .wait_for_residents_in_volunteers(&[resident.parse().expect("uuid")])
            .await;
        let body = created(
            &platform,
            &format!("{base}/volunteers"),
            json!({ "resident_id": resident, "display_name": display, "skills": ["cooking"] }),
        )
        .await;
        volunteers.push(body["id"].as_str().expect("volunteer id").to_owned());
    }
    let (wang, liu) = (volunteers[0].clone(), volunteers[1].clone());
    let opportunity = created(
        &platform,
        &format!("{base}/opportunities"),
        json!({ "title": "助餐点帮厨", "location": "一楼食堂" }),
    )
    .await["id"]
        .as_str()
        .expect("opportunity id")
        .to_owned();
    let today = Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive();
    let day = today + chrono::Duration::days(1);
    let shift = |from: &str, to: &str| {
        json!({ "opportunity_id": opportunity, "capacity": 2,
            "starts_at": format!("{day}T{from}:00+08:00"), "ends_at": format!("{day}T{to}:00+08:00") })
    };
    let kitchen = created(
        &platform,
        &format!("{base}/shifts"),
        shift("09:00", "11:00"),
    )
    .await;
    let kitchen = kitchen["id"].as_str().expect("shift id").to_owned();
    let other = created(
        &platform,
        &format!("{base}/shifts"),
        shift("10:00", "12:00"),
    )
    .await;
    let other = other["id"].as_str().expect("shift id").to_owned();

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "coord-a").await;
    browser
        .click_through(&format!("header nav a[href=\"/c/{centre}/volunteers\"]"))
        .await;
    let matches = format!("/c/{centre}/volunteers/shifts/{kitchen}");
    if today.weekday() == chrono::Weekday::Sun {
        // Tomorrow is next week's: the week page does not list it.
        browser.goto(&format!("{gw}{matches}")).await;
    } else {
        browser
            .click_through(&format!("#shifts a[href=\"{matches}\"]"))
            .await;
    }
    browser.find("tr[data-volunteer=\"王芳\"]").await;
    assert!(
        !browser.source().await.contains("志愿者007"),
        "volunteers are shown by name"
    );
    // Meanwhile 刘洋 takes the overlapping shift: 指派 is refused beside his row.
    let (status, body) = platform
        .post_json(
            &platform.admin_token(),
            &format!("{base}/shifts/{other}/sign-ups"),
            &json!({ "volunteer_id": liu }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    browser
        .click_through("tr[data-volunteer=\"刘洋\"] button[type=submit]")
        .await;
    let refusal = browser
        .find("tr[data-volunteer=\"刘洋\"] .error")
        .await
        .text()
        .await;
    assert!(refusal.contains("重叠"), "said beside the row: {refusal}");
    assert!(
        browser.url().await.ends_with(&matches),
        "the page's own address after a refusal: {}",
        browser.url().await
    );
    shots_at_both_widths(&browser, "50-volunteer-matches-refused").await;
    browser
        .click_through("tr[data-volunteer=\"王芳\"] button[type=submit]")
        .await;
    let said = browser.find(".notice").await.text().await;
    assert!(said.contains("已指派 王芳"), "{said}");
    let (status, body) = platform
        .get_json(
            &platform.admin_token(),
            &format!(
                "{base}/shifts?opportunity_id={opportunity}&from={}&to={}",
                urlencode_time(day, "00:00"),
                urlencode_time(day, "23:59")
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let kitchen_now = body["shifts"]
        .as_array()
        .expect("shifts")
        .iter()
        .find(|s| s["id"] == kitchen.as_str())
        .expect("the shift listed")
        .clone();
    assert_eq!(kitchen_now["signed_up"], 1, "{kitchen_now}");

    // Hours: a bad figure is refused beside the field, the note kept; then 1.5 hours.
    browser
        .click_through(&format!("a[href=\"/c/{centre}/volunteers\"]"))
        .await;
    browser
        .find(&format!("#f-volunteer_id option[value=\"{wang}\"]"))
        .await
        .click()
        .await;
    browser.find("#f-hours").await.type_text("abc").await;
    browser.find("#f-note").await.type_text("帮厨备餐").await;
    browser.click_through("#log-hours-submit").await;
    let error = browser.find("#f-hours-error").await.text().await;
    assert!(error.contains("小时"), "beside the hours: {error}");
    assert_eq!(
        browser.find("#f-note").await.attribute("value").await,
        "帮厨备餐"
    );
    assert!(
        browser
            .url()
            .await
            .ends_with(&format!("/c/{centre}/volunteers#log-hours")),
        "{}",
        browser.url().await
    );
    shots_at_both_widths(&browser, "51-volunteer-hours-refused").await;
    let roster = browser.find("#volunteers").await.text().await;
    let roster: Vec<&str> = roster.split_whitespace().collect();
    assert_eq!(
        roster,
        ["阿丽", "刘洋", "王芳"],
        "the roster in pinyin order"
    );
    assert!(
        !browser.source().await.contains("志愿者007"),
        "volunteers are shown by name"
    );
    retype(&browser, "#f-hours", "1.5").await;
    browser.click_through("#log-hours-submit").await;
    let said = browser.find(".notice").await.text().await;
    assert!(said.contains("已登记"), "{said}");
    let (status, body) = platform
        .get_json(
            &platform.admin_token(),
            &format!("{base}/hours?volunteer_id={wang}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["entries"][0]["minutes"], 90, "{body}");
    assert_eq!(body["entries"][0]["status"], "pending", "{body}");
    assert_eq!(body["entries"][0]["note"], "帮厨备餐", "{body}");

    // Hours the desk logged for 刘洋 are verified here.
    let entry = created(
        &platform,
        &format!("{base}/hours"),
        json!({ "volunteer_id": liu, "worked_on": today.to_string(), "minutes": 120 }),
    )
    .await;
    let entry = entry["id"].as_str().expect("entry id").to_owned();
    browser
        .click_through(&format!("a[href=\"/c/{centre}/volunteers\"]"))
        .await;
    browser
        .click_through("#pending-hours tr[data-volunteer=\"刘洋\"] button[value=\"true\"]")
        .await;
    let said = browser.find(".notice").await.text().await;
    assert!(said.contains("已核实"), "{said}");
    let (status, body) = platform
        .get_json(
            &platform.admin_token(),
            &format!("{base}/hours?volunteer_id={liu}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let verified = body["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["id"] == entry.as_str())
        .expect("the entry")
        .clone();
    assert_eq!(verified["status"], "verified", "{verified}");

    // A rejection asks why: none is refused beside the reason; 王芳's hours, logged by this
    // coordinator, are refused by the service (someone else verifies), the reason kept.
    browser
        .click_through("#pending-hours tr[data-volunteer=\"王芳\"] a.button")
        .await;
    browser.click_through("#confirm-reject").await;
    let error = browser.find("#f-reason-error").await.text().await;
    assert!(error.contains("原因"), "beside the reason: {error}");
    browser.find("#f-reason").await.type_text("日期填错").await;
    browser.click_through("#confirm-reject").await;
    let error = browser
        .find("#f-reason-error, .error.general")
        .await
        .text()
        .await;
    assert!(
        error.contains("登记"),
        "the service's refusal in Chinese: {error}"
    );
    assert_eq!(browser.find("#f-reason").await.text().await, "日期填错");
    assert!(
        browser.url().await.ends_with("/reject"),
        "the page's own address: {}",
        browser.url().await
    );
    shots_at_both_widths(&browser, "56-volunteer-hours-reject-refused").await;
    let entry = created(
        &platform,
        &format!("{base}/hours"),
        json!({ "volunteer_id": liu, "worked_on": today.to_string(), "minutes": 60 }),
    )
    .await;
    let entry = entry["id"].as_str().expect("entry id").to_owned();
    browser
        .click_through(&format!("a[href=\"/c/{centre}/volunteers\"]"))
        .await;
    browser
        .click_through("#pending-hours tr[data-volunteer=\"刘洋\"] a.button")
        .await;
    browser
        .find("#f-reason")
        .await
        .type_text("当天未到岗")
        .await;
    browser.click_through("#confirm-reject").await;
    let said = browser.find(".notice").await.text().await;
    assert!(said.contains("已驳回"), "{said}");
    let (status, body) = platform
        .get_json(
            &platform.admin_token(),
            &format!("{base}/hours?volunteer_id={liu}&status=rejected"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["entries"][0]["id"], entry.as_str(), "{body}");
    assert_eq!(
        body["entries"][0]["rejection_reason"], "当天未到岗",
        "{body}"
    );
    browser.close().await;
    platform.stop().await;
}

/// A time on `day` in UTC+8, written for a query string.
fn urlencode_time(day: chrono::NaiveDate, at: &str) -> String {
    format!("{day}T{at}:00%2B08:00")
}

/// The coordinator registers a volunteer by clicking only: the resident found by pinyin
/// initials, skills ticked by their Chinese words, a weekly window chosen from half hours;
/// a half-filled window is refused beside its row with the resident, skills and other row
/// kept, on the form's own address. Then the skills and window are edited on the profile.
/// Each checked through the API.
#[tokio::test]
async fn the_coordinator_registers_a_resident_found_by_pinyin_and_edits_skills_and_availability() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.volunteering_centre("Asia/Shanghai").await;
    platform
        .console_account("coord-b", "coordinator", &[centre])
        .await;
    let zhao = resident(&platform, centre, "赵丽华").await;
    platform
        .wait_for_residents_in_volunteers(&[zhao.parse().expect("uuid")])
        .await;
    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "coord-b").await;
    browser
        .click_through(&format!("header nav a[href=\"/c/{centre}/volunteers\"]"))
        .await;
    browser.click_through("#register-volunteer").await;
    browser.find("#q").await.type_text("zlh").await;
    browser.click_through("form[role=search] button").await;
    browser
        .find("input[data-resident=\"赵丽华\"]")
        .await
        .click()
        .await;
    browser
        .find("#skills input[value=\"cooking\"]")
        .await
        .click()
        .await;
    let pick = |select: &'static str, value: &'static str| {
        let browser = &browser;
        async move {
            browser
                .find(&format!("select[name={select}] option[value=\"{value}\"]"))
                .await
                .click()
                .await;
        }
    };
    pick("day0", "2").await;
    pick("from0", "09:00").await;
    pick("to0", "11:30").await;
    // A second window with a day and no times.
    pick("day1", "5").await;
    browser.click_through("#register").await;
    let error = browser
        .find("div[data-window=\"1\"] .error")
        .await
        .text()
        .await;
    assert!(error.contains("开始"), "beside the row: {error}");
    assert_eq!(
        browser
            .find("input[data-resident=\"赵丽华\"]")
            .await
            .attribute("checked")
            .await,
        "true",
        "the resident stays chosen"
    );
    assert_eq!(
        browser
            .find("#skills input[value=\"cooking\"]")
            .await
            .attribute("checked")
            .await,
        "true"
    );
    assert_eq!(
        browser
            .find("select[name=to0] option[value=\"11:30\"]")
            .await
            .attribute("selected")
            .await,
        "true"
    );
    assert!(
        browser.url().await.ends_with("/volunteers/new?q=zlh"),
        "the form's own address: {}",
        browser.url().await
    );
    shots_at_both_widths(&browser, "52-volunteer-register-refused").await;
    pick("day1", "").await;
    browser.click_through("#register").await;
    let said = browser.find(".notice").await.text().await;
    assert!(said.contains("已登记为志愿者"), "{said}");
    assert_eq!(browser.find("#volunteer-name").await.text().await, "赵丽华");
    let registered = || async {
        let (status, body) = platform
            .get_json(
                &platform.admin_token(),
                &format!("/v1/centres/{centre}/volunteers"),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["volunteers"]
            .as_array()
            .expect("volunteers")
            .iter()
            .find(|v| v["resident_id"] == zhao.as_str())
            .expect("the resident is a volunteer")
            .clone()
    };
    let volunteer = registered().await;
    assert_eq!(volunteer["display_name"], "赵丽华", "{volunteer}");
    assert_eq!(volunteer["skills"], json!(["cooking"]), "{volunteer}");
    assert_eq!(
        volunteer["availability"],
        json!([{ "weekday": 2, "starts": "09:00", "ends": "11:30" }]),
        "{volunteer}"
    );

    browser
        .find("#skills input[value=\"cooking\"]")
        .await
        .click()
        .await;
    browser
        .find("#skills input[value=\"reading\"]")
        .await
        .click()
        .await;
    pick("to0", "12:00").await;
    browser.click_through("#save-profile").await;
    let said = browser.find(".notice").await.text().await;
    assert!(said.contains("已保存"), "{said}");
    shots_at_both_widths(&browser, "53-volunteer-profile").await;
    let volunteer = registered().await;
    assert_eq!(volunteer["skills"], json!(["reading"]), "{volunteer}");
    assert_eq!(
        volunteer["availability"],
        json!([{ "weekday": 2, "starts": "09:00", "ends": "12:00" }]),
        "{volunteer}"
    );
    browser.close().await;
    platform.stop().await;
}

/// The coordinator creates an opportunity (skills and a certification ticked by their
/// Chinese words) and a shift of it, by clicking only: times the wrong way round are
/// refused beside the time with the places typed kept, on the page's own address. Each
/// checked through the API.
#[tokio::test]
async fn the_coordinator_creates_an_opportunity_and_its_shift() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.volunteering_centre("Asia/Shanghai").await;
    platform
        .console_account("coord-c", "coordinator", &[centre])
        .await;
    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "coord-c").await;
    browser
        .click_through(&format!("header nav a[href=\"/c/{centre}/volunteers\"]"))
        .await;
    browser.click_through("#opportunities-link").await;
    browser.find("#f-title").await.type_text("长者助浴").await;
    browser
        .find("#f-opportunity_location")
        .await
        .type_text("二楼护理间")
        .await;
    browser
        .find("#required-skills input[value=\"elderly_care\"]")
        .await
        .click()
        .await;
    browser
        .find("#required-certifications input[value=\"first_aid\"]")
        .await
        .click()
        .await;
    browser.click_through("#create-opportunity").await;
    let said = browser.find(".notice").await.text().await;
    assert!(said.contains("已新建岗位"), "{said}");
    let row = browser
        .find("tr[data-opportunity=\"长者助浴\"]")
        .await
        .text()
        .await;
    assert!(
        row.contains("照护老人") && row.contains("急救证"),
        "skills and certifications in words: {row}"
    );
    let (status, body) = platform
        .get_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/opportunities"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let opportunity = body["opportunities"][0].clone();
    assert_eq!(opportunity["title"], "长者助浴", "{body}");
    assert_eq!(opportunity["location"], "二楼护理间", "{body}");
    assert_eq!(opportunity["required_skills"], json!(["elderly_care"]));
    assert_eq!(opportunity["required_certifications"], json!(["first_aid"]));
    let id = opportunity["id"]
        .as_str()
        .expect("opportunity id")
        .to_owned();

    let pick = |css: String| {
        let browser = &browser;
        async move { browser.find(&css).await.click().await }
    };
    pick(format!("#f-opportunity_id option[value=\"{id}\"]")).await;
    pick("#f-from option[value=\"10:00\"]".into()).await;
    pick("#f-to option[value=\"09:00\"]".into()).await;
    retype(&browser, "#f-capacity", "3").await;
    browser.click_through("#add-shift").await;
    let error = browser.find("#f-time-error").await.text().await;
    assert!(error.contains("晚于"), "beside the time: {error}");
    assert_eq!(
        browser.find("#f-capacity").await.attribute("value").await,
        "3"
    );
    assert!(
        browser
            .url()
            .await
            .ends_with(&format!("/c/{centre}/volunteers/opportunities")),
        "{}",
        browser.url().await
    );
    shots_at_both_widths(&browser, "54-volunteer-shift-refused").await;
    pick("#f-to option[value=\"11:30\"]".into()).await;
    browser.click_through("#add-shift").await;
    let said = browser.find(".notice").await.text().await;
    assert!(said.contains("已添加班次"), "{said}");
    let tomorrow = Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive()
        + chrono::Duration::days(1);
    let (status, body) = platform
        .get_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/shifts?opportunity_id={id}"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let shift = body["shifts"][0].clone();
    let time = |field: &str| {
        shift[field]
            .as_str()
            .expect("a time")
            .parse::<chrono::DateTime<Utc>>()
            .expect("RFC 3339")
    };
    let expected = |at: &str| {
        format!("{tomorrow}T{at}:00+08:00")
            .parse::<chrono::DateTime<Utc>>()
            .expect("RFC 3339")
    };
    assert_eq!(time("starts_at"), expected("10:00"), "{shift}");
    assert_eq!(time("ends_at"), expected("11:30"), "{shift}");
    assert_eq!(shift["capacity"], 3, "{shift}");
    assert_eq!(shift["location"], "二楼护理间", "{shift}");
    browser.close().await;
    platform.stop().await;
}

/// A follow-up names whom to call, with their number as the role may read it and a link to
/// their record: the coordinator sees the whole number as a tel: link and follows the name
/// to the resident's page; an auditor sees it masked. Checked against the registry's API.
#[tokio::test]
async fn a_follow_up_shows_the_residents_name_and_phone_masked_per_role_with_a_link_to_the_record()
{
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.volunteering_centre("Asia/Shanghai").await;
    platform
        .console_account("coord-d", "coordinator", &[centre])
        .await;
    platform
        .console_account("auditor-d", "auditor", &[centre])
        .await;
    let wu = resident(&platform, centre, "吴秀兰").await;
    let due = Utc::now().date_naive() + chrono::Duration::days(2);
    let caller = created(
        &platform,
        &format!("/v1/centres/{centre}/staff"),
        json!({ "name": "李社工", "position": "social_worker", "employed_from": "2026-01-05" }),
    )
    .await["id"]
        .as_str()
        .expect("staff id")
        .to_owned();
    // Evaluation learns of the staff member and the resident through the bus.
    poll("evaluation to take the follow-up", Duration::from_secs(30), || async {
        let (status, _) = platform
            .post_json(
                &platform.admin_token(),
                &format!("/v1/centres/{centre}/follow-ups"),
                &json!({ "resident_id": wu, "staff_id": caller, "reason": "出院后回访", "due_on": due.to_string() }),
                None,
            )
            .await;
        (status == StatusCode::CREATED).then_some(())
    })
    .await;

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "coord-d").await;
    browser
        .click_through(&format!("header nav a[href=\"/c/{centre}/evaluation\"]"))
        .await;
    let row = "#follow-ups tr[data-resident=\"吴秀兰\"]";
    let phone = browser.find(&format!("{row} td.phone a")).await;
    assert_eq!(phone.text().await, "13812345678");
    assert_eq!(phone.attribute("href").await, "tel:13812345678");
    assert!(browser.find(row).await.text().await.contains("出院后回访"));
    shots_at_both_widths(&browser, "55-follow-ups").await;
    browser
        .click_through(&format!("{row} a[href=\"/c/{centre}/residents/{wu}\"]"))
        .await;
    assert!(
        browser
            .url()
            .await
            .ends_with(&format!("/c/{centre}/residents/{wu}")),
        "{}",
        browser.url().await
    );
    sign_out_browser(&browser).await;

    sign_in_browser(&browser, &gw, "auditor-d").await;
    browser.goto(&format!("{gw}/c/{centre}/evaluation")).await;
    let masked = browser.find(&format!("{row} td.phone")).await.text().await;
    assert_eq!(masked, "138****5678", "masked for an auditor");
    browser.close().await;
    platform.stop().await;
}

/// The manager answers a suggestion on the evaluation page in the steps the service allows
/// (received → 处理中 → 已答复): a received one offers 处理中 only, since 已答复 there only
/// earned the service's refusal, and the reply typed at the second step reaches the API.
#[tokio::test]
async fn the_manager_answers_a_suggestion_in_the_steps_the_service_allows() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("manager-s", "centre_manager", &[centre])
        .await;
    let suggestion = created(
        &platform,
        &format!("/v1/centres/{centre}/suggestions"),
        json!({ "channel": "box", "text": "希望增加书法课" }),
    )
    .await;
    let id = suggestion["id"].as_str().expect("suggestion id").to_owned();

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "manager-s").await;
    let script = format!(
        "return Array.from(document.querySelectorAll('#status-{id} option')).map(o => o.value);"
    );
    browser.goto(&format!("{gw}/c/{centre}/evaluation")).await;
    assert_eq!(browser.execute(&script).await, json!(["in_progress"]));
    browser
        .click_through(&format!("form[action$=\"/suggestions/{id}\"] button"))
        .await;
    browser.goto(&format!("{gw}/c/{centre}/evaluation")).await;
    assert_eq!(browser.execute(&script).await, json!(["answered"]));
    browser
        .find(&format!("#reply-{id}"))
        .await
        .type_text("下月起周六上午开班")
        .await;
    browser
        .click_through(&format!("form[action$=\"/suggestions/{id}\"] button"))
        .await;
    browser.close().await;

    let (status, body) = platform
        .get_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/suggestions"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answered = body["suggestions"]
        .as_array()
        .expect("suggestions")
        .iter()
        .find(|s| s["id"] == id.as_str())
        .expect("the suggestion listed")
        .clone();
    assert_eq!(answered["status"], "answered", "{answered}");
    assert_eq!(answered["reply"], "下月起周六上午开班", "{answered}");
    platform.stop().await;
}

/// An answer refused in the evaluation page's form is said beside its reply, in Chinese, with
/// the choice of 已答复 and what was typed still there: an empty reply gets the service's
/// "答复时请填写答复内容", a reply over 2000 characters its limit with the text kept; then the
/// same form, fixed, answers it (checked through the API). The old page hid both refusals
/// and emptied the reply.
#[tokio::test]
async fn a_refused_answer_is_said_beside_the_reply_with_the_typing_kept() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("manager-r", "centre_manager", &[centre])
        .await;
    let id = created(
        &platform,
        &format!("/v1/centres/{centre}/suggestions"),
        json!({ "channel": "box", "text": "走廊灯太暗，晚上看不清" }),
    )
    .await["id"]
        .as_str()
        .expect("suggestion id")
        .to_owned();
    let (status, body) = platform
        .post_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/suggestions/{id}/status"),
            &json!({ "status": "in_progress" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "manager-r").await;
    browser.goto(&format!("{gw}/c/{centre}/evaluation")).await;
    let form = format!("form[action$=\"/suggestions/{id}\"]");
    browser.click_through(&format!("{form} button")).await;
    let error = browser
        .find(&format!("{form} #reply-{id} ~ .error"))
        .await
        .text()
        .await;
    assert_eq!(error, "答复时请填写答复内容");
    assert_eq!(
        browser
            .execute(&format!(
                "return document.querySelector('#status-{id}').value;"
            ))
            .await,
        json!("answered")
    );
    assert!(
        browser
            .url()
            .await
            .ends_with(&format!("/c/{centre}/evaluation")),
        "the page's own address after the error: {}",
        browser.url().await
    );
    shots_at_both_widths(&browser, "58-suggestion-reply-required").await;

    // Too long: the text stays, to be shortened rather than typed again.
    let long = "灯".repeat(2001);
    browser
        .execute(&format!(
            "document.querySelector('#reply-{id}').value = '{long}'; return null;"
        ))
        .await;
    browser.click_through(&format!("{form} button")).await;
    let error = browser
        .find(&format!("{form} #reply-{id} ~ .error"))
        .await
        .text()
        .await;
    assert_eq!(error, "最多 2000 个字");
    assert_eq!(
        browser
            .execute(&format!(
                "return document.querySelector('#reply-{id}').value;"
            ))
            .await,
        json!(long)
    );
    browser
        .execute(&format!(
            "document.querySelector('#reply-{id}').value = '已换亮一些的灯'; return null;"
        ))
        .await;
    browser.click_through(&format!("{form} button")).await;
    assert!(
        browser.source().await.contains("已更新。"),
        "the notice after answering"
    );
    browser.close().await;

    let (status, body) = platform
        .get_json(
            &platform.admin_token(),
            &format!("/v1/centres/{centre}/suggestions"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answered = body["suggestions"]
        .as_array()
        .expect("suggestions")
        .iter()
        .find(|s| s["id"] == id.as_str())
        .expect("the suggestion listed")
        .clone();
    assert_eq!(answered["status"], "answered", "{answered}");
    assert_eq!(answered["reply"], "已换亮一些的灯", "{answered}");
    platform.stop().await;
}

/// The room grid also shows a week (rooms × the seven days, Monday to Sunday): each day's
/// cell lists who holds the room then and when, a day the room is shut says 不开放, and a
/// day's 空闲 link leads to that day's hourly grid to reserve from.
#[tokio::test]
async fn the_room_grid_shows_a_week_with_who_holds_each_room_each_day() {
    if let Err(missing) = linli_tests::webdriver::browser_paths() {
        panic!("{missing} (deploy/local/test.sh installs them)");
    }
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    platform
        .console_account("desk-w", "front_desk", &[centre])
        .await;
    let li = resident(&platform, centre, "李四").await;
    platform
        .wait_for_residents_in_bookings(&[li.parse().expect("uuid")])
        .await;
    let admin = platform.admin_token();
    let mut rooms = Vec::new();
    // The calligraphy room is shut at weekends.
    for (name, days) in [
        ("多功能活动室", json!([1, 2, 3, 4, 5, 6, 7])),
        ("书画室", json!([1, 2, 3, 4, 5])),
    ] {
        let (status, body) = platform
            .post_json(
                &admin,
                &format!("/v1/centres/{centre}/facilities"),
                &json!({ "name": name, "kind": "room", "opens": "08:00", "closes": "21:00", "open_days": days }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let room = body["id"].as_str().expect("room id").to_owned();
        let (status, body) = platform
            .post_json(
                &admin,
                &format!("/v1/centres/{centre}/offerings"),
                &json!({ "category": "facilities", "kind": "facility", "name": format!("{name}预约"), "facility_id": room }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        rooms.push(body["id"].as_str().expect("offering id").to_owned());
    }
    let tomorrow = (Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
        .date_naive())
        + chrono::Duration::days(1);
    let (status, body) = platform
        .post_json(
            &admin,
            &format!("/v1/centres/{centre}/bookings"),
            &json!({
                "offering_id": rooms[0], "resident_id": li,
                "starts_at": format!("{tomorrow}T10:00:00+08:00"), "ends_at": format!("{tomorrow}T12:00:00+08:00"),
            }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    use chrono::Datelike;
    let saturday = tomorrow
        - chrono::Duration::days(i64::from(tomorrow.weekday().num_days_from_monday()))
        + chrono::Duration::days(5);

    let gw = platform.gateway.clone();
    let browser = Browser::start().await;
    sign_in_browser(&browser, &gw, "desk-w").await;
    browser
        .goto(&format!("{gw}/c/{centre}/rooms?day={tomorrow}"))
        .await;
    browser.click_through("#week-view").await;
    let words = |text: String| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let days = browser
        .execute("return Array.from(document.querySelectorAll('#room-week th.day')).map(d => d.dataset.day);")
        .await;
    assert_eq!(days.as_array().map(Vec::len), Some(7), "{days}");
    let held = browser
        .find(&format!(
            "tr[data-room=\"多功能活动室\"] td[data-day=\"{tomorrow}\"] div.hold"
        ))
        .await;
    assert_eq!(words(held.text().await), "10:00–12:00 李四");
    let shut = browser
        .find(&format!(
            "tr[data-room=\"书画室\"] td[data-day=\"{saturday}\"]"
        ))
        .await;
    assert_eq!(words(shut.text().await), "不开放");
    shots_at_both_widths(&browser, "59-room-week").await;

    browser
        .click_through(&format!(
            "tr[data-room=\"多功能活动室\"] td[data-day=\"{tomorrow}\"] a.free"
        ))
        .await;
    let taken = browser
        .find("tr[data-room=\"多功能活动室\"] td.taken[data-hour=\"10\"]")
        .await;
    assert_eq!(words(taken.text().await), "李四 10:00–12:00");
    assert!(
        browser
            .url()
            .await
            .ends_with(&format!("/rooms?day={tomorrow}")),
        "{}",
        browser.url().await
    );
    browser.close().await;
    platform.stop().await;
}
