//! The store contract: what every adapter must do, as one suite of checks. The in-memory and
//! DynamoDB adapters run it in this crate's tests, the local stack's SQLite store in its own, so
//! "works on SQLite" means "works on DynamoDB". Each check starts from an empty store.
//!
//! The list snapshot checks ([`SNAPSHOT_CHECKS`], [`run_snapshot_check`]) are a suite of their
//! own, on any [`SnapshotStore`]; so are the live connection checks ([`CONNECTION_CHECKS`],
//! [`run_connection_check`]), on any [`ConnectionStore`]; so are the account erasure checks
//! ([`ERASURE_CHECKS`], [`run_erasure_check`]), on an [`ErasureLog`] and the stores it erases.

use events_schema::{
    Event, EventMetadata, EventRecord, Timestamp, Todo, TodoCompleted, TodoCreated, TodoDeleted, TodoEvent, TodoId,
    TodoUpdated, UserId, fold,
};

use async_trait::async_trait;

use super::*;

/// Everything a full adapter implements.
pub trait FullStore: EventLog + EventTimeline + EventScan + ReadModel + ProjectionStore + StatsStore {}
impl<T: EventLog + EventTimeline + EventScan + ReadModel + ProjectionStore + StatsStore> FullStore for T {}

/// The checks, by name, for a test per check.
pub const CHECKS: &[&str] = &[
    "appended_events_load_in_version_order",
    "append_is_conditional_and_atomic",
    "user_history_is_in_time_order_and_paginates",
    "scan_groups_todos_in_version_order",
    "sealed_events_keep_their_chain_as_stored",
    "projection_writes_are_version_guarded",
    "many_rows_are_written_with_each_ones_guard",
    "read_model_hides_tombstones_filters_and_paginates",
    "rows_can_be_scanned_and_removed",
    "segments_split_every_scan_without_overlap",
    "stats_facts_are_version_guarded_and_kept_per_user",
];

/// Runs one check by name against an empty store.
pub async fn run(check: &str, store: &dyn FullStore) {
    match check {
        "appended_events_load_in_version_order" => appended_events_load_in_version_order(store).await,
        "append_is_conditional_and_atomic" => append_is_conditional_and_atomic(store).await,
        "user_history_is_in_time_order_and_paginates" => user_history_is_in_time_order_and_paginates(store).await,
        "scan_groups_todos_in_version_order" => scan_groups_todos_in_version_order(store).await,
        "sealed_events_keep_their_chain_as_stored" => sealed_events_keep_their_chain_as_stored(store).await,
        "projection_writes_are_version_guarded" => projection_writes_are_version_guarded(store).await,
        "many_rows_are_written_with_each_ones_guard" => many_rows_are_written_with_each_ones_guard(store).await,
        "read_model_hides_tombstones_filters_and_paginates" => {
            read_model_hides_tombstones_filters_and_paginates(store).await
        }
        "rows_can_be_scanned_and_removed" => rows_can_be_scanned_and_removed(store).await,
        "segments_split_every_scan_without_overlap" => segments_split_every_scan_without_overlap(store).await,
        "stats_facts_are_version_guarded_and_kept_per_user" => {
            stats_facts_are_version_guarded_and_kept_per_user(store).await
        }
        other => panic!("no contract check named {other}"),
    }
}

/// The list snapshot checks, by name: a suite of their own, for every adapter that implements
/// [`SnapshotStore`] (`run_snapshot_check`).
pub const SNAPSHOT_CHECKS: &[&str] = &[
    "no_snapshot_before_the_first_or_of_another_user",
    "the_latest_snapshot_at_or_before_the_instant_is_found",
    "a_snapshot_of_the_same_instant_is_replaced",
    "a_large_snapshot_round_trips_exactly",
];

/// Runs one list snapshot check by name against an empty store.
pub async fn run_snapshot_check(check: &str, store: &dyn SnapshotStore) {
    match check {
        "no_snapshot_before_the_first_or_of_another_user" => {
            no_snapshot_before_the_first_or_of_another_user(store).await
        }
        "the_latest_snapshot_at_or_before_the_instant_is_found" => {
            the_latest_snapshot_at_or_before_the_instant_is_found(store).await
        }
        "a_snapshot_of_the_same_instant_is_replaced" => a_snapshot_of_the_same_instant_is_replaced(store).await,
        "a_large_snapshot_round_trips_exactly" => a_large_snapshot_round_trips_exactly(store).await,
        other => panic!("no snapshot contract check named {other}"),
    }
}

/// The live connection checks, by name: a suite of their own, for every adapter that implements
/// [`ConnectionStore`] (`run_connection_check`).
pub const CONNECTION_CHECKS: &[&str] =
    &["connections_are_listed_per_user_until_removed", "connections_past_their_lifetime_are_not_listed"];

/// Runs one live connection check by name against an empty store.
pub async fn run_connection_check(check: &str, store: &dyn ConnectionStore) {
    match check {
        "connections_are_listed_per_user_until_removed" => connections_are_listed_per_user_until_removed(store).await,
        "connections_past_their_lifetime_are_not_listed" => connections_past_their_lifetime_are_not_listed(store).await,
        other => panic!("no connection contract check named {other}"),
    }
}

fn user(name: &str) -> UserId {
    UserId::parse(name).expect("valid user")
}

fn todo(n: u128) -> TodoId {
    // Time-ordered like UUIDv7 so that id order is creation order.
    TodoId::from_uuid(uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | n))
}

