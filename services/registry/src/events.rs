//! What the registry tells other services. Events carry what consumers need (centre, age
//! band, categories) and never a phone number, national ID or birth date.

use chrono::NaiveDate;
pub use linli_platform::wire::timestamp;
use linli_proto::events::v1::{
    CentreCreated, CentreUpdated, PartnerAgreementRevoked, PartnerAgreementSigned,
    ResidentConsentChanged, ResidentErased, ResidentRegistered, ResidentUpdated, SessionEnded,
};
use uuid::Uuid;

use crate::domain::{DateOfBirth, age_band, categories};
use crate::store::ResidentRow;

pub fn resident_registered(row: &ResidentRow, today: NaiveDate) -> ResidentRegistered {
    let age = DateOfBirth::from_stored(row.date_of_birth).age_on(today);
    ResidentRegistered {
        resident_id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        age_band: age_band(age).to_owned(),
        categories: categories(age)
            .into_iter()
            .chain(row.categories.iter().cloned())
            .collect(),
        registered_at: Some(timestamp(row.registered_at)),
    }
}

pub fn resident_erased(
    resident_id: Uuid,
    centre_id: Uuid,
    erased_at: chrono::DateTime<chrono::Utc>,
) -> ResidentErased {
    ResidentErased {
        resident_id: resident_id.to_string(),
        centre_id: centre_id.to_string(),
        erased_at: Some(timestamp(erased_at)),
    }
}

pub fn consent_changed(
    consent: &crate::store::NewConsent<'_>,
    at: chrono::DateTime<chrono::Utc>,
) -> ResidentConsentChanged {
    ResidentConsentChanged {
        resident_id: consent.resident_id.to_string(),
        centre_id: consent.centre_id.to_string(),
        purpose: consent.purpose.to_owned(),
        granted: consent.granted,
        recorded_at: Some(timestamp(at)),
        delegate_id: consent
            .delegate_id
            .map(|d| d.to_string())
            .unwrap_or_default(),
    }
}

pub fn centre_created(centre: &crate::store::CentreRow) -> CentreCreated {
    CentreCreated {
        centre_id: centre.id.to_string(),
        code: centre.code.clone(),
        name: centre.name.clone(),
        time_zone: centre.time_zone.clone(),
    }
}

/// A console session ended before `expires_at`: `reason` is "signed_out" or
/// "account_disabled".
pub fn session_ended(
    session: Uuid,
    expires_at: chrono::DateTime<chrono::Utc>,
    ended_at: chrono::DateTime<chrono::Utc>,
    reason: &str,
) -> SessionEnded {
    SessionEnded {
        session_id: session.to_string(),
        expires_at: Some(timestamp(expires_at)),
        ended_at: Some(timestamp(ended_at)),
        reason: reason.to_owned(),
    }
}

pub fn resident_updated(row: &ResidentRow, today: NaiveDate) -> ResidentUpdated {
    let registered = resident_registered(row, today);
    ResidentUpdated {
        resident_id: registered.resident_id,
        centre_id: registered.centre_id,
        age_band: registered.age_band,
        categories: registered.categories,
    }
}

/// A centre's corrected details, for every service's directory.
pub fn centre_updated(centre: &crate::store::CentreRow) -> CentreUpdated {
    CentreUpdated {
        centre_id: centre.id.to_string(),
        code: centre.code.clone(),
        name: centre.name.clone(),
        time_zone: centre.time_zone.clone(),
    }
}

/// A partner's agreement with a centre: what makes it one of the centre's partners in
/// every service's directory.
pub fn agreement_signed(row: &crate::store::partners::AgreementRow) -> PartnerAgreementSigned {
    PartnerAgreementSigned {
        agreement_id: row.id.to_string(),
        partner_id: row.partner_id.to_string(),
        centre_id: row.centre_id.to_string(),
        valid_from: row.valid_from.format("%Y-%m-%d").to_string(),
        valid_until: row.valid_until.format("%Y-%m-%d").to_string(),
    }
}

pub fn agreement_revoked(row: &crate::store::partners::AgreementRow) -> PartnerAgreementRevoked {
    PartnerAgreementRevoked {
        agreement_id: row.id.to_string(),
        partner_id: row.partner_id.to_string(),
        centre_id: row.centre_id.to_string(),
        revoked_at: row.revoked_at.map(timestamp),
    }
}
