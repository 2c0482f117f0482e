//! Bad input is a clear 4xx JSON error and changes nothing.

use serde_json::json;
use todo_testkit::ApiEvent;

use crate::stack::*;

#[tokio::test]
async fn bad_requests_are_rejected_and_write_nothing() {
    let stack = Stack::new().await;
    let id = created(&stack, ANN, "existing").await;
    let before = stack.tables.event_count().await;
    let signed =
        |method: &str, resource: &str, path: &str| ApiEvent::new(method, resource, path).signed_in(ANN.sub, ANN.email);
    let put = || signed("PUT", "/item/{id}", &format!("/item/{id}")).path_param("id", &id);

    let cases: Vec<(&str, ApiEvent, u16)> = vec![
        ("malformed JSON", create(ANN, json!(null)).raw_body("{\"title\": "), 400),
        ("a JSON array", create(ANN, json!(["title"])), 400),
        ("a title of the wrong type", create(ANN, json!({"title": 42})), 400),
        ("an unknown field", create(ANN, json!({"title": "x", "priority": 1})), 400),
        ("a null id", create(ANN, json!({"title": "x", "id": null})), 400),
        ("null notes on a create", create(ANN, json!({"title": "x", "notes": null})), 400),
        ("a null title", update(ANN, &id, json!({"title": null})), 400),
        ("a null completed", update(ANN, &id, json!({"completed": null})), 400),
        ("no title", create(ANN, json!({"notes": "x"})), 400),
        ("an empty title", create(ANN, json!({"title": ""})), 400),
        ("a blank title", create(ANN, json!({"title": "   "})), 400),
        ("an oversized title", create(ANN, json!({"title": "x".repeat(201)})), 400),
        ("oversized notes", create(ANN, json!({"title": "x", "notes": "n".repeat(2001)})), 400),
        ("a non-UUID client id", create(ANN, json!({"title": "x", "id": "42"})), 400),
        ("a body over the limit", create(ANN, json!({"title": "x", "notes": "n".repeat(17_000)})), 413),
        ("an empty body", signed("POST", "/item", "/item").header("Content-Type", "application/json"), 400),
        (
            "a form body",
            signed("POST", "/item", "/item")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .raw_body("title=x"),
            415,
        ),
        ("no content type", signed("POST", "/item", "/item").raw_body("{\"title\":\"x\"}"), 415),
        ("completed of the wrong type", update(ANN, &id, json!({"completed": "yes"})), 400),
        ("an unknown update field", update(ANN, &id, json!({"owner": "bob"})), 400),
        ("an empty new title", update(ANN, &id, json!({"title": ""})), 400),
        ("a malformed If-Match", put().json(&json!({"title": "y"})).header("If-Match", "1"), 400),
        ("a non-UUID id on update", update(ANN, "not-a-uuid", json!({"title": "y"})), 400),
        ("a non-UUID id on complete", complete(ANN, "1234"), 400),
        ("a non-UUID id on delete", delete(ANN, "../other"), 400),
        ("a non-UUID id on get", get(ANN, "x"), 400),
        ("a non-UUID id on history", item_history(ANN, "x"), 400),
        ("an unknown status", list(ANN).query("status", "done"), 400),
        ("a zero limit", list(ANN).query("limit", "0"), 400),
        ("a huge limit", list(ANN).query("limit", "100000"), 400),
        ("a forged cursor", list(ANN).query("cursor", "not-a-cursor"), 400),
        ("a forged history cursor", history(ANN).query("cursor", "eyJ4IjoxfQ"), 400),
    ];
    for (what, event, status) in cases {
        let answer = stack.send(event).await;
        assert_eq!(answer.status, status, "{what}: {}", answer.body);
        assert_error(&answer, status);
    }
    assert_eq!(stack.tables.event_count().await, before, "no rejected request wrote an event");
    stack.project().await;
    let unchanged = stack.send(get(ANN, &id)).await;
    assert_eq!(unchanged.body["title"], "existing");
    assert_eq!(unchanged.body["version"], 1);
}

#[tokio::test]
async fn limits_are_inclusive() {
    let stack = Stack::new().await;
    let answer = stack.send(create(ANN, json!({"title": "é".repeat(200), "notes": "n".repeat(2000)}))).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
}
