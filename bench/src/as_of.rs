//! The list as it stood at an instant (`GET /item?asOf=`): a fold of the user's events read
//! through the user timeline, never the read model, resumed from the latest list snapshot before
//! the instant. One user with 1,000 todos and 10,000 events, a minute apart, asked about the middle
//! of its history and about now, next to the floor: the same reads (the snapshot, and the timeline
//! pages after it, decoded) without the fold.
//!
//! The history is written as sealed events straight into the store, in time order, and the list
//! snapshots are taken as the projector takes them while such a history accrues: at each event
//! that checks (`projector::snapshots::checks`, one in 128 by event id), with that event's time as
//! the projector's clock.
//!
//! Embedded: into `todo-local`'s SQLite file before it starts (its projector then catches up from
//! the change feed); the list is asked for over HTTP and, on a connection of our own to the same
//! file, through the handler in-process. DynamoDB Local: into fresh tables, asked for through the
//! `list-todos` handler with a `DynamoStore`, as the warm benchmarks call handlers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use base64::Engine as _;
use events_schema::{Event, Timestamp, TodoCompleted, TodoDeleted, TodoEvent, TodoUpdated, UserId};
use queries::QueryService;
use serde::Serialize;
use serde_json::Value;
use todo_local::sqlite::SqliteStore;
use todo_platform::http::Edge;
use todo_platform::store::{EventLog, EventTimeline, SnapshotStore};

use crate::fixtures::{ORIGIN, api, created, event, fresh_user, new_todo_id, put_events, seal};
use crate::loadgen::{Call, Connection};
use crate::stack::{LocalStack, Store, dev_token};
use crate::stats::{Samples, Spread};
use crate::{Emulator, Progress, Settings};

/// Todos of the seeded user.
pub const TODOS: usize = 1000;
/// Events of the seeded user: 10 per todo on average.
pub const EVENTS: usize = 10_000;
/// The user works on a hundred todos at a time (their events interleave), then moves on.
const WINDOW: usize = 100;
/// Events per timeline read, as `queries::past::list_as_of` reads them.
const TIMELINE_PAGE: usize = 1000;

/// What one event of the seeded history does to its todo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Create,
    Edit,
    Complete,
    Reopen,
    Delete,
}

/// One event of the seeded history, in time order.
#[derive(Debug, Clone, Copy)]
struct Planned {
    todo: usize,
    version: u64,
    change: Change,
}

/// How many events todo `i` gets: 4 to 16, in pairs that add up to 20, so that the history holds
/// exactly 10 per todo on average.
fn event_count(i: usize) -> usize {
    let spread = (i / 2 * 5 % 13) as isize - 6;
    let count = if i.is_multiple_of(2) { 10 + spread } else { 10 - spread };
    count.unsigned_abs()
}

/// One todo's changes: created, then edits, every third change completing or reopening it;
/// every tenth todo deleted at the end.
fn changes(i: usize) -> Vec<Change> {
    let count = event_count(i);
    let mut completed = false;
    (1..=count)
        .map(|version| match version {
            1 => Change::Create,
            v if v == count && i % 10 == 9 => Change::Delete,
            v if v % 3 == 0 => {
                completed = !completed;
                if completed { Change::Complete } else { Change::Reopen }
            }
            _ => Change::Edit,
        })
        .collect()
}

/// The whole history in time order: windows of [`WINDOW`] todos, each window's todos taking turns.
fn plan() -> Vec<Planned> {
    let mut planned = Vec::with_capacity(EVENTS);
    for start in (0..TODOS).step_by(WINDOW) {
        let lives: Vec<(usize, Vec<Change>)> = (start..(start + WINDOW).min(TODOS)).map(|i| (i, changes(i))).collect();
        let longest = lives.iter().map(|(_, changes)| changes.len()).max().unwrap_or(0);
        for step in 0..longest {
            for (todo, changes) in &lives {
                if let Some(change) = changes.get(step) {
                    planned.push(Planned { todo: *todo, version: step as u64 + 1, change: *change });
                }
            }
        }
    }
    planned
}

