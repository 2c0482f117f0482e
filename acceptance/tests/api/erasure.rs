//! `DELETE /account` on DynamoDB Local and its stream: everything of the caller goes, nothing of
//! anyone else's changes, nothing comes back, and the receipt holds no personal data.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use account::Outcome;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use events_schema::{Timestamp, Todo, UserId};
use serde_json::{Value, json};
use todo_platform::store::{
    Connection, ConnectionId, ConnectionStore, Erasure, ListSnapshot, SnapshotStore, StoreError, UserData, UserEraser,
};

use crate::stack::*;

type Item = HashMap<String, AttributeValue>;

/// Every item of `table`, sorted (scans of two moments compare item for item).
async fn scan(stack: &Stack, table: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = stack
            .tables
            .client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        items.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    items.sort_by_key(|item| format!("{:?}", item.iter().collect::<BTreeMap<_, _>>()));
    items
}

/// Each table's items of one user (every table but the erasures' is partitioned by `userId`).
async fn items_of(stack: &Stack, user: User) -> BTreeMap<String, Vec<Item>> {
    let mut found = BTreeMap::new();
    for table in data_tables(stack) {
        let mine: Vec<Item> = scan(stack, &table)
            .await
            .into_iter()
            .filter(|item| item.get("userId") == Some(&AttributeValue::S(user.sub.to_owned())))
            .collect();
        found.insert(table, mine);
    }
    found
}

fn data_tables(stack: &Stack) -> Vec<String> {
    let t = &stack.tables;
    vec![t.events.clone(), t.todos.clone(), t.stats.clone(), t.snapshots.clone(), stack.connections.clone()]
}

fn user_id(user: User) -> UserId {
    UserId::parse(user.sub).expect("user id")
}

/// A user with live todos, edited, completed and deleted ones (tombstones), their stats, a list
/// snapshot and two open connections.
async fn populate(stack: &Stack, user: User) -> Vec<String> {
    let mut titles = Vec::new();
    for n in 0..6 {
        let title = format!("{} secret plan {n}", user.email);
        let id = created(stack, user, &title).await;
        if n % 2 == 0 {
            let answer = stack.send(update(user, &id, json!({"notes": format!("note of {}", user.email)}))).await;
            assert_eq!(answer.status, 200, "{:?}", answer.body);
        }
        if n % 3 == 0 {
            assert_eq!(stack.send(complete(user, &id)).await.status, 200);
        }
        if n == 5 {
            assert_eq!(stack.send(delete(user, &id)).await.status, 204);
        }
        titles.push(title);
    }
    stack.project().await;
    let now = Timestamp::from_datetime(chrono::Utc::now());
    let listed = stack.send(list(user)).await.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 5);
    let snapshot = ListSnapshot { user: user_id(user), at: now, events: 13, todos: vec![Todo::NotCreated; 0] };
    stack.store.put_snapshot(&snapshot).await.expect("a snapshot");
    for n in 0..2 {
        let id = ConnectionId::parse(&format!("{}-conn-{n}", &user.sub[..8])).expect("connection id");
        let connection = Connection { user: user_id(user), id, connected_at: now };
        stack.store.put_connection(&connection).await.expect("a connection");
    }
    titles
}

fn assert_no_personal_data(text: &str, user: User, titles: &[String]) {
    for secret in [user.sub, user.email].into_iter().chain(titles.iter().map(String::as_str)) {
        assert!(!text.contains(secret), "{secret:?} found in {text}");
    }
    assert!(!text.contains("note of"), "a note found in {text}");
}

