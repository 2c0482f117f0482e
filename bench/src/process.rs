//! What the kernel knows about a process: its resident memory now (`VmRSS`), its peak (`VmHWM`, or
//! `ru_maxrss` once it has exited), and the CPU time the other processes of the machine use.

use std::collections::HashMap;
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// A field of `/proc/<pid>/status` in kB, e.g. `VmRSS`.
pub fn status_kb(pid: u32, field: &str) -> anyhow::Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    parse_status_kb(&status, field).with_context(|| format!("{field} in {path}"))
}

/// CPU time a process (all its threads) has used so far, in seconds.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let (_, _, ticks) = parse_stat(&stat).with_context(|| format!("parsing {path}"))?;
    // SAFETY: sysconf has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Ok(ticks as f64 / ticks_per_second)
}

/// This process's own peak resident memory, in kB.
pub fn own_peak_rss_kb() -> anyhow::Result<u64> {
    status_kb(std::process::id(), "VmHWM")
}

fn parse_status_kb(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.split(':').next() == Some(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A child process that is killed (and reaped) when this is dropped.
pub struct Killed(pub std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How a measured child process ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub wall: Duration,
    /// Its peak resident memory (`ru_maxrss`), in kB.
    pub max_rss_kb: u64,
}

/// What `todo-bench measure` reports of the command it ran.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Measured {
    /// `None` when a signal ended it.
    pub exit_code: Option<i32>,
    pub wall_seconds: f64,
    pub max_rss_kb: u64,
}

impl From<&Finished> for Measured {
    fn from(finished: &Finished) -> Self {
        Self {
            exit_code: finished.status.code(),
            wall_seconds: finished.wall.as_secs_f64(),
            max_rss_kb: finished.max_rss_kb,
        }
    }
}

/// Runs a command to its end (blocking), timing it and reading its peak memory from `wait4`.
/// The peak is at least the caller's own resident memory when it spawned the command: to measure
/// a small program from a large process, run it under `todo-bench measure`.
pub fn run_measured(command: &mut Command) -> anyhow::Result<Finished> {
    use std::os::unix::process::ExitStatusExt as _;
    let started = Instant::now();
    let child = command.spawn().with_context(|| format!("starting {command:?}"))?;
    let pid = libc::pid_t::try_from(child.id()).context("pid out of range")?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value, and wait4 only writes into the two locals.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet reaped (the `Child` handle is never waited on).
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if reaped != pid {
        bail!("wait4 on {pid} failed: {}", std::io::Error::last_os_error());
    }
    Ok(Finished {
        status: ExitStatus::from_raw(status),
        wall: started.elapsed(),
        max_rss_kb: u64::try_from(usage.ru_maxrss).unwrap_or_default(),
    })
}

/// CPU time of every process at one moment.
#[derive(Debug, Clone, Default)]
struct CpuSnapshot {
    /// pid -> (parent pid, command name, CPU ticks used so far)
    processes: HashMap<u32, (u32, String, u64)>,
}

impl CpuSnapshot {
    fn take() -> Self {
        let mut processes = HashMap::new();
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for entry in entries.flatten() {
                let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else {
                    continue;
                };
                if let Some(stat) =
                    std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().as_deref().and_then(parse_stat)
                {
                    processes.insert(pid, stat);
                }
            }
        }
        Self { processes }
    }

    /// CPU seconds used since `earlier`, by command name, by processes that are not this one or
    /// its descendants. A process that started meanwhile counts all it used.
    fn others_since(&self, earlier: &CpuSnapshot) -> HashMap<String, f64> {
        let ours = self.descendants_of(std::process::id());
        // SAFETY: sysconf has no preconditions.
        let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        let mut by_name: HashMap<String, f64> = HashMap::new();
        for (pid, (_, name, ticks)) in &self.processes {
            if ours.contains(pid) {
                continue;
            }
            let before = earlier.processes.get(pid).map_or(0, |(_, _, t)| *t);
            let used = ticks.saturating_sub(before) as f64 / ticks_per_second;
            if used > 0.0 {
                *by_name.entry(name.clone()).or_default() += used;
            }
        }
        by_name
    }

    fn descendants_of(&self, root: u32) -> std::collections::HashSet<u32> {
        let mut ours = std::collections::HashSet::from([root]);
        loop {
            let before = ours.len();
            for (pid, (parent, _, _)) in &self.processes {
                if ours.contains(parent) {
                    ours.insert(*pid);
                }
            }
            if ours.len() == before {
                return ours;
            }
        }
    }
}

