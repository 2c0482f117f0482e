//! The erasure's own rules, on the in-memory store: a request that runs out of time answers 202
//! and the next one resumes; the last sweep waits for the settle time; a repeat answers the receipt.

use std::sync::Arc;
use std::time::Duration;

use account::{ErasureService, Outcome};
use events_schema::{Event, EventMetadata, Timestamp, TodoCreated, TodoEvent, TodoId, UserId};
use todo_platform::http::Edge;
use todo_platform::store::memory::MemoryStore;
use todo_platform::store::{ErasureKey, EventLog as _, UserEraser};

fn created(user: &UserId, n: u128) -> Event {
    Event {
        user_id: user.clone(),
        todo_id: TodoId::from_uuid(uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 + n)),
        version: 1,
        event_id: uuid::Uuid::now_v7(),
        occurred_at: Timestamp::from_datetime(chrono::Utc::now()),
        payload: TodoEvent::Created(TodoCreated { title: format!("todo {n}"), notes: None }),
        metadata: EventMetadata::default(),
        chain: None,
    }
}

async fn store_with(user: &UserId, events: u128) -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    for n in 0..events {
        store.append(&[created(user, n)]).await.expect("append");
    }
    store
}

fn service(store: &Arc<MemoryStore>, key: &ErasureKey, settle: Duration) -> ErasureService {
    let holders: Vec<Arc<dyn UserEraser>> = vec![store.clone()];
    ErasureService::new(store.clone(), key.clone(), holders, Edge::new("https://todo.example.com").unwrap())
        .with_settle(settle)
}

#[tokio::test]
async fn a_request_out_of_time_answers_202_and_the_next_one_resumes() {
    let user = UserId::parse("ann").unwrap();
    let store = store_with(&user, 250).await;
    let service = service(&store, &ErasureKey::generate(), Duration::ZERO);
    let first = service.erase(&user, "first", Duration::ZERO).await.unwrap();
    let Outcome::Erasing { erased, retry_after } = first else { panic!("no time at all: not done, {first:?}") };
    assert_eq!((erased.events, retry_after), (0, Duration::from_secs(1)));
    let Outcome::Erased(receipt) = service.erase(&user, "second", Duration::from_secs(20)).await.unwrap() else {
        panic!("the repeat finishes it");
    };
    assert_eq!((receipt.erased.events, receipt.request_id.as_str()), (250, "first"));
    assert!(store.load(&user, &created(&user, 0).todo_id).await.unwrap().is_empty());
    let again = service.erase(&user, "third", Duration::from_secs(20)).await.unwrap();
    assert_eq!(again, Outcome::Erased(receipt), "a repeat answers the same receipt");
}

#[tokio::test]
async fn the_last_sweep_waits_for_the_settle_time_and_takes_what_landed_meanwhile() {
    let user = UserId::parse("bob").unwrap();
    let store = store_with(&user, 3).await;
    let key = ErasureKey::generate();
    // Everything goes at once, but the settle time is longer than a request may work.
    let waiting = service(&store, &key, Duration::from_secs(30));
    let Outcome::Erasing { erased, retry_after } = waiting.erase(&user, "r1", Duration::from_secs(1)).await.unwrap()
    else {
        panic!("not done before the settle time");
    };
    assert_eq!(erased.events, 3, "the first sweep went all the way");
    assert!(retry_after > Duration::from_secs(25) && retry_after <= Duration::from_secs(30), "{retry_after:?}");
    // An event that lands meanwhile (a command that passed the fence just before the marker)...
    store.append(&[created(&user, 99)]).await.unwrap();
    // ...is taken by the last sweep, once the settle time has passed (here: a shorter one).
    let settled = service(&store, &key, Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let Outcome::Erased(receipt) = settled.erase(&user, "r2", Duration::from_secs(5)).await.unwrap() else {
        panic!("settled: done");
    };
    assert_eq!((receipt.erased.events, receipt.request_id.as_str()), (4, "r1"));
    assert!(store.load(&user, &created(&user, 99).todo_id).await.unwrap().is_empty());
}
