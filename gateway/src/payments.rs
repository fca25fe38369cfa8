//! Finance's payment routes (issue 24): what is owed (receivables, per centre and per
//! resident), a payment taken at the desk with its receipt, a refund of one, as JSON over
//! finance's gRPC.

use crate::{AppState, forward};
use axum::Router;
use linli_proto::finance::v1 as pb;

pub fn routes() -> Router<AppState> {
    forwarded()
}

forward! { tag = "finance";
    /// Fees charged and not settled, of the centre or of one resident, with what is
    /// outstanding over all of them.
    get "/v1/centres/{centre_id}/finance/receivables" => list_receivables(g, centre_id; query q: pb::ListReceivablesRequest)
        -> 200 pb::ListReceivablesResponse = finance.list_receivables

    /// Records money received for a fee (cash, bank transfer, WeChat Pay or Alipay with its
    /// reference): receivables to cash or bank, and the payer's numbered receipt. More than
    /// is outstanding is refused (payment.exceeds_outstanding).
    post "/v1/centres/{centre_id}/finance/payments" => record_payment(g, centre_id; body p: pb::RecordPaymentRequest)
        -> 201 pb::Payment, (422, "More than is outstanding on the fee (payment.exceeds_outstanding)")
        = finance.record_payment

    /// One payment, with its receipt and any refunds.
    get "/v1/centres/{centre_id}/finance/payments/{payment_id}" => get_payment(g, centre_id, payment_id)
        -> 200 pb::Payment = finance.get_payment(pb::GetPaymentRequest)

    /// Gives back (part of) a payment the way it came, with the reason: cash or bank back
    /// to receivables. More than is left is refused (payment.refund_exceeds_payment).
    post "/v1/centres/{centre_id}/finance/payments/{payment_id}/refund"
        => refund_payment(g, centre_id, payment_id; body r: pb::RefundPaymentRequest) -> 200 pb::Payment,
        (422, "More than is left of the payment (payment.refund_exceeds_payment)") = finance.refund_payment
}
