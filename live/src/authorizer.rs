//! `live-authorizer`: the Lambda REQUEST authorizer of the WebSocket API's `$connect`.
//!
//! A browser cannot set headers on a WebSocket upgrade, so the SPA passes its Cognito ID token as
//! the `token` query parameter, and this function checks it exactly as the REST API's Cognito
//! authorizer checks the `Authorization` header: an RS256 signature by a key of the user pool's
//! JWKS (found by `kid`; an unknown one is refused), then `exp`, `iss` (the pool), `aud` (the app
//! client) and `token_use == "id"`. What passes is allowed to `$connect` with the token's `sub` as
//! the principal and in the context, which API Gateway hands to every later route of the
//! connection (`$disconnect` included). Everything else is denied (API Gateway answers 403 and no
//! connection is made).
//!
//! The JWKS is fetched once per process (a cold start) and kept; [`KeySource`] is where it comes
//! from, so tests hand keys over directly.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use async_trait::async_trait;
use aws_lambda_events::event::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::event::iam::{IamPolicyEffect, IamPolicyStatement};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use events_schema::UserId;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use todo_platform::manifest::{COGNITO_CLIENT_ID, COGNITO_USER_POOL_ID, WEBSOCKET_TOKEN_PARAMETER};

use crate::USER_CONTEXT_KEY;

/// Why a `$connect` was refused (logged; the client only sees the 403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectedToken {
    #[error("the request carries no `{WEBSOCKET_TOKEN_PARAMETER}` query parameter")]
    Missing,
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is signed with {0:?}; only RS256 is accepted")]
    Algorithm(String),
    #[error("the token's key id is not in the user pool's JWKS")]
    UnknownKey,
    #[error("the token's signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    #[error("the token was issued for another app client")]
    WrongAudience,
    #[error("the token is not an ID token (token_use must be \"id\")")]
    NotAnIdToken,
    #[error("the token has no usable {0} claim")]
    MissingClaim(String),
}

impl RejectedToken {
    /// A short, stable name for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Algorithm(_) => "algorithm",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::NotAnIdToken => "not_an_id_token",
            Self::MissingClaim(_) => "missing_claim",
        }
    }
}

/// The Cognito user pool and app client whose ID tokens are accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPool {
    id: String,
    region: String,
    client_id: String,
}

impl UserPool {
    /// `pool_id` is `<region>_<id>` (`eu-west-1_AbC123`): the region is its prefix.
    pub fn new(pool_id: &str, client_id: &str) -> anyhow::Result<Self> {
        let region = match pool_id.split_once('_') {
            Some((region, id))
                if !region.is_empty()
                    && !id.is_empty()
                    && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && id.bytes().all(|b| b.is_ascii_alphanumeric()) =>
            {
                region.to_owned()
            }
            _ => bail!("{pool_id:?} is not a Cognito user pool id (expected <region>_<id>)"),
        };
        if client_id.trim().is_empty() {
            bail!("the app client id is empty");
        }
        Ok(Self { id: pool_id.to_owned(), region, client_id: client_id.to_owned() })
    }

    /// From `COGNITO_USER_POOL_ID` and `COGNITO_CLIENT_ID`: fails at start-up when either is missing.
    pub fn from_env() -> anyhow::Result<Self> {
        use todo_platform::config::required_env;
        let pool_id = required_env(COGNITO_USER_POOL_ID)?;
        let client_id = required_env(COGNITO_CLIENT_ID)?;
        Self::new(&pool_id, &client_id).with_context(|| format!("{COGNITO_USER_POOL_ID} / {COGNITO_CLIENT_ID}"))
    }

    /// The `iss` of the pool's tokens.
    pub fn issuer(&self) -> String {
        format!("https://cognito-idp.{}.amazonaws.com/{}", self.region, self.id)
    }

    /// Where the pool publishes its signing keys.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.issuer())
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }
}

/// Where the user pool's public keys come from.
#[async_trait]
pub trait KeySource: Send + Sync {
    async fn fetch(&self) -> anyhow::Result<JwkSet>;
}

/// A key set handed over as it is (tests; a saved copy of a pool's JWKS).
pub struct StaticKeys(pub JwkSet);

#[async_trait]
impl KeySource for StaticKeys {
    async fn fetch(&self) -> anyhow::Result<JwkSet> {
        Ok(self.0.clone())
    }
}

/// How long fetching the JWKS may take: well inside the authorizer's own timeout.
const JWKS_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const JWKS_READ_TIMEOUT: Duration = Duration::from_secs(3);

/// The pool's JWKS at its well-known address, fetched over HTTPS with the HTTP client the AWS SDK
/// already carries (hyper and rustls with aws-lc, the system's root certificates).
pub struct CognitoJwks {
    url: String,
    connector: aws_smithy_runtime_api::client::http::SharedHttpConnector,
}

