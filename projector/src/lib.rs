//! The projector: applies events to the `TodoTable` read model and the stats projection
//! ([`stats`]), idempotently and whatever the delivery order; and [`replay`], which rebuilds them
//! from the event table with the same fold.
//!
//! DynamoDB Streams deliver at least once, in order only per item, and retries can reorder batches.
//! Every write is guarded by the item's version, so applying any duplication or reordering of an
//! item's events converges to the fold of all of them: an event that is not the next one (a gap) is
//! repaired by folding the item's events read from the event table.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::StreamExt as _;

use aws_lambda_events::event::dynamodb::{Event as StreamBatch, EventRecord as StreamRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use events_schema::{Event, EventRecord, TodoId, UserId, evolve, fold};
use todo_platform::live::LiveSink;
use todo_platform::store::{
    ErasureKey, ErasureLog, EventLog, EventTimeline, ProjectionStore, SnapshotStore, StatsStore, StoreError, TodoFacts,
    UserData, UserEraser, WriteGuard,
};

pub mod job;
pub mod replay;
pub mod snapshots;
pub mod stats;
#[cfg(feature = "stream-poller")]
pub mod stream;

/// What applying one event did to the read model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The row now holds this version.
    Written { version: u64 },
    /// The row already held this version or a newer one: a duplicate or a late event.
    AlreadyApplied,
    /// A newer row was written concurrently by another invocation.
    Superseded,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the stream record has no usable NEW_IMAGE: {0}")]
    Undecodable(String),
    #[error(transparent)]
    Event(#[from] events_schema::DecodeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone)]
pub struct Projector {
    events: Arc<dyn EventLog>,
    model: Arc<dyn ProjectionStore>,
    /// The stats projection, when it is switched on.
    stats: Option<Arc<dyn StatsStore>>,
    /// The user timeline to fold and the store of list snapshots, when they are kept.
    snapshots: Option<(Arc<dyn EventTimeline>, Arc<dyn SnapshotStore>)>,
    /// Told of every row written, for live updates, when someone listens.
    live: Option<Arc<dyn LiveSink>>,
    /// The erasure markers, and the stores to take a marked user's rows back from.
    erasures: Option<Erasures>,
}

/// What the projector needs to keep an erased account erased (see [`Projector::with_erasures`]).
#[derive(Clone)]
struct Erasures {
    log: Arc<dyn ErasureLog>,
    key: ErasureKey,
    derived: Arc<dyn UserEraser>,
}

/// Rows taken back per request when a batch held events of an account being erased.
const TAKE_BACK_PAGE: usize = 100;

impl Projector {
    /// The read model only.
    pub fn new(events: Arc<dyn EventLog>, model: Arc<dyn ProjectionStore>) -> Self {
        Self { events, model, stats: None, snapshots: None, live: None, erasures: None }
    }

    /// The same projector, also maintaining the stats projection.
    pub fn with_stats(mut self, stats: Arc<dyn StatsStore>) -> Self {
        self.stats = Some(stats);
        self
    }

    /// The same projector, also keeping list snapshots ([`snapshots`]) folded from `timeline`.
    pub fn with_snapshots(mut self, timeline: Arc<dyn EventTimeline>, snapshots: Arc<dyn SnapshotStore>) -> Self {
        self.snapshots = Some((timeline, snapshots));
        self
    }

    /// The same projector, handing each row it writes to `sink` (which must never wait).
    pub fn with_live(mut self, sink: Arc<dyn LiveSink>) -> Self {
        self.live = Some(sink);
        self
    }

    /// The same projector, keeping erased accounts erased: after each batch it reads the erasure
    /// marker of every user the batch wrote for, and takes back (from `derived`: the read model,
    /// stats and snapshots) everything of a marked user. Written-then-checked is what makes it
    /// safe: a write that lands before the marker is deleted by the erasure, which deletes the
    /// rows after writing its marker; one that lands after it is found by this check.
    pub fn with_erasures(mut self, log: Arc<dyn ErasureLog>, key: ErasureKey, derived: Arc<dyn UserEraser>) -> Self {
        self.erasures = Some(Erasures { log, key, derived });
        self
    }

    /// For the Lambda: `EVENTS_TABLE_NAME`, `TODO_TABLE_NAME`, `STATS_TABLE_NAME`,
    /// `SNAPSHOTS_TABLE_NAME`, `ERASURE_TABLE_NAME`, `ERASURE_KEY` and the SDK's own configuration.
    pub async fn from_env() -> anyhow::Result<Self> {
        use todo_platform::config::Tables;
        let tables = Tables::from_env()?;
        let (stats, snapshots) = (Tables::stats_from_env()?, Tables::snapshots_from_env()?);
        let client = todo_platform::config::dynamodb_client().await;
        let store = Arc::new(
            todo_platform::store::dynamo::DynamoStore::new(client, tables.events, tables.todos)
                .with_stats_table(stats)
                .with_snapshots_table(snapshots)
                .with_erasure_table(Tables::erasure_from_env()?),
        );
        Ok(Self::new(store.clone(), store.clone())
            .with_stats(store.clone())
            .with_snapshots(store.clone(), store.clone())
            .with_erasures(store.clone(), ErasureKey::from_env()?, store))
    }

    /// Applies one event to its item's row; a row written is handed to the live sink, if any,
    /// with the row it replaced.
    pub async fn apply(&self, event: &Event) -> Result<Applied, StoreError> {
        let stored = self.model.state(&event.user_id, &event.todo_id).await?;
        let stored_version = stored.version();
        if stored_version >= event.version {
            return Ok(Applied::AlreadyApplied);
        }
        let stored_facts = self.stats.as_ref().and_then(|_| TodoFacts::of(&stored));
        let before = self.live.as_ref().map(|_| stored.clone());
        let next = if stored_version + 1 == event.version {
            evolve(stored, event)
        } else {
            // A gap: earlier events are late or lost in this delivery. The event table has them.
            metrics::counter!("ProjectorGapRepairs").increment(1);
            tracing::info!(stored_version, "gap: folding the todo from the event table");
            fold(&self.events.load(&event.user_id, &event.todo_id).await?)
        };
        let version = next.version();
        // Stats first: if the todo's row were written first and this invocation died in between,
        // the retry would find the row up to date and never write the stats.
        if let Some(stats) = &self.stats {
            stats::apply(stats.as_ref(), &event.user_id, stored_facts.as_ref(), &next).await?;
        }
        Ok(match self.model.put(&event.user_id, &next, WriteGuard::NewerOnly).await? {
            true => {
                if let (Some(live), Some(before)) = (&self.live, &before) {
                    live.changed(&event.user_id, before, &next);
                }
                Applied::Written { version }
            }
            false => Applied::Superseded,
        })
    }

    /// Handles one stream batch as Lambda delivers it, reporting the records that failed
    /// (`ReportBatchItemFailures`, in batch order): Lambda retries from the first of them, and the
    /// good records around it are not redone, since applying an event twice changes nothing.
    ///
    /// Each todo's events are applied one after the other, in stream order; up to
    /// [`CONCURRENT_TODOS`] todos at a time (a batch holds many users' todos, which share nothing).
    pub async fn handle_batch(&self, batch: StreamBatch) -> DynamoDbEventResponse {
        let mut failed: Vec<(usize, Option<String>)> = Vec::new();
        let mut runs: Vec<Vec<(usize, Option<String>, Event)>> = Vec::new();
        let mut run_of: HashMap<(UserId, TodoId), usize> = HashMap::new();
        for (position, record) in batch.records.into_iter().enumerate() {
            let sequence_number = record.change.sequence_number.clone();
            // The event table is append-only: anything but an insert is not an event to project.
            if record.event_name != "INSERT" {
                continue;
            }
            match decode_stream_record(record) {
                Ok(event) => {
                    let next = runs.len();
                    let run = *run_of.entry((event.user_id.clone(), event.todo_id)).or_insert(next);
                    if run == next {
                        runs.push(Vec::new());
                    }
                    runs[run].push((position, sequence_number, event));
                }
                Err(error) => {
                    report_failure(sequence_number.as_deref(), error);
                    failed.push((position, sequence_number));
                }
            }
        }
        let mut records_of: BTreeMap<UserId, Vec<(usize, Option<String>)>> = BTreeMap::new();
        for (position, sequence_number, event) in runs.iter().flatten() {
            records_of.entry(event.user_id.clone()).or_default().push((*position, sequence_number.clone()));
        }
        let applied: Vec<_> = futures::stream::iter(runs.into_iter().map(|run| self.apply_run(run)))
            .buffer_unordered(CONCURRENT_TODOS)
            .collect()
            .await;
        failed.extend(applied.into_iter().flatten());
        for (user, records) in self.keep_erased(records_of).await {
            // Retried, checked again: the records are applied again (changing nothing) first.
            tracing::error!(%user, "the rows of an account being erased could not all be taken back");
            let fresh: Vec<_> = records.into_iter().filter(|record| !failed.contains(record)).collect();
            failed.extend(fresh);
        }
        failed.sort_by_key(|(position, _)| *position);
        metrics::counter!("ProjectorBatchFailures").increment(failed.len() as u64);
        let mut response = DynamoDbEventResponse::default();
        for (_, sequence_number) in failed {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = sequence_number;
            response.batch_item_failures.push(failure);
        }
        response
    }

    /// For every user this batch wrote for whose account is being erased (or was), takes back every
    /// row of theirs in the read model, stats and snapshots, what this batch wrote included.
    /// Returns the users (with their records) for whom that could not be done.
    async fn keep_erased<R>(&self, records_of: BTreeMap<UserId, R>) -> Vec<(UserId, R)> {
        let Some(erasures) = &self.erasures else { return Vec::new() };
        if records_of.is_empty() {
            return Vec::new();
        }
        let keys: Vec<_> = records_of.keys().map(|user| erasures.key.user_key(user)).collect();
        let marked = match erasures.log.erased_among(&keys).await {
            Ok(marked) => marked,
            Err(error) => {
                let error = anyhow::Error::from(error);
                tracing::error!(error = format!("{error:#}"), "the erasure markers could not be read");
                return records_of.into_iter().collect();
            }
        };
        let mut failed = Vec::new();
        for ((user, records), key) in records_of.into_iter().zip(keys) {
            if !marked.contains(&key) {
                continue;
            }
            match take_back(erasures.derived.as_ref(), &user).await {
                Ok(taken) => {
                    metrics::counter!("ProjectorErasedTakenBack").increment(taken as u64);
                    tracing::info!(taken, "events of an account being erased: its rows taken back");
                }
                Err(error) => {
                    let error = anyhow::Error::from(error);
                    tracing::error!(error = format!("{error:#}"), "taking back an erased account's rows failed");
                    failed.push((user, records));
                }
            }
        }
        failed
    }

    /// One todo's events in stream order; returns the ones that failed.
    async fn apply_run(&self, run: Vec<(usize, Option<String>, Event)>) -> Vec<(usize, Option<String>)> {
        let mut failed = Vec::new();
        for (position, sequence_number, event) in run {
            if let Err(error) = self.apply_logged(&event).await {
                let _inside = event_span(&event).entered();
                report_failure(sequence_number.as_deref(), RecordError::from(error));
                failed.push((position, sequence_number));
            }
        }
        failed
    }

    /// [`Projector::apply`], logged on one line that carries the event's request id and trace id
    /// (the command's own lines carry the same), and its lag measured.
    pub async fn apply_logged(&self, event: &Event) -> Result<Applied, StoreError> {
        use tracing::Instrument as _;
        let span = event_span(event);
        let applied = self.apply(event).instrument(span.clone()).await?;
        let lag = (chrono::Utc::now() - event.occurred_at.as_datetime()).num_microseconds().unwrap_or(0) as f64 / 1e3;
        todo_platform::observe::record_histogram("ProjectorLag", lag.max(0.0));
        {
            let _inside = span.enter();
            tracing::info!(version = event.version, ?applied, lag_ms = lag, "projected");
        }
        self.snapshot_if_due(event).instrument(span).await;
        Ok(applied)
    }

    /// Takes a list snapshot of the event's user if the event is one that checks and one is due.
    /// A failure is logged and counted, never the record's: snapshots only make past lists faster.
    async fn snapshot_if_due(&self, event: &Event) {
        let Some((timeline, store)) = &self.snapshots else { return };
        if !snapshots::checks(event) {
            return;
        }
        let now = events_schema::Timestamp::from_datetime(chrono::Utc::now());
        match snapshots::take_if_due(timeline.as_ref(), store.as_ref(), &event.user_id, now).await {
            Ok(snapshots::Outcome::Taken { at, events }) => {
                metrics::counter!("SnapshotsTaken").increment(1);
                tracing::info!(%at, events, "list snapshot taken");
            }
            Ok(outcome) => tracing::debug!(?outcome, "no list snapshot"),
            Err(error) => {
                metrics::counter!("SnapshotFailures").increment(1);
                tracing::warn!(
                    error = format!("{:#}", anyhow::Error::from(error)),
                    "list snapshot failed; past lists fold further until the next one"
                );
            }
        }
    }
}

/// The span of one event's projection: the ids that tie it to the command that appended it.
fn event_span(event: &Event) -> tracing::Span {
    tracing::info_span!(
        "event",
        requestId = %event.metadata.request_id.as_deref().unwrap_or_default(),
        traceId = %event.metadata.trace_id.as_deref().unwrap_or_default(),
        todoId = %event.todo_id,
        eventId = %event.event_id,
    )
}

impl Projector {}

/// How many todos of one batch are applied at once.
pub const CONCURRENT_TODOS: usize = 16;

/// Deletes every row of the user in the read model, stats and snapshots; how many went.
async fn take_back(derived: &dyn UserEraser, user: &UserId) -> Result<usize, StoreError> {
    let mut taken = 0;
    for what in [UserData::Todos, UserData::Stats, UserData::Snapshots] {
        loop {
            match derived.erase_some(user, what, TAKE_BACK_PAGE).await? {
                0 => break,
                some => taken += some,
            }
        }
    }
    Ok(taken)
}

fn report_failure(sequence_number: Option<&str>, error: RecordError) {
    tracing::error!(
        sequence_number = sequence_number.unwrap_or("<none>"),
        error = format!("{:#}", anyhow::Error::from(error)),
        "stream record not applied"
    );
}

/// The event in a stream record's `NEW_IMAGE`.
pub fn decode_stream_record(record: StreamRecord) -> Result<Event, RecordError> {
    if record.change.new_image.is_empty() {
        return Err(RecordError::Undecodable("the image is empty (is the stream NEW_IMAGE?)".into()));
    }
    let stored: EventRecord =
        serde_dynamo::from_item(record.change.new_image).map_err(|e| RecordError::Undecodable(e.to_string()))?;
    Ok(Event::from_record(stored)?)
}
