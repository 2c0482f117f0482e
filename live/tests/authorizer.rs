//! `live-authorizer` against tokens made as the forged-token tests make them: a real ID token of the
//! pool is allowed with its `sub`; a forged, expired, foreign or access token, one signed by a key
//! the JWKS lacks, and no token at all are denied. The JWKS is fetched once per process.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_lambda_events::event::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse,
};
use base64::Engine as _;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use live::authorizer::{Authorizer, CognitoJwks, KeySource, RejectedToken, StaticKeys, UserPool};
use serde_json::{Value, json};

const POOL_ID: &str = "eu-west-1_AbC123def";
const CLIENT_ID: &str = "4tq5s2ocd0ev6n3ok2b1ip6qqt";
const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123def";
const SUB: &str = "4f1c2e9a-0000-4b8e-9a55-0a1b2c3d4e5f";
const METHOD_ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/$connect";

/// An RSA signing key as a user pool has one: PKCS#8, RS256, published in the JWKS under `kid`.
struct SigningKey {
    kid: String,
    key: EncodingKey,
    jwk: Jwk,
}

impl SigningKey {
    fn generate(kid: &str) -> Self {
        use aws_lc_rs::encoding::AsDer as _;
        use aws_lc_rs::rsa::{KeyPair, KeySize};
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("an RSA key");
        let der = pair.as_der().expect("PKCS#8");
        let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body.as_bytes().chunks(64).map(|line| std::str::from_utf8(line).unwrap()).collect();
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"));
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("a signing key");
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).expect("its JWK");
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Self { kid: kid.to_owned(), key, jwk }
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_as(&self.kid, claims)
    }

    /// Signed by this key, but naming another key's id.
    fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.key).expect("a token")
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The claims of a Cognito ID token of the pool, for the app client.
fn id_claims() -> Value {
    json!({
        "sub": SUB,
        "email_verified": true,
        "iss": ISSUER,
        "cognito:username": SUB,
        "origin_jti": "0f5c3a52-0000-4000-8000-000000000001",
        "aud": CLIENT_ID,
        "event_id": "3b5c3a52-0000-4000-8000-000000000002",
        "token_use": "id",
        "auth_time": now() - 60,
        "exp": now() + 3600,
        "iat": now() - 60,
        "jti": "7c5c3a52-0000-4000-8000-000000000003",
        "email": "ann@example.com"
    })
}

/// The claims of a Cognito access token: no `aud`, a `client_id` and `token_use: access`.
fn access_claims() -> Value {
    json!({
        "sub": SUB,
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "origin_jti": "0f5c3a52-0000-4000-8000-000000000001",
        "token_use": "access",
        "scope": "openid email profile",
        "auth_time": now() - 60,
        "exp": now() + 3600,
        "iat": now() - 60,
        "jti": "8d5c3a52-0000-4000-8000-000000000004",
        "username": SUB
    })
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

/// The REQUEST authorizer's input for a WebSocket `$connect`, as API Gateway sends it.
fn connect_request(token: Option<&str>) -> ApiGatewayCustomAuthorizerRequestTypeRequest {
    let (query, multi) = match token {
        Some(token) => (json!({"token": token}), json!({"token": [token]})),
        None => (json!({}), json!({})),
    };
    serde_json::from_value(json!({
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "headers": {
            "Connection": "upgrade",
            "content-length": "0",
            "Host": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "Origin": "https://d111111abcdef8.cloudfront.net",
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
            "Upgrade": "websocket",
            "X-Amzn-Trace-Id": "Root=1-6748f8b0-0e1c2d3b4a5968778695a4b3",
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Port": "443",
            "X-Forwarded-Proto": "https"
        },
        "multiValueHeaders": {
            "Connection": ["upgrade"],
            "Host": ["abcdef1234.execute-api.eu-west-1.amazonaws.com"],
            "Sec-WebSocket-Version": ["13"],
            "Upgrade": ["websocket"]
        },
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi,
        "stageVariables": {},
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "extendedRequestId": "B4NLLGsoIAMF5Yw=",
            "requestTime": "29/Nov/2026:21:00:00 +0000",
            "messageDirection": "IN",
            "stage": "prod",
            "connectedAt": 1_795_986_000_000i64,
            "requestTimeEpoch": 1_795_986_000_000i64,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "Mozilla/5.0"},
            "requestId": "B4NLLGsoIAMF5Yw=",
            "domainName": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "connectionId": "Zx1QdcuMoAMCIxw=",
            "apiId": "abcdef1234"
        }
    }))
    .expect("a WebSocket REQUEST authorizer event")
}

