//! One paging rule for every list, end to end through the gateway: a list longer than a
//! page answers `next_page_token` until its last page, and following the tokens yields
//! every row exactly once, in the list's order, with no cut-off (lists used to stop at
//! 1,000 rows, or 500, or 200, without saying so); a page size over 200 is refused naming
//! `page_size`, and a token that was forged or issued for another list naming
//! `page_token`.

use std::collections::HashSet;

use futures::future::join_all;
use linli_platform::auth::Role;
use linli_tests::TestPlatform;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// Every row of a list: follows `next_page_token` from the first page at `page_size`;
/// the rows (from the array `field` of each page) and how many pages it took.
async fn every_page(
    platform: &TestPlatform,
    token: &str,
    path: &str,
    field: &str,
    page_size: u32,
) -> (Vec<Value>, usize) {
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut rows = Vec::new();
    let mut pages = 0;
    let mut page_token = String::new();
    loop {
        let mut url = format!("{path}{separator}page_size={page_size}");
        if !page_token.is_empty() {
            url.push_str(&format!("&page_token={page_token}"));
        }
        let (status, body) = platform.get_json(token, &url).await;
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
        let page = body[field].as_array().expect("an array of rows");
        assert!(
            page.len() <= page_size as usize,
            "{} rows on a page of {page_size}",
            page.len()
        );
        rows.extend(page.iter().cloned());
        pages += 1;
        match body.get("next_page_token").and_then(Value::as_str) {
            Some(next) if !next.is_empty() => {
                assert_eq!(
                    page.len(),
                    page_size as usize,
                    "only a full page has a next one"
                );
                page_token = next.to_owned();
            }
            _ => return (rows, pages),
        }
    }
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|row| row["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// Asserts no id repeats and the ids are exactly `expected`.
fn assert_each_once(rows: &[Value], expected: &HashSet<String>) {
    let ids = ids(rows);
    let unique: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "a row came twice");
    assert_eq!(&unique, expected, "rows missing or foreign");
}

/// The refusals every paged list shares: a page over the maximum, a forged token and a
/// token of another list.
async fn assert_refuses_bad_paging(
    platform: &TestPlatform,
    token: &str,
    path: &str,
    foreign_token: &str,
) {
    let separator = if path.contains('?') { '&' } else { '?' };
    let (status, body) = platform
        .get_json(token, &format!("{path}{separator}page_size=201"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
    assert_eq!(body["errors"][0]["field"], "page_size", "{path}: {body}");
    for forged in ["bm90LWEtdG9rZW4", "not%20a%20token", foreign_token] {
        let (status, body) = platform
            .get_json(token, &format!("{path}{separator}page_token={forged}"))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {forged}: {body}");
        assert_eq!(body["errors"][0]["field"], "page_token", "{path}: {body}");
    }
}

#[tokio::test]
async fn twelve_hundred_sessions_of_one_offering_come_back_in_start_order_across_pages_with_none_cut()
 {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let token = platform.token(&[Role::CentreManager], &[centre]);
    let base = format!("/v1/centres/{centre}");
    let (status, offering) = platform
        .post_json(
            &token,
            &format!("{base}/offerings"),
            &json!({ "category": "culture_education", "kind": "course", "name": "晨练", "capacity": 30 }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{offering}");
    let offering = offering["id"].as_str().expect("an id");
    // Three daily series of 400 (a series holds at most 500), an hour apart: 1,200
    // sessions, more than the 1,000 the list used to stop at.
    let mut created = HashSet::new();
    for start in ["07:00", "08:00", "09:00"] {
        let (status, series) = platform
            .post_json(
                &token,
                &format!("{base}/series"),
                &json!({ "offering_id": offering, "weekdays": [1, 2, 3, 4, 5, 6, 7],
                         "start_time": start, "duration_minutes": 45,
                         "starts_on": "2027-01-01", "count": 400 }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{series}");
        let sessions = series["sessions"].as_array().expect("sessions");
        assert_eq!(sessions.len(), 400);
        created.extend(ids(sessions));
    }
    assert_eq!(created.len(), 1200);

    let list = format!("{base}/sessions?offering_id={offering}");
    let (rows, pages) = every_page(&platform, &token, &list, "sessions", 200).await;
    assert_eq!(rows.len(), 1200, "every session, none cut off");
    assert_eq!(pages, 6);
    assert_each_once(&rows, &created);
    let starts: Vec<&str> = rows
        .iter()
        .map(|s| s["starts_at"].as_str().expect("starts_at"))
        .collect();
    assert!(
        starts.windows(2).all(|pair| pair[0] <= pair[1]),
        "in start order"
    );
    // The default page is 50, and says there is more.
    let (status, first) = platform.get_json(&token, &list).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["sessions"].as_array().map(Vec::len), Some(50));
    let session_token = first["next_page_token"].as_str().expect("a next page");

    // A bookings token is not a sessions token, and the other way round.
    let (_, bookings) = platform.get_json(&token, &format!("{base}/bookings")).await;
    assert!(bookings["next_page_token"].is_null(), "no bookings yet");
    assert_refuses_bad_paging(
        &platform,
        &token,
        &list,
        &residents_token(&platform, centre).await,
    )
    .await;
    assert_refuses_bad_paging(
        &platform,
        &token,
        &format!("{base}/bookings"),
        session_token,
    )
    .await;
    platform.stop().await;
}

#[tokio::test]
async fn shifts_and_hour_entries_past_one_page_come_back_whole_each_in_its_order() {
    let platform = TestPlatform::start().await;
    let centre = platform.volunteering_centre("Asia/Shanghai").await;
    let token = platform.token(&[Role::CentreManager], &[centre]);
    let base = format!("/v1/centres/{centre}");
    let created = |path: &'static str, body: Value| {
        let (platform, token, base) = (&platform, &token, &base);
        async move {
            let (status, reply) = platform
                .post_json(token, &format!("{base}{path}"), &body, None)
                .await;
            assert_eq!(status, StatusCode::CREATED, "{path}: {reply}");
            reply["id"].as_str().expect("an id").to_owned()
        }
    };
    let opportunity = created(
        "/opportunities",
        json!({ "title": "助餐", "description": "午餐送餐" }),
    )
    .await;
    // 230 shifts, two a day: more than the largest page.
    let shifts: HashSet<String> = join_all((0..230).map(|n| {
        let day = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).expect("a day")
            + chrono::Duration::days(n / 2);
        let hour = if n % 2 == 0 { "09" } else { "14" };
        created(
            "/shifts",
            json!({ "opportunity_id": opportunity, "capacity": 3,
                    "starts_at": format!("{day}T{hour}:00:00+08:00"),
                    "ends_at": format!("{day}T{hour}:45:00+08:00") }),
        )
    }))
    .await
    .into_iter()
    .collect();
    let list = format!("{base}/shifts?opportunity_id={opportunity}");
    let (rows, pages) = every_page(&platform, &token, &list, "shifts", 200).await;
    assert_eq!((rows.len(), pages), (230, 2));
    assert_each_once(&rows, &shifts);
    let starts: Vec<&str> = rows
        .iter()
        .map(|s| s["starts_at"].as_str().expect("starts_at"))
        .collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "in start order");
    let (_, first) = platform.get_json(&token, &list).await;
    let shifts_token = first["next_page_token"].as_str().expect("a next page");

    // 230 hour entries of one volunteer, on 115 days: the latest day first.
    let (status, resident) = platform
        .post_json(
            &token,
            &format!("{base}/residents"),
            &json!({ "name": "陈静", "gender": "female", "date_of_birth": "1975-04-01" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{resident}");
    let resident = resident["id"].as_str().expect("an id").to_owned();
    platform
        .wait_for_residents_in_volunteers(&[resident.parse().expect("a uuid")])
        .await;
    let volunteer = created("/volunteers", json!({ "resident_id": resident })).await;
    let yesterday = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
    let entries: HashSet<String> = join_all((0..230).map(|n| {
        let day = yesterday - chrono::Duration::days(n / 2);
        created(
            "/hours",
            json!({ "volunteer_id": volunteer, "worked_on": day.to_string(), "minutes": 30 }),
        )
    }))
    .await
    .into_iter()
    .collect();
    let list = format!("{base}/hours?volunteer_id={volunteer}");
    let (rows, pages) = every_page(&platform, &token, &list, "entries", 200).await;
    assert_eq!((rows.len(), pages), (230, 2));
    assert_each_once(&rows, &entries);
    let days: Vec<&str> = rows
        .iter()
        .map(|e| e["worked_on"].as_str().expect("worked_on"))
        .collect();
    assert!(days.windows(2).all(|w| w[0] >= w[1]), "latest day first");
    // The same list in pages of 7 (a page boundary inside a day) is the same list.
    let (small, pages) = every_page(&platform, &token, &list, "entries", 7).await;
    assert_eq!(pages, 33);
    assert_eq!(ids(&small), ids(&rows));

    assert_refuses_bad_paging(&platform, &token, &list, shifts_token).await;
    assert_refuses_bad_paging(
        &platform,
        &token,
        &format!("{base}/shifts"),
        &residents_token(&platform, centre).await,
    )
    .await;
    platform.stop().await;
}

#[tokio::test]
async fn finance_entries_and_the_audit_trail_past_one_page_come_back_whole_each_in_its_order() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let officer = platform.token(&[Role::FinanceOfficer], &[centre]);
    let base = format!("/v1/centres/{centre}/finance");
    // 205 entries on 41 days.
    let posted: HashSet<String> = join_all((0..205).map(|n| {
        let day = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).expect("a day")
            + chrono::Duration::days(40 - n % 41);
        let (platform, officer, base) = (&platform, &officer, &base);
        async move {
            let (status, entry) = platform
                .post_json(
                    officer,
                    &format!("{base}/entries"),
                    &json!({ "entry_date": day.to_string(), "description": format!("第{n}笔"),
                             "lines": [{ "account_code": "1001", "debit_minor": 100 + n },
                                       { "account_code": "4004", "credit_minor": 100 + n }] }),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{entry}");
            entry["id"].as_str().expect("an id").to_owned()
        }
    }))
    .await
    .into_iter()
    .collect();
    let list = format!("{base}/entries?from=2025-01-01");
    let (rows, pages) = every_page(&platform, &officer, &list, "entries", 200).await;
    assert_eq!((rows.len(), pages), (205, 2), "none cut off");
    assert_each_once(&rows, &posted);
    let dates: Vec<&str> = rows
        .iter()
        .map(|e| e["entry_date"].as_str().expect("entry_date"))
        .collect();
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "by date");
    let (small, pages) = every_page(&platform, &officer, &list, "entries", 9).await;
    assert_eq!(pages, 23);
    assert_eq!(ids(&small), ids(&rows), "the same list in smaller pages");
    // `limit`, the older name of page_size, pages too, and is refused by its own name.
    let (status, body) = platform
        .get_json(&officer, &format!("{list}&limit=5"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["entries"].as_array().map(Vec::len), Some(5));
    assert!(body["next_page_token"].is_string(), "{body}");
    let (status, body) = platform
        .get_json(&officer, &format!("{list}&limit=1000"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "limit", "{body}");
    let entries_token = body_token(&platform, &officer, &list).await;

    // Each posting is on the audit trail: newest first, every record once.
    let trail = format!("{base}/audit-trail");
    let (records, _) = every_page(&platform, &officer, &trail, "records", 200).await;
    assert!(records.len() >= 205, "{} records", records.len());
    let seqs: Vec<i64> = records
        .iter()
        .map(|r| r["seq"].as_i64().expect("seq"))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "newest first, none twice"
    );

    assert_refuses_bad_paging(&platform, &officer, &trail, &entries_token).await;
    assert_refuses_bad_paging(
        &platform,
        &officer,
        &list,
        &residents_token(&platform, centre).await,
    )
    .await;
    platform.stop().await;
}

/// The `next_page_token` of a list's first page of one row.
async fn body_token(platform: &TestPlatform, token: &str, path: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    let (status, body) = platform
        .get_json(token, &format!("{path}{separator}page_size=1"))
        .await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body["next_page_token"]
        .as_str()
        .expect("more than one row")
        .to_owned()
}

/// A token of the registry's resident list (a centre with two residents), to offer to other
/// lists.
async fn residents_token(platform: &TestPlatform, centre: Uuid) -> String {
    let admin = platform.admin_token();
    let path = format!("/v1/centres/{centre}/residents");
    for name in ["王芳", "李强"] {
        let (status, body) = platform
            .post_json(
                &admin,
                &path,
                &json!({ "name": name, "gender": "female", "date_of_birth": "1950-01-01" }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    body_token(platform, &admin, &path).await
}

#[tokio::test]
async fn residents_past_one_page_come_back_newest_first_each_once() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("paging-residents").await;
    let token = platform.token(&[Role::CentreManager], &[centre]);
    let path = format!("/v1/centres/{centre}/residents");
    let registered: HashSet<String> = join_all((0..230).map(|n| {
        let (platform, token, path) = (&platform, &token, &path);
        async move {
            let (status, body) = platform
                .post_json(
                    token,
                    path,
                    &json!({ "name": format!("居民{n}"), "gender": "male", "date_of_birth": "1948-06-01" }),
                    None,
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["id"].as_str().expect("an id").to_owned()
        }
    }))
    .await
    .into_iter()
    .collect();
    let (rows, pages) = every_page(&platform, &token, &path, "residents", 200).await;
    assert_eq!((rows.len(), pages), (230, 2));
    assert_each_once(&rows, &registered);
    let (small, _) = every_page(
        &platform,
        &token,
        &format!("{path}?min_age=60"),
        "residents",
        13,
    )
    .await;
    assert_eq!(
        ids(&small),
        ids(&rows),
        "the same list in pages of 13, filtered"
    );
    // A suggestions token is not a residents token.
    let (status, _) = platform
        .post_json(
            &token,
            &format!("/v1/centres/{centre}/suggestions"),
            &json!({ "text": "开放时间延长" }),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    platform
        .post_json(
            &token,
            &format!("/v1/centres/{centre}/suggestions"),
            &json!({ "text": "增加书架" }),
            None,
        )
        .await;
    let suggestions = body_token(
        &platform,
        &token,
        &format!("/v1/centres/{centre}/suggestions"),
    )
    .await;
    assert_refuses_bad_paging(&platform, &token, &path, &suggestions).await;
    platform.stop().await;
}

#[tokio::test]
async fn suggestions_past_one_page_come_back_in_the_order_received_each_once() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("paging-suggestions").await;
    let token = platform.token(&[Role::CentreManager], &[centre]);
    let path = format!("/v1/centres/{centre}/suggestions");
    let submitted: HashSet<String> = join_all((0..230).map(|n| {
        let (platform, token, path) = (&platform, &token, &path);
        async move {
            let (status, body) = platform
                .post_json(token, path, &json!({ "text": format!("建议{n}") }), None)
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["id"].as_str().expect("an id").to_owned()
        }
    }))
    .await
    .into_iter()
    .collect();
    let (rows, pages) = every_page(&platform, &token, &path, "suggestions", 200).await;
    assert_eq!(
        (rows.len(), pages),
        (230, 2),
        "none cut off (the list stopped at 500)"
    );
    assert_each_once(&rows, &submitted);
    let received: Vec<&str> = rows
        .iter()
        .map(|s| s["received_at"].as_str().expect("received_at"))
        .collect();
    assert!(
        received.windows(2).all(|w| w[0] <= w[1]),
        "in the order received"
    );
    let (small, _) = every_page(&platform, &token, &path, "suggestions", 11).await;
    assert_eq!(ids(&small), ids(&rows), "the same list in pages of 11");
    assert_refuses_bad_paging(
        &platform,
        &token,
        &path,
        &residents_token(&platform, centre).await,
    )
    .await;
    platform.stop().await;
}
