//! The registry's gRPC surface: requests in, domain and store calls, responses out.

mod bookers;
mod households;
mod partners;
mod webhooks;

use chrono::Utc;
use linli_platform::auth::{
    Access, Caller, RESIDENT_EXPORTERS, caller, partner_centre, scoped_centre,
};
use linli_platform::crypto::{CryptoError, Vault};
use linli_platform::error::Violations;
use linli_platform::page::{Page, PageRequest};
use linli_platform::revocation::Revocations;
use linli_platform::wire::parse_id;
use linli_proto::registry::v1 as pb;
use linli_proto::registry::v1::registry_server::Registry;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::domain::centre::{CENTRE_FIELDS, CentreDetails, CentreForm, centre_fields};
use crate::domain::correction::{self, ResidentDetails, ResidentField};
use crate::domain::status;
use crate::domain::{
    CENTRE_ADMINS, DateOfBirth, ERASERS, NATIONAL_ID_READERS, NameQuery, NationalId, NewResident,
    Phone, RECORDED_CATEGORIES, STAFF_READERS, STAFF_WRITERS, birth_bounds, categories, consent,
    reads_health_notes, sees_contact_details,
};
use crate::error::Error;
use crate::events::timestamp;
use crate::store::{self, ResidentRow};
use linli_platform::error::Reason;

/// The scope a partner reads residents with: only those who consented, masked, except
/// those holding a booking of one of its offerings (name and phone; `grpc::bookers`).
const PARTNER_RESIDENTS: &str = "registry.residents:read";

pub struct RegistryApi {
    pool: PgPool,
    vault: Vault,
    /// Sessions ended here are refused by this process at once.
    revocations: Revocations,
}

impl RegistryApi {
    pub fn new(pool: PgPool, vault: Vault, revocations: Revocations) -> Self {
        RegistryApi {
            pool,
            vault,
            revocations,
        }
    }

    /// The resident as this caller may see it; `reveal_national_id` only after the caller
    /// was checked and the read logged.
    fn resident(
        &self,
        row: ResidentRow,
        caller: &Caller,
        reveal_national_id: bool,
    ) -> Result<pb::Resident, Error> {
        let health_note = match row.sealed_health_note() {
            Some(sealed) if reads_health_notes(caller) => Some(self.vault.open(&sealed)?),
            _ => None,
        };
        let national_id = match row.sealed_national_id() {
            Some(sealed) => {
                let id = NationalId::parse(&self.vault.open(&sealed)?, today())
                    .map_err(|_| Error::Crypto(CryptoError::Tampered))?;
                Some(if reveal_national_id {
                    id.expose().to_owned()
                } else {
                    id.masked()
                })
            }
            None => None,
        };
        let phone = match row.sealed_phone() {
            Some(sealed) => {
                let phone = Phone::parse(&self.vault.open(&sealed)?)
                    .map_err(|_| Error::Crypto(CryptoError::Tampered))?;
                Some(if sees_contact_details(caller) {
                    phone.expose().to_owned()
                } else {
                    phone.masked()
                })
            }
            None => None,
        };
        let gender = match row.gender.as_str() {
            "male" => pb::Gender::Male,
            _ => pb::Gender::Female,
        };
        Ok(pb::Resident {
            id: row.id.to_string(),
            centre_id: row.centre_id.to_string(),
            name: row.name,
            gender: gender as i32,
            date_of_birth: row.date_of_birth.format("%Y-%m-%d").to_string(),
            phone,
            registered_at: Some(timestamp(row.registered_at)),
            national_id,
            status: row.status,
            status_since: row.status_since.format("%Y-%m-%d").to_string(),
            categories: categories(DateOfBirth::from_stored(row.date_of_birth).age_on(today()))
                .into_iter()
                .chain(row.categories)
                .collect(),
            building: row.building,
            unit: row.unit,
            room: row.room,
            skills: Vec::new(),
            health_note,
            household_id: row
                .household_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            relationship: row.relationship.unwrap_or_default(),
        })
    }

    /// Residents as this caller may see them, with their directory entries.
    async fn residents(
        &self,
        rows: Vec<ResidentRow>,
        caller: &Caller,
        reveal: bool,
    ) -> Result<Vec<pb::Resident>, Error> {
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let skills = store::skills_of(&self.pool, &ids).await?;
        self.dressed(rows, &skills, caller, reveal)
    }

    /// Residents as this caller may see them, each with their own of `skills` (as
    /// [`store::skills_of`] reads them).
    fn dressed(
        &self,
        rows: Vec<ResidentRow>,
        skills: &[(Uuid, String, String)],
        caller: &Caller,
        reveal: bool,
    ) -> Result<Vec<pb::Resident>, Error> {
        rows.into_iter()
            .map(|row| {
                let id = row.id;
                let mut resident = self.resident(row, caller, reveal)?;
                resident.skills = skills
                    .iter()
                    .filter(|(owner, _, _)| *owner == id)
                    .map(|(_, kind, name)| pb::Skill {
                        kind: kind.clone(),
                        name: name.clone(),
                    })
                    .collect();
                Ok(resident)
            })
            .collect()
    }

