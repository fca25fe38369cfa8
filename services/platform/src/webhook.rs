//! Events for outside systems: how a webhook body is made from an event on the bus (the
//! protobuf payload read through the contracts' descriptors into JSON), how it is signed,
//! and how a receiver checks the signature. The registry's delivery worker signs; a
//! partner's receiver (and the suites' example receiver) verifies. The same descriptors
//! give the AsyncAPI document its payload schemas.
//!
//! The signature: `Linli-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
//! `<t>.<body>` with the agreement's secret as the key. A receiver refuses a signature
//! whose `t` is more than [`TOLERANCE`] away from its clock, so a body captured on the way
//! cannot be replayed later; `Linli-Event-Id` lets it drop an event it already has.

use std::collections::HashMap;
use std::sync::LazyLock;

use hmac::{Hmac, Mac};
use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorSet};
use serde_json::{Map, Value, json};
use sha2::Sha256;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "linli-signature";
/// The event's id: the same on every attempt and replay, for the receiver to deduplicate.
pub const EVENT_ID_HEADER: &str = "linli-event-id";
/// The event's routing key, e.g. `bookings.booking.confirmed`.
pub const EVENT_TYPE_HEADER: &str = "linli-event-type";
/// The delivery's id (one per agreement and event).
pub const DELIVERY_ID_HEADER: &str = "linli-delivery-id";
/// How far a signature's time may be from the receiver's clock, in seconds.
pub const TOLERANCE: i64 = 5 * 60;

/// A new signing secret: 32 random bytes, hex, with a prefix that says what it is.
pub fn new_secret() -> String {
    format!("whsec_{}", hex(&rand::random::<[u8; 32]>()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `Linli-Signature` value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex(&tag))
}

/// Why a receiver refused a delivery.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no Linli-Signature header, or one not of the form t=<unix>,v1=<hex>")]
    Malformed,
    #[error("the signature's time is more than five minutes from now")]
    Stale,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// Checks a `Linli-Signature` value against `body` at `now` (unix seconds): the time must
/// be within [`TOLERANCE`] and one of its `v1` signatures must match (compared in
/// constant time).
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64) -> Result<(), Refused> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t.parse::<i64>().map_err(|_| Refused::Malformed)?),
            Some(("v1", v)) => signatures.push(unhex(v).ok_or(Refused::Malformed)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(Refused::Malformed)?;
    if signatures.is_empty() {
        return Err(Refused::Malformed);
    }
    if (now - timestamp).abs() > TOLERANCE {
        return Err(Refused::Stale);
    }
    let expected = mac(secret, timestamp, body);
    if signatures
        .iter()
        .any(|s| expected.clone().verify_slice(s).is_ok())
    {
        Ok(())
    } else {
        Err(Refused::Mismatch)
    }
}

/// The contracts' messages and enums by full name (`.linli.events.v1.BookingConfirmed`),
/// with the leading comment of each message where the descriptors kept it.
struct Descriptors {
    messages: HashMap<String, DescriptorProto>,
    enums: HashMap<String, EnumDescriptorProto>,
    comments: HashMap<String, String>,
}

static DESCRIPTORS: LazyLock<Descriptors> = LazyLock::new(|| {
    let set = FileDescriptorSet::decode(linli_proto::FILE_DESCRIPTOR_SET)
        .expect("the compiled descriptor set decodes");
    let mut descriptors = Descriptors {
        messages: HashMap::new(),
        enums: HashMap::new(),
        comments: HashMap::new(),
    };
    for file in set.file {
        let package = file.package().to_owned();
        let mut comments = HashMap::new();
        if let Some(info) = &file.source_code_info {
            for location in &info.location {
                // [4, i]: the file's i-th message.
                if let [4, index] = location.path[..] {
                    let text = location.leading_comments().trim();
                    if !text.is_empty() {
                        comments.insert(index as usize, text.to_owned());
                    }
                }
            }
        }
        for (index, message) in file.message_type.iter().enumerate() {
            let name = format!(".{package}.{}", message.name());
            if let Some(comment) = comments.remove(&index) {
                descriptors.comments.insert(name.clone(), comment);
            }
            collect(&name, message, &mut descriptors);
        }
        for e in &file.enum_type {
            descriptors
                .enums
                .insert(format!(".{package}.{}", e.name()), e.clone());
        }
    }
    descriptors
});

