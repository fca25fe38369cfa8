//! The event bus against the real PostgreSQL and RabbitMQ: nothing committed is lost,
//! nothing delivered twice takes effect twice, and a poison message neither blocks the
//! queue nor vanishes.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use lapin::options::{BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel};
use linli_platform::bus::BusArgs;
use linli_platform::bus::{Bus, Consumer, Handler, HandlerError, Incoming, Outcome, Relay};
use linli_platform::crypto::Vault;
use linli_platform::metrics::EVENTS_CONSUMED;
use linli_proto::Event;
use linli_proto::events::v1::ResidentRegistered;
use linli_registry::domain::centre::{CentreDetails, CentreForm};
use linli_registry::domain::{NewResident, ResidentForm};
use linli_registry::store;
use linli_tests::{Proxy, poll, test_args, unique_name};
use prost::Message;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// A registry database of the test's own, with one centre.
async fn registry(args: &linli::ServeArgs) -> (PgPool, Uuid) {
    let pool = linli_platform::db::connect(&args.database, "registry", &linli_registry::MIGRATOR)
        .await
        .expect("the test's registry database");
    let details = CentreDetails::parse(&CentreForm {
        code: "bus",
        name: "总线测试中心",
        ..Default::default()
    })
    .expect("a valid centre");
    let centre = store::create_centre(&pool, Uuid::new_v4(), &details)
        .await
        .expect("centre")
        .expect("a new id");
    (pool, centre.id)
}

async fn register(pool: &PgPool, vault: &Vault, centre: Uuid, name: &str) -> store::ResidentRow {
    let centre = centre.to_string();
    let form = ResidentForm {
        centre_id: &centre,
        name,
        gender: Some("female"),
        date_of_birth: "1950-01-01",
        ..Default::default()
    };
    let resident = NewResident::parse(&form, today()).expect("a valid resident");
    store::register_resident(pool, vault, &resident, true, today())
        .await
        .expect("registered")
}

/// A queue of the test's own that sees every resident event.
/// A broker call that must answer within ten seconds: a connection that died unnoticed
/// fails the test with `what` instead of holding it until CI's limit.
async fn answered<T, E: std::fmt::Debug>(
    what: &str,
    call: impl std::future::Future<Output = Result<T, E>>,
) -> T {
    tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .unwrap_or_else(|_| panic!("{what}: the broker did not answer in 10 s"))
        .unwrap_or_else(|error| panic!("{what}: {error:?}"))
}

async fn watcher(bus: &Bus) -> (Channel, String) {
    let channel = answered("broker", bus.channel()).await;
    answered(
        "watcher declared",
        bus.declare_queue(&channel, "watcher", &["registry.resident.*"]),
    )
    .await;
    // Every queue the bus declares also hears the platform's own keys (sessions ended);
    // the watcher follows registrations only.
    let queue = bus.args().queue("watcher");
    for key in linli_platform::revocation::BINDINGS {
        answered(
            "platform key unbound from the watcher",
            channel.queue_unbind(
                queue.clone().into(),
                bus.args().exchange().into(),
                (*key).into(),
                lapin::types::FieldTable::default(),
            ),
        )
        .await;
    }
    (channel, queue)
}

/// Takes every message now in `queue`, acking each; returns their message ids.
async fn take_all(channel: &Channel, queue: &str) -> Vec<String> {
    let mut ids = Vec::new();
    while let Some(message) = answered(
        "basic.get",
        channel.basic_get(queue.into(), BasicGetOptions::default()),
    )
    .await
    {
        let id = message
            .delivery
            .properties
            .message_id()
            .as_ref()
            .map(|id| id.to_string())
            .unwrap_or_default();
        answered(
            "ack",
            message.delivery.acker.ack(BasicAckOptions::default()),
        )
        .await;
        ids.push(id);
    }
    ids
}

async fn publish_raw(bus: &Bus, routing_key: &str, id: &str, message_type: &str, payload: &[u8]) {
    let channel = bus.channel().await.expect("broker");
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirms");
    let properties = BasicProperties::default()
        .with_message_id(id.into())
        .with_type(message_type.into())
        .with_headers(FieldTable::default());
    let confirm = channel
        .basic_publish(
            bus.args().exchange().into(),
            routing_key.into(),
            BasicPublishOptions::default(),
            payload,
            properties,
        )
        .await
        .expect("published")
        .await
        .expect("confirmed");
    assert!(confirm.is_ack());
}

