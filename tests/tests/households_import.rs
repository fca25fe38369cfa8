//! Households through the gateway's HTTP import route, as a desk uploads a district's
//! population sheet (人口信息表): each person's address in 楼号 / 单元 / 室 columns, their
//! relationship to the head of the household at that address (与户主关系), the groups
//! they belong to (人群类别) and their skills (技能) as Chinese words, several to a cell.
//! The household of a row is the one at its address: a row joins the household already
//! there (made by an earlier import or at the desk) and makes it when there is none.

use linli_platform::auth::Role;
use linli_tests::TestPlatform;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// The district's sheet. Row 8 names a member of a household the desk made before the
/// import; row 9 has a category the registry does not record.
const SHEET: &str = "姓名,性别,出生日期,楼号,单元,室,与户主关系,人群类别,技能
张建国,男,1948-03-01,7号楼,2单元,301,户主,独居、低保,理发、修电器
李秀英,女,1950-05-05,7号楼,2单元,301,配偶,残疾,剪纸，编织
张伟,男,1975-07-07,7号楼,2单元,301,儿子,,
周玉兰,女,1946-01-01,8号楼,1单元,102,户主,空巢,
周小红,女,1972-02-02,8号楼,1单元,102,女儿,,
王志,男,1978-08-08,7号楼,2单元,301,女婿,,
孙丽,女,1980-01-01,9号楼,3单元,501,女儿,,
郑强,男,1960-01-01,10号楼,1单元,201,户主,五保户,
";

struct Desk<'a> {
    platform: &'a TestPlatform,
    token: String,
    base: String,
}

impl Desk<'_> {
    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn import(&self) -> Value {
        let (status, report) = self
            .send(
                self.platform
                    .http
                    .post(format!("{}/residents/imports", self.base))
                    .header("content-type", "text/csv")
                    // The suites' client asks for English; a desk's asks for Chinese.
                    .header("accept-language", "zh-CN")
                    .body(SHEET),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{report}");
        report
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self
            .send(self.platform.http.get(format!("{}{path}", self.base)))
            .await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        body
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (status, answer) = self
            .send(
                self.platform
                    .http
                    .post(format!("{}{path}", self.base))
                    .json(&body),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {answer}");
        answer
    }

    /// The centre's residents by name, each as `GET …/residents/{id}` gives it.
    async fn residents(&self) -> std::collections::BTreeMap<String, Value> {
        let list = self.get("/residents?page_size=100").await;
        let mut residents = std::collections::BTreeMap::new();
        for resident in list["residents"].as_array().expect("residents") {
            let id = resident["id"].as_str().expect("id");
            let resident = self.get(&format!("/residents/{id}")).await;
            let name = resident["name"].as_str().expect("name").to_owned();
            assert!(
                residents.insert(name.clone(), resident).is_none(),
                "{name} is registered twice"
            );
        }
        residents
    }

    /// A household's members as (name, relationship), head first.
    async fn members(&self, household_id: &Value) -> Vec<(String, String)> {
        let household = self
            .get(&format!(
                "/households/{}",
                household_id.as_str().expect("a household")
            ))
            .await;
        household["members"]
            .as_array()
            .expect("members")
            .iter()
            .map(|m| {
                (
                    m["name"].as_str().expect("name").to_owned(),
                    m["relationship"].as_str().expect("relationship").to_owned(),
                )
            })
            .collect()
    }
}

fn pairs(members: &[(&str, &str)]) -> Vec<(String, String)> {
    members
        .iter()
        .map(|(n, r)| ((*n).to_owned(), (*r).to_owned()))
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    let mut items: Vec<String> = value
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().expect("text").to_owned())
        .collect();
    items.sort();
    items
}

fn skills(resident: &Value) -> Vec<(String, String)> {
    let mut skills: Vec<(String, String)> = resident["skills"]
        .as_array()
        .expect("skills")
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().expect("kind").to_owned(),
                s["name"].as_str().expect("name").to_owned(),
            )
        })
        .collect();
    skills.sort();
    skills
}

