//! The residents' site lists a resident's notices with one SQL query
//! (`store::notices_for_resident`) that restates the domain's rules: who is in a notice's
//! audience (`domain::in_audience`) and when it is shown (`domain::notice_state`). This
//! feeds every combination of age band and categories against every audience a notice
//! can name, with notices shown, scheduled and ended, and shows the query admits exactly
//! whom the domain admits, and nothing of another centre.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use linli_evaluation::domain::{in_audience, notice_state};
use linli_evaluation::store::notices_for_resident;
use linli_tests::TestPlatform;
use uuid::Uuid;

const BANDS: [&str; 3] = ["14-17", "60-79", "80+"];
const CATEGORIES: [&str; 3] = ["elderly", "disabled", "low_income"];

/// Every subset of `items`.
fn subsets(items: &[&str]) -> Vec<Vec<String>> {
    (0..1u32 << items.len())
        .map(|mask| {
            items
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, item)| (*item).to_owned())
                .collect()
        })
        .collect()
}

struct Notice {
    id: Uuid,
    categories: Vec<String>,
    bands: Vec<String>,
    from: chrono::DateTime<Utc>,
    until: Option<chrono::DateTime<Utc>>,
}

#[tokio::test]
async fn the_query_shows_a_resident_exactly_the_notices_the_domain_puts_them_in() {
    let platform = TestPlatform::start().await;
    let pool = platform.pool("evaluation").await;
    let centre = Uuid::new_v4();
    let elsewhere = Uuid::new_v4();
    let now = Utc::now();

    // Residents: each age band with each set of categories; one more at another centre.
    let mut residents = Vec::new();
    for band in BANDS {
        for categories in subsets(&CATEGORIES) {
            residents.push((Uuid::new_v4(), centre, band.to_owned(), categories));
        }
    }
    let stranger = Uuid::new_v4();
    residents.push((
        stranger,
        elsewhere,
        "60-79".to_owned(),
        vec!["elderly".to_owned()],
    ));
    for (id, centre, band, categories) in &residents {
        sqlx::query(
            "INSERT INTO directory.residents (id, centre_id, age_band, categories, registered_at)
             VALUES ($1, $2, $3, $4, now())",
        )
        .bind(id)
        .bind(centre)
        .bind(band)
        .bind(categories)
        .execute(&pool)
        .await
        .expect("a directory row");
    }

    // Notices: every audience of up to two bands and any categories, shown now; and the
    // same audiences scheduled for tomorrow or ended an hour ago for a few of them.
    let mut notices = Vec::new();
    for (n, (categories, bands)) in subsets(&CATEGORIES)
        .into_iter()
        .flat_map(|c| {
            subsets(&BANDS[..2])
                .into_iter()
                .map(move |b| (c.clone(), b))
        })
        .enumerate()
    {
        let (from, until) = match n % 5 {
            3 => (now + Duration::days(1), None),
            4 => (now - Duration::days(2), Some(now - Duration::hours(1))),
            _ => (
                now - Duration::days(1),
                (n % 2 == 0).then(|| now + Duration::days(3)),
            ),
        };
        notices.push(Notice {
            id: Uuid::new_v4(),
            categories,
            bands,
            from,
            until,
        });
    }
    for (n, notice) in notices.iter().enumerate() {
        sqlx::query(
            "INSERT INTO notices (id, centre_id, title, body, kind, publish_from, publish_until,
                                  pinned, audience_categories, audience_age_bands)
             VALUES ($1, $2, '通知', '内容', 'notice', $3, $4, $5, $6, $7)",
        )
        .bind(notice.id)
        .bind(centre)
        .bind(notice.from)
        .bind(notice.until)
        .bind(n % 3 == 0)
        .bind(&notice.categories)
        .bind(&notice.bands)
        .execute(&pool)
        .await
        .expect("a notice");
    }
    let shown = notices
        .iter()
        .filter(|n| notice_state(n.from, n.until, now) == "published")
        .count();
    assert!(shown > 0 && shown < notices.len(), "some shown, some not");

    let mut admitted_somewhere = 0;
    for (resident, at, band, categories) in &residents {
        let listed: BTreeSet<Uuid> =
            notices_for_resident(&pool, centre, *resident, now, None, 1000)
                .await
                .expect("the resident's notices")
                .into_iter()
                .map(|row| row.id)
                .collect();
        let expected: BTreeSet<Uuid> = if *at == centre {
            notices
                .iter()
                .filter(|n| notice_state(n.from, n.until, now) == "published")
                .filter(|n| in_audience(&n.categories, &n.bands, band, categories))
                .map(|n| n.id)
                .collect()
        } else {
            BTreeSet::new()
        };
        assert_eq!(
            listed,
            expected,
            "a resident aged {band} in {categories:?} at {}",
            if *at == centre {
                "the centre"
            } else {
                "another centre"
            }
        );
        admitted_somewhere += expected.len();
    }
    assert!(admitted_somewhere > 0, "the comparison admitted someone");
    pool.close().await;
    platform.stop().await;
}
