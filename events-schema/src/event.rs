use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{TodoId, UserId, time::Timestamp};

/// The schema version every event is written with today. When a payload changes shape, add a new
/// version, keep the old shape's upcaster in [`upcast`], and never rename a type.
pub const CURRENT_SCHEMA_VERSION: u32 = 1;

/// A todo was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TodoCreated {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Some of a todo's fields changed; only the changed ones are present. `notes: ""` clears the notes;
/// `completed: false` reopens a completed todo.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TodoUpdated {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<bool>,
}

/// A todo was marked complete; the event's `occurredAt` is the completion time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TodoCompleted {
    /// The todo's title at that moment, so that a history reads on its own ("completed 'Buy milk'").
    pub title: String,
}

/// A todo was deleted. Its events stay: the history is still readable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TodoDeleted {
    /// The todo's title at that moment, for readers of the history.
    pub title: String,
}

/// What happened to a todo: the payload of one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TodoEvent {
    Created(TodoCreated),
    Updated(TodoUpdated),
    Completed(TodoCompleted),
    Deleted(TodoDeleted),
}

/// The `type` attribute of an event item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum EventType {
    TodoCreated,
    TodoUpdated,
    TodoCompleted,
    TodoDeleted,
}

impl EventType {
    pub const ALL: [EventType; 4] = [Self::TodoCreated, Self::TodoUpdated, Self::TodoCompleted, Self::TodoDeleted];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TodoCreated => "TodoCreated",
            Self::TodoUpdated => "TodoUpdated",
            Self::TodoCompleted => "TodoCompleted",
            Self::TodoDeleted => "TodoDeleted",
        }
    }
}

impl TodoEvent {
    pub fn event_type(&self) -> EventType {
        match self {
            Self::Created(_) => EventType::TodoCreated,
            Self::Updated(_) => EventType::TodoUpdated,
            Self::Completed(_) => EventType::TodoCompleted,
            Self::Deleted(_) => EventType::TodoDeleted,
        }
    }

    /// The payload as the readable map stored in the `data` attribute.
    pub fn data(&self) -> serde_json::Value {
        let data = match self {
            Self::Created(e) => serde_json::to_value(e),
            Self::Updated(e) => serde_json::to_value(e),
            Self::Completed(e) => serde_json::to_value(e),
            Self::Deleted(e) => serde_json::to_value(e),
        };
        // Plain structs of strings and bools always serialise.
        data.unwrap_or_else(|_| serde_json::Value::Object(Default::default()))
    }
}

/// Who and what caused an event, for auditors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventMetadata {
    /// The API request that appended the event (API Gateway's request id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The signed-in user's name as the identity provider gave it (`cognito:username`, else `email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The caller's IP address as API Gateway saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// The X-Ray trace the request belonged to (`1-5759e988-bd862e3fe1be46a994272793`): every log
    /// line of the command, and the projector's line for this event, carry it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// One recorded event, decoded and upcast: what the domain folds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub user_id: UserId,
    pub todo_id: TodoId,
    /// 1 for the item's first event, then +1 per event, without holes.
    pub version: u64,
    pub event_id: Uuid,
    pub occurred_at: Timestamp,
    pub payload: TodoEvent,
    pub metadata: EventMetadata,
    /// The event's link in its todo's hash chain; `None` for events written before hashing.
    pub chain: Option<Chain>,
}

/// An event's place in its todo's hash chain (see [`crate::integrity`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    /// The `hash` of the todo's previous event, or [`crate::GENESIS_HASH`] where the chain starts.
    pub prev_hash: String,
    /// SHA-256 (lowercase hex) of the event's canonical JSON, `prevHash` included.
    pub hash: String,
}

/// An event exactly as stored: one item of the event table, one `NEW_IMAGE` of its stream, one entry
/// of the history API. Every attribute is readable in the console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    /// Partition key: the owner (Cognito `sub`).
    pub user_id: String,
    /// Sort key: `<todoId>#<version, zero-padded to 10 digits>`.
    pub event_key: String,
    pub todo_id: String,
    pub version: u64,
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema_version: u32,
    /// RFC 3339 UTC, fixed width with microseconds; the `UserTimeline` index's sort key.
    pub occurred_at: String,
    /// The payload, a map whose shape is given by `type` and `schemaVersion`.
    pub data: serde_json::Map<String, serde_json::Value>,
    #[serde(flatten)]
    pub metadata: EventMetadata,
    /// The `hash` of the same todo's previous event; 64 zeros for version 1 and for the first event
    /// of a todo whose earlier events were written before hashing. Absent on those earlier events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub prev_hash: Option<String>,
    /// SHA-256, lowercase hex, of the RFC 8785 canonical JSON of this record without `eventKey` and
    /// `hash` (see `events-schema/README.md`). Absent on events written before hashing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub hash: Option<String>,
}

