//! Cold starts: each Lambda binary (release build) started as Lambda starts it, under the Runtime
//! API emulator, with a Lambda's environment and its manifest env pointed at DynamoDB Local.
//!
//! exec -> ready is the time to the first `GET .../invocation/next`; exec -> first response the
//! time to the first `POST .../response`; RSS is `VmRSS` after the first and after the last of
//! `invocations` invocations. Next to them, the floor: a function on the same runtime and SDK
//! that makes one GetItem per invocation (`bench-floor-lambda`).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use events_schema::{Timestamp, TodoId, UserId, fold};
use serde::Serialize;
use serde_json::json;
use todo_platform::manifest::{
    CONNECTIONS_TABLE_NAME, CORS_ALLOWED_ORIGIN, ERASURE_KEY, ERASURE_TABLE_NAME, EVENTS_TABLE_NAME, FUNCTIONS,
    SNAPSHOTS_TABLE_NAME, STATS_TABLE_NAME, TODO_TABLE_NAME,
};
use todo_platform::store::{
    ErasedCounts, Erasure, ErasureKey, ErasureLog as _, ErasureReceipt, ProjectionStore as _, WriteGuard,
};
use todo_testkit::dynamodb::Tables;

use crate::fixtures::{
    EventClock, ORIGIN, api, first_event, fresh_user, lifecycle, new_todo_id, put_events, stream_batch,
};
use crate::runtime_api::{Completion, RuntimeApi};
use crate::stats::{Samples, Spread};
use crate::{Emulator, Progress, Settings};

/// The floor binary (in this crate).
pub const FLOOR: &str = "bench-floor-lambda";
/// Functions of the manifest that answer no request: an operator's batch job (replay, measured in
/// section 5), whose cold start nobody waits on.
const NOT_ON_A_REQUEST: &[&str] = &["replay"];
/// Functions of the manifest this section has no workload for yet: the live updates' (a WebSocket
/// `$connect` and the read model's stream).
const NO_WORKLOAD_YET: &[&str] = &["live-authorizer", "live-connections", "notifier"];
/// `MemorySize` in `template.yaml`'s Globals.
const MEMORY_SIZE_MB: &str = "256";
const ANSWER_LIMIT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Serialize)]
pub struct ColdStartResult {
    pub function: String,
    pub is_floor: bool,
    pub ready_ms: Option<Spread>,
    pub first_response_ms: Option<Spread>,
    pub rss_first_mb: Option<Spread>,
    /// After `invocations` invocations.
    pub rss_after_mb: Option<Spread>,
    pub invocations: usize,
    /// Queued -> answered, through the emulator, over the warm invocations.
    pub warm_invoke_p50_ms: Option<Spread>,
    /// Each run divided by the floor's run of the same round.
    pub ready_ratio: Option<Spread>,
    pub first_response_ratio: Option<Spread>,
    pub rss_after_ratio: Option<Spread>,
    pub failures: Vec<String>,
}

/// One start of one function.
#[derive(Debug, Clone, Copy)]
struct Run {
    ready_ms: f64,
    first_response_ms: f64,
    rss_first_kb: u64,
    rss_after_kb: Option<u64>,
    warm_p50_ms: Option<f64>,
}

/// A todo the read-only functions look at.
struct Reader {
    user: UserId,
    todos: Vec<TodoId>,
    erasure: ErasureSetup,
}

/// What `erase-account` and the fence of the commands and the projector need: the erasure and
/// connections tables, the key, and a user erased already. `erase-account`'s workload is that
/// user's repeated `DELETE /account` (answered with the stored receipt): a first erasure waits out
/// the 17 s settle (section 12 measures it).
struct ErasureSetup {
    table: String,
    connections: String,
    key: ErasureKey,
    erased: UserId,
}

async fn seed_erasure(tables: &Tables) -> anyhow::Result<ErasureSetup> {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (table, connections) = (format!("Erasures-{suffix}"), format!("Connections-{suffix}"));
    todo_platform::store::dynamo::create_erasure_table(&tables.client, &table).await?;
    todo_platform::store::dynamo::create_connections_table(&tables.client, &connections).await?;
    let key = ErasureKey::generate();
    let erased = fresh_user("erased")?;
    let store = tables.store().with_erasure_table(table.as_str());
    let now = Timestamp::from_datetime(chrono::Utc::now());
    let receipt = ErasureReceipt {
        user_key: key.user_key(&erased),
        requested_at: now,
        erased_at: now,
        request_id: "bench".into(),
        erased: ErasedCounts::default(),
    };
    store.record_erasure(&Erasure::Erased(receipt)).await.context("seeding a receipt")?;
    Ok(ErasureSetup { table, connections, key, erased })
}

