//! The payments part of finance's gRPC surface (issue 24): RecordPayment, RefundPayment,
//! GetPayment and ListReceivables, each the caller's role and centre checked, the request
//! parsed, and one store call.

use chrono::NaiveDate;
use linli_platform::auth::{Access, caller, request_centre, scoped_centre};
use linli_platform::db::transaction;
use linli_platform::error::Violations;
use linli_platform::page::PageRequest;
use linli_platform::wire::parse_id;
use linli_proto::finance::v1 as pb;
use tonic::{Request, Status};
use uuid::Uuid;

use super::FinanceApi;
use crate::domain::calendar::parse_date_or;
use crate::domain::payment::{Method, PaymentAsked, receipt};
use crate::domain::{PAYMENT_TAKERS, RECEIVABLE_READERS, WRITERS};
use crate::error::Error;
use crate::store::payments::{self, PaymentView, ReceivableFilter, ReceivableRow};
use crate::store::{Actor, timestamp};

impl FinanceApi {
    pub(super) async fn payment_recorded(
        &self,
        request: Request<pb::RecordPaymentRequest>,
    ) -> Result<pb::Payment, Status> {
        let caller = caller(&request)?;
        let body = request.get_ref();
        let centre = scoped_centre(caller, &body.centre_id, Access::Write, PAYMENT_TAKERS)?;
        let mut violations = Violations::default();
        let charge_id = body.charge_id.trim();
        if charge_id.is_empty() {
            violations.push("charge_id", linli_platform::error::Reason::required());
        }
        let method = Method::parse("method", &body.method)
            .map_err(|v| violations.0.extend(v.0))
            .ok();
        let today = self.today(centre).await?;
        let received_on = parse_date_or("received_on", &body.received_on, today)
            .map_err(|v| violations.0.extend(v.0))
            .ok();
        let (Some(method), Some(received_on), true) = (method, received_on, violations.is_empty())
        else {
            return Err(violations.into());
        };
        let asked = PaymentAsked {
            amount_minor: body.amount_minor,
            method,
            reference: &body.reference,
            received_on,
        };
        let actor = Actor::current(&caller.subject);
        let _turn = self.turn().await;
        let view = transaction(&self.pool, async |tx| {
            payments::record_payment(tx, centre, charge_id, &asked, &actor).await
        })
        .await?;
        Ok(payment_to_pb(view))
    }

    pub(super) async fn payment_refunded(
        &self,
        request: Request<pb::RefundPaymentRequest>,
    ) -> Result<pb::Payment, Status> {
        let caller = caller(&request)?;
        let body = request.get_ref();
        let centre = scoped_centre(caller, &body.centre_id, Access::Write, WRITERS)?;
        let payment = parse_id("payment_id", &body.payment_id)?;
        let today = self.today(centre).await?;
        let refunded_on: NaiveDate = parse_date_or("refunded_on", &body.refunded_on, today)?;
        let actor = Actor::current(&caller.subject);
        let _turn = self.turn().await;
        let view = transaction(&self.pool, async |tx| {
            payments::refund_payment(
                tx,
                centre,
                payment,
                body.amount_minor,
                &body.reason,
                refunded_on,
                &actor,
            )
            .await
        })
        .await?;
        Ok(payment_to_pb(view))
    }

    pub(super) async fn payment(
        &self,
        request: Request<pb::GetPaymentRequest>,
    ) -> Result<pb::Payment, Status> {
        let body = request.get_ref();
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, RECEIVABLE_READERS)?;
        let id = parse_id("payment_id", &body.payment_id)?;
        let mut conn = self.pool.acquire().await.map_err(Error::from)?;
        Ok(payment_to_pb(
            payments::find_payment(&mut conn, centre, id).await?,
        ))
    }

    pub(super) async fn receivables(
        &self,
        request: Request<pb::ListReceivablesRequest>,
    ) -> Result<pb::ListReceivablesResponse, Status> {
        let body = request.get_ref();
        let centre = request_centre(&request, |r| &r.centre_id, Access::Read, RECEIVABLE_READERS)?;
        let resident: Option<Uuid> = if body.resident_id.trim().is_empty() {
            None
        } else {
            Some(parse_id("resident_id", &body.resident_id)?)
        };
        let page = PageRequest::<(NaiveDate, String)>::parse(
            "finance.receivables",
            body.page_size,
            &body.page_token,
        )?;
        let filter = ReceivableFilter {
            centre,
            resident,
            include_settled: body.include_settled,
        };
        let rows = payments::receivables(&self.pool, filter, page.after(), page.limit())
            .await
            .map_err(Error::from)?;
        let page = page.page(rows, |row| (row.charged_on, row.charge_id.clone()));
        let outstanding = payments::outstanding(&self.pool, filter)
            .await
            .map_err(Error::from)?;
        let (_, currency) = self.books(centre).await?;
        Ok(pb::ListReceivablesResponse {
            receivables: page.rows.into_iter().map(receivable_to_pb).collect(),
            outstanding_minor: outstanding,
            currency,
            next_page_token: page.next_page_token,
        })
    }
}

fn payment_to_pb(view: PaymentView) -> pb::Payment {
    let p = view.payment;
    pb::Payment {
        id: p.id.to_string(),
        centre_id: p.centre_id.to_string(),
        charge_id: p.charge_id,
        booking_id: p.booking_id,
        resident_id: p.resident_id.map(|r| r.to_string()).unwrap_or_default(),
        amount_minor: p.amount_minor,
        currency: p.currency,
        method: p.method,
        reference: p.reference,
        received_on: p.received_on.to_string(),
        receipt_year: p.receipt_year,
        receipt_number: p.receipt_number,
        receipt: receipt(p.receipt_year, p.receipt_number),
        entry_id: p.entry_id.to_string(),
        refunded_minor: p.refunded_minor,
        refunds: view
            .refunds
            .into_iter()
            .map(|r| pb::PaymentRefund {
                id: r.id.to_string(),
                amount_minor: r.amount_minor,
                reason: r.reason,
                refunded_on: r.refunded_on.to_string(),
                entry_id: r.entry_id.to_string(),
            })
            .collect(),
        recorded_at: Some(timestamp(p.recorded_at)),
    }
}

fn receivable_to_pb(r: ReceivableRow) -> pb::Receivable {
    pb::Receivable {
        charge_id: r.charge_id,
        booking_id: r.booking_id,
        resident_id: r.resident_id.map(|id| id.to_string()).unwrap_or_default(),
        currency: r.currency,
        charged_on: r.charged_on.to_string(),
        amount_minor: r.amount_minor,
        refunded_minor: r.refunded_minor,
        paid_minor: r.paid_minor,
        outstanding_minor: r.outstanding_minor,
    }
}