/// Samples every process's CPU time twice a second in a thread of its own, adding up what the
/// processes that are not ours use: how busy the rest of the machine is (other engineers'
/// compiles, ...). Short-lived processes are caught too, to within half a second of their life.
pub struct BusyMeter {
    totals: Arc<Mutex<HashMap<String, f64>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The meter's totals at one moment.
#[derive(Debug, Clone)]
pub struct BusyReading {
    at: Instant,
    totals: HashMap<String, f64>,
}

impl BusyMeter {
    pub fn start() -> Self {
        let totals: Arc<Mutex<HashMap<String, f64>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (totals, stop) = (totals.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut previous = CpuSnapshot::take();
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(500));
                    let now = CpuSnapshot::take();
                    let used = now.others_since(&previous);
                    let mut totals = totals.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    for (name, seconds) in used {
                        *totals.entry(name).or_default() += seconds;
                    }
                    previous = now;
                }
            })
        };
        Self { totals, stop, thread: Some(thread) }
    }

    pub fn reading(&self) -> BusyReading {
        let totals = self.totals.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        BusyReading { at: Instant::now(), totals }
    }
}

impl Drop for BusyMeter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl BusyReading {
    /// Cores the other processes used on average between `earlier` and this reading.
    pub fn since(&self, earlier: &BusyReading) -> OtherLoad {
        let seconds = self.at.duration_since(earlier.at).as_secs_f64();
        if seconds <= 0.0 {
            return OtherLoad::default();
        }
        let mut busiest: Vec<(String, f64)> = self
            .totals
            .iter()
            .map(|(name, total)| (name.clone(), (total - earlier.totals.get(name).unwrap_or(&0.0)) / seconds))
            .filter(|(_, cores)| *cores > 0.0)
            .collect();
        busiest.sort_by(|a, b| b.1.total_cmp(&a.1));
        let cores = busiest.iter().map(|(_, cores)| cores).sum();
        busiest.truncate(3);
        OtherLoad { cores, busiest }
    }
}

/// What the rest of the machine used while we measured.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct OtherLoad {
    /// Average cores used by other processes (the machine has 2).
    pub cores: f64,
    /// The busiest other commands and the cores each used.
    pub busiest: Vec<(String, f64)>,
}

impl OtherLoad {
    pub fn describe(&self) -> String {
        if self.busiest.is_empty() {
            return format!("{:.2} cores", self.cores);
        }
        let names: Vec<String> = self.busiest.iter().map(|(name, cores)| format!("{name} {cores:.2}")).collect();
        format!("{:.2} cores ({})", self.cores, names.join(", "))
    }
}

/// `(ppid, comm, utime + stime)` from `/proc/<pid>/stat`.
fn parse_stat(stat: &str) -> Option<(u32, String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = stat.get(close + 2..)?.split_whitespace().collect();
    // After the name: state(0) ppid(1) ... utime(11) stime(12).
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((ppid, name, utime + stime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_fields_and_stat_lines() {
        let status = "Name:\tcat\nVmHWM:\t    1234 kB\nVmRSS:\t     987 kB\n";
        assert_eq!(parse_status_kb(status, "VmRSS"), Some(987));
        assert_eq!(parse_status_kb(status, "VmHWM"), Some(1234));
        assert_eq!(parse_status_kb(status, "VmSwap"), None);
        let stat = "42 (my (odd) name) S 7 42 42 0 -1 4194560 100 0 0 0 15 5 0 0 20 0 1 0 100 0 0";
        assert_eq!(parse_stat(stat), Some((7, "my (odd) name".to_owned(), 20)));
    }

    #[test]
    fn own_peak_memory_is_readable() {
        assert!(own_peak_rss_kb().unwrap() > 0);
    }
}
