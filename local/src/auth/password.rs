//! Salted password hashes: PBKDF2-HMAC-SHA256 (aws-lc), stored in PHC string format.
//!
//! 600,000 iterations is OWASP's current recommendation for PBKDF2-HMAC-SHA256. The iteration
//! count lives in each stored hash, so it can be raised later without invalidating old accounts.

use std::num::NonZeroU32;

use aws_lc_rs::pbkdf2;
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

const SCHEME: &str = "pbkdf2-sha256";
const ITERATIONS: u32 = 600_000;
const SALT_LEN: usize = 16;
const HASH_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RandomError;

/// Hashes `password` with a fresh random salt: `$pbkdf2-sha256$i=600000$<salt>$<hash>`.
pub fn hash(password: &str) -> Result<String, RandomError> {
    let mut salt = [0u8; SALT_LEN];
    aws_lc_rs::rand::fill(&mut salt).map_err(|_| RandomError)?;
    let iterations = NonZeroU32::new(ITERATIONS).ok_or(RandomError)?;
    let mut derived = [0u8; HASH_LEN];
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, &salt, password.as_bytes(), &mut derived);
    Ok(format!("${SCHEME}$i={ITERATIONS}${}${}", STANDARD_NO_PAD.encode(salt), STANDARD_NO_PAD.encode(derived)))
}

/// Whether `password` matches `stored` (constant time in the comparison). A malformed or
/// unknown hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    let Some((iterations, salt, expected)) = parse(stored) else {
        return false;
    };
    pbkdf2::verify(pbkdf2::PBKDF2_HMAC_SHA256, iterations, &salt, password.as_bytes(), &expected).is_ok()
}

/// Spends the same time as checking a real account's password, so that "no such account"
/// cannot be told apart from "wrong password" by timing.
pub fn verify_against_nothing(password: &str) {
    let salt = [0u8; SALT_LEN];
    let mut derived = [0u8; HASH_LEN];
    if let Some(iterations) = NonZeroU32::new(ITERATIONS) {
        pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, &salt, password.as_bytes(), &mut derived);
    }
}

fn parse(stored: &str) -> Option<(NonZeroU32, Vec<u8>, Vec<u8>)> {
    let mut parts = stored.split('$');
    let (Some(""), Some(SCHEME), Some(params), Some(salt), Some(hash), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let iterations = NonZeroU32::new(params.strip_prefix("i=")?.parse().ok()?)?;
    let salt = STANDARD_NO_PAD.decode(salt).ok()?;
    let hash = STANDARD_NO_PAD.decode(hash).ok()?;
    (salt.len() >= SALT_LEN && hash.len() == HASH_LEN).then_some((iterations, salt, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery").unwrap();
        assert!(stored.starts_with("$pbkdf2-sha256$i=600000$"));
        assert!(!stored.contains("correct horse battery"));
        assert!(verify("correct horse battery", &stored));
        assert!(!verify("correct horse batterz", &stored));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        assert_ne!(hash("same password").unwrap(), hash("same password").unwrap());
    }

    #[test]
    fn a_malformed_hash_never_matches() {
        for stored in ["", "plain", "$pbkdf2-sha256$i=0$AAAA$AAAA", "$argon2id$v=19$m=1$AAAA$AAAA"] {
            assert!(!verify("anything", stored), "{stored:?} matched");
        }
    }
}
