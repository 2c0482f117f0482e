//! Storage ports, shaped by the functions that use them, and their adapters.
//!
//! Each port is what one kind of function needs and no more, so a function's dependencies mirror
//! its IAM policy: commands an [`EventLog`], history queries an [`EventLog`] or [`EventTimeline`],
//! list/get a [`ReadModel`], the projector and replay a [`ProjectionStore`] (plus [`EventScan`]
//! for replay). Every adapter passes the same contract suite (`contract`).

use async_trait::async_trait;
use events_schema::{DecodeError, Event, EventRecord, Timestamp, Todo, TodoId, TodoItem, UserId, event_key};
use serde::{Deserialize, Serialize};

mod connections;
pub mod dynamo;
mod erasure;
pub mod memory;
mod snapshot;

pub use connections::{CONNECTION_LIFETIME, Connection, ConnectionId, ConnectionIdError, ConnectionStore};
pub use erasure::{
    COMMAND_TIME_LIMIT, ErasedCounts, Erasure, ErasureFence, ErasureKey, ErasureKeyError, ErasureLog, ErasureReceipt,
    FENCE_REMEMBER, SETTLE, UserData, UserEraser, UserKey,
};
pub use snapshot::{ListFold, ListSnapshot, SNAPSHOT_MARGIN, SnapshotStore};

pub mod contract;

/// How long a tombstone stays in the read model after the deletion. Far longer than a stream
/// record can live (24 hours), so no late event can outlive its tombstone.
pub const TOMBSTONE_TTL_DAYS: i64 = 7;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("stored event {key} cannot be read")]
    Corrupt {
        key: String,
        #[source]
        source: DecodeError,
    },
    #[error("stored row {key} cannot be read: {detail}")]
    CorruptRow { key: String, detail: String },
    #[error("{operation} failed")]
    Backend {
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The store is overloaded, failing or slow right now (throttled, a 5xx, a timeout, a dropped
    /// connection): worth retrying in a moment. Whether a write it interrupted happened is unknown.
    #[error("{operation} did not complete: the store is throttling, failing or slow")]
    Unavailable {
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The account is being erased, or was: nothing more may be written for it.
    #[error("the account is erased")]
    AccountErased,
}

impl StoreError {
    pub fn unavailable(operation: &'static str, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Unavailable { operation, source: source.into() }
    }

    pub fn backend(operation: &'static str, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Backend { operation, source: source.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Another writer appended one of these versions first: the optimistic-concurrency check.
    #[error("an event with one of these versions already exists")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Which part of a table a scan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Every user's items (a Scan).
    All,
    /// One user's partition (a Query).
    User(&'a UserId),
    /// One of N parallel segments of a Scan (`replay --segments N --segment I`).
    Segment(Segment),
}

impl<'a> From<Option<&'a UserId>> for Scope<'a> {
    fn from(user: Option<&'a UserId>) -> Self {
        user.map_or(Self::All, Self::User)
    }
}

/// One of `total` disjoint parts of a table that together hold every item; each user's partition
/// lies in one part. DynamoDB splits a parallel Scan itself; the other stores use
/// [`Segment::holds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    index: u32,
    total: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    #[error("the number of segments must be from 1 to {MAX_SEGMENTS}, not {0}")]
    Total(u64),
    #[error("segment {index} does not exist: segments are numbered 0 to {last}")]
    Index { index: u64, last: u64 },
}

/// DynamoDB's bound on `TotalSegments`.
pub const MAX_SEGMENTS: u32 = 1_000_000;

impl Segment {
    pub fn new(index: u64, total: u64) -> Result<Self, SegmentError> {
        let total =
            u32::try_from(total).ok().filter(|t| (1..=MAX_SEGMENTS).contains(t)).ok_or(SegmentError::Total(total))?;
        let index = u32::try_from(index)
            .ok()
            .filter(|i| *i < total)
            .ok_or(SegmentError::Index { index, last: u64::from(total) - 1 })?;
        Ok(Self { index, total })
    }

    pub fn index(self) -> u32 {
        self.index
    }

    pub fn total(self) -> u32 {
        self.total
    }

    /// Whether this segment holds a user's partition.
    pub fn holds(self, user_id: &str) -> bool {
        partition_hash(user_id) % u64::from(self.total) == u64::from(self.index)
    }
}

/// The hash that places a user's partition in a segment (FNV-1a, 64 bits) for the stores that
/// split scans themselves.
pub fn partition_hash(user_id: &str) -> u64 {
    user_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// One page of results and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, C> {
    pub items: Vec<T>,
    pub next: Option<C>,
}

impl<T, C> Page<T, C> {
    /// A page from `limit + 1` fetched items: the extra one only says that more follow, and the
    /// cursor is taken from the last item kept.
    pub fn from_overfetch(mut items: Vec<T>, limit: usize, cursor: impl FnOnce(&T) -> C) -> Self {
        let more = items.len() > limit;
        items.truncate(limit);
        let next = if more { items.last().map(cursor) } else { None };
        Self { items, next }
    }
}

impl HistoryCursor {
    /// The cursor that resumes after this event.
    pub fn after(event: &Event) -> Self {
        Self { occurred_at: event.occurred_at, todo_id: event.todo_id, version: event.version }
    }
}

impl ScanCursor {
    /// The cursor that resumes after this event.
    pub fn after(event: &Event) -> Self {
        Self { user_id: event.user_id.to_string(), event_key: event_key(&event.todo_id, event.version) }
    }

    /// The cursor that resumes after this item, readable or not.
    pub fn after_record(record: &StoredRecord) -> Self {
        match record {
            Ok(record) => Self { user_id: record.user_id.clone(), event_key: record.event_key.clone() },
            Err(item) => Self { user_id: item.user_id.clone(), event_key: item.event_key.clone() },
        }
    }
}

/// Where a listing of a user's todos resumes: after this todo (ids sort in creation order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListCursor {
    pub after: TodoId,
}

/// Where a user's history resumes: after this event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryCursor {
    pub occurred_at: Timestamp,
    pub todo_id: TodoId,
    pub version: u64,
}