/// Todos live (created, not deleted) after the first `events` events of the plan.
fn live_after(plan: &[Planned], events: usize) -> usize {
    plan.iter().take(events).fold(0_usize, |live, step| match step.change {
        Change::Create => live + 1,
        Change::Delete => live.saturating_sub(1),
        _ => live,
    })
}

fn title(todo: usize) -> String {
    format!("Todo {todo}")
}

fn edited_title(todo: usize, version: u64) -> String {
    format!("Todo {todo}, edit {version}")
}

/// The plan as sealed events of `user`, in time order, a minute apart and ending a minute ago; and
/// the instant halfway through (after the first half of the events).
fn planned_events(user: &UserId, plan: &[Planned]) -> (Vec<Event>, Timestamp) {
    let start = chrono::Utc::now() - chrono::Duration::minutes(plan.len() as i64 + 1);
    let at = |index: usize| Timestamp::from_datetime(start + chrono::Duration::minutes(index as i64));
    let ids: Vec<_> = (0..TODOS).map(|_| new_todo_id()).collect();
    let mut by_todo: Vec<Vec<Event>> = vec![Vec::new(); TODOS];
    for (index, step) in plan.iter().enumerate() {
        let (todo, name) = (ids[step.todo], title(step.todo));
        let payload = match step.change {
            Change::Create => created(&name),
            Change::Edit => TodoEvent::Updated(TodoUpdated {
                title: Some(edited_title(step.todo, step.version)),
                ..Default::default()
            }),
            Change::Complete => TodoEvent::Completed(TodoCompleted { title: name }),
            Change::Reopen => TodoEvent::Updated(TodoUpdated { completed: Some(false), ..Default::default() }),
            Change::Delete => TodoEvent::Deleted(TodoDeleted { title: name }),
        };
        by_todo[step.todo].push(event(user, todo, step.version, payload, at(index)));
    }
    let mut events: Vec<Event> = by_todo.into_iter().flat_map(seal).collect();
    events.sort_by_key(|e| e.occurred_at);
    let middle = Timestamp::from_datetime(start + chrono::Duration::seconds(60 * (plan.len() as i64 / 2 - 1) + 30));
    (events, middle)
}

/// Takes the list snapshots the projector would have taken while the history accrued: at each
/// event that checks, with the event's time as the projector's clock. Returns how many it took.
async fn take_snapshots(
    timeline: &dyn EventTimeline,
    snapshots: &dyn SnapshotStore,
    user: &UserId,
    events: &[Event],
) -> anyhow::Result<usize> {
    let mut taken = 0;
    for event in events.iter().filter(|e| projector::snapshots::checks(e)) {
        let outcome = projector::snapshots::take_if_due(timeline, snapshots, user, event.occurred_at)
            .await
            .context("taking a list snapshot")?;
        taken += usize::from(matches!(outcome, projector::snapshots::Outcome::Taken { .. }));
    }
    Ok(taken)
}

/// The caller's user id: the `sub` of its ID token.
fn token_subject(token: &str) -> anyhow::Result<UserId> {
    let payload = token.split('.').nth(1).context("an ID token has three parts")?;
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).context("decoding an ID token")?,
    )
    .context("an ID token's claims")?;
    Ok(UserId::parse(claims["sub"].as_str().context("an ID token's sub")?)?)
}

/// The instant asked about.
#[derive(Debug, Clone, Copy)]
struct Moment {
    label: &'static str,
    /// `None`: now, taken at each call.
    at: Option<Timestamp>,
    /// Events up to that instant, which the fold reads.
    events: usize,
    /// Todos live at that instant.
    live: usize,
    /// Events the last floor call read from the timeline (after the snapshot it started from).
    read: usize,
}

impl Moment {
    fn both(middle: Timestamp, plan: &[Planned]) -> [Moment; 2] {
        [
            Moment {
                label: "middle of the history",
                at: Some(middle),
                events: plan.len() / 2,
                live: live_after(plan, plan.len() / 2),
                read: 0,
            },
            Moment { label: "now", at: None, events: plan.len(), live: live_after(plan, plan.len()), read: 0 },
        ]
    }

    fn instant(&self) -> Timestamp {
        self.at.unwrap_or_else(|| Timestamp::from_datetime(chrono::Utc::now()))
    }
}

