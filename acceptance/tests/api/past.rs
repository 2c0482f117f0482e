//! Past states through the real handlers on DynamoDB Local: the list as of every event boundary of
//! one history, and every version of each todo, equal the fold of the events up to it (read back
//! from the history route), pages included; bad instants and versions are a clear 400.

use std::collections::BTreeMap;

use events_schema::{Event, EventRecord, Todo, TodoItem, fold};
use serde_json::json;

use crate::stack::*;

fn list_as_of(user: User, at: &str) -> todo_testkit::ApiEvent {
    list(user).query("asOf", at)
}

/// The user's events as `GET /history` returns them, decoded (each entry plus the user id is the
/// stored record).
async fn events_of(stack: &Stack, user: User) -> Vec<Event> {
    let answer = stack.send(history(user).query("limit", "100")).await;
    assert_eq!(answer.status, 200);
    answer.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let mut entry = entry.clone();
            let (todo, version) = (entry["todoId"].as_str().unwrap().to_owned(), entry["version"].as_u64().unwrap());
            entry["userId"] = json!(user.sub);
            entry["eventKey"] = json!(events_schema::event_key_string(&todo, version));
            Event::from_record(serde_json::from_value::<EventRecord>(entry).unwrap()).unwrap()
        })
        .collect()
}

/// The live todos, in id order, of the fold of each todo's events no later than `at`.
fn folded(events: &[Event], at: events_schema::Timestamp) -> Vec<TodoItem> {
    let mut by_todo: BTreeMap<_, Vec<&Event>> = BTreeMap::new();
    for event in events.iter().filter(|e| e.occurred_at <= at) {
        by_todo.entry(event.todo_id).or_default().push(event);
    }
    by_todo.into_values().filter_map(|events| fold(events).live().cloned()).collect()
}

async fn whole_list_as_of(stack: &Stack, at: &str, limit: &str) -> Vec<TodoItem> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut event = list_as_of(ANN, at).query("limit", limit);
        if let Some(cursor) = &cursor {
            event = event.query("cursor", cursor);
        }
        let answer = stack.send(event).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_edge_headers(&answer);
        items.extend(serde_json::from_value::<Vec<TodoItem>>(answer.body["items"].clone()).unwrap());
        match answer.body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

