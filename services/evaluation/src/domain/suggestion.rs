//! The suggestion box's rules: what a suggestion may say and by which channel, and its
//! status flow (received, in progress, answered with a reply, closed).

use linli_platform::error::{Reason, Violations};

pub const CHANNELS: [&str; 4] = ["box", "phone", "online", "in_person"];
pub const STATUSES: [&str; 4] = ["received", "in_progress", "answered", "closed"];
pub const TEXT_MAX: usize = 2000;

/// A suggestion's text, trimmed: 1 to [`TEXT_MAX`] characters.
pub fn text(text: &str, v: &mut Violations) -> String {
    if text.trim().is_empty() || text.chars().count() > TEXT_MAX {
        v.push("text", Reason::length(1, TEXT_MAX));
    }
    text.trim().to_owned()
}

/// The channel a suggestion came by (the box when not said).
pub fn channel(channel: &str, v: &mut Violations) -> String {
    let channel = if channel.is_empty() { "box" } else { channel };
    if !CHANNELS.contains(&channel) {
        v.push(
            "channel",
            Reason::new("one_of", "must be box, phone, online or in_person"),
        );
    }
    channel.to_owned()
}

/// What a move asks for: a known status, and for an answer its reply (the reply kept
/// only with an answer, trimmed).
pub fn asked_move<'a>(to: &str, reply: &'a str) -> Result<Option<&'a str>, Violations> {
    if !STATUSES.contains(&to) {
        return Err(Violations::one(
            "status",
            Reason::new("one_of", "must be in_progress, answered or closed"),
        ));
    }
    if to == "answered" && reply.trim().is_empty() {
        return Err(Violations::one(
            "reply",
            Reason::new("suggestion.reply_required", "an answer needs a reply"),
        ));
    }
    if reply.chars().count() > TEXT_MAX {
        return Err(Violations::one("reply", Reason::too_long(TEXT_MAX)));
    }
    Ok((to == "answered").then_some(reply.trim()))
}

/// The suggestion box's flow: the next status is the only one allowed.
pub fn suggestion_move(from: &str, to: &str) -> Result<(), Reason> {
    let next = match from {
        "received" => "in_progress",
        "in_progress" => "answered",
        "answered" => "closed",
        "closed" => {
            return Err(Reason::new(
                "suggestion.closed",
                "the suggestion is closed; nothing follows",
            ));
        }
        other => {
            return Err(Reason::new(
                "suggestion.unknown_status",
                format!("unknown status {other}"),
            )
            .with("status", other));
        }
    };
    if to == next {
        Ok(())
    } else {
        Err(Reason::new(
            "suggestion.out_of_order",
            format!("a suggestion goes from {from} to {next}, not to {to}"),
        )
        .with("from", from)
        .with("next", next)
        .with("to", to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_only_move_forward_one_step() {
        assert!(suggestion_move("received", "in_progress").is_ok());
        assert!(suggestion_move("in_progress", "answered").is_ok());
        assert!(suggestion_move("answered", "closed").is_ok());
        assert!(
            suggestion_move("received", "closed")
                .unwrap_err()
                .english
                .contains("in_progress")
        );
        assert!(suggestion_move("closed", "received").is_err());
    }

    #[test]
    fn a_move_names_a_status_and_an_answer_its_reply() {
        assert_eq!(asked_move("answered", " 已修好 "), Ok(Some("已修好")));
        assert_eq!(asked_move("closed", "ignored"), Ok(None));
        assert_eq!(asked_move("answered", " ").unwrap_err().0[0].field, "reply");
        assert_eq!(asked_move("lost", "").unwrap_err().0[0].field, "status");
        let mut v = Violations::default();
        assert_eq!(channel("", &mut v), "box");
        assert_eq!(text(" 路灯坏了 ", &mut v), "路灯坏了");
        assert!(v.is_empty());
        channel("fax", &mut v);
        text(" ", &mut v);
        let fields: Vec<&str> = v.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["channel", "text"]);
    }
}
