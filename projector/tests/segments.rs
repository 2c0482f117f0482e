//! `replay` as a distributed job, against DynamoDB Local: N segments run concurrently (here as
//! processes, on AWS as Lambda invocations of the state machine's Map) do exactly what one run
//! does, for rebuilding and for `--verify`; and the stats projection, switched off while history was
//! written, is backfilled to what incremental projection would have built.

use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use commands::CommandService;
use events_schema::{
    Event, EventMetadata, Timestamp, TodoCompleted, TodoCreated, TodoDeleted, TodoEvent, TodoId, TodoUpdated, UserId,
};
use projector::Projector;
use projector::stream::StreamPoller;
use serde_json::json;
use todo_platform::http::Edge;
use todo_platform::store::memory::MemoryStore;
use todo_platform::store::{EventLog, EventScan, ProjectionStore, Scope, StatsStore, TodoFacts};
use todo_testkit::ApiEvent;
use todo_testkit::dynamodb::{Tables, sdk_config, tool};

fn replay_command(tables: &Tables, args: &[&str]) -> Command {
    let mut command = tool(env!("CARGO_BIN_EXE_replay"), tables);
    command.args(args);
    command
}

struct Run {
    code: i32,
    stdout: String,
}

fn finished(args: &[&str], output: Output) -> Run {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    eprintln!("replay {args:?}:\n{stdout}{}", String::from_utf8_lossy(&output.stderr));
    Run { code: output.status.code().unwrap_or(-1), stdout }
}

fn replay(tables: &Tables, args: &[&str]) -> Run {
    finished(args, replay_command(tables, args).output().expect("run replay"))
}

/// Every segment of `total` at once, each its own process; their runs in segment order.
fn all_segments(tables: &Tables, total: u32, args: &[&str]) -> Vec<Run> {
    let children: Vec<_> = (0..total)
        .map(|index| {
            let mut full: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
            full.extend(["--segments".into(), total.to_string(), "--segment".into(), index.to_string()]);
            let child = replay_command(tables, &full.iter().map(String::as_str).collect::<Vec<_>>())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start a segment");
            (full, child)
        })
        .collect();
    children
        .into_iter()
        .map(|(args, child)| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            finished(&args, child.wait_with_output().expect("a segment ends"))
        })
        .collect()
}

/// `<verb> N events ...; W rows written, R orphan rows removed, D drifted` -> (N, W, R, D).
fn counts(run: &Run) -> (u64, u64, u64, u64) {
    let line = run.stdout.lines().next().expect("a summary line");
    let words: Vec<&str> = line.split_whitespace().collect();
    let count = |word: &str, back: usize| -> u64 {
        let at = words.iter().position(|w| w.trim_end_matches(',') == word).expect(word);
        words[at - back].parse().expect("a count")
    };
    (count("events", 1), count("written", 2), count("orphan", 1), count("drifted", 1))
}

/// `second` seconds into the histories, which start a day ago: recent enough that no tombstone's
/// TTL (7 days after the deletion) has passed, which DynamoDB Local would act on mid-test.
fn at(second: u32) -> Timestamp {
    static START: std::sync::LazyLock<chrono::DateTime<chrono::Utc>> =
        std::sync::LazyLock::new(|| chrono::Utc::now() - chrono::Duration::days(1));
    Timestamp::from_datetime(*START + chrono::Duration::seconds(i64::from(second)))
}

/// Histories of `users` users, three todos each: completed, renamed and reopened, deleted.
fn histories(users: usize) -> Vec<Vec<Event>> {
    let mut all = Vec::new();
    for u in 0..users {
        let user = UserId::parse(&format!("user-{u:02}")).expect("user");
        for kind in 0..3u32 {
            let todo = TodoId::from_uuid(uuid::Uuid::now_v7());
            let base = (u as u32 * 3 + kind) * 10;
            let event = |version: u64, payload: TodoEvent| Event {
                user_id: user.clone(),
                todo_id: todo,
                version,
                event_id: uuid::Uuid::now_v7(),
                occurred_at: at(base + version as u32),
                payload,
                metadata: EventMetadata::default(),
                chain: None,
            };
            let created = TodoEvent::Created(TodoCreated { title: format!("todo {u}/{kind}"), notes: None });
            let mut events = vec![event(1, created)];
            match kind {
                0 => events.push(event(2, TodoEvent::Completed(TodoCompleted { title: "t".into() }))),
                1 => {
                    let rename = TodoUpdated { title: Some("renamed".into()), ..TodoUpdated::default() };
                    events.push(event(2, TodoEvent::Updated(rename)));
                    events.push(event(3, TodoEvent::Completed(TodoCompleted { title: "renamed".into() })));
                    let reopen = TodoUpdated { completed: Some(false), ..TodoUpdated::default() };
                    events.push(event(4, TodoEvent::Updated(reopen)));
                }
                _ => events.push(event(2, TodoEvent::Deleted(TodoDeleted { title: "t".into() }))),
            }
            all.push(events);
        }
    }
    all
}

