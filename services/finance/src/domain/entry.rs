//! A journal entry that cannot be built unbalanced: at least two lines, each a debit or a
//! credit of a positive amount, debits equal to credits. The database checks the same at
//! commit; this check names the field for the caller first.

use chrono::NaiveDate;
use linli_platform::error::Violations;
use linli_platform::error::{Reason, Refusal};
use uuid::Uuid;

use super::money::Currency;

/// What caused an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Manual,
    Expense,
    Grant,
    Donation,
    Partnership,
    Fee,
    Refund,
    Reversal,
    /// Money that arrived for a fee (issue 24).
    Payment,
    /// A payment given back.
    PaymentRefund,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Manual => "manual",
            Source::Expense => "expense",
            Source::Grant => "grant",
            Source::Donation => "donation",
            Source::Partnership => "partnership",
            Source::Fee => "fee",
            Source::Refund => "refund",
            Source::Reversal => "reversal",
            Source::Payment => "payment",
            Source::PaymentRefund => "payment_refund",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryLine {
    pub account_code: String,
    pub debit_minor: i64,
    pub credit_minor: i64,
}

impl EntryLine {
    pub fn debit(account: &str, minor: i64) -> EntryLine {
        EntryLine {
            account_code: account.to_owned(),
            debit_minor: minor,
            credit_minor: 0,
        }
    }

    pub fn credit(account: &str, minor: i64) -> EntryLine {
        EntryLine {
            account_code: account.to_owned(),
            debit_minor: 0,
            credit_minor: minor,
        }
    }

    /// The same amount on the other side.
    pub fn mirrored(&self) -> EntryLine {
        EntryLine {
            account_code: self.account_code.clone(),
            debit_minor: self.credit_minor,
            credit_minor: self.debit_minor,
        }
    }
}

/// An entry ready to post.
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub entry_date: NaiveDate,
    pub description: String,
    pub source: Source,
    pub source_ref: Option<String>,
    pub reverses: Option<Uuid>,
    pub currency: Currency,
    pub lines: Vec<EntryLine>,
}

const DESCRIPTION_LIMIT: usize = 500;

impl NewEntry {
    /// Checks the lines balance and the description is sensible.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        centre_id: Uuid,
        entry_date: NaiveDate,
        description: &str,
        source: Source,
        source_ref: Option<String>,
        currency: Currency,
        lines: Vec<EntryLine>,
    ) -> Result<NewEntry, Violations> {
        let mut violations = Violations::default();
        let description = description.trim();
        if description.is_empty() {
            violations.push("description", Reason::required());
        } else if description.chars().count() > DESCRIPTION_LIMIT {
            violations.push("description", Reason::too_long(500));
        }
        if lines.len() < 2 {
            violations.push(
                "lines",
                Reason::new("entry.two_lines", "an entry needs at least two lines"),
            );
        }
        let (mut debits, mut credits) = (0i128, 0i128);
        for (i, line) in lines.iter().enumerate() {
            if line.account_code.trim().is_empty() {
                violations.push(format!("lines[{i}].account_code"), Reason::required());
            }
            if line.debit_minor < 0 || line.credit_minor < 0 {
                violations.push(
                    format!("lines[{i}]"),
                    Reason::new("negative", "amounts are never negative"),
                );
            } else if (line.debit_minor > 0) == (line.credit_minor > 0) {
                violations.push(
                    format!("lines[{i}]"),
                    Reason::new(
                        "entry.line_side",
                        "exactly one of debit_minor and credit_minor must be positive",
                    ),
                );
            }
            debits += i128::from(line.debit_minor);
            credits += i128::from(line.credit_minor);
        }
        if lines.len() >= 2 && debits != credits {
            violations.push(
                "lines",
                Reason::new(
                    "entry.unbalanced",
                    format!("debits ({debits}) must equal credits ({credits})"),
                ),
            );
        }
        violations.into_result(|| NewEntry {
            id: Uuid::new_v4(),
            centre_id,
            entry_date,
            description: description.to_owned(),
            source,
            source_ref,
            reverses: None,
            currency,
            lines,
        })
    }

    /// The entry that undoes `original` exactly, dated `entry_date`; see [`may_reverse`].
    pub fn reversal_of(
        original_id: Uuid,
        centre_id: Uuid,
        currency: Currency,
        original_lines: &[EntryLine],
        entry_date: NaiveDate,
        reason: &str,
    ) -> Result<NewEntry, Violations> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Violations::one(
                "reason",
                Reason::new("required", "say why the entry is reversed"),
            ));
        }
        let mut entry = NewEntry::new(
            centre_id,
            entry_date,
            &format!("Reversal of {original_id}: {reason}"),
            Source::Reversal,
            None,
            currency,
            original_lines.iter().map(EntryLine::mirrored).collect(),
        )?;
        entry.reverses = Some(original_id);
        Ok(entry)
    }

    pub fn total_minor(&self) -> i64 {
        self.lines.iter().map(|l| l.debit_minor).sum()
    }
}

