//! The suggestion box's status flow.

use linli_platform::error::Reason;

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
}
