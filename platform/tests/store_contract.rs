//! The store contract on the in-memory adapter and on DynamoDB Local, the list snapshot checks
//! included, and what only DynamoDB's snapshots in parts can get wrong.

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

macro_rules! snapshot_contract_tests {
    ($($check:ident),* $(,)?) => {
        mod memory_snapshots {
            $(
                #[tokio::test]
                async fn $check() {
                    super::contract::run_snapshot_check(stringify!($check), &super::MemoryStore::new()).await;
                }
            )*
        }
        mod dynamodb_snapshots {
            $(
                #[tokio::test]
                async fn $check() {
                    let tables = super::Tables::fresh().await;
                    super::contract::run_snapshot_check(stringify!($check), &tables.store()).await;
                }
            )*
        }

        #[test]
        fn every_snapshot_contract_check_runs_here() {
            let here = [$(stringify!($check)),*];
            assert_eq!(here.as_slice(), contract::SNAPSHOT_CHECKS);
        }
    };
}

snapshot_contract_tests!(
    no_snapshot_before_the_first_or_of_another_user,
    the_latest_snapshot_at_or_before_the_instant_is_found,
    a_snapshot_of_the_same_instant_is_replaced,
    a_large_snapshot_round_trips_exactly,
);

/// A snapshot is stored in parts, one PutItem each: a writer that dies halfway leaves some parts of
/// its snapshot, or (replacing one of the same instant) its parts beside the old one's. Neither is
/// ever read as a snapshot; the latest complete one before it is.
#[tokio::test]
async fn dynamodb_skips_snapshots_a_writer_left_incomplete() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use events_schema::{Timestamp, Todo, TodoId, TodoItem, UserId};
    use todo_platform::store::{ListSnapshot, SnapshotStore as _};

    let tables = Tables::fresh().await;
    let store = tables.store();
    let ann = UserId::parse("ann").expect("user");
    let at = |minute: u32| Timestamp::parse(&format!("2026-11-25T10:{minute:02}:00.000001Z")).expect("time");
    let snapshot = |minute: u32, todos: u128, title: &str| ListSnapshot {
        user: ann.clone(),
        at: at(minute),
        events: todos as u64,
        todos: (1..=todos)
            .map(|n| {
                Todo::Live(TodoItem {
                    id: TodoId::from_uuid(uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | n)),
                    title: format!("{title} {n}"),
                    notes: Some("n\u{f6}tes ".repeat(60)),
                    completed: false,
                    created_at: at(minute),
                    updated_at: at(minute),
                    completed_at: None,
                    version: 1,
                })
            })
            .collect(),
    };
    let parts_of = |minute: u32| {
        let (client, table, at) = (tables.client.clone(), tables.snapshots.clone(), at(minute));
        async move {
            let page = client
                .query()
                .table_name(table)
                .key_condition_expression("userId = :user AND begins_with(snapshotKey, :at)")
                .expression_attribute_values(":user", AttributeValue::S("ann".into()))
                .expression_attribute_values(":at", AttributeValue::S(format!("{at}#")))
                .send()
                .await
                .expect("query the parts");
            page.items.unwrap_or_default()
        }
    };
    let complete = snapshot(1, 3, "kept");
    store.put_snapshot(&complete).await.expect("put");

    // Died before its last parts: one is missing.
    store.put_snapshot(&snapshot(2, 3_000, "torn")).await.expect("put");
    let torn = parts_of(2).await;
    assert!(torn.len() >= 3, "a large snapshot is stored in several parts, found {}", torn.len());
    let second_part = torn[1].clone();
    let key = [("userId", second_part["userId"].clone()), ("snapshotKey", second_part["snapshotKey"].clone())];
    let deleted = tables.client.delete_item().table_name(&tables.snapshots);
    deleted.set_key(Some(key.map(|(k, v)| (k.to_owned(), v)).into())).send().await.expect("delete a part");
    assert_eq!(store.latest_snapshot(&ann, at(2)).await.expect("latest"), Some(complete.clone()));

    // Died replacing one of the same instant: its first part beside the old one's second.
    store.put_snapshot(&snapshot(3, 3_000, "old")).await.expect("put");
    let old = parts_of(3).await;
    store.put_snapshot(&snapshot(3, 3_000, "new")).await.expect("put");
    let put_back = tables.client.put_item().table_name(&tables.snapshots).set_item(Some(old[1].clone()));
    put_back.send().await.expect("put an old part back");
    assert_eq!(
        store.latest_snapshot(&ann, at(3)).await.expect("latest"),
        Some(complete.clone()),
        "two incomplete snapshots are passed over for the complete one before them"
    );

    // Written whole again, each is found.
    let whole = snapshot(2, 3_000, "whole");
    store.put_snapshot(&whole).await.expect("put");
    assert_eq!(store.latest_snapshot(&ann, at(3)).await.expect("latest"), Some(whole));
    let newest = snapshot(3, 10, "newest");
    store.put_snapshot(&newest).await.expect("put");
    assert_eq!(store.latest_snapshot(&ann, at(59)).await.expect("latest"), Some(newest));
}

