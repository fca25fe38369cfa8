//! Identity and access. Staff and operators carry a signed JWT; the gateway checks it and
//! forwards it in gRPC metadata, and every service checks it again and asks
//! [`Caller::authorize`] on every call, so a service is safe when reached directly. Deny by
//! default: a role not named for an action may not do it, and an auditor never writes.
//!
//! Partners are different: they reach the services over mutual TLS (see
//! [`crate::partner`]), and what they may do comes from their agreements, as [`Grant`]s of
//! a scope at a centre. A partner never passes a role check; a call a partner may make asks
//! [`Caller::require_scope`] (or [`partner_centre`]) explicitly.
//!
//! Residents are a caller kind of their own ([`Role::Resident`]): a token whose subject is
//! the resident, naming their one centre and the residents they act for (a guardian's
//! children). A resident never passes a role check either; a call a resident may make asks
//! [`Caller::require_resident`] (or [`resident_centre`]) explicitly, so every staff call
//! refuses them by default.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use chrono::{Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::revocation::Revocations;

/// Signing and checking of the bearer tokens staff and operators carry.
#[derive(clap::Args, Clone, Debug)]
pub struct AuthArgs {
    /// HMAC key (HS256) for bearer tokens. The default is for local use only.
    #[arg(
        long = "jwt-secret",
        env = "LINLI_JWT_SECRET",
        default_value = crate::auth::LOCAL_SECRET,
        hide_default_value = true
    )]
    pub jwt_secret: String,

    /// Audience every token must name.
    #[arg(
        long = "jwt-audience",
        env = "LINLI_JWT_AUDIENCE",
        default_value = "linli"
    )]
    pub jwt_audience: String,

    /// Issuer every token must name.
    #[arg(long = "jwt-issuer", env = "LINLI_JWT_ISSUER", default_value = "linli")]
    pub jwt_issuer: String,
}

/// The HMAC key `linli token` and a local `linli serve` share when none is configured.
pub const LOCAL_SECRET: &str = "linli-local-development-secret-change-me-in-production";

/// The subject of the console's own token, with which the gateway checks staff passwords
/// and sessions at the registry; only a holder of the signing key can mint it.
pub const CONSOLE_SUBJECT: &str = "system:console";

/// The roles of the district's people and partners.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees and runs every centre of the district.
    DistrictAdmin,
    CentreManager,
    FrontDesk,
    Coordinator,
    FinanceOfficer,
    /// Reads what it is assigned; never writes.
    Auditor,
    Partner,
    /// A resident signed in on the residents' site: themselves (and those they act for)
    /// only. Not in [`Role::ALL`]: no staff account or `linli token` can carry it; only a
    /// sign-in with a one-time code mints it ([`TokenKeys::issue_resident`]).
    Resident,
}

impl Role {
    /// The roles of the district's staff: all but partners (who use mTLS, never the
    /// console) and residents.
    pub const STAFF: [Role; 6] = [
        Role::DistrictAdmin,
        Role::CentreManager,
        Role::FrontDesk,
        Role::Coordinator,
        Role::FinanceOfficer,
        Role::Auditor,
    ];

    /// The staff's roles and partners'.
    pub const ALL: [Role; 7] = {
        let mut all = [Role::Partner; 7];
        let mut i = 0;
        while i < Role::STAFF.len() {
            all[i] = Role::STAFF[i];
            i += 1;
        }
        all
    };

    pub fn as_str(self) -> &'static str {
        match self {
            Role::DistrictAdmin => "district_admin",
            Role::CentreManager => "centre_manager",
            Role::FrontDesk => "front_desk",
            Role::Coordinator => "coordinator",
            Role::FinanceOfficer => "finance_officer",
            Role::Auditor => "auditor",
            Role::Partner => "partner",
            Role::Resident => "resident",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who may hand a resident their copy of everything Linli holds about them (PIPL art. 45):
/// the centre's manager and front desk, who see a resident's whole record. Each service
/// checks its part of the copy against this one list.
pub const RESIDENT_EXPORTERS: &[Role] = &[Role::CentreManager, Role::FrontDesk];

/// What a token says.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub roles: Vec<Role>,
    /// The centres the subject works in; empty for district-wide roles.
    #[serde(default)]
    pub centres: Vec<Uuid>,
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub exp: i64,
    /// The console session the token was issued for: refused everywhere once the session
    /// ends (see [`crate::revocation`]). Absent from other tokens, which only expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
    /// A resident's token: the residents they act for besides themselves (a guardian's
    /// children). Empty for every other token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acts_for: Vec<Uuid>,
    /// A credential's own rate at the gateway (a kiosk's, an integration's), in place of
    /// the default per-credential one; absent from other tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<RateClaim>,
}

/// Requests per minute on average and at once, signed into a token by `linli token
/// --rate-per-minute N [--burst M]` (a burst of 0: two seconds' worth).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateClaim {
    pub per_minute: u32,
    #[serde(default)]
    pub burst: u32,
}

