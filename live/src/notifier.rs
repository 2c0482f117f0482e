//! `notifier`: the Lambda function on the read model's (`TodoTable`'s) stream that pushes each
//! change of a todo to every open session of its user.
//!
//! It reads the read model, not the event table, so that a client that re-reads after a push sees
//! the change. Each record's old and new row images are the todo before and after; the message is
//! [`LiveMessage::between`] them (nothing when the row did not move forward: a replay's rewrite, a
//! tombstone's expiry). It goes to the connections recorded under the row's user, and to no other:
//! the user comes from the row's key. A connection API Gateway says is gone (410) is removed; any
//! other failed post fails the record, which is reported (`ReportBatchItemFailures`) so that Lambda
//! retries from it. A retried record is pushed again to every session of its user: a session that
//! already had it sees the same version twice and keeps what it has.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lambda_events::event::dynamodb::{Event as StreamBatch, EventRecord as StreamRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use events_schema::{Timestamp, Todo, TodoId, UserId};
use futures::StreamExt as _;
use todo_platform::live::LiveMessage;
use todo_platform::store::dynamo::todo_state_from_image;
use todo_platform::store::{Connection, ConnectionStore, StoreError};

use crate::push::{ManagementApi, PushError, Pusher};

/// How many todos of one batch are pushed at once (each todo's changes in stream order).
pub const CONCURRENT_TODOS: usize = 16;
/// How many sessions of one user are posted to at once.
pub const CONCURRENT_POSTS: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("the record's row images cannot be read")]
    Undecodable(#[source] StoreError),
    #[error("the record's old and new images are rows of two users")]
    TwoUsers,
    #[error("the user's connections could not be listed")]
    Store(#[source] StoreError),
    #[error("{failed} of {sessions} posts failed")]
    Push { failed: usize, sessions: usize },
    #[error("an earlier change of the same todo in this batch failed: pushed after it on the retry")]
    AfterAFailure,
}

/// One row's change, decoded from a stream record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowChange {
    pub user: UserId,
    pub todo: TodoId,
    pub before: Todo,
    pub after: Todo,
}

impl RowChange {
    /// The change a record carries; `None` for a record with no row in either image.
    pub fn of(record: &StreamRecord) -> Result<Option<Self>, RecordError> {
        let image = |item: &serde_dynamo::Item| match item.is_empty() {
            true => Ok(None),
            false => todo_state_from_image(item.clone()).map(Some).map_err(RecordError::Undecodable),
        };
        let before = image(&record.change.old_image)?;
        let after = image(&record.change.new_image)?;
        let user = match (&before, &after) {
            (Some((old, _)), Some((new, _))) if old != new => return Err(RecordError::TwoUsers),
            (_, Some((user, _))) | (Some((user, _)), None) => user.clone(),
            (None, None) => return Ok(None),
        };
        let before = before.map(|(_, state)| state).unwrap_or_default();
        let after = after.map(|(_, state)| state).unwrap_or_default();
        let Some(todo) = after.item().or(before.item()).map(|item| item.id) else { return Ok(None) };
        Ok(Some(Self { user, todo, before, after }))
    }
}

/// What posting one message to a user's sessions came to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pushed {
    pub sent: usize,
    pub gone: usize,
    pub failed: usize,
}

#[derive(Clone)]
pub struct Notifier {
    connections: Arc<dyn ConnectionStore>,
    pusher: Arc<dyn Pusher>,
}

impl Notifier {
    pub fn new(connections: Arc<dyn ConnectionStore>, pusher: Arc<dyn Pusher>) -> Self {
        Self { connections, pusher }
    }

    /// For the Lambda: `CONNECTIONS_TABLE_NAME`, `LIVE_MANAGEMENT_ENDPOINT` and the SDK's own
    /// configuration.
    pub async fn from_env() -> anyhow::Result<Self> {
        let table = todo_platform::config::Tables::connections_from_env()?;
        let pusher = ManagementApi::from_env().await?;
        let client = todo_platform::config::dynamodb_client().await;
        let store = todo_platform::store::dynamo::DynamoStore::new(client, "", "").with_connections_table(table);
        Ok(Self::new(Arc::new(store), Arc::new(pusher)))
    }

    /// Handles one stream batch as Lambda delivers it, reporting the records that failed, in
    /// batch order (`ReportBatchItemFailures`): Lambda retries from the first of them.
    pub async fn handle_batch(&self, batch: StreamBatch) -> DynamoDbEventResponse {
        let mut failed: Vec<(usize, Option<String>)> = Vec::new();
        let mut runs: Vec<Vec<(usize, Option<String>, RowChange)>> = Vec::new();
        let mut run_of: HashMap<(UserId, TodoId), usize> = HashMap::new();
        for (position, record) in batch.records.iter().enumerate() {
            let sequence_number = record.change.sequence_number.clone();
            match RowChange::of(record) {
                Ok(Some(change)) => {
                    let next = runs.len();
                    let run = *run_of.entry((change.user.clone(), change.todo)).or_insert(next);
                    if run == next {
                        runs.push(Vec::new());
                    }
                    runs[run].push((position, sequence_number, change));
                }
                Ok(None) => {}
                Err(error) => {
                    report_failure(sequence_number.as_deref(), None, &error);
                    failed.push((position, sequence_number));
                }
            }
        }
        let pushed: Vec<_> = futures::stream::iter(runs.into_iter().map(|run| self.push_run(run)))
            .buffer_unordered(CONCURRENT_TODOS)
            .collect()
            .await;
        failed.extend(pushed.into_iter().flatten());
        failed.sort_by_key(|(position, _)| *position);
        metrics::counter!("NotifierBatchFailures").increment(failed.len() as u64);
        let mut response = DynamoDbEventResponse::default();
        for (_, sequence_number) in failed {
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = sequence_number;
            response.batch_item_failures.push(failure);
        }
        response
    }

