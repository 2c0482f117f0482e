//! Authorization codes: one-time, short-lived, bound to the client, the redirect URI and the
//! PKCE challenge of the authorize request that produced them. Kept in memory: a code outlives
//! neither five minutes nor the server.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use super::tokens::Session;

/// Cognito's authorization codes are valid for five minutes.
pub const CODE_LIFETIME_SECONDS: i64 = 300;

/// What an authorize request left for the token exchange.
#[derive(Debug, Clone)]
pub struct PendingCode {
    pub client_id: String,
    pub redirect_uri: String,
    /// `BASE64URL(SHA256(code_verifier))`.
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub session: Session,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("the authorization code is unknown or has expired")]
    Unknown,
    #[error("the authorization code was already used")]
    Reused {
        /// The sign-in whose tokens must now be revoked (RFC 6749 section 4.1.2).
        origin_jti: Uuid,
    },
}

enum Slot {
    Pending(PendingCode),
    Redeemed(Uuid),
}

struct Entry {
    slot: Slot,
    expires_at: i64,
}

#[derive(Default)]
pub struct CodeStore {
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for CodeStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeStore").finish_non_exhaustive()
    }
}

impl CodeStore {
    /// Stores `pending` under a fresh unguessable code and returns the code.
    pub fn issue(&self, pending: PendingCode, now: i64) -> Result<String, super::password::RandomError> {
        let code = random_token()?;
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.retain(|_, entry| entry.expires_at > now);
        entries.insert(code.clone(), Entry { slot: Slot::Pending(pending), expires_at: now + CODE_LIFETIME_SECONDS });
        Ok(code)
    }

    /// Redeems `code` once. Whatever the token endpoint decides next, the code is spent.
    pub fn redeem(&self, code: &str, now: i64) -> Result<PendingCode, CodeError> {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(entry) = entries.get_mut(code).filter(|entry| entry.expires_at > now) else {
            return Err(CodeError::Unknown);
        };
        match &entry.slot {
            Slot::Redeemed(origin_jti) => Err(CodeError::Reused { origin_jti: *origin_jti }),
            Slot::Pending(pending) => {
                let pending = pending.clone();
                entry.slot = Slot::Redeemed(pending.session.origin_jti);
                Ok(pending)
            }
        }
    }
}

/// The PKCE S256 check: `BASE64URL(SHA256(verifier)) == challenge`, with RFC 7636's verifier
/// syntax (43 to 128 unreserved characters).
pub fn pkce_verifier_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return false;
    }
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    let computed = URL_SAFE_NO_PAD.encode(digest);
    aws_lc_rs::constant_time::verify_slices_are_equal(computed.as_bytes(), challenge.as_bytes()).is_ok()
}

/// 32 random bytes, base64url: codes and refresh tokens.
pub fn random_token() -> Result<String, super::password::RandomError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| super::password::RandomError)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::users::{Email, User};

    fn pending() -> PendingCode {
        PendingCode {
            client_id: "todo-spa".into(),
            redirect_uri: "http://127.0.0.1:8080/".into(),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            nonce: None,
            session: Session {
                user: User { sub: Uuid::new_v4(), email: Email::parse("a@example.com").unwrap() },
                auth_time: 1_000,
                origin_jti: Uuid::new_v4(),
                scope: "openid".into(),
            },
        }
    }

    #[test]
    fn a_code_redeems_once() {
        let store = CodeStore::default();
        let code = store.issue(pending(), 1_000).unwrap();
        let redeemed = store.redeem(&code, 1_001).unwrap();
        assert_eq!(
            store.redeem(&code, 1_002).err(),
            Some(CodeError::Reused { origin_jti: redeemed.session.origin_jti })
        );
    }

    #[test]
    fn a_code_expires_after_five_minutes() {
        let store = CodeStore::default();
        let code = store.issue(pending(), 1_000).unwrap();
        assert_eq!(store.redeem(&code, 1_000 + CODE_LIFETIME_SECONDS).err(), Some(CodeError::Unknown));
        assert_eq!(store.redeem("never-issued", 1_000).err(), Some(CodeError::Unknown));
    }

    #[test]
    fn pkce_matches_the_rfc_7636_example_only() {
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_verifier_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", challenge));
        assert!(!pkce_verifier_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl", challenge));
        assert!(!pkce_verifier_matches("short", challenge));
    }
}
