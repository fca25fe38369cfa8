//! Households (户) over the registry's gRPC, against real PostgreSQL: one address with its
//! members and their relationship to the head of household, at most one head whoever
//! asks and however often a sheet is imported, and an import that carries the address,
//! categories, skills and relationship columns it used to drop.

use linli_platform::auth::Role;
use linli_platform::error::{refusal_of, violations_of};
use linli_proto::registry::v1 as registry;
use linli_proto::registry::v1::registry_client::RegistryClient;
use linli_tests::TestPlatform;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tonic::transport::Channel;
use uuid::Uuid;

/// A registry client whose every call carries `token`.
struct Desk {
    client: RegistryClient<Channel>,
    token: String,
}

impl Desk {
    async fn new(platform: &TestPlatform, token: String) -> Desk {
        let client = RegistryClient::connect(format!("http://{}", platform.registry))
            .await
            .expect("the registry answers");
        Desk { client, token }
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {}", self.token).parse().expect("ascii"),
        );
        request
    }

    async fn register(&self, registration: registry::CreateResidentRequest) -> registry::Resident {
        let request = self.request(registration);
        self.client
            .clone()
            .create_resident(request)
            .await
            .expect("registered")
            .into_inner()
    }

    async fn resident(&self, centre: Uuid, id: &str) -> registry::Resident {
        let request = self.request(registry::GetResidentRequest {
            centre_id: centre.to_string(),
            id: id.to_owned(),
            ..Default::default()
        });
        self.client
            .clone()
            .get_resident(request)
            .await
            .expect("found")
            .into_inner()
    }

    async fn household(&self, centre: Uuid, id: &str) -> registry::Household {
        let request = self.request(registry::GetHouseholdRequest {
            centre_id: centre.to_string(),
            id: id.to_owned(),
        });
        self.client
            .clone()
            .get_household(request)
            .await
            .expect("household found")
            .into_inner()
    }

    async fn place(
        &self,
        centre: Uuid,
        resident: &str,
        household: &str,
        relationship: &str,
    ) -> Result<registry::Resident, tonic::Status> {
        let request = self.request(registry::PlaceInHouseholdRequest {
            centre_id: centre.to_string(),
            resident_id: resident.to_owned(),
            household_id: household.to_owned(),
            relationship: relationship.to_owned(),
        });
        self.client
            .clone()
            .place_in_household(request)
            .await
            .map(tonic::Response::into_inner)
    }

    async fn import(&self, centre: Uuid, sheet: &str) -> registry::ImportResidentsReport {
        let request = self.request(registry::ImportResidentsRequest {
            centre_id: centre.to_string(),
            file: sheet.as_bytes().to_vec(),
            encoding: "utf-8".into(),
            mapping: Default::default(),
        });
        self.client
            .clone()
            .import_residents(request)
            .await
            .expect("the sheet is read")
            .into_inner()
    }
}

fn person(
    centre: Uuid,
    name: &str,
    born: &str,
    address: [&str; 3],
) -> registry::CreateResidentRequest {
    registry::CreateResidentRequest {
        centre_id: centre.to_string(),
        name: name.into(),
        gender: registry::Gender::Female as i32,
        date_of_birth: born.into(),
        building: address[0].into(),
        unit: address[1].into(),
        room: address[2].into(),
        ..Default::default()
    }
}

/// Members as (name, relationship), in the household's order.
fn members(household: &registry::Household) -> Vec<(String, String)> {
    household
        .members
        .iter()
        .map(|m| (m.name.clone(), m.relationship.clone()))
        .collect()
}

