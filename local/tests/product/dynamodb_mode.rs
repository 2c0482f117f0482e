//! `--dynamodb-endpoint`: the same product on DynamoDB Local, tables created if missing, the read
//! model maintained through the event table's real stream, and `/live` fed as on AWS: connections
//! recorded in the connections table, each change pushed by the notifier from the read model's
//! stream.

use std::time::Duration;

use futures::StreamExt as _;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::process::Running;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(stack: &Running, token: &str) -> Socket {
    let live = format!("{}/live?token={token}", stack.origin.replacen("http://", "ws://", 1));
    tokio_tungstenite::connect_async(live).await.expect("a live socket").0
}

async fn next_message(socket: &mut Socket) -> Value {
    match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
        Ok(Some(Ok(Message::Text(text)))) => serde_json::from_str(&text).expect("JSON"),
        other => panic!("expected a pushed change, got {other:?}"),
    }
}

/// How many connections the connections table records for the user named by `token`.
async fn recorded(table: &str, token: &str) -> usize {
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).expect("base64"),
    )
    .expect("claims");
    let user = claims["sub"].as_str().expect("sub").to_owned();
    let answer = todo_testkit::dynamodb::client()
        .await
        .query()
        .table_name(table)
        .key_condition_expression("userId = :user")
        .expression_attribute_values(":user", aws_sdk_dynamodb::types::AttributeValue::S(user))
        .send()
        .await
        .expect("query the connections table");
    answer.count as usize
}

#[tokio::test]
async fn the_stack_runs_on_dynamodb_local_and_pushes_through_the_notifier() {
    let endpoint = todo_testkit::dynamodb::shared().endpoint.clone();
    let dir = tempfile::tempdir().expect("temp dir");
    // Table names unique to this test; the stack creates them.
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let connections = format!("LocalConnections-{suffix}");
    let env = [
        ("EVENTS_TABLE_NAME", format!("LocalEvents-{suffix}")),
        ("TODO_TABLE_NAME", format!("LocalTodos-{suffix}")),
        ("STATS_TABLE_NAME", format!("LocalStats-{suffix}")),
        ("SNAPSHOTS_TABLE_NAME", format!("LocalSnapshots-{suffix}")),
        ("CONNECTIONS_TABLE_NAME", connections.clone()),
        ("AWS_ACCESS_KEY_ID", "local".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ];
    let stack = Running::start_with_env(dir.path(), &["--dynamodb-endpoint", &endpoint], &env).await;
    let (ann, bob) = (stack.token("ann@example.com").await, stack.token("bob@example.com").await);
    let (mut ann_laptop, mut ann_phone, mut bob_tablet) =
        (connect(&stack, &ann).await, connect(&stack, &ann).await, connect(&stack, &bob).await);
    // Recorded before the upgrade was answered, as live-connections records $connect.
    assert_eq!((recorded(&connections, &ann).await, recorded(&connections, &bob).await), (2, 1));

    let created = stack.call(&ann, "POST", "/item", Some(json!({"title": "on DynamoDB"})), None).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    let item = format!("/item/{id}");
    let steps = [
        ("PUT", item.clone(), Some(json!({"title": "on DynamoDB Local"})), "updated"),
        ("POST", format!("{item}/done"), None, "completed"),
        ("PUT", item.clone(), Some(json!({"completed": false})), "reopened"),
        ("DELETE", item.clone(), None, "deleted"),
    ];
    for socket in [&mut ann_laptop, &mut ann_phone] {
        let message = next_message(socket).await;
        assert_eq!(message, json!({"type": "todo", "change": "created", "todo": created.body, "id": id, "version": 1}));
    }
    for (version, (method, path, body, change)) in (2..).zip(steps) {
        let answer = stack.call(&ann, method, &path, body, None).await;
        assert!(answer.status < 300, "{change}: {answer:?}");
        for socket in [&mut ann_laptop, &mut ann_phone] {
            let message = next_message(socket).await;
            assert_eq!((message["change"].as_str(), message["version"].as_u64()), (Some(change), Some(version)));
            assert_eq!(message["id"], id.as_str());
        }
    }

    // Bob's first message is his own change: nothing of Ann's reached him.
    stack.call(&bob, "POST", "/item", Some(json!({"title": "Bob's"})), None).await;
    let first = next_message(&mut bob_tablet).await;
    assert_eq!((first["change"].as_str(), first["todo"]["title"].as_str()), (Some("created"), Some("Bob's")));

    // A closed socket's record is removed, as $disconnect removes it; the other session goes on.
    drop(ann_phone);
    let mut left = recorded(&connections, &ann).await;
    for _ in 0..100 {
        if left == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = recorded(&connections, &ann).await;
    }
    assert_eq!(left, 1, "the closed connection's record was removed");
    stack.call(&ann, "POST", "/item", Some(json!({"title": "Ann's next"})), None).await;
    assert_eq!(next_message(&mut ann_laptop).await["todo"]["title"], "Ann's next");

    let listed = stack.eventually(&ann, "/item", |r| r.body["items"].as_array().is_some_and(|i| i.len() == 1)).await;
    assert_eq!(listed.body["items"][0]["title"], "Ann's next");
    stack.kill_hard().await;
}