async fn cleanup(args: &linli::ServeArgs, consumers: &[&str]) {
    let bus = Bus::new(args.bus.clone(), "cleanup");
    if let Ok(channel) = bus.channel().await {
        for consumer in consumers {
            for queue in [
                args.bus.queue(consumer),
                args.bus.dead_letter_queue(consumer),
            ] {
                let _ = channel.queue_delete(queue.into(), Default::default()).await;
            }
        }
    }
    bus.close().await;
    linli_tests::cleanup(args).await;
}

#[tokio::test]
async fn an_event_committed_while_no_relay_runs_is_published_exactly_once_when_one_starts() {
    let args = test_args(&unique_name());
    let (pool, centre) = registry(&args).await;
    let bus = Bus::new(args.bus.clone(), "test");
    let (channel, queue) = watcher(&bus).await;

    // The process "crashed" after the commit: the row is there, nothing was published.
    let vault = Vault::new(&args.data).expect("keys");
    let resident = register(&pool, &vault, centre, "赵六").await;
    let (event_id, published): (Uuid, Option<chrono::DateTime<chrono::Utc>>) = sqlx::query_as(
        "SELECT id, published_at FROM outbox WHERE routing_key = 'registry.resident.registered'",
    )
    .fetch_one(&pool)
    .await
    .expect("one outbox row");
    assert!(published.is_none());
    assert!(take_all(&channel, &queue).await.is_empty());

    let relay = Relay::new(pool.clone(), bus.clone(), "registry");
    // The centre's creation and the registration; only the latter reaches the watcher.
    assert_eq!(relay.relay_once().await.expect("published"), 2);
    assert_eq!(relay.relay_once().await.expect("nothing left"), 0);
    assert_eq!(relay.backlog().await.expect("backlog"), 0);

    let message = poll(
        "the event in the watcher queue",
        Duration::from_secs(10),
        || async {
            answered(
                "basic.get",
                channel.basic_get(queue.clone().into(), BasicGetOptions::default()),
            )
            .await
        },
    )
    .await;
    let properties = &message.delivery.properties;
    assert_eq!(
        properties.message_id().as_ref().map(|m| m.to_string()),
        Some(event_id.to_string())
    );
    assert_eq!(
        properties.kind().as_ref().map(|t| t.to_string()),
        Some(ResidentRegistered::TYPE.to_owned())
    );
    assert_eq!(
        message.delivery.routing_key.as_str(),
        ResidentRegistered::ROUTING_KEY
    );
    let event =
        ResidentRegistered::decode(message.delivery.data.as_slice()).expect("protobuf payload");
    assert_eq!(event.resident_id, resident.id.to_string());
    assert_eq!(event.age_band, "60-79");
    assert_eq!(event.categories, ["elderly"]);
    message
        .delivery
        .acker
        .ack(BasicAckOptions::default())
        .await
        .expect("ack");
    assert!(
        take_all(&channel, &queue).await.is_empty(),
        "published once, not twice"
    );

    bus.close().await;
    pool.close().await;
    cleanup(&args, &["watcher"]).await;
}

/// Every event now in `queue`, acked: (message id, routing key, whether it still carries
/// a `BCC` header), sorted.
async fn messages_in(channel: &Channel, queue: &str) -> Vec<(String, String, bool)> {
    let mut taken = Vec::new();
    while let Some(message) = answered(
        "basic.get",
        channel.basic_get(queue.into(), BasicGetOptions::default()),
    )
    .await
    {
        let delivery = &message.delivery;
        let id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(|id| id.to_string());
        let bcc = delivery
            .properties
            .headers()
            .as_ref()
            .is_some_and(|headers| headers.inner().contains_key("BCC"));
        let key = delivery.routing_key.to_string();
        answered("ack", delivery.acker.ack(BasicAckOptions::default())).await;
        taken.push((id.unwrap_or_default(), key, bcc));
    }
    taken.sort();
    taken
}