    /// One todo's changes in stream order; returns those that failed. After a failure the rest
    /// are not pushed but reported too, so that the retry pushes them in order.
    async fn push_run(&self, run: Vec<(usize, Option<String>, RowChange)>) -> Vec<(usize, Option<String>)> {
        let mut failed = Vec::new();
        for (position, sequence_number, change) in run {
            let outcome = match failed.is_empty() {
                true => self.push(&change).await.map(|_| ()),
                false => Err(RecordError::AfterAFailure),
            };
            if let Err(error) = outcome {
                report_failure(sequence_number.as_deref(), Some(&change), &error);
                failed.push((position, sequence_number));
            }
        }
        failed
    }

    /// Pushes one change to every open session of its user.
    pub async fn push(&self, change: &RowChange) -> Result<Pushed, RecordError> {
        use tracing::Instrument as _;
        let span = tracing::info_span!("change", todoId = %change.todo, version = change.after.version());
        self.push_in_span(change).instrument(span).await
    }

    async fn post<'a>(&self, connection: &'a Connection, message: &str) -> (&'a Connection, Result<(), PushError>) {
        (connection, self.pusher.push(&connection.id, message).await)
    }

    async fn push_in_span(&self, change: &RowChange) -> Result<Pushed, RecordError> {
        let Some(message) = LiveMessage::between(&change.before, &change.after) else {
            tracing::debug!("nothing a session shows changed");
            return Ok(Pushed::default());
        };
        let now = chrono::Utc::now();
        let connections = self
            .connections
            .user_connections(&change.user, Timestamp::from_datetime(now))
            .await
            .map_err(RecordError::Store)?;
        let json = message.to_json();
        let json = json.as_str();
        // The store lists the user's own connections only; a push never leaves the user. (The posts
        // are built before awaiting any: an iterator's closures held across the await would make
        // the future not provably `Send`.)
        let posts: Vec<_> = connections
            .iter()
            .filter(|connection| connection.user == change.user)
            .map(|connection| self.post(connection, json))
            .collect();
        let answers: Vec<(&Connection, Result<(), PushError>)> =
            futures::stream::iter(posts).buffer_unordered(CONCURRENT_POSTS).collect().await;

        let mut pushed = Pushed::default();
        for (connection, answer) in answers {
            match answer {
                Ok(()) => pushed.sent += 1,
                Err(PushError::Gone) => {
                    pushed.gone += 1;
                    // Not the record's failure: the next push to it is answered 410 again.
                    if let Err(error) = self.connections.remove_connection(&connection.user, &connection.id).await {
                        tracing::warn!(
                            connectionId = %connection.id,
                            error = format!("{:#}", anyhow::Error::from(error)),
                            "a gone connection could not be removed"
                        );
                    }
                }
                Err(PushError::Failed(cause)) => {
                    pushed.failed += 1;
                    tracing::warn!(connectionId = %connection.id, error = format!("{cause:#}"), "post failed");
                }
            }
        }
        metrics::counter!("LivePushesSent").increment(pushed.sent as u64);
        metrics::counter!("LivePushesGone").increment(pushed.gone as u64);
        metrics::counter!("LivePushesFailed").increment(pushed.failed as u64);
        let changed_at = change.after.item().map(|item| item.updated_at.as_datetime()).unwrap_or(now);
        let lag_ms = (now - changed_at).num_microseconds().unwrap_or(0) as f64 / 1e3;
        for _ in 0..pushed.sent {
            todo_platform::observe::record_histogram("LivePushLag", lag_ms.max(0.0));
        }
        tracing::info!(
            change = ?message.change,
            sessions = connections.len(),
            sent = pushed.sent,
            gone = pushed.gone,
            failed = pushed.failed,
            lag_ms,
            "pushed"
        );
        match pushed.failed {
            0 => Ok(pushed),
            failed => Err(RecordError::Push { failed, sessions: connections.len() }),
        }
    }
}

fn report_failure(sequence_number: Option<&str>, change: Option<&RowChange>, error: &RecordError) {
    let todo = change.map(|c| c.todo.to_string()).unwrap_or_default();
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::error!(
        sequence_number = sequence_number.unwrap_or("<none>"),
        todoId = %todo,
        error = chain,
        "stream record not pushed"
    );
}
