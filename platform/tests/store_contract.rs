//! The store contract on the in-memory adapter and on DynamoDB Local.

use todo_platform::store::contract;
use todo_platform::store::memory::MemoryStore;
use todo_testkit::dynamodb::Tables;

macro_rules! contract_tests {
    ($($check:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $check() {
                    super::contract::run(stringify!($check), &super::MemoryStore::new()).await;
                }
            )*
        }
        mod dynamodb {
            $(
                #[tokio::test]
                async fn $check() {
                    let tables = super::Tables::fresh().await;
                    super::contract::run(stringify!($check), &tables.store()).await;
                }
            )*
        }

        #[test]
        fn every_contract_check_runs_here() {
            let here = [$(stringify!($check)),*];
            assert_eq!(here.as_slice(), contract::CHECKS);
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
