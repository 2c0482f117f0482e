//! The projector applying stream batches, and `replay` rebuilding the read model: events per
//! second, and replay's peak memory as the event count grows.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use aws_lambda_events::event::dynamodb::Event as StreamBatch;
use events_schema::Event;
use projector::Projector;
use serde::{Deserialize, Serialize};
use todo_local::sqlite::SqliteStore;
use todo_platform::store::EventLog as _;

use crate::fixtures::{EventClock, fresh_user, lifecycle, new_todo_id, parsed_stream_batch, put_events};
use crate::process::Measured;
use crate::stats::Spread;
use crate::{Emulator, Progress, Settings};

/// Records per stream batch: the event source mapping's default batch size.
pub const BATCH_SIZE: usize = 100;
/// Events per todo in generated histories (created, edits, completed, some deleted).
const EVENTS_PER_TODO: usize = 5;
/// Todos per user in generated histories.
const TODOS_PER_USER: usize = 20;

#[derive(Debug, Clone, Serialize)]
pub struct ProjectorResult {
    pub store: String,
    pub events_per_run: usize,
    pub batch_size: usize,
    pub events_per_second: Option<Spread>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplayResult {
    pub store: String,
    pub events: usize,
    pub todos: u64,
    pub events_per_second: Option<Spread>,
    pub seconds: Option<Spread>,
    /// Peak resident memory of the replay process.
    pub peak_rss_mb: Option<Spread>,
    /// Embedded: the seconds of the rebuild pass and of the orphan check (see [`ReplayReport`]).
    pub rebuild_seconds: Option<Spread>,
    pub orphan_check_seconds: Option<Spread>,
    /// Embedded: the floor (read and fold every event, write nothing), and replay's time over it.
    pub scan_floor_events_per_second: Option<Spread>,
    pub ratio_to_floor: Option<Spread>,
    pub failures: Vec<String>,
}

/// Generated histories: `count` events of todos of several users, every todo's events in
/// version order and sealed, each todo's events contiguous (as a scan of the event table returns
/// them).
pub(crate) fn histories(count: usize) -> anyhow::Result<Vec<Vec<Event>>> {
    let mut clock = EventClock::default();
    let mut todos = Vec::with_capacity(count / EVENTS_PER_TODO + 1);
    let mut left = count;
    let mut user = fresh_user("history")?;
    while left > 0 {
        if todos.len() % TODOS_PER_USER == 0 && !todos.is_empty() {
            user = fresh_user("history")?;
        }
        let n = left.min(EVENTS_PER_TODO);
        let deleted = todos.len() % 10 == 9 && n == EVENTS_PER_TODO;
        todos.push(lifecycle(&user, new_todo_id(), n, deleted, &mut clock));
        left -= n;
    }
    Ok(todos)
}

/// Stream batches as DynamoDB Streams would deliver these histories: interleaved across todos,
/// each todo's events in order.
fn stream_batches(todos: &[Vec<Event>], table: &str) -> anyhow::Result<Vec<StreamBatch>> {
    let mut order = Vec::new();
    for version in 0..EVENTS_PER_TODO {
        order.extend(todos.iter().filter_map(|events| events.get(version).cloned()));
    }
    order.chunks(BATCH_SIZE).map(|chunk| parsed_stream_batch(chunk, table)).collect()
}

async fn project(projector: &Projector, batches: Vec<StreamBatch>) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for batch in batches {
        let response = projector.handle_batch(batch).await;
        if !response.batch_item_failures.is_empty() {
            bail!("the projector reported {} failed records", response.batch_item_failures.len());
        }
    }
    Ok(started.elapsed())
}

