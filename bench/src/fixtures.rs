//! What the benchmarks feed the code: users, events, stream batches as Lambda delivers them,
//! API Gateway events as the Cognito authorizer passes them, and seeding of DynamoDB tables.

use std::collections::HashMap;

use anyhow::Context as _;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use events_schema::{
    Event, EventMetadata, GENESIS_HASH, Timestamp, TodoCompleted, TodoCreated, TodoDeleted, TodoEvent, TodoId,
    TodoUpdated, UserId,
};
use serde_json::{Value, json};
use todo_testkit::ApiEvent;

/// The SPA origin the API functions are configured with.
pub const ORIGIN: &str = "https://todo.example.com";

/// A user no other run shares.
pub fn fresh_user(label: &str) -> anyhow::Result<UserId> {
    Ok(UserId::parse(&format!("bench-{label}-{}", uuid::Uuid::new_v4().simple()))?)
}

pub fn new_todo_id() -> TodoId {
    TodoId::from_uuid(uuid::Uuid::now_v7())
}

/// Strictly increasing event times, starting now.
pub struct EventClock(Timestamp);

impl Default for EventClock {
    fn default() -> Self {
        Self(Timestamp::from_datetime(chrono::Utc::now()))
    }
}

impl EventClock {
    pub fn tick(&mut self) -> Timestamp {
        self.0 = self.0.next();
        self.0
    }
}

/// An event outside any hash chain: [`seal`] links a todo's events, [`first_event`] starts one.
pub fn event(user: &UserId, todo: TodoId, version: u64, payload: TodoEvent, at: Timestamp) -> Event {
    Event {
        user_id: user.clone(),
        todo_id: todo,
        version,
        event_id: uuid::Uuid::now_v7(),
        occurred_at: at,
        payload,
        metadata: EventMetadata {
            request_id: Some(uuid::Uuid::new_v4().to_string()),
            actor: Some(format!("{user}@bench.example.com")),
            source_ip: Some("203.0.113.7".into()),
            trace_id: None,
        },
        chain: None,
    }
}

pub fn created(title: &str) -> TodoEvent {
    TodoEvent::Created(TodoCreated { title: title.to_owned(), notes: Some("from the benchmark".into()) })
}

/// A todo's `TodoCreated` (version 1), sealed as the create command seals it.
pub fn first_event(user: &UserId, todo: TodoId, title: &str, at: Timestamp) -> Event {
    event(user, todo, 1, created(title), at).sealed(GENESIS_HASH)
}

/// Links one todo's events (version 1 first, in version order) into its hash chain, as the
/// commands do on every append: what the audit checks, and what an append carries.
pub fn seal(events: Vec<Event>) -> Vec<Event> {
    let mut previous = GENESIS_HASH.to_owned();
    events
        .into_iter()
        .map(|event| {
            let sealed = event.sealed(&previous);
            previous = hash_of(&sealed).to_owned();
            sealed
        })
        .collect()
}

/// The hash the todo's next event links to (an unsealed event starts no chain: genesis).
pub fn hash_of(event: &Event) -> &str {
    event.chain.as_ref().map_or(GENESIS_HASH, |chain| chain.hash.as_str())
}

/// One todo's life in `count` events (at least 1): created, edited, then completed and, when
/// `deleted`, deleted at the end; sealed.
pub fn lifecycle(user: &UserId, todo: TodoId, count: usize, deleted: bool, clock: &mut EventClock) -> Vec<Event> {
    let count = count.max(1);
    let title = format!("Todo {}", &todo.to_string()[..8]);
    let events = (1..=count)
        .map(|version| {
            let payload = match version {
                1 => created(&title),
                v if v == count && deleted => TodoEvent::Deleted(TodoDeleted { title: title.clone() }),
                v if v == count || (deleted && v == count - 1) => {
                    TodoEvent::Completed(TodoCompleted { title: title.clone() })
                }
                v => TodoEvent::Updated(TodoUpdated {
                    title: Some(format!("{title}, edit {v}")),
                    notes: None,
                    completed: None,
                }),
            };
            event(user, todo, version as u64, payload, clock.tick())
        })
        .collect();
    seal(events)
}

