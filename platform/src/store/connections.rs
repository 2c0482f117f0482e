//! Live updates' open WebSocket connections: which sessions of a user are listening
//! (`ConnectionsTable` on AWS, partition key `userId`, sort key `connectionId`).
//!
//! `live-connections` records a connection on `$connect` and removes it on `$disconnect`; the
//! `notifier` lists the connections of a todo's user to push each change to them, and removes
//! those API Gateway says are gone. A connection is only ever listed under the user whose token
//! opened it, so a push can only reach that user's sessions.

use std::fmt;

use async_trait::async_trait;
use events_schema::{Timestamp, UserId};

use super::StoreError;

/// How long API Gateway keeps a WebSocket connection open at most. A connection is closed by
/// then whatever became of its `$disconnect`, so its item expires then (the table's TTL), and is
/// no longer listed once that instant has passed (TTL deletion can lag by days).
pub const CONNECTION_LIFETIME: chrono::Duration = chrono::Duration::hours(2);

/// The longest connection id accepted (API Gateway's are about 16 characters).
const MAX_CONNECTION_ID_LEN: usize = 128;

/// API Gateway's id of one WebSocket connection (`requestContext.connectionId`, and the path of
/// the management API's `PostToConnection`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnectionId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a connection id (1 to {MAX_CONNECTION_ID_LEN} visible ASCII characters)")]
pub struct ConnectionIdError(String);

impl ConnectionId {
    pub fn parse(raw: &str) -> Result<Self, ConnectionIdError> {
        let valid =
            !raw.is_empty() && raw.len() <= MAX_CONNECTION_ID_LEN && raw.bytes().all(|byte| byte.is_ascii_graphic());
        match valid {
            true => Ok(Self(raw.to_owned())),
            false => Err(ConnectionIdError(raw.chars().take(MAX_CONNECTION_ID_LEN + 1).collect())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One open connection of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The user whose ID token opened it (the authorizer's `sub`).
    pub user: UserId,
    pub id: ConnectionId,
    /// When API Gateway accepted it (`requestContext.connectedAt`).
    pub connected_at: Timestamp,
}

impl Connection {
    /// When API Gateway closes it at the latest: [`CONNECTION_LIFETIME`] after it opened.
    pub fn expires_at(&self) -> Timestamp {
        Timestamp::from_datetime(self.connected_at.as_datetime() + CONNECTION_LIFETIME)
    }

    /// Whether it can still be open at `now`.
    pub fn is_open_at(&self, now: Timestamp) -> bool {
        now < self.expires_at()
    }
}

/// Where the live connections are kept: the port of `live-connections` (put, remove) and of the
/// `notifier` (list, remove).
#[async_trait]
pub trait ConnectionStore: Send + Sync {
    /// Records a connection; recording the same one again changes nothing.
    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError>;

    /// Removes one connection of `user`; one that is not there (already removed, or another
    /// user's) is no error and changes nothing.
    async fn remove_connection(&self, user: &UserId, id: &ConnectionId) -> Result<(), StoreError>;

    /// The user's connections that can still be open at `now`, in id order.
    async fn user_connections(&self, user: &UserId, now: Timestamp) -> Result<Vec<Connection>, StoreError>;
}
