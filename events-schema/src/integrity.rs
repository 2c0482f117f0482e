//! Tamper evidence: each todo's events form a hash chain, and a digest over every todo's head lets
//! an auditor prove later that nothing up to that moment changed.
//!
//! The recipe (also in `events-schema/README.md`, with a fixed test vector in this module's tests):
//!
//! 1. Take the event record as stored (`event-record.schema.json`), drop `eventKey` (it only repeats
//!    `todoId` and `version`) and `hash`. What remains is `userId`, `todoId`, `version`, `eventId`,
//!    `type`, `schemaVersion`, `occurredAt`, `data`, the metadata present (`requestId`, `actor`,
//!    `sourceIp`, ...) and `prevHash`.
//! 2. Serialise that object with the JSON Canonicalization Scheme (RFC 8785).
//! 3. `hash` = SHA-256 of those bytes, as 64 lowercase hex digits.
//!
//! `prevHash` is the `hash` of the same todo's previous event, or [`GENESIS_HASH`] for version 1.
//! A todo whose first events were written before hashing (they have neither field) starts its chain
//! at its first hashed event, whose `prevHash` is [`GENESIS_HASH`].
//!
//! Digest: `SHA-256(JCS([{"id", "version", "hash"}, ...]))` over each todo's last event up to an
//! instant, in todo id order, where `hash` is the recipe's hash of that event (computed, so that
//! events from before hashing are covered too).

mod canonical;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{EventRecord, Timestamp};

/// `prevHash` of a chain's first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Attributes of a stored record that are not hashed.
const UNHASHED: [&str; 2] = ["eventKey", "hash"];

/// The recipe's hash of a stored record (its `hash` attribute is ignored, so this is what `hash`
/// must be).
pub fn record_hash(record: &EventRecord) -> String {
    match serde_json::to_value(record) {
        Ok(serde_json::Value::Object(fields)) => fields_hash(&fields),
        // A record of strings, numbers and maps always serialises to an object.
        _ => String::new(),
    }
}

/// The recipe's hash of an event given as a JSON object (a stored item, or a line of an export).
pub fn fields_hash(fields: &serde_json::Map<String, serde_json::Value>) -> String {
    sha256_hex(canonical_fields(fields).as_bytes())
}

/// The RFC 8785 canonical JSON that [`fields_hash`] hashes (`serde_jcs` is the reference; see
/// [`canonical`] for the fast path every stored event takes).
pub fn canonical_fields(fields: &serde_json::Map<String, serde_json::Value>) -> String {
    canonical::canonical_object(fields, &UNHASHED)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hexadecimal, two digits a byte (the form of every hash the project stores).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

/// Whether `value` has the shape of a hash: 64 lowercase hex digits.
pub fn is_hash(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `{digest, asOf, todos, events}`: what an auditor keeps to prove later that a user's history up
/// to `asOf` did not change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HistoryDigest {
    pub digest: String,
    pub as_of: Timestamp,
    /// Todos with at least one event up to `asOf`.
    pub todos: u64,
    /// Events up to `asOf`.
    pub events: u64,
}

/// Builds a [`HistoryDigest`] from one user's events given in todo-then-version order (a scan of
/// the user's partition), keeping only the current todo's last event: constant memory. The caller
/// leaves out events after the digest's instant ([`is_no_later_than`]).
#[derive(Debug)]
pub struct DigestBuilder {
    hasher: Sha256,
    /// The current todo's id and its last event so far: (version, hash).
    head: Option<(String, u64, String)>,
    todos: u64,
    events: u64,
}

#[derive(Serialize)]
struct Head<'a> {
    id: &'a str,
    version: u64,
    hash: &'a str,
}

impl Default for DigestBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// Whether a stored event counts for a digest (or an export) as of `as_of`.
pub fn is_no_later_than(record: &EventRecord, as_of: Timestamp) -> bool {
    Timestamp::parse(&record.occurred_at).is_ok_and(|at| at <= as_of)
}

