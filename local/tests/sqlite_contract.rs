//! The store contract on the embedded SQLite store: the same checks the DynamoDB adapter passes,
//! and the erasure fence that only SQLite holds in the same transaction as the write.

use todo_local::sqlite::SqliteStore;
use todo_platform::store::contract;

macro_rules! contract_tests {
    ($($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let dir = tempfile::tempdir().expect("temp dir");
                let store = SqliteStore::open(dir.path()).expect("open");
                contract::run(stringify!($check), &store).await;
            }
        )*

        #[test]
        fn every_contract_check_runs_here() {
            assert_eq!([$(stringify!($check)),*].as_slice(), contract::CHECKS);
        }
    };
}

contract_tests!(
    appended_events_load_in_version_order,
    append_is_conditional_and_atomic,
    user_history_is_in_time_order_and_paginates,
    scan_groups_todos_in_version_order,
    sealed_events_keep_their_chain_as_stored,
    projection_writes_are_version_guarded,
    many_rows_are_written_with_each_ones_guard,
    read_model_hides_tombstones_filters_and_paginates,
    rows_can_be_scanned_and_removed,
    segments_split_every_scan_without_overlap,
    stats_facts_are_version_guarded_and_kept_per_user,
);

macro_rules! snapshot_contract_tests {
    ($($check:ident),* $(,)?) => {
        mod snapshots {
            use super::*;
            $(
                #[tokio::test]
                async fn $check() {
                    let dir = tempfile::tempdir().expect("temp dir");
                    let store = SqliteStore::open(dir.path()).expect("open");
                    contract::run_snapshot_check(stringify!($check), &store).await;
                }
            )*

            #[test]
            fn every_snapshot_contract_check_runs_here() {
                assert_eq!([$(stringify!($check)),*].as_slice(), contract::SNAPSHOT_CHECKS);
            }
        }
    };
}

snapshot_contract_tests!(
    no_snapshot_before_the_first_or_of_another_user,
    the_latest_snapshot_at_or_before_the_instant_is_found,
    a_snapshot_of_the_same_instant_is_replaced,
    a_large_snapshot_round_trips_exactly,
);

/// The write-ahead log is copied into the database file by the store's own checkpoint thread,
/// not by whichever commit crosses SQLite's threshold: the file alone soon holds every event.
#[tokio::test]
async fn the_database_file_catches_up_with_the_log_off_the_request_path() {
    use events_schema::{Event, EventMetadata, Timestamp, TodoCreated, TodoEvent, TodoId, UserId};
    use todo_platform::store::EventLog as _;

    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path()).expect("open");
    let user = UserId::parse("ann").expect("user");
    for n in 0..50u128 {
        let event = Event {
            user_id: user.clone(),
            todo_id: TodoId::from_uuid(uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | n)),
            version: 1,
            event_id: uuid::Uuid::now_v7(),
            occurred_at: Timestamp::parse("2026-11-25T10:00:00Z").expect("time"),
            payload: TodoEvent::Created(TodoCreated { title: format!("todo {n}"), notes: None }),
            metadata: EventMetadata::default(),
            chain: None,
        };
        store.append(&[event]).await.expect("append");
    }
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let copy = elsewhere.path().join("todo.sqlite3");
    // The database file without its log, as if the log were lost; a copy torn by a checkpoint in
    // progress is only a reason to look again.
    let events_in_file_alone = || -> Option<i64> {
        std::fs::copy(dir.path().join("todo.sqlite3"), &copy).ok()?;
        let file_only = rusqlite::Connection::open(&copy).ok()?;
        file_only.query_row("SELECT COUNT(*) FROM events", [], |row| row.get(0)).ok()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let count = events_in_file_alone();
        if count == Some(50) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the database file alone holds {count:?} of 50 events");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(store);
}

/// A store in a temporary folder, and its `erasures` table read as SQLite holds it.
struct ErasureSubject {
    dir: tempfile::TempDir,
    store: SqliteStore,
}

impl ErasureSubject {
    fn open() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("open");
        Self { dir, store }
    }
}