/// How the list is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// `GET /api/item?asOf=` to `todo-local`.
    Http,
    /// `queries::http::list_todos`, in-process.
    Handler,
    /// The floor: the timeline pages the fold reads, decoded, not folded.
    Floor,
}

impl Via {
    fn label(self) -> &'static str {
        match self {
            Self::Http => "todo-local over HTTP",
            Self::Handler => "list-todos handler in-process",
            Self::Floor => "floor: the snapshot and timeline reads alone",
        }
    }
}

/// What the list is asked of: one user's history in one store.
struct Subject {
    store: &'static str,
    user: UserId,
    queries: QueryService,
    timeline: Arc<dyn EventTimeline>,
    snapshots: Arc<dyn SnapshotStore>,
    /// Embedded: a kept-alive connection to `todo-local`, and the user's token.
    http: Option<(Connection, String)>,
}

impl Subject {
    fn vias(&self) -> Vec<Via> {
        match self.http {
            Some(_) => vec![Via::Http, Via::Handler, Via::Floor],
            None => vec![Via::Handler, Via::Floor],
        }
    }

    /// One call, timed; checked for success. The floor's calls also count the events they read.
    async fn time(&mut self, via: Via, moment: &mut Moment) -> anyhow::Result<Duration> {
        let at = moment.instant();
        match via {
            Via::Http => {
                let (connection, token) = self.http.as_mut().context("no HTTP on this store")?;
                let call = Call::get(format!("/api/item?asOf={at}"), token);
                let started = Instant::now();
                let (status, body) = connection.send(&call).await?;
                let took = started.elapsed();
                if !status.is_success() {
                    bail!("GET /api/item?asOf={at}: {status} {}", String::from_utf8_lossy(&body));
                }
                Ok(took)
            }
            Via::Handler => {
                let request = api::request(&api::list(&self.user).query("asOf", &at.to_string()))?;
                let started = Instant::now();
                let response = queries::http::list_todos(&self.queries, request).await;
                let took = started.elapsed();
                if !response.status().is_success() {
                    bail!("list-todos asOf={at} answered {}: {:?}", response.status(), response.body());
                }
                Ok(took)
            }
            Via::Floor => {
                let started = Instant::now();
                let read = read_floor(self.timeline.as_ref(), self.snapshots.as_ref(), &self.user, at).await?;
                let took = started.elapsed();
                moment.read = read;
                Ok(took)
            }
        }
    }
}

/// The floor: the latest snapshot up to `until` and every page of the user's timeline after it, as
/// the fold reads them; returns the events read from the timeline.
async fn read_floor(
    timeline: &dyn EventTimeline,
    snapshots: &dyn SnapshotStore,
    user: &UserId,
    until: Timestamp,
) -> anyhow::Result<usize> {
    let snapshot = snapshots.latest_snapshot(user, until).await.context("reading a snapshot")?;
    let (mut cursor, mut events) = (snapshot.as_ref().map(|s| s.resume_from()), 0);
    loop {
        let page =
            timeline.user_history(user, Some(until), TIMELINE_PAGE, cursor).await.context("reading a timeline")?;
        events += page.items.len();
        cursor = page.next;
        if cursor.is_none() {
            return Ok(events);
        }
    }
}

/// One row of the results: a store, a way of asking, an instant; the floor of the same store and
/// instant measured in the same runs.
#[derive(Debug, Clone, Serialize)]
pub struct AsOfResult {
    pub store: String,
    pub via: String,
    pub instant: String,
    /// Events up to the instant, events read from the timeline after the snapshot (the last run's),
    /// and todos live then.
    pub events: usize,
    pub events_read: usize,
    pub live_todos: usize,
    pub p50_ms: Option<Spread>,
    pub p99_ms: Option<Spread>,
    pub floor_p50_ms: Option<Spread>,
    pub floor_p99_ms: Option<Spread>,
    /// p50 over the floor's p50, run by run.
    pub ratio_p50: Option<Spread>,
    pub iterations_per_run: usize,
}

/// Per-run p50 and p99 of one way of asking about one instant.
#[derive(Default)]
struct Runs {
    p50: Vec<f64>,
    p99: Vec<f64>,
}

