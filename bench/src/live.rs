//! Live push latency on the local stack: how soon a command reaches the user's other sessions.
//! `todo-local` (release build, embedded store) with N WebSocket clients of one user on `/live`;
//! another session of that user sends commands over HTTP one at a time, and for each command we
//! time its answer arriving (acknowledged) to the matching push (the todo's id and version)
//! arriving at the first client (the designated one), and at the last of the N.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures_util::StreamExt as _;
use hyper::Method;
use serde::Serialize;
use serde_json::{Value, json};
use todo_platform::live::LiveMessage;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::loadgen::{Call, Connection};
use crate::stack::{LocalStack, Store, fmt_ms};
use crate::stats::{Samples, Spread};
use crate::{Progress, Settings};

/// How long a push may take to reach a client before it counts as missed.
const LIMIT: Duration = Duration::from_secs(2);
/// After the last command: how long a client may still take to deliver anything it had left,
/// before what it received in all is counted.
const GRACE: Duration = Duration::from_millis(200);

/// One number of clients, over repeated runs.
#[derive(Debug, Clone, Serialize)]
pub struct LiveResult {
    pub store: String,
    /// The user's WebSocket clients, all open while the commands are sent.
    pub clients: usize,
    pub warmup_commands: usize,
    pub timed_commands_per_run: usize,
    /// Acknowledged -> received by the designated client (the first to connect).
    pub designated_p50_ms: Option<Spread>,
    pub designated_p99_ms: Option<Spread>,
    pub designated_max_ms: Option<Spread>,
    /// Acknowledged -> received by the last of the clients (commands every client received).
    pub all_p50_ms: Option<Spread>,
    pub all_p99_ms: Option<Spread>,
    pub all_max_ms: Option<Spread>,
    /// Pushes each client should receive in a run: one per command, the warm-up's included.
    pub messages_expected_per_client: usize,
    /// The fewest and the most pushes any client received in a run, over every run.
    pub fewest_messages: u64,
    pub most_messages: u64,
    /// Messages that were not a todo's change (a client told to re-read), over every run.
    pub other_messages: u64,
    /// (command, client) pairs whose push did not arrive within 2 s, over every run.
    pub misses: u64,
    /// Timed pushes the designated client received, and of them those that arrived before the
    /// command's answer reached its sender (counted as 0 ms), over every run.
    pub designated_samples: u64,
    pub designated_before_ack: u64,
    /// Cores the rest of the machine used meanwhile.
    pub other_cores: f64,
}

/// What one run of one number of clients measured.
#[derive(Default)]
struct Run {
    designated: Samples,
    all: Samples,
    fewest: u64,
    most: u64,
    other_messages: u64,
    misses: u64,
    before_ack: u64,
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What a client received, stamped as it arrived.
enum Push {
    Change { id: String, version: u64, at: Instant },
    Other,
}

/// One WebSocket client of the user: a task reads its socket and hands on every message.
struct Client {
    pushes: mpsc::UnboundedReceiver<Push>,
    reader: tokio::task::AbortHandle,
    changes: u64,
    others: u64,
    /// It missed a push: from then on it is only checked for what has already arrived, so that
    /// a silent client does not hold every command for [`LIMIT`].
    missed: bool,
}

impl Drop for Client {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl Client {
    async fn connect(stack: &LocalStack, token: &str) -> anyhow::Result<Self> {
        let url = format!("ws://{}/live?token={token}", stack.address);
        let (socket, _) = tokio_tungstenite::connect_async(url).await.context("opening a /live socket")?;
        let (sender, pushes) = mpsc::unbounded_channel();
        let reader = tokio::spawn(read(socket, sender)).abort_handle();
        Ok(Self { pushes, reader, changes: 0, others: 0, missed: false })
    }

    /// When the push of `change` arrived, waiting for it until `deadline`; `None`: missed.
    /// Anything else received on the way is counted and passed over.
    async fn arrival(&mut self, change: &Changed, deadline: Instant) -> Option<Instant> {
        loop {
            let push = match self.missed {
                true => self.pushes.try_recv().ok()?,
                false => tokio::time::timeout_at(deadline.into(), self.pushes.recv()).await.ok()??,
            };
            match push {
                Push::Change { id, version, at } => {
                    self.changes += 1;
                    if id == change.id && version == change.version {
                        return Some(at);
                    }
                }
                Push::Other => self.others += 1,
            }
        }
    }

