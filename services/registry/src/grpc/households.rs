//! Households over gRPC: the head makes one at their address, members are registered into
//! it or placed in it, and anyone who reads residents reads it with its members.

use linli_platform::auth::{Access, Caller, scoped_centre};
use linli_platform::error::Violations;
use linli_proto::registry::v1 as pb;
use tonic::{Response, Status};

use super::{RegistryApi, new_resident, parse_id, today};
use crate::domain::household::Relationship;
use crate::domain::{STAFF_READERS, STAFF_WRITERS};
use crate::error::Error;
use crate::store::households::{self as store, HouseholdRow, MemberRow};
use linli_platform::error::Reason;

fn relationship(text: &str) -> Result<Relationship, Error> {
    Relationship::parse(text).map_err(|reason| Violations::one("relationship", reason).into())
}

fn household(row: HouseholdRow, members: Vec<MemberRow>) -> pb::Household {
    pb::Household {
        id: row.id.to_string(),
        centre_id: row.centre_id.to_string(),
        building: row.building,
        unit: row.unit,
        room: row.room,
        members: members
            .into_iter()
            .map(|m| pb::HouseholdMember {
                resident_id: m.resident_id.to_string(),
                name: m.name,
                relationship: m.relationship,
            })
            .collect(),
    }
}

impl RegistryApi {
    pub(super) async fn create_household_for(
        &self,
        caller: &Caller,
        req: pb::CreateHouseholdRequest,
    ) -> Result<Response<pb::Household>, Status> {
        let centre_id = scoped_centre(caller, &req.centre_id, Access::Write, STAFF_WRITERS)?;
        let head_id = parse_id("head_resident_id", &req.head_resident_id).map_err(Error::from)?;
        let row = store::create_household(&self.pool, centre_id, head_id).await?;
        tracing::info!(household_id = %row.id, %centre_id, "household created");
        self.household(centre_id, row.id).await
    }

    pub(super) async fn get_household_for(
        &self,
        caller: &Caller,
        req: pb::GetHouseholdRequest,
    ) -> Result<Response<pb::Household>, Status> {
        let centre_id = scoped_centre(caller, &req.centre_id, Access::Read, STAFF_READERS)?;
        let id = parse_id("id", &req.id).map_err(Error::from)?;
        self.household(centre_id, id).await
    }

    async fn household(
        &self,
        centre_id: uuid::Uuid,
        id: uuid::Uuid,
    ) -> Result<Response<pb::Household>, Status> {
        let (row, members) = store::get_household(&self.pool, centre_id, id)
            .await
            .map_err(Error::from)?
            .ok_or(Error::NotFound("household"))?;
        Ok(Response::new(household(row, members)))
    }

    pub(super) async fn register_household_member_for(
        &self,
        caller: &Caller,
        req: pb::RegisterHouseholdMemberRequest,
    ) -> Result<Response<pb::Resident>, Status> {
        let registration = req
            .resident
            .ok_or_else(|| Error::from(Violations::one("resident", Reason::required())))?;
        let centre_id = scoped_centre(
            caller,
            &registration.centre_id,
            Access::Write,
            STAFF_WRITERS,
        )?;
        let household_id = parse_id("household_id", &req.household_id).map_err(Error::from)?;
        let relationship = relationship(&req.relationship)?;
        let resident = new_resident(&registration)?;
        let row = store::register_member(
            &self.pool,
            &self.vault,
            resident,
            registration.confirm_not_duplicate,
            household_id,
            relationship,
            today(),
        )
        .await?;
        tracing::info!(resident_id = %row.id, %centre_id, %household_id, "resident registered into a household");
        Ok(Response::new(self.one(row, caller, false).await?))
    }

    pub(super) async fn place_in_household_for(
        &self,
        caller: &Caller,
        req: pb::PlaceInHouseholdRequest,
    ) -> Result<Response<pb::Resident>, Status> {
        let centre_id = scoped_centre(caller, &req.centre_id, Access::Write, STAFF_WRITERS)?;
        let resident_id = parse_id("resident_id", &req.resident_id).map_err(Error::from)?;
        let household_id = parse_id("household_id", &req.household_id).map_err(Error::from)?;
        let relationship = relationship(&req.relationship)?;
        let row = store::place_in_household(
            &self.pool,
            centre_id,
            resident_id,
            household_id,
            relationship,
        )
        .await?;
        Ok(Response::new(self.one(row, caller, false).await?))
    }
}
