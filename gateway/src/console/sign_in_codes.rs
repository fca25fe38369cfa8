//! 验证码发放: the sign-in codes waiting at a centre's front desk, for residents who get no
//! text messages (the residents' site sends codes here when no SMS provider is
//! configured). Only the centre's front desk and manager see them: a code signs a resident
//! in, so nobody else may read it. Codes live in the gateway's memory for five minutes.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use chrono::Utc;
use linli_platform::auth::Role;
use maud::html;

use super::{Page, Refusal, Section, Staff, clock, layout, zone};
use crate::AppState;

pub async fn page(State(state): State<AppState>, staff: Staff, Path(centre): Path<String>) -> Page {
    let centre = staff.centre(Section::Residents, &centre)?;
    if !(staff.has_role(Role::FrontDesk) || staff.has_role(Role::CentreManager)) {
        return Err(Refusal::forbidden());
    }
    let id = uuid::Uuid::parse_str(&centre.id).map_err(|_| Refusal::not_found())?;
    let codes = state.site.desk.at(id);
    let tz = zone(&centre);
    let now = Utc::now();
    let lang = staff.lang;
    let content = html! {
        p { (lang.pick(
            "居民在手机上点“获取验证码”后，验证码显示在这里。请核对居民本人和手机号后四位，再把验证码告诉居民。验证码 5 分钟内有效，只能用一次。",
            "Codes residents asked for appear here. Check the person and the last four digits of the number, then read the code out. Each is valid for 5 minutes, once."
        )) }
        @if codes.is_empty() {
            p.muted { (lang.pick("现在没有待发放的验证码。", "No codes are waiting.")) }
        } @else {
            table.codes {
                thead { tr {
                    th { (lang.pick("手机号", "Mobile")) }
                    th { (lang.pick("验证码", "Code")) }
                    th { (lang.pick("有效至", "Valid until")) }
                } }
                tbody {
                    @for code in &codes {
                        tr {
                            td { (code.masked_phone) }
                            td.code { strong { (code.code) } }
                            td {
                                (clock(code.expires_at, tz))
                                (lang.pick("（还剩 ", " (")) ((code.expires_at - now).num_minutes().max(0) + 1) (lang.pick(" 分钟）", " min left)"))
                            }
                        }
                    }
                }
            }
        }
        p { a.button href=(format!("/c/{}/sign-in-codes", centre.id)) { (lang.pick("刷新", "Refresh")) } }
    };
    Ok(layout(
        &staff,
        Section::Residents,
        Some(&centre),
        lang.pick("验证码发放", "Sign-in codes"),
        content,
    )
    .into_response())
}