#[tokio::test]
async fn a_household_is_one_address_with_one_head_and_members_registered_or_placed_into_it() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("households").await;
    let desk = Desk::new(&platform, platform.token(&[Role::FrontDesk], &[centre])).await;
    let address = ["1号楼", "3单元", "403"];

    let head = desk
        .register(person(centre, "张建国", "1950-03-01", address))
        .await;
    assert_eq!(
        (head.household_id.as_str(), head.relationship.as_str()),
        ("", ""),
        "no household until one is made"
    );
    let request = desk.request(registry::CreateHouseholdRequest {
        centre_id: centre.to_string(),
        head_resident_id: head.id.clone(),
    });
    let household = desk
        .client
        .clone()
        .create_household(request)
        .await
        .expect("a household at the head's address")
        .into_inner();
    assert_eq!(
        (
            household.building.as_str(),
            household.unit.as_str(),
            household.room.as_str()
        ),
        ("1号楼", "3单元", "403")
    );
    assert_eq!(members(&household), [("张建国".into(), "head".into())]);

    // One household per address: a neighbour at the same door is pointed to it.
    let lodger = desk
        .register(person(centre, "周敏", "1990-01-01", address))
        .await;
    let request = desk.request(registry::CreateHouseholdRequest {
        centre_id: centre.to_string(),
        head_resident_id: lodger.id.clone(),
    });
    let refused = desk
        .client
        .clone()
        .create_household(request)
        .await
        .expect_err("a second household at one address");
    assert_eq!(refused.code(), tonic::Code::AlreadyExists);
    let (code, params) = refusal_of(&refused).expect("a refusal with its code");
    assert_eq!(code, "household_exists");
    assert_eq!(params["household_id"], household.id);

    // Registered straight into the household: its address, their relationship.
    let request = desk.request(registry::RegisterHouseholdMemberRequest {
        resident: Some(person(centre, "李秀英", "1952-05-06", ["", "", ""])),
        household_id: household.id.clone(),
        relationship: "配偶".into(),
    });
    let spouse = desk
        .client
        .clone()
        .register_household_member(request)
        .await
        .expect("registered into the household")
        .into_inner();
    assert_eq!(
        (spouse.household_id.as_str(), spouse.relationship.as_str()),
        (household.id.as_str(), "spouse")
    );
    assert_eq!(
        (
            spouse.building.as_str(),
            spouse.unit.as_str(),
            spouse.room.as_str()
        ),
        ("1号楼", "3单元", "403")
    );

    // A second head is refused naming the field, and the registration is not kept.
    let request = desk.request(registry::RegisterHouseholdMemberRequest {
        resident: Some(person(centre, "张二国", "1951-01-01", ["", "", ""])),
        household_id: household.id.clone(),
        relationship: "户主".into(),
    });
    let refused = desk
        .client
        .clone()
        .register_household_member(request)
        .await
        .expect_err("a second head");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert_eq!(violations_of(&refused)[0].field, "relationship");
    let pool = platform.pool("registry").await;
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM residents WHERE name = '张二国'")
        .fetch_one(&pool)
        .await
        .expect("counted");
    assert_eq!(kept, 0, "the refused registration left nothing");

    // A resident registered earlier is placed into it; the lodger's own address is kept
    // only as long as they stay out.
    let child = desk
        .register(person(centre, "张小明", "1980-08-08", ["9号楼", "", "101"]))
        .await;
    let placed = desk
        .place(centre, &child.id, &household.id, "child")
        .await
        .expect("placed");
    assert_eq!(placed.room, "403", "the household's address becomes theirs");
    let refused = desk
        .place(centre, &child.id, &household.id, "head")
        .await
        .expect_err("a child cannot become a second head");
    assert_eq!(violations_of(&refused)[0].field, "relationship");
    let refused = desk
        .place(centre, &child.id, &Uuid::new_v4().to_string(), "child")
        .await
        .expect_err("no such household");
    assert_eq!(violations_of(&refused)[0].field, "household_id");

    let household = desk.household(centre, &household.id).await;
    assert_eq!(
        members(&household),
        [
            ("张建国".into(), "head".into()),
            ("李秀英".into(), "spouse".into()),
            ("张小明".into(), "child".into()),
        ],
        "the head first, then by relationship"
    );
    let read = desk.resident(centre, &spouse.id).await;
    assert_eq!(read.relationship, "spouse");
    // The resident's own copy of what the registry holds names their household too.
    let request = desk.request(registry::ExportResidentRequest {
        centre_id: centre.to_string(),
        id: spouse.id.clone(),
        purpose: "resident's request at the desk".into(),
    });
    let export = desk
        .client
        .clone()
        .export_resident(request)
        .await
        .expect("exported")
        .into_inner();
    let document: Value = serde_json::from_slice(&export.json).expect("the export is JSON");
    assert_eq!(document["resident"]["household_id"], household.id.as_str());
    assert_eq!(document["resident"]["relationship"], "spouse");

    // Another centre's desk sees none of it.
    let other = platform.create_centre("households-other").await;
    let stranger = Desk::new(&platform, platform.token(&[Role::FrontDesk], &[other])).await;
    let request = stranger.request(registry::GetHouseholdRequest {
        centre_id: centre.to_string(),
        id: household.id.clone(),
    });
    let refused = stranger
        .client
        .clone()
        .get_household(request)
        .await
        .expect_err("another centre's household");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    pool.close().await;
    platform.stop().await;
}

