//! The finance oversight group's auditors (issue 24): evaluation keeps the board and
//! publishes `evaluation.board.membership_changed`; the registry, which keeps the console
//! accounts and their roles, gives the member's account the auditor role for the centre
//! while they sit on the group, and takes back what it gave when they leave it.
//!
//! An account's roles hold at every centre it covers, so the role is given only to an
//! account that covers this centre alone; for any other (another centre's account, one
//! covering several centres, an unknown username, no account named) the membership is
//! recorded and nothing changes, and the grant row says why. A role the account already
//! had is never taken away. Roles reach a session at its next sign-in.

use chrono::{DateTime, Utc};
use linli_platform::bus::{Handler, HandlerError, Incoming, field};
use linli_proto::Event;
use linli_proto::events::v1::BoardMembershipChanged;
use sqlx::PgConnection;
use uuid::Uuid;

/// The consumer's name: its queue is `<prefix>.board-auditors`.
pub const CONSUMER: &str = "board-auditors";
pub const BINDINGS: &[&str] = &[BoardMembershipChanged::ROUTING_KEY];

/// What became of a member's auditor role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The role was added to the account.
    Granted,
    /// The account already had it: nothing to add, nothing to take back later.
    AlreadyAuditor,
    /// Recorded only: no account named, none by that name, or it covers other centres.
    Recorded(&'static str),
}

/// Whether the member's account (its roles and centres, when there is one) gets the
/// auditor role for `centre`.
pub fn grant(account: Option<(&[String], &[Uuid])>, centre: Uuid) -> Outcome {
    let Some((roles, centres)) = account else {
        return Outcome::Recorded("no_account");
    };
    if centres != [centre] {
        return Outcome::Recorded("covers_other_centres");
    }
    if roles.iter().any(|r| r == "auditor") {
        return Outcome::AlreadyAuditor;
    }
    Outcome::Granted
}

/// Gives or takes back the auditor role as the event says, inside the inbox's transaction.
pub struct BoardAuditors;

impl Handler for BoardAuditors {
    async fn handle(&self, event: &Incoming, tx: &mut PgConnection) -> Result<(), HandlerError> {
        if event.routing_key != BoardMembershipChanged::ROUTING_KEY {
            return Ok(());
        }
        let e: BoardMembershipChanged = event.decode()?;
        let centre = field::id("centre_id", &e.centre_id)?;
        let member = field::id("member_id", &e.member_id)?;
        let at = field::instant("changed_at", e.changed_at.as_ref()).unwrap_or_else(|_| Utc::now());
        if e.auditor {
            give(tx, member, centre, &e.staff_username, at).await?;
        } else {
            take_back(tx, member, centre).await?;
        }
        Ok(())
    }
}

async fn give(
    tx: &mut PgConnection,
    member: Uuid,
    centre: Uuid,
    username: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let given: Option<bool> = sqlx::query_scalar(
        "SELECT role_added FROM board_auditor_grants WHERE member_id = $1 AND centre_id = $2",
    )
    .bind(member)
    .bind(centre)
    .fetch_optional(&mut *tx)
    .await?;
    if given.is_some() {
        return Ok(());
    }
    let account: Option<(Uuid, Vec<String>, Vec<Uuid>)> = if username.is_empty() {
        None
    } else {
        sqlx::query_as(
            "SELECT id, roles, centres FROM staff_accounts WHERE username = $1 FOR UPDATE",
        )
        .bind(username)
        .fetch_optional(&mut *tx)
        .await?
    };
    let outcome = grant(
        account
            .as_ref()
            .map(|(_, roles, centres)| (roles.as_slice(), centres.as_slice())),
        centre,
    );
    if outcome == Outcome::Granted
        && let Some((id, _, _)) = &account
    {
        sqlx::query(
            "UPDATE staff_accounts SET roles = array_append(roles, 'auditor') WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    let (added, note) = match outcome {
        Outcome::Granted => (true, "granted"),
        Outcome::AlreadyAuditor => (false, "already_auditor"),
        Outcome::Recorded(why) => (false, why),
    };
    sqlx::query(
        "INSERT INTO board_auditor_grants (member_id, centre_id, account_id, role_added, outcome, at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(member)
    .bind(centre)
    .bind(account.map(|(id, _, _)| id))
    .bind(added)
    .bind(note)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn take_back(tx: &mut PgConnection, member: Uuid, centre: Uuid) -> Result<(), sqlx::Error> {
    let grant: Option<(Option<Uuid>, bool)> = sqlx::query_as(
        "DELETE FROM board_auditor_grants WHERE member_id = $1 AND centre_id = $2
         RETURNING account_id, role_added",
    )
    .bind(member)
    .bind(centre)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((Some(account), true)) = grant {
        // Unless another membership of the group gave it too.
        let still: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM board_auditor_grants WHERE account_id = $1 AND role_added)",
        )
        .bind(account)
        .fetch_one(&mut *tx)
        .await?;
        if !still {
            sqlx::query(
                "UPDATE staff_accounts SET roles = array_remove(roles, 'auditor')
                  WHERE id = $1 AND cardinality(array_remove(roles, 'auditor')) > 0",
            )
            .bind(account)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_account_of_this_centre_alone_gets_the_role() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let coordinator = ["coordinator".to_owned()];
        assert_eq!(grant(Some((&coordinator, &[a])), a), Outcome::Granted);
        assert_eq!(
            grant(Some((&coordinator, &[a, b])), a),
            Outcome::Recorded("covers_other_centres")
        );
        assert_eq!(
            grant(Some((&coordinator, &[b])), a),
            Outcome::Recorded("covers_other_centres")
        );
        assert_eq!(grant(None, a), Outcome::Recorded("no_account"));
        let auditor = ["auditor".to_owned()];
        assert_eq!(grant(Some((&auditor, &[a])), a), Outcome::AlreadyAuditor);
    }
}
