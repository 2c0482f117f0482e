//! The local stack (`todo-local`, release build) as a user runs it, over HTTP: throughput and
//! latency at fixed request rates, and how long a command takes to show in the list (staleness).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use hyper::Method;
use serde::Serialize;
use serde_json::{Value, json};
use std::io::{BufRead as _, BufReader};
use std::process::{ChildStdout, Command};

use crate::loadgen::{Call, Connection, StepOutcome, open_loop};
use crate::process::Killed;
use crate::stats::{Samples, Spread};
use crate::{Progress, Settings};

/// Which store the stack runs on.
#[derive(Debug, Clone)]
pub enum Store {
    Embedded,
    /// DynamoDB Local, with fresh tables of these names.
    DynamoDb {
        endpoint: String,
        events: String,
        todos: String,
    },
}

impl Store {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Embedded => "embedded (SQLite)",
            Self::DynamoDb { .. } => "DynamoDB Local",
        }
    }
}

/// A running `todo-local`, killed when dropped.
pub struct LocalStack {
    binary: PathBuf,
    data_dir: PathBuf,
    pub address: SocketAddr,
    pub pid: u32,
    _child: Killed,
    _stdout: ChildStdout,
}

impl LocalStack {
    /// Starts `todo-local` on an emptied data dir.
    pub async fn start(binary: &Path, data_dir: &Path, store: &Store, log: &Path) -> anyhow::Result<Self> {
        if data_dir.exists() {
            std::fs::remove_dir_all(data_dir).with_context(|| format!("clearing {}", data_dir.display()))?;
        }
        Self::start_keeping(binary, data_dir, store, log).await
    }

    /// Starts `todo-local` on the data dir as it is (a history written into it beforehand).
    pub async fn start_keeping(binary: &Path, data_dir: &Path, store: &Store, log: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let log = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
        let mut command = Command::new(binary);
        command
            .args(["--port", "0", "--data-dir"])
            .arg(data_dir)
            .arg("--www-dir")
            .arg(data_dir.join("www"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        if let Store::DynamoDb { endpoint, events, todos } = store {
            command
                .args(["--dynamodb-endpoint", endpoint])
                .env(todo_platform::manifest::EVENTS_TABLE_NAME, events)
                .env(todo_platform::manifest::TODO_TABLE_NAME, todos)
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ACCESS_KEY_ID", "local")
                .env("AWS_SECRET_ACCESS_KEY", "local");
        }
        let mut child = command.spawn().with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("todo-local's stdout")?;
        let pid = child.id();
        let child = Killed(child);
        // The first line says where it listens. Should it never come, dropping `child` kills the
        // process, which ends the blocked read.
        let reading = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout);
            let mut first = String::new();
            lines.read_line(&mut first).map(|_| (first, lines.into_inner()))
        });
        let (first, stdout) = tokio::time::timeout(Duration::from_secs(60), reading)
            .await
            .context("todo-local did not say where it listens within 60 s")?
            .context("reading todo-local's stdout")?
            .context("reading todo-local's stdout")?;
        let origin = first
            .trim()
            .strip_prefix("todo-local listening on http://")
            .with_context(|| format!("unexpected first line from todo-local: {first:?}"))?;
        let address = origin.parse().with_context(|| format!("todo-local's address {origin:?}"))?;
        Ok(Self {
            binary: binary.to_owned(),
            data_dir: data_dir.to_owned(),
            address,
            pid,
            _child: child,
            _stdout: stdout,
        })
    }

    /// An ID token for `email` that this stack accepts (`todo-local token`).
    pub async fn token(&self, email: &str) -> anyhow::Result<String> {
        dev_token(&self.binary, &self.data_dir, email).await
    }
}