/// Where a scan of the event table resumes (replay, the audit): after this item's key, as stored,
/// so that a scan can step over an item it cannot read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanCursor {
    pub user_id: String,
    pub event_key: String,
}

/// An item of the event table as stored: a record (not yet decoded into an [`Event`], so that the
/// audit sees exactly what is there), or what could be told of an item that is not even a record.
pub type StoredRecord = Result<EventRecord, UnreadableItem>;

/// An item of the event table that does not have the shape of an event record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableItem {
    pub user_id: String,
    pub event_key: String,
    pub detail: String,
}

/// Which todos a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    #[default]
    All,
    Active,
    Completed,
}

impl StatusFilter {
    pub fn admits(self, item: &TodoItem) -> bool {
        match self {
            Self::All => true,
            Self::Active => !item.completed,
            Self::Completed => item.completed,
        }
    }
}

/// The event table as the command side and the item history see it.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Every event of one todo, in version order, read consistently.
    async fn load(&self, user: &UserId, todo: &TodoId) -> Result<Vec<Event>, StoreError>;

    /// Appends events of one todo, all or none, each only if its version is not taken yet.
    async fn append(&self, events: &[Event]) -> Result<(), AppendError>;

    /// Whether one todo has any event at all (replay's orphan check): reads one key, not the events.
    async fn has_events(&self, user: &UserId, todo: &TodoId) -> Result<bool, StoreError>;
}

/// A user's events across all todos, in time order (`GET /history`, and lists as of an instant).
#[async_trait]
pub trait EventTimeline: Send + Sync {
    /// Events after the cursor and, with `until`, no later than that instant.
    async fn user_history(
        &self,
        user: &UserId,
        until: Option<Timestamp>,
        limit: usize,
        after: Option<HistoryCursor>,
    ) -> Result<Page<Event, HistoryCursor>, StoreError>;
}

/// The whole event table, or one user's part, grouped by todo and in version order (replay, the
/// audit, digests and exports).
#[async_trait]
pub trait EventScan: Send + Sync {
    /// One page of items as stored, readable or not.
    async fn scan_records(
        &self,
        scope: Scope<'_>,
        limit: usize,
        after: Option<ScanCursor>,
    ) -> Result<Page<StoredRecord, ScanCursor>, StoreError>;

    /// One page of decoded events; an item that cannot be decoded is an error.
    async fn scan(
        &self,
        scope: Scope<'_>,
        limit: usize,
        after: Option<ScanCursor>,
    ) -> Result<Page<Event, ScanCursor>, StoreError> {
        let page = self.scan_records(scope, limit, after).await?;
        let items = page.items.into_iter().map(decode_stored).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, next: page.next })
    }
}

/// An event from a stored item, or why it is not one.
pub fn decode_stored(stored: StoredRecord) -> Result<Event, StoreError> {
    match stored {
        Ok(record) => {
            let key = record.event_key.clone();
            Event::from_record(record).map_err(|source| StoreError::Corrupt { key, source })
        }
        Err(item) => Err(item.into()),
    }
}

impl From<UnreadableItem> for StoreError {
    fn from(item: UnreadableItem) -> Self {
        Self::CorruptRow { key: format!("{}/{}", item.user_id, item.event_key), detail: item.detail }
    }
}

/// The read model as the list and get queries see it: live todos only.
#[async_trait]
pub trait ReadModel: Send + Sync {
    async fn get(&self, user: &UserId, todo: &TodoId) -> Result<Option<TodoItem>, StoreError>;

    async fn list(
        &self,
        user: &UserId,
        status: StatusFilter,
        limit: usize,
        after: Option<ListCursor>,
    ) -> Result<Page<TodoItem, ListCursor>, StoreError>;
}

/// How a projected state may replace the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteGuard {
    /// Only over an older version (the projector: never regress, never redo).
    NewerOnly,
    /// Also over the same version (replay: repairs a row whose content drifted).
    NotOlder,
}