#[tokio::test]
async fn the_list_as_of_every_event_boundary_is_the_fold_up_to_it() {
    let stack = Stack::new().await;
    let milk = created(&stack, ANN, "Buy milk").await;
    let mum = created(&stack, ANN, "Call mum").await;
    let bobs = created(&stack, BOB, "Bob's").await;
    assert_eq!(stack.send(update(ANN, &milk, json!({"title": "Buy oat milk"}))).await.status, 200);
    assert_eq!(stack.send(complete(ANN, &mum)).await.status, 200);
    assert_eq!(stack.send(update(ANN, &mum, json!({"completed": false}))).await.status, 200);
    assert_eq!(stack.send(delete(ANN, &milk)).await.status, 204);
    let third = created(&stack, ANN, "Water plants").await;
    assert_eq!(stack.send(complete(ANN, &third)).await.status, 200);

    let events = events_of(&stack, ANN).await;
    assert_eq!(events.len(), 8);
    let mut boundaries = Vec::new();
    for event in &events {
        boundaries
            .push(events_schema::Timestamp::from_datetime(event.occurred_at.as_datetime() - chrono_microsecond()));
        boundaries.push(event.occurred_at);
    }
    for at in boundaries {
        let expected = folded(&events, at);
        for limit in ["1", "50"] {
            let got = whole_list_as_of(&stack, &at.to_string(), limit).await;
            assert_eq!(got, expected, "as of {at}, pages of {limit}");
        }
        assert!(expected.iter().all(|item| item.id.to_string() != bobs), "never another user's todo");
        // Filters apply to the past too.
        let answer = stack.send(list_as_of(ANN, &at.to_string()).query("status", "completed")).await;
        let completed: Vec<TodoItem> = serde_json::from_value(answer.body["items"].clone()).unwrap();
        assert_eq!(completed, expected.iter().filter(|i| i.completed).cloned().collect::<Vec<_>>());
    }

    // Each todo at every version, and as of each of its events.
    for id in [&milk, &mum, &third] {
        let mine: Vec<&Event> = events.iter().filter(|e| e.todo_id.to_string() == *id).collect();
        for event in &mine {
            let state = fold(mine.iter().copied().filter(|e| e.version <= event.version));
            for answer in [
                stack.send(get(ANN, id).query("version", &event.version.to_string())).await,
                stack.send(get(ANN, id).query("asOf", &event.occurred_at.to_string())).await,
            ] {
                match &state {
                    Todo::Live(item) => {
                        assert_eq!(answer.status, 200, "{}", answer.body);
                        assert_eq!(serde_json::from_value::<TodoItem>(answer.body.clone()).unwrap(), *item);
                        assert_eq!(answer.header("etag"), None, "a past state is not something to apply If-Match to");
                    }
                    _ => {
                        assert_error(&answer, 404);
                        assert_eq!(answer.body["error"]["code"], "deleted", "{}", answer.body);
                    }
                }
            }
        }
        let before = events_schema::Timestamp::from_datetime(mine[0].occurred_at.as_datetime() - chrono_microsecond());
        let answer = stack.send(get(ANN, id).query("asOf", &before.to_string())).await;
        assert_error(&answer, 404);
        assert_eq!(answer.body["error"]["code"], "not_yet_created");
        assert!(answer.body["error"]["message"].as_str().unwrap().contains("did not exist yet"));
    }

    // Another user's todo, at any moment, is a 404 like a missing one.
    let answer = stack.send(get(ANN, &bobs).query("version", "1")).await;
    assert_error(&answer, 404);
    assert_eq!(answer.body["error"]["code"], "not_found");
}

fn chrono_microsecond() -> chrono::Duration {
    chrono::Duration::microseconds(1)
}

#[tokio::test]
async fn bad_instants_and_versions_are_a_clear_400_and_write_nothing() {
    let stack = Stack::new().await;
    let id = created(&stack, ANN, "Buy milk").await;
    assert_eq!(stack.send(update(ANN, &id, json!({"title": "Buy oat milk"}))).await.status, 200);
    let before = stack.tables.event_count().await;
    let cases: Vec<(&str, todo_testkit::ApiEvent, &str)> = vec![
        ("a malformed instant", list_as_of(ANN, "yesterday"), "invalid_as_of"),
        ("a date without a time", list_as_of(ANN, "2026-11-29"), "invalid_as_of"),
        ("a future instant", list_as_of(ANN, "2999-01-01T00:00:00Z"), "invalid_as_of"),
        ("a malformed instant on one todo", get(ANN, &id).query("asOf", "2026-13-45T99:00:00Z"), "invalid_as_of"),
        ("version 0", get(ANN, &id).query("version", "0"), "invalid_version"),
        ("a negative version", get(ANN, &id).query("version", "-1"), "invalid_version"),
        ("a version that is not a number", get(ANN, &id).query("version", "two"), "invalid_version"),
        ("a version above the current one", get(ANN, &id).query("version", "3"), "invalid_version"),
        (
            "both asOf and version",
            get(ANN, &id).query("version", "1").query("asOf", "2026-11-29T00:00:00Z"),
            "invalid_query",
        ),
        ("a bad cursor on a past list", list_as_of(ANN, "2026-11-29T00:00:00Z").query("cursor", "x"), "invalid_cursor"),
    ];
    for (what, event, code) in cases {
        let answer = stack.send(event).await;
        assert_error(&answer, 400);
        assert_eq!(answer.body["error"]["code"], code, "{what}: {}", answer.body);
    }
    let answer = stack.send(get(ANN, &id).query("version", "3")).await;
    assert!(answer.body["error"]["message"].as_str().unwrap().contains("versions 1 to 2"), "{}", answer.body);
    assert_eq!(stack.tables.event_count().await, before, "nothing written");
}

