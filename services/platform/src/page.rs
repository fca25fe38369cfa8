//! One way to page a list, for every list of every service: a page size with one default
//! and one maximum, and an opaque token that carries the keyset of the last row sent, so
//! the next page starts strictly after it (keyset pagination over a unique ordering, never
//! OFFSET: rows added or removed meanwhile neither repeat nor skip a row that stays). A
//! list is never cut silently: a longer one always answers a `next_page_token`.
//!
//! A token is base64url (no padding) of the JSON `[version, list, keyset]`. It is opaque to
//! callers, not a secret: every query stays scoped to the caller's centre whatever keyset a
//! token carries. One that does not decode, or names another list, is refused naming
//! `page_token`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Violations;

/// Rows on a page when the request names no size.
pub const DEFAULT_PAGE_SIZE: u32 = 50;
/// The most rows a page holds; a larger `page_size` is refused, not trimmed.
pub const MAX_PAGE_SIZE: u32 = 200;

/// The token format's version: a token of another version is refused, so the format can
/// change without misreading an old token.
const VERSION: u8 = 1;

const NOT_ISSUED: &str = "is not a page token this service issued";
const OTHER_LIST: &str = "was issued for another list";

/// What a keyset is made of: plain values (instants, dates, ids, numbers, text, and tuples
/// of them) that travel inside a token.
pub trait Keyset: Serialize + DeserializeOwned + Clone {}

impl<K: Serialize + DeserializeOwned + Clone> Keyset for K {}

/// A list request's paging, checked: how many rows to send, and the keyset `K` of the last
/// row already sent (none for the first page).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest<K> {
    list: &'static str,
    size: u32,
    after: Option<K>,
}

impl<K: Keyset> PageRequest<K> {
    /// Reads a request's `page_size` (0 for the default) and `page_token` (empty for the
    /// first page) for the list named `list` (e.g. `bookings.sessions`; tokens of one list
    /// are refused by every other).
    pub fn parse(list: &'static str, page_size: u32, page_token: &str) -> Result<Self, Violations> {
        let mut violations = Violations::default();
        let size = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if n <= MAX_PAGE_SIZE => n,
            _ => {
                violations.push(
                    "page_size",
                    crate::error::Reason::new(
                        "page_size.too_large",
                        format!("must be at most {MAX_PAGE_SIZE}"),
                    )
                    .with("max", MAX_PAGE_SIZE),
                );
                0
            }
        };
        let after = match page_token {
            "" => None,
            token => match decode(list, token) {
                Ok(keyset) => Some(keyset),
                Err(reason) => {
                    violations.push(
                        "page_token",
                        crate::error::Reason::new("page_token.invalid", reason),
                    );
                    None
                }
            },
        };
        violations.into_result(|| PageRequest { list, size, after })
    }

    /// The keyset of the last row already sent: the page starts after it.
    pub fn after(&self) -> Option<K> {
        self.after.clone()
    }

    /// The rows on a page.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// How many rows to fetch: one more than the page, to know whether another follows.
    pub fn limit(&self) -> i64 {
        i64::from(self.size) + 1
    }

    /// Turns the rows fetched (at most [`Self::limit`], in the list's order) into the page
    /// and the token of the next one (empty on the last page); `key` gives a row's keyset.
    pub fn page<R>(&self, mut rows: Vec<R>, key: impl Fn(&R) -> K) -> Page<R> {
        let next_page_token = if rows.len() > self.size as usize {
            rows.truncate(self.size as usize);
            rows.last()
                .map(|last| encode(self.list, &key(last)))
                .unwrap_or_default()
        } else {
            String::new()
        };
        Page {
            rows,
            next_page_token,
        }
    }
}

/// One page of a list and the token of the next (empty on the last page).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<R> {
    pub rows: Vec<R>,
    pub next_page_token: String,
}

impl<R> Page<R> {
    /// The same page with each row converted, e.g. to its protobuf message.
    pub fn map<T>(self, convert: impl FnMut(R) -> T) -> Page<T> {
        Page {
            rows: self.rows.into_iter().map(convert).collect(),
            next_page_token: self.next_page_token,
        }
    }
}

