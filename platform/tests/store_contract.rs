//! The store contract on the in-memory adapter and on DynamoDB Local, the list snapshot, live
//! connection and account erasure checks included, and what only DynamoDB can get wrong.

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

/// Fresh tables of every kind an erasure deletes from, and a fresh `ErasureTable`, in DynamoDB Local.
struct ErasureTables {
    tables: Tables,
    connections: String,
    erasures: String,
}

impl ErasureTables {
    async fn fresh() -> Self {
        let tables = Tables::fresh().await;
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let (connections, erasures) = (format!("Connections-{suffix}"), format!("Erasures-{suffix}"));
        todo_platform::store::dynamo::create_connections_table(&tables.client, &connections)
            .await
            .expect("creating the connections table in DynamoDB Local");
        todo_platform::store::dynamo::create_erasure_table(&tables.client, &erasures)
            .await
            .expect("creating the erasure table in DynamoDB Local");
        Self { tables, connections, erasures }
    }

    fn store(&self) -> todo_platform::store::dynamo::DynamoStore {
        self.tables.store().with_connections_table(&self.connections).with_erasure_table(&self.erasures)
    }

    /// Every item of `ErasureTable` as DynamoDB holds it.
    async fn raw_erasures(&self) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .tables
                .client
                .scan()
                .table_name(&self.erasures)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scanning the erasure table");
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return items;
            }
        }
    }
}

#[async_trait::async_trait]
impl contract::StoredErasures for ErasureTables {
    /// The raw items, every attribute name and value, in key order.
    async fn stored_erasures(&self) -> Vec<String> {
        let mut items: Vec<(String, String)> = self
            .raw_erasures()
            .await
            .into_iter()
            .map(|item| {
                let key = item.get("userKey").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                let mut attributes: Vec<String> =
                    item.iter().map(|(name, value)| format!("{name}={value:?}")).collect();
                attributes.sort();
                (key, attributes.join(" "))
            })
            .collect();
        items.sort();
        items.into_iter().map(|(_, item)| item).collect()
    }
}

macro_rules! erasure_contract_tests {
    ($($check:ident),* $(,)?) => {
        mod memory_erasure {
            $(
                #[tokio::test]
                async fn $check() {
                    let store = super::MemoryStore::new();
                    super::contract::run_erasure_check(stringify!($check), &store, &store, &store, Some(&store)).await;
                }
            )*
        }
        mod dynamodb_erasure {
            $(
                #[tokio::test]
                async fn $check() {
                    let tables = super::ErasureTables::fresh().await;
                    let store = tables.store();
                    super::contract::run_erasure_check(stringify!($check), &store, &tables, &store, Some(&store)).await;
                }
            )*
        }

        #[test]
        fn every_erasure_contract_check_runs_here() {
            let here = [$(stringify!($check)),*];
            assert_eq!(here.as_slice(), contract::ERASURE_CHECKS);
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

/// `ErasureTable` as the template declares it (`userKey`, no sort key), its items readable in the
/// console: a status, RFC 3339 times, the request id and the counts as numbers.
#[tokio::test]
async fn dynamodb_erasure_items_are_readable_receipts() {
    use aws_sdk_dynamodb::types::{AttributeValue, KeyType};
    use events_schema::{Timestamp, UserId};
    use todo_platform::store::{ErasedCounts, Erasure, ErasureKey, ErasureLog as _, ErasureReceipt};

    let tables = ErasureTables::fresh().await;
    let store = tables.store();
    let described = tables.tables.client.describe_table().table_name(&tables.erasures).send().await.expect("describe");
    let schema = described.table.and_then(|t| t.key_schema).unwrap_or_default();
    let schema: Vec<(&str, &KeyType)> = schema.iter().map(|k| (k.attribute_name(), k.key_type())).collect();
    assert_eq!(schema, [("userKey", &KeyType::Hash)], "partition key userKey, no sort key");

    let user_key = ErasureKey::generate().user_key(&UserId::parse("ann").expect("user"));
    let requested_at = Timestamp::parse("2026-11-25T10:00:00.123456Z").expect("time");
    store.begin_erasure(&user_key, requested_at, "req-1").await.expect("begin");
    let attribute = |item: &std::collections::HashMap<String, AttributeValue>, name: &str| {
        item.get(name).map(|value| match value {
            AttributeValue::S(text) => format!("S {text}"),
            AttributeValue::N(number) => format!("N {number}"),
            other => format!("{other:?}"),
        })
    };
    let items = tables.raw_erasures().await;
    assert_eq!(items.len(), 1);
    assert_eq!(attribute(&items[0], "status").as_deref(), Some("S erasing"));
    assert_eq!(attribute(&items[0], "requestedAt").as_deref(), Some("S 2026-11-25T10:00:00.123456Z"));
    assert_eq!(attribute(&items[0], "erasedAt"), None, "not erased yet");
    assert_eq!(attribute(&items[0], "events").as_deref(), Some("N 0"));

    let erased_at = Timestamp::parse("2026-11-25T10:00:07Z").expect("time");
    let erased = ErasedCounts { events: 100_000, todos: 12, stats: 12, snapshots: 3, connections: 2 };
    let receipt =
        ErasureReceipt { user_key: user_key.clone(), requested_at, erased_at, request_id: "req-1".into(), erased };
    store.record_erasure(&Erasure::Erased(receipt)).await.expect("record the receipt");
    let items = tables.raw_erasures().await;
    let mut names: Vec<&str> = items[0].keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "connections",
            "erasedAt",
            "events",
            "requestId",
            "requestedAt",
            "snapshots",
            "stats",
            "status",
            "todos",
            "userKey"
        ],
        "nothing but the key, the times, the request id and the counts"
    );
    assert_eq!(attribute(&items[0], "status").as_deref(), Some("S erased"));
    assert_eq!(attribute(&items[0], "erasedAt").as_deref(), Some("S 2026-11-25T10:00:07.000000Z"));
    assert_eq!(attribute(&items[0], "events").as_deref(), Some("N 100000"));
    assert_eq!(attribute(&items[0], "connections").as_deref(), Some("N 2"));
    assert_eq!(attribute(&items[0], "userKey"), Some(format!("S {user_key}")));
}

/// A store built without some table erases nothing of that kind (a function given only the tables
/// it may touch), and a page larger than one BatchWriteItem (25) is deleted whole.
#[tokio::test]
async fn dynamodb_erases_pages_of_more_than_one_batch_and_skips_tables_it_lacks() {
    use events_schema::{Timestamp, TodoId, UserId};
    use todo_platform::store::TodoFacts;
    use todo_platform::store::dynamo::DynamoStore;
    use todo_platform::store::{StatsStore as _, UserData, UserEraser as _, WriteGuard};

    let tables = ErasureTables::fresh().await;
    let ann = UserId::parse("ann").expect("user");
    let without = DynamoStore::new(tables.tables.client.clone(), "", "");
    for what in UserData::ALL {
        assert_eq!(without.erase_some(&ann, what, 100).await.expect("erase"), 0, "{what:?}: no table, nothing");
    }

    let store = tables.store();
    let at = Timestamp::parse("2026-11-25T10:00:00Z").expect("time");
    for n in 0..60u128 {
        let facts = TodoFacts {
            todo_id: TodoId::from_uuid(uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | n)),
            version: 1,
            created_at: at,
            completed_at: None,
            deleted: false,
        };
        store.put_facts(&ann, &facts, WriteGuard::NewerOnly).await.expect("put facts");
    }
    assert_eq!(store.erase_some(&ann, UserData::Stats, 55).await.expect("erase"), 55, "three batches, one page");
    assert_eq!(store.user_facts(&ann).await.expect("facts").len(), 5);
    assert_eq!(store.erase_some(&ann, UserData::Stats, 55).await.expect("erase"), 5);
    assert_eq!(store.erase_some(&ann, UserData::Stats, 55).await.expect("erase"), 0);
    assert!(store.user_facts(&ann).await.expect("facts").is_empty());
}