fn authorizer(keys: &[&SigningKey]) -> Authorizer {
    let set = JwkSet { keys: keys.iter().map(|k| k.jwk.clone()).collect() };
    Authorizer::new(UserPool::new(POOL_ID, CLIENT_ID).expect("a pool"), Arc::new(StaticKeys(set)))
}

/// The answer as API Gateway reads it.
fn answer_json(answer: &ApiGatewayCustomAuthorizerResponse) -> Value {
    serde_json::to_value(answer).expect("JSON")
}

fn effect(answer: &Value) -> &str {
    answer["policyDocument"]["Statement"][0]["Effect"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_valid_id_token_is_allowed_to_connect_with_its_sub() {
    let key = SigningKey::generate("key-1");
    let authorizer = authorizer(&[&key]);
    let token = key.sign(&id_claims());

    assert_eq!(authorizer.verify(&token).await.expect("keys").expect("allowed").as_str(), SUB);
    let answer = answer_json(&authorizer.authorize(connect_request(Some(&token))).await.expect("an answer"));
    assert_eq!(answer["principalId"], SUB);
    assert_eq!(answer["context"], json!({"sub": SUB}), "live-connections reads the user from the context");
    assert_eq!(answer["policyDocument"]["Version"], "2012-10-17");
    assert_eq!(
        answer["policyDocument"]["Statement"],
        json!([{"Action": ["execute-api:Invoke"], "Effect": "Allow", "Resource": [METHOD_ARN]}]),
        "allowed on this $connect only"
    );

    // `aud` may also be a list that holds the client.
    let listed = key.sign(&with(id_claims(), "aud", json!(["another-client", CLIENT_ID])));
    assert!(authorizer.verify(&listed).await.expect("keys").is_ok());
}

#[tokio::test]
async fn forged_expired_foreign_and_access_tokens_and_none_at_all_are_denied() {
    let key = SigningKey::generate("key-1");
    let forger = SigningKey::generate("key-forger");
    let authorizer = authorizer(&[&key]);
    let b64 = |value: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    let unsigned = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&id_claims()));
    let mut hmac_header = Header::new(Algorithm::HS256);
    hmac_header.kid = Some("key-1".into());
    let hmac =
        jsonwebtoken::encode(&hmac_header, &id_claims(), &EncodingKey::from_secret(b"the JWKS is public, so is this"))
            .expect("an HS256 token");
    let genuine = key.sign(&id_claims());
    let mut parts: Vec<&str> = genuine.split('.').collect();
    let tampered_claims = b64(&with(id_claims(), "sub", json!("someone-else")));
    parts[1] = tampered_claims.as_str();
    let tampered = parts.join(".");

    let cases: Vec<(&str, Option<String>, RejectedToken)> = vec![
        ("alg none", Some(unsigned), RejectedToken::Algorithm("none".into())),
        ("HS256 with the public key's id", Some(hmac), RejectedToken::Algorithm("HS256".into())),
        (
            "signed by another key under the pool's key id",
            Some(forger.sign_as("key-1", &id_claims())),
            RejectedToken::BadSignature,
        ),
        ("claims changed after signing", Some(tampered), RejectedToken::BadSignature),
        ("signed by a key the JWKS lacks", Some(forger.sign(&id_claims())), RejectedToken::UnknownKey),
        ("expired", Some(key.sign(&with(id_claims(), "exp", json!(now() - 1)))), RejectedToken::Expired),
        (
            "another pool's",
            Some(key.sign(&with(
                id_claims(),
                "iss",
                json!("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Other"),
            ))),
            RejectedToken::WrongIssuer,
        ),
        (
            "another app client's",
            Some(key.sign(&with(id_claims(), "aud", json!("another-client")))),
            RejectedToken::WrongAudience,
        ),
        ("an access token", Some(key.sign(&access_claims())), RejectedToken::NotAnIdToken),
        ("no sub", Some(key.sign(&with(id_claims(), "sub", Value::Null))), RejectedToken::MissingClaim("sub".into())),
        ("not a JWT", Some("not-a-jwt".into()), RejectedToken::Malformed),
        ("empty", Some(String::new()), RejectedToken::Missing),
        ("no token parameter", None, RejectedToken::Missing),
    ];
    for (name, token, why) in cases {
        if let Some(token) = token.as_deref().filter(|t| !t.is_empty()) {
            let verdict = authorizer.verify(token).await.expect("keys");
            match &why {
                // A claim set to null is missing to the JWT library, or unusable to us.
                RejectedToken::MissingClaim(_) => assert!(verdict.is_err(), "{name}: {verdict:?}"),
                _ => assert_eq!(verdict, Err(why.clone()), "{name}"),
            }
        }
        let answer = answer_json(&authorizer.authorize(connect_request(token.as_deref())).await.expect("an answer"));
        assert_eq!(effect(&answer), "Deny", "{name} must be denied: {answer}");
        assert_ne!(answer["principalId"], SUB, "{name}: a denied connect names no user");
        assert_eq!(answer["context"], json!({}), "{name}: a denied connect carries no user to the integration");
    }
}

