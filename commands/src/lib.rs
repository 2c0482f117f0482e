//! The command side: load an item's events, fold, decide, append at the expected version.
//!
//! [`execute`] is the one application function; the HTTP handlers in [`http`] parse the request,
//! call it and map the outcome. Lambda, the local stack and the tests all call these same handlers.

use std::sync::Arc;

use chrono::Utc;
use events_schema::{
    Command, Context, DomainError, Event, GENESIS_HASH, Timestamp, Todo, TodoEvent, TodoId, decide, evolve, fold,
    repeats_creation,
};
use todo_platform::http::{Caller, Edge};
use todo_platform::store::{AppendError, ErasureFence, ErasureKey, EventLog, StoreError};

pub mod http;

/// What the command functions need: the event table, and the HTTP edge.
#[derive(Clone)]
pub struct CommandService {
    events: Arc<dyn EventLog>,
    edge: Edge,
    /// Refuses commands of an account being erased; without one (a store that refuses them itself,
    /// as the local SQLite store does in its append), every command goes through.
    fence: Option<Arc<ErasureFence>>,
}

impl CommandService {
    pub fn new(events: Arc<dyn EventLog>, edge: Edge) -> Self {
        Self { events, edge, fence: None }
    }

    /// Checks the erasure marker before every command (see [`ErasureFence`]).
    pub fn with_fence(mut self, fence: ErasureFence) -> Self {
        self.fence = Some(Arc::new(fence));
        self
    }

    /// Whether the caller may still write: [`StoreError::AccountErased`] once their account's
    /// erasure has begun.
    pub async fn check_fence(&self, user: &events_schema::UserId) -> Result<(), StoreError> {
        match &self.fence {
            Some(fence) => fence.check(user).await,
            None => Ok(()),
        }
    }

    /// For a Lambda: `EVENTS_TABLE_NAME`, `ERASURE_TABLE_NAME`, `ERASURE_KEY`,
    /// `CORS_ALLOWED_ORIGIN` and the SDK's own configuration.
    pub async fn from_env() -> anyhow::Result<Self> {
        use todo_platform::config::Tables;
        let (events, erasures) = (Tables::events_from_env()?, Tables::erasure_from_env()?);
        let key = ErasureKey::from_env()?;
        let edge = Edge::from_env()?;
        let client = todo_platform::config::dynamodb_client().await;
        let store =
            Arc::new(todo_platform::store::dynamo::DynamoStore::new(client, events, "").with_erasure_table(erasures));
        let fence = ErasureFence::new(store.clone(), key, todo_platform::store::FENCE_REMEMBER);
        Ok(Self::new(store, edge).with_fence(fence))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A create repeated after its todo was deleted: there is nothing to answer with.
    #[error("the todo this create made has since been deleted")]
    CreatedThenDeleted,
    /// Lost the optimistic-concurrency race twice in a row.
    #[error("the todo kept changing while this command ran")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a command did: the state that results, and the events it appended (none when nothing
/// changed).
#[derive(Debug, Clone, PartialEq)]
pub struct Executed {
    pub state: Todo,
    pub appended: Vec<Event>,
}

impl Executed {
    fn appended(state: Todo, events: Vec<Event>) -> Self {
        Self { state: events.iter().fold(state, evolve), appended: events }
    }
}

/// Runs one command against one todo and returns the state that results.
///
/// Decides from the event table (read consistently), never from the read model. Appending is
/// conditional on the versions being free; a command that loses that race re-reads and re-decides
/// once (with `If-Match` the re-decision then fails as stale), and after a second loss gives up.
pub async fn execute(
    log: &dyn EventLog,
    caller: &Caller,
    todo_id: TodoId,
    command: Command,
    context: &Context,
) -> Result<Executed, CommandError> {
    if matches!(command, Command::Create { .. }) {
        return create(log, caller, todo_id, command, context).await;
    }
    let mut lost_race = false;
    loop {
        let history = log.load(&caller.user, &todo_id).await?;
        let state = fold(&history);
        let decided = decide(&state, command.clone(), context)?;
        let events = record(&state, chain_head(&history), decided, caller, todo_id);
        match log.append(&events).await {
            Ok(()) => return Ok(Executed::appended(state, events)),
            Err(AppendError::Conflict) if !lost_race => lost_race = true,
            Err(AppendError::Conflict) => return Err(CommandError::Contended),
            Err(AppendError::Store(error)) => return Err(error.into()),
        }
    }
}

/// A create in one round trip: version 1 appended on the condition that the todo does not exist.
/// Only when that condition fails is the todo read, to tell a retry of this very create (the same
/// content as its creation event, whatever happened since: answered with the todo as it is now)
/// from an id already taken (a conflict).
async fn create(
    log: &dyn EventLog,
    caller: &Caller,
    todo_id: TodoId,
    command: Command,
    context: &Context,
) -> Result<Executed, CommandError> {
    let decided = decide(&Todo::NotCreated, command.clone(), context)?;
    let events = record(&Todo::NotCreated, GENESIS_HASH.to_owned(), decided, caller, todo_id);
    match log.append(&events).await {
        Ok(()) => Ok(Executed::appended(Todo::NotCreated, events)),
        Err(AppendError::Conflict) => {
            let history = log.load(&caller.user, &todo_id).await?;
            if !repeats_creation(&history, &command) {
                return Err(DomainError::IdTaken.into());
            }
            match fold(&history) {
                Todo::Deleted(_) => Err(CommandError::CreatedThenDeleted),
                state => Ok(Executed { state, appended: Vec::new() }),
            }
        }
        Err(AppendError::Store(error)) => Err(error.into()),
    }
}

/// The hash the todo's next event links to: its last event's, or the genesis value when there is
/// none or it predates hashing (the chain then starts with the next event).
fn chain_head(history: &[Event]) -> String {
    match history.last().and_then(|event| event.chain.as_ref()) {
        Some(chain) => chain.hash.clone(),
        None => GENESIS_HASH.to_owned(),
    }
}

/// Wraps decided payloads into events: the next versions, fresh time-ordered ids, times that never
/// go back before the item's last event (Lambda clocks may differ slightly), each sealed into the
/// todo's hash chain.
fn record(
    state: &Todo,
    mut prev_hash: String,
    decided: Vec<TodoEvent>,
    caller: &Caller,
    todo_id: TodoId,
) -> Vec<Event> {
    let last = match state {
        Todo::NotCreated => None,
        Todo::Live(item) | Todo::Deleted(item) => Some(item.updated_at),
    };
    let now = Timestamp::from_datetime(Utc::now());
    let mut at = match last {
        Some(last) if last >= now => last.next(),
        _ => now,
    };
    let first_version = state.version() + 1;
    decided
        .into_iter()
        .enumerate()
        .map(|(offset, payload)| {
            let event = Event {
                user_id: caller.user.clone(),
                todo_id,
                version: first_version + offset as u64,
                event_id: uuid::Uuid::now_v7(),
                occurred_at: at,
                payload,
                metadata: caller.metadata.clone(),
                chain: None,
            }
            .sealed(&prev_hash);
            at = at.next();
            if let Some(chain) = &event.chain {
                prev_hash.clone_from(&chain.hash);
            }
            event
        })
        .collect()
}
