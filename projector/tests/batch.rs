//! A stream batch as Lambda delivers it: one bad record is reported on its own and blocks nothing.

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::Event as StreamBatch;
use events_schema::{Todo, TodoId, UserId};
use projector::Projector;
use std::sync::atomic::{AtomicUsize, Ordering};

use todo_platform::store::memory::MemoryStore;
use todo_platform::store::{AppendError, EventLog, ProjectionStore, StoreError};

fn fixture() -> StreamBatch {
    serde_json::from_str(include_str!("fixtures/stream-batch.json")).expect("a Lambda DynamoDB stream event")
}

#[tokio::test]
async fn a_bad_record_is_reported_alone_and_the_rest_applied() {
    let store = Arc::new(MemoryStore::new());
    let projector = Projector::new(store.clone(), store.clone());

    let response = projector.handle_batch(fixture()).await;

    let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, vec![Some("222".to_owned())], "only the record of an unknown type fails");

    let ann = UserId::parse("4f1c2e9a-0000-4b8e-9a55-0a1b2c3d4e5f").unwrap();
    let bob = UserId::parse("7d3b1a0c-0000-4c2d-8e77-6f5e4d3c2b1a").unwrap();
    let milk = store.state(&ann, &TodoId::parse("01a2144e-2610-75f9-98b2-fe14b7bcd02c").unwrap()).await.unwrap();
    let Todo::Live(milk) = milk else { panic!("the todo before the bad record is projected: {milk:?}") };
    assert_eq!(milk.title, "Buy milk");
    assert_eq!(milk.notes.as_deref(), Some("semi-skimmed"));
    let dog = store.state(&bob, &TodoId::parse("01a2144f-0000-7000-8000-000000000009").unwrap()).await.unwrap();
    assert!(matches!(dog, Todo::Live(ref t) if t.title == "Walk the dog"), "the todo after it too: {dog:?}");
}

#[tokio::test]
async fn a_redelivered_batch_changes_nothing() {
    let store = Arc::new(MemoryStore::new());
    let projector = Projector::new(store.clone(), store.clone());
    projector.handle_batch(fixture()).await;
    let ann = UserId::parse("4f1c2e9a-0000-4b8e-9a55-0a1b2c3d4e5f").unwrap();
    let id = TodoId::parse("01a2144e-2610-75f9-98b2-fe14b7bcd02c").unwrap();
    let before = store.state(&ann, &id).await.unwrap();
    let again = projector.handle_batch(fixture()).await;
    assert_eq!(again.batch_item_failures.len(), 1);
    assert_eq!(store.state(&ann, &id).await.unwrap(), before);
}

#[test]
fn the_response_is_what_report_batch_item_failures_expects() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let store = Arc::new(MemoryStore::new());
    let response = runtime.block_on(Projector::new(store.clone(), store).handle_batch(fixture()));
    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": "222"}]})
    );
}

/// A stream record as Lambda delivers it, `NEW_IMAGE`.
fn record(event: &events_schema::Event, sequence: usize) -> serde_json::Value {
    let stored = event.to_record();
    let image: serde_dynamo::Item = serde_dynamo::to_item(&stored).expect("image");
    serde_json::json!({
        "eventID": format!("event-{sequence}"),
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/EventsTable/stream/2026-01-01T00:00:00.000",
        "dynamodb": {
            "Keys": { "userId": { "S": stored.user_id }, "eventKey": { "S": stored.event_key } },
            "NewImage": image,
            "SequenceNumber": sequence.to_string(),
            "SizeBytes": 100,
            "StreamViewType": "NEW_IMAGE"
        }
    })
}

#[tokio::test]
async fn many_todos_interleaved_each_reach_their_fold_and_failures_come_in_batch_order() {
    use events_schema::{Event, EventMetadata, Timestamp, TodoCompleted, TodoCreated, TodoEvent, TodoUpdated, fold};

    let users = [UserId::parse("ann").unwrap(), UserId::parse("bob").unwrap()];
    let mut at = Timestamp::from_datetime(a_day_ago());
    let histories: Vec<Vec<Event>> = (0..20u128)
        .map(|n| {
            let (user, todo) = (
                &users[n as usize % 2],
                TodoId::from_uuid(uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | n)),
            );
            let payloads = [
                TodoEvent::Created(TodoCreated { title: format!("todo {n}"), notes: None }),
                TodoEvent::Updated(TodoUpdated {
                    title: Some(format!("todo {n}, renamed")),
                    notes: None,
                    completed: None,
                }),
                TodoEvent::Completed(TodoCompleted { title: format!("todo {n}, renamed") }),
            ];
            payloads
                .into_iter()
                .enumerate()
                .map(|(i, payload)| {
                    at = at.next();
                    Event {
                        user_id: user.clone(),
                        todo_id: todo,
                        version: i as u64 + 1,
                        event_id: uuid::Uuid::now_v7(),
                        occurred_at: at,
                        payload,
                        metadata: EventMetadata::default(),
                        chain: None,
                    }
                })
                .collect()
        })
        .collect();
    // Interleaved as a stream interleaves todos: every todo's first event, then every second...
    let mut records = Vec::new();
    for version in 0..3 {
        for history in &histories {
            records.push(record(&history[version], records.len()));
        }
    }
    // Two records that cannot be decoded, at known places.
    for position in [7, 41] {
        let mut bad = record(&histories[0][0], position);
        bad["dynamodb"]["NewImage"]["type"] = serde_json::json!({ "S": "TodoArchived" });
        records.insert(position, bad);
    }
    for (sequence, record) in records.iter_mut().enumerate() {
        record["dynamodb"]["SequenceNumber"] = serde_json::json!(sequence.to_string());
    }
    let batch: StreamBatch = serde_json::from_value(serde_json::json!({ "Records": records })).expect("batch");
    let store = Arc::new(MemoryStore::new());
    for history in &histories {
        store.append(history).await.expect("append");
    }
    let log = Arc::new(CountingLog { inner: store.clone(), loads: AtomicUsize::new(0) });

    let response = Projector::new(log.clone(), store.clone()).handle_batch(batch).await;

    let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, vec![Some("7".to_owned()), Some("41".to_owned())]);
    for history in &histories {
        let first = &history[0];
        assert_eq!(store.state(&first.user_id, &first.todo_id).await.unwrap(), fold(history));
    }
    assert_eq!(log.loads.load(Ordering::SeqCst), 0, "each todo's events came in order: no gap to repair");
}

/// The event table, counting the projector's gap repairs.
struct CountingLog {
    inner: Arc<MemoryStore>,
    loads: AtomicUsize,
}

#[async_trait::async_trait]
impl EventLog for CountingLog {
    async fn load(&self, user: &UserId, todo: &TodoId) -> Result<Vec<events_schema::Event>, StoreError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.inner.load(user, todo).await
    }

    async fn append(&self, events: &[events_schema::Event]) -> Result<(), AppendError> {
        self.inner.append(events).await
    }

    async fn has_events(&self, user: &UserId, todo: &TodoId) -> Result<bool, StoreError> {
        self.inner.has_events(user, todo).await
    }
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