/// The verified identity behind a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub roles: BTreeSet<Role>,
    pub centres: BTreeSet<Uuid>,
    /// A partner's scopes, each at one centre, from the agreements in force at the time of
    /// the call; empty for staff, whose roles say what they may do.
    pub scopes: BTreeSet<Grant>,
    /// The console session the caller's token was issued for, if any.
    pub session: Option<Uuid>,
    /// For a resident, the residents they act for besides themselves; empty otherwise.
    pub acts_for: BTreeSet<Uuid>,
}

/// One scope an agreement grants a partner at one centre, e.g. `bookings.bookings:read`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant {
    pub centre: Uuid,
    pub scope: String,
}

/// The scopes an agreement can grant. `<service>.<resource>:<read|write>`.
pub const SCOPES: [&str; 7] = [
    // The offerings the partner provides at the centre: create and read them, and add
    // their sessions.
    "bookings.offerings:write",
    "bookings.offerings:read",
    // Bookings of the partner's own offerings, never anyone else's.
    "bookings.bookings:read",
    // Who came to the sessions of the partner's own offerings: their check-in.
    "bookings.attendance:write",
    // The centre's published KPIs.
    "evaluation.kpis:read",
    // Residents who consented to sharing with partners, masked.
    "registry.residents:read",
    // Hours of the partner's volunteers (a volunteer association's own system).
    "volunteers.hours:write",
];

/// Reading or changing data: an auditor may only read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("a bearer token is required")]
    Missing,
    #[error("the bearer token is not valid: {0}")]
    Invalid(String),
    #[error("the session this token was issued for has ended")]
    SessionEnded,
    #[error("this role may not do that")]
    RoleDenied,
    #[error("the caller may not act for this centre")]
    CentreDenied,
    #[error("the partner's agreements do not grant {0} at this centre")]
    ScopeDenied(String),
    #[error("a resident acts only for themselves and those they act for")]
    ResidentDenied,
}

impl Caller {
    /// Whether the caller's work covers `centre`: district admins cover every centre.
    pub fn covers_centre(&self, centre: Uuid) -> bool {
        self.roles.contains(&Role::DistrictAdmin) || self.centres.contains(&centre)
    }

    /// Whether the caller sees every centre of the district.
    pub fn is_district_wide(&self) -> bool {
        self.roles.contains(&Role::DistrictAdmin)
    }

    /// Allows the call when one of the caller's roles is in `allowed` (an auditor counting
    /// only for reads) and the caller covers `centre`.
    pub fn authorize(
        &self,
        centre: Uuid,
        access: Access,
        allowed: &[Role],
    ) -> Result<(), AuthError> {
        self.require_role(access, allowed)?;
        if self.covers_centre(centre) {
            Ok(())
        } else {
            Err(AuthError::CentreDenied)
        }
    }

    /// The role half of [`authorize`](Self::authorize), for calls not about one centre.
    /// A partner never passes it, even when named: partners act through scopes only.
    pub fn require_role(&self, access: Access, allowed: &[Role]) -> Result<(), AuthError> {
        let permitted = self.roles.iter().any(|role| {
            allowed.contains(role)
                && *role != Role::Partner
                && *role != Role::Resident
                && !(access == Access::Write && *role == Role::Auditor)
        });
        if permitted {
            Ok(())
        } else {
            Err(AuthError::RoleDenied)
        }
    }

    /// Whether this is a resident signed in on the residents' site.
    pub fn is_resident(&self) -> bool {
        self.roles.contains(&Role::Resident)
    }

