//! Evaluation's gRPC surface: KPIs and quality from the projections, and the centre's own
//! instruments.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use linli_platform::auth::{
    Access, AuthError, Caller, RESIDENT_EXPORTERS, Role, caller, partner_centre, request_centre,
    resident_centre, scoped_centre,
};
use linli_platform::bus::HandlerError;
use linli_platform::directory;
use linli_platform::error::{Error, Reason, Violations, database};
use linli_platform::page::PageRequest;
use linli_platform::wire::{instant, optional_id, parse_id, timestamp};
use linli_proto::evaluation::v1 as pb;
use linli_proto::evaluation::v1::evaluation_server::Evaluation;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::follow_up::{self, InspectionItem};
use crate::domain::suggestion;
use crate::domain::survey::{self, Given, Question};
use crate::domain::{self, EVALUATORS, Figure, KPIS, MaxAge, Period, READERS};
use crate::store::{
    self, AnswerRow, FollowUpRow, ForumPostRow, InspectionItemRow, InspectionRow, InvitationRow,
    NoticeRow, QuestionRow, SuggestionRow, TemplateRow,
};

mod alerts;
mod board;
mod reviews;

pub struct EvaluationApi {
    pool: PgPool,
    /// How old a centre's counted KPI figures may be when read (kept figures).
    kpi_max_age: MaxAge,
    /// The district roll-ups assembled lately, answered again for a few seconds.
    roll_ups: RollUps,
}

/// The district roll-ups this process assembled lately from kept figures, by period and
/// centres, each answered again until [`MaxAge::answer_kept_for`] has passed: reads of the
/// same centres coalesce, one assembling while the others wait without a connection.
/// Another process keeps its own; a rebuild forgets this one's.
type RollUps = moka::future::Cache<RollUpOf, Arc<RollUp>>;

/// What a roll-up is of: the period and the centres read, each in its time zone.
#[derive(Clone, Hash, PartialEq, Eq)]
struct RollUpOf {
    period: String,
    centres: Vec<(Uuid, chrono_tz::Tz)>,
}

struct RollUp {
    answer: pb::DistrictKpis,
    kept_for: Duration,
}

/// Each roll-up expires after its own [`RollUp::kept_for`].
struct KeptFor;

impl moka::Expiry<RollUpOf, Arc<RollUp>> for KeptFor {
    fn expire_after_create(
        &self,
        _: &RollUpOf,
        roll_up: &Arc<RollUp>,
        _: std::time::Instant,
    ) -> Option<Duration> {
        Some(roll_up.kept_for)
    }
}

/// Roll-ups kept at once: one per period and set of centres read (a district's staff
/// share one; each partner's grants make another).
const ROLL_UPS_KEPT: u64 = 256;

impl EvaluationApi {
    pub fn new(pool: PgPool, kpi_max_age: MaxAge) -> Self {
        EvaluationApi {
            pool,
            kpi_max_age,
            roll_ups: moka::future::Cache::builder()
                .max_capacity(ROLL_UPS_KEPT)
                .expire_after(KeptFor)
                .build(),
        }
    }

    /// The roll-up of `centres` for `period`: as this process assembled it lately when it
    /// may still answer, or assembled now ([`Self::assemble_roll_up`]).
    async fn roll_up(
        &self,
        centres: Vec<(Uuid, chrono_tz::Tz)>,
        period: &Period,
    ) -> Result<pb::DistrictKpis, Status> {
        if !self.kpi_max_age.keeps() {
            return self.assemble_roll_up(&centres, period).await;
        }
        let of = RollUpOf {
            period: period.name(),
            centres,
        };
        let assemble = async {
            let answer = self.assemble_roll_up(&of.centres, period).await?;
            let oldest = answer
                .computed_at
                .as_ref()
                .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos as u32))
                .unwrap_or_default();
            let kept_for = self.kpi_max_age.answer_kept_for(oldest, Utc::now());
            Ok::<_, Status>(Arc::new(RollUp { answer, kept_for }))
        };
        let roll_up = self
            .roll_ups
            .try_get_with_by_ref(&of, assemble)
            .await
            .map_err(|failed| (*failed).clone())?;
        Ok(roll_up.answer.clone())
    }

    /// The roll-up of `centres` for `period`: each centre's report and the district's
    /// figures, added up, as old as its oldest centre's.
    async fn assemble_roll_up(
        &self,
        centres: &[(Uuid, chrono_tz::Tz)],
        period: &Period,
    ) -> Result<pb::DistrictKpis, Status> {
        let mut totals = vec![Figure::default(); KPIS.len()];
        let mut reports = Vec::new();
        for (report, figures) in self.kpis_of(centres, period).await? {
            for (total, figure) in totals.iter_mut().zip(&figures) {
                total.add(figure);
            }
            reports.push(report);
        }
        let computed_at = reports
            .iter()
            .filter_map(|r| r.computed_at)
            .min_by_key(|t| (t.seconds, t.nanos));
        Ok(pb::DistrictKpis {
            period: period.name(),
            centres: reports,
            district: KPIS
                .iter()
                .zip(&totals)
                .map(|(k, f)| kpi_to_pb(k.name, f))
                .collect(),
            computed_at,
        })
    }

    /// A write for `centre` must name a centre the directory knows, and the resident and
    /// staff member it names must be that centre's (refused naming `resident_id` or
    /// `staff_id` otherwise).
    async fn require_known(
        &self,
        centre: Uuid,
        resident: Option<Uuid>,
        staff: Option<Uuid>,
    ) -> Result<(), Status> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        if let Some(resident) = resident {
            directory::require_resident(&mut conn, centre, resident, "resident_id").await?;
        }
        if let Some(staff) = staff {
            directory::require_staff(&mut conn, centre, staff, "staff_id").await?;
        }
        if resident.is_none() && staff.is_none() {
            directory::require_centre(&mut conn, centre).await?;
        }
        Ok(())
    }

    /// Every KPI of each of `centres` for `period`, each in its own time zone, from the
    /// counts kept for it when they are young enough, the others counted for all of them
    /// at once ([`store::kept::kpi_figures_kept`]): each centre's report, saying when its
    /// figures were counted, and its figures for the district to add up.
    async fn kpis_of(
        &self,
        centres: &[(Uuid, chrono_tz::Tz)],
        period: &Period,
    ) -> Result<Vec<(pb::CentreKpis, Vec<Figure>)>, Status> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let found =
            store::kept::kpi_figures_kept(&mut conn, period, centres, Utc::now(), self.kpi_max_age)
                .await
                .map_err(db)?;
        Ok(found
            .into_iter()
            .map(|c| {
                let report = pb::CentreKpis {
                    centre_id: c.centre.to_string(),
                    registered_residents: c.registered,
                    period: period.name(),
                    from: Some(timestamp(c.window.from)),
                    to: Some(timestamp(c.window.to)),
                    kpis: KPIS
                        .iter()
                        .zip(&c.figures)
                        .map(|(k, f)| kpi_to_pb(k.name, f))
                        .collect(),
                    computed_at: Some(timestamp(c.computed_at)),
                };
                (report, c.figures)
            })
            .collect())
    }
}

