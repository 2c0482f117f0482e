//! Whatever the stream does — duplicate, reorder, skip ahead — the read model and the stats
//! projection converge to the fold of each item's events; and replay builds the same projections as
//! incremental projection, also as a backfill of a projection that was switched off.

use std::sync::Arc;

use events_schema::{
    Changes, Command, Context, Event, EventMetadata, Notes, Timestamp, Title, Todo, TodoId, UserId, decide, evolve,
    fold,
};
use projector::Projector;
use projector::job::Projection;
use projector::replay::{ReplayOptions, Stores, replay};
use proptest::prelude::*;
use todo_platform::live::{LiveMessage, LiveSink};
use todo_platform::store::memory::MemoryStore;
use todo_platform::store::{EventLog, ProjectionStore, StatsStore, TodoFacts};

#[derive(Debug, Clone)]
enum Step {
    Rename(u8),
    Notes(u8),
    Complete,
    Reopen,
    Delete,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => any::<u8>().prop_map(Step::Rename),
        2 => any::<u8>().prop_map(Step::Notes),
        3 => Just(Step::Complete),
        2 => Just(Step::Reopen),
        1 => Just(Step::Delete),
    ]
}

fn command(step: &Step) -> Command {
    let title = |n: u8| Title::parse(&format!("title {n}")).expect("title");
    match step {
        Step::Rename(n) => Command::Update(Changes { title: Some(title(*n)), ..Changes::default() }),
        Step::Notes(n) => {
            let notes = Notes::parse(&if n % 3 == 0 { String::new() } else { format!("notes {n}") }).expect("notes");
            Command::Update(Changes { notes: Some(notes), ..Changes::default() })
        }
        Step::Complete => Command::Complete,
        Step::Reopen => Command::Update(Changes { completed: Some(false), ..Changes::default() }),
        Step::Delete => Command::Delete,
    }
}

/// The events a user's commands produce for one todo, decided one after the other.
fn history(user: &UserId, todo: TodoId, steps: &[Step], start_second: u32) -> Vec<Event> {
    let mut state = Todo::NotCreated;
    let mut events = Vec::new();
    let create = Command::Create { title: Title::parse("first").expect("title"), notes: None };
    let mut at = Timestamp::from_datetime(a_day_ago() + chrono::Duration::seconds(i64::from(start_second % 60)));
    for command in std::iter::once(create).chain(steps.iter().map(command)) {
        let Ok(payloads) = decide(&state, command, &Context::default()) else { continue };
        for payload in payloads {
            at = at.next();
            let event = Event {
                user_id: user.clone(),
                todo_id: todo,
                version: state.version() + 1,
                event_id: uuid::Uuid::now_v7(),
                occurred_at: at,
                payload,
                metadata: EventMetadata::default(),
                chain: None,
            };
            state = evolve(state, &event);
            events.push(event);
        }
    }
    events
}

/// A few todos of two users, and a delivery: every event at least once, some twice or more, in
/// any order.
fn scenario() -> impl Strategy<Value = (Vec<Vec<Event>>, Vec<usize>)> {
    prop::collection::vec(prop::collection::vec(step(), 0..12), 1..4)
        .prop_map(|todos| {
            todos
                .iter()
                .enumerate()
                .map(|(n, steps)| {
                    let user = UserId::parse(if n % 2 == 0 { "ann" } else { "bob" }).expect("user");
                    let todo =
                        TodoId::from_uuid(uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 + n as u128));
                    history(&user, todo, steps, n as u32 * 7)
                })
                .collect::<Vec<_>>()
        })
        .prop_flat_map(|histories| {
            let total: usize = histories.iter().map(Vec::len).sum();
            let everything = Just((0..total).collect::<Vec<_>>());
            let duplicates = prop::collection::vec(0..total, 0..total.max(1) * 2);
            (Just(histories), everything, duplicates).prop_flat_map(|(histories, all, extra)| {
                let mut delivery = all;
                delivery.extend(extra);
                (Just(histories), Just(delivery).prop_shuffle())
            })
        })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_delivery_converges_to_the_fold((histories, delivery) in scenario()) {
        runtime().block_on(async {
            let store = Arc::new(MemoryStore::new());
            let all: Vec<&Event> = histories.iter().flatten().collect();
            for history in &histories {
                store.append(history).await.expect("append");
            }
            let projector = Projector::new(store.clone(), store.clone()).with_stats(store.clone());
            for index in &delivery {
                projector.apply(all[*index]).await.expect("apply");
            }
            for history in &histories {
                let first = &history[0];
                let projected = store.state(&first.user_id, &first.todo_id).await.expect("state");
                prop_assert_eq!(projected, fold(history));
                let facts = store.facts(&first.user_id, &first.todo_id).await.expect("facts");
                prop_assert_eq!(
                    facts.map(|f| (f.created_at, f.completed_at, f.deleted)),
                    TodoFacts::of(&fold(history)).map(|f| (f.created_at, f.completed_at, f.deleted)),
                    "the stats converge to the facts of the fold"
                );
            }

            // Replay into an empty read model builds exactly what incremental projection built.
            let rebuilt = Arc::new(MemoryStore::new());
            for history in &histories {
                rebuilt.append(history).await.expect("append");
            }
            let options = ReplayOptions { page_size: 3, projection: Projection::All, ..ReplayOptions::default() };
            let report = replay(Stores::of(rebuilt.as_ref()), &options, |_| {}).await.expect("replay");
            prop_assert_eq!(report.events as usize, all.len());
            prop_assert_eq!(report.drift_count, 0);
            for history in &histories {
                let first = &history[0];
                prop_assert_eq!(
                    rebuilt.state(&first.user_id, &first.todo_id).await.expect("state"),
                    store.state(&first.user_id, &first.todo_id).await.expect("state")
                );
                prop_assert_eq!(figures(&rebuilt, first).await, figures(&store, first).await);
            }
            let verify = ReplayOptions { verify: true, ..options };
            let verified = replay(Stores::of(rebuilt.as_ref()), &verify, |_| {}).await.expect("verify");
            prop_assert_eq!(verified.drift_count, 0);
            // Incrementally maintained stats rows lag behind renames, which verify does not call drift.
            let incremental = replay(Stores::of(store.as_ref()), &verify, |_| {}).await.expect("verify");
            prop_assert_eq!(incremental.drift_count, 0, "{:?}", incremental.drift);
            Ok(())
        })?;
    }
}

