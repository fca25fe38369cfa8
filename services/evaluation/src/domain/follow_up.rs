//! Follow-ups (回访) and inspections (巡查): what each may record, and a follow-up decided
//! once.

use chrono::NaiveDate;
use linli_platform::error::{Error, Reason, Violations};

pub const REASON_MAX: usize = 500;
pub const OUTCOME_MAX: usize = 2000;
pub const OUTCOMES: [&str; 2] = ["done", "unreachable"];
pub const INSPECTOR_MAX: usize = 100;
pub const INSPECTION_ITEMS_MAX: usize = 100;
pub const INSPECTION_ITEM_MAX: usize = 200;

/// A new follow-up's reason (trimmed, 1 to [`REASON_MAX`]) and the day it is due.
pub fn new_follow_up(
    reason: &str,
    due_on: &str,
    v: &mut Violations,
) -> (String, Option<NaiveDate>) {
    if reason.trim().is_empty() || reason.chars().count() > REASON_MAX {
        v.push("reason", Reason::length(1, REASON_MAX));
    }
    let due = NaiveDate::parse_from_str(due_on, "%Y-%m-%d")
        .map_err(|_| v.push("due_on", Reason::date()))
        .ok();
    (reason.trim().to_owned(), due)
}

/// How a follow-up ends: done or unreachable, with an outcome of bounded length.
pub fn outcome(status: &str, outcome: &str) -> Result<(), Violations> {
    if !OUTCOMES.contains(&status) {
        return Err(Violations::one(
            "status",
            Reason::new("one_of", "must be done or unreachable"),
        ));
    }
    if outcome.chars().count() > OUTCOME_MAX {
        return Err(Violations::one("outcome", Reason::too_long(OUTCOME_MAX)));
    }
    Ok(())
}

/// A follow-up is decided once: asking again for what it became is answered as it is;
/// asking for the other outcome is refused.
pub fn decided_once(changed: bool, current: &str, asked: &str) -> Result<(), Error> {
    if changed || current == asked {
        return Ok(());
    }
    Err(Error::State(
        Reason::new(
            "follow_up.already_decided",
            format!("the follow-up is already {current}"),
        )
        .with("status", current),
    ))
}

/// One checklist item of an inspection as recorded.
pub struct InspectionItem<'a> {
    pub item: &'a str,
    pub score: i32,
}

/// An inspection: its inspector (1 to [`INSPECTOR_MAX`]), its day, and 1 to
/// [`INSPECTION_ITEMS_MAX`] items each named and scored 0 to 10.
pub fn inspection(
    inspector: &str,
    inspected_on: &str,
    items: &[InspectionItem<'_>],
) -> Result<NaiveDate, Violations> {
    let mut v = Violations::default();
    if inspector.trim().is_empty() || inspector.chars().count() > INSPECTOR_MAX {
        v.push("inspector", Reason::length(1, INSPECTOR_MAX));
    }
    let day = NaiveDate::parse_from_str(inspected_on, "%Y-%m-%d")
        .map_err(|_| v.push("inspected_on", Reason::date()))
        .ok();
    if items.is_empty() || items.len() > INSPECTION_ITEMS_MAX {
        v.push(
            "items",
            Reason::new("count", "an inspection needs 1 to 100 checklist items")
                .with("min", 1)
                .with("max", INSPECTION_ITEMS_MAX),
        );
    }
    for (n, item) in items.iter().enumerate() {
        if item.item.trim().is_empty() || item.item.chars().count() > INSPECTION_ITEM_MAX {
            v.push(
                format!("items[{n}].item"),
                Reason::length(1, INSPECTION_ITEM_MAX),
            );
        }
        if !(0..=10).contains(&item.score) {
            v.push(
                format!("items[{n}].score"),
                Reason::new("out_of_range", "must be 0 to 10")
                    .with("min", 0)
                    .with("max", 10),
            );
        }
    }
    match (day, v.is_empty()) {
        (Some(day), true) => Ok(day),
        _ => Err(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_follow_up_is_decided_once() {
        assert!(outcome("done", "已回访").is_ok());
        assert_eq!(outcome("maybe", "").unwrap_err().0[0].field, "status");
        assert!(decided_once(true, "done", "done").is_ok());
        assert!(
            decided_once(false, "done", "done").is_ok(),
            "asked again: as it is"
        );
        assert!(matches!(
            decided_once(false, "done", "unreachable"),
            Err(Error::State(r)) if r.code == "follow_up.already_decided"
        ));
        let mut v = Violations::default();
        let (reason, due) = new_follow_up(" 跌倒后回访 ", "2027-03-01", &mut v);
        assert_eq!((reason.as_str(), v.is_empty()), ("跌倒后回访", true));
        assert!(due.is_some());
        new_follow_up("", "next week", &mut v);
        let fields: Vec<&str> = v.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["reason", "due_on"]);
    }

    #[test]
    fn an_inspection_names_its_inspector_day_and_scored_items() {
        let ok = [InspectionItem {
            item: "消防通道畅通",
            score: 9,
        }];
        assert!(inspection("李", "2027-03-01", &ok).is_ok());
        let bad = [InspectionItem {
            item: " ",
            score: 11,
        }];
        let fields: Vec<String> = (inspection("", "03/01", &bad).unwrap_err().0.into_iter())
            .map(|f| f.field)
            .collect();
        assert_eq!(
            fields,
            [
                "inspector",
                "inspected_on",
                "items[0].item",
                "items[0].score"
            ]
        );
        assert_eq!(
            inspection("李", "2027-03-01", &[]).unwrap_err().0[0].field,
            "items"
        );
    }
}
