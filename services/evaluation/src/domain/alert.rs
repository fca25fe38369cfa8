//! The alerts inbox's rules (issue 22), without I/O: the kinds of alert, who handles
//! which, which fact raises which alert (a budget threshold reached, a certification
//! expiring, an hours milestone, a resident asking for a correction) or handles or drops
//! one, and how long a suggestion may wait for its answer before it is one.

use chrono::{DateTime, Utc};
use linli_platform::auth::Role;
use linli_platform::bus::{HandlerError, Incoming, field};
use linli_proto::Event;
use linli_proto::events::v1::{
    BudgetThresholdReached, CertificationExpiring, HoursMilestoneReached, ResidentCorrectionClosed,
    ResidentCorrectionRequested, ResidentErased,
};
use uuid::Uuid;

/// Every kind of alert.
pub const KINDS: [&str; 5] = [
    "budget_threshold",
    "certification_expiring",
    "hours_milestone",
    "correction_requested",
    "suggestion_overdue",
];

/// Days a suggestion may wait for its answer before it is an alert: the centre answers
/// within a week (a rule of ours; the plan names no number).
pub const SUGGESTION_ANSWER_DAYS: i32 = 7;

/// Who reads alerts at all: every staff role that handles some kind (not the auditor, who
/// handles nothing).
pub const ALERT_ROLES: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FinanceOfficer,
    Role::Coordinator,
    Role::FrontDesk,
];

/// The kinds of alert `roles` handle: budgets the finance officer, certifications and
/// hours the coordinator, corrections the front desk; managers (and the district) all.
pub fn kinds_for<'a>(roles: impl IntoIterator<Item = &'a Role>) -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = Vec::new();
    for role in roles {
        let theirs: &[&'static str] = match role {
            Role::DistrictAdmin | Role::CentreManager => &KINDS,
            Role::FinanceOfficer => &["budget_threshold"],
            Role::Coordinator => &["certification_expiring", "hours_milestone"],
            Role::FrontDesk => &["correction_requested"],
            _ => &[],
        };
        kinds.extend(
            theirs
                .iter()
                .filter(|k| !kinds.contains(k))
                .collect::<Vec<_>>(),
        );
    }
    kinds
}

/// An alert to keep, from one event (kept under the event's id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAlert {
    pub centre: Uuid,
    pub kind: &'static str,
    pub subject_kind: &'static str,
    pub subject_id: String,
    pub details: Vec<String>,
    pub at: DateTime<Utc>,
}

/// What a fact does to the inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// An alert raised.
    Raise(NewAlert),
    /// The correction request's alert handled, by whoever closed it and when (the first
    /// acknowledgement is kept).
    Handled {
        centre: Uuid,
        request: Uuid,
        at: DateTime<Utc>,
        by: String,
    },
    /// The resident erased: the alerts about them go.
    Forget { resident: Uuid },
}

/// The detail naming a correction request, by which its alert is found when it closes.
pub fn request_detail(request: Uuid) -> String {
    format!("request_id={request}")
}

