//! The event contract of the To Do back end.
//!
//! Everything here is pure: no clock, no randomness, no I/O. The command side calls [`decide`], the
//! projector, replay and every read of an item's state call [`fold`] (which is [`evolve`] applied in
//! version order). Event payloads are stored as readable maps tagged with a `type` and a
//! `schemaVersion`; old versions are upcast on read ([`upcast`]).

mod decide;
mod event;
mod fields;
mod ids;
pub mod integrity;
mod schema;
mod time;
mod todo;

pub use decide::{Changes, Command, Context, DomainError, decide, repeats_creation};
pub use event::{
    CURRENT_SCHEMA_VERSION, Chain, DecodeError, Event, EventMetadata, EventRecord, EventType, TodoCompleted,
    TodoCreated, TodoDeleted, TodoEvent, TodoUpdated, event_key, event_key_range, event_key_string, upcast,
};
pub use fields::{FieldError, MAX_NOTES_CHARS, MAX_TITLE_CHARS, Notes, Title};
pub use ids::{IdError, TodoId, UserId};
pub use integrity::{GENESIS_HASH, HistoryDigest};
pub use schema::generated_schemas;
pub use time::Timestamp;
pub use todo::{Todo, TodoItem, evolve, fold};
