//! `replay` split into parallel segments, as a developer runs it: N processes started together,
//! process I given `--segments N --segment I`. Events per second over the wall time from the first
//! start to the last exit, the events each segment replayed, and the peak memory of the process
//! that replayed the most.
//!
//! Embedded: `todo-bench replay-sqlite --segments N --segment I` over replay's seeded SQLite file
//! (the `replay` binary opens DynamoDB only), each process reporting its own `VmHWM`. DynamoDB
//! Local: the `replay` binary itself, each under `todo-bench measure` (peak memory from `wait4`),
//! on one seeded event table and a fresh read-model table per run. One segment is a process run
//! without the flags, as a whole replay is run: section 5's replay, its process start included.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use anyhow::Context as _;
use events_schema::Event;
use serde::Serialize;
use todo_testkit::dynamodb::Tables;

use crate::fixtures::{drop_tables, put_events};
use crate::process::Measured;
use crate::projection::{ReplayReport, clear_read_model, histories, measured_replay, seeded_sqlite};
use crate::stats::Spread;
use crate::{Emulator, Progress, Settings};

#[derive(Debug, Clone, Serialize)]
pub struct SegmentsResult {
    pub store: String,
    pub segments: usize,
    pub events: usize,
    /// Every event over the wall time from the first process's start to the last one's exit.
    pub events_per_second: Option<Spread>,
    /// Each run's events/s over the same run's events/s with one segment.
    pub speedup: Option<Spread>,
    pub seconds: Option<Spread>,
    /// The events each segment replayed, segment 0 first (the same data in every run).
    pub segment_events: Vec<u64>,
    /// Peak resident memory of the process of the segment that replayed the most events.
    pub largest_segment_peak_rss_mb: Option<Spread>,
    pub failures: Vec<String>,
}

/// One segment's process, as it ended.
struct SegmentRun {
    events: u64,
    peak_rss_mb: f64,
}

/// The runs of one segment count, a run that failed counting as NaN so that run `i` of every
/// count stays run `i` (the speed-up divides figures of the same run).
#[derive(Default)]
struct Series {
    rates: Vec<f64>,
    seconds: Vec<f64>,
    peaks: Vec<f64>,
    segment_events: Vec<u64>,
    failures: Vec<String>,
}

impl Series {
    /// Records one run; its progress line.
    fn record(
        &mut self,
        run: usize,
        count: usize,
        seconds: f64,
        segments: Result<Vec<SegmentRun>, String>,
    ) -> Result<String, String> {
        let segments = segments.and_then(|segments| {
            let events: u64 = segments.iter().map(|s| s.events).sum();
            match events == count as u64 {
                true => Ok(segments),
                false => Err(format!("the segments replayed {events} events of {count}")),
            }
        });
        match segments {
            Ok(segments) => {
                let largest = segments.iter().max_by_key(|s| s.events).map_or(f64::NAN, |s| s.peak_rss_mb);
                let rate = count as f64 / seconds;
                self.rates.push(rate);
                self.seconds.push(seconds);
                self.peaks.push(largest);
                self.segment_events = segments.iter().map(|s| s.events).collect();
                Ok(format!(
                    "{rate:.0} events/s in {seconds:.2} s, segments {:?}, peak RSS of the largest {largest:.1} MB",
                    self.segment_events
                ))
            }
            Err(failure) => {
                self.rates.push(f64::NAN);
                self.seconds.push(f64::NAN);
                self.peaks.push(f64::NAN);
                self.failures.push(format!("run {}: {failure}", run + 1));
                Err(failure)
            }
        }
    }
}

/// The progress line of one run.
fn said(store: &str, n: usize, run: usize, runs: usize, outcome: Result<String, String>) -> String {
    let figures = outcome.unwrap_or_else(|failure| format!("failed: {failure}"));
    format!("replay {store} in {n} segment(s), run {}/{runs}: {figures}", run + 1)
}

