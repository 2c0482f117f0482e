//! `todo-audit`: what auditors run against the event table, or an export file.
//!
//! Exit status, as `replay`'s: 0 clean, 1 something is broken (or a digest does not match),
//! 2 a usage error (an unknown flag, a malformed digest) or a runtime error.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use audit::erasures;
use audit::export_file::{ExportFileError, check_export};
use audit::verify::{VerifyOptions, VerifyReport, verify};
use chrono::Utc;
use clap::{Parser, Subcommand};
use events_schema::{HistoryDigest, Timestamp, UserId};
use todo_platform::store::dynamo::DynamoStore;
use todo_platform::store::{Erasure, ErasureKey, ErasureLog as _};

/// Checks that the event log was not altered, and lists the account erasures. `verify` and `digest`
/// read the event table named by EVENTS_TABLE_NAME, `erasures` the erasure table named by
/// ERASURE_TABLE_NAME, with the SDK's configuration (AWS_REGION, credentials, and
/// AWS_ENDPOINT_URL_DYNAMODB for DynamoDB Local); `verify-export` needs nothing but the file.
#[derive(Debug, Parser)]
#[command(name = "todo-audit", version)]
struct Cli {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Walk the event table and check every todo's hash chain: each event's hash against its
    /// content, each prevHash against the previous event's hash, versions without gaps. Lists every
    /// broken link with user, todo and version. With --digest, also proves that the user's history
    /// up to the digest's instant is exactly the one digested (the current history extends it).
    Verify {
        /// Only this user (the Cognito sub); every user when absent.
        #[arg(long)]
        user: Option<String>,
        /// A digest saved earlier, as printed by `todo-audit digest` or GET /history/digest: the JSON
        /// object itself, or @FILE to read it from a file. Needs --user.
        #[arg(long, requires = "user")]
        digest: Option<String>,
        /// Items read per request.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
        page_size: u32,
    },
    /// Print the digest of one user's history now: {digest, asOf, todos, events} as one JSON line.
    /// Keep it; `verify --user U --digest D` later proves nothing up to asOf changed.
    Digest {
        /// The user (the Cognito sub).
        #[arg(long)]
        user: String,
    },
    /// Check an export file (GET /export, the SPA's "Download my data") with no AWS access: every
    /// hash, every link, and its closing digest.
    VerifyExport {
        /// The JSON Lines file.
        file: PathBuf,
    },
    /// List the account erasures (DELETE /account) of the erasure table: each receipt ("erased") and
    /// each erasure not finished yet ("erasing": the account is fenced, but its rows remain until the
    /// erasure is asked again), one per line, then a count of each. No personal data: a user is only
    /// the keyed hash of their id (userKey).
    Erasures {
        /// One JSON object per erasure instead of a line of text; the counts go to stderr.
        #[arg(long)]
        json: bool,
        /// Only this user's erasure (the Cognito sub), found by hashing the id under the stack's
        /// erasure key, read from ERASURE_KEY (64 hex characters; the stack's ErasureKeySecret).
        #[arg(long)]
        user: Option<String>,
        /// Items read per request.
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
        page_size: u32,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    todo_platform::config::init_tracing();
    let cli = Cli::parse();
    let metrics = todo_platform::observe::init_metrics("todo-audit", Some(std::time::Duration::from_secs(10)));
    let outcome = run(cli).await;
    todo_platform::observe::flush(metrics);
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("todo-audit: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn parse_user(raw: &str) -> anyhow::Result<UserId> {
    UserId::parse(raw).context("--user")
}

fn parse_digest(raw: &str) -> anyhow::Result<HistoryDigest> {
    let text = match raw.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading the digest from {path}"))?,
        None => raw.to_owned(),
    };
    let digest: HistoryDigest = serde_json::from_str(text.trim())
        .context("--digest must be the JSON object {\"digest\", \"asOf\", \"todos\", \"events\"} that `todo-audit digest` prints")?;
    anyhow::ensure!(events_schema::integrity::is_hash(&digest.digest), "--digest: `digest` is not 64 hex digits");
    Ok(digest)
}

async fn store() -> anyhow::Result<DynamoStore> {
    let table = todo_platform::config::Tables::events_from_env()?;
    Ok(DynamoStore::new(todo_platform::config::dynamodb_client().await, table, ""))
}

async fn erasure_store() -> anyhow::Result<DynamoStore> {
    let table = todo_platform::config::Tables::erasure_from_env()?;
    Ok(DynamoStore::new(todo_platform::config::dynamodb_client().await, "", "").with_erasure_table(table))
}

fn print_erasure(erasure: &Erasure, json: bool) {
    if json {
        println!("{}", erasures::to_json(erasure));
    } else {
        println!("{}", erasures::line(erasure));
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.verb {
        Verb::Verify { user, digest, page_size } => {
            let options = VerifyOptions {
                user: user.as_deref().map(parse_user).transpose()?,
                digest: digest.as_deref().map(parse_digest).transpose()?,
                page_size: page_size as usize,
            };
            let store = store().await?;
            let started = Instant::now();
            let terminal = std::io::stderr().is_terminal();
            let report = verify(&store, &options, |p| {
                if terminal {
                    eprint!("\r{} events, {} todos, {} broken", p.events, p.todos, p.broken);
                    let _ = std::io::stderr().flush();
                }
            })
            .await?;
            if terminal {
                eprintln!();
            }
            print_report(&report, started.elapsed().as_secs_f64());
            if let Some(given) = &options.digest {
                print_digest_verdict(&report, given);
            }
            Ok(exit(report.is_clean(options.digest.as_ref())))
        }
        Verb::Digest { user } => {
            let user = parse_user(&user)?;
            let store = store().await?;
            let digest = audit::digest_of(&store, &user, Timestamp::from_datetime(Utc::now())).await?;
            println!("{}", serde_json::to_string(&digest)?);
            Ok(ExitCode::SUCCESS)
        }
        Verb::VerifyExport { file } => {
            let reader = std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?;
            let started = Instant::now();
            let check = match check_export(std::io::BufReader::new(reader)) {
                Ok(check) => check,
                Err(ExportFileError::Io(error)) => return Err(error).context("reading the export"),
                // A file that is not a whole export proves nothing: broken, not a usage error.
                Err(broken) => {
                    println!("{}: BROKEN: {broken}", file.display());
                    return Ok(ExitCode::from(1));
                }
            };
            print_report(&check.report, started.elapsed().as_secs_f64());
            print_digest_verdict(&check.report, &check.digest);
            Ok(exit(check.is_clean()))
        }
        Verb::Erasures { json, user, page_size } => {
            let user = user.as_deref().map(parse_user).transpose()?;
            // The key before the table: a wrong key is a usage error, whatever the table holds.
            let user_key = match &user {
                Some(user) => Some(ErasureKey::from_env().context("--user")?.user_key(user)),
                None => None,
            };
            let store = erasure_store().await?;
            let summary = match user_key {
                Some(user_key) => {
                    let found = store.erasure(&user_key).await?;
                    match &found {
                        Some(erasure) => print_erasure(erasure, json),
                        None if json => {}
                        None => println!("no erasure of this user (userKey {user_key})"),
                    }
                    erasures::summarize(found.as_slice())
                }
                None => erasures::each_erasure(&store, page_size as usize, |e| print_erasure(e, json)).await?,
            };
            if json {
                eprintln!("{}", summary.to_json());
            } else {
                println!("{}", summary.line());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn exit(clean: bool) -> ExitCode {
    if clean { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn print_report(report: &VerifyReport, seconds: f64) {
    let verdict = if report.broken == 0 { "intact" } else { "BROKEN" };
    println!(
        "checked {} events of {} todos in {seconds:.1} s: {verdict}, {} broken link(s); {} todo(s) whose chain starts after version 1 (earlier events predate hashing)",
        report.events, report.todos, report.broken, report.chains_starting_late
    );
    for finding in &report.findings {
        let label = if finding.kind.is_break() { "broken" } else { "note" };
        println!("{label}: {finding}");
    }
    let listed = report.findings.len() as u64;
    if report.broken + report.chains_starting_late > listed {
        println!("... and {} more", report.broken + report.chains_starting_late - listed);
    }
}

fn print_digest_verdict(report: &VerifyReport, given: &HistoryDigest) {
    let Some(recomputed) = &report.recomputed else { return };
    match report.digest_matches(Some(given)) {
        Some(true) => println!(
            "digest: matches ({} todos, {} events up to {}): the history up to then is unchanged",
            given.todos, given.events, given.as_of
        ),
        _ => println!(
            "digest: DOES NOT MATCH: given {} ({} todos, {} events) but the events up to {} now give {} ({} todos, {} events)",
            given.digest,
            given.todos,
            given.events,
            given.as_of,
            recomputed.digest,
            recomputed.todos,
            recomputed.events
        ),
    }
}
