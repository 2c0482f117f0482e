//! `verify` checking every hash chain of the event table: events per second, and peak memory.
//!
//! Embedded: `audit::verify::verify` over the SQLite files replay's benchmark seeds (sealed
//! histories, every todo's chain intact), each run in a fresh process (`todo-bench
//! verify-sqlite`), next to its floor: the same pages of stored records read and parsed, nothing
//! checked. DynamoDB Local: the `todo-audit verify` binary itself on fresh tables.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, bail};
use audit::verify::{VerifyOptions, verify};
use events_schema::Event;
use serde::{Deserialize, Serialize};
use todo_local::sqlite::SqliteStore;
use todo_platform::store::{EventScan as _, Scope};

use crate::fixtures::put_events;
use crate::process::Measured;
use crate::projection::{histories, seeded_sqlite};
use crate::stats::Spread;
use crate::{Emulator, Progress, Settings};

#[derive(Debug, Clone, Serialize)]
pub struct VerifyResult {
    pub store: String,
    pub events: usize,
    pub todos: u64,
    pub events_per_second: Option<Spread>,
    pub seconds: Option<Spread>,
    /// Peak resident memory of the verifying process.
    pub peak_rss_mb: Option<Spread>,
    /// Embedded: the floor (read and parse every stored record, check nothing), and verify's
    /// time over it.
    pub scan_floor_events_per_second: Option<Spread>,
    pub ratio_to_floor: Option<Spread>,
    pub failures: Vec<String>,
}

/// What `todo-bench verify-sqlite` prints: one JSON line.
#[derive(Debug, Serialize, Deserialize)]
pub struct VerifyRunReport {
    pub events: u64,
    pub todos: u64,
    pub broken: u64,
    pub seconds: f64,
    pub peak_rss_kb: u64,
    /// The floor, after the verification: the same scan, each record read and parsed.
    pub scan_floor_seconds: f64,
}

/// The verifying process: `audit::verify::verify` (every user, no digest, `todo-audit`'s page
/// size) over the SQLite file in `data_dir`, reporting its own peak memory.
pub async fn verify_sqlite(data_dir: &Path) -> anyhow::Result<VerifyRunReport> {
    let store = SqliteStore::open(data_dir)?;
    let options = VerifyOptions::default();
    let started = Instant::now();
    let report = verify(&store, &options, |_| {}).await.context("verify")?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_rss_kb = crate::process::own_peak_rss_kb()?;
    let scan_floor_seconds = scan_floor(&store, options.page_size).await?;
    Ok(VerifyRunReport {
        events: report.events,
        todos: report.todos,
        broken: report.broken,
        seconds,
        peak_rss_kb,
        scan_floor_seconds,
    })
}