/// Every way of asking about both instants, call by call in turn (the first of each turn
/// rotating), `iterations` timed calls per run after `warmup`.
async fn measure_subject(
    settings: &Settings,
    progress: &Progress,
    subject: &mut Subject,
    moments: &mut [Moment; 2],
    iterations: usize,
) -> anyhow::Result<Vec<AsOfResult>> {
    let vias = subject.vias();
    let mut runs: Vec<Vec<Runs>> = moments.iter().map(|_| vias.iter().map(|_| Runs::default()).collect()).collect();
    for run in 0..settings.runs {
        for (m, moment) in moments.iter_mut().enumerate() {
            let mut samples: Vec<Samples> = vias.iter().map(|_| Samples::with_capacity(iterations)).collect();
            for i in 0..settings.as_of_warmup + iterations {
                for k in 0..vias.len() {
                    let v = (i + k) % vias.len();
                    let took = subject.time(vias[v], moment).await?;
                    if i >= settings.as_of_warmup {
                        samples[v].push(took);
                    }
                }
            }
            for (v, via) in vias.iter().enumerate() {
                let (p50, p99) = (samples[v].p50().unwrap_or(f64::NAN), samples[v].p99().unwrap_or(f64::NAN));
                progress.say(&format!(
                    "as-of {} {}, {}, run {}/{}: p50 {p50:.2} ms, p99 {p99:.2} ms",
                    subject.store,
                    moment.label,
                    via.label(),
                    run + 1,
                    settings.runs
                ));
                runs[m][v].p50.push(p50);
                runs[m][v].p99.push(p99);
            }
        }
    }
    let floor = vias.iter().position(|v| *v == Via::Floor).context("no floor")?;
    let mut results = Vec::new();
    for (moment, by_via) in moments.iter().zip(&runs) {
        for (via, measured) in vias.iter().zip(by_via).filter(|(via, _)| **via != Via::Floor) {
            results.push(AsOfResult {
                store: subject.store.to_owned(),
                via: via.label().to_owned(),
                instant: moment.label.to_owned(),
                events: moment.events,
                events_read: moment.read,
                live_todos: moment.live,
                p50_ms: Spread::of(measured.p50.clone()),
                p99_ms: Spread::of(measured.p99.clone()),
                floor_p50_ms: Spread::of(by_via[floor].p50.clone()),
                floor_p99_ms: Spread::of(by_via[floor].p99.clone()),
                ratio_p50: Spread::ratio(&measured.p50, &by_via[floor].p50),
                iterations_per_run: iterations,
            });
        }
    }
    Ok(results)
}

