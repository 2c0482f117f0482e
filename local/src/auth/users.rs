//! The dev sign-in's accounts: `users.json` in the auth dir, one record per email, with a salted
//! password hash (never the password) and a `sub` that stays the same for the account's life.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::password;
use crate::files::{DirLock, ensure_private_dir, read_json_or_default, write_json};

const USERS_FILE: &str = "users.json";
/// Cognito's limits: 8 is its default minimum length, 256 its maximum.
pub const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_CHARS: usize = 256;
const MAX_EMAIL_LEN: usize = 254;

/// An email address, trimmed and lower-cased (Cognito usernames are case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("Enter an email address like name@example.com.")]
pub struct InvalidEmail;

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let email = raw.trim().to_lowercase();
        let valid_chars = !email.chars().any(|c| c.is_whitespace() || c.is_control());
        let well_formed = match email.split_once('@') {
            Some((local, domain)) => !local.is_empty() && !domain.is_empty() && !domain.contains('@'),
            None => false,
        };
        if valid_chars && well_formed && email.len() <= MAX_EMAIL_LEN { Ok(Self(email)) } else { Err(InvalidEmail) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who signed in: what the tokens say about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub sub: Uuid,
    pub email: Email,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("Incorrect email or password.")]
    IncorrectCredentials,
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateAccountError {
    #[error("An account with this email already exists. Sign in instead.")]
    AlreadyExists,
    #[error("Choose a password of at least {MIN_PASSWORD_CHARS} characters.")]
    PasswordTooShort,
    #[error("Choose a password of at most {MAX_PASSWORD_CHARS} characters.")]
    PasswordTooLong,
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct UsersFile {
    users: Vec<UserRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserRecord {
    sub: Uuid,
    email: Email,
    /// PHC string of a salted PBKDF2 hash; see [`password`].
    password_hash: String,
    created_at: DateTime<Utc>,
}

impl UserRecord {
    fn user(&self) -> User {
        User { sub: self.sub, email: self.email.clone() }
    }
}

/// The accounts file of one data dir. Every operation re-reads the file under the dir lock, so a
/// server and `todo-local token` can share it.
#[derive(Debug, Clone)]
pub struct UserStore {
    dir: PathBuf,
}

impl UserStore {
    pub fn open(auth_dir: &Path) -> anyhow::Result<Self> {
        ensure_private_dir(auth_dir)?;
        Ok(Self { dir: auth_dir.to_path_buf() })
    }

    /// The accounts file (tests read it to check that no password is stored in clear).
    pub fn path(&self) -> PathBuf {
        self.dir.join(USERS_FILE)
    }

    /// Checks a password. Blocking and deliberately slow (a KDF): call from a blocking thread.
    pub fn sign_in(&self, email: &Email, password: &str) -> Result<User, SignInError> {
        let record = self.find(email)?;
        match record {
            Some(record) if password::verify(password, &record.password_hash) => Ok(record.user()),
            Some(_) => Err(SignInError::IncorrectCredentials),
            None => {
                password::verify_against_nothing(password);
                Err(SignInError::IncorrectCredentials)
            }
        }
    }

    /// Registers a new account. Blocking and deliberately slow: call from a blocking thread.
    pub fn create_account(&self, email: &Email, password: &str) -> Result<User, CreateAccountError> {
        let chars = password.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(CreateAccountError::PasswordTooShort);
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(CreateAccountError::PasswordTooLong);
        }
        if self.find(email)?.is_some() {
            return Err(CreateAccountError::AlreadyExists);
        }
        let password_hash = password::hash(password).context("hashing the password")?;
        self.insert_unless_exists(email, password_hash)?.ok_or(CreateAccountError::AlreadyExists)
    }

    /// The account for `email`, created with a random password nobody knows if there is none
    /// (`todo-local token`).
    pub fn find_or_create_without_password(&self, email: &Email) -> anyhow::Result<User> {
        if let Some(record) = self.find(email)? {
            return Ok(record.user());
        }
        let mut secret = [0u8; 32];
        aws_lc_rs::rand::fill(&mut secret).map_err(|_| password::RandomError)?;
        let password_hash = password::hash(&URL_SAFE_NO_PAD.encode(secret))?;
        match self.insert_unless_exists(email, password_hash)? {
            Some(user) => Ok(user),
            // Someone created it between our read and our write: theirs wins.
            None => self.find(email)?.map(|record| record.user()).context("the account vanished"),
        }
    }

    /// Whether the account `sub` still exists (a refresh token outlives a deleted account).
    pub fn exists(&self, sub: Uuid) -> anyhow::Result<bool> {
        let _lock = DirLock::acquire(&self.dir)?;
        let file: UsersFile = read_json_or_default(&self.path())?;
        Ok(file.users.iter().any(|record| record.sub == sub))
    }

    /// Deletes the account `sub` (Cognito's `DeleteUser`); `false` when there is none. Its email
    /// is free again: a new account with it is a new user, with a new `sub`.
    pub fn delete(&self, sub: Uuid) -> anyhow::Result<bool> {
        let _lock = DirLock::acquire(&self.dir)?;
        let path = self.path();
        let mut file: UsersFile = read_json_or_default(&path)?;
        let before = file.users.len();
        file.users.retain(|record| record.sub != sub);
        if file.users.len() == before {
            return Ok(false);
        }
        write_json(&path, &file)?;
        Ok(true)
    }

    fn find(&self, email: &Email) -> anyhow::Result<Option<UserRecord>> {
        let _lock = DirLock::acquire(&self.dir)?;
        let file: UsersFile = read_json_or_default(&self.path())?;
        Ok(file.users.into_iter().find(|record| &record.email == email))
    }

    /// `None` when the email is taken.
    fn insert_unless_exists(&self, email: &Email, password_hash: String) -> anyhow::Result<Option<User>> {
        let _lock = DirLock::acquire(&self.dir)?;
        let path = self.path();
        let mut file: UsersFile = read_json_or_default(&path)?;
        if file.users.iter().any(|record| &record.email == email) {
            return Ok(None);
        }
        let record = UserRecord { sub: Uuid::new_v4(), email: email.clone(), password_hash, created_at: Utc::now() };
        let user = record.user();
        file.users.push(record);
        write_json(&path, &file)?;
        Ok(Some(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(raw: &str) -> Email {
        Email::parse(raw).unwrap()
    }

    #[test]
    fn emails_are_case_insensitive_and_trimmed() {
        assert_eq!(email("  Alice@Example.COM "), email("alice@example.com"));
        for invalid in ["", "alice", "@example.com", "alice@", "a b@example.com", "a@b@c"] {
            assert_eq!(Email::parse(invalid), Err(InvalidEmail), "{invalid:?}");
        }
    }

    #[test]
    fn an_account_signs_in_with_its_password_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = UserStore::open(dir.path()).unwrap();
        let created = store.create_account(&email("alice@example.com"), "correct horse").unwrap();

        let signed_in = store.sign_in(&email("ALICE@example.com"), "correct horse").unwrap();
        assert_eq!(signed_in, created);
        assert!(matches!(
            store.sign_in(&email("alice@example.com"), "wrong horse"),
            Err(SignInError::IncorrectCredentials)
        ));
        assert!(matches!(
            store.sign_in(&email("bob@example.com"), "correct horse"),
            Err(SignInError::IncorrectCredentials)
        ));
    }

    #[test]
    fn a_deleted_account_is_gone_and_its_email_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let store = UserStore::open(dir.path()).unwrap();
        let ann = store.create_account(&email("ann@example.com"), "correct horse battery").unwrap();
        assert!(store.exists(ann.sub).unwrap());
        assert!(store.delete(ann.sub).unwrap());
        assert!(!store.delete(ann.sub).unwrap(), "deleting twice finds nothing");
        assert!(!store.exists(ann.sub).unwrap());
        assert!(matches!(
            store.sign_in(&email("ann@example.com"), "correct horse battery"),
            Err(SignInError::IncorrectCredentials)
        ));
        let again = store.create_account(&email("ann@example.com"), "another long one").unwrap();
        assert_ne!(again.sub, ann.sub);
    }

    #[test]
    fn an_email_registers_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = UserStore::open(dir.path()).unwrap();
        store.create_account(&email("alice@example.com"), "correct horse").unwrap();
        assert!(matches!(
            store.create_account(&email("alice@example.com"), "another password"),
            Err(CreateAccountError::AlreadyExists)
        ));
        assert!(matches!(
            store.create_account(&email("bob@example.com"), "short"),
            Err(CreateAccountError::PasswordTooShort)
        ));
    }

    #[test]
    fn a_token_only_account_keeps_its_sub() {
        let dir = tempfile::tempdir().unwrap();
        let store = UserStore::open(dir.path()).unwrap();
        let first = store.find_or_create_without_password(&email("carol@example.com")).unwrap();
        let second = UserStore::open(dir.path()).unwrap().find_or_create_without_password(&email("carol@example.com"));
        assert_eq!(first, second.unwrap());
    }
}
