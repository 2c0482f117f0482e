//! The store contract on the embedded SQLite store: the same checks the DynamoDB adapter passes.

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