fn collect(name: &str, message: &DescriptorProto, into: &mut Descriptors) {
    for nested in &message.nested_type {
        collect(&format!("{name}.{}", nested.name()), nested, into);
    }
    for e in &message.enum_type {
        into.enums.insert(format!("{name}.{}", e.name()), e.clone());
    }
    into.messages.insert(name.to_owned(), message.clone());
}

const TIMESTAMP: &str = ".google.protobuf.Timestamp";

/// An event's payload as JSON: each field by its proto name, a time as RFC 3339, an enum
/// by its name, a missing scalar as its default. `message_type` is the full name the AMQP
/// `type` property carries (`linli.events.v1.BookingConfirmed`).
pub fn payload_json(message_type: &str, payload: &[u8]) -> Result<Value, String> {
    let name = format!(".{message_type}");
    let descriptor = DESCRIPTORS
        .messages
        .get(&name)
        .ok_or_else(|| format!("no message {message_type} in the contracts"))?;
    decode_message(descriptor, payload)
}

/// The webhook body of one event: what it is, when, at which centre, and its payload.
pub fn body(
    event_id: uuid::Uuid,
    routing_key: &str,
    message_type: &str,
    centre_id: Option<uuid::Uuid>,
    occurred_at: Option<chrono::DateTime<chrono::Utc>>,
    payload: &[u8],
) -> Result<String, String> {
    let data = payload_json(message_type, payload)?;
    Ok(json!({
        "id": event_id,
        "type": routing_key,
        "message": message_type,
        "centre_id": centre_id,
        "occurred_at": occurred_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        "data": data,
    })
    .to_string())
}

fn read_varint(bytes: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first().ok_or("truncated varint")?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("varint too long".into())
}

fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if bytes.len() < n {
        return Err("truncated field".into());
    }
    let (head, rest) = bytes.split_at(n);
    *bytes = rest;
    Ok(head)
}

fn default_of(field: &FieldDescriptorProto) -> Value {
    if field.label() == Label::Repeated {
        return json!([]);
    }
    if field.proto3_optional() {
        return Value::Null;
    }
    match field.r#type() {
        Type::String => json!(""),
        Type::Bytes => json!(""),
        Type::Bool => json!(false),
        Type::Double | Type::Float => json!(0.0),
        Type::Message | Type::Group => Value::Null,
        Type::Enum => enum_name(field.type_name(), 0),
        _ => json!(0),
    }
}

fn enum_name(type_name: &str, number: i32) -> Value {
    DESCRIPTORS
        .enums
        .get(type_name)
        .and_then(|e| e.value.iter().find(|v| v.number() == number))
        .map_or(json!(number), |v| json!(v.name()))
}

fn scalar(field: &FieldDescriptorProto, wire: u64, bytes: &mut &[u8]) -> Result<Value, String> {
    Ok(match (wire, field.r#type()) {
        (0, Type::Bool) => json!(read_varint(bytes)? != 0),
        (0, Type::Int32) => json!(read_varint(bytes)? as i64 as i32),
        (0, Type::Int64) => json!(read_varint(bytes)? as i64),
        (0, Type::Uint32) => json!(read_varint(bytes)? as u32),
        (0, Type::Uint64) => json!(read_varint(bytes)?),
        (0, Type::Sint32 | Type::Sint64) => {
            let v = read_varint(bytes)?;
            json!(((v >> 1) as i64) ^ -((v & 1) as i64))
        }
        (0, Type::Enum) => enum_name(field.type_name(), read_varint(bytes)? as i64 as i32),
        (1, Type::Double) => json!(f64::from_le_bytes(take(bytes, 8)?.try_into().unwrap())),
        (1, Type::Fixed64) => json!(u64::from_le_bytes(take(bytes, 8)?.try_into().unwrap())),
        (1, Type::Sfixed64) => json!(i64::from_le_bytes(take(bytes, 8)?.try_into().unwrap())),
        (5, Type::Float) => json!(f32::from_le_bytes(take(bytes, 4)?.try_into().unwrap())),
        (5, Type::Fixed32) => json!(u32::from_le_bytes(take(bytes, 4)?.try_into().unwrap())),
        (5, Type::Sfixed32) => json!(i32::from_le_bytes(take(bytes, 4)?.try_into().unwrap())),
        _ => {
            return Err(format!(
                "field {} has an unexpected wire type",
                field.name()
            ));
        }
    })
}

