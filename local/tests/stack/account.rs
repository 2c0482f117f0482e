//! Deleting an account locally: `DELETE /api/account` erases the caller's data on the embedded
//! store, and the dev sign-in's emulation of Cognito's `DeleteUser` deletes the sign-in itself.

use std::time::Duration;

use futures::StreamExt as _;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{PASSWORD, Pkce, TestStack, payload};

const ADMIN_SCOPE: &str = "openid email profile aws.cognito.signin.user.admin";

/// Signs up through the form asking for `scope`; the token response.
async fn sign_up_with_scope(stack: &TestStack, email: &str, scope: &str) -> Value {
    let pkce = Pkce::new();
    let mut form: Vec<(&str, String)> = stack
        .authorize_params(&pkce, "state-123", "nonce-456")
        .into_iter()
        .map(|(name, value)| (name, if name == "scope" { scope.to_owned() } else { value }))
        .collect();
    form.extend([("email", email.to_owned()), ("password", PASSWORD.to_owned()), ("action", "create-account".into())]);
    let redirect = stack
        .client
        .post(stack.url("/auth/authorize"))
        .header("origin", &stack.origin)
        .form(&form)
        .send()
        .await
        .unwrap();
    let code = stack.code_from(&redirect);
    let response = stack.exchange(&code, &pkce.verifier).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn delete_user(stack: &TestStack, target: &str, access_token: &str) -> (u16, Value) {
    let response = stack
        .client
        .post(stack.url("/auth/cognito-idp"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", target)
        .body(json!({ "AccessToken": access_token }).to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], "application/x-amz-json-1.1");
    (status, serde_json::from_str(&response.text().await.unwrap()).unwrap())
}

const DELETE_USER: &str = "AWSCognitoIdentityProviderService.DeleteUser";

#[tokio::test]
async fn delete_user_with_the_access_token_ends_the_account_and_its_email_starts_afresh() {
    let stack = TestStack::start().await;
    let tokens = sign_up_with_scope(&stack, "ann@example.com", ADMIN_SCOPE).await;
    let (access, id_token) = (tokens["access_token"].as_str().unwrap(), tokens["id_token"].as_str().unwrap());
    let first_sub = payload(id_token)["sub"].as_str().unwrap().to_owned();

    // Only the access token, with the admin scope, of this sign-in, for this operation.
    let (status, body) = delete_user(&stack, DELETE_USER, id_token).await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("NotAuthorizedException")));
    let (status, body) = delete_user(&stack, "AWSCognitoIdentityProviderService.AdminDeleteUser", access).await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("UnknownOperationException")));
    let narrow = sign_up_with_scope(&stack, "bob@example.com", "openid email").await;
    let (status, body) = delete_user(&stack, DELETE_USER, narrow["access_token"].as_str().unwrap()).await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("NotAuthorizedException")), "{body}");

    assert_eq!(delete_user(&stack, DELETE_USER, access).await, (200, json!({})));
    let (status, body) = delete_user(&stack, DELETE_USER, access).await;
    assert_eq!((status, body["__type"].as_str()), (400, Some("UserNotFoundException")));

    // The sign-in no longer knows her, her refresh token is dead, and a new account is a new user.
    let pkce = Pkce::new();
    let refused = stack.submit_form(&pkce, "sign-in", "ann@example.com", PASSWORD).await;
    assert_ne!(refused.status(), 302, "signing in as a deleted account is refused");
    let refreshed = stack.refresh(tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refreshed.status(), 400);
    let again = sign_up_with_scope(&stack, "ann@example.com", ADMIN_SCOPE).await;
    assert_ne!(payload(again["id_token"].as_str().unwrap())["sub"].as_str().unwrap(), first_sub);
    // Bob's sign-in is untouched.
    let bob_refresh = stack.refresh(narrow["refresh_token"].as_str().unwrap()).await;
    assert_eq!(bob_refresh.status(), 200);
    stack.stop().await;
}

async fn json_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() })
}

#[tokio::test]
async fn delete_account_erases_the_caller_only_closes_their_sockets_and_answers_the_same_receipt_again() {
    let stack = TestStack::start_embedded().await;
    let (ann, bob) = (stack.token("ann@example.com"), stack.token("bob@example.com"));
    let create = |token: &str, title: &str| {
        let request = stack
            .client
            .post(stack.url("/api/item"))
            .header("authorization", format!("Bearer {token}"))
            .json(&json!({ "title": title }));
        async move { json_of(request.send().await.unwrap()).await }
    };
    for n in 0..3 {
        assert_eq!(create(&ann, &format!("Ann's {n}")).await.0, 201);
        assert_eq!(create(&bob, &format!("Bob's {n}")).await.0, 201);
    }
    let live = format!("ws://127.0.0.1:{}/live?token={ann}", stack.port);
    let (mut socket, _) = tokio_tungstenite::connect_async(live).await.expect("Ann's live socket");

    assert_eq!(json_of(stack.api(Method::DELETE, "/account", None).await).await.0, 401);
    let forged = format!("{}x", &bob[..bob.len() - 1]);
    assert_eq!(json_of(stack.api(Method::DELETE, "/account", Some(&forged)).await).await.0, 401);

    let (status, answer) = json_of(stack.api(Method::DELETE, "/account", Some(&ann)).await).await;
    assert_eq!(status, 200, "{answer}");
    let receipt = answer["receipt"].clone();
    assert_eq!(receipt["erased"]["events"], 3);
    assert_eq!(receipt["erased"]["connections"], 1);
    let text = receipt.to_string();
    assert!(!text.contains("Ann") && !text.contains("ann@") && !text.contains(payload(&ann)["sub"].as_str().unwrap()));

    // Her socket is told to re-read and closed.
    let mut closed = false;
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_secs(2), socket.next()).await {
        if matches!(frame, Ok(Message::Close(_)) | Err(_)) {
            closed = true;
            break;
        }
    }
    assert!(closed, "the erased user's socket was closed");

    // Her still-valid token cannot open a socket again.
    let refused = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/live?token={ann}", stack.port)).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected a 403 before the upgrade, got {other:?}"),
    }

    let (status, listed) = json_of(stack.api(Method::GET, "/item", Some(&ann)).await).await;
    assert_eq!((status, listed["items"].as_array().map(Vec::len)), (200, Some(0)));
    let (status, refused) = create(&ann, "after").await;
    assert_eq!((status, refused["error"]["code"].as_str()), (410, Some("account_erased")));
    let (status, again) = json_of(stack.api(Method::DELETE, "/account", Some(&ann)).await).await;
    assert_eq!((status, &again["receipt"]), (200, &receipt));

    let (_, bobs) = json_of(stack.api(Method::GET, "/item", Some(&bob)).await).await;
    assert_eq!(bobs["items"].as_array().map(Vec::len), Some(3), "Bob's todos are all there");
    stack.stop().await;
}
