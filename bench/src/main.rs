//! `todo-bench`: the benchmarks behind `make bench` (see the crate docs), and the replay and
//! verify processes they start (`todo-bench replay-sqlite`, `todo-bench verify-sqlite`,
//! `todo-bench measure`).

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use todo_bench::{Section, Settings};

#[derive(Debug, Parser)]
#[command(name = "todo-bench", about = "Benchmarks of the To Do back end; results in bench/results")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Where the release binaries are.
    #[arg(long, default_value = "target/release")]
    binaries: PathBuf,
    /// Where to write results.md, results.json and chart.svg.
    #[arg(long, default_value = "bench/results")]
    out: PathBuf,
    /// A smoke run with few repetitions (figures not to be quoted).
    #[arg(long)]
    quick: bool,
    /// Only these sections (all by default).
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Section>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replays the event log of a SQLite data dir into its read model and prints one JSON line
    /// with the throughput and this process's peak memory (started by the replay benchmarks).
    ReplaySqlite {
        #[arg(long)]
        data_dir: PathBuf,
        /// Split the log into N segments, as `replay --segments N --segment I` does ...
        #[arg(long, requires = "segment")]
        segments: Option<u64>,
        /// ... and replay segment I (0 to N-1).
        #[arg(long, requires = "segments")]
        segment: Option<u64>,
        /// Skip the floor measured after the replay (its scan of the whole log), so that the
        /// process's lifetime is the replay's.
        #[arg(long)]
        no_floor: bool,
    },
    /// Verifies every hash chain of a SQLite data dir's event log and prints one JSON line with
    /// the throughput and this process's peak memory (started by the verify benchmark).
    VerifySqlite {
        #[arg(long)]
        data_dir: PathBuf,
    },
    /// Runs a command (its output discarded) and prints one JSON line with its exit code, wall
    /// time and peak memory (`ru_maxrss`). A small parent of its own, because a child's
    /// `ru_maxrss` starts from its parent's resident memory when it was spawned.
    Measure {
        /// Write the command's standard output to this file (discarded by default).
        #[arg(long)]
        stdout: Option<PathBuf>,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<std::ffi::OsString>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::ReplaySqlite { data_dir, segments, segment, no_floor }) => {
            let segment = match (segments, segment) {
                (Some(total), Some(index)) => Some(todo_platform::store::Segment::new(index, total)?),
                _ => None,
            };
            let report = todo_bench::projection::replay_sqlite(&data_dir, segment, !no_floor).await?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Some(Command::VerifySqlite { data_dir }) => {
            let report = todo_bench::integrity::verify_sqlite(&data_dir).await?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Some(Command::Measure { stdout, command }) => {
            let mut child = std::process::Command::new(&command[0]);
            let output = match &stdout {
                Some(path) => {
                    std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?.into()
                }
                None => std::process::Stdio::null(),
            };
            child.args(&command[1..]).stdin(std::process::Stdio::null()).stdout(output);
            let finished = todo_bench::process::run_measured(&mut child)?;
            println!("{}", serde_json::to_string(&todo_bench::process::Measured::from(&finished))?);
            Ok(())
        }
        None => {
            // Absolute: the functions are started in a scratch working directory.
            let binaries = std::path::absolute(&cli.binaries)?;
            let out = std::path::absolute(&cli.out)?;
            let settings = match cli.quick {
                true => Settings::quick(binaries, out),
                false => Settings::full(binaries, out),
            };
            let sections = if cli.only.is_empty() { Section::ALL.to_vec() } else { cli.only };
            todo_bench::run(settings, &sections, cli.quick).await
        }
    }
}