    /// The resident a resident's token was issued to.
    pub fn resident_id(&self) -> Option<Uuid> {
        if self.is_resident() {
            Uuid::parse_str(&self.subject).ok()
        } else {
            None
        }
    }

    /// The resident's one centre, for a resident.
    pub fn resident_centre(&self) -> Option<Uuid> {
        if self.is_resident() {
            self.centres.iter().next().copied()
        } else {
            None
        }
    }

    /// Allows a resident's call about `resident` at `centre`: themselves or one they act
    /// for, at their own centre. Staff and partners never pass it (they have roles and
    /// scopes).
    pub fn require_resident(&self, centre: Uuid, resident: Uuid) -> Result<(), AuthError> {
        let own = self.resident_id().is_some_and(|me| me == resident)
            || (self.is_resident() && self.acts_for.contains(&resident));
        if own && self.resident_centre() == Some(centre) {
            Ok(())
        } else {
            Err(AuthError::ResidentDenied)
        }
    }

    /// Whether this is a partner's system calling over mutual TLS.
    pub fn is_partner(&self) -> bool {
        self.roles.contains(&Role::Partner)
    }

    /// The partner organisation's id, for a partner.
    pub fn partner_id(&self) -> Option<Uuid> {
        if self.is_partner() {
            Uuid::parse_str(&self.subject).ok()
        } else {
            None
        }
    }

    /// Allows a partner's call when an agreement in force grants `scope` at `centre`.
    pub fn require_scope(&self, centre: Uuid, scope: &str) -> Result<(), AuthError> {
        let granted = self.is_partner()
            && self
                .scopes
                .iter()
                .any(|grant| grant.centre == centre && grant.scope == scope);
        if granted {
            Ok(())
        } else {
            Err(AuthError::ScopeDenied(scope.to_owned()))
        }
    }

    /// The centres where a partner's agreements in force grant `scope`, for a call that
    /// reads across centres (the district's figures); refused when there is none.
    pub fn centres_granting(&self, scope: &str) -> Result<BTreeSet<Uuid>, AuthError> {
        let centres: BTreeSet<Uuid> = if self.is_partner() {
            self.scopes
                .iter()
                .filter(|grant| grant.scope == scope)
                .map(|grant| grant.centre)
                .collect()
        } else {
            BTreeSet::new()
        };
        if centres.is_empty() {
            Err(AuthError::ScopeDenied(scope.to_owned()))
        } else {
            Ok(centres)
        }
    }
}

/// Signs and verifies tokens. Only HS256 is accepted, so `alg: none` and algorithm
/// confusion are refused by construction.
#[derive(Clone)]
pub struct TokenKeys {
    inner: Arc<Keys>,
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    audience: String,
    issuer: String,
    revoked: Revocations,
}