impl CognitoJwks {
    pub fn new(url: impl Into<String>) -> anyhow::Result<Self> {
        use aws_smithy_runtime_api::client::http::HttpConnectorSettings;
        let settings = HttpConnectorSettings::builder()
            .connect_timeout(JWKS_CONNECT_TIMEOUT)
            .read_timeout(JWKS_READ_TIMEOUT)
            .build();
        let connector = aws_smithy_http_client::default_connector(&settings, None)
            .context("no HTTPS client is built in (aws-smithy-http-client without rustls)")?;
        Ok(Self { url: url.into(), connector })
    }
}

#[async_trait]
impl KeySource for CognitoJwks {
    async fn fetch(&self) -> anyhow::Result<JwkSet> {
        use aws_smithy_runtime_api::client::http::HttpConnector as _;
        use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
        let request = HttpRequest::get(&self.url).with_context(|| format!("the JWKS address {}", self.url))?;
        let response = self.connector.call(request).await.with_context(|| format!("GET {}", self.url))?;
        let status = response.status();
        let body = aws_smithy_types::byte_stream::ByteStream::new(response.into_body())
            .collect()
            .await
            .with_context(|| format!("reading the answer of GET {}", self.url))?
            .into_bytes();
        if !status.is_success() {
            bail!("GET {} answered {status}", self.url);
        }
        serde_json::from_slice(&body).with_context(|| format!("the JWKS at {} is not a JSON Web Key Set", self.url))
    }
}

/// The pool's RS256 signing keys, by `kid`.
struct Keys(HashMap<String, DecodingKey>);

impl Keys {
    fn of(set: &JwkSet) -> anyhow::Result<Self> {
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else { continue };
            let signs = jwk.common.public_key_use.as_ref().is_none_or(|u| *u == PublicKeyUse::Signature);
            let rs256 = jwk.common.key_algorithm.is_none_or(|alg| alg == KeyAlgorithm::RS256);
            let Some(kid) = jwk.common.key_id.clone().filter(|_| signs && rs256) else { continue };
            let key = DecodingKey::from_rsa_components(&rsa.n, &rsa.e)
                .with_context(|| format!("the JWKS key {kid} is not a valid RSA key"))?;
            keys.insert(kid, key);
        }
        if keys.is_empty() {
            bail!("the JWKS has no RS256 signing key");
        }
        Ok(Self(keys))
    }
}

/// Verifies ID tokens of one user pool and app client, and answers `$connect`.
pub struct Authorizer {
    pool: UserPool,
    source: Arc<dyn KeySource>,
    /// Filled by the first successful fetch and kept for the life of the process.
    keys: tokio::sync::OnceCell<Keys>,
}

impl Authorizer {
    pub fn new(pool: UserPool, source: Arc<dyn KeySource>) -> Self {
        Self { pool, source, keys: tokio::sync::OnceCell::new() }
    }

    /// For the Lambda: the pool from the environment, its JWKS fetched now (during the cold start)
    /// if it can be, else on the first `$connect`.
    pub async fn from_env() -> anyhow::Result<Self> {
        let pool = UserPool::from_env()?;
        let source = Arc::new(CognitoJwks::new(pool.jwks_url())?);
        let authorizer = Self::new(pool, source);
        if let Err(error) = authorizer.keys().await {
            tracing::warn!(
                error = format!("{error:#}"),
                "the JWKS could not be fetched yet; retrying on the first $connect"
            );
        }
        Ok(authorizer)
    }

    async fn keys(&self) -> anyhow::Result<&Keys> {
        self.keys
            .get_or_try_init(|| async {
                let set = self.source.fetch().await?;
                let keys = Keys::of(&set)?;
                tracing::info!(keys = keys.0.len(), "the user pool's signing keys are loaded");
                Ok::<Keys, anyhow::Error>(keys)
            })
            .await
    }

    /// Checks a bare JWT and answers the user it names; `Err` only when the keys cannot be had
    /// (a fault of ours, not the token's).
    pub async fn verify(&self, token: &str) -> anyhow::Result<Result<UserId, RejectedToken>> {
        let keys = self.keys().await?;
        Ok(self.check(keys, token))
    }

