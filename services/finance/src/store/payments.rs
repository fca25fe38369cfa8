//! Payments of fees charged to receivables, and refunds of them (issue 24): each write
//! locks the charge (and the payment) it changes, asks the domain, and in one transaction
//! posts the entry, keeps the payment with its receipt number, moves what is paid on the
//! charge, records the event in the outbox and appends to the audit trail.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use linli_platform::bus::enqueue;
use linli_proto::events::v1 as events;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::Currency;
use crate::domain::payment::{self, Charge, Method, Paid, PaymentAsked};
use crate::error::Error;

use super::{Actor, audit, post};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: Uuid,
    pub centre_id: Uuid,
    pub charge_id: String,
    pub booking_id: String,
    pub resident_id: Option<Uuid>,
    pub amount_minor: i64,
    pub currency: String,
    pub method: String,
    pub reference: String,
    pub received_on: NaiveDate,
    pub receipt_year: i32,
    pub receipt_number: i32,
    pub entry_id: Uuid,
    pub refunded_minor: i64,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PaymentRefundRow {
    pub id: Uuid,
    pub amount_minor: i64,
    pub reason: String,
    pub refunded_on: NaiveDate,
    pub entry_id: Uuid,
}

/// A payment and what was given back of it, oldest refund first.
pub struct PaymentView {
    pub payment: PaymentRow,
    pub refunds: Vec<PaymentRefundRow>,
}

macro_rules! payment_columns {
    () => {
        "p.id, p.centre_id, p.charge_id, f.booking_id, p.resident_id, p.amount_minor, p.currency,
         p.method, p.reference, p.received_on, p.receipt_year, p.receipt_number, p.entry_id,
         p.refunded_minor, p.recorded_at"
    };
}

#[derive(sqlx::FromRow)]
struct LockedCharge {
    booking_id: String,
    resident_id: Option<Uuid>,
    amount_minor: i64,
    refunded_minor: i64,
    paid_minor: i64,
    currency: String,
}

impl LockedCharge {
    fn charge(&self) -> Charge {
        Charge {
            amount_minor: self.amount_minor,
            refunded_minor: self.refunded_minor,
            paid_minor: self.paid_minor,
        }
    }
}

async fn lock_charge(
    tx: &mut PgConnection,
    centre: Uuid,
    charge_id: &str,
) -> Result<LockedCharge, Error> {
    sqlx::query_as(
        "SELECT booking_id, resident_id, amount_minor, refunded_minor, paid_minor, currency
         FROM fee_charges WHERE centre_id = $1 AND charge_id = $2 FOR UPDATE",
    )
    .bind(centre)
    .bind(charge_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("fee charge"))
}

fn currency(text: &str) -> Result<Currency, Error> {
    Ok(Currency::parse("currency", text)?)
}