    /// One resident read with their skills by one statement
    /// ([`store::find_resident_with_skills`]), as this caller may see them.
    fn read_one(
        &self,
        found: store::ResidentWithSkills,
        caller: &Caller,
        reveal: bool,
    ) -> Result<pb::Resident, Error> {
        let mut resident = self.resident(found.row, caller, reveal)?;
        resident.skills = found
            .skill_kinds
            .into_iter()
            .zip(found.skill_names)
            .map(|(kind, name)| pb::Skill { kind, name })
            .collect();
        Ok(resident)
    }

    async fn one(
        &self,
        row: ResidentRow,
        caller: &Caller,
        reveal: bool,
    ) -> Result<pb::Resident, Error> {
        let mut residents = self.residents(vec![row], caller, reveal).await?;
        Ok(residents.remove(0))
    }
}

impl RegistryApi {
    async fn consents(&self, resident_id: Uuid) -> Result<Response<pb::Consents>, Status> {
        let consents = store::current_consents(&self.pool, resident_id)
            .await
            .map_err(Error::from)?
            .into_iter()
            .map(|c| pb::Consent {
                purpose: c.purpose,
                granted: c.granted,
                source: c.source,
                recorded_at: Some(timestamp(c.recorded_at)),
                recorded_by: c.recorded_by,
                guardian_id: c.guardian_id.map(|g| g.to_string()).unwrap_or_default(),
                delegate_id: c.delegate_id.map(|d| d.to_string()).unwrap_or_default(),
                delegate_name: c.delegate_name.unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(pb::Consents {
            resident_id: resident_id.to_string(),
            consents,
        }))
    }
}

fn centre(row: store::CentreRow) -> pb::Centre {
    pb::Centre {
        id: row.id.to_string(),
        code: row.code,
        name: row.name,
        address: row.address,
        time_zone: row.time_zone,
        opening_hours: row.opening_hours,
        contact_phone: row.contact_phone,
    }
}

fn centre_details(details: pb::CentreDetails) -> Result<CentreDetails, Error> {
    Ok(CentreDetails::parse(&centre_form(&details))?)
}

fn centre_form(details: &pb::CentreDetails) -> CentreForm<'_> {
    CentreForm {
        code: &details.code,
        name: &details.name,
        address: &details.address,
        time_zone: &details.time_zone,
        opening_hours: &details.opening_hours,
        contact_phone: &details.contact_phone,
    }
}

/// A registration or correction, parsed.
fn new_resident(req: &pb::CreateResidentRequest) -> Result<NewResident, Error> {
    Ok(NewResident::parse(&resident_details(req).form(), today())?)
}

/// A registration or correction as text; an optional field left unset stays `None`.
fn resident_details(req: &pb::CreateResidentRequest) -> ResidentDetails {
    let gender = match pb::Gender::try_from(req.gender) {
        Ok(pb::Gender::Male) => Some("male".to_owned()),
        Ok(pb::Gender::Female) => Some("female".to_owned()),
        _ => None,
    };
    ResidentDetails {
        centre_id: req.centre_id.clone(),
        name: req.name.clone(),
        gender,
        date_of_birth: req.date_of_birth.clone(),
        phone: req.phone.clone(),
        national_id: req.national_id.clone(),
        building: req.building.clone(),
        unit: req.unit.clone(),
        room: req.room.clone(),
        categories: req.categories.clone(),
        skills: req
            .skills
            .iter()
            .map(|s| (s.kind.clone(), s.name.clone()))
            .collect(),
        health_note: req.health_note.clone(),
    }
}

fn min_date(
    a: Option<chrono::NaiveDate>,
    b: Option<chrono::NaiveDate>,
) -> Option<chrono::NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_date(
    a: Option<chrono::NaiveDate>,
    b: Option<chrono::NaiveDate>,
) -> Option<chrono::NaiveDate> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// What a partner may learn of a resident who consented to sharing: enough to deliver a
/// service (the given name's first character, age band by year, building, categories),
/// never contact details, IDs, rooms, skills or health.
fn partner_view(resident: pb::Resident) -> pb::Resident {
    let mut name = resident.name.chars();
    let masked_name = name
        .next()
        .map(|first| std::iter::once(first).chain(name.map(|_| '*')).collect())
        .unwrap_or_default();
    pb::Resident {
        name: masked_name,
        date_of_birth: resident.date_of_birth.chars().take(4).collect(),
        phone: None,
        national_id: None,
        unit: String::new(),
        room: String::new(),
        skills: Vec::new(),
        health_note: None,
        household_id: String::new(),
        relationship: String::new(),
        ..resident
    }
}