/// Reads only: a user with 20 todos of 3 events each, in both tables.
async fn seed_reader(tables: &Tables) -> anyhow::Result<Reader> {
    let user = fresh_user("reader")?;
    let store = tables.store();
    let mut clock = EventClock::default();
    let mut todos = Vec::new();
    let mut all = Vec::new();
    for n in 0..20 {
        let todo = new_todo_id();
        let events = lifecycle(&user, todo, 3, false, &mut clock);
        // Half of them still open: the last event of the others completes them.
        let events = if n % 2 == 0 { events[..2].to_vec() } else { events };
        store.put(&user, &fold(&events), WriteGuard::NotOlder).await.context("seeding a read-model row")?;
        all.extend(events);
        todos.push(todo);
    }
    put_events(&tables.client, &tables.events, &all).await?;
    Ok(Reader { user, todos, erasure: seed_erasure(tables).await? })
}

/// `count` todos of a fresh user, each created (version 1), for the commands to act on.
async fn seed_created(tables: &Tables, count: usize) -> anyhow::Result<(UserId, Vec<TodoId>)> {
    let user = fresh_user("writer")?;
    let mut clock = EventClock::default();
    let todos: Vec<TodoId> = (0..count).map(|_| new_todo_id()).collect();
    let events: Vec<_> = todos.iter().map(|todo| first_event(&user, *todo, "Seeded", clock.tick())).collect();
    put_events(&tables.client, &tables.events, &events).await?;
    Ok((user, todos))
}

/// The `count` invocation payloads of one start of `binary`.
async fn payloads(binary: &str, count: usize, tables: &Tables, reader: &Reader) -> anyhow::Result<Vec<String>> {
    let pick = |i: usize| reader.todos[i % reader.todos.len()];
    let api_events = |make: &dyn Fn(usize) -> todo_testkit::ApiEvent| (0..count).map(|i| make(i).to_json()).collect();
    Ok(match binary {
        "create-todo" => {
            let user = fresh_user("creator")?;
            api_events(&|i| api::create(&user, &format!("Cold {i}")))
        }
        "update-todo" | "complete-todo" | "delete-todo" => {
            let (user, todos) = seed_created(tables, count).await?;
            api_events(&|i| match binary {
                "update-todo" => api::update(&user, todos[i], &format!("Renamed {i}")),
                "complete-todo" => api::complete(&user, todos[i]),
                _ => api::delete(&user, todos[i]),
            })
        }
        "list-todos" => api_events(&|_| api::list(&reader.user)),
        "get-todo" => api_events(&|i| api::get(&reader.user, pick(i))),
        "get-todo-history" => api_events(&|i| api::item_history(&reader.user, pick(i))),
        "get-history" => api_events(&|_| api::history(&reader.user)),
        "get-history-digest" => api_events(&|_| api::history_digest(&reader.user)),
        "export-data" => api_events(&|_| api::export(&reader.user)),
        "get-stats" => api_events(&|_| api::stats(&reader.user)),
        "erase-account" => api_events(&|_| api::erase_account(&reader.erasure.erased)),
        "projector" => {
            let user = fresh_user("projected")?;
            let mut clock = EventClock::default();
            let mut batches = Vec::with_capacity(count);
            for _ in 0..count {
                let created = first_event(&user, new_todo_id(), "Projected", clock.tick());
                batches.push(stream_batch(&[created], &tables.events)?.to_string());
            }
            batches
        }
        FLOOR => (0..count)
            .map(|i| json!({ "userId": reader.user.as_str(), "todoId": pick(i).to_string() }).to_string())
            .collect(),
        other => bail!("the benchmark has no workload for function {other}"),
    })
}