impl DigestBuilder {
    pub fn new() -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"[");
        Self { hasher, head: None, todos: 0, events: 0 }
    }

    /// Takes the next event, hashing it by the recipe.
    pub fn push_record(&mut self, record: &EventRecord) {
        self.push(&record.todo_id, record.version, record_hash(record));
    }

    /// Takes the next event, given with its recipe hash.
    pub fn push(&mut self, todo_id: &str, version: u64, hash: String) {
        self.events += 1;
        match &mut self.head {
            Some((id, head_version, head_hash)) if id == todo_id => {
                *head_version = version;
                *head_hash = hash;
            }
            _ => {
                self.flush();
                self.head = Some((todo_id.to_owned(), version, hash));
            }
        }
    }

    fn flush(&mut self) {
        if let Some((id, version, hash)) = self.head.take() {
            if self.todos > 0 {
                self.hasher.update(b",");
            }
            self.todos += 1;
            let head = serde_jcs::to_string(&Head { id: &id, version, hash: &hash }).unwrap_or_default();
            self.hasher.update(head.as_bytes());
        }
    }

    /// The digest of the events taken, labelled with the instant they were taken up to.
    pub fn finish(mut self, as_of: Timestamp) -> HistoryDigest {
        self.flush();
        self.hasher.update(b"]");
        HistoryDigest { digest: hex(&self.hasher.finalize()), as_of, todos: self.todos, events: self.events }
    }
}

/// A problem with one event of the chain, or a note about where a chain starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub user_id: String,
    pub todo_id: String,
    pub version: u64,
    pub kind: FindingKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingKind {
    /// `hash` is not the recipe's hash of the event: its content (or its hash) was changed.
    HashMismatch { stored: String, computed: String },
    /// `prevHash` is not the hash of the event before it (`previous_version`, 0 for none): that
    /// event was altered and re-hashed, replaced, or one between them removed.
    BrokenLink { previous_version: u64, expected: String, found: String },
    /// Versions must follow 1, 2, 3...: `expected` is missing (deleted), or events were moved.
    VersionGap { expected: u64 },
    /// `eventKey` does not name this event's todo and version.
    KeyMismatch { event_key: String },
    /// An event without `hash` after the chain started: its hash was removed.
    UnhashedInChain,
    /// Only one of `prevHash` and `hash`, or a value that is not a hash.
    MalformedLink,
    /// The item cannot be read as an event at all.
    Unreadable { detail: String },
    /// Not a break: this todo's events before this version predate hashing; its chain starts here.
    ChainStartsHere,
}

impl FindingKind {
    pub fn is_break(&self) -> bool {
        !matches!(self, Self::ChainStartsHere)
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "user {} todo {} version {}: ", self.user_id, self.todo_id, self.version)?;
        match &self.kind {
            FindingKind::HashMismatch { stored, computed } => write!(
                f,
                "content does not match its hash (stored {stored}, computed {computed}): the event was edited, or its hash forged"
            ),
            FindingKind::BrokenLink { previous_version: 0, expected, found } => {
                write!(f, "prevHash {found} is not the chain's start ({expected}): an earlier event was removed")
            }
            FindingKind::BrokenLink { previous_version, expected, found } => write!(
                f,
                "prevHash {found} is not the hash of version {previous_version} ({expected}): version {previous_version} was altered and re-hashed or replaced, or an event after it removed"
            ),
            FindingKind::VersionGap { expected } => {
                write!(f, "expected version {expected} here: version {expected} is missing or events were moved")
            }
            FindingKind::KeyMismatch { event_key } => {
                write!(f, "eventKey `{event_key}` does not name this todo and version: the event was moved")
            }
            FindingKind::UnhashedInChain => {
                write!(f, "has no hash although earlier events of the todo do: its hash was removed")
            }
            FindingKind::MalformedLink => write!(f, "prevHash/hash missing one of the pair or not 64 hex digits"),
            FindingKind::Unreadable { detail } => write!(f, "cannot be read as an event: {detail}"),
            FindingKind::ChainStartsHere => {
                write!(f, "earlier events predate hashing; the hash chain starts at this version (not a break)")
            }
        }
    }
}

/// Checks chains event by event, given events in user, todo, version order (a scan). Holds one
/// todo's position at a time: constant memory.
#[derive(Debug, Default)]
pub struct ChainChecker {
    current: Option<Position>,
}

#[derive(Debug)]
struct Position {
    user_id: String,
    todo_id: String,
    version: u64,
    /// The last event's stored hash, `None` while the todo's events predate hashing.
    hash: Option<String>,
}