impl TokenKeys {
    pub fn new(args: &AuthArgs) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[&args.jwt_audience]);
        validation.set_issuer(&[&args.jwt_issuer]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.leeway = 30;
        TokenKeys {
            inner: Arc::new(Keys {
                encoding: EncodingKey::from_secret(args.jwt_secret.as_bytes()),
                decoding: DecodingKey::from_secret(args.jwt_secret.as_bytes()),
                validation,
                audience: args.jwt_audience.clone(),
                issuer: args.jwt_issuer.clone(),
                revoked: Revocations::default(),
            }),
        }
    }

    /// A token for `subject` with these roles and centres, valid for `ttl`.
    pub fn issue(&self, subject: &str, roles: &[Role], centres: &[Uuid], ttl: Duration) -> String {
        self.sign(subject, roles, centres, None, ttl)
    }

    /// A resident's token: subject the resident, their one centre, and the residents they
    /// act for, for a sign-in `session` (refused everywhere once it ends). Refused
    /// everywhere but the calls that ask [`Caller::require_resident`].
    pub fn issue_resident(
        &self,
        resident: Uuid,
        centre: Uuid,
        acts_for: &[Uuid],
        session: Uuid,
        ttl: Duration,
    ) -> String {
        let now = Utc::now();
        let claims = Claims {
            sub: resident.to_string(),
            roles: vec![Role::Resident],
            centres: vec![centre],
            aud: self.inner.audience.clone(),
            iss: self.inner.issuer.clone(),
            iat: now.timestamp(),
            exp: (now + ttl).timestamp(),
            sid: Some(session),
            acts_for: acts_for.to_vec(),
            rate: None,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.inner.encoding,
        )
        .expect("HS256 signing of serialisable claims cannot fail")
    }

    /// A token for a console `session`: the same, and refused everywhere once the session
    /// ends, before `ttl` is up.
    pub fn issue_for_session(
        &self,
        subject: &str,
        roles: &[Role],
        centres: &[Uuid],
        session: Uuid,
        ttl: Duration,
    ) -> String {
        self.sign(subject, roles, centres, Some(session), ttl)
    }

    /// A token like [`issue`](Self::issue) that carries its own rate at the gateway: a
    /// kiosk's or an integration's credential given more (or less) than the default.
    pub fn issue_with_rate(
        &self,
        subject: &str,
        roles: &[Role],
        centres: &[Uuid],
        ttl: Duration,
        rate: RateClaim,
    ) -> String {
        self.sign_claims(subject, roles, centres, None, ttl, Some(rate))
    }

    fn sign(
        &self,
        subject: &str,
        roles: &[Role],
        centres: &[Uuid],
        sid: Option<Uuid>,
        ttl: Duration,
    ) -> String {
        self.sign_claims(subject, roles, centres, sid, ttl, None)
    }

    fn sign_claims(
        &self,
        subject: &str,
        roles: &[Role],
        centres: &[Uuid],
        sid: Option<Uuid>,
        ttl: Duration,
        rate: Option<RateClaim>,
    ) -> String {
        let now = Utc::now();
        let claims = Claims {
            sub: subject.to_owned(),
            roles: roles.to_vec(),
            centres: centres.to_vec(),
            aud: self.inner.audience.clone(),
            iss: self.inner.issuer.clone(),
            iat: now.timestamp(),
            exp: (now + ttl).timestamp(),
            sid,
            acts_for: Vec::new(),
            rate,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.inner.encoding,
        )
        .expect("HS256 signing of serialisable claims cannot fail")
    }

    /// The sessions this process knows to have ended, which [`verify`](Self::verify)
    /// refuses; shared by every clone of these keys.
    pub fn revocations(&self) -> &Revocations {
        &self.inner.revoked
    }

    /// Checks signature, algorithm, expiry, audience, issuer, and that the session the
    /// token names (if any) has not ended.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        self.verify_with_rate(token).map(|(caller, _)| caller)
    }

    /// [`verify`](Self::verify), and the token's own rate when it carries one.
    pub fn verify_with_rate(&self, token: &str) -> Result<(Caller, Option<RateClaim>), AuthError> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.inner.decoding, &self.inner.validation)
                .map_err(|error| AuthError::Invalid(error.to_string()))?;
        let claims = data.claims;
        if claims.roles.is_empty() {
            return Err(AuthError::Invalid("the token names no role".into()));
        }
        // A partner's identity comes from its certificate, never from a token.
        if claims.roles.contains(&Role::Partner) {
            return Err(AuthError::Invalid(
                "partners authenticate with a client certificate".into(),
            ));
        }
        // A resident's token is a resident's alone: no staff role beside it, one centre,
        // a resident's id as subject. Anything else claiming to act for residents is forged
        // or broken.
        let resident = claims.roles.contains(&Role::Resident);
        if resident
            && (claims.roles.len() != 1
                || claims.centres.len() != 1
                || Uuid::parse_str(&claims.sub).is_err())
        {
            return Err(AuthError::Invalid("a resident's token is malformed".into()));
        }
        if !resident && !claims.acts_for.is_empty() {
            return Err(AuthError::Invalid("only residents act for others".into()));
        }
        if let Some(session) = claims.sid
            && self.inner.revoked.is_revoked(session)
        {
            return Err(AuthError::SessionEnded);
        }
        let caller = Caller {
            subject: claims.sub,
            roles: claims.roles.into_iter().collect(),
            centres: claims.centres.into_iter().collect(),
            scopes: BTreeSet::new(),
            session: claims.sid,
            acts_for: claims.acts_for.into_iter().collect(),
        };
        Ok((caller, claims.rate))
    }

    /// [`verify_bearer`](Self::verify_bearer), and the token's own rate when it carries one.
    pub fn verify_bearer_with_rate(
        &self,
        value: Option<&str>,
    ) -> Result<(Caller, Option<RateClaim>), AuthError> {
        let value = value.ok_or(AuthError::Missing)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| AuthError::Invalid("expected `Bearer <token>`".into()))?;
        self.verify_with_rate(token.trim())
    }

    /// Reads `authorization: Bearer …` from headers.
    pub fn verify_bearer(&self, value: Option<&str>) -> Result<Caller, AuthError> {
        let value = value.ok_or(AuthError::Missing)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or_else(|| AuthError::Invalid("expected `Bearer <token>`".into()))?;
        self.verify(token.trim())
    }
}

