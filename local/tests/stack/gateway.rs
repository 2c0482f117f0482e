//! The API Gateway emulation: what a function receives, and what the gateway answers itself.

use std::path::Path;

use lambda_http::{Body, Request, Response};
use serde_json::Value;
use todo_local::gateway::functions::Functions;

use crate::helpers::{TestStack, echo};

const TODO_ID: &str = "0190b6a4-7c4e-7a3b-8c1d-2e3f4a5b6c7d";

#[tokio::test]
async fn a_function_receives_the_rest_proxy_event_with_string_claims() {
    let stack = TestStack::start().await;
    let tokens = stack.sign_up("grace@example.com").await;
    let id_token = tokens["id_token"].as_str().unwrap();

    let response = stack
        .client
        .put(stack.url(&format!("/api/item/{TODO_ID}?dryRun=yes&tag=a&tag=b")))
        .bearer_auth(id_token)
        .header("content-type", "application/json")
        .header("if-match", "\"3\"")
        .body(r#"{"title":"Buy milk"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let request_id_header = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(response.headers()["x-amzn-requestid"].to_str().unwrap(), request_id_header);
    let event: Value = response.json().await.unwrap();

    assert_eq!(event["function"], "update-todo");
    assert_eq!(event["method"], "PUT");
    assert_eq!(event["pathParameters"], serde_json::json!({ "id": TODO_ID }));
    assert_eq!(event["query"]["dryRun"], "yes");
    assert_eq!(event["resourcePath"], "/item/{id}");
    assert_eq!(event["stage"], "local");
    assert_eq!(event["sourceIp"], "127.0.0.1");
    assert_eq!(event["body"], r#"{"title":"Buy milk"}"#);
    assert_eq!(event["contentType"], "application/json");
    let request_id = event["requestId"].as_str().unwrap();
    uuid::Uuid::parse_str(request_id).expect("requestId is a UUID");
    assert_eq!(request_id, request_id_header);

    // Every claim arrives as a string, as from API Gateway's Cognito authorizer.
    let claims = event["claims"].as_object().unwrap();
    assert!(claims.values().all(Value::is_string), "{claims:?}");
    let payload = crate::helpers::payload(id_token);
    assert_eq!(claims["sub"], payload["sub"]);
    assert_eq!(claims["email"], "grace@example.com");
    assert_eq!(claims["email_verified"], "true");
    assert_eq!(claims["token_use"], "id");
    assert_eq!(claims["cognito:username"], payload["sub"]);
    assert_eq!(claims["auth_time"], payload["auth_time"].to_string().as_str());
    assert!(
        claims["exp"].as_str().unwrap().ends_with(&format!("UTC {}", chrono_year(payload["exp"].as_i64().unwrap())))
    );
    stack.stop().await;
}

fn chrono_year(seconds: i64) -> i32 {
    use chrono::Datelike;
    chrono::DateTime::from_timestamp(seconds, 0).unwrap().year()
}

#[tokio::test]
async fn each_route_of_the_manifest_reaches_its_function() {
    let stack = TestStack::start().await;
    let tokens = stack.sign_up("heidi@example.com").await;
    let token = tokens["id_token"].as_str().unwrap();
    for (method, path, function) in [
        (reqwest::Method::POST, "/item".to_owned(), "create-todo"),
        (reqwest::Method::GET, "/item".to_owned(), "list-todos"),
        (reqwest::Method::GET, format!("/item/{TODO_ID}"), "get-todo"),
        (reqwest::Method::PUT, format!("/item/{TODO_ID}"), "update-todo"),
        (reqwest::Method::DELETE, format!("/item/{TODO_ID}"), "delete-todo"),
        (reqwest::Method::POST, format!("/item/{TODO_ID}/done"), "complete-todo"),
        (reqwest::Method::GET, format!("/item/{TODO_ID}/history"), "get-todo-history"),
        (reqwest::Method::GET, "/history".to_owned(), "get-history"),
    ] {
        let response = stack.api(method.clone(), &path, Some(token)).await;
        assert_eq!(response.status(), 200, "{method} {path}");
        let event: Value = response.json().await.unwrap();
        assert_eq!(event["function"], function, "{method} {path}");
    }
    stack.stop().await;
}

#[tokio::test]
async fn preflights_are_answered_by_the_gateway_with_cors() {
    let stack = TestStack::start().await;
    let response = stack
        .client
        .request(reqwest::Method::OPTIONS, stack.url(&format!("/api/item/{TODO_ID}")))
        .header("origin", &stack.origin)
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "authorization, content-type, if-match")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let headers = response.headers();
    assert_eq!(headers["access-control-allow-origin"], stack.origin.as_str());
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    for method in ["GET", "POST", "PUT", "DELETE", "OPTIONS"] {
        assert!(methods.contains(method), "{methods}");
    }
    let allowed = headers["access-control-allow-headers"].to_str().unwrap().to_lowercase();
    for header in ["authorization", "content-type", "if-match"] {
        assert!(allowed.contains(header), "{allowed}");
    }
    let exposed = headers["access-control-expose-headers"].to_str().unwrap().to_lowercase();
    for header in ["etag", "location", "x-request-id"] {
        assert!(exposed.contains(header), "{exposed}");
    }
    stack.stop().await;
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_the_api_error_shape() {
    let stack = TestStack::start().await;
    let token = stack.sign_up("ivan@example.com").await["id_token"].as_str().unwrap().to_owned();
    for path in ["/nothing", "/item/a/b/c", "", "/item/"] {
        let response = stack.api(reqwest::Method::GET, path, Some(&token)).await;
        assert_eq!(response.status(), 404, "{path:?}");
        assert_eq!(response.headers()["access-control-allow-origin"], stack.origin.as_str());
        assert!(response.headers().contains_key("x-request-id"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }
    // Routing comes before the authorizer, as on API Gateway.
    assert_eq!(stack.api(reqwest::Method::GET, "/nothing", None).await.status(), 404);

    let response = stack.api(reqwest::Method::PATCH, &format!("/item/{TODO_ID}"), Some(&token)).await;
    assert_eq!(response.status(), 405);
    assert!(response.headers()["allow"].to_str().unwrap().contains("PUT"));
    assert_eq!(response.json::<Value>().await.unwrap()["error"]["code"], "method_not_allowed");
    stack.stop().await;
}

#[tokio::test]
async fn an_unwired_function_is_501_and_a_crashing_one_502() {
    let temp = tempfile::tempdir().unwrap();
    let crash = |_request: Request| async {
        panic!("the handler crashed");
        #[allow(unreachable_code)]
        Response::new(Body::Empty)
    };
    let functions =
        Functions::new().with("list-todos", echo("list-todos")).unwrap().with("get-history", crash).unwrap();
    let stack = TestStack::start_with(temp.path(), 0, functions).await;
    let token =
        todo_local::auth::issue_token_for(&stack.auth_dir(), &format!("{}/auth", stack.origin), "judy@example.com")
            .unwrap();

    assert_eq!(stack.api(reqwest::Method::GET, "/item", Some(&token)).await.status(), 200);
    let unwired = stack.api(reqwest::Method::POST, "/item", Some(&token)).await;
    assert_eq!(unwired.status(), 501);
    assert_eq!(unwired.json::<Value>().await.unwrap()["error"]["code"], "not_implemented");
    let crashed = stack.api(reqwest::Method::GET, "/history", Some(&token)).await;
    assert_eq!(crashed.status(), 502);
    assert_eq!(crashed.headers()["access-control-allow-origin"], stack.origin.as_str());
    stack.stop().await;
    assert!(Path::new(temp.path()).exists());
}
