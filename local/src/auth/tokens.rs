//! Cognito-shaped tokens: an ID token (what the API accepts) and an access token (which it
//! must reject), both RS256 with the signing key's `kid`, claims named as Cognito names them.

use std::sync::Arc;

use serde::Serialize;
use uuid::Uuid;

use super::keys::SigningKey;
use super::users::User;

/// ID and access tokens live one hour, Cognito's default.
pub const TOKEN_LIFETIME_SECONDS: i64 = 3600;

/// One sign-in: refreshed tokens keep its `auth_time` and `origin_jti`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    /// When the user typed their password (seconds since the epoch).
    pub auth_time: i64,
    /// Cognito's name for the id shared by every token descending from one sign-in.
    pub origin_jti: Uuid,
    pub scope: String,
}

/// What the token endpoint hands back (besides the refresh token).
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub id_token: String,
    pub access_token: String,
    pub expires_in: i64,
}

#[derive(Serialize)]
struct IdTokenClaims<'a> {
    sub: Uuid,
    email_verified: bool,
    iss: &'a str,
    #[serde(rename = "cognito:username")]
    cognito_username: Uuid,
    origin_jti: Uuid,
    aud: &'a str,
    token_use: &'static str,
    auth_time: i64,
    exp: i64,
    iat: i64,
    jti: Uuid,
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
}

#[derive(Serialize)]
struct AccessTokenClaims<'a> {
    sub: Uuid,
    iss: &'a str,
    client_id: &'a str,
    origin_jti: Uuid,
    token_use: &'static str,
    scope: &'a str,
    auth_time: i64,
    exp: i64,
    iat: i64,
    jti: Uuid,
    username: Uuid,
}

/// Mints tokens for one issuer (`http://127.0.0.1:<port>/auth`) and one app client.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    issuer: String,
    client_id: String,
    key: Arc<SigningKey>,
}

impl TokenIssuer {
    pub fn new(issuer: impl Into<String>, client_id: impl Into<String>, key: Arc<SigningKey>) -> Self {
        Self { issuer: issuer.into(), client_id: client_id.into(), key }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// `nonce` is echoed only in the ID token of the code exchange, as Cognito does.
    pub fn issue(
        &self,
        session: &Session,
        nonce: Option<&str>,
        now: i64,
    ) -> Result<IssuedTokens, jsonwebtoken::errors::Error> {
        let exp = now + TOKEN_LIFETIME_SECONDS;
        // Cognito: when the user pool signs in by email, `cognito:username` is the generated `sub`.
        let id_token = self.key.sign(&IdTokenClaims {
            sub: session.user.sub,
            email_verified: true,
            iss: &self.issuer,
            cognito_username: session.user.sub,
            origin_jti: session.origin_jti,
            aud: &self.client_id,
            token_use: "id",
            auth_time: session.auth_time,
            exp,
            iat: now,
            jti: Uuid::new_v4(),
            email: session.user.email.as_str(),
            nonce,
        })?;
        let access_token = self.key.sign(&AccessTokenClaims {
            sub: session.user.sub,
            iss: &self.issuer,
            client_id: &self.client_id,
            origin_jti: session.origin_jti,
            token_use: "access",
            scope: &session.scope,
            auth_time: session.auth_time,
            exp,
            iat: now,
            jti: Uuid::new_v4(),
            username: session.user.sub,
        })?;
        Ok(IssuedTokens { id_token, access_token, expires_in: TOKEN_LIFETIME_SECONDS })
    }
}
