//! An acknowledged command survives `kill -9`, and after a restart the projector catches up from
//! where it stopped: the read model equals the fold of the events.

use serde_json::json;

use crate::process::Running;

#[tokio::test]
async fn acknowledged_commands_survive_kill_dash_nine() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stack = Running::start(dir.path(), &[]).await;
    let token = stack.token("ann@example.com").await;

    let mut expected = Vec::new();
    for n in 0..40 {
        let reply = stack.call(&token, "POST", "/item", Some(json!({"title": format!("todo {n}")})), None).await;
        assert_eq!(reply.status, 201);
        let id = reply.body["id"].as_str().expect("id").to_owned();
        if n % 3 == 0 {
            let done = stack.call(&token, "POST", &format!("/item/{id}/done"), None, None).await;
            assert_eq!(done.status, 200);
        }
        expected.push((id, n % 3 == 0));
    }
    // Killed right after the last acknowledgement: the projector may well be behind.
    stack.kill_hard().await;

    let restarted = Running::start(dir.path(), &[]).await;
    // A new port is a new issuer: sign in again, as the same user.
    let token = restarted.token("ann@example.com").await;
    for (id, _) in &expected {
        let history = restarted.call(&token, "GET", &format!("/item/{id}/history"), None, None).await;
        assert_eq!(history.status, 200, "the events of {id} survived");
    }
    let listed = restarted
        .eventually(&token, "/item?limit=100", |r| {
            r.body["items"].as_array().is_some_and(|i| i.len() == expected.len())
        })
        .await;
    let items = listed.body["items"].as_array().expect("items");
    for ((id, completed), item) in expected.iter().zip(items) {
        assert_eq!(item["id"].as_str(), Some(id.as_str()), "creation order");
        assert_eq!(item["completed"].as_bool(), Some(*completed));
        assert_eq!(item["version"].as_u64(), Some(if *completed { 2 } else { 1 }), "the read model equals the fold");
    }
    restarted.kill_hard().await;
}