fn db(error: sqlx::Error) -> Status {
    database(&error)
}

/// The scope of a partner that reads a centre's published figures.
const KPIS_READ: &str = "evaluation.kpis:read";

/// Staff who read KPIs by role, or a partner whose agreement grants the centre's
/// published figures (`evaluation.kpis:read`).
fn kpi_reader(caller: &Caller, centre_id: &str) -> Result<Uuid, Status> {
    if caller.is_partner() {
        partner_centre(caller, centre_id, KPIS_READ)
    } else {
        scoped_centre(caller, centre_id, Access::Read, READERS)
    }
}

fn kpi_to_pb(name: &str, figure: &Figure) -> pb::Kpi {
    let definition = domain::kpi(name);
    let target = definition.map_or(0.0, |d| d.target);
    pb::Kpi {
        name: name.to_owned(),
        numerator: figure.numerator,
        denominator: figure.denominator,
        value: figure.value(),
        target,
        met: figure.meets(target),
        has_data: figure.denominator > 0,
        unit: definition.map_or("", |d| d.unit).to_owned(),
    }
}

fn invitation_to_pb(row: InvitationRow, answers: &[AnswerRow]) -> pb::Invitation {
    pb::Invitation {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        template_id: row.template_id.to_string(),
        resident_id: row.resident_id.map(|r| r.to_string()).unwrap_or_default(),
        delivery_id: row.delivery_id.unwrap_or_default(),
        offering_id: row.offering_id.map(|r| r.to_string()).unwrap_or_default(),
        staff_id: row.staff_id.map(|r| r.to_string()).unwrap_or_default(),
        created_at: Some(timestamp(row.created_at)),
        answered: row.answered_at.is_some(),
        answered_at: row.answered_at.map(timestamp),
        answers: answers
            .iter()
            .filter(|a| a.invitation_id == row.id)
            .map(|a| pb::Answer {
                key: a.key.clone(),
                score: a.score,
                choices: a.choices.clone(),
                text: a.text.clone(),
            })
            .collect(),
    }
}

fn template_to_pb(t: TemplateRow, questions: &[QuestionRow]) -> pb::SurveyTemplate {
    pb::SurveyTemplate {
        id: t.id.to_string(),
        centre_id: t.centre_id.map(|c| c.to_string()).unwrap_or_default(),
        kind: t.kind,
        title: t.title,
        questions: questions
            .iter()
            .filter(|q| q.template_id == t.id)
            .map(|q| pb::Question {
                key: q.key.clone(),
                text: q.text.clone(),
                kind: q.kind.clone(),
                options: q.options.clone(),
            })
            .collect(),
    }
}

fn follow_up_to_pb(row: FollowUpRow) -> pb::FollowUp {
    pb::FollowUp {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        resident_id: row.resident_id.map(|r| r.to_string()).unwrap_or_default(),
        staff_id: row.staff_id.to_string(),
        reason: row.reason,
        due_on: row.due_on.to_string(),
        status: row.status,
        outcome: row.outcome,
        done_at: row.done_at.map(timestamp),
    }
}

fn suggestion_to_pb(row: SuggestionRow) -> pb::Suggestion {
    pb::Suggestion {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        resident_id: row.resident_id.map(|r| r.to_string()).unwrap_or_default(),
        channel: row.channel,
        text: row.text,
        status: row.status,
        reply: row.reply,
        received_at: Some(timestamp(row.received_at)),
        answered_at: row.answered_at.map(timestamp),
        seconds_to_answer: row
            .answered_at
            .map_or(0, |a| (a - row.received_at).num_seconds()),
    }
}

fn inspection_to_pb(row: InspectionRow, items: &[InspectionItemRow]) -> pb::Inspection {
    let mine: Vec<&InspectionItemRow> =
        items.iter().filter(|i| i.inspection_id == row.id).collect();
    let score = if mine.is_empty() {
        0
    } else {
        mine.iter().map(|i| i.score).sum::<i32>() * 100 / (10 * mine.len() as i32)
    };
    pb::Inspection {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        inspector: row.inspector,
        inspected_on: row.inspected_on.to_string(),
        items: mine
            .into_iter()
            .map(|i| pb::InspectionItem {
                item: i.item.clone(),
                passed: i.passed,
                score: i.score,
                note: i.note.clone(),
            })
            .collect(),
        score,
    }
}

#[tonic::async_trait]
impl Evaluation for EvaluationApi {
    async fn get_centre_kpis(
        &self,
        request: Request<pb::GetCentreKpisRequest>,
    ) -> Result<Response<pb::CentreKpis>, Status> {
        let centre = kpi_reader(caller(&request)?, &request.get_ref().centre_id)?;
        let period = Period::field_or_this_month(&request.get_ref().period, Utc::now())?;
        let zone = store::centre_zone(&self.pool, centre).await?;
        let (report, _) = self
            .kpis_of(&[(centre, zone)], &period)
            .await?
            .pop()
            .ok_or_else(|| Status::internal("no figures for the centre"))?;
        Ok(Response::new(report))
    }

