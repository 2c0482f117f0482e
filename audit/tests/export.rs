//! `GET /export` and `GET /history/digest` through the real handlers with API Gateway events on
//! DynamoDB Local; `todo-audit verify-export` on the file the SPA would save, and on tampered copies.

use std::process::Command;
use std::sync::Arc;

use audit::AuditService;
use commands::CommandService;
use serde_json::{Value, json};
use todo_platform::http::Edge;
use todo_testkit::ApiEvent;
use todo_testkit::dynamodb::Tables;

const ANN: &str = "0a1b2c3d-ann0-4e5f-8a9b-0c1d2e3f4a5b";
const BOB: &str = "9f8e7d6c-bob0-4b4a-9f8e-7d6c5b4a3f2e";
const ORIGIN: &str = "https://todo.example.com";

struct Stack {
    tables: Tables,
    commands: CommandService,
    audit: AuditService,
}

impl Stack {
    async fn new() -> Self {
        let tables = Tables::fresh().await;
        let store = Arc::new(tables.store());
        let edge = Edge::new(ORIGIN).unwrap();
        Self {
            commands: CommandService::new(store.clone(), edge.clone()),
            audit: AuditService::new(store, edge),
            tables,
        }
    }

    async fn create(&self, user: &str, title: &str) -> String {
        let request =
            ApiEvent::new("POST", "/item", "/item").signed_in(user, "x@example.com").json(&json!({ "title": title }));
        let response = commands::http::create_todo(&self.commands, request.request()).await;
        assert_eq!(response.status(), 201);
        todo_testkit::response_json(&response)["id"].as_str().unwrap().to_owned()
    }

    async fn rename(&self, user: &str, id: &str, title: &str) {
        let request = ApiEvent::new("PUT", "/item/{id}", &format!("/item/{id}"))
            .signed_in(user, "x@example.com")
            .path_param("id", id)
            .json(&json!({ "title": title }));
        assert_eq!(commands::http::update_todo(&self.commands, request.request()).await.status(), 200);
    }

    async fn export_page(&self, event: ApiEvent) -> (u16, Value) {
        let response = audit::http::export_data(&self.audit, event.request()).await;
        assert_eq!(response.headers().get("access-control-allow-origin").unwrap(), ORIGIN);
        assert!(response.headers().get("x-request-id").is_some());
        (response.status().as_u16(), todo_testkit::response_json(&response))
    }

    /// Pages through the export as the SPA does and writes the JSON Lines file it saves.
    async fn export_file(&self, user: &str, limit: usize) -> (String, usize) {
        let mut lines = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut event = ApiEvent::new("GET", "/export", "/export")
                .signed_in(user, "x@example.com")
                .query("limit", &limit.to_string());
            if let Some(cursor) = &cursor {
                event = event.query("cursor", cursor);
            }
            let (status, body) = self.export_page(event).await;
            assert_eq!(status, 200, "{body}");
            pages += 1;
            let events = body["events"].as_array().unwrap();
            assert!(events.len() <= limit);
            lines.extend(events.iter().map(Value::to_string));
            match body["nextCursor"].as_str() {
                Some(next) => {
                    assert!(body.get("digest").is_none(), "the digest closes the last page only");
                    cursor = Some(next.to_owned());
                }
                None => {
                    lines.push(json!({ "digest": body["digest"] }).to_string());
                    return (lines.join("\n") + "\n", pages);
                }
            }
        }
    }
}

fn verify_export(contents: &str) -> (i32, String) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), contents).unwrap();
    // No table, no endpoint, no credentials: the file is all it needs.
    let output = Command::new(env!("CARGO_BIN_EXE_todo-audit"))
        .args(["verify-export"])
        .arg(file.path())
        .env_clear()
        .output()
        .expect("run todo-audit");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    eprintln!("{stdout}");
    (output.status.code().unwrap_or(-1), stdout)
}