/// What `event` does to the inbox, if anything.
pub fn effect(event: &Incoming) -> Result<Option<Effect>, HandlerError> {
    let occurred = event.occurred_at.unwrap_or_else(Utc::now);
    let alert = match event.routing_key.as_str() {
        BudgetThresholdReached::ROUTING_KEY => {
            let e: BudgetThresholdReached = event.decode()?;
            NewAlert {
                centre: field::id("centre_id", &e.centre_id)?,
                kind: "budget_threshold",
                subject_kind: "budget_category",
                subject_id: e.category.clone(),
                details: vec![
                    format!("fiscal_year={}", e.fiscal_year),
                    format!("threshold_percent={}", e.threshold_percent),
                    format!("budget_minor={}", e.budget_minor),
                    format!("actual_minor={}", e.actual_minor),
                ],
                at: field::instant("reached_at", e.reached_at.as_ref()).unwrap_or(occurred),
            }
        }
        CertificationExpiring::ROUTING_KEY => {
            let e: CertificationExpiring = event.decode()?;
            let holder = field::id("holder_id", &e.holder_id)?;
            NewAlert {
                centre: field::id("centre_id", &e.centre_id)?,
                kind: "certification_expiring",
                subject_kind: if e.holder_kind == "staff" {
                    "staff"
                } else {
                    "volunteer"
                },
                subject_id: holder.to_string(),
                details: vec![
                    format!("certification_kind={}", e.kind),
                    format!("expires_on={}", field::date("expires_on", &e.expires_on)?),
                    format!("days_left={}", e.days_left),
                ],
                at: occurred,
            }
        }
        HoursMilestoneReached::ROUTING_KEY => {
            let e: HoursMilestoneReached = event.decode()?;
            NewAlert {
                centre: field::id("centre_id", &e.centre_id)?,
                kind: "hours_milestone",
                subject_kind: "volunteer",
                subject_id: field::id("volunteer_id", &e.volunteer_id)?.to_string(),
                details: vec![format!("milestone_hours={}", e.milestone_hours)],
                at: field::instant("reached_at", e.reached_at.as_ref()).unwrap_or(occurred),
            }
        }
        ResidentCorrectionRequested::ROUTING_KEY => {
            let e: ResidentCorrectionRequested = event.decode()?;
            let fields: Vec<&str> = e
                .fields
                .iter()
                .map(String::as_str)
                .filter(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                .collect();
            NewAlert {
                centre: field::id("centre_id", &e.centre_id)?,
                kind: "correction_requested",
                subject_kind: "resident",
                subject_id: field::id("resident_id", &e.resident_id)?.to_string(),
                details: vec![
                    format!("fields={}", fields.join(",")),
                    request_detail(field::id("request_id", &e.request_id)?),
                ],
                at: field::instant("requested_at", e.requested_at.as_ref()).unwrap_or(occurred),
            }
        }
        ResidentCorrectionClosed::ROUTING_KEY => {
            let e: ResidentCorrectionClosed = event.decode()?;
            return Ok(Some(Effect::Handled {
                centre: field::id("centre_id", &e.centre_id)?,
                request: field::id("request_id", &e.request_id)?,
                at: field::instant("closed_at", e.closed_at.as_ref()).unwrap_or(occurred),
                by: e.closed_by,
            }));
        }
        ResidentErased::ROUTING_KEY => {
            let e: ResidentErased = event.decode()?;
            let resident = field::id("resident_id", &e.resident_id)?;
            return Ok(Some(Effect::Forget { resident }));
        }
        _ => return Ok(None),
    };
    Ok(Some(Effect::Raise(alert)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_reads_the_kinds_it_handles() {
        assert_eq!(kinds_for(&[Role::FinanceOfficer]), ["budget_threshold"]);
        assert_eq!(
            kinds_for(&[Role::Coordinator]),
            ["certification_expiring", "hours_milestone"]
        );
        assert_eq!(kinds_for(&[Role::FrontDesk]), ["correction_requested"]);
        assert_eq!(kinds_for(&[Role::CentreManager]), KINDS);
        assert_eq!(
            kinds_for(&[Role::FrontDesk, Role::CentreManager, Role::Coordinator]).len(),
            KINDS.len()
        );
        assert!(kinds_for(&[Role::Auditor]).is_empty());
    }

    fn incoming<E: Event>(event: &E) -> Incoming {
        Incoming {
            id: Uuid::new_v4(),
            routing_key: E::ROUTING_KEY.into(),
            message_type: E::TYPE.into(),
            centre_id: None,
            occurred_at: Some(Utc::now()),
            payload: prost::Message::encode_to_vec(event),
            delivery_count: 0,
            trace: Default::default(),
        }
    }

    #[test]
    fn a_fact_raises_its_alert_a_closed_request_handles_it_and_an_erasure_forgets() {
        let (centre, resident, request) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let asked = ResidentCorrectionRequested {
            centre_id: centre.to_string(),
            resident_id: resident.to_string(),
            request_id: request.to_string(),
            fields: vec!["phone".into(), "Name; DROP".into()],
            ..Default::default()
        };
        let Some(Effect::Raise(alert)) = effect(&incoming(&asked)).unwrap() else {
            panic!("a correction request raises an alert");
        };
        assert_eq!(
            (alert.kind, alert.subject_kind),
            ("correction_requested", "resident")
        );
        assert_eq!(
            alert.details,
            ["fields=phone".to_owned(), request_detail(request)]
        );
        let closed = ResidentCorrectionClosed {
            centre_id: centre.to_string(),
            request_id: request.to_string(),
            closed_by: "desk".into(),
            ..Default::default()
        };
        assert!(matches!(
            effect(&incoming(&closed)).unwrap(),
            Some(Effect::Handled { request: r, .. }) if r == request
        ));
        let erased = ResidentErased {
            resident_id: resident.to_string(),
            ..Default::default()
        };
        assert_eq!(
            effect(&incoming(&erased)).unwrap(),
            Some(Effect::Forget { resident })
        );
        let milestone = HoursMilestoneReached {
            centre_id: centre.to_string(),
            volunteer_id: "not an id".into(),
            ..Default::default()
        };
        assert!(
            effect(&incoming(&milestone)).is_err(),
            "a malformed fact is refused"
        );
    }
}
