//! `todo-audit` against DynamoDB Local: an untouched table verifies clean; every kind of tampering,
//! done directly on the table, is found with the exact todo and version; a digest taken before an
//! edit no longer verifies after it; usage errors exit 2. The endpoint reaches the binary only
//! through the SDK's own `AWS_ENDPOINT_URL_DYNAMODB`.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use commands::CommandService;
use events_schema::integrity::record_hash;
use events_schema::{EventRecord, event_key_string};
use serde_json::{Value, json};
use todo_platform::http::Edge;
use todo_testkit::ApiEvent;
use todo_testkit::dynamodb::{Tables, tool};

const ANN: &str = "0a1b2c3d-ann0-4e5f-8a9b-0c1d2e3f4a5b";
const BOB: &str = "9f8e7d6c-bob0-4b4a-9f8e-7d6c5b4a3f2e";

pub struct Run {
    pub code: i32,
    pub stdout: String,
}

pub fn todo_audit(tables: &Tables, args: &[&str]) -> Run {
    let output = tool(env!("CARGO_BIN_EXE_todo-audit"), tables).args(args).output().expect("run todo-audit");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("todo-audit {args:?}:\n{stdout}{stderr}");
    Run { code: output.status.code().unwrap_or(-1), stdout: format!("{stdout}{stderr}") }
}

/// Two users' histories written through the real command handlers: Ann's todo with three events
/// (created, renamed, completed) and a second todo, Bob's one todo.
struct World {
    tables: Tables,
    ann_todo: String,
}

async fn command(commands: &CommandService, user: &str, event: ApiEvent) -> Value {
    let request = event.signed_in(user, "someone@example.com").request();
    let response = match request.method().as_str() {
        "POST" if request.uri().path().ends_with("/done") => commands::http::complete_todo(commands, request).await,
        "POST" => commands::http::create_todo(commands, request).await,
        _ => commands::http::update_todo(commands, request).await,
    };
    assert!(response.status().is_success(), "{:?}", response.body());
    todo_testkit::response_json(&response)
}

async fn world() -> World {
    let tables = Tables::fresh().await;
    let commands = CommandService::new(Arc::new(tables.store()), Edge::new("https://todo.example.com").unwrap());
    let create = |title: &str| ApiEvent::new("POST", "/item", "/item").json(&json!({ "title": title }));
    let ann_todo = command(&commands, ANN, create("Buy milk")).await["id"].as_str().unwrap().to_owned();
    let path = format!("/item/{ann_todo}");
    command(
        &commands,
        ANN,
        ApiEvent::new("PUT", "/item/{id}", &path).path_param("id", &ann_todo).json(&json!({"title": "Buy oat milk"})),
    )
    .await;
    command(
        &commands,
        ANN,
        ApiEvent::new("POST", "/item/{id}/done", &format!("{path}/done")).path_param("id", &ann_todo),
    )
    .await;
    command(&commands, ANN, create("Call mum")).await;
    command(&commands, BOB, create("Bob's")).await;
    World { tables, ann_todo }
}

fn key(user: &str, todo: &str, version: u64) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("userId".to_owned(), AttributeValue::S(user.to_owned())),
        ("eventKey".to_owned(), AttributeValue::S(event_key_string(todo, version))),
    ])
}

async fn read(tables: &Tables, user: &str, todo: &str, version: u64) -> EventRecord {
    let item = tables
        .client
        .get_item()
        .table_name(&tables.events)
        .set_key(Some(key(user, todo, version)))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
        .expect("the event exists");
    serde_dynamo::from_item(item).expect("a record")
}

async fn write(tables: &Tables, record: &EventRecord) {
    let item: HashMap<String, AttributeValue> = serde_dynamo::to_item(record).expect("an item");
    tables.client.put_item().table_name(&tables.events).set_item(Some(item)).send().await.expect("PutItem");
}

fn says_broken_at(run: &Run, todo: &str, version: u64) -> bool {
    run.stdout
        .lines()
        .any(|line| line.starts_with("broken:") && line.contains(&format!("todo {todo} version {version}:")))
}