    async fn get_district_kpis(
        &self,
        request: Request<pb::GetDistrictKpisRequest>,
    ) -> Result<Response<pb::DistrictKpis>, Status> {
        let caller = caller(&request)?;
        // Staff read the centres their work covers; a partner, those where its agreements
        // grant the published figures.
        let granted = if caller.is_partner() {
            Some(caller.centres_granting(KPIS_READ)?)
        } else {
            caller.require_role(Access::Read, READERS)?;
            None
        };
        let period = Period::field_or_this_month(&request.get_ref().period, Utc::now())?;
        let centres: Vec<(Uuid, chrono_tz::Tz)> = store::centres(&self.pool)
            .await
            .map_err(db)?
            .into_iter()
            .filter(|centre| match &granted {
                Some(granted) => granted.contains(&centre.id),
                None => caller.covers_centre(centre.id),
            })
            .map(|centre| (centre.id, centre.time_zone))
            .collect();
        Ok(Response::new(self.roll_up(centres, &period).await?))
    }

    async fn get_kpi_series(
        &self,
        request: Request<pb::GetKpiSeriesRequest>,
    ) -> Result<Response<pb::KpiSeries>, Status> {
        let centre = kpi_reader(caller(&request)?, &request.get_ref().centre_id)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        if domain::kpi(&req.kpi).is_none() {
            v.push("kpi", Reason::new("one_of", "must be one of satisfaction, awareness, participation, volunteer_ratio, training_coverage, self_sufficiency, facility_utilisation"));
        }
        let month = |field: &str, text: &str, v: &mut Violations| {
            let p = Period::parse(text).filter(|p| p.name().len() == 7);
            if p.is_none() {
                v.push(field, Reason::new("month", "must be a month as YYYY-MM"));
            }
            p
        };
        let first = month("from_month", &req.from_month, &mut v);
        let last = month("to_month", &req.to_month, &mut v);
        let (Some(first), Some(last)) = (first, last) else {
            return Err(v.into());
        };
        if !v.is_empty() {
            return Err(v.into());
        }
        if last.start < first.start || (last.start - first.start).num_days() > 36 * 31 {
            return Err(Violations::one(
                "to_month",
                Reason::new(
                    "range.within_36_months",
                    "must not be before from_month, within 36 months",
                ),
            )
            .into());
        }
        let zone = store::centre_zone(&self.pool, centre).await?;
        let index = KPIS.iter().position(|k| k.name == req.kpi);
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let mut points = Vec::new();
        let mut month = first;
        while month.start <= last.start {
            let mut figures =
                store::centre_kpi_figures(&mut conn, &month, centre, zone, Utc::now())
                    .await
                    .map_err(db)?
                    .figures;
            let figure = index.map(|i| figures.swap_remove(i)).unwrap_or_default();
            points.push(pb::KpiPoint {
                period: month.name(),
                kpi: Some(kpi_to_pb(&req.kpi, &figure)),
            });
            month = month.next_month();
        }
        Ok(Response::new(pb::KpiSeries {
            centre_id: centre.to_string(),
            kpi: req.kpi,
            points,
        }))
    }

