//! Partner organisations over HTTP, for the district and centre managers: partners and
//! their contacts, agreements at centres (with the scopes partners' systems may use), and
//! the client certificates those systems present on the partner gRPC port.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat};
use linli_proto::registry::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::auth::Authenticated;
use crate::problem::Problem;
use crate::routes::ApiJson;

#[derive(OpenApi)]
#[openapi(
    paths(create_partner, list_partners, get_partner, create_agreement, revoke_agreement, register_credential, revoke_credential),
    tags((name = "partners", description = "Partner organisations, agreements and certificates"))
)]
pub struct PartnersDoc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/partners", get(list_partners).post(create_partner))
        .route("/v1/partners/{partner_id}", get(get_partner))
        .route(
            "/v1/partners/{partner_id}/agreements",
            post(create_agreement),
        )
        .route(
            "/v1/partners/{partner_id}/agreements/{agreement_id}/revocation",
            post(revoke_agreement),
        )
        .route(
            "/v1/partners/{partner_id}/credentials",
            post(register_credential),
        )
        .route(
            "/v1/partners/{partner_id}/credentials/{credential_id}/revocation",
            post(revoke_credential),
        )
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
}

/// A partner organisation with its agreements and certificates.
#[derive(Serialize, ToSchema)]
pub struct Partner {
    pub id: String,
    pub name: String,
    /// government, enterprise or social_organisation.
    pub kind: String,
    pub contacts: Vec<Contact>,
    pub agreements: Vec<Agreement>,
    pub credentials: Vec<Credential>,
    pub created_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PartnerList {
    pub partners: Vec<Partner>,
}

/// An agreement at one centre; valid from (inclusive) until (exclusive), unless revoked.
#[derive(Serialize, ToSchema)]
pub struct Agreement {
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

/// A client certificate registered for a partner, known by its SHA-256 fingerprint.
#[derive(Serialize, ToSchema)]
pub struct Credential {
    pub id: String,
    pub partner_id: String,
    pub fingerprint: String,
    pub subject: String,
    pub not_after: Option<String>,
    pub revoked_at: Option<String>,
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

fn time(t: Option<prost_types::Timestamp>) -> Option<String> {
    t.and_then(|t| DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn agreement(a: pb::Agreement) -> Agreement {
    Agreement {
        id: a.id,
        partner_id: a.partner_id,
        centre_id: a.centre_id,
        provides: a.provides,
        scopes: a.scopes,
        valid_from: a.valid_from,
        valid_until: a.valid_until,
        revoked_at: time(a.revoked_at),
        revoked_reason: a.revoked_reason,
    }
}

fn credential(c: pb::Credential) -> Credential {
    Credential {
        id: c.id,
        partner_id: c.partner_id,
        fingerprint: c.fingerprint,
        subject: c.subject,
        not_after: time(c.not_after),
        revoked_at: time(c.revoked_at),
    }
}

fn partner(p: pb::Partner) -> Partner {
    Partner {
        id: p.id,
        name: p.name,
        kind: p.kind,
        contacts: p
            .contacts
            .into_iter()
            .map(|c| Contact {
                name: c.name,
                role: c.role,
                phone: c.phone,
                email: c.email,
            })
            .collect(),
        agreements: p.agreements.into_iter().map(agreement).collect(),
        credentials: p.credentials.into_iter().map(credential).collect(),
        created_at: time(p.created_at),
    }
}

/// Registers a partner organisation (district admins).
#[utoipa::path(post, path = "/v1/partners", tag = "partners",
    request_body = NewPartner,
    responses(
        (status = 201, body = Partner),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "A partner has this name")),
    security(("bearer" = [])))]
pub async fn create_partner(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiJson(body): ApiJson<NewPartner>,
) -> Result<(StatusCode, Json<Partner>), Problem> {
    let request = pb::CreatePartnerRequest {
        name: body.name.unwrap_or_default(),
        kind: body.kind.unwrap_or_default(),
        contacts: body
            .contacts
            .into_iter()
            .map(|c| pb::PartnerContact {
                name: c.name,
                role: c.role,
                phone: c.phone,
                email: c.email,
            })
            .collect(),
    };
    let reply = state
        .registry
        .clone()
        .create_partner(auth.grpc(request))
        .await?;
    Ok((StatusCode::CREATED, Json(partner(reply.into_inner()))))
}

/// Every partner, with agreements and certificates.
#[utoipa::path(get, path = "/v1/partners", tag = "partners",
    responses((status = 200, body = PartnerList)),
    security(("bearer" = [])))]
