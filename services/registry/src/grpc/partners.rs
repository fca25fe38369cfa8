//! Partner organisations over gRPC: registering them and their certificates, agreements at
//! centres, and the question the partner listener asks on every call.

use chrono::{NaiveDate, Utc};
use linli_platform::auth::{Access, Caller, Role, SCOPES};
use linli_platform::crypto::{CryptoError, Vault};
use linli_platform::error::Violations;
use linli_platform::partner::read_certificate;
use linli_proto::registry::v1 as pb;
use serde::{Deserialize, Serialize};
use tonic::{Response, Status};
use uuid::Uuid;

use super::{RegistryApi, parse_id, today};
use crate::error::Error;
use crate::events::timestamp;
use crate::store::partners::{self as store, AgreementRow, CredentialRow, PartnerRow};
use linli_platform::error::Reason;

/// Who registers partners and their certificates: the district.
const PARTNER_ADMINS: &[Role] = &[Role::DistrictAdmin];
/// Who makes agreements at a centre: the district, or the centre's manager.
const AGREEMENT_MAKERS: &[Role] = &[Role::DistrictAdmin, Role::CentreManager];
/// Who reads the partner list: those who make agreements, auditors, and finance officers,
/// who choose by name the partner whose income they record (a partner's contact numbers
/// are masked for all but district admins, and only the centre's agreements are shown).
const PARTNER_READERS: &[Role] = &[
    Role::DistrictAdmin,
    Role::CentreManager,
    Role::FinanceOfficer,
    Role::Auditor,
];

pub const KINDS: [&str; 3] = ["government", "enterprise", "social_organisation"];

#[derive(Serialize, Deserialize)]
struct Contact {
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
}

/// What a caller may see of partners: the district sees everything; a centre's manager
/// or auditor sees the agreements at their own centres only, and a partner's contacts
/// (phone numbers masked) only when it has an agreement at one of them. Certificates are
/// the district's business.
struct PartnerView<'a> {
    caller: &'a Caller,
    vault: &'a Vault,
}

impl PartnerView<'_> {
    fn district(&self) -> bool {
        self.caller.roles.contains(&Role::DistrictAdmin)
    }

    fn concerns(&self, agreement: &AgreementRow) -> bool {
        self.district() || self.caller.centres.contains(&agreement.centre_id)
    }

    fn partner(
        &self,
        row: PartnerRow,
        agreements: &[AgreementRow],
        credentials: &[CredentialRow],
    ) -> Result<pb::Partner, Error> {
        let agreements: Vec<pb::Agreement> = agreements
            .iter()
            .filter(|a| a.partner_id == row.id && self.concerns(a))
            .map(agreement_to_pb)
            .collect();
        let contacts = if self.district() || !agreements.is_empty() {
            let contacts: Vec<Contact> = match row.sealed_contacts() {
                Some(sealed) => serde_json::from_str(&self.vault.open(&sealed)?)
                    .map_err(|_| Error::Crypto(CryptoError::Tampered))?,
                None => Vec::new(),
            };
            contacts
                .into_iter()
                .map(|c| pb::PartnerContact {
                    phone: if self.district() {
                        c.phone
                    } else {
                        mask_phone(&c.phone)
                    },
                    name: c.name,
                    role: c.role,
                    email: c.email,
                })
                .collect()
        } else {
            Vec::new()
        };
        let credentials = if self.district() {
            credentials
                .iter()
                .filter(|c| c.partner_id == row.id)
                .map(credential_to_pb)
                .collect()
        } else {
            Vec::new()
        };
        Ok(pb::Partner {
            id: row.id.to_string(),
            name: row.name,
            kind: row.kind,
            contacts,
            agreements,
            credentials,
            created_at: Some(timestamp(row.created_at)),
        })
    }
}

/// A contact number with its middle hidden (`138****5678`, `010****4567`); a short one
/// shows only its last two digits.
fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    match chars.len() {
        0 => String::new(),
        n if n >= 8 => {
            let head: String = chars[..3].iter().collect();
            let tail: String = chars[n - 4..].iter().collect();
            format!("{head}****{tail}")
        }
        n => {
            let tail: String = chars[n.saturating_sub(2)..].iter().collect();
            format!("****{tail}")
        }
    }
}