/// The projector's handler on batches of `BATCH_SIZE` records, against DynamoDB Local (as in
/// Lambda: GetItem + PutItem per record) and against the embedded store.
pub async fn projector_throughput(
    settings: &Settings,
    progress: &Progress,
    emulator: &Emulator,
) -> anyhow::Result<Vec<ProjectorResult>> {
    let mut results = Vec::new();
    for dynamodb in [true, false] {
        let count = if dynamodb { settings.projector_events_dynamodb } else { settings.projector_events_embedded };
        let label = if dynamodb { "DynamoDB Local" } else { "embedded (SQLite)" };
        let mut rates = Vec::new();
        for run in 0..settings.runs {
            let todos = histories(count)?;
            let elapsed = if dynamodb {
                let tables = todo_testkit::dynamodb::Tables::fresh_in(emulator.client.clone()).await;
                let store = Arc::new(tables.store());
                let batches = stream_batches(&todos, &tables.events)?;
                let elapsed = project(&Projector::new(store.clone(), store), batches).await;
                crate::fixtures::drop_tables(&tables.client, &[&tables.events, &tables.todos, &tables.stats]).await;
                elapsed?
            } else {
                let dir = settings.scratch.join("projector-embedded");
                remove_dir(&dir)?;
                let store = Arc::new(SqliteStore::open(&dir)?);
                let batches = stream_batches(&todos, "EventsTable")?;
                project(&Projector::new(store.clone(), store), batches).await?
            };
            let rate = count as f64 / elapsed.as_secs_f64();
            progress.say(&format!("projector on {label}, run {}/{}: {rate:.0} events/s", run + 1, settings.runs));
            rates.push(rate);
        }
        results.push(ProjectorResult {
            store: label.to_owned(),
            events_per_run: count,
            batch_size: BATCH_SIZE,
            events_per_second: Spread::of(rates),
        });
    }
    Ok(results)
}

/// The projector as deployed (the read model and the stats projection) next to the read model
/// alone, on the same batches.
#[derive(Debug, Clone, Serialize)]
pub struct StatsCostResult {
    pub store: String,
    pub events_per_run: usize,
    pub batch_size: usize,
    /// `Projector::new(..).with_stats(..)`: both projections.
    pub both_events_per_second: Option<Spread>,
    /// `Projector::new(..)`: the read model only.
    pub todos_only_events_per_second: Option<Spread>,
    /// Each run's both / todos only.
    pub ratio: Option<Spread>,
}

/// The projector's handler with both projections and with the read model alone, each run on the
/// same generated histories (fresh tables or file for each), which goes first alternating from run
/// to run.
pub async fn stats_cost(
    settings: &Settings,
    progress: &Progress,
    emulator: &Emulator,
) -> anyhow::Result<Vec<StatsCostResult>> {
    let mut results = Vec::new();
    for dynamodb in [true, false] {
        let count = if dynamodb { settings.projector_events_dynamodb } else { settings.projector_events_embedded };
        let label = if dynamodb { "DynamoDB Local" } else { "embedded (SQLite)" };
        let (mut both, mut alone) = (Vec::new(), Vec::new());
        for run in 0..settings.runs {
            let todos = histories(count)?;
            let mut rates = [0.0; 2];
            for with_stats in if run % 2 == 0 { [true, false] } else { [false, true] } {
                let elapsed = if dynamodb {
                    let tables = todo_testkit::dynamodb::Tables::fresh_in(emulator.client.clone()).await;
                    let store = Arc::new(tables.store());
                    let projector = Projector::new(store.clone(), store.clone());
                    let projector = if with_stats { projector.with_stats(store) } else { projector };
                    let elapsed = project(&projector, stream_batches(&todos, &tables.events)?).await;
                    crate::fixtures::drop_tables(&tables.client, &[&tables.events, &tables.todos, &tables.stats]).await;
                    elapsed?
                } else {
                    let dir = settings.scratch.join("projector-stats-embedded");
                    remove_dir(&dir)?;
                    let store = Arc::new(SqliteStore::open(&dir)?);
                    let projector = Projector::new(store.clone(), store.clone());
                    let projector = if with_stats { projector.with_stats(store) } else { projector };
                    project(&projector, stream_batches(&todos, "EventsTable")?).await?
                };
                rates[usize::from(with_stats)] = count as f64 / elapsed.as_secs_f64();
            }
            let [todos_only, with_stats] = rates;
            progress.say(&format!(
                "projector on {label}, run {}/{}: {with_stats:.0} events/s with the stats, {todos_only:.0} without \
                 ({:.2}x)",
                run + 1,
                settings.runs,
                with_stats / todos_only
            ));
            both.push(with_stats);
            alone.push(todos_only);
        }
        results.push(StatsCostResult {
            store: label.to_owned(),
            events_per_run: count,
            batch_size: BATCH_SIZE,
            ratio: Spread::ratio(&both, &alone),
            both_events_per_second: Spread::of(both),
            todos_only_events_per_second: Spread::of(alone),
        });
    }
    Ok(results)
}

