//! A resident's right to a copy (PIPL art. 45) and to erasure, across every service: the
//! export holds what each service keeps about the person (bookings and attendance, the
//! volunteer profile with shifts and hours, donations, survey answers, suggestions,
//! follow-ups, consents, reads of the national ID), the console shows it in Chinese, a
//! service that does not answer fails the export rather than leaving its part out, and an
//! erasure empties every free-text field that held the person's words or name while the
//! figures counted from those rows keep their totals.

use std::time::Duration;

use chrono::{Duration as Span, Utc};
use linli_platform::auth::Role;
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use uuid::Uuid;

const DEADLINE: Duration = Duration::from_secs(60);
const NAME: &str = "王秀英";
const PASSWORD: &str = "correct-horse-battery";

fn id(body: &Value) -> String {
    body["id"].as_str().expect("an id").to_owned()
}

/// The text a person reads on a page: the markup without its tags.
fn visible(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// Every UUID written in `text`.
fn uuids(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .filter(|token| token.len() == 36 && Uuid::parse_str(token).is_ok())
        .map(str::to_owned)
        .collect()
}

/// A console account in the registry's store, as the seed makes them.
async fn account(platform: &TestPlatform, username: &str, role: &str, centre: Uuid) {
    let pool = platform.pool("registry").await;
    let new = linli_registry::domain::staff::NewAccount::parse(
        username,
        username,
        PASSWORD,
        &[role.to_owned()],
        &[centre.to_string()],
    )
    .expect("a valid account");
    let hash = linli_registry::domain::staff::hash_password(PASSWORD);
    linli_registry::store::create_staff_account(&pool, &new, &hash, "test")
        .await
        .expect("account stored")
        .expect("a new username");
    pool.close().await;
}

/// Signs in to the console and returns the session's cookies.
async fn sign_in(platform: &TestPlatform, username: &str) -> (reqwest::Client, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client");
    let cookies = |response: &reqwest::Response| -> Vec<String> {
        response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| !v.contains("Max-Age=0"))
            .filter_map(|v| v.split(';').next().map(str::to_owned))
            .collect()
    };
    let page = http
        .get(format!("{}/sign-in", platform.gateway))
        .send()
        .await
        .expect("the sign-in page");
    let pre = cookies(&page).join("; ");
    let html = page.text().await.expect("a page");
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a CSRF field") + marker.len();
    let csrf = html[start..].split('"').next().expect("a token").to_owned();
    let signed = http
        .post(format!("{}/sign-in", platform.gateway))
        .header(COOKIE, pre)
        .form(&[
            ("csrf", csrf.as_str()),
            ("next", "/dashboard"),
            ("username", username),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("signed in");
    assert!(
        signed.headers().get(LOCATION).is_some(),
        "signed in: {}",
        signed.status()
    );
    (http, cookies(&signed).join("; "))
}

/// What one resident left in every service of a centre, through the API.
struct Traces {
    resident: String,
    booking: String,
    volunteer: String,
}

async fn leave_traces(platform: &TestPlatform, admin: &str, centre: Uuid) -> Traces {
    let at = |path: &str| format!("/v1/centres/{centre}{path}");
    let created = |path: String, body: Value| async move {
        let (status, reply) = platform.post_json(admin, &path, &body, None).await;
        assert!(status.is_success(), "{path}: {status} {reply}");
        reply
    };
    let resident = id(&created(
        at("/residents"),
        json!({ "name": NAME, "gender": "female", "date_of_birth": "1949-12-31",
                "phone": "13812345678", "national_id": "11010519491231002X",
                "building": "1号楼", "unit": "3单元", "room": "403" }),
    )
    .await);
    let consent = created(
        at(&format!("/residents/{resident}/consents")),
        json!({ "purpose": "service_delivery", "granted": true, "source": "in_person" }),
    )
    .await;
    assert!(consent.is_object(), "{consent}");
    let resident_id: Uuid = resident.parse().expect("a UUID");
    platform
        .wait_for_residents_in_bookings(&[resident_id])
        .await;
    platform
        .wait_for_residents_in_volunteers(&[resident_id])
        .await;

    // A talk that began ten minutes ago, booked with a note from the desk, and attended.
    let now = Utc::now();
    let offering = id(&created(
        at("/offerings"),
        json!({ "category": "health", "kind": "event", "name": "健康讲座", "capacity": 20 }),
    )
    .await);
    let session = id(&created(
        at("/sessions"),
        json!({ "offering_id": offering, "starts_at": (now - Span::minutes(10)).to_rfc3339(),
                "ends_at": (now + Span::hours(1)).to_rfc3339() }),
    )
    .await);
    let booking = id(&created(
        at("/bookings"),
        json!({ "offering_id": offering, "resident_id": resident, "session_id": session,
                "note": format!("{NAME}坐轮椅，请留前排") }),
    )
    .await);
    created(at(&format!("/bookings/{booking}/check-in")), json!({})).await;

    // A volunteer: a shift worked this morning (90 minutes) and an hour logged with a note.
    let volunteer = id(&created(
        at("/volunteers"),
        json!({ "resident_id": resident, "display_name": "王阿姨" }),
    )
    .await);
    let opportunity = id(&created(
        at("/opportunities"),
        json!({ "title": "助老送餐", "location": "幸福食堂" }),
    )
    .await);
    let shift = id(&created(
        at("/shifts"),
        json!({ "opportunity_id": opportunity, "starts_at": (now - Span::hours(2)).to_rfc3339(),
                "ends_at": (now + Span::hours(1)).to_rfc3339(), "capacity": 3 }),
    )
    .await);
    let assignment = id(&created(
        at(&format!("/shifts/{shift}/sign-ups")),
        json!({ "volunteer_id": volunteer }),
    )
    .await);
    for (step, when) in [
        ("check-in", now - Span::minutes(110)),
        ("check-out", now - Span::minutes(20)),
    ] {
        created(
            at(&format!("/assignments/{assignment}/{step}")),
            json!({ "at": when.to_rfc3339() }),
        )
        .await;
    }
    let yesterday = (now + Span::hours(8) - Span::days(1)).date_naive();
    created(
        at("/hours"),
        json!({ "volunteer_id": volunteer, "worked_on": yesterday.to_string(), "minutes": 60,
                "note": format!("{NAME}帮忙包饺子") }),
    )
    .await;

    // A donation in her name.
    let donation = poll("finance to take the donation", DEADLINE, || async {
        let (status, body) = platform
            .post_json(
                admin,
                &at("/finance/donations"),
                &json!({ "donor_name": NAME, "donor_resident_id": resident, "amount_minor": 151_000,
                         "purpose": "助老餐", "method": "cash" }),
                None,
            )
            .await;
        (status == StatusCode::CREATED).then_some(body)
    })
    .await;
    assert_eq!(donation["amount_minor"], 151_000);

    // The satisfaction survey the attendance brought, answered with a comment.
    let invitations = at(&format!("/invitations?resident_id={resident}"));
    let invitation = poll("the satisfaction invitation", DEADLINE, || async {
        let (_, list) = platform.get_json(admin, &invitations).await;
        list["invitations"]
            .as_array()
            .and_then(|l| l.first().cloned())
    })
    .await;
    created(
        at(&format!("/invitations/{}/response", id(&invitation))),
        json!({ "answers": [
            { "key": "satisfaction", "score": 5 }, { "key": "effectiveness", "score": 4 },
            { "key": "professionalism", "score": 5 },
            { "key": "comment", "text": format!("{NAME}：讲座很实用") } ] }),
    )
    .await;

    // A suggestion, answered.
    let suggestion = id(&created(
        at("/suggestions"),
        json!({ "resident_id": resident, "channel": "box", "text": format!("{NAME}建议增加书法课") }),
    )
    .await);
    let path = at(&format!("/suggestions/{suggestion}/status"));
    created(path.clone(), json!({ "status": "in_progress" })).await;
    created(
        path,
        json!({ "status": "answered", "reply": format!("{NAME}您好，下月开班") }),
    )
    .await;

    // A follow-up call by a member of staff, done.
    let staff = id(&created(
        at("/staff"),
        json!({ "name": "李社工", "position": "social_worker",
                "employed_from": (yesterday - Span::days(30)).to_string() }),
    )
    .await);
    let follow_up = poll("evaluation to take the follow-up", DEADLINE, || async {
        let (status, body) = platform
            .post_json(
                admin,
                &at("/follow-ups"),
                &json!({ "resident_id": resident, "staff_id": staff,
                         "reason": format!("{NAME}独居，每周回访"), "due_on": yesterday.to_string() }),
                None,
            )
            .await;
        (status == StatusCode::CREATED).then_some(body)
    })
    .await;
    created(
        at(&format!("/follow-ups/{}/completion", id(&follow_up))),
        json!({ "status": "done", "outcome": format!("{NAME}说身体很好") }),
    )
    .await;

    Traces {
        resident,
        booking,
        volunteer,
    }
}

async fn count(pool: &sqlx::PgPool, sql: &'static str, centre: Uuid) -> i64 {
    sqlx::query_scalar(sql)
        .bind(centre)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The figures the KPIs and reports count from what the resident left.
async fn figures(platform: &TestPlatform, admin: &str, centre: Uuid) -> Value {
    let evaluation = platform.pool("evaluation").await;
    let bookings = platform.pool("bookings").await;
    let month = (Utc::now() + Span::hours(8)).format("%Y-%m").to_string();
    let (_, kpis) = platform
        .get_json(admin, &format!("/v1/centres/{centre}/kpis?period={month}"))
        .await;
    let satisfaction = kpis["kpis"]
        .as_array()
        .expect("kpis")
        .iter()
        .find(|k| k["name"] == "satisfaction")
        .cloned()
        .expect("satisfaction");
    let (_, hours) = platform
        .get_json(admin, &format!("/v1/centres/{centre}/hours-totals"))
        .await;
    let (_, donations) = platform
        .get_json(admin, &format!("/v1/centres/{centre}/finance/donations"))
        .await;
    let figures = json!({
        "satisfaction": [satisfaction["numerator"], satisfaction["denominator"]],
        "verified_minutes": hours["verified_minutes"],
        "pending_minutes": hours["pending_minutes"],
        "donated": donations["donations"].as_array().expect("donations").iter()
            .map(|d| d["amount_minor"].as_i64().unwrap_or_default()).sum::<i64>(),
        "suggestions_answered": count(&evaluation,
            "SELECT count(*) FROM suggestions WHERE centre_id = $1 AND answered_at IS NOT NULL", centre).await,
        "follow_ups_done": count(&evaluation,
            "SELECT count(*) FROM follow_ups WHERE centre_id = $1 AND status = 'done'", centre).await,
        "answers": count(&evaluation,
            "SELECT count(*) FROM answers a JOIN invitations i ON i.id = a.invitation_id
             WHERE i.centre_id = $1 AND i.answered_at IS NOT NULL", centre).await,
        "attended_seats": count(&bookings,
            "SELECT count(*) FROM seats s JOIN bookings b ON b.id = s.booking_id
             WHERE b.centre_id = $1 AND s.state = 'attended'", centre).await,
    });
    evaluation.close().await;
    bookings.close().await;
    figures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_residents_copy_holds_every_services_data_in_json_and_in_chinese_and_erasure_empties_their_words()
 {
    let platform = TestPlatform::start().await;
    let centre = platform.volunteering_centre("Asia/Shanghai").await;
    let admin = platform.admin_token();
    let traces = leave_traces(&platform, &admin, centre).await;
    let resident = &traces.resident;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);

    // The JSON copy, as the desk hands it over.
    let (status, copy) = platform
        .get_json(
            &desk,
            &format!(
                "/v1/centres/{centre}/residents/{resident}/export?purpose=resident%27s%20request"
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{copy}");
    assert_eq!(copy["resident"]["name"], NAME);
    assert_eq!(copy["resident"]["national_id"], "11010519491231002X");
    assert_eq!(copy["consents"][0]["purpose"], "service_delivery");
    assert_eq!(
        copy["national_id_reads"][0]["purpose"],
        "export: resident's request"
    );

    let booking = &copy["bookings"]["bookings"][0];
    assert_eq!(
        copy["bookings"]["bookings"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(booking["id"], traces.booking.as_str());
    assert_eq!(booking["status"], "attended");
    assert_eq!(booking["seats"][0]["state"], "attended");
    assert_eq!(booking["note"], format!("{NAME}坐轮椅，请留前排"));
    assert_eq!(copy["bookings"]["offerings"][0]["name"], "健康讲座");

    let volunteering = &copy["volunteers"];
    assert_eq!(volunteering["volunteer"]["id"], traces.volunteer.as_str());
    assert_eq!(volunteering["volunteer"]["display_name"], "王阿姨");
    assert_eq!(volunteering["volunteer"]["verified_minutes"], 90);
    assert_eq!(volunteering["assignments"][0]["status"], "completed");
    assert_eq!(volunteering["assignments"][0]["verified_minutes"], 90);
    assert_eq!(volunteering["shifts"][0]["location"], "幸福食堂");
    assert_eq!(volunteering["opportunities"][0]["title"], "助老送餐");
    let notes: Vec<&str> = volunteering["hour_entries"]
        .as_array()
        .expect("hour entries")
        .iter()
        .filter_map(|h| h["note"].as_str())
        .collect();
    assert!(notes.contains(&"王秀英帮忙包饺子"), "{volunteering}");
    assert_eq!(
        volunteering["hour_entries"].as_array().map(Vec::len),
        Some(2),
        "the checked-out shift and the logged hour: {volunteering}"
    );

    let donation = &copy["finance"]["donations"][0];
    assert_eq!(donation["amount_minor"], 151_000);
    assert_eq!(donation["donor_name"], NAME);
    assert_eq!(donation["purpose"], "助老餐");

    let evaluation = &copy["evaluation"];
    let answers = evaluation["invitations"][0]["answers"]
        .as_array()
        .expect("answers");
    assert!(
        answers
            .iter()
            .any(|a| a["key"] == "comment" && a["text"] == "王秀英：讲座很实用"),
        "{evaluation}"
    );
    assert!(
        answers
            .iter()
            .any(|a| a["key"] == "satisfaction" && a["score"] == 5)
    );
    assert!(
        evaluation["surveys"][0]["questions"]
            .as_array()
            .is_some_and(|q| q.iter().any(|q| q["key"] == "comment")),
        "the survey's questions come with the answers: {evaluation}"
    );
    assert_eq!(evaluation["suggestions"][0]["text"], "王秀英建议增加书法课");
    assert_eq!(
        evaluation["suggestions"][0]["reply"],
        "王秀英您好，下月开班"
    );
    assert_eq!(
        evaluation["follow_ups"][0]["reason"],
        "王秀英独居，每周回访"
    );
    assert_eq!(evaluation["follow_ups"][0]["outcome"], "王秀英说身体很好");

    // The same copy on a console page, in Chinese, for the desk to print.
    account(&platform, "qiantai", "front_desk", centre).await;
    let (http, cookies) = sign_in(&platform, "qiantai").await;
    let page = http
        .get(format!(
            "{}/c/{centre}/residents/{resident}/copy?purpose=%E5%B1%85%E6%B0%91%E6%9C%AC%E4%BA%BA%E7%94%B3%E8%AF%B7",
            platform.gateway
        ))
        .header(COOKIE, &cookies)
        .send()
        .await
        .expect("the page");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    let text = visible(&html);
    for shown in [
        NAME,
        "11010519491231002X",
        "提供服务",
        "导出副本：居民本人申请",
        "健康讲座",
        "已签到",
        "王秀英坐轮椅，请留前排",
        "王阿姨",
        "助老送餐",
        "幸福食堂",
        "1小时30分钟",
        "王秀英帮忙包饺子",
        "¥1,510.00",
        "助老餐",
        "现金",
        "王秀英：讲座很实用",
        "5 分",
        "王秀英建议增加书法课",
        "意见箱",
        "已答复",
        "王秀英您好，下月开班",
        "王秀英独居，每周回访",
        "王秀英说身体很好",
        "已完成",
        // The address as an import stores it ("1号楼", "3单元"), each word once.
        "1号楼3单元403室",
    ] {
        assert!(text.contains(shown), "the page shows {shown}: {text}");
    }
    assert!(!text.contains("号楼号楼"), "an address word twice: {text}");
    assert_eq!(uuids(&text), Vec::<String>::new(), "no ids on the page");
    for code in [
        "attended",
        "completed",
        "verified",
        "check_out",
        "self_logged",
        "service_delivery",
        "in_person",
        "cash",
        "received",
        "answered",
        "done",
        "export:",
        "female",
    ] {
        assert!(
            !text.contains(code),
            "no raw code {code} on the page: {text}"
        );
    }

    // Erasure: the words and the name leave every free-text field; the figures stay.
    let before = figures(&platform, &admin, centre).await;
    let manager = platform.token(&[Role::CentreManager], &[centre]);
    let (status, body) = platform
        .post_json(
            &manager,
            &format!("/v1/centres/{centre}/residents/{resident}/erasure"),
            &json!({ "reason": "the resident's request" }),
            None,
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let (bookings, volunteers, finance, evaluation) = (
        platform.pool("bookings").await,
        platform.pool("volunteers").await,
        platform.pool("finance").await,
        platform.pool("evaluation").await,
    );
    let resident_id: Uuid = resident.parse().expect("a UUID");
    poll("every service to erase the resident", DEADLINE, || async {
        let mut left = 0;
        for (pool, sql) in [
            (
                &bookings,
                "SELECT count(*) FROM bookings WHERE centre_id = $1 AND anonymised_at IS NULL",
            ),
            (
                &volunteers,
                "SELECT count(*) FROM volunteers WHERE centre_id = $1 AND anonymised_at IS NULL",
            ),
            (
                &finance,
                "SELECT count(*) FROM donations WHERE centre_id = $1 AND donor_erased_at IS NULL",
            ),
            (
                &evaluation,
                "SELECT count(*) FROM invitations WHERE centre_id = $1 AND resident_id IS NOT NULL",
            ),
        ] {
            left += count(pool, sql, centre).await;
        }
        (left == 0).then_some(())
    })
    .await;

    // Through the API, nothing the staff can read names her any more.
    for path in [
        format!("/v1/centres/{centre}/bookings/{}", traces.booking),
        format!("/v1/centres/{centre}/suggestions"),
        format!("/v1/centres/{centre}/follow-ups"),
        format!("/v1/centres/{centre}/invitations"),
        format!(
            "/v1/centres/{centre}/hours?volunteer_id={}",
            traces.volunteer
        ),
        format!("/v1/centres/{centre}/volunteers/{}", traces.volunteer),
        format!("/v1/centres/{centre}/finance/donations"),
    ] {
        let (status, body) = platform.get_json(&admin, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let body = body.to_string();
        for words in [
            NAME,
            "轮椅",
            "书法课",
            "下月开班",
            "独居",
            "身体很好",
            "讲座很实用",
            "包饺子",
        ] {
            assert!(!body.contains(words), "{path} still holds {words}: {body}");
        }
    }
    let (_, booking) = platform
        .get_json(
            &admin,
            &format!("/v1/centres/{centre}/bookings/{}", traces.booking),
        )
        .await;
    assert_eq!(booking["note"], "");

    // And, for certainty, not in the services' own tables either.
    let like = |table_and_column: &str| {
        format!("SELECT count(*) FROM {table_and_column} LIKE '%' || $1 || '%'")
    };
    for (pool, sql) in [
        (&bookings, like("bookings WHERE note")),
        (
            &bookings,
            like("bookings WHERE coalesce(cancel_reason, '')"),
        ),
        (&volunteers, like("hour_entries WHERE note")),
        (&volunteers, like("volunteers WHERE display_name")),
        (&evaluation, like("suggestions WHERE text")),
        (&evaluation, like("suggestions WHERE reply")),
        (&evaluation, like("follow_ups WHERE reason")),
        (&evaluation, like("follow_ups WHERE outcome")),
        (&evaluation, like("answers WHERE text")),
    ] {
        let held: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .bind(NAME)
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(held, 0, "{sql}");
    }
    let mut linked = 0;
    for sql in [
        "SELECT count(*) FROM suggestions WHERE centre_id = $1 AND (text <> '' OR reply <> '')",
        "SELECT count(*) FROM follow_ups WHERE centre_id = $1 AND (reason <> '' OR outcome <> '')",
        "SELECT count(*) FROM answers a JOIN invitations i ON i.id = a.invitation_id
         WHERE i.centre_id = $1 AND a.text <> ''",
    ] {
        linked += count(&evaluation, sql, centre).await;
    }
    assert_eq!(linked, 0, "the erased resident's texts are empty");
    let donor_names = count(
        &finance,
        "SELECT count(*) FROM donations WHERE centre_id = $1 AND donor_name_sealed IS NOT NULL",
        centre,
    )
    .await;
    assert_eq!(donor_names, 0);
    let still_linked: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM suggestions WHERE resident_id = $1)
              + (SELECT count(*) FROM follow_ups WHERE resident_id = $1)
              + (SELECT count(*) FROM invitations WHERE resident_id = $1)",
    )
    .bind(resident_id)
    .fetch_one(&evaluation)
    .await
    .expect("counted");
    assert_eq!(still_linked, 0);
    for pool in [bookings, volunteers, finance, evaluation] {
        pool.close().await;
    }

    let after = figures(&platform, &admin, centre).await;
    assert_eq!(after, before, "the figures keep their totals");
    assert_eq!(after["satisfaction"], json!([1, 1]), "{after}");
    assert_eq!(after["verified_minutes"], 90, "{after}");
    assert_eq!(after["donated"], 151_000, "{after}");
    assert_eq!(after["suggestions_answered"], 1, "{after}");
    assert_eq!(after["follow_ups_done"], 1, "{after}");
    assert_eq!(after["attended_seats"], 1, "{after}");
    platform.stop().await;
}

/// A copy missing one service's part would look whole to the resident: when a service does
/// not answer, the export fails with 503 (and Retry-After) and no document; and each
/// service refuses its part to a role that may not export, even when asked directly.
#[tokio::test]
async fn an_export_fails_whole_with_503_when_a_service_does_not_answer_and_each_service_checks_the_role()
 {
    let nobody = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("bound");
    // The listener is dropped: nothing answers there.
    let platform = TestPlatform::start_with(|args| {
        args.evaluation_endpoint = Some(format!("http://{nobody}"));
    })
    .await;
    let centre = platform.create_centre("export-503").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    let (status, resident) = platform
        .post_json(
            &desk,
            &format!("/v1/centres/{centre}/residents"),
            &json!({ "name": NAME, "gender": "female", "date_of_birth": "1950-03-01" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{resident}");
    let resident = id(&resident);
    let response = platform
        .http
        .get(format!(
            "{}/v1/centres/{centre}/residents/{resident}/export?purpose=request",
            platform.gateway
        ))
        .bearer_auth(&desk)
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get("retry-after").is_some());
    let problem: Value = response.json().await.expect("a problem document");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("evaluation")),
        "{problem}"
    );
    assert!(
        problem.get("resident").is_none(),
        "no partial copy: {problem}"
    );

    // A coordinator reads bookings every day, but may not take a resident's copy of them.
    let coordinator = platform.token(&[Role::Coordinator], &[centre]);
    let mut client = linli_proto::bookings::v1::bookings_client::BookingsClient::connect(format!(
        "http://{}",
        platform.bookings
    ))
    .await
    .expect("bookings answers");
    let mut request = tonic::Request::new(linli_proto::bookings::v1::ExportResidentRequest {
        centre_id: centre.to_string(),
        resident_id: resident.clone(),
    });
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {coordinator}").parse().expect("ASCII"),
    );
    let refused = client.export_resident(request).await.expect_err("refused");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    platform.stop().await;
}