/// A JWKS served over HTTP, counting the times it is fetched.
async fn serve_jwks(set: JwkSet) -> (String, Arc<AtomicUsize>) {
    let fetched = Arc::new(AtomicUsize::new(0));
    let counter = fetched.clone();
    let body = serde_json::to_string(&set).expect("JSON");
    let app = axum::Router::new().route(
        "/eu-west-1_AbC123def/.well-known/jwks.json",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("its address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/eu-west-1_AbC123def/.well-known/jwks.json"), fetched)
}

#[tokio::test]
async fn the_jwks_is_fetched_once_over_http_and_a_key_it_lacks_is_refused() {
    let (key, rotated) = (SigningKey::generate("key-1"), SigningKey::generate("key-2"));
    let (url, fetched) = serve_jwks(JwkSet { keys: vec![key.jwk.clone()] }).await;
    let pool = UserPool::new(POOL_ID, CLIENT_ID).expect("a pool");
    let authorizer = Authorizer::new(pool, Arc::new(CognitoJwks::new(url).expect("an HTTP client")));

    for _ in 0..3 {
        assert!(authorizer.verify(&key.sign(&id_claims())).await.expect("keys").is_ok());
    }
    assert_eq!(
        authorizer.verify(&rotated.sign(&id_claims())).await.expect("keys"),
        Err(RejectedToken::UnknownKey),
        "a key id that is not in the cached JWKS is refused, not fetched"
    );
    assert_eq!(fetched.load(Ordering::SeqCst), 1, "fetched once, on first use, then kept");
}

/// Fails its first fetch, then hands over the keys.
struct FlakyKeys {
    set: JwkSet,
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl KeySource for FlakyKeys {
    async fn fetch(&self) -> anyhow::Result<JwkSet> {
        match self.calls.fetch_add(1, Ordering::SeqCst) {
            0 => anyhow::bail!("connection reset by peer"),
            _ => Ok(self.set.clone()),
        }
    }
}

#[tokio::test]
async fn keys_that_cannot_be_had_are_a_fault_of_ours_and_fetched_again_next_time() {
    let key = SigningKey::generate("key-1");
    let source = Arc::new(FlakyKeys { set: JwkSet { keys: vec![key.jwk.clone()] }, calls: AtomicUsize::new(0) });
    let authorizer = Authorizer::new(UserPool::new(POOL_ID, CLIENT_ID).expect("a pool"), source.clone());
    let token = key.sign(&id_claims());

    assert!(
        authorizer.authorize(connect_request(Some(&token))).await.is_err(),
        "no keys: an error (API Gateway answers 500, the client retries), not a denial of a good token"
    );
    let answer = answer_json(&authorizer.authorize(connect_request(Some(&token))).await.expect("an answer"));
    assert_eq!(effect(&answer), "Allow");
    authorizer.authorize(connect_request(Some(&token))).await.expect("an answer");
    assert_eq!(source.calls.load(Ordering::SeqCst), 2, "fetched again after the failure, then kept");
}