fn at(second: u32) -> Timestamp {
    Timestamp::from_datetime(a_day_ago() + chrono::Duration::seconds(i64::from(second)))
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

fn event(user_id: &UserId, todo_id: TodoId, version: u64, second: u32, payload: TodoEvent) -> Event {
    Event {
        user_id: user_id.clone(),
        todo_id,
        version,
        event_id: uuid::Uuid::now_v7(),
        occurred_at: at(second),
        payload,
        metadata: EventMetadata {
            request_id: Some(format!("req-{version}")),
            actor: Some("tester".into()),
            source_ip: None,
            trace_id: None,
        },
        chain: None,
    }
}

fn created(title: &str) -> TodoEvent {
    TodoEvent::Created(TodoCreated { title: title.into(), notes: Some(format!("notes of {title}")) })
}

fn renamed(title: &str) -> TodoEvent {
    TodoEvent::Updated(TodoUpdated { title: Some(title.into()), notes: None, completed: None })
}

fn completed() -> TodoEvent {
    TodoEvent::Completed(TodoCompleted { title: "done".into() })
}

fn deleted() -> TodoEvent {
    TodoEvent::Deleted(TodoDeleted { title: "gone".into() })
}

async fn append(store: &dyn FullStore, events: &[Event]) {
    store.append(events).await.expect("append");
}

async fn appended_events_load_in_version_order(store: &dyn FullStore) {
    let (ann, bob) = (user("ann"), user("bob"));
    let history = vec![
        event(&ann, todo(1), 1, 1, created("a")),
        event(&ann, todo(1), 2, 2, renamed("b")),
        event(&ann, todo(1), 3, 3, completed()),
    ];
    append(store, &history[..1]).await;
    append(store, &history[1..]).await;
    append(store, &[event(&ann, todo(2), 1, 4, created("other"))]).await;

    let loaded = store.load(&ann, &todo(1)).await.expect("load");
    assert_eq!(loaded, history, "an item's events come back whole, in version order");
    assert!(store.load(&bob, &todo(1)).await.expect("load").is_empty(), "another user's todo id loads nothing");
    assert!(store.load(&ann, &todo(3)).await.expect("load").is_empty());

    assert!(store.has_events(&ann, &todo(1)).await.expect("has_events"));
    assert!(store.has_events(&ann, &todo(2)).await.expect("has_events"));
    assert!(!store.has_events(&ann, &todo(3)).await.expect("has_events"), "a todo with no events has none");
    assert!(!store.has_events(&bob, &todo(1)).await.expect("has_events"), "another user's todo id is not theirs");
}

async fn append_is_conditional_and_atomic(store: &dyn FullStore) {
    let ann = user("ann");
    append(store, &[event(&ann, todo(1), 1, 1, created("a"))]).await;

    let duplicate = store.append(&[event(&ann, todo(1), 1, 2, created("z"))]).await;
    assert!(matches!(duplicate, Err(AppendError::Conflict)), "a taken version is a conflict");

    let half_new = [event(&ann, todo(1), 2, 3, renamed("b")), event(&ann, todo(1), 1, 3, created("c"))];
    assert!(matches!(store.append(&half_new).await, Err(AppendError::Conflict)));
    let loaded = store.load(&ann, &todo(1)).await.expect("load");
    assert_eq!(loaded.len(), 1, "a failed multi-event append writes none of its events");
    assert_eq!(fold(&loaded).live().map(|t| t.title.as_str()), Some("a"));

    // Same versions for another user or another todo are no conflict.
    append(store, &[event(&user("bob"), todo(1), 1, 4, created("a"))]).await;
    append(store, &[event(&ann, todo(2), 1, 5, created("a"))]).await;
}

async fn user_history_is_in_time_order_and_paginates(store: &dyn FullStore) {
    let (ann, bob) = (user("ann"), user("bob"));
    // Appended out of time order across todos, interleaved with another user's events.
    append(store, &[event(&ann, todo(2), 1, 2, created("second"))]).await;
    append(store, &[event(&ann, todo(1), 1, 1, created("first"))]).await;
    append(store, &[event(&bob, todo(3), 1, 3, created("bob's"))]).await;
    append(store, &[event(&ann, todo(1), 2, 4, completed()), event(&ann, todo(1), 3, 5, deleted())]).await;
    append(store, &[event(&ann, todo(2), 2, 6, renamed("second!"))]).await;

    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = store.user_history(&ann, None, 2, cursor).await.expect("history");
        assert!(page.items.len() <= 2, "a page holds at most `limit` events");
        seen.extend(page.items.iter().map(|e| (e.todo_id, e.version)));
        pages += 1;
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
        assert!(pages < 10, "pagination must end");
    }
    assert_eq!(
        seen,
        vec![(todo(1), 1), (todo(2), 1), (todo(1), 2), (todo(1), 3), (todo(2), 2)],
        "only the user's events, oldest first, each once"
    );
    let bobs = store.user_history(&bob, None, 10, None).await.expect("history");
    assert_eq!(bobs.items.len(), 1);
    assert_eq!(bobs.next, None);

    // Up to an instant (lists as of a moment): that instant's own events included.
    let mut until = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.user_history(&ann, Some(at(4)), 2, cursor).await.expect("history until");
        until.extend(page.items.iter().map(|e| (e.todo_id, e.version)));
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(until, vec![(todo(1), 1), (todo(2), 1), (todo(1), 2)], "events up to the instant, in time order");
    let before = store.user_history(&ann, Some(at(0)), 10, None).await.expect("history until");
    assert!(before.items.is_empty() && before.next.is_none());
}

async fn sealed_events_keep_their_chain_as_stored(store: &dyn FullStore) {
    let ann = user("ann");
    let first = event(&ann, todo(1), 1, 1, created("a")).sealed(events_schema::GENESIS_HASH);
    let second = event(&ann, todo(1), 2, 2, renamed("b")).sealed(&first.chain.as_ref().expect("sealed").hash);
    let legacy = event(&ann, todo(2), 1, 3, created("before hashing"));
    append(store, std::slice::from_ref(&first)).await;
    append(store, std::slice::from_ref(&second)).await;
    append(store, std::slice::from_ref(&legacy)).await;

    assert_eq!(store.load(&ann, &todo(1)).await.expect("load"), vec![first.clone(), second.clone()]);
    assert_eq!(store.load(&ann, &todo(2)).await.expect("load"), vec![legacy.clone()], "no chain, none invented");
    let records = store.scan_records(Scope::User(&ann), 10, None).await.expect("scan records");
    let records: Vec<EventRecord> = records.items.into_iter().map(|r| r.expect("readable")).collect();
    assert_eq!(records, vec![first.to_record(), second.to_record(), legacy.to_record()], "exactly as appended");
    assert_eq!(records[1].prev_hash, records[0].hash, "linked");
    assert_eq!(events_schema::integrity::record_hash(&records[1]), records[1].hash.clone().expect("hash"));
}

async fn scan_groups_todos_in_version_order(store: &dyn FullStore) {
    let (ann, bob) = (user("ann"), user("bob"));
    append(store, &[event(&ann, todo(1), 1, 1, created("a"))]).await;
    append(store, &[event(&bob, todo(2), 1, 2, created("b"))]).await;
    append(store, &[event(&ann, todo(3), 1, 3, created("c"))]).await;
    append(store, &[event(&ann, todo(1), 2, 4, completed())]).await;
    append(store, &[event(&bob, todo(2), 2, 5, renamed("bb"))]).await;

    async fn scan_all(store: &dyn FullStore, user: Option<&UserId>) -> Vec<(UserId, TodoId, u64)> {
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = store.scan(user.into(), 2, cursor).await.expect("scan");
            seen.extend(page.items.iter().map(|e| (e.user_id.clone(), e.todo_id, e.version)));
            cursor = page.next;
            if cursor.is_none() {
                return seen;
            }
        }
    }
    let everything = scan_all(store, None).await;
    assert_eq!(everything.len(), 5, "every event exactly once");
    for window in everything.windows(2) {
        let (a, b) = (&window[0], &window[1]);
        if (&a.0, a.1) == (&b.0, b.1) {
            assert_eq!(a.2 + 1, b.2, "an item's events are consecutive and in version order");
        }
    }
    let mut items: Vec<_> = everything.iter().map(|(u, t, _)| (u.clone(), *t)).collect();
    items.dedup();
    assert_eq!(items.len(), 3, "each todo's events form one run");

    let anns = scan_all(store, Some(&ann)).await;
    assert_eq!(anns, vec![(ann.clone(), todo(1), 1), (ann.clone(), todo(1), 2), (ann.clone(), todo(3), 1)]);
}