/// Whether an entry may be reversed: not when it is itself a reversal (`reverses`), nor
/// once reversed (`reversed_by`).
pub fn may_reverse(reverses: Option<Uuid>, reversed_by: Option<Uuid>) -> Result<(), Refusal> {
    if reverses.is_some() {
        return Err(Refusal::State(Reason::new(
            "entry.reversal_of_reversal",
            "a reversal cannot itself be reversed; post a new entry instead",
        )));
    }
    if reversed_by.is_some() {
        return Err(already_reversed());
    }
    Ok(())
}

/// An entry is reversed once (the ledger's unique index says so too).
pub fn already_reversed() -> Refusal {
    Refusal::State(Reason::new(
        "entry.already_reversed",
        "the entry has already been reversed",
    ))
}

/// The ledger's triggers refuse a posting into a closed month with words that name it
/// ("the period 2026-11 is closed"): the refusal, the month as its parameter.
pub fn period_closed(words: &str) -> Refusal {
    let month = words
        .split_whitespace()
        .find(|word| word.len() == 7 && word.as_bytes()[4] == b'-')
        .unwrap_or_default()
        .to_owned();
    Refusal::State(Reason::new("period.closed", words).with("period", month))
}

/// Any other refusal of the ledger's triggers (an unbalanced entry, a change to what is
/// posted), in their words.
pub fn ledger_refused(words: &str) -> Refusal {
    Refusal::State(Reason::new(
        "ledger.refused",
        format!("the ledger refused the change: {words}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reversal_is_not_reversed_and_an_entry_is_reversed_once() {
        let id = Some(Uuid::new_v4());
        assert_eq!(may_reverse(None, None), Ok(()));
        let code = |refused: Result<(), Refusal>| match refused {
            Err(Refusal::State(reason)) => reason.code.into_owned(),
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(code(may_reverse(id, None)), "entry.reversal_of_reversal");
        assert_eq!(code(may_reverse(None, id)), "entry.already_reversed");
    }

    #[test]
    fn a_closed_period_is_named_from_the_ledgers_words() {
        let Refusal::State(reason) = period_closed("the period 2026-11 is closed") else {
            panic!("a state refusal");
        };
        assert_eq!(reason.code, "period.closed");
        assert_eq!(reason.param("period"), Some("2026-11"));
        assert_eq!(reason.english, "the period 2026-11 is closed");
    }

    fn cny() -> Currency {
        Currency::parse("currency", "").unwrap()
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
    }

    fn entry(lines: Vec<EntryLine>) -> Result<NewEntry, Violations> {
        NewEntry::new(
            Uuid::nil(),
            day(),
            "test",
            Source::Manual,
            None,
            cny(),
            lines,
        )
    }

    #[test]
    fn a_balanced_entry_is_built() {
        let built = entry(vec![
            EntryLine::debit("1002", 500),
            EntryLine::credit("4003", 500),
        ])
        .unwrap();
        assert_eq!(built.total_minor(), 500);
    }

    #[test]
    fn an_unbalanced_entry_is_refused_naming_the_lines() {
        let refused = entry(vec![
            EntryLine::debit("1002", 500),
            EntryLine::credit("4003", 499),
        ])
        .unwrap_err();
        assert_eq!(refused.0[0].field, "lines");
    }

    #[test]
    fn a_single_line_or_a_two_sided_line_is_refused() {
        assert!(entry(vec![EntryLine::debit("1002", 500)]).is_err());
        let two_sided = EntryLine {
            account_code: "1002".into(),
            debit_minor: 5,
            credit_minor: 5,
        };
        let refused = entry(vec![two_sided.clone(), two_sided]).unwrap_err();
        assert_eq!(refused.0[0].field, "lines[0]");
    }

    #[test]
    fn huge_amounts_do_not_overflow_the_balance_check() {
        let lines = vec![
            EntryLine::debit("1002", i64::MAX),
            EntryLine::debit("1001", i64::MAX),
            EntryLine::credit("4003", 1),
        ];
        assert!(entry(lines).is_err());
    }

    #[test]
    fn a_reversal_mirrors_every_line_and_points_at_the_original() {
        let original = vec![
            EntryLine::debit("5001", 700),
            EntryLine::credit("1002", 700),
        ];
        let id = Uuid::new_v4();
        let reversal =
            NewEntry::reversal_of(id, Uuid::nil(), cny(), &original, day(), "typo").unwrap();
        assert_eq!(reversal.reverses, Some(id));
        assert_eq!(
            reversal.lines,
            [
                EntryLine::credit("5001", 700),
                EntryLine::debit("1002", 700)
            ]
        );
        assert!(NewEntry::reversal_of(id, Uuid::nil(), cny(), &original, day(), " ").is_err());
    }
}
