//! The auditors' wing: what the event log proves about itself.
//!
//! - [`digest_of`]: one hash over every todo's head up to an instant (`GET /history/digest`,
//!   `todo-audit digest`);
//! - [`http`]: the digest and export routes (`GET /history/digest`, `GET /export`);
//! - [`verify`]: walks the event table checking every todo's hash chain (`todo-audit verify`);
//! - [`export_file`]: checks an export file with no AWS access at all (`todo-audit verify-export`);
//! - [`erasures`]: lists the account erasures' receipts and markers (`todo-audit erasures`).
//!
//! The recipe itself (canonical form, hash, chain, digest) is pure and lives in
//! `events_schema::integrity`, so that the same code computes and checks it everywhere.

use std::sync::Arc;

use events_schema::integrity::{DigestBuilder, is_no_later_than};
use events_schema::{HistoryDigest, Timestamp, UserId};
use todo_platform::config::{Tables, dynamodb_client};
use todo_platform::http::Edge;
use todo_platform::store::dynamo::DynamoStore;
use todo_platform::store::{EventScan, ScanCursor, Scope, StoreError};

pub mod erasures;
pub mod export_file;
pub mod http;
pub mod verify;

/// Items read per request when walking a user's partition.
pub const SCAN_PAGE: usize = 1000;

/// What the audit functions read: the event table, by partition.
#[derive(Clone)]
pub struct AuditService {
    events: Arc<dyn EventScan>,
    edge: Edge,
}

impl AuditService {
    pub fn new(events: Arc<dyn EventScan>, edge: Edge) -> Self {
        Self { events, edge }
    }

    /// For `get-history-digest` and `export-data`: `EVENTS_TABLE_NAME`, `CORS_ALLOWED_ORIGIN`.
    pub async fn from_env() -> anyhow::Result<Self> {
        let events = Tables::events_from_env()?;
        let edge = Edge::from_env()?;
        Ok(Self::new(Arc::new(DynamoStore::new(dynamodb_client().await, events, "")), edge))
    }
}

/// The digest of one user's history up to `as_of`, from one pass over the user's partition in
/// todo-then-version order, holding one todo's head at a time.
pub async fn digest_of(events: &dyn EventScan, user: &UserId, as_of: Timestamp) -> Result<HistoryDigest, StoreError> {
    let mut builder = DigestBuilder::new();
    let mut cursor: Option<ScanCursor> = None;
    loop {
        let page = events.scan_records(Scope::User(user), SCAN_PAGE, cursor).await?;
        for stored in page.items {
            match stored {
                Ok(record) if is_no_later_than(&record, as_of) => builder.push_record(&record),
                Ok(_later) => {}
                // A digest over what cannot be read would prove nothing: `todo-audit verify` says more.
                Err(unreadable) => return Err(unreadable.into()),
            }
        }
        cursor = page.next;
        if cursor.is_none() {
            return Ok(builder.finish(as_of));
        }
    }
}
