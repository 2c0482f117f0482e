//! Warm latency of every route's handler against DynamoDB Local, next to its floor: the same
//! DynamoDB calls made directly with the SDK, in the same process, over the same client,
//! interleaved with the handler's calls so that both see the same machine.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use commands::CommandService;
use events_schema::{Event, TodoCompleted, TodoDeleted, TodoEvent, TodoId, TodoUpdated, UserId, event_key_range, fold};
use lambda_http::{Body, Request, Response};
use queries::QueryService;
use serde::Serialize;
use todo_platform::http::Edge;
use todo_platform::manifest::USER_TIMELINE_INDEX;
use todo_platform::store::dynamo::DynamoStore;
use todo_platform::store::{ProjectionStore as _, WriteGuard};
use todo_testkit::dynamodb::Tables;

use crate::fixtures::{
    EventClock, ORIGIN, api, event, first_event, fresh_user, hash_of, lifecycle, new_todo_id, put_events,
};
use crate::stats::{Samples, Spread};
use crate::{Emulator, Progress, Settings};

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Create,
    Update,
    Complete,
    Delete,
    List,
    Get,
    ItemHistory,
    History,
}

impl Route {
    const ALL: [Route; 8] = [
        Self::Create,
        Self::Update,
        Self::Complete,
        Self::Delete,
        Self::List,
        Self::Get,
        Self::ItemHistory,
        Self::History,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Create => "POST /item",
            Self::Update => "PUT /item/{id}",
            Self::Complete => "POST /item/{id}/done",
            Self::Delete => "DELETE /item/{id}",
            Self::List => "GET /item",
            Self::Get => "GET /item/{id}",
            Self::ItemHistory => "GET /item/{id}/history",
            Self::History => "GET /history",
        }
    }

    fn function(self) -> &'static str {
        match self {
            Self::Create => "create-todo",
            Self::Update => "update-todo",
            Self::Complete => "complete-todo",
            Self::Delete => "delete-todo",
            Self::List => "list-todos",
            Self::Get => "get-todo",
            Self::ItemHistory => "get-todo-history",
            Self::History => "get-history",
        }
    }

    fn floor_calls(self) -> &'static str {
        match self {
            Self::Create => "PutItem (conditional)",
            Self::Update | Self::Complete | Self::Delete => "Query (1 event) + PutItem",
            Self::List => "Query TodoTable (20 rows)",
            Self::Get => "GetItem",
            Self::ItemHistory => "Query EventsTable (3 events)",
            Self::History => "Query UserTimeline (≈50 events)",
        }
    }

    fn is_command(self) -> bool {
        matches!(self, Self::Create | Self::Update | Self::Complete | Self::Delete)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct WarmResult {
    pub route: String,
    pub function: String,
    pub floor_calls: String,
    pub handler_p50_ms: Option<Spread>,
    pub handler_p99_ms: Option<Spread>,
    pub floor_p50_ms: Option<Spread>,
    pub floor_p99_ms: Option<Spread>,
    /// Handler p50 / floor p50, run by run.
    pub ratio_p50: Option<Spread>,
    pub ratio_p99: Option<Spread>,
    /// Commands: the floor's PutItem alone (one round trip), and handler p50 over it.
    pub single_call_p50_ms: Option<Spread>,
    pub single_call_ratio_p50: Option<Spread>,
    pub iterations_per_run: usize,
}

/// One iteration's inputs: the handler's request, and what the floor reads and writes.
struct Step {
    request: Request,
    floor: Floor,
}

enum Floor {
    /// Append version 1 (conditional PutItem): the create command's one round trip.
    Create {
        item: Item,
    },
    /// Query one todo's events, then append one (conditional PutItem).
    Command {
        user: String,
        todo: TodoId,
        item: Item,
    },
    GetItem {
        key: Item,
    },
    ListQuery {
        user: String,
    },
    ItemHistoryQuery {
        user: String,
        todo: TodoId,
    },
    TimelineQuery {
        user: String,
    },
}

/// A reader with 20 todos in both tables and ≈50 events.
struct Reader {
    user: UserId,
    todos: Vec<TodoId>,
}

async fn seed_reader(tables: &Tables, store: &DynamoStore) -> anyhow::Result<Reader> {
    let user = fresh_user("warm-reader")?;
    let mut clock = EventClock::default();
    let (mut todos, mut all) = (Vec::new(), Vec::new());
    for n in 0..20 {
        let todo = new_todo_id();
        let events = lifecycle(&user, todo, if n % 2 == 0 { 2 } else { 3 }, false, &mut clock);
        store.put(&user, &fold(&events), WriteGuard::NotOlder).await.context("seeding a read-model row")?;
        all.extend(events);
        todos.push(todo);
    }
    put_events(&tables.client, &tables.events, &all).await?;
    Ok(Reader { user, todos })
}

fn encode(event: &Event) -> anyhow::Result<Item> {
    serde_dynamo::to_item(event.to_record()).context("encoding an event")
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// The inputs of `count` iterations of `route`, seeding what they act on.
async fn steps(route: Route, count: usize, tables: &Tables, reader: &Reader) -> anyhow::Result<Vec<Step>> {
    let mut clock = EventClock::default();
    let mut steps = Vec::with_capacity(count);
    let request = |event: todo_testkit::ApiEvent| api::request(&event);
    match route {
        Route::Create => {
            let user = fresh_user("warm-create")?;
            for i in 0..count {
                let todo = new_todo_id();
                let item = encode(&first_event(&user, todo, &format!("Floor {i}"), clock.tick()))?;
                let floor = Floor::Create { item };
                steps.push(Step { request: request(api::create(&user, &format!("Warm {i}")))?, floor });
            }
        }
        Route::Update | Route::Complete | Route::Delete => {
            let user = fresh_user("warm-command")?;
            let seeded: Vec<Event> =
                (0..count * 2).map(|_| first_event(&user, new_todo_id(), "Seeded", clock.tick())).collect();
            put_events(&tables.client, &tables.events, &seeded).await?;
            for pair in seeded.chunks(2) {
                let (handled, floored) = (pair[0].todo_id, &pair[1]);
                let (api_event, payload) = match route {
                    Route::Update => (
                        api::update(&user, handled, "Renamed"),
                        TodoEvent::Updated(TodoUpdated { title: Some("Renamed".into()), ..Default::default() }),
                    ),
                    Route::Complete => {
                        (api::complete(&user, handled), TodoEvent::Completed(TodoCompleted { title: "Seeded".into() }))
                    }
                    _ => (api::delete(&user, handled), TodoEvent::Deleted(TodoDeleted { title: "Seeded".into() })),
                };
                // Sealed after the seeded event, so the floor writes the item a command writes.
                let next = event(&user, floored.todo_id, 2, payload, clock.tick()).sealed(hash_of(floored));
                let floor = Floor::Command { user: user.to_string(), todo: floored.todo_id, item: encode(&next)? };
                steps.push(Step { request: request(api_event)?, floor });
            }
        }
        Route::Get => {
            for i in 0..count {
                let todo = reader.todos[i % reader.todos.len()];
                let key = HashMap::from([
                    ("userId".to_owned(), s(reader.user.as_str())),
                    ("todoId".to_owned(), s(todo.to_string())),
                ]);
                steps.push(Step { request: request(api::get(&reader.user, todo))?, floor: Floor::GetItem { key } });
            }
        }
        Route::List => {
            for _ in 0..count {
                let floor = Floor::ListQuery { user: reader.user.to_string() };
                steps.push(Step { request: request(api::list(&reader.user))?, floor });
            }
        }
        Route::ItemHistory => {
            for i in 0..count {
                let todo = reader.todos[i % reader.todos.len()];
                let floor = Floor::ItemHistoryQuery { user: reader.user.to_string(), todo };
                steps.push(Step { request: request(api::item_history(&reader.user, todo))?, floor });
            }
        }
        Route::History => {
            for _ in 0..count {
                let floor = Floor::TimelineQuery { user: reader.user.to_string() };
                steps.push(Step { request: request(api::history(&reader.user))?, floor });
            }
        }
    }
    Ok(steps)
}

/// One todo's events, read as the adapter reads them.
fn one_todo_query(client: &Client, tables: &Tables, user: String, todo: &TodoId) -> QueryFluentBuilder {
    let (low, high) = event_key_range(todo);
    client
        .query()
        .table_name(&tables.events)
        .consistent_read(true)
        .key_condition_expression("userId = :user AND eventKey BETWEEN :low AND :high")
        .expression_attribute_values(":user", s(user))
        .expression_attribute_values(":low", s(low))
        .expression_attribute_values(":high", s(high))
}

/// Appends one event as the adapter does: a PutItem on the condition that its key is free.
async fn append(client: &Client, tables: &Tables, item: Item) -> anyhow::Result<()> {
    client
        .put_item()
        .table_name(&tables.events)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(eventKey)")
        .send()
        .await
        .context("floor PutItem")?;
    Ok(())
}

/// The floor's calls, as the adapter makes them; returns the time of the whole and of the
/// PutItem alone (commands).
async fn run_floor(client: &Client, tables: &Tables, floor: Floor) -> anyhow::Result<(Duration, Option<Duration>)> {
    let started = Instant::now();
    match floor {
        Floor::Create { item } => {
            append(client, tables, item).await?;
            let took = started.elapsed();
            return Ok((took, Some(took)));
        }
        Floor::Command { user, todo, item } => {
            one_todo_query(client, tables, user, &todo).send().await.context("floor Query")?;
            let put = Instant::now();
            append(client, tables, item).await?;
            return Ok((started.elapsed(), Some(put.elapsed())));
        }
        Floor::GetItem { key } => {
            client
                .get_item()
                .table_name(&tables.todos)
                .consistent_read(true)
                .set_key(Some(key))
                .send()
                .await
                .context("floor GetItem")?;
        }
        Floor::ListQuery { user } => {
            client
                .query()
                .table_name(&tables.todos)
                .consistent_read(true)
                .key_condition_expression("userId = :user")
                .filter_expression("deleted = :no")
                .expression_attribute_values(":user", s(user))
                .expression_attribute_values(":no", AttributeValue::Bool(false))
                .limit(i32::try_from(todo_platform::http::DEFAULT_PAGE_SIZE + 1).unwrap_or(i32::MAX))
                .send()
                .await
                .context("floor Query TodoTable")?;
        }
        Floor::ItemHistoryQuery { user, todo } => {
            one_todo_query(client, tables, user, &todo).send().await.context("floor Query EventsTable")?;
        }
        Floor::TimelineQuery { user } => {
            client
                .query()
                .table_name(&tables.events)
                .index_name(USER_TIMELINE_INDEX)
                .key_condition_expression("userId = :user")
                .expression_attribute_values(":user", s(user))
                .limit(i32::try_from(todo_platform::http::DEFAULT_PAGE_SIZE).unwrap_or(i32::MAX))
                .send()
                .await
                .context("floor Query UserTimeline")?;
        }
    }
    Ok((started.elapsed(), None))
}

async fn run_handler(
    route: Route,
    commands: &CommandService,
    queries: &QueryService,
    request: Request,
) -> Response<Body> {
    match route {
        Route::Create => commands::http::create_todo(commands, request).await,
        Route::Update => commands::http::update_todo(commands, request).await,
        Route::Complete => commands::http::complete_todo(commands, request).await,
        Route::Delete => commands::http::delete_todo(commands, request).await,
        Route::List => queries::http::list_todos(queries, request).await,
        Route::Get => queries::http::get_todo(queries, request).await,
        Route::ItemHistory => queries::http::get_todo_history(queries, request).await,
        Route::History => queries::http::get_history(queries, request).await,
    }
}

#[derive(Default)]
struct RouteRuns {
    handler_p50: Vec<f64>,
    handler_p99: Vec<f64>,
    floor_p50: Vec<f64>,
    floor_p99: Vec<f64>,
    single_p50: Vec<f64>,
}

pub async fn measure(settings: &Settings, progress: &Progress, dynamodb: &Emulator) -> anyhow::Result<Vec<WarmResult>> {
    let tables = Tables::fresh_in(dynamodb.client.clone()).await;
    let erasures = format!("Erasures-{}", uuid::Uuid::new_v4().simple());
    todo_platform::store::dynamo::create_erasure_table(&dynamodb.client, &erasures).await?;
    let store = Arc::new(tables.store().with_erasure_table(erasures.as_str()));
    let client = store.client().clone();
    let edge = Edge::new(ORIGIN)?;
    // As deployed: every command reads the caller's erasure marker first (remembered 5 s).
    let fence = todo_platform::store::ErasureFence::new(
        store.clone(),
        todo_platform::store::ErasureKey::generate(),
        todo_platform::store::FENCE_REMEMBER,
    );
    let commands = CommandService::new(store.clone(), edge.clone()).with_fence(fence);
    let queries = QueryService::with_store(store.clone(), edge);
    let reader = seed_reader(&tables, &store).await?;

    let mut all: Vec<RouteRuns> = Route::ALL.iter().map(|_| RouteRuns::default()).collect();
    let count = settings.warm_warmup + settings.warm_iterations;
    for run in 0..settings.runs {
        for (index, route) in Route::ALL.iter().copied().enumerate() {
            let steps = steps(route, count, &tables, &reader).await?;
            let (mut handler, mut floor, mut single) = (Samples::default(), Samples::default(), Samples::default());
            for (i, step) in steps.into_iter().enumerate() {
                let measured = i >= settings.warm_warmup;
                // Alternate which goes first, so neither always follows the other.
                let handler_first = i % 2 == 0;
                let mut floor_step = Some(step.floor);
                if !handler_first && let Some(f) = floor_step.take() {
                    let (whole, put) = run_floor(&client, &tables, f).await?;
                    if measured {
                        floor.push(whole);
                        put.into_iter().for_each(|p| single.push(p));
                    }
                }
                let started = Instant::now();
                let response = run_handler(route, &commands, &queries, step.request).await;
                let took = started.elapsed();
                if !response.status().is_success() {
                    bail!("{} answered {}: {:?}", route.label(), response.status(), response.body());
                }
                if measured {
                    handler.push(took);
                }
                if let Some(f) = floor_step.take() {
                    let (whole, put) = run_floor(&client, &tables, f).await?;
                    if measured {
                        floor.push(whole);
                        put.into_iter().for_each(|p| single.push(p));
                    }
                }
            }
            let runs = &mut all[index];
            let (h50, h99, f50, f99) = (handler.p50(), handler.p99(), floor.p50(), floor.p99());
            runs.handler_p50.push(h50.unwrap_or(f64::NAN));
            runs.handler_p99.push(h99.unwrap_or(f64::NAN));
            runs.floor_p50.push(f50.unwrap_or(f64::NAN));
            runs.floor_p99.push(f99.unwrap_or(f64::NAN));
            runs.single_p50.push(single.p50().unwrap_or(f64::NAN));
            progress.say(&format!(
                "warm {} run {}/{}: handler p50 {:.2} ms p99 {:.2} ms, floor p50 {:.2} ms p99 {:.2} ms",
                route.label(),
                run + 1,
                settings.runs,
                h50.unwrap_or(f64::NAN),
                h99.unwrap_or(f64::NAN),
                f50.unwrap_or(f64::NAN),
                f99.unwrap_or(f64::NAN)
            ));
        }
    }
    crate::fixtures::drop_tables(&tables.client, &[&tables.events, &tables.todos, &erasures]).await;
    Ok(Route::ALL
        .iter()
        .zip(all)
        .map(|(route, runs)| WarmResult {
            route: route.label().to_owned(),
            function: route.function().to_owned(),
            floor_calls: route.floor_calls().to_owned(),
            handler_p50_ms: Spread::of(runs.handler_p50.clone()),
            handler_p99_ms: Spread::of(runs.handler_p99.clone()),
            floor_p50_ms: Spread::of(runs.floor_p50.clone()),
            floor_p99_ms: Spread::of(runs.floor_p99.clone()),
            ratio_p50: Spread::ratio(&runs.handler_p50, &runs.floor_p50),
            ratio_p99: Spread::ratio(&runs.handler_p99, &runs.floor_p99),
            single_call_p50_ms: route.is_command().then(|| Spread::of(runs.single_p50.clone())).flatten(),
            single_call_ratio_p50: route
                .is_command()
                .then(|| Spread::ratio(&runs.handler_p50, &runs.single_p50))
                .flatten(),
            iterations_per_run: settings.warm_iterations,
        })
        .collect())
}
