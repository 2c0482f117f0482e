//! Live updates: the message every open session of a user receives when one of their todos changes
//! in the read model (`{"type": "todo", "change": ..., "todo": {...} | null, "version": n}`).
//!
//! The same message is made from the same pair of states everywhere: on AWS by the `notifier` from
//! the read model's stream (a row's old and new image), locally by the embedded projector as it
//! applies each change. `version` is the todo's version after the change, so a client that sees
//! a todo jump by more than one version knows it missed a message and re-reads its list.

use events_schema::{Todo, TodoId, TodoItem, UserId};
use serde::{Deserialize, Serialize};

/// What happened to the todo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Created,
    Updated,
    Completed,
    Reopened,
    Deleted,
}

/// One push to a user's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "todo")]
pub struct LiveMessage {
    pub change: Change,
    /// The todo as it is now; `null` once deleted.
    pub todo: Option<TodoItem>,
    /// The todo's id (also inside `todo` when there is one), so that a deletion names its todo.
    pub id: TodoId,
    /// The todo's version after the change.
    pub version: u64,
}

impl LiveMessage {
    /// The message for a todo's read-model row going from `before` to `after`; `None` when nothing
    /// a session shows changed (the same version, or no todo at all).
    pub fn between(before: &Todo, after: &Todo) -> Option<Self> {
        if after.version() <= before.version() {
            return None;
        }
        let (change, todo) = match (before, after) {
            (_, Todo::NotCreated) => return None,
            (_, Todo::Deleted(item)) => (Change::Deleted, item),
            (Todo::NotCreated, Todo::Live(item)) => (Change::Created, item),
            (Todo::Live(old) | Todo::Deleted(old), Todo::Live(item)) => {
                let change = match (old.completed, item.completed) {
                    (false, true) => Change::Completed,
                    (true, false) => Change::Reopened,
                    _ => Change::Updated,
                };
                (change, item)
            }
        };
        let live = matches!(after, Todo::Live(_)).then(|| todo.clone());
        Some(Self { change, todo: live, id: todo.id, version: todo.version })
    }

    /// The message as sent: one line of JSON.
    pub fn to_json(&self) -> String {
        // A struct of strings, numbers and a map of them always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Sent to a session that fell behind (its queue full) just before it is closed: re-read the list.
pub const REREAD_MESSAGE: &str = r#"{"type":"reread"}"#;

/// Where the projector hands each change it writes to a todo's read-model row (the local stack's
/// live hub). It is called on the projector's path, so it returns at once: it enqueues, it never
/// waits for a client.
pub trait LiveSink: Send + Sync {
    /// `user`'s todo went from `before` (the row the projector read) to `after` (the row it wrote).
    fn changed(&self, user: &UserId, before: &Todo, after: &Todo);
}

#[cfg(test)]
mod tests {
    use events_schema::Timestamp;
    use serde_json::json;

    use super::*;

    fn item(version: u64, completed: bool) -> TodoItem {
        let at = Timestamp::parse("2026-11-29T10:00:00Z").unwrap();
        TodoItem {
            id: TodoId::from_uuid(uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001)),
            title: "Buy milk".into(),
            notes: None,
            completed,
            created_at: at,
            updated_at: at,
            completed_at: completed.then_some(at),
            version,
        }
    }

    #[test]
    fn each_kind_of_change_is_named() {
        let cases = [
            (Todo::NotCreated, Todo::Live(item(1, false)), Change::Created),
            (Todo::Live(item(1, false)), Todo::Live(item(2, false)), Change::Updated),
            (Todo::Live(item(2, false)), Todo::Live(item(3, true)), Change::Completed),
            (Todo::Live(item(3, true)), Todo::Live(item(4, false)), Change::Reopened),
            (Todo::Live(item(4, false)), Todo::Deleted(item(5, false)), Change::Deleted),
            (Todo::NotCreated, Todo::Deleted(item(5, false)), Change::Deleted),
        ];
        for (before, after, change) in cases {
            let message = LiveMessage::between(&before, &after).unwrap();
            assert_eq!((message.change, message.version), (change, after.version()));
            assert_eq!(message.todo.is_none(), change == Change::Deleted);
        }
    }

    #[test]
    fn nothing_is_sent_when_the_row_did_not_move_forward() {
        assert_eq!(LiveMessage::between(&Todo::Live(item(2, false)), &Todo::Live(item(2, false))), None);
        assert_eq!(LiveMessage::between(&Todo::Live(item(3, false)), &Todo::Live(item(2, false))), None);
        assert_eq!(LiveMessage::between(&Todo::NotCreated, &Todo::NotCreated), None);
    }

    #[test]
    fn the_message_has_the_documented_shape() {
        let created = LiveMessage::between(&Todo::NotCreated, &Todo::Live(item(1, false))).unwrap();
        let json: serde_json::Value = serde_json::from_str(&created.to_json()).unwrap();
        assert_eq!(json["type"], "todo");
        assert_eq!(json["change"], "created");
        assert_eq!(json["version"], 1);
        assert_eq!(json["todo"]["title"], "Buy milk");
        let deleted = LiveMessage::between(&Todo::Live(item(1, false)), &Todo::Deleted(item(2, false))).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&deleted.to_json()).unwrap(),
            json!({"type": "todo", "change": "deleted", "todo": null, "id": item(2, false).id, "version": 2})
        );
    }
}
