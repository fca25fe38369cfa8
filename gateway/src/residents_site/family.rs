//! 家人代办 (issue 23, Family): an adult resident lets a family member of the same centre
//! act for them (an elderly parent their grown child, say), and takes it back, on
//! `/r/me/family`. The member is named by their registered mobile number and name, so
//! nobody can browse residents; the registry keeps the leave as a consent of purpose
//! "family_delegate" and answers a pair that matches nobody in one and the same words
//! (see the registry's `family` module).
//!
//! The member's token lists the adult in `acts_for` from their next sign-in, so every
//! acting-for page (我的信息, 预约, 取消, 问卷) works for them as for a guardian. A
//! withdrawal reaches them at once: on every page the site asks the registry again
//! whether each adult in the token still lets them act ([`still_acting`]), and acts with
//! a token reissued without those who took it back (so the services refuse too); their
//! next sign-in leaves them out of the token itself.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{Datelike, NaiveDate, Utc};
use linli_platform::auth::Caller;
use linli_platform::error::violations_of;
use linli_proto::registry::v1 as pb;
use maud::html;
use serde::Deserialize;
use tonic::Code;
use uuid::Uuid;

use super::mine::since;
use super::{Authenticated, Page, Tab, Trouble, Visit, centre_of, page};
use crate::AppState;
use crate::console::i18n::{self, Lang};
use crate::console::instant;

/// The consent's purpose, as the registry spells it.
pub(super) const PURPOSE: &str = "family_delegate";
/// Age from which a resident may let someone act for them.
const ADULT: i32 = 18;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/r/me/family", get(family_page).post(grant))
        .route("/r/me/family/withdraw", post(withdraw))
}

/// What was typed on the form, kept through a refusal.
#[derive(Default, Deserialize)]
struct Typed {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    name: String,
}

fn age_on(born: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - born.year();
    if (today.month(), today.day()) < (born.month(), born.day()) {
        age -= 1;
    }
    age
}

