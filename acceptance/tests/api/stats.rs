//! `GET /stats` through the real handler, on the stats projection the projector maintains from the
//! event table's stream.

use serde_json::json;
use todo_testkit::ApiEvent;

use crate::stack::*;

#[tokio::test]
async fn stats_count_what_the_user_did_this_week_and_only_theirs() {
    let stack = Stack::new().await;
    let ids: Vec<String> =
        futures::future::join_all(["one", "two", "three", "four"].map(|t| created(&stack, ANN, t))).await;
    assert_eq!(stack.send(complete(ANN, &ids[0])).await.status, 200);
    assert_eq!(stack.send(complete(ANN, &ids[1])).await.status, 200);
    assert_eq!(stack.send(update(ANN, &ids[1], json!({"title": "two, renamed"}))).await.status, 200);
    assert_eq!(stack.send(delete(ANN, &ids[2])).await.status, 204);
    created(&stack, BOB, "bob's").await;
    stack.project().await;

    let answer = stack.send(stats(ANN)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_edge_headers(&answer);
    let body = &answer.body;
    assert_eq!((body["open"].as_u64(), body["completed"].as_u64()), (Some(1), Some(2)), "{body}");
    let weeks = body["weeks"].as_array().expect("weeks");
    assert_eq!(weeks.len(), 12);
    let this_week = weeks.last().expect("the current week");
    assert_eq!((this_week["created"].as_u64(), this_week["completed"].as_u64()), (Some(4), Some(2)));
    assert!(this_week["week"].as_str().is_some_and(|w| w.len() == 8 && &w[4..6] == "-W"), "{this_week}");
    assert!(weeks[..11].iter().all(|w| w["created"] == 0 && w["completed"] == 0));
    let median = body["medianCompletionSeconds"].as_f64().expect("a median");
    assert!((0.0..60.0).contains(&median), "completed within a minute of creation: {median}");
    assert!(body["asOf"].is_string());

    let bobs = stack.send(stats(BOB)).await;
    assert_eq!((bobs.body["open"].as_u64(), bobs.body["completed"].as_u64()), (Some(1), Some(0)));
    assert!(bobs.body["medianCompletionSeconds"].is_null());
    let nobody = stack.send(stats(User { sub: "c0ffee00-0000-4000-8000-000000000000", email: "c@example.com" })).await;
    assert_eq!(nobody.status, 200);
    assert_eq!((nobody.body["open"].as_u64(), nobody.body["completed"].as_u64()), (Some(0), Some(0)));

    let four = stack.send(stats(ANN).query("weeks", "4")).await;
    assert_eq!(four.body["weeks"].as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn bad_stats_parameters_are_a_clear_400() {
    let stack = Stack::new().await;
    for weeks in ["0", "53", "-1", "twelve", ""] {
        let answer = stack.send(stats(ANN).query("weeks", weeks)).await;
        assert_error(&answer, 400);
        assert_eq!(answer.body["error"]["code"], "invalid_weeks", "weeks={weeks}");
    }
    let answer = stack.send(ApiEvent::new("GET", "/stats", "/stats")).await;
    assert_error(&answer, 401);
}
