//! The results: `results.json` (everything, every run), `results.md` (the tables, the targets,
//! what the machine was doing) and `chart.svg`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;

use crate::Settings;
use crate::as_of::AsOfResult;
use crate::cold_start::ColdStartResult;
use crate::faults::{FaultRun, FaultsResult};
use crate::integrity::VerifyResult;
use crate::live::LiveResult;
use crate::machine::Machine;
use crate::process::OtherLoad;
use crate::projection::{ProjectorResult, ReplayResult, StatsCostResult};
use crate::segments::SegmentsResult;
use crate::stack::{LoadResult, StalenessResult};
use crate::stats::{Spread, show};
use crate::warm::WarmResult;

#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub date: String,
    pub machine: Machine,
    /// `--quick`: a smoke run, not figures to quote.
    pub quick: bool,
    pub method: Method,
    pub duration_s: f64,
    /// Cores the rest of the machine used on average over the whole run.
    pub other_load: OtherLoad,
    pub sections: Vec<SectionRun>,
    pub targets: Vec<Target>,
    pub cold_starts: Vec<ColdStartResult>,
    pub warm: Vec<WarmResult>,
    pub load: Vec<LoadResult>,
    pub staleness: Vec<StalenessResult>,
    pub projector: Vec<ProjectorResult>,
    pub replay: Vec<ReplayResult>,
    pub as_of: Vec<AsOfResult>,
    pub verify: Vec<VerifyResult>,
    pub segments: Vec<SegmentsResult>,
    pub stats_cost: Vec<StatsCostResult>,
    /// `None`: the faults section did not run.
    pub faults: Option<FaultsResult>,
    pub live: Vec<LiveResult>,
    /// `None`: the offline section did not run.
    pub offline: Option<crate::offline::OfflineResult>,
    pub erasure: Vec<crate::erasure::ErasureResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Method {
    pub runs: usize,
    pub cold_start_rounds: usize,
    pub rss_rounds: usize,
    pub invocations: usize,
    pub warm_iterations_per_run: usize,
    pub load_step_s: f64,
    pub load_warmup_s: f64,
    pub load_connections: usize,
    pub staleness_samples_per_run: usize,
    pub live_clients: Vec<usize>,
    pub live_commands_per_run: usize,
    pub live_warmup_commands: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionRun {
    pub name: String,
    pub seconds: f64,
    pub other_load: OtherLoad,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: String,
    pub target: String,
    pub measured: String,
    /// `None`: not measured in this run.
    pub met: Option<bool>,
}

impl Results {
    pub fn new(machine: Machine, settings: &Settings, quick: bool) -> Self {
        Self {
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            machine,
            quick,
            method: Method {
                runs: settings.runs,
                cold_start_rounds: settings.cold_reps,
                rss_rounds: settings.rss_reps,
                invocations: settings.invocations,
                warm_iterations_per_run: settings.warm_iterations,
                load_step_s: settings.load_step.as_secs_f64(),
                load_warmup_s: settings.load_warmup.as_secs_f64(),
                load_connections: settings.connections,
                staleness_samples_per_run: settings.staleness_samples,
                live_clients: settings.live_clients.clone(),
                live_commands_per_run: settings.live_commands,
                live_warmup_commands: settings.live_warmup,
            },
            duration_s: 0.0,
            other_load: OtherLoad::default(),
            sections: Vec::new(),
            targets: Vec::new(),
            cold_starts: Vec::new(),
            warm: Vec::new(),
            load: Vec::new(),
            staleness: Vec::new(),
            projector: Vec::new(),
            replay: Vec::new(),
            as_of: Vec::new(),
            verify: Vec::new(),
            segments: Vec::new(),
            stats_cost: Vec::new(),
            faults: None,
            live: Vec::new(),
            offline: None,
            erasure: Vec::new(),
        }
    }

    pub fn record_section(&mut self, name: &str, took: Duration, other_load: OtherLoad, error: Option<anyhow::Error>) {
        self.sections.push(SectionRun {
            name: name.to_owned(),
            seconds: took.as_secs_f64(),
            other_load,
            error: error.map(|e| format!("{e:#}")),
        });
    }

    pub fn finish(&mut self, took: Duration, other_load: OtherLoad) {
        self.duration_s = took.as_secs_f64();
        self.other_load = other_load;
        self.targets = targets(self);
    }
}

fn verdict(met: bool) -> Option<bool> {
    Some(met)
}

/// The targets, judged on the medians.
fn targets(results: &Results) -> Vec<Target> {
    let mut targets = Vec::new();
    let functions: Vec<&ColdStartResult> = results.cold_starts.iter().filter(|c| !c.is_floor).collect();
    let worst = |pick: &dyn Fn(&ColdStartResult) -> Option<f64>| -> Option<(f64, String)> {
        let mut worst: Option<(f64, String)> = None;
        for function in &functions {
            let value = pick(function)?;
            if worst.as_ref().is_none_or(|(w, _)| value > *w) {
                worst = Some((value, function.function.clone()));
            }
        }
        worst
    };
    let first_response = worst(&|c| c.first_response_ms.as_ref().map(|s| s.median));
    targets.push(Target {
        name: "cold start exec -> first response, every function".into(),
        target: "<= 20 ms".into(),
        measured: first_response.as_ref().map_or("n/a".into(), |(v, f)| format!("worst median {v:.1} ms ({f})")),
        met: first_response.as_ref().and_then(|(v, _)| verdict(*v <= 20.0)),
    });
    let rss = worst(&|c| {
        let first = c.rss_first_mb.as_ref().map(|s| s.median)?;
        Some(c.rss_after_mb.as_ref().map_or(first, |s| s.median.max(first)))
    });
    targets.push(Target {
        name: "RSS per function (after the first and after 1,000 invocations)".into(),
        target: "<= 15 MB".into(),
        measured: rss.as_ref().map_or("n/a".into(), |(v, f)| format!("worst median {v:.1} MB ({f})")),
        met: rss.as_ref().and_then(|(v, _)| verdict(*v <= 15.0)),
    });
    let warm = |route: &str| results.warm.iter().find(|w| w.route == route);
    let create = warm("POST /item").and_then(|w| w.ratio_p50.clone());
    targets.push(Target {
        name: "warm create vs its SDK floor (one conditional PutItem), p50".into(),
        target: "<= 1.1x".into(),
        measured: create.as_ref().map_or("n/a".into(), |r| format!("{}x", r.show(2))),
        met: create.as_ref().and_then(|r| verdict(r.median <= 1.1)),
    });
    for route in ["PUT /item/{id}", "POST /item/{id}/done", "DELETE /item/{id}"] {
        let ratio = warm(route).and_then(|w| w.single_call_ratio_p50.clone());
        targets.push(Target {
            name: format!("warm {route} vs the single-call floor (one PutItem), p50"),
            target: "<= 2.2x".into(),
            measured: ratio.as_ref().map_or("n/a".into(), |r| format!("{}x", r.show(2))),
            met: ratio.as_ref().and_then(|r| verdict(r.median <= 2.2)),
        });
    }
    let load = |route: &str, rate: f64| {
        results.load.iter().find(|l| l.store.starts_with("embedded") && l.route == route && l.rate_rps == rate)
    };
    for (route, rate, limit) in [("GET /item", 2000.0, 2.0), ("POST /item", 1000.0, 5.0)] {
        let step = load(route, rate);
        let p99 = step.and_then(|s| s.p99_ms.clone());
        let kept_up = step.and_then(|s| s.throughput_rps.as_ref()).is_some_and(|t| t.median >= rate * 0.97);
        let clean = step.is_some_and(|s| s.errors == 0);
        targets.push(Target {
            name: format!("embedded local stack {route} p99 at {rate:.0} rps"),
            target: format!("<= {limit} ms"),
            measured: match (&p99, step) {
                (Some(p99), Some(step)) => {
                    format!("{} ms, {} rps served, {} errors", p99.show(2), show(&step.throughput_rps, 0), step.errors)
                }
                _ => "n/a".into(),
            },
            met: p99.as_ref().and_then(|p| verdict(p.median <= limit && kept_up && clean)),
        });
    }
    let staleness = results.staleness.iter().find(|s| s.store.starts_with("embedded")).and_then(|s| s.p99_ms.clone());
    targets.push(Target {
        name: "staleness (acknowledged -> listed), embedded, p99".into(),
        target: "<= 50 ms".into(),
        measured: staleness.as_ref().map_or("n/a".into(), |s| format!("{} ms", s.show(2))),
        met: staleness.as_ref().and_then(|s| verdict(s.median <= 50.0)),
    });
    let replays: Vec<&ReplayResult> = results.replay.iter().filter(|r| r.store.starts_with("embedded")).collect();
    let slowest = replays
        .iter()
        .filter_map(|r| r.events_per_second.as_ref().map(|s| (s.median, r.events)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    targets.push(Target {
        name: "replay throughput, embedded, every size".into(),
        target: ">= 200k events/s".into(),
        measured: slowest
            .map_or("n/a".into(), |(rate, events)| format!("slowest {:.0}k events/s ({events} events)", rate / 1e3)),
        met: slowest.and_then(|(rate, _)| verdict(rate >= 200_000.0)),
    });
    let peaks: Vec<(usize, f64)> =
        replays.iter().filter_map(|r| r.peak_rss_mb.as_ref().map(|p| (r.events, p.median))).collect();
    let flat = match (peaks.first(), peaks.last()) {
        (Some(small), Some(large)) if peaks.len() > 1 => Some((small, large)),
        _ => None,
    };
    targets.push(Target {
        name: "replay peak memory stays flat as the event count grows (embedded)".into(),
        target: "largest <= 1.5x smallest".into(),
        measured: flat.map_or("n/a".into(), |(small, large)| {
            format!("{:.1} MB at {} events, {:.1} MB at {} events", small.1, small.0, large.1, large.0)
        }),
        met: flat.and_then(|(small, large)| verdict(large.1 <= small.1 * 1.5)),
    });
    as_of_targets(results, &mut targets);
    let verifies: Vec<&VerifyResult> = results.verify.iter().filter(|v| v.store.starts_with("embedded")).collect();
    let slowest = verifies
        .iter()
        .filter_map(|v| v.events_per_second.as_ref().map(|s| (s.median, v.events)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let clean = verifies.iter().all(|v| v.failures.is_empty());
    targets.push(Target {
        name: "verify throughput, embedded, every size (sealed events, every chain intact)".into(),
        target: ">= 100k events/s".into(),
        measured: slowest
            .map_or("n/a".into(), |(rate, events)| format!("slowest {:.0}k events/s ({events} events)", rate / 1e3)),
        met: slowest.and_then(|(rate, _)| verdict(rate >= 100_000.0 && clean)),
    });
    for cost in &results.stats_cost {
        targets.push(Target {
            name: format!(
                "projector with both projections vs the todo projection alone, events/s ratio, {}",
                cost.store
            ),
            target: ">= 0.7x".into(),
            measured: cost.ratio.as_ref().map_or("n/a".into(), |r| format!("{}x", r.show(2))),
            met: cost.ratio.as_ref().and_then(|r| verdict(r.median >= 0.7)),
        });
    }
    fault_targets(results, &mut targets);
    live_target(results, &mut targets);
    targets.push(crate::offline::target(results.offline.as_ref()));
    targets
}

/// The live push target: acknowledged -> received by the designated client with 100 clients
/// open, p99, with no push missed by any client.
fn live_target(results: &Results, targets: &mut Vec<Target>) {
    let row = results.live.iter().find(|l| l.clients == 100);
    let p99 = row.and_then(|l| l.designated_p99_ms.clone());
    targets.push(Target {
        name: "live push, acknowledged -> received, 100 clients, p99".into(),
        target: "<= 50 ms".into(),
        measured: match (row, &p99) {
            (Some(row), Some(p99)) => format!(
                "{} ms to the designated client, {} ms to all 100, {} misses",
                p99.show(2),
                show(&row.all_p99_ms, 2),
                row.misses
            ),
            _ => "n/a".into(),
        },
        met: row.zip(p99).and_then(|(row, p99)| verdict(p99.median <= 50.0 && row.misses == 0)),
    });
}

/// The fault-injection run's targets: no 500, and every acknowledged command exactly once, over
/// every run.
fn fault_targets(results: &Results, targets: &mut Vec<Target>) {
    let runs = results.faults.as_ref().map_or(&[][..], |f| f.runs.as_slice());
    let total = |pick: FaultCount| runs.iter().map(pick).sum::<u64>();
    let measured = !runs.is_empty();
    let (commands, answered_500) = (total(|r| r.commands), total(|r| r.answered_500));
    targets.push(Target {
        name: "faults: 500s".into(),
        target: "0".into(),
        measured: match measured {
            true => format!("{answered_500} of {commands} commands in {} runs", runs.len()),
            false => "n/a".into(),
        },
        met: measured.then_some(answered_500 == 0),
    });
    let (acknowledged, duplicates, missing) =
        (total(|r| r.acknowledged), total(|r| r.duplicates), total(|r| r.missing));
    targets.push(Target {
        name: "faults: duplicate or lost acknowledged commands".into(),
        target: "0".into(),
        measured: match measured {
            true => format!("{duplicates} duplicated, {missing} missing of {acknowledged} acknowledged"),
            false => "n/a".into(),
        },
        met: (measured && acknowledged > 0).then_some(duplicates == 0 && missing == 0),
    });
}

/// The as-of list's targets: p50 at both instants (the slower one judged), embedded over HTTP and
/// through the handler on DynamoDB Local.
fn as_of_targets(results: &Results, targets: &mut Vec<Target>) {
    for (store, via, limit) in
        [("embedded", "todo-local over HTTP", 10.0), ("DynamoDB", "list-todos handler in-process", 50.0)]
    {
        let rows: Vec<&AsOfResult> =
            results.as_of.iter().filter(|a| a.store.starts_with(store) && a.via == via).collect();
        let p50s: Vec<(f64, &str)> =
            rows.iter().filter_map(|a| a.p50_ms.as_ref().map(|p| (p.median, a.instant.as_str()))).collect();
        let worst = p50s.iter().map(|(p50, _)| *p50).max_by(f64::total_cmp);
        targets.push(Target {
            name: format!(
                "as-of list (1 user, 1,000 todos, 10,000 events), {store}, {via}, p50 at the middle and at now"
            ),
            target: format!("<= {limit} ms"),
            measured: match p50s.is_empty() {
                true => "n/a".into(),
                false => {
                    let each: Vec<String> = rows
                        .iter()
                        .map(|a| format!("{}: {} ms", a.instant, a.p50_ms.as_ref().map_or("n/a".into(), |p| p.show(1))))
                        .collect();
                    each.join("; ")
                }
            },
            met: worst.filter(|_| p50s.len() == 2).and_then(|worst| verdict(worst <= limit)),
        });
    }
}

pub fn write(out: &Path, results: &Results) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let json = serde_json::to_string_pretty(results).context("encoding the results")?;
    write_file(&out.join("results.json"), &(json + "\n"))?;
    write_file(&out.join("results.md"), &markdown(results))?;
    write_file(&out.join("chart.svg"), &crate::chart::svg(results))?;
    Ok(())
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn mark(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "**missed**",
        None => "not measured",
    }
}

/// A markdown table: the header row, its rule, then one line per row.
fn table<R: IntoIterator<Item = String>>(md: &mut String, headers: &[&str], rows: impl IntoIterator<Item = R>) {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    md.push_str(&line(headers.iter().map(|h| (*h).to_owned()).collect()));
    md.push_str(&line(vec!["---".to_owned(); headers.len()]));
    for row in rows {
        md.push_str(&line(row.into_iter().collect()));
    }
}

fn markdown(results: &Results) -> String {
    let mut md = String::new();
    let m = &results.method;
    let _ = writeln!(md, "# Benchmarks\n");
    if results.quick {
        let _ = writeln!(md, "> **Smoke run (`--quick`)**: too few repetitions to quote these figures.\n");
    }
    let _ = writeln!(
        md,
        "Measured by `make bench` (the `todo-bench` crate in `bench/`) on {}, in {:.0} s.\n\n\
         **Machine**: {}.\n\n\
         **Other work on the machine**: load average {:.2} / {:.2} / {:.2} at the start; other processes used \
         {} of its {} cores on average during the run{}.\n",
        results.date,
        results.duration_s,
        results.machine.one_line(),
        results.machine.load_average_at_start[0],
        results.machine.load_average_at_start[1],
        results.machine.load_average_at_start[2],
        results.other_load.describe(),
        results.machine.cores,
        if results.other_load.cores > 0.25 {
            " — **the machine was busy**: figures are slower and noisier than on an idle machine"
        } else {
            ""
        },
    );
    let _ = writeln!(
        md,
        "Every figure is the **median over repeated runs, with the lowest and highest run in brackets**; a ratio \
         (`×floor`) divides each run's figure by its floor measured in the same run, then takes the median.\n"
    );
    let _ = writeln!(md, "![Cold starts, warm latency next to the SDK floor, replay throughput](chart.svg)\n");

    let _ = writeln!(md, "## Targets\n");
    table(
        &mut md,
        &["target", "goal", "measured", ""],
        results.targets.iter().map(|t| [t.name.clone(), t.target.clone(), t.measured.clone(), mark(t.met).to_owned()]),
    );

    let _ = writeln!(
        md,
        "\n## 1. Cold start of each Lambda binary\n\n\
         Release builds started as Lambda starts a `provided.al2023` function: exec under a Runtime API emulator on \
         loopback (`AWS_LAMBDA_RUNTIME_API`), a Lambda's environment (function name, 256 MB, version, region, \
         credentials) and the function's own variables from `manifest.rs`, DynamoDB at DynamoDB Local. \
         *ready* = exec -> first `GET /runtime/invocation/next`; *first response* = exec -> `POST .../response` of \
         the first invocation (a real API Gateway event with Cognito claims, or a one-record stream batch), \
         including the first DynamoDB calls and their connection. RSS = `VmRSS` after the first invocation and \
         after {} invocations ({} of the {} rounds). Each round starts every binary once, the floor first; one \
         unrecorded round before them loads the binaries into the page cache and warms DynamoDB Local. The floor \
         is `bench-floor-lambda`: the same runtime and SDK set-up, one GetItem per invocation, nothing else.\n",
        m.invocations, m.rss_rounds, m.cold_start_rounds
    );
    let after = format!("RSS after {} (MB)", m.invocations);
    table(
        &mut md,
        &[
            "function",
            "exec -> ready (ms)",
            "×floor",
            "exec -> first response (ms)",
            "×floor",
            "RSS after 1st (MB)",
            &after,
            "×floor",
            "warm invoke p50 (ms)",
        ],
        results.cold_starts.iter().map(|c| {
            let name = if c.is_floor { format!("*floor* ({})", c.function) } else { format!("`{}`", c.function) };
            let ratio = |r: &Option<Spread>| if c.is_floor { "1".to_owned() } else { show(r, 2) };
            [
                name,
                show(&c.ready_ms, 1),
                ratio(&c.ready_ratio),
                show(&c.first_response_ms, 1),
                ratio(&c.first_response_ratio),
                show(&c.rss_first_mb, 1),
                show(&c.rss_after_mb, 1),
                ratio(&c.rss_after_ratio),
                show(&c.warm_invoke_p50_ms, 2),
            ]
        }),
    );
    for c in results.cold_starts.iter().filter(|c| !c.failures.is_empty()) {
        let _ = writeln!(md, "\n`{}` failures: {}", c.function, c.failures.join("; "));
    }

    let _ = writeln!(
        md,
        "\n## 2. Warm latency of each route's handler against DynamoDB Local\n\n\
         The handler (`commands::http::*`, `queries::http::*`) called in-process with a real API Gateway REST \
         event, {} timed calls per run after a warm-up, interleaved call by call with its floor: the same DynamoDB \
         calls made directly with the SDK over the same client. Create appends version 1 in one conditional \
         PutItem; update, complete and delete act on a todo at version 1 (read 1 event, append 1); list reads a page of 20 todos; the item history 2–3 events; the user history 50. \
         For the commands, *single call* is the floor's PutItem alone (one round trip), the floor the 2.2x target \
         is judged against.\n",
        m.warm_iterations_per_run
    );
    table(
        &mut md,
        &[
            "route",
            "function",
            "floor",
            "handler p50 (ms)",
            "floor p50 (ms)",
            "×floor p50",
            "handler p99 (ms)",
            "floor p99 (ms)",
            "×floor p99",
            "single call p50 (ms)",
            "×single call",
        ],
        results.warm.iter().map(|w| {
            [
                format!("`{}`", w.route),
                format!("`{}`", w.function),
                w.floor_calls.clone(),
                show(&w.handler_p50_ms, 2),
                show(&w.floor_p50_ms, 2),
                show(&w.ratio_p50, 2),
                show(&w.handler_p99_ms, 2),
                show(&w.floor_p99_ms, 2),
                show(&w.ratio_p99, 2),
                show(&w.single_call_p50_ms, 2),
                show(&w.single_call_ratio_p50, 2),
            ]
        }),
    );

    let _ = writeln!(
        md,
        "\n## 3. The local stack over HTTP under load\n\n\
         `target/release/todo-local` as `make run` serves it (API Gateway + Cognito authorizer emulation, every \
         request's token verified, default logging to a file), driven by an open-loop generator of our own \
         (`bench/src/loadgen.rs`, tokio + hyper): requests leave at a fixed rate over {} kept-alive connections \
         whether or not earlier ones were answered, and a request's latency counts from its scheduled time when its \
         connection was still busy. Each step: {:.1} s warm-up, then {:.0} s measured; {} runs. The reader lists a \
         page of 20 todos; *get* cycles over them; *create* adds todos. The floor is the same server, middleware \
         and loader answering `GET /config.json` (no authorizer, no function, no store). On DynamoDB Local the rates are lower: \
         the emulator (Java, on the same two cores) is the bottleneck, not the stack.\n",
        m.load_connections, m.load_warmup_s, m.load_step_s, m.runs
    );
    table(
        &mut md,
        &[
            "store",
            "route",
            "rate (rps)",
            "served (rps)",
            "p50 (ms)",
            "p99 (ms)",
            "×floor p99",
            "max (ms)",
            "errors",
            "todo-local CPU per request (µs)",
            "other processes (cores)",
        ],
        results.load.iter().map(|l| {
            [
                l.store.clone(),
                format!("`{}`", l.route),
                format!("{:.0}", l.rate_rps),
                show(&l.throughput_rps, 0),
                show(&l.p50_ms, 2),
                show(&l.p99_ms, 2),
                show(&l.p99_ratio_to_floor, 2),
                show(&l.max_ms, 1),
                l.errors.to_string(),
                show(&l.server_cpu_us_per_request, 0),
                format!("{:.2}", l.other_cores),
            ]
        }),
    );
    for l in results.load.iter().filter(|l| l.first_error.is_some()) {
        let _ = writeln!(
            md,
            "\n{} `{}` at {:.0} rps, first error: `{}`",
            l.store,
            l.route,
            l.rate_rps,
            l.first_error.as_deref().unwrap_or_default().replace('`', "'")
        );
    }

    let _ = writeln!(
        md,
        "\n## 4. Staleness: command acknowledged -> visible in the list\n\n\
         Over HTTP on the same stacks: `POST /api/item`, then `GET /api/item` back to back until the new todo is \
         listed (the time the listing answer arrived, minus the time the create answer arrived); then the todo is \
         deleted and we wait until it is gone, so every sample starts from the same list. {} samples per run, {} \
         runs. Embedded: the SQLite change feed wakes the projector on every append. DynamoDB Local: the \
         stream is polled (50 ms when idle) and each batch handed to the projector, as Lambda's event source \
         mapping would.\n",
        m.staleness_samples_per_run, m.runs
    );
    table(
        &mut md,
        &["store", "p50 (ms)", "p99 (ms)", "max (ms)", "not listed within 5 s"],
        results.staleness.iter().map(|s| {
            [s.store.clone(), show(&s.p50_ms, 2), show(&s.p99_ms, 2), show(&s.max_ms, 2), s.timeouts.to_string()]
        }),
    );

    let _ = writeln!(
        md,
        "\n## 5. Projector and replay\n\n\
         **Projector**: `Projector::handle_batch` on stream batches of {} records in the JSON Lambda delivers \
         (`NEW_IMAGE`, decoded by `aws_lambda_events`), todos of 5 events interleaved as a stream delivers them; \
         each record reads the row and writes the next version (GetItem + conditional PutItem on DynamoDB); \
         up to {} todos of a batch at a time, each todo's events in stream order.\n",
        crate::projection::BATCH_SIZE,
        projector::CONCURRENT_TODOS
    );
    table(
        &mut md,
        &["store", "events per run", "events/s"],
        results
            .projector
            .iter()
            .map(|p| [p.store.clone(), p.events_per_run.to_string(), show(&p.events_per_second, 0)]),
    );
    let _ = writeln!(
        md,
        "\n**Replay**: the whole read model rebuilt from the event table (`projector::replay::replay`, default page \
         size), each run in a fresh process: on the embedded store `todo-bench replay-sqlite` over a SQLite file \
         whose read model was emptied first, reporting its own `VmHWM`; on DynamoDB Local the `replay` binary \
         itself on fresh tables, its peak RSS from `wait4` in a small parent (`todo-bench measure`). Histories: 20 todos per user, 5 events per todo \
         (created, edits, completed; every tenth deleted). Events/s counts the rebuild and the orphan check that \
         follows it.\n"
    );
    table(
        &mut md,
        &[
            "store",
            "events",
            "todos",
            "events/s",
            "floor events/s (read + fold only)",
            "×floor time",
            "seconds",
            "of which rebuild pass",
            "of which orphan check",
            "peak RSS (MB)",
        ],
        results.replay.iter().map(|r| {
            [
                r.store.clone(),
                r.events.to_string(),
                r.todos.to_string(),
                show(&r.events_per_second, 0),
                show(&r.scan_floor_events_per_second, 0),
                show(&r.ratio_to_floor, 2),
                show(&r.seconds, 2),
                show(&r.rebuild_seconds, 2),
                show(&r.orphan_check_seconds, 2),
                show(&r.peak_rss_mb, 1),
            ]
        }),
    );
    for r in results.replay.iter().filter(|r| !r.failures.is_empty()) {
        let _ = writeln!(md, "\nreplay {} {} events failures: {}", r.store, r.events, r.failures.join("; "));
    }
    as_of_markdown(&mut md, results);
    verify_markdown(&mut md, results);
    segments_markdown(&mut md, results);
    faults_markdown(&mut md, results);
    live_markdown(&mut md, results);
    crate::offline::markdown(&mut md, results.offline.as_ref());
    crate::erasure::markdown(&mut md, &results.erasure);

    let _ = writeln!(md, "\n## The run\n");
    table(
        &mut md,
        &["section", "seconds", "other processes meanwhile", "outcome"],
        results.sections.iter().map(|s| {
            [
                s.name.clone(),
                format!("{:.0}", s.seconds),
                s.other_load.describe(),
                s.error.as_deref().map_or("ok".to_owned(), |e| format!("failed: {}", e.replace('|', "/"))),
            ]
        }),
    );
    let _ = writeln!(
        md,
        "\nRaw figures, every run: [`results.json`](results.json). Scratch files and logs: `bench/results/tmp/` (not committed)."
    );
    md
}

fn as_of_markdown(md: &mut String, results: &Results) {
    let _ = writeln!(
        md,
        "\n## 6. The list as it stood: `GET /item?asOf=`\n\n\
         One user with 1,000 todos and 10,000 events a minute apart (4 to 16 per todo: created, edits, every third \
         change completing or reopening it, every tenth todo deleted at the end), a hundred todos' events \
         interleaved at a time, written as sealed events straight into the store in time order. The list snapshots \
         are those the projector takes while such a history accrues: at each event that checks \
         (`projector::snapshots::checks`, one in 128 by event id), with that event's time as the projector's clock. \
         The list is asked for as it stood in the middle of the history (after the first half of the events) and \
         now (every event); `queries::past::list_as_of` reads the latest snapshot at or before the instant, then \
         the user timeline's events after it (from two minutes before the snapshot's instant), 1,000 per read, and \
         folds them. **Embedded**: the history written into `target/release/todo-local`'s SQLite file before it \
         starts (its projector catches up from the change feed before anything is timed), then `GET \
         /api/item?asOf=` over a kept-alive connection (token verified, as in section 3), and on a SQLite \
         connection of our own to the same file the `list-todos` handler in-process. **DynamoDB Local**: the same \
         history in fresh tables, the handler with a `DynamoStore` (`SnapshotsTable`, then the `UserTimeline` index \
         queried from the snapshot's margin to `:until`). The floor: the same reads (the snapshot, and the timeline \
         pages after it, events decoded) without the fold, called in turn with each way of asking, one call at a \
         time. *Events up to then* is what a fold from the start would read; *read from the timeline* is what the \
         floor read after the snapshot.\n"
    );
    table(
        md,
        &[
            "store",
            "asked through",
            "as of",
            "events up to then",
            "read from the timeline",
            "live todos then",
            "p50 (ms)",
            "p99 (ms)",
            "floor p50 (ms)",
            "floor p99 (ms)",
            "×floor p50",
            "calls per run",
        ],
        results.as_of.iter().map(|a| {
            [
                a.store.clone(),
                a.via.clone(),
                a.instant.clone(),
                a.events.to_string(),
                a.events_read.to_string(),
                a.live_todos.to_string(),
                show(&a.p50_ms, 2),
                show(&a.p99_ms, 2),
                show(&a.floor_p50_ms, 2),
                show(&a.floor_p99_ms, 2),
                show(&a.ratio_p50, 2),
                a.iterations_per_run.to_string(),
            ]
        }),
    );
}

fn verify_markdown(md: &mut String, results: &Results) {
    let _ = writeln!(
        md,
        "\n## 7. Verifying the hash chains\n\n\
         `audit::verify::verify` over the whole event table (every user, no digest, 1,000 items per read) with \
         every event sealed (each todo's events chained in version order, intact), each run in a fresh process: on \
         the embedded store `todo-bench verify-sqlite` over replay's seeded SQLite files (section 5's histories), \
         reporting its own `VmHWM`, then its floor: the same pages of stored records read and parsed, nothing \
         checked; on DynamoDB Local the `todo-audit verify` binary itself on fresh tables (exit status 0: intact), \
         its peak RSS from `wait4` in `todo-bench measure`, its time including the process start.\n"
    );
    table(
        md,
        &[
            "store",
            "events",
            "todos",
            "events/s",
            "floor events/s (read + parse only)",
            "×floor time",
            "seconds",
            "peak RSS (MB)",
        ],
        results.verify.iter().map(|v| {
            [
                v.store.clone(),
                v.events.to_string(),
                v.todos.to_string(),
                show(&v.events_per_second, 0),
                show(&v.scan_floor_events_per_second, 0),
                show(&v.ratio_to_floor, 2),
                show(&v.seconds, 2),
                show(&v.peak_rss_mb, 1),
            ]
        }),
    );
    for v in results.verify.iter().filter(|v| !v.failures.is_empty()) {
        let _ = writeln!(md, "\nverify {} {} events failures: {}", v.store, v.events, v.failures.join("; "));
    }
}

fn segments_markdown(md: &mut String, results: &Results) {
    let cores = results.machine.cores;
    let _ = writeln!(
        md,
        "\n## 8. Replay in parallel segments, and the stats projection's cost\n\n\
         **Replay in segments**: the read model rebuilt by N processes started together, process I replaying \
         segment I of N (`--segments N --segment I`: a parallel Scan segment on DynamoDB, the users whose partition \
         hash falls in it on SQLite), as a developer runs a large replay; events/s is every event over the wall \
         time from the first process's start to the last one's exit. One segment is a process without those \
         flags: section 5's replay, with its process start counted. **Embedded**: `todo-bench replay-sqlite \
         --segments N --segment I` over section 5's seeded SQLite file (the `replay` binary opens DynamoDB only), \
         its read model emptied before each run, each process reporting its own `VmHWM`; the processes share the \
         file and take turns at its write lock. **DynamoDB Local**: the `replay` binary itself, each under \
         `todo-bench measure`, on one seeded event table and a fresh read-model table per run. `×1 segment` divides \
         each run's events/s by the same run's with one segment; the counts take turns at going first. This \
         machine has {cores} cores, and DynamoDB Local (Java) shares them: more than {cores} segments cannot be \
         expected to go faster than {cores}.\n"
    );
    table(
        md,
        &[
            "store",
            "segments",
            "events",
            "events per segment",
            "events/s",
            "×1 segment",
            "seconds (first start -> last exit)",
            "peak RSS of the largest segment (MB)",
        ],
        results.segments.iter().map(|r| {
            let each: Vec<String> = r.segment_events.iter().map(u64::to_string).collect();
            [
                r.store.clone(),
                r.segments.to_string(),
                r.events.to_string(),
                if each.is_empty() { "n/a".to_owned() } else { each.join(" / ") },
                show(&r.events_per_second, 0),
                show(&r.speedup, 2),
                show(&r.seconds, 2),
                show(&r.largest_segment_peak_rss_mb, 1),
            ]
        }),
    );
    for r in results.segments.iter().filter(|r| !r.failures.is_empty()) {
        let _ = writeln!(md, "\nreplay {} in {} segments failures: {}", r.store, r.segments, r.failures.join("; "));
    }
    let section_5: Vec<String> = results
        .segments
        .iter()
        .filter(|r| r.segments == 1)
        .filter_map(|r| {
            let replay = results.replay.iter().find(|p| p.store == r.store && p.events == r.events)?;
            let timed = match replay.store.starts_with("embedded") {
                true => ", timed inside its process",
                false => "",
            };
            Some(format!("{} {} events/s{timed}", r.store, show(&replay.events_per_second, 0)))
        })
        .collect();
    if !section_5.is_empty() {
        let _ = writeln!(md, "\nSection 5's replay of the same event counts in this run: {}.", section_5.join("; "));
    }
    let _ = writeln!(
        md,
        "\n**The stats projection's cost**: section 5's projector (`Projector::handle_batch`, stream batches of {} \
         records) with both projections, as deployed: the read model and the stats \
         (`Projector::new(..).with_stats(..)`); and with the read model alone (`Projector::new`, as section 5 runs \
         it). Each run gives both the same generated histories, each on fresh tables (or a fresh SQLite file), \
         which goes first alternating from run to run. A stats row is written only when a todo's figures change: \
         in these histories at its creation, its completion and (every tenth todo) its deletion, 21 events in 50, \
         each one more conditional PutItem on DynamoDB; an edit writes none. The ratio divides each run's events/s \
         with both by the same run's with the read model alone.\n",
        crate::projection::BATCH_SIZE
    );
    table(
        md,
        &["store", "events per run", "both projections (events/s)", "todo projection alone (events/s)", "ratio"],
        results.stats_cost.iter().map(|c| {
            [
                c.store.clone(),
                c.events_per_run.to_string(),
                show(&c.both_events_per_second, 0),
                show(&c.todos_only_events_per_second, 0),
                show(&c.ratio, 2),
            ]
        }),
    );
}

/// One count of a fault run.
type FaultCount = fn(&FaultRun) -> u64;

fn faults_markdown(md: &mut String, results: &Results) {
    let Some(faults) = &results.faults else { return };
    let runs = &faults.runs;
    let _ = writeln!(
        md,
        "\n## 9. Under injected faults\n\n\
         The command handlers in-process with the SDK settings as deployed (3 attempts, 3 s per attempt, 10 s per \
         call), their DynamoDB client pointed at a fault-injecting proxy (`todo_testkit::faults`) in front of \
         DynamoDB Local, which meets requests with the cycle of `acceptance/tests/faults.rs`: of every 20, two \
         throttled (`400 ThrottlingException`), one `500 InternalServerError`, one connection dropped before the \
         request reaches the table, two dropped after the write, one answered only after the attempt timeout. {} \
         users with {} todos each, all at once: every todo created with a client-chosen id, renamed, completed, \
         every other one deleted; a client sends a command again on a 503 (after 20 ms, up to 30 times) and stops \
         a todo at a command not acknowledged. Then the event table is read directly: an acknowledged command's \
         event found twice is a duplicate, not found is missing. Then the projector as deployed (read model and \
         stats) drains the table's stream, read directly, and every read-model row is compared with the fold of its \
         events. {} runs, each on fresh tables behind a fresh proxy; *per run* is the median (lowest–highest run), \
         *all runs* the sum.\n",
        faults.users,
        faults.todos_per_user,
        runs.len()
    );
    let per_run = |pick: FaultCount| Spread::of(runs.iter().map(|r| pick(r) as f64));
    let total = |pick: FaultCount| runs.iter().map(pick).sum::<u64>().to_string();
    let rows: [(&str, FaultCount); 15] = [
        ("commands sent", |r| r.commands),
        ("DynamoDB requests through the proxy", |r| r.requests),
        ("injected: throttled", |r| r.throttled),
        ("injected: 500 InternalServerError", |r| r.server_errors),
        ("injected: dropped before the table", |r| r.dropped_before),
        ("injected: dropped after the write", |r| r.dropped_after),
        ("injected: answered after the attempt timeout", |r| r.delayed),
        ("answered 503 (sent again)", |r| r.answered_503),
        ("answered 500 (must be 0)", |r| r.answered_500),
        ("acknowledged commands", |r| r.acknowledged),
        ("not acknowledged (4xx, or 503 30 times)", |r| r.not_acknowledged),
        ("acknowledged, in the event table more than once (must be 0)", |r| r.duplicates),
        ("acknowledged, missing from the event table (must be 0)", |r| r.missing),
        ("events no acknowledged command accounts for", |r| r.stray_events),
        ("read-model rows unlike the fold of their events after the drain", |r| r.rows_differing),
    ];
    table(
        md,
        &["", "per run", "all runs"],
        rows.iter().map(|(name, pick)| [(*name).to_owned(), show(&per_run(*pick), 0), total(*pick)]).chain([
            [
                "seconds for the commands".to_owned(),
                show(&Spread::of(runs.iter().map(|r| r.seconds)), 1),
                format!("{:.1}", runs.iter().map(|r| r.seconds).sum::<f64>()),
            ],
            [
                "read model converged after the projector drained the stream".to_owned(),
                format!("{} of {} runs", runs.iter().filter(|r| r.converged).count(), runs.len()),
                match runs.iter().all(|r| r.converged) {
                    true => "yes".to_owned(),
                    false => "**no**".to_owned(),
                },
            ],
        ]),
    );
    for (index, run) in runs.iter().enumerate().filter(|(_, r)| !r.surprises.is_empty()) {
        let _ = writeln!(
            md,
            "\nrun {} unexpected answers: {}",
            index + 1,
            run.surprises.join("; ").replace('`', "'").replace('|', "/")
        );
    }
}

fn live_markdown(md: &mut String, results: &Results) {
    if results.live.is_empty() {
        return;
    }
    let m = &results.method;
    let _ = writeln!(
        md,
        "\n## 10. Live push: command acknowledged -> received by another session\n\n\
         `target/release/todo-local` on the embedded store, one user signed in (the dev sign-in's token), N \
         WebSocket clients of that user on `/live?token=` (tokio-tungstenite, each read by a task of its own that \
         stamps every message as it arrives), fresh for each run. Another session of the same user sends commands \
         over HTTP one at a time (a kept-alive connection): create, rename, complete, reopen, delete, then the next \
         todo, in turn; the next command leaves once every client has the previous one's push or 2 s have passed. \
         For each command: from its answer arriving (acknowledged) to the push with the todo's id and the version \
         the answer gave (a delete's 204 has none: one past the last) arriving at the *designated* client (the \
         first to connect), and at the last of the N (*all clients*; commands every client received). A push that \
         arrives before the answer counts as 0 ms: the other session had the change before the sender knew it \
         was acknowledged (the projector follows the SQLite change feed, woken on every append, so the push often \
         leaves before the answer does); *pushed before the answer* counts those. {} untimed commands, then {} timed, per run; {} runs, the \
         numbers of clients taking turns. *Messages per client* is the fewest and most pushes any client received \
         in a run (each should receive one per command: {}); a *miss* is a command a client had no push for \
         within 2 s. The bench's clients and the server share the machine's {} cores. The target is judged on the \
         designated client's p99 with 100 clients open, and no miss.\n",
        m.live_warmup_commands,
        m.live_commands_per_run,
        m.runs,
        m.live_warmup_commands + m.live_commands_per_run,
        results.machine.cores
    );
    table(
        md,
        &[
            "store",
            "clients",
            "designated p50 (ms)",
            "designated p99 (ms)",
            "designated max (ms)",
            "all clients p50 (ms)",
            "all clients p99 (ms)",
            "all clients max (ms)",
            "designated: pushed before the answer",
            "messages per client",
            "misses",
            "other processes (cores)",
        ],
        results.live.iter().map(|l| {
            [
                l.store.clone(),
                l.clients.to_string(),
                show(&l.designated_p50_ms, 2),
                show(&l.designated_p99_ms, 2),
                show(&l.designated_max_ms, 2),
                show(&l.all_p50_ms, 2),
                show(&l.all_p99_ms, 2),
                show(&l.all_max_ms, 2),
                format!("{} of {}", l.designated_before_ack, l.designated_samples),
                match l.fewest_messages == l.most_messages {
                    true => format!("{} of {}", l.fewest_messages, l.messages_expected_per_client),
                    false => format!("{}–{} of {}", l.fewest_messages, l.most_messages, l.messages_expected_per_client),
                },
                l.misses.to_string(),
                format!("{:.2}", l.other_cores),
            ]
        }),
    );
    for l in results.live.iter().filter(|l| l.other_messages > 0) {
        let _ = writeln!(
            md,
            "\n{} clients: {} messages that were not a todo's change (a client told to re-read).",
            l.clients, l.other_messages
        );
    }
}