fn agreement_to_pb(row: &AgreementRow) -> pb::Agreement {
    pb::Agreement {
        id: row.id.to_string(),
        partner_id: row.partner_id.to_string(),
        centre_id: row.centre_id.to_string(),
        provides: row.provides.clone(),
        scopes: row.scopes.clone(),
        valid_from: row.valid_from.to_string(),
        valid_until: row.valid_until.to_string(),
        revoked_at: row.revoked_at.map(timestamp),
        revoked_reason: row.revoked_reason.clone(),
        rate_per_minute: row.rate_per_minute.max(0) as u32,
        rate_burst: row.rate_burst.max(0) as u32,
    }
}

/// Highest rate (per minute) and burst an agreement may give: 10,000 a second.
const MAX_RATE_PER_MINUTE: u32 = 600_000;
const MAX_RATE_BURST: u32 = 100_000;

fn credential_to_pb(row: &CredentialRow) -> pb::Credential {
    pb::Credential {
        id: row.id.to_string(),
        partner_id: row.partner_id.to_string(),
        fingerprint: row.fingerprint.clone(),
        subject: row.subject.clone(),
        not_after: Some(timestamp(row.not_after)),
        revoked_at: row.revoked_at.map(timestamp),
    }
}

fn parse_day(field: &str, text: &str, violations: &mut Violations) -> Option<NaiveDate> {
    match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        Ok(day) => Some(day),
        Err(_) => {
            violations.push(field, Reason::new("date", "must be a date, YYYY-MM-DD"));
            None
        }
    }
}

impl From<store::PartnerError> for Error {
    fn from(error: store::PartnerError) -> Self {
        match error {
            store::PartnerError::Duplicate(what) => crate::error::conflict(what),
            store::PartnerError::Database(e) => Error::Database(e),
        }
    }
}

impl RegistryApi {
    fn view<'a>(&'a self, caller: &'a Caller) -> PartnerView<'a> {
        PartnerView {
            caller,
            vault: &self.vault,
        }
    }

    async fn partner(&self, caller: &Caller, id: Uuid) -> Result<pb::Partner, Error> {
        let row = store::find_partner(&self.pool, id)
            .await?
            .ok_or(Error::NotFound("partner"))?;
        let agreements = store::agreements_of(&self.pool, &[id]).await?;
        let credentials = store::credentials_of(&self.pool, &[id]).await?;
        self.view(caller).partner(row, &agreements, &credentials)
    }

    pub(super) async fn create_partner_for(
        &self,
        caller: &Caller,
        req: pb::CreatePartnerRequest,
    ) -> Result<Response<pb::Partner>, Status> {
        caller
            .require_role(Access::Write, PARTNER_ADMINS)
            .map_err(Error::from)?;
        let mut v = Violations::default();
        let name = req.name.trim();
        if !(1..=200).contains(&name.chars().count()) {
            v.push("name", Reason::length(1, 200));
        }
        if !KINDS.contains(&req.kind.as_str()) {
            v.push("kind", Reason::one_of(&KINDS));
        }
        for (i, contact) in req.contacts.iter().enumerate() {
            if contact.name.trim().is_empty() {
                v.push(format!("contacts[{i}].name"), Reason::required());
            }
        }
        v.into_result(|| ()).map_err(Error::from)?;
        let contacts: Vec<Contact> = req
            .contacts
            .into_iter()
            .map(|c| Contact {
                name: c.name.trim().to_owned(),
                role: c.role,
                phone: c.phone,
                email: c.email,
            })
            .collect();
        let contacts = serde_json::to_string(&contacts).expect("contacts serialise");
        let row = store::create_partner(&self.pool, name, &req.kind, &self.vault.seal(&contacts))
            .await
            .map_err(Error::from)?;
        Ok(Response::new(self.view(caller).partner(row, &[], &[])?))
    }

