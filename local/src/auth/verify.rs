//! The token check API Gateway's Cognito authorizer makes before any Lambda runs: an RS256
//! signature by a key of the JWKS (found by `kid`), then `exp`, `iss`, `aud` and
//! `token_use == "id"`. What passes becomes the string-valued claims map of
//! `requestContext.authorizer.claims`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::keys::Jwks;

/// Why a token was refused (the 401's message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectedToken {
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
    #[error("the token is not an ID token (token_use must be \"id\"): send the ID token, not the access token")]
    NotAnIdToken,
    #[error("the token has no {0} claim")]
    MissingClaim(String),
    #[error("the token is not an access token (token_use must be \"access\")")]
    NotAnAccessToken,
    #[error("the access token lacks the scope {0}")]
    MissingScope(String),
}

/// The claims as API Gateway hands them to the Lambda: every value a string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AuthorizerClaims(BTreeMap<String, String>);

impl AuthorizerClaims {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }
}

#[derive(Deserialize)]
struct UnverifiedHeader {
    alg: String,
    kid: Option<String>,
}

/// Verifies ID tokens of one issuer and one app client against a JWKS.
#[derive(Clone)]
pub struct TokenVerifier {
    issuer: String,
    client_id: String,
    keys: HashMap<String, DecodingKey>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TokenVerifier {
    /// Trusts the RS256 keys of `jwks` for tokens of `issuer` meant for `client_id`.
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>, jwks: &Jwks) -> anyhow::Result<Self> {
        let mut keys = HashMap::new();
        for jwk in &jwks.keys {
            let usable = jwk.kty == "RSA"
                && jwk.alg.as_deref().is_none_or(|alg| alg == "RS256")
                && jwk.key_use.as_deref().is_none_or(|key_use| key_use == "sig");
            if usable {
                let key = DecodingKey::from_rsa_components(&jwk.n, &jwk.e)
                    .with_context(|| format!("the JWKS key {} is not a valid RSA key", jwk.kid))?;
                keys.insert(jwk.kid.clone(), key);
            }
        }
        if keys.is_empty() {
            bail!("the JWKS has no RS256 signing key");
        }
        Ok(Self { issuer: issuer.into(), client_id: client_id.into(), keys })
    }

    /// Verifies tokens of a real Cognito user pool, e.g. `us-east-1_AbCdEf123`.
    pub fn for_cognito(user_pool_id: &str, client_id: &str, jwks: &Jwks) -> anyhow::Result<Self> {
        Self::new(cognito_issuer(user_pool_id)?, client_id, jwks)
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Checks `token` (the bare JWT) and returns its claims as API Gateway passes them on.
    pub fn verify(&self, token: &str) -> Result<AuthorizerClaims, RejectedToken> {
        let claims = self.check(token, true)?;
        Ok(AuthorizerClaims(
            claims
                .into_iter()
                .map(|(name, value)| {
                    let text = claim_as_string(&name, &value);
                    (name, text)
                })
                .collect(),
        ))
    }

    /// The sign-in (`origin_jti`) of an ID token this verifier would accept, expired or not: an
    /// `id_token_hint` at sign-out may well be expired.
    pub fn sign_in_of(&self, token: &str) -> Option<uuid::Uuid> {
        let claims = self.check(token, false).ok()?;
        claims.get("origin_jti")?.as_str()?.parse().ok()
    }

    /// Checks an access token of this issuer and app client that was granted `scope` (as
    /// Cognito's own API checks one, e.g. for `DeleteUser`); returns its `sub`.
    pub fn verify_access(&self, token: &str, scope: &str) -> Result<uuid::Uuid, RejectedToken> {
        let claims = self.check_signed(token, true)?;
        if claims.get("token_use").and_then(Value::as_str) != Some("access") {
            return Err(RejectedToken::NotAnAccessToken);
        }
        if claims.get("client_id").and_then(Value::as_str) != Some(self.client_id.as_str()) {
            return Err(RejectedToken::WrongAudience);
        }
        let granted = claims.get("scope").and_then(Value::as_str).unwrap_or_default();
        if !granted.split_whitespace().any(|granted| granted == scope) {
            return Err(RejectedToken::MissingScope(scope.to_owned()));
        }
        let sub = claims.get("sub").and_then(Value::as_str).and_then(|sub| sub.parse().ok());
        sub.ok_or_else(|| RejectedToken::MissingClaim("sub".into()))
    }

    fn check(&self, token: &str, validate_exp: bool) -> Result<Map<String, Value>, RejectedToken> {
        let claims = self.check_signed(token, validate_exp)?;
        if claims.get("token_use").and_then(Value::as_str) != Some("id") {
            return Err(RejectedToken::NotAnIdToken);
        }
        let audience_matches = match claims.get("aud") {
            Some(Value::String(aud)) => aud == &self.client_id,
            Some(Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(&self.client_id)),
            _ => false,
        };
        if !audience_matches {
            return Err(RejectedToken::WrongAudience);
        }
        Ok(claims)
    }

    /// The signature, the issuer and (unless told not to) the expiry: what every token must pass.
    fn check_signed(&self, token: &str, validate_exp: bool) -> Result<Map<String, Value>, RejectedToken> {
        let header = unverified_header(token)?;
        if header.alg != "RS256" {
            return Err(RejectedToken::Algorithm(header.alg));
        }
        let kid = header.kid.ok_or(RejectedToken::UnknownKey)?;
        let key = self.keys.get(&kid).ok_or(RejectedToken::UnknownKey)?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = 0;
        validation.validate_exp = validate_exp;
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        // `aud` is checked below, after `token_use`, so that an access token (which has no `aud`)
        // is refused with a message that says what is wrong.
        validation.validate_aud = false;
        Ok(jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation).map_err(rejection)?.claims)
    }
}

