//! Rebuilds the projections from the event table, or checks them (`verify`), with the projector's
//! fold: the `TodoTable` read model, the stats projection, or both.
//!
//! Streams the event table page by page, holding one todo's state at a time, so memory does not
//! grow with the number of events. Never reads the stream. With a [`Segment`], it processes one
//! of N parallel Scan segments: running every segment (in parallel processes or Lambda
//! invocations) does exactly what one run does, because each todo's events, rows and stats rows
//! are handled by the segment that holds its user.

use events_schema::{Event, Todo, TodoId, UserId, evolve, fold};
use todo_platform::store::{
    EventLog, EventScan, ProjectionStore, Scope, Segment, StatsStore, StoreError, TodoFacts, WriteGuard,
};

use crate::job::Projection;

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Only this user's todos; all users when `None`.
    pub user: Option<UserId>,
    /// Only one segment of the tables (not with `user`).
    pub segment: Option<Segment>,
    /// Which projection to rebuild or check.
    pub projection: Projection,
    /// Report drift and write nothing.
    pub verify: bool,
    /// Events (and rows) read per request.
    pub page_size: usize,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self { user: None, segment: None, projection: Projection::Todos, verify: false, page_size: 500 }
    }
}

impl ReplayOptions {
    fn scope(&self) -> Scope<'_> {
        match (&self.segment, &self.user) {
            (Some(segment), _) => Scope::Segment(*segment),
            (None, user) => user.as_ref().into(),
        }
    }
}

/// The stores a replay reads and writes.
#[derive(Clone, Copy)]
pub struct Stores<'a> {
    pub scan: &'a dyn EventScan,
    pub log: &'a dyn EventLog,
    pub todos: &'a dyn ProjectionStore,
    pub stats: &'a dyn StatsStore,
}

impl<'a> Stores<'a> {
    /// One store behind every port (each adapter implements them all).
    pub fn of<S: EventScan + EventLog + ProjectionStore + StatsStore>(store: &'a S) -> Self {
        Self { scan: store, log: store, todos: store, stats: store }
    }
}

/// How a stored row differs from the fold of its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriftKind {
    /// Events exist, no row.
    Missing,
    /// The row's fields or version differ from the fold.
    Differs { row_version: u64, events_version: u64 },
    /// A row that no event backs.
    Orphan,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// `Todos` or `Stats`: which projection's row.
    pub projection: Projection,
    pub user: UserId,
    pub todo: TodoId,
    pub kind: DriftKind,
}

/// Drift examples kept in a report; the counts are always complete.
pub const MAX_DRIFT_EXAMPLES: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    pub events: u64,
    pub todos: u64,
    /// Rows written (rebuild only), of every projection replayed.
    pub written: u64,
    /// Rows removed because no event backs them (rebuild only).
    pub removed: u64,
    /// Rows that differed from the fold (verify), or could not be brought in line (rebuild).
    pub drift_count: u64,
    pub drift: Vec<Drift>,
}

impl ReplayReport {
    fn record_drift(&mut self, drift: Drift) {
        self.drift_count += 1;
        if self.drift.len() < MAX_DRIFT_EXAMPLES {
            self.drift.push(drift);
        }
    }
}

/// Where a replay is, for progress output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub events: u64,
    pub todos: u64,
    pub rows_checked: u64,
}

/// One todo being folded.
struct Current {
    user: UserId,
    todo: TodoId,
    state: Todo,
    /// The scan did not give this todo's events as one consecutive run from version 1: fold it from
    /// a direct read instead.
    reload: bool,
}

/// Rebuilt rows waiting to be written: one page's worth at most, written together.
#[derive(Default)]
struct Pending {
    rows: Vec<(UserId, Todo)>,
    facts: Vec<(UserId, TodoFacts)>,
}

