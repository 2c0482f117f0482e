//! The `replay` binary against DynamoDB Local: verify is clean after the stream projected
//! everything, reports drift after the read model is tampered with (and writes nothing), and a
//! rebuild repairs it. The endpoint reaches the binary only through the SDK's own
//! `AWS_ENDPOINT_URL_DYNAMODB`.

use std::process::Command;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use commands::CommandService;
use projector::Projector;
use projector::stream::StreamPoller;
use serde_json::json;
use todo_platform::http::Edge;
use todo_testkit::ApiEvent;
use todo_testkit::dynamodb::{Tables, sdk_config, tool};

struct Run {
    code: i32,
    stdout: String,
}

fn replay(tables: &Tables, args: &[&str]) -> Run {
    let output = tool(env!("CARGO_BIN_EXE_replay"), tables).args(args).output().expect("run replay");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    eprintln!("replay {args:?}:\n{stdout}{stderr}");
    Run { code: output.status.code().unwrap_or(-1), stdout }
}

async fn send(commands: &CommandService, user: &str, event: ApiEvent) -> serde_json::Value {
    let response = match event.request().method().as_str() {
        "POST" => commands::http::create_todo(commands, event.signed_in(user, "x@example.com").request()).await,
        _ => commands::http::update_todo(commands, event.signed_in(user, "x@example.com").request()).await,
    };
    assert!(response.status().is_success(), "{:?}", response.body());
    todo_testkit::response_json(&response)
}

async fn project(tables: &Tables, projector: &Projector) {
    let mut stream = StreamPoller::open(&sdk_config().await, &tables.events).await.expect("stream");
    let mut empty = 0;
    while empty < 2 {
        let batch = stream.poll().await.expect("poll");
        if batch.records.is_empty() {
            empty += 1;
            continue;
        }
        let response = projector.handle_batch(batch).await;
        assert!(response.batch_item_failures.is_empty());
    }
}

#[tokio::test]
async fn verify_reports_drift_that_a_rebuild_repairs() {
    let tables = Tables::fresh().await;
    let store = Arc::new(tables.store());
    let commands = CommandService::new(store.clone(), Edge::new("http://localhost").expect("edge"));
    let mut ids = Vec::new();
    for (user, title) in [("ann", "one"), ("ann", "two"), ("bob", "three")] {
        let todo = send(&commands, user, ApiEvent::new("POST", "/item", "/item").json(&json!({"title": title}))).await;
        ids.push(todo["id"].as_str().expect("id").to_owned());
    }
    let put = ApiEvent::new("PUT", "/item/{id}", &format!("/item/{}", ids[0]))
        .path_param("id", &ids[0])
        .json(&json!({"title": "one, renamed", "completed": true}));
    send(&commands, "ann", put).await;
    project(&tables, &Projector::new(store.clone(), store.clone())).await;

    let clean = replay(&tables, &["--verify"]);
    assert_eq!(clean.code, 0, "an incrementally projected read model equals the replayed fold");
    assert!(clean.stdout.contains("verified 5 events of 3 todos"), "{}", clean.stdout);

    // Tamper: change a row, lose a row, invent a row.
    let key = |user: &str, id: &str| {
        [("userId".to_owned(), AttributeValue::S(user.into())), ("todoId".to_owned(), AttributeValue::S(id.into()))]
    };
    tables
        .client
        .update_item()
        .table_name(&tables.todos)
        .set_key(Some(key("ann", &ids[0]).into()))
        .update_expression("SET title = :t")
        .expression_attribute_values(":t", AttributeValue::S("tampered".into()))
        .send()
        .await
        .expect("tamper");
    tables
        .client
        .delete_item()
        .table_name(&tables.todos)
        .set_key(Some(key("bob", &ids[2]).into()))
        .send()
        .await
        .expect("lose");
    let orphan = tables
        .client
        .get_item()
        .table_name(&tables.todos)
        .set_key(Some(key("ann", &ids[1]).into()))
        .send()
        .await
        .expect("get");
    let mut orphan = orphan.item.expect("row");
    orphan.insert("todoId".into(), AttributeValue::S("01a21400-0000-7000-8000-00000000dead".into()));
    tables.client.put_item().table_name(&tables.todos).set_item(Some(orphan)).send().await.expect("invent");

    let drifted = replay(&tables, &["--verify"]);
    assert_eq!(drifted.code, 1);
    assert!(drifted.stdout.contains("3 drifted"), "{}", drifted.stdout);
    assert!(drifted.stdout.contains(&format!(
        "todo {}: read model row (version 3) differs from the fold of its events (version 3)",
        ids[0]
    )));
    assert!(drifted.stdout.contains(&format!("todo {}: missing from the read model", ids[2])));
    assert!(drifted.stdout.contains("todo 01a21400-0000-7000-8000-00000000dead: in the read model without any event"));
    let again = replay(&tables, &["--verify"]);
    assert!(again.stdout.contains("3 drifted"), "verify wrote nothing");

    let only_bob = replay(&tables, &["--verify", "--user", "bob"]);
    assert!(
        only_bob.stdout.contains("verified 1 events of 1 todos") && only_bob.stdout.contains("1 drifted"),
        "{}",
        only_bob.stdout
    );

    let rebuilt = replay(&tables, &["--page-size", "2"]);
    assert_eq!(rebuilt.code, 0);
    assert!(rebuilt.stdout.contains("1 orphan rows removed"), "{}", rebuilt.stdout);
    let clean = replay(&tables, &["--verify"]);
    assert_eq!(clean.code, 0, "the rebuild repaired every drift");
}

#[tokio::test]
async fn bad_arguments_and_missing_configuration_fail_clearly() {
    let tables = Tables::fresh().await;
    let unknown = replay(&tables, &["--frobnicate"]);
    assert_eq!(unknown.code, 2);
    let output = Command::new(env!("CARGO_BIN_EXE_replay")).env_clear().output().expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("EVENTS_TABLE_NAME"));
}
