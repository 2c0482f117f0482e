use serde_json::Value;

use crate::helpers::TestStack;

#[tokio::test]
async fn discovery_names_the_issuer_and_its_endpoints() {
    let stack = TestStack::start().await;
    let response = stack
        .client
        .get(stack.url("/auth/.well-known/openid-configuration"))
        .header("origin", &stack.origin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], stack.origin.as_str());
    let document: Value = response.json().await.unwrap();

    let issuer = format!("http://127.0.0.1:{}/auth", stack.port);
    assert_eq!(document["issuer"], issuer.as_str());
    assert_eq!(document["authorization_endpoint"], format!("{issuer}/authorize").as_str());
    assert_eq!(document["token_endpoint"], format!("{issuer}/token").as_str());
    assert_eq!(document["jwks_uri"], format!("{issuer}/.well-known/jwks.json").as_str());
    assert_eq!(document["end_session_endpoint"], format!("{issuer}/logout").as_str());
    assert_eq!(document["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(document["id_token_signing_alg_values_supported"], serde_json::json!(["RS256"]));
    stack.stop().await;
}

#[tokio::test]
async fn the_jwks_publishes_the_key_that_signs_id_tokens() {
    let stack = TestStack::start().await;
    let tokens = stack.sign_up("jwks@example.com").await;
    let jwks: Value =
        stack.client.get(stack.url("/auth/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();

    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["e"], "AQAB");
    let header = crate::helpers::header(tokens["id_token"].as_str().unwrap());
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], key["kid"]);
    stack.stop().await;
}

#[tokio::test]
async fn only_the_spas_origin_gets_cors_from_the_sign_in() {
    let stack = TestStack::start().await;
    let preflight = stack
        .client
        .request(reqwest::Method::OPTIONS, stack.url("/auth/token"))
        .header("origin", &stack.origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(preflight.headers()["access-control-allow-origin"], stack.origin.as_str());
    assert!(preflight.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));

    let foreign = stack
        .client
        .get(stack.url("/auth/.well-known/jwks.json"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 200);
    assert!(foreign.headers().get("access-control-allow-origin").is_none());
    stack.stop().await;
}