/// An ID token of the dev sign-in for `email` (the account created if missing), for a stack on
/// `data_dir`, running or not: `todo-local token`.
pub async fn dev_token(binary: &Path, data_dir: &Path, email: &str) -> anyhow::Result<String> {
    let mut command = Command::new(binary);
    command.args(["token", "--email", email, "--data-dir"]).arg(data_dir);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .context("running todo-local token")?
        .context("running todo-local token")?;
    if !output.status.success() {
        bail!("todo-local token failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(String::from_utf8(output.stdout).context("token is not UTF-8")?.trim().to_owned())
}

/// One route at one rate, over repeated runs.
#[derive(Debug, Clone, Serialize)]
pub struct LoadResult {
    pub store: String,
    pub route: String,
    pub rate_rps: f64,
    pub throughput_rps: Option<Spread>,
    pub p50_ms: Option<Spread>,
    pub p99_ms: Option<Spread>,
    pub max_ms: Option<Spread>,
    pub errors: u64,
    pub first_error: Option<String>,
    /// CPU time `todo-local` used per request served (all its threads, the projector included),
    /// in microseconds; DynamoDB Local's own CPU is not in it.
    pub server_cpu_us_per_request: Option<Spread>,
    /// p99 over the floor route's p99 at the same rate, run by run.
    pub p99_ratio_to_floor: Option<Spread>,
    /// Cores the rest of the machine used meanwhile.
    pub other_cores: f64,
}

/// Command acknowledged -> visible in the list, over repeated runs.
#[derive(Debug, Clone, Serialize)]
pub struct StalenessResult {
    pub store: String,
    pub samples_per_run: usize,
    pub p50_ms: Option<Spread>,
    pub p99_ms: Option<Spread>,
    pub max_ms: Option<Spread>,
    /// Todos that did not show within the time limit.
    pub timeouts: u64,
}

/// A route of the load steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadRoute {
    /// The floor: the same server, middleware and loader, a static answer (`/config.json`), no
    /// authorizer and no function.
    Floor,
    List,
    Get,
    Create,
}

impl LoadRoute {
    pub fn label(self) -> &'static str {
        match self {
            Self::Floor => "GET /config.json (floor)",
            Self::List => "GET /item",
            Self::Get => "GET /item/{id}",
            Self::Create => "POST /item",
        }
    }
}

/// Load steps and staleness on one store.
pub async fn measure(
    settings: &Settings,
    progress: &Progress,
    store: &Store,
) -> anyhow::Result<(Vec<LoadResult>, StalenessResult)> {
    let scratch = settings.scratch.join(match store {
        Store::Embedded => "stack-embedded",
        Store::DynamoDb { .. } => "stack-dynamodb",
    });
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let stack = LocalStack::start(
        &settings.binary("todo-local"),
        &scratch.join("data"),
        store,
        &scratch.join("todo-local.log"),
    )
    .await?;
    progress.say(&format!("{}: todo-local on {}", store.label(), stack.address));
    let outcome = measure_on(settings, progress, store, &stack).await;
    drop(stack);
    outcome
}

