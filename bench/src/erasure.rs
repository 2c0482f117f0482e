//! Erasing an account (`DELETE /account`): how long until the receipt, for a user with 10,000
//! events, their read-model rows (tombstones included) and stats rows.
//!
//! `account::ErasureService` itself, as `erase-account` and `todo-local` run it, asked again after
//! each 202 as the SPA does (after `Retry-After`). Embedded: the SQLite store, which checks the
//! erasure marker inside its own writes, so nothing settles. DynamoDB Local: twice, with the
//! settle time the deployed function waits for commands already past the fence
//! ([`todo_platform::store::SETTLE`], 17 s from the marker: what a user waits on AWS), and without
//! it (the erasure's own work: paging through the partitions and deleting).

use std::sync::Arc;
use std::time::{Duration, Instant};

use account::{ErasureService, Outcome, REQUEST_BUDGET};
use anyhow::{Context as _, bail};
use events_schema::{Event, UserId, fold};
use serde::Serialize;
use todo_local::sqlite::SqliteStore;
use todo_platform::http::Edge;
use todo_platform::store::dynamo::{DynamoStore, create_erasure_table};
use todo_platform::store::{
    ErasureKey, ErasureLog, EventLog, ProjectionStore, StatsStore, TodoFacts, UserEraser, WriteGuard,
};

use crate::fixtures::{EventClock, ORIGIN, fresh_user, lifecycle, new_todo_id, put_events};
use crate::stats::{Spread, show};
use crate::{Emulator, Progress, Settings};

/// Events of each todo of the erased user (every other one deleted: tombstones too).
const EVENTS_PER_TODO: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct ErasureResult {
    pub store: String,
    pub events: usize,
    /// Read-model rows (tombstones included) and stats rows, each.
    pub todos: usize,
    /// How long after the marker the last sweep may start.
    pub settle_seconds: f64,
    /// Until the receipt, over every request.
    pub seconds: Option<Spread>,
    /// `DELETE /account` requests until the receipt (202s, then the 200).
    pub requests: Option<Spread>,
    pub events_per_second: Option<Spread>,
    pub failures: Vec<String>,
}

/// One user's history: `events` events over todos of [`EVENTS_PER_TODO`].
fn history(user: &UserId, events: usize) -> Vec<Vec<Event>> {
    let mut clock = EventClock::default();
    (0..events.div_ceil(EVENTS_PER_TODO))
        .map(|n| lifecycle(user, new_todo_id(), EVENTS_PER_TODO, n % 2 == 1, &mut clock))
        .collect()
}

/// The user's rows and stats as the projector leaves them after `todos`.
async fn project(
    user: &UserId,
    todos: &[Vec<Event>],
    rows: &dyn ProjectionStore,
    stats: &dyn StatsStore,
) -> anyhow::Result<()> {
    for chunk in todos.chunks(100) {
        let states: Vec<_> = chunk.iter().map(|events| (user.clone(), fold(events))).collect();
        rows.put_many(&states, WriteGuard::NotOlder).await.context("seeding rows")?;
        let facts: Vec<_> =
            states.iter().filter_map(|(user, state)| TodoFacts::of(state).map(|facts| (user.clone(), facts))).collect();
        stats.put_many_facts(&facts, WriteGuard::NotOlder).await.context("seeding stats")?;
    }
    Ok(())
}

/// Erases `user` as the SPA does: again after each 202, waiting `Retry-After` in between.
async fn erase(service: &ErasureService, user: &UserId) -> anyhow::Result<(f64, usize, u64)> {
    let started = Instant::now();
    for request in 1.. {
        match service.erase(user, &format!("bench-{request}"), REQUEST_BUDGET).await? {
            Outcome::Erased(receipt) => return Ok((started.elapsed().as_secs_f64(), request, receipt.erased.events)),
            Outcome::Erasing { retry_after, .. } => tokio::time::sleep(retry_after).await,
        }
        if started.elapsed() > Duration::from_secs(600) {
            break;
        }
    }
    bail!("no receipt after 10 minutes")
}

struct Runs {
    seconds: Vec<f64>,
    requests: Vec<f64>,
    rates: Vec<f64>,
    failures: Vec<String>,
}

impl Runs {
    fn new() -> Self {
        Self { seconds: Vec::new(), requests: Vec::new(), rates: Vec::new(), failures: Vec::new() }
    }

    fn record(&mut self, events: usize, outcome: anyhow::Result<(f64, usize, u64)>) {
        match outcome {
            Ok((seconds, requests, erased)) if erased as usize == events => {
                self.seconds.push(seconds);
                self.requests.push(requests as f64);
                self.rates.push(events as f64 / seconds);
            }
            Ok((_, _, erased)) => self.failures.push(format!("the receipt counts {erased} events of {events}")),
            Err(error) => self.failures.push(format!("{error:#}")),
        }
    }

    fn result(self, store: &str, events: usize, settle: Duration) -> ErasureResult {
        ErasureResult {
            store: store.to_owned(),
            events,
            todos: events.div_ceil(EVENTS_PER_TODO),
            settle_seconds: settle.as_secs_f64(),
            seconds: Spread::of(self.seconds),
            requests: Spread::of(self.requests),
            events_per_second: Spread::of(self.rates),
            failures: self.failures,
        }
    }
}

