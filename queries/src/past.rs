//! Past states: folds of the event table up to an instant or a version, never the read model.

use events_schema::{Event, Timestamp, Todo, TodoId, TodoItem, UserId, evolve};
use todo_platform::store::{
    EventLog, EventTimeline, ListCursor, ListFold, Page, SnapshotStore, StatusFilter, StoreError,
};

/// The user's list as it stood at `as_of`: the fold of every event up to that instant, read from
/// the user-timeline index in time order, resumed from the latest list snapshot taken at or before
/// the instant when there is one (the projector keeps them; see `todo_platform::store::snapshot`).
/// Memory holds one state per todo (and one page of events), never all the events; todos at or
/// before the cursor are not even kept.
pub async fn list_as_of(
    timeline: &dyn EventTimeline,
    snapshots: Option<&dyn SnapshotStore>,
    user: &UserId,
    as_of: Timestamp,
    status: StatusFilter,
    limit: usize,
    after: Option<ListCursor>,
) -> Result<Page<TodoItem, ListCursor>, StoreError> {
    let snapshot = match snapshots {
        Some(snapshots) => snapshots.latest_snapshot(user, as_of).await?,
        None => None,
    };
    let keep = |todo: &TodoId| after.as_ref().is_none_or(|a| *todo > a.after);
    let fold = ListFold::read(timeline, user, snapshot, Some(as_of), &keep).await?;
    let items: Vec<TodoItem> = fold
        .states
        .into_values()
        .filter_map(|state| state.live().filter(|item| status.admits(item)).cloned())
        .take(limit + 1)
        .collect();
    Ok(Page::from_overfetch(items, limit, |item| ListCursor { after: item.id }))
}

/// Which past state of one todo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    AsOf(Timestamp),
    Version(u64),
}

/// Why a todo has no state at that moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoPastState {
    /// The user has no todo with this id (or it is another user's).
    Unknown,
    NotYetCreated {
        created_at: Timestamp,
    },
    Deleted {
        at: Timestamp,
        version: u64,
    },
    /// `?version=` beyond the todo's last event.
    NoSuchVersion {
        current: u64,
    },
}

/// One todo as it was at `moment`: the fold of its events up to it.
pub async fn todo_at(
    log: &dyn EventLog,
    user: &UserId,
    todo: &TodoId,
    moment: Moment,
) -> Result<Result<TodoItem, NoPastState>, StoreError> {
    let events = log.load(user, todo).await?;
    let Some(first) = events.first() else { return Ok(Err(NoPastState::Unknown)) };
    let included = |event: &&Event| match moment {
        Moment::AsOf(at) => event.occurred_at <= at,
        Moment::Version(version) => event.version <= version,
    };
    if let Moment::Version(version) = moment {
        let current = events.last().map_or(0, |e| e.version);
        if version > current {
            return Ok(Err(NoPastState::NoSuchVersion { current }));
        }
    }
    Ok(match events.iter().take_while(included).fold(Todo::NotCreated, evolve) {
        Todo::Live(item) => Ok(item),
        Todo::Deleted(item) => Err(NoPastState::Deleted { at: item.updated_at, version: item.version }),
        Todo::NotCreated => Err(NoPastState::NotYetCreated { created_at: first.occurred_at }),
    })
}