async fn projection_writes_are_version_guarded(store: &dyn FullStore) {
    let ann = user("ann");
    let history = vec![
        event(&ann, todo(1), 1, 1, created("a")),
        event(&ann, todo(1), 2, 2, renamed("b")),
        event(&ann, todo(1), 3, 3, deleted()),
    ];
    let v1 = fold(&history[..1]);
    let v2 = fold(&history[..2]);
    let v3 = fold(&history);

    assert_eq!(store.state(&ann, &todo(1)).await.expect("state"), Todo::NotCreated);
    assert!(store.put(&ann, &v2, WriteGuard::NewerOnly).await.expect("put"));
    assert!(
        !store.put(&ann, &v1, WriteGuard::NewerOnly).await.expect("put"),
        "an older state never replaces a newer one"
    );
    assert!(!store.put(&ann, &v2, WriteGuard::NewerOnly).await.expect("put"), "the same version is not redone");
    assert_eq!(store.state(&ann, &todo(1)).await.expect("state"), v2);

    let mut drifted = v2.clone();
    if let Todo::Live(item) = &mut drifted {
        item.title = "tampered".into();
    }
    assert!(store.put(&ann, &drifted, WriteGuard::NotOlder).await.expect("put"), "replay may rewrite the same version");
    assert!(store.put(&ann, &v2, WriteGuard::NotOlder).await.expect("put"));
    assert!(!store.put(&ann, &v1, WriteGuard::NotOlder).await.expect("put"), "replay never regresses a row");

    assert!(store.put(&ann, &v3, WriteGuard::NewerOnly).await.expect("put"));
    assert_eq!(store.state(&ann, &todo(1)).await.expect("state"), v3, "a tombstone round-trips with its fields");
    assert!(!store.put(&ann, &Todo::NotCreated, WriteGuard::NotOlder).await.expect("put"));
    assert_eq!(store.state(&user("bob"), &todo(1)).await.expect("state"), Todo::NotCreated);
}

async fn many_rows_are_written_with_each_ones_guard(store: &dyn FullStore) {
    let (ann, bob) = (user("ann"), user("bob"));
    let history =
        |who: &UserId, n: u128| vec![event(who, todo(n), 1, 1, created("a")), event(who, todo(n), 2, 2, renamed("b"))];
    let (one, two, three) = (history(&ann, 1), history(&ann, 2), history(&bob, 3));
    assert!(store.put(&ann, &fold(&two), WriteGuard::NewerOnly).await.expect("put"));

    let batch = vec![
        (ann.clone(), fold(&one)),
        (ann.clone(), fold(&two[..1])),
        (bob.clone(), fold(&three)),
        (bob.clone(), Todo::NotCreated),
    ];
    let written = store.put_many(&batch, WriteGuard::NotOlder).await.expect("put_many");
    assert_eq!(written, vec![true, false, true, false], "one answer per row, in order; a newer row is kept");
    assert_eq!(store.state(&ann, &todo(1)).await.expect("state"), fold(&one));
    assert_eq!(store.state(&ann, &todo(2)).await.expect("state"), fold(&two), "never regressed");
    assert_eq!(store.state(&bob, &todo(3)).await.expect("state"), fold(&three));
    assert_eq!(store.put_many(&[], WriteGuard::NewerOnly).await.expect("put_many"), Vec::<bool>::new());
}

async fn read_model_hides_tombstones_filters_and_paginates(store: &dyn FullStore) {
    let (ann, bob) = (user("ann"), user("bob"));
    for n in 1..=7u128 {
        let second = n as u32;
        let mut history = vec![event(&ann, todo(n), 1, second, created(&format!("todo {n}")))];
        if n % 2 == 0 {
            history.push(event(&ann, todo(n), 2, second + 10, completed()));
        }
        if n == 5 {
            history.push(event(&ann, todo(n), 2, second + 10, deleted()));
        }
        store.put(&ann, &fold(&history), WriteGuard::NewerOnly).await.expect("put");
    }
    store.put(&bob, &fold(&[event(&bob, todo(8), 1, 1, created("bob's"))]), WriteGuard::NewerOnly).await.expect("put");

    assert!(store.get(&ann, &todo(5)).await.expect("get").is_none(), "a tombstone is hidden");
    assert!(store.get(&bob, &todo(1)).await.expect("get").is_none(), "another user's todo is invisible");
    let got = store.get(&ann, &todo(1)).await.expect("get").expect("todo 1");
    assert_eq!(got.title, "todo 1");
    assert_eq!(got.notes.as_deref(), Some("notes of todo 1"));

    async fn list_all(store: &dyn FullStore, user: &UserId, status: StatusFilter, limit: usize) -> Vec<TodoId> {
        let mut ids = Vec::new();
        let mut cursor = None;
        loop {
            let page = store.list(user, status, limit, cursor).await.expect("list");
            assert!(page.items.len() <= limit);
            if page.next.is_some() {
                assert_eq!(page.items.len(), limit, "only the last page may be short");
            }
            ids.extend(page.items.iter().map(|t| t.id));
            cursor = page.next;
            if cursor.is_none() {
                return ids;
            }
        }
    }
    assert_eq!(
        list_all(store, &ann, StatusFilter::All, 2).await,
        vec![todo(1), todo(2), todo(3), todo(4), todo(6), todo(7)]
    );
    assert_eq!(list_all(store, &ann, StatusFilter::Active, 2).await, vec![todo(1), todo(3), todo(7)]);
    assert_eq!(list_all(store, &ann, StatusFilter::Completed, 1).await, vec![todo(2), todo(4), todo(6)]);
    assert_eq!(list_all(store, &ann, StatusFilter::All, 100).await.len(), 6);
    assert_eq!(list_all(store, &bob, StatusFilter::All, 100).await, vec![todo(8)]);
}

