//! The forum (居民议事): what a post may be, and what moderation sets.

use linli_platform::error::{Error, Reason};

pub const FORUM_TITLE_MAX: usize = 60;
pub const FORUM_BODY_MAX: usize = 1000;
pub const MODERATIONS: [&str; 6] = ["hide", "restore", "pin", "unpin", "lock", "unlock"];

/// The flag a moderation action sets, and to what.
pub fn moderation(action: &str) -> Option<(&'static str, bool)> {
    Some(match action {
        "hide" => ("hidden", true),
        "restore" => ("hidden", false),
        "pin" => ("pinned", true),
        "unpin" => ("pinned", false),
        "lock" => ("locked", true),
        "unlock" => ("locked", false),
        _ => return None,
    })
}

/// What is wrong with a post: a thread needs a title, a reply has none; the text is
/// 1 to [`FORUM_BODY_MAX`] characters (markup is text, not a refusal).
pub fn forum_post_refusals(reply: bool, title: &str, body: &str) -> Vec<(&'static str, Reason)> {
    let mut refused = Vec::new();
    if !reply && !(1..=FORUM_TITLE_MAX).contains(&title.chars().count()) {
        refused.push(("title", Reason::length(1, FORUM_TITLE_MAX)));
    }
    if !(1..=FORUM_BODY_MAX).contains(&body.chars().count()) {
        refused.push(("body", Reason::length(1, FORUM_BODY_MAX)));
    }
    refused
}

/// A reply goes to a thread shown and open: `thread` is its (hidden, locked) flags, None
/// when the centre has no such thread.
pub fn may_reply(thread: Option<(bool, bool)>) -> Result<(), Error> {
    match thread {
        Some((false, false)) => Ok(()),
        Some((false, true)) => Err(Error::State(Reason::new(
            "forum.locked",
            "the thread is locked; no more replies",
        ))),
        _ => Err(Error::NotFound("thread")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forum_post_needs_a_title_only_to_open_a_thread_and_keeps_to_its_length() {
        assert!(forum_post_refusals(false, "广场舞音量", "<b>请小声</b>").is_empty());
        assert!(forum_post_refusals(true, "", "同意").is_empty());
        let fields =
            |r: Vec<(&'static str, Reason)>| r.into_iter().map(|(f, _)| f).collect::<Vec<_>>();
        assert_eq!(fields(forum_post_refusals(false, "", "x")), ["title"]);
        let long = "吵".repeat(FORUM_BODY_MAX + 1);
        assert_eq!(fields(forum_post_refusals(true, "", &long)), ["body"]);
        assert_eq!(moderation("lock"), Some(("locked", true)));
        assert_eq!(moderation("restore"), Some(("hidden", false)));
        assert_eq!(moderation("delete"), None);
    }

    #[test]
    fn a_reply_goes_only_to_a_shown_open_thread() {
        assert!(may_reply(Some((false, false))).is_ok());
        assert!(matches!(
            may_reply(Some((false, true))),
            Err(Error::State(r)) if r.code == "forum.locked"
        ));
        assert!(matches!(
            may_reply(Some((true, false))),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(may_reply(None), Err(Error::NotFound(_))));
    }
}
