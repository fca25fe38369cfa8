//! The message catalogue: every refusal's stable code (with its parameters) said in
//! Simplified Chinese and in English. The services give codes and parameters (see
//! `linli_platform::error::Reason`); this is the one place that turns them into words a
//! person reads, for the HTTP API's problem documents (`detail`, and `message` per field,
//! in the language `Accept-Language` asks for, zh-CN by default), the console and the
//! residents' site. A code missing here falls back to words that say what kind of
//! problem it is, never to a raw code.

pub use crate::Lang;

use std::collections::BTreeMap;

use crate::terms::{certification, money, reason as translate_reason, skill, term};

/// The words for `code` with `params`, or `None` when the catalogue does not know the code.
pub fn message(lang: Lang, code: &str, params: &BTreeMap<String, String>) -> Option<String> {
    let p = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    if let Some(said) = plain(lang, code, p) {
        return Some(said);
    }
    let (zh, en): (String, String) = match code {
        "ineligible.category" => (
            format!(
                "不符合参加条件：本项目只面向{}居民",
                p("categories")
                    .split(',')
                    .map(|c| term(Lang::Zh, c))
                    .collect::<Vec<_>>()
                    .join("或")
            ),
            format!(
                "not eligible: the offering is for residents who are {}",
                p("categories").replace(',', " or ")
            ),
        ),
        "volunteer.not_qualified" => {
            let mut zh = "该志愿者不符合岗位要求".to_owned();
            let mut missing: Vec<String> = p("certifications")
                .split(',')
                .filter(|k| !k.is_empty())
                .map(|k| certification(Lang::Zh, k))
                .collect();
            if p("background_check") == "missing" {
                missing.push("无犯罪记录证明".into());
            }
            if !missing.is_empty() {
                zh.push_str(&format!("：缺少或已过期的{}", missing.join("、")));
            }
            (zh, "not qualified for the shift".into())
        }
        "staff.not_licensed" => {
            let licence = match p("licence") {
                "medical_licence" => "医师/护士执业证书".to_owned(),
                other => certification(Lang::Zh, other),
            };
            let zh = match p("expired_on") {
                "" => format!("该员工没有{licence}，不能安排提供此项服务"),
                expired => format!(
                    "该员工的{licence}已于 {expired} 过期，早于场次日期 {}，不能安排",
                    p("session_on")
                ),
            };
            let en = match p("expired_on") {
                "" => format!("not licensed: holds no {}", p("licence")),
                expired => format!(
                    "not licensed: the {} expired on {expired}, before the session on {}",
                    p("licence"),
                    p("session_on")
                ),
            };
            (zh, en)
        }
        "match.lacks_skills" => (
            format!(
                "缺少技能：{}",
                p("skills")
                    .split(',')
                    .map(|s| skill(Lang::Zh, s))
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            format!("lacks {}", p("skills").replace(',', ", ")),
        ),
        _ => return None,
    };
    Some(match lang {
        Lang::Zh => zh,
        Lang::En => en,
    })
}

/// The codes whose words need nothing but their parameters, in `catalogue.txt` (where
/// translators edit them): a line each, `code | 中文 | English`, a parameter as `{name}`,
/// or `{name|how}` said as a status or category (`term`), a request field (`field`), a
/// month (`month`), a thing (`thing`), a certification (`certification`) or fen as money
/// (`money`) in the line's language.
const PLAIN: &str = include_str!("catalogue.txt");

/// A code of [`PLAIN`] in `lang`, its parameters filled in by `p`.
fn plain<'a>(lang: Lang, code: &str, p: impl Fn(&str) -> &'a str) -> Option<String> {
    let line = PLAIN
        .lines()
        .find_map(|l| l.strip_prefix(code)?.strip_prefix(" | "))?;
    let (zh, en) = line.split_once(" | ")?;
    let mut pieces = lang.pick(zh, en).split('{');
    let mut said = pieces.next().unwrap_or_default().to_owned();
    for piece in pieces {
        let (name, rest) = piece.split_once('}').unwrap_or((piece, ""));
        let (name, filter) = name.split_once('|').unwrap_or((name, ""));
        let value = p(name);
        said.push_str(&match filter {
            "term" => term(lang, value),
            "field" => field_name(lang, value),
            "month" => month_words(lang, value),
            "thing" => thing(lang, value),
            "certification" => certification(lang, value),
            "money" => money(value.parse().unwrap_or(0)),
            _ => value.to_owned(),
        });
        said.push_str(rest);
    }
    Some(said)
}

/// A reason given as code, parameters and English words (a field violation's, an import
/// row's), in `lang`.
pub fn said(lang: Lang, code: &str, params: &BTreeMap<String, String>, english: &str) -> String {
    message(lang, code, params).unwrap_or_else(|| translate_reason(lang, english))
}

/// What an HTTP status means, when the problem has no code the catalogue knows.
pub fn status_message(lang: Lang, status: u16) -> String {
    let code = code_of_status(status);
    message(lang, code, &BTreeMap::new()).unwrap_or_else(|| lang.pick("无法办理", "refused").into())
}

