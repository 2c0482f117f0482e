//! Every route, as the SPA uses it.

use serde_json::json;
use todo_testkit::ApiEvent;

use crate::stack::*;

#[tokio::test]
async fn a_todo_lives_through_every_route() {
    let stack = Stack::new().await;

    // Create: 201, Location, ETag, and the resulting state without a read-your-write query.
    let answer = stack.send(create(ANN, json!({"title": "  Buy milk ", "notes": "semi-skimmed"}))).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_edge_headers(&answer);
    let id = answer.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        answer.header("location"),
        Some(format!("/prod/item/{id}").as_str()),
        "under the stage the client called"
    );
    assert_eq!(answer.header("etag"), Some("\"1\""));
    assert_eq!(answer.body["title"], "Buy milk", "titles are trimmed");
    assert_eq!(answer.body["notes"], "semi-skimmed");
    assert_eq!(answer.body["completed"], false);
    assert_eq!(answer.body["version"], 1);
    assert!(answer.body["createdAt"].is_string() && answer.body["updatedAt"].is_string());
    assert!(answer.body.get("completedAt").is_none());
    assert_eq!(uuid::Uuid::parse_str(&id).expect("uuid").get_version_num(), 7, "server ids are UUIDv7");

    stack.project().await;

    // Get: 200 + ETag.
    let answer = stack.send(get(ANN, &id)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("etag"), Some("\"1\""));
    assert_eq!(answer.body["title"], "Buy milk");
    assert_edge_headers(&answer);

    // Update with If-Match at the current version.
    let answer =
        stack.send(update(ANN, &id, json!({"title": "Buy oat milk", "notes": null})).header("If-Match", "\"1\"")).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["title"], "Buy oat milk");
    assert!(answer.body.get("notes").is_none(), "null notes clear them");
    assert_eq!(answer.body["version"], 2);
    assert_eq!(answer.header("etag"), Some("\"2\""));

    // A stale If-Match is 412 and changes nothing.
    let answer = stack.send(update(ANN, &id, json!({"title": "stale"})).header("If-Match", "\"1\"")).await;
    assert_error(&answer, 412);

    // Complete, then complete again: no new event.
    let answer = stack.send(complete(ANN, &id)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["completed"], true);
    assert!(answer.body["completedAt"].is_string());
    assert_eq!(answer.body["version"], 3);
    let answer = stack.send(complete(ANN, &id)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["version"], 3, "completing a completed todo appends nothing");

    // An update that changes nothing appends nothing.
    let answer = stack.send(update(ANN, &id, json!({"title": "Buy oat milk", "completed": true}))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["version"], 3);

    // Reopen.
    let answer = stack.send(update(ANN, &id, json!({"completed": false}))).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["completed"], false);
    assert!(answer.body.get("completedAt").is_none());
    assert_eq!(answer.body["version"], 4);

    stack.project().await;
    let answer = stack.send(get(ANN, &id)).await;
    assert_eq!(answer.body["version"], 4, "the read model caught up: {}", answer.body);
    assert_eq!(answer.body["title"], "Buy oat milk");

    // Delete: 204, then 404 everywhere but the history; deleting again is harmless.
    let answer = stack.send(delete(ANN, &id).header("If-Match", "\"4\"")).await;
    assert_eq!(answer.status, 204);
    assert_edge_headers(&answer);
    let answer = stack.send(delete(ANN, &id)).await;
    assert_eq!(answer.status, 204);
    assert_error(&stack.send(update(ANN, &id, json!({"title": "zombie"}))).await, 404);
    assert_error(&stack.send(complete(ANN, &id)).await, 404);
    stack.project().await;
    assert_error(&stack.send(get(ANN, &id)).await, 404);
    assert_eq!(stack.send(list(ANN)).await.body["items"], json!([]));

    // Item history, also after the delete, in version order.
    let answer = stack.send(item_history(ANN, &id)).await;
    assert_eq!(answer.status, 200);
    let events = answer.body["events"].as_array().expect("events");
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap_or_default()).collect();
    assert_eq!(types, ["TodoCreated", "TodoUpdated", "TodoCompleted", "TodoUpdated", "TodoDeleted"]);
    let versions: Vec<u64> = events.iter().map(|e| e["version"].as_u64().unwrap_or_default()).collect();
    assert_eq!(versions, [1, 2, 3, 4, 5]);
    assert_eq!(events[0]["data"], json!({"title": "Buy milk", "notes": "semi-skimmed"}));
    assert_eq!(events[1]["data"], json!({"title": "Buy oat milk", "notes": ""}));
    assert_eq!(events[2]["data"], json!({"title": "Buy oat milk"}), "a completion names its todo");
    assert_eq!(events[3]["data"], json!({"completed": false}));
    assert_eq!(events[4]["data"], json!({"title": "Buy oat milk"}));
    assert_eq!(events[0]["schemaVersion"], 1);
    assert_eq!(events[0]["actor"], ANN.sub);
    assert!(events[0]["requestId"].is_string());
    assert!(events[0].get("userId").is_none(), "table keys are not part of the wire format");

    // An id that never existed has no history.
    assert_error(&stack.send(item_history(ANN, &uuid::Uuid::now_v7().to_string())).await, 404);
}

