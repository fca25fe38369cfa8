//! Partner organisations over HTTP, for the district and centre managers: partners and
//! their contacts, agreements at centres (with the scopes partners' systems may use), and
//! the client certificates those systems present on the partner gRPC port.

use axum::Router;
use linli_proto::registry::v1 as pb;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use crate::{AppState, call, forward, reply};

#[derive(OpenApi)]
#[openapi(
    tags((name = "partners", description = "Partner organisations, agreements and certificates"))
)]
pub struct PartnersDoc;

pub fn routes() -> Router<AppState> {
    forwarded()
}

reply! {
    #[derive(Deserialize)]
    pub struct Contact from pb::PartnerContact as c {
        pub name: String,
        #[serde(default)]
        pub role: String,
        #[serde(default)]
        pub phone: String,
        #[serde(default)]
        pub email: String,
    }
}

reply! {
    /// A partner organisation with its agreements and certificates.
    pub struct Partner from pb::Partner as p {
        pub id: String,
        pub name: String,
        /// government, enterprise or social_organisation.
        pub kind: String,
        pub contacts: Vec<Contact>,
        pub agreements: Vec<Agreement>,
        pub credentials: Vec<Credential>,
        pub created_at: Option<String>,
    }
}

reply! {
    pub struct PartnerList from pb::ListPartnersResponse as r { pub partners: Vec<Partner> }
}

reply! {
    /// An agreement at one centre; valid from (inclusive) until (exclusive), unless revoked.
    pub struct Agreement from pb::Agreement as a {
        pub id: String,
        pub partner_id: String,
        pub centre_id: String,
        pub provides: String,
        pub scopes: Vec<String>,
        pub valid_from: String,
        pub valid_until: String,
        pub revoked_at: Option<String>,
        pub revoked_reason: String,
    }
}

reply! {
    /// A client certificate registered for a partner, known by its SHA-256 fingerprint.
    pub struct Credential from pb::Credential as c {
        pub id: String,
        pub partner_id: String,
        pub fingerprint: String,
        pub subject: String,
        pub not_after: Option<String>,
        pub revoked_at: Option<String>,
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewPartner {
    #[schema(example = "幸福超市")]
    pub name: Option<String>,
    #[schema(example = "enterprise")]
    pub kind: Option<String>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
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
    post "/v1/partners" => create_partner(g; body p: NewPartner) -> 201 Partner, (409, "A partner has this name") {
        let contacts = (p.contacts.into_iter())
            .map(|c| pb::PartnerContact { name: c.name, role: c.role, phone: c.phone, email: c.email })
            .collect();
        let (name, kind) = (p.name.unwrap_or_default(), p.kind.unwrap_or_default());
        call!(g.registry.create_partner(pb::CreatePartnerRequest { name, kind, contacts }))
    }

    /// Every partner, with agreements and certificates.
    get "/v1/partners" => list_partners(g) -> 200 PartnerList {
        call!(g.registry.list_partners(pb::ListPartnersRequest {}))
    }

    /// One partner.
    get "/v1/partners/{partner_id}" => get_partner(g, id) -> 200 Partner {
        call!(g.registry.get_partner(pb::GetPartnerRequest { id }))
    }

    /// Makes an agreement at a centre (its manager, or a district admin).
    post "/v1/partners/{partner_id}/agreements" => create_agreement(g, partner_id; body a: NewAgreement) -> 201 Agreement {
        call!(g.registry.create_agreement(pb::CreateAgreementRequest {
            partner_id,
            centre_id: a.centre_id.unwrap_or_default(),
            provides: a.provides.unwrap_or_default(),
            scopes: a.scopes,
            valid_from: a.valid_from.unwrap_or_default(),
            valid_until: a.valid_until.unwrap_or_default(),
        }))
    }

    /// Revokes an agreement at once: the partner's next call no longer has its scopes.
    post "/v1/partners/{partner_id}/agreements/{agreement_id}/revocation"
        => revoke_agreement(g, partner_id, agreement_id; body r: Revocation) -> 200 Agreement {
        let reason = r.reason.unwrap_or_default();
        call!(g.registry.revoke_agreement(pb::RevokeAgreementRequest { partner_id, agreement_id, reason }))
    }

    /// Registers a partner's client certificate (district admins).
    post "/v1/partners/{partner_id}/credentials" => register_credential(g, partner_id; body c: NewCredential)
        -> 201 Credential, (409, "The certificate is registered already") {
        let certificate_pem = c.certificate_pem.unwrap_or_default();
        call!(g.registry.register_credential(pb::RegisterCredentialRequest { partner_id, certificate_pem }))
    }

    /// Revokes a certificate (district admins).
    post "/v1/partners/{partner_id}/credentials/{credential_id}/revocation"
        => revoke_credential(g, partner_id, credential_id) -> 200 Credential {
        call!(g.registry.revoke_credential(pb::RevokeCredentialRequest { partner_id, credential_id }))
    }
}
