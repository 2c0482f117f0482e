//! Optimistic concurrency under real contention on DynamoDB Local.

use futures::future::join_all;
use serde_json::json;

use crate::stack::*;

#[tokio::test]
async fn twenty_concurrent_updates_of_one_item() {
    let stack = Stack::new().await;
    let id = created(&stack, ANN, "contended").await;

    // Half of them conditional on the version they started from, half unconditional.
    let requests = (0..20).map(|n| {
        let mut event = update(ANN, &id, json!({ "title": format!("title {n}") }));
        if n % 2 == 0 {
            event = event.header("If-Match", "\"1\"");
        }
        stack.send(event)
    });
    let answers = join_all(requests).await;

    let mut accepted = 0;
    for answer in &answers {
        match answer.status {
            200 => accepted += 1,
            409 | 412 => assert_error(answer, answer.status),
            other => panic!("unexpected status {other}: {}", answer.body),
        }
    }
    assert!(accepted >= 1, "at least one update wins");

    let history = stack.send(item_history(ANN, &id)).await;
    let versions: Vec<u64> =
        history.body["events"].as_array().expect("events").iter().map(|e| e["version"].as_u64().unwrap_or(0)).collect();
    assert_eq!(versions, (1..=accepted as u64 + 1).collect::<Vec<_>>(), "every accepted update is one event, no holes");
    let accepted_versions: Vec<u64> =
        answers.iter().filter(|a| a.status == 200).map(|a| a.body["version"].as_u64().unwrap_or(0)).collect();
    let mut sorted = accepted_versions.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), accepted, "each accepted update answered with its own version");

    stack.project().await;
    let last = history.body["events"].as_array().and_then(|e| e.last()).cloned().expect("last event");
    let projected = stack.send(get(ANN, &id)).await;
    assert_eq!(projected.body["version"], last["version"], "the read model converges");
    assert_eq!(projected.body["title"], last["data"]["title"]);
}
