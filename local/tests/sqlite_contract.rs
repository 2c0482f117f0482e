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
    projection_writes_are_version_guarded,
    many_rows_are_written_with_each_ones_guard,
    read_model_hides_tombstones_filters_and_paginates,
    rows_can_be_scanned_and_removed,
);