/// Whether a function's answer is a success: a 2xx proxy response, a batch with no failures.
fn check_answer(binary: &str, completion: &Completion) -> anyhow::Result<()> {
    if !completion.ok {
        bail!("invocation error: {}", String::from_utf8_lossy(&completion.body));
    }
    let fine = match binary {
        "projector" => serde_json::from_slice::<serde_json::Value>(&completion.body)
            .ok()
            .and_then(|answer| answer.get("batchItemFailures").and_then(|f| f.as_array()).map(Vec::is_empty))
            .unwrap_or(false),
        FLOOR => true,
        _ => api::proxy_status(&completion.body).is_some_and(|status| (200..300).contains(&status)),
    };
    if !fine {
        bail!("unexpected answer: {}", String::from_utf8_lossy(&completion.body[..completion.body.len().min(300)]));
    }
    Ok(())
}

/// The environment Lambda gives a function, and the function's own (manifest) variables.
fn environment(
    binary: &str,
    runtime_api: &str,
    tables: &Tables,
    erasure: &ErasureSetup,
    endpoint: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let name = format!("todo-bench-{binary}");
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", &name),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MEMORY_SIZE_MB),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", &format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
        ("AWS_SESSION_TOKEN", "local"),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint),
        ("_HANDLER", "bootstrap"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let wanted: &[&str] = match FUNCTIONS.iter().find(|f| f.binary == binary) {
        Some(function) => function.env,
        None if binary == FLOOR => &[TODO_TABLE_NAME],
        None => bail!("{binary} is not in the manifest"),
    };
    for variable in wanted {
        let value = match *variable {
            EVENTS_TABLE_NAME => tables.events.clone(),
            TODO_TABLE_NAME => tables.todos.clone(),
            STATS_TABLE_NAME => tables.stats.clone(),
            SNAPSHOTS_TABLE_NAME => tables.snapshots.clone(),
            CORS_ALLOWED_ORIGIN => ORIGIN.to_owned(),
            ERASURE_TABLE_NAME => erasure.table.clone(),
            ERASURE_KEY => erasure.key.to_hex(),
            CONNECTIONS_TABLE_NAME => erasure.connections.clone(),
            other => bail!("the benchmark does not know what to set {other} to for {binary}"),
        };
        env.push(((*variable).to_owned(), value));
    }
    Ok(env)
}

