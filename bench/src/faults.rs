//! Commands under injected faults, as operators meet them. The command handlers run in-process
//! with the SDK settings as deployed, their DynamoDB client pointed at `todo_testkit`'s fault proxy
//! in front of the section's DynamoDB Local, with the fault cycle of `acceptance/tests/faults.rs`
//! (throttling, server errors, connections dropped before and after the write, answers delayed
//! past the SDK's attempt timeout). Every todo of every user is lived at once (created with a
//! client-chosen id, renamed, completed, every other one deleted) by a client that sends a command
//! again on a 503, as that test's client does. Then what operators ask: how many 500s (none may
//! be), whether every acknowledged command is in the event table exactly once, and whether the
//! read model converged once the projector had drained the stream.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use commands::CommandService;
use events_schema::{Event, TodoEvent, TodoId, UserId, fold};
use lambda_http::{Body, Response};
use projector::Projector;
use projector::stream::StreamPoller;
use serde::Serialize;
use serde_json::{Value, json};
use todo_platform::config::deployed_settings;
use todo_platform::http::Edge;
use todo_platform::store::dynamo::DynamoStore;
use todo_platform::store::{EventScan as _, ProjectionStore as _, Scope};
use todo_testkit::ApiEvent;
use todo_testkit::dynamodb::{Tables, sdk_config_for};
use todo_testkit::faults::{FaultProxy, mixed_cycle};

use crate::fixtures::{ORIGIN, api, drop_tables, fresh_user};
use crate::{Emulator, Progress, Settings};

/// Times a client sends one command before it gives up on 503s (the acceptance test's client).
const TRIES: usize = 30;
/// A client's pause before it sends a command again after a 503: the `Retry-After: 1` it is
/// answered, scaled down as the acceptance test scales it.
const RETRY_PAUSE: Duration = Duration::from_millis(20);
/// How long the projector may take to drain the stream before the read model is judged.
const DRAIN_LIMIT: Duration = Duration::from_secs(60);
/// Unexpected answers kept per run, to say what went wrong.
const KEPT_SURPRISES: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct FaultsResult {
    pub users: usize,
    pub todos_per_user: usize,
    pub runs: Vec<FaultRun>,
}

/// What one run sent, met and left behind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FaultRun {
    /// Commands sent (each until answered, up to 30 times on 503s).
    pub commands: u64,
    /// How long the commands took, all users at once.
    pub seconds: f64,
    /// DynamoDB requests that reached the proxy, and the faults it injected.
    pub requests: u64,
    pub throttled: u64,
    pub server_errors: u64,
    pub dropped_before: u64,
    pub dropped_after: u64,
    pub delayed: u64,
    pub answered_503: u64,
    pub answered_500: u64,
    /// Commands answered 2xx in the end.
    pub acknowledged: u64,
    /// Commands answered something else in the end (a 4xx, or still 503 after 30 tries).
    pub not_acknowledged: u64,
    /// Acknowledged commands whose event is in the event table more than once.
    pub duplicates: u64,
    /// Acknowledged commands whose event is not in the event table.
    pub missing: u64,
    /// Events in the table that no acknowledged command accounts for.
    pub stray_events: u64,
    pub events: u64,
    /// Read-model rows that differ from the fold of their todo's events after the drain.
    pub rows_differing: u64,
    /// Stream records the projector reported failed.
    pub projector_failures: u64,
    /// Every row equal to its fold, no record failed, the stream drained within a minute.
    pub converged: bool,
    /// The first unexpected answers (not 2xx, not 503), to say what went wrong.
    pub surprises: Vec<String>,
}

/// The command a client sends; what it changes, to find its event again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Create,
    Rename,
    Complete,
    Delete,
}

/// An acknowledged command.
struct Acknowledged {
    todo: TodoId,
    kind: Kind,
    /// The title a create or a rename set.
    title: String,
}

#[derive(Default)]
struct Tally {
    answered_503: AtomicU64,
    answered_500: AtomicU64,
    commands: AtomicU64,
    not_acknowledged: AtomicU64,
    surprises: std::sync::Mutex<Vec<String>>,
}

impl Tally {
    fn surprise(&self, what: String) {
        let mut kept = self.surprises.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if kept.len() < KEPT_SURPRISES {
            kept.push(what);
        }
    }
}