    async fn get_quality_indicators(
        &self,
        request: Request<pb::GetQualityIndicatorsRequest>,
    ) -> Result<Response<pb::QualityIndicators>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let req = request.into_inner();
        let period = Period::field_or_this_month(&req.period, Utc::now())?;
        let offering = optional_id("offering_id", &req.offering_id)?;
        let staff = optional_id("staff_id", &req.staff_id)?;
        let zone = store::centre_zone(&self.pool, centre).await?;
        let (from, to) = period.bounds(zone);
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let q = store::quality(&mut conn, centre, from, to, offering, staff)
            .await
            .map_err(db)?;
        Ok(Response::new(pb::QualityIndicators {
            centre_id: centre.to_string(),
            period: period.name(),
            offering_id: req.offering_id,
            staff_id: req.staff_id,
            effectiveness: q.effectiveness,
            professionalism: q.professionalism,
            satisfaction: q.satisfaction,
            timeliness: q.timeliness,
            responses: q.responses,
        }))
    }

    async fn rebuild_projections(
        &self,
        request: Request<pb::RebuildProjectionsRequest>,
    ) -> Result<Response<pb::RebuildProjectionsResponse>, Status> {
        caller(&request)?.require_role(Access::Write, &[Role::DistrictAdmin])?;
        let replayed = store::rebuild_projections(&self.pool, crate::events::apply)
            .await
            .map_err(|e| match e {
                HandlerError::Database(error) => db(error),
                other => Status::internal(format!("a fact could not be replayed: {other}")),
            })?;
        // Roll-ups assembled before or during the rebuild answer no more.
        self.roll_ups.invalidate_all();
        tracing::info!(replayed, "projections rebuilt");
        Ok(Response::new(pb::RebuildProjectionsResponse {
            facts_replayed: replayed,
        }))
    }

    async fn list_survey_templates(
        &self,
        request: Request<pb::ListSurveyTemplatesRequest>,
    ) -> Result<Response<pb::ListSurveyTemplatesResponse>, Status> {
        // A resident reads their centre's surveys to answer them (a survey's questions
        // are no one's data); staff by role.
        let who = caller(&request)?;
        let centre = if who.is_resident() {
            resident_centre(who, &request.get_ref().centre_id)?
        } else {
            scoped_centre(who, &request.get_ref().centre_id, Access::Read, READERS)?
        };
        let (templates, questions) = store::templates(&self.pool, centre).await.map_err(db)?;
        Ok(Response::new(pb::ListSurveyTemplatesResponse {
            templates: templates
                .into_iter()
                .map(|t| template_to_pb(t, &questions))
                .collect(),
        }))
    }

    async fn create_survey_template(
        &self,
        request: Request<pb::CreateSurveyTemplateRequest>,
    ) -> Result<Response<pb::SurveyTemplate>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, EVALUATORS)?;
        let template = request
            .into_inner()
            .template
            .ok_or_else(|| Violations::one("template", Reason::required()))?;
        let questions: Vec<Question<'_>> = (template.questions.iter())
            .map(|q| Question {
                key: &q.key,
                text: &q.text,
                kind: &q.kind,
                options: &q.options,
            })
            .collect();
        survey::template(&template.kind, &template.title, &questions)?;
        let row = TemplateRow {
            id: Uuid::new_v4(),
            centre_id: Some(centre),
            kind: template.kind.clone(),
            title: template.title.trim().to_owned(),
        };
        let questions: Vec<QuestionRow> = template
            .questions
            .iter()
            .map(|q| QuestionRow {
                template_id: row.id,
                key: q.key.clone(),
                text: q.text.clone(),
                kind: q.kind.clone(),
                options: q.options.clone(),
            })
            .collect();
        self.require_known(centre, None, None).await?;
        store::create_template(&self.pool, &row, &questions)
            .await
            .map_err(db)?;
        Ok(Response::new(pb::SurveyTemplate {
            id: row.id.to_string(),
            centre_id: centre.to_string(),
            kind: row.kind,
            title: row.title,
            questions: template.questions,
        }))
    }

    async fn create_invitation(
        &self,
        request: Request<pb::CreateInvitationRequest>,
    ) -> Result<Response<pb::Invitation>, Status> {
        if caller(&request)?.is_resident() {
            return self.own_awareness_invitation(request).await;
        }
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, EVALUATORS)?;
        let req = request.into_inner();
        let template = parse_id("template_id", &req.template_id)?;
        let resident = optional_id("resident_id", &req.resident_id)?;
        self.require_known(centre, resident, None).await?;
        if store::find_template(&self.pool, centre, template)
            .await
            .map_err(db)?
            .is_none()
        {
            return Err(linli_platform::error::not_found("survey template"));
        }
        let row = InvitationRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            template_id: template,
            resident_id: resident,
            delivery_id: None,
            offering_id: None,
            staff_id: None,
            created_at: Utc::now(),
            answered_at: None,
        };
        store::create_invitation(&self.pool, &row)
            .await
            .map_err(db)?;
        Ok(Response::new(invitation_to_pb(row, &[])))
    }

    async fn list_invitations(
        &self,
        request: Request<pb::ListInvitationsRequest>,
    ) -> Result<Response<pb::ListInvitationsResponse>, Status> {
        // A resident lists their own invitations (and those of one they act for), naming
        // them; staff by role, anyone's.
        let who = caller(&request)?;
        let resident = optional_id("resident_id", &request.get_ref().resident_id)?;
        let centre = if who.is_resident() {
            let Some(resident) = resident else {
                return Err(AuthError::ResidentDenied.into());
            };
            linli_platform::auth::own_or_scoped_centre(
                who,
                &request.get_ref().centre_id,
                resident,
                Access::Read,
                READERS,
            )?
        } else {
            scoped_centre(who, &request.get_ref().centre_id, Access::Read, READERS)?
        };
        let req = request.into_inner();
        let delivery = (!req.delivery_id.is_empty()).then_some(req.delivery_id.as_str());
        let page = PageRequest::parse("evaluation.invitations", req.page_size, &req.page_token)?;
        let (rows, answers) = store::list_invitations(
            &self.pool,
            centre,
            resident,
            delivery,
            req.unanswered_only,
            page.after(),
            page.limit(),
        )
        .await
        .map_err(db)?;
        let page = page
            .page(rows, |row| (row.created_at, row.id))
            .map(|row| invitation_to_pb(row, &answers));
        Ok(Response::new(pb::ListInvitationsResponse {
            invitations: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn submit_response(
        &self,
        request: Request<pb::SubmitResponseRequest>,
    ) -> Result<Response<pb::Invitation>, Status> {
        // A resident answers invitations made for them (or one they act for) on their own
        // site; anyone else's is not found for them. Staff record answers by role.
        let who = caller(&request)?.clone();
        let centre = if who.is_resident() {
            resident_centre(&who, &request.get_ref().centre_id)?
        } else {
            scoped_centre(
                &who,
                &request.get_ref().centre_id,
                Access::Write,
                EVALUATORS,
            )?
        };
        let req = request.into_inner();
        let id = parse_id("invitation_id", &req.invitation_id)?;
        let given: Vec<Given<'_>> = (req.answers.iter())
            .map(|a| Given {
                key: &a.key,
                score: a.score,
                choices: &a.choices,
                text: &a.text,
            })
            .collect();
        // A resident answers only invitations made for them (or one they act for).
        let visible = |invitation: &InvitationRow| {
            !who.is_resident()
                || (invitation.resident_id).is_some_and(|r| who.require_resident(centre, r).is_ok())
        };
        let (invitation, answers) =
            store::respond(&self.pool, centre, id, visible, &given, Utc::now()).await?;
        Ok(Response::new(invitation_to_pb(invitation, &answers)))
    }

    async fn create_follow_up(
        &self,
        request: Request<pb::CreateFollowUpRequest>,
    ) -> Result<Response<pb::FollowUp>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, EVALUATORS)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let resident = optional_id("resident_id", &req.resident_id).unwrap_or_else(|e| {
            v.0.extend(e.0);
            None
        });
        let staff = parse_id("staff_id", &req.staff_id)
            .map_err(|e| v.0.extend(e.0))
            .ok();
        let (reason, due) = follow_up::new_follow_up(&req.reason, &req.due_on, &mut v);
        let (Some(staff), Some(due), true) = (staff, due, v.is_empty()) else {
            return Err(v.into());
        };
        self.require_known(centre, resident, Some(staff)).await?;
        let row = FollowUpRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            resident_id: resident,
            staff_id: staff,
            reason,
            due_on: due,
            status: "open".into(),
            outcome: String::new(),
            done_at: None,
        };
        store::create_follow_up(&self.pool, &row)
            .await
            .map_err(db)?;
        Ok(Response::new(follow_up_to_pb(row)))
    }

    async fn complete_follow_up(
        &self,
        request: Request<pb::CompleteFollowUpRequest>,
    ) -> Result<Response<pb::FollowUp>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, EVALUATORS)?;
        let req = request.into_inner();
        let id = parse_id("follow_up_id", &req.follow_up_id)?;
        follow_up::outcome(&req.status, &req.outcome)?;
        let (row, changed) = store::complete_follow_up(
            &self.pool,
            centre,
            id,
            &req.status,
            &req.outcome,
            Utc::now(),
        )
        .await
        .map_err(db)?
        .ok_or_else(|| linli_platform::error::not_found("follow-up"))?;
        follow_up::decided_once(changed, &row.status, &req.status)?;
        Ok(Response::new(follow_up_to_pb(row)))
    }

    async fn list_follow_ups(
        &self,
        request: Request<pb::ListFollowUpsRequest>,
    ) -> Result<Response<pb::ListFollowUpsResponse>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let req = request.into_inner();
        let staff = optional_id("staff_id", &req.staff_id)?;
        let page = PageRequest::parse("evaluation.follow_ups", req.page_size, &req.page_token)?;
        let rows = store::list_follow_ups(
            &self.pool,
            centre,
            staff,
            req.open_only,
            page.after(),
            page.limit(),
        )
        .await
        .map_err(db)?;
        let page = page
            .page(rows, |row| (row.due_on, row.id))
            .map(follow_up_to_pb);
        Ok(Response::new(pb::ListFollowUpsResponse {
            follow_ups: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn record_inspection(
        &self,
        request: Request<pb::RecordInspectionRequest>,
    ) -> Result<Response<pb::Inspection>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, EVALUATORS)?;
        let req = request.into_inner();
        let asked: Vec<InspectionItem<'_>> = (req.items.iter())
            .map(|i| InspectionItem {
                item: &i.item,
                score: i.score,
            })
            .collect();
        let day = follow_up::inspection(&req.inspector, &req.inspected_on, &asked)?;
        let row = InspectionRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            inspector: req.inspector.trim().to_owned(),
            inspected_on: day,
        };
        let items: Vec<InspectionItemRow> = req
            .items
            .iter()
            .map(|i| InspectionItemRow {
                inspection_id: row.id,
                item: i.item.trim().to_owned(),
                passed: i.passed,
                score: i.score,
                note: i.note.clone(),
            })
            .collect();
        self.require_known(centre, None, None).await?;
        store::record_inspection(&self.pool, &row, &items)
            .await
            .map_err(db)?;
        Ok(Response::new(inspection_to_pb(row, &items)))
    }

    async fn list_inspections(
        &self,
        request: Request<pb::ListInspectionsRequest>,
    ) -> Result<Response<pb::ListInspectionsResponse>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let req = request.into_inner();
        let page = PageRequest::parse("evaluation.inspections", req.page_size, &req.page_token)?;
        let (rows, items) = store::list_inspections(&self.pool, centre, page.after(), page.limit())
            .await
            .map_err(db)?;
        let page = page
            .page(rows, |row| (row.inspected_on, row.id))
            .map(|row| inspection_to_pb(row, &items));
        Ok(Response::new(pb::ListInspectionsResponse {
            inspections: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn submit_suggestion(
        &self,
        request: Request<pb::SubmitSuggestionRequest>,
    ) -> Result<Response<pb::Suggestion>, Status> {
        if caller(&request)?.is_resident() {
            return self.submit_own_suggestion(request).await;
        }
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, EVALUATORS)?;
        let req = request.into_inner();
        let mut v = Violations::default();
        let resident = optional_id("resident_id", &req.resident_id).unwrap_or_else(|e| {
            v.0.extend(e.0);
            None
        });
        let channel = suggestion::channel(&req.channel, &mut v);
        let text = suggestion::text(&req.text, &mut v);
        if !v.is_empty() {
            return Err(v.into());
        }
        self.require_known(centre, resident, None).await?;
        let row = SuggestionRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            resident_id: resident,
            channel,
            text,
            status: "received".into(),
            reply: String::new(),
            received_at: Utc::now(),
            answered_at: None,
        };
        store::create_suggestion(&self.pool, &row)
            .await
            .map_err(db)?;
        Ok(Response::new(suggestion_to_pb(row)))
    }

    async fn move_suggestion(
        &self,
        request: Request<pb::MoveSuggestionRequest>,
    ) -> Result<Response<pb::Suggestion>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, EVALUATORS)?;
        let req = request.into_inner();
        let id = parse_id("suggestion_id", &req.suggestion_id)?;
        let reply = suggestion::asked_move(&req.status, &req.reply)?;
        let row =
            store::move_suggestion(&self.pool, centre, id, &req.status, reply, Utc::now()).await?;
        Ok(Response::new(suggestion_to_pb(row)))
    }

    async fn list_suggestions(
        &self,
        request: Request<pb::ListSuggestionsRequest>,
    ) -> Result<Response<pb::ListSuggestionsResponse>, Status> {
        if caller(&request)?.is_resident() {
            return self.own_suggestions(request).await;
        }
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, READERS)?;
        let req = request.into_inner();
        let status = (!req.status.is_empty()).then_some(req.status.as_str());
        let page = PageRequest::parse("evaluation.suggestions", req.page_size, &req.page_token)?;
        let rows = store::list_suggestions(&self.pool, centre, status, page.after(), page.limit())
            .await
            .map_err(db)?;
        let page = page
            .page(rows, |row| (row.received_at, row.id))
            .map(suggestion_to_pb);
        Ok(Response::new(pb::ListSuggestionsResponse {
            suggestions: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn list_alerts(
        &self,
        request: Request<pb::ListAlertsRequest>,
    ) -> Result<Response<pb::ListAlertsResponse>, Status> {
        alerts::list(&self.pool, request).await
    }

    async fn acknowledge_alert(
        &self,
        request: Request<pb::AcknowledgeAlertRequest>,
    ) -> Result<Response<pb::Alert>, Status> {
        alerts::acknowledge(&self.pool, request).await
    }

    async fn export_resident(
        &self,
        request: Request<pb::ExportResidentRequest>,
    ) -> Result<Response<pb::ResidentExport>, Status> {
        // The centre's exporters, or the resident themselves (the residents' site's 我的信息).
        let resident = parse_id("resident_id", &request.get_ref().resident_id)?;
        let centre = linli_platform::auth::own_or_scoped_centre(
            caller(&request)?,
            &request.get_ref().centre_id,
            resident,
            Access::Read,
            RESIDENT_EXPORTERS,
        )?;
        let data = store::resident_data(&self.pool, centre, resident)
            .await
            .map_err(db)?;
        let invited: std::collections::BTreeSet<Uuid> =
            data.invitations.iter().map(|i| i.template_id).collect();
        let (templates, questions) = store::templates(&self.pool, centre).await.map_err(db)?;
        Ok(Response::new(pb::ResidentExport {
            invitations: data
                .invitations
                .into_iter()
                .map(|row| invitation_to_pb(row, &data.answers))
                .collect(),
            templates: templates
                .into_iter()
                .filter(|t| invited.contains(&t.id))
                .map(|t| template_to_pb(t, &questions))
                .collect(),
            follow_ups: data.follow_ups.into_iter().map(follow_up_to_pb).collect(),
            suggestions: data.suggestions.into_iter().map(suggestion_to_pb).collect(),
        }))
    }

    async fn create_notice(
        &self,
        request: Request<pb::CreateNoticeRequest>,
    ) -> Result<Response<pb::Notice>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, EVALUATORS)?;
        let now = Utc::now();
        let draft = notice_draft(request.into_inner().notice.unwrap_or_default(), now)?;
        self.require_known(centre, None, None).await?;
        let row = store::create_notice(&self.pool, centre, &draft, now).await?;
        Ok(Response::new(notice_to_pb(row, now)))
    }

    async fn update_notice(
        &self,
        request: Request<pb::UpdateNoticeRequest>,
    ) -> Result<Response<pb::Notice>, Status> {
        let centre = request_centre(&request, |r| &r.centre_id, Access::Write, EVALUATORS)?;
        let req = request.into_inner();
        let id = parse_id("notice_id", &req.notice_id)?;
        let now = Utc::now();
        let draft = notice_draft(req.notice.unwrap_or_default(), now)?;
        let row = store::update_notice(&self.pool, centre, id, &draft, now).await?;
        Ok(Response::new(notice_to_pb(row, now)))
    }

    async fn list_notices(
        &self,
        request: Request<pb::ListNoticesRequest>,
    ) -> Result<Response<pb::ListNoticesResponse>, Status> {
        let who = caller(&request)?;
        let req = request.get_ref();
        let page = PageRequest::<store::NoticeKey>::parse(
            "evaluation.notices",
            req.page_size,
            &req.page_token,
        )?;
        let now = Utc::now();
        let rows = if who.is_resident() {
            // A resident reads the notices shown now and meant for them, whatever else
            // the request asks.
            let centre = resident_centre(who, &req.centre_id)?;
            let me = who.resident_id().ok_or(AuthError::ResidentDenied)?;
            store::notices_for_resident(&self.pool, centre, me, now, page.after(), page.limit())
                .await
                .map_err(db)?
        } else {
            let centre = scoped_centre(who, &req.centre_id, Access::Read, READERS)?;
            let state = match req.state.as_str() {
                "" => None,
                s @ ("scheduled" | "published" | "ended") => Some(s),
                _ => {
                    return Err(Violations::one(
                        "state",
                        Reason::one_of(&["scheduled", "published", "ended"]),
                    )
                    .into());
                }
            };
            store::list_notices(&self.pool, centre, state, now, page.after(), page.limit())
                .await
                .map_err(db)?
        };
        let page = page
            .page(rows, |row| (row.pinned, row.publish_from, row.id))
            .map(|row| notice_to_pb(row, now));
        Ok(Response::new(pb::ListNoticesResponse {
            notices: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn post_to_forum(
        &self,
        request: Request<pb::PostToForumRequest>,
    ) -> Result<Response<pb::ForumPost>, Status> {
        let who = caller(&request)?.clone();
        let who = &who;
        let centre = resident_centre(who, &request.get_ref().centre_id)?;
        let me = who.resident_id().ok_or(AuthError::ResidentDenied)?;
        let req = request.into_inner();
        let thread = optional_id("thread_id", &req.thread_id)?;
        let (title, body) = (req.title.trim(), req.body.trim());
        let mut v = Violations::default();
        for (field, reason) in domain::forum_post_refusals(thread.is_some(), title, body) {
            v.push(field, reason);
        }
        if !v.is_empty() {
            return Err(v.into());
        }
        let title = if thread.is_some() { "" } else { title };
        let row =
            store::post_to_forum(&self.pool, centre, thread, me, title, body, Utc::now()).await?;
        Ok(Response::new(forum_post_to_pb(row, who)))
    }

    async fn list_forum_threads(
        &self,
        request: Request<pb::ListForumThreadsRequest>,
    ) -> Result<Response<pb::ListForumPostsResponse>, Status> {
        let who = caller(&request)?;
        let req = request.get_ref();
        let centre = forum_reader(who, &req.centre_id)?;
        let page = PageRequest::<store::ThreadKey>::parse(
            "evaluation.forum",
            req.page_size,
            &req.page_token,
        )?;
        let rows = store::forum_threads(
            &self.pool,
            centre,
            !who.is_resident(),
            page.after(),
            page.limit(),
        )
        .await
        .map_err(db)?;
        let page = page
            .page(rows, |row| (row.pinned, row.last_activity_at, row.id))
            .map(|row| forum_post_to_pb(row, who));
        Ok(Response::new(pb::ListForumPostsResponse {
            posts: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn get_forum_thread(
        &self,
        request: Request<pb::GetForumThreadRequest>,
    ) -> Result<Response<pb::ListForumPostsResponse>, Status> {
        let who = caller(&request)?;
        let req = request.get_ref();
        let centre = forum_reader(who, &req.centre_id)?;
        let thread = parse_id("thread_id", &req.thread_id)?;
        let rows = store::forum_thread(&self.pool, centre, thread, !who.is_resident())
            .await
            .map_err(db)?;
        if rows.first().is_none_or(|first| first.id != thread) {
            return Err(Error::NotFound("thread").into());
        }
        Ok(Response::new(pb::ListForumPostsResponse {
            posts: rows
                .into_iter()
                .map(|row| forum_post_to_pb(row, who))
                .collect(),
            next_page_token: String::new(),
        }))
    }

    async fn moderate_forum_post(
        &self,
        request: Request<pb::ModerateForumPostRequest>,
    ) -> Result<Response<pb::ForumPost>, Status> {
        let who = caller(&request)?;
        let centre = scoped_centre(who, &request.get_ref().centre_id, Access::Write, EVALUATORS)?;
        let req = request.get_ref();
        let id = parse_id("post_id", &req.post_id)?;
        let (flag, value) = domain::moderation(&req.action).ok_or_else(|| {
            Status::from(Violations::one(
                "action",
                Reason::one_of(&domain::MODERATIONS),
            ))
        })?;
        let row = store::moderate_forum_post(&self.pool, centre, id, flag, value).await?;
        Ok(Response::new(forum_post_to_pb(row, who)))
    }

    async fn report_forum_post(
        &self,
        request: Request<pb::ReportForumPostRequest>,
    ) -> Result<Response<pb::ForumPost>, Status> {
        let who = caller(&request)?;
        let centre = resident_centre(who, &request.get_ref().centre_id)?;
        let me = who.resident_id().ok_or(AuthError::ResidentDenied)?;
        let id = parse_id("post_id", &request.get_ref().post_id)?;
        let mut conn = self.pool.acquire().await.map_err(db)?;
        match store::forum_post(&mut conn, centre, id).await.map_err(db)? {
            Some(row) if !row.hidden => {}
            _ => return Err(Error::NotFound("post").into()),
        }
        drop(conn);
        store::report_forum_post(&self.pool, id, me, Utc::now())
            .await
            .map_err(db)?;
        let mut conn = self.pool.acquire().await.map_err(db)?;
        let row = store::forum_post(&mut conn, centre, id)
            .await
            .map_err(db)?
            .ok_or(Error::NotFound("post"))?;
        Ok(Response::new(forum_post_to_pb(row, who)))
    }

    async fn list_reported_forum_posts(
        &self,
        request: Request<pb::ListReportedForumPostsRequest>,
    ) -> Result<Response<pb::ListForumPostsResponse>, Status> {
        let who = caller(&request)?;
        let req = request.get_ref();
        let centre = scoped_centre(who, &req.centre_id, Access::Read, READERS)?;
        let page = PageRequest::<(i32, chrono::DateTime<Utc>, Uuid)>::parse(
            "evaluation.forum_reports",
            req.page_size,
            &req.page_token,
        )?;
        let rows = store::reported_forum_posts(&self.pool, centre, page.after(), page.limit())
            .await
            .map_err(db)?;
        let page = page
            .page(rows, |row| (row.reports, row.created_at, row.id))
            .map(|row| forum_post_to_pb(row, who));
        Ok(Response::new(pb::ListForumPostsResponse {
            posts: page.rows,
            next_page_token: page.next_page_token,
        }))
    }

    async fn add_board_member(
        &self,
        request: Request<pb::AddBoardMemberRequest>,
    ) -> Result<Response<pb::BoardMember>, Status> {
        board::add_member(&self.pool, request).await
    }

    async fn set_board_committees(
        &self,
        request: Request<pb::SetBoardCommitteesRequest>,
    ) -> Result<Response<pb::BoardMember>, Status> {
        board::set_committees(&self.pool, request).await
    }

    async fn end_board_membership(
        &self,
        request: Request<pb::EndBoardMembershipRequest>,
    ) -> Result<Response<pb::BoardMember>, Status> {
        board::end_membership(&self.pool, request).await
    }

    async fn list_board_members(
        &self,
        request: Request<pb::ListBoardMembersRequest>,
    ) -> Result<Response<pb::ListBoardMembersResponse>, Status> {
        board::list_members(&self.pool, request).await
    }

    async fn list_board_audit(
        &self,
        request: Request<pb::ListBoardAuditRequest>,
    ) -> Result<Response<pb::ListBoardAuditResponse>, Status> {
        board::list_audit(&self.pool, request).await
    }

    async fn record_board_meeting(
        &self,
        request: Request<pb::RecordBoardMeetingRequest>,
    ) -> Result<Response<pb::BoardMeeting>, Status> {
        board::record_meeting(&self.pool, request).await
    }

    async fn list_board_meetings(
        &self,
        request: Request<pb::ListBoardMeetingsRequest>,
    ) -> Result<Response<pb::ListBoardMeetingsResponse>, Status> {
        board::list_meetings(&self.pool, request).await
    }

    async fn list_board_decisions(
        &self,
        request: Request<pb::ListBoardDecisionsRequest>,
    ) -> Result<Response<pb::ListBoardDecisionsResponse>, Status> {
        board::list_decisions(&self.pool, request).await
    }

    async fn complete_board_decision(
        &self,
        request: Request<pb::CompleteBoardDecisionRequest>,
    ) -> Result<Response<pb::BoardDecision>, Status> {
        board::complete_decision(&self.pool, request).await
    }

    async fn get_review_checklist(
        &self,
        request: Request<pb::GetReviewChecklistRequest>,
    ) -> Result<Response<pb::ReviewChecklist>, Status> {
        reviews::get_checklist(&self.pool, request).await
    }

    async fn set_review_checklist(
        &self,
        request: Request<pb::SetReviewChecklistRequest>,
    ) -> Result<Response<pb::ReviewChecklist>, Status> {
        reviews::set_checklist(&self.pool, request).await
    }

    async fn start_org_review(
        &self,
        request: Request<pb::StartOrgReviewRequest>,
    ) -> Result<Response<pb::OrgReview>, Status> {
        reviews::start(&self.pool, request).await
    }

    async fn score_org_review_item(
        &self,
        request: Request<pb::ScoreOrgReviewItemRequest>,
    ) -> Result<Response<pb::OrgReview>, Status> {
        reviews::score(&self.pool, request).await
    }

    async fn list_org_reviews(
        &self,
        request: Request<pb::ListOrgReviewsRequest>,
    ) -> Result<Response<pb::ListOrgReviewsResponse>, Status> {
        reviews::list(&self.pool, request).await
    }
}

impl EvaluationApi {
    /// A resident's own suggestion, sent through the residents' site: always `online`,
    /// from themselves only (they are `submitted_by`, and `resident_id` unless anonymous).
    async fn submit_own_suggestion(
        &self,
        request: Request<pb::SubmitSuggestionRequest>,
    ) -> Result<Response<pb::Suggestion>, Status> {
        let who = caller(&request)?;
        let centre = resident_centre(who, &request.get_ref().centre_id)?;
        let me = who.resident_id().ok_or(AuthError::ResidentDenied)?;
        let req = request.get_ref();
        if !req.resident_id.is_empty() && req.resident_id != me.to_string() {
            return Err(AuthError::ResidentDenied.into());
        }
        let mut v = Violations::default();
        let text = suggestion::text(&req.text, &mut v);
        v.into_result(|| ())?;
        let row = SuggestionRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            resident_id: (!req.anonymous).then_some(me),
            channel: "online".into(),
            text,
            status: "received".into(),
            reply: String::new(),
            received_at: Utc::now(),
            answered_at: None,
        };
        self.require_known(centre, Some(me), None).await?;
        store::create_own_suggestion(&self.pool, &row, me)
            .await
            .map_err(db)?;
        Ok(Response::new(suggestion_to_pb(row)))
    }

    /// A resident asks to answer their centre's awareness survey (知晓度调查): the
    /// invitation for them of the last 30 days, answered or not, or a new one. So each
    /// resident answers it at most once a month, as the awareness figure counts them.
    async fn own_awareness_invitation(
        &self,
        request: Request<pb::CreateInvitationRequest>,
    ) -> Result<Response<pb::Invitation>, Status> {
        let who = caller(&request)?.clone();
        let req = request.into_inner();
        let resident = parse_id("resident_id", &req.resident_id)?;
        let centre = linli_platform::auth::own_or_scoped_centre(
            &who,
            &req.centre_id,
            resident,
            Access::Write,
            &[],
        )?;
        let template = parse_id("template_id", &req.template_id)?;
        let found = store::find_template(&self.pool, centre, template)
            .await
            .map_err(db)?
            .filter(|t| survey::resident_may_ask(&t.kind))
            .ok_or_else(|| linli_platform::error::not_found("survey template"))?;
        let now = Utc::now();
        let (rows, answers) =
            store::list_invitations(&self.pool, centre, Some(resident), None, false, None, 50)
                .await
                .map_err(db)?;
        if let Some(row) = (rows.into_iter())
            .find(|row| row.template_id == found.id && survey::still_stands(row.created_at, now))
        {
            return Ok(Response::new(invitation_to_pb(row, &answers)));
        }
        let row = InvitationRow {
            id: Uuid::new_v4(),
            centre_id: centre,
            template_id: found.id,
            resident_id: Some(resident),
            delivery_id: None,
            offering_id: None,
            staff_id: None,
            created_at: now,
            answered_at: None,
        };
        store::create_invitation(&self.pool, &row)
            .await
            .map_err(db)?;
        Ok(Response::new(invitation_to_pb(row, &[])))
    }

    /// The suggestions a resident sent themselves, named or anonymous, with the replies.
    async fn own_suggestions(
        &self,
        request: Request<pb::ListSuggestionsRequest>,
    ) -> Result<Response<pb::ListSuggestionsResponse>, Status> {
        let who = caller(&request)?;
        let centre = resident_centre(who, &request.get_ref().centre_id)?;
        let me = who.resident_id().ok_or(AuthError::ResidentDenied)?;
        let req = request.get_ref();
        let page = PageRequest::parse("evaluation.suggestions", req.page_size, &req.page_token)?;
        let rows = store::own_suggestions(&self.pool, centre, me, page.after(), page.limit())
            .await
            .map_err(db)?;
        let page = page
            .page(rows, |row| (row.received_at, row.id))
            .map(suggestion_to_pb);
        Ok(Response::new(pb::ListSuggestionsResponse {
            suggestions: page.rows,
            next_page_token: page.next_page_token,
        }))
    }
}

/// A notice draft from the wire, checked: ids and times read, then the domain's rules.
/// No publish_from means now.
fn notice_draft(
    draft: pb::NoticeDraft,
    now: chrono::DateTime<Utc>,
) -> Result<domain::NoticeDraft, Status> {
    let mut v = Violations::default();
    let mut take = |result: Result<Option<Uuid>, Violations>| {
        result.unwrap_or_else(|e| {
            v.0.extend(e.0);
            None
        })
    };
    let offering_id = take(optional_id("offering_id", &draft.offering_id));
    let session_id = take(optional_id("session_id", &draft.session_id));
    let publish_from = instant("publish_from", draft.publish_from.as_ref()).unwrap_or_else(|e| {
        v.0.extend(e.0);
        None
    });
    let publish_until =
        instant("publish_until", draft.publish_until.as_ref()).unwrap_or_else(|e| {
            v.0.extend(e.0);
            None
        });
    let checked = domain::NoticeDraft {
        title: draft.title.trim().to_owned(),
        body: draft.body.trim().to_owned(),
        kind: if draft.kind.is_empty() {
            "notice".into()
        } else {
            draft.kind
        },
        publish_from: publish_from.unwrap_or(now),
        publish_until,
        pinned: draft.pinned,
        audience_categories: dedup(draft.audience_categories),
        audience_age_bands: dedup(draft.audience_age_bands),
        offering_id,
        session_id,
    };
    for (field, reason) in checked.refusals() {
        v.push(field, reason);
    }
    if v.is_empty() {
        Ok(checked)
    } else {
        Err(v.into())
    }
}

fn dedup(mut list: Vec<String>) -> Vec<String> {
    list.sort();
    list.dedup();
    list
}

fn notice_to_pb(row: NoticeRow, now: chrono::DateTime<Utc>) -> pb::Notice {
    pb::Notice {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        state: domain::notice_state(row.publish_from, row.publish_until, now).into(),
        created_at: Some(timestamp(row.created_at)),
        updated_at: Some(timestamp(row.updated_at)),
        draft: Some(pb::NoticeDraft {
            title: row.title,
            body: row.body,
            kind: row.kind,
            publish_from: Some(timestamp(row.publish_from)),
            publish_until: row.publish_until.map(timestamp),
            pinned: row.pinned,
            audience_categories: row.audience_categories,
            audience_age_bands: row.audience_age_bands,
            offering_id: row.offering_id.map(|id| id.to_string()).unwrap_or_default(),
            session_id: row.session_id.map(|id| id.to_string()).unwrap_or_default(),
        }),
    }
}

/// The centre whose forum a caller reads: a resident's own, or one a staff role covers.
fn forum_reader(who: &Caller, centre_id: &str) -> Result<Uuid, Status> {
    if who.is_resident() {
        resident_centre(who, centre_id)
    } else {
        scoped_centre(who, centre_id, Access::Read, READERS)
    }
}

/// A post as `who` may see it: a resident learns whether they wrote it, never who did.
fn forum_post_to_pb(row: ForumPostRow, who: &Caller) -> pb::ForumPost {
    let mine = who.resident_id().is_some() && row.author_id == who.resident_id();
    pb::ForumPost {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        thread_id: row.thread_id.map(|id| id.to_string()).unwrap_or_default(),
        title: row.title,
        body: row.body,
        mine,
        author_id: if who.is_resident() {
            String::new()
        } else {
            row.author_id.map(|id| id.to_string()).unwrap_or_default()
        },
        hidden: row.hidden,
        pinned: row.pinned,
        locked: row.locked,
        reports: if who.is_resident() { 0 } else { row.reports },
        replies: row.replies,
        created_at: Some(timestamp(row.created_at)),
    }
}
