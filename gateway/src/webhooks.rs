//! Events for outside systems over HTTP: a partner agreement's webhook (set, with the
//! signing secret answered once; its deliveries; sending again), and the event catalogue
//! (`linli_platform::asyncapi`) at `/asyncapi.json`, beside `/openapi.json`.

use axum::Router;
use linli_proto::registry::v1 as pb;
use serde_json::Value;
use utoipa::OpenApi;

use crate::{AppState, forward};

#[derive(OpenApi)]
#[openapi(paths(asyncapi_document))]
pub struct WebhooksDoc;

/// The webhook routes (behind the API's limits); `/asyncapi.json` is served beside
/// `/openapi.json`.
pub fn routes() -> Router<AppState> {
    forwarded()
}

forward! { tag = "webhooks", "Partner agreements' webhooks and the event catalogue";
    /// Sets the agreement's webhook (its centre's manager, or a district admin). Each call
    /// makes a new signing secret, answered this once only.
    put "/v1/partners/{partner_id}/agreements/{agreement_id}/webhook"
        => set_agreement_webhook(g, partner_id, agreement_id; body w: pb::SetAgreementWebhookRequest)
        -> 200 pb::AgreementWebhook = registry.set_agreement_webhook

    /// The agreement's webhook as set (address, event types, when), never its secret; an
    /// empty url when none is set.
    get "/v1/partners/{partner_id}/agreements/{agreement_id}/webhook"
        => get_agreement_webhook(g, partner_id, agreement_id) -> 200 pb::AgreementWebhook
        = registry.get_agreement_webhook(pb::GetAgreementWebhookRequest)

    /// What was sent to the agreement's webhook, latest first, with each delivery's status.
    get "/v1/partners/{partner_id}/agreements/{agreement_id}/webhook/deliveries"
        => list_webhook_deliveries(g, partner_id, agreement_id; query q: pb::ListWebhookDeliveriesRequest)
        -> 200 pb::ListWebhookDeliveriesResponse = registry.list_webhook_deliveries

    /// Sends one delivery again, or every delivery since a time.
    post "/v1/partners/{partner_id}/agreements/{agreement_id}/webhook/replay"
        => replay_webhook_deliveries(g, partner_id, agreement_id; body r: pb::ReplayWebhookDeliveriesRequest)
        -> 200 pb::ReplayWebhookDeliveriesResponse = registry.replay_webhook_deliveries
}

/// The event catalogue: AsyncAPI 3.0.
#[utoipa::path(get, path = "/asyncapi.json", tag = "api",
    responses((status = 200, description = "The AsyncAPI 3.0 document of every event", content_type = "application/json")))]
pub async fn asyncapi_document() -> axum::Json<Value> {
    axum::Json(linli_platform::asyncapi::document())
}
