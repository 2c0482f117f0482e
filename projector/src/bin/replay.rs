//! `replay`: rebuilds the projections (the `TodoTable` read model, the stats) from the event table,
//! or checks them.
//!
//! ```text
//! replay [--projection todos|stats|all] [--user SUB | --segments N --segment I] [--verify] [--page-size N]
//! ```
//! Reads `EVENTS_TABLE_NAME`, `TODO_TABLE_NAME`, `STATS_TABLE_NAME` and the SDK's configuration
//! (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local). Exit status: 0 when
//! done (or, with `--verify`, when there is no drift), 1 when drift was found or some rows could
//! not be rebuilt, 2 on a usage or runtime error.
//!
//! Started by Lambda (the replay state machine's Map state), the same binary processes one
//! segment per invocation: `{"projection", "verify", "segments", "segment"}` in, the segment's
//! counts out (`projector::job`).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use events_schema::UserId;
use projector::job::{Projection, SegmentJob, SegmentReport};
use projector::replay::{DriftKind, Progress, ReplayOptions, ReplayReport, Stores, replay};
use todo_platform::observe;
use todo_platform::store::Segment;
use todo_platform::store::dynamo::DynamoStore;

const USAGE: &str =
    "usage: replay [--projection todos|stats|all] [--user SUB | --segments N --segment I] [--verify] [--page-size N]

Rebuilds the projections from the event table (EVENTS_TABLE_NAME): the read model (TODO_TABLE_NAME)
and the stats (STATS_TABLE_NAME).
  --projection P  todos (default), stats, or all
  --user SUB      only this user's todos (the Cognito sub)
  --segments N    split the tables into N parallel Scan segments (1 to 1000000) ...
  --segment I     ... and process segment I (0 to N-1); every segment run once equals one whole run
  --verify        report drift between the projections and the events; write nothing
  --page-size N   items read per request (default 500)";

/// A command line that cannot be run: exit 2 with the usage.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Usage(String);

fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<ReplayOptions>, Usage> {
    let usage = |message: String| Usage(message);
    let mut options = ReplayOptions::default();
    let (mut segments, mut segment): (Option<u64>, Option<u64>) = (None, None);
    let mut args = args.skip(1);
    let number = |flag: &str, raw: Option<String>| -> Result<u64, Usage> {
        let raw = raw.ok_or_else(|| usage(format!("{flag} needs a value")))?;
        raw.parse().map_err(|_| usage(format!("{flag} must be a whole number, not `{raw}`")))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--user" => {
                let sub = args.next().ok_or_else(|| usage("--user needs a value".into()))?;
                options.user = Some(UserId::parse(&sub).map_err(|e| usage(format!("--user: {e}")))?);
            }
            "--projection" => {
                options.projection = match args.next().as_deref() {
                    Some("todos") => Projection::Todos,
                    Some("stats") => Projection::Stats,
                    Some("all") => Projection::All,
                    other => return Err(usage(format!("--projection must be todos, stats or all, not {other:?}"))),
                }
            }
            "--segments" => segments = Some(number("--segments", args.next())?),
            "--segment" => segment = Some(number("--segment", args.next())?),
            "--verify" => options.verify = true,
            "--page-size" => {
                options.page_size = number("--page-size", args.next())?
                    .try_into()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| usage("--page-size must be a positive number".into()))?;
            }
            "-h" | "--help" => return Ok(None),
            other => return Err(usage(format!("unknown argument `{other}`"))),
        }
    }
    options.segment = match (segments, segment) {
        (None, None) => None,
        (Some(total), Some(index)) => Some(Segment::new(index, total).map_err(|e| usage(e.to_string()))?),
        _ => return Err(usage("--segments and --segment go together".into())),
    };
    if options.segment.is_some() && options.user.is_some() {
        return Err(usage("--user reads one partition; it cannot be split into segments".into()));
    }
    Ok(Some(options))
}

