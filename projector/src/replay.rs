//! Rebuilds the read model from the event table, or checks it (`verify`), with the projector's fold.
//!
//! Streams the event table page by page, holding one todo's state at a time, so memory does not
//! grow with the number of events. Never reads the stream.

use events_schema::{Event, Todo, TodoId, UserId, evolve, fold};
use todo_platform::store::{EventLog, EventScan, ProjectionStore, StoreError, WriteGuard};

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// Only this user's todos; all users when `None`.
    pub user: Option<UserId>,
    /// Report drift and write nothing.
    pub verify: bool,
    /// Events (and rows) read per request.
    pub page_size: usize,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self { user: None, verify: false, page_size: 500 }
    }
}

/// How a read-model row differs from the fold of its events.
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
    /// Rows written (rebuild only).
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
    todos: Vec<TodoId>,
    rows: Vec<(UserId, Todo)>,
}

pub async fn replay(
    scan: &dyn EventScan,
    log: &dyn EventLog,
    model: &dyn ProjectionStore,
    options: &ReplayOptions,
    mut progress: impl FnMut(Progress),
) -> Result<ReplayReport, StoreError> {
    let mut report = ReplayReport::default();
    let mut current: Option<Current> = None;
    let mut pending = Pending::default();
    let mut cursor = None;
    loop {
        let page = scan.scan(options.user.as_ref(), options.page_size, cursor).await?;
        for event in page.items {
            report.events += 1;
            current = Some(match current.take() {
                Some(mut item) if item.user == event.user_id && item.todo == event.todo_id => {
                    advance(&mut item, &event);
                    item
                }
                previous => {
                    if let Some(done) = previous {
                        settle(done, log, model, options, &mut report, &mut pending).await?;
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
        write(model, &mut pending, &mut report).await?;
        progress(Progress { events: report.events, todos: report.todos, rows_checked: 0 });
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    if let Some(done) = current {
        settle(done, log, model, options, &mut report, &mut pending).await?;
        write(model, &mut pending, &mut report).await?;
    }
    remove_orphans(log, model, options, &mut report, &mut progress).await?;
    Ok(report)
}

fn advance(item: &mut Current, event: &Event) {
    if event.version == item.state.version() + 1 {
        item.state = evolve(std::mem::take(&mut item.state), event);
    } else {
        item.reload = true;
    }
}

/// Folds one todo to its end: compares it with its row (verify), or queues the row (rebuild).
async fn settle(
    item: Current,
    log: &dyn EventLog,
    model: &dyn ProjectionStore,
    options: &ReplayOptions,
    report: &mut ReplayReport,
    pending: &mut Pending,
) -> Result<(), StoreError> {
    report.todos += 1;
    let state = match item.reload {
        true => fold(&log.load(&item.user, &item.todo).await?),
        false => item.state,
    };
    if options.verify {
        let stored = model.state(&item.user, &item.todo).await?;
        if stored != state {
            let kind = match stored {
                Todo::NotCreated => DriftKind::Missing,
                _ => DriftKind::Differs { row_version: stored.version(), events_version: state.version() },
            };
            report.record_drift(Drift { user: item.user, todo: item.todo, kind });
        }
    } else {
        pending.todos.push(item.todo);
        pending.rows.push((item.user, state));
    }
    Ok(())
}

/// Writes the queued rows, each unless its stored row is newer.
async fn write(
    model: &dyn ProjectionStore,
    pending: &mut Pending,
    report: &mut ReplayReport,
) -> Result<(), StoreError> {
    if pending.rows.is_empty() {
        return Ok(());
    }
    let written = model.put_many(&pending.rows, WriteGuard::NotOlder).await?;
    for ((todo, (user, state)), written) in pending.todos.drain(..).zip(pending.rows.drain(..)).zip(written) {
        if written {
            report.written += 1;
            continue;
        }
        // The row claims a version the events do not reach: it was written by something else.
        let stored = model.state(&user, &todo).await?;
        let kind = DriftKind::Differs { row_version: stored.version(), events_version: state.version() };
        report.record_drift(Drift { user, todo, kind });
    }
    Ok(())
}

/// Rows whose todo has no events at all: reported when verifying, removed when rebuilding.
async fn remove_orphans(
    log: &dyn EventLog,
    model: &dyn ProjectionStore,
    options: &ReplayOptions,
    report: &mut ReplayReport,
    progress: &mut impl FnMut(Progress),
) -> Result<(), StoreError> {
    let mut cursor = None;
    let mut checked = 0;
    loop {
        let page = model.scan_rows(options.user.as_ref(), options.page_size, cursor).await?;
        for row in page.items {
            checked += 1;
            if log.has_events(&row.user, &row.item.id).await? {
                continue;
            }
            if options.verify {
                report.record_drift(Drift { user: row.user, todo: row.item.id, kind: DriftKind::Orphan });
            } else {
                model.remove(&row.user, &row.item.id).await?;
                report.removed += 1;
            }
        }
        progress(Progress { events: report.events, todos: report.todos, rows_checked: checked });
        cursor = page.next;
        if cursor.is_none() {
            return Ok(());
        }
    }
}