fn remove_dir(dir: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error).with_context(|| format!("removing {}", dir.display())),
    }
}

/// What `todo-bench replay-sqlite` prints: one JSON line.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReplayReport {
    pub events: u64,
    pub todos: u64,
    pub written: u64,
    pub drift: u64,
    pub seconds: f64,
    /// Of `seconds`: the pass over the events that rebuilds each todo's row, and the check for rows
    /// that no event backs (a page of rows, then one event read per row).
    pub rebuild_seconds: f64,
    pub orphan_check_seconds: f64,
    pub peak_rss_kb: u64,
    /// The floor, after the replay: the same scan of the event log, each todo folded, nothing
    /// written or checked (`None` when skipped).
    pub scan_floor_seconds: Option<f64>,
}

/// The replay process: `projector::replay::replay` over the SQLite file in `data_dir` (one
/// segment of it, as `replay --segments N --segment I` reads one), reporting its own peak memory;
/// then, with `floor`, the floor.
pub async fn replay_sqlite(
    data_dir: &Path,
    segment: Option<todo_platform::store::Segment>,
    floor: bool,
) -> anyhow::Result<ReplayReport> {
    let store = SqliteStore::open(data_dir)?;
    let options = projector::replay::ReplayOptions { segment, ..Default::default() };
    let started = Instant::now();
    // Progress comes after every page of events (no rows checked yet), then after every page of
    // the orphan check: the last of the former ends the rebuild pass (to within one todo).
    let mut rebuilt = started;
    let report = projector::replay::replay(projector::replay::Stores::of(&store), &options, |progress| {
        if progress.rows_checked == 0 {
            rebuilt = Instant::now();
        }
    })
    .await
    .context("replay")?;
    let seconds = started.elapsed().as_secs_f64();
    let rebuild_seconds = rebuilt.duration_since(started).as_secs_f64();
    let peak_rss_kb = crate::process::own_peak_rss_kb()?;
    let scan_floor_seconds = match floor {
        true => Some(scan_floor(&store, options.page_size).await?),
        false => None,
    };
    Ok(ReplayReport {
        events: report.events,
        todos: report.todos,
        written: report.written,
        drift: report.drift_count,
        seconds,
        rebuild_seconds,
        orphan_check_seconds: seconds - rebuild_seconds,
        peak_rss_kb,
        scan_floor_seconds,
    })
}

