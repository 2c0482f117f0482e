//! `replay`: rebuilds the `TodoTable` read model from the event table, or checks it.
//!
//! ```text
//! replay [--user SUB] [--verify] [--page-size N]
//! ```
//! Reads `EVENTS_TABLE_NAME`, `TODO_TABLE_NAME` and the SDK's configuration (`AWS_REGION`,
//! credentials, `AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local). Exit status: 0 when done (or, with
//! `--verify`, when there is no drift), 1 when drift was found or some rows could not be rebuilt,
//! 2 on a usage or runtime error.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use events_schema::UserId;
use projector::replay::{DriftKind, Progress, ReplayOptions, replay};
use todo_platform::store::dynamo::DynamoStore;

const USAGE: &str = "usage: replay [--user SUB] [--verify] [--page-size N]

Rebuilds the read model (TODO_TABLE_NAME) from the event table (EVENTS_TABLE_NAME).
  --user SUB      only this user's todos (the Cognito sub)
  --verify        report drift between the read model and the events; write nothing
  --page-size N   items read per request (default 500)";

fn parse_args(args: impl Iterator<Item = String>) -> anyhow::Result<Option<ReplayOptions>> {
    let mut options = ReplayOptions::default();
    let mut args = args.skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--user" => {
                let sub = args.next().context("--user needs a value")?;
                options.user = Some(UserId::parse(&sub)?);
            }
            "--verify" => options.verify = true,
            "--page-size" => {
                let raw = args.next().context("--page-size needs a value")?;
                options.page_size =
                    raw.parse().ok().filter(|n| *n > 0).context("--page-size must be a positive number")?;
            }
            "-h" | "--help" => return Ok(None),
            other => bail!("unknown argument `{other}`"),
        }
    }
    Ok(Some(options))
}

#[tokio::main]
async fn main() -> ExitCode {
    todo_platform::config::init_tracing();
    match run().await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("replay: {error:#}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> anyhow::Result<ExitCode> {
    let Some(options) = parse_args(std::env::args()).map_err(|e| anyhow::anyhow!("{e:#}\n\n{USAGE}"))? else {
        println!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    };
    let tables = todo_platform::config::Tables::from_env()?;
    let client = todo_platform::config::dynamodb_client().await;
    let store = Arc::new(DynamoStore::new(client, tables.events, tables.todos));

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
    let report = replay(store.as_ref(), store.as_ref(), store.as_ref(), &options, |p| show(p, &mut last_report))
        .await
        .context("replay stopped")?;
    if terminal {
        eprintln!();
    }

    let seconds = started.elapsed().as_secs_f64();
    let mode = if options.verify { "verified" } else { "replayed" };
    println!(
        "{mode} {} events of {} todos in {seconds:.1} s; {} rows written, {} orphan rows removed, {} drifted",
        report.events, report.todos, report.written, report.removed, report.drift_count
    );
    for drift in &report.drift {
        let what = match drift.kind {
            DriftKind::Missing => "missing from the read model".to_owned(),
            DriftKind::Orphan => "in the read model without any event".to_owned(),
            DriftKind::Differs { row_version, events_version } => {
                format!(
                    "read model row (version {row_version}) differs from the fold of its events (version {events_version})"
                )
            }
        };
        println!("drift: user {} todo {}: {what}", drift.user, drift.todo);
    }
    if report.drift_count as usize > report.drift.len() {
        println!("... and {} more", report.drift_count as usize - report.drift.len());
    }
    Ok(if report.drift_count == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
