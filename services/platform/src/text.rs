//! Text every service accepts: no control characters but tab and line breaks. A NUL in a
//! name or a note is not something a person meant to write, and PostgreSQL refuses to store
//! it; left to the database it became a bare 500. The rule is checked here once, on every
//! string field of every gRPC request, before a service's handler sees it ([`Checked`]),
//! so each service gets it from one line where it assembles its server.

use std::collections::HashMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};

use prost::Message as _;
use prost_types::field_descriptor_proto::Type;
use tonic::Status;
use tonic::server::NamedService;

use crate::error::Violations;

/// Why a text field was refused.
pub const REASON: &str = "must not contain control characters other than tab and line breaks";

/// [`REASON`] with its code.
pub fn reason() -> crate::error::Reason {
    crate::error::Reason::new("text.control_characters", REASON)
}

/// Whether `text` holds only characters a person writes: any control character but tab,
/// line feed and carriage return (forms send line breaks as CR LF) is refused.
pub fn is_clean(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// `Ok` when `text` is clean, otherwise a violation naming `field`.
pub fn check(field: &str, text: &str) -> Result<(), Violations> {
    if is_clean(text) {
        Ok(())
    } else {
        Err(Violations::one(field, reason()))
    }
}

/// Largest request [`Checked`] reads, unless told otherwise: tonic's own default limit.
const DEFAULT_LIMIT: usize = 4 * 1024 * 1024;

/// A gRPC service whose requests have every string field checked with [`is_clean`] first:
/// a request with a control character is answered `InvalidArgument` naming each such field
/// (by its path in the request, e.g. `offering.name`) and never reaches the service.
#[derive(Clone)]
pub struct Checked<S> {
    inner: S,
    limit: usize,
}

impl<S> Checked<S> {
    pub fn new(inner: S) -> Self {
        Checked {
            inner,
            limit: DEFAULT_LIMIT,
        }
    }

    /// The largest request read, in bytes (match the server's own decoding limit).
    pub fn limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }
}

impl<S: NamedService> NamedService for Checked<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> tower::Service<http::Request<tonic::body::Body>> for Checked<S>
where
    S: tower::Service<
            http::Request<tonic::body::Body>,
            Response = http::Response<tonic::body::Body>,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = Infallible;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        // The clone is ready only if polled; take the ready one and leave the clone.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let limit = self.limit;
        Box::pin(async move {
            if SCHEMA.streamed.contains(request.uri().path()) {
                return inner.call(request).await;
            }
            let (parts, body) = request.into_parts();
            let bytes = match axum::body::to_bytes(axum::body::Body::new(body), limit).await {
                Ok(bytes) => bytes,
                Err(_) => {
                    return Ok(crate::error::Reason::new(
                        "request.too_large",
                        "the request is too large or was not received whole",
                    )
                    .into_status(tonic::Code::OutOfRange)
                    .into_http());
                }
            };
            let violations = SCHEMA.check_request(parts.uri.path(), &bytes);
            if !violations.is_empty() {
                return Ok(Status::from(violations).into_http());
            }
            let body = tonic::body::Body::new(axum::body::Body::from(bytes));
            inner.call(http::Request::from_parts(parts, body)).await
        })
    }
}

/// What the walk needs from the contracts: each method's request type, and each message's
/// string and message fields by number.
struct Schema {
    inputs: HashMap<String, String>,
    /// Methods whose requests are a stream (a file sent in parts): passed on as they come,
    /// never read whole, so their handlers check their own text.
    streamed: std::collections::HashSet<String>,
    messages: HashMap<String, HashMap<u32, Field>>,
}

struct Field {
    name: String,
    kind: FieldKind,
}

enum FieldKind {
    Text,
    /// A message, by full name with the leading dot (`.linli.bookings.v1.Offering`).
    Message(String),
}