#[tokio::test]
async fn an_export_pages_through_every_event_by_todo_and_ends_with_the_digest() {
    let stack = Stack::new().await;
    let first = stack.create(ANN, "Buy milk").await;
    stack.rename(ANN, &first, "Buy oat milk").await;
    let second = stack.create(ANN, "Call mum").await;
    stack.rename(ANN, &first, "Buy soy milk").await;
    stack.create(BOB, "Bob's").await;

    let (file, pages) = stack.export_file(ANN, 2).await;
    assert_eq!(pages, 2, "four events, two a page");
    let lines: Vec<Value> = file.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 5);
    let order: Vec<(String, u64)> =
        lines[..4].iter().map(|e| (e["todoId"].as_str().unwrap().to_owned(), e["version"].as_u64().unwrap())).collect();
    assert_eq!(
        order,
        vec![(first.clone(), 1), (first.clone(), 2), (first.clone(), 3), (second.clone(), 1)],
        "by todo, in version order"
    );
    for event in &lines[..4] {
        assert_eq!(event["userId"], ANN, "only the caller's events");
        assert!(event["hash"].as_str().is_some_and(|h| h.len() == 64) && event["prevHash"].is_string());
        assert!(event.get("eventKey").is_none());
    }
    let digest = &lines[4]["digest"];
    assert_eq!((digest["todos"].as_u64(), digest["events"].as_u64()), (Some(2), Some(4)));

    // The same digest as GET /history/digest gives for that history.
    let response = audit::http::get_history_digest(
        &stack.audit,
        ApiEvent::new("GET", "/history/digest", "/history/digest").signed_in(ANN, "x@example.com").request(),
    )
    .await;
    assert_eq!(response.status(), 200);
    let now = todo_testkit::response_json(&response);
    assert_eq!(now["digest"], digest["digest"]);
    assert!(now["asOf"].is_string());

    let (code, out) = verify_export(&file);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("checked 4 events of 2 todos") && out.contains("digest: matches"), "{out}");
}

#[tokio::test]
async fn a_tampered_or_truncated_export_does_not_verify() {
    let stack = Stack::new().await;
    let id = stack.create(ANN, "Buy milk").await;
    stack.rename(ANN, &id, "Buy oat milk").await;
    stack.rename(ANN, &id, "Buy soy milk").await;
    let (file, _) = stack.export_file(ANN, 500).await;

    let edited = file.replacen("Buy oat milk", "Buy whisky", 1);
    assert_ne!(edited, file);
    let (code, out) = verify_export(&edited);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("todo {id} version 2:")), "{out}");

    // An event left out: the gap, and the digest no longer matches the events there.
    let without_middle: Vec<&str> = file.lines().enumerate().filter(|(i, _)| *i != 1).map(|(_, l)| l).collect();
    let (code, out) = verify_export(&without_middle.join("\n"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("version 2 is missing") && out.contains("DOES NOT MATCH"), "{out}");

    let truncated: Vec<&str> = file.lines().take(3).collect();
    let (code, out) = verify_export(&truncated.join("\n"));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no closing digest"), "{out}");

    let (code, out) = verify_export("not json\n");
    assert_eq!(code, 1, "{out}");
}

#[tokio::test]
async fn bad_export_parameters_are_a_clear_400_and_no_identity_is_a_401() {
    let stack = Stack::new().await;
    stack.create(ANN, "Buy milk").await;
    let before = stack.tables.event_count().await;
    let export = || ApiEvent::new("GET", "/export", "/export").signed_in(ANN, "x@example.com");
    for (event, code) in [
        (export().query("limit", "0"), "invalid_limit"),
        (export().query("limit", "1001"), "invalid_limit"),
        (export().query("limit", "many"), "invalid_limit"),
        (export().query("cursor", "garbage"), "invalid_cursor"),
        (export().query("cursor", "eyJmb28iOjF9"), "invalid_cursor"),
    ] {
        let (status, body) = stack.export_page(event).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (status, _) = stack.export_page(ApiEvent::new("GET", "/export", "/export")).await;
    assert_eq!(status, 401);
    let response = audit::http::get_history_digest(
        &stack.audit,
        ApiEvent::new("GET", "/history/digest", "/history/digest").request(),
    )
    .await;
    assert_eq!(response.status(), 401);
    assert_eq!(stack.tables.event_count().await, before, "reads write nothing");
}

#[tokio::test]
async fn a_user_with_no_events_exports_just_a_digest() {
    let stack = Stack::new().await;
    stack.create(BOB, "Bob's").await;
    let (file, pages) = stack.export_file(ANN, 10).await;
    assert_eq!(pages, 1);
    let lines: Vec<Value> = file.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0]["digest"]["todos"].as_u64(), lines[0]["digest"]["events"].as_u64()), (Some(0), Some(0)));
    let (code, out) = verify_export(&file);
    assert_eq!(code, 0, "{out}");
}