#[tokio::test]
async fn a_queue_bound_to_a_partner_key_takes_partners_events_only_under_their_own_key() {
    use linli_proto::events::v1::BookingConfirmed;
    let args = test_args(&unique_name());
    let (pool, centre) = registry(&args).await;
    let bus = Bus::new(args.bus.clone(), "test");
    let channel = answered("broker", bus.channel()).await;
    let confirmed = BookingConfirmed::ROUTING_KEY;
    let partners = linli_platform::bus::partner_key(confirmed);
    // A queue of this build; one an earlier build bound to every confirmation and to the
    // directory's centres, declared again by this build; and one bound to every
    // confirmation. (The registry's outbox also holds the centre's creation.)
    answered(
        "partners' queue declared",
        bus.declare_queue(&channel, "partnered", &[partners.as_str()]),
    )
    .await;
    for bindings in [&[confirmed, "registry.centre.*"][..], &[partners.as_str()]] {
        answered(
            "upgraded queue declared",
            bus.declare_queue(&channel, "upgraded", bindings),
        )
        .await;
    }
    answered(
        "everyone's queue declared",
        bus.declare_queue(&channel, "everyone", &[confirmed]),
    )
    .await;

    let booking = |provider: &str| BookingConfirmed {
        booking_id: Uuid::new_v4().to_string(),
        centre_id: centre.to_string(),
        provider_id: provider.to_owned(),
        ..Default::default()
    };
    let mut tx = pool.begin().await.expect("tx");
    let own = linli_platform::bus::enqueue(&mut tx, Some(centre), &booking(""))
        .await
        .expect("the centre's own");
    let theirs =
        linli_platform::bus::enqueue(&mut tx, Some(centre), &booking(&Uuid::new_v4().to_string()))
            .await
            .expect("a partner's");
    tx.commit().await.expect("committed");
    let relay = Relay::new(pool.clone(), bus.clone(), "registry");
    // The centre's creation and the two confirmations.
    assert_eq!(relay.relay_once().await.expect("published"), 3);

    // Confirmed means every queue the broker routed to holds it.
    let key = confirmed.to_owned();
    let mut both = vec![
        (own.to_string(), key.clone(), false),
        (theirs.to_string(), key.clone(), false),
    ];
    both.sort();
    assert_eq!(
        messages_in(&channel, &args.bus.queue("partnered")).await,
        [(theirs.to_string(), key, false)],
        "only the partner's, under its own key, without the BCC"
    );
    assert_eq!(
        messages_in(&channel, &args.bus.queue("everyone")).await,
        both,
        "a plain binding takes every booking"
    );
    assert_eq!(
        messages_in(&channel, &args.bus.queue("upgraded")).await,
        both,
        "an earlier build's binding is kept for its publishers (the partner's comes once), \
         the directory's is not"
    );

    bus.close().await;
    pool.close().await;
    cleanup(&args, &["partnered", "upgraded", "everyone"]).await;
}

#[tokio::test]
async fn of_two_relays_of_a_service_one_publishes_and_the_other_takes_over_when_it_goes() {
    let args = test_args(&unique_name());
    let (pool, centre) = registry(&args).await;
    let bus = Bus::new(args.bus.clone(), "test");
    let (channel, queue) = watcher(&bus).await;
    let vault = Vault::new(&args.data).expect("keys");
    let event_of = |resident: Uuid| {
        let pool = pool.clone();
        async move {
            let id: Uuid = sqlx::query_scalar(
                "SELECT id FROM outbox WHERE routing_key = 'registry.resident.registered'
                   AND position(convert_to($1, 'UTF8') IN payload) > 0",
            )
            .bind(resident.to_string())
            .fetch_one(&pool)
            .await
            .expect("the registration's event");
            id.to_string()
        }
    };

    let first = register(&pool, &vault, centre, "钱七").await;
    let leader = Relay::new(pool.clone(), bus.clone(), "registry");
    let standby = Relay::new(pool.clone(), bus.clone(), "registry");
    // The centre's creation and the registration.
    assert_eq!(leader.relay_once().await.expect("published"), 2);
    assert_eq!(standby.relay_once().await.expect("stands by"), 0);
    assert_eq!(leader.relay_once().await.expect("marked, none left"), 0);
    assert_eq!(leader.backlog().await.expect("backlog"), 0);

    let second = register(&pool, &vault, centre, "孙八").await;
    assert_eq!(
        standby.relay_once().await.expect("stands by"),
        0,
        "the lead is held, so the standby publishes nothing even with an event waiting"
    );
    assert_eq!(standby.backlog().await.expect("backlog"), 1);

    // The leader goes (its process died): its connection, and with it the lead, go too.
    drop(leader);
    poll(
        "the standby relay taking over",
        Duration::from_secs(10),
        || async { (standby.relay_once().await.expect("a pass") == 1).then_some(()) },
    )
    .await;
    assert_eq!(standby.relay_once().await.expect("marked, none left"), 0);
    assert_eq!(standby.backlog().await.expect("backlog"), 0);

    let expected = vec![event_of(first.id).await, event_of(second.id).await];
    let seen = Mutex::new(Vec::new());
    poll(
        "both registrations delivered",
        Duration::from_secs(10),
        || async {
            let taken = take_all(&channel, &queue).await;
            let mut seen = seen.lock().expect("not poisoned");
            seen.extend(taken);
            (seen.len() >= 2).then_some(())
        },
    )
    .await;
    assert_eq!(
        seen.into_inner().expect("not poisoned"),
        expected,
        "each once, in the order recorded"
    );
    assert!(take_all(&channel, &queue).await.is_empty(), "and no more");

    bus.close().await;
    pool.close().await;
    cleanup(&args, &["watcher"]).await;
}