#[async_trait::async_trait]
impl contract::StoredErasures for ErasureSubject {
    /// Every row of `erasures`, every column, through a connection of its own.
    async fn stored_erasures(&self) -> Vec<String> {
        let connection = rusqlite::Connection::open(self.dir.path().join("todo.sqlite3")).expect("open the file");
        let mut statement = connection.prepare("SELECT * FROM erasures ORDER BY user_key").expect("select erasures");
        let columns = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                (0..columns)
                    .map(|index| {
                        use rusqlite::types::ValueRef;
                        Ok(match row.get_ref(index)? {
                            ValueRef::Null => "NULL".to_owned(),
                            ValueRef::Integer(number) => number.to_string(),
                            ValueRef::Real(number) => number.to_string(),
                            ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
                                String::from_utf8_lossy(bytes).into_owned()
                            }
                        })
                    })
                    .collect::<rusqlite::Result<Vec<_>>>()
                    .map(|values| values.join(" "))
            })
            .expect("read erasures");
        rows.collect::<Result<_, _>>().expect("read erasures")
    }
}

macro_rules! erasure_contract_tests {
    ($($check:ident),* $(,)?) => {
        mod erasure {
            use super::*;
            $(
                #[tokio::test]
                async fn $check() {
                    let subject = ErasureSubject::open();
                    let store = &subject.store;
                    contract::run_erasure_check(stringify!($check), store, &subject, store, None).await;
                }
            )*

            #[test]
            fn every_erasure_contract_check_runs_here() {
                assert_eq!([$(stringify!($check)),*].as_slice(), contract::ERASURE_CHECKS);
            }
        }
    };
}

erasure_contract_tests!(
    beginning_an_erasure_is_idempotent,
    progress_is_recorded_then_the_receipt,
    a_receipt_is_never_replaced_by_progress,
    erasures_page_through_every_one,
    the_erasure_log_holds_no_user_id,
    each_kind_is_erased_in_pages_and_only_the_users,
);

mod fence {
    use events_schema::{Event, EventMetadata, Timestamp, Todo, TodoCreated, TodoEvent, TodoId, TodoUpdated, UserId};
    use todo_platform::store::{
        AppendError, ErasedCounts, Erasure, ErasureLog as _, ErasureReceipt, EventLog as _, ListSnapshot,
        ProjectionStore as _, SnapshotStore as _, StatsStore as _, StoreError, TodoFacts, WriteGuard,
    };

    use super::*;

    fn user(name: &str) -> UserId {
        UserId::parse(name).expect("user")
    }