fn results(store: &str, count: usize, counts: &[usize], series: Vec<Series>) -> Vec<SegmentsResult> {
    let one = counts.iter().position(|&n| n == 1).map(|i| series[i].rates.clone());
    counts
        .iter()
        .zip(series)
        .map(|(&segments, series)| SegmentsResult {
            store: store.to_owned(),
            segments,
            events: count,
            speedup: one.as_ref().and_then(|one| Spread::ratio(&series.rates, one)),
            events_per_second: Spread::of(series.rates),
            seconds: Spread::of(series.seconds),
            segment_events: series.segment_events,
            largest_segment_peak_rss_mb: Spread::of(series.peaks),
            failures: series.failures,
        })
        .collect()
}

/// The segment counts in the order run `run` takes them: rotated from run to run, so that no
/// count always comes first or last.
fn order(counts: &[usize], run: usize) -> Vec<usize> {
    let mut order = counts.to_vec();
    if !order.is_empty() {
        order.rotate_left(run % counts.len());
    }
    order
}

/// Starts every command at once and waits for all of them: the wall time from the first start to
/// the last exit, and each one's output (standard output captured).
async fn run_together(commands: Vec<Command>) -> anyhow::Result<(f64, Vec<Output>)> {
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut children = Vec::with_capacity(commands.len());
        for mut command in commands {
            match command.stdout(Stdio::piped()).spawn() {
                Ok(child) => children.push(child),
                Err(error) => {
                    for mut child in children {
                        let _ = child.kill();
                        let _ = child.wait();
                    }
                    return Err(error).with_context(|| format!("starting {command:?}"));
                }
            }
        }
        // Each prints one line: no pipe fills while an earlier child is waited for.
        let outputs = children
            .into_iter()
            .map(|child| child.wait_with_output().context("waiting for a segment's process"))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok((started.elapsed().as_secs_f64(), outputs))
    })
    .await?
}

/// `--segments N --segment I`, or nothing for a single segment (a whole replay, as it is run).
fn segment_args(command: &mut Command, n: usize, index: usize) {
    if n > 1 {
        command.args(["--segments", &n.to_string(), "--segment", &index.to_string()]);
    }
}

/// Replay in 1, 2, 4 ... processes over replay's seeded SQLite file, its read model emptied
/// before each run.
pub async fn segments_embedded(settings: &Settings, progress: &Progress) -> anyhow::Result<Vec<SegmentsResult>> {
    let count = settings.segments_events_embedded;
    let dir = seeded_sqlite(settings, progress, count).await?;
    let exe = std::env::current_exe().context("locating todo-bench")?;
    let counts = &settings.segment_counts;
    let mut series: Vec<Series> = counts.iter().map(|_| Series::default()).collect();
    for run in 0..settings.runs {
        for n in order(counts, run) {
            clear_read_model(&dir)?;
            let commands = (0..n)
                .map(|index| {
                    let mut command = Command::new(&exe);
                    command.args(["replay-sqlite", "--no-floor", "--data-dir"]).arg(&dir);
                    segment_args(&mut command, n, index);
                    command.stdin(Stdio::null()).stderr(Stdio::inherit());
                    command
                })
                .collect();
            let (seconds, outputs) = run_together(commands).await?;
            let segments = outputs
                .iter()
                .map(|output| {
                    let stdout = String::from_utf8_lossy(&output.stdout);
                    let line = stdout.lines().last().unwrap_or_default();
                    match serde_json::from_str::<ReplayReport>(line) {
                        Ok(report) if output.status.success() && report.drift == 0 => {
                            Ok(SegmentRun { events: report.events, peak_rss_mb: report.peak_rss_kb as f64 / 1024.0 })
                        }
                        Ok(report) => Err(format!("unexpected report {report:?}")),
                        Err(error) => Err(format!("{} ({error}): {line}", output.status)),
                    }
                })
                .collect::<Result<Vec<_>, _>>();
            let index = counts.iter().position(|&c| c == n).unwrap_or_default();
            let outcome = series[index].record(run, count, seconds, segments);
            progress.say(&said("embedded", n, run, settings.runs, outcome));
        }
    }
    Ok(results("embedded (SQLite)", count, counts, series))
}