#[tokio::test]
async fn events_pending_while_the_broker_is_unreachable_are_all_delivered_after_it_returns() {
    let args = test_args(&unique_name());
    let (pool, centre) = registry(&args).await;
    let direct = Bus::new(args.bus.clone(), "test");
    let (channel, queue) = watcher(&direct).await;

    let proxy = Proxy::start("127.0.0.1:5672".parse().expect("address")).await;
    let proxied = Bus::new(
        BusArgs {
            amqp_url: format!("amqp://guest:guest@{}/%2f", proxy.address),
            ..args.bus.clone()
        },
        "relay",
    );
    let stop = CancellationToken::new();
    let relay = tokio::spawn(Relay::new(pool.clone(), proxied, "registry").run(stop.clone()));
    let vault = Vault::new(&args.data).expect("keys");

    register(&pool, &vault, centre, "first").await;
    let seen: Mutex<HashSet<String>> = Mutex::default();
    let collect = |expected: usize| {
        let (channel, queue, seen) = (&channel, &queue, &seen);
        move || async move {
            let taken = take_all(channel, queue).await;
            let mut seen = seen.lock().expect("not poisoned");
            seen.extend(taken);
            (seen.len() == expected).then_some(())
        }
    };
    poll(
        "the first event through the proxy",
        Duration::from_secs(10),
        collect(1),
    )
    .await;

    proxy.cut().await;
    for n in 0..30 {
        register(&pool, &vault, centre, &format!("居民{n}")).await;
    }
    // The relay tried and failed while the broker was away: the rows are pending.
    poll(
        "a failed publish attempt",
        Duration::from_secs(20),
        || async {
            let failed: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL AND attempts > 0",
            )
            .fetch_one(&pool)
            .await
            .expect("count");
            (failed > 0).then_some(())
        },
    )
    .await;

    proxy.restore();
    poll(
        "all 31 events after reconnecting",
        Duration::from_secs(30),
        collect(31),
    )
    .await;
    let seen = seen.into_inner().expect("not poisoned");
    let outbox_ids: HashSet<String> = sqlx::query_scalar::<_, Uuid>(
        "SELECT id FROM outbox WHERE routing_key = 'registry.resident.registered'",
    )
    .fetch_all(&pool)
    .await
    .expect("ids")
    .into_iter()
    .map(|id| id.to_string())
    .collect();
    assert_eq!(seen, outbox_ids, "every committed event arrived");
    // The broker routes a message before the relay's commit marks it sent.
    poll(
        "every row marked published",
        Duration::from_secs(10),
        || async {
            let pending: i64 =
                sqlx::query_scalar("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                    .fetch_one(&pool)
                    .await
                    .expect("count");
            (pending == 0).then_some(())
        },
    )
    .await;

    stop.cancel();
    relay.await.expect("relay stops");
    direct.close().await;
    pool.close().await;
    cleanup(&args, &["watcher"]).await;
}

fn registered(centre: Uuid) -> ResidentRegistered {
    ResidentRegistered {
        resident_id: Uuid::new_v4().to_string(),
        centre_id: centre.to_string(),
        age_band: "18-59".into(),
        categories: vec![],
        registered_at: Some(prost_types::Timestamp {
            seconds: 1_790_000_000,
            nanos: 0,
        }),
    }
}

