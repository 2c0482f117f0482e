//! One user can never see or change another's data: every route, both directions.

use serde_json::json;

use crate::stack::*;

#[tokio::test]
async fn no_route_crosses_between_users() {
    let stack = Stack::new().await;
    let anns = created(&stack, ANN, "Ann's secret").await;
    let bobs = created(&stack, BOB, "Bob's secret").await;
    stack.project().await;
    let events_before = stack.tables.event_count().await;

    for (intruder, victim_todo) in [(BOB, &anns), (ANN, &bobs)] {
        // Reads: another user's todo is a 404, exactly like a missing one.
        assert_error(&stack.send(get(intruder, victim_todo)).await, 404);
        assert_error(&stack.send(item_history(intruder, victim_todo)).await, 404);
        // Writes: 404, and nothing is appended.
        assert_error(&stack.send(update(intruder, victim_todo, json!({"title": "pwned"}))).await, 404);
        assert_error(
            &stack.send(update(intruder, victim_todo, json!({"title": "pwned"})).header("If-Match", "\"1\"")).await,
            404,
        );
        assert_error(&stack.send(complete(intruder, victim_todo)).await, 404);
        assert_error(&stack.send(delete(intruder, victim_todo)).await, 404);
        // Creating with another user's id makes the intruder's own todo, never touches the victim's.
        let answer = stack.send(create(intruder, json!({"id": victim_todo, "title": "mine now"}))).await;
        assert_eq!(answer.status, 201);
    }
    assert_eq!(stack.tables.event_count().await, events_before + 2, "only the intruders' own creates");
    stack.project().await;

    // Lists and histories show only the caller's own.
    for (user, own, other_title) in [(ANN, &anns, "Bob's secret"), (BOB, &bobs, "Ann's secret")] {
        let listed = stack.send(list(user)).await.body.to_string();
        assert!(!listed.contains(other_title), "{listed}");
        let history = stack.send(history(user)).await.body.to_string();
        assert!(!history.contains(other_title), "{history}");
        let mine = stack.send(get(user, own)).await;
        assert_eq!(mine.status, 200);
        assert_eq!(mine.body["version"], 1, "untouched by the other user");
    }
    let anns_copy = stack.send(get(BOB, &anns)).await;
    assert_eq!(anns_copy.body["title"], "mine now", "Bob's own todo under the same id");
    assert_eq!(stack.send(get(ANN, &anns)).await.body["title"], "Ann's secret");
}

#[tokio::test]
async fn user_ids_in_the_body_path_or_query_are_ignored() {
    let stack = Stack::new().await;
    let answer = stack.send(create(BOB, json!({"title": "x", "userId": ANN.sub}))).await;
    assert_error(&answer, 400);
    let listed = stack.send(list(BOB).query("userId", ANN.sub)).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["items"], json!([]));
}
