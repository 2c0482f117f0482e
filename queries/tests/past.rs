//! Past states are folds of the event table: for any history of creates, edits, completions,
//! reopenings and deletions, the list as of any instant (and each todo as of any instant or
//! version) equals the fold of the events up to it, whatever the page size, and whatever list
//! snapshots the fold resumes from (taken while some events were still being written).

use events_schema::{
    Changes, Command, Context, Event, EventMetadata, Timestamp, Title, Todo, TodoEvent, TodoId, TodoItem, UserId,
    decide, evolve, fold,
};
use proptest::prelude::*;
use queries::past::{Moment, NoPastState, list_as_of, todo_at};
use todo_platform::store::memory::MemoryStore;
use todo_platform::store::{EventLog, ListCursor, ListFold, SnapshotStore, StatusFilter};

#[derive(Debug, Clone)]
enum Op {
    Create(usize),
    Rename(usize, u8),
    Complete(usize),
    Reopen(usize),
    Delete(usize),
}

fn op() -> impl Strategy<Value = (Op, u8)> {
    let todo = 0..4usize;
    let op = prop_oneof![
        todo.clone().prop_map(Op::Create),
        (todo.clone(), any::<u8>()).prop_map(|(t, n)| Op::Rename(t, n)),
        todo.clone().prop_map(Op::Complete),
        todo.clone().prop_map(Op::Reopen),
        todo.prop_map(Op::Delete),
    ];
    // The step before the op: 0 (events of different todos share an instant), 1 ms, or 3 minutes
    // (longer than a snapshot's margin).
    (op, 0u8..3)
}

fn todo_id(index: usize) -> TodoId {
    TodoId::from_uuid(uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | index as u128))
}

fn user() -> UserId {
    UserId::parse("ann").unwrap()
}

/// The events a sequence of ops produces through the domain's own `decide`.
fn history(ops: &[(Op, u8)]) -> Vec<Event> {
    let mut states: Vec<(Todo, Timestamp)> =
        vec![(Todo::NotCreated, Timestamp::parse("2026-11-29T10:00:00Z").unwrap()); 4];
    let mut now = Timestamp::parse("2026-11-29T10:00:00Z").unwrap();
    let mut events = Vec::new();
    for (op, step) in ops {
        let step = match step {
            0 => chrono::Duration::zero(),
            1 => chrono::Duration::milliseconds(1),
            _ => chrono::Duration::minutes(3),
        };
        now = Timestamp::from_datetime(now.as_datetime() + step);
        let (index, command) = match op {
            Op::Create(i) => (*i, Command::Create { title: Title::parse(&format!("todo {i}")).unwrap(), notes: None }),
            Op::Rename(i, n) => (
                *i,
                Command::Update(Changes {
                    title: Some(Title::parse(&format!("renamed {n}")).unwrap()),
                    ..Default::default()
                }),
            ),
            Op::Complete(i) => (*i, Command::Complete),
            Op::Reopen(i) => (*i, Command::Update(Changes { completed: Some(false), ..Default::default() })),
            Op::Delete(i) => (*i, Command::Delete),
        };
        let (state, last_at) = &mut states[index];
        let Ok(decided) = decide(state, command, &Context::default()) else { continue };
        for payload in decided {
            // A todo's events have strictly increasing times, as commands make them.
            let at = if now > *last_at { now } else { last_at.next() };
            let event = Event {
                user_id: user(),
                todo_id: todo_id(index),
                version: state.version() + 1,
                event_id: uuid::Uuid::now_v7(),
                occurred_at: at,
                payload: payload as TodoEvent,
                metadata: EventMetadata::default(),
                chain: None,
            };
            *state = evolve(std::mem::take(state), &event);
            *last_at = at;
            events.push(event);
        }
    }
    events
}

/// What the list as of `at` must be: each todo's events up to `at`, folded; live ones, by id.
fn expected_list(events: &[Event], at: Timestamp, status: StatusFilter) -> Vec<TodoItem> {
    (0..4)
        .filter_map(|i| {
            let mine: Vec<&Event> = events.iter().filter(|e| e.todo_id == todo_id(i) && e.occurred_at <= at).collect();
            fold(mine).live().filter(|item| status.admits(item)).cloned()
        })
        .collect()
}

async fn whole_list(
    store: &MemoryStore,
    snapshots: Option<&dyn SnapshotStore>,
    at: Timestamp,
    status: StatusFilter,
    page: usize,
) -> Vec<TodoItem> {
    let mut items = Vec::new();
    let mut after: Option<ListCursor> = None;
    loop {
        let found = list_as_of(store, snapshots, &user(), at, status, page, after).await.unwrap();
        assert!(found.items.len() <= page);
        items.extend(found.items);
        after = found.next;
        if after.is_none() {
            return items;
        }
    }
}

/// Every instant worth asking about: each event's, a microsecond before it, and after the last.
fn instants(events: &[Event]) -> Vec<Timestamp> {
    let mut at: Vec<Timestamp> = vec![Timestamp::parse("2026-11-29T09:00:00Z").unwrap()];
    for event in events {
        let t = event.occurred_at.as_datetime() - chrono::Duration::microseconds(1);
        at.push(Timestamp::from_datetime(t));
        at.push(event.occurred_at);
    }
    at.push(Timestamp::parse("2026-11-30T12:00:00Z").unwrap());
    at
}