/// Writes events straight into the event table, 25 per `BatchWriteItem`: seeding only.
pub async fn put_events(client: &Client, table: &str, events: &[Event]) -> anyhow::Result<()> {
    for chunk in events.chunks(25) {
        let mut writes = Vec::with_capacity(chunk.len());
        for event in chunk {
            let item: HashMap<String, AttributeValue> =
                serde_dynamo::to_item(event.to_record()).context("encoding a seeded event")?;
            writes
                .push(WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build()?).build());
        }
        let mut pending = Some(HashMap::from([(table.to_owned(), writes)]));
        while let Some(items) = pending.take().filter(|items| !items.is_empty()) {
            let output =
                client.batch_write_item().set_request_items(Some(items)).send().await.context("seeding events")?;
            pending = output.unprocessed_items.filter(|left| left.values().any(|writes| !writes.is_empty()));
        }
    }
    Ok(())
}

/// Deletes tables a measurement is done with, so that the section's emulator holds only what the
/// measurement at hand wrote.
pub async fn drop_tables(client: &Client, names: &[&str]) {
    for name in names {
        let _ = client.delete_table().table_name(*name).send().await;
    }
}

/// A DynamoDB stream batch as Lambda delivers it: one `INSERT` record per event, `NEW_IMAGE`.
pub fn stream_batch(events: &[Event], table: &str) -> anyhow::Result<Value> {
    let arn = format!("arn:aws:dynamodb:us-east-1:123456789012:table/{table}/stream/2026-01-01T00:00:00.000");
    let mut records = Vec::with_capacity(events.len());
    for event in events {
        let record = event.to_record();
        let keys = json!({ "userId": { "S": record.user_id }, "eventKey": { "S": record.event_key } });
        let image: serde_dynamo::Item = serde_dynamo::to_item(&record).context("encoding a stream image")?;
        let image = serde_json::to_value(image).context("encoding a stream image")?;
        let size = image.to_string().len();
        records.push(json!({
            "eventID": uuid::Uuid::new_v4().simple().to_string(),
            "eventName": "INSERT",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "eventSourceARN": arn,
            "dynamodb": {
                "ApproximateCreationDateTime": event.occurred_at.as_datetime().timestamp(),
                "Keys": keys,
                "NewImage": image,
                "SequenceNumber": format!("{:021}", records.len() + 1),
                "SizeBytes": size,
                "StreamViewType": "NEW_IMAGE"
            }
        }));
    }
    Ok(json!({ "Records": records }))
}

/// `stream_batch`, parsed as the projector's handler receives it.
pub fn parsed_stream_batch(events: &[Event], table: &str) -> anyhow::Result<aws_lambda_events::event::dynamodb::Event> {
    serde_json::from_value(stream_batch(events, table)?).context("parsing a stream batch")
}

/// The API Gateway REST (v1) events of each route, for one signed-in user.
pub mod api {
    use super::*;

    fn signed_in(event: ApiEvent, user: &UserId) -> ApiEvent {
        event.signed_in(user.as_str(), &format!("{user}@bench.example.com"))
    }

    pub fn erase_account(user: &UserId) -> ApiEvent {
        signed_in(ApiEvent::new("DELETE", "/account", "/account"), user)
    }

    pub fn create(user: &UserId, title: &str) -> ApiEvent {
        signed_in(ApiEvent::new("POST", "/item", "/item"), user).json(&json!({ "title": title }))
    }

    pub fn update(user: &UserId, todo: TodoId, title: &str) -> ApiEvent {
        let path = format!("/item/{todo}");
        signed_in(ApiEvent::new("PUT", "/item/{id}", &path), user)
            .path_param("id", &todo.to_string())
            .json(&json!({ "title": title }))
    }

