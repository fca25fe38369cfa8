//! The demo district's instruments for `linli seed demo`: answered satisfaction and
//! awareness surveys this month, suggestions in every state, follow-ups and an
//! inspection, so the dashboard shows figures from the first start. Participation,
//! utilisation, volunteers, training and money come from the other services' events.
//! Running it again adds nothing.

use chrono::{Duration, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::store::{
    self, AWARENESS_TEMPLATE, AnswerRow, FollowUpRow, InspectionItemRow, InspectionRow,
    InvitationRow, SATISFACTION_TEMPLATE, SuggestionRow,
};

/// Seeds each centre that has no suggestions yet; returns each centre's answered surveys.
pub async fn demo(
    pool: &PgPool,
    centres: &[Uuid],
    residents: &[(Uuid, Uuid)],
    today: NaiveDate,
) -> anyhow::Result<Vec<(Uuid, i64)>> {
    let now = Utc::now();
    let mut seeded = Vec::new();
    for &centre in centres {
        if !store::list_suggestions(pool, centre, None, None, 1)
            .await?
            .is_empty()
        {
            seeded.push((centre, answered(pool, centre).await?));
            continue;
        }
        let people: Vec<Uuid> = residents
            .iter()
            .filter(|(_, c)| *c == centre)
            .map(|(r, _)| *r)
            .collect();
        // Thirty satisfaction answers (mostly 4 and 5) and forty awareness answers.
        for (n, resident) in people.iter().take(70).enumerate() {
            let satisfaction = n < 30;
            let invitation = InvitationRow {
                id: Uuid::new_v4(),
                centre_id: centre,
                template_id: if satisfaction {
                    SATISFACTION_TEMPLATE
                } else {
                    AWARENESS_TEMPLATE
                },
                resident_id: Some(*resident),
                delivery_id: None,
                offering_id: None,
                staff_id: None,
                created_at: now - Duration::hours(2),
                answered_at: None,
            };
            store::create_invitation(pool, &invitation).await?;
            let answer = |key: &str, score: Option<i32>, choices: Vec<String>| AnswerRow {
                invitation_id: invitation.id,
                key: key.to_owned(),
                score,
                choices,
                text: String::new(),
            };
            let answers = if satisfaction {
                let score = [5, 4, 5, 3, 4, 5, 4, 5, 2, 5][n % 10];
                vec![
                    answer("satisfaction", Some(score), Vec::new()),
                    answer("effectiveness", Some((score + 4) / 2 + 1), Vec::new()),
                    answer("professionalism", Some(score.max(3)), Vec::new()),
                ]
            } else {
                let knows = if n % 7 == 0 { "no" } else { "yes" };
                vec![answer("knows_services", None, vec![knows.to_owned()])]
            };
            let mut tx = pool.begin().await?;
            store::record_answers(&mut tx, invitation.id, &answers, now - Duration::hours(1))
                .await?;
            tx.commit().await?;
        }
        let texts = [
            ("希望增加周末的书法课", "received"),
            ("助餐的菜可以再清淡一些", "in_progress"),
            ("活动室的空调有点吵", "answered"),
        ];
        for (text, status) in texts {
            let row = SuggestionRow {
                id: Uuid::new_v4(),
                centre_id: centre,
                resident_id: None,
                channel: "box".into(),
                text: text.into(),
                status: "received".into(),
                reply: String::new(),
                received_at: now - Duration::days(3),
                answered_at: None,
            };
            store::create_suggestion(pool, &row).await?;
            // Through the suggestion's own flow, as staff would move it.
            if status != "received" {
                let at = now - Duration::days(2);
                store::move_suggestion(pool, centre, row.id, "in_progress", None, at).await?;
            }
            if status == "answered" {
                let reply = Some("已联系维修，下周更换");
                let at = now - Duration::days(1);
                store::move_suggestion(pool, centre, row.id, "answered", reply, at).await?;
            }
        }
        for (n, resident) in people.iter().take(2).enumerate() {
            store::create_follow_up(
                pool,
                &FollowUpRow {
                    id: Uuid::new_v4(),
                    centre_id: centre,
                    resident_id: Some(*resident),
                    staff_id: Uuid::new_v5(
                        &Uuid::NAMESPACE_OID,
                        format!("{centre}/demo-staff").as_bytes(),
                    ),
                    reason: "上周义诊后的电话回访".into(),
                    due_on: today + Duration::days(n as i64 + 1),
                    status: "open".into(),
                    outcome: String::new(),
                    done_at: None,
                },
            )
            .await?;
        }
        let inspection = InspectionRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            inspector: "街道督导组".into(),
            inspected_on: today,
        };
        let items: Vec<InspectionItemRow> = [
            ("服务场所整洁", true, 9),
            ("消防通道畅通", true, 10),
            ("服务公示上墙", false, 5),
        ]
        .into_iter()
        .map(|(item, passed, score)| InspectionItemRow {
            inspection_id: inspection.id,
            item: item.into(),
            passed,
            score,
            note: String::new(),
        })
        .collect();
        store::record_inspection(pool, &inspection, &items).await?;
        seeded.push((centre, answered(pool, centre).await?));
    }
    Ok(seeded)
}

async fn answered(pool: &PgPool, centre: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM invitations WHERE centre_id = $1 AND answered_at IS NOT NULL",
    )
    .bind(centre)
    .fetch_one(pool)
    .await
}