#[tokio::test]
async fn an_untouched_table_verifies_clean() {
    let world = world().await;
    let run = todo_audit(&world.tables, &["verify"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("checked 5 events of 3 todos") && run.stdout.contains("intact"), "{}", run.stdout);
    let run = todo_audit(&world.tables, &["verify", "--user", ANN, "--page-size", "1"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("checked 4 events of 2 todos"), "{}", run.stdout);
}

#[tokio::test]
async fn an_edited_event_is_found_at_its_todo_and_version() {
    let world = world().await;
    let mut record = read(&world.tables, ANN, &world.ann_todo, 2).await;
    record.data.insert("title".into(), json!("Buy whisky"));
    write(&world.tables, &record).await;

    let run = todo_audit(&world.tables, &["verify"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(says_broken_at(&run, &world.ann_todo, 2), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("user {ANN}")));
    assert!(run.stdout.contains("1 broken link"), "only that event: {}", run.stdout);
}

#[tokio::test]
async fn a_deleted_middle_event_is_found() {
    let world = world().await;
    world
        .tables
        .client
        .delete_item()
        .table_name(&world.tables.events)
        .set_key(Some(key(ANN, &world.ann_todo, 2)))
        .send()
        .await
        .unwrap();

    let run = todo_audit(&world.tables, &["verify"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(says_broken_at(&run, &world.ann_todo, 3), "{}", run.stdout);
    assert!(run.stdout.contains("version 2 is missing"), "{}", run.stdout);
}

#[tokio::test]
async fn swapped_versions_are_found() {
    let world = world().await;
    let (second, third) =
        (read(&world.tables, ANN, &world.ann_todo, 2).await, read(&world.tables, ANN, &world.ann_todo, 3).await);
    // Each event's content moved to the other's place, keys and version numbers made consistent.
    let mut moved_down = third.clone();
    moved_down.version = 2;
    moved_down.event_key = second.event_key.clone();
    let mut moved_up = second.clone();
    moved_up.version = 3;
    moved_up.event_key = third.event_key.clone();
    write(&world.tables, &moved_down).await;
    write(&world.tables, &moved_up).await;

    let run = todo_audit(&world.tables, &["verify", "--user", ANN]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(says_broken_at(&run, &world.ann_todo, 2), "{}", run.stdout);
    assert!(says_broken_at(&run, &world.ann_todo, 3), "{}", run.stdout);
}

#[tokio::test]
async fn a_forged_hash_is_found_by_the_next_link() {
    let world = world().await;
    let mut record = read(&world.tables, ANN, &world.ann_todo, 2).await;
    record.data.insert("title".into(), json!("Buy whisky"));
    record.hash = Some(record_hash(&record));
    write(&world.tables, &record).await;

    let run = todo_audit(&world.tables, &["verify"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(says_broken_at(&run, &world.ann_todo, 3), "{}", run.stdout);
    assert!(run.stdout.contains("version 2 was altered and re-hashed or replaced"), "{}", run.stdout);

    // A hash that is simply replaced, content untouched, is a mismatch at that very event.
    let world = self::world().await;
    let mut record = read(&world.tables, ANN, &world.ann_todo, 1).await;
    record.hash = Some("ab".repeat(32));
    write(&world.tables, &record).await;
    let run = todo_audit(&world.tables, &["verify"]);
    assert_eq!(run.code, 1);
    assert!(says_broken_at(&run, &world.ann_todo, 1), "{}", run.stdout);
}

#[tokio::test]
async fn a_digest_proves_the_history_up_to_it_and_fails_after_an_edit() {
    let world = world().await;
    let run = todo_audit(&world.tables, &["digest", "--user", ANN]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let digest = run.stdout.lines().next().expect("one line").to_owned();
    let parsed: Value = serde_json::from_str(&digest).expect("JSON");
    assert_eq!((parsed["todos"].as_u64(), parsed["events"].as_u64()), (Some(2), Some(4)));

    // Later events extend the history: the digest still verifies.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let commands = CommandService::new(Arc::new(world.tables.store()), Edge::new("https://todo.example.com").unwrap());
    command(&commands, ANN, ApiEvent::new("POST", "/item", "/item").json(&json!({"title": "later"}))).await;
    let run = todo_audit(&world.tables, &["verify", "--user", ANN, "--digest", &digest]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("digest: matches"), "{}", run.stdout);

    // The head edited and re-hashed: every chain still links, only the digest can tell.
    let mut head = read(&world.tables, ANN, &world.ann_todo, 3).await;
    head.data.insert("title".into(), json!("Buy whisky"));
    head.hash = Some(record_hash(&head));
    write(&world.tables, &head).await;
    let run = todo_audit(&world.tables, &["verify", "--user", ANN]);
    assert_eq!(run.code, 0, "the chain alone cannot see a re-hashed head: {}", run.stdout);
    let digest_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(digest_file.path(), &digest).unwrap();
    let at_file = format!("@{}", digest_file.path().display());
    let run = todo_audit(&world.tables, &["verify", "--user", ANN, "--digest", &at_file]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains("digest: DOES NOT MATCH"), "{}", run.stdout);
}

#[tokio::test]
async fn events_from_before_hashing_start_the_chain_without_a_break() {
    use events_schema::{Event, EventMetadata, Timestamp, TodoCreated, TodoEvent, TodoId, UserId};
    use todo_platform::store::EventLog as _;
    let world = world().await;
    // A todo whose first event was written before hashing existed: no prevHash, no hash.
    let todo = TodoId::from_uuid(uuid::Uuid::now_v7());
    let legacy = Event {
        user_id: UserId::parse(ANN).unwrap(),
        todo_id: todo,
        version: 1,
        event_id: uuid::Uuid::now_v7(),
        occurred_at: Timestamp::parse("2026-01-02T03:04:05Z").unwrap(),
        payload: TodoEvent::Created(TodoCreated { title: "from before".into(), notes: None }),
        metadata: EventMetadata::default(),
        chain: None,
    };
    world.tables.store().append(&[legacy]).await.unwrap();
    let commands = CommandService::new(Arc::new(world.tables.store()), Edge::new("https://todo.example.com").unwrap());
    let id = todo.to_string();
    let path = format!("/item/{id}");
    command(
        &commands,
        ANN,
        ApiEvent::new("PUT", "/item/{id}", &path).path_param("id", &id).json(&json!({"title": "now hashed"})),
    )
    .await;

    let run = todo_audit(&world.tables, &["verify"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("note: user {ANN} todo {id} version 2: earlier events predate hashing")),
        "{}",
        run.stdout
    );
    let second = read(&world.tables, ANN, &id, 2).await;
    assert_eq!(second.prev_hash.as_deref(), Some(events_schema::GENESIS_HASH), "the chain starts at version 2");
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let tables = Tables::fresh().await;
    for args in [
        vec!["verify", "--frobnicate"],
        vec!["verify", "--user", ANN, "--digest", "not json"],
        vec![
            "verify",
            "--user",
            ANN,
            "--digest",
            r#"{"digest":"xyz","asOf":"2026-11-29T10:00:00Z","todos":1,"events":1}"#,
        ],
        vec!["verify", "--digest", r#"{"digest":"00","asOf":"2026-11-29T10:00:00Z","todos":1,"events":1}"#],
        vec!["erase-everything"],
        vec![],
    ] {
        let run = todo_audit(&tables, &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
    }
}
