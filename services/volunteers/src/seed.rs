//! The demo workforce of `linli seed demo`: each demo centre's staff (one of each
//! position, licences and certificates included), a training course most of them
//! completed, about one resident in ten as a volunteer with skills and weekly windows,
//! opportunities and next week's shifts with sign-ups, verified hours, and community
//! groups. Everything goes through the same store functions as the API; running it again
//! adds nothing.

use anyhow::Context as _;
use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use linli_proto::events::v1::ResidentRegistered;
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::Window;
use crate::store::{
    self, CertificationRow, CourseRow, GroupRow, OpportunityRow, Profile, StaffRow,
};

/// What was seeded for one centre: (centre, volunteers, staff).
pub type Seeded = (Uuid, i64, i64);

/// Seeds each centre that has no staff yet; returns its counts. The directory holds the
/// centres and residents already (see `linli_platform::directory::record_announced`).
pub async fn demo(
    pool: &PgPool,
    centres: &[Uuid],
    residents: &[ResidentRegistered],
    today: NaiveDate,
) -> anyhow::Result<Vec<Seeded>> {
    let mut counts = Vec::new();
    for centre in centres {
        if store::list_staff(pool, *centre, None, None, 1)
            .await?
            .is_empty()
        {
            let people: Vec<Uuid> = residents
                .iter()
                .filter(|r| {
                    r.centre_id == centre.to_string()
                        && r.age_band != "0-13"
                        && r.age_band != "14-17"
                })
                .filter_map(|r| r.resident_id.parse().ok())
                .collect();
            workforce(pool, *centre, &people, today)
                .await
                .with_context(|| format!("seeding the demo workforce of centre {centre}"))?;
        }
        let volunteers = store::list_volunteers(pool, *centre, Some("active"), None, None, i64::MAX)
            .await?
            .len() as i64;
        let staff = store::list_staff(pool, *centre, Some(today), None, i64::MAX)
            .await?
            .len() as i64;
        counts.push((*centre, volunteers, staff));
    }
    Ok(counts)
}

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

