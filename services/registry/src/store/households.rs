//! Households: every statement about them. A placement locks the household's row, so
//! two desks placing a head into one household take turns and the second is refused; the
//! database's one-head index is the backstop.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use super::{ResidentRow, register_in};
use crate::domain::NewResident;
use crate::domain::household::Relationship;
use crate::error::Error;
use linli_platform::crypto::Vault;
use linli_platform::error::Reason;
use linli_platform::error::Violations;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HouseholdRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub building: String,
    pub unit: String,
    pub room: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MemberRow {
    pub resident_id: Uuid,
    pub name: String,
    pub relationship: String,
}

/// Makes resident `head_id` the head of a new household at their address.
pub async fn create_household(
    pool: &PgPool,
    centre_id: Uuid,
    head_id: Uuid,
) -> Result<HouseholdRow, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let head: Option<ResidentRow> = sqlx::query_as(concat!(
        "SELECT ",
        resident_columns!(),
        " FROM residents WHERE centre_id = $1 AND id = $2 AND erased_at IS NULL FOR UPDATE"
    ))
    .bind(centre_id)
    .bind(head_id)
    .fetch_optional(&mut *tx)
    .await?;
    let head = head.ok_or(Error::NotFound("resident"))?;
    if head.household_id.is_some() {
        return Err(Violations::one(
            "head_resident_id",
            Reason::new(
                "household.member_elsewhere",
                "already belongs to a household",
            ),
        )
        .into());
    }
    if head.building.is_empty() && head.room.is_empty() {
        return Err(Violations::one(
            "head_resident_id",
            Reason::new(
                "household.no_address",
                "has no address (a building or a room) for the household",
            ),
        )
        .into());
    }
    let created: Option<HouseholdRow> = sqlx::query_as(
        "INSERT INTO households (id, centre_id, building, unit, room)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT ON CONSTRAINT households_one_per_address DO NOTHING
         RETURNING id, centre_id, building, unit, room",
    )
    .bind(Uuid::new_v4())
    .bind(centre_id)
    .bind(&head.building)
    .bind(&head.unit)
    .bind(&head.room)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(household) = created else {
        let existing: Uuid = sqlx::query_scalar(
            "SELECT id FROM households
             WHERE centre_id = $1 AND building = $2 AND unit = $3 AND room = $4",
        )
        .bind(centre_id)
        .bind(&head.building)
        .bind(&head.unit)
        .bind(&head.room)
        .fetch_one(&mut *tx)
        .await?;
        return Err(crate::error::household_exists(existing));
    };
    sqlx::query("UPDATE residents SET household_id = $2, relationship = 'head' WHERE id = $1")
        .bind(head_id)
        .bind(household.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(household)
}