async fn rows_can_be_scanned_and_removed(store: &dyn FullStore) {
    let (ann, bob) = (user("ann"), user("bob"));
    for (owner, n) in [(&ann, 1), (&ann, 2), (&bob, 3)] {
        store
            .put(owner, &fold(&[event(owner, todo(n), 1, 1, created("x"))]), WriteGuard::NewerOnly)
            .await
            .expect("put");
    }
    store
        .put(
            &ann,
            &fold(&[event(&ann, todo(4), 1, 1, created("x")), event(&ann, todo(4), 2, 2, deleted())]),
            WriteGuard::NewerOnly,
        )
        .await
        .expect("put");

    async fn scan_keys(store: &dyn FullStore, user: Option<&UserId>) -> Vec<(UserId, TodoId)> {
        let mut keys = Vec::new();
        let mut cursor = None;
        loop {
            let page = store.scan_rows(user.into(), 1, cursor).await.expect("scan rows");
            keys.extend(page.items.iter().map(Row::key));
            cursor = page.next;
            if cursor.is_none() {
                keys.sort();
                return keys;
            }
        }
    }
    assert_eq!(scan_keys(store, None).await.len(), 4, "tombstones are rows too");
    assert_eq!(
        scan_keys(store, Some(&ann)).await,
        vec![(ann.clone(), todo(1)), (ann.clone(), todo(2)), (ann.clone(), todo(4))]
    );

    store.remove(&ann, &todo(2)).await.expect("remove");
    assert_eq!(store.state(&ann, &todo(2)).await.expect("state"), Todo::NotCreated);
    assert_eq!(scan_keys(store, None).await.len(), 3);
}