#[tokio::test]
async fn the_same_event_delivered_twice_takes_effect_once() {
    let args = test_args(&unique_name());
    let pool =
        linli_platform::db::connect(&args.database, "evaluation", &linli_evaluation::MIGRATOR)
            .await
            .expect("evaluation database");
    let bus = Bus::new(args.bus.clone(), "test");
    let centre = Uuid::new_v4();
    let consumer = Consumer::new(
        linli_evaluation::SERVICE,
        pool.clone(),
        bus.clone(),
        linli_evaluation::events::BINDINGS,
        linli_evaluation::events::Projections,
    );

    // Stepped by hand: the second delivery of one event id is recognised and skipped.
    let event = registered(centre);
    let incoming = Incoming {
        id: Uuid::new_v4(),
        routing_key: ResidentRegistered::ROUTING_KEY.into(),
        message_type: ResidentRegistered::TYPE.into(),
        centre_id: Some(centre),
        occurred_at: None,
        payload: event.encode_to_vec(),
        delivery_count: 0,
        trace: Default::default(),
    };
    assert_eq!(consumer.handle(&incoming).await, Outcome::Applied);
    assert_eq!(consumer.handle(&incoming).await, Outcome::Duplicate);
    assert_eq!(registered_in_evaluation(&pool, centre).await, 1);

    // Through the broker: the same message published twice.
    consumer.declare().await.expect("queue declared");
    let duplicates_before = EVENTS_CONSUMED
        .with_label_values(&["evaluation", "duplicate"])
        .get();
    let second = registered(centre);
    let id = Uuid::new_v4().to_string();
    for _ in 0..2 {
        publish_raw(
            &bus,
            ResidentRegistered::ROUTING_KEY,
            &id,
            ResidentRegistered::TYPE,
            &second.encode_to_vec(),
        )
        .await;
    }
    let stop = CancellationToken::new();
    let running = tokio::spawn(consumer.run(stop.clone()));
    poll(
        "the second delivery to be recognised",
        Duration::from_secs(10),
        || async {
            (EVENTS_CONSUMED
                .with_label_values(&["evaluation", "duplicate"])
                .get()
                > duplicates_before)
                .then_some(())
        },
    )
    .await;
    assert_eq!(registered_in_evaluation(&pool, centre).await, 2);
    let inbox: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox WHERE event_id = $1")
        .bind(Uuid::parse_str(&id).expect("uuid"))
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(inbox, 1);

    stop.cancel();
    running.await.expect("consumer stops");
    bus.close().await;
    pool.close().await;
    cleanup(&args, &[linli_evaluation::SERVICE]).await;
}

/// Records each message's payload, except `poison`, which always fails.
struct Recorder;

impl Handler for Recorder {
    async fn handle(&self, event: &Incoming, tx: &mut PgConnection) -> Result<(), HandlerError> {
        if event.payload == b"poison" {
            return Err(HandlerError::Transient("this message always fails".into()));
        }
        sqlx::query("INSERT INTO handled (payload) VALUES ($1)")
            .bind(String::from_utf8_lossy(&event.payload).into_owned())
            .execute(tx)
            .await?;
        Ok(())
    }
}

