//! The dev sign-in's RSA signing key and the JWKS that publishes it.
//!
//! One key per data dir, generated on first use and kept as a PKCS#8 PEM file readable by the owner
//! only, so tokens issued before a restart (or by `todo-local token`) still verify after it.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

use crate::files::{DirLock, PRIVATE_FILE_MODE, ensure_private_dir, write_atomically};

const KEY_FILE: &str = "signing-key.pem";
const PEM_LABEL: &str = "PRIVATE KEY";

/// A JSON Web Key Set, as Cognito publishes it at `/.well-known/jwks.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// One RSA public key of a [`Jwks`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Jwk {
    pub kid: String,
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    /// Modulus, base64url without padding.
    pub n: String,
    /// Public exponent, base64url without padding.
    pub e: String,
}

/// The private key that signs the dev sign-in's tokens.
pub struct SigningKey {
    kid: String,
    encoding_key: EncodingKey,
    public: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Loads the key of `auth_dir`, generating and saving one first if there is none.
    pub fn load_or_generate(auth_dir: &Path) -> anyhow::Result<Self> {
        ensure_private_dir(auth_dir)?;
        // Held so that two processes starting on a fresh data dir agree on one key.
        let _lock = DirLock::acquire(auth_dir)?;
        let path = auth_dir.join(KEY_FILE);
        match fs::read_to_string(&path) {
            Ok(pem) => {
                restrict_permissions(&path)?;
                Self::from_pem(&pem).with_context(|| format!("loading the signing key {}", path.display()))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key_pair =
                    KeyPair::generate(KeySize::Rsa2048).map_err(|_| anyhow!("generating an RSA signing key failed"))?;
                let der = key_pair.as_der().map_err(|_| anyhow!("encoding the signing key failed"))?;
                let pem = encode_pem(der.as_ref());
                write_atomically(&path, pem.as_bytes(), PRIVATE_FILE_MODE)?;
                tracing::info!(path = %path.display(), "generated a new signing key for the dev sign-in");
                Self::from_pem(&pem)
            }
            Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Parses a PKCS#8 PEM RSA private key.
    pub fn from_pem(pem: &str) -> anyhow::Result<Self> {
        let der = decode_pem(pem)?;
        let key_pair = KeyPair::from_pkcs8(&der).map_err(|error| anyhow!("not an RSA private key: {error}"))?;
        let components = PublicKeyComponents::<Vec<u8>>::from(key_pair.public_key());
        let n = URL_SAFE_NO_PAD.encode(strip_leading_zeros(&components.n));
        let e = URL_SAFE_NO_PAD.encode(strip_leading_zeros(&components.e));
        let kid = thumbprint(&n, &e);
        let encoding_key = EncodingKey::from_rsa_pem(pem.as_bytes()).context("loading the key for signing")?;
        let public =
            Jwk { kid: kid.clone(), kty: "RSA".into(), alg: Some("RS256".into()), key_use: Some("sig".into()), n, e };
        Ok(Self { kid, encoding_key, public })
    }

    /// A fresh key that is never saved (tests, forged-token checks).
    pub fn generate_ephemeral() -> anyhow::Result<Self> {
        let key_pair =
            KeyPair::generate(KeySize::Rsa2048).map_err(|_| anyhow!("generating an RSA signing key failed"))?;
        let der = key_pair.as_der().map_err(|_| anyhow!("encoding the signing key failed"))?;
        Self::from_pem(&encode_pem(der.as_ref()))
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half, as published in the JWKS.
    pub fn jwk(&self) -> &Jwk {
        &self.public
    }

    pub fn jwks(&self) -> Jwks {
        Jwks { keys: vec![self.public.clone()] }
    }

    /// Signs `claims` as an RS256 JWT with this key's `kid` in the header.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding_key)
    }
}

/// The path of the signing key inside an auth dir (for tests and diagnostics).
pub fn key_path(auth_dir: &Path) -> PathBuf {
    auth_dir.join(KEY_FILE)
}

fn restrict_permissions(path: &Path) -> anyhow::Result<()> {
    let mode = fs::metadata(path).with_context(|| format!("reading {}", path.display()))?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "the signing key was readable by others: restricting it to its owner");
        fs::set_permissions(path, fs::Permissions::from_mode(PRIVATE_FILE_MODE))
            .with_context(|| format!("restricting permissions of {}", path.display()))?;
    }
    Ok(())
}

/// RFC 7638 JWK thumbprint: a `kid` that is stable for the key and different for any other.
fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, canonical.as_bytes()))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&byte| byte != 0).unwrap_or(bytes.len().saturating_sub(1));
    &bytes[first..]
}

fn encode_pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {PEM_LABEL}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {PEM_LABEL}-----\n"));
    pem
}

fn decode_pem(pem: &str) -> anyhow::Result<Vec<u8>> {
    let begin = format!("-----BEGIN {PEM_LABEL}-----");
    let end = format!("-----END {PEM_LABEL}-----");
    let start = pem.find(&begin).context("no PKCS#8 \"BEGIN PRIVATE KEY\" line")? + begin.len();
    let stop = pem[start..].find(&end).context("no \"END PRIVATE KEY\" line")? + start;
    let body: String = pem[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(body).context("the PEM body is not base64")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_generated_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = SigningKey::load_or_generate(dir.path()).unwrap();
        let second = SigningKey::load_or_generate(dir.path()).unwrap();

        assert_eq!(first.kid(), second.kid());
        assert_eq!(first.jwks(), second.jwks());
        let mode = fs::metadata(key_path(dir.path())).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn the_jwks_publishes_an_rs256_signing_key() {
        let key = SigningKey::generate_ephemeral().unwrap();
        let jwk = key.jwk();
        assert_eq!(jwk.kty, "RSA");
        assert_eq!(jwk.alg.as_deref(), Some("RS256"));
        assert_eq!(jwk.key_use.as_deref(), Some("sig"));
        assert_eq!(jwk.e, "AQAB");
        assert_eq!(URL_SAFE_NO_PAD.decode(&jwk.n).unwrap().len(), 256);
    }
}
