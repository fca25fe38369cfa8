//! What a partner sees of residents (issue 24, partners who deliver): only residents who
//! consented to sharing with partners reach here (the callers check consent at the moment
//! of the read); of those, the ones who hold a booking of one of this partner's
//! offerings (`crate::partner_bookers`) are given with their full name and phone, every
//! other one in the masked partner view. Never the national ID, health note, room or
//! skills. Each full read is recorded in `partner_contact_reads`.

use linli_platform::auth::Caller;
use linli_proto::registry::v1 as pb;
use uuid::Uuid;

use super::{RegistryApi, partner_view};
use crate::domain::Phone;
use crate::error::Error;
use crate::partner_bookers;
use crate::store::ResidentRow;

impl RegistryApi {
    /// The partner's view of these (consenting) residents at `centre`.
    pub(super) async fn partner_residents(
        &self,
        rows: Vec<ResidentRow>,
        caller: &Caller,
        centre: Uuid,
    ) -> Result<Vec<pb::Resident>, Error> {
        let partner = caller.partner_id();
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let booked = match partner {
            Some(partner) => partner_bookers::booked(&self.pool, partner, &ids).await?,
            None => Vec::new(),
        };
        let mut phones = Vec::with_capacity(rows.len());
        for row in &rows {
            phones.push(match row.sealed_phone() {
                Some(sealed) if booked.contains(&row.id) => Some(
                    Phone::parse(&self.vault.open(&sealed)?)
                        .map_err(|_| Error::Crypto(linli_platform::crypto::CryptoError::Tampered))?
                        .expose()
                        .to_owned(),
                ),
                _ => None,
            });
        }
        let residents = self.residents(rows, caller, false).await?;
        let mut given = Vec::new();
        let out = residents
            .into_iter()
            .zip(phones)
            .zip(ids)
            .map(|((resident, phone), id)| {
                if booked.contains(&id) {
                    given.push(id);
                    booker_view(resident, phone)
                } else {
                    partner_view(resident)
                }
            })
            .collect();
        if let Some(partner) = partner {
            partner_bookers::record_reads(&self.pool, partner, centre, &given).await?;
        }
        Ok(out)
    }
}

/// A consenting resident who booked one of the partner's offerings: the partner's view
/// with the full name and phone, so the partner can reach the person it serves.
fn booker_view(resident: pb::Resident, phone: Option<String>) -> pb::Resident {
    let name = resident.name.clone();
    pb::Resident {
        name,
        phone,
        ..partner_view(resident)
    }
}
