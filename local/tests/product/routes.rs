//! Every route through the whole local stack, with tokens from the dev sign-in, two users.

use serde_json::json;

use crate::process::Running;

#[tokio::test]
async fn every_route_for_two_users_over_http() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stack = Running::start(dir.path(), &[]).await;
    let ann = stack.token("ann@example.com").await;
    let bob = stack.token("bob@example.com").await;

    let created = stack.call(&ann, "POST", "/item", Some(json!({"title": "Ann's", "notes": "n"})), None).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    let item = format!("/item/{id}");

    let listed = stack.eventually(&ann, "/item", |r| r.body["items"].as_array().is_some_and(|i| i.len() == 1)).await;
    assert_eq!(listed.body["items"][0]["title"], "Ann's");
    let got = stack.call(&ann, "GET", &item, None, None).await;
    assert_eq!((got.status, got.etag.as_deref()), (200, Some("\"1\"")));

    let updated = stack.call(&ann, "PUT", &item, Some(json!({"title": "Ann's, edited"})), Some("\"1\"")).await;
    assert_eq!((updated.status, updated.body["version"].as_u64()), (200, Some(2)));
    let stale = stack.call(&ann, "PUT", &item, Some(json!({"title": "stale"})), Some("\"1\"")).await;
    assert_eq!(stale.status, 412);
    let done = stack.call(&ann, "POST", &format!("{item}/done"), None, None).await;
    assert_eq!((done.status, done.body["completed"].as_bool()), (200, Some(true)));
    let active = stack.call(&ann, "GET", "/item?status=active", None, None).await;
    assert_eq!(active.status, 200);

    // Bob sees none of it and can change none of it.
    assert_eq!(stack.call(&bob, "GET", &item, None, None).await.status, 404);
    assert_eq!(stack.call(&bob, "GET", &format!("{item}/history"), None, None).await.status, 404);
    assert_eq!(stack.call(&bob, "PUT", &item, Some(json!({"title": "Bob was here"})), None).await.status, 404);
    assert_eq!(stack.call(&bob, "POST", &format!("{item}/done"), None, None).await.status, 404);
    assert_eq!(stack.call(&bob, "DELETE", &item, None, None).await.status, 404);
    assert_eq!(stack.call(&bob, "GET", "/item", None, None).await.body["items"], json!([]));
    assert_eq!(stack.call(&bob, "GET", "/history", None, None).await.body["events"], json!([]));

    let deleted = stack.call(&ann, "DELETE", &item, None, Some("\"3\"")).await;
    assert_eq!(deleted.status, 204);
    stack.eventually(&ann, &item, |r| r.status == 404).await;
    let history = stack.call(&ann, "GET", &format!("{item}/history"), None, None).await;
    let types: Vec<&str> =
        history.body["events"].as_array().expect("events").iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types, ["TodoCreated", "TodoUpdated", "TodoCompleted", "TodoDeleted"]);
    let mine = stack.call(&ann, "GET", "/history?limit=2", None, None).await;
    assert_eq!(mine.body["events"].as_array().map(Vec::len), Some(2));
    assert!(mine.body["nextCursor"].is_string());
    stack.kill_hard().await;
}
