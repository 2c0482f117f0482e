//! Rotating refresh tokens, kept in the data dir so a signed-in SPA survives a restart of the
//! stack. Only a SHA-256 of each token is stored. Using a refresh token returns a new one; the
//! spent one still works for a short grace period (as Cognito's rotation allows: two tabs sharing
//! one stored token renew at the same moment), after which presenting it (a sign of theft)
//! revokes the whole sign-in.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::codes::random_token;
use super::tokens::Session;
use super::users::{Email, User};
use crate::files::{DirLock, ensure_private_dir, read_json_or_default, write_json};

const REFRESH_FILE: &str = "refresh-tokens.json";
/// Cognito's default refresh token validity; rotation does not extend a sign-in past it.
pub const REFRESH_LIFETIME_SECONDS: i64 = 30 * 24 * 3600;
/// How long a spent refresh token may still be exchanged (Cognito's maximum retry grace period).
pub const REUSE_GRACE_SECONDS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("the refresh token is invalid, expired or revoked")]
    Invalid,
    #[error("the refresh token was already used: the sign-in is revoked")]
    Reused,
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RefreshFile {
    tokens: Vec<RefreshRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshRecord {
    token_sha256: String,
    origin_jti: Uuid,
    client_id: String,
    sub: Uuid,
    email: Email,
    auth_time: i64,
    scope: String,
    expires_at: i64,
    /// When it was exchanged for its successor.
    spent_at: Option<i64>,
}

impl RefreshRecord {
    fn session(&self) -> Session {
        Session {
            user: User { sub: self.sub, email: self.email.clone() },
            auth_time: self.auth_time,
            origin_jti: self.origin_jti,
            scope: self.scope.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct RefreshTokens {
    dir: PathBuf,
}

impl RefreshTokens {
    pub fn open(auth_dir: &Path) -> anyhow::Result<Self> {
        ensure_private_dir(auth_dir)?;
        Ok(Self { dir: auth_dir.to_path_buf() })
    }

    /// A refresh token for a new sign-in.
    pub fn issue(&self, session: &Session, client_id: &str, now: i64) -> anyhow::Result<String> {
        let token = random_token()?;
        let record = RefreshRecord {
            token_sha256: fingerprint(&token),
            origin_jti: session.origin_jti,
            client_id: client_id.to_owned(),
            sub: session.user.sub,
            email: session.user.email.clone(),
            auth_time: session.auth_time,
            scope: session.scope.clone(),
            expires_at: now + REFRESH_LIFETIME_SECONDS,
            spent_at: None,
        };
        self.update(now, |file| {
            file.tokens.push(record);
            Ok(())
        })?;
        Ok(token)
    }

    /// Spends `token` and returns its sign-in with the refresh token that replaces it.
    pub fn rotate(&self, token: &str, client_id: &str, now: i64) -> Result<(Session, String), RefreshError> {
        let presented = fingerprint(token);
        let next = random_token().map_err(anyhow::Error::from)?;
        let mut outcome = Err(RefreshError::Invalid);
        self.update(now, |file| {
            let Some(record) = file.tokens.iter_mut().find(|record| record.token_sha256 == presented) else {
                return Ok(());
            };
            if record.client_id != client_id {
                return Ok(());
            }
            match record.spent_at {
                Some(spent_at) if now - spent_at > REUSE_GRACE_SECONDS => {
                    let origin_jti = record.origin_jti;
                    file.tokens.retain(|record| record.origin_jti != origin_jti);
                    outcome = Err(RefreshError::Reused);
                    return Ok(());
                }
                Some(_) => {}
                None => record.spent_at = Some(now),
            }
            let successor = RefreshRecord { token_sha256: fingerprint(&next), spent_at: None, ..record.clone() };
            outcome = Ok(successor.session());
            file.tokens.push(successor);
            Ok(())
        })?;
        outcome.map(|session| (session, next))
    }

    /// Revokes every refresh token of one sign-in.
    pub fn revoke_sign_in(&self, origin_jti: Uuid, now: i64) -> anyhow::Result<()> {
        self.update(now, |file| {
            file.tokens.retain(|record| record.origin_jti != origin_jti);
            Ok(())
        })
    }

    /// Read-modify-write under the dir lock, dropping expired tokens on the way.
    fn update(&self, now: i64, change: impl FnOnce(&mut RefreshFile) -> anyhow::Result<()>) -> anyhow::Result<()> {
        let _lock = DirLock::acquire(&self.dir)?;
        let path = self.dir.join(REFRESH_FILE);
        let mut file: RefreshFile = read_json_or_default(&path)?;
        file.tokens.retain(|record| record.expires_at > now);
        change(&mut file)?;
        write_json(&path, &file)
    }
}

fn fingerprint(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session {
            user: User { sub: Uuid::new_v4(), email: Email::parse("a@example.com").unwrap() },
            auth_time: 1_000,
            origin_jti: Uuid::new_v4(),
            scope: "openid email".into(),
        }
    }

    #[test]
    fn a_refresh_token_rotates_and_the_sign_in_carries_over() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = RefreshTokens::open(dir.path()).unwrap();
        let session = session();
        let first = tokens.issue(&session, "todo-spa", 1_000).unwrap();

        let (carried, second) = tokens.rotate(&first, "todo-spa", 2_000).unwrap();
        assert_eq!(carried, session);
        assert_ne!(first, second);
        let (_, third) = tokens.rotate(&second, "todo-spa", 3_000).unwrap();
        assert_ne!(second, third);
        let stored = std::fs::read_to_string(dir.path().join(REFRESH_FILE)).unwrap();
        assert!(!stored.contains(&third), "refresh tokens are stored hashed");
    }

    #[test]
    fn reusing_a_spent_refresh_token_after_the_grace_period_revokes_the_sign_in() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = RefreshTokens::open(dir.path()).unwrap();
        let first = tokens.issue(&session(), "todo-spa", 1_000).unwrap();
        let (_, second) = tokens.rotate(&first, "todo-spa", 1_001).unwrap();

        let late = 1_001 + REUSE_GRACE_SECONDS + 1;
        assert!(matches!(tokens.rotate(&first, "todo-spa", late), Err(RefreshError::Reused)));
        assert!(matches!(tokens.rotate(&second, "todo-spa", late), Err(RefreshError::Invalid)));
    }

    #[test]
    fn a_spent_refresh_token_still_works_within_the_grace_period() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = RefreshTokens::open(dir.path()).unwrap();
        let first = tokens.issue(&session(), "todo-spa", 1_000).unwrap();
        let (_, from_one_tab) = tokens.rotate(&first, "todo-spa", 2_000).unwrap();
        let (_, from_another_tab) = tokens.rotate(&first, "todo-spa", 2_000 + REUSE_GRACE_SECONDS).unwrap();

        assert_ne!(from_one_tab, from_another_tab);
        assert!(tokens.rotate(&from_one_tab, "todo-spa", 2_100).is_ok());
        assert!(tokens.rotate(&from_another_tab, "todo-spa", 2_100).is_ok());
    }

    #[test]
    fn a_refresh_token_is_bound_to_its_client_and_expires() {
        let dir = tempfile::tempdir().unwrap();
        let tokens = RefreshTokens::open(dir.path()).unwrap();
        let token = tokens.issue(&session(), "todo-spa", 1_000).unwrap();
        assert!(matches!(tokens.rotate(&token, "other-client", 1_001), Err(RefreshError::Invalid)));
        assert!(matches!(
            tokens.rotate(&token, "todo-spa", 1_000 + REFRESH_LIFETIME_SECONDS),
            Err(RefreshError::Invalid)
        ));
    }
}
