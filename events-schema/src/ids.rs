use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("`{0}` is not a UUID")]
    NotAUuid(String),
    #[error("the user id is empty")]
    EmptyUser,
}

/// A todo's id: a UUID. The server mints UUIDv7 (time-ordered, so listing order is creation order);
/// a client may choose any UUID to make its create retries idempotent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct TodoId(Uuid);

impl TodoId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        Uuid::try_parse(raw).map(Self).map_err(|_| IdError::NotAUuid(raw.chars().take(64).collect()))
    }

    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for TodoId {
    /// Always the lowercase hyphenated form, whatever form the client sent: ids are keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// The owner of an event stream: the Cognito `sub` claim, never anything a client sent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct UserId(String);

impl UserId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        if raw.trim().is_empty() {
            return Err(IdError::EmptyUser);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn todo_ids_are_normalised_to_lowercase_hyphenated() {
        let id = TodoId::parse("0193F3A4-1B2C-7D8E-9F00-112233445566").unwrap();
        assert_eq!(id.to_string(), "0193f3a4-1b2c-7d8e-9f00-112233445566");
    }

    #[test]
    fn a_todo_id_must_be_a_uuid() {
        assert!(matches!(TodoId::parse("42"), Err(IdError::NotAUuid(_))));
        assert!(matches!(TodoId::parse("../etc/passwd"), Err(IdError::NotAUuid(_))));
    }

    #[test]
    fn a_user_id_cannot_be_blank() {
        assert_eq!(UserId::parse("  "), Err(IdError::EmptyUser));
    }
}
