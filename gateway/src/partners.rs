//! Partner organisations over HTTP, for the district and centre managers: partners and
//! their contacts, agreements at centres (with the scopes partners' systems may use), and
//! the client certificates those systems present on the partner gRPC port.

use axum::Router;
use linli_proto::registry::v1 as pb;

use crate::{AppState, forward};

pub fn routes() -> Router<AppState> {
    forwarded()
}

forward! { tag = "partners", "Partner organisations, agreements and certificates";
    /// Registers a partner organisation (district admins).
    post "/v1/partners" => create_partner(g; body p: pb::CreatePartnerRequest) -> 201 pb::Partner,
        (409, "A partner has this name") = registry.create_partner

    /// Every partner, with agreements and certificates.
    get "/v1/partners" => list_partners(g) -> 200 pb::ListPartnersResponse
        = registry.list_partners(pb::ListPartnersRequest)

    /// One partner.
    get "/v1/partners/{partner_id}" => get_partner(g, id) -> 200 pb::Partner
        = registry.get_partner(pb::GetPartnerRequest)

    /// Makes an agreement at a centre (its manager, or a district admin).
    post "/v1/partners/{partner_id}/agreements" => create_agreement(g, partner_id; body a: pb::CreateAgreementRequest)
        -> 201 pb::Agreement = registry.create_agreement

    /// Revokes an agreement at once: the partner's next call no longer has its scopes.
    post "/v1/partners/{partner_id}/agreements/{agreement_id}/revocation"
        => revoke_agreement(g, partner_id, agreement_id; body r: pb::RevokeAgreementRequest) -> 200 pb::Agreement
        = registry.revoke_agreement

    /// Registers a partner's client certificate (district admins).
    post "/v1/partners/{partner_id}/credentials" => register_credential(g, partner_id; body c: pb::RegisterCredentialRequest)
        -> 201 pb::Credential, (409, "The certificate is registered already") = registry.register_credential

    /// Revokes a certificate (district admins).
    post "/v1/partners/{partner_id}/credentials/{credential_id}/revocation"
        => revoke_credential(g, partner_id, credential_id) -> 200 pb::Credential
        = registry.revoke_credential(pb::RevokeCredentialRequest)
}