    pub(super) async fn get_partner_for(
        &self,
        caller: &Caller,
        req: pb::GetPartnerRequest,
    ) -> Result<Response<pb::Partner>, Status> {
        caller
            .require_role(Access::Read, PARTNER_READERS)
            .map_err(Error::from)?;
        let id = parse_id("id", &req.id).map_err(Error::from)?;
        Ok(Response::new(self.partner(caller, id).await?))
    }

    pub(super) async fn list_partners_for(
        &self,
        caller: &Caller,
    ) -> Result<Response<pb::ListPartnersResponse>, Status> {
        caller
            .require_role(Access::Read, PARTNER_READERS)
            .map_err(Error::from)?;
        let rows = store::list_partners(&self.pool)
            .await
            .map_err(Error::from)?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let agreements = store::agreements_of(&self.pool, &ids)
            .await
            .map_err(Error::from)?;
        let credentials = store::credentials_of(&self.pool, &ids)
            .await
            .map_err(Error::from)?;
        let view = self.view(caller);
        let partners = rows
            .into_iter()
            .map(|row| view.partner(row, &agreements, &credentials))
            .collect::<Result<_, _>>()?;
        Ok(Response::new(pb::ListPartnersResponse { partners }))
    }

    pub(super) async fn create_agreement_for(
        &self,
        caller: &Caller,
        req: pb::CreateAgreementRequest,
    ) -> Result<Response<pb::Agreement>, Status> {
        let centre = linli_platform::auth::scoped_centre(
            caller,
            &req.centre_id,
            Access::Write,
            AGREEMENT_MAKERS,
        )?;
        let partner = parse_id("partner_id", &req.partner_id).map_err(Error::from)?;
        let mut v = Violations::default();
        let from = parse_day("valid_from", &req.valid_from, &mut v);
        let until = parse_day("valid_until", &req.valid_until, &mut v);
        if let (Some(from), Some(until)) = (from, until)
            && until <= from
        {
            v.push("valid_until", Reason::after("valid_from"));
        }
        if req.scopes.is_empty() {
            v.push(
                "scopes",
                Reason::new("scopes.required", "name at least one scope"),
            );
        }
        for (i, scope) in req.scopes.iter().enumerate() {
            if !SCOPES.contains(&scope.as_str()) {
                v.push(
                    format!("scopes[{i}]"),
                    Reason::new("one_of", format!("must be one of {}", SCOPES.join(", "))),
                );
            }
        }
        let provides = req.provides.trim();
        if !(1..=500).contains(&provides.chars().count()) {
            v.push("provides", Reason::length(1, 500));
        }
        if req.rate_per_minute > MAX_RATE_PER_MINUTE {
            v.push(
                "rate_per_minute",
                Reason::between(0, i64::from(MAX_RATE_PER_MINUTE)),
            );
        }
        if req.rate_burst > MAX_RATE_BURST {
            v.push("rate_burst", Reason::between(0, i64::from(MAX_RATE_BURST)));
        }
        let (Some(valid_from), Some(valid_until)) = (from, until) else {
            return Err(Error::from(v).into());
        };
        v.into_result(|| ()).map_err(Error::from)?;
        if store::find_partner(&self.pool, partner)
            .await
            .map_err(Error::from)?
            .is_none()
        {
            return Err(Error::NotFound("partner").into());
        }
        if !crate::store::centre_exists(&self.pool, centre)
            .await
            .map_err(Error::from)?
        {
            return Err(Error::NotFound("centre").into());
        }
        let mut scopes = req.scopes.clone();
        scopes.sort();
        scopes.dedup();
        let row = store::create_agreement(
            &self.pool,
            &store::NewAgreement {
                partner_id: partner,
                centre_id: centre,
                provides,
                scopes: &scopes,
                valid_from,
                valid_until,
                rate_per_minute: req.rate_per_minute.min(MAX_RATE_PER_MINUTE) as i32,
                rate_burst: req.rate_burst.min(MAX_RATE_BURST) as i32,
            },
        )
        .await
        .map_err(Error::from)?;
        tracing::info!(partner_id = %partner, centre_id = %centre, agreement_id = %row.id, "partner agreement made");
        Ok(Response::new(agreement_to_pb(&row)))
    }