/// Sends a command as a careful client does: again after a 503, up to [`TRIES`] times. `true`
/// when it was acknowledged.
async fn until_answered(commands: &CommandService, kind: Kind, event: impl Fn() -> ApiEvent, tally: &Tally) -> bool {
    tally.commands.fetch_add(1, Ordering::Relaxed);
    let mut last = 503;
    for _ in 0..TRIES {
        let request = match api::request(&event()) {
            Ok(request) => request,
            Err(error) => {
                tally.surprise(format!("{kind:?}: {error:#}"));
                break;
            }
        };
        let response: Response<Body> = match kind {
            Kind::Create => commands::http::create_todo(commands, request).await,
            Kind::Rename => commands::http::update_todo(commands, request).await,
            Kind::Complete => commands::http::complete_todo(commands, request).await,
            Kind::Delete => commands::http::delete_todo(commands, request).await,
        };
        last = response.status().as_u16();
        match last {
            200..=299 => return true,
            503 => {
                tally.answered_503.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(RETRY_PAUSE).await;
                continue;
            }
            500 => {
                tally.answered_500.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        let body = serde_json::from_slice::<Value>(response.body().as_ref()).unwrap_or(Value::Null);
        tally.surprise(format!("{kind:?}: {last} {body}"));
        break;
    }
    if last == 503 {
        tally.surprise(format!("{kind:?}: still 503 after {TRIES} tries"));
    }
    tally.not_acknowledged.fetch_add(1, Ordering::Relaxed);
    false
}

/// One todo's life: created with a client-chosen id, renamed to a title no other command uses,
/// completed, and deleted when `deleted`; it stops at the first command not acknowledged.
async fn life_of_a_todo(
    commands: CommandService,
    user: UserId,
    n: usize,
    deleted: bool,
    tally: Arc<Tally>,
) -> Vec<Acknowledged> {
    let todo = crate::fixtures::new_todo_id();
    let (id, path) = (todo.to_string(), format!("/item/{todo}"));
    let (title, renamed) = (format!("{user} {n}"), format!("{user} {n}, renamed"));
    // A new request (a new request id) each time it is sent, as a client sends it again.
    let request = |kind: Kind| {
        let event = match kind {
            Kind::Create => ApiEvent::new("POST", "/item", "/item").json(&json!({ "id": id, "title": title })),
            Kind::Rename => {
                ApiEvent::new("PUT", "/item/{id}", &path).path_param("id", &id).json(&json!({ "title": renamed }))
            }
            Kind::Complete => ApiEvent::new("POST", "/item/{id}/done", &format!("{path}/done")).path_param("id", &id),
            Kind::Delete => ApiEvent::new("DELETE", "/item/{id}", &path).path_param("id", &id),
        };
        event.signed_in(user.as_str(), &format!("{user}@bench.example.com"))
    };
    let kinds: &[Kind] = match deleted {
        true => &[Kind::Create, Kind::Rename, Kind::Complete, Kind::Delete],
        false => &[Kind::Create, Kind::Rename, Kind::Complete],
    };
    let mut acknowledged = Vec::new();
    for &kind in kinds {
        if !until_answered(&commands, kind, || request(kind), &tally).await {
            break;
        }
        let title = if kind == Kind::Create { &title } else { &renamed };
        acknowledged.push(Acknowledged { todo, kind, title: title.clone() });
    }
    acknowledged
}

/// Whether `event` is the one `command` appends.
fn appended_by(command: &Acknowledged, event: &Event) -> bool {
    match (command.kind, &event.payload) {
        (Kind::Create, TodoEvent::Created(created)) => created.title == command.title,
        (Kind::Rename, TodoEvent::Updated(updated)) => updated.title.as_deref() == Some(command.title.as_str()),
        (Kind::Complete, TodoEvent::Completed(_)) | (Kind::Delete, TodoEvent::Deleted(_)) => true,
        _ => false,
    }
}

/// Every event of the table, by todo.
async fn events_by_todo(store: &DynamoStore) -> anyhow::Result<HashMap<TodoId, Vec<Event>>> {
    let mut by_todo: HashMap<TodoId, Vec<Event>> = HashMap::new();
    let mut cursor = None;
    loop {
        let page = store.scan(Scope::All, 500, cursor).await.context("scanning the event table")?;
        for event in page.items {
            by_todo.entry(event.todo_id).or_default().push(event);
        }
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    for events in by_todo.values_mut() {
        events.sort_by_key(|event| event.version);
    }
    Ok(by_todo)
}

/// The projector as deployed (read model and stats) on the table's stream, read directly (no
/// faults), until two polls in a row find nothing: the records it reported failed, and whether
/// it drained within [`DRAIN_LIMIT`].
async fn drain(emulator: &Emulator, tables: &Tables) -> anyhow::Result<(u64, bool)> {
    let direct = Arc::new(tables.store());
    let projector = Projector::new(direct.clone(), direct.clone()).with_stats(direct);
    let mut stream = StreamPoller::open(&sdk_config_for(emulator.endpoint()).await, &tables.events).await?;
    let (started, mut empty, mut failed) = (Instant::now(), 0, 0);
    while empty < 2 {
        if started.elapsed() > DRAIN_LIMIT {
            return Ok((failed, false));
        }
        let batch = stream.poll().await?;
        if batch.records.is_empty() {
            empty += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        empty = 0;
        failed += projector.handle_batch(batch).await.batch_item_failures.len() as u64;
    }
    Ok((failed, true))
}

async fn one_run(settings: &Settings, emulator: &Emulator, tables: &Tables) -> anyhow::Result<FaultRun> {
    let proxy = FaultProxy::start(emulator.endpoint(), mixed_cycle()).await?;
    let through_proxy = sdk_config_for(&proxy.endpoint).await;
    let client = aws_sdk_dynamodb::Client::from_conf(deployed_settings((&through_proxy).into()).build());
    let commands =
        CommandService::new(Arc::new(DynamoStore::new(client, &tables.events, &tables.todos)), Edge::new(ORIGIN)?);
    let tally = Arc::new(Tally::default());

    let started = Instant::now();
    let mut lives = tokio::task::JoinSet::new();
    for _ in 0..settings.fault_users {
        let user = fresh_user("faults")?;
        for n in 0..settings.fault_todos_per_user {
            lives.spawn(life_of_a_todo(commands.clone(), user.clone(), n, n % 2 == 1, tally.clone()));
        }
    }
    let mut acknowledged = Vec::new();
    while let Some(life) = lives.join_next().await {
        acknowledged.extend(life.context("a todo's life panicked")?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let counts = &proxy.counts;
    let mut run = FaultRun {
        commands: tally.commands.load(Ordering::Relaxed),
        seconds,
        requests: counts.requests.load(Ordering::Relaxed),
        throttled: counts.throttled.load(Ordering::Relaxed),
        server_errors: counts.server_errors.load(Ordering::Relaxed),
        dropped_before: counts.dropped_before.load(Ordering::Relaxed),
        dropped_after: counts.dropped_after.load(Ordering::Relaxed),
        delayed: counts.delayed.load(Ordering::Relaxed),
        answered_503: tally.answered_503.load(Ordering::Relaxed),
        answered_500: tally.answered_500.load(Ordering::Relaxed),
        acknowledged: acknowledged.len() as u64,
        not_acknowledged: tally.not_acknowledged.load(Ordering::Relaxed),
        surprises: tally.surprises.lock().map(|kept| kept.clone()).unwrap_or_default(),
        ..FaultRun::default()
    };
    drop(proxy);

    // Exactly once: each acknowledged command's event, once.
    let direct = tables.store();
    let by_todo = events_by_todo(&direct).await?;
    run.events = by_todo.values().map(|events| events.len() as u64).sum();
    let mut matched = 0;
    for command in &acknowledged {
        let found = by_todo
            .get(&command.todo)
            .map_or(0, |events| events.iter().filter(|event| appended_by(command, event)).count() as u64);
        matched += found;
        match found {
            0 => run.missing += 1,
            1 => {}
            _ => run.duplicates += 1,
        }
    }
    run.stray_events = run.events.saturating_sub(matched);

    // Converged: every row the fold of its events.
    let (failed, drained) = drain(emulator, tables).await?;
    run.projector_failures = failed;
    for events in by_todo.values() {
        let first = &events[0];
        if direct.state(&first.user_id, &first.todo_id).await? != fold(events) {
            run.rows_differing += 1;
        }
    }
    run.converged = drained && failed == 0 && run.rows_differing == 0;
    Ok(run)
}

/// `runs` runs, each on fresh tables behind a fresh proxy.
pub async fn measure(settings: &Settings, progress: &Progress, emulator: &Emulator) -> anyhow::Result<FaultsResult> {
    let mut runs = Vec::new();
    for run in 0..settings.runs {
        let tables = Tables::fresh_in(emulator.client.clone()).await;
        let measured = one_run(settings, emulator, &tables).await;
        drop_tables(&tables.client, &[&tables.events, &tables.todos, &tables.stats]).await;
        let measured = measured?;
        progress.say(&format!(
            "faults run {}/{}: {} commands in {:.1} s, {} requests, {} faults injected, {} answered 503, {} answered \
             500; {} acknowledged, {} duplicates, {} missing; read model {}",
            run + 1,
            settings.runs,
            measured.commands,
            measured.seconds,
            measured.requests,
            measured.throttled
                + measured.server_errors
                + measured.dropped_before
                + measured.dropped_after
                + measured.delayed,
            measured.answered_503,
            measured.answered_500,
            measured.acknowledged,
            measured.duplicates,
            measured.missing,
            if measured.converged { "converged" } else { "NOT converged" },
        ));
        for surprise in &measured.surprises {
            progress.say(&format!("  unexpected: {surprise}"));
        }
        runs.push(measured);
    }
    Ok(FaultsResult { users: settings.fault_users, todos_per_user: settings.fault_todos_per_user, runs })
}

#[cfg(test)]
mod tests {
    use todo_platform::config::DYNAMODB_ATTEMPT_TIMEOUT;
    use todo_testkit::faults::Fault;

    use super::*;

    #[test]
    fn the_cycle_has_every_fault_in_every_twenty_requests() {
        let cycle = mixed_cycle();
        assert_eq!(cycle.len(), 20);
        for fault in [Fault::Throttle, Fault::ServerError, Fault::DropBefore, Fault::DropAfter] {
            assert!(cycle.contains(&fault), "{fault:?}");
        }
        assert!(cycle.iter().any(|f| matches!(f, Fault::DelayAfter(d) if *d > DYNAMODB_ATTEMPT_TIMEOUT)));
    }
}
