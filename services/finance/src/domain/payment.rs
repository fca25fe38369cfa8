//! Money that arrives for a fee charged to receivables, and money given back (issue 24):
//! which account it lands in, what a payment or a refund of one may be, and the balanced
//! entry each posts. No I/O: the store reads the charge (or the payment) under its lock,
//! asks here, and writes what this decides.

use chrono::NaiveDate;
use linli_platform::error::{Reason, Refusal, Violations};
use uuid::Uuid;

use super::chart::{BANK, CASH, RECEIVABLES};
use super::entry::{EntryLine, NewEntry, Source};
use super::money::Currency;

/// The longest payer's reference kept, in characters.
pub const REFERENCE_MAX: usize = 100;
/// The longest reason for giving money back, in characters.
pub const REASON_MAX: usize = 500;

/// How the payer paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Cash,
    BankTransfer,
    WechatPay,
    Alipay,
}

impl Method {
    pub const ALL: [Method; 4] = [
        Method::Cash,
        Method::BankTransfer,
        Method::WechatPay,
        Method::Alipay,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Cash => "cash",
            Method::BankTransfer => "bank_transfer",
            Method::WechatPay => "wechat_pay",
            Method::Alipay => "alipay",
        }
    }

    pub fn parse(field: &'static str, text: &str) -> Result<Method, Violations> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == text.trim())
            .ok_or_else(|| {
                Violations::one(
                    field,
                    Reason::one_of(&["cash", "bank_transfer", "wechat_pay", "alipay"]),
                )
            })
    }

    /// Where the money lands: the till for cash; the bank for a transfer, and for WeChat
    /// Pay and Alipay, which settle to the centre's bank account.
    pub fn account(self) -> &'static str {
        match self {
            Method::Cash => CASH,
            Method::BankTransfer | Method::WechatPay | Method::Alipay => BANK,
        }
    }
}

/// A fee charged to receivables, as paying it needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Charge {
    pub amount_minor: i64,
    /// Given back by bookings (a cancellation).
    pub refunded_minor: i64,
    /// Paid, net of payments given back.
    pub paid_minor: i64,
}

impl Charge {
    /// What is still to pay; below zero when the centre owes the payer.
    pub fn outstanding_minor(&self) -> i64 {
        self.amount_minor - self.refunded_minor - self.paid_minor
    }
}

/// A payment as the desk typed it.
#[derive(Clone, Debug)]
pub struct PaymentAsked<'a> {
    pub amount_minor: i64,
    pub method: Method,
    pub reference: &'a str,
    pub received_on: NaiveDate,
}

/// Checks a payment of `charge`: a positive amount no more than is outstanding
/// (`payment.exceeds_outstanding`, with what is), and a reference for every method but
/// cash. Answers the reference as kept (trimmed) and the balanced entry: the money into
/// cash or bank, out of receivables.
pub fn pay(
    centre: Uuid,
    charge_id: &str,
    charge: &Charge,
    asked: &PaymentAsked<'_>,
    currency: Currency,
) -> Result<(String, NewEntry), Refusal> {
    if asked.amount_minor <= 0 {
        return Err(Refusal::Invalid {
            field: "amount_minor",
            reason: Reason::positive(),
        });
    }
    let reference = asked.reference.trim();
    if reference.chars().count() > REFERENCE_MAX {
        return Err(Refusal::Invalid {
            field: "reference",
            reason: Reason::too_long(REFERENCE_MAX),
        });
    }
    if reference.is_empty() && asked.method != Method::Cash {
        return Err(Refusal::Invalid {
            field: "reference",
            reason: Reason::new(
                "payment.reference_required",
                "is required for a bank transfer, WeChat Pay or Alipay",
            ),
        });
    }
    let outstanding = charge.outstanding_minor();
    if asked.amount_minor > outstanding {
        return Err(Refusal::State(
            Reason::new(
                "payment.exceeds_outstanding",
                format!("is more than the {outstanding} minor units outstanding on the fee"),
            )
            .with("outstanding_minor", outstanding.max(0)),
        ));
    }
    let entry = NewEntry::new(
        centre,
        asked.received_on,
        &format!("Payment of the fee {charge_id} ({})", asked.method.as_str()),
        Source::Payment,
        None,
        currency,
        vec![
            EntryLine::debit(asked.method.account(), asked.amount_minor),
            EntryLine::credit(RECEIVABLES, asked.amount_minor),
        ],
    )
    .map_err(first_violation)?;
    Ok((reference.to_owned(), entry))
}

/// A payment as giving (part of) it back needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paid {
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub method: Method,
}