    pub(super) async fn revoke_agreement_for(
        &self,
        caller: &Caller,
        req: pb::RevokeAgreementRequest,
    ) -> Result<Response<pb::Agreement>, Status> {
        let partner = parse_id("partner_id", &req.partner_id).map_err(Error::from)?;
        let id = parse_id("agreement_id", &req.agreement_id).map_err(Error::from)?;
        let reason = req.reason.trim();
        if !(3..=200).contains(&reason.chars().count()) {
            return Err(Error::from(Violations::one("reason", Reason::length(3, 200))).into());
        }
        let agreement = store::find_agreement(&self.pool, partner, id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("agreement"))?;
        caller
            .authorize(agreement.centre_id, Access::Write, AGREEMENT_MAKERS)
            .map_err(Error::from)?;
        let row = store::revoke_agreement(&self.pool, partner, id, reason)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("agreement"))?;
        tracing::info!(partner_id = %partner, agreement_id = %id, "partner agreement revoked");
        Ok(Response::new(agreement_to_pb(&row)))
    }

    pub(super) async fn register_credential_for(
        &self,
        caller: &Caller,
        req: pb::RegisterCredentialRequest,
    ) -> Result<Response<pb::Credential>, Status> {
        caller
            .require_role(Access::Write, PARTNER_ADMINS)
            .map_err(Error::from)?;
        let partner = parse_id("partner_id", &req.partner_id).map_err(Error::from)?;
        let facts = read_certificate(&req.certificate_pem)
            .map_err(|reason| Error::from(Violations::one("certificate_pem", reason)))?;
        if facts.not_after <= Utc::now() {
            return Err(Error::from(Violations::one(
                "certificate_pem",
                Reason::new("certificate.expired", "has expired already"),
            ))
            .into());
        }
        if store::find_partner(&self.pool, partner)
            .await
            .map_err(Error::from)?
            .is_none()
        {
            return Err(Error::NotFound("partner").into());
        }
        let row = store::register_credential(
            &self.pool,
            partner,
            &facts.fingerprint,
            &facts.subject,
            facts.not_after,
        )
        .await
        .map_err(Error::from)?;
        Ok(Response::new(credential_to_pb(&row)))
    }

    pub(super) async fn revoke_credential_for(
        &self,
        caller: &Caller,
        req: pb::RevokeCredentialRequest,
    ) -> Result<Response<pb::Credential>, Status> {
        caller
            .require_role(Access::Write, PARTNER_ADMINS)
            .map_err(Error::from)?;
        let partner = parse_id("partner_id", &req.partner_id).map_err(Error::from)?;
        let id = parse_id("credential_id", &req.credential_id).map_err(Error::from)?;
        let row = store::revoke_credential(&self.pool, partner, id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("credential"))?;
        Ok(Response::new(credential_to_pb(&row)))
    }

    pub(super) async fn resolve_partner_certificate_for(
        &self,
        caller: &Caller,
        req: pb::ResolvePartnerCertificateRequest,
    ) -> Result<Response<pb::PartnerAccess>, Status> {
        caller
            .require_role(Access::Read, &[Role::DistrictAdmin])
            .map_err(Error::from)?;
        let fingerprint = req.fingerprint.trim().to_ascii_lowercase();
        let (partner_id, name) =
            store::partner_of_certificate(&self.pool, &fingerprint, Utc::now())
                .await
                .map_err(Error::from)?
                .ok_or(Error::NotFound("credential"))?;
        let grants = store::grants_in_force(&self.pool, partner_id, today())
            .await
            .map_err(Error::from)?;
        let (rate_per_minute, rate_burst) = store::rate_in_force(&self.pool, partner_id, today())
            .await
            .map_err(Error::from)?;
        Ok(Response::new(pb::PartnerAccess {
            partner_id: partner_id.to_string(),
            name,
            rate_per_minute: rate_per_minute.max(0) as u32,
            rate_burst: rate_burst.max(0) as u32,
            grants: grants
                .into_iter()
                .map(|(centre, scope)| pb::PartnerGrant {
                    centre_id: centre.to_string(),
                    scope,
                })
                .collect(),
        }))
    }
}
