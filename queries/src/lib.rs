//! The query side: todos from the read model, history from the event table.
//!
//! The HTTP handlers are in [`http`]; Lambda, the local stack and the tests all call them.

use std::sync::Arc;

use todo_platform::config::{Tables, dynamodb_client};
use todo_platform::http::Edge;
use todo_platform::store::dynamo::DynamoStore;
use todo_platform::store::{EventLog, EventTimeline, ReadModel, SnapshotStore, StatsStore};

pub mod http;
pub mod past;
pub mod stats;

/// What the query functions read: the read model for list/get, the event table for history.
#[derive(Clone)]
pub struct QueryService {
    todos: Arc<dyn ReadModel>,
    events: Arc<dyn EventLog>,
    timeline: Arc<dyn EventTimeline>,
    stats: Arc<dyn StatsStore>,
    /// Where lists as of an instant resume their fold from; without it they fold from the start.
    snapshots: Option<Arc<dyn SnapshotStore>>,
    edge: Edge,
}

impl QueryService {
    pub fn new(
        todos: Arc<dyn ReadModel>,
        events: Arc<dyn EventLog>,
        timeline: Arc<dyn EventTimeline>,
        stats: Arc<dyn StatsStore>,
        edge: Edge,
    ) -> Self {
        Self { todos, events, timeline, stats, snapshots: None, edge }
    }

    /// The same service, resuming lists as of an instant from the list snapshots in `snapshots`.
    pub fn with_snapshots(mut self, snapshots: Arc<dyn SnapshotStore>) -> Self {
        self.snapshots = Some(snapshots);
        self
    }

    /// One store serving every port.
    pub fn with_store<S: ReadModel + EventLog + EventTimeline + StatsStore + 'static>(
        store: Arc<S>,
        edge: Edge,
    ) -> Self {
        Self::new(store.clone(), store.clone(), store.clone(), store, edge)
    }

    /// For `get-todo`: `TODO_TABLE_NAME`, `EVENTS_TABLE_NAME` (past states are folds of the
    /// events), `CORS_ALLOWED_ORIGIN`.
    pub async fn read_model_from_env() -> anyhow::Result<Self> {
        let Tables { events, todos } = Tables::from_env()?;
        let edge = Edge::from_env()?;
        Ok(Self::with_store(Arc::new(DynamoStore::new(dynamodb_client().await, events, todos)), edge))
    }

    /// For `list-todos`: as [`QueryService::read_model_from_env`], and `SNAPSHOTS_TABLE_NAME`
    /// (lists as of an instant resume from the latest list snapshot before it).
    pub async fn list_from_env() -> anyhow::Result<Self> {
        let Tables { events, todos } = Tables::from_env()?;
        let snapshots = Tables::snapshots_from_env()?;
        let edge = Edge::from_env()?;
        let store = Arc::new(DynamoStore::new(dynamodb_client().await, events, todos).with_snapshots_table(snapshots));
        Ok(Self::with_store(store.clone(), edge).with_snapshots(store))
    }

    /// For `get-stats`: `STATS_TABLE_NAME`, `CORS_ALLOWED_ORIGIN`.
    pub async fn stats_from_env() -> anyhow::Result<Self> {
        let stats = Tables::stats_from_env()?;
        let edge = Edge::from_env()?;
        let store = Arc::new(DynamoStore::new(dynamodb_client().await, "", "").with_stats_table(stats));
        Ok(Self::with_store(store, edge))
    }

    /// For `get-todo-history` and `get-history`: `EVENTS_TABLE_NAME`, `CORS_ALLOWED_ORIGIN`.
    pub async fn event_table_from_env() -> anyhow::Result<Self> {
        let events = Tables::events_from_env()?;
        let edge = Edge::from_env()?;
        Ok(Self::with_store(Arc::new(DynamoStore::new(dynamodb_client().await, events, "")), edge))
    }
}