/// A stand-in for DynamoDB that answers every Query with two keys of ann's stats and every
/// BatchWriteItem by leaving its first `unprocessed` requests' items unprocessed (DynamoDB's way
/// of saying "too much, too fast" for part of a batch). Returns its endpoint and how many
/// BatchWriteItem requests it took.
async fn scripted_dynamodb(unprocessed: usize) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};

    const KEYS: &str = r#"[{"userId":{"S":"ann"},"todoId":{"S":"t1"}},{"userId":{"S":"ann"},"todoId":{"S":"t2"}}]"#;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    let batches = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = batches.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                loop {
                    let (mut target, mut length) = (String::new(), 0usize);
                    loop {
                        let mut line = String::new();
                        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        let (name, value) = line.split_once(':').unwrap_or((line, ""));
                        match name.to_ascii_lowercase().as_str() {
                            "x-amz-target" => target = value.trim().to_owned(),
                            "content-length" => length = value.trim().parse().unwrap_or(0),
                            _ => {}
                        }
                    }
                    let mut body = vec![0; length];
                    if stream.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let answer = if target.ends_with(".Query") {
                        format!(r#"{{"Count":2,"ScannedCount":2,"Items":{KEYS}}}"#)
                    } else if target.ends_with(".BatchWriteItem") {
                        let request: serde_json::Value = serde_json::from_slice(&body).expect("a JSON request");
                        let taken = counted.fetch_add(1, Ordering::SeqCst);
                        match taken < unprocessed {
                            true => format!(r#"{{"UnprocessedItems":{}}}"#, request["RequestItems"]),
                            false => r#"{"UnprocessedItems":{}}"#.to_owned(),
                        }
                    } else {
                        panic!("an unexpected call: {target}");
                    };
                    let response = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{answer}",
                        answer.len()
                    );
                    if stream.get_mut().write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (endpoint, batches)
}

/// Items DynamoDB leaves unprocessed are sent again after a short wait until they are deleted;
/// a table that never takes them makes the store unavailable after a bounded number of tries,
/// never a count of items that are still there.
#[tokio::test]
async fn dynamodb_sends_unprocessed_deletes_again_then_gives_up_as_unavailable() {
    use events_schema::UserId;
    use std::sync::atomic::Ordering;
    use todo_platform::store::dynamo::DynamoStore;
    use todo_platform::store::{StoreError, UserData, UserEraser as _};

    let ann = UserId::parse("ann").expect("user");
    let store_at = |endpoint: String| async move {
        let config = todo_testkit::dynamodb::sdk_config_for(&endpoint).await;
        DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), "", "").with_stats_table("Stats")
    };

    let (endpoint, batches) = scripted_dynamodb(2).await;
    let erased = store_at(endpoint).await.erase_some(&ann, UserData::Stats, 10).await.expect("erase");
    assert_eq!(erased, 2);
    assert_eq!(batches.load(Ordering::SeqCst), 3, "sent again until nothing was left unprocessed");

    let (endpoint, batches) = scripted_dynamodb(usize::MAX).await;
    let started = std::time::Instant::now();
    let refused = store_at(endpoint).await.erase_some(&ann, UserData::Stats, 10).await;
    assert!(matches!(refused, Err(StoreError::Unavailable { .. })), "{refused:?}");
    let tries = batches.load(Ordering::SeqCst);
    assert!((2..=10).contains(&tries), "a bounded number of tries, not {tries}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "short waits: {:?}", started.elapsed());
}
