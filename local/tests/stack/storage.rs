//! What the sign-in keeps in the data dir, and that it survives a restart.

use std::os::unix::fs::PermissionsExt;

use serde_json::Value;

use crate::helpers::{PASSWORD, TestStack, echo_functions};

#[tokio::test]
async fn a_token_issued_before_a_restart_verifies_after_it() {
    let stack = TestStack::start().await;
    let port = stack.port;
    let data_dir = stack.data_dir.clone();
    let tokens = stack.sign_up("kim@example.com").await;
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let jwks_before: Value =
        stack.client.get(stack.url("/auth/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let temp = stack.stop().await;

    // Same data dir and port (the issuer names the port), new process state.
    let restarted = TestStack::start_with(&data_dir, port, echo_functions()).await;
    let jwks_after: Value =
        restarted.client.get(restarted.url("/auth/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks_before, jwks_after);
    let response = restarted.api(reqwest::Method::GET, "/item", Some(&id_token)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["claims"]["email"], "kim@example.com");
    assert_eq!(restarted.refresh(&refresh_token).await.status(), 200, "a sign-in survives a restart");
    restarted.stop().await;
    drop(temp);
}

#[tokio::test]
async fn passwords_are_stored_as_salted_hashes_in_private_files() {
    let stack = TestStack::start().await;
    stack.sign_up("liam@example.com").await;
    stack.sign_up("mia@example.com").await;

    let users_path = stack.auth_dir().join("users.json");
    let text = std::fs::read_to_string(&users_path).unwrap();
    assert!(!text.contains(PASSWORD), "a password is stored in clear");
    let users: Value = serde_json::from_str(&text).unwrap();
    let hashes: Vec<&str> =
        users["users"].as_array().unwrap().iter().map(|user| user["passwordHash"].as_str().unwrap()).collect();
    assert_eq!(hashes.len(), 2);
    for hash in &hashes {
        assert!(hash.starts_with("$pbkdf2-sha256$i=600000$"), "{hash}");
    }
    assert_ne!(hashes[0], hashes[1], "same password, different salts");

    for file in ["users.json", "signing-key.pem", "refresh-tokens.json"] {
        let mode = std::fs::metadata(stack.auth_dir().join(file)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}");
    }
    stack.stop().await;
}