impl RegistryApi {
    /// One resident for a partner: only with the scope at the resident's centre, only if
    /// the resident consented to sharing with partners, and only the partner's view.
    async fn partner_resident(
        &self,
        caller: &Caller,
        req: &pb::GetResidentRequest,
    ) -> Result<Response<pb::Resident>, Status> {
        let centre_id = partner_centre(caller, &req.centre_id, PARTNER_RESIDENTS)?;
        if !req.national_id_purpose.trim().is_empty() {
            return Err(Status::permission_denied(
                "partners never see a resident's national ID",
            ));
        }
        let id = parse_id("id", &req.id).map_err(Error::from)?;
        let row = store::find_resident(&self.pool, centre_id, id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("resident"))?;
        if !store::shares_with_partners(&self.pool, id)
            .await
            .map_err(Error::from)?
        {
            return Err(Status::permission_denied(
                "the resident has not consented to sharing with partners",
            ));
        }
        let mut residents = self.partner_residents(vec![row], caller, centre_id).await?;
        Ok(Response::new(residents.remove(0)))
    }
}

fn today() -> chrono::NaiveDate {
    // Ages are a calendar matter for the district, whose centres keep China Standard Time.
    (Utc::now() + chrono::Duration::hours(8)).date_naive()
}

#[tonic::async_trait]
impl Registry for RegistryApi {
    async fn list_centres(
        &self,
        request: Request<pb::ListCentresRequest>,
    ) -> Result<Response<pb::ListCentresResponse>, Status> {
        let caller = caller(&request)?;
        let centres = store::list_centres(&self.pool)
            .await
            .map_err(Error::from)?
            .into_iter()
            .filter(|centre| caller.covers_centre(centre.id))
            .map(centre)
            .collect();
        Ok(Response::new(pb::ListCentresResponse { centres }))
    }

    async fn create_centre(
        &self,
        request: Request<pb::CreateCentreRequest>,
    ) -> Result<Response<pb::Centre>, Status> {
        caller(&request)?
            .require_role(Access::Write, CENTRE_ADMINS)
            .map_err(Error::from)?;
        let details = centre_details(request.into_inner().centre.unwrap_or_default())?;
        let row = store::create_centre(&self.pool, Uuid::new_v4(), &details)
            .await
            .map_err(Error::from)?
            .ok_or_else(crate::error::centre_code_taken)?;
        tracing::info!(centre_id = %row.id, code = %row.code, "centre created");
        Ok(Response::new(centre(row)))
    }

    async fn update_centre(
        &self,
        request: Request<pb::UpdateCentreRequest>,
    ) -> Result<Response<pb::Centre>, Status> {
        caller(&request)?
            .require_role(Access::Write, CENTRE_ADMINS)
            .map_err(Error::from)?;
        let req = request.into_inner();
        let id = parse_id("id", &req.id).map_err(Error::from)?;
        let given = req.centre.unwrap_or_default();
        // A mask names the fields to change and the rest stay; without one every field
        // is replaced.
        let fields = match req.update_mask {
            Some(mask) => centre_fields(&mask.paths, "update_mask").map_err(Error::from)?,
            None => CENTRE_FIELDS.to_vec(),
        };
        let row = store::correct_centre(&self.pool, id, |recorded| {
            let form = recorded.form().corrected(centre_form(&given), &fields);
            CentreDetails::correct(recorded, &form)
        })
        .await?
        .ok_or(Error::NotFound("centre"))?;
        Ok(Response::new(centre(row)))
    }