#[tokio::test]
async fn create_with_a_client_id_is_idempotent() {
    let stack = Stack::new().await;
    let id = uuid::Uuid::new_v4().to_string();
    let body = json!({"id": id, "title": "Water plants"});
    let first = stack.send(create(ANN, body.clone())).await;
    let retry = stack.send(create(ANN, body)).await;
    assert_eq!(first.status, 201);
    assert_eq!(retry.status, 201, "a retry gets the same answer");
    assert_eq!(first.body, retry.body);
    assert_eq!(first.body["id"], id);
    assert_eq!(stack.tables.event_count().await, 1, "a retry appends nothing");

    let other = stack.send(create(ANN, json!({"id": id, "title": "Something else"}))).await;
    assert_error(&other, 409);
    assert_eq!(stack.tables.event_count().await, 1);

    // A retry that arrives after the todo changed is still the same create: the todo as it is now.
    let renamed = stack.send(update(ANN, &id, json!({"title": "Water the plants", "completed": true}))).await;
    assert_eq!(renamed.status, 200);
    let late_retry = stack.send(create(ANN, json!({"id": id, "title": "Water plants"}))).await;
    assert_eq!(late_retry.status, 201, "{}", late_retry.body);
    assert_eq!(late_retry.body, renamed.body, "the todo as it is now");
    assert_eq!(late_retry.header("etag"), Some("\"3\""));
    assert_eq!(stack.tables.event_count().await, 3, "the late retry appends nothing");

    // ... unless it has been deleted since: nothing to answer with.
    assert_eq!(stack.send(delete(ANN, &id)).await.status, 204);
    let after_delete = stack.send(create(ANN, json!({"id": id, "title": "Water plants"}))).await;
    assert_error(&after_delete, 409);
    assert!(after_delete.body["error"]["message"].as_str().unwrap().contains("since been deleted"));
    assert_eq!(stack.tables.event_count().await, 4);
}

#[tokio::test]
async fn lists_filter_by_status_and_paginate_in_creation_order() {
    let stack = Stack::new().await;
    let mut ids = Vec::new();
    for n in 0..7 {
        ids.push(created(&stack, ANN, &format!("todo {n}")).await);
    }
    for id in ids.iter().skip(1).step_by(2) {
        assert_eq!(stack.send(complete(ANN, id)).await.status, 200);
    }
    assert_eq!(stack.send(delete(ANN, &ids[6])).await.status, 204);
    stack.project().await;

    async fn all_pages(stack: &Stack, status: &str, limit: &str) -> Vec<String> {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut event = list(ANN).query("status", status).query("limit", limit);
            if let Some(cursor) = &cursor {
                event = event.query("cursor", cursor);
            }
            let answer = stack.send(event).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            let items = answer.body["items"].as_array().expect("items");
            assert!(items.len() <= limit.parse().expect("limit"));
            seen.extend(items.iter().map(|t| t["id"].as_str().unwrap_or_default().to_owned()));
            match answer.body["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return seen,
            }
        }
    }
    assert_eq!(all_pages(&stack, "all", "2").await, ids[..6].to_vec(), "creation order, no tombstones");
    assert_eq!(all_pages(&stack, "active", "2").await, vec![ids[0].clone(), ids[2].clone(), ids[4].clone()]);
    assert_eq!(all_pages(&stack, "completed", "1").await, vec![ids[1].clone(), ids[3].clone(), ids[5].clone()]);
    let first_page = stack.send(list(ANN)).await;
    assert_eq!(first_page.body["items"].as_array().map(Vec::len), Some(6));
    assert!(first_page.body.get("nextCursor").is_none());
}

#[tokio::test]
async fn the_user_history_is_in_time_order_and_paginates() {
    let stack = Stack::new().await;
    let a = created(&stack, ANN, "a").await;
    let b = created(&stack, ANN, "b").await;
    stack.send(complete(ANN, &a)).await;
    stack.send(update(ANN, &b, json!({"title": "b2", "completed": true}))).await;
    stack.send(delete(ANN, &a)).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut event = history(ANN).query("limit", "2");
        if let Some(cursor) = &cursor {
            event = event.query("cursor", cursor);
        }
        let answer = stack.send(event).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        for e in answer.body["events"].as_array().expect("events") {
            seen.push((
                e["todoId"].as_str().unwrap_or_default().to_owned(),
                e["type"].as_str().unwrap_or_default().to_owned(),
                e["occurredAt"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        match answer.body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let kinds: Vec<(&str, &str)> = seen.iter().map(|(t, k, _)| (t.as_str(), k.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (a.as_str(), "TodoCreated"),
            (b.as_str(), "TodoCreated"),
            (a.as_str(), "TodoCompleted"),
            (b.as_str(), "TodoUpdated"),
            (b.as_str(), "TodoCompleted"),
            (a.as_str(), "TodoDeleted"),
        ]
    );
    assert!(seen.windows(2).all(|w| w[0].2 < w[1].2), "strictly increasing times");
}

#[tokio::test]
async fn a_request_without_claims_is_401_and_writes_nothing() {
    let stack = Stack::new().await;
    let unsigned = ApiEvent::new("POST", "/item", "/item").json(&json!({"title": "x"}));
    assert_error(&stack.send(unsigned).await, 401);
    let no_sub = ApiEvent::new("GET", "/item", "/item");
    assert_error(&stack.send(no_sub).await, 401);
    assert_eq!(stack.tables.event_count().await, 0);
}

#[tokio::test]
async fn the_request_id_is_api_gateways() {
    let stack = Stack::new().await;
    let event = list(ANN);
    let expected = event.request_id().to_owned();
    assert_eq!(stack.send(event).await.header("x-request-id"), Some(expected.as_str()));
}