/// Replay in 1, 2, 4 ... `replay` processes against DynamoDB Local: one seeded event table, a
/// fresh read-model table for each run, after one replay that is not recorded (the emulator's JIT
/// warms up on the first).
pub async fn segments_dynamodb(
    settings: &Settings,
    progress: &Progress,
    dynamodb: &Emulator,
) -> anyhow::Result<Vec<SegmentsResult>> {
    let count = settings.segments_events_dynamodb;
    let mut tables = Tables::fresh_in(dynamodb.client.clone()).await;
    let seeded_todos = tables.todos.clone();
    let events: Vec<Event> = histories(count)?.into_iter().flatten().collect();
    let measured = async {
        put_events(&tables.client, &tables.events, &events).await?;
        drop(events);
        if let (seconds, Err(failure)) = dynamodb_round(settings, dynamodb, &mut tables, 1).await? {
            anyhow::bail!("the warm-up replay failed after {seconds:.1} s: {failure}");
        }
        let counts = &settings.segment_counts;
        let mut series: Vec<Series> = counts.iter().map(|_| Series::default()).collect();
        for run in 0..settings.runs {
            for n in order(counts, run) {
                let (seconds, segments) = dynamodb_round(settings, dynamodb, &mut tables, n).await?;
                let index = counts.iter().position(|&c| c == n).unwrap_or_default();
                let outcome = series[index].record(run, count, seconds, segments);
                progress.say(&said("DynamoDB Local", n, run, settings.runs, outcome));
            }
        }
        Ok(results("DynamoDB Local", count, counts, series))
    }
    .await;
    drop_tables(&tables.client, &[&tables.events, &seeded_todos, &tables.stats]).await;
    measured
}

/// `n` `replay` processes on the seeded event table and a fresh read-model table (which becomes
/// `tables.todos`, dropped after): the wall time, and each segment's process.
async fn dynamodb_round(
    settings: &Settings,
    dynamodb: &Emulator,
    tables: &mut Tables,
    n: usize,
) -> anyhow::Result<(f64, Result<Vec<SegmentRun>, String>)> {
    tables.todos = format!("Todos-{}", uuid::Uuid::new_v4().simple());
    // The event table exists: only the read model's is created.
    todo_platform::store::dynamo::create_tables(&tables.client, &tables.events, &tables.todos).await?;
    let outputs: Vec<PathBuf> =
        (0..n).map(|index| settings.scratch.join(format!("replay-segment-{index}.out"))).collect();
    let commands = outputs
        .iter()
        .enumerate()
        .map(|(index, stdout)| {
            let mut command = measured_replay(settings, dynamodb.endpoint(), tables, Some(stdout))?;
            segment_args(&mut command, n, index);
            Ok(command)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let together = run_together(commands).await;
    drop_tables(&tables.client, &[&tables.todos]).await;
    let (seconds, finished) = together?;
    let segments = finished
        .iter()
        .zip(&outputs)
        .map(|(output, replay_stdout)| {
            let stdout = String::from_utf8_lossy(&output.stdout);
            let measured = serde_json::from_str::<Measured>(stdout.trim())
                .map_err(|error| format!("todo-bench measure: {} ({error}): {stdout}", output.status))?;
            if measured.exit_code != Some(0) {
                return Err(format!("replay exited with {:?}", measured.exit_code));
            }
            let said = std::fs::read_to_string(replay_stdout).unwrap_or_default();
            let events = replayed_events(&said).ok_or_else(|| format!("replay printed {said:?}"))?;
            Ok(SegmentRun { events, peak_rss_mb: measured.max_rss_kb as f64 / 1024.0 })
        })
        .collect();
    Ok((seconds, segments))
}

/// The event count in `replay`'s summary: `replayed 1234 events of 250 todos (segment 0 of 2) in ...`.
fn replayed_events(stdout: &str) -> Option<u64> {
    let line = stdout.lines().find(|line| line.starts_with("replayed "))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_count_takes_every_place_in_turn() {
        assert_eq!(order(&[1, 2, 4], 0), [1, 2, 4]);
        assert_eq!(order(&[1, 2, 4], 1), [2, 4, 1]);
        assert_eq!(order(&[1, 2, 4], 5), [4, 1, 2]);
    }

    #[test]
    fn the_summary_line_gives_the_events() {
        let said = "replayed 1234 events of 250 todos (segment 0 of 2) in 0.4 s; 250 rows written, 0 orphan rows \
                    removed, 0 drifted\n";
        assert_eq!(replayed_events(said), Some(1234));
        assert_eq!(replayed_events("replay: stopped\n"), None);
    }
}
