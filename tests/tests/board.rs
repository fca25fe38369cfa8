//! The board (理事会) end to end (issue 24): members drawn from residents, government,
//! business and NGOs with their terms; the finance oversight group (财务监督小组) as a
//! committee whose members are the centre's auditors; every membership change audited and
//! published through evaluation's outbox; meetings with attendance, agenda, minutes and
//! decisions tracked to done. The centre's manager writes, other staff read, another
//! centre sees nothing. Every call through the gateway.

use std::time::Duration;

use chrono::{Days, NaiveDate, Utc};
use linli_platform::auth::Role;
use linli_proto::events::v1::BoardMembershipChanged;
use linli_proto::registry::v1 as re;
use linli_proto::registry::v1::registry_client::RegistryClient;
use linli_tests::{TestPlatform, bearer, poll};
use prost::Message;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

fn today() -> NaiveDate {
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

struct Board {
    platform: TestPlatform,
    centre: Uuid,
    manager: String,
}

impl Board {
    async fn open() -> Board {
        let platform = TestPlatform::start().await;
        let centre = platform.bookable_centre("Asia/Shanghai").await;
        let manager = platform.token(&[Role::CentreManager], &[centre]);
        Board {
            platform,
            centre,
            manager,
        }
    }

    fn path(&self, rest: &str) -> String {
        format!("/v1/centres/{}{rest}", self.centre)
    }

    async fn post_as(&self, token: &str, rest: &str, body: Value) -> (StatusCode, Value) {
        self.platform
            .post_json(token, &self.path(rest), &body, None)
            .await
    }

    async fn post(&self, rest: &str, body: Value) -> (StatusCode, Value) {
        self.post_as(&self.manager, rest, body).await
    }

    async fn get_as(&self, token: &str, rest: &str) -> (StatusCode, Value) {
        self.platform.get_json(token, &self.path(rest)).await
    }

    /// Registers a resident and waits until evaluation's directory knows them.
    async fn resident(&self, name: &str) -> String {
        let (status, body) = self
            .post(
                "/residents",
                json!({ "name": name, "gender": "female", "date_of_birth": "1958-03-01", "confirm_not_duplicate": true }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id: Uuid = body["id"].as_str().expect("id").parse().expect("uuid");
        self.platform
            .wait_in_directory("evaluation", "residents", &[id])
            .await;
        id.to_string()
    }

    async fn member(&self, body: Value) -> Value {
        let (status, body) = self.post("/board/members", body).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// The events published for the centre's board, oldest first.
    async fn events(&self) -> Vec<BoardMembershipChanged> {
        let pool = self.platform.pool("evaluation").await;
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT payload FROM outbox WHERE routing_key = 'evaluation.board.membership_changed'
               AND centre_id = $1 ORDER BY seq",
        )
        .bind(self.centre)
        .fetch_all(&pool)
        .await
        .expect("outbox readable");
        pool.close().await;
        rows.into_iter()
            .map(|(payload,)| BoardMembershipChanged::decode(payload.as_slice()).expect("event"))
            .collect()
    }
}

fn actions(audit: &Value) -> Vec<(String, String, String)> {
    let mut entries: Vec<(String, String, String)> = audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["member_id"].as_str().unwrap_or_default().to_owned(),
                e["action"].as_str().unwrap_or_default().to_owned(),
                e["committee"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    entries.sort();
    entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn members_have_terms_the_finance_oversight_group_are_auditors_and_every_change_is_audited() {
    let board = Board::open().await;
    let resident = board.resident("陈静").await;
    let term = json!({ "term_from": "2026-01-01", "term_until": "2028-12-31" });
    let mut chair =
        json!({ "name": "陈静", "sector": "resident", "resident_id": resident, "role": "chair" });
    chair
        .as_object_mut()
        .unwrap()
        .extend(term.as_object().unwrap().clone());
    let chair = board.member(chair).await;
    assert_eq!(chair["role"], "chair");
    assert_eq!(chair["current"], true);
    assert_eq!(chair["auditor"], false);
    let official = board
        .member(json!({ "name": "王主任", "sector": "government", "committees": ["finance_oversight"],
                        "staff_username": "wang.zr", "term_from": "2026-01-01", "term_until": "2028-12-31" }))
        .await;
    assert_eq!(official["auditor"], true, "{official}");
    assert_eq!(official["committees"], json!(["finance_oversight"]));
    assert_eq!(official["role"], "member");
    assert_eq!(official["resident_id"], Value::Null);
    let (chair_id, official_id) = (
        chair["id"].as_str().unwrap().to_owned(),
        official["id"].as_str().unwrap().to_owned(),
    );

    // What is refused: a resident of nobody here, a resident for another sector, an
    // unknown committee, a term that ends before it begins.
    let (status, body) = board
        .post(
            "/board/members",
            json!({ "name": "路人", "sector": "resident", "resident_id": Uuid::new_v4(),
                    "term_from": "2026-01-01", "term_until": "2028-12-31" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "directory.not_a_resident", "{body}");
    let (status, body) = board
        .post(
            "/board/members",
            json!({ "name": "陈静", "sector": "business", "resident_id": resident, "committees": ["kitchen"],
                    "term_from": "2028-01-01", "term_until": "2026-12-31" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let mut fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "member.committees[0]",
            "member.resident_id",
            "member.term_until"
        ],
        "{body}"
    );

    // The chair joins the finance oversight group, and leaves it.
    let committees = |id: &str| format!("/board/members/{id}/committees");
    let (status, body) = board
        .post(
            &committees(&chair_id),
            json!({ "committees": ["finance_oversight"] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["auditor"], true);
    let (status, body) = board
        .post(&committees(&chair_id), json!({ "committees": [] }))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["auditor"], false);

    // The official's membership ends today: no longer current, nor an auditor.
    let (status, ended) = board
        .post(&format!("/board/members/{official_id}/end"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended["ended_on"], today().to_string());
    assert_eq!(ended["auditor"], false);
    assert_eq!(ended["committees"], json!([]));
    let (status, body) = board
        .post(&format!("/board/members/{official_id}/end"), json!({}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "board.membership_ended");
    let (status, body) = board
        .post(
            &committees(&official_id),
            json!({ "committees": ["finance_oversight"] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Every change is an audit row, with who made it...
    let (status, audit) = board.get_as(&board.manager, "/board/audit").await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let mut expected = vec![
        (chair_id.clone(), "added".into(), String::new()),
        (
            chair_id.clone(),
            "committee_joined".into(),
            "finance_oversight".into(),
        ),
        (
            chair_id.clone(),
            "committee_left".into(),
            "finance_oversight".into(),
        ),
        (official_id.clone(), "added".into(), String::new()),
        (
            official_id.clone(),
            "committee_joined".into(),
            "finance_oversight".into(),
        ),
        (
            official_id.clone(),
            "committee_left".into(),
            "finance_oversight".into(),
        ),
        (official_id.clone(), "ended".into(), String::new()),
    ];
    expected.sort();
    assert_eq!(actions(&audit), expected);
    assert!(
        audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"].as_str().is_some_and(|a| !a.is_empty()))
    );
    // ... and an event through the outbox, saying who is an auditor now and their account.
    let events = board.events().await;
    assert_eq!(events.len(), expected.len());
    let joined = events
        .iter()
        .find(|e| e.member_id == official_id && e.action == "committee_joined")
        .expect("the official joined");
    assert!(joined.auditor);
    assert_eq!(joined.staff_username, "wang.zr");
    let ended = events
        .iter()
        .find(|e| e.member_id == official_id && e.action == "ended")
        .expect("the official's end");
    assert!(!ended.auditor);
    assert!(
        !format!("{events:?}").contains("陈静"),
        "no name in an event"
    );

    // Other staff read, and do not write; current_only leaves the ended membership out.
    let coordinator = board.platform.token(&[Role::Coordinator], &[board.centre]);
    let (status, list) = board
        .get_as(&coordinator, "/board/members?current_only=true")
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let ids: Vec<&str> = list["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [chair_id.as_str()]);
    let (status, all) = board.get_as(&coordinator, "/board/members").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["members"].as_array().unwrap().len(), 2);
    let (status, _) = board
        .post_as(
            &coordinator,
            "/board/members",
            json!({ "name": "李四", "sector": "ngo", "term_from": "2026-01-01", "term_until": "2026-12-31" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Another centre's manager sees nothing of this board.
    let elsewhere = board.platform.bookable_centre("Asia/Shanghai").await;
    let theirs = board.platform.token(&[Role::CentreManager], &[elsewhere]);
    let (status, _) = board.get_as(&theirs, "/board/members").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, list) = board
        .platform
        .get_json(&theirs, &format!("/v1/centres/{elsewhere}/board/members"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["members"], json!([]));
    board.platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_meeting_keeps_attendance_agenda_minutes_and_decisions_tracked_to_done() {
    let board = Board::open().await;
    let term = |name: &str, sector: &str| json!({ "name": name, "sector": sector, "term_from": "2026-01-01", "term_until": "2028-12-31" });
    let a = board.member(term("赵经理", "business")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = board.member(term("孙会长", "ngo")).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let yesterday = today() - Days::new(1);
    let later = today() + Days::new(30);
    let meeting = json!({
        "held_on": (today() - Days::new(7)).to_string(),
        "title": "2027年第一次理事会",
        "agenda": ["审议年度预算", "财务监督小组工作报告"],
        "minutes": "会议由理事长主持，审议通过年度预算。",
        "attendee_ids": [a, b],
        "decisions": [
            { "text": "公示年度预算", "owner_member_id": a, "due_on": yesterday.to_string() },
            { "text": "走访辖区企业，争取合作资源", "owner_member_id": b, "due_on": later.to_string() }
        ]
    });
    let (status, held) = board.post("/board/meetings", meeting.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    assert_eq!(held["attendee_ids"], json!([a, b]));
    assert_eq!(held["agenda"][1], "财务监督小组工作报告");
    let decisions = held["decisions"].as_array().expect("decisions");
    assert_eq!(decisions.len(), 2);
    let publish = decisions
        .iter()
        .find(|d| d["text"] == "公示年度预算")
        .expect("decision");
    assert_eq!(publish["owner_member_id"], a.as_str());
    assert_eq!(publish["overdue"], true, "{publish}");
    assert_eq!(publish["done"], false);

    // Only the board's members attend and own decisions.
    let mut stranger = meeting.clone();
    stranger["attendee_ids"] = json!([a, Uuid::new_v4()]);
    let (status, body) = board.post("/board/meetings", stranger).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "meeting.attendee_ids[1]");
    assert_eq!(body["errors"][0]["code"], "board.not_a_member");

    // Tracked to done, once.
    let id = publish["id"].as_str().unwrap();
    let (status, done) = board
        .post(&format!("/board/decisions/{id}/done"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["done"], true);
    assert_eq!(done["overdue"], false);
    assert_eq!(done["done_on"], today().to_string());
    let response = reqwest::Client::new()
        .post(format!(
            "{}{}",
            board.platform.gateway,
            board.path(&format!("/board/decisions/{id}/done"))
        ))
        .bearer_auth(&board.manager)
        .json(&json!({}))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.expect("a problem");
    assert_eq!(body["code"], "board.decision_done");
    assert_eq!(body["detail"], format!("该决议已于 {} 办结", today()));

    let (status, open) = board
        .get_as(&board.manager, "/board/decisions?open_only=true")
        .await;
    assert_eq!(status, StatusCode::OK, "{open}");
    let open: Vec<&str> = open["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["text"].as_str().unwrap())
        .collect();
    assert_eq!(open, ["走访辖区企业，争取合作资源"]);
    let auditor = board.platform.token(&[Role::Auditor], &[board.centre]);
    let (status, meetings) = board.get_as(&auditor, "/board/meetings").await;
    assert_eq!(status, StatusCode::OK, "{meetings}");
    let meetings = meetings["meetings"].as_array().unwrap();
    assert_eq!(meetings.len(), 1);
    assert_eq!(
        meetings[0]["minutes"],
        "会议由理事长主持，审议通过年度预算。"
    );
    assert_eq!(meetings[0]["decisions"].as_array().unwrap().len(), 2);
    let (status, _) = board
        .post_as(&auditor, &format!("/board/decisions/{id}/done"), json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    board.platform.stop().await;
}

/// The roles of each of the centre's console accounts, by username, as the registry
/// answers the district.
async fn roles(board: &Board) -> Vec<(String, Vec<String>)> {
    let mut client = RegistryClient::connect(format!("http://{}", board.platform.registry))
        .await
        .expect("registry answers");
    let mut accounts: Vec<(String, Vec<String>)> = client
        .list_staff_accounts(bearer(
            &board.platform.admin_token(),
            re::ListStaffAccountsRequest {
                centre_id: board.centre.to_string(),
            },
        ))
        .await
        .expect("accounts")
        .into_inner()
        .accounts
        .into_iter()
        .map(|a| {
            let mut roles = a.roles;
            roles.sort();
            (a.username, roles)
        })
        .collect();
    accounts.sort();
    accounts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_member_of_the_finance_oversight_group_gets_the_auditor_role_for_their_centre_while_sitting()
 {
    let board = Board::open().await;
    let elsewhere = board.platform.bookable_centre("Asia/Shanghai").await;
    // A coordinator of this centre alone, and one who also works at another centre.
    board
        .platform
        .staff_account("zhao.xz", "coordinator", &[board.centre], "correct horse 1")
        .await;
    board
        .platform
        .staff_account(
            "qian.gz",
            "coordinator",
            &[board.centre, elsewhere],
            "correct horse 2",
        )
        .await;
    let term = |name: &str, username: &str| {
        json!({ "name": name, "sector": "ngo", "committees": ["finance_oversight"], "staff_username": username,
                "term_from": "2026-01-01", "term_until": "2028-12-31" })
    };
    let zhao = board.member(term("赵小正", "zhao.xz")).await;
    board.member(term("钱国正", "qian.gz")).await;
    let expected = |zhao: &[&str]| {
        vec![
            ("qian.gz".to_owned(), vec!["coordinator".to_owned()]),
            (
                "zhao.xz".to_owned(),
                zhao.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            ),
        ]
    };
    // The account of this centre alone gets the role; the other is only recorded (its
    // roles hold at every centre it covers).
    let want = expected(&["auditor", "coordinator"]);
    poll(
        "the auditor role given",
        Duration::from_secs(30),
        || async { (roles(&board).await == want).then_some(()) },
    )
    .await;
    let pool = board.platform.pool("registry").await;
    let mut outcomes: Vec<(String,)> =
        sqlx::query_as("SELECT outcome FROM board_auditor_grants WHERE centre_id = $1")
            .bind(board.centre)
            .fetch_all(&pool)
            .await
            .expect("grants readable");
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            ("covers_other_centres".to_owned(),),
            ("granted".to_owned(),)
        ]
    );
    pool.close().await;

    // Leaving the group takes back what it gave.
    let id = zhao["id"].as_str().unwrap();
    let (status, body) = board
        .post(
            &format!("/board/members/{id}/committees"),
            json!({ "committees": [] }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let want = expected(&["coordinator"]);
    poll(
        "the auditor role taken back",
        Duration::from_secs(30),
        || async { (roles(&board).await == want).then_some(()) },
    )
    .await;
    board.platform.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_resident_members_erasure_takes_their_name_and_link_and_keeps_the_seats_history() {
    let board = Board::open().await;
    let resident = board.resident("周敏").await;
    let member = board
        .member(json!({ "name": "周敏", "sector": "resident", "resident_id": resident,
                        "committees": ["finance_oversight"], "term_from": "2026-01-01", "term_until": "2028-12-31" }))
        .await;
    let id = member["id"].as_str().unwrap().to_owned();
    let (status, body) = board
        .post(
            &format!("/residents/{resident}/erasure"),
            json!({ "reason": "本人申请" }),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let erased = poll(
        "the board to hear of the erasure",
        Duration::from_secs(30),
        || async {
            let (_, list) = board.get_as(&board.manager, "/board/members").await;
            let member = list["members"]
                .as_array()?
                .iter()
                .find(|m| m["id"] == id.as_str())?
                .clone();
            (member["name"] == "").then_some(member)
        },
    )
    .await;
    assert_eq!(erased["resident_id"], Value::Null);
    assert_eq!(erased["sector"], "resident");
    assert_eq!(erased["committees"], json!(["finance_oversight"]));
    let (_, audit) = board
        .get_as(&board.manager, &format!("/board/audit?member_id={id}"))
        .await;
    assert_eq!(audit["entries"].as_array().unwrap().len(), 2, "{audit}");
    board.platform.stop().await;
}
