//! Partner organisations over HTTP, for the district and centre managers: partners and
//! their contacts, agreements at centres (with the scopes partners' systems may use), and
//! the client certificates those systems present on the partner gRPC port.

use axum::Router;
use linli_proto::registry::v1 as pb;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use crate::{AppState, call, forward};

#[derive(OpenApi)]
#[openapi(
    tags((name = "partners", description = "Partner organisations, agreements and certificates"))
)]
pub struct PartnersDoc;

pub fn routes() -> Router<AppState> {
    forwarded()
}

#[derive(Deserialize, ToSchema)]
pub struct NewPartner {
    #[schema(example = "幸福超市")]
    pub name: Option<String>,
    #[schema(example = "enterprise")]
    pub kind: Option<String>,
    #[serde(default)]
    pub contacts: Vec<pb::PartnerContact>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewAgreement {
    pub centre_id: Option<String>,
    #[schema(example = "送餐服务 meal delivery")]
    pub provides: Option<String>,
    /// bookings.offerings:write, bookings.offerings:read, bookings.bookings:read,
    /// evaluation.kpis:read, registry.residents:read, volunteers.hours:write.
    #[serde(default)]
    pub scopes: Vec<String>,
    #[schema(example = "2026-01-01")]
    pub valid_from: Option<String>,
    #[schema(example = "2027-01-01")]
    pub valid_until: Option<String>,
    /// The partner's own rate on the partner gRPC port, requests per minute; leave out
    /// for the default per-credential rate.
    #[schema(example = 6000)]
    pub rate_per_minute: Option<u32>,
    /// Requests at once above that rate; leave out for two seconds' worth.
    #[schema(example = 200)]
    pub rate_burst: Option<u32>,
}

#[derive(Deserialize, ToSchema)]
pub struct Revocation {
    /// Why, for the record.
    pub reason: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewCredential {
    /// The client certificate, PEM.
    pub certificate_pem: Option<String>,
}

forward! { tag = "partners";
    /// Registers a partner organisation (district admins).
    post "/v1/partners" => create_partner(g; body p: NewPartner) -> 201 pb::Partner, (409, "A partner has this name") {
        let (name, kind) = (p.name.unwrap_or_default(), p.kind.unwrap_or_default());
        call!(g.registry.create_partner(pb::CreatePartnerRequest { name, kind, contacts: p.contacts }))
    }

    /// Every partner, with agreements and certificates.
    get "/v1/partners" => list_partners(g) -> 200 pb::ListPartnersResponse {
        call!(g.registry.list_partners(pb::ListPartnersRequest {}))
    }

    /// One partner.
    get "/v1/partners/{partner_id}" => get_partner(g, id) -> 200 pb::Partner {
        call!(g.registry.get_partner(pb::GetPartnerRequest { id }))
    }

    /// Makes an agreement at a centre (its manager, or a district admin).
    post "/v1/partners/{partner_id}/agreements" => create_agreement(g, partner_id; body a: NewAgreement) -> 201 pb::Agreement {
        call!(g.registry.create_agreement(pb::CreateAgreementRequest {
            partner_id,
            centre_id: a.centre_id.unwrap_or_default(),
            provides: a.provides.unwrap_or_default(),
            scopes: a.scopes,
            valid_from: a.valid_from.unwrap_or_default(),
            valid_until: a.valid_until.unwrap_or_default(),
            rate_per_minute: a.rate_per_minute.unwrap_or_default(),
            rate_burst: a.rate_burst.unwrap_or_default(),
        }))
    }

    /// Revokes an agreement at once: the partner's next call no longer has its scopes.
    post "/v1/partners/{partner_id}/agreements/{agreement_id}/revocation"
        => revoke_agreement(g, partner_id, agreement_id; body r: Revocation) -> 200 pb::Agreement {
        let reason = r.reason.unwrap_or_default();
        call!(g.registry.revoke_agreement(pb::RevokeAgreementRequest { partner_id, agreement_id, reason }))
    }

    /// Registers a partner's client certificate (district admins).
    post "/v1/partners/{partner_id}/credentials" => register_credential(g, partner_id; body c: NewCredential)
        -> 201 pb::Credential, (409, "The certificate is registered already") {
        let certificate_pem = c.certificate_pem.unwrap_or_default();
        call!(g.registry.register_credential(pb::RegisterCredentialRequest { partner_id, certificate_pem }))
    }

    /// Revokes a certificate (district admins).
    post "/v1/partners/{partner_id}/credentials/{credential_id}/revocation"
        => revoke_credential(g, partner_id, credential_id) -> 200 pb::Credential {
        call!(g.registry.revoke_credential(pb::RevokeCredentialRequest { partner_id, credential_id }))
    }
}