/// Reads every stored record as verify does, page by page, and checks nothing: verify's floor.
async fn scan_floor(store: &SqliteStore, page_size: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    let (mut cursor, mut records) = (None, 0_u64);
    loop {
        let page = store.scan_records(Scope::All, page_size, cursor).await.context("scanning the event log")?;
        records += page.items.len() as u64;
        std::hint::black_box(&page.items);
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    std::hint::black_box(records);
    Ok(started.elapsed().as_secs_f64())
}

/// Verify on the embedded store at each size, each run in a fresh process.
pub async fn verify_embedded(settings: &Settings, progress: &Progress) -> anyhow::Result<Vec<VerifyResult>> {
    let mut results = Vec::new();
    for &count in &settings.verify_sizes_embedded {
        let dir = seeded_sqlite(settings, progress, count).await?;
        let (mut rates, mut seconds, mut peaks, mut floors, mut failures, mut todos) =
            (vec![], vec![], vec![], vec![], vec![], 0);
        for run in 0..settings.runs {
            let exe = std::env::current_exe().context("locating todo-bench")?;
            let mut command = std::process::Command::new(exe);
            command.args(["verify-sqlite", "--data-dir"]).arg(&dir).stderr(std::process::Stdio::inherit());
            let output = tokio::task::spawn_blocking(move || command.output()).await??;
            let stdout = String::from_utf8_lossy(&output.stdout);
            let line = stdout.lines().last().unwrap_or_default();
            match serde_json::from_str::<VerifyRunReport>(line) {
                Ok(report) if output.status.success() && report.events == count as u64 && report.broken == 0 => {
                    let rate = report.events as f64 / report.seconds;
                    progress.say(&format!(
                        "verify embedded {count} events, run {}/{}: {rate:.0} events/s (floor {:.0}), peak RSS {:.1} MB",
                        run + 1,
                        settings.runs,
                        count as f64 / report.scan_floor_seconds,
                        report.peak_rss_kb as f64 / 1024.0
                    ));
                    todos = report.todos;
                    rates.push(rate);
                    seconds.push(report.seconds);
                    floors.push(report.scan_floor_seconds);
                    peaks.push(report.peak_rss_kb as f64 / 1024.0);
                }
                Ok(report) => failures.push(format!("run {}: unexpected report {report:?}", run + 1)),
                Err(error) => failures.push(format!("run {}: {} ({error}): {line}", run + 1, output.status)),
            }
        }
        results.push(VerifyResult {
            store: "embedded (SQLite)".into(),
            events: count,
            todos,
            events_per_second: Spread::of(rates),
            ratio_to_floor: Spread::ratio(&seconds, &floors),
            seconds: Spread::of(seconds),
            peak_rss_mb: Spread::of(peaks),
            scan_floor_events_per_second: Spread::of(floors.iter().map(|f| count as f64 / f)),
            failures,
        });
    }
    Ok(results)
}

/// The `todo-audit verify` binary against DynamoDB Local, fresh tables per run; peak memory from
/// `wait4` in `todo-bench measure`. Exit status 0 is an intact log, 1 a broken link.
pub async fn verify_dynamodb(
    settings: &Settings,
    progress: &Progress,
    dynamodb: &Emulator,
) -> anyhow::Result<Vec<VerifyResult>> {
    let mut results = Vec::new();
    for &count in &settings.verify_sizes_dynamodb {
        let (mut rates, mut seconds, mut peaks, mut failures, mut todos) = (vec![], vec![], vec![], vec![], 0);
        for run in 0..settings.runs {
            let tables = todo_testkit::dynamodb::Tables::fresh_in(dynamodb.client.clone()).await;
            let histories = histories(count)?;
            todos = histories.len() as u64;
            let events: Vec<Event> = histories.into_iter().flatten().collect();
            put_events(&tables.client, &tables.events, &events).await?;
            drop(events);
            let finished = run_todo_audit(settings, dynamodb.endpoint(), &tables.events).await;
            crate::fixtures::drop_tables(&tables.client, &tables.names()).await;
            let finished = match finished {
                Ok(finished) => finished,
                Err(error) => {
                    failures.push(format!("run {}: {error:#}", run + 1));
                    continue;
                }
            };
            let rate = count as f64 / finished.wall_seconds;
            progress.say(&format!(
                "verify DynamoDB Local {count} events, run {}/{}: {rate:.0} events/s, peak RSS {:.1} MB",
                run + 1,
                settings.runs,
                finished.max_rss_kb as f64 / 1024.0
            ));
            rates.push(rate);
            seconds.push(finished.wall_seconds);
            peaks.push(finished.max_rss_kb as f64 / 1024.0);
        }
        results.push(VerifyResult {
            store: "DynamoDB Local".into(),
            events: count,
            todos,
            events_per_second: Spread::of(rates),
            seconds: Spread::of(seconds),
            peak_rss_mb: Spread::of(peaks),
            scan_floor_events_per_second: None,
            ratio_to_floor: None,
            failures,
        });
    }
    Ok(results)
}

/// `todo-audit verify` on `events_table`, under `todo-bench measure` (started from this process,
/// which held the generated events, its peak memory would start from ours).
async fn run_todo_audit(settings: &Settings, endpoint: &str, events_table: &str) -> anyhow::Result<Measured> {
    let mut command = std::process::Command::new(std::env::current_exe().context("locating todo-bench")?);
    command
        .arg("measure")
        .arg(settings.binary("todo-audit"))
        .arg("verify")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(todo_platform::manifest::EVENTS_TABLE_NAME, events_table)
        .env("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let output = tokio::task::spawn_blocking(move || command.output()).await?.context("running todo-bench measure")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    match serde_json::from_str::<Measured>(stdout.trim()) {
        Ok(finished) if output.status.success() && finished.exit_code == Some(0) => Ok(finished),
        Ok(finished) => bail!("todo-audit verify exited with {:?} (1: a broken link)", finished.exit_code),
        Err(error) => bail!("todo-bench measure: {} ({error}): {stdout}", output.status),
    }
}