/// A sheet as a centre keeps it: address, categories and skills in columns of their own,
/// and each person's relationship to the head of their household.
const SHEET: &str = "姓名,性别,出生日期,手机,楼栋,单元,房号,类别,特长,职业,爱好,与户主关系
王大明,男,1950-01-01,13800000001,2号楼,1单元,101,独居、低保,急救,医生,书法；太极,户主
刘桂兰,女,1952-02-02,,2号楼,1单元,101,,,,,配偶
王小明,男,1980-03-03,,2号楼,1单元,101,,,,,子女
王二明,男,1955-05-05,,2号楼,1单元,101,,,,,户主
陈静,女,1990-06-06,,3号楼,,202,,,,,女儿
赵六,男,1960-01-01,,,,,,,,,户主
";

fn errors(report: &registry::ImportResidentsReport) -> Vec<(u32, String)> {
    report
        .errors
        .iter()
        .map(|e| (e.row, e.field.clone()))
        .collect()
}

#[tokio::test]
async fn an_import_carries_address_categories_skills_and_households_and_a_reimport_never_makes_a_second_head()
 {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("household-import").await;
    let desk = Desk::new(&platform, platform.token(&[Role::FrontDesk], &[centre])).await;

    let report = desk.import(centre, SHEET).await;
    assert_eq!(report.imported, 4, "{report:?}");
    assert_eq!(
        errors(&report),
        [(5, "relationship".into()), (7, "relationship".into())],
        "a second head of 2号楼1单元101, and a head with no address"
    );

    let pool = platform.pool("registry").await;
    let id_of = |name: &'static str| {
        let pool = pool.clone();
        async move {
            let id: Uuid = sqlx::query_scalar("SELECT id FROM residents WHERE name = $1")
                .bind(name)
                .fetch_one(&pool)
                .await
                .expect("imported");
            id.to_string()
        }
    };
    let head = desk.resident(centre, &id_of("王大明").await).await;
    assert_eq!(
        (
            head.building.as_str(),
            head.unit.as_str(),
            head.room.as_str()
        ),
        ("2号楼", "1单元", "101")
    );
    assert!(
        head.categories.contains(&"living_alone".to_owned())
            && head.categories.contains(&"low_income".to_owned()),
        "{:?}",
        head.categories
    );
    let mut skills: Vec<(String, String)> = head
        .skills
        .iter()
        .map(|s| (s.kind.clone(), s.name.clone()))
        .collect();
    skills.sort();
    assert_eq!(
        skills,
        [
            ("hobby".into(), "书法".into()),
            ("hobby".into(), "太极".into()),
            ("profession".into(), "医生".into()),
            ("skill".into(), "急救".into()),
        ]
    );
    assert_eq!(head.relationship, "head");
    let household = desk.household(centre, &head.household_id).await;
    assert_eq!(
        members(&household),
        [
            ("王大明".into(), "head".into()),
            ("刘桂兰".into(), "spouse".into()),
            ("王小明".into(), "child".into()),
        ]
    );
    let daughter = desk.resident(centre, &id_of("陈静").await).await;
    assert_eq!(daughter.relationship, "child");
    assert_ne!(daughter.household_id, head.household_id);

    // The same sheet again adds nothing; the sheet with the head's phone changed (so the
    // row is not recognised as him) is refused for that row rather than a second head.
    let again = desk.import(centre, SHEET).await;
    assert_eq!(again.imported, 0, "{again:?}");
    assert_eq!(again.already_registered, [2, 3, 4, 6]);
    assert_eq!(
        errors(&again),
        [(5, "relationship".into()), (7, "relationship".into())]
    );
    let changed = SHEET.replace("13800000001", "13900000009");
    let changed = desk.import(centre, &changed).await;
    assert_eq!(changed.imported, 0, "{changed:?}");
    assert_eq!(
        errors(&changed),
        [
            (2, "relationship".into()),
            (5, "relationship".into()),
            (7, "relationship".into())
        ]
    );
    let heads: Vec<(String, i64)> = sqlx::query_as(
        "SELECT h.building || h.room, count(r.id) FILTER (WHERE r.relationship = 'head')
         FROM households h LEFT JOIN residents r ON r.household_id = h.id
         WHERE h.centre_id = $1 GROUP BY h.id ORDER BY 1",
    )
    .bind(centre)
    .fetch_all(&pool)
    .await
    .expect("households counted");
    assert_eq!(
        heads,
        [("2号楼101".into(), 1), ("3号楼202".into(), 0)],
        "two households, one head between them, after three imports"
    );

    // 陈静's household has no head yet: of eight desks naming a head at once, one wins.
    let mut candidates = Vec::new();
    for n in 0..8 {
        let resident = desk
            .register(person(
                centre,
                &format!("候选{n}"),
                "1970-01-01",
                ["", "", ""],
            ))
            .await;
        candidates.push(resident.id);
    }
    let attempts = candidates
        .iter()
        .map(|id| desk.place(centre, id, &daughter.household_id, "head"));
    let results = futures::future::join_all(attempts).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| violations_of(e)[0].field == "relationship")
    );
    pool.close().await;
    platform.stop().await;
}