static SCHEMA: LazyLock<Schema> = LazyLock::new(|| {
    let set = prost_types::FileDescriptorSet::decode(linli_proto::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set compiled into linli-proto decodes");
    Schema::of(&set)
});

impl Schema {
    fn of(set: &prost_types::FileDescriptorSet) -> Self {
        let mut schema = Schema {
            inputs: HashMap::new(),
            streamed: Default::default(),
            messages: HashMap::new(),
        };
        for file in &set.file {
            let package = file.package();
            for service in &file.service {
                for method in &service.method {
                    let path = format!("/{package}.{}/{}", service.name(), method.name());
                    if method.client_streaming() {
                        schema.streamed.insert(path.clone());
                    }
                    schema.inputs.insert(path, method.input_type().to_owned());
                }
            }
            for message in &file.message_type {
                schema.add(&format!(".{package}"), message);
            }
        }
        schema
    }

    fn add(&mut self, scope: &str, message: &prost_types::DescriptorProto) {
        let name = format!("{scope}.{}", message.name());
        let fields = message
            .field
            .iter()
            .filter_map(|field| {
                let kind = match field.r#type() {
                    Type::String => FieldKind::Text,
                    Type::Message => FieldKind::Message(field.type_name().to_owned()),
                    _ => return None,
                };
                Some((
                    field.number() as u32,
                    Field {
                        name: field.name().to_owned(),
                        kind,
                    },
                ))
            })
            .collect();
        for nested in &message.nested_type {
            self.add(&name, nested);
        }
        self.messages.insert(name, fields);
    }

    /// The violations in a gRPC request body to `path` (`/package.Service/Method`): one per
    /// string field that is not clean. A body this cannot read is left to tonic to refuse.
    fn check_request(&self, path: &str, body: &[u8]) -> Violations {
        let mut violations = Violations::default();
        let Some(input) = self.inputs.get(path) else {
            return violations;
        };
        let mut rest = body;
        // Length-prefixed messages: a compression flag byte, then a big-endian length.
        while rest.len() >= 5 {
            let compressed = rest[0] != 0;
            let length = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]) as usize;
            let Some(message) = rest.get(5..5 + length) else {
                break;
            };
            if !compressed {
                self.walk(input, message, "", &mut violations);
            }
            rest = &rest[5 + length..];
        }
        violations
    }

    /// Checks the string fields of `message` (encoded), naming them under `prefix`. Stops
    /// quietly at anything malformed: decoding it is tonic's job, and it will refuse it.
    fn walk(&self, type_name: &str, mut message: &[u8], prefix: &str, out: &mut Violations) {
        let Some(fields) = self.messages.get(type_name) else {
            return;
        };
        while !message.is_empty() {
            let Some(tag) = varint(&mut message) else {
                return;
            };
            let number = (tag >> 3) as u32;
            match tag & 7 {
                0 => {
                    if varint(&mut message).is_none() {
                        return;
                    }
                }
                1 | 5 => {
                    let width = if tag & 7 == 1 { 8 } else { 4 };
                    let Some(rest) = message.get(width..) else {
                        return;
                    };
                    message = rest;
                }
                2 => {
                    let Some(length) = varint(&mut message) else {
                        return;
                    };
                    let Some(value) = usize::try_from(length)
                        .ok()
                        .and_then(|length| message.get(..length))
                    else {
                        return;
                    };
                    message = &message[value.len()..];
                    let Some(field) = fields.get(&number) else {
                        continue;
                    };
                    let path = if prefix.is_empty() {
                        field.name.clone()
                    } else {
                        format!("{prefix}.{}", field.name)
                    };
                    match &field.kind {
                        FieldKind::Text => {
                            let clean = std::str::from_utf8(value).map_or(true, is_clean);
                            if !clean && !out.0.iter().any(|v| v.field == path) {
                                out.push(path, reason());
                            }
                        }
                        FieldKind::Message(nested) => self.walk(nested, value, &path, out),
                    }
                }
                _ => return,
            }
        }
    }
}

fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use linli_proto::bookings::v1 as pb;

    fn framed(message: &impl prost::Message) -> Vec<u8> {
        let encoded = message.encode_to_vec();
        let mut body = vec![0];
        body.extend_from_slice(&(encoded.len() as u32).to_be_bytes());
        body.extend_from_slice(&encoded);
        body
    }

    #[test]
    fn tab_and_line_breaks_are_text_other_control_characters_are_not() {
        assert!(is_clean("第一行\r\n第二行\tend"));
        for bad in [
            "a\0b",
            "bell\u{7}",
            "esc\u{1b}[31m",
            "del\u{7f}",
            "c1\u{85}",
        ] {
            assert!(!is_clean(bad), "{bad:?}");
        }
        assert_eq!(check("note", "a\0").unwrap_err().0[0].field, "note");
    }

    #[test]
    fn every_string_field_of_a_request_is_checked_by_its_path() {
        let request = pb::CreateOfferingRequest {
            centre_id: "c\0".into(),
            offering: Some(pb::Offering {
                name: "书法\0班".into(),
                description: "两行\n说明".into(),
                eligible_categories: vec!["ok".into(), "bad\u{1}".into()],
                capacity: 12,
                ..Default::default()
            }),
        };
        let violations = SCHEMA.check_request(
            "/linli.bookings.v1.Bookings/CreateOffering",
            &framed(&request),
        );
        let fields: Vec<&str> = violations.0.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            ["centre_id", "offering.name", "offering.eligible_categories"]
        );
    }

    #[test]
    fn clean_requests_and_unknown_methods_pass() {
        let request = pb::CreateOfferingRequest {
            centre_id: "c".into(),
            offering: Some(pb::Offering {
                name: "书法班".into(),
                description: "第一行\r\n第二行".into(),
                ..Default::default()
            }),
        };
        let body = framed(&request);
        assert!(
            SCHEMA
                .check_request("/linli.bookings.v1.Bookings/CreateOffering", &body)
                .is_empty()
        );
        assert!(SCHEMA.check_request("/nope.Nope/Nope", &body).is_empty());
        // A truncated body is left for tonic to refuse.
        assert!(
            SCHEMA
                .check_request("/linli.bookings.v1.Bookings/CreateOffering", &body[..9])
                .is_empty()
        );
    }
}