/// A tonic interceptor that verifies the bearer token and puts the [`Caller`] into the
/// request's extensions; a call without a valid token never reaches the service.
#[derive(Clone)]
pub struct Authenticate(pub TokenKeys);

impl tonic::service::Interceptor for Authenticate {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        let header = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok());
        let caller = self.0.verify_bearer(header).map_err(tonic::Status::from)?;
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

/// The centre a request names in `centre_id`, once the caller may act there: the one
/// check every centre-scoped call makes first.
pub fn scoped_centre(
    caller: &Caller,
    centre_id: &str,
    access: Access,
    allowed: &[Role],
) -> Result<Uuid, tonic::Status> {
    let centre = Uuid::parse_str(centre_id)
        .map_err(|_| crate::error::Violations::one("centre_id", crate::error::Reason::uuid()))?;
    caller.authorize(centre, access, allowed)?;
    Ok(centre)
}

/// [`scoped_centre`] for a staff request: its caller, and the centre its field
/// `centre_id` (e.g. `|r| &r.centre_id`) names.
pub fn request_centre<T>(
    request: &tonic::Request<T>,
    centre_id: impl FnOnce(&T) -> &str,
    access: Access,
    allowed: &[Role],
) -> Result<Uuid, tonic::Status> {
    scoped_centre(
        caller(request)?,
        centre_id(request.get_ref()),
        access,
        allowed,
    )
}

/// The centre a partner's request names, once an agreement in force grants `scope` there:
/// the partner's counterpart of [`scoped_centre`].
pub fn partner_centre(
    caller: &Caller,
    centre_id: &str,
    scope: &str,
) -> Result<Uuid, tonic::Status> {
    let centre = Uuid::parse_str(centre_id)
        .map_err(|_| crate::error::Violations::one("centre_id", crate::error::Reason::uuid()))?;
    caller.require_scope(centre, scope)?;
    Ok(centre)
}

/// The centre a resident's request names, once it is the resident's own: for a resident's
/// reads of what their centre offers everyone (the catalogue, its sessions).
pub fn resident_centre(caller: &Caller, centre_id: &str) -> Result<Uuid, tonic::Status> {
    let centre = Uuid::parse_str(centre_id)
        .map_err(|_| crate::error::Violations::one("centre_id", crate::error::Reason::uuid()))?;
    if caller.resident_centre() == Some(centre) {
        Ok(centre)
    } else {
        Err(AuthError::ResidentDenied.into())
    }
}

/// The centre of a call about one resident's own data that staff with `allowed` roles may
/// make and the resident may make for themselves (and those they act for): their copy
/// (PIPL art. 45), their consents, their corrections. A resident's token passes for
/// `resident` at their own centre only; anyone else is checked by role and centre as by
/// [`scoped_centre`].
pub fn own_or_scoped_centre(
    caller: &Caller,
    centre_id: &str,
    resident: Uuid,
    access: Access,
    allowed: &[Role],
) -> Result<Uuid, tonic::Status> {
    if caller.is_resident() {
        let centre = resident_centre(caller, centre_id)?;
        caller.require_resident(centre, resident)?;
        Ok(centre)
    } else {
        scoped_centre(caller, centre_id, access, allowed)
    }
}

/// The caller the [`Authenticate`] interceptor (or the partner listener) admitted.
pub fn caller<T>(request: &tonic::Request<T>) -> Result<&Caller, tonic::Status> {
    request
        .extensions()
        .get::<Caller>()
        .ok_or_else(|| tonic::Status::unauthenticated("a bearer token is required"))
}

