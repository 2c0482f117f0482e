//! Tokens the authorizer must refuse, with a 401 from the router before any function runs.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::PublicKeyComponents;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use todo_local::auth::keys::{Jwks, SigningKey, key_path};
use todo_local::auth::verify::{RejectedToken, TokenVerifier};

use crate::helpers::{CLIENT_ID, TestStack, payload};

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// Makes the tokens an attacker could bring, from a genuine one of the stack.
pub struct Forger {
    claims: Value,
    real_key: SigningKey,
    jwks: Jwks,
}

impl Forger {
    pub async fn new(stack: &TestStack, id_token: &str) -> Self {
        let jwks: Jwks =
            stack.client.get(stack.url("/auth/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
        Self { claims: payload(id_token), real_key: SigningKey::load_or_generate(&stack.auth_dir()).unwrap(), jwks }
    }

    fn kid(&self) -> &str {
        self.real_key.kid()
    }

    fn claims_with(&self, changes: Value) -> Value {
        let mut claims = self.claims.clone();
        for (name, value) in changes.as_object().unwrap() {
            claims[name] = value.clone();
        }
        claims
    }

    /// The `alg: none` attack: no signature at all.
    pub fn unsigned(&self) -> String {
        format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT", "kid": self.kid()})), b64(&self.claims))
    }

    /// A well-formed RS256 token by another key, claiming the real key's kid.
    pub fn signed_by_another_key(&self, reuse_kid: bool) -> String {
        let other_dir = tempfile::tempdir().unwrap();
        let other = SigningKey::load_or_generate(other_dir.path()).unwrap();
        if !reuse_kid {
            return other.sign(&self.claims).unwrap();
        }
        let pem = std::fs::read(key_path(other_dir.path())).unwrap();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid().to_owned());
        jsonwebtoken::encode(&header, &self.claims, &EncodingKey::from_rsa_pem(&pem).unwrap()).unwrap()
    }

    /// The key-confusion attack: HMAC keyed with the (public) RSA key's PEM.
    pub fn hs256_with_public_key(&self) -> String {
        let jwk = &self.jwks.keys[0];
        let components = PublicKeyComponents {
            n: URL_SAFE_NO_PAD.decode(&jwk.n).unwrap(),
            e: URL_SAFE_NO_PAD.decode(&jwk.e).unwrap(),
        };
        let der = components.as_der().unwrap();
        let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", STANDARD.encode(der.as_ref()));
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid().to_owned());
        jsonwebtoken::encode(&header, &self.claims, &EncodingKey::from_secret(pem.as_bytes())).unwrap()
    }

    pub fn signed(&self, changes: Value) -> String {
        self.real_key.sign(&self.claims_with(changes)).unwrap()
    }

    pub fn tampered(&self, genuine: &str) -> String {
        let parts: Vec<&str> = genuine.split('.').collect();
        let forged_payload = b64(&self.claims_with(json!({"email": "mallory@example.com"})));
        format!("{}.{}.{}", parts[0], forged_payload, parts[2])
    }
}

#[tokio::test]
async fn forged_and_wrong_tokens_get_401_before_any_function_runs() {
    let stack = TestStack::start().await;
    let tokens = stack.sign_up("victim@example.com").await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let forger = Forger::new(&stack, id_token).await;
    let verifier = TokenVerifier::new(format!("{}/auth", stack.origin), CLIENT_ID, &forger.jwks).unwrap();

    // The genuine token passes, with or without the Bearer prefix, so the refusals below are
    // about what was forged.
    assert_eq!(stack.api(reqwest::Method::GET, "/item", Some(id_token)).await.status(), 200);
    let bare = stack.client.get(stack.url("/api/item")).header("authorization", id_token).send().await.unwrap();
    assert_eq!(bare.status(), 200);

    let now = now();
    let cases: Vec<(&str, String, RejectedToken)> = vec![
        ("alg none", forger.unsigned(), RejectedToken::Algorithm("none".into())),
        ("another RSA key, its own kid", forger.signed_by_another_key(false), RejectedToken::UnknownKey),
        ("another RSA key, the real kid", forger.signed_by_another_key(true), RejectedToken::BadSignature),
        ("HS256 keyed with the public key", forger.hs256_with_public_key(), RejectedToken::Algorithm("HS256".into())),
        ("expired", forger.signed(json!({"iat": now - 7200, "exp": now - 3600})), RejectedToken::Expired),
        ("wrong issuer", forger.signed(json!({"iss": "http://127.0.0.1:1/auth"})), RejectedToken::WrongIssuer),
        (
            "a Cognito issuer",
            forger.signed(json!({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"})),
            RejectedToken::WrongIssuer,
        ),
        ("wrong audience", forger.signed(json!({"aud": "another-client"})), RejectedToken::WrongAudience),
        ("access token", tokens["access_token"].as_str().unwrap().to_owned(), RejectedToken::NotAnIdToken),
        ("token_use missing", forger.signed(json!({"token_use": null})), RejectedToken::NotAnIdToken),
        ("tampered payload", forger.tampered(id_token), RejectedToken::BadSignature),
        ("not a JWT", "garbage".to_owned(), RejectedToken::Malformed),
    ];
    for (case, token, reason) in cases {
        assert_eq!(verifier.verify(&token).err(), Some(reason), "{case}");

        let response = stack.api(reqwest::Method::GET, "/item", Some(&token)).await;
        assert_eq!(response.status(), 401, "{case}");
        assert_eq!(response.headers()["access-control-allow-origin"], stack.origin.as_str(), "{case}");
        assert!(response.headers().contains_key("x-request-id"), "{case}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized", "{case}");
        assert!(body["error"]["message"].as_str().is_some_and(|message| !message.is_empty()), "{case}");
    }
    stack.stop().await;
}

#[tokio::test]
async fn a_missing_or_foreign_authorization_header_gets_401() {
    let stack = TestStack::start().await;
    let missing = stack.api(reqwest::Method::POST, "/item", None).await;
    assert_eq!(missing.status(), 401);
    assert_eq!(missing.headers()["access-control-allow-origin"], stack.origin.as_str());
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");

    for header in ["Basic dXNlcjpwYXNzd29yZA==", "Bearer", ""] {
        let response =
            stack.client.get(stack.url("/api/history")).header("authorization", header).send().await.unwrap();
        assert_eq!(response.status(), 401, "{header:?}");
    }
    stack.stop().await;
}