/// The same through the gateway: what the console and other clients call.
#[tokio::test]
async fn the_gateway_makes_households_registers_and_places_members_and_refuses_a_second_head() {
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("household-http").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    let base = format!("{}/v1/centres/{centre}", platform.gateway);
    let send = |method: reqwest::Method, path: String, body: Value| {
        let request = platform
            .http
            .request(method, format!("{base}{path}"))
            .bearer_auth(&desk)
            .json(&body);
        async move {
            let response = request.send().await.expect("the gateway answers");
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let post = |path: &str, body: Value| send(reqwest::Method::POST, path.to_owned(), body);

    let (status, head) = post(
        "/residents",
        json!({ "name": "孙立", "gender": "male", "date_of_birth": "1948-04-04",
                "building": "5号楼", "unit": "2单元", "room": "602" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{head}");
    assert!(head.get("household_id").is_none(), "{head}");
    let (status, household) = post("/households", json!({ "head_resident_id": head["id"] })).await;
    assert_eq!(status, StatusCode::CREATED, "{household}");
    let household_id = household["id"].as_str().expect("id").to_owned();
    let (status, problem) = post("/households", json!({ "head_resident_id": head["id"] })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "head_resident_id");

    let (status, member) = post(
        &format!("/households/{household_id}/members"),
        json!({ "name": "孙小梅", "gender": "female", "date_of_birth": "2015-09-09",
                "relationship": "孙女" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{member}");
    assert_eq!(member["household_id"], household_id.as_str());
    assert_eq!(member["relationship"], "grandchild");
    assert_eq!(member["room"], "602");
    let (status, problem) = post(
        &format!("/households/{household_id}/members"),
        json!({ "name": "孙二", "gender": "male", "date_of_birth": "1950-01-01",
                "relationship": "户主" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "relationship");

    let (status, neighbour) = post(
        "/residents",
        json!({ "name": "钱芳", "gender": "female", "date_of_birth": "1950-02-02",
                "building": "5号楼", "unit": "2单元", "room": "602" }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{neighbour}");
    let (status, problem) = post(
        "/households",
        json!({ "head_resident_id": neighbour["id"] }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "household_exists");
    assert_eq!(problem["params"]["household_id"], household_id.as_str());
    let (status, placed) = send(
        reqwest::Method::PUT,
        format!(
            "/residents/{}/household",
            neighbour["id"].as_str().expect("id")
        ),
        json!({ "household_id": household_id, "relationship": "other" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{placed}");
    assert_eq!(placed["relationship"], "other");

    let (status, household) = send(
        reqwest::Method::GET,
        format!("/households/{household_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{household}");
    let members: Vec<(&str, &str)> = household["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            (
                m["name"].as_str().expect("name"),
                m["relationship"].as_str().expect("relationship"),
            )
        })
        .collect();
    assert_eq!(
        members,
        [
            ("孙立", "head"),
            ("孙小梅", "grandchild"),
            ("钱芳", "other")
        ]
    );
    platform.stop().await;
}
