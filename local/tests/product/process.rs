//! Starting and stopping `todo-local` processes.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Running {
    child: Child,
    pub origin: String,
    pub data_dir: PathBuf,
    client: reqwest::Client,
    /// Its log lines (stderr), when started with [`Running::start_capturing_logs`].
    logs: Option<Arc<Mutex<Vec<String>>>>,
}

/// A response, read.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub etag: Option<String>,
    pub body: Value,
}

impl Running {
    /// Starts the binary on a free port with this data dir and extra arguments, and waits for its
    /// ready line.
    pub async fn start(data_dir: &Path, extra: &[&str]) -> Self {
        Self::start_with_env(data_dir, extra, &[]).await
    }

    pub async fn start_with_env(data_dir: &Path, extra: &[&str], env: &[(&str, String)]) -> Self {
        Self::spawn(data_dir, extra, env, false).await
    }

    /// Starts it keeping its log lines, for [`Running::logs`].
    pub async fn start_capturing_logs(data_dir: &Path) -> Self {
        Self::spawn(data_dir, &[], &[], true).await
    }

    /// The log lines written so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.as_ref().map(|logs| logs.lock().unwrap_or_else(|p| p.into_inner()).clone()).unwrap_or_default()
    }

    async fn spawn(data_dir: &Path, extra: &[&str], env: &[(&str, String)], capture_logs: bool) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_todo-local"))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .args(["--port", "0", "--data-dir"])
            .arg(data_dir)
            .args(["--www-dir", "/nonexistent-www"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(if capture_logs { Stdio::piped() } else { Stdio::inherit() })
            .kill_on_drop(true)
            .spawn()
            .expect("start todo-local");
        let logs = child.stderr.take().map(|stderr| {
            let logs = Arc::new(Mutex::new(Vec::new()));
            let sink = logs.clone();
            let mut lines = BufReader::new(stderr).lines();
            tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    eprintln!("{line}");
                    sink.lock().unwrap_or_else(|p| p.into_inner()).push(line);
                }
            });
            logs
        });
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("todo-local became ready within a minute")
            .expect("read stdout")
            .expect("a ready line");
        let origin = ready.strip_prefix("todo-local listening on ").expect("the ready line").trim().to_owned();
        // Keep draining stdout so the process never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { child, origin, data_dir: data_dir.to_owned(), client: reqwest::Client::new(), logs }
    }

    /// An ID token for this user from `todo-local token`, as a script would get one.
    pub async fn token(&self, email: &str) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_todo-local"))
            .args(["token", "--email", email, "--data-dir"])
            .arg(&self.data_dir)
            .output()
            .await
            .expect("run todo-local token");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
    }

    pub async fn call(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .client
            .request(method, format!("{}/api{path}", self.origin))
            .header("Authorization", format!("Bearer {token}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(version) = if_match {
            request = request.header("If-Match", version);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let etag = response.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = response.text().await.expect("body");
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON body") };
        Reply { status, etag, body }
    }

    /// Waits until the read model shows what a condition expects (the projector is asynchronous).
    pub async fn eventually(&self, token: &str, path: &str, condition: impl Fn(&Reply) -> bool) -> Reply {
        for _ in 0..200 {
            let reply = self.call(token, "GET", path, None, None).await;
            if condition(&reply) {
                return reply;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let last = self.call(token, "GET", path, None, None).await;
        panic!("{path} never reached the expected state; last: {last:?}")
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `kill -9`: no shutdown, no flush.
    pub async fn kill_hard(mut self) {
        self.child.kill().await.expect("SIGKILL");
    }
}