async fn segments_split_every_scan_without_overlap(store: &dyn FullStore) {
    let users: Vec<UserId> = (0..12).map(|n| user(&format!("user-{n}"))).collect();
    for (n, owner) in users.iter().enumerate() {
        let id = todo(n as u128 + 1);
        append(store, &[event(owner, id, 1, n as u32, created("a")), event(owner, id, 2, n as u32 + 1, renamed("b"))])
            .await;
        let state = fold(&[event(owner, id, 1, n as u32, created("a"))]);
        assert!(store.put(owner, &state, WriteGuard::NewerOnly).await.expect("put"));
        let facts = TodoFacts::of(&state).expect("facts");
        assert!(store.put_facts(owner, &facts, WriteGuard::NewerOnly).await.expect("put facts"));
    }
    let total = 3;
    let mut events_seen = Vec::new();
    let mut rows_seen = Vec::new();
    let mut facts_seen = Vec::new();
    for index in 0..total {
        let segment = Segment::new(index, total).expect("a segment");
        let mut cursor = None;
        let mut mine = Vec::new();
        loop {
            let page = store.scan(Scope::Segment(segment), 5, cursor).await.expect("scan a segment");
            mine.extend(page.items.iter().map(|e| (e.user_id.clone(), e.todo_id, e.version)));
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        for window in mine.windows(2) {
            if (&window[0].0, window[0].1) == (&window[1].0, window[1].1) {
                assert_eq!(window[0].2 + 1, window[1].2, "a todo's events stay consecutive within a segment");
            }
        }
        events_seen.extend(mine);
        let mut cursor = None;
        loop {
            let page = store.scan_rows(Scope::Segment(segment), 5, cursor).await.expect("scan rows of a segment");
            rows_seen.extend(page.items.iter().map(Row::key));
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        let mut cursor = None;
        loop {
            let page = store.scan_facts(Scope::Segment(segment), 5, cursor).await.expect("scan facts of a segment");
            facts_seen.extend(page.items.iter().map(|(u, f)| (u.clone(), f.todo_id)));
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
    }
    events_seen.sort();
    let before = events_seen.len();
    events_seen.dedup();
    assert_eq!(before, events_seen.len(), "no event in two segments");
    assert_eq!(events_seen.len(), 24, "every event in some segment");
    rows_seen.sort();
    rows_seen.dedup();
    assert_eq!(rows_seen.len(), 12, "every row in exactly one segment");
    facts_seen.sort();
    facts_seen.dedup();
    assert_eq!(facts_seen.len(), 12, "every stats row in exactly one segment");
    assert!(Segment::new(3, 3).is_err() && Segment::new(0, 0).is_err(), "segments are 0..total, total >= 1");
}

async fn stats_facts_are_version_guarded_and_kept_per_user(store: &dyn FullStore) {
    let (ann, bob) = (user("ann"), user("bob"));
    let history = [
        event(&ann, todo(1), 1, 1, created("a")),
        event(&ann, todo(1), 2, 2, completed()),
        event(&ann, todo(1), 3, 3, deleted()),
    ];
    let facts = |n: usize| TodoFacts::of(&fold(&history[..n])).expect("facts");
    assert_eq!(store.facts(&ann, &todo(1)).await.expect("facts"), None);
    assert!(store.put_facts(&ann, &facts(2), WriteGuard::NewerOnly).await.expect("put"));
    assert!(!store.put_facts(&ann, &facts(1), WriteGuard::NewerOnly).await.expect("put"), "never regress");
    assert!(!store.put_facts(&ann, &facts(2), WriteGuard::NewerOnly).await.expect("put"), "never redo");
    assert!(store.put_facts(&ann, &facts(2), WriteGuard::NotOlder).await.expect("put"), "replay may rewrite");
    assert_eq!(store.facts(&ann, &todo(1)).await.expect("facts"), Some(facts(2)));
    assert!(facts(2).completed_at.is_some(), "a completed todo's completion time is kept");

    let written = store
        .put_many_facts(&[(ann.clone(), facts(3)), (bob.clone(), facts(1))], WriteGuard::NotOlder)
        .await
        .expect("put many");
    assert_eq!(written, vec![true, true]);
    assert_eq!(store.user_facts(&ann).await.expect("user facts"), vec![facts(3)], "a deleted todo's facts stay");
    assert!(facts(3).deleted && facts(3).completed_at.is_some());
    assert_eq!(store.user_facts(&bob).await.expect("user facts").len(), 1);
    assert!(store.user_facts(&user("carol")).await.expect("user facts").is_empty());

    store.remove_facts(&ann, &todo(1)).await.expect("remove");
    assert_eq!(store.facts(&ann, &todo(1)).await.expect("facts"), None);
    let all = store.scan_facts(Scope::All, 10, None).await.expect("scan");
    assert_eq!(all.items.iter().map(|(u, _)| u.clone()).collect::<Vec<_>>(), vec![bob.clone()]);
}

// ------------------------------------------------------------------------------- list snapshots

fn micros(at: Timestamp, micros: i64) -> Timestamp {
    Timestamp::from_datetime(at.as_datetime() + chrono::Duration::microseconds(micros))
}

/// A snapshot of `todos` todos (ids 1..=todos, the fold of their events up to `second`), every
/// third completed, every seventh deleted, with `notes` characters of notes (none when 0) that
/// mix one- to four-byte characters.
fn list_snapshot(owner: &UserId, second: u32, todos: u128, notes: usize) -> ListSnapshot {
    let pattern: Vec<char> = "abc é ü — 日本 🦀 \"quoted\" \\ tab\t".chars().collect();
    let states = (1..=todos)
        .map(|n| {
            let notes = (notes > 0).then(|| pattern.iter().cycle().skip(n as usize).take(notes).collect::<String>());
            let mut history = vec![event(
                owner,
                todo(n),
                1,
                second,
                TodoEvent::Created(TodoCreated { title: format!("todo {n} ✓"), notes }),
            )];
            if n % 3 == 0 {
                history.push(event(owner, todo(n), 2, second, completed()));
            }
            if n % 7 == 0 {
                history.push(event(owner, todo(n), history.len() as u64 + 1, second, deleted()));
            }
            fold(&history)
        })
        .collect();
    ListSnapshot { user: owner.clone(), at: at(second), events: u64::from(second) * 10 + todos as u64, todos: states }
}

async fn put(store: &dyn SnapshotStore, snapshot: &ListSnapshot) {
    store.put_snapshot(snapshot).await.expect("put a snapshot");
}

async fn latest(store: &dyn SnapshotStore, owner: &UserId, at: Timestamp) -> Option<ListSnapshot> {
    store.latest_snapshot(owner, at).await.expect("latest snapshot")
}

async fn no_snapshot_before_the_first_or_of_another_user(store: &dyn SnapshotStore) {
    let (ann, anna, bob) = (user("ann"), user("anna"), user("bob"));
    assert_eq!(latest(store, &ann, at(100)).await, None, "no snapshot before any was taken");

    let anns = list_snapshot(&ann, 20, 2, 10);
    put(store, &anns).await;
    put(store, &list_snapshot(&anna, 10, 3, 10)).await;
    assert_eq!(latest(store, &bob, at(100)).await, None, "another user's snapshot is not theirs");
    assert_eq!(latest(store, &ann, micros(at(20), -1)).await, None, "none before the user's first snapshot");
    assert_eq!(
        latest(store, &ann, at(15)).await,
        None,
        "a user whose id extends another's never gets the other's snapshot"
    );
    assert_eq!(latest(store, &ann, at(100)).await, Some(anns));
}

async fn the_latest_snapshot_at_or_before_the_instant_is_found(store: &dyn SnapshotStore) {
    let (ann, bob) = (user("ann"), user("bob"));
    let (first, second, third) =
        (list_snapshot(&ann, 10, 1, 5), list_snapshot(&ann, 20, 2, 5), list_snapshot(&ann, 30, 3, 5));
    let bobs = list_snapshot(&bob, 25, 4, 5);
    // Stored out of order, another user's in between.
    for snapshot in [&third, &first, &bobs, &second] {
        put(store, snapshot).await;
    }

    assert_eq!(latest(store, &ann, micros(at(10), -1)).await, None, "none before the first");
    assert_eq!(latest(store, &ann, at(10)).await.as_ref(), Some(&first), "the instant itself is included");
    assert_eq!(latest(store, &ann, micros(at(20), -1)).await.as_ref(), Some(&first), "a microsecond before the next");
    assert_eq!(latest(store, &ann, at(20)).await.as_ref(), Some(&second));
    assert_eq!(latest(store, &ann, at(25)).await.as_ref(), Some(&second), "another user's snapshot is passed over");
    assert_eq!(latest(store, &ann, micros(at(30), 1)).await.as_ref(), Some(&third));
    assert_eq!(latest(store, &ann, at(3000)).await.as_ref(), Some(&third), "the latest of all, long after it");
    assert_eq!(latest(store, &bob, at(20)).await, None);
    assert_eq!(latest(store, &bob, at(30)).await, Some(bobs));
}

async fn a_snapshot_of_the_same_instant_is_replaced(store: &dyn SnapshotStore) {
    let ann = user("ann");
    let earlier = list_snapshot(&ann, 10, 2, 5);
    put(store, &earlier).await;

    let small = list_snapshot(&ann, 20, 3, 5);
    put(store, &small).await;
    let other = ListSnapshot { events: small.events + 4, ..list_snapshot(&ann, 20, 5, 20) };
    put(store, &other).await;
    assert_eq!(
        latest(store, &ann, at(20)).await.as_ref(),
        Some(&other),
        "the second put of an instant replaces the first"
    );

    // A large one replaced by a small one: nothing of the large one is left in the answer.
    let large = list_snapshot(&ann, 20, 3_000, 300);
    put(store, &large).await;
    assert_eq!(latest(store, &ann, at(20)).await.as_ref(), Some(&large));
    put(store, &small).await;
    assert_eq!(latest(store, &ann, at(20)).await.as_ref(), Some(&small), "a smaller snapshot replaces a larger one");
    assert_eq!(latest(store, &ann, at(25)).await.as_ref(), Some(&small));
    assert_eq!(latest(store, &ann, at(15)).await, Some(earlier), "another instant's snapshot is left as it was");
}

async fn a_large_snapshot_round_trips_exactly(store: &dyn SnapshotStore) {
    let ann = user("ann");
    let large = list_snapshot(&ann, 20, 3_000, 300);
    let encoded = ListSnapshot::encode_todos(&large.todos).expect("encode").len();
    assert!(encoded > 1_000_000, "the snapshot is over 1 MB encoded ({encoded} bytes)");
    assert!(large.todos.iter().any(|t| matches!(t, Todo::Deleted(_))), "deleted todos are part of it");
    assert!(large.todos.iter().any(|t| t.live().is_some_and(|item| item.completed_at.is_some())));

    put(store, &large).await;
    let read = latest(store, &ann, at(20)).await.expect("the snapshot");
    assert_eq!(read.todos.len(), large.todos.len(), "every todo comes back");
    assert_eq!(read, large, "every todo comes back as it was, deleted ones included, in order");
}

// ------------------------------------------------------------------------------- live connections

fn connection(owner: &UserId, id: &str, second: u32) -> Connection {
    Connection { user: owner.clone(), id: ConnectionId::parse(id).expect("a connection id"), connected_at: at(second) }
}

async fn connection_ids(store: &dyn ConnectionStore, owner: &UserId, now: Timestamp) -> Vec<String> {
    let listed = store.user_connections(owner, now).await.expect("list connections");
    assert!(listed.iter().all(|c| &c.user == owner), "only the user's own connections are listed");
    listed.iter().map(|c| c.id.to_string()).collect()
}

async fn connections_are_listed_per_user_until_removed(store: &dyn ConnectionStore) {
    let (ann, anna, bob) = (user("ann"), user("anna"), user("bob"));
    let now = at(100);
    assert!(connection_ids(store, &ann, now).await.is_empty(), "no connection before any was made");

    let first = connection(&ann, "Zx1QdcuMoAMCIxw=", 1);
    for made in [&first, &connection(&ann, "AbC-9_dcuMoAMC=", 2), &connection(&anna, "anna0001=", 3)] {
        store.put_connection(made).await.expect("put a connection");
    }
    store.put_connection(&connection(&bob, "bob00001=", 4)).await.expect("put a connection");
    store.put_connection(&first).await.expect("recording a connection again");

    assert_eq!(connection_ids(store, &ann, now).await, ["AbC-9_dcuMoAMC=", "Zx1QdcuMoAMCIxw="], "in id order, once");
    let listed = store.user_connections(&ann, now).await.expect("list connections");
    assert_eq!(listed.last(), Some(&first), "a connection comes back as it was recorded");
    assert_eq!(connection_ids(store, &bob, now).await, ["bob00001="]);
    assert_eq!(connection_ids(store, &anna, now).await, ["anna0001="], "a user whose id extends another's");
    assert!(connection_ids(store, &user("carol"), now).await.is_empty());

    store.remove_connection(&ann, &first.id).await.expect("remove a connection");
    assert_eq!(connection_ids(store, &ann, now).await, ["AbC-9_dcuMoAMC="]);
    store.remove_connection(&ann, &first.id).await.expect("removing it again is no error");
    let bobs = ConnectionId::parse("bob00001=").expect("a connection id");
    store.remove_connection(&ann, &bobs).await.expect("removing under another user is no error");
    assert_eq!(connection_ids(store, &bob, now).await, ["bob00001="], "nobody removes another user's connection");
}

async fn connections_past_their_lifetime_are_not_listed(store: &dyn ConnectionStore) {
    let ann = user("ann");
    let (early, late) = (connection(&ann, "early000=", 0), connection(&ann, "late0000=", 600));
    store.put_connection(&early).await.expect("put a connection");
    store.put_connection(&late).await.expect("put a connection");
    let after = |made: &Connection, lifetime: chrono::Duration, micros: i64| {
        Timestamp::from_datetime(made.connected_at.as_datetime() + lifetime + chrono::Duration::microseconds(micros))
    };
    assert_eq!(early.expires_at(), after(&early, CONNECTION_LIFETIME, 0), "API Gateway's two hours");
    assert_eq!(
        connection_ids(store, &ann, after(&early, CONNECTION_LIFETIME, -1)).await,
        ["early000=", "late0000="],
        "open until its lifetime is over"
    );
    assert_eq!(
        connection_ids(store, &ann, after(&early, CONNECTION_LIFETIME, 0)).await,
        ["late0000="],
        "API Gateway has closed it by then, whatever became of its $disconnect"
    );
    assert!(connection_ids(store, &ann, after(&late, chrono::Duration::hours(3), 0)).await.is_empty());
}

// ------------------------------------------------------------------------------- account erasure

/// Every store an erasure deletes from, read back through the ports that show what is left.
pub trait ErasableStore: EventLog + EventScan + ProjectionStore + StatsStore + SnapshotStore + UserEraser {}
impl<T: EventLog + EventScan + ProjectionStore + StatsStore + SnapshotStore + UserEraser> ErasableStore for T {}

/// An erasure log read below its port: every item exactly as the adapter stores it (DynamoDB's raw
/// items, SQLite's rows), as text, for the check that it holds no personal data.
#[async_trait]
pub trait StoredErasures: Send + Sync {
    async fn stored_erasures(&self) -> Vec<String>;
}

/// The account erasure checks, by name: a suite of their own (`run_erasure_check`).
pub const ERASURE_CHECKS: &[&str] = &[
    "beginning_an_erasure_is_idempotent",
    "progress_is_recorded_then_the_receipt",
    "a_receipt_is_never_replaced_by_progress",
    "erasures_page_through_every_one",
    "the_erasure_log_holds_no_user_id",
    "each_kind_is_erased_in_pages_and_only_the_users",
];

/// Runs one account erasure check by name against empty stores: `log` and what it stores
/// (`stored`), and the stores `data` and `connections` (`None` for a store without live
/// connections, whose eraser must then find none).
pub async fn run_erasure_check(
    check: &str,
    log: &dyn ErasureLog,
    stored: &dyn StoredErasures,
    data: &dyn ErasableStore,
    connections: Option<&dyn ConnectionStore>,
) {
    match check {
        "beginning_an_erasure_is_idempotent" => beginning_an_erasure_is_idempotent(log).await,
        "progress_is_recorded_then_the_receipt" => progress_is_recorded_then_the_receipt(log).await,
        "a_receipt_is_never_replaced_by_progress" => a_receipt_is_never_replaced_by_progress(log).await,
        "erasures_page_through_every_one" => erasures_page_through_every_one(log).await,
        "the_erasure_log_holds_no_user_id" => the_erasure_log_holds_no_user_id(log, stored).await,
        "each_kind_is_erased_in_pages_and_only_the_users" => {
            each_kind_is_erased_in_pages_and_only_the_users(data, connections).await
        }
        other => panic!("no erasure contract check named {other}"),
    }
}

fn counts(events: u64, todos: u64, stats: u64, snapshots: u64, connections: u64) -> ErasedCounts {
    ErasedCounts { events, todos, stats, snapshots, connections }
}

fn erasing(key: &UserKey, second: u32, request_id: &str, erased: ErasedCounts) -> Erasure {
    Erasure::Erasing { user_key: key.clone(), requested_at: at(second), request_id: request_id.into(), erased }
}

fn erased(key: &UserKey, second: u32, done: u32, request_id: &str, erased: ErasedCounts) -> Erasure {
    Erasure::Erased(ErasureReceipt {
        user_key: key.clone(),
        requested_at: at(second),
        erased_at: at(done),
        request_id: request_id.into(),
        erased,
    })
}

async fn stored_erasure(log: &dyn ErasureLog, key: &UserKey) -> Option<Erasure> {
    log.erasure(key).await.expect("read an erasure")
}

async fn record(log: &dyn ErasureLog, erasure: &Erasure) {
    log.record_erasure(erasure).await.expect("record an erasure");
}

async fn beginning_an_erasure_is_idempotent(log: &dyn ErasureLog) {
    let key = ErasureKey::generate();
    let (ann, bob) = (key.user_key(&user("ann")), key.user_key(&user("bob")));
    assert_eq!(stored_erasure(log, &ann).await, None, "nothing before an erasure is asked for");

    let first = log.begin_erasure(&ann, at(1), "req-first").await.expect("begin");
    assert_eq!(first, erasing(&ann, 1, "req-first", ErasedCounts::default()));
    let again = log.begin_erasure(&ann, at(5), "req-again").await.expect("begin again");
    assert_eq!(again, first, "a repeated request gets the first one's time and request id");
    assert_eq!(stored_erasure(log, &ann).await, Some(first), "read consistently, as begun");
    assert_eq!(stored_erasure(log, &bob).await, None, "another user is not marked");

    let receipt = erased(&ann, 1, 9, "req-first", counts(3, 2, 2, 1, 1));
    record(log, &receipt).await;
    let late = log.begin_erasure(&ann, at(20), "req-late").await.expect("begin after the receipt");
    assert_eq!(late, receipt, "asked again after it is done: the receipt, unchanged");
    assert_eq!(stored_erasure(log, &ann).await, Some(receipt));
}

async fn progress_is_recorded_then_the_receipt(log: &dyn ErasureLog) {
    let key = ErasureKey::generate();
    let (ann, bob) = (key.user_key(&user("ann")), key.user_key(&user("bob")));
    log.begin_erasure(&ann, at(1), "req-1").await.expect("begin");
    log.begin_erasure(&bob, at(2), "req-2").await.expect("begin");

    let halfway = erasing(&ann, 1, "req-1", counts(1_000, 0, 0, 0, 3));
    record(log, &halfway).await;
    assert_eq!(stored_erasure(log, &ann).await, Some(halfway));
    let further = erasing(&ann, 1, "req-1", counts(100_000, 250, 250, 7, 3));
    record(log, &further).await;
    assert_eq!(stored_erasure(log, &ann).await, Some(further), "progress replaces progress");

    let receipt = erased(&ann, 1, 30, "req-1", counts(100_000, 300, 300, 8, 3));
    record(log, &receipt).await;
    assert_eq!(stored_erasure(log, &ann).await, Some(receipt.clone()), "the receipt as recorded");
    let Some(Erasure::Erased(read)) = stored_erasure(log, &ann).await else { panic!("a receipt") };
    assert_eq!((read.requested_at, read.erased_at, read.erased.events), (at(1), at(30), 100_000));
    assert_eq!(
        stored_erasure(log, &bob).await,
        Some(erasing(&bob, 2, "req-2", ErasedCounts::default())),
        "another user's erasure is its own"
    );
}

async fn a_receipt_is_never_replaced_by_progress(log: &dyn ErasureLog) {
    let key = ErasureKey::generate();
    let ann = key.user_key(&user("ann"));
    log.begin_erasure(&ann, at(1), "req-1").await.expect("begin");
    let receipt = erased(&ann, 1, 10, "req-1", counts(5, 2, 2, 1, 0));
    record(log, &receipt).await;

    // A slower run of the same erasure reports its progress after another run finished.
    record(log, &erasing(&ann, 1, "req-1", counts(3, 0, 0, 0, 0))).await;
    assert_eq!(stored_erasure(log, &ann).await, Some(receipt.clone()), "the receipt stays");
    record(log, &erasing(&ann, 1, "req-2", ErasedCounts::default())).await;
    assert_eq!(stored_erasure(log, &ann).await, Some(receipt.clone()), "whatever the progress says");

    record(log, &receipt).await;
    assert_eq!(stored_erasure(log, &ann).await, Some(receipt), "recording the receipt again changes nothing");
}

async fn erasures_page_through_every_one(log: &dyn ErasureLog) {
    let first = log.erasures(10, None).await.expect("list erasures");
    assert!(first.items.is_empty() && first.next.is_none(), "an empty log lists nothing");

    let key = ErasureKey::generate();
    let mut expected = Vec::new();
    for n in 0..7u32 {
        let user_key = key.user_key(&user(&format!("user-{n}")));
        let begun = log.begin_erasure(&user_key, at(n), &format!("req-{n}")).await.expect("begin");
        let erasure = match n % 2 {
            0 => erased(&user_key, n, n + 100, &format!("req-{n}"), counts(u64::from(n), 1, 1, 0, 0)),
            _ => begun,
        };
        record(log, &erasure).await;
        expected.push(erasure);
    }

    let mut listed = Vec::new();
    let mut cursor = None;
    for _ in 0..expected.len() + 2 {
        let page = log.erasures(3, cursor).await.expect("list erasures");
        assert!(page.items.len() <= 3, "a page holds at most the limit");
        listed.extend(page.items);
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert!(cursor.is_none(), "the pages end");
    let by_key = |erasures: &mut Vec<Erasure>| erasures.sort_by(|a, b| a.user_key().cmp(b.user_key()));
    by_key(&mut listed);
    by_key(&mut expected);
    assert_eq!(listed, expected, "every erasure once, markers and receipts, as stored");

    let all = log.erasures(100, None).await.expect("list erasures");
    assert_eq!(all.items.len(), 7);
    assert_eq!(all.next, None, "a page that holds everything is the last");
}

async fn the_erasure_log_holds_no_user_id(log: &dyn ErasureLog, stored: &dyn StoredErasures) {
    // Cognito subs, as the API sees users.
    let (ann, bob) = (user("0c5b6a3e-8f21-4d7a-9b4e-2f6d1c8a7e90"), user("d2e4f6a8-1b3c-4d5e-8f70-a1b2c3d4e5f6"));
    let key = ErasureKey::generate();
    let (ann_key, bob_key) = (key.user_key(&ann), key.user_key(&bob));
    log.begin_erasure(&ann_key, at(1), "req-ann").await.expect("begin");
    record(log, &erasing(&ann_key, 1, "req-ann", counts(10, 4, 4, 1, 2))).await;
    record(log, &erased(&ann_key, 1, 5, "req-ann", counts(12, 4, 4, 1, 2))).await;
    log.begin_erasure(&bob_key, at(2), "req-bob").await.expect("begin");

    let items = stored.stored_erasures().await;
    assert_eq!(items.len(), 2, "one item per erasure: {items:?}");
    for (item, key) in items.iter().zip(sorted([&ann_key, &bob_key])) {
        assert!(item.contains(key.as_str()), "the item is keyed by the hash of the user id: {item}");
    }
    for item in &items {
        for id in [&ann, &bob] {
            let (id, upper) = (id.as_str(), id.as_str().to_uppercase());
            assert!(!item.contains(id) && !item.contains(&upper), "{item} holds the user id {id}");
            let hex_of_id: String = id.bytes().map(|byte| format!("{byte:02x}")).collect();
            assert!(!item.contains(&hex_of_id), "{item} holds the user id {id} in hex");
        }
    }
}

fn sorted(mut keys: [&UserKey; 2]) -> [&UserKey; 2] {
    keys.sort();
    keys
}

/// A minute ago, plus `second` seconds: connections made then are open for two hours yet (the
/// connections table's TTL removes older ones whenever DynamoDB Local gets to it).
fn lately(second: u32) -> Timestamp {
    static START: std::sync::LazyLock<chrono::DateTime<chrono::Utc>> = std::sync::LazyLock::new(|| {
        let now = chrono::Utc::now() - chrono::Duration::minutes(1);
        now - chrono::Duration::nanoseconds(i64::from(chrono::Timelike::nanosecond(&now)))
    });
    Timestamp::from_datetime(*START + chrono::Duration::seconds(i64::from(second)))
}

/// What a user has in every store, as stored: the same before and after another user's erasure.
#[derive(Debug, PartialEq)]
struct Holdings {
    events: Vec<StoredRecord>,
    rows: Vec<Row>,
    facts: Vec<(UserId, TodoFacts)>,
    snapshots: Vec<ListSnapshot>,
    connections: Vec<Connection>,
}

impl Holdings {
    async fn of(
        data: &dyn ErasableStore,
        connections: Option<&dyn ConnectionStore>,
        owner: &UserId,
        instants: &[Timestamp],
    ) -> Self {
        let mut events = Vec::new();
        let mut cursor = None;
        loop {
            let page = data.scan_records(Scope::User(owner), 2, cursor).await.expect("scan the user's events");
            events.extend(page.items);
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        let mut rows = Vec::new();
        let mut cursor = None;
        loop {
            let page = data.scan_rows(Scope::User(owner), 2, cursor).await.expect("scan the user's rows");
            rows.extend(page.items);
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        let mut facts = Vec::new();
        let mut cursor = None;
        loop {
            let page = data.scan_facts(Scope::User(owner), 2, cursor).await.expect("scan the user's stats");
            facts.extend(page.items);
            cursor = page.next;
            if cursor.is_none() {
                break;
            }
        }
        let mut snapshots = Vec::new();
        for instant in instants {
            let found = data.latest_snapshot(owner, *instant).await.expect("read a snapshot");
            snapshots.extend(found.filter(|snapshot| snapshot.at == *instant));
        }
        let connections = match connections {
            Some(store) => store.user_connections(owner, lately(100)).await.expect("list connections"),
            None => Vec::new(),
        };
        Self { events, rows, facts, snapshots, connections }
    }

    fn count(&self, what: UserData) -> usize {
        match what {
            UserData::Connections => self.connections.len(),
            UserData::Events => self.events.len(),
            UserData::Todos => self.rows.len(),
            UserData::Stats => self.facts.len(),
            UserData::Snapshots => self.snapshots.len(),
        }
    }
}

async fn each_kind_is_erased_in_pages_and_only_the_users(
    data: &dyn ErasableStore,
    connections: Option<&dyn ConnectionStore>,
) {
    // `anna` extends `ann`, and has todos of the same ids: a prefix or a todo id never leaks.
    let (ann, anna) = (user("ann"), user("anna"));
    let histories = |owner: &UserId| {
        vec![
            vec![
                event(owner, todo(1), 1, 1, created("one")),
                event(owner, todo(1), 2, 2, renamed("uno")),
                event(owner, todo(1), 3, 3, completed()),
            ],
            vec![event(owner, todo(2), 1, 4, created("two")), event(owner, todo(2), 2, 5, renamed("dos"))],
            vec![event(owner, todo(3), 1, 6, created("three")), event(owner, todo(3), 2, 7, deleted())],
            vec![event(owner, todo(4), 1, 8, created("four"))],
        ]
    };
    let instants = [at(10), at(20), at(30)];
    for (owner, todos, snapshots, connected) in [(&ann, 4, 3, 4), (&anna, 2, 2, 1)] {
        let histories = &histories(owner)[..todos];
        // ann's fourth todo has a row and stats but no event left: erased all the same.
        for history in histories.iter().take(3) {
            data.append(history).await.expect("append");
        }
        for history in histories {
            let state = fold(history);
            assert!(data.put(owner, &state, WriteGuard::NewerOnly).await.expect("put a row"));
            let facts = TodoFacts::of(&state).expect("facts");
            assert!(data.put_facts(owner, &facts, WriteGuard::NewerOnly).await.expect("put facts"));
        }
        for instant in &instants[..snapshots] {
            let second = (instant.as_datetime() - at(0).as_datetime()).num_seconds() as u32;
            data.put_snapshot(&list_snapshot(owner, second, 2, 5)).await.expect("put a snapshot");
        }
        if let Some(store) = connections {
            for n in 0..connected {
                let made = Connection {
                    user: owner.clone(),
                    id: ConnectionId::parse(&format!("{owner}-{n}=")).expect("a connection id"),
                    connected_at: lately(n),
                };
                store.put_connection(&made).await.expect("put a connection");
            }
        }
    }
    let others_before = Holdings::of(data, connections, &anna, &instants).await;
    let anns = Holdings::of(data, connections, &ann, &instants).await;
    let expected = |what: UserData| match what {
        UserData::Connections => connections.map_or(0, |_| 4),
        UserData::Events => 7,
        UserData::Todos => 4,
        UserData::Stats => 4,
        UserData::Snapshots => 3,
    };
    for what in UserData::ALL {
        assert_eq!(anns.count(what), expected(what), "{what:?} of ann before the erasure");
    }
    assert!(anns.rows.iter().any(|row| row.deleted), "tombstones are erased too");

    const LIMIT: usize = 3;
    for (done, what) in UserData::ALL.into_iter().enumerate() {
        let mut pages = Vec::new();
        loop {
            let erased = data.erase_some(&ann, what, LIMIT).await.expect("erase some");
            assert!(erased <= LIMIT, "{what:?}: {erased} erased in one call, over the limit of {LIMIT}");
            pages.push(erased);
            assert!(pages.len() <= 10, "{what:?}: the erasure never finishes: {pages:?}");
            if erased == 0 {
                break;
            }
        }
        assert_eq!(pages.iter().sum::<usize>(), expected(what), "{what:?}: every item counted once: {pages:?}");
        assert!(pages.len() > expected(what) / LIMIT, "{what:?}: a page at a time: {pages:?}");
        assert_eq!(data.erase_some(&ann, what, LIMIT).await.expect("erase some"), 0, "{what:?}: none left");

        let left = Holdings::of(data, connections, &ann, &instants).await;
        assert_eq!(left.count(what), 0, "{what:?}: nothing of ann's left");
        for later in &UserData::ALL[done + 1..] {
            assert_eq!(left.count(*later), expected(*later), "erasing {what:?} leaves ann's {later:?}");
        }
    }
    assert_eq!(data.latest_snapshot(&ann, at(100_000)).await.expect("latest snapshot"), None);
    for history in histories(&ann) {
        assert!(!data.has_events(&ann, &history[0].todo_id).await.expect("has events"));
        assert_eq!(data.state(&ann, &history[0].todo_id).await.expect("state"), Todo::NotCreated);
        assert_eq!(data.facts(&ann, &history[0].todo_id).await.expect("facts"), None);
    }
    assert_eq!(
        Holdings::of(data, connections, &anna, &instants).await,
        others_before,
        "another user's items are exactly as they were"
    );
}
