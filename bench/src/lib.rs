//! `make bench`: what users and operators feel, each figure next to a floor measured in the same
//! run. Every figure is a median over repeated runs with its spread (lowest–highest run).
//!
//! 1. [`cold_start`]: each Lambda binary under a Runtime API emulator ([`runtime_api`]);
//! 2. [`warm`]: each route's handler against DynamoDB Local next to the same SDK calls;
//! 3. and 4. [`stack`]: `todo-local` over HTTP under an open-loop load ([`loadgen`]) and the
//!    time from a command's answer to the list showing it, on both stores;
//! 5. [`projection`]: the projector on stream batches, and replay at growing event counts;
//! 6. [`as_of`]: the list as it stood at an instant (a fold of 10,000 events), on both stores;
//! 7. [`integrity`]: `verify` checking every hash chain, at growing event counts;
//! 8. [`segments`]: replay split into 1, 2 and 4 parallel processes, on both stores; and the stats
//!    projection's cost in the projector ([`projection::stats_cost`]);
//! 9. [`faults`]: commands through a fault-injecting proxy in front of DynamoDB Local: 500s,
//!    acknowledged commands lost or duplicated, the read model converging;
//! 10. [`live`]: a command acknowledged -> its push received by the user's other WebSocket
//!     sessions on `todo-local`'s `/live`, with 1 and with 100 of them;
//! 12. [`erasure`]: erasing an account of 10,000 events until its receipt, on both stores.
//!
//! [`report`] writes `results.md`, `results.json` and `chart.svg` ([`chart`]).

pub mod as_of;
pub mod chart;
pub mod cold_start;
pub mod erasure;
pub mod faults;
pub mod fixtures;
pub mod integrity;
pub mod live;
pub mod loadgen;
pub mod machine;
pub mod offline;
pub mod process;
pub mod projection;
pub mod report;
pub mod runtime_api;
pub mod segments;
pub mod stack;
pub mod stats;
pub mod warm;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::process::{BusyMeter, BusyReading};
use crate::report::Results;
use crate::stack::{LoadRoute, Store};

/// How much of everything to run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the release binaries are (`target/release`).
    pub binaries: PathBuf,
    /// Where the results go (`bench/results`).
    pub out: PathBuf,
    /// Scratch files (`bench/results/tmp`, not committed).
    pub scratch: PathBuf,
    /// Repetitions of every measurement but the cold starts.
    pub runs: usize,
    pub cold_reps: usize,
    /// Of the cold-start rounds, how many go on to `invocations` invocations.
    pub rss_reps: usize,
    pub invocations: usize,
    pub warm_iterations: usize,
    pub warm_warmup: usize,
    pub load_step: Duration,
    pub load_warmup: Duration,
    pub connections: usize,
    pub embedded_rates: Vec<(LoadRoute, Vec<f64>)>,
    pub dynamodb_rates: Vec<(LoadRoute, Vec<f64>)>,
    pub staleness_samples: usize,
    pub projector_events_dynamodb: usize,
    pub projector_events_embedded: usize,
    pub replay_sizes_embedded: Vec<usize>,
    pub replay_sizes_dynamodb: Vec<usize>,
    /// Timed as-of lists per instant and run (each next to the floor), after `as_of_warmup`.
    pub as_of_iterations: usize,
    pub as_of_iterations_dynamodb: usize,
    pub as_of_warmup: usize,
    /// Verify reuses replay's embedded seeds: the same sizes cost no seeding.
    pub verify_sizes_embedded: Vec<usize>,
    pub verify_sizes_dynamodb: Vec<usize>,
    /// Replay in parallel processes: how many, and the events on each store (the embedded size
    /// reuses replay's seed).
    pub segment_counts: Vec<usize>,
    pub segments_events_embedded: usize,
    pub segments_events_dynamodb: usize,
    /// Commands under injected faults: users, each with this many todos (created, renamed,
    /// completed, every other one deleted), all at once.
    pub fault_users: usize,
    pub fault_todos_per_user: usize,
    /// Live push latency: the user's WebSocket clients in each configuration, and the commands
    /// sent one at a time per run after `live_warmup` untimed ones.
    pub live_clients: Vec<usize>,
    pub live_commands: usize,
    pub live_warmup: usize,
    /// Account erasure: the erased user's events.
    pub erasure_events: usize,
}