    fn check(&self, keys: &Keys, token: &str) -> Result<UserId, RejectedToken> {
        let header = unverified_header(token)?;
        if header.alg != "RS256" {
            return Err(RejectedToken::Algorithm(header.alg));
        }
        let kid = header.kid.ok_or(RejectedToken::UnknownKey)?;
        let key = keys.0.get(&kid).ok_or(RejectedToken::UnknownKey)?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 0;
        validation.set_issuer(&[self.pool.issuer()]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        // `aud` is checked after `token_use`: an access token has none, and is refused as what it is.
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation).map_err(rejection)?.claims;

        if claims.get("token_use").and_then(Value::as_str) != Some("id") {
            return Err(RejectedToken::NotAnIdToken);
        }
        let audience_matches = match claims.get("aud") {
            Some(Value::String(aud)) => aud == self.pool.client_id(),
            Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(self.pool.client_id())),
            _ => false,
        };
        if !audience_matches {
            return Err(RejectedToken::WrongAudience);
        }
        claims
            .get("sub")
            .and_then(Value::as_str)
            .and_then(|sub| UserId::parse(sub).ok())
            .ok_or_else(|| RejectedToken::MissingClaim("sub".into()))
    }

    /// The authorizer's answer to a `$connect`: allowed, with the user as principal and context,
    /// or denied. `Err` only for a fault of ours (API Gateway answers 500; the client retries).
    pub async fn authorize(
        &self,
        request: ApiGatewayCustomAuthorizerRequestTypeRequest,
    ) -> anyhow::Result<ApiGatewayCustomAuthorizerResponse> {
        use tracing::Instrument as _;
        let request_id = request.request_context.request_id.clone().unwrap_or_default();
        let span = tracing::info_span!("connect", requestId = %request_id);
        self.decide(request).instrument(span).await
    }

    async fn decide(
        &self,
        request: ApiGatewayCustomAuthorizerRequestTypeRequest,
    ) -> anyhow::Result<ApiGatewayCustomAuthorizerResponse> {
        let resource = request.method_arn.clone().unwrap_or_default();
        let verdict = match request.query_string_parameters.first(WEBSOCKET_TOKEN_PARAMETER) {
            Some(token) if !token.is_empty() => self.verify(token).await?,
            _ => Err(RejectedToken::Missing),
        };
        Ok(match verdict {
            Ok(user) => {
                tracing::info!("$connect allowed");
                policy(Some(&user), IamPolicyEffect::Allow, resource)
            }
            Err(rejected) => {
                metrics::counter!("LiveConnectsDenied", "Reason" => rejected.reason()).increment(1);
                tracing::info!(reason = rejected.reason(), detail = %rejected, "$connect denied");
                policy(None, IamPolicyEffect::Deny, resource)
            }
        })
    }
}

/// An authorizer answer for the `$connect` route only (`methodArn`).
fn policy(user: Option<&UserId>, effect: IamPolicyEffect, resource: String) -> ApiGatewayCustomAuthorizerResponse {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".to_owned()];
    statement.effect = effect;
    statement.resource = vec![resource];
    let mut document = ApiGatewayCustomAuthorizerPolicy::default();
    document.version = Some("2012-10-17".to_owned());
    document.statement = vec![statement];
    let mut response = ApiGatewayCustomAuthorizerResponse::default();
    response.policy_document = document;
    match user {
        Some(user) => {
            response.principal_id = Some(user.to_string());
            response.context = serde_json::json!({ USER_CONTEXT_KEY: user.as_str() });
        }
        None => {
            response.principal_id = Some("anonymous".to_owned());
            response.context = serde_json::json!({});
        }
    }
    response
}

#[derive(Deserialize)]
struct UnverifiedHeader {
    alg: String,
    kid: Option<String>,
}

fn unverified_header(token: &str) -> Result<UnverifiedHeader, RejectedToken> {
    let segment = token.split('.').next().ok_or(RejectedToken::Malformed)?;
    let bytes = URL_SAFE_NO_PAD.decode(segment).map_err(|_| RejectedToken::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| RejectedToken::Malformed)
}

fn rejection(error: jsonwebtoken::errors::Error) -> RejectedToken {
    match error.into_kind() {
        ErrorKind::InvalidSignature => RejectedToken::BadSignature,
        ErrorKind::ExpiredSignature => RejectedToken::Expired,
        ErrorKind::InvalidIssuer => RejectedToken::WrongIssuer,
        ErrorKind::InvalidAudience => RejectedToken::WrongAudience,
        ErrorKind::InvalidAlgorithm => RejectedToken::Algorithm("an algorithm other than RS256".into()),
        ErrorKind::MissingRequiredClaim(claim) => RejectedToken::MissingClaim(claim),
        _ => RejectedToken::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_and_jwks_address_come_from_the_pool_id() {
        let pool = UserPool::new("eu-west-1_AbC123", "client").unwrap();
        assert_eq!(pool.issuer(), "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123");
        assert_eq!(
            pool.jwks_url(),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json"
        );
        for bad in ["nopool", "_abc", "eu-west-1_", "eu-west-1_a/b", "EU_abc"] {
            assert!(UserPool::new(bad, "client").is_err(), "{bad} is no pool id");
        }
        assert!(UserPool::new("eu-west-1_AbC123", " ").is_err());
    }
}
