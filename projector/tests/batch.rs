//! A stream batch as Lambda delivers it: one bad record is reported on its own and blocks nothing.

use std::sync::Arc;

use aws_lambda_events::event::dynamodb::Event as StreamBatch;
use events_schema::{Todo, TodoId, UserId};
use projector::Projector;
use todo_platform::store::ProjectionStore;
use todo_platform::store::memory::MemoryStore;

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