async fn measure_on(
    settings: &Settings,
    progress: &Progress,
    store: &Store,
    stack: &LocalStack,
) -> anyhow::Result<(Vec<LoadResult>, StalenessResult)> {
    let reader = stack.token("reader@bench.example.com").await?;
    let writer = stack.token("writer@bench.example.com").await?;
    let watcher = stack.token("watcher@bench.example.com").await?;

    // The reader's list: a page of 20 todos, as projected.
    let mut connection = Connection::open(stack.address).await?;
    let mut ids = Vec::new();
    for n in 0..20 {
        let body = json!({ "title": format!("Reader's todo {n}"), "notes": "seeded by the benchmark" });
        let (status, answer) = connection.send(&Call::json(Method::POST, "/api/item", &reader, &body)).await?;
        if status.as_u16() != 201 {
            bail!("seeding the reader's todos: {status} {}", String::from_utf8_lossy(&answer));
        }
        let created: Value = serde_json::from_slice(&answer).context("a created todo")?;
        ids.push(created["id"].as_str().context("a created todo's id")?.to_owned());
    }
    wait_until_listed(&mut connection, &reader, ids.len(), Duration::from_secs(30)).await?;

    let rates = match store {
        Store::Embedded => &settings.embedded_rates,
        Store::DynamoDb { .. } => &settings.dynamodb_rates,
    };
    let mut results = Vec::new();
    for (route, route_rates) in rates {
        for &rate in route_rates {
            let call: Arc<dyn Fn(u64) -> Call + Send + Sync> = match route {
                LoadRoute::Floor => {
                    let call = Call::get("/config.json", &reader);
                    Arc::new(move |_| call.clone())
                }
                LoadRoute::List => {
                    let call = Call::get("/api/item", &reader);
                    Arc::new(move |_| call.clone())
                }
                LoadRoute::Get => {
                    let (ids, token) = (ids.clone(), reader.clone());
                    Arc::new(move |i| Call::get(format!("/api/item/{}", ids[i as usize % ids.len()]), &token))
                }
                LoadRoute::Create => {
                    let token = writer.clone();
                    Arc::new(move |i| {
                        Call::json(Method::POST, "/api/item", &token, &json!({ "title": format!("Load {i}") }))
                    })
                }
            };
            let mut outcomes: Vec<StepOutcome> = Vec::new();
            let busy = progress.busy();
            let mut cpu_per_request = Vec::new();
            for run in 0..settings.runs {
                let cpu_before = crate::process::cpu_seconds(stack.pid)?;
                let outcome = open_loop(
                    stack.address,
                    rate,
                    settings.load_warmup,
                    settings.load_step,
                    settings.connections,
                    call.clone(),
                )
                .await?;
                // Warm-up requests are in the CPU time too: count them in.
                let served =
                    outcome.ok as f64 * (1.0 + settings.load_warmup.as_secs_f64() / settings.load_step.as_secs_f64());
                let cpu = crate::process::cpu_seconds(stack.pid)? - cpu_before;
                if served > 0.0 {
                    cpu_per_request.push(cpu / served * 1e6);
                }
                progress.say(&format!(
                    "{} {} at {rate} rps, run {}/{}: {:.0} rps, p50 {} ms, p99 {} ms, {} errors",
                    store.label(),
                    route.label(),
                    run + 1,
                    settings.runs,
                    outcome.throughput_rps,
                    fmt_ms(outcome.p50_ms),
                    fmt_ms(outcome.p99_ms),
                    outcome.errors
                ));
                outcomes.push(outcome);
            }
            let other = progress.busy().since(&busy);
            results.push(LoadResult {
                store: store.label().to_owned(),
                route: route.label().to_owned(),
                rate_rps: rate,
                throughput_rps: Spread::of(outcomes.iter().map(|o| o.throughput_rps)),
                p50_ms: Spread::of(outcomes.iter().filter_map(|o| o.p50_ms)),
                p99_ms: Spread::of(outcomes.iter().filter_map(|o| o.p99_ms)),
                max_ms: Spread::of(outcomes.iter().filter_map(|o| o.max_ms)),
                errors: outcomes.iter().map(|o| o.errors).sum(),
                first_error: outcomes.iter().find_map(|o| o.first_error.clone()),
                server_cpu_us_per_request: Spread::of(cpu_per_request),
                p99_ratio_to_floor: None,
                other_cores: other.cores,
            });
        }
    }
    let floors: Vec<(f64, Spread)> = results
        .iter()
        .filter(|r| r.route == LoadRoute::Floor.label())
        .filter_map(|r| r.p99_ms.clone().map(|p99| (r.rate_rps, p99)))
        .collect();
    for result in results.iter_mut().filter(|r| r.route != LoadRoute::Floor.label()) {
        if let (Some((_, floor)), Some(p99)) =
            (floors.iter().find(|(rate, _)| *rate == result.rate_rps), &result.p99_ms)
        {
            result.p99_ratio_to_floor = Spread::ratio(&p99.runs, &floor.runs);
        }
    }

    let staleness = staleness(settings, progress, store, stack, &watcher).await?;
    Ok((results, staleness))
}

