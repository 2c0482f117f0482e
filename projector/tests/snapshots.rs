//! The projector's list snapshots: taken when enough events have settled since the last one, never
//! from a timeline that misses a version, and past lists resumed from them equal full folds.

use std::sync::Arc;

use events_schema::{Event, EventMetadata, Timestamp, TodoCreated, TodoEvent, TodoId, TodoUpdated, UserId};
use projector::Projector;
use projector::snapshots::{CHECK_ONE_IN, MIN_EVENTS_BETWEEN, Outcome, checks, take_if_due};
use queries::past::list_as_of;
use todo_platform::store::memory::MemoryStore;
use todo_platform::store::{EventLog, SNAPSHOT_MARGIN, SnapshotStore, StatusFilter};

fn user() -> UserId {
    UserId::parse("ann-snapshots").unwrap()
}

fn at(minutes_ago: i64) -> Timestamp {
    let now = Timestamp::parse("2026-11-29T12:00:00Z").unwrap();
    Timestamp::from_datetime(now.as_datetime() - chrono::Duration::minutes(minutes_ago))
}

fn now() -> Timestamp {
    at(0)
}

fn event(todo: usize, version: u64, occurred_at: Timestamp, event_id: uuid::Uuid) -> Event {
    let payload = match version {
        1 => TodoEvent::Created(TodoCreated { title: format!("todo {todo}"), notes: None }),
        n => TodoEvent::Updated(TodoUpdated { title: Some(format!("todo {todo}, edit {n}")), ..Default::default() }),
    };
    Event {
        user_id: user(),
        todo_id: TodoId::from_uuid(uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | todo as u128)),
        version,
        event_id,
        occurred_at,
        payload,
        metadata: EventMetadata::default(),
        chain: None,
    }
}

/// `count` events over 20 todos, one a minute, the last `minutes_ago` before [`now`].
fn history(count: usize, minutes_ago: i64) -> Vec<Event> {
    let mut versions = [0u64; 20];
    (0..count)
        .map(|i| {
            let todo = i % 20;
            versions[todo] += 1;
            event(todo, versions[todo], at(minutes_ago + (count - 1 - i) as i64), uuid::Uuid::now_v7())
        })
        .collect()
}

async fn store_with(events: &[Event]) -> MemoryStore {
    let store = MemoryStore::new();
    for event in events {
        store.append(std::slice::from_ref(event)).await.unwrap();
    }
    store
}

async fn list(
    store: &MemoryStore,
    snapshots: Option<&dyn SnapshotStore>,
    at: Timestamp,
) -> Vec<events_schema::TodoItem> {
    list_as_of(store, snapshots, &user(), at, StatusFilter::All, 100, None).await.unwrap().items
}

#[tokio::test]
async fn a_snapshot_is_taken_once_enough_settled_events_follow_the_last() {
    let settled = MIN_EVENTS_BETWEEN as usize + 40;
    let mut events = history(settled, 10);
    // Two stamped inside the margin: earlier-stamped events may still be on their way.
    for (i, minutes_ago) in [1, 0].into_iter().enumerate() {
        events.push(event(20 + i, 1, at(minutes_ago), uuid::Uuid::now_v7()));
    }
    let store = store_with(&events).await;

    let outcome = take_if_due(&store, &store, &user(), now()).await.unwrap();
    assert_eq!(outcome, Outcome::Taken { at: events[settled - 1].occurred_at, events: settled as u64 });
    let snapshot = store.latest_snapshot(&user(), now()).await.unwrap().unwrap();
    assert_eq!(snapshot.events, settled as u64, "the events inside the margin wait");
    assert!(snapshot.at.as_datetime() <= now().as_datetime() - SNAPSHOT_MARGIN);
    assert_eq!(snapshot.todos.len(), 20);

    // Past lists resumed from it are the full folds, at, before and after its instant.
    for instant in [at(400), events[100].occurred_at, snapshot.at, at(5), at(1), now()] {
        assert_eq!(list(&store, Some(&store), instant).await, list(&store, None, instant).await, "as of {instant}");
    }

    // Not again until another MIN_EVENTS_BETWEEN events have settled (the two have, by then).
    let later = Timestamp::from_datetime(now().as_datetime() + SNAPSHOT_MARGIN + chrono::Duration::minutes(1));
    let outcome = take_if_due(&store, &store, &user(), later).await.unwrap();
    assert_eq!(outcome, Outcome::NotDue { new: 2, needed: MIN_EVENTS_BETWEEN });
}

#[tokio::test]
async fn a_timeline_missing_a_version_gives_no_snapshot() {
    let mut events = history(MIN_EVENTS_BETWEEN as usize + 40, 10);
    // Todo 3's second event is not in the timeline (yet): its third must not be folded over it.
    let missing = events.iter().position(|e| e.version == 2 && e.todo_id == events[3].todo_id).unwrap();
    events.remove(missing);
    let store = store_with(&events).await;
    assert_eq!(take_if_due(&store, &store, &user(), now()).await.unwrap(), Outcome::Gap);
    assert_eq!(store.latest_snapshot(&user(), now()).await.unwrap(), None);
}

#[tokio::test]
async fn the_projector_takes_snapshots_as_events_flow_and_only_on_checking_events() {
    let store = Arc::new(MemoryStore::new());
    let projector = Projector::new(store.clone(), store.clone()).with_snapshots(store.clone(), store.clone());
    // Hours old (a backlog), so every event has settled; every 50th event checks.
    let mut events = history(MIN_EVENTS_BETWEEN as usize * 2, 24 * 60);
    for (i, event) in events.iter_mut().enumerate() {
        let checking = (i + 1) % 50 == 0;
        let low = if checking { 0 } else { 1 };
        event.event_id = uuid::Uuid::from_u128(
            (event.event_id.as_u128() / u128::from(CHECK_ONE_IN)) * u128::from(CHECK_ONE_IN) + low,
        );
        assert_eq!(checks(event), checking);
    }
    for event in &events {
        store.append(std::slice::from_ref(event)).await.unwrap();
        projector.apply_logged(event).await.unwrap();
    }
    // The checks after events 200 and 400 (of 400) found enough new ones; the others too few.
    let latest = store.latest_snapshot(&user(), events.last().unwrap().occurred_at).await.unwrap().unwrap();
    assert_eq!(latest.events, MIN_EVENTS_BETWEEN * 2);
    let first = store.latest_snapshot(&user(), events[398].occurred_at).await.unwrap().unwrap();
    assert_eq!(first.events, MIN_EVENTS_BETWEEN);
    let instant = events.last().unwrap().occurred_at;
    assert_eq!(list(&store, Some(store.as_ref()), instant).await, list(&store, None, instant).await);
}