fn decode_message(descriptor: &DescriptorProto, mut bytes: &[u8]) -> Result<Value, String> {
    let mut fields: Map<String, Value> = Map::new();
    while !bytes.is_empty() {
        let key = read_varint(&mut bytes)?;
        let (number, wire) = ((key >> 3) as i32, key & 7);
        let Some(field) = descriptor.field.iter().find(|f| f.number() == number) else {
            // A field this build does not know: skipped, as protobuf readers do.
            match wire {
                0 => drop(read_varint(&mut bytes)?),
                1 => drop(take(&mut bytes, 8)?),
                5 => drop(take(&mut bytes, 4)?),
                2 => {
                    let n = read_varint(&mut bytes)? as usize;
                    take(&mut bytes, n)?;
                }
                _ => return Err("unsupported wire type".into()),
            }
            continue;
        };
        let repeated = field.label() == Label::Repeated;
        let mut values = Vec::new();
        if wire == 2 {
            let n = read_varint(&mut bytes)? as usize;
            let mut inner = take(&mut bytes, n)?;
            match field.r#type() {
                Type::String => values.push(json!(
                    std::str::from_utf8(inner).map_err(|_| "a string is not UTF-8")?
                )),
                Type::Bytes => {
                    use base64::Engine as _;
                    values.push(json!(
                        base64::engine::general_purpose::STANDARD.encode(inner)
                    ))
                }
                Type::Message if field.type_name() == TIMESTAMP => {
                    let t = prost_types::Timestamp::decode(inner).map_err(|e| e.to_string())?;
                    let time = chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32)
                        .ok_or("a time out of range")?;
                    values.push(json!(
                        time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                    ));
                }
                Type::Message => {
                    let nested = DESCRIPTORS
                        .messages
                        .get(field.type_name())
                        .ok_or_else(|| format!("no message {}", field.type_name()))?;
                    values.push(decode_message(nested, inner)?);
                }
                _ => {
                    // A packed run of scalars.
                    let wire = match field.r#type() {
                        Type::Double | Type::Fixed64 | Type::Sfixed64 => 1,
                        Type::Float | Type::Fixed32 | Type::Sfixed32 => 5,
                        _ => 0,
                    };
                    while !inner.is_empty() {
                        values.push(scalar(field, wire, &mut inner)?);
                    }
                }
            }
        } else {
            values.push(scalar(field, wire, &mut bytes)?);
        }
        if repeated {
            let entry = fields
                .entry(field.name().to_owned())
                .or_insert_with(|| json!([]));
            if let Value::Array(list) = entry {
                list.extend(values);
            }
        } else if let Some(value) = values.pop() {
            fields.insert(field.name().to_owned(), value);
        }
    }
    // Proto3 leaves defaults off the wire; a reader of JSON should see every field.
    let mut ordered = Map::new();
    for field in &descriptor.field {
        let value = fields
            .remove(field.name())
            .unwrap_or_else(|| default_of(field));
        ordered.insert(field.name().to_owned(), value);
    }
    Ok(Value::Object(ordered))
}