/// What the report says of each refused row: (row, field, code, words).
fn refusals(report: &Value) -> Vec<(u64, String, String, String)> {
    report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().expect("row"),
                e["field"].as_str().expect("field").to_owned(),
                e["code"].as_str().expect("code").to_owned(),
                e["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_district_sheet_imports_households_heads_addresses_categories_and_skills_and_a_reimport_adds_no_head()
 {
    let platform = TestPlatform::start().await;
    let centre: Uuid = platform.create_centre("households-import").await;
    let desk = Desk {
        platform: &platform,
        token: platform.token(&[Role::FrontDesk], &[centre]),
        base: format!("{}/v1/centres/{centre}", platform.gateway),
    };

    // A household the desk made before the import: 孙立 heads 9号楼3单元501.
    let head = desk
        .post(
            "/residents",
            json!({ "name": "孙立", "gender": "male", "date_of_birth": "1949-04-04",
                    "building": "9号楼", "unit": "3单元", "room": "501" }),
        )
        .await;
    let earlier = desk
        .post("/households", json!({ "head_resident_id": head["id"] }))
        .await;

    let report = desk.import().await;
    assert_eq!(report["rows"], 8, "{report}");
    assert_eq!(report["imported"], 7, "{report}");
    let refused = refusals(&report);
    assert_eq!(refused.len(), 1, "{report}");
    let (row, field, code, message) = &refused[0];
    assert_eq!(
        (*row, field.as_str(), code.as_str()),
        (9, "categories", "import.row.category"),
        "{report}"
    );
    assert!(
        message.contains("人群类别") && message.contains("五保户"),
        "said in Chinese, naming the word: {message}"
    );
    assert!(
        !message.chars().any(|c| c.is_ascii_alphabetic()),
        "no English in {message}"
    );

    let residents = desk.residents().await;
    assert!(!residents.contains_key("郑强"), "row 9 was refused whole");
    let zhang = &residents["张建国"];
    assert_eq!(
        (&zhang["building"], &zhang["unit"], &zhang["room"]),
        (&json!("7号楼"), &json!("2单元"), &json!("301"))
    );
    // `elderly` the registry derives from the age; the others are the sheet's words.
    assert_eq!(
        strings(&zhang["categories"]),
        ["elderly", "living_alone", "low_income"]
    );
    assert_eq!(
        skills(zhang),
        pairs(&[("skill", "修电器"), ("skill", "理发")])
    );
    assert_eq!(zhang["relationship"], "head");
    let li = &residents["李秀英"];
    assert_eq!(strings(&li["categories"]), ["disability", "elderly"]);
    assert_eq!(skills(li), pairs(&[("skill", "剪纸"), ("skill", "编织")]));
    assert_eq!(
        strings(&residents["周玉兰"]["categories"]),
        ["elderly", "living_alone"]
    );

    let zhangs = &zhang["household_id"];
    assert_eq!(
        desk.members(zhangs).await,
        pairs(&[
            ("张建国", "head"),
            ("李秀英", "spouse"),
            ("张伟", "child"),
            ("王志", "other_relative"),
        ])
    );
    let zhous = &residents["周玉兰"]["household_id"];
    assert_ne!(zhous, zhangs);
    assert_eq!(
        desk.members(zhous).await,
        pairs(&[("周玉兰", "head"), ("周小红", "child")])
    );
    // Row 8 joined the household the desk had made, under its head.
    assert_eq!(residents["孙丽"]["household_id"], earlier["id"]);
    assert_eq!(
        desk.members(&earlier["id"]).await,
        pairs(&[("孙立", "head"), ("孙丽", "child")])
    );

    // The same sheet again: every good row is recognised, no resident, household or head
    // is added, and row 9 is refused as before.
    let again = desk.import().await;
    assert_eq!(again["imported"], 0, "{again}");
    assert_eq!(again["already_registered"], json!([2, 3, 4, 5, 6, 7, 8]));
    assert_eq!(refusals(&again), refused);
    let after = desk.residents().await;
    assert_eq!(after.len(), residents.len(), "no one registered twice");
    for (name, resident) in &residents {
        assert_eq!(
            (&after[name]["household_id"], &after[name]["relationship"]),
            (&resident["household_id"], &resident["relationship"]),
            "{name}"
        );
    }
    assert_eq!(desk.members(zhangs).await.len(), 4);
    assert_eq!(desk.members(zhous).await.len(), 2);

    let pool = platform.pool("registry").await;
    let households: Vec<(String, i64)> = sqlx::query_as(
        "SELECT h.building || h.unit || h.room,
                count(r.id) FILTER (WHERE r.relationship = 'head')
         FROM households h LEFT JOIN residents r ON r.household_id = h.id
         WHERE h.centre_id = $1 GROUP BY h.id ORDER BY 1",
    )
    .bind(centre)
    .fetch_all(&pool)
    .await
    .expect("households counted");
    assert_eq!(
        households,
        [
            ("7号楼2单元301".to_owned(), 1),
            ("8号楼1单元102".to_owned(), 1),
            ("9号楼3单元501".to_owned(), 1),
        ],
        "three households, one head each, after two imports"
    );
    // PostgreSQL itself refuses a second head, whatever writes it.
    let second = sqlx::query(
        "UPDATE residents SET relationship = 'head' WHERE household_id = $1 AND name = '李秀英'",
    )
    .bind(Uuid::parse_str(zhangs.as_str().expect("id")).expect("uuid"))
    .execute(&pool)
    .await
    .expect_err("a second head");
    assert!(
        second.to_string().contains("households_one_head"),
        "{second}"
    );
    pool.close().await;
    platform.stop().await;
}