/// The read model as the projector and replay see it: every row, tombstones included.
#[async_trait]
pub trait ProjectionStore: Send + Sync {
    /// The projected state of one todo: `NotCreated` when there is no row.
    async fn state(&self, user: &UserId, todo: &TodoId) -> Result<Todo, StoreError>;

    /// Stores a state unless the stored one is newer (see [`WriteGuard`]); `false` when it was kept.
    /// `Todo::NotCreated` is never written.
    async fn put(&self, user: &UserId, state: &Todo, guard: WriteGuard) -> Result<bool, StoreError>;

    /// [`ProjectionStore::put`] for many rows (replay writes a page at a time): one result per row,
    /// in order. Not atomic: a failure may leave some rows written, each of them correctly.
    async fn put_many(&self, rows: &[(UserId, Todo)], guard: WriteGuard) -> Result<Vec<bool>, StoreError> {
        let mut written = Vec::with_capacity(rows.len());
        for (user, state) in rows {
            written.push(self.put(user, state, guard).await?);
        }
        Ok(written)
    }

    /// Removes a row (replay, for rows that no event backs).
    async fn remove(&self, user: &UserId, todo: &TodoId) -> Result<(), StoreError>;

    /// Every row, one page at a time (replay's drift check).
    async fn scan_rows(
        &self,
        scope: Scope<'_>,
        limit: usize,
        after: Option<(UserId, TodoId)>,
    ) -> Result<Page<Row, (UserId, TodoId)>, StoreError>;
}

/// What the stats projection keeps of one todo: every figure of `GET /stats` is a function of
/// these facts of each of the user's todos (see `queries::stats`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TodoFacts {
    pub todo_id: TodoId,
    /// The version of the todo's state these facts are of: the write guard.
    pub version: u64,
    pub created_at: Timestamp,
    /// When it was completed, if it is (or was when deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    pub deleted: bool,
}

impl TodoFacts {
    /// The facts of a state; `None` before the todo exists.
    pub fn of(state: &Todo) -> Option<Self> {
        let (item, deleted) = match state {
            Todo::NotCreated => return None,
            Todo::Live(item) => (item, false),
            Todo::Deleted(item) => (item, true),
        };
        Some(Self {
            todo_id: item.id,
            version: item.version,
            created_at: item.created_at,
            completed_at: item.completed_at.filter(|_| item.completed),
            deleted,
        })
    }

    /// Whether two states' facts differ in anything but the version (a rename does not count).
    pub fn same_figures(&self, other: &Self) -> bool {
        (self.todo_id, self.created_at, self.completed_at, self.deleted)
            == (other.todo_id, other.created_at, other.completed_at, other.deleted)
    }
}

/// The stats projection's store: one version-guarded row of [`TodoFacts`] per todo.
#[async_trait]
pub trait StatsStore: Send + Sync {
    /// Stores a todo's facts unless the stored ones are newer (see [`WriteGuard`]); `false` when kept.
    async fn put_facts(&self, user: &UserId, facts: &TodoFacts, guard: WriteGuard) -> Result<bool, StoreError>;

    /// [`StatsStore::put_facts`] for many rows (replay); not atomic.
    async fn put_many_facts(&self, rows: &[(UserId, TodoFacts)], guard: WriteGuard) -> Result<Vec<bool>, StoreError> {
        let mut written = Vec::with_capacity(rows.len());
        for (user, facts) in rows {
            written.push(self.put_facts(user, facts, guard).await?);
        }
        Ok(written)
    }

    /// One todo's facts (replay's drift check).
    async fn facts(&self, user: &UserId, todo: &TodoId) -> Result<Option<TodoFacts>, StoreError>;

    /// Every fact row of one user (`GET /stats`): one per todo the user ever had.
    async fn user_facts(&self, user: &UserId) -> Result<Vec<TodoFacts>, StoreError>;

    /// Every row, one page at a time (replay's orphan check).
    async fn scan_facts(
        &self,
        scope: Scope<'_>,
        limit: usize,
        after: Option<(UserId, TodoId)>,
    ) -> Result<Page<(UserId, TodoFacts), (UserId, TodoId)>, StoreError>;

    /// Removes a row (replay, for rows that no event backs).
    async fn remove_facts(&self, user: &UserId, todo: &TodoId) -> Result<(), StoreError>;
}

/// One stored read-model row, tombstones included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub user: UserId,
    pub item: TodoItem,
    pub deleted: bool,
}

impl Row {
    /// The row for a state; `None` for `NotCreated`, which is never stored.
    pub fn from_state(user: &UserId, state: &Todo) -> Option<Self> {
        match state {
            Todo::NotCreated => None,
            Todo::Live(item) => Some(Self { user: user.clone(), item: item.clone(), deleted: false }),
            Todo::Deleted(item) => Some(Self { user: user.clone(), item: item.clone(), deleted: true }),
        }
    }

    pub fn state(&self) -> Todo {
        match self.deleted {
            true => Todo::Deleted(self.item.clone()),
            false => Todo::Live(self.item.clone()),
        }
    }

    pub fn key(&self) -> (UserId, TodoId) {
        (self.user.clone(), self.item.id)
    }
}
