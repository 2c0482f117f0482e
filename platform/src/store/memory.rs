//! An in-memory adapter for unit and property tests. It keeps the same guarantees as the real
//! stores (conditional appends, version-guarded rows), which the contract suite checks.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use events_schema::{Event, Timestamp, Todo, TodoId, TodoItem, UserId};

use super::*;

type EventKey = (UserId, TodoId, u64);

#[derive(Default)]
pub struct MemoryStore {
    events: Mutex<BTreeMap<EventKey, Event>>,
    rows: Mutex<BTreeMap<(UserId, TodoId), Todo>>,
    facts: Mutex<BTreeMap<(UserId, TodoId), TodoFacts>>,
    snapshots: Mutex<BTreeMap<(UserId, Timestamp), ListSnapshot>>,
    connections: Mutex<BTreeMap<(UserId, ConnectionId), Connection>>,
    erasures: Mutex<BTreeMap<UserKey, Erasure>>,
}

/// Whether a user's items are in a scan's scope.
fn in_scope(scope: Scope<'_>, user: &UserId) -> bool {
    match scope {
        Scope::All => true,
        Scope::User(only) => only == user,
        Scope::Segment(segment) => segment.holds(user.as_str()),
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn events(&self) -> std::sync::MutexGuard<'_, BTreeMap<EventKey, Event>> {
        self.events.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn rows(&self) -> std::sync::MutexGuard<'_, BTreeMap<(UserId, TodoId), Todo>> {
        self.rows.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn snapshots(&self) -> std::sync::MutexGuard<'_, BTreeMap<(UserId, Timestamp), ListSnapshot>> {
        self.snapshots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn connections(&self) -> std::sync::MutexGuard<'_, BTreeMap<(UserId, ConnectionId), Connection>> {
        self.connections.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn erasure_items(&self) -> std::sync::MutexGuard<'_, BTreeMap<UserKey, Erasure>> {
        self.erasures.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn fact_rows(&self) -> std::sync::MutexGuard<'_, BTreeMap<(UserId, TodoId), TodoFacts>> {
        self.facts.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl EventLog for MemoryStore {
    async fn load(&self, user: &UserId, todo: &TodoId) -> Result<Vec<Event>, StoreError> {
        let events = self.events();
        let range = (user.clone(), *todo, 0)..=(user.clone(), *todo, u64::MAX);
        Ok(events.range(range).map(|(_, e)| e.clone()).collect())
    }

    async fn append(&self, new: &[Event]) -> Result<(), AppendError> {
        let mut events = self.events();
        let key = |e: &Event| (e.user_id.clone(), e.todo_id, e.version);
        if new.iter().any(|e| events.contains_key(&key(e))) {
            return Err(AppendError::Conflict);
        }
        for event in new {
            events.insert(key(event), event.clone());
        }
        Ok(())
    }

    async fn has_events(&self, user: &UserId, todo: &TodoId) -> Result<bool, StoreError> {
        let range = (user.clone(), *todo, 0)..=(user.clone(), *todo, u64::MAX);
        Ok(self.events().range(range).next().is_some())
    }
}

#[async_trait]
impl EventTimeline for MemoryStore {
    async fn user_history(
        &self,
        user: &UserId,
        until: Option<Timestamp>,
        limit: usize,
        after: Option<HistoryCursor>,
    ) -> Result<Page<Event, HistoryCursor>, StoreError> {
        let order = |e: &Event| (e.occurred_at, e.todo_id, e.version);
        let mut mine: Vec<Event> = self
            .events()
            .values()
            .filter(|e| &e.user_id == user && until.is_none_or(|until| e.occurred_at <= until))
            .cloned()
            .collect();
        mine.sort_by_key(order);
        if let Some(after) = after {
            let after = (after.occurred_at, after.todo_id, after.version);
            mine.retain(|e| order(e) > after);
        }
        Ok(Page::from_overfetch(mine, limit, HistoryCursor::after))
    }
}

#[async_trait]
impl EventScan for MemoryStore {
    async fn scan_records(
        &self,
        scope: Scope<'_>,
        limit: usize,
        after: Option<ScanCursor>,
    ) -> Result<Page<StoredRecord, ScanCursor>, StoreError> {
        let after = after.map(|c| (c.user_id, c.event_key));
        let items: Vec<StoredRecord> = self
            .events()
            .iter()
            .filter(|(key, _)| in_scope(scope, &key.0))
            .filter(|(key, _)| {
                after.as_ref().is_none_or(|(user, event_key)| {
                    (key.0.as_str(), events_schema::event_key(&key.1, key.2).as_str())
                        > (user.as_str(), event_key.as_str())
                })
            })
            .take(limit + 1)
            .map(|(_, e)| Ok(e.to_record()))
            .collect();
        Ok(Page::from_overfetch(items, limit, ScanCursor::after_record))
    }
}

#[async_trait]
impl ReadModel for MemoryStore {
    async fn get(&self, user: &UserId, todo: &TodoId) -> Result<Option<TodoItem>, StoreError> {
        Ok(self.rows().get(&(user.clone(), *todo)).and_then(|t| t.live().cloned()))
    }

    async fn list(
        &self,
        user: &UserId,
        status: StatusFilter,
        limit: usize,
        after: Option<ListCursor>,
    ) -> Result<Page<TodoItem, ListCursor>, StoreError> {
        let items: Vec<TodoItem> = self
            .rows()
            .iter()
            .filter(|((u, id), _)| u == user && after.as_ref().is_none_or(|a| *id > a.after))
            .filter_map(|(_, t)| t.live().filter(|item| status.admits(item)).cloned())
            .take(limit + 1)
            .collect();
        Ok(Page::from_overfetch(items, limit, |item| ListCursor { after: item.id }))
    }
}

#[async_trait]
impl ProjectionStore for MemoryStore {
    async fn state(&self, user: &UserId, todo: &TodoId) -> Result<Todo, StoreError> {
        Ok(self.rows().get(&(user.clone(), *todo)).cloned().unwrap_or_default())
    }

    async fn put(&self, user: &UserId, state: &Todo, guard: WriteGuard) -> Result<bool, StoreError> {
        let (Todo::Live(item) | Todo::Deleted(item)) = state else {
            return Ok(false);
        };
        let mut rows = self.rows();
        let key = (user.clone(), item.id);
        let stored = rows.get(&key).map(Todo::version).unwrap_or(0);
        let allowed = match guard {
            WriteGuard::NewerOnly => stored < item.version,
            WriteGuard::NotOlder => stored <= item.version,
        };
        if allowed {
            rows.insert(key, state.clone());
        }
        Ok(allowed)
    }

    async fn remove(&self, user: &UserId, todo: &TodoId) -> Result<(), StoreError> {
        self.rows().remove(&(user.clone(), *todo));
        Ok(())
    }

    async fn scan_rows(
        &self,
        scope: Scope<'_>,
        limit: usize,
        after: Option<(UserId, TodoId)>,
    ) -> Result<Page<Row, (UserId, TodoId)>, StoreError> {
        let rows: Vec<Row> = self
            .rows()
            .iter()
            .filter(|(key, _)| in_scope(scope, &key.0) && after.as_ref().is_none_or(|a| *key > a))
            .filter_map(|((user, _), state)| Row::from_state(user, state))
            .take(limit + 1)
            .collect();
        Ok(Page::from_overfetch(rows, limit, Row::key))
    }
}

#[async_trait]
impl StatsStore for MemoryStore {
    async fn put_facts(&self, user: &UserId, facts: &TodoFacts, guard: WriteGuard) -> Result<bool, StoreError> {
        let mut rows = self.fact_rows();
        let key = (user.clone(), facts.todo_id);
        let stored = rows.get(&key).map_or(0, |f| f.version);
        let allowed = match guard {
            WriteGuard::NewerOnly => stored < facts.version,
            WriteGuard::NotOlder => stored <= facts.version,
        };
        if allowed {
            rows.insert(key, facts.clone());
        }
        Ok(allowed)
    }

    async fn facts(&self, user: &UserId, todo: &TodoId) -> Result<Option<TodoFacts>, StoreError> {
        Ok(self.fact_rows().get(&(user.clone(), *todo)).cloned())
    }

    async fn user_facts(&self, user: &UserId) -> Result<Vec<TodoFacts>, StoreError> {
        Ok(self.fact_rows().iter().filter(|((u, _), _)| u == user).map(|(_, f)| f.clone()).collect())
    }

    async fn scan_facts(
        &self,
        scope: Scope<'_>,
        limit: usize,
        after: Option<(UserId, TodoId)>,
    ) -> Result<Page<(UserId, TodoFacts), (UserId, TodoId)>, StoreError> {
        let rows: Vec<(UserId, TodoFacts)> = self
            .fact_rows()
            .iter()
            .filter(|(key, _)| in_scope(scope, &key.0) && after.as_ref().is_none_or(|a| *key > a))
            .map(|((user, _), facts)| (user.clone(), facts.clone()))
            .take(limit + 1)
            .collect();
        Ok(Page::from_overfetch(rows, limit, |(user, facts)| (user.clone(), facts.todo_id)))
    }

    async fn remove_facts(&self, user: &UserId, todo: &TodoId) -> Result<(), StoreError> {
        self.fact_rows().remove(&(user.clone(), *todo));
        Ok(())
    }
}

#[async_trait]
impl SnapshotStore for MemoryStore {
    async fn latest_snapshot(&self, user: &UserId, at: Timestamp) -> Result<Option<ListSnapshot>, StoreError> {
        let snapshots = self.snapshots();
        Ok(snapshots.range(..=(user.clone(), at)).next_back().filter(|(key, _)| &key.0 == user).map(|(_, s)| s.clone()))
    }

    async fn put_snapshot(&self, snapshot: &ListSnapshot) -> Result<(), StoreError> {
        self.snapshots().insert((snapshot.user.clone(), snapshot.at), snapshot.clone());
        Ok(())
    }
}

#[async_trait]
impl ConnectionStore for MemoryStore {
    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        self.connections().insert((connection.user.clone(), connection.id.clone()), connection.clone());
        Ok(())
    }

    async fn remove_connection(&self, user: &UserId, id: &ConnectionId) -> Result<(), StoreError> {
        self.connections().remove(&(user.clone(), id.clone()));
        Ok(())
    }

    async fn user_connections(&self, user: &UserId, now: Timestamp) -> Result<Vec<Connection>, StoreError> {
        Ok(self
            .connections()
            .iter()
            .filter(|((owner, _), connection)| owner == user && connection.is_open_at(now))
            .map(|(_, connection)| connection.clone())
            .collect())
    }
}

#[async_trait]
impl ErasureLog for MemoryStore {
    async fn erasure(&self, user: &UserKey) -> Result<Option<Erasure>, StoreError> {
        Ok(self.erasure_items().get(user).cloned())
    }

    async fn begin_erasure(
        &self,
        user: &UserKey,
        requested_at: Timestamp,
        request_id: &str,
    ) -> Result<Erasure, StoreError> {
        let mut erasures = self.erasure_items();
        let stored = erasures.entry(user.clone()).or_insert_with(|| Erasure::Erasing {
            user_key: user.clone(),
            requested_at,
            request_id: request_id.to_owned(),
            erased: ErasedCounts::default(),
        });
        Ok(stored.clone())
    }

    async fn record_erasure(&self, erasure: &Erasure) -> Result<(), StoreError> {
        let mut erasures = self.erasure_items();
        let receipt_stays = matches!(erasure, Erasure::Erasing { .. })
            && matches!(erasures.get(erasure.user_key()), Some(Erasure::Erased(_)));
        if !receipt_stays {
            erasures.insert(erasure.user_key().clone(), erasure.clone());
        }
        Ok(())
    }

    async fn erasures(&self, limit: usize, after: Option<UserKey>) -> Result<Page<Erasure, UserKey>, StoreError> {
        let items: Vec<Erasure> = self
            .erasure_items()
            .iter()
            .filter(|(key, _)| after.as_ref().is_none_or(|after| *key > after))
            .take(limit + 1)
            .map(|(_, erasure)| erasure.clone())
            .collect();
        Ok(Page::from_overfetch(items, limit, |erasure| erasure.user_key().clone()))
    }
}

/// The erasure log as this store holds it, for the contract's check that it keeps no personal data.
#[async_trait]
impl contract::StoredErasures for MemoryStore {
    async fn stored_erasures(&self) -> Vec<String> {
        self.erasure_items().iter().map(|(key, erasure)| format!("{key}: {erasure:?}")).collect()
    }
}

/// Removes up to `limit` of the user's entries of `map` (keyed by user first); how many went.
fn remove_some<K: Ord + Clone, V>(
    map: &mut BTreeMap<K, V>,
    limit: usize,
    owner: impl Fn(&K) -> &UserId,
    user: &UserId,
) -> usize {
    let doomed: Vec<K> = map.keys().filter(|key| owner(key) == user).take(limit).cloned().collect();
    for key in &doomed {
        map.remove(key);
    }
    doomed.len()
}

#[async_trait]
impl UserEraser for MemoryStore {
    async fn erase_some(&self, user: &UserId, what: UserData, limit: usize) -> Result<usize, StoreError> {
        Ok(match what {
            UserData::Connections => remove_some(&mut self.connections(), limit, |key| &key.0, user),
            UserData::Events => remove_some(&mut self.events(), limit, |key| &key.0, user),
            UserData::Todos => remove_some(&mut self.rows(), limit, |key| &key.0, user),
            UserData::Stats => remove_some(&mut self.fact_rows(), limit, |key| &key.0, user),
            UserData::Snapshots => remove_some(&mut self.snapshots(), limit, |key| &key.0, user),
        })
    }
}