/// The sort key of an event: items of one todo sort together, in version order.
pub fn event_key(todo_id: &TodoId, version: u64) -> String {
    event_key_string(&todo_id.to_string(), version)
}

/// [`event_key`] from a todo id as stored (the audit reads ids it has not parsed).
pub fn event_key_string(todo_id: &str, version: u64) -> String {
    format!("{todo_id}#{version:010}")
}

/// The bounds (both inclusive) of every event key of one todo: exactly the keys that start with
/// `<todoId>#`, as a range ('$' follows '#'). A range, not `begins_with`, because DynamoDB Local
/// answers `begins_with` by reading the user's whole partition, and a range from the index.
pub fn event_key_range(todo_id: &TodoId) -> (String, String) {
    (format!("{todo_id}#"), format!("{todo_id}$"))
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown event type `{0}`")]
    UnknownType(String),
    #[error(
        "{event_type} has schema version {found}, newer than this code's {CURRENT_SCHEMA_VERSION}: deploy the newer code"
    )]
    FutureSchemaVersion { event_type: String, found: u32 },
    #[error("{event_type} v{schema_version} has an invalid payload: {source}")]
    Payload { event_type: String, schema_version: u32, source: serde_json::Error },
    #[error("invalid {field}: {detail}")]
    Field { field: &'static str, detail: String },
}

/// Turns a stored payload of any schema version into today's [`TodoEvent`].
///
/// Every version up to [`CURRENT_SCHEMA_VERSION`] must stay readable forever. To change a payload:
/// bump the constant, and add an arm here rewriting `data` of the older version into the new shape
/// before it is parsed (e.g. `("TodoCreated", 1) => rename "description" to "notes"`).
pub fn upcast(
    event_type: &str,
    schema_version: u32,
    data: serde_json::Map<String, serde_json::Value>,
) -> Result<TodoEvent, DecodeError> {
    if schema_version > CURRENT_SCHEMA_VERSION || schema_version == 0 {
        return Err(DecodeError::FutureSchemaVersion { event_type: event_type.to_owned(), found: schema_version });
    }
    let data = serde_json::Value::Object(data);
    let payload_error = |source| DecodeError::Payload { event_type: event_type.to_owned(), schema_version, source };
    let event = match event_type {
        "TodoCreated" => TodoEvent::Created(serde_json::from_value(data).map_err(payload_error)?),
        "TodoUpdated" => TodoEvent::Updated(serde_json::from_value(data).map_err(payload_error)?),
        "TodoCompleted" => TodoEvent::Completed(serde_json::from_value(data).map_err(payload_error)?),
        "TodoDeleted" => TodoEvent::Deleted(serde_json::from_value(data).map_err(payload_error)?),
        other => return Err(DecodeError::UnknownType(other.to_owned())),
    };
    Ok(event)
}