    pub fn complete(user: &UserId, todo: TodoId) -> ApiEvent {
        let path = format!("/item/{todo}/done");
        signed_in(ApiEvent::new("POST", "/item/{id}/done", &path), user).path_param("id", &todo.to_string())
    }

    pub fn delete(user: &UserId, todo: TodoId) -> ApiEvent {
        let path = format!("/item/{todo}");
        signed_in(ApiEvent::new("DELETE", "/item/{id}", &path), user).path_param("id", &todo.to_string())
    }

    pub fn list(user: &UserId) -> ApiEvent {
        signed_in(ApiEvent::new("GET", "/item", "/item"), user)
    }

    pub fn get(user: &UserId, todo: TodoId) -> ApiEvent {
        let path = format!("/item/{todo}");
        signed_in(ApiEvent::new("GET", "/item/{id}", &path), user).path_param("id", &todo.to_string())
    }

    pub fn item_history(user: &UserId, todo: TodoId) -> ApiEvent {
        let path = format!("/item/{todo}/history");
        signed_in(ApiEvent::new("GET", "/item/{id}/history", &path), user).path_param("id", &todo.to_string())
    }

    pub fn history(user: &UserId) -> ApiEvent {
        signed_in(ApiEvent::new("GET", "/history", "/history"), user)
    }

    pub fn history_digest(user: &UserId) -> ApiEvent {
        signed_in(ApiEvent::new("GET", "/history/digest", "/history/digest"), user)
    }

    pub fn export(user: &UserId) -> ApiEvent {
        signed_in(ApiEvent::new("GET", "/export", "/export"), user)
    }

    pub fn stats(user: &UserId) -> ApiEvent {
        signed_in(ApiEvent::new("GET", "/stats", "/stats"), user)
    }

    /// The request exactly as `lambda_http` hands it to a handler in Lambda.
    pub fn request(event: &ApiEvent) -> anyhow::Result<lambda_http::Request> {
        lambda_http::request::from_str(&event.to_json()).context("parsing an API Gateway event")
    }

    /// The status code of an API Gateway proxy response, as a function returns it to Lambda.
    pub fn proxy_status(body: &[u8]) -> Option<u64> {
        serde_json::from_slice::<Value>(body).ok()?.get("statusCode")?.as_u64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycles_fold_to_the_expected_state() {
        let user = fresh_user("t").unwrap();
        let mut clock = EventClock::default();
        let live = lifecycle(&user, new_todo_id(), 4, false, &mut clock);
        let state = events_schema::fold(&live);
        assert!(state.live().is_some_and(|item| item.completed && item.version == 4));
        let gone = lifecycle(&user, new_todo_id(), 5, true, &mut clock);
        assert!(matches!(events_schema::fold(&gone), events_schema::Todo::Deleted(_)));
    }

    #[test]
    fn lifecycles_are_sealed_chains_the_audit_accepts() {
        let user = fresh_user("t").unwrap();
        let events = lifecycle(&user, new_todo_id(), 5, true, &mut EventClock::default());
        let mut checker = events_schema::integrity::ChainChecker::new();
        for event in &events {
            assert!(event.chain.is_some());
            assert_eq!(checker.check(&event.to_record()), vec![]);
        }
        assert_eq!(events[1].chain.as_ref().unwrap().prev_hash, events[0].chain.as_ref().unwrap().hash);
    }

    #[test]
    fn stream_batches_decode_into_the_events() {
        let user = fresh_user("t").unwrap();
        let events = lifecycle(&user, new_todo_id(), 3, false, &mut EventClock::default());
        let batch = parsed_stream_batch(&events, "EventsTable").unwrap();
        let decoded: Vec<Event> =
            batch.records.into_iter().map(|r| projector::decode_stream_record(r).unwrap()).collect();
        assert_eq!(decoded, events);
    }
}