impl Settings {
    /// What `make bench` runs: about ten minutes on two cores.
    pub fn full(binaries: PathBuf, out: PathBuf) -> Self {
        Self {
            scratch: out.join("tmp"),
            binaries,
            out,
            runs: 3,
            cold_reps: 5,
            rss_reps: 3,
            invocations: 1000,
            warm_iterations: 200,
            warm_warmup: 20,
            load_step: Duration::from_secs(5),
            load_warmup: Duration::from_secs(1),
            connections: 16,
            embedded_rates: vec![
                (LoadRoute::Floor, vec![1000.0, 2000.0]),
                (LoadRoute::List, vec![1000.0, 2000.0]),
                (LoadRoute::Get, vec![1000.0, 2000.0]),
                (LoadRoute::Create, vec![500.0, 1000.0]),
            ],
            dynamodb_rates: vec![
                (LoadRoute::List, vec![100.0, 200.0]),
                (LoadRoute::Get, vec![100.0, 200.0]),
                (LoadRoute::Create, vec![50.0, 100.0]),
            ],
            staleness_samples: 40,
            projector_events_dynamodb: 1000,
            projector_events_embedded: 20_000,
            replay_sizes_embedded: vec![10_000, 100_000, 1_000_000],
            replay_sizes_dynamodb: vec![5_000],
            as_of_iterations: 50,
            as_of_iterations_dynamodb: 10,
            as_of_warmup: 3,
            verify_sizes_embedded: vec![100_000, 1_000_000],
            verify_sizes_dynamodb: vec![5_000],
            segment_counts: vec![1, 2, 4],
            segments_events_embedded: 100_000,
            segments_events_dynamodb: 5_000,
            fault_users: 4,
            fault_todos_per_user: 25,
            live_clients: vec![1, 100],
            live_commands: 500,
            live_warmup: 20,
            erasure_events: 10_000,
        }
    }

    /// A smoke run of every section in a minute or two (`--quick`): figures not to be quoted.
    pub fn quick(binaries: PathBuf, out: PathBuf) -> Self {
        Self {
            runs: 2,
            cold_reps: 2,
            rss_reps: 1,
            invocations: 50,
            warm_iterations: 30,
            warm_warmup: 5,
            load_step: Duration::from_secs(1),
            load_warmup: Duration::from_millis(200),
            embedded_rates: vec![
                (LoadRoute::Floor, vec![2000.0]),
                (LoadRoute::List, vec![2000.0]),
                (LoadRoute::Get, vec![2000.0]),
                (LoadRoute::Create, vec![1000.0]),
            ],
            dynamodb_rates: vec![
                (LoadRoute::List, vec![100.0]),
                (LoadRoute::Get, vec![100.0]),
                (LoadRoute::Create, vec![50.0]),
            ],
            staleness_samples: 10,
            projector_events_dynamodb: 200,
            projector_events_embedded: 2_000,
            replay_sizes_embedded: vec![10_000, 100_000],
            replay_sizes_dynamodb: vec![2_000],
            as_of_iterations: 10,
            as_of_iterations_dynamodb: 3,
            as_of_warmup: 1,
            verify_sizes_embedded: vec![10_000, 100_000],
            verify_sizes_dynamodb: vec![2_000],
            segments_events_embedded: 10_000,
            segments_events_dynamodb: 2_000,
            fault_users: 3,
            fault_todos_per_user: 8,
            live_commands: 40,
            live_warmup: 5,
            erasure_events: 2_000,
            ..Self::full(binaries, out)
        }
    }

    /// A release binary of the workspace.
    pub fn binary(&self, name: &str) -> PathBuf {
        self.binaries.join(name)
    }
}

/// Progress lines, stamped with the time since the start; and how busy the rest of the machine is.
pub struct Progress {
    started: Instant,
    busy: BusyMeter,
}

impl Default for Progress {
    fn default() -> Self {
        Self { started: Instant::now(), busy: BusyMeter::start() }
    }
}

