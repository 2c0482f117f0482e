use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Event, TodoEvent, TodoId, time::Timestamp};

/// A todo as users see it, and as the API sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TodoItem {
    pub id: TodoId,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    pub completed: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    /// The version of the item's last event; the `ETag`.
    pub version: u64,
}

/// The state of one todo: the fold of its events.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Todo {
    /// No event yet.
    #[default]
    NotCreated,
    Live(TodoItem),
    /// Deleted: a tombstone that keeps the last fields and version, so that a late or duplicated
    /// older event can never bring the todo back.
    Deleted(TodoItem),
}

impl Todo {
    /// The version of the last event folded in; 0 before the first.
    pub fn version(&self) -> u64 {
        match self {
            Self::NotCreated => 0,
            Self::Live(item) | Self::Deleted(item) => item.version,
        }
    }

    /// The todo as it is or was when deleted; `None` before it exists.
    pub fn item(&self) -> Option<&TodoItem> {
        match self {
            Self::NotCreated => None,
            Self::Live(item) | Self::Deleted(item) => Some(item),
        }
    }

    pub fn live(&self) -> Option<&TodoItem> {
        match self {
            Self::Live(item) => Some(item),
            _ => None,
        }
    }
}

/// Applies one event to a state. Total: an event the decider never emits in that state (which the
/// event table cannot hold) leaves the state as it was.
pub fn evolve(state: Todo, event: &Event) -> Todo {
    let at = event.occurred_at;
    match (state, &event.payload) {
        (Todo::NotCreated, TodoEvent::Created(created)) => Todo::Live(TodoItem {
            id: event.todo_id,
            title: created.title.clone(),
            notes: created.notes.clone().filter(|notes| !notes.is_empty()),
            completed: false,
            created_at: at,
            updated_at: at,
            completed_at: None,
            version: event.version,
        }),
        (Todo::Live(mut item), TodoEvent::Updated(changes)) => {
            if let Some(title) = &changes.title {
                item.title.clone_from(title);
            }
            if let Some(notes) = &changes.notes {
                item.notes = (!notes.is_empty()).then(|| notes.clone());
            }
            match changes.completed {
                Some(true) if !item.completed => {
                    item.completed = true;
                    item.completed_at = Some(at);
                }
                Some(false) => {
                    item.completed = false;
                    item.completed_at = None;
                }
                _ => {}
            }
            item.updated_at = at;
            item.version = event.version;
            Todo::Live(item)
        }
        (Todo::Live(mut item), TodoEvent::Completed(_)) => {
            item.completed = true;
            item.completed_at = Some(at);
            item.updated_at = at;
            item.version = event.version;
            Todo::Live(item)
        }
        (Todo::Live(mut item), TodoEvent::Deleted(_)) => {
            item.updated_at = at;
            item.version = event.version;
            Todo::Deleted(item)
        }
        (state, _) => state,
    }
}

/// The state after all of an item's events, given in version order.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> Todo {
    events.into_iter().fold(Todo::NotCreated, evolve)
}