/// A fresh live connections table in DynamoDB Local, and the store over it.
async fn fresh_connections() -> todo_platform::store::dynamo::DynamoStore {
    let client = todo_testkit::dynamodb::client().await;
    let table = format!("Connections-{}", uuid::Uuid::new_v4().simple());
    todo_platform::store::dynamo::create_connections_table(&client, &table)
        .await
        .expect("creating the connections table in DynamoDB Local");
    todo_platform::store::dynamo::DynamoStore::new(client, "", "").with_connections_table(table)
}

macro_rules! connection_contract_tests {
    ($($check:ident),* $(,)?) => {
        mod memory_connections {
            $(
                #[tokio::test]
                async fn $check() {
                    super::contract::run_connection_check(stringify!($check), &super::MemoryStore::new()).await;
                }
            )*
        }
        mod dynamodb_connections {
            $(
                #[tokio::test]
                async fn $check() {
                    super::contract::run_connection_check(stringify!($check), &super::fresh_connections().await).await;
                }
            )*
        }

        #[test]
        fn every_connection_contract_check_runs_here() {
            let here = [$(stringify!($check)),*];
            assert_eq!(here.as_slice(), contract::CONNECTION_CHECKS);
        }
    };
}

connection_contract_tests!(
    connections_are_listed_per_user_until_removed,
    connections_past_their_lifetime_are_not_listed,
);

/// The table's items carry the TTL attribute the template names, two hours after the connection
/// opened, and the table expires items by it.
#[tokio::test]
async fn dynamodb_connections_expire_by_the_templates_ttl_attribute() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use events_schema::{Timestamp, UserId};
    use todo_platform::manifest::{CONNECTIONS_TTL_ATTRIBUTE, USER_ID_KEY};
    use todo_platform::store::{Connection, ConnectionId, ConnectionStore as _};

    let client = todo_testkit::dynamodb::client().await;
    let table = format!("Connections-{}", uuid::Uuid::new_v4().simple());
    todo_platform::store::dynamo::create_connections_table(&client, &table).await.expect("create the table");
    let store = todo_platform::store::dynamo::DynamoStore::new(client.clone(), "", "").with_connections_table(&table);
    let connected_at = Timestamp::parse("2026-11-25T10:00:00.123Z").expect("time");
    let connection = Connection {
        user: UserId::parse("ann").expect("user"),
        id: ConnectionId::parse("Zx1QdcuMoAMCIxw=").expect("id"),
        connected_at,
    };
    store.put_connection(&connection).await.expect("put");

    let items = client
        .query()
        .table_name(&table)
        .key_condition_expression("userId = :user")
        .expression_attribute_values(":user", AttributeValue::S("ann".into()))
        .send()
        .await
        .expect("query")
        .items
        .unwrap_or_default();
    assert_eq!(items.len(), 1);
    let expires_at = items[0].get(CONNECTIONS_TTL_ATTRIBUTE).and_then(|v| v.as_n().ok()).expect("the TTL attribute");
    assert_eq!(expires_at.parse::<i64>().expect("epoch seconds"), connected_at.as_datetime().timestamp() + 2 * 3600);
    assert_eq!(items[0].get(USER_ID_KEY).and_then(|v| v.as_s().ok()).map(String::as_str), Some("ann"));

    let ttl = client.describe_time_to_live().table_name(&table).send().await.expect("describe TTL");
    let description = ttl.time_to_live_description.expect("a TTL description");
    assert_eq!(description.attribute_name.as_deref(), Some(CONNECTIONS_TTL_ATTRIBUTE));
}