/// Checks a refund of `paid`: `amount_minor` 0 means all that is left; never more than
/// is left (`payment.refund_exceeds_payment`), with a reason. Answers the amount, the
/// reason as kept, and the entry that takes the way back: out of cash or bank, into
/// receivables again.
pub fn refund(
    centre: Uuid,
    payment: Uuid,
    paid: &Paid,
    amount_minor: i64,
    reason: &str,
    refunded_on: NaiveDate,
    currency: Currency,
) -> Result<(i64, String, NewEntry), Refusal> {
    let left = paid.amount_minor - paid.refunded_minor;
    let amount = if amount_minor == 0 {
        left
    } else {
        amount_minor
    };
    if amount_minor < 0 {
        return Err(Refusal::Invalid {
            field: "amount_minor",
            reason: Reason::not_negative(),
        });
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Refusal::Invalid {
            field: "reason",
            reason: Reason::new("required", "say why the money is given back"),
        });
    }
    if reason.chars().count() > REASON_MAX {
        return Err(Refusal::Invalid {
            field: "reason",
            reason: Reason::too_long(REASON_MAX),
        });
    }
    if amount <= 0 || amount > left {
        return Err(Refusal::State(
            Reason::new(
                "payment.refund_exceeds_payment",
                format!("is more than the {left} minor units left of the payment"),
            )
            .with("left_minor", left),
        ));
    }
    let entry = NewEntry::new(
        centre,
        refunded_on,
        &format!("Refund of the payment {payment}"),
        Source::PaymentRefund,
        None,
        currency,
        vec![
            EntryLine::debit(RECEIVABLES, amount),
            EntryLine::credit(paid.method.account(), amount),
        ],
    )
    .map_err(first_violation)?;
    Ok((amount, reason.to_owned(), entry))
}

/// An entry built from checked values (a positive amount, two lines of it) never fails
/// its own checks; were it to, the amount is what to look at.
fn first_violation(_: Violations) -> Refusal {
    Refusal::Invalid {
        field: "amount_minor",
        reason: Reason::positive(),
    }
}

/// A receipt number as printed: P, the year, and the number of six digits.
pub fn receipt(year: i32, number: i32) -> String {
    format!("P{year}-{number:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 5).expect("date")
    }

    fn charge() -> Charge {
        Charge {
            amount_minor: 3000,
            refunded_minor: 0,
            paid_minor: 1000,
        }
    }

    fn asked(amount_minor: i64, method: Method, reference: &str) -> PaymentAsked<'_> {
        PaymentAsked {
            amount_minor,
            method,
            reference,
            received_on: day(),
        }
    }

    #[test]
    fn a_payment_moves_money_from_receivables_to_cash_or_bank() {
        let cny = || Currency::parse("currency", "").expect("CNY");
        let (reference, entry) = pay(
            Uuid::nil(),
            "c1",
            &charge(),
            &asked(2000, Method::WechatPay, " 4200001234 "),
            cny(),
        )
        .expect("paid");
        assert_eq!(reference, "4200001234");
        assert_eq!(
            entry.lines,
            [
                EntryLine::debit(BANK, 2000),
                EntryLine::credit(RECEIVABLES, 2000)
            ]
        );
        let (_, cash) = pay(
            Uuid::nil(),
            "c1",
            &charge(),
            &asked(500, Method::Cash, ""),
            cny(),
        )
        .expect("paid");
        assert_eq!(cash.lines[0], EntryLine::debit(CASH, 500));
    }

    #[test]
    fn more_than_is_outstanding_is_refused_saying_what_is() {
        let refused = pay(
            Uuid::nil(),
            "c1",
            &charge(),
            &asked(2001, Method::Cash, ""),
            Currency::parse("currency", "").expect("CNY"),
        )
        .expect_err("overpaid");
        let Refusal::State(reason) = refused else {
            panic!("{refused:?}")
        };
        assert_eq!(reason.code, "payment.exceeds_outstanding");
        assert_eq!(reason.param("outstanding_minor"), Some("2000"));
    }

    #[test]
    fn a_reference_is_required_except_for_cash() {
        let refused = pay(
            Uuid::nil(),
            "c1",
            &charge(),
            &asked(100, Method::Alipay, "  "),
            Currency::parse("currency", "").expect("CNY"),
        );
        assert!(matches!(
            refused,
            Err(Refusal::Invalid {
                field: "reference",
                ..
            })
        ));
    }

    #[test]
    fn a_refund_goes_back_the_way_it_came_and_never_beyond_the_payment() {
        let paid = Paid {
            amount_minor: 2000,
            refunded_minor: 500,
            method: Method::BankTransfer,
        };
        let cny = || Currency::parse("currency", "").expect("CNY");
        let (amount, _, entry) =
            refund(Uuid::nil(), Uuid::nil(), &paid, 0, "退课", day(), cny()).expect("refunded");
        assert_eq!(amount, 1500);
        assert_eq!(
            entry.lines,
            [
                EntryLine::debit(RECEIVABLES, 1500),
                EntryLine::credit(BANK, 1500)
            ]
        );
        assert!(refund(Uuid::nil(), Uuid::nil(), &paid, 1501, "退课", day(), cny()).is_err());
        assert!(refund(Uuid::nil(), Uuid::nil(), &paid, 100, " ", day(), cny()).is_err());
    }
}
