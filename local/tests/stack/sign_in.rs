use serde_json::Value;
use todo_local::auth::keys::Jwks;
use todo_local::auth::verify::TokenVerifier;
use url::Url;

use crate::helpers::{CLIENT_ID, PASSWORD, Pkce, TestStack, payload};

async fn verifier_of(stack: &TestStack) -> TokenVerifier {
    let jwks: Jwks =
        stack.client.get(stack.url("/auth/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    TokenVerifier::new(format!("{}/auth", stack.origin), CLIENT_ID, &jwks).unwrap()
}

#[tokio::test]
async fn the_sign_in_page_is_a_labelled_form_with_two_buttons() {
    let stack = TestStack::start().await;
    let pkce = Pkce::new();
    let response = stack
        .client
        .get(stack.url("/auth/authorize"))
        .query(&stack.authorize_params(&pkce, "s", "n"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = response.text().await.unwrap();
    assert!(page.contains(r#"<label for="email">Email</label>"#));
    assert!(page.contains(r#"<input id="email" name="email" type="email""#));
    assert!(page.contains(r#"<label for="password">Password</label>"#));
    assert!(page.contains(r#"<input id="password" name="password" type="password""#));
    assert!(page.contains(">Sign in</button>"));
    assert!(page.contains(">Create account</button>"));
    assert!(page.contains(&pkce.challenge), "the challenge rides along in the form");
    stack.stop().await;
}

#[tokio::test]
async fn code_and_pkce_flow_yields_a_cognito_shaped_id_token() {
    let stack = TestStack::start().await;
    let pkce = Pkce::new();
    let redirect = stack.submit_form(&pkce, "create-account", "Alice@Example.com", PASSWORD).await;
    let code = stack.code_from(&redirect);

    let response = stack.exchange(&code, &pkce.verifier).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert!(tokens["refresh_token"].as_str().is_some_and(|token| !token.is_empty()));

    let id_token = tokens["id_token"].as_str().unwrap();
    let claims = verifier_of(&stack).await.verify(id_token).expect("the ID token verifies against the JWKS");
    let sub = claims.get("sub").unwrap();
    uuid::Uuid::parse_str(sub).expect("sub is a UUID");
    assert_eq!(claims.get("email"), Some("alice@example.com"));
    assert_eq!(claims.get("email_verified"), Some("true"));
    assert_eq!(claims.get("cognito:username"), Some(sub));
    assert_eq!(claims.get("token_use"), Some("id"));
    assert_eq!(claims.get("aud"), Some(CLIENT_ID));
    assert_eq!(claims.get("iss"), Some(format!("{}/auth", stack.origin).as_str()));
    assert_eq!(claims.get("nonce"), Some("nonce-456"));

    let raw = payload(id_token);
    let (iat, exp) = (raw["iat"].as_i64().unwrap(), raw["exp"].as_i64().unwrap());
    assert_eq!(exp - iat, 3600);
    assert!(raw["auth_time"].as_i64().is_some());

    let access = payload(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["client_id"], CLIENT_ID);
    assert!(access.get("aud").is_none());
    assert_eq!(access["sub"], sub);
    stack.stop().await;
}

#[tokio::test]
async fn signing_in_again_gives_the_same_sub_and_a_wrong_password_an_error() {
    let stack = TestStack::start().await;
    let first = stack.sign_up("bob@example.com").await;

    let wrong = stack.submit_form(&Pkce::new(), "sign-in", "bob@example.com", "not the password").await;
    assert_eq!(wrong.status(), 401);
    let page = wrong.text().await.unwrap();
    assert!(page.contains(r#"role="alert""#));
    assert!(page.contains("Incorrect email or password."));
    assert!(page.contains(r#"value="bob@example.com""#), "the email is kept in the form");

    let unknown = stack.submit_form(&Pkce::new(), "sign-in", "nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status(), 401);
    assert!(unknown.text().await.unwrap().contains("Incorrect email or password."));

    let taken = stack.submit_form(&Pkce::new(), "create-account", "bob@example.com", PASSWORD).await;
    assert_eq!(taken.status(), 409);
    assert!(taken.text().await.unwrap().contains("already exists"));

    let pkce = Pkce::new();
    let redirect = stack.submit_form(&pkce, "sign-in", "bob@example.com", PASSWORD).await;
    let code = stack.code_from(&redirect);
    let second: Value = stack.exchange(&code, &pkce.verifier).await.json().await.unwrap();
    assert_eq!(
        payload(second["id_token"].as_str().unwrap())["sub"],
        payload(first["id_token"].as_str().unwrap())["sub"]
    );
    stack.stop().await;
}

#[tokio::test]
async fn a_wrong_code_verifier_is_rejected_and_spends_the_code() {
    let stack = TestStack::start().await;
    let pkce = Pkce::new();
    let code = stack.code_from(&stack.submit_form(&pkce, "create-account", "carol@example.com", PASSWORD).await);

    let wrong = stack.exchange(&code, &Pkce::new().verifier).await;
    assert_eq!(wrong.status(), 400);
    let error: Value = wrong.json().await.unwrap();
    assert_eq!(error["error"], "invalid_grant");

    let right_but_late = stack.exchange(&code, &pkce.verifier).await;
    assert_eq!(right_but_late.status(), 400);
    stack.stop().await;
}

#[tokio::test]
async fn a_code_works_once_and_its_replay_revokes_the_sign_in() {
    let stack = TestStack::start().await;
    let pkce = Pkce::new();
    let code = stack.code_from(&stack.submit_form(&pkce, "create-account", "dave@example.com", PASSWORD).await);
    let tokens: Value = stack.exchange(&code, &pkce.verifier).await.json().await.unwrap();

    let replay = stack.exchange(&code, &pkce.verifier).await;
    assert_eq!(replay.status(), 400);
    assert_eq!(replay.json::<Value>().await.unwrap()["error"], "invalid_grant");

    let refresh = stack.refresh(tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(refresh.status(), 400, "the replayed code's tokens are revoked");
    stack.stop().await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_renew_the_id_token() {
    let stack = TestStack::start().await;
    let tokens = stack.sign_up("erin@example.com").await;
    let first_refresh = tokens["refresh_token"].as_str().unwrap();

    let response = stack.refresh(first_refresh).await;
    assert_eq!(response.status(), 200);
    let renewed: Value = response.json().await.unwrap();
    let second_refresh = renewed["refresh_token"].as_str().unwrap();
    assert_ne!(second_refresh, first_refresh);
    let claims = verifier_of(&stack).await.verify(renewed["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(claims.get("email"), Some("erin@example.com"));
    assert_eq!(claims.get("sub"), payload(tokens["id_token"].as_str().unwrap())["sub"].as_str());
    assert_eq!(
        payload(renewed["id_token"].as_str().unwrap())["auth_time"],
        payload(tokens["id_token"].as_str().unwrap())["auth_time"]
    );

    let third = stack.refresh(second_refresh).await;
    assert_eq!(third.status(), 200);
    // A second tab renewing with the same stored token at the same moment is not an attack: the
    // spent token works for a grace period (its reuse after that revokes the sign-in, see the unit
    // tests of `auth::refresh`).
    let other_tab = stack.refresh(first_refresh).await;
    assert_eq!(other_tab.status(), 200);

    let unknown = stack.refresh("not-a-refresh-token").await;
    assert_eq!(unknown.status(), 400);
    assert_eq!(unknown.json::<Value>().await.unwrap()["error"], "invalid_grant");
    stack.stop().await;
}

#[tokio::test]
async fn authorize_requests_are_validated() {
    let stack = TestStack::start().await;
    let pkce = Pkce::new();
    let get = |params: Vec<(&'static str, String)>| {
        let request = stack.client.get(stack.url("/auth/authorize")).query(&params);
        async move { request.send().await.unwrap() }
    };
    let with = |name: &'static str, value: &str| {
        let mut params = stack.authorize_params(&pkce, "state-1", "nonce-1");
        params.retain(|(param, _)| *param != name);
        if !value.is_empty() {
            params.push((name, value.to_owned()));
        }
        params
    };

    // Not redirectable: shown on the page, never sent to an unknown URL.
    for (name, value) in
        [("client_id", "someone-else"), ("redirect_uri", "https://evil.example/"), ("redirect_uri", "")]
    {
        let response = get(with(name, value)).await;
        assert_eq!(response.status(), 400, "{name}={value}");
        assert!(response.headers().get("location").is_none());
    }
    // Redirectable: the error goes back to the app with its state.
    for (name, value, error) in [
        ("response_type", "token", "unsupported_response_type"),
        ("code_challenge_method", "plain", "invalid_request"),
        ("code_challenge", "", "invalid_request"),
        ("state", "", "invalid_request"),
        ("scope", "email", "invalid_scope"),
        ("prompt", "none", "login_required"),
    ] {
        let response = get(with(name, value)).await;
        assert_eq!(response.status(), 302, "{name}={value}");
        let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        assert!(location.as_str().starts_with(&stack.redirect_uri()));
        let query: Vec<(String, String)> = location.query_pairs().into_owned().collect();
        assert!(query.contains(&("error".into(), error.into())), "{name}={value}: {query:?}");
    }
    stack.stop().await;
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused() {
    let stack = TestStack::start().await;
    let pkce = Pkce::new();
    let mut form = stack.authorize_params(&pkce, "s", "n");
    form.extend([
        ("email", "x@example.com".to_owned()),
        ("password", PASSWORD.to_owned()),
        ("action", "create-account".to_owned()),
    ]);
    let response = stack
        .client
        .post(stack.url("/auth/authorize"))
        .header("origin", "https://evil.example")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    stack.stop().await;
}

#[tokio::test]
async fn logout_redirects_to_the_app_and_ends_the_sign_in() {
    let stack = TestStack::start().await;
    let tokens = stack.sign_up("frank@example.com").await;
    let response = stack
        .client
        .get(stack.url("/auth/logout"))
        .query(&[
            ("client_id", CLIENT_ID),
            ("post_logout_redirect_uri", &stack.redirect_uri()),
            ("id_token_hint", tokens["id_token"].as_str().unwrap()),
            ("state", "bye"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], format!("{}?state=bye", stack.redirect_uri()).as_str());
    assert_eq!(stack.refresh(tokens["refresh_token"].as_str().unwrap()).await.status(), 400);

    let elsewhere = stack
        .client
        .get(stack.url("/auth/logout"))
        .query(&[("post_logout_redirect_uri", "https://evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), 400);
    assert!(elsewhere.headers().get("location").is_none());
    stack.stop().await;
}