impl ChainChecker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks the next event; returns what it found about it (usually nothing).
    pub fn check(&mut self, record: &EventRecord) -> Vec<Finding> {
        let mut found = Vec::new();
        let mut finding = |kind| {
            found.push(Finding {
                user_id: record.user_id.clone(),
                todo_id: record.todo_id.clone(),
                version: record.version,
                kind,
            })
        };
        let same_todo =
            self.current.as_ref().is_some_and(|p| p.user_id == record.user_id && p.todo_id == record.todo_id);
        let (expected_version, previous_hash) = match (&self.current, same_todo) {
            (Some(position), true) => (position.version + 1, position.hash.clone()),
            _ => (1, None),
        };
        let previous_version = expected_version - 1;

        if record.event_key != crate::event_key_string(&record.todo_id, record.version) {
            finding(FindingKind::KeyMismatch { event_key: record.event_key.clone() });
        }
        if record.version != expected_version {
            finding(FindingKind::VersionGap { expected: expected_version });
        }
        let hash = match (&record.prev_hash, &record.hash) {
            (None, None) => {
                if previous_hash.is_some() {
                    finding(FindingKind::UnhashedInChain);
                }
                None
            }
            (Some(prev_hash), Some(hash)) if is_hash(prev_hash) && is_hash(hash) => {
                let computed = record_hash(record);
                if &computed != hash {
                    finding(FindingKind::HashMismatch { stored: hash.clone(), computed });
                }
                let expected = previous_hash.as_deref().unwrap_or(GENESIS_HASH);
                if prev_hash != expected {
                    finding(FindingKind::BrokenLink {
                        previous_version,
                        expected: expected.to_owned(),
                        found: prev_hash.clone(),
                    });
                } else if previous_hash.is_none() && record.version > 1 && record.version == expected_version {
                    finding(FindingKind::ChainStartsHere);
                }
                Some(hash.clone())
            }
            _ => {
                finding(FindingKind::MalformedLink);
                record.hash.clone()
            }
        };
        self.current = Some(Position {
            user_id: record.user_id.clone(),
            todo_id: record.todo_id.clone(),
            version: record.version,
            hash: hash.or(previous_hash.filter(|_| same_todo)),
        });
        found
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{Event, EventMetadata, TodoCreated, TodoEvent, TodoId, TodoUpdated, UserId};

    /// The fixed vector: an event and the hash the recipe gives it. A change of the recipe (fields,
    /// canonical form, hash function) fails here; it would make every stored hash unverifiable.
    #[test]
    fn the_recipe_gives_the_fixed_vector() {
        let record: EventRecord = serde_json::from_value(json!({
            "userId": "user-1",
            "eventKey": "0193f3a4-1b2c-7d8e-9f00-112233445566#0000000001",
            "todoId": "0193f3a4-1b2c-7d8e-9f00-112233445566",
            "version": 1,
            "eventId": "0193f3a4-1b2c-7d8e-9f00-aabbccddeeff",
            "type": "TodoCreated",
            "schemaVersion": 1,
            "occurredAt": "2026-11-25T19:44:06.500000Z",
            "data": {"title": "Buy milk", "notes": "2 litres, €1.09"},
            "requestId": "req-1",
            "actor": "ann",
            "prevHash": GENESIS_HASH,
        }))
        .unwrap();
        assert_eq!(
            canonical_fields(&serde_json::to_value(&record).unwrap().as_object().unwrap().clone()),
            concat!(
                r#"{"actor":"ann","data":{"notes":"2 litres, €1.09","title":"Buy milk"},"#,
                r#""eventId":"0193f3a4-1b2c-7d8e-9f00-aabbccddeeff","occurredAt":"2026-11-25T19:44:06.500000Z","#,
                r#""prevHash":"0000000000000000000000000000000000000000000000000000000000000000","#,
                r#""requestId":"req-1","schemaVersion":1,"todoId":"0193f3a4-1b2c-7d8e-9f00-112233445566","#,
                r#""type":"TodoCreated","userId":"user-1","version":1}"#
            )
        );
        assert_eq!(record_hash(&record), include_str!("../tests/vectors/event-hash.txt").trim());
    }

    fn event(version: u64, payload: TodoEvent) -> Event {
        Event {
            user_id: UserId::parse("user-1").unwrap(),
            todo_id: TodoId::parse("0193f3a4-1b2c-7d8e-9f00-112233445566").unwrap(),
            version,
            event_id: uuid::Uuid::nil(),
            occurred_at: Timestamp::parse(&format!("2026-11-25T19:44:0{version}Z")).unwrap(),
            payload,
            metadata: EventMetadata::default(),
            chain: None,
        }
    }

    fn renamed(title: &str) -> TodoEvent {
        TodoEvent::Updated(TodoUpdated { title: Some(title.into()), ..Default::default() })
    }

    /// Three sealed events of one todo, as records.
    fn chain() -> Vec<EventRecord> {
        let first = event(1, TodoEvent::Created(TodoCreated { title: "a".into(), notes: None })).sealed(GENESIS_HASH);
        let second = event(2, renamed("b")).sealed(&first.chain.as_ref().unwrap().hash);
        let third = event(3, renamed("c")).sealed(&second.chain.as_ref().unwrap().hash);
        [first, second, third].iter().map(Event::to_record).collect()
    }

    fn check_all(records: &[EventRecord]) -> Vec<(u64, FindingKind)> {
        let mut checker = ChainChecker::new();
        records.iter().flat_map(|r| checker.check(r)).map(|f| (f.version, f.kind)).collect()
    }

    #[test]
    fn an_intact_chain_has_no_findings() {
        assert!(check_all(&chain()).is_empty());
    }

    #[test]
    fn an_edited_event_is_found_at_its_version() {
        let mut records = chain();
        records[1].data.insert("title".into(), json!("B"));
        let found = check_all(&records);
        assert_eq!(found.len(), 1);
        assert!(matches!(found[0], (2, FindingKind::HashMismatch { .. })));
    }

    #[test]
    fn an_edited_and_rehashed_event_breaks_the_next_link() {
        let mut records = chain();
        records[1].data.insert("title".into(), json!("B"));
        records[1].hash = Some(record_hash(&records[1]));
        let found = check_all(&records);
        assert!(matches!(found.as_slice(), [(3, FindingKind::BrokenLink { .. })]), "{found:?}");
    }

    #[test]
    fn a_deleted_middle_event_is_a_gap_and_a_broken_link() {
        let mut records = chain();
        records.remove(1);
        let found = check_all(&records);
        assert!(found.contains(&(3, FindingKind::VersionGap { expected: 2 })), "{found:?}");
        assert!(found.iter().any(|f| matches!(f, (3, FindingKind::BrokenLink { .. }))));
    }

    #[test]
    fn events_from_before_hashing_start_the_chain_without_a_break() {
        let legacy = event(1, TodoEvent::Created(TodoCreated { title: "a".into(), notes: None }));
        let hashed = event(2, renamed("b")).sealed(GENESIS_HASH);
        let found = check_all(&[legacy.to_record(), hashed.to_record()]);
        assert_eq!(found, vec![(2, FindingKind::ChainStartsHere)]);
        assert!(!found[0].1.is_break());

        let mut stripped = chain();
        stripped[2].hash = None;
        stripped[2].prev_hash = None;
        assert_eq!(check_all(&stripped), vec![(3, FindingKind::UnhashedInChain)]);
    }

    #[test]
    fn the_digest_changes_with_any_head_and_ignores_later_events() {
        let records = chain();
        let as_of = Timestamp::parse("2026-11-25T19:44:02Z").unwrap();
        let digest = |records: &[EventRecord]| {
            let mut builder = DigestBuilder::new();
            records.iter().filter(|r| is_no_later_than(r, as_of)).for_each(|r| builder.push_record(r));
            builder.finish(as_of)
        };
        let before = digest(&records);
        assert_eq!((before.todos, before.events), (1, 2));
        assert_eq!(digest(&records[..2]), before, "events after asOf do not count");
        let mut edited = records.clone();
        edited[1].data.insert("title".into(), json!("B"));
        assert_ne!(digest(&edited).digest, before.digest);
        assert!(is_hash(&before.digest));
        let empty = DigestBuilder::new().finish(as_of);
        assert_eq!((empty.todos, empty.events), (0, 0));
        assert_eq!(empty.digest, sha256_hex(b"[]"));
    }
}
