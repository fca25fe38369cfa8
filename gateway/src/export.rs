//! A resident's copy of everything Linli holds about them (PIPL art. 45). Each service
//! answers for its own part (`ExportResident`, checked by role and centre like any read);
//! the gateway asks all five at once and puts the parts together. The copy is whole or not
//! given: a service that does not answer fails the export (503) rather than leaving its
//! part out unnoticed. The registry logs the export where it logs national-ID reads.

use axum::http::StatusCode;
use linli_proto::bookings::v1 as bookings;
use linli_proto::evaluation::v1 as evaluation;
use linli_proto::finance::v1 as finance;
use linli_proto::registry::v1 as registry;
use linli_proto::volunteers::v1 as volunteers;
use serde_json::{Value, json};
use tonic::Code;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Authenticated;
use crate::problem::Problem;

/// Every service's part of one resident's copy, as each answered.
pub struct ResidentCopy {
    /// The registry's document (the resident, every consent record, every logged read of
    /// their national ID), as the registry wrote it.
    pub registry: Value,
    pub bookings: bookings::ResidentExport,
    pub volunteers: volunteers::ResidentExport,
    pub finance: finance::ResidentExport,
    pub evaluation: evaluation::ResidentExport,
}

/// Asks the five services for their parts at once, as the caller, `purpose` going to the
/// registry's access log.
pub async fn gather(
    state: &AppState,
    auth: &Authenticated,
    centre: Uuid,
    resident: &str,
    purpose: &str,
) -> Result<ResidentCopy, Problem> {
    let (centre_id, resident_id) = (centre.to_string(), resident.to_owned());
    // Each service's `ExportResident`, as the caller.
    macro_rules! part {
        ($service:ident, $request:expr) => {
            async {
                state
                    .$service
                    .clone()
                    .export_resident(auth.grpc($request))
                    .await
            }
        };
    }
    let ids = || (centre_id.clone(), resident_id.clone());
    let (registry_part, bookings_part, volunteers_part, finance_part, evaluation_part) = tokio::join!(
        part!(registry, {
            let (centre_id, id) = ids();
            let purpose = purpose.to_owned();
            registry::ExportResidentRequest {
                centre_id,
                id,
                purpose,
            }
        }),
        part!(bookings, {
            let (centre_id, resident_id) = ids();
            bookings::ExportResidentRequest {
                centre_id,
                resident_id,
            }
        }),
        part!(volunteers, {
            let (centre_id, resident_id) = ids();
            volunteers::ExportResidentRequest {
                centre_id,
                resident_id,
            }
        }),
        part!(finance, {
            let (centre_id, resident_id) = ids();
            finance::ExportResidentRequest {
                centre_id,
                resident_id,
            }
        }),
        part!(evaluation, {
            let (centre_id, resident_id) = ids();
            evaluation::ExportResidentRequest {
                centre_id,
                resident_id,
            }
        }),
    );
    // The registry speaks first: it knows whether the resident exists at the centre and
    // whether a purpose was given, and its refusal is the caller's answer.
    let registry_part = registry_part.map_err(Problem::from)?.into_inner();
    let registry_document: Value = serde_json::from_slice(&registry_part.json).map_err(|_| {
        tracing::error!("the registry's export is not JSON");
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })?;
    Ok(ResidentCopy {
        registry: registry_document,
        bookings: bookings_part
            .map_err(|status| no_part("bookings", status))?
            .into_inner(),
        volunteers: volunteers_part
            .map_err(|status| no_part("volunteers", status))?
            .into_inner(),
        finance: finance_part
            .map_err(|status| no_part("finance", status))?
            .into_inner(),
        evaluation: evaluation_part
            .map_err(|status| no_part("evaluation", status))?
            .into_inner(),
    })
}

/// Why there is no copy when a service gave no part: its refusal (role, centre, input) is
/// passed on as it is; a service that did not answer makes the whole export unavailable.
fn no_part(service: &str, status: tonic::Status) -> Problem {
    match status.code() {
        Code::InvalidArgument | Code::NotFound | Code::PermissionDenied | Code::Unauthenticated => {
            Problem::from(status)
        }
        code => {
            tracing::warn!(
                service,
                ?code,
                "a service did not give its part of an export"
            );
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "{service} did not answer, and a copy without its part would be incomplete; try again shortly"
                ),
            )
        }
    }
}

fn time_text(at: Option<prost_types::Timestamp>) -> Option<String> {
    let at = at?;
    chrono::DateTime::from_timestamp(at.seconds, at.nanos.max(0) as u32).map(|t| t.to_rfc3339())
}

fn json_of<T: serde::Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl ResidentCopy {
    /// The copy as one JSON document: the registry's part as it has always been (keys
    /// `resident`, `consents`, `national_id_reads`), then a section per other service.
    pub fn document(&self) -> Value {
        let mut document = self.registry.clone();
        let Some(sections) = document.as_object_mut() else {
            return document;
        };
        sections.insert("bookings".into(), json_of(&self.bookings));
        let v = &self.volunteers;
        sections.insert(
            "volunteers".into(),
            json!({
                "volunteer": v.volunteer.clone().map(json_of),
                "guardian_consent_at": time_text(v.guardian_consent_at),
                "assignments": v.assignments.iter().cloned().map(json_of).collect::<Vec<_>>(),
                "shifts": v.shifts.iter().cloned().map(json_of).collect::<Vec<_>>(),
                "opportunities": v.opportunities.iter().cloned().map(json_of).collect::<Vec<_>>(),
                "hour_entries": v.hour_entries.iter().cloned().map(json_of).collect::<Vec<_>>(),
                "certifications": v.certifications.iter().cloned().map(json_of).collect::<Vec<_>>(),
                "completions": v.completions.iter().map(|c| json!({
                    "id": c.id, "course_id": c.course_id, "session_id": c.session_id,
                    "completed_on": c.completed_on,
                })).collect::<Vec<_>>(),
                "courses": v.courses.iter().cloned().map(json_of).collect::<Vec<_>>(),
                "groups": v.groups.iter().map(|g| json!({
                    "group_id": g.group_id, "name": g.group_name, "kind": g.kind,
                    "role": g.role, "joined_on": g.joined_on,
                })).collect::<Vec<_>>(),
            }),
        );
        sections.insert("finance".into(), json_of(&self.finance));
        let e = &self.evaluation;
        sections.insert(
            "evaluation".into(),
            json!({
                "invitations": e.invitations.iter().cloned().map(json_of).collect::<Vec<_>>(),
                "surveys": e.templates.iter().map(|t| json!({
                    "id": t.id, "kind": t.kind, "title": t.title,
                    "questions": t.questions.iter().map(|q| json!({
                        "key": q.key, "text": q.text, "kind": q.kind, "options": q.options,
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "follow_ups": e.follow_ups.iter().cloned().map(json_of).collect::<Vec<_>>(),
                "suggestions": e.suggestions.iter().cloned().map(crate::evaluation::Suggestion::from).map(json_of).collect::<Vec<_>>(),
            }),
        );
        document
    }
}