impl Progress {
    /// What the other processes of the machine have used so far (see [`BusyReading::since`]).
    pub fn busy(&self) -> BusyReading {
        self.busy.reading()
    }

    pub fn say(&self, message: &str) {
        println!("[{:>6.1}s] {message}", self.started.elapsed().as_secs_f64());
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// The parts of the benchmark, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Section {
    /// 1. Cold starts of every Lambda binary.
    Cold,
    /// 2. Warm handler latency next to the SDK floor.
    Warm,
    /// 3. and 4. The local stack under load, and staleness, on both stores.
    Stack,
    /// 5. Projector throughput.
    Projector,
    /// 5. Replay throughput and peak memory.
    Replay,
    /// 6. The list as it stood at an instant (`GET /item?asOf=`), on both stores.
    AsOf,
    /// 7. `verify` throughput and peak memory.
    Verify,
    /// 8. Replay in 1, 2 and 4 parallel segments; the projector with and without the stats.
    Segments,
    /// 9. Commands under injected faults.
    Faults,
    /// 10. Live push latency: command acknowledged -> push received, 1 and 100 clients.
    Live,
    /// 11. The SPA offline: reload with no network -> first contentful list, in Chromium.
    Offline,
    /// 12. Erasing an account of 10,000 events, on both stores.
    Erasure,
}

impl Section {
    /// The order they run in. Each section that uses DynamoDB Local has one of its own
    /// ([`Emulator`]).
    pub const ALL: [Section; 12] = [
        Self::Warm,
        Self::Cold,
        Self::Projector,
        Self::Replay,
        Self::Segments,
        Self::Verify,
        Self::AsOf,
        Self::Faults,
        Self::Erasure,
        Self::Live,
        Self::Offline,
        Self::Stack,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Cold => "cold starts",
            Self::Warm => "warm latency",
            Self::Stack => "local stack",
            Self::Projector => "projector",
            Self::Replay => "replay",
            Self::AsOf => "as-of list",
            Self::Verify => "verify",
            Self::Segments => "replay segments, stats cost",
            Self::Faults => "faults",
            Self::Live => "live push latency",
            Self::Offline => "offline reload",
            Self::Erasure => "account erasure",
        }
    }
}

/// The DynamoDB Local a section runs against: its own, started for it and stopped after it.
/// The emulator slows down as the writes it has taken pile up, even in tables since deleted (a
/// create's cold start measured 15 ms on a fresh one, 25 ms after the warm-latency section), so
/// no section inherits another's.
pub struct Emulator {
    local: todo_testkit::dynamodb::DynamoDbLocal,
    pub client: aws_sdk_dynamodb::Client,
}

impl Emulator {
    pub(crate) async fn start() -> anyhow::Result<Self> {
        let local = tokio::task::spawn_blocking(todo_testkit::dynamodb::DynamoDbLocal::start)
            .await?
            .context("DynamoDB Local could not start (run `make dynamodb-local`)")?;
        let client = aws_sdk_dynamodb::Client::new(&todo_testkit::dynamodb::sdk_config_for(&local.endpoint).await);
        Ok(Self { local, client })
    }

    pub fn endpoint(&self) -> &str {
        &self.local.endpoint
    }
}

/// Runs the chosen sections and writes the results, also when a section fails or a target is missed.
pub async fn run(settings: Settings, sections: &[Section], quick: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(&settings.scratch).with_context(|| format!("creating {}", settings.scratch.display()))?;
    let progress = Progress::default();
    let mut results = Results::new(machine::Machine::describe(), &settings, quick);
    progress.say(&format!("machine: {}", results.machine.one_line()));
    let whole_run = progress.busy();

    for section in Section::ALL.into_iter().filter(|s| sections.contains(s)) {
        progress.say(&format!("--- {} ---", section.label()));
        let before = progress.busy();
        let started = Instant::now();
        let outcome = run_section(section, &settings, &progress, &mut results).await;
        let other = progress.busy().since(&before);
        results.record_section(section.label(), started.elapsed(), other, outcome.err());
        results.finish(progress.elapsed(), progress.busy().since(&whole_run));
        report::write(&settings.out, &results)?;
    }
    progress.say(&format!(
        "done in {:.1} s: {}, {}, {}",
        progress.elapsed().as_secs_f64(),
        settings.out.join("results.md").display(),
        settings.out.join("results.json").display(),
        settings.out.join("chart.svg").display()
    ));
    for target in &results.targets {
        progress.say(&format!(
            "target {}: {} ({})",
            match target.met {
                Some(true) => "met",
                Some(false) => "MISSED",
                None => "not measured",
            },
            target.name,
            target.measured
        ));
    }
    Ok(())
}

