//! Finance's payment routes (issue 24): what is owed (receivables, per centre and per
//! resident), a payment taken at the desk with its receipt, a refund of one, as JSON over
//! finance's gRPC.

use axum::Router;
use linli_proto::finance::v1 as pb;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::{AppState, call, forward};

pub fn routes() -> Router<AppState> {
    forwarded()
}

/// A payment as the desk records it.
#[derive(Deserialize, ToSchema)]
pub struct NewPayment {
    /// The fee charge paid (see the receivables).
    pub charge_id: Option<String>,
    pub amount_minor: Option<i64>,
    /// `cash`, `bank_transfer`, `wechat_pay` or `alipay`.
    #[schema(example = "wechat_pay")]
    pub method: Option<String>,
    /// Required except for cash: the transaction number the payer's app or bank shows.
    #[schema(example = "4200001234202612050001")]
    pub reference: Option<String>,
    /// Default: today.
    pub received_on: Option<String>,
}

/// A payment given back, the way it came.
#[derive(Deserialize, ToSchema)]
pub struct PaymentRefundBody {
    /// Omitted or 0: everything not yet given back.
    pub amount_minor: Option<i64>,
    #[schema(example = "活动取消，退还费用")]
    pub reason: Option<String>,
    /// Default: today.
    pub refunded_on: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceivableQuery {
    /// One resident's only.
    pub resident_id: Option<String>,
    /// Settled charges too.
    pub include_settled: Option<bool>,
    /// 1 to 200; default 50.
    pub page_size: Option<u32>,
    pub page_token: Option<String>,
}

forward! { tag = "finance";
    /// Fees charged and not settled, of the centre or of one resident, with what is
    /// outstanding over all of them.
    get "/v1/centres/{centre_id}/finance/receivables" => list_receivables(g, centre; query q: ReceivableQuery)
        -> 200 pb::ListReceivablesResponse {
        call!(g.finance.list_receivables(pb::ListReceivablesRequest {
            centre_id: g.centre(&centre)?,
            resident_id: q.resident_id.unwrap_or_default(),
            include_settled: q.include_settled.unwrap_or(false),
            page_size: q.page_size.unwrap_or(0),
            page_token: q.page_token.unwrap_or_default(),
        }))
    }

    /// Records money received for a fee (cash, bank transfer, WeChat Pay or Alipay with its
    /// reference): receivables to cash or bank, and the payer's numbered receipt. More than
    /// is outstanding is refused (payment.exceeds_outstanding).
    post "/v1/centres/{centre_id}/finance/payments" => record_payment(g, centre; body p: NewPayment)
        -> 201 pb::Payment, (422, "More than is outstanding on the fee (payment.exceeds_outstanding)") {
        call!(g.finance.record_payment(pb::RecordPaymentRequest {
            centre_id: g.centre(&centre)?,
            charge_id: p.charge_id.unwrap_or_default(),
            amount_minor: p.amount_minor.unwrap_or_default(),
            method: p.method.unwrap_or_default(),
            reference: p.reference.unwrap_or_default(),
            received_on: p.received_on.unwrap_or_default(),
        }))
    }

    /// One payment, with its receipt and any refunds.
    get "/v1/centres/{centre_id}/finance/payments/{payment_id}" => get_payment(g, centre, payment_id) -> 200 pb::Payment {
        call!(g.finance.get_payment(pb::GetPaymentRequest { centre_id: g.centre(&centre)?, payment_id }))
    }

    /// Gives back (part of) a payment the way it came, with the reason: cash or bank back
    /// to receivables. More than is left is refused (payment.refund_exceeds_payment).
    post "/v1/centres/{centre_id}/finance/payments/{payment_id}/refund" => refund_payment(g, centre, payment_id; body r: PaymentRefundBody)
        -> 200 pb::Payment, (422, "More than is left of the payment (payment.refund_exceeds_payment)") {
        call!(g.finance.refund_payment(pb::RefundPaymentRequest {
            centre_id: g.centre(&centre)?,
            payment_id,
            amount_minor: r.amount_minor.unwrap_or_default(),
            reason: r.reason.unwrap_or_default(),
            refunded_on: r.refunded_on.unwrap_or_default(),
        }))
    }
}