/// JSON Schema of a contract message (as [`payload_json`] writes it), with its nested
/// messages as `#/components/schemas/<Name>` references added to `schemas`; returns the
/// schema's name there (the message's own name, e.g. `BookingConfirmed`).
pub fn schema(message_type: &str, schemas: &mut Map<String, Value>) -> Result<String, String> {
    let full = format!(".{message_type}");
    let descriptor = DESCRIPTORS
        .messages
        .get(&full)
        .ok_or_else(|| format!("no message {message_type} in the contracts"))?;
    let name = descriptor.name().to_owned();
    if schemas.contains_key(&name) {
        return Ok(name);
    }
    // Claimed first, so a message that names itself does not recurse for ever.
    schemas.insert(name.clone(), Value::Null);
    let mut properties = Map::new();
    for field in &descriptor.field {
        let mut one = match field.r#type() {
            Type::String => json!({"type": "string"}),
            Type::Bytes => json!({"type": "string", "contentEncoding": "base64"}),
            Type::Bool => json!({"type": "boolean"}),
            Type::Double | Type::Float => json!({"type": "number"}),
            Type::Enum => {
                let names: Vec<Value> = DESCRIPTORS
                    .enums
                    .get(field.type_name())
                    .map(|e| e.value.iter().map(|v| json!(v.name())).collect())
                    .unwrap_or_default();
                json!({"type": "string", "enum": names})
            }
            Type::Message if field.type_name() == TIMESTAMP => {
                json!({"type": "string", "format": "date-time"})
            }
            Type::Message | Type::Group => {
                let nested = schema(field.type_name().trim_start_matches('.'), schemas)?;
                json!({"$ref": format!("#/components/schemas/{nested}")})
            }
            _ => json!({"type": "integer"}),
        };
        if field.label() == Label::Repeated {
            one = json!({"type": "array", "items": one});
        } else if field.proto3_optional() || field.r#type() == Type::Message {
            one = json!({"oneOf": [one, {"type": "null"}]});
        }
        properties.insert(field.name().to_owned(), one);
    }
    let required: Vec<Value> = descriptor.field.iter().map(|f| json!(f.name())).collect();
    let mut object = json!({
        "type": "object",
        "properties": properties,
        "required": required,
    });
    if let Some(comment) = DESCRIPTORS.comments.get(&full) {
        object["description"] = json!(comment);
    }
    schemas.insert(name.clone(), object);
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_a_changed_body_or_old_time_does_not() {
        let secret = new_secret();
        let body = br#"{"id":"1"}"#;
        let header = sign(&secret, 1_000_000, body);
        assert_eq!(verify(&secret, &header, body, 1_000_010), Ok(()));
        assert_eq!(
            verify(&secret, &header, br#"{"id":"2"}"#, 1_000_010),
            Err(Refused::Mismatch)
        );
        assert_eq!(
            verify("whsec_other", &header, body, 1_000_010),
            Err(Refused::Mismatch)
        );
        assert_eq!(
            verify(&secret, &header, body, 1_000_000 + TOLERANCE + 1),
            Err(Refused::Stale)
        );
        assert_eq!(verify(&secret, "v1=zz", body, 0), Err(Refused::Malformed));
    }

    #[test]
    fn an_event_reads_as_json_by_its_descriptor() {
        use linli_proto::events::v1::BookingConfirmed;
        let event = BookingConfirmed {
            booking_id: "b".into(),
            centre_id: "c".into(),
            starts_at: Some(prost_types::Timestamp {
                seconds: 1_800_000_000,
                nanos: 0,
            }),
            ..Default::default()
        };
        let json =
            payload_json("linli.events.v1.BookingConfirmed", &event.encode_to_vec()).unwrap();
        assert_eq!(json["booking_id"], "b");
        assert_eq!(json["starts_at"], "2027-01-15T08:00:00Z");
        assert_eq!(json["resident_id"], "");
        assert_eq!(json["confirmed_at"], Value::Null);
        let mut schemas = Map::new();
        let name = schema("linli.events.v1.BookingConfirmed", &mut schemas).unwrap();
        assert_eq!(
            schemas[&name]["properties"]["starts_at"]["oneOf"][0]["format"],
            "date-time"
        );
    }
}
