//! Users' rights: `erase-account` (`DELETE /account`) erases everything of the caller, and keeps a
//! receipt that holds no personal data.
//!
//! The event log is partitioned by user, so an erasure is a sweep of the caller's partition of
//! every table, a page at a time. What makes it stick is the order:
//!
//! 1. **The marker.** `ErasureTable` gets the user's item ([`Erasure::Erasing`], keyed by a keyed
//!    hash of the user id) before anything is deleted. From then on every command fails
//!    ([`todo_platform::store::ErasureFence`]: 410 `account_erased`), and the projector takes back
//!    whatever it writes for the user (it checks the marker after each batch).
//! 2. **Everything, in order** ([`UserData::ALL`]): live connections (nothing is pushed while the
//!    rest goes), events, read-model rows and tombstones, stats, list snapshots.
//! 3. **Settle.** A command that passed the fence just before the marker may still be writing.
//!    Commands check the marker before they write and run at most
//!    [`todo_platform::store::COMMAND_TIME_LIMIT`]; a fence remembers a "not erased" answer for
//!    [`todo_platform::store::FENCE_REMEMBER`]. So [`todo_platform::store::SETTLE`] after the
//!    marker, no command can write for the user any more.
//! 4. **Everything once more**, for what such a command wrote (and the rows projected from it).
//! 5. **The receipt** replaces the marker, and stays as the marker: a stale token still fails.
//!
//! A stream record in flight (an event appended a moment before, a retried batch) is applied by
//! the projector after the rows went: its check finds the marker and deletes the row again. The
//! local SQLite store checks the marker inside its append and projection transactions, so there
//! the erasure needs no settling.
//!
//! Each step is idempotent and its progress is stored after every page: an erasure that stops
//! (the function times out or dies) is finished by asking again. One request works for at most a
//! budget (API Gateway answers after 29 s); if the erasure is not done by then, the answer is 202
//! with `Retry-After`, and the client asks again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use events_schema::{Timestamp, UserId};
use todo_platform::http::Edge;
use todo_platform::store::{
    ErasedCounts, Erasure, ErasureKey, ErasureLog, ErasureReceipt, StoreError, UserData, UserEraser,
};

pub mod http;

/// Items deleted per request to a store.
pub const PAGE: usize = 100;
/// How long one `DELETE /account` works before it answers 202 (API Gateway gives up at 29 s).
pub const REQUEST_BUDGET: Duration = Duration::from_secs(20);

/// Where an erasure stands after a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done: the receipt (the same for every repeat).
    Erased(ErasureReceipt),
    /// Under way: ask again after `retry_after`.
    Erasing { erased: ErasedCounts, retry_after: Duration },
}

pub struct ErasureService {
    log: Arc<dyn ErasureLog>,
    key: ErasureKey,
    /// Every store that holds something of users; each is asked for every kind of data.
    holders: Vec<Arc<dyn UserEraser>>,
    /// How long after the marker the last sweep may start (see the module's step 3).
    settle: Duration,
    pub(crate) edge: Edge,
}

impl ErasureService {
    /// An erasure over `holders`, settling for [`todo_platform::store::SETTLE`].
    pub fn new(log: Arc<dyn ErasureLog>, key: ErasureKey, holders: Vec<Arc<dyn UserEraser>>, edge: Edge) -> Self {
        Self { log, key, holders, settle: todo_platform::store::SETTLE, edge }
    }

    /// The same erasure settling for `settle`: zero for a store that checks the marker atomically
    /// with every write (the local SQLite store), shorter in tests whose commands are bounded.
    pub fn with_settle(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }

