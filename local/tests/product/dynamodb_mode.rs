//! `--dynamodb-endpoint`: the same product on DynamoDB Local, tables created if missing, the read
//! model maintained through the table's real stream, and its changes pushed to `/live`.

use std::time::Duration;

use futures::StreamExt as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::process::Running;

#[tokio::test]
async fn the_stack_runs_on_dynamodb_local_through_its_stream() {
    let endpoint = todo_testkit::dynamodb::shared().endpoint.clone();
    let dir = tempfile::tempdir().expect("temp dir");
    // Table names unique to this test; the stack creates them.
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let env = [
        ("EVENTS_TABLE_NAME", format!("LocalEvents-{suffix}")),
        ("TODO_TABLE_NAME", format!("LocalTodos-{suffix}")),
        ("AWS_ACCESS_KEY_ID", "local".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ];
    let stack = Running::start_with_env(dir.path(), &["--dynamodb-endpoint", &endpoint], &env).await;
    let token = stack.token("ann@example.com").await;
    let live = format!("{}/live?token={token}", stack.origin.replacen("http://", "ws://", 1));
    let (mut socket, _) = tokio_tungstenite::connect_async(live).await.expect("a live socket");
    let created = stack.call(&token, "POST", "/item", Some(json!({"title": "on DynamoDB"})), None).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    let pushed = match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str::<Value>(&text).expect("JSON"),
        other => panic!("expected the creation to be pushed, got {other:?}"),
    };
    assert_eq!((pushed["change"].as_str(), pushed["id"].as_str()), (Some("created"), Some(id.as_str())));
    stack.call(&token, "POST", &format!("/item/{id}/done"), None, None).await;
    let listed = stack.eventually(&token, "/item", |r| r.body["items"][0]["version"].as_u64() == Some(2)).await;
    assert_eq!(listed.body["items"][0]["title"], "on DynamoDB");
    assert_eq!(listed.body["items"][0]["completed"], true);

    let tables = todo_testkit::dynamodb::client().await.list_tables().send().await.expect("list tables");
    assert!(tables.table_names().iter().any(|t| t == &format!("LocalEvents-{suffix}")));
    stack.kill_hard().await;
}