#[tokio::test]
async fn everything_of_the_caller_goes_the_other_user_is_untouched_and_the_receipt_is_anonymous() {
    let stack = Stack::new().await;
    let ann_titles = populate(&stack, ANN).await;
    populate(&stack, BOB).await;
    let before = items_of(&stack, ANN).await;
    for (table, items) in &before {
        assert!(!items.is_empty(), "Ann has items in {table} before the erasure");
    }
    let bob_before = items_of(&stack, BOB).await;

    let answer = stack.send(erase_account(ANN)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_edge_headers(&answer);
    let receipt = &answer.body["receipt"];
    let counted = |name: &str| receipt["erased"][name].as_u64();
    assert_eq!(counted("events"), Some(before[&stack.tables.events].len() as u64));
    assert_eq!(counted("todos"), Some(before[&stack.tables.todos].len() as u64));
    assert_eq!(counted("stats"), Some(before[&stack.tables.stats].len() as u64));
    assert_eq!(counted("snapshots"), Some(before[&stack.tables.snapshots].len() as u64));
    assert_eq!(counted("connections"), Some(2));
    assert_eq!(receipt["userKey"].as_str().map(str::len), Some(64));
    assert_eq!(receipt["requestId"].as_str(), Some(answer.header("x-request-id").unwrap_or_default()));
    assert_no_personal_data(&answer.body.to_string(), ANN, &ann_titles);

    for (table, items) in items_of(&stack, ANN).await {
        assert!(items.is_empty(), "{table} still holds {items:?}");
    }
    assert_eq!(items_of(&stack, BOB).await, bob_before, "Bob's items, byte for byte");
    let stored = scan(&stack, &stack.erasures).await;
    assert_eq!(stored.len(), 1, "one receipt");
    assert_no_personal_data(&format!("{stored:?}"), ANN, &ann_titles);

    // Asking again answers the same receipt; Ann's stale token writes nothing any more.
    let again = stack.send(erase_account(ANN)).await;
    assert_eq!((again.status, &again.body["receipt"]), (200, receipt));
    let refused = stack.send(create(ANN, json!({"title": "after the erasure"}))).await;
    assert_error(&refused, 410);
    assert_eq!(refused.body["error"]["code"], "account_erased");
    assert!(items_of(&stack, ANN).await.values().all(Vec::is_empty));
    // Bob goes on as before.
    created(&stack, BOB, "still here").await;
}

#[tokio::test]
async fn without_verified_claims_nothing_is_erased() {
    let stack = Stack::new().await;
    populate(&stack, ANN).await;
    let before = items_of(&stack, ANN).await;
    let anonymous = todo_testkit::ApiEvent::new("DELETE", "/account", "/account");
    assert_error(&stack.send(anonymous).await, 401);
    assert_eq!(items_of(&stack, ANN).await, before);
    assert!(scan(&stack, &stack.erasures).await.is_empty());
}

/// A store that fails after a number of pages deleted, as a function that dies halfway would.
struct DiesAfter {
    inner: Arc<dyn UserEraser>,
    pages_left: AtomicUsize,
}

#[async_trait]
impl UserEraser for DiesAfter {
    async fn erase_some(&self, user: &UserId, what: UserData, limit: usize) -> Result<usize, StoreError> {
        if self.pages_left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_err() {
            return Err(StoreError::unavailable("BatchWriteItem", "the function died"));
        }
        self.inner.erase_some(user, what, limit).await
    }
}

#[tokio::test]
async fn an_erasure_that_dies_halfway_is_finished_by_asking_again_with_one_receipt() {
    let stack = Stack::with_holders(|store| {
        vec![Arc::new(DiesAfter { inner: store, pages_left: AtomicUsize::new(2) }) as Arc<dyn UserEraser>]
    })
    .await;
    populate(&stack, ANN).await;
    let events = items_of(&stack, ANN).await[&stack.tables.events].len() as u64;
    let user = user_id(ANN);
    let died = stack.erasure.erase(&user, "first-request", Duration::from_secs(20)).await;
    assert!(matches!(died, Err(StoreError::Unavailable { .. })), "{died:?}");
    // The marker is down: commands fail while the erasure is unfinished.
    assert!(matches!(stack.erasure.erasure_of(&user).await, Ok(Some(Erasure::Erasing { .. }))));
    assert_error(&stack.send(create(ANN, json!({"title": "in between"}))).await, 410);

    // A repeat (a healthy function) finishes it.
    let healthy = account::ErasureService::new(
        stack.store.clone(),
        stack.key.clone(),
        vec![stack.store.clone()],
        todo_platform::http::Edge::new(ORIGIN).unwrap(),
    )
    .with_settle(SETTLE);
    let Outcome::Erased(receipt) = healthy.erase(&user, "second-request", Duration::from_secs(20)).await.unwrap()
    else {
        panic!("the repeat finishes the erasure");
    };
    assert_eq!(receipt.request_id, "first-request", "the receipt names the request that asked first");
    assert_eq!(receipt.erased.events, events, "every event counted once, across both requests");
    assert!(items_of(&stack, ANN).await.values().all(Vec::is_empty));
    let stored = scan(&stack, &stack.erasures).await;
    assert_eq!(stored.len(), 1, "one receipt");
    assert_eq!(stored[0].get("status"), Some(&AttributeValue::S("erased".into())));
}

#[tokio::test]
async fn stream_records_of_erased_events_delivered_again_bring_nothing_back() {
    let stack = Stack::new().await;
    // Ann's last events, read from the stream but not yet projected when the erasure runs.
    let id = created(&stack, ANN, "in flight").await;
    assert_eq!(stack.send(complete(ANN, &id)).await.status, 200);
    let mut in_flight = Vec::new();
    for _ in 0..5 {
        in_flight.extend(stack.poll().await.records);
    }
    assert!(in_flight.len() >= 2, "the two events' records were read");
    populate(&stack, BOB).await;
    let bob_before = items_of(&stack, BOB).await;

    let answer = stack.send(erase_account(ANN)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    // Delivered after the erasure, and again (a retried batch).
    for _ in 0..2 {
        let mut batch: aws_lambda_events::event::dynamodb::Event =
            serde_json::from_value(json!({ "Records": Vec::<Value>::new() })).unwrap();
        batch.records = in_flight.clone();
        let response = stack.projector.handle_batch(batch).await;
        assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    }
    for (table, items) in items_of(&stack, ANN).await {
        assert!(items.is_empty(), "{table} holds {items:?} again");
    }
    assert_eq!(items_of(&stack, BOB).await, bob_before);
}

#[tokio::test]
async fn commands_racing_the_erasure_land_before_it_and_go_or_fail_and_leave_nothing() {
    let stack = Arc::new(Stack::new().await);
    created(&stack, ANN, "before").await;
    let (accepted_after_refusal, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let writer = {
        let (stack, accepted_after_refusal, refused) = (stack.clone(), accepted_after_refusal.clone(), refused.clone());
        tokio::spawn(async move {
            let mut accepted = 0;
            for n in 0.. {
                let answer = stack.send(create(ANN, json!({ "title": format!("racing {n}") }))).await;
                match answer.status {
                    201 if refused.load(Ordering::SeqCst) > 0 => {
                        accepted_after_refusal.fetch_add(1, Ordering::SeqCst);
                    }
                    201 => accepted += 1,
                    410 => {
                        if refused.fetch_add(1, Ordering::SeqCst) >= 20 {
                            break;
                        }
                    }
                    other => panic!("unexpected {other}: {:?}", answer.body),
                }
            }
            accepted
        })
    };
    let projecting = {
        let stack = stack.clone();
        tokio::spawn(async move {
            for _ in 0..40 {
                stack.project().await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answer = stack.send(erase_account(ANN)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let accepted = writer.await.expect("the writer");
    projecting.await.expect("the projector");
    stack.project().await;
    assert!(accepted > 0, "some commands landed before the erasure");
    assert_eq!(accepted_after_refusal.load(Ordering::SeqCst), 0, "once refused, refused for good");
    for (table, items) in items_of(&stack, ANN).await {
        assert!(items.is_empty(), "{table} holds {} of Ann's items after the race", items.len());
    }
    let events_erased = answer.body["receipt"]["erased"]["events"].as_u64().unwrap_or_default();
    assert_eq!(events_erased, accepted as u64 + 1, "every event that landed was erased");
}
