//! The words for the services' codes ([`linli_words::catalogue`]), and a field violation
//! said through them.

use linli_platform::error::FieldViolation;
pub use linli_words::Lang;
pub use linli_words::catalogue::*;

/// A field violation in `lang`: its code through the catalogue; an uncoded reason (words
/// only) translated where its words are known, else said as a plain "check this".
pub fn field_message(lang: Lang, violation: &FieldViolation) -> String {
    said(lang, &violation.code, &violation.params, &violation.reason)
}