/// Reads the whole event log as replay does, page by page, and folds each todo: replay's floor.
async fn scan_floor(store: &SqliteStore, page_size: usize) -> anyhow::Result<f64> {
    use todo_platform::store::EventScan as _;
    let started = Instant::now();
    let mut cursor = None;
    let mut current: Option<(events_schema::TodoId, events_schema::Todo)> = None;
    let mut todos = 0_u64;
    loop {
        let page =
            store.scan(todo_platform::store::Scope::All, page_size, cursor).await.context("scanning the event log")?;
        for event in &page.items {
            let state = match current.take() {
                Some((todo, state)) if todo == event.todo_id => state,
                _ => {
                    todos += 1;
                    events_schema::Todo::NotCreated
                }
            };
            current = Some((event.todo_id, events_schema::evolve(state, event)));
        }
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    std::hint::black_box((todos, current));
    Ok(started.elapsed().as_secs_f64())
}

/// v2: the events are sealed (hash-chained), so that the audit benchmark can verify them too.
const SEED_VERSION: &str = "todo-bench replay seed v2";

/// A SQLite data dir holding `count` generated events and no read model, kept between runs of
/// the benchmark (the scratch folder is not committed). Replay rebuilds its read model; verify
/// checks its chains.
pub(crate) async fn seeded_sqlite(settings: &Settings, progress: &Progress, count: usize) -> anyhow::Result<PathBuf> {
    let dir = settings.scratch.join(format!("replay-embedded-{count}"));
    let marker = dir.join("seeded");
    let expected = format!("{SEED_VERSION}: {count} events\n");
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(expected.as_str()) {
        clear_read_model(&dir)?;
        return Ok(dir);
    }
    remove_dir(&dir)?;
    progress.say(&format!("seeding {count} events into {}", dir.display()));
    let store = SqliteStore::open(&dir)?;
    let started = Instant::now();
    for events in histories(count)? {
        store.append(&events).await.context("seeding replay events")?;
    }
    drop(store);
    std::fs::write(&marker, expected).with_context(|| format!("writing {}", marker.display()))?;
    progress.say(&format!("seeded {count} events in {:.1} s", started.elapsed().as_secs_f64()));
    Ok(dir)
}

/// Empties the embedded read model so that each replay rebuilds it from nothing. (The bench
/// reaches into the store's schema here: `todo_local::sqlite` keeps the read model in `todos`.)
pub(crate) fn clear_read_model(dir: &Path) -> anyhow::Result<()> {
    let connection = rusqlite::Connection::open(dir.join("todo.sqlite3")).context("opening the replay store")?;
    connection
        .execute_batch("DELETE FROM todos; PRAGMA wal_checkpoint(TRUNCATE);")
        .context("clearing the read model")?;
    Ok(())
}

/// Replay on the embedded store at each size, each run in a fresh process.
pub async fn replay_embedded(settings: &Settings, progress: &Progress) -> anyhow::Result<Vec<ReplayResult>> {
    let mut results = Vec::new();
    for &count in &settings.replay_sizes_embedded {
        let dir = seeded_sqlite(settings, progress, count).await?;
        let (mut rates, mut seconds, mut peaks, mut failures, mut todos) = (vec![], vec![], vec![], vec![], 0);
        let (mut rebuild, mut orphans, mut floors) = (vec![], vec![], vec![]);
        for run in 0..settings.runs {
            clear_read_model(&dir)?;
            let exe = std::env::current_exe().context("locating todo-bench")?;
            let mut command = std::process::Command::new(exe);
            command.args(["replay-sqlite", "--data-dir"]).arg(&dir).stderr(std::process::Stdio::inherit());
            let output = tokio::task::spawn_blocking(move || command.output()).await??;
            let stdout = String::from_utf8_lossy(&output.stdout);
            let line = stdout.lines().last().unwrap_or_default();
            match serde_json::from_str::<ReplayReport>(line) {
                Ok(report) if output.status.success() && report.events == count as u64 && report.drift == 0 => {
                    let rate = report.events as f64 / report.seconds;
                    progress.say(&format!(
                        "replay embedded {count} events, run {}/{}: {rate:.0} events/s, peak RSS {:.1} MB",
                        run + 1,
                        settings.runs,
                        report.peak_rss_kb as f64 / 1024.0
                    ));
                    todos = report.todos;
                    rates.push(rate);
                    seconds.push(report.seconds);
                    rebuild.push(report.rebuild_seconds);
                    orphans.push(report.orphan_check_seconds);
                    floors.push(report.scan_floor_seconds.unwrap_or(f64::NAN));
                    peaks.push(report.peak_rss_kb as f64 / 1024.0);
                }
                Ok(report) => failures.push(format!("run {}: unexpected report {report:?}", run + 1)),
                Err(error) => {
                    failures.push(format!("run {}: {} ({error}): {line}", run + 1, output.status));
                }
            }
        }
        results.push(ReplayResult {
            store: "embedded (SQLite)".into(),
            events: count,
            todos,
            events_per_second: Spread::of(rates),
            ratio_to_floor: Spread::ratio(&seconds, &floors),
            seconds: Spread::of(seconds),
            peak_rss_mb: Spread::of(peaks),
            rebuild_seconds: Spread::of(rebuild),
            orphan_check_seconds: Spread::of(orphans),
            scan_floor_events_per_second: Spread::of(floors.iter().map(|f| count as f64 / f)),
            failures,
        });
    }
    Ok(results)
}

/// The `replay` binary (its arguments to be added) under `todo-bench measure [--stdout <file>]`,
/// with the environment a user sets to run it against DynamoDB Local's `tables` (nothing else is
/// inherited but `PATH`). Under `todo-bench measure`: started from this process, which holds the
/// generated events, its peak memory would start from ours.
pub(crate) fn measured_replay(
    settings: &Settings,
    endpoint: &str,
    tables: &todo_testkit::dynamodb::Tables,
    stdout: Option<&Path>,
) -> anyhow::Result<std::process::Command> {
    let mut command = std::process::Command::new(std::env::current_exe().context("locating todo-bench")?);
    command.arg("measure");
    if let Some(stdout) = stdout {
        command.arg("--stdout").arg(stdout);
    }
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(todo_platform::manifest::EVENTS_TABLE_NAME, &tables.events)
        .env(todo_platform::manifest::TODO_TABLE_NAME, &tables.todos)
        .env(todo_platform::manifest::STATS_TABLE_NAME, &tables.stats)
        .env("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .arg(settings.binary("replay"));
    Ok(command)
}

/// The `replay` binary against DynamoDB Local, fresh tables per run; peak memory from `wait4`
/// in `todo-bench measure`.
pub async fn replay_dynamodb(
    settings: &Settings,
    progress: &Progress,
    dynamodb: &Emulator,
) -> anyhow::Result<Vec<ReplayResult>> {
    let endpoint = dynamodb.endpoint().to_owned();
    let mut results = Vec::new();
    for &count in &settings.replay_sizes_dynamodb {
        let (mut rates, mut seconds, mut peaks, mut failures) = (vec![], vec![], vec![], vec![]);
        let mut todos = 0;
        for run in 0..settings.runs {
            let tables = todo_testkit::dynamodb::Tables::fresh_in(dynamodb.client.clone()).await;
            let histories = histories(count)?;
            todos = histories.len() as u64;
            let events: Vec<Event> = histories.into_iter().flatten().collect();
            put_events(&tables.client, &tables.events, &events).await?;
            let mut command = measured_replay(settings, &endpoint, &tables, None)?;
            let output = tokio::task::spawn_blocking(move || command.output()).await?;
            crate::fixtures::drop_tables(&tables.client, &[&tables.events, &tables.todos, &tables.stats]).await;
            let output = output.context("running todo-bench measure")?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            let finished = match serde_json::from_str::<Measured>(stdout.trim()) {
                Ok(finished) if output.status.success() && finished.exit_code == Some(0) => finished,
                Ok(finished) => {
                    failures.push(format!("run {}: replay exited with {:?}", run + 1, finished.exit_code));
                    continue;
                }
                Err(error) => {
                    failures.push(format!(
                        "run {}: todo-bench measure: {} ({error}): {stdout}",
                        run + 1,
                        output.status
                    ));
                    continue;
                }
            };
            let rate = count as f64 / finished.wall_seconds;
            progress.say(&format!(
                "replay DynamoDB Local {count} events, run {}/{}: {rate:.0} events/s, peak RSS {:.1} MB",
                run + 1,
                settings.runs,
                finished.max_rss_kb as f64 / 1024.0
            ));
            rates.push(rate);
            seconds.push(finished.wall_seconds);
            peaks.push(finished.max_rss_kb as f64 / 1024.0);
        }
        results.push(ReplayResult {
            store: "DynamoDB Local".into(),
            events: count,
            todos,
            events_per_second: Spread::of(rates),
            seconds: Spread::of(seconds),
            peak_rss_mb: Spread::of(peaks),
            rebuild_seconds: None,
            orphan_check_seconds: None,
            scan_floor_events_per_second: None,
            ratio_to_floor: None,
            failures,
        });
    }
    Ok(results)
}