async fn check(events: Vec<Event>) {
    let store = MemoryStore::new();
    for event in &events {
        store.append(std::slice::from_ref(event)).await.unwrap();
    }
    for at in instants(&events) {
        for status in [StatusFilter::All, StatusFilter::Active, StatusFilter::Completed] {
            let expected = expected_list(&events, at, status);
            for page in [1, 2, 50] {
                assert_eq!(
                    whole_list(&store, None, at, status, page).await,
                    expected,
                    "list as of {at}, {status:?}, page {page}"
                );
            }
        }
        for i in 0..4 {
            let mine: Vec<&Event> = events.iter().filter(|e| e.todo_id == todo_id(i) && e.occurred_at <= at).collect();
            let got = todo_at(&store, &user(), &todo_id(i), Moment::AsOf(at)).await.unwrap();
            match fold(mine) {
                Todo::Live(item) => assert_eq!(got, Ok(item)),
                Todo::Deleted(item) => {
                    assert_eq!(got, Err(NoPastState::Deleted { at: item.updated_at, version: item.version }))
                }
                Todo::NotCreated => {
                    assert!(matches!(got, Err(NoPastState::NotYetCreated { .. } | NoPastState::Unknown)), "{got:?}")
                }
            }
        }
    }
    for i in 0..4 {
        let mine: Vec<&Event> = events.iter().filter(|e| e.todo_id == todo_id(i)).collect();
        if mine.is_empty() {
            assert_eq!(
                todo_at(&store, &user(), &todo_id(i), Moment::Version(1)).await.unwrap(),
                Err(NoPastState::Unknown)
            );
            continue;
        }
        for version in 1..=mine.len() as u64 + 1 {
            let got = todo_at(&store, &user(), &todo_id(i), Moment::Version(version)).await.unwrap();
            if version > mine.len() as u64 {
                assert_eq!(got, Err(NoPastState::NoSuchVersion { current: mine.len() as u64 }));
                continue;
            }
            match fold(mine.iter().copied().filter(|e| e.version <= version)) {
                Todo::Live(item) => assert_eq!(got, Ok(item)),
                other => assert!(matches!(got, Err(NoPastState::Deleted { .. })), "{other:?} {got:?}"),
            }
        }
    }
}

/// Takes a snapshot at each cut (an event's instant), as the projector would have taken it then:
/// from the events visible at that moment, resuming from the latest earlier snapshot. `in_flight`
/// marks todos whose last event up to the cut was stamped in the minute before it and was still
/// being written (not visible yet); it becomes visible afterwards, as a late event does.
async fn take_snapshots(store: &MemoryStore, events: &[Event], cuts: &[(prop::sample::Index, u8)]) {
    let mut cuts: Vec<(Timestamp, u8)> =
        cuts.iter().map(|(index, in_flight)| (events[index.index(events.len())].occurred_at, *in_flight)).collect();
    cuts.sort();
    for (cut, in_flight) in cuts {
        let visible = MemoryStore::new();
        for i in 0..4 {
            let mine: Vec<Event> =
                events.iter().filter(|e| e.todo_id == todo_id(i) && e.occurred_at <= cut).cloned().collect();
            let late = in_flight & (1 << i) != 0
                && mine
                    .last()
                    .is_some_and(|e| e.occurred_at.as_datetime() > cut.as_datetime() - chrono::Duration::minutes(1));
            let shown = if late { &mine[..mine.len() - 1] } else { &mine[..] };
            for event in shown {
                visible.append(std::slice::from_ref(event)).await.unwrap();
            }
        }
        let previous = store.latest_snapshot(&user(), cut).await.unwrap();
        let fold = ListFold::read(&visible, &user(), previous, Some(cut), &|_| true).await.unwrap();
        if let Some(snapshot) = fold.snapshot(&user()) {
            store.put_snapshot(&snapshot).await.unwrap();
        }
    }
}

async fn check_with_snapshots(events: Vec<Event>, cuts: Vec<(prop::sample::Index, u8)>) {
    let store = MemoryStore::new();
    for event in &events {
        store.append(std::slice::from_ref(event)).await.unwrap();
    }
    if !events.is_empty() {
        take_snapshots(&store, &events, &cuts).await;
    }
    for at in instants(&events) {
        for status in [StatusFilter::All, StatusFilter::Active, StatusFilter::Completed] {
            let expected = expected_list(&events, at, status);
            for page in [1, 50] {
                assert_eq!(
                    whole_list(&store, Some(&store), at, status, page).await,
                    expected,
                    "list as of {at} from snapshots, {status:?}, page {page}"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_past_list_is_the_fold_of_the_events_up_to_that_instant(ops in proptest::collection::vec(op(), 1..40)) {
        let events = history(&ops);
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(check(events));
    }

    #[test]
    fn a_past_list_resumed_from_snapshots_is_the_same_fold(
        ops in proptest::collection::vec(op(), 1..40),
        cuts in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    ) {
        let events = history(&ops);
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(check_with_snapshots(events, cuts));
    }
}

#[tokio::test]
async fn another_users_events_never_show_in_a_past_list() {
    let events = history(&[(Op::Create(0), 1), (Op::Rename(0, 1), 1)]);
    let store = MemoryStore::new();
    store.append(&events[..1]).await.unwrap();
    let mut bobs = events[1].clone();
    bobs.user_id = UserId::parse("bob").unwrap();
    bobs.todo_id = todo_id(3);
    bobs.version = 1;
    bobs.payload = events[0].payload.clone();
    store.append(&[bobs]).await.unwrap();
    let at = Timestamp::parse("2026-11-29T12:00:00Z").unwrap();
    let anns = list_as_of(&store, None, &user(), at, StatusFilter::All, 50, None).await.unwrap();
    assert_eq!(anns.items.iter().map(|i| i.id).collect::<Vec<_>>(), vec![todo_id(0)]);
    assert_eq!(todo_at(&store, &user(), &todo_id(3), Moment::AsOf(at)).await.unwrap(), Err(NoPastState::Unknown));
}