#[tokio::test]
async fn a_message_that_always_fails_is_dead_lettered_after_the_delivery_limit_while_the_rest_are_processed()
 {
    let args = test_args(&unique_name());
    let pool =
        linli_platform::db::connect(&args.database, "evaluation", &linli_evaluation::MIGRATOR)
            .await
            .expect("a database");
    sqlx::query("CREATE TABLE handled (payload text PRIMARY KEY)")
        .execute(&pool)
        .await
        .expect("table");
    let bus = Bus::new(args.bus.clone(), "test");
    let consumer = Consumer::new("poison", pool.clone(), bus.clone(), &["test.#"], Recorder);
    consumer.declare().await.expect("declared");

    publish_raw(
        &bus,
        "test.thing.happened",
        &Uuid::new_v4().to_string(),
        "test",
        b"poison",
    )
    .await;
    for n in 0..5 {
        publish_raw(
            &bus,
            "test.thing.happened",
            &Uuid::new_v4().to_string(),
            "test",
            format!("good-{n}").as_bytes(),
        )
        .await;
    }
    let stop = CancellationToken::new();
    let running = tokio::spawn(consumer.run(stop.clone()));

    poll(
        "the five good messages",
        Duration::from_secs(20),
        || async {
            let handled: i64 = sqlx::query_scalar("SELECT count(*) FROM handled")
                .fetch_one(&pool)
                .await
                .expect("count");
            (handled == 5).then_some(())
        },
    )
    .await;
    let channel = bus.channel().await.expect("broker");
    let dead = poll(
        "the poison message in the dead-letter queue",
        Duration::from_secs(20),
        || async {
            answered(
                "basic.get",
                channel.basic_get(
                    args.bus.dead_letter_queue("poison").into(),
                    BasicGetOptions::default(),
                ),
            )
            .await
        },
    )
    .await;
    assert_eq!(dead.delivery.data, b"poison");
    dead.delivery
        .acker
        .ack(BasicAckOptions::default())
        .await
        .expect("ack");
    let handled_poison: i64 =
        sqlx::query_scalar("SELECT count(*) FROM inbox WHERE consumer = 'poison'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(handled_poison, 5, "the poison message left no inbox row");
    // Delivered up to the limit (3 in tests): two retries, then dead-lettered.
    assert_eq!(
        EVENTS_CONSUMED
            .with_label_values(&["poison", "retried"])
            .get(),
        2
    );
    assert_eq!(
        EVENTS_CONSUMED
            .with_label_values(&["poison", "dead_lettered"])
            .get(),
        1
    );

    stop.cancel();
    running.await.expect("consumer stops");
    bus.close().await;
    pool.close().await;
    cleanup(&args, &["poison"]).await;
}

#[tokio::test]
async fn a_consumer_waits_out_a_database_outage_without_spending_deliveries() {
    let args = test_args(&unique_name());
    let direct =
        linli_platform::db::connect(&args.database, "evaluation", &linli_evaluation::MIGRATOR)
            .await
            .expect("a database");
    sqlx::query("CREATE TABLE handled (payload text PRIMARY KEY)")
        .execute(&direct)
        .await
        .expect("table");

    // The consumer reaches PostgreSQL through a proxy the test can cut.
    let proxy = Proxy::start("127.0.0.1:5432".parse().expect("address")).await;
    let options = args
        .database
        .options_for("evaluation")
        .expect("options")
        .host("127.0.0.1")
        .port(proxy.address.port());
    let proxied = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(1))
        .connect_with(options)
        .await
        .expect("pool through the proxy");
    let bus = Bus::new(args.bus.clone(), "test");
    let consumer = Consumer::new("outage", proxied, bus.clone(), &["test.#"], Recorder);
    consumer.declare().await.expect("declared");
    let stop = CancellationToken::new();
    let running = tokio::spawn(consumer.run(stop.clone()));

    proxy.cut().await;
    publish_raw(
        &bus,
        "test.thing.happened",
        &Uuid::new_v4().to_string(),
        "test",
        b"during-outage",
    )
    .await;
    let channel = bus.channel().await.expect("broker");
    let queue = args.bus.queue("outage");
    // The consumer has taken the message and holds it while the database is away.
    poll(
        "the consumer to hold the message",
        Duration::from_secs(10),
        || async {
            let declared = channel
                .queue_declare(
                    queue.clone().into(),
                    lapin::options::QueueDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    FieldTable::default(),
                )
                .await
                .expect("queue exists");
            (declared.message_count() == 0).then_some(())
        },
    )
    .await;

    proxy.restore();
    poll(
        "the message applied after the outage, and counted",
        Duration::from_secs(30),
        || async {
            let handled: i64 = sqlx::query_scalar("SELECT count(*) FROM handled")
                .fetch_one(&direct)
                .await
                .expect("count");
            // The count follows the commit, from the consumer's own task.
            let counted = EVENTS_CONSUMED
                .with_label_values(&["outage", "applied"])
                .get();
            (handled == 1 && counted == 1).then_some(())
        },
    )
    .await;
    assert_eq!(
        EVENTS_CONSUMED
            .with_label_values(&["outage", "retried"])
            .get(),
        0,
        "no delivery was spent"
    );
    assert_eq!(
        EVENTS_CONSUMED
            .with_label_values(&["outage", "dead_lettered"])
            .get(),
        0
    );
    assert_eq!(
        EVENTS_CONSUMED
            .with_label_values(&["outage", "applied"])
            .get(),
        1
    );
    let dead = channel
        .basic_get(
            args.bus.dead_letter_queue("outage").into(),
            BasicGetOptions::default(),
        )
        .await
        .expect("basic.get");
    assert!(dead.is_none(), "nothing dead-lettered");

    stop.cancel();
    running.await.expect("consumer stops");
    bus.close().await;
    direct.close().await;
    cleanup(&args, &["outage"]).await;
}

/// Residents evaluation counts as registered at `centre`.
async fn registered_in_evaluation(pool: &PgPool, centre: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM directory.residents WHERE centre_id = $1")
        .bind(centre)
        .fetch_one(pool)
        .await
        .expect("count")
}
