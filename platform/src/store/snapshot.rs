//! Snapshots of a user's list: a fold of the event table stored part-way, so that a list as of an
//! instant (`GET /item?asOf=`) folds the events after the latest snapshot instead of the user's
//! whole history.
//!
//! A snapshot is not the read model: it is written by the projector from the event table (through
//! the user timeline, the same fold as an as-of list) and holds every todo's state at its instant,
//! deleted ones included. It is only a shortcut: without snapshots every answer is the same, only
//! slower (the property tests of `queries::past` check exactly that).
//!
//! Events are stamped by the command before they are written, so an event can become visible a
//! little after a later-stamped one of another todo. A fold that resumes from a snapshot therefore
//! re-reads the events of the [`SNAPSHOT_MARGIN`] before the snapshot's instant and skips those it
//! already holds (each todo's state knows its version). The margin is far longer than a command
//! can take to write its event (the API functions time out after 10 s) and than the user-timeline
//! index takes to show it (usually well under a second); the projector only snapshots events
//! stamped a margin before its clock, so each side has the whole margin.

use std::collections::BTreeMap;

use async_trait::async_trait;
use events_schema::{Timestamp, Todo, TodoId, TodoItem, UserId, evolve};
use serde::{Deserialize, Serialize};

use super::{EventTimeline, HistoryCursor, StoreError};

/// Events read from the timeline per request while folding a list.
const TIMELINE_PAGE: usize = 1000;

/// How far before a snapshot's instant a fold resumed from it re-reads the timeline.
pub const SNAPSHOT_MARGIN: chrono::Duration = chrono::Duration::minutes(2);

/// A user's list folded up to an instant: the state of every todo the user had by then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSnapshot {
    pub user: UserId,
    /// The time of the latest event folded into it.
    pub at: Timestamp,
    /// How many events were folded into it.
    pub events: u64,
    /// Every todo's state, in id order; deleted ones too, so that their events are not replayed.
    pub todos: Vec<Todo>,
}

impl ListSnapshot {
    /// Where a fold resumed from this snapshot starts reading the timeline: [`SNAPSHOT_MARGIN`]
    /// before its instant.
    pub fn resume_from(&self) -> HistoryCursor {
        let from = Timestamp::from_datetime(self.at.as_datetime() - SNAPSHOT_MARGIN);
        HistoryCursor { occurred_at: from, todo_id: TodoId::from_uuid(uuid::Uuid::nil()), version: 0 }
    }

    /// The stored form of the todos: JSON, one entry per todo.
    pub fn encode_todos(todos: &[Todo]) -> Result<String, StoreError> {
        let entries: Vec<SnapshotEntry<'_>> = todos.iter().filter_map(SnapshotEntry::of).collect();
        serde_json::to_string(&entries).map_err(|e| StoreError::backend("encode a list snapshot", e))
    }

    /// The todos from their stored form (one or more parts, concatenated in order, each a JSON
    /// array as [`ListSnapshot::encode_todos`] wrote it).
    pub fn decode_todos<'a>(key: &str, parts: impl IntoIterator<Item = &'a str>) -> Result<Vec<Todo>, StoreError> {
        let mut todos = Vec::new();
        for part in parts {
            let entries: Vec<OwnedEntry> = serde_json::from_str(part)
                .map_err(|e| StoreError::CorruptRow { key: key.to_owned(), detail: e.to_string() })?;
            todos.extend(entries.into_iter().map(|entry| match entry.deleted {
                true => Todo::Deleted(entry.todo),
                false => Todo::Live(entry.todo),
            }));
        }
        Ok(todos)
    }
}

#[derive(Serialize)]
struct SnapshotEntry<'a> {
    todo: &'a TodoItem,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
}

impl<'a> SnapshotEntry<'a> {
    fn of(state: &'a Todo) -> Option<Self> {
        match state {
            Todo::NotCreated => None,
            Todo::Live(item) => Some(Self { todo: item, deleted: false }),
            Todo::Deleted(item) => Some(Self { todo: item, deleted: true }),
        }
    }
}

#[derive(Deserialize)]
struct OwnedEntry {
    todo: TodoItem,
    #[serde(default)]
    deleted: bool,
}

/// Where list snapshots are kept (`SnapshotsTable`; a table of the SQLite file locally).
#[async_trait]
pub trait SnapshotStore: Send + Sync {
    /// The user's latest complete snapshot whose instant is at or before `at`.
    async fn latest_snapshot(&self, user: &UserId, at: Timestamp) -> Result<Option<ListSnapshot>, StoreError>;

    /// Stores a snapshot; one of the same user and instant is replaced.
    async fn put_snapshot(&self, snapshot: &ListSnapshot) -> Result<(), StoreError>;
}

/// A user's list folded from the timeline: one state per todo, never the events themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFold {
    pub states: BTreeMap<TodoId, Todo>,
    /// The time of the latest event folded, the snapshot's if none came after it.
    pub at: Option<Timestamp>,
    /// Events folded, the snapshot's included.
    pub events: u64,
    /// Events folded after the snapshot resumed from.
    pub applied: u64,
    /// An event came more than one version after its todo's state: the timeline lacked an
    /// earlier one when it was read (an index that lags), so this fold is no snapshot to keep.
    pub gap: bool,
}

impl ListFold {
    /// The fold of the user's events up to `until` (every event without it), resumed from
    /// `snapshot` when there is one, keeping only the todos `keep` admits.
    ///
    /// The events the snapshot already holds are skipped by version; so are the events the
    /// timeline shows again in the margin before the snapshot's instant.
    pub async fn read(
        timeline: &dyn EventTimeline,
        user: &UserId,
        snapshot: Option<ListSnapshot>,
        until: Option<Timestamp>,
        keep: &(dyn Fn(&TodoId) -> bool + Sync),
    ) -> Result<Self, StoreError> {
        let (mut fold, mut cursor) = match snapshot {
            Some(snapshot) => {
                let cursor = Some(snapshot.resume_from());
                let states = snapshot
                    .todos
                    .into_iter()
                    .filter_map(|state| state.item().map(|item| item.id).map(|id| (id, state)))
                    .filter(|(id, _)| keep(id))
                    .collect();
                (Self { states, at: Some(snapshot.at), events: snapshot.events, applied: 0, gap: false }, cursor)
            }
            None => (Self::default(), None),
        };
        loop {
            let page = timeline.user_history(user, until, TIMELINE_PAGE, cursor).await?;
            for event in page.items.iter().filter(|event| keep(&event.todo_id)) {
                let state = fold.states.entry(event.todo_id).or_default();
                let version = state.version();
                if event.version <= version {
                    continue;
                }
                fold.gap |= event.version != version + 1;
                *state = evolve(std::mem::take(state), event);
                fold.events += 1;
                fold.applied += 1;
                fold.at = fold.at.max(Some(event.occurred_at));
            }
            cursor = page.next;
            if cursor.is_none() {
                return Ok(fold);
            }
        }
    }

    /// The fold as a snapshot to store (`None` before the user's first event).
    pub fn snapshot(&self, user: &UserId) -> Option<ListSnapshot> {
        let at = self.at?;
        let todos = self.states.values().filter(|state| !matches!(state, Todo::NotCreated)).cloned().collect();
        Some(ListSnapshot { user: user.clone(), at, events: self.events, todos })
    }
}
