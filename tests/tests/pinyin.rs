//! Issue 24's list of Chinese names as staff type them, through the gateway's resident
//! search: the surname read as a surname (曾 zeng, 单 shan, 区 ou, 仇 qiu, 解 xie, 查 zha,
//! 朴 piao, 盖 ge, 乐 yue, 尉迟 yuchi, 覃 qin, 缪 miao, 召 shao, 翟 zhai, 柏 bai, 秘 bi,
//! 万俟 moqi), ü typed as v or u (吕 lv, lu), two-character surnames (欧阳, 司马, 诸葛, 上官,
//! 皇甫, 令狐, 东方, 慕容, 司徒, 夏侯 …), each by full pinyin and by initials; and residents
//! indexed by an older rule are indexed again when the registry starts (the startup
//! backfill of `name_keys_version`). The rule is the registry's
//! `domain/name_search.rs`; registry.rs has the suite's first list of 40.

use linli_platform::auth::Role;
use linli_tests::TestPlatform;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

/// (name, full pinyin, initials).
const NAMES: &[(&str, &str, &str)] = &[
    ("曾小贤", "zengxiaoxian", "zxx"),
    ("曾国藩", "zengguofan", "zgf"),
    ("单田芳", "shantianfang", "stf"),
    ("单雄信", "shanxiongxin", "sxx"),
    ("区家明", "oujiaming", "ojm"),
    ("仇小梅", "qiuxiaomei", "qxm"),
    ("解缙", "xiejin", "xj"),
    ("查海生", "zhahaisheng", "zhs"),
    ("朴正民", "piaozhengmin", "pzm"),
    ("盖聂", "genie", "gn"),
    ("乐毅", "yueyi", "yy"),
    ("尉迟敬德", "yuchijingde", "ycjd"),
    ("覃丽华", "qinlihua", "qlh"),
    ("缪小红", "miaoxiaohong", "mxh"),
    ("召明", "shaoming", "sm"),
    ("翟志刚", "zhaizhigang", "zzg"),
    ("柏杨", "baiyang", "by"),
    ("秘兰", "bilan", "bl"),
    ("万俟丽", "moqili", "mql"),
    ("吕建国", "lvjianguo", "ljg"),
    ("吕秀兰", "luxiulan", "lxl"),
    ("欧阳修", "ouyangxiu", "oyx"),
    ("欧阳锋", "ouyangfeng", "oyf"),
    ("司马迁", "simaqian", "smq"),
    ("诸葛瑾", "zhugejin", "zgj"),
    ("上官云", "shangguanyun", "sgy"),
    ("皇甫嵩", "huangfusong", "hfs"),
    ("令狐兰", "linghulan", "lhl"),
    ("东方红", "dongfanghong", "dfh"),
    ("慕容雪", "murongxue", "mrx"),
    ("司徒美", "situmei", "stm"),
    ("夏侯渊", "xiahouyuan", "xhy"),
    ("长孙华", "zhangsunhua", "zsh"),
    ("宇文泰", "yuwentai", "ywt"),
    ("闾丘明", "luqiuming", "lqm"),
];

async fn search(platform: &TestPlatform, centre: Uuid, token: &str, q: &str) -> Vec<String> {
    let (status, page) = platform
        .get_json(
            token,
            &format!("/v1/centres/{centre}/residents?q={q}&page_size=200"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["residents"]
        .as_array()
        .expect("residents")
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_owned())
        .collect()
}

/// Every name by its full pinyin and its initials: the searches that missed it.
async fn missed(platform: &TestPlatform, centre: Uuid, token: &str) -> Vec<String> {
    let mut missed = Vec::new();
    for (name, full, initials) in NAMES {
        for q in [*full, *initials] {
            if !search(platform, centre, token, q)
                .await
                .iter()
                .any(|n| n == name)
            {
                missed.push(format!("{q} → {name}"));
            }
        }
    }
    missed
}

#[tokio::test]
async fn the_issues_names_are_found_by_surname_reading_u_as_v_or_u_and_after_reindexing() {
    assert!(NAMES.len() >= 30);
    let platform = TestPlatform::start().await;
    let centre = platform.create_centre("pinyin").await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    for (name, _, _) in NAMES {
        let (status, body) = platform
            .post_json(
                &desk,
                &format!("/v1/centres/{centre}/residents"),
                &json!({ "name": name, "gender": "female", "date_of_birth": "1958-04-01" }),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
    }
    assert_eq!(missed(&platform, centre, &desk).await, Vec::<String>::new());
    // The issue's own examples, exactly.
    assert_eq!(search(&platform, centre, &desk, "zxx").await, ["曾小贤"]);
    assert_eq!(search(&platform, centre, &desk, "stf").await, ["单田芳"]);
    assert_eq!(search(&platform, centre, &desk, "oyx").await, ["欧阳修"]);
    for q in ["lvjianguo", "lujianguo"] {
        assert_eq!(search(&platform, centre, &desk, q).await, ["吕建国"], "{q}");
    }
    for q in ["lvxiulan", "lvqiuming"] {
        assert_eq!(search(&platform, centre, &desk, q).await.len(), 1, "{q}");
    }
    // The character's everyday reading is not the surname's.
    assert!(
        search(&platform, centre, &desk, "cengguofan")
            .await
            .is_empty()
    );
    assert!(
        search(&platform, centre, &desk, "chouxiaomei")
            .await
            .is_empty()
    );

    // Residents indexed by an older rule (here none at all) are indexed again at start.
    let pool = platform.pool("registry").await;
    sqlx::query("DELETE FROM resident_name_keys")
        .execute(&pool)
        .await
        .expect("keys deleted");
    sqlx::query("UPDATE residents SET name_keys_version = 0")
        .execute(&pool)
        .await
        .expect("marked old");
    pool.close().await;
    assert!(search(&platform, centre, &desk, "zxx").await.is_empty());
    let platform = platform.restart().await;
    let desk = platform.token(&[Role::FrontDesk], &[centre]);
    assert_eq!(missed(&platform, centre, &desk).await, Vec::<String>::new());
    platform.stop().await;
}