async fn workforce(
    pool: &PgPool,
    centre: Uuid,
    people: &[Uuid],
    today: NaiveDate,
) -> anyhow::Result<()> {
    let tz = {
        let mut conn = pool.acquire().await?;
        store::centre_zone(&mut conn, centre).await?
    };
    let names = ["王主任", "李护士", "张医生", "刘老师", "陈社工", "赵窗口"];
    let positions = [
        "manager",
        "nurse",
        "doctor",
        "teacher",
        "social_worker",
        "government_affairs_clerk",
    ];
    let mut staff = Vec::new();
    for (i, (name, position)) in names.iter().zip(positions).enumerate() {
        let row = StaffRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            name: (*name).to_owned(),
            position: position.to_owned(),
            employed_from: today - Duration::days(900 - 60 * i as i64),
            employed_until: None,
        };
        staff.push(store::add_staff(pool, &row).await?);
    }
    let licence = |holder: Uuid, kind: &str, issuer: &str, expires: NaiveDate| CertificationRow {
        id: Uuid::new_v4(),
        centre_id: centre,
        holder_kind: String::new(),
        holder_id: holder,
        kind: kind.to_owned(),
        issuer: issuer.to_owned(),
        number: format!("DEMO-{}", &Uuid::new_v4().simple().to_string()[..8]),
        issued_on: Some(expires - Duration::days(5 * 365)),
        expires_on: Some(expires),
        expiring_announced_at: None,
    };
    store::add_certification(
        pool,
        &licence(
            staff[1].id,
            "nurse_licence",
            "省卫生健康委员会",
            today + Duration::days(20),
        ),
    )
    .await?;
    store::add_certification(
        pool,
        &licence(
            staff[2].id,
            "medical_licence",
            "省卫生健康委员会",
            today + Duration::days(700),
        ),
    )
    .await?;
    store::add_certification(
        pool,
        &licence(
            staff[3].id,
            "teacher_certificate",
            "区教育局",
            today + Duration::days(1200),
        ),
    )
    .await?;

    let course = store::create_course(
        pool,
        &CourseRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            title: "社区服务礼仪与沟通".into(),
            topic: "service".into(),
            audience: "all".into(),
            minutes: 180,
        },
    )
    .await?;
    // Five of six staff trained within the year: 83 % against the plan's 90 %.
    for (i, member) in staff.iter().take(5).enumerate() {
        store::record_completion(
            pool,
            centre,
            course.id,
            None,
            member.id,
            today - Duration::days(20 + 40 * i as i64),
        )
        .await?;
    }

    let skills = [
        vec!["elderly_care", "cooking"],
        vec!["tutoring", "reading"],
        vec!["first_aid", "elderly_care"],
        vec!["dance", "music"],
        vec!["computer", "tutoring"],
    ];
    let mut volunteers = Vec::new();
    for (i, resident) in people.iter().step_by(10).enumerate() {
        let day = (i % 7) as u32 + 1;
        let profile = Profile {
            display_name: format!("志愿者{:03}", i + 1),
            skills: skills[i % skills.len()]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            languages: vec!["mandarin".into()],
            availability: vec![
                Window {
                    weekday: day,
                    starts: time(8, 30),
                    ends: time(12, 0),
                },
                Window {
                    weekday: day % 7 + 1,
                    starts: time(14, 0),
                    ends: time(17, 30),
                },
            ],
            background_checked: i % 3 == 0,
            background_checked_on: (i % 3 == 0).then_some(today - Duration::days(100)),
        };
        let volunteer = store::register_volunteer(
            pool,
            centre.into(),
            (*resident).into(),
            &profile,
            false,
            Utc::now(),
        )
        .await?;
        if i % 4 == 0 {
            store::add_certification(
                pool,
                &licence(
                    volunteer.id,
                    "first_aid",
                    "区红十字会",
                    today + Duration::days(15 + 30 * i as i64),
                ),
            )
            .await?;
        }
        volunteers.push(volunteer);
    }

    let opportunity =
        |title: &str, skills: &[&str], certs: &[&str], minors: bool, location: &str| {
            OpportunityRow {
                id: Uuid::new_v4(),
                centre_id: centre,
                title: title.to_owned(),
                description: String::new(),
                required_skills: skills.iter().map(|s| (*s).to_owned()).collect(),
                required_certifications: certs.iter().map(|s| (*s).to_owned()).collect(),
                works_with_minors: minors,
                location: location.to_owned(),
            }
        };
    let meals = store::create_opportunity(
        pool,
        &opportunity(
            "长者食堂助餐",
            &["elderly_care", "cooking"],
            &[],
            false,
            "长者食堂",
        ),
    )
    .await?;
    let homework = store::create_opportunity(
        pool,
        &opportunity(
            "四点半课堂作业辅导",
            &["tutoring"],
            &[],
            true,
            "青少年活动室",
        ),
    )
    .await?;
    let health = store::create_opportunity(
        pool,
        &opportunity(
            "健康讲座现场急救",
            &["first_aid"],
            &["first_aid"],
            false,
            "多功能活动室",
        ),
    )
    .await?;
    let at = |day: NaiveDate, h: u32| {
        tz.from_local_datetime(&day.and_time(time(h, 0)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(Utc::now)
    };
    for offset in 1..=7 {
        let day = today + Duration::days(offset);
        store::create_shift(pool, centre, meals.id, at(day, 10), at(day, 13), 4, "").await?;
        if offset % 2 == 1 {
            store::create_shift(pool, centre, homework.id, at(day, 16), at(day, 18), 3, "").await?;
        }
    }
    let talk = store::create_shift(
        pool,
        centre,
        health.id,
        at(today + Duration::days(3), 9),
        at(today + Duration::days(3), 11),
        2,
        "",
    )
    .await?;
    let shifts =
        store::list_shifts(pool, centre, Some(meals.id), None, None, None, i64::MAX).await?;
    // Sign-ups through the same rules as the desk's: the unqualified are simply refused.
    for (volunteer, shift) in volunteers.iter().zip(shifts.iter().cycle()) {
        let (centre, volunteer) = (centre.into(), volunteer.id.into());
        let _ = store::sign_up(pool, centre, shift.id.into(), volunteer, Utc::now()).await;
        let _ = store::sign_up(pool, centre, talk.id.into(), volunteer, Utc::now()).await;
    }
    // Last month's work, logged and verified.
    for (i, volunteer) in volunteers.iter().enumerate() {
        for week in 0..(i % 5) as i64 {
            let entry = store::log_hours(
                pool,
                centre.into(),
                volunteer.id.into(),
                None,
                today - Duration::days(3 + 7 * week),
                180,
                "",
                "seed-desk",
            )
            .await?;
            store::verify_hours(
                pool,
                centre.into(),
                entry.id.into(),
                true,
                "",
                "seed-coordinator",
                Utc::now(),
            )
            .await?;
        }
    }

    let group = |name: &str, kind: &str, rooms: &[&str], equipment: &[&str]| GroupRow {
        id: Uuid::new_v4(),
        centre_id: centre,
        name: name.to_owned(),
        kind: kind.to_owned(),
        description: String::new(),
        support_rooms: rooms.iter().map(|s| (*s).to_owned()).collect(),
        support_equipment: equipment.iter().map(|s| (*s).to_owned()).collect(),
    };
    let groups = [
        store::create_group(
            pool,
            &group("夕阳红舞蹈队", "art_team", &["多功能活动室"], &["音响"]),
        )
        .await?,
        store::create_group(
            pool,
            &group("邻里志愿服务队", "volunteer_group", &["志愿者之家"], &[]),
        )
        .await?,
        store::create_group(
            pool,
            &group("书法兴趣小组", "interest_group", &["书画室"], &["书法桌"]),
        )
        .await?,
    ];
    for (i, resident) in people.iter().skip(1).step_by(7).take(30).enumerate() {
        let role = if i < 3 { "leader" } else { "member" };
        store::add_group_member(pool, centre, groups[i % 3].id, *resident, role, today).await?;
    }
    Ok(())
}