/// Records a payment of `charge_id`: refused when it is more than is outstanding, or
/// without a reference for a method other than cash.
pub async fn record_payment(
    tx: &mut PgConnection,
    centre: Uuid,
    charge_id: &str,
    asked: &PaymentAsked<'_>,
    actor: &Actor,
) -> Result<PaymentView, Error> {
    let charge = lock_charge(tx, centre, charge_id).await?;
    let (reference, entry) = payment::pay(
        centre,
        charge_id,
        &charge.charge(),
        asked,
        currency(&charge.currency)?,
    )?;
    let posted = post(tx, &entry, actor).await?;
    let year = asked.received_on.year();
    let number: i32 = sqlx::query_scalar(
        "INSERT INTO payment_receipt_counters (centre_id, year, last_number) VALUES ($1, $2, 1)
         ON CONFLICT (centre_id, year)
         DO UPDATE SET last_number = payment_receipt_counters.last_number + 1
         RETURNING last_number",
    )
    .bind(centre)
    .bind(year)
    .fetch_one(&mut *tx)
    .await?;
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO payments (id, centre_id, charge_id, resident_id, amount_minor, currency,
             method, reference, received_on, receipt_year, receipt_number, entry_id, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(id)
    .bind(centre)
    .bind(charge_id)
    .bind(charge.resident_id)
    .bind(asked.amount_minor)
    .bind(&charge.currency)
    .bind(asked.method.as_str())
    .bind(&reference)
    .bind(asked.received_on)
    .bind(year)
    .bind(number)
    .bind(posted.head.id)
    .bind(&actor.subject)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE fee_charges SET paid_minor = paid_minor + $2 WHERE charge_id = $1")
        .bind(charge_id)
        .bind(asked.amount_minor)
        .execute(&mut *tx)
        .await?;
    let outstanding = charge.charge().outstanding_minor() - asked.amount_minor;
    let receipt = payment::receipt(year, number);
    enqueue(
        tx,
        Some(centre),
        &events::PaymentReceived {
            payment_id: id.to_string(),
            centre_id: centre.to_string(),
            charge_id: charge_id.to_owned(),
            booking_id: charge.booking_id.clone(),
            resident_id: charge
                .resident_id
                .map(|r| r.to_string())
                .unwrap_or_default(),
            amount_minor: asked.amount_minor,
            currency: charge.currency.clone(),
            method: asked.method.as_str().to_owned(),
            receipt: receipt.clone(),
            received_on: asked.received_on.to_string(),
            entry_id: posted.head.id.to_string(),
            outstanding_minor: outstanding,
        },
    )
    .await?;
    audit(
        tx,
        actor,
        "payment.received",
        Some(centre),
        &id.to_string(),
        serde_json::json!({
            "receipt": receipt,
            "charge_id": charge_id,
            "amount_minor": asked.amount_minor,
            "method": asked.method.as_str(),
            "entry_id": posted.head.id,
        }),
    )
    .await?;
    find_payment(tx, centre, id).await
}

/// Gives back `amount_minor` of a payment (0: all that is left), the way it came.
pub async fn refund_payment(
    tx: &mut PgConnection,
    centre: Uuid,
    payment_id: Uuid,
    amount_minor: i64,
    reason: &str,
    refunded_on: NaiveDate,
    actor: &Actor,
) -> Result<PaymentView, Error> {
    let paid: Option<(String, i64, i64, String)> = sqlx::query_as(
        "SELECT charge_id, amount_minor, refunded_minor, method FROM payments
         WHERE centre_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(centre)
    .bind(payment_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (charge_id, paid_minor, refunded_minor, method) = paid.ok_or(Error::NotFound("payment"))?;
    let charge = lock_charge(tx, centre, &charge_id).await?;
    let paid = Paid {
        amount_minor: paid_minor,
        refunded_minor,
        method: Method::parse("method", &method)?,
    };
    let (amount, reason, entry) = payment::refund(
        centre,
        payment_id,
        &paid,
        amount_minor,
        reason,
        refunded_on,
        currency(&charge.currency)?,
    )?;
    let posted = post(tx, &entry, actor).await?;
    let refund_id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO payment_refunds (id, payment_id, centre_id, amount_minor, reason, refunded_on,
             entry_id, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(refund_id)
    .bind(payment_id)
    .bind(centre)
    .bind(amount)
    .bind(&reason)
    .bind(refunded_on)
    .bind(posted.head.id)
    .bind(&actor.subject)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE payments SET refunded_minor = refunded_minor + $2 WHERE id = $1")
        .bind(payment_id)
        .bind(amount)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE fee_charges SET paid_minor = paid_minor - $2 WHERE charge_id = $1")
        .bind(&charge_id)
        .bind(amount)
        .execute(&mut *tx)
        .await?;
    enqueue(
        tx,
        Some(centre),
        &events::PaymentRefunded {
            refund_id: refund_id.to_string(),
            payment_id: payment_id.to_string(),
            centre_id: centre.to_string(),
            charge_id: charge_id.clone(),
            resident_id: charge
                .resident_id
                .map(|r| r.to_string())
                .unwrap_or_default(),
            amount_minor: amount,
            currency: charge.currency.clone(),
            refunded_on: refunded_on.to_string(),
            entry_id: posted.head.id.to_string(),
            outstanding_minor: charge.charge().outstanding_minor() + amount,
        },
    )
    .await?;
    audit(
        tx,
        actor,
        "payment.refunded",
        Some(centre),
        &payment_id.to_string(),
        serde_json::json!({
            "refund_id": refund_id,
            "charge_id": charge_id,
            "amount_minor": amount,
            "entry_id": posted.head.id,
        }),
    )
    .await?;
    find_payment(tx, centre, payment_id).await
}

/// One payment of the centre, with its refunds.
pub async fn find_payment(
    conn: &mut PgConnection,
    centre: Uuid,
    id: Uuid,
) -> Result<PaymentView, Error> {
    let payment: PaymentRow = sqlx::query_as(concat!(
        "SELECT ",
        payment_columns!(),
        " FROM payments p JOIN fee_charges f ON f.charge_id = p.charge_id
         WHERE p.centre_id = $1 AND p.id = $2"
    ))
    .bind(centre)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("payment"))?;
    let refunds = sqlx::query_as(
        "SELECT id, amount_minor, reason, refunded_on, entry_id FROM payment_refunds
         WHERE payment_id = $1 ORDER BY recorded_at, id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(PaymentView { payment, refunds })
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReceivableRow {
    pub charge_id: String,
    pub booking_id: String,
    pub resident_id: Option<Uuid>,
    pub currency: String,
    pub charged_on: NaiveDate,
    pub amount_minor: i64,
    pub refunded_minor: i64,
    pub paid_minor: i64,
    pub outstanding_minor: i64,
}

/// Which charges a list of receivables names.
#[derive(Clone, Copy, Debug)]
pub struct ReceivableFilter {
    pub centre: Uuid,
    pub resident: Option<Uuid>,
    pub include_settled: bool,
}

/// The charges `filter` names by charge date and id, after the keyset `after`, at most
/// `limit`.
pub async fn receivables(
    pool: &PgPool,
    filter: ReceivableFilter,
    after: Option<(NaiveDate, String)>,
    limit: i64,
) -> Result<Vec<ReceivableRow>, sqlx::Error> {
    let (after_date, after_id) = after.unzip();
    sqlx::query_as(
        "SELECT f.charge_id, f.booking_id, f.resident_id, f.currency, e.entry_date AS charged_on,
                f.amount_minor, f.refunded_minor, f.paid_minor,
                f.amount_minor - f.refunded_minor - f.paid_minor AS outstanding_minor
         FROM fee_charges f JOIN journal_entries e ON e.id = f.entry_id
         WHERE f.centre_id = $1 AND ($2::uuid IS NULL OR f.resident_id = $2)
           AND ($3 OR f.amount_minor - f.refunded_minor - f.paid_minor <> 0)
           AND ($4::date IS NULL OR (e.entry_date, f.charge_id) > ($4, $5))
         ORDER BY e.entry_date, f.charge_id LIMIT $6",
    )
    .bind(filter.centre)
    .bind(filter.resident)
    .bind(filter.include_settled)
    .bind(after_date)
    .bind(after_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// What is outstanding over every charge `filter` names.
pub async fn outstanding(pool: &PgPool, filter: ReceivableFilter) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT coalesce(sum(amount_minor - refunded_minor - paid_minor), 0)::bigint
         FROM fee_charges WHERE centre_id = $1 AND ($2::uuid IS NULL OR resident_id = $2)",
    )
    .bind(filter.centre)
    .bind(filter.resident)
    .fetch_one(pool)
    .await
}
