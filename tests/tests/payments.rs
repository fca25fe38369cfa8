//! Money that actually arrives (issue 24), end to end through the gateway: a booking with
//! a fee becomes a receivable of the resident (bookings' event, finance's consumer); the
//! desk records a WeChat Pay payment with its reference, which moves the money from
//! receivables to the bank and gives a numbered receipt; a refund takes it back the same
//! way; more than is owed is refused with a stable code said in Chinese.

use std::time::Duration;

use linli_platform::auth::Role;
use linli_tests::{TestPlatform, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

const EVENT_DEADLINE: Duration = Duration::from_secs(30);

struct Centre {
    platform: TestPlatform,
    centre: Uuid,
    manager: String,
    desk: String,
}

impl Centre {
    async fn open() -> Centre {
        let platform = TestPlatform::start().await;
        let centre = platform.bookable_centre("Asia/Shanghai").await;
        let manager = platform.token(&[Role::CentreManager], &[centre]);
        let desk = platform.token(&[Role::FrontDesk], &[centre]);
        Centre {
            platform,
            centre,
            manager,
            desk,
        }
    }

    fn path(&self, path: &str) -> String {
        format!("/v1/centres/{}{path}", self.centre)
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.platform
            .post_json(token, &self.path(path), &body, None)
            .await
    }

    async fn post_keyed(
        &self,
        token: &str,
        path: &str,
        body: Value,
        key: &str,
    ) -> (StatusCode, Value) {
        self.platform
            .post_json(token, &self.path(path), &body, Some(key))
            .await
    }

    async fn post_zh(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .platform
            .http
            .post(format!("{}{}", self.platform.gateway, self.path(path)))
            .bearer_auth(token)
            .header("Accept-Language", "zh-CN")
            .json(&body)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, token: &str, path: &str) -> Value {
        let (status, body) = self.platform.get_json(token, &self.path(path)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    /// A resident with a confirmed booking of a fee of `fee_minor`.
    async fn resident_with_a_fee(&self, fee_minor: i64) -> String {
        let (status, resident) = self
            .post(
                &self.manager,
                "/residents",
                json!({ "name": "王秀英", "gender": "female", "date_of_birth": "1950-03-01", "confirm_not_duplicate": true }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{resident}");
        let resident = resident["id"].as_str().expect("id").to_owned();
        self.platform
            .wait_for_residents_in_bookings(&[resident.parse().expect("uuid")])
            .await;
        let (status, offering) = self
            .post(
                &self.manager,
                "/offerings",
                json!({ "category": "health", "kind": "event", "name": "中医理疗", "capacity": 10, "fee_minor": fee_minor }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{offering}");
        let offering = offering["id"].as_str().expect("id").to_owned();
        let (status, session) = self
            .post(
                &self.manager,
                "/sessions",
                json!({ "offering_id": offering, "starts_at": "2027-03-09T09:00:00+08:00", "ends_at": "2027-03-09T10:00:00+08:00" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{session}");
        let (status, booking) = self
            .post(
                &self.desk,
                "/bookings",
                json!({ "offering_id": offering, "resident_id": resident, "session_id": session["id"] }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{booking}");
        assert_eq!(booking["fee_minor"], fee_minor, "{booking}");
        resident
    }

    async fn receivables(&self, query: &str) -> Value {
        self.get(&self.desk, &format!("/finance/receivables{query}"))
            .await
    }

    /// Each account's balance (debit - credit) by the trial balance, which must balance.
    async fn balance(&self, account: &str) -> i64 {
        let trial = self.get(&self.manager, "/finance/trial-balance").await;
        assert_eq!(
            trial["debit_total_minor"], trial["credit_total_minor"],
            "the ledger balances: {trial}"
        );
        trial["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["account_code"] == account)
            .map_or(0, |r| r["balance_minor"].as_i64().expect("balance"))
    }

    async fn outbox(&self, routing_key: &str) -> i64 {
        let pool = self.platform.pool("finance").await;
        let count = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE routing_key = $1")
            .bind(routing_key)
            .fetch_one(&pool)
            .await
            .expect("outbox");
        pool.close().await;
        count
    }

    async fn audited(&self, action: &str, subject: &str) -> i64 {
        let pool = self.platform.pool("finance").await;
        let count = sqlx::query_scalar(
            "SELECT count(*) FROM audit_trail WHERE action = $1 AND subject = $2",
        )
        .bind(action)
        .bind(subject)
        .fetch_one(&pool)
        .await
        .expect("audit");
        pool.close().await;
        count
    }
}

const BANK: &str = "1002";
const CASH: &str = "1001";
const RECEIVABLES: &str = "1122";

#[tokio::test]
async fn a_fee_is_owed_paid_by_wechat_with_a_receipt_and_refunded_back() {
    let c = Centre::open().await;
    let resident = c.resident_with_a_fee(3000).await;

    // The fee is owed by the resident, and by the centre in all.
    let owed = poll("the fee as a receivable", EVENT_DEADLINE, || async {
        let list = c.receivables(&format!("?resident_id={resident}")).await;
        (list["outstanding_minor"] == 3000).then_some(list)
    })
    .await;
    let charge = owed["receivables"][0].clone();
    assert_eq!(charge["outstanding_minor"], 3000, "{owed}");
    assert_eq!(charge["resident_id"], resident.as_str(), "{owed}");
    let charge_id = charge["charge_id"].as_str().expect("charge id").to_owned();
    assert_eq!(c.receivables("").await["outstanding_minor"], 3000);
    assert_eq!(c.balance(RECEIVABLES).await, 3000);
    assert_eq!(c.balance(BANK).await, 0);

    // More than is owed: refused with a stable code, said in Chinese with the money owed.
    let (status, refused) = c
        .post_zh(
            &c.desk,
            "/finance/payments",
            json!({ "charge_id": charge_id, "amount_minor": 3001, "method": "wechat_pay", "reference": "4200001234202612050001" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(refused["code"], "payment.exceeds_outstanding", "{refused}");
    assert!(
        refused["detail"]
            .as_str()
            .is_some_and(|d| d.contains("¥30.00")),
        "{refused}"
    );
    // WeChat Pay without its reference: refused naming the field.
    let (status, refused) = c
        .post(
            &c.desk,
            "/finance/payments",
            json!({ "charge_id": charge_id, "amount_minor": 3000, "method": "wechat_pay" }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["errors"][0]["field"], "reference", "{refused}");
    assert_eq!(c.balance(BANK).await, 0, "nothing moved by the refusals");

    // Paid at the desk by WeChat Pay; the same request again (its key) is the same payment.
    let body = json!({ "charge_id": charge_id, "amount_minor": 3000, "method": "wechat_pay", "reference": "4200001234202612050001" });
    let (status, paid) = c
        .post_keyed(&c.desk, "/finance/payments", body.clone(), "desk-pay-1")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    let (status, again) = c
        .post_keyed(&c.desk, "/finance/payments", body, "desk-pay-1")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["id"], paid["id"], "one payment for one key");
    let year = paid["received_on"].as_str().expect("date")[..4].to_owned();
    assert_eq!(paid["receipt"], format!("P{year}-000001"), "{paid}");
    assert_eq!(paid["method"], "wechat_pay");
    assert_eq!(paid["reference"], "4200001234202612050001");
    assert_eq!(paid["resident_id"], resident.as_str());
    let payment = paid["id"].as_str().expect("id").to_owned();

    let settled = c.receivables(&format!("?resident_id={resident}")).await;
    assert_eq!(settled["outstanding_minor"], 0, "{settled}");
    assert_eq!(
        settled["receivables"],
        json!([]),
        "settled charges are not listed"
    );
    let all = c
        .receivables(&format!("?resident_id={resident}&include_settled=true"))
        .await;
    assert_eq!(all["receivables"][0]["paid_minor"], 3000, "{all}");
    assert_eq!(c.receivables("").await["outstanding_minor"], 0);
    assert_eq!(c.balance(BANK).await, 3000);
    assert_eq!(c.balance(RECEIVABLES).await, 0);
    assert_eq!(c.outbox("finance.payment.received").await, 1);
    assert_eq!(c.audited("payment.received", &payment).await, 1);

    // Front desk takes money but does not give it back.
    let (status, _) = c
        .post(
            &c.desk,
            &format!("/finance/payments/{payment}/refund"),
            json!({ "reason": "活动取消" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, refused) = c
        .post(
            &c.manager,
            &format!("/finance/payments/{payment}/refund"),
            json!({}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a reason is required: {refused}"
    );

    // Refunded: back the same way, and owed again. Sent twice with its key, it is given
    // back once (the second answer is the first).
    let mut answers = Vec::new();
    for _ in 0..2 {
        answers.push(
            c.post_keyed(
                &c.manager,
                &format!("/finance/payments/{payment}/refund"),
                json!({ "reason": "活动取消，退还费用" }),
                "manager-refund-1",
            )
            .await,
        );
    }
    let (status, refunded) = answers.remove(0);
    assert_eq!(status, StatusCode::OK, "{refunded}");
    assert_eq!(
        answers[0],
        (StatusCode::OK, refunded.clone()),
        "the same refund"
    );
    assert_eq!(refunded["refunds"].as_array().map(Vec::len), Some(1));
    assert_eq!(refunded["refunded_minor"], 3000, "{refunded}");
    assert_eq!(refunded["refunds"][0]["reason"], "活动取消，退还费用");
    assert_eq!(c.balance(BANK).await, 0);
    assert_eq!(c.balance(RECEIVABLES).await, 3000);
    assert_eq!(
        c.receivables(&format!("?resident_id={resident}")).await["outstanding_minor"],
        3000
    );
    assert_eq!(c.outbox("finance.payment.refunded").await, 1);
    assert_eq!(c.audited("payment.refunded", &payment).await, 1);
    let (status, refused) = c
        .post(
            &c.manager,
            &format!("/finance/payments/{payment}/refund"),
            json!({ "amount_minor": 1, "reason": "再退一次" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(
        refused["code"], "payment.refund_exceeds_payment",
        "{refused}"
    );

    // Paid again in two parts, cash then a bank transfer: receipts follow on.
    let (status, cash) = c
        .post(
            &c.desk,
            "/finance/payments",
            json!({ "charge_id": charge_id, "amount_minor": 1000, "method": "cash" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{cash}");
    assert_eq!(cash["receipt"], format!("P{year}-000002"));
    let (status, bank) = c
        .post(
            &c.desk,
            "/finance/payments",
            json!({ "charge_id": charge_id, "amount_minor": 2000, "method": "bank_transfer", "reference": "ICBC-20261205-77" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bank}");
    assert_eq!(bank["receipt"], format!("P{year}-000003"));
    assert_eq!(c.balance(CASH).await, 1000);
    assert_eq!(c.balance(BANK).await, 2000);
    assert_eq!(c.balance(RECEIVABLES).await, 0);
    let got = c
        .get(&c.manager, &format!("/finance/payments/{payment}"))
        .await;
    assert_eq!(got["refunded_minor"], 3000, "{got}");
    c.platform.stop().await;
}

/// What is owed is said per resident and for the centre: two residents' fees, one paid.
#[tokio::test]
async fn outstanding_receivables_are_said_per_resident_and_per_centre() {
    let c = Centre::open().await;
    let first = c.resident_with_a_fee(1500).await;
    let second = c.resident_with_a_fee(2500).await;
    poll("both fees as receivables", EVENT_DEADLINE, || async {
        (c.receivables("").await["outstanding_minor"] == 4000).then_some(())
    })
    .await;
    let owed = c.receivables(&format!("?resident_id={first}")).await;
    assert_eq!(owed["outstanding_minor"], 1500, "{owed}");
    let charge = owed["receivables"][0]["charge_id"].clone();
    let (status, paid) = c
        .post(
            &c.desk,
            "/finance/payments",
            json!({ "charge_id": charge, "amount_minor": 1500, "method": "alipay", "reference": "2026120522001400001" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(
        c.receivables(&format!("?resident_id={first}")).await["outstanding_minor"],
        0
    );
    assert_eq!(
        c.receivables(&format!("?resident_id={second}")).await["outstanding_minor"],
        2500
    );
    let centre = c.receivables("").await;
    assert_eq!(centre["outstanding_minor"], 2500, "{centre}");
    assert_eq!(centre["receivables"].as_array().map(Vec::len), Some(1));

    // Another centre's staff see none of it.
    let elsewhere = c.platform.create_centre("elsewhere").await;
    let stranger = c.platform.token(&[Role::CentreManager], &[elsewhere]);
    let (status, _) = c
        .platform
        .get_json(&stranger, &c.path("/finance/receivables"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    c.platform.stop().await;
}