#[tokio::main]
async fn main() -> ExitCode {
    todo_platform::config::init_tracing();
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return match run_lambda().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("replay: {error}");
                ExitCode::from(2)
            }
        };
    }
    let options = match parse_args(std::env::args()) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(usage) => {
            eprintln!("replay: {usage}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("replay: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn store() -> anyhow::Result<DynamoStore> {
    let tables = todo_platform::config::Tables::from_env()?;
    let stats = todo_platform::config::Tables::stats_from_env()?;
    let client = todo_platform::config::dynamodb_client().await;
    Ok(DynamoStore::new(client, tables.events, tables.todos).with_stats_table(stats))
}

/// One segment per invocation, for the replay state machine.
async fn run_lambda() -> Result<(), lambda_runtime::Error> {
    let store = store().await?;
    let store = &store;
    let metrics = observe::init_metrics(&observe::function_name("replay"), None);
    lambda_runtime::run(lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<SegmentJob>| async move {
        let job = event.payload;
        let segment = Segment::new(job.segment.into(), job.segments.into())?;
        let options = ReplayOptions {
            segment: Some(segment),
            projection: job.projection,
            verify: job.verify,
            ..Default::default()
        };
        let started = Instant::now();
        let report = replay(Stores::of(store), &options, |p| {
            tracing::debug!(segment = job.segment, events = p.events, todos = p.todos, "replaying");
        })
        .await?;
        log_drift(&report);
        observe::flush(metrics);
        tracing::info!(
            segment = job.segment,
            segments = job.segments,
            events = report.events,
            seconds = started.elapsed().as_secs_f64(),
            "segment done"
        );
        Ok::<_, lambda_runtime::Error>(SegmentReport {
            segment: job.segment,
            events: report.events,
            todos: report.todos,
            written: report.written,
            removed: report.removed,
            drift: report.drift_count,
        })
    }))
    .await
}

fn log_drift(report: &ReplayReport) {
    for drift in &report.drift {
        tracing::warn!(projection = ?drift.projection, user = %drift.user, todo = %drift.todo, kind = ?drift.kind, "drift");
    }
}

async fn run(options: ReplayOptions) -> anyhow::Result<ExitCode> {
    let store = store().await?;
    let metrics = observe::init_metrics("replay", Some(std::time::Duration::from_secs(10)));
    let terminal = std::io::stderr().is_terminal();
    let started = Instant::now();
    let mut last_report = Instant::now();
    let show = |p: Progress, last_report: &mut Instant| {
        if terminal {
            eprint!("\r{} events, {} todos, {} rows checked", p.events, p.todos, p.rows_checked);
            let _ = std::io::stderr().flush();
        } else if last_report.elapsed().as_secs() >= 10 {
            *last_report = Instant::now();
            tracing::info!(events = p.events, todos = p.todos, rows_checked = p.rows_checked, "replaying");
        }
    };
    let report = replay(Stores::of(&store), &options, |p| show(p, &mut last_report)).await.context("replay stopped")?;
    if terminal {
        eprintln!();
    }

    let seconds = started.elapsed().as_secs_f64();
    let mode = if options.verify { "verified" } else { "replayed" };
    let part = match options.segment {
        Some(segment) => format!(" (segment {} of {})", segment.index(), segment.total()),
        None => String::new(),
    };
    println!(
        "{mode} {} events of {} todos{part} in {seconds:.1} s; {} rows written, {} orphan rows removed, {} drifted",
        report.events, report.todos, report.written, report.removed, report.drift_count
    );
    for drift in &report.drift {
        let (model, row) = match drift.projection {
            Projection::Stats => ("the stats", "stats row"),
            _ => ("the read model", "read model row"),
        };
        let what = match drift.kind {
            DriftKind::Missing => format!("missing from {model}"),
            DriftKind::Orphan => format!("in {model} without any event"),
            DriftKind::Differs { row_version, events_version } => {
                format!("{row} (version {row_version}) differs from the fold of its events (version {events_version})")
            }
        };
        println!("drift: user {} todo {}: {what}", drift.user, drift.todo);
    }
    if report.drift_count as usize > report.drift.len() {
        println!("... and {} more", report.drift_count as usize - report.drift.len());
    }
    observe::flush(metrics);
    Ok(if report.drift_count == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<ReplayOptions>, Usage> {
        parse_args(std::iter::once("replay".to_owned()).chain(args.iter().map(|a| (*a).to_owned())))
    }

    #[test]
    fn segments_are_numbered_from_zero_and_go_together() {
        let options = parse(&["--segments", "4", "--segment", "3", "--projection", "all"]).unwrap().unwrap();
        assert_eq!(options.segment, Some(Segment::new(3, 4).unwrap()));
        assert_eq!(options.projection, Projection::All);
        for bad in [
            &["--segments", "4", "--segment", "4"][..],
            &["--segments", "0", "--segment", "0"],
            &["--segments", "4"],
            &["--segment", "1"],
            &["--segments", "four", "--segment", "1"],
            &["--segments", "2", "--segment", "1", "--user", "ann"],
            &["--projection", "everything"],
            &["--frobnicate"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} must be a usage error");
        }
    }
}