/// The code a problem without one of its own carries, by its HTTP status.
pub fn code_of_status(status: u16) -> &'static str {
    match status {
        400 => "invalid_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        409 => "conflict",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        503 => "unavailable",
        504 => "timeout",
        500..=599 => "internal",
        _ => "refused",
    }
}

/// A thing a service says it could not find, as people call it (`thing:` lines of
/// [`PLAIN`]); 记录 when the catalogue does not name it.
fn thing(lang: Lang, what: &str) -> String {
    named(
        lang,
        "thing",
        what,
        "记录",
        if what.is_empty() { "record" } else { what },
    )
}

/// A request field's name in a sentence (`starts_at` as 开始时间; `field:` lines).
fn field_name(lang: Lang, field: &str) -> String {
    named(lang, "field", field, "前一项", field)
}

/// The words of `kind:name` in [`PLAIN`], or the fallbacks.
fn named(lang: Lang, kind: &str, name: &str, zh: &str, en: &str) -> String {
    plain(lang, &format!("{kind}:{name}"), |_| "").unwrap_or_else(|| lang.pick(zh, en).to_owned())
}

/// `2026-11` as 2026年11月.
fn month_words(lang: Lang, month: &str) -> String {
    match (lang, month.split_once('-')) {
        (Lang::Zh, Some((year, m))) => {
            format!("{year}年{}月", m.trim_start_matches('0'))
        }
        (Lang::Zh, None) => "该月".into(),
        (Lang::En, _) => month.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn accept_language_picks_the_heaviest_language_it_knows() {
        assert_eq!(Lang::from_accept_language(""), Lang::Zh);
        assert_eq!(Lang::from_accept_language("en"), Lang::En);
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9"), Lang::En);
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Lang::Zh
        );
        assert_eq!(
            Lang::from_accept_language("fr, en;q=0.5, zh;q=0.7"),
            Lang::Zh
        );
        assert_eq!(Lang::from_accept_language("de"), Lang::Zh);
        assert_eq!(Lang::from_accept_language("zh;q=0, en"), Lang::En);
    }

    #[test]
    fn a_code_reads_with_its_parameters_in_both_languages() {
        let p = params(&[("min_age", "60"), ("age_band", "18-59")]);
        assert_eq!(
            message(Lang::Zh, "ineligible.min_age", &p).unwrap(),
            "不符合参加条件：本项目限 60 岁及以上居民参加"
        );
        assert!(
            message(Lang::En, "ineligible.min_age", &p)
                .unwrap()
                .contains("ages 60 and over")
        );
        let categories = params(&[("categories", "elderly,low_income")]);
        assert_eq!(
            message(Lang::Zh, "ineligible.category", &categories).unwrap(),
            "不符合参加条件：本项目只面向老年人或低收入居民"
        );
        assert_eq!(message(Lang::Zh, "no.such.code", &p), None);
    }

    #[test]
    fn a_match_reason_names_skills_and_certifications_in_chinese() {
        let p = params(&[("skills", "first_aid,cooking")]);
        assert_eq!(
            message(Lang::Zh, "match.lacks_skills", &p).unwrap(),
            "缺少技能：急救、烹饪"
        );
        let p = params(&[
            ("certifications", "first_aid"),
            ("background_check", "missing"),
        ]);
        assert_eq!(
            message(Lang::Zh, "volunteer.not_qualified", &p).unwrap(),
            "该志愿者不符合岗位要求：缺少或已过期的急救证、无犯罪记录证明"
        );
    }

    #[test]
    fn no_chinese_message_shows_a_raw_code_or_english_word() {
        // Every code the catalogue knows, with typical parameters: the Chinese words hold
        // no ASCII letters but the units and names a parameter carries.
        let p = params(&[
            ("min", "1"),
            ("max", "10"),
            ("min_age", "60"),
            ("max_age", "13"),
            ("categories", "elderly"),
            ("status", "moved_out"),
            ("next", "in_progress"),
            ("what", "offering"),
            ("hours_before", "2"),
            ("period", "2026-11"),
            ("first_open", "2026-10"),
            ("other", "starts_at"),
            ("skills", "first_aid,cooking"),
            ("kind", "first_aid"),
            ("days", "30"),
            ("hours", "2.5"),
            ("certifications", "first_aid"),
            ("background_check", "missing"),
        ]);
        for code in [
            "required",
            "length",
            "too_long",
            "ineligible.min_age",
            "ineligible.category",
            "ineligible.status",
            "checkin.not_open",
            "checkin.undo_other_day",
            "checkin.undo_ended",
            "not_found",
            "period.closed",
            "period.out_of_order",
            "suggestion.out_of_order",
            "volunteer.not_active",
            "not_after",
            "national_id.check_character",
            "match.lacks_skills",
            "match.certification_missing",
            "match.recent_hours",
            "volunteer.not_qualified",
        ] {
            let zh = message(Lang::Zh, code, &p).expect(code);
            assert!(!zh.chars().any(|c| c.is_ascii_alphabetic()), "{code}: {zh}");
        }
    }
}
