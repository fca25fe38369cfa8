//! The event catalogue as an AsyncAPI 3.0 document (served by the gateway at
//! `/asyncapi.json`): every event the services publish, read from the contracts, with its
//! payload's schema from their descriptors ([`crate::webhook::schema`]).

use serde_json::{Map, Value, json};

/// Where the routing keys are named: the contracts' `Event` impls, each a routing key and
/// the full message name. Read from that source as it was compiled, so an event added
/// there is in the catalogue without a second list to keep.
const CONTRACTS: &str = include_str!("../../../proto/src/lib.rs");

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
pub fn document() -> Value {
    let mut schemas = Map::new();
    let mut messages = Map::new();
    let mut channel_messages = Map::new();
    let mut operations = Map::new();
    for (routing_key, message_type) in events() {
        let schema = crate::webhook::schema(message_type, &mut schemas)
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
