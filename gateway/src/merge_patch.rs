//! Corrections that change only what they name: a JSON Merge Patch (RFC 7396,
//! `application/merge-patch+json`) or an update body read the same way. A member present
//! changes its field, set to null it clears it, and an absent member keeps its value. The
//! gateway only says which fields were named (a gRPC field mask); the owning service reads,
//! merges and writes under its own lock, so a partner calling it directly is as safe.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::json::ApiJson;
use crate::problem::{FieldError, Problem};

/// The media type of a merge patch.
pub const MEDIA_TYPE: &str = "application/merge-patch+json";

/// A JSON object whose members say which fields change.
pub struct MergePatch(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for MergePatch {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let merge_patch = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(MEDIA_TYPE));
        if !merge_patch {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("a correction is a JSON merge patch: send it as {MEDIA_TYPE}"),
            ));
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| Problem::new(rejection.status(), rejection.body_text()))?;
        match serde_json::from_slice(&body) {
            Ok(Value::Object(members)) => Ok(MergePatch(members)),
            Ok(_) => Err(Problem::invalid_field(
                "body",
                "must be a JSON object naming the fields to change",
            )),
            Err(error) => Err(Problem::new(
                StatusCode::BAD_REQUEST,
                format!("malformed JSON: {error}"),
            )),
        }
    }
}

/// A record whose correction names the fields it changes.
pub trait Correctable: DeserializeOwned {
    /// The members a correction may change.
    const FIELDS: &'static [&'static str];
}

/// A correction's body and the fields it changes, by the request's method: a PATCH is a
/// merge patch whose every member must be a field of [`Correctable::FIELDS`]; a PUT is an
/// update body whose members among them change (an id or status it carries, as a read
/// returned it, changes nothing).
pub struct Correction<T> {
    pub body: T,
    pub mask: prost_types::FieldMask,
}

impl<T: Correctable, S: Send + Sync> FromRequest<S> for Correction<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (patch, mask) = if request.method() == axum::http::Method::PATCH {
            let patch = MergePatch::from_request(request, state).await?;
            patch.check(T::FIELDS)?;
            let mask = patch.mask();
            (patch, mask)
        } else {
            let ApiJson(members) =
                ApiJson::<Map<String, Value>>::from_request(request, state).await?;
            let patch = MergePatch(members);
            let mask = patch.mask_of(T::FIELDS);
            (patch, mask)
        };
        let body = patch.into_body()?;
        Ok(Correction { body, mask })
    }
}

impl MergePatch {
    /// Refuses members that are not fields a correction of this record can change,
    /// naming each (an id, a status or a registration-only field).
    pub fn check(&self, fields: &[&str]) -> Result<(), Problem> {
        let errors: Vec<FieldError> = self
            .0
            .keys()
            .filter(|member| !fields.contains(&member.as_str()))
            .map(|member| {
                FieldError::coded(
                    member.clone(),
                    "not_correctable",
                    format!(
                        "cannot be changed by a correction; the fields are {}",
                        fields.join(", ")
                    ),
                )
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Problem::invalid(errors))
        }
    }

    /// The fields named, as the service's field mask.
    pub fn mask(&self) -> prost_types::FieldMask {
        prost_types::FieldMask {
            paths: self.0.keys().cloned().collect(),
        }
    }

    /// The members that are among `fields`, as a field mask: for an update body that may
    /// carry what a read returned (an id, a status), which changes nothing.
    pub fn mask_of(&self, fields: &[&str]) -> prost_types::FieldMask {
        prost_types::FieldMask {
            paths: self
                .0
                .keys()
                .filter(|member| fields.contains(&member.as_str()))
                .cloned()
                .collect(),
        }
    }

    /// Whether `member` is present and null: the caller clears that field.
    pub fn clears(&self, member: &str) -> bool {
        self.0.get(member).is_some_and(Value::is_null)
    }

    /// The members as the route's body type; a null member reads as absent (its field is
    /// named in the mask, so the service clears it).
    pub fn into_body<T: DeserializeOwned>(self) -> Result<T, Problem> {
        let members: Map<String, Value> = self
            .0
            .into_iter()
            .filter(|(_, value)| !value.is_null())
            .collect();
        serde_json::from_value(Value::Object(members)).map_err(|error| {
            Problem::new(StatusCode::BAD_REQUEST, format!("invalid body: {error}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        room: String,
        phone: Option<String>,
    }

    fn patch(value: Value) -> MergePatch {
        match value {
            Value::Object(members) => MergePatch(members),
            _ => unreachable!("a test patch is an object"),
        }
    }

    #[test]
    fn the_mask_names_every_member_sent_and_nulls_read_as_absent() {
        let p = patch(json!({ "room": "502", "phone": null }));
        let mut named = p.mask().paths;
        named.sort();
        assert_eq!(named, ["phone", "room"]);
        assert!(p.clears("phone") && !p.clears("room") && !p.clears("unit"));
        let body: Body = p.into_body().expect("valid");
        assert_eq!((body.room.as_str(), body.phone), ("502", None));
    }

    #[test]
    fn members_that_are_not_fields_are_named() {
        let p = patch(json!({ "room": "502", "status": "active", "id": "x" }));
        let problem = p.check(&["room", "phone"]).expect_err("refused");
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["id", "status"]);
    }
}