/// A history a minute per event, ended hours ago: the projector's snapshots of it have settled.
fn settled_history(user: &str, count: usize) -> Vec<Event> {
    use events_schema::{EventMetadata, Timestamp, TodoCompleted, TodoCreated, TodoDeleted, TodoEvent, TodoUpdated};
    let start = chrono::Utc::now() - chrono::Duration::minutes(count as i64 + 180);
    let mut versions = [0u64; 25];
    (0..count)
        .map(|i| {
            let todo = i % 25;
            versions[todo] += 1;
            let version = versions[todo];
            let title = format!("todo {todo}");
            let last = count - i <= 25;
            let payload = match version {
                1 => TodoEvent::Created(TodoCreated { title, notes: Some("from long ago".into()) }),
                _ if last && todo % 5 == 4 => TodoEvent::Deleted(TodoDeleted { title }),
                v if v % 4 == 0 => TodoEvent::Completed(TodoCompleted { title }),
                v if v % 4 == 1 => TodoEvent::Updated(TodoUpdated { completed: Some(false), ..Default::default() }),
                v => {
                    TodoEvent::Updated(TodoUpdated { title: Some(format!("{title}, edit {v}")), ..Default::default() })
                }
            };
            Event {
                user_id: events_schema::UserId::parse(user).unwrap(),
                todo_id: events_schema::TodoId::from_uuid(uuid::Uuid::from_u128(
                    0x0193_0000_0000_7000_8000_0000_0000_0000 | todo as u128,
                )),
                version,
                event_id: uuid::Uuid::now_v7(),
                occurred_at: Timestamp::from_datetime(start + chrono::Duration::minutes(i as i64)),
                payload,
                metadata: EventMetadata::default(),
                chain: None,
            }
        })
        .collect()
}

/// On DynamoDB Local, lists as of instants before, at and after the projector's list snapshots
/// (each read back from `SnapshotsTable` and resumed through the `UserTimeline` index) are the
/// folds of the events, as the handler serves them.
#[tokio::test]
async fn a_list_resumed_from_the_projectors_snapshots_is_the_fold_of_the_events() {
    use projector::snapshots::{Outcome, take_if_due};
    use todo_platform::store::{EventLog as _, SnapshotStore as _};

    let stack = Stack::new().await;
    let store = stack.tables.store();
    let events = settled_history(ANN.sub, 500);
    for event in &events {
        store.append(std::slice::from_ref(event)).await.unwrap();
    }
    // The projector's check as it would have run after every 50th event, with that event's time
    // as its clock (it snapshots only what is a margin older).
    let user = events_schema::UserId::parse(ANN.sub).unwrap();
    let mut taken = Vec::new();
    for event in events.iter().step_by(50) {
        if let Outcome::Taken { at, events } = take_if_due(&store, &store, &user, event.occurred_at).await.unwrap() {
            taken.push((at, events));
        }
    }
    // At the checks of events 250 and 450: 249 settled events, then 200 more.
    assert_eq!(taken.iter().map(|(_, events)| *events).collect::<Vec<_>>(), [249, 449]);
    for (at, _) in &taken {
        assert_eq!(store.latest_snapshot(&user, *at).await.unwrap().map(|s| s.at), Some(*at));
    }
    let mut instants: Vec<_> = events.iter().step_by(37).map(|e| e.occurred_at).collect();
    for (at, _) in &taken {
        instants
            .extend([*at, events_schema::Timestamp::from_datetime(at.as_datetime() + chrono::Duration::seconds(30))]);
    }
    instants.push(events.last().unwrap().occurred_at);
    for at in instants {
        let expected = folded(&events, at);
        assert!(!expected.is_empty());
        for limit in ["7", "100"] {
            assert_eq!(
                whole_list_as_of(&stack, &at.to_string(), limit).await,
                expected,
                "as of {at}, pages of {limit}"
            );
        }
    }
}
