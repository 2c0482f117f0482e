//! One trace from the request to the read model: a command's log line and the projector's line for
//! the event it appended carry the same request id and X-Ray trace id, and so does the event.

use std::time::Duration;

use serde_json::{Value, json};

use crate::process::Running;

const TRACE: &str = "Root=1-6749f0c2-5f1e2d3c4b5a697887960514;Parent=53995c3f42cd8ad8;Sampled=1";
const ROOT: &str = "1-6749f0c2-5f1e2d3c4b5a697887960514";

#[tokio::test]
async fn the_projectors_line_for_a_command_is_found_by_its_request_id() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stack = Running::start_capturing_logs(dir.path()).await;
    let token = stack.token("ann@example.com").await;

    let response = stack
        .client()
        .post(format!("{}/api/item", stack.origin))
        .bearer_auth(&token)
        .header("X-Amzn-Trace-Id", TRACE)
        .json(&json!({"title": "traced"}))
        .send()
        .await
        .expect("create");
    assert_eq!(response.status(), 201);
    let request_id = response.headers()["x-request-id"].to_str().expect("request id").to_owned();
    let todo: Value = response.json().await.expect("todo");
    let todo_id = todo["id"].as_str().expect("id").to_owned();

    let mut projected = None;
    for _ in 0..200 {
        projected = stack.logs().into_iter().find(|line| line.contains(&request_id) && line.contains("projected"));
        if projected.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let projected = projected.expect("the projector logged a line with the command's request id");
    assert!(projected.contains(ROOT), "and its trace id: {projected}");
    assert!(projected.contains(&todo_id), "and the todo: {projected}");

    let logs = stack.logs();
    let command = logs.iter().find(|line| line.contains(&request_id) && line.contains("command executed"));
    let command = command.expect("the command's own line");
    assert!(command.contains(ROOT) && command.contains(&todo_id), "{command}");

    // The event itself keeps both, beside each other in its metadata.
    let export: Value = stack
        .client()
        .get(format!("{}/api/export", stack.origin))
        .bearer_auth(&token)
        .send()
        .await
        .expect("export")
        .json()
        .await
        .expect("JSON");
    let event = &export["events"][0];
    assert_eq!((event["requestId"].as_str(), event["traceId"].as_str()), (Some(request_id.as_str()), Some(ROOT)));

    // Without a trace header the stack starts a trace, as API Gateway does.
    let untraced = stack.call(&token, "POST", "/item", Some(json!({"title": "untraced"})), None).await;
    assert_eq!(untraced.status, 201);
    let export: Value = stack.call(&token, "GET", "/export", None, None).await.body;
    let trace = export["events"].as_array().expect("events").iter().find_map(|e| {
        (e["todoId"] == untraced.body["id"]).then(|| e["traceId"].as_str().unwrap_or_default().to_owned())
    });
    let trace = trace.expect("the new event");
    assert!(trace.starts_with("1-") && trace.len() == 35, "an X-Ray trace id: {trace}");
}