async fn view(
    state: &AppState,
    visit: &Visit,
    typed: &Typed,
    errors: &BTreeMap<&str, String>,
    done: Option<&str>,
) -> Page {
    let centre = centre_of(state, visit).await?;
    let me = state
        .registry
        .clone()
        .get_resident(visit.auth.grpc(pb::GetResidentRequest {
            centre_id: visit.centre.to_string(),
            id: visit.me.to_string(),
            ..Default::default()
        }))
        .await?
        .into_inner();
    // Ages are a calendar matter in China Standard Time, as the registry counts them.
    let today = (Utc::now() + chrono::Duration::hours(8)).date_naive();
    let adult = NaiveDate::parse_from_str(&me.date_of_birth, "%Y-%m-%d")
        .is_ok_and(|born| age_on(born, today) >= ADULT);
    let consents = state
        .registry
        .clone()
        .get_consents(visit.auth.grpc(pb::GetConsentsRequest {
            centre_id: visit.centre.to_string(),
            resident_id: visit.me.to_string(),
        }))
        .await?
        .into_inner();
    let granted: Vec<&pb::Consent> = consents
        .consents
        .iter()
        .filter(|c| c.purpose == PURPOSE && c.granted)
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let error = |field: &str| errors.get(field);
    let phone_error = error("phone");
    let name_error = error("name");
    let lead = html! {
        p.lead { "您可以委托一位家人（例如子女）代您查看信息、预约、取消预约和填写问卷。这位家人也要在本服务中心登记过手机号。您随时可以取消委托。" }
    };
    let delegates = html! {
        section #delegates aria-labelledby="delegates-h" {
            h2 #delegates-h { "已委托的家人" }
            @if granted.is_empty() {
                p.empty { "您还没有委托家人。" }
            } @else {
                ul.cards {
                    @for c in &granted {
                        li.card.consent {
                            span.name { (c.delegate_name) }
                            span.state { "可以代您办理 · " (since(instant(&c.recorded_at), centre.zone)) "委托" }
                            form method="post" action="/r/me/family/withdraw" {
                                input type="hidden" name="delegate" value=(c.delegate_id);
                                button.secondary type="submit" { "取消委托" }
                            }
                        }
                    }
                }
            }
        }
    };
    let grant = html! {
        section #grant aria-labelledby="grant-h" {
            h2 #grant-h { "委托一位家人" }
            @if !adult {
                p.empty { "年满 " (ADULT) " 周岁才能委托家人代办。" }
            } @else {
                @if let Some(error) = error("form") {
                    p.error role="alert" { (error) }
                }
                form method="post" action="/r/me/family" novalidate {
                    div.field.invalid[phone_error.is_some()] {
                        label for="phone" { "家人的手机号" }
                        input #phone type="tel" name="phone" inputmode="numeric" autocomplete="off"
                            maxlength="20" value=(typed.phone)
                            aria-invalid=[phone_error.map(|_| "true")]
                            aria-describedby=[phone_error.map(|_| "phone-error")];
                        @if let Some(error) = phone_error {
                            p.error #phone-error role="alert" { (error) }
                        }
                    }
                    div.field.invalid[name_error.is_some()] {
                        label for="name" { "家人的姓名" }
                        input #name type="text" name="name" autocomplete="off" maxlength="64"
                            value=(typed.name)
                            aria-invalid=[name_error.map(|_| "true")]
                            aria-describedby=[name_error.map(|_| "name-error")];
                        @if let Some(error) = name_error {
                            p.error #name-error role="alert" { (error) }
                        }
                        p.small { "请填写这位家人在服务中心登记的手机号和姓名。" }
                    }
                    button.primary type="submit" { "委托这位家人" }
                }
            }
        }
    };
    let body = page(
        visit.large,
        "家人代办",
        Some(Tab::Me),
        html! {
            @if let Some(done) = done { p.notice role="status" { (done) } }
            // Refused: the form first, so its words are on a phone's screen unscrolled.
            @if errors.is_empty() { (lead) (delegates) (grant) } @else { (grant) (lead) (delegates) }
            a.button.secondary href="/r/me" { "返回我的信息" }
        },
    );
    Ok((status, body).into_response())
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn family_page(
    State(state): State<AppState>,
    visit: Visit,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Page {
    let done = match q.done.as_deref() {
        Some("granted") => Some("已委托。这位家人下次登录后就可以代您办理。"),
        Some("withdrawn") => Some("已取消委托。这位家人不能再代您办理。"),
        _ => None,
    };
    view(&state, &visit, &Typed::default(), &BTreeMap::new(), done).await
}

async fn record(
    state: &AppState,
    visit: &Visit,
    request: pb::RecordConsentRequest,
) -> Result<(), tonic::Status> {
    state
        .registry
        .clone()
        .record_consent(visit.auth.grpc(request))
        .await
        .map(|_| ())
}

async fn grant(State(state): State<AppState>, visit: Visit, Form(typed): Form<Typed>) -> Page {
    let mut errors = BTreeMap::new();
    let digits: String = typed.phone.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        errors.insert("phone", "请填写家人的手机号".to_owned());
    }
    if typed.name.trim().is_empty() {
        errors.insert("name", "请填写家人的姓名".to_owned());
    }
    if !errors.is_empty() {
        return view(&state, &visit, &typed, &errors, None).await;
    }
    let asked = record(
        &state,
        &visit,
        pb::RecordConsentRequest {
            centre_id: visit.centre.to_string(),
            resident_id: visit.me.to_string(),
            purpose: PURPOSE.into(),
            granted: true,
            delegate_phone: digits,
            delegate_name: typed.name.trim().to_owned(),
            ..Default::default()
        },
    )
    .await;
    match asked {
        Ok(()) => Ok(Redirect::to("/r/me/family?done=granted").into_response()),
        Err(status) if status.code() == Code::InvalidArgument => {
            for violation in violations_of(&status) {
                let field = match violation.field.as_str() {
                    "delegate_phone" => "phone",
                    // A pair that matches nobody is said beside the name, the last field.
                    _ => "name",
                };
                errors.insert(field, crate::catalogue::field_message(Lang::Zh, &violation));
            }
            if errors.is_empty() {
                errors.insert("form", i18n::refusal(Lang::Zh, &status));
            }
            view(&state, &visit, &typed, &errors, None).await
        }
        Err(status) if status.code() == Code::FailedPrecondition => {
            errors.insert("form", i18n::refusal(Lang::Zh, &status));
            view(&state, &visit, &typed, &errors, None).await
        }
        Err(status) => Err(Trouble::from(status)),
    }
}

#[derive(Deserialize)]
struct WithdrawForm {
    delegate: String,
}

async fn withdraw(
    State(state): State<AppState>,
    visit: Visit,
    Form(form): Form<WithdrawForm>,
) -> Page {
    let delegate = Uuid::parse_str(&form.delegate).map_err(|_| Trouble(StatusCode::NOT_FOUND))?;
    record(
        &state,
        &visit,
        pb::RecordConsentRequest {
            centre_id: visit.centre.to_string(),
            resident_id: visit.me.to_string(),
            purpose: PURPOSE.into(),
            granted: false,
            delegate_id: delegate.to_string(),
            ..Default::default()
        },
    )
    .await?;
    Ok(Redirect::to("/r/me/family?done=withdrawn").into_response())
}

/// Those in the token's `acts_for` who still let the resident act for them: an adult
/// whose latest "family_delegate" record naming the resident is a withdrawal is left out;
/// anyone else (a child, by guardianship) stays as the token says.
pub(super) async fn still_acting(
    state: &AppState,
    caller: &Caller,
    auth: &Authenticated,
    me: Uuid,
    centre: Uuid,
) -> Result<Vec<Uuid>, tonic::Status> {
    let mut kept = Vec::new();
    for &id in &caller.acts_for {
        let consents = state
            .registry
            .clone()
            .get_consents(auth.grpc(pb::GetConsentsRequest {
                centre_id: centre.to_string(),
                resident_id: id.to_string(),
            }))
            .await?
            .into_inner();
        let withdrawn = consents
            .consents
            .iter()
            .any(|c| c.purpose == PURPOSE && c.delegate_id == me.to_string() && !c.granted);
        if !withdrawn {
            kept.push(id);
        }
    }
    Ok(kept)
}