async fn run_section(
    section: Section,
    settings: &Settings,
    progress: &Progress,
    results: &mut Results,
) -> anyhow::Result<()> {
    if section == Section::Live {
        // The embedded store only: no DynamoDB Local to start.
        results.live = live::measure(settings, progress).await?;
        return Ok(());
    }
    if section == Section::Offline {
        // todo-local and Chromium only: no DynamoDB Local either.
        results.offline = offline::measure(settings, progress).await?;
        return Ok(());
    }
    progress.say("starting a DynamoDB Local for this section");
    let dynamodb = Emulator::start().await?;
    match section {
        Section::Cold => results.cold_starts = cold_start::measure(settings, progress, &dynamodb).await?,
        Section::Warm => results.warm = warm::measure(settings, progress, &dynamodb).await?,
        Section::Stack => {
            let endpoint = dynamodb.endpoint().to_owned();
            let suffix = uuid::Uuid::new_v4().simple().to_string();
            let stores = [
                Store::Embedded,
                Store::DynamoDb { endpoint, events: format!("Events-{suffix}"), todos: format!("Todos-{suffix}") },
            ];
            let mut failed = Vec::new();
            for store in stores {
                let measured = stack::measure(settings, progress, &store).await;
                if let Store::DynamoDb { events, todos, .. } = &store {
                    fixtures::drop_tables(&dynamodb.client, &[events, todos]).await;
                }
                match measured {
                    Ok((load, staleness)) => {
                        results.load.extend(load);
                        results.staleness.push(staleness);
                    }
                    Err(error) => {
                        progress.say(&format!("{} failed: {error:#}", store.label()));
                        failed.push(format!("{}: {error:#}", store.label()));
                    }
                }
            }
            if !failed.is_empty() {
                anyhow::bail!("{}", failed.join("; "));
            }
        }
        Section::Projector => {
            results.projector = projection::projector_throughput(settings, progress, &dynamodb).await?
        }
        Section::Replay => {
            results.replay = projection::replay_embedded(settings, progress).await?;
            report::write(&settings.out, results)?;
            results.replay.extend(projection::replay_dynamodb(settings, progress, &dynamodb).await?);
        }
        Section::AsOf => {
            results.as_of = as_of::measure_embedded(settings, progress).await?;
            report::write(&settings.out, results)?;
            results.as_of.extend(as_of::measure_dynamodb(settings, progress, &dynamodb).await?);
        }
        Section::Verify => {
            results.verify = integrity::verify_embedded(settings, progress).await?;
            report::write(&settings.out, results)?;
            results.verify.extend(integrity::verify_dynamodb(settings, progress, &dynamodb).await?);
        }
        Section::Segments => {
            results.segments = segments::segments_embedded(settings, progress).await?;
            report::write(&settings.out, results)?;
            results.segments.extend(segments::segments_dynamodb(settings, progress, &dynamodb).await?);
            report::write(&settings.out, results)?;
            results.stats_cost = projection::stats_cost(settings, progress, &dynamodb).await?;
        }
        Section::Faults => results.faults = Some(faults::measure(settings, progress, &dynamodb).await?),
        Section::Erasure => {
            results.erasure = erasure::measure_embedded(settings, progress).await?;
            report::write(&settings.out, results)?;
            // An emulator per run (see `erasure::measure_dynamodb`); the section's own is not used.
            drop(dynamodb);
            results.erasure.extend(erasure::measure_dynamodb(settings, progress).await?);
        }
        Section::Live | Section::Offline => {} // measured above, without DynamoDB Local
    }
    Ok(())
}
