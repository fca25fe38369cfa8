//! The console's two languages: Simplified Chinese by default, English on request (the
//! `linli_lang` cookie, or `?lang=en` for one page). Words live beside their use as
//! `lang.pick("中文", "English")`; the shared vocabularies are `linli_words::terms`, and
//! the services' refusals are said by their codes through the catalogue.

use tonic::Code;

pub use linli_words::Lang;
pub use linli_words::terms::*;

/// A candidate's reasons for a match (or against one), in the user's language: each by its
/// code through the catalogue.
pub fn match_reasons(
    lang: Lang,
    reasons: &[String],
    explanations: &[linli_proto::volunteers::v1::Explanation],
) -> String {
    let said: Vec<String> = explanations
        .iter()
        .zip(reasons)
        .map(|(e, english)| {
            let params = e
                .params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            linli_words::catalogue::said(lang, &e.code, &params, english)
        })
        .collect();
    said.join(lang.pick("；", "; "))
}

/// A service's refusal that names no field, in the user's language: its code through the
/// catalogue; without a code, what kind of refusal it is (never the service's English on a
/// Chinese page).
pub fn refusal(lang: Lang, status: &tonic::Status) -> String {
    if let Some((code, params)) = linli_platform::error::refusal_of(status)
        && let Some(said) = linli_words::catalogue::message(lang, &code, &params)
    {
        return said;
    }
    if lang == Lang::En {
        return status.message().to_owned();
    }
    match status.code() {
        Code::FailedPrecondition => "无法办理",
        Code::AlreadyExists => "已存在",
        Code::NotFound => "找不到",
        Code::PermissionDenied => "无权办理",
        Code::Unavailable => "服务暂时不可用，请稍后再试",
        _ => "未被接受",
    }
    .to_owned()
}
