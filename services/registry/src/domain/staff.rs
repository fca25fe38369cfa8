//! Staff accounts for the web console: who may sign in, with which roles and centres, and
//! the rules that keep a password guess from being cheap (argon2id hashes, a lock after
//! repeated failures).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};
use linli_platform::auth::{Caller, Role};
use linli_platform::error::Reason;
use linli_platform::error::Violations;
use uuid::Uuid;

/// Wrong passwords in a row that lock an account.
pub const MAX_FAILURES: i32 = 5;
/// How long a locked account stays locked.
pub const LOCK_FOR: Duration = Duration::minutes(15);
/// A session's default and longest life.
pub const SESSION_TTL: Duration = Duration::hours(8);
pub const MAX_SESSION_TTL: Duration = Duration::hours(12);
pub use linli_platform::auth::CONSOLE_SUBJECT;
/// Roles a console account may hold: the staff's (partners use mTLS, never the console).
pub const ACCOUNT_ROLES: [Role; 6] = Role::STAFF;
const MIN_PASSWORD: usize = 10;

/// A new account, checked.
#[derive(Debug)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub roles: Vec<Role>,
    pub centres: Vec<Uuid>,
}

impl NewAccount {
    pub fn parse(
        username: &str,
        display_name: &str,
        password: &str,
        roles: &[String],
        centres: &[String],
    ) -> Result<NewAccount, Violations> {
        let mut v = Violations::default();
        let username = username.trim().to_lowercase();
        let valid_name = (2..=32).contains(&username.len())
            && username
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
            && username
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric());
        if !valid_name {
            v.push(
                "username",
                Reason::new(
                    "username.format",
                    "must be 2 to 32 lower-case letters, digits, '.', '_' or '-'",
                ),
            );
        }
        let display_name = display_name.trim().to_owned();
        if display_name.is_empty() || display_name.chars().count() > 64 {
            v.push("display_name", Reason::length(1, 64));
        }
        if password.chars().count() < MIN_PASSWORD {
            v.push(
                "password",
                Reason::new("too_short", "must be at least 10 characters").with("min", 10),
            );
        }
        let mut parsed_roles = Vec::new();
        for role in roles {
            match Role::parse(role.trim()) {
                Some(role) if ACCOUNT_ROLES.contains(&role) => {
                    if !parsed_roles.contains(&role) {
                        parsed_roles.push(role)
                    }
                }
                _ => v.push(
                    "roles",
                    Reason::new("one_of", format!("unknown role {role:?}")),
                ),
            }
        }
        if roles.is_empty() {
            v.push(
                "roles",
                Reason::new("roles.required", "name at least one role"),
            );
        }
        let mut parsed_centres = Vec::new();
        for centre in centres {
            match Uuid::parse_str(centre.trim()) {
                Ok(id) if !parsed_centres.contains(&id) => parsed_centres.push(id),
                Ok(_) => {}
                Err(_) => v.push("centre_ids", Reason::new("uuid", "must be UUIDs")),
            }
        }
        let district_wide = parsed_roles.contains(&Role::DistrictAdmin);
        if !district_wide && parsed_centres.is_empty() && !parsed_roles.is_empty() {
            v.push(
                "centre_ids",
                Reason::new(
                    "roles.centre_required",
                    "a centre role needs at least one centre",
                ),
            );
        }
        v.into_result(|| NewAccount {
            username,
            display_name,
            password: password.to_owned(),
            roles: parsed_roles,
            centres: parsed_centres,
        })
    }

    /// Whether `caller` may create this account: a district admin any; a centre manager
    /// only accounts within their own centres, and never a district admin.
    pub fn may_be_created_by(&self, caller: &Caller) -> bool {
        may_manage(caller, &self.roles, &self.centres)
    }
}

/// Whether `caller` may create, disable or enable an account with these roles and
/// centres: a district admin any; a centre manager only accounts within their own
/// centres, and never a district admin.
pub fn may_manage(caller: &Caller, roles: &[Role], centres: &[Uuid]) -> bool {
    if caller.is_district_wide() {
        return true;
    }
    caller.roles.contains(&Role::CentreManager)
        && !roles.contains(&Role::DistrictAdmin)
        && centres.iter().all(|c| caller.centres.contains(c))
}

/// Whether `caller` manages accounts at all.
pub fn manages_accounts(caller: &Caller) -> bool {
    caller.is_district_wide() || caller.roles.contains(&Role::CentreManager)
}

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id minimum: 19 MiB, two passes, one lane.
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of an argon2id hash of `password` with a fresh salt.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2id hashing with valid parameters cannot fail")
        .to_string()
}

/// Whether `password` matches `hash`; a malformed hash matches nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the username is unknown, so an unknown name takes as
/// long as a wrong password and does not reveal which names exist.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("not-a-password-anyone-has"))
}

/// What a wrong password does to the account: the new count and, at the limit, the lock.
pub fn after_failure(failed: i32, now: DateTime<Utc>) -> (i32, Option<DateTime<Utc>>) {
    let failed = failed + 1;
    if failed >= MAX_FAILURES {
        (0, Some(now + LOCK_FOR))
    } else {
        (failed, None)
    }
}

/// Whether the account is locked at `now`.
pub fn is_locked(locked_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    locked_until.is_some_and(|until| until > now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse battery");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterx", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn the_fifth_failure_locks_for_fifteen_minutes() {
        let now = Utc::now();
        let mut failed = 0;
        for _ in 0..4 {
            let (next, lock) = after_failure(failed, now);
            assert!(lock.is_none());
            failed = next;
        }
        let (next, lock) = after_failure(failed, now);
        assert_eq!((next, lock), (0, Some(now + LOCK_FOR)));
        assert!(is_locked(lock, now + Duration::minutes(14)));
        assert!(!is_locked(lock, now + Duration::minutes(16)));
    }

    #[test]
    fn bad_accounts_name_each_field() {
        let error = NewAccount::parse("A B", "", "short", &["wizard".into()], &["x".into()])
            .expect_err("nothing here is valid");
        let fields: Vec<&str> = error.0.iter().map(|v| v.field.as_str()).collect();
        for field in [
            "username",
            "display_name",
            "password",
            "roles",
            "centre_ids",
        ] {
            assert!(fields.contains(&field), "{field} missing from {fields:?}");
        }
    }

    #[test]
    fn a_manager_creates_accounts_for_their_own_centres_only() {
        let (own, other) = (Uuid::new_v4(), Uuid::new_v4());
        let manager = Caller {
            subject: "m".into(),
            roles: [Role::CentreManager].into(),
            centres: [own].into(),
            scopes: Default::default(),
            session: None,
            acts_for: Default::default(),
        };
        let desk = |centre: Uuid| {
            NewAccount::parse(
                "desk",
                "前台",
                "long-enough-password",
                &["front_desk".into()],
                &[centre.to_string()],
            )
            .expect("valid")
        };
        assert!(desk(own).may_be_created_by(&manager));
        assert!(!desk(other).may_be_created_by(&manager));
        let admin = NewAccount::parse(
            "boss",
            "区管理员",
            "long-enough-password",
            &["district_admin".into()],
            &[],
        )
        .expect("valid");
        assert!(!admin.may_be_created_by(&manager));
    }
}
