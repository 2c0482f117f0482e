//! The built SPA and its runtime config, served on the stack's origin.

use serde_json::{Value, json};

use crate::helpers::TestStack;

#[tokio::test]
async fn config_json_points_the_spa_at_this_stack() {
    let stack = TestStack::start().await;
    let response = stack.client.get(stack.url("/config.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let config: Value = response.json().await.unwrap();
    let origin = &stack.origin;
    assert_eq!(
        config,
        json!({
            "apiBaseUrl": format!("{origin}/api"),
            "authority": format!("{origin}/auth"),
            "clientId": "todo-spa",
            "redirectUri": format!("{origin}/"),
            "postLogoutRedirectUri": format!("{origin}/"),
            "scope": "openid email profile aws.cognito.signin.user.admin",
            "logoutUrl": null,
            "liveUrl": format!("ws://127.0.0.1:{}/live", stack.port),
            "cognitoEndpoint": format!("{origin}/auth/cognito-idp")
        })
    );

    // The socket is named as the browser named the server, and wss behind a TLS proxy.
    let by_name: Value = stack
        .client
        .get(stack.url("/config.json"))
        .header("host", format!("localhost:{}", stack.port))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_name["liveUrl"], format!("ws://localhost:{}/live", stack.port));
    let behind_tls: Value = stack
        .client
        .get(stack.url("/config.json"))
        .header("host", "todo.example.com")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(behind_tls["liveUrl"], "wss://todo.example.com/live");
    stack.stop().await;
}

#[tokio::test]
async fn the_spa_is_served_with_index_html_for_client_routes() {
    let stack = TestStack::start().await;
    let www = stack.data_dir.join("www");
    std::fs::create_dir_all(www.join("assets")).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>To Do</title>").unwrap();
    std::fs::write(www.join("assets/app-1a2b.js"), "console.log('hi')").unwrap();

    for path in ["/", "/todos/123", "/signed-out"] {
        let response = stack.client.get(stack.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert!(response.headers().contains_key("x-request-id"));
        assert_eq!(response.text().await.unwrap(), "<!doctype html><title>To Do</title>");
    }
    let script = stack.client.get(stack.url("/assets/app-1a2b.js")).send().await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(script.headers()["cache-control"].to_str().unwrap().contains("immutable"));

    assert_eq!(stack.client.get(stack.url("/assets/missing.js")).send().await.unwrap().status(), 404);
    assert_eq!(
        stack.client.get(stack.url("/assets/%2e%2e/%2e%2e/auth/users.json")).send().await.unwrap().status(),
        404
    );
    stack.stop().await;
}

#[tokio::test]
async fn without_a_build_the_page_says_how_to_build_it() {
    let stack = TestStack::start().await;
    let response = stack.client.get(stack.url("/")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let page = response.text().await.unwrap();
    assert!(page.contains("make run"), "{page}");
    stack.stop().await;
}
