//! Events for outside systems over HTTP: a partner agreement's webhook (set, with the
//! signing secret answered once; its deliveries; sending again), and the event catalogue
//! as an AsyncAPI 3 document at `/asyncapi.json`, beside `/openapi.json`.

use axum::Router;
use linli_proto::registry::v1 as pb;
use serde_json::{Map, Value, json};
use utoipa::OpenApi;

use crate::{AppState, call, forward};

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
        => get_agreement_webhook(g, partner_id, agreement_id) -> 200 pb::AgreementWebhook {
        call!(g.registry.get_agreement_webhook(pb::GetAgreementWebhookRequest { partner_id, agreement_id }))
    }

    /// What was sent to the agreement's webhook, latest first, with each delivery's status.
    get "/v1/partners/{partner_id}/agreements/{agreement_id}/webhook/deliveries"
        => list_webhook_deliveries(g, partner_id, agreement_id; query q: pb::ListWebhookDeliveriesRequest)
        -> 200 pb::ListWebhookDeliveriesResponse = registry.list_webhook_deliveries

    /// Sends one delivery again, or every delivery since a time.
    post "/v1/partners/{partner_id}/agreements/{agreement_id}/webhook/replay"
        => replay_webhook_deliveries(g, partner_id, agreement_id; body r: pb::ReplayWebhookDeliveriesRequest)
        -> 200 pb::ReplayWebhookDeliveriesResponse = registry.replay_webhook_deliveries
}

/// Where the routing keys are named: the contracts' `Event` impls, each a routing key and
/// the full message name. Read from that source as it was compiled, so an event added
/// there is in the catalogue without a second list to keep.
const CONTRACTS: &str = include_str!("../../proto/src/lib.rs");

/// Every event the services publish: (routing key, full message name), in the order the
/// contracts name them.
pub fn events() -> Vec<(&'static str, &'static str)> {
    const KEY: &str = "const ROUTING_KEY: &'static str = \"";
    const TYPE: &str = "const TYPE: &'static str = \"";
    let quoted = |text: &'static str, marker: &str| -> Option<&'static str> {
        let at = text.find(marker)? + marker.len();
        text[at..].split('"').next()
    };
    CONTRACTS
        .match_indices(KEY)
        .filter_map(|(at, _)| {
            let rest = &CONTRACTS[at..];
            Some((quoted(rest, KEY)?, quoted(rest, TYPE)?))
        })
        .collect()
}

/// The event catalogue, AsyncAPI 3.0: the one topic exchange as the channel's address,
/// each event a message (its routing key, its protobuf payload's schema read from the
/// contracts' descriptors, its AMQP properties and headers), and one `receive` operation
/// per event for a system that binds a queue to it.
pub fn asyncapi() -> Value {
    let mut schemas = Map::new();
    let mut messages = Map::new();
    let mut channel_messages = Map::new();
    let mut operations = Map::new();
    for (routing_key, message_type) in events() {
        let schema = linli_platform::webhook::schema(message_type, &mut schemas)
            .expect("every event's message is in the contracts");
        let id = routing_key.replace('.', "_");
        messages.insert(
            id.clone(),
            json!({
                "name": routing_key,
                "title": schema,
                "summary": format!("{routing_key}: {message_type}"),
                "contentType": "application/x-protobuf",
                "headers": {"$ref": "#/components/schemas/EventHeaders"},
                "payload": {"$ref": format!("#/components/schemas/{schema}")},
                "bindings": {"amqp": {
                    "messageType": message_type,
                    "deliveryMode": 2,
                    "bindingVersion": "0.3.0",
                }},
                "x-routing-key": routing_key,
            }),
        );
        channel_messages.insert(
            id.clone(),
            json!({"$ref": format!("#/components/messages/{id}")}),
        );
        operations.insert(
            format!("receive_{id}"),
            json!({
                "action": "receive",
                "title": format!("Receive {routing_key}"),
                "summary": format!("Bind a queue to the exchange with routing key {routing_key}."),
                "channel": {"$ref": "#/channels/events"},
                "messages": [{"$ref": format!("#/channels/events/messages/{id}")}],
                "bindings": {"amqp": {
                    "cc": [routing_key],
                    "ack": true,
                    "bindingVersion": "0.3.0",
                }},
            }),
        );
    }
    schemas.insert(
        "EventHeaders".into(),
        json!({
            "type": "object",
            "description": "AMQP headers of every event; the properties carry message_id (the event's UUID), type (the full message name) and timestamp.",
            "properties": {
                "centre_id": {"type": "string", "format": "uuid"},
                "occurred_at": {"type": "string", "format": "date-time"},
                "traceparent": {"type": "string"},
                "tracestate": {"type": "string"},
            },
        }),
    );
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Linli events",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Facts the Linli services publish on one durable RabbitMQ topic exchange (`<prefix>.events`, `linli.events` by default), routing key `<service>.<aggregate>.<verb>`, payload a protobuf message of package linli.events.v1. Events carry ids and codes, never a resident's name, phone or national ID. Partners receive the events their agreement covers as signed webhooks (JSON: id, type, message, centre_id, occurred_at, data; header Linli-Signature: t=<unix>,v1=<hex HMAC-SHA256 over `t.body`>).",
        },
        "defaultContentType": "application/x-protobuf",
        "servers": {
            "broker": {
                "host": "rabbitmq:5672",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "The district's RabbitMQ.",
            },
        },
        "channels": {
            "events": {
                "address": "linli.events",
                "title": "The event exchange",
                "description": "A durable topic exchange; bind a queue with the routing keys you want.",
                "messages": channel_messages,
                "bindings": {"amqp": {
                    "is": "routingKey",
                    "exchange": {"name": "linli.events", "type": "topic", "durable": true, "autoDelete": false, "vhost": "/"},
                    "bindingVersion": "0.3.0",
                }},
            },
        },
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas,
        },
    })
}

/// The event catalogue: AsyncAPI 3.0.
#[utoipa::path(get, path = "/asyncapi.json", tag = "api",
    responses((status = 200, description = "The AsyncAPI 3.0 document of every event", content_type = "application/json")))]
pub async fn asyncapi_document() -> axum::Json<Value> {
    axum::Json(asyncapi())
}
