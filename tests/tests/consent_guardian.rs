//! A child's consent at the desk, with the guardian found by name or pinyin initials on the
//! resident's page (issue 22), never typed as a raw id: one match is taken, several are
//! offered to choose from (what was typed kept), none is said beside the field.

use linli_platform::auth::Role;
use linli_tests::TestPlatform;
use linli_tests::phone::{console_user, csrf_of};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

const PASSWORD: &str = "correct-horse-battery";

struct Desk {
    platform: TestPlatform,
    centre: Uuid,
    manager: String,
    user: (reqwest::Client, String),
}

impl Desk {
    async fn register(&self, name: &str, born: &str) -> String {
        let (status, body) = self
            .platform
            .post_json(
                &self.manager,
                &format!("/v1/centres/{}/residents", self.centre),
                &json!({ "name": name, "gender": "male", "date_of_birth": born, "confirm_not_duplicate": true }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("an id").to_owned()
    }

    async fn page(&self, path: &str) -> String {
        self.user
            .0
            .get(format!("{}{path}", self.platform.gateway))
            .header("cookie", &self.user.1)
            .send()
            .await
            .expect("a page")
            .text()
            .await
            .unwrap_or_default()
    }

    /// Posts the consent form of `child`'s page with `fields`.
    async fn consent(&self, child: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let path = format!("/c/{}/residents/{child}", self.centre);
        let csrf = csrf_of(&self.page(&path).await);
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        let response = self
            .user
            .0
            .post(format!("{}{path}/consents", self.platform.gateway))
            .header("cookie", &self.user.1)
            .form(&form)
            .send()
            .await
            .expect("posted");
        (response.status(), response.text().await.unwrap_or_default())
    }

    async fn guardian_of(&self, child: &str, purpose: &str) -> serde_json::Value {
        let (status, consents) = self
            .platform
            .get_json(
                &self.manager,
                &format!("/v1/centres/{}/residents/{child}/consents", self.centre),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{consents}");
        consents["consents"]
            .as_array()
            .and_then(|all| all.iter().find(|c| c["purpose"] == purpose))
            .map(|c| c["guardian_id"].clone())
            .unwrap_or_default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_guardian_is_found_by_name_or_pinyin_and_chosen_when_several_match() {
    let platform = TestPlatform::start().await;
    let centre = platform.bookable_centre("Asia/Shanghai").await;
    let manager = platform.token(&[Role::CentreManager], &[centre]);
    platform
        .staff_account("desk-g", "front_desk", &[centre], PASSWORD)
        .await;
    let user = console_user(&platform, "desk-g", PASSWORD).await;
    let desk = Desk {
        platform,
        centre,
        manager,
        user,
    };
    let child = desk.register("王小明", "2018-06-01").await;
    let father = desk.register("王建国", "1985-02-03").await;
    let uncle = desk.register("王建华", "1988-09-10").await;

    // The page asks for a name, not an id.
    let page = desk.page(&format!("/c/{centre}/residents/{child}")).await;
    assert!(
        page.contains("name=\"guardian_q\"") && !page.contains("居民编号"),
        "no raw id field"
    );

    // Nobody by that name: said beside the field, the typing and the choices kept.
    let (status, page) = desk
        .consent(
            &child,
            &[
                ("purpose", "activity_contact"),
                ("granted", "true"),
                ("source", "in_person"),
                ("guardian_q", "赵大海"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        page.contains("id=\"f-guardian_q-error\"") && page.contains("没有找到这位居民"),
        "{page}"
    );
    assert!(page.contains("value=\"赵大海\""), "the typing kept");
    assert!(
        page.contains("value=\"activity_contact\" selected")
            && page.contains("value=\"in_person\" selected"),
        "the choices kept"
    );

    // Two by 王建: a list to choose from; the choice records the consent.
    let (status, page) = desk
        .consent(
            &child,
            &[
                ("purpose", "activity_contact"),
                ("granted", "true"),
                ("source", "in_person"),
                ("guardian_q", "王建"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("找到多位居民"), "{page}");
    assert!(
        page.contains(&format!("value=\"{father}\""))
            && page.contains(&format!("value=\"{uncle}\"")),
        "both offered"
    );
    assert!(
        !page.contains(&format!("name=\"guardian_id\" value=\"{child}\"")),
        "not the child themselves"
    );
    let (status, _) = desk
        .consent(
            &child,
            &[
                ("purpose", "activity_contact"),
                ("granted", "true"),
                ("source", "in_person"),
                ("guardian_q", "王建"),
                ("guardian_id", &uncle),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        desk.guardian_of(&child, "activity_contact").await,
        json!(uncle)
    );

    // By pinyin initials, one match: taken as it is.
    let (status, page) = desk
        .consent(
            &child,
            &[
                ("purpose", "service_delivery"),
                ("granted", "true"),
                ("source", "paper_form"),
                ("guardian_q", "wjg"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert_eq!(
        desk.guardian_of(&child, "service_delivery").await,
        json!(father)
    );
    desk.platform.stop().await;
}