/// The embedded store: the history written into `todo-local`'s SQLite file, asked over HTTP and
/// in-process.
pub async fn measure_embedded(settings: &Settings, progress: &Progress) -> anyhow::Result<Vec<AsOfResult>> {
    let scratch = settings.scratch.join("as-of-embedded");
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let data_dir = scratch.join("data");
    if data_dir.exists() {
        std::fs::remove_dir_all(&data_dir).with_context(|| format!("clearing {}", data_dir.display()))?;
    }
    // The dev sign-in's account first: the history is written for its user.
    let email = "historian@bench.example.com";
    let user = token_subject(&dev_token(&settings.binary("todo-local"), &data_dir, email).await?)?;
    let plan = plan();
    let (events, middle) = planned_events(&user, &plan);
    let store = Arc::new(SqliteStore::open(&data_dir)?);
    let started = Instant::now();
    for event in &events {
        store.append(std::slice::from_ref(event)).await.context("writing the history")?;
    }
    let taken = take_snapshots(store.as_ref(), store.as_ref(), &user, &events).await?;
    progress.say(&format!(
        "embedded: {} events of {TODOS} todos written, {taken} list snapshots taken, in {:.1} s",
        events.len(),
        started.elapsed().as_secs_f64()
    ));
    let log = scratch.join("todo-local.log");
    let stack = LocalStack::start_keeping(&settings.binary("todo-local"), &data_dir, &Store::Embedded, &log).await?;
    // A token for the running stack (its issuer names the stack's port).
    let token = stack.token(email).await?;
    if token_subject(&token)? != user {
        bail!("the dev sign-in gave {email} another user id once the stack ran");
    }
    // The projector catches up with the history before anything is timed.
    let head = store.feed_head()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while store.feed_position("projector")? < head {
        if Instant::now() > deadline {
            bail!("todo-local's projector did not catch up with {head} events in 120 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let connection = Connection::open(stack.address).await?;
    let mut subject = Subject {
        store: Store::Embedded.label(),
        user,
        queries: QueryService::with_store(store.clone(), Edge::new(ORIGIN)?).with_snapshots(store.clone()),
        timeline: store.clone(),
        snapshots: store,
        http: Some((connection, token)),
    };
    let mut moments = Moment::both(middle, &plan);
    let results = measure_subject(settings, progress, &mut subject, &mut moments, settings.as_of_iterations).await;
    drop(stack);
    results
}

/// DynamoDB Local: the same history written into fresh tables, asked through the handler.
pub async fn measure_dynamodb(
    settings: &Settings,
    progress: &Progress,
    dynamodb: &Emulator,
) -> anyhow::Result<Vec<AsOfResult>> {
    let tables = todo_testkit::dynamodb::Tables::fresh_in(dynamodb.client.clone()).await;
    let outcome = async {
        let store = Arc::new(tables.store());
        let user = fresh_user("as-of")?;
        let plan = plan();
        let (events, middle) = planned_events(&user, &plan);
        let started = Instant::now();
        put_events(&tables.client, &tables.events, &events).await?;
        let taken = take_snapshots(store.as_ref(), store.as_ref(), &user, &events).await?;
        progress.say(&format!(
            "DynamoDB Local: {} events of {TODOS} todos written, {taken} list snapshots taken, in {:.1} s",
            events.len(),
            started.elapsed().as_secs_f64()
        ));
        let mut subject = Subject {
            store: "DynamoDB Local",
            user,
            queries: QueryService::with_store(store.clone(), Edge::new(ORIGIN)?).with_snapshots(store.clone()),
            timeline: store.clone(),
            snapshots: store,
            http: None,
        };
        let mut moments = Moment::both(middle, &plan);
        measure_subject(settings, progress, &mut subject, &mut moments, settings.as_of_iterations_dynamodb).await
    }
    .await;
    crate::fixtures::drop_tables(&tables.client, &tables.names()).await;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_a_thousand_todos_of_ten_events_on_average() {
        let plan = plan();
        assert_eq!(plan.len(), EVENTS);
        assert!((0..TODOS).all(|i| (4..=16).contains(&event_count(i))));
        for todo in [0, 1, 9, 500, 999] {
            let versions: Vec<u64> = plan.iter().filter(|s| s.todo == todo).map(|s| s.version).collect();
            assert_eq!(versions, (1..=event_count(todo) as u64).collect::<Vec<_>>());
        }
        assert_eq!(live_after(&plan, EVENTS), TODOS - TODOS / 10);
        let kinds = |change| plan.iter().filter(|s| s.change == change).count();
        assert!(
            kinds(Change::Complete) > 0 && kinds(Change::Reopen) > 0 && kinds(Change::Edit) > kinds(Change::Complete)
        );
    }

    #[test]
    fn planned_events_fold_and_chain() {
        let user = fresh_user("t").unwrap();
        let plan = plan();
        let (events, middle) = planned_events(&user, &plan);
        assert_eq!(events.iter().filter(|e| e.occurred_at <= middle).count(), EVENTS / 2);
        assert!(events.windows(2).all(|pair| pair[0].occurred_at <= pair[1].occurred_at), "in time order");
        // The chain checker takes events as a scan gives them: by todo, in version order.
        let mut scanned = events.clone();
        scanned.sort_by_key(|e| (e.todo_id, e.version));
        let mut checker = events_schema::integrity::ChainChecker::new();
        assert!(scanned.iter().all(|e| checker.check(&e.to_record()).is_empty()));
        let todo = events[0].todo_id;
        let state = events_schema::fold(&events.iter().filter(|e| e.todo_id == todo).cloned().collect::<Vec<_>>());
        assert!(state.live().is_some());
    }
}
