//! Ids that say what they name: a `ResidentId` (`Id<of::ResidentId>`) is not a `SessionId`, so a
//! resident's id cannot be passed where a session's is meant. One generic type, not one
//! hand-written newtype per table: every id is a UUID on the wire and in PostgreSQL, and
//! reads and binds as one (arrays too).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::str::FromStr;

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};
use uuid::Uuid;

use crate::error::Violations;

/// The id of a `T` (a marker type, declared with [`ids!`](crate::ids)).
pub struct Id<T: ?Sized>(Uuid, PhantomData<fn() -> T>);

/// Declares ids of their own: `ids!(SessionId, BookingId)` makes each an [`Id`] of a
/// marker of the same name (in a module `of` beside them), so no two can be confused.
/// Every service declares its ids with it, and the platform the directory's.
#[macro_export]
macro_rules! ids {
    ($($name:ident),+ $(,)?) => {
        /// What these ids name: markers only, never values.
        pub mod of {
            $(pub enum $name {})+
        }
        $(pub type $name = $crate::id::Id<of::$name>;)+
    };
}

// What the directory's ids name: the same in every service.
crate::ids!(CentreId, ResidentId, StaffId, PartnerId);

impl<T: ?Sized> Id<T> {
    pub const fn from_uuid(id: Uuid) -> Self {
        Id(id, PhantomData)
    }

    /// A new random id (v4).
    pub fn new() -> Self {
        Id::from_uuid(Uuid::new_v4())
    }

    pub const fn uuid(self) -> Uuid {
        self.0
    }

    /// A required id from a request field, the field named when it is not a UUID.
    pub fn parse(field: &str, text: &str) -> Result<Self, Violations> {
        crate::wire::parse_id(field, text).map(Id::from_uuid)
    }

    /// An id that may be left empty.
    pub fn parse_optional(field: &str, text: &str) -> Result<Option<Self>, Violations> {
        crate::wire::optional_id(field, text).map(|id| id.map(Id::from_uuid))
    }
}

impl<T: ?Sized> Default for Id<T> {
    /// The nil id: what a request that named none carries until it is refused.
    fn default() -> Self {
        Id::from_uuid(Uuid::nil())
    }
}

impl<T: ?Sized> Clone for Id<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Id<T> {}

impl<T: ?Sized> PartialEq for Id<T> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T: ?Sized> Eq for Id<T> {}

impl<T: ?Sized> PartialOrd for Id<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: ?Sized> Ord for Id<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl<T: ?Sized> Hash for Id<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl<T: ?Sized> fmt::Debug for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<T: ?Sized> fmt::Display for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<T: ?Sized> FromStr for Id<T> {
    type Err = uuid::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Uuid::from_str(text).map(Id::from_uuid)
    }
}

impl<T: ?Sized> From<Uuid> for Id<T> {
    fn from(id: Uuid) -> Self {
        Id::from_uuid(id)
    }
}

impl<T: ?Sized> From<Id<T>> for Uuid {
    fn from(id: Id<T>) -> Self {
        id.0
    }
}

impl<T: ?Sized> Type<Postgres> for Id<T> {
    fn type_info() -> PgTypeInfo {
        <Uuid as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <Uuid as Type<Postgres>>::compatible(ty)
    }
}

impl<T: ?Sized> PgHasArrayType for Id<T> {
    fn array_type_info() -> PgTypeInfo {
        <Uuid as PgHasArrayType>::array_type_info()
    }
}

impl<T: ?Sized> Encode<'_, Postgres> for Id<T> {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Uuid as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<T: ?Sized> Decode<'_, Postgres> for Id<T> {
    fn decode(value: PgValueRef<'_>) -> Result<Self, BoxDynError> {
        <Uuid as Decode<'_, Postgres>>::decode(value).map(Id::from_uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_parses_and_prints_as_its_uuid_and_names_the_field_when_it_is_not_one() {
        let id = ResidentId::new();
        assert_eq!(id.to_string().parse::<ResidentId>().unwrap(), id);
        assert_eq!(
            ResidentId::parse("resident_id", "nope").unwrap_err().0[0].field,
            "resident_id"
        );
        assert_eq!(
            ResidentId::parse_optional("resident_id", " ").unwrap(),
            None
        );
    }
}