async fn seeded(histories: &[Vec<Event>]) -> Tables {
    let tables = Tables::fresh().await;
    let store = tables.store();
    for history in histories {
        store.append(history).await.expect("append");
    }
    tables
}

/// Everything both projections hold, comparable across table sets.
async fn contents(tables: &Tables) -> (BTreeSet<String>, BTreeSet<String>) {
    let store = tables.store();
    let mut rows = BTreeSet::new();
    let mut cursor = None;
    loop {
        let page = store.scan_rows(Scope::All, 100, cursor).await.expect("rows");
        rows.extend(page.items.iter().map(|row| format!("{row:?}")));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    let mut facts = BTreeSet::new();
    let mut cursor = None;
    loop {
        let page = store.scan_facts(Scope::All, 100, cursor).await.expect("facts");
        facts.extend(page.items.iter().map(|row| format!("{row:?}")));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    (rows, facts)
}

#[tokio::test]
async fn four_segments_at_once_rebuild_exactly_what_one_run_does() {
    let histories = histories(16);
    let events: u64 = histories.iter().map(|h| h.len() as u64).sum();
    let (one, four) = (seeded(&histories).await, seeded(&histories).await);

    let whole = replay(&one, &["--projection", "all"]);
    assert_eq!(whole.code, 0);
    assert_eq!(counts(&whole), (events, 96, 0, 0), "48 rows and 48 stats rows");

    let segments = all_segments(&four, 4, &["--projection", "all", "--page-size", "7"]);
    assert!(segments.iter().all(|run| run.code == 0));
    let summed = segments.iter().map(counts).fold((0, 0, 0, 0), |a, c| (a.0 + c.0, a.1 + c.1, a.2 + c.2, a.3 + c.3));
    assert_eq!(summed, counts(&whole), "the segments' counts add up to the one run's");
    assert!(segments.iter().filter(|run| counts(run).0 > 0).count() > 1, "the work is really split");

    let (rows, facts) = contents(&one).await;
    assert_eq!(rows.len(), 48);
    assert_eq!(facts.len(), 48);
    assert_eq!(contents(&four).await, (rows, facts), "the same read model and stats");
}

#[tokio::test]
async fn four_segments_verify_what_one_verify_does() {
    let histories = histories(12);
    let tables = seeded(&histories).await;
    assert_eq!(replay(&tables, &["--projection", "all"]).code, 0);
    assert_eq!(replay(&tables, &["--projection", "all", "--verify"]).code, 0);
    let clean = all_segments(&tables, 4, &["--projection", "all", "--verify"]);
    assert!(clean.iter().all(|run| run.code == 0 && counts(run).3 == 0));

    // Drift in several users' rows: a lost read-model row, a lost stats row, a changed row.
    let key = |history: &Vec<Event>| {
        [
            ("userId".to_owned(), AttributeValue::S(history[0].user_id.to_string())),
            ("todoId".to_owned(), AttributeValue::S(history[0].todo_id.to_string())),
        ]
    };
    let client = &tables.client;
    client.delete_item().table_name(&tables.todos).set_key(Some(key(&histories[0]).into())).send().await.unwrap();
    client.delete_item().table_name(&tables.stats).set_key(Some(key(&histories[13]).into())).send().await.unwrap();
    client
        .update_item()
        .table_name(&tables.todos)
        .set_key(Some(key(&histories[29]).into()))
        .update_expression("SET title = :t")
        .expression_attribute_values(":t", AttributeValue::S("tampered".into()))
        .send()
        .await
        .unwrap();

    let whole = replay(&tables, &["--projection", "all", "--verify"]);
    assert_eq!((whole.code, counts(&whole).3), (1, 3));
    let segments = all_segments(&tables, 4, &["--projection", "all", "--verify"]);
    let drifted: u64 = segments.iter().map(|run| counts(run).3).sum();
    assert_eq!(drifted, 3, "each drift found by exactly one segment");
    for run in &segments {
        assert_eq!(run.code, if counts(run).3 > 0 { 1 } else { 0 }, "exit 1 exactly where drift is");
        assert_eq!(counts(run).1, 0, "verify writes nothing");
    }
}

#[tokio::test]
async fn a_stats_backfill_equals_incremental_projection() {
    let tables = Tables::fresh().await;
    let store = Arc::new(tables.store());
    let commands = CommandService::new(store.clone(), Edge::new("http://localhost").expect("edge"));
    let send = |user: &str, event: ApiEvent| {
        let request = event.signed_in(user, "x@example.com").request();
        let commands = &commands;
        async move {
            let response = match (request.method().as_str(), request.uri().path().ends_with("/done")) {
                ("POST", true) => commands::http::complete_todo(commands, request).await,
                ("POST", false) => commands::http::create_todo(commands, request).await,
                ("DELETE", _) => commands::http::delete_todo(commands, request).await,
                _ => commands::http::update_todo(commands, request).await,
            };
            assert!(response.status().is_success(), "{:?}", response.body());
            todo_testkit::response_json(&response)
        }
    };
    let mut ids = Vec::new();
    for (user, title) in [("ann", "one"), ("ann", "two"), ("ann", "three"), ("bob", "four")] {
        let todo = send(user, ApiEvent::new("POST", "/item", "/item").json(&json!({ "title": title }))).await;
        ids.push((user, todo["id"].as_str().expect("id").to_owned()));
    }
    let item = |id: &str, suffix: &str| format!("/item/{id}{suffix}");
    send("ann", ApiEvent::new("POST", "/item/{id}/done", &item(&ids[0].1, "/done")).path_param("id", &ids[0].1)).await;
    send("ann", ApiEvent::new("POST", "/item/{id}/done", &item(&ids[1].1, "/done")).path_param("id", &ids[1].1)).await;
    send("ann", ApiEvent::new("DELETE", "/item/{id}", &item(&ids[1].1, "")).path_param("id", &ids[1].1)).await;
    let rename = ApiEvent::new("PUT", "/item/{id}", &item(&ids[3].1, "")).path_param("id", &ids[3].1);
    send("bob", rename.json(&json!({"title": "four!", "completed": true}))).await;

    // The projector as it ran before the stats projection existed: the read model only.
    let mut stream = StreamPoller::open(&sdk_config().await, &tables.events).await.expect("stream");
    let before_stats = Projector::new(store.clone(), store.clone());
    let mut empty = 0;
    while empty < 2 {
        let batch = stream.poll().await.expect("poll");
        if batch.records.is_empty() {
            empty += 1;
            continue;
        }
        assert!(before_stats.handle_batch(batch).await.batch_item_failures.is_empty());
    }
    let ann = UserId::parse("ann").expect("user");
    assert!(store.user_facts(&ann).await.expect("facts").is_empty(), "no stats yet");
    let missing = replay(&tables, &["--projection", "stats", "--verify"]);
    assert_eq!((missing.code, counts(&missing).3), (1, 4), "every todo's stats missing");
    assert_eq!(replay(&tables, &["--projection", "todos", "--verify"]).code, 0, "the read model is fine");

    let backfill = replay(&tables, &["--projection", "stats"]);
    assert_eq!((backfill.code, counts(&backfill).1), (0, 4));
    assert_eq!(replay(&tables, &["--projection", "stats", "--verify"]).code, 0);

    // The same events through a projector that always had the stats projection.
    let incremental = Arc::new(MemoryStore::new());
    let projector = Projector::new(incremental.clone(), incremental.clone()).with_stats(incremental.clone());
    let mut cursor = None;
    loop {
        let page = store.scan(Scope::All, 100, cursor).await.expect("scan");
        for event in &page.items {
            incremental.append(std::slice::from_ref(event)).await.expect("append");
            projector.apply(event).await.expect("apply");
        }
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    for user in ["ann", "bob"] {
        let user = UserId::parse(user).expect("user");
        let figures = |facts: Vec<TodoFacts>| -> Vec<_> {
            facts.into_iter().map(|f| (f.todo_id, f.created_at, f.completed_at, f.deleted)).collect()
        };
        let backfilled = figures(store.user_facts(&user).await.expect("facts"));
        assert_eq!(backfilled, figures(incremental.user_facts(&user).await.expect("facts")));
        assert!(!backfilled.is_empty());
    }
    let annes = store.user_facts(&ann).await.expect("facts");
    assert_eq!(annes.iter().filter(|f| f.deleted).count(), 1);
    assert_eq!(annes.iter().filter(|f| f.completed_at.is_some()).count(), 2, "the deleted one had been completed");
}

#[tokio::test]
async fn segment_arguments_out_of_range_are_usage_errors() {
    let tables = Tables::fresh().await;
    for args in [
        &["--segments", "4", "--segment", "4"][..],
        &["--segments", "4", "--segment", "-1"],
        &["--segments", "0", "--segment", "0"],
        &["--segments", "4"],
        &["--segments", "2", "--segment", "0", "--user", "ann"],
        &["--projection", "nope"],
    ] {
        let run = replay(&tables, args);
        assert_eq!(run.code, 2, "{args:?}");
    }
    assert_eq!(tables.event_count().await, 0);
}