/// What the projector handed to live updates: (user, row before, row after), in call order.
#[derive(Default)]
struct Pushes(std::sync::Mutex<Vec<(UserId, Todo, Todo)>>);

impl LiveSink for Pushes {
    fn changed(&self, user: &UserId, before: &Todo, after: &Todo) {
        self.0.lock().expect("pushes").push((user.clone(), before.clone(), after.clone()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Whatever the delivery, each todo's pushes go to its owner, chain row to row (each starts
    /// from the row the previous one wrote), move its version forward, and end at the fold: a
    /// session that applies them shows what the read model holds.
    #[test]
    fn live_updates_follow_the_read_model((histories, delivery) in scenario()) {
        runtime().block_on(async {
            let store = Arc::new(MemoryStore::new());
            let all: Vec<&Event> = histories.iter().flatten().collect();
            for history in &histories {
                store.append(history).await.expect("append");
            }
            let pushes = Arc::new(Pushes::default());
            let projector = Projector::new(store.clone(), store.clone()).with_live(pushes.clone());
            for index in &delivery {
                projector.apply(all[*index]).await.expect("apply");
            }
            let pushes = pushes.0.lock().expect("pushes").clone();
            for history in &histories {
                let first = &history[0];
                let mine: Vec<&(UserId, Todo, Todo)> =
                    pushes.iter().filter(|(_, _, after)| after.item().map(|i| i.id) == Some(first.todo_id)).collect();
                prop_assert!(!mine.is_empty(), "the todo was written, so it was pushed");
                prop_assert!(mine.iter().all(|(user, _, _)| user == &first.user_id), "only to the todo's owner");
                prop_assert_eq!(&mine[0].1, &Todo::NotCreated);
                for pair in mine.windows(2) {
                    prop_assert_eq!(&pair[0].2, &pair[1].1, "each push starts from the row the last one wrote");
                }
                for (_, before, after) in &mine {
                    let message = LiveMessage::between(before, after);
                    prop_assert_eq!(message.map(|m| m.version), Some(after.version()), "every push is a message");
                }
                prop_assert_eq!(&mine[mine.len() - 1].2, &fold(history));
            }
            Ok(())
        })?;
    }
}

/// A todo's stats figures, without the version (which lags behind renames by design).
async fn figures(store: &MemoryStore, event: &Event) -> Option<(Timestamp, Option<Timestamp>, bool)> {
    let facts = store.facts(&event.user_id, &event.todo_id).await.expect("facts");
    facts.map(|f| (f.created_at, f.completed_at, f.deleted))
}

#[tokio::test]
async fn a_late_older_event_never_resurrects_a_deleted_todo() {
    let store = Arc::new(MemoryStore::new());
    let user = UserId::parse("ann").expect("user");
    let todo = TodoId::from_uuid(uuid::Uuid::now_v7());
    let events = history(&user, todo, &[Step::Rename(1), Step::Delete], 0);
    store.append(&events).await.expect("append");
    let projector = Projector::new(store.clone(), store.clone());

    projector.apply(&events[2]).await.expect("apply the delete first");
    projector.apply(&events[0]).await.expect("a late create");
    projector.apply(&events[1]).await.expect("a late rename");
    assert!(matches!(store.state(&user, &todo).await.expect("state"), Todo::Deleted(_)));
}

#[tokio::test]
async fn a_rebuild_writes_page_by_page_and_never_regresses_a_row_ahead_of_its_events() {
    let store = MemoryStore::new();
    let (ann, bob) = (UserId::parse("ann").expect("user"), UserId::parse("bob").expect("user"));
    let histories: Vec<Vec<Event>> = (0..5u32)
        .map(|n| {
            let user = if n % 2 == 0 { &ann } else { &bob };
            history(user, TodoId::from_uuid(uuid::Uuid::now_v7()), &[Step::Rename(n as u8), Step::Complete], n)
        })
        .collect();
    for history in &histories {
        store.append(history).await.expect("append");
    }
    // A row claiming a version its events do not reach, and a row no event backs.
    let ahead = &histories[1];
    let mut claimed = fold(ahead);
    if let Todo::Live(item) = &mut claimed {
        item.version += 5;
    }
    store.put(&bob, &claimed, todo_platform::store::WriteGuard::NewerOnly).await.expect("put");
    let orphan = history(&ann, TodoId::from_uuid(uuid::Uuid::now_v7()), &[], 9);
    store.put(&ann, &fold(&orphan), todo_platform::store::WriteGuard::NewerOnly).await.expect("put");

    let options = ReplayOptions { page_size: 2, ..ReplayOptions::default() };
    let report = replay(Stores::of(&store), &options, |_| {}).await.expect("replay");

    assert_eq!(report.events, 15);
    assert_eq!((report.todos, report.written, report.removed), (5, 4, 1));
    assert_eq!(report.drift_count, 1, "{report:?}");
    let drift = &report.drift[0];
    assert_eq!((drift.user.clone(), drift.todo), (bob.clone(), ahead[0].todo_id));
    assert!(matches!(drift.kind, projector::replay::DriftKind::Differs { row_version: 8, events_version: 3 }));
    assert_eq!(store.state(&bob, &ahead[0].todo_id).await.expect("state"), claimed, "kept, not regressed");
    for history in histories.iter().filter(|h| h[0].todo_id != ahead[0].todo_id) {
        let first = &history[0];
        assert_eq!(store.state(&first.user_id, &first.todo_id).await.expect("state"), fold(history));
    }
    assert_eq!(store.state(&ann, &orphan[0].todo_id).await.expect("state"), Todo::NotCreated, "orphan removed");
}

/// The stats projection added to a system that has run without it: the projector kept only the
/// read model; `replay --projection stats` backfills the stats from the events, and they equal the
/// stats of a system that maintained them incrementally from the start.
#[tokio::test]
async fn a_backfilled_stats_projection_equals_an_incrementally_maintained_one() {
    let (ann, bob) = (UserId::parse("ann").expect("user"), UserId::parse("bob").expect("user"));
    let histories: Vec<Vec<Event>> = (0..9u32)
        .map(|n| {
            let user = if n % 3 == 0 { &bob } else { &ann };
            let steps = match n % 4 {
                0 => vec![Step::Complete],
                1 => vec![Step::Rename(1), Step::Complete, Step::Reopen, Step::Complete],
                2 => vec![Step::Complete, Step::Delete],
                _ => vec![Step::Notes(2)],
            };
            history(user, TodoId::from_uuid(uuid::Uuid::now_v7()), &steps, n * 5)
        })
        .collect();
    let without_stats = Arc::new(MemoryStore::new());
    let with_stats = Arc::new(MemoryStore::new());
    let before_stats = Projector::new(without_stats.clone(), without_stats.clone());
    let incremental = Projector::new(with_stats.clone(), with_stats.clone()).with_stats(with_stats.clone());
    for history in &histories {
        without_stats.append(history).await.expect("append");
        with_stats.append(history).await.expect("append");
        for event in history {
            before_stats.apply(event).await.expect("apply");
            incremental.apply(event).await.expect("apply");
        }
    }
    assert!(without_stats.user_facts(&ann).await.expect("facts").is_empty(), "switched off: nothing yet");

    let options = ReplayOptions { projection: Projection::Stats, page_size: 4, ..ReplayOptions::default() };
    let verify = ReplayOptions { verify: true, ..options.clone() };
    let missing = replay(Stores::of(without_stats.as_ref()), &verify, |_| {}).await.expect("verify");
    assert_eq!(missing.drift_count, 9, "every todo's stats are missing before the backfill");
    let report = replay(Stores::of(without_stats.as_ref()), &options, |_| {}).await.expect("backfill");
    assert_eq!((report.todos, report.written, report.drift_count), (9, 9, 0));
    for user in [&ann, &bob] {
        let strip = |facts: Vec<TodoFacts>| -> Vec<_> {
            facts.into_iter().map(|f| (f.todo_id, f.created_at, f.completed_at, f.deleted)).collect()
        };
        assert_eq!(
            strip(without_stats.user_facts(user).await.expect("facts")),
            strip(with_stats.user_facts(user).await.expect("facts")),
            "backfilled = incremental for {user}"
        );
    }
    let clean = replay(Stores::of(without_stats.as_ref()), &verify, |_| {}).await.expect("verify");
    assert_eq!(clean.drift_count, 0);
}

/// A day ago, to the second: histories start there, recent enough that no tombstone's TTL (7 days
/// after its deletion) has passed, which DynamoDB Local would act on in the middle of a test.
fn a_day_ago() -> chrono::DateTime<chrono::Utc> {
    static START: std::sync::LazyLock<chrono::DateTime<chrono::Utc>> = std::sync::LazyLock::new(|| {
        let now = chrono::Utc::now() - chrono::Duration::days(1);
        now - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&now)))
    });
    *START
}