/// Starts `binary` once, invokes it `payloads.len()` times, and stops it.
async fn start_once(
    settings: &Settings,
    binary: &str,
    payloads: Vec<String>,
    tables: &Tables,
    erasure: &ErasureSetup,
    endpoint: &str,
    log: &Path,
) -> anyhow::Result<Run> {
    let api = RuntimeApi::start(binary).await?;
    let env = environment(binary, &api.host_port(), tables, erasure, endpoint)?;
    let mut payloads = payloads.into_iter();
    let first = api.invoke(payloads.next().context("no payload")?);
    let log = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    let mut command = std::process::Command::new(settings.binary(binary));
    command
        .env_clear()
        .envs(env)
        .current_dir(&settings.scratch)
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("log file")?)
        .stderr(log);
    let exec = Instant::now();
    let child = command.spawn().with_context(|| format!("starting {}", settings.binary(binary).display()))?;
    let child = crate::process::Killed(child);
    let pid = child.0.id();
    let outcome = async {
        let answered = api.wait(first, ANSWER_LIMIT).await?;
        let ready = api.ready_at().context("answered without asking for an invocation")?;
        let rss_first_kb = crate::process::status_kb(pid, "VmRSS")?;
        check_answer(binary, &answered).context("first invocation")?;
        let mut warm = Samples::default();
        for payload in payloads {
            let queued = Instant::now();
            let answered = api.invoke_and_wait(payload, ANSWER_LIMIT).await?;
            warm.push(answered.at.saturating_duration_since(queued));
            check_answer(binary, &answered).context("warm invocation")?;
        }
        let rss_after_kb = match warm.is_empty() {
            true => None,
            false => Some(crate::process::status_kb(pid, "VmRSS")?),
        };
        Ok(Run {
            ready_ms: ms(ready.saturating_duration_since(exec)),
            first_response_ms: ms(answered.at.saturating_duration_since(exec)),
            rss_first_kb,
            rss_after_kb,
            warm_p50_ms: warm.p50(),
        })
    }
    .await;
    drop(child);
    outcome
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// Every function and the floor, `cold_reps` rounds; the first `rss_reps` rounds also run the
/// warm invocations.
pub async fn measure(
    settings: &Settings,
    progress: &Progress,
    dynamodb: &Emulator,
) -> anyhow::Result<Vec<ColdStartResult>> {
    let endpoint = dynamodb.endpoint().to_owned();
    let tables = Tables::fresh_in(dynamodb.client.clone()).await;
    let reader = seed_reader(&tables).await?;
    let logs = settings.scratch.join("cold-start-logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let binaries: Vec<&str> = std::iter::once(FLOOR)
        .chain(
            FUNCTIONS
                .iter()
                .map(|f| f.binary)
                .filter(|binary| !NOT_ON_A_REQUEST.contains(binary) && !NO_WORKLOAD_YET.contains(binary)),
        )
        .collect();
    for binary in &binaries {
        if !settings.binary(binary).is_file() {
            bail!("{} is missing: run `cargo build --release --bins` first", settings.binary(binary).display());
        }
    }
    // One start of each that is not recorded: binaries into the page cache, DynamoDB Local's
    // code paths compiled by its JIT.
    for binary in &binaries {
        let payloads = payloads(binary, 1, &tables, &reader).await?;
        let log = logs.join(format!("{binary}-warm-up.log"));
        if let Err(error) = start_once(settings, binary, payloads, &tables, &reader.erasure, &endpoint, &log).await {
            progress.say(&format!("cold start {binary} warm-up failed: {error:#}"));
        }
    }
    let mut runs: Vec<Vec<Option<Run>>> = vec![Vec::new(); binaries.len()];
    let mut failures: Vec<Vec<String>> = vec![Vec::new(); binaries.len()];
    for round in 0..settings.cold_reps {
        let count = if round < settings.rss_reps { settings.invocations } else { 1 };
        for (index, binary) in binaries.iter().enumerate() {
            let payloads = payloads(binary, count, &tables, &reader).await?;
            let log = logs.join(format!("{binary}-{round}.log"));
            match start_once(settings, binary, payloads, &tables, &reader.erasure, &endpoint, &log).await {
                Ok(run) => {
                    progress.say(&format!(
                        "cold start {binary} round {}/{}: ready {:.1} ms, first response {:.1} ms, RSS {:.1} MB{}",
                        round + 1,
                        settings.cold_reps,
                        run.ready_ms,
                        run.first_response_ms,
                        run.rss_first_kb as f64 / 1024.0,
                        run.rss_after_kb
                            .map(|kb| format!(", after {count} invocations {:.1} MB", kb as f64 / 1024.0))
                            .unwrap_or_default()
                    ));
                    runs[index].push(Some(run));
                }
                Err(error) => {
                    progress.say(&format!("cold start {binary} round {} failed: {error:#}", round + 1));
                    failures[index].push(format!("round {}: {error:#} (log: {})", round + 1, log.display()));
                    runs[index].push(None);
                }
            }
        }
    }
    let figures = |index: usize, pick: &dyn Fn(&Run) -> Option<f64>| -> Vec<f64> {
        runs[index].iter().map(|run| run.as_ref().and_then(pick).unwrap_or(f64::NAN)).collect()
    };
    let kb_to_mb = |kb: u64| kb as f64 / 1024.0;
    let ready = |r: &Run| Some(r.ready_ms);
    let first = |r: &Run| Some(r.first_response_ms);
    let rss_after = |r: &Run| r.rss_after_kb.map(kb_to_mb);
    let floor = 0;
    crate::fixtures::drop_tables(&tables.client, &tables.names()).await;
    crate::fixtures::drop_tables(&tables.client, &[&reader.erasure.table, &reader.erasure.connections]).await;
    Ok(binaries
        .iter()
        .enumerate()
        .map(|(index, binary)| ColdStartResult {
            function: (*binary).to_owned(),
            is_floor: index == floor,
            ready_ms: Spread::of(figures(index, &ready)),
            first_response_ms: Spread::of(figures(index, &first)),
            rss_first_mb: Spread::of(figures(index, &|r| Some(kb_to_mb(r.rss_first_kb)))),
            rss_after_mb: Spread::of(figures(index, &rss_after)),
            invocations: settings.invocations,
            warm_invoke_p50_ms: Spread::of(figures(index, &|r| r.warm_p50_ms)),
            ready_ratio: Spread::ratio(&figures(index, &ready), &figures(floor, &ready)),
            first_response_ratio: Spread::ratio(&figures(index, &first), &figures(floor, &first)),
            rss_after_ratio: Spread::ratio(&figures(index, &rss_after), &figures(floor, &rss_after)),
            failures: failures[index].clone(),
        })
        .collect())
}