pub async fn list_partners(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<PartnerList>, Problem> {
    let reply = state
        .registry
        .clone()
        .list_partners(auth.grpc(pb::ListPartnersRequest {}))
        .await?;
    Ok(Json(PartnerList {
        partners: reply
            .into_inner()
            .partners
            .into_iter()
            .map(partner)
            .collect(),
    }))
}

/// One partner.
#[utoipa::path(get, path = "/v1/partners/{partner_id}", tag = "partners",
    params(("partner_id" = String, Path)),
    responses((status = 200, body = Partner)),
    security(("bearer" = [])))]
pub async fn get_partner(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(partner_id): Path<String>,
) -> Result<Json<Partner>, Problem> {
    let reply = state
        .registry
        .clone()
        .get_partner(auth.grpc(pb::GetPartnerRequest { id: partner_id }))
        .await?;
    Ok(Json(partner(reply.into_inner())))
}

/// Makes an agreement at a centre (its manager, or a district admin).
#[utoipa::path(post, path = "/v1/partners/{partner_id}/agreements", tag = "partners",
    params(("partner_id" = String, Path)),
    request_body = NewAgreement,
    responses((status = 201, body = Agreement)),
    security(("bearer" = [])))]
pub async fn create_agreement(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(partner_id): Path<String>,
    ApiJson(body): ApiJson<NewAgreement>,
) -> Result<(StatusCode, Json<Agreement>), Problem> {
    let request = pb::CreateAgreementRequest {
        partner_id,
        centre_id: body.centre_id.unwrap_or_default(),
        provides: body.provides.unwrap_or_default(),
        scopes: body.scopes,
        valid_from: body.valid_from.unwrap_or_default(),
        valid_until: body.valid_until.unwrap_or_default(),
    };
    let reply = state
        .registry
        .clone()
        .create_agreement(auth.grpc(request))
        .await?;
    Ok((StatusCode::CREATED, Json(agreement(reply.into_inner()))))
}

/// Revokes an agreement at once: the partner's next call no longer has its scopes.
#[utoipa::path(post, path = "/v1/partners/{partner_id}/agreements/{agreement_id}/revocation", tag = "partners",
    params(("partner_id" = String, Path), ("agreement_id" = String, Path)),
    request_body = Revocation,
    responses((status = 200, body = Agreement)),
    security(("bearer" = [])))]
pub async fn revoke_agreement(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((partner_id, agreement_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Revocation>,
) -> Result<Json<Agreement>, Problem> {
    let request = pb::RevokeAgreementRequest {
        partner_id,
        agreement_id,
        reason: body.reason.unwrap_or_default(),
    };
    let reply = state
        .registry
        .clone()
        .revoke_agreement(auth.grpc(request))
        .await?;
    Ok(Json(agreement(reply.into_inner())))
}

/// Registers a partner's client certificate (district admins).
#[utoipa::path(post, path = "/v1/partners/{partner_id}/credentials", tag = "partners",
    params(("partner_id" = String, Path)),
    request_body = NewCredential,
    responses(
        (status = 201, body = Credential),
        (status = 409, body = Problem, content_type = "application/problem+json", description = "The certificate is registered already")),
    security(("bearer" = [])))]
pub async fn register_credential(
    State(state): State<AppState>,
    auth: Authenticated,
    Path(partner_id): Path<String>,
    ApiJson(body): ApiJson<NewCredential>,
) -> Result<(StatusCode, Json<Credential>), Problem> {
    let request = pb::RegisterCredentialRequest {
        partner_id,
        certificate_pem: body.certificate_pem.unwrap_or_default(),
    };
    let reply = state
        .registry
        .clone()
        .register_credential(auth.grpc(request))
        .await?;
    Ok((StatusCode::CREATED, Json(credential(reply.into_inner()))))
}

/// Revokes a certificate (district admins).
#[utoipa::path(post, path = "/v1/partners/{partner_id}/credentials/{credential_id}/revocation", tag = "partners",
    params(("partner_id" = String, Path), ("credential_id" = String, Path)),
    responses((status = 200, body = Credential)),
    security(("bearer" = [])))]
pub async fn revoke_credential(
    State(state): State<AppState>,
    auth: Authenticated,
    Path((partner_id, credential_id)): Path<(String, String)>,
) -> Result<Json<Credential>, Problem> {
    let request = pb::RevokeCredentialRequest {
        partner_id,
        credential_id,
    };
    let reply = state
        .registry
        .clone()
        .revoke_credential(auth.grpc(request))
        .await?;
    Ok(Json(credential(reply.into_inner())))
}
