//! The SPA offline: how soon a reload with no network shows a usable list. `todo-local` (release
//! build, embedded store) serves `www/dist`; a Node script (`www/e2e/bench/offline-reload.mjs`,
//! Playwright driving Debian's Chromium) signs up, creates the user's to-dos, opens the list once
//! online (the service worker installs, the list is kept in IndexedDB), then reloads with the
//! network off and times, in the page, the navigation's start -> the first to-do of the list in
//! the DOM ("first contentful list"), for each of [`RUNS`] reloads.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};

use crate::stack::{LocalStack, Store};
use crate::stats::Samples;
use crate::{Progress, Settings};

/// Reloads timed: the "p50 over 10 runs", in a full run and a quick one alike (they are quick).
pub const RUNS: usize = 10;
/// The user's to-dos, every one in the list the reload shows.
pub const TODOS: usize = 50;
pub const TARGET_MS: f64 = 500.0;

#[derive(Debug, Clone, Serialize)]
pub struct OfflineResult {
    pub runs: usize,
    pub todos: usize,
    /// Every reload's document came from the service worker (none from the network).
    pub from_service_worker: bool,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub min_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub samples_ms: Vec<f64>,
    /// Cores the rest of the machine used meanwhile.
    pub other_cores: f64,
}

/// What the script prints.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScriptOutput {
    from_service_worker: bool,
    samples_ms: Vec<f64>,
}

fn www_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../www")
}

pub async fn measure(settings: &Settings, progress: &Progress) -> anyhow::Result<Option<OfflineResult>> {
    let www = www_dir();
    let dist = www.join("dist");
    if !dist.join("sw.js").exists() {
        bail!("{} has no built SPA with its service worker: run `make www-build` first", dist.display());
    }
    // The stack serves `<data dir>/www`: a copy of the built SPA.
    let data_dir = settings.scratch.join("offline");
    if data_dir.exists() {
        std::fs::remove_dir_all(&data_dir).with_context(|| format!("clearing {}", data_dir.display()))?;
    }
    copy_dir(&dist, &data_dir.join("www"))?;
    let stack = LocalStack::start_keeping(
        &settings.binary("todo-local"),
        &data_dir,
        &Store::Embedded,
        &settings.scratch.join("offline-todo-local.log"),
    )
    .await?;
    progress.say(&format!("todo-local on {}: {TODOS} to-dos, {RUNS} offline reloads in Chromium", stack.address));

    let before = progress.busy();
    let mut script = std::process::Command::new("node");
    script
        .arg("e2e/bench/offline-reload.mjs")
        .args(["--url", &format!("http://{}", stack.address)])
        .args(["--runs", &RUNS.to_string(), "--todos", &TODOS.to_string()])
        .current_dir(&www)
        .stdin(Stdio::null());
    let output = tokio::task::spawn_blocking(move || script.output())
        .await
        .context("running the offline reload script")?
        .context("running node e2e/bench/offline-reload.mjs (make www-deps chromium)")?;
    let other_cores = progress.busy().since(&before).cores;
    drop(stack);
    if !output.status.success() {
        bail!("the offline reload script failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line =
        stdout.lines().rev().find(|line| line.starts_with('{')).context("no JSON from the offline reload script")?;
    let script: ScriptOutput = serde_json::from_str(line).with_context(|| format!("reading {line}"))?;

    let mut samples = Samples::with_capacity(script.samples_ms.len());
    for &ms in &script.samples_ms {
        samples.push_ms(ms);
    }
    let result = OfflineResult {
        runs: script.samples_ms.len(),
        todos: TODOS,
        from_service_worker: script.from_service_worker,
        p50_ms: samples.p50(),
        p90_ms: samples.percentile(90.0),
        min_ms: samples.percentile(0.0),
        max_ms: samples.percentile(100.0),
        samples_ms: script.samples_ms,
        other_cores,
    };
    progress.say(&format!(
        "offline reload -> first contentful list: p50 {} ms, p90 {} ms (from the service worker: {})",
        fmt(result.p50_ms),
        fmt(result.p90_ms),
        result.from_service_worker
    ));
    Ok(Some(result))
}

fn fmt(ms: Option<f64>) -> String {
    ms.map_or("n/a".into(), |ms| format!("{ms:.0}"))
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).with_context(|| format!("copying to {}", target.display()))?;
        }
    }
    Ok(())
}

/// The target: offline reload -> first contentful list, p50, with every document from the service worker.
pub fn target(result: Option<&OfflineResult>) -> crate::report::Target {
    crate::report::Target {
        name: "offline reload -> first contentful list, p50 over 10 runs".into(),
        target: format!("<= {TARGET_MS:.0} ms"),
        measured: result.map_or("n/a".into(), |r| {
            format!(
                "p50 {} ms, p90 {} ms, {} to-dos, shell from the service worker: {}",
                fmt(r.p50_ms),
                fmt(r.p90_ms),
                r.todos,
                r.from_service_worker
            )
        }),
        met: result.and_then(|r| r.p50_ms.map(|p50| p50 <= TARGET_MS && r.from_service_worker)),
    }
}

/// Its section of results.md.
pub fn markdown(md: &mut String, result: Option<&OfflineResult>) {
    let Some(r) = result else { return };
    md.push_str(&format!(
        "\n## 11. The SPA offline: reload -> first contentful list\n\n\
         `todo-local` (release, embedded store) serving `www/dist`; `www/e2e/bench/offline-reload.mjs` \
         (Playwright, Debian's Chromium, headless) signs up, creates {} to-dos, opens the list once online \
         (the service worker installs and precaches the shell and `/config.json`; the list is kept in \
         IndexedDB), then reloads {} times with the network off (`context.setOffline`). Each figure is \
         measured in the page: navigation start -> the list's first item in the DOM (a MutationObserver \
         installed before any script). Every document came from the service worker: {}.\n\n\
         | p50 ms | p90 ms | min ms | max ms | other processes (cores) |\n| --- | --- | --- | --- | --- |\n\
         | {} | {} | {} | {} | {:.2} |\n",
        r.todos,
        r.runs,
        r.from_service_worker,
        fmt(r.p50_ms),
        fmt(r.p90_ms),
        fmt(r.min_ms),
        fmt(r.max_ms),
        r.other_cores
    ));
}