/// A household of the centre with its members: the head first, then by relationship
/// (spouse, children, parents, …) as a household register lists them, then by registration.
pub async fn get_household(
    pool: &PgPool,
    centre_id: Uuid,
    id: Uuid,
) -> Result<Option<(HouseholdRow, Vec<MemberRow>)>, sqlx::Error> {
    let household: Option<HouseholdRow> = sqlx::query_as(
        "SELECT id, centre_id, building, unit, room FROM households
         WHERE centre_id = $1 AND id = $2",
    )
    .bind(centre_id)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(household) = household else {
        return Ok(None);
    };
    let members = sqlx::query_as(
        "SELECT id AS resident_id, name, relationship FROM residents
         WHERE household_id = $1 AND erased_at IS NULL
         ORDER BY array_position(ARRAY['head', 'spouse', 'child', 'parent', 'grandchild',
                                       'grandparent', 'sibling', 'other_relative', 'other'],
                                 relationship),
                  registered_at, id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(Some((household, members)))
}

/// Registers `resident` into household `household_id`, at its address, in one transaction.
pub async fn register_member(
    pool: &PgPool,
    vault: &Vault,
    mut resident: NewResident,
    confirmed_not_duplicate: bool,
    household_id: Uuid,
    relationship: Relationship,
    today: chrono::NaiveDate,
) -> Result<ResidentRow, Error> {
    let mut tx = linli_platform::db::begin(pool).await?;
    let household = lock(&mut tx, resident.centre_id, household_id).await?;
    resident.address.building = household.building.clone();
    resident.address.unit = household.unit.clone();
    resident.address.room = household.room.clone();
    let row = register_in(&mut tx, vault, &resident, confirmed_not_duplicate, today).await?;
    let row = place(&mut tx, &household, row.id, relationship).await?;
    tx.commit().await?;
    Ok(row)
}

/// Places registered resident `resident_id` into household `household_id`.
pub async fn place_in_household(
    pool: &PgPool,
    centre_id: Uuid,
    resident_id: Uuid,
    household_id: Uuid,
    relationship: Relationship,
) -> Result<ResidentRow, Error> {
    let mut tx = pool.begin().await?;
    let household = lock(&mut tx, centre_id, household_id).await?;
    let row = place(&mut tx, &household, resident_id, relationship).await?;
    tx.commit().await?;
    Ok(row)
}

/// The household, locked for the rest of `tx`.
async fn lock(
    tx: &mut PgConnection,
    centre_id: Uuid,
    household_id: Uuid,
) -> Result<HouseholdRow, Error> {
    let household: Option<HouseholdRow> = sqlx::query_as(
        "SELECT id, centre_id, building, unit, room FROM households
         WHERE centre_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(centre_id)
    .bind(household_id)
    .fetch_optional(&mut *tx)
    .await?;
    household.ok_or_else(|| {
        Violations::one(
            "household_id",
            Reason::new("not_found", "the centre has no household with this id")
                .with("what", "household"),
        )
        .into()
    })
}

/// Places a resident into a locked household: its address becomes theirs. A second head
/// is refused naming `relationship`.
async fn place(
    tx: &mut PgConnection,
    household: &HouseholdRow,
    resident_id: Uuid,
    relationship: Relationship,
) -> Result<ResidentRow, Error> {
    if relationship == Relationship::Head && has_other_head(tx, household.id, resident_id).await? {
        return Err(Violations::one(
            "relationship",
            Reason::new("household.has_head", "the household has a head already"),
        )
        .into());
    }
    let row: Option<ResidentRow> = sqlx::query_as(concat!(
        "UPDATE residents SET household_id = $3, relationship = $4,
             building = $5, unit = $6, room = $7
         WHERE centre_id = $1 AND id = $2 AND erased_at IS NULL
         RETURNING ",
        resident_columns!()
    ))
    .bind(household.centre_id)
    .bind(resident_id)
    .bind(household.id)
    .bind(relationship.as_str())
    .bind(&household.building)
    .bind(&household.unit)
    .bind(&household.room)
    .fetch_optional(&mut *tx)
    .await?;
    row.ok_or(Error::NotFound("resident"))
}

async fn has_other_head(
    tx: &mut PgConnection,
    household_id: Uuid,
    resident_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM residents
                        WHERE household_id = $1 AND relationship = 'head' AND id <> $2)",
    )
    .bind(household_id)
    .bind(resident_id)
    .fetch_one(&mut *tx)
    .await
}

/// An imported resident joins the household at their address, made if there is none;
/// false (and nothing placed) when they would be its second head.
pub(super) async fn join_at_address(
    tx: &mut PgConnection,
    resident: &ResidentRow,
    relationship: Relationship,
) -> Result<bool, sqlx::Error> {
    // The no-op update takes the household's row lock, as `lock` does.
    let household_id: Uuid = sqlx::query_scalar(
        "INSERT INTO households (id, centre_id, building, unit, room)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT ON CONSTRAINT households_one_per_address
             DO UPDATE SET building = EXCLUDED.building
         RETURNING id",
    )
    .bind(Uuid::new_v4())
    .bind(resident.centre_id)
    .bind(&resident.building)
    .bind(&resident.unit)
    .bind(&resident.room)
    .fetch_one(&mut *tx)
    .await?;
    if relationship == Relationship::Head && has_other_head(tx, household_id, resident.id).await? {
        return Ok(false);
    }
    sqlx::query("UPDATE residents SET household_id = $2, relationship = $3 WHERE id = $1")
        .bind(resident.id)
        .bind(household_id)
        .bind(relationship.as_str())
        .execute(&mut *tx)
        .await?;
    Ok(true)
}
