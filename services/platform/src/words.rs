//! Statuses and kinds the tables keep as words (`'signed_up'`, `'verified'`), as types: one
//! macro gives an enum its word, its parse and its reading from a row, so every service
//! spells its vocabularies the same way.

/// A word the tables keep that no variant has: the table's check makes it a bug.
#[derive(Debug, thiserror::Error)]
#[error("{what} {text:?} is not one of the words kept")]
pub struct UnknownWord {
    pub what: &'static str,
    pub text: String,
}

/// Gives an enum of unit variants its words: `as_str`, `parse`, `ALL`, `Display`, and
/// `TryFrom<String>` (for `#[sqlx(try_from = "String")]` and rows read as text).
///
/// ```ignore
/// linli_platform::words!(Status, "status", Open => "open", Closed => "closed");
/// ```
#[macro_export]
macro_rules! words {
    ($type:ident, $what:literal, $($variant:ident => $text:literal),+ $(,)?) => {
        impl $type {
            pub const ALL: &[$type] = &[$($type::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($type::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<$type> {
                match text {
                    $($text => Some($type::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $type {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl TryFrom<String> for $type {
            type Error = $crate::words::UnknownWord;

            fn try_from(text: String) -> Result<Self, $crate::words::UnknownWord> {
                $type::parse(&text).ok_or($crate::words::UnknownWord { what: $what, text })
            }
        }
    };
}