pub async fn measure_embedded(settings: &Settings, progress: &Progress) -> anyhow::Result<Vec<ErasureResult>> {
    let events = settings.erasure_events;
    let mut runs = Runs::new();
    for run in 1..=settings.runs {
        let dir = settings.scratch.join(format!("erasure-embedded-{run}"));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Arc::new(SqliteStore::open(&dir)?);
        let user = fresh_user("erased")?;
        let todos = history(&user, events);
        for todo in &todos {
            store.append(todo).await.context("seeding events")?;
        }
        project(&user, &todos, store.as_ref(), store.as_ref()).await?;
        let service = ErasureService::new(store.clone(), store.erasure_key(), vec![store.clone()], Edge::new(ORIGIN)?)
            .with_settle(Duration::ZERO);
        let outcome = erase(&service, &user).await;
        if let Ok((seconds, requests, _)) = &outcome {
            progress
                .say(&format!("embedded run {run}: {events} events erased in {seconds:.3} s, {requests} request(s)"));
        }
        runs.record(events, outcome);
        drop(service);
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(vec![runs.result("embedded (SQLite)", events, Duration::ZERO)])
}

/// Each run on an emulator of its own: DynamoDB Local slows down as the writes it has taken pile
/// up (seeding 10,000 events took 9 s on a fresh one and 100 s on the same one a run later), and
/// an erasure is mostly writes.
pub async fn measure_dynamodb(settings: &Settings, progress: &Progress) -> anyhow::Result<Vec<ErasureResult>> {
    let events = settings.erasure_events;
    let mut results = Vec::new();
    for settle in [todo_platform::store::SETTLE, Duration::ZERO] {
        let mut runs = Runs::new();
        // As deployed, a run is the 17 s wait and one more sweep: one run tells it (and keeps
        // `make bench` within its time).
        let repeats = if settle.is_zero() { settings.runs } else { 1 };
        for run in 1..=repeats {
            let dynamodb = Emulator::start().await?;
            let tables = todo_testkit::dynamodb::Tables::fresh_in(dynamodb.client.clone()).await;
            let erasures = format!("Erasures-{}", uuid::Uuid::new_v4().simple());
            create_erasure_table(&dynamodb.client, &erasures).await?;
            let store: Arc<DynamoStore> = Arc::new(tables.store().with_erasure_table(erasures.as_str()));
            let user = fresh_user("erased")?;
            let todos = history(&user, events);
            let flat: Vec<Event> = todos.iter().flatten().cloned().collect();
            let seeding = Instant::now();
            put_events(&dynamodb.client, &tables.events, &flat).await?;
            project(&user, &todos, store.as_ref(), store.as_ref()).await?;
            progress.say(&format!("seeded {events} events and their rows in {:.1} s", seeding.elapsed().as_secs_f64()));
            let holders: Vec<Arc<dyn UserEraser>> = vec![store.clone()];
            let log: Arc<dyn ErasureLog> = store.clone();
            let service =
                ErasureService::new(log, ErasureKey::generate(), holders, Edge::new(ORIGIN)?).with_settle(settle);
            let outcome = erase(&service, &user).await;
            if let Ok((seconds, requests, _)) = &outcome {
                progress.say(&format!(
                    "DynamoDB Local, settle {} s, run {run}: {events} events erased in {seconds:.1} s, {requests} request(s)",
                    settle.as_secs()
                ));
            }
            runs.record(events, outcome);
            drop(dynamodb);
        }
        let label = match settle.is_zero() {
            true => "DynamoDB Local, the work alone (no settle)",
            false => "DynamoDB Local, as deployed (settles 17 s)",
        };
        results.push(runs.result(label, events, settle));
    }
    Ok(results)
}

pub fn markdown(md: &mut String, results: &[ErasureResult]) {
    if results.is_empty() {
        return;
    }
    md.push_str(
        "\n## 12. Erasing an account\n\n\
         `account::ErasureService` (what `erase-account` and `todo-local` run) erasing one user with the events \
         below (todos of 10 events, every other one deleted) and their read-model rows and stats rows, asked \
         again after each 202 (after `Retry-After`) until the receipt. Embedded: the SQLite store checks the \
         erasure marker inside its writes, so nothing settles. DynamoDB Local: as deployed, the last sweep waits \
         until 17 s after the marker (commands already past the fence may still write until then), and without \
         that wait (the erasure's own work; the as-deployed figure is one run, its time being mostly that wait), \
         each run on a DynamoDB Local of its own (the emulator slows down as writes pile up). A \
         request works 20 s at most, then answers 202.\n\n\
         | store | events | todos | settle s | seconds to the receipt | requests | events/s |\n\
         | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for r in results {
        md.push_str(&format!(
            "| {} | {} | {} | {:.0} | {} | {} | {} |\n",
            r.store,
            r.events,
            r.todos,
            r.settle_seconds,
            show(&r.seconds, 2),
            show(&r.requests, 0),
            show(&r.events_per_second, 0)
        ));
    }
    for r in results.iter().filter(|r| !r.failures.is_empty()) {
        md.push_str(&format!("\nerasure {} failures: {}\n", r.store, r.failures.join("; ")));
    }
}