pub async fn replay(
    stores: Stores<'_>,
    options: &ReplayOptions,
    mut progress: impl FnMut(Progress),
) -> Result<ReplayReport, StoreError> {
    let mut report = ReplayReport::default();
    let mut current: Option<Current> = None;
    let mut pending = Pending::default();
    let mut cursor = None;
    loop {
        let page = stores.scan.scan(options.scope(), options.page_size, cursor).await?;
        let mode = if options.verify { "verify" } else { "write" };
        metrics::counter!("ReplayEvents", "Projection" => options.projection.as_str(), "Mode" => mode)
            .increment(page.items.len() as u64);
        for event in page.items {
            report.events += 1;
            current = Some(match current.take() {
                Some(mut item) if item.user == event.user_id && item.todo == event.todo_id => {
                    advance(&mut item, &event);
                    item
                }
                previous => {
                    if let Some(done) = previous {
                        settle(done, stores, options, &mut report, &mut pending).await?;
                    }
                    let mut item = Current {
                        user: event.user_id.clone(),
                        todo: event.todo_id,
                        state: Todo::NotCreated,
                        reload: false,
                    };
                    advance(&mut item, &event);
                    item
                }
            });
        }
        write(stores, &mut pending, &mut report).await?;
        progress(Progress { events: report.events, todos: report.todos, rows_checked: 0 });
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    if let Some(done) = current {
        settle(done, stores, options, &mut report, &mut pending).await?;
        write(stores, &mut pending, &mut report).await?;
    }
    let mut checked = 0;
    if options.projection.todos() {
        remove_orphan_rows(stores, options, &mut report, &mut checked, &mut progress).await?;
    }
    if options.projection.stats() {
        remove_orphan_facts(stores, options, &mut report, &mut checked, &mut progress).await?;
    }
    Ok(report)
}

fn advance(item: &mut Current, event: &Event) {
    if event.version == item.state.version() + 1 {
        item.state = evolve(std::mem::take(&mut item.state), event);
    } else {
        item.reload = true;
    }
}

/// Folds one todo to its end: compares it with its rows (verify), or queues them (rebuild).
async fn settle(
    item: Current,
    stores: Stores<'_>,
    options: &ReplayOptions,
    report: &mut ReplayReport,
    pending: &mut Pending,
) -> Result<(), StoreError> {
    report.todos += 1;
    let state = match item.reload {
        true => fold(&stores.log.load(&item.user, &item.todo).await?),
        false => item.state,
    };
    let facts = TodoFacts::of(&state);
    if options.verify {
        if options.projection.todos() {
            let stored = stores.todos.state(&item.user, &item.todo).await?;
            if stored != state {
                let kind = match stored {
                    Todo::NotCreated => DriftKind::Missing,
                    _ => DriftKind::Differs { row_version: stored.version(), events_version: state.version() },
                };
                report.record_drift(Drift {
                    projection: Projection::Todos,
                    user: item.user.clone(),
                    todo: item.todo,
                    kind,
                });
            }
        }
        if options.projection.stats() {
            // A stats row's version may lag behind the todo's (a rename changes no figure and writes
            // nothing): the figures must match, and the row must not claim a version the events lack.
            let stored = stores.stats.facts(&item.user, &item.todo).await?;
            let kind = match (&stored, &facts) {
                (None, None) => None,
                (None, Some(_)) => Some(DriftKind::Missing),
                (Some(stored), Some(facts)) if stored.same_figures(facts) && stored.version <= facts.version => None,
                (Some(stored), _) => {
                    Some(DriftKind::Differs { row_version: stored.version, events_version: state.version() })
                }
            };
            if let Some(kind) = kind {
                report.record_drift(Drift { projection: Projection::Stats, user: item.user, todo: item.todo, kind });
            }
        }
        return Ok(());
    }
    if options.projection.stats()
        && let Some(facts) = facts
    {
        pending.facts.push((item.user.clone(), facts));
    }
    if options.projection.todos() {
        pending.rows.push((item.user, state));
    }
    Ok(())
}

/// Writes the queued rows, each unless its stored row is newer.
async fn write(stores: Stores<'_>, pending: &mut Pending, report: &mut ReplayReport) -> Result<(), StoreError> {
    if !pending.rows.is_empty() {
        let written = stores.todos.put_many(&pending.rows, WriteGuard::NotOlder).await?;
        for ((user, state), written) in pending.rows.drain(..).zip(written) {
            if written {
                report.written += 1;
                continue;
            }
            // The row claims a version the events do not reach: it was written by something else.
            let todo = match &state {
                Todo::Live(item) | Todo::Deleted(item) => item.id,
                Todo::NotCreated => continue,
            };
            let stored = stores.todos.state(&user, &todo).await?;
            let kind = DriftKind::Differs { row_version: stored.version(), events_version: state.version() };
            report.record_drift(Drift { projection: Projection::Todos, user, todo, kind });
        }
    }
    if !pending.facts.is_empty() {
        let written = stores.stats.put_many_facts(&pending.facts, WriteGuard::NotOlder).await?;
        for ((user, facts), written) in pending.facts.drain(..).zip(written) {
            if written {
                report.written += 1;
                continue;
            }
            let stored = stores.stats.facts(&user, &facts.todo_id).await?.map_or(0, |f| f.version);
            let kind = DriftKind::Differs { row_version: stored, events_version: facts.version };
            report.record_drift(Drift { projection: Projection::Stats, user, todo: facts.todo_id, kind });
        }
    }
    Ok(())
}

/// Read-model rows whose todo has no events at all: reported when verifying, removed when rebuilding.
async fn remove_orphan_rows(
    stores: Stores<'_>,
    options: &ReplayOptions,
    report: &mut ReplayReport,
    checked: &mut u64,
    progress: &mut impl FnMut(Progress),
) -> Result<(), StoreError> {
    let mut cursor = None;
    loop {
        let page = stores.todos.scan_rows(options.scope(), options.page_size, cursor).await?;
        for row in page.items {
            *checked += 1;
            orphan(stores, options, report, Projection::Todos, row.user, row.item.id).await?;
        }
        progress(Progress { events: report.events, todos: report.todos, rows_checked: *checked });
        cursor = page.next;
        if cursor.is_none() {
            return Ok(());
        }
    }
}

/// Stats rows whose todo has no events at all, likewise.
async fn remove_orphan_facts(
    stores: Stores<'_>,
    options: &ReplayOptions,
    report: &mut ReplayReport,
    checked: &mut u64,
    progress: &mut impl FnMut(Progress),
) -> Result<(), StoreError> {
    let mut cursor = None;
    loop {
        let page = stores.stats.scan_facts(options.scope(), options.page_size, cursor).await?;
        for (user, facts) in page.items {
            *checked += 1;
            orphan(stores, options, report, Projection::Stats, user, facts.todo_id).await?;
        }
        progress(Progress { events: report.events, todos: report.todos, rows_checked: *checked });
        cursor = page.next;
        if cursor.is_none() {
            return Ok(());
        }
    }
}

/// Reports or removes one row of `projection` if no event backs it.
async fn orphan(
    stores: Stores<'_>,
    options: &ReplayOptions,
    report: &mut ReplayReport,
    projection: Projection,
    user: UserId,
    todo: TodoId,
) -> Result<(), StoreError> {
    if stores.log.has_events(&user, &todo).await? {
        return Ok(());
    }
    if options.verify {
        report.record_drift(Drift { projection, user, todo, kind: DriftKind::Orphan });
        return Ok(());
    }
    match projection {
        Projection::Stats => stores.stats.remove_facts(&user, &todo).await?,
        _ => stores.todos.remove(&user, &todo).await?,
    }
    report.removed += 1;
    Ok(())
}