    /// For the Lambda: every table's name (`EVENTS_TABLE_NAME`, `TODO_TABLE_NAME`,
    /// `STATS_TABLE_NAME`, `SNAPSHOTS_TABLE_NAME`, `CONNECTIONS_TABLE_NAME`, `ERASURE_TABLE_NAME`),
    /// `ERASURE_KEY`, `CORS_ALLOWED_ORIGIN` and the SDK's own configuration.
    pub async fn from_env() -> anyhow::Result<Self> {
        use todo_platform::config::Tables;
        let tables = Tables::from_env()?;
        let client = todo_platform::config::dynamodb_client().await;
        let store = Arc::new(
            todo_platform::store::dynamo::DynamoStore::new(client, tables.events, tables.todos)
                .with_stats_table(Tables::stats_from_env()?)
                .with_snapshots_table(Tables::snapshots_from_env()?)
                .with_connections_table(Tables::connections_from_env()?)
                .with_erasure_table(Tables::erasure_from_env()?),
        );
        Ok(Self::new(store.clone(), ErasureKey::from_env()?, vec![store], Edge::from_env()?))
    }

    /// The erasure's record, if the user asked for one.
    pub async fn erasure_of(&self, user: &UserId) -> Result<Option<Erasure>, StoreError> {
        self.log.erasure(&self.key.user_key(user)).await
    }

    /// Erases everything of `user`, or as much as `budget` allows; resumes where an earlier
    /// request stopped. `request_id` is kept in the receipt when this request is the first.
    pub async fn erase(&self, user: &UserId, request_id: &str, budget: Duration) -> Result<Outcome, StoreError> {
        let deadline = Instant::now() + budget;
        let user_key = self.key.user_key(user);
        let (requested_at, request_id, mut erased) = match self.log.begin_erasure(&user_key, now(), request_id).await? {
            Erasure::Erased(receipt) => return Ok(Outcome::Erased(receipt)),
            Erasure::Erasing { requested_at, request_id, erased, .. } => (requested_at, request_id, erased),
        };
        let progress = |erased: ErasedCounts| Erasure::Erasing {
            user_key: user_key.clone(),
            requested_at,
            request_id: request_id.clone(),
            erased,
        };
        let unfinished = |erased| Outcome::Erasing { erased, retry_after: Duration::from_secs(1) };

        if !self.sweep(user, &mut erased, deadline, &progress).await? {
            return Ok(unfinished(erased));
        }
        let settled_at = requested_at.as_datetime() + chrono::Duration::from_std(self.settle).unwrap_or_default();
        let wait = (settled_at - chrono::Utc::now()).to_std().unwrap_or_default();
        if Instant::now() + wait >= deadline {
            self.log.record_erasure(&progress(erased)).await?;
            return Ok(Outcome::Erasing { erased, retry_after: wait.max(Duration::from_secs(1)) });
        }
        tokio::time::sleep(wait).await;
        // Once more: what a command that passed the fence just before the marker wrote.
        if !self.sweep(user, &mut erased, deadline, &progress).await? {
            return Ok(unfinished(erased));
        }
        let receipt = ErasureReceipt { user_key: user_key.clone(), requested_at, erased_at: now(), request_id, erased };
        self.log.record_erasure(&Erasure::Erased(receipt.clone())).await?;
        metrics::counter!("AccountsErased").increment(1);
        tracing::info!(
            events = erased.events,
            todos = erased.todos,
            stats = erased.stats,
            snapshots = erased.snapshots,
            connections = erased.connections,
            "account erased"
        );
        Ok(Outcome::Erased(receipt))
    }

    /// Deletes every kind of the user's data from every holder, recording progress after each
    /// page; `false` when the deadline came first.
    async fn sweep(
        &self,
        user: &UserId,
        erased: &mut ErasedCounts,
        deadline: Instant,
        progress: &impl Fn(ErasedCounts) -> Erasure,
    ) -> Result<bool, StoreError> {
        for what in UserData::ALL {
            for holder in &self.holders {
                loop {
                    if Instant::now() >= deadline {
                        self.log.record_erasure(&progress(*erased)).await?;
                        return Ok(false);
                    }
                    let deleted = holder.erase_some(user, what, PAGE).await?;
                    if deleted == 0 {
                        break;
                    }
                    erased.add(what, deleted as u64);
                    self.log.record_erasure(&progress(*erased)).await?;
                }
            }
        }
        Ok(true)
    }
}

fn now() -> Timestamp {
    Timestamp::from_datetime(chrono::Utc::now())
}
