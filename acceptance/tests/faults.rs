//! Overload and faults, injected by a proxy of the tests' own between the command functions and
//! DynamoDB Local (throttling and server errors in DynamoDB's own shape, dropped connections before
//! and after the write, answers delayed past the SDK's attempt timeout), with the SDK settings as
//! deployed: no request is ever answered 500, what cannot be done now is a 503 with `Retry-After`,
//! a client that retries gets every command acknowledged, every acknowledged command is in the
//! event table exactly once, and the read model converges to the fold of the events.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use commands::CommandService;
use events_schema::{Event, TodoEvent, UserId, fold};
use lambda_http::{Body, Response};
use projector::Projector;
use projector::stream::StreamPoller;
use serde_json::{Value, json};
use todo_platform::config::deployed_settings;
use todo_platform::http::Edge;
use todo_platform::store::dynamo::DynamoStore;
use todo_platform::store::{EventScan, ProjectionStore, Scope};
use todo_testkit::ApiEvent;
use todo_testkit::dynamodb::{Tables, sdk_config, sdk_config_for, shared};
use todo_testkit::faults::{FaultProxy, mixed_cycle};

const USERS: [&str; 3] = ["ann-faults", "bob-faults", "cid-faults"];
const TODOS_PER_USER: usize = 8;

#[derive(Default)]
struct Tally {
    answered_503: u64,
    answered_500: u64,
}

/// Sends a command as a careful client does: on a 503 it waits `Retry-After` (scaled down) and
/// sends the same request again, up to 30 times. Returns the final answer.
async fn until_answered(
    commands: &CommandService,
    event: impl Fn() -> ApiEvent,
    tally: &tokio::sync::Mutex<Tally>,
) -> (u16, Value) {
    for _ in 0..30 {
        let request = event().request();
        let response: Response<Body> = match request.method().as_str() {
            "POST" if request.uri().path().ends_with("/done") => commands::http::complete_todo(commands, request).await,
            "POST" => commands::http::create_todo(commands, request).await,
            _ => commands::http::update_todo(commands, request).await,
        };
        let status = response.status().as_u16();
        match status {
            503 => {
                assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
                let body = todo_testkit::response_json(&response);
                assert_eq!(body["error"]["code"], "unavailable", "{body}");
                tally.lock().await.answered_503 += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            500 => {
                tally.lock().await.answered_500 += 1;
                return (status, todo_testkit::response_json(&response));
            }
            _ => return (status, todo_testkit::response_json(&response)),
        }
    }
    panic!("still 503 after 30 tries")
}

/// One user's todo: created with a client id, renamed to a title no other command uses, completed.
async fn life_of_a_todo(commands: &CommandService, user: &str, n: usize, tally: &tokio::sync::Mutex<Tally>) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let signed = |event: ApiEvent| event.signed_in(user, "someone@example.com");
    let item = format!("/item/{id}");
    let (status, body) = until_answered(
        commands,
        || signed(ApiEvent::new("POST", "/item", "/item")).json(&json!({"id": id, "title": format!("{user} {n}")})),
        tally,
    )
    .await;
    assert_eq!(status, 201, "create: {body}");
    let (status, body) = until_answered(
        commands,
        || {
            signed(ApiEvent::new("PUT", "/item/{id}", &item))
                .path_param("id", &id)
                .json(&json!({"title": format!("{user} {n}, renamed")}))
        },
        tally,
    )
    .await;
    assert_eq!((status, body["title"].as_str()), (200, Some(format!("{user} {n}, renamed").as_str())), "{body}");
    let (status, body) = until_answered(
        commands,
        || signed(ApiEvent::new("POST", "/item/{id}/done", &format!("{item}/done"))).path_param("id", &id),
        tally,
    )
    .await;
    assert_eq!((status, body["completed"].as_bool()), (200, Some(true)), "{body}");
    id
}

#[tokio::test]
async fn under_injected_faults_every_acknowledged_command_lands_exactly_once() {
    let tables = Tables::fresh().await;
    let proxy = FaultProxy::start(&shared().endpoint, mixed_cycle()).await.expect("start the fault proxy");
    let through_proxy = sdk_config_for(&proxy.endpoint).await;
    let client = aws_sdk_dynamodb::Client::from_conf(deployed_settings((&through_proxy).into()).build());
    let commands = CommandService::new(
        Arc::new(DynamoStore::new(client, &tables.events, &tables.todos)),
        Edge::new("https://todo.example.com").expect("edge"),
    );
    let tally = tokio::sync::Mutex::new(Tally::default());

    let lives = USERS
        .iter()
        .flat_map(|user| (0..TODOS_PER_USER).map(move |n| (*user, n)))
        .map(|(user, n)| life_of_a_todo(&commands, user, n, &tally));
    let ids: Vec<String> = futures::future::join_all(lives).await;

    let counts = &proxy.counts;
    let tally = tally.into_inner();
    eprintln!(
        "requests {}, injected {} (throttled {}, 500s {}, dropped before {}, dropped after {}, delayed {}); answered 503: {}",
        counts.requests.load(Ordering::Relaxed),
        counts.injected(),
        counts.throttled.load(Ordering::Relaxed),
        counts.server_errors.load(Ordering::Relaxed),
        counts.dropped_before.load(Ordering::Relaxed),
        counts.dropped_after.load(Ordering::Relaxed),
        counts.delayed.load(Ordering::Relaxed),
        tally.answered_503
    );
    assert_eq!(tally.answered_500, 0, "overload and faults are never a 500");
    for (kind, count) in [
        ("throttled", &counts.throttled),
        ("server errors", &counts.server_errors),
        ("dropped before", &counts.dropped_before),
        ("dropped after the write", &counts.dropped_after),
        ("delayed past the timeout", &counts.delayed),
    ] {
        assert!(count.load(Ordering::Relaxed) > 0, "the run met no {kind}");
    }

    // Exactly once: per todo, one creation, one rename, one completion, versions 1..=3.
    let store = tables.store();
    let mut by_todo: BTreeMap<String, Vec<Event>> = BTreeMap::new();
    let mut cursor = None;
    loop {
        let page = store.scan(Scope::All, 500, cursor).await.expect("scan");
        for event in page.items {
            by_todo.entry(event.todo_id.to_string()).or_default().push(event);
        }
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(by_todo.len(), ids.len(), "one todo per create, no more");
    for id in &ids {
        let events = &by_todo[id];
        let kinds: Vec<&str> = events.iter().map(|e| e.payload.event_type().as_str()).collect();
        assert_eq!(kinds, ["TodoCreated", "TodoUpdated", "TodoCompleted"], "todo {id}: each command once");
        assert_eq!(events.iter().map(|e| e.version).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(
            matches!(&events[1].payload, TodoEvent::Updated(u) if u.title.as_deref().is_some_and(|t| t.ends_with("renamed")))
        );
    }

    // The read model converges (the projector reads the stream directly).
    let direct = Arc::new(tables.store());
    let projector = Projector::new(direct.clone(), direct.clone());
    let mut stream = StreamPoller::open(&sdk_config().await, &tables.events).await.expect("stream");
    let mut empty = 0;
    while empty < 2 {
        let batch = stream.poll().await.expect("poll");
        if batch.records.is_empty() {
            empty += 1;
            continue;
        }
        assert!(projector.handle_batch(batch).await.batch_item_failures.is_empty());
    }
    for events in by_todo.values() {
        let first = &events[0];
        let user = UserId::parse(first.user_id.as_str()).expect("user");
        assert_eq!(direct.state(&user, &first.todo_id).await.expect("state"), fold(events));
    }
}