    /// Counts whatever is left.
    fn drain(&mut self) {
        while let Ok(push) = self.pushes.try_recv() {
            match push {
                Push::Change { .. } => self.changes += 1,
                Push::Other => self.others += 1,
            }
        }
    }
}

/// Reads the socket until it closes, stamping each message as it arrives.
async fn read(mut socket: Socket, pushes: mpsc::UnboundedSender<Push>) {
    while let Some(Ok(frame)) = socket.next().await {
        let at = Instant::now();
        let Message::Text(text) = frame else { continue };
        let push = match serde_json::from_str::<LiveMessage>(&text) {
            Ok(message) => Push::Change { id: message.id.to_string(), version: message.version, at },
            Err(_) => Push::Other,
        };
        if pushes.send(push).is_err() {
            break;
        }
    }
}

/// The commands, in turn: one todo's life, then the next todo's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Create,
    Rename,
    Complete,
    Reopen,
    Delete,
}

const CYCLE: [Step; 5] = [Step::Create, Step::Rename, Step::Complete, Step::Reopen, Step::Delete];

/// The todo a command changed, and its version after the change.
#[derive(Debug, Clone)]
struct Changed {
    id: String,
    version: u64,
}

/// Sends the `n`-th command; what it changed, and when its answer arrived.
async fn command(
    connection: &mut Connection,
    token: &str,
    n: usize,
    todo: Option<&Changed>,
) -> anyhow::Result<(Changed, Instant)> {
    let step = CYCLE[n % CYCLE.len()];
    let item = |todo: Option<&Changed>| {
        todo.map(|todo| format!("/api/item/{}", todo.id)).with_context(|| format!("{step:?} without a todo"))
    };
    let call = match step {
        Step::Create => Call::json(Method::POST, "/api/item", token, &json!({ "title": format!("Live {n}") })),
        Step::Rename => Call::json(Method::PUT, item(todo)?, token, &json!({ "title": format!("Live {n}, renamed") })),
        Step::Complete => Call { method: Method::POST, ..Call::get(format!("{}/done", item(todo)?), token) },
        Step::Reopen => Call::json(Method::PUT, item(todo)?, token, &json!({ "completed": false })),
        Step::Delete => Call { method: Method::DELETE, ..Call::get(item(todo)?, token) },
    };
    let (status, body) = connection.send(&call).await?;
    let acknowledged = Instant::now();
    if !status.is_success() {
        bail!("{step:?}: {status} {}", String::from_utf8_lossy(&body));
    }
    let changed = match (step, todo) {
        // A delete answers 204 without a body: it appended one event after the last.
        (Step::Delete, Some(todo)) => Changed { id: todo.id.clone(), version: todo.version + 1 },
        _ => {
            let answer: Value = serde_json::from_slice(&body).with_context(|| format!("{step:?}'s answer"))?;
            Changed {
                id: answer["id"].as_str().context("the todo's id")?.to_owned(),
                version: answer["version"].as_u64().context("the todo's version")?,
            }
        }
    };
    Ok((changed, acknowledged))
}

/// One run: `clients` fresh clients, the warm-up, then the timed commands.
async fn one_run(settings: &Settings, stack: &LocalStack, token: &str, clients: usize) -> anyhow::Result<Run> {
    let mut sockets = Vec::with_capacity(clients);
    for _ in 0..clients {
        sockets.push(Client::connect(stack, token).await?);
    }
    let mut connection = Connection::open(stack.address).await?;
    let mut run = Run::default();
    let mut todo: Option<Changed> = None;
    let commands = settings.live_warmup + settings.live_commands;
    for n in 0..commands {
        let (changed, acknowledged) = command(&mut connection, token, n, todo.as_ref()).await?;
        let deadline = acknowledged + LIMIT;
        let (mut designated, mut last, mut missed) = (None, acknowledged, false);
        for (index, client) in sockets.iter_mut().enumerate() {
            match client.arrival(&changed, deadline).await {
                Some(at) => {
                    if index == 0 {
                        designated = Some(at);
                    }
                    last = last.max(at);
                }
                None => {
                    client.missed = true;
                    missed = true;
                    run.misses += 1;
                }
            }
        }
        if n >= settings.live_warmup {
            if let Some(at) = designated {
                run.designated.push(at.saturating_duration_since(acknowledged));
                run.before_ack += u64::from(at < acknowledged);
            }
            if !missed {
                run.all.push(last - acknowledged);
            }
        }
        todo = (CYCLE[n % CYCLE.len()] != Step::Delete).then_some(changed);
    }
    tokio::time::sleep(GRACE).await;
    for client in &mut sockets {
        client.drain();
    }
    run.fewest = sockets.iter().map(|c| c.changes).min().unwrap_or_default();
    run.most = sockets.iter().map(|c| c.changes).max().unwrap_or_default();
    run.other_messages = sockets.iter().map(|c| c.others).sum();
    Ok(run)
}

/// Every number of clients in `settings.live_clients`, `settings.runs` times, taking turns.
pub async fn measure(settings: &Settings, progress: &Progress) -> anyhow::Result<Vec<LiveResult>> {
    let store = Store::Embedded;
    let scratch = settings.scratch.join("live");
    std::fs::create_dir_all(&scratch).with_context(|| format!("creating {}", scratch.display()))?;
    let stack = LocalStack::start(
        &settings.binary("todo-local"),
        &scratch.join("data"),
        &store,
        &scratch.join("todo-local.log"),
    )
    .await?;
    progress.say(&format!("{}: todo-local on {}", store.label(), stack.address));
    let token = stack.token("live@bench.example.com").await?;

    let counts = &settings.live_clients;
    let mut runs: Vec<Vec<Run>> = counts.iter().map(|_| Vec::new()).collect();
    let busy = progress.busy();
    for round in 0..settings.runs {
        for (&clients, done) in counts.iter().zip(&mut runs) {
            let run = one_run(settings, &stack, &token, clients).await?;
            progress.say(&format!(
                "{clients} clients, run {}/{}: designated p50 {} ms, p99 {} ms; all p50 {} ms, p99 {} ms; {}–{} \
                 messages per client, {} misses",
                round + 1,
                settings.runs,
                fmt_ms(run.designated.p50()),
                fmt_ms(run.designated.p99()),
                fmt_ms(run.all.p50()),
                fmt_ms(run.all.p99()),
                run.fewest,
                run.most,
                run.misses
            ));
            done.push(run);
            // The closed sockets leave the hub before the next clients connect.
            tokio::time::sleep(GRACE).await;
        }
    }
    let other = progress.busy().since(&busy);
    Ok(counts
        .iter()
        .zip(runs)
        .map(|(&clients, runs)| LiveResult {
            store: store.label().to_owned(),
            clients,
            warmup_commands: settings.live_warmup,
            timed_commands_per_run: settings.live_commands,
            designated_p50_ms: Spread::of(runs.iter().filter_map(|r| r.designated.p50())),
            designated_p99_ms: Spread::of(runs.iter().filter_map(|r| r.designated.p99())),
            designated_max_ms: Spread::of(runs.iter().filter_map(|r| r.designated.max())),
            all_p50_ms: Spread::of(runs.iter().filter_map(|r| r.all.p50())),
            all_p99_ms: Spread::of(runs.iter().filter_map(|r| r.all.p99())),
            all_max_ms: Spread::of(runs.iter().filter_map(|r| r.all.max())),
            messages_expected_per_client: settings.live_warmup + settings.live_commands,
            fewest_messages: runs.iter().map(|r| r.fewest).min().unwrap_or_default(),
            most_messages: runs.iter().map(|r| r.most).max().unwrap_or_default(),
            other_messages: runs.iter().map(|r| r.other_messages).sum(),
            misses: runs.iter().map(|r| r.misses).sum(),
            designated_samples: runs.iter().map(|r| r.designated.len() as u64).sum(),
            designated_before_ack: runs.iter().map(|r| r.before_ack).sum(),
            other_cores: other.cores,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(version: u64) -> Changed {
        Changed { id: "a".into(), version }
    }

    #[tokio::test]
    async fn a_client_passes_over_other_messages_and_is_not_waited_for_once_it_missed_one() {
        let (sender, pushes) = mpsc::unbounded_channel();
        let reader = tokio::spawn(std::future::pending::<()>()).abort_handle();
        let mut client = Client { pushes, reader, changes: 0, others: 0, missed: false };
        let at = Instant::now();
        for push in [
            Push::Change { id: "a".into(), version: 1, at },
            Push::Other,
            Push::Change { id: "a".into(), version: 2, at },
        ] {
            sender.send(push).unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(1);
        assert_eq!(client.arrival(&change(2), deadline).await, Some(at));
        assert_eq!((client.changes, client.others), (2, 1));

        let deadline = Instant::now() + Duration::from_millis(20);
        assert_eq!(client.arrival(&change(3), deadline).await, None, "nothing came within the deadline");
        client.missed = true;
        let started = Instant::now();
        assert_eq!(client.arrival(&change(4), started + LIMIT).await, None);
        assert!(started.elapsed() < LIMIT, "a client that missed a push is only checked, not waited for");
        sender.send(Push::Change { id: "a".into(), version: 5, at }).unwrap();
        assert_eq!(client.arrival(&change(5), started + LIMIT).await, Some(at), "what has arrived still counts");
    }
}
