//! Live updates: every `/live` socket of a user receives each change to that user's todos as the
//! projector writes it, in version order, and nobody else's; a refused token never gets a socket;
//! a client that stops reading is dropped and holds back no one.

use std::time::Duration;

use events_schema::UserId;
use futures::StreamExt as _;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::forged_tokens::{Forger, now};
use crate::helpers::{TestStack, payload};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How soon a change must reach every session of its user.
const WITHIN: Duration = Duration::from_secs(1);

fn live_url(stack: &TestStack, token: Option<&str>) -> String {
    let query = token.map(|token| format!("?token={token}")).unwrap_or_default();
    format!("ws://127.0.0.1:{}/live{query}", stack.port)
}

async fn connect(stack: &TestStack, token: &str) -> Socket {
    let (socket, response) = tokio_tungstenite::connect_async(live_url(stack, Some(token))).await.expect("connected");
    assert_eq!(response.status(), 101);
    socket
}

/// The next message on `socket`, within [`WITHIN`].
async fn next_message(socket: &mut Socket) -> Value {
    loop {
        let frame = tokio::time::timeout(WITHIN, socket.next())
            .await
            .expect("a message within a second")
            .expect("the socket is open")
            .expect("a frame");
        match frame {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

/// A call to the API that must succeed; its body (`null` when empty).
async fn call(stack: &TestStack, token: &str, method: Method, path: &str, body: Option<Value>) -> Value {
    let mut request = stack.client.request(method.clone(), stack.url(&format!("/api{path}"))).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let text = response.text().await.expect("body");
    assert!(status.is_success(), "{method} {path}: {status} {text}");
    if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON") }
}

fn user_of(token: &str) -> UserId {
    UserId::parse(payload(token)["sub"].as_str().expect("sub")).expect("user")
}

#[tokio::test]
async fn each_change_reaches_every_session_of_its_user_in_order_and_no_one_else() {
    let stack = TestStack::start_embedded().await;
    let (ann, bob) = (stack.token("ann@example.com"), stack.token("bob@example.com"));
    let mut ann_laptop = connect(&stack, &ann).await;
    let mut ann_phone = connect(&stack, &ann).await;
    let mut bob_tablet = connect(&stack, &bob).await;
    assert_eq!((stack.live.connections(&user_of(&ann)), stack.live.connections(&user_of(&bob))), (2, 1));

    let created = call(&stack, &ann, Method::POST, "/item", Some(json!({"title": "Buy milk"}))).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let item = format!("/item/{id}");
    let steps: Vec<(Method, String, Option<Value>, &str)> = vec![
        (Method::PUT, item.clone(), Some(json!({"title": "Buy oat milk"})), "updated"),
        (Method::POST, format!("{item}/done"), None, "completed"),
        (Method::PUT, item.clone(), Some(json!({"completed": false})), "reopened"),
        (Method::DELETE, item.clone(), None, "deleted"),
    ];
    for message in [next_message(&mut ann_laptop).await, next_message(&mut ann_phone).await] {
        assert_eq!(message, json!({"type": "todo", "change": "created", "todo": created, "id": id, "version": 1}));
    }
    for (version, (method, path, body, change)) in (2..).zip(steps) {
        call(&stack, &ann, method, &path, body).await;
        let title = (change != "deleted").then_some("Buy oat milk");
        for socket in [&mut ann_laptop, &mut ann_phone] {
            let message = next_message(socket).await;
            assert_eq!(message["type"], "todo");
            assert_eq!((message["change"].as_str(), message["version"].as_u64()), (Some(change), Some(version)));
            assert_eq!(message["id"], id.as_str(), "{change}");
            assert_eq!(message["todo"]["title"].as_str(), title, "{change}: the todo as it is now, null once deleted");
            if let Some(todo) = message["todo"].as_object() {
                assert_eq!(todo["version"].as_u64(), Some(version));
                assert_eq!(todo["completed"].as_bool(), Some(change == "completed"));
            }
        }
    }

    // Bob's first message is his own change: nothing of Ann's came before it. And Ann's next is
    // hers: nothing of Bob's reached her.
    call(&stack, &bob, Method::POST, "/item", Some(json!({"title": "Bob's"}))).await;
    let first = next_message(&mut bob_tablet).await;
    assert_eq!((first["change"].as_str(), first["todo"]["title"].as_str()), (Some("created"), Some("Bob's")));
    call(&stack, &ann, Method::POST, "/item", Some(json!({"title": "Ann's next"}))).await;
    for socket in [&mut ann_laptop, &mut ann_phone] {
        assert_eq!(next_message(socket).await["todo"]["title"], "Ann's next");
    }

    // Closing a socket takes it out of the hub.
    drop(ann_phone);
    for _ in 0..200 {
        if stack.live.connections(&user_of(&ann)) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(stack.live.connections(&user_of(&ann)), 1, "the closed connection was cleaned up");
    stack.stop().await;
}

#[tokio::test]
async fn a_missing_forged_or_expired_token_is_refused_with_401_before_the_upgrade() {
    let stack = TestStack::start().await;
    let genuine = stack.token("victim@example.com");
    let forger = Forger::new(&stack, &genuine).await;
    let now = now();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("empty", Some(String::new())),
        ("another key, the real kid", Some(forger.signed_by_another_key(true))),
        ("tampered payload", Some(forger.tampered(&genuine))),
        ("alg none", Some(forger.unsigned())),
        ("expired", Some(forger.signed(json!({"iat": now - 7200, "exp": now - 3600})))),
        ("wrong audience", Some(forger.signed(json!({"aud": "another-client"})))),
        ("not a JWT", Some("garbage".to_owned())),
    ];
    for (case, token) in &cases {
        match tokio_tungstenite::connect_async(live_url(&stack, token.as_deref())).await {
            Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401, "{case}"),
            Err(other) => panic!("{case}: expected a 401, got {other}"),
            Ok(_) => panic!("{case}: a socket was opened"),
        }
        // The refusal is an ordinary response in the API's error shape, not a socket.
        let response = stack
            .client
            .get(live_url(&stack, token.as_deref()).replacen("ws://", "http://", 1))
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 401, "{case}");
        assert!(response.headers().get("upgrade").is_none(), "{case}");
        assert!(response.headers().contains_key("x-request-id"), "{case}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], "unauthorized", "{case}");
    }
    assert_eq!(stack.live.connections(&user_of(&genuine)), 0);

    // The genuine token opens a socket; without an upgrade it is told what is missing.
    let _socket = connect(&stack, &genuine).await;
    assert_eq!(stack.live.connections(&user_of(&genuine)), 1);
    let plain = stack.client.get(live_url(&stack, Some(&genuine)).replacen("ws://", "http://", 1)).send().await;
    let plain = plain.expect("request");
    assert!(plain.status().is_client_error(), "{}", plain.status());
    assert_eq!(plain.json::<Value>().await.expect("JSON")["error"]["code"], "not_a_websocket");
    stack.stop().await;
}

/// Opens a socket with a receive window so small that a client that stops reading backs the
/// server up after a few messages instead of megabytes.
async fn connect_with_small_window(stack: &TestStack, token: &str) -> WebSocketStream<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let stream = socket.connect(([127, 0, 0, 1], stack.port).into()).await.expect("TCP connect");
    let (socket, response) =
        tokio_tungstenite::client_async(live_url(stack, Some(token)), stream).await.expect("connected");
    assert_eq!(response.status(), 101);
    socket
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_while_the_others_receive_everything() {
    // Changes to drive at most before the stalled client must have been dropped: far more than its
    // queue and every buffer between it and the server hold.
    const MAX_CHANGES: usize = 3000;
    let stack = TestStack::start_embedded().await;
    let ann = stack.token("ann@example.com");
    let user = user_of(&ann);
    let mut stalled = connect_with_small_window(&stack, &ann).await;
    let mut reader = connect(&stack, &ann).await;
    assert_eq!(stack.live.connections(&user), 2);

    // The reading client takes every message until the last change.
    let reading = tokio::spawn(async move {
        let mut versions = Vec::new();
        loop {
            let text = match tokio::time::timeout(Duration::from_secs(60), reader.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => text,
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                other => panic!("the reading client lost its socket: {other:?}"),
            };
            let message: Value = serde_json::from_str(&text).expect("JSON");
            versions.push(message["version"].as_u64().expect("a change, not a re-read"));
            if message["todo"]["title"] == "the last one" {
                return (versions, reader);
            }
        }
    });

    // Big messages (notes of 2,000 four-byte characters) fill the stalled client's buffers sooner.
    let notes = |n: usize| format!("{n:08}{}", "\u{1f5d2}".repeat(1990));
    let created = call(&stack, &ann, Method::POST, "/item", Some(json!({"title": "busy", "notes": notes(0)}))).await;
    let item = format!("/item/{}", created["id"].as_str().expect("id"));
    let mut changes = 1;
    while stack.live.connections(&user) == 2 {
        assert!(changes < MAX_CHANGES, "the stalled client was never dropped");
        call(&stack, &ann, Method::PUT, &item, Some(json!({"notes": notes(changes)}))).await;
        changes += 1;
    }
    let last = call(&stack, &ann, Method::PUT, &item, Some(json!({"title": "the last one"}))).await;
    let last_version = last["version"].as_u64().expect("version");

    let (versions, _still_open) = reading.await.expect("the reading client");
    assert_eq!(versions, (1..=last_version).collect::<Vec<_>>(), "the reading client got every change, in order");
    assert_eq!(stack.live.connections(&user), 1);

    // The stalled client, reading at last, finds what it was sent before it was dropped, in order
    // (then perhaps the re-read message), and then the end of the socket.
    let mut received = Vec::new();
    let mut told_to_reread = false;
    loop {
        match tokio::time::timeout(Duration::from_secs(10), stalled.next()).await.expect("the socket ends") {
            Some(Ok(Message::Text(text))) => {
                let message: Value = serde_json::from_str(&text).expect("JSON");
                assert!(!told_to_reread, "nothing follows the re-read message: {message}");
                match message["type"].as_str() {
                    Some("reread") => told_to_reread = true,
                    _ => received.push(message["version"].as_u64().expect("version")),
                }
            }
            Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            Some(Ok(_)) => {}
        }
    }
    assert!(
        received.len() < versions.len(),
        "the stalled client was cut off ({} of {})",
        received.len(),
        versions.len()
    );
    assert_eq!(received, (1..=received.len() as u64).collect::<Vec<_>>());
    stack.stop().await;
}