fn encode<K: Serialize>(list: &str, keyset: &K) -> String {
    let json = serde_json::to_vec(&(VERSION, list, keyset))
        .expect("a keyset of plain values always serialises");
    URL_SAFE_NO_PAD.encode(json)
}

fn decode<K: DeserializeOwned>(list: &str, token: &str) -> Result<K, &'static str> {
    let json = URL_SAFE_NO_PAD.decode(token).map_err(|_| NOT_ISSUED)?;
    let (version, issued_for, keyset): (u8, String, serde_json::Value) =
        serde_json::from_slice(&json).map_err(|_| NOT_ISSUED)?;
    if version != VERSION {
        return Err(NOT_ISSUED);
    }
    if issued_for != list {
        return Err(OTHER_LIST);
    }
    serde_json::from_value(keyset).map_err(|_| NOT_ISSUED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    type Keyset = (DateTime<Utc>, Uuid);

    fn keyset(micros: i64) -> Keyset {
        (
            DateTime::from_timestamp_micros(micros).expect("a valid instant"),
            Uuid::new_v4(),
        )
    }

    fn field_of(violations: &Violations) -> Vec<&str> {
        violations.0.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn a_missing_size_is_the_default_and_a_size_past_the_maximum_is_refused() {
        let first = PageRequest::<Keyset>::parse("test.rows", 0, "").expect("valid");
        assert_eq!(
            (first.size(), first.limit(), first.after()),
            (DEFAULT_PAGE_SIZE, 51, None)
        );
        let largest = PageRequest::<Keyset>::parse("test.rows", MAX_PAGE_SIZE, "").expect("valid");
        assert_eq!(largest.size(), MAX_PAGE_SIZE);
        let refused = PageRequest::<Keyset>::parse("test.rows", MAX_PAGE_SIZE + 1, "")
            .expect_err("too large");
        assert_eq!(field_of(&refused), ["page_size"]);
    }

    #[test]
    fn the_token_of_a_full_page_starts_the_next_after_its_last_row() {
        let request = PageRequest::<Keyset>::parse("test.rows", 2, "").expect("valid");
        let rows: Vec<Keyset> = (0..3).map(|n| keyset(1_764_000_000_123_456 + n)).collect();
        let page = request.page(rows.clone(), |row| *row);
        assert_eq!(page.rows, rows[..2]);
        let next = PageRequest::<Keyset>::parse("test.rows", 2, &page.next_page_token)
            .expect("its own token");
        assert_eq!(next.after(), Some(rows[1]), "microseconds survive the trip");
        let last = next.page(rows[2..].to_vec(), |row| *row);
        assert_eq!(last.next_page_token, "", "no token on the last page");
    }

    #[test]
    fn forged_foreign_and_other_version_tokens_are_refused_naming_page_token() {
        let request = PageRequest::<Keyset>::parse("test.rows", 1, "").expect("valid");
        let token = request
            .page(vec![keyset(1), keyset(2)], |row| *row)
            .next_page_token;
        let other_version =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&(2, "test.rows", keyset(1))).expect("json"));
        let wrong_keyset =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&(1, "test.rows", [1, 2])).expect("json"));
        for forged in ["not-a-token", "W10", "!!", &other_version, &wrong_keyset] {
            let refused = PageRequest::<Keyset>::parse("test.rows", 1, forged).expect_err(forged);
            assert_eq!(field_of(&refused), ["page_token"], "{forged}");
        }
        let foreign =
            PageRequest::<Keyset>::parse("test.other", 1, &token).expect_err("another list");
        assert_eq!(foreign.0[0].field, "page_token");
        assert_eq!(foreign.0[0].reason, OTHER_LIST);
        let both = PageRequest::<Keyset>::parse("test.other", 999, &token).expect_err("both");
        assert_eq!(field_of(&both), ["page_size", "page_token"]);
    }
}
