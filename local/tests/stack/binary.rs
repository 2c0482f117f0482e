//! The `todo-local` binary itself: the ready line, and `todo-local token`.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::helpers::TestStack;

const BINARY: &str = env!("CARGO_BIN_EXE_todo-local");

#[tokio::test]
async fn the_server_prints_one_ready_line_with_its_origin() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BINARY)
        .args(["--port", "0", "--data-dir"])
        .arg(data_dir.path())
        .arg("--www-dir")
        .arg(data_dir.path().join("no-spa"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    // A bound on a hang, not a pause: the line normally comes in milliseconds.
    let line = tokio::time::timeout(Duration::from_secs(120), stdout.next_line()).await.unwrap().unwrap().unwrap();

    let origin = line.strip_prefix("todo-local listening on ").expect(&line);
    let port: u16 = origin.strip_prefix("http://127.0.0.1:").unwrap().parse().unwrap();
    assert_ne!(port, 0);
    let config: Value = reqwest::get(format!("{origin}/config.json")).await.unwrap().json().await.unwrap();
    assert_eq!(config["apiBaseUrl"], format!("{origin}/api").as_str());

    child.kill().await.unwrap();
}

#[tokio::test]
async fn todo_local_token_prints_an_id_token_the_running_stack_accepts() {
    let stack = TestStack::start().await;
    let run = |email: &str| {
        std::process::Command::new(BINARY)
            .args(["token", "--email", email, "--data-dir"])
            .arg(&stack.data_dir)
            .output()
            .unwrap()
    };
    let output = run("nina@example.com");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();

    let response = stack.api(reqwest::Method::GET, "/item", Some(&token)).await;
    assert_eq!(response.status(), 200);
    let claims = response.json::<Value>().await.unwrap()["claims"].clone();
    assert_eq!(claims["email"], "nina@example.com");
    assert_eq!(claims["token_use"], "id");

    // The same user next time: the same sub.
    let again = String::from_utf8(run("NINA@example.com").stdout).unwrap();
    assert_eq!(crate::helpers::payload(again.trim())["sub"], claims["sub"]);

    // The account has a password nobody knows.
    let users = std::fs::read_to_string(stack.auth_dir().join("users.json")).unwrap();
    assert!(users.contains("$pbkdf2-sha256$"));
    stack.stop().await;
}