    async fn create_resident(
        &self,
        request: Request<pb::CreateResidentRequest>,
    ) -> Result<Response<pb::Resident>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let centre_id = scoped_centre(&caller, &req.centre_id, Access::Write, STAFF_WRITERS)?;
        let resident = new_resident(&req)?;
        if !store::centre_exists(&self.pool, centre_id)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::from(Violations::one(
                "centre_id",
                linli_platform::error::Reason::new("not_found", "no centre has this id")
                    .with("what", "centre"),
            ))
            .into());
        }
        let row = store::register_resident(
            &self.pool,
            &self.vault,
            &resident,
            req.confirm_not_duplicate,
            today(),
        )
        .await
        .map_err(Error::from)?;
        tracing::info!(resident_id = %row.id, centre_id = %row.centre_id, "resident registered");
        Ok(Response::new(self.one(row, &caller, false).await?))
    }

    async fn get_resident(
        &self,
        request: Request<pb::GetResidentRequest>,
    ) -> Result<Response<pb::Resident>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        if caller.is_partner() {
            return self.partner_resident(&caller, &req).await;
        }
        // A resident reads themselves and those they act for (the residents' site names
        // them), masked as any reader without a desk's role sees them.
        if caller.is_resident() {
            let centre_id = linli_platform::auth::resident_centre(&caller, &req.centre_id)?;
            let id = parse_id("id", &req.id).map_err(Error::from)?;
            caller
                .require_resident(centre_id, id)
                .map_err(Error::from)?;
            let row = store::find_resident(&self.pool, centre_id, id)
                .await
                .map_err(Error::from)?
                .ok_or(Error::NotFound("resident"))?;
            return Ok(Response::new(self.resident(row, &caller, false)?));
        }
        let centre_id = scoped_centre(&caller, &req.centre_id, Access::Read, STAFF_READERS)?;
        let id = parse_id("id", &req.id).map_err(Error::from)?;
        let found = store::find_resident_with_skills(&self.pool, centre_id, id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("resident"))?;
        let purpose = req.national_id_purpose.trim();
        let reveal = !purpose.is_empty();
        if reveal {
            caller
                .require_role(Access::Read, NATIONAL_ID_READERS)
                .map_err(Error::from)?;
            if !(3..=200).contains(&purpose.chars().count()) {
                return Err(Error::from(Violations::one(
                    "national_id_purpose",
                    Reason::length(3, 200),
                ))
                .into());
            }
            if found.row.national_id_sealed.is_some() {
                let roles: Vec<String> =
                    caller.roles.iter().map(|r| r.as_str().to_owned()).collect();
                let trace_id = linli_platform::telemetry::trace_id(&tracing::Span::current());
                store::log_national_id_read(
                    &self.pool,
                    id,
                    centre_id,
                    &caller.subject,
                    &roles,
                    purpose,
                    trace_id.as_deref(),
                )
                .await
                .map_err(Error::from)?;
            }
        }
        Ok(Response::new(self.read_one(found, &caller, reveal)?))
    }

    async fn list_residents(
        &self,
        request: Request<pb::ListResidentsRequest>,
    ) -> Result<Response<pb::ListResidentsResponse>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let centre_id = if caller.is_partner() {
            partner_centre(&caller, &req.centre_id, PARTNER_RESIDENTS)?
        } else {
            scoped_centre(&caller, &req.centre_id, Access::Read, STAFF_READERS)?
        };
        let page = PageRequest::parse("registry.residents", req.page_size, &req.page_token)
            .map_err(Error::from)?;
        let name =
            NameQuery::parse(&req.q).map_err(|reason| Error::from(Violations::one("q", reason)))?;
        let (born_on_or_after, born_on_or_before) =
            birth_bounds(req.min_age, req.max_age, today()).map_err(Error::from)?;
        let (born_on_or_after, born_on_or_before, category) = match req.category.trim() {
            "" => (born_on_or_after, born_on_or_before, None),
            // Age-derived categories become birth-date bounds.
            "elderly" => (
                born_on_or_after,
                min_date(born_on_or_before, birth_bounds(Some(60), None, today())?.1),
                None,
            ),
            "minor" => (
                max_date(born_on_or_after, birth_bounds(None, Some(17), today())?.0),
                born_on_or_before,
                None,
            ),
            recorded if RECORDED_CATEGORIES.contains(&recorded) => (
                born_on_or_after,
                born_on_or_before,
                Some(recorded.to_owned()),
            ),
            _ => {
                return Err(Error::from(Violations::one(
                    "category",
                    Reason::new(
                        "one_of",
                        "must be elderly, minor, disability, low_income or living_alone",
                    ),
                ))
                .into());
            }
        };
        let status = match req.status.trim() {
            "" => None,
            text => Some(
                status::Status::parse(text)
                    .ok_or_else(|| {
                        Error::from(Violations::one(
                            "status",
                            Reason::new("one_of", "must be active, moved_out or deceased"),
                        ))
                    })?
                    .as_str()
                    .to_owned(),
            ),
        };
        let filter = store::ResidentFilter {
            name,
            born_on_or_after,
            born_on_or_before,
            category,
            building: Some(req.building.trim().to_owned()).filter(|b| !b.is_empty()),
            status,
            skill: Some(req.skill.trim().to_owned()).filter(|s| !s.is_empty()),
            partner_sharing: caller.is_partner(),
            ids: resident_ids(&req.ids)?,
        };
        // The page and its residents' skills on one checkout: a checkout costs a round
        // trip of its own (the pool's guard).
        let mut conn = self.pool.acquire().await.map_err(Error::from)?;
        let rows =
            store::list_residents(&mut *conn, centre_id, &filter, page.after(), page.limit())
                .await
                .map_err(Error::from)?;
        let Page {
            rows,
            next_page_token,
        } = page.page(rows, |row| (row.registered_at, row.id));
        let residents = if caller.is_partner() {
            drop(conn);
            self.partner_residents(rows, &caller, centre_id).await?
        } else {
            let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
            let skills = store::skills_of(&mut *conn, &ids)
                .await
                .map_err(Error::from)?;
            drop(conn);
            self.dressed(rows, &skills, &caller, false)?
        };
        Ok(Response::new(pb::ListResidentsResponse {
            residents,
            next_page_token,
        }))
    }

    async fn update_resident(
        &self,
        request: Request<pb::UpdateResidentRequest>,
    ) -> Result<Response<pb::Resident>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let details = req.resident.unwrap_or_default();
        let centre_id = scoped_centre(&caller, &details.centre_id, Access::Write, STAFF_WRITERS)?;
        let id = parse_id("id", &req.id).map_err(Error::from)?;
        let given = resident_details(&details);
        // A mask names the fields to change and the rest stay; without one the whole
        // record is replaced, which must not erase a field the caller never saw in full.
        let fields = match req.update_mask {
            Some(mask) => ResidentField::parse_all(&mask.paths, "update_mask"),
            None => {
                correction::check_replacement(&caller, &given).map(|()| ResidentField::ALL.to_vec())
            }
        }
        .map_err(Error::from)?;
        let row = store::correct_resident(
            &self.pool,
            &self.vault,
            centre_id,
            id,
            today(),
            |recorded| NewResident::parse(&recorded.corrected(given, &fields).form(), today()),
        )
        .await?
        .ok_or(Error::NotFound("resident"))?;
        Ok(Response::new(self.one(row, &caller, false).await?))
    }

    async fn set_resident_status(
        &self,
        request: Request<pb::SetResidentStatusRequest>,
    ) -> Result<Response<pb::Resident>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let centre_id = scoped_centre(&caller, &req.centre_id, Access::Write, STAFF_WRITERS)?;
        let id = parse_id("id", &req.id).map_err(Error::from)?;
        let row = store::find_resident(&self.pool, centre_id, id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("resident"))?;
        let current = status::Status::parse(&row.status).unwrap_or(status::Status::Active);
        let (to, since) =
            status::change(current, &req.status, &req.since, row.date_of_birth, today())
                .map_err(Error::from)?;
        let row = store::set_status(&self.pool, centre_id, id, current, to, since)
            .await
            .map_err(Error::from)?
            .ok_or_else(|| {
                Error::from(Violations::one(
                    "status",
                    Reason::new(
                        "resident.changed",
                        "changed meanwhile; read the resident again",
                    ),
                ))
            })?;
        Ok(Response::new(self.one(row, &caller, false).await?))
    }

    async fn export_resident(
        &self,
        request: Request<pb::ExportResidentRequest>,
    ) -> Result<Response<pb::ExportResidentResponse>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let id = parse_id("id", &req.id).map_err(Error::from)?;
        // The centre's exporters, or the resident themselves (the residents' site's 我的信息,
        // where their national ID and phone stay masked as for any reader without a desk's
        // role, and the health note is said to be held, not shown on a phone).
        let centre_id = linli_platform::auth::own_or_scoped_centre(
            &caller,
            &req.centre_id,
            id,
            Access::Read,
            RESIDENT_EXPORTERS,
        )?;
        let own = caller.is_resident();
        let purpose = req.purpose.trim();
        if !(3..=200).contains(&purpose.chars().count()) {
            return Err(Error::from(Violations::one("purpose", Reason::length(3, 200))).into());
        }
        let row = store::find_resident(&self.pool, centre_id, id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("resident"))?;
        let roles: Vec<String> = caller.roles.iter().map(|r| r.as_str().to_owned()).collect();
        let trace_id = linli_platform::telemetry::trace_id(&tracing::Span::current());
        let purpose = format!("export: {purpose}");
        // The resident's own look shows their ID masked: no read of it to log.
        if !own {
            store::log_national_id_read(
                &self.pool,
                id,
                centre_id,
                &caller.subject,
                &roles,
                &purpose,
                trace_id.as_deref(),
            )
            .await
            .map_err(Error::from)?;
        }
        let consents = store::consent_history(&self.pool, id)
            .await
            .map_err(Error::from)?;
        let reads = store::national_id_reads(&self.pool, id)
            .await
            .map_err(Error::from)?;
        let corrections =
            crate::correction_requests::of_resident(&self.pool, &self.vault, id).await?;
        // The export is for the resident: it holds their health note whoever hands it over.
        let health_note_held = row.sealed_health_note().is_some();
        let health_note = if own {
            None
        } else {
            row.sealed_health_note()
                .map(|sealed| self.vault.open(&sealed))
                .transpose()
                .map_err(Error::from)?
        };
        let mut resident = self.one(row, &caller, !own).await?;
        resident.health_note = health_note;
        let document = serde_json::json!({
            "resident": {
                "id": resident.id,
                "centre_id": resident.centre_id,
                "name": resident.name,
                "gender": if resident.gender == pb::Gender::Male as i32 { "male" } else { "female" },
                "date_of_birth": resident.date_of_birth,
                "phone": resident.phone,
                "national_id": resident.national_id,
                "status": resident.status,
                "status_since": resident.status_since,
                "building": resident.building,
                "unit": resident.unit,
                "room": resident.room,
                "household_id": resident.household_id,
                "relationship": resident.relationship,
                "categories": resident.categories,
                "skills": resident.skills.iter().map(|s| serde_json::json!({ "kind": s.kind, "name": s.name })).collect::<Vec<_>>(),
                "health_note": resident.health_note,
                "health_note_held": health_note_held,
                "registered_at": resident.registered_at.map(|t| t.seconds),
            },
            "consents": consents.iter().map(|c| serde_json::json!({
                "purpose": c.purpose,
                "granted": c.granted,
                "source": c.source,
                "guardian_id": c.guardian_id,
                "recorded_by": c.recorded_by,
                "recorded_at": c.recorded_at.to_rfc3339(),
            })).collect::<Vec<_>>(),
            "correction_requests": corrections.iter().map(|c| serde_json::json!({
                "fields": c.fields,
                "details": c.details,
                "status": c.status,
                "decline_reason": c.decline_reason,
                "requested_at": c.requested_at.map(|t| t.seconds),
            })).collect::<Vec<_>>(),
            "national_id_reads": reads.iter().map(|(reader, purpose, at)| serde_json::json!({
                "reader": reader, "purpose": purpose, "read_at": at.to_rfc3339(),
            })).collect::<Vec<_>>(),
        });
        Ok(Response::new(pb::ExportResidentResponse {
            json: document.to_string().into_bytes(),
        }))
    }

    async fn erase_resident(
        &self,
        request: Request<pb::EraseResidentRequest>,
    ) -> Result<Response<pb::EraseResidentResponse>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let centre_id = scoped_centre(&caller, &req.centre_id, Access::Write, ERASERS)?;
        let id = parse_id("id", &req.id).map_err(Error::from)?;
        let reason = req.reason.trim();
        if !(3..=200).contains(&reason.chars().count()) {
            return Err(Error::from(Violations::one("reason", Reason::length(3, 200))).into());
        }
        if !store::erase_resident(&self.pool, centre_id, id, reason)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound("resident").into());
        }
        tracing::info!(resident_id = %id, %centre_id, "resident erased");
        Ok(Response::new(pb::EraseResidentResponse {}))
    }

    async fn record_consent(
        &self,
        request: Request<pb::RecordConsentRequest>,
    ) -> Result<Response<pb::Consents>, Status> {
        let caller = caller(&request)?.clone();
        let mut req = request.into_inner();
        let resident_id = parse_id("resident_id", &req.resident_id).map_err(Error::from)?;
        let centre_id = linli_platform::auth::own_or_scoped_centre(
            &caller,
            &req.centre_id,
            resident_id,
            Access::Write,
            STAFF_WRITERS,
        )?;
        if req.purpose == crate::family::PURPOSE {
            crate::family::record(
                &self.pool,
                &self.vault,
                &caller,
                centre_id,
                resident_id,
                &req,
                today(),
            )
            .await?;
            return self.consents(resident_id).await;
        }
        // A resident gives or withdraws their own consent on the residents' site, and a
        // guardian their child's: the source is theirs, never what the request claims.
        if let Some(me) = caller.resident_id() {
            req.source = "online".into();
            req.guardian_id = if me == resident_id {
                String::new()
            } else {
                me.to_string()
            };
        }
        let resident = store::find_resident(&self.pool, centre_id, resident_id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("resident"))?;
        let guardian = match req.guardian_id.trim() {
            "" => None,
            text => {
                let id = parse_id("guardian_id", text).map_err(Error::from)?;
                let guardian = store::find_resident(&self.pool, centre_id, id)
                    .await
                    .map_err(Error::from)?
                    .filter(|g| g.id != resident_id)
                    .ok_or_else(|| {
                        Error::from(Violations::one(
                            "guardian_id",
                            Reason::new(
                                "directory.not_a_resident",
                                "is not another resident of this centre",
                            ),
                        ))
                    })?;
                Some(guardian)
            }
        };
        consent::check(
            &req.purpose,
            &req.source,
            req.granted,
            DateOfBirth::from_stored(resident.date_of_birth),
            guardian
                .as_ref()
                .map(|g| DateOfBirth::from_stored(g.date_of_birth)),
            today(),
        )
        .map_err(Error::from)?;
        let record = store::NewConsent {
            resident_id,
            centre_id,
            purpose: &req.purpose,
            granted: req.granted,
            source: &req.source,
            guardian_id: guardian.map(|g| g.id),
            recorded_by: &caller.subject,
            delegate_id: None,
        };
        store::record_consent(&self.pool, &record)
            .await
            .map_err(Error::from)?;
        self.consents(resident_id).await
    }

    async fn create_partner(
        &self,
        request: Request<pb::CreatePartnerRequest>,
    ) -> Result<Response<pb::Partner>, Status> {
        let caller = caller(&request)?.clone();
        self.create_partner_for(&caller, request.into_inner()).await
    }

    async fn get_partner(
        &self,
        request: Request<pb::GetPartnerRequest>,
    ) -> Result<Response<pb::Partner>, Status> {
        let caller = caller(&request)?.clone();
        self.get_partner_for(&caller, request.into_inner()).await
    }

    async fn list_partners(
        &self,
        request: Request<pb::ListPartnersRequest>,
    ) -> Result<Response<pb::ListPartnersResponse>, Status> {
        let caller = caller(&request)?.clone();
        self.list_partners_for(&caller).await
    }

    async fn create_agreement(
        &self,
        request: Request<pb::CreateAgreementRequest>,
    ) -> Result<Response<pb::Agreement>, Status> {
        let caller = caller(&request)?.clone();
        self.create_agreement_for(&caller, request.into_inner())
            .await
    }

    async fn revoke_agreement(
        &self,
        request: Request<pb::RevokeAgreementRequest>,
    ) -> Result<Response<pb::Agreement>, Status> {
        let caller = caller(&request)?.clone();
        self.revoke_agreement_for(&caller, request.into_inner())
            .await
    }

    async fn set_agreement_webhook(
        &self,
        request: Request<pb::SetAgreementWebhookRequest>,
    ) -> Result<Response<pb::AgreementWebhook>, Status> {
        let caller = caller(&request)?.clone();
        self.set_agreement_webhook_for(&caller, request.into_inner())
            .await
    }

    async fn get_agreement_webhook(
        &self,
        request: Request<pb::GetAgreementWebhookRequest>,
    ) -> Result<Response<pb::AgreementWebhook>, Status> {
        let caller = caller(&request)?.clone();
        self.get_agreement_webhook_for(&caller, request.into_inner())
            .await
    }

    async fn list_webhook_deliveries(
        &self,
        request: Request<pb::ListWebhookDeliveriesRequest>,
    ) -> Result<Response<pb::ListWebhookDeliveriesResponse>, Status> {
        let caller = caller(&request)?.clone();
        self.list_webhook_deliveries_for(&caller, request.into_inner())
            .await
    }

    async fn replay_webhook_deliveries(
        &self,
        request: Request<pb::ReplayWebhookDeliveriesRequest>,
    ) -> Result<Response<pb::ReplayWebhookDeliveriesResponse>, Status> {
        let caller = caller(&request)?.clone();
        self.replay_webhook_deliveries_for(&caller, request.into_inner())
            .await
    }

    async fn register_credential(
        &self,
        request: Request<pb::RegisterCredentialRequest>,
    ) -> Result<Response<pb::Credential>, Status> {
        let caller = caller(&request)?.clone();
        self.register_credential_for(&caller, request.into_inner())
            .await
    }

    async fn revoke_credential(
        &self,
        request: Request<pb::RevokeCredentialRequest>,
    ) -> Result<Response<pb::Credential>, Status> {
        let caller = caller(&request)?.clone();
        self.revoke_credential_for(&caller, request.into_inner())
            .await
    }

    async fn resolve_partner_certificate(
        &self,
        request: Request<pb::ResolvePartnerCertificateRequest>,
    ) -> Result<Response<pb::PartnerAccess>, Status> {
        let caller = caller(&request)?.clone();
        self.resolve_partner_certificate_for(&caller, request.into_inner())
            .await
    }

    async fn create_household(
        &self,
        request: Request<pb::CreateHouseholdRequest>,
    ) -> Result<Response<pb::Household>, Status> {
        let caller = caller(&request)?.clone();
        self.create_household_for(&caller, request.into_inner())
            .await
    }

    async fn get_household(
        &self,
        request: Request<pb::GetHouseholdRequest>,
    ) -> Result<Response<pb::Household>, Status> {
        let caller = caller(&request)?.clone();
        self.get_household_for(&caller, request.into_inner()).await
    }

    async fn register_household_member(
        &self,
        request: Request<pb::RegisterHouseholdMemberRequest>,
    ) -> Result<Response<pb::Resident>, Status> {
        let caller = caller(&request)?.clone();
        self.register_household_member_for(&caller, request.into_inner())
            .await
    }

    async fn place_in_household(
        &self,
        request: Request<pb::PlaceInHouseholdRequest>,
    ) -> Result<Response<pb::Resident>, Status> {
        let caller = caller(&request)?.clone();
        self.place_in_household_for(&caller, request.into_inner())
            .await
    }

    async fn get_consents(
        &self,
        request: Request<pb::GetConsentsRequest>,
    ) -> Result<Response<pb::Consents>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let resident_id = parse_id("resident_id", &req.resident_id).map_err(Error::from)?;
        let centre_id = linli_platform::auth::own_or_scoped_centre(
            &caller,
            &req.centre_id,
            resident_id,
            Access::Read,
            STAFF_READERS,
        )?;
        store::find_resident(&self.pool, centre_id, resident_id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("resident"))?;
        self.consents(resident_id).await
    }

    async fn import_residents(
        &self,
        request: Request<pb::ImportResidentsRequest>,
    ) -> Result<Response<pb::ImportResidentsReport>, Status> {
        let caller = caller(&request)?.clone();
        let req = request.into_inner();
        let centre_id = scoped_centre(&caller, &req.centre_id, Access::Write, STAFF_WRITERS)?;
        let mapping: Vec<(String, String)> = req.mapping.into_iter().collect();
        let report = crate::import::import(
            &self.pool,
            &self.vault,
            centre_id,
            std::io::Cursor::new(req.file),
            &req.encoding,
            &mapping,
            today(),
        )
        .await?;
        Ok(Response::new(report_message(report)))
    }

    async fn import_residents_stream(
        &self,
        request: Request<tonic::Streaming<pb::ImportResidentsRequest>>,
    ) -> Result<Response<pb::ImportResidentsReport>, Status> {
        let caller = caller(&request)?.clone();
        let mut parts = request.into_inner();
        let first = parts
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("an import names its centre first"))?;
        let centre_id = scoped_centre(&caller, &first.centre_id, Access::Write, STAFF_WRITERS)?;
        // The stream passes the server's text check unread: check its text here.
        linli_platform::text::check("encoding", &first.encoding).map_err(Error::from)?;
        for (field, heading) in &first.mapping {
            linli_platform::text::check("mapping", field).map_err(Error::from)?;
            linli_platform::text::check("mapping", heading).map_err(Error::from)?;
        }
        let mapping: Vec<(String, String)> = first.mapping.into_iter().collect();
        let (sender, file, cut_short) = crate::import::Incoming::channel();
        // The file's parts go to the import as they arrive, a few held at most.
        let receiving = tokio::spawn(async move {
            if !first.file.is_empty() && !sender.send(first.file).await {
                return;
            }
            loop {
                match parts.message().await {
                    Ok(Some(part)) => {
                        if !sender.send(part.file).await {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(_) => return sender.cut_short(),
                }
            }
        });
        let report = crate::import::import_parts(
            &self.pool,
            &self.vault,
            centre_id,
            file,
            Some(cut_short),
            &first.encoding,
            &mapping,
            today(),
        )
        .await;
        receiving.abort();
        Ok(Response::new(report_message(report?)))
    }

    async fn create_staff_account(
        &self,
        request: Request<pb::CreateStaffAccountRequest>,
    ) -> Result<Response<pb::StaffAccount>, Status> {
        crate::accounts::create(&self.pool, request).await
    }

    async fn list_staff_accounts(
        &self,
        request: Request<pb::ListStaffAccountsRequest>,
    ) -> Result<Response<pb::ListStaffAccountsResponse>, Status> {
        crate::accounts::list(&self.pool, request).await
    }

    async fn verify_staff_password(
        &self,
        request: Request<pb::VerifyStaffPasswordRequest>,
    ) -> Result<Response<pb::StaffSession>, Status> {
        crate::accounts::verify_password(&self.pool, request).await
    }

    async fn get_staff_session(
        &self,
        request: Request<pb::GetStaffSessionRequest>,
    ) -> Result<Response<pb::StaffSession>, Status> {
        crate::accounts::get_session(&self.pool, request).await
    }

    async fn end_staff_session(
        &self,
        request: Request<pb::EndStaffSessionRequest>,
    ) -> Result<Response<pb::StaffSession>, Status> {
        crate::accounts::end_session(&self.pool, &self.revocations, request).await
    }

    async fn set_staff_account_active(
        &self,
        request: Request<pb::SetStaffAccountActiveRequest>,
    ) -> Result<Response<pb::StaffAccount>, Status> {
        crate::accounts::set_active(&self.pool, &self.revocations, request).await
    }

    async fn issue_sign_in_code(
        &self,
        request: Request<pb::IssueSignInCodeRequest>,
    ) -> Result<Response<pb::SignInCode>, Status> {
        crate::signin::issue(&self.pool, &self.vault, request).await
    }

    async fn verify_sign_in_code(
        &self,
        request: Request<pb::VerifySignInCodeRequest>,
    ) -> Result<Response<pb::ResidentSignIn>, Status> {
        crate::signin::verify(&self.pool, &self.vault, request).await
    }

    async fn end_resident_session(
        &self,
        request: Request<pb::EndResidentSessionRequest>,
    ) -> Result<Response<pb::ResidentSessionEnded>, Status> {
        crate::signin::end_session(&self.pool, &self.revocations, request).await
    }

    async fn request_correction(
        &self,
        request: Request<pb::RequestCorrectionRequest>,
    ) -> Result<Response<pb::CorrectionRequest>, Status> {
        crate::correction_requests::request(&self.pool, &self.vault, request).await
    }

    async fn list_correction_requests(
        &self,
        request: Request<pb::ListCorrectionRequestsRequest>,
    ) -> Result<Response<pb::ListCorrectionRequestsResponse>, Status> {
        crate::correction_requests::list(&self.pool, &self.vault, request).await
    }

    async fn close_correction_request(
        &self,
        request: Request<pb::CloseCorrectionRequestRequest>,
    ) -> Result<Response<pb::CorrectionRequest>, Status> {
        crate::correction_requests::close(&self.pool, &self.vault, request).await
    }
}

/// The residents a list is limited to (`ids`): none means no limit; at most a page's worth.
fn resident_ids(ids: &[String]) -> Result<Option<Vec<Uuid>>, Status> {
    if ids.is_empty() {
        return Ok(None);
    }
    if ids.len() > 200 {
        return Err(Error::from(Violations::one(
            "ids",
            Reason::new("too_many", "must name at most 200 residents").with("max", 200),
        ))
        .into());
    }
    ids.iter()
        .map(|id| Uuid::parse_str(id.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
        .map_err(|_| {
            Error::from(Violations::one(
                "ids",
                Reason::new("uuid", "must be resident ids"),
            ))
            .into()
        })
}

/// An import's report as the contract has it.
fn report_message(report: crate::import::ImportReport) -> pb::ImportResidentsReport {
    pb::ImportResidentsReport {
        rows: report.rows,
        imported: report.imported,
        already_registered: report.already_registered,
        errors: report
            .errors
            .into_iter()
            .map(|e| pb::RowError {
                row: e.row,
                field: e.field,
                reason: e.reason,
                code: e.code,
                params: e.params.into_iter().collect(),
            })
            .collect(),
    }
}