pub(crate) fn fmt_ms(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), |v| format!("{v:.2}"))
}

/// Polls the list until it holds `count` todos.
async fn wait_until_listed(
    connection: &mut Connection,
    token: &str,
    count: usize,
    limit: Duration,
) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < limit {
        let (_, body) = connection.send(&Call::get("/api/item?limit=100", token)).await?;
        let listed: Value = serde_json::from_slice(&body).context("a list page")?;
        if listed["items"].as_array().is_some_and(|items| items.len() >= count) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("the list did not show {count} todos within {limit:?}")
}

/// Whether the list shows the todo `id`; the time its answer arrived.
async fn listed(connection: &mut Connection, token: &str, id: &str) -> anyhow::Result<(bool, Instant)> {
    let (status, body) = connection.send(&Call::get("/api/item?limit=100", token)).await?;
    let at = Instant::now();
    if !status.is_success() {
        bail!("listing: {status} {}", String::from_utf8_lossy(&body));
    }
    let page: Value = serde_json::from_slice(&body).context("a list page")?;
    let shown = page["items"].as_array().is_some_and(|items| items.iter().any(|item| item["id"] == id));
    Ok((shown, at))
}

/// Creates a todo, then lists until it shows: acknowledged -> visible. Then deletes it and waits
/// until it is gone, so the list stays one page long.
async fn staleness(
    settings: &Settings,
    progress: &Progress,
    store: &Store,
    stack: &LocalStack,
    token: &str,
) -> anyhow::Result<StalenessResult> {
    const LIMIT: Duration = Duration::from_secs(5);
    // Back-to-back lists on the embedded store (each well under a millisecond); on DynamoDB Local
    // a short pause, so the polling does not starve the emulator the projector is waiting on.
    let pause = match store {
        Store::Embedded => Duration::ZERO,
        Store::DynamoDb { .. } => Duration::from_millis(2),
    };
    let mut connection = Connection::open(stack.address).await?;
    let mut runs = Vec::new();
    let mut timeouts = 0;
    for run in 0..settings.runs {
        let mut samples = Samples::with_capacity(settings.staleness_samples);
        for n in 0..settings.staleness_samples {
            let body = json!({ "title": format!("Watch {run}.{n}") });
            let (status, answer) = connection.send(&Call::json(Method::POST, "/api/item", token, &body)).await?;
            let acknowledged = Instant::now();
            if status.as_u16() != 201 {
                bail!("creating a todo: {status} {}", String::from_utf8_lossy(&answer));
            }
            let created: Value = serde_json::from_slice(&answer).context("a created todo")?;
            let id = created["id"].as_str().context("a created todo's id")?.to_owned();
            loop {
                let (shown, at) = listed(&mut connection, token, &id).await?;
                if shown {
                    samples.push(at - acknowledged);
                    break;
                }
                if at - acknowledged > LIMIT {
                    timeouts += 1;
                    break;
                }
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
            }
            let (status, _) = connection
                .send(&Call { method: Method::DELETE, ..Call::get(format!("/api/item/{id}"), token) })
                .await?;
            if status.as_u16() != 204 {
                bail!("deleting a watched todo: {status}");
            }
            let deleted = Instant::now();
            while listed(&mut connection, token, &id).await?.0 && deleted.elapsed() < LIMIT {
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
            }
        }
        progress.say(&format!(
            "{} staleness run {}/{}: p50 {} ms, p99 {} ms",
            store.label(),
            run + 1,
            settings.runs,
            fmt_ms(samples.p50()),
            fmt_ms(samples.p99())
        ));
        runs.push(samples);
    }
    Ok(StalenessResult {
        store: store.label().to_owned(),
        samples_per_run: settings.staleness_samples,
        p50_ms: Spread::of(runs.iter().filter_map(Samples::p50)),
        p99_ms: Spread::of(runs.iter().filter_map(Samples::p99)),
        max_ms: Spread::of(runs.iter().filter_map(Samples::max)),
        timeouts,
    })
}