impl From<AuthError> for tonic::Status {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Missing | AuthError::Invalid(_) | AuthError::SessionEnded => {
                tonic::Status::unauthenticated(error.to_string())
            }
            AuthError::RoleDenied
            | AuthError::CentreDenied
            | AuthError::ScopeDenied(_)
            | AuthError::ResidentDenied => tonic::Status::permission_denied(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&AuthArgs {
            jwt_secret: "test-secret".into(),
            jwt_audience: "linli".into(),
            jwt_issuer: "linli".into(),
        })
    }

    fn caller(roles: &[Role], centres: &[Uuid]) -> Caller {
        Caller {
            subject: "s".into(),
            roles: roles.iter().copied().collect(),
            centres: centres.iter().copied().collect(),
            scopes: BTreeSet::new(),
            session: None,
            acts_for: BTreeSet::new(),
        }
    }

    #[test]
    fn issued_token_verifies_with_its_roles_and_centres() {
        let centre = Uuid::new_v4();
        let token = keys().issue("desk-1", &[Role::FrontDesk], &[centre], Duration::hours(1));
        let verified = keys().verify(&token).expect("fresh token verifies");
        assert_eq!(
            verified,
            Caller {
                subject: "desk-1".into(),
                ..caller(&[Role::FrontDesk], &[centre])
            }
        );
    }

    #[test]
    fn a_session_token_is_refused_once_its_session_ended_and_other_tokens_are_not() {
        let keys = keys();
        let (session, other) = (Uuid::new_v4(), Uuid::new_v4());
        let token = keys.issue_for_session(
            "desk-1",
            &[Role::FrontDesk],
            &[],
            session,
            Duration::hours(8),
        );
        let bystander =
            keys.issue_for_session("desk-2", &[Role::FrontDesk], &[], other, Duration::hours(8));
        let plain = keys.issue("desk-1", &[Role::FrontDesk], &[], Duration::hours(8));
        assert_eq!(keys.verify(&token).map(|c| c.session), Ok(Some(session)));
        keys.clone()
            .revocations()
            .revoke(session, Utc::now() + Duration::hours(8));
        assert_eq!(keys.verify(&token), Err(AuthError::SessionEnded));
        assert!(keys.verify(&bystander).is_ok());
        assert_eq!(keys.verify(&plain).map(|c| c.session), Ok(None));
    }

    #[test]
    fn expired_token_is_refused() {
        let token = keys().issue("x", &[Role::FrontDesk], &[], Duration::minutes(-5));
        assert!(matches!(keys().verify(&token), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn token_signed_with_another_key_is_refused() {
        let other = TokenKeys::new(&AuthArgs {
            jwt_secret: "other".into(),
            jwt_audience: "linli".into(),
            jwt_issuer: "linli".into(),
        });
        let token = other.issue("x", &[Role::DistrictAdmin], &[], Duration::hours(1));
        assert!(matches!(keys().verify(&token), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn auditor_reads_but_never_writes() {
        let centre = Uuid::new_v4();
        let auditor = caller(&[Role::Auditor], &[centre]);
        let roles = [Role::Auditor, Role::FrontDesk];
        assert_eq!(auditor.authorize(centre, Access::Read, &roles), Ok(()));
        assert_eq!(
            auditor.authorize(centre, Access::Write, &roles),
            Err(AuthError::RoleDenied)
        );
    }

    #[test]
    fn staff_of_one_centre_are_refused_at_another() {
        let (own, other) = (Uuid::new_v4(), Uuid::new_v4());
        let desk = caller(&[Role::FrontDesk], &[own]);
        assert_eq!(
            desk.authorize(other, Access::Read, &[Role::FrontDesk]),
            Err(AuthError::CentreDenied)
        );
        let admin = caller(&[Role::DistrictAdmin], &[]);
        assert_eq!(
            admin.authorize(other, Access::Write, &[Role::DistrictAdmin]),
            Ok(())
        );
    }

    #[test]
    fn a_partner_acts_only_through_a_scope_at_the_centre_its_agreement_names() {
        let (own, other) = (Uuid::new_v4(), Uuid::new_v4());
        let mut partner = caller(&[Role::Partner], &[own]);
        partner.scopes.insert(Grant {
            centre: own,
            scope: "bookings.bookings:read".into(),
        });
        assert_eq!(partner.require_scope(own, "bookings.bookings:read"), Ok(()));
        assert!(
            partner
                .require_scope(other, "bookings.bookings:read")
                .is_err()
        );
        assert!(
            partner
                .require_scope(own, "bookings.offerings:write")
                .is_err()
        );
        // Named in a role list or not, a partner never passes a role check.
        assert_eq!(
            partner.authorize(own, Access::Write, &[Role::Partner]),
            Err(AuthError::RoleDenied)
        );
        // Staff hold no scopes.
        let desk = caller(&[Role::FrontDesk], &[own]);
        assert!(desk.require_scope(own, "bookings.bookings:read").is_err());
    }

    #[test]
    fn a_partner_reads_across_only_the_centres_granting_the_scope() {
        let (one, two, three) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut partner = caller(&[Role::Partner], &[one, two, three]);
        for (centre, scope) in [
            (one, "evaluation.kpis:read"),
            (two, "evaluation.kpis:read"),
            (three, "bookings.bookings:read"),
        ] {
            partner.scopes.insert(Grant {
                centre,
                scope: scope.into(),
            });
        }
        assert_eq!(
            partner.centres_granting("evaluation.kpis:read"),
            Ok([one, two].into_iter().collect())
        );
        assert_eq!(
            partner.centres_granting("volunteers.hours:write"),
            Err(AuthError::ScopeDenied("volunteers.hours:write".into()))
        );
        // Staff hold no scopes, whatever their role.
        let admin = caller(&[Role::DistrictAdmin], &[]);
        assert!(admin.centres_granting("evaluation.kpis:read").is_err());
    }

    #[test]
    fn a_token_claiming_the_partner_role_is_refused() {
        let token = keys().issue("p", &[Role::Partner], &[], Duration::hours(1));
        assert!(matches!(keys().verify(&token), Err(AuthError::Invalid(_))));
    }

    #[test]
    fn a_resident_acts_for_themselves_and_their_children_at_their_centre_only() {
        let keys = keys();
        let (centre, other_centre) = (Uuid::new_v4(), Uuid::new_v4());
        let (me, child, neighbour) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let token =
            keys.issue_resident(me, centre, &[child], Uuid::new_v4(), Duration::minutes(30));
        let resident = keys.verify(&token).expect("a resident's token verifies");
        assert!(resident.is_resident());
        assert_eq!(resident.require_resident(centre, me), Ok(()));
        assert_eq!(resident.require_resident(centre, child), Ok(()));
        assert_eq!(
            resident.require_resident(centre, neighbour),
            Err(AuthError::ResidentDenied)
        );
        assert_eq!(
            resident.require_resident(other_centre, me),
            Err(AuthError::ResidentDenied)
        );
        // Named in a role list or not, a resident never passes a staff check.
        for role in Role::ALL {
            assert_eq!(
                resident.authorize(centre, Access::Read, &[role, Role::Resident]),
                Err(AuthError::RoleDenied)
            );
        }
        // Staff are not residents, whatever they cover.
        let admin = caller(&[Role::DistrictAdmin], &[]);
        assert!(admin.require_resident(centre, me).is_err());
    }

    #[test]
    fn a_resident_token_beside_a_staff_role_or_staff_acting_for_others_is_refused() {
        let keys = keys();
        let centre = Uuid::new_v4();
        let mixed = keys.issue(
            &Uuid::new_v4().to_string(),
            &[Role::Resident, Role::FrontDesk],
            &[centre],
            Duration::hours(1),
        );
        assert!(matches!(keys.verify(&mixed), Err(AuthError::Invalid(_))));
        let two_centres = keys.issue(
            &Uuid::new_v4().to_string(),
            &[Role::Resident],
            &[centre, Uuid::new_v4()],
            Duration::hours(1),
        );
        assert!(matches!(
            keys.verify(&two_centres),
            Err(AuthError::Invalid(_))
        ));
        assert_eq!(Role::parse("resident"), None);
    }

    #[test]
    fn a_role_not_named_is_denied() {
        let centre = Uuid::new_v4();
        let partner = caller(&[Role::Partner], &[centre]);
        assert_eq!(
            partner.authorize(centre, Access::Read, &[Role::FrontDesk]),
            Err(AuthError::RoleDenied)
        );
    }
}