/// `https://cognito-idp.<region>.amazonaws.com/<poolId>`; the region is the pool id's prefix.
pub fn cognito_issuer(user_pool_id: &str) -> anyhow::Result<String> {
    match user_pool_id.split_once('_') {
        Some((region, id)) if !region.is_empty() && !id.is_empty() => {
            Ok(format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"))
        }
        _ => bail!("{user_pool_id:?} is not a Cognito user pool id (expected <region>_<id>)"),
    }
}

/// Reads a JWKS document (e.g. a saved copy of the pool's `/.well-known/jwks.json`).
pub fn read_jwks(path: &Path) -> anyhow::Result<Jwks> {
    let text = path.to_string_lossy();
    if text.starts_with("http://") || text.starts_with("https://") {
        bail!("--cognito-jwks takes a file: save the user pool's jwks.json and pass its path ({text})");
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading the JWKS {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing the JWKS {}", path.display()))
}

/// The token part of an `Authorization` header: `Bearer <jwt>` or, as API Gateway's Cognito
/// authorizer also accepts, the bare JWT.
pub fn token_from_authorization(header: &str) -> Option<&str> {
    let header = header.trim();
    let token = match header.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return None,
        None if header.eq_ignore_ascii_case("bearer") => return None,
        None => header,
    };
    (!token.is_empty()).then_some(token)
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

/// API Gateway's rendering of a claim: strings as they are, `exp` and `iat` as Java's
/// `Date.toString()` in UTC (`Wed Nov 25 19:48:00 UTC 2026`), other numbers and booleans as their
/// JSON text, lists joined with commas.
fn claim_as_string(name: &str, value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) if name == "exp" || name == "iat" => number
            .as_i64()
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
            .map(|time| time.format("%a %b %d %H:%M:%S UTC %Y").to_string())
            .unwrap_or_else(|| number.to_string()),
        Value::Array(items) => items.iter().map(|item| claim_as_string("", item)).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claims_render_as_api_gateway_renders_them() {
        assert_eq!(claim_as_string("email_verified", &json!(true)), "true");
        assert_eq!(claim_as_string("auth_time", &json!(1_764_100_080)), "1764100080");
        assert_eq!(claim_as_string("exp", &json!(1_764_100_080)), "Tue Nov 25 19:48:00 UTC 2025");
        assert_eq!(claim_as_string("cognito:groups", &json!(["a", "b"])), "a,b");
        assert_eq!(claim_as_string("email", &json!("a@example.com")), "a@example.com");
    }

    #[test]
    fn the_authorization_header_may_carry_a_bare_token() {
        assert_eq!(token_from_authorization("Bearer abc.def.ghi"), Some("abc.def.ghi"));
        assert_eq!(token_from_authorization("bearer  abc.def.ghi "), Some("abc.def.ghi"));
        assert_eq!(token_from_authorization("abc.def.ghi"), Some("abc.def.ghi"));
        assert_eq!(token_from_authorization("Basic dXNlcjpwdw=="), None);
        assert_eq!(token_from_authorization("Bearer "), None);
        assert_eq!(token_from_authorization(""), None);
    }

    #[test]
    fn the_cognito_issuer_comes_from_the_pool_id() {
        assert_eq!(
            cognito_issuer("eu-west-1_AbC123").unwrap(),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
        );
        assert!(cognito_issuer("nopool").is_err());
    }
}