impl Event {
    pub fn to_record(&self) -> EventRecord {
        let data = match self.payload.data() {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        EventRecord {
            user_id: self.user_id.to_string(),
            event_key: event_key(&self.todo_id, self.version),
            todo_id: self.todo_id.to_string(),
            version: self.version,
            event_id: self.event_id.hyphenated().to_string(),
            event_type: self.payload.event_type().as_str().to_owned(),
            schema_version: CURRENT_SCHEMA_VERSION,
            occurred_at: self.occurred_at.to_string(),
            data,
            metadata: self.metadata.clone(),
            prev_hash: self.chain.as_ref().map(|c| c.prev_hash.clone()),
            hash: self.chain.as_ref().map(|c| c.hash.clone()),
        }
    }

    /// Links this event to its todo's chain after `prev_hash` (the previous event's hash, or
    /// [`crate::GENESIS_HASH`]) and computes its own hash.
    pub fn sealed(mut self, prev_hash: &str) -> Self {
        self.chain = None;
        let mut record = self.to_record();
        record.prev_hash = Some(prev_hash.to_owned());
        let hash = crate::integrity::record_hash(&record);
        self.chain = Some(Chain { prev_hash: prev_hash.to_owned(), hash });
        self
    }

    pub fn from_record(record: EventRecord) -> Result<Self, DecodeError> {
        fn invalid(field: &'static str, error: impl std::fmt::Display) -> DecodeError {
            DecodeError::Field { field, detail: error.to_string() }
        }
        let user_id = UserId::parse(&record.user_id).map_err(|e| invalid("userId", e))?;
        let todo_id = TodoId::parse(&record.todo_id).map_err(|e| invalid("todoId", e))?;
        let event_id = Uuid::try_parse(&record.event_id).map_err(|e| invalid("eventId", e))?;
        let occurred_at = Timestamp::parse(&record.occurred_at).map_err(|e| invalid("occurredAt", e))?;
        if record.version == 0 {
            return Err(DecodeError::Field { field: "version", detail: "versions start at 1".into() });
        }
        if record.event_key != event_key(&todo_id, record.version) {
            return Err(DecodeError::Field {
                field: "eventKey",
                detail: format!("`{}` does not match todoId and version", record.event_key),
            });
        }
        let payload = upcast(&record.event_type, record.schema_version, record.data)?;
        // A half-present link is kept as unhashed; `todo-audit verify` reports such an event.
        let chain = match (record.prev_hash, record.hash) {
            (Some(prev_hash), Some(hash)) => Some(Chain { prev_hash, hash }),
            _ => None,
        };
        Ok(Self {
            user_id,
            todo_id,
            version: record.version,
            event_id,
            occurred_at,
            payload,
            metadata: record.metadata,
            chain,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Event {
        Event {
            user_id: UserId::parse("user-1").unwrap(),
            todo_id: TodoId::parse("0193f3a4-1b2c-7d8e-9f00-112233445566").unwrap(),
            version: 3,
            event_id: Uuid::nil(),
            occurred_at: Timestamp::parse("2026-11-25T19:44:06.5Z").unwrap(),
            payload: TodoEvent::Updated(TodoUpdated {
                title: Some("milk".into()),
                notes: None,
                completed: Some(false),
            }),
            metadata: EventMetadata {
                request_id: Some("req-1".into()),
                actor: Some("ann".into()),
                source_ip: None,
                trace_id: None,
            },
            chain: None,
        }
    }

    #[test]
    fn a_record_is_a_flat_readable_item() {
        let record = serde_json::to_value(sample().to_record()).unwrap();
        assert_eq!(
            record,
            json!({
                "userId": "user-1",
                "eventKey": "0193f3a4-1b2c-7d8e-9f00-112233445566#0000000003",
                "todoId": "0193f3a4-1b2c-7d8e-9f00-112233445566",
                "version": 3,
                "eventId": "00000000-0000-0000-0000-000000000000",
                "type": "TodoUpdated",
                "schemaVersion": 1,
                "occurredAt": "2026-11-25T19:44:06.500000Z",
                "data": {"title": "milk", "completed": false},
                "requestId": "req-1",
                "actor": "ann"
            })
        );
    }

    #[test]
    fn records_round_trip() {
        let event = sample();
        assert_eq!(Event::from_record(event.to_record()).unwrap(), event);
        let sealed = sample().sealed(crate::GENESIS_HASH);
        assert_eq!(Event::from_record(sealed.to_record()).unwrap(), sealed);
    }

    #[test]
    fn a_newer_schema_version_is_refused_rather_than_guessed() {
        let mut record = sample().to_record();
        record.schema_version = CURRENT_SCHEMA_VERSION + 1;
        assert!(matches!(Event::from_record(record), Err(DecodeError::FutureSchemaVersion { found: 2, .. })));
    }

    #[test]
    fn unknown_types_and_bad_payloads_are_errors() {
        let mut record = sample().to_record();
        record.event_type = "TodoArchived".into();
        assert!(matches!(Event::from_record(record), Err(DecodeError::UnknownType(_))));

        let mut record = sample().to_record();
        record.data.insert("title".into(), json!(42));
        assert!(matches!(Event::from_record(record), Err(DecodeError::Payload { .. })));
    }

    #[test]
    fn the_key_range_holds_every_version_of_one_todo_and_no_other_todo() {
        let todo = TodoId::parse("0193a6f0-0000-7000-8000-000000000001").unwrap();
        let next = TodoId::parse("0193a6f0-0000-7000-8000-000000000002").unwrap();
        let (low, high) = event_key_range(&todo);
        for version in [1, 2, 999, 9_999_999_999, u64::MAX] {
            let key = event_key(&todo, version);
            assert!(low <= key && key <= high, "{key}");
        }
        assert!(event_key(&next, 1) > high);
        assert!(todo.to_string() < low);
    }

    #[test]
    fn the_event_key_must_match_the_todo_and_version() {
        let mut record = sample().to_record();
        record.version = 4;
        assert!(matches!(Event::from_record(record), Err(DecodeError::Field { field: "eventKey", .. })));
    }
}