    fn todo(n: u128) -> TodoId {
        TodoId::from_uuid(uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | n))
    }

    fn at(second: u32) -> Timestamp {
        Timestamp::parse(&format!("2026-11-25T10:00:{second:02}Z")).expect("time")
    }

    fn event(owner: &UserId, todo_id: TodoId, version: u64) -> Event {
        let payload = match version {
            1 => TodoEvent::Created(TodoCreated { title: format!("todo of {owner}"), notes: None }),
            _ => TodoEvent::Updated(TodoUpdated { title: Some(format!("v{version}")), notes: None, completed: None }),
        };
        Event {
            user_id: owner.clone(),
            todo_id,
            version,
            event_id: uuid::Uuid::now_v7(),
            occurred_at: at(version as u32),
            payload,
            metadata: EventMetadata::default(),
            chain: None,
        }
    }

    async fn begin(store: &SqliteStore, owner: &UserId) {
        let key = store.erasure_key().user_key(owner);
        store.begin_erasure(&key, at(30), "req-erase").await.expect("begin the erasure");
    }

    #[tokio::test]
    async fn an_append_for_a_user_being_erased_or_erased_fails_and_writes_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("open");
        let (ann, bob) = (user("ann"), user("bob"));
        store.append(&[event(&ann, todo(1), 1)]).await.expect("append before the erasure");
        begin(&store, &ann).await;
        let head = store.feed_head().expect("feed head");

        let refused = store.append(&[event(&ann, todo(1), 2)]).await;
        assert!(matches!(refused, Err(AppendError::Store(StoreError::AccountErased))), "{refused:?}");
        let refused = store.append(&[event(&ann, todo(2), 1), event(&ann, todo(2), 2)]).await;
        assert!(matches!(refused, Err(AppendError::Store(StoreError::AccountErased))), "{refused:?}");
        assert_eq!(store.load(&ann, &todo(1)).await.expect("load").len(), 1, "nothing appended after the marker");
        assert!(store.load(&ann, &todo(2)).await.expect("load").is_empty(), "no part of a refused append");
        assert_eq!(store.feed_head().expect("feed head"), head, "the change feed saw nothing");

        store.append(&[event(&bob, todo(1), 1)]).await.expect("another user appends as ever");

        let key = store.erasure_key().user_key(&ann);
        let receipt = ErasureReceipt {
            user_key: key,
            requested_at: at(30),
            erased_at: at(40),
            request_id: "req-erase".into(),
            erased: ErasedCounts { events: 1, ..ErasedCounts::default() },
        };
        store.record_erasure(&Erasure::Erased(receipt)).await.expect("the receipt");
        let refused = store.append(&[event(&ann, todo(3), 1)]).await;
        assert!(
            matches!(refused, Err(AppendError::Store(StoreError::AccountErased))),
            "an erased account stays erased: {refused:?}"
        );
    }

    #[tokio::test]
    async fn projection_writes_for_a_user_being_erased_keep_nothing() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(dir.path()).expect("open");
        let (ann, bob) = (user("ann"), user("bob"));
        begin(&store, &ann).await;
        let state = |owner: &UserId| events_schema::fold(&[event(owner, todo(1), 1)]);
        let facts = |owner: &UserId| TodoFacts::of(&state(owner)).expect("facts");
        let snapshot =
            |owner: &UserId| ListSnapshot { user: owner.clone(), at: at(5), events: 1, todos: vec![state(owner)] };

        assert!(!store.put(&ann, &state(&ann), WriteGuard::NotOlder).await.expect("put"), "kept, not an error");
        let written = store
            .put_many(&[(ann.clone(), state(&ann)), (bob.clone(), state(&bob))], WriteGuard::NotOlder)
            .await
            .expect("put many");
        assert_eq!(written, [false, true], "only the erased user's row is kept out");
        assert_eq!(store.state(&ann, &todo(1)).await.expect("state"), Todo::NotCreated);
        assert!(store.state(&bob, &todo(1)).await.expect("state").live().is_some());

        assert!(!store.put_facts(&ann, &facts(&ann), WriteGuard::NotOlder).await.expect("put facts"));
        let written = store
            .put_many_facts(&[(ann.clone(), facts(&ann)), (bob.clone(), facts(&bob))], WriteGuard::NotOlder)
            .await
            .expect("put many facts");
        assert_eq!(written, [false, true]);
        assert!(store.user_facts(&ann).await.expect("facts").is_empty());
        assert_eq!(store.user_facts(&bob).await.expect("facts").len(), 1);

        store.put_snapshot(&snapshot(&ann)).await.expect("a snapshot write is no error");
        store.put_snapshot(&snapshot(&bob)).await.expect("put a snapshot");
        assert_eq!(store.latest_snapshot(&ann, at(59)).await.expect("latest"), None);
        assert_eq!(store.latest_snapshot(&bob, at(59)).await.expect("latest"), Some(snapshot(&bob)));
    }

    /// The key is made with the database and kept in it: the same after a restart (an old data
    /// folder without it gets one), another folder's is another.
    #[tokio::test]
    async fn the_erasure_key_is_kept_with_the_data_and_so_is_the_fence() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ann = user("ann");
        let key = {
            let store = SqliteStore::open(dir.path()).expect("open");
            begin(&store, &ann).await;
            store.erasure_key()
        };
        let store = SqliteStore::open(dir.path()).expect("open again");
        assert_eq!(store.erasure_key(), key, "the same key after a restart");
        let refused = store.append(&[event(&ann, todo(1), 1)]).await;
        assert!(matches!(refused, Err(AppendError::Store(StoreError::AccountErased))), "{refused:?}");
        drop(store);

        let elsewhere = tempfile::tempdir().expect("temp dir");
        let other = SqliteStore::open(elsewhere.path()).expect("open");
        assert_ne!(other.erasure_key(), key, "another stack, another key");
        other.append(&[event(&ann, todo(1), 1)]).await.expect("nobody is erased there");
        drop(other);

        // A data folder from before erasures: its tables and events stay, the new ones are made.
        let old = rusqlite::Connection::open(elsewhere.path().join("todo.sqlite3")).expect("open the file");
        old.execute_batch("DROP TABLE erasures; DROP TABLE erasure_key;").expect("drop the new tables");
        drop(old);
        let upgraded = SqliteStore::open(elsewhere.path()).expect("open an old data folder");
        assert_eq!(upgraded.load(&ann, &todo(1)).await.expect("load").len(), 1);
        upgraded.append(&[event(&ann, todo(1), 2)]).await.expect("append");
    }
}
