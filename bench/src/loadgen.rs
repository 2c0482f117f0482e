//! An open-loop HTTP/1.1 load generator: requests leave at a fixed rate whether or not earlier
//! ones have been answered, so a slow server shows as latency instead of slowing the load down.
//!
//! Each connection sends every `connections`-th request of the schedule. A request's latency
//! counts from its scheduled time when its connection was still busy with the previous one (the
//! wait is the server's doing), and from the moment it was sent otherwise (tokio's timer has a
//! millisecond's granularity: a late wake-up of ours is not the server's latency).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpStream;

use crate::stats::Samples;

/// One request to send.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    /// Path and query, e.g. `/api/item?limit=10`.
    pub path: String,
    pub token: String,
    pub body: Option<Bytes>,
}

impl Call {
    pub fn get(path: impl Into<String>, token: &str) -> Self {
        Self { method: Method::GET, path: path.into(), token: token.to_owned(), body: None }
    }

    pub fn json(method: Method, path: impl Into<String>, token: &str, body: &serde_json::Value) -> Self {
        Self { method, path: path.into(), token: token.to_owned(), body: Some(Bytes::from(body.to_string())) }
    }
}

/// A kept-alive HTTP/1.1 connection to the server under test.
pub struct Connection {
    address: SocketAddr,
    host: String,
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    pub async fn open(address: SocketAddr) -> anyhow::Result<Self> {
        let sender = handshake(address).await?;
        Ok(Self { address, host: address.to_string(), sender })
    }

    /// Sends one request and reads the whole answer; reconnects once if the connection was closed.
    pub async fn send(&mut self, call: &Call) -> anyhow::Result<(StatusCode, Bytes)> {
        if self.sender.ready().await.is_err() {
            self.sender = handshake(self.address).await?;
        }
        let mut request = Request::builder()
            .method(call.method.clone())
            .uri(call.path.as_str())
            .header(hyper::header::HOST, self.host.as_str())
            .header(hyper::header::AUTHORIZATION, format!("Bearer {}", call.token));
        if call.body.is_some() {
            request = request.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let request = request.body(Full::new(call.body.clone().unwrap_or_default())).context("building a request")?;
        let response = self.sender.send_request(request).await.context("sending a request")?;
        let status = response.status();
        let body = response.into_body().collect().await.context("reading a response")?.to_bytes();
        Ok((status, body))
    }
}

async fn handshake(address: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(address).await.with_context(|| format!("connecting to {address}"))?;
    stream.set_nodelay(true).context("TCP_NODELAY")?;
    let (sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.context("HTTP/1.1 handshake")?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// What one step at a fixed rate measured.
#[derive(Debug, Clone, Serialize)]
pub struct StepOutcome {
    pub rate_rps: f64,
    pub sent: u64,
    /// 2xx answers.
    pub ok: u64,
    /// Non-2xx answers and failed requests.
    pub errors: u64,
    /// Answers per second over the step.
    pub throughput_rps: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// One example of what went wrong, if anything did.
    pub first_error: Option<String>,
}

/// Sends `rate` requests per second for `duration` over `connections` connections; `call(i)` is
/// the i-th request. Nothing is measured during the first `warmup`.
pub async fn open_loop(
    address: SocketAddr,
    rate: f64,
    warmup: Duration,
    duration: Duration,
    connections: usize,
    call: Arc<dyn Fn(u64) -> Call + Send + Sync>,
) -> anyhow::Result<StepOutcome> {
    let connections = connections.max(1);
    let interval = Duration::from_secs_f64(1.0 / rate);
    let total = ((warmup + duration).as_secs_f64() * rate).round() as u64;
    let measured_from = (warmup.as_secs_f64() * rate).round() as u64;
    let start = Instant::now() + Duration::from_millis(20);
    let mut workers = Vec::with_capacity(connections);
    for lane in 0..connections as u64 {
        let mut connection = Connection::open(address).await?;
        let call = call.clone();
        workers.push(tokio::spawn(async move {
            let mut lane_result = Lane::default();
            let mut previous_done = start;
            let mut i = lane;
            while i < total {
                let scheduled = start + interval.mul_f64(i as f64);
                tokio::time::sleep_until(scheduled.into()).await;
                let sent = Instant::now();
                let request = call(i);
                let outcome = connection.send(&request).await;
                let done = Instant::now();
                // Busy with the previous request at the scheduled time: the wait counts.
                let from = if previous_done > scheduled { scheduled } else { sent };
                previous_done = done;
                if i >= measured_from {
                    lane_result.record(outcome, done - from, done);
                }
                i += connections as u64;
            }
            lane_result
        }));
    }
    let mut all = Lane::default();
    for worker in workers {
        all.merge(worker.await.context("a load worker panicked")?);
    }
    let measured_start = start + interval.mul_f64(measured_from as f64);
    let elapsed = all.last_done.map_or(duration, |last| last.saturating_duration_since(measured_start));
    let sent = total - measured_from;
    Ok(StepOutcome {
        rate_rps: rate,
        sent,
        ok: all.ok,
        errors: all.errors,
        throughput_rps: all.ok as f64 / elapsed.as_secs_f64().max(1e-9),
        p50_ms: all.latencies.p50(),
        p99_ms: all.latencies.p99(),
        max_ms: all.latencies.max(),
        first_error: all.first_error,
    })
}

#[derive(Default)]
struct Lane {
    latencies: Samples,
    ok: u64,
    errors: u64,
    last_done: Option<Instant>,
    first_error: Option<String>,
}

impl Lane {
    fn record(&mut self, outcome: anyhow::Result<(StatusCode, Bytes)>, latency: Duration, done: Instant) {
        self.last_done = Some(self.last_done.map_or(done, |last| last.max(done)));
        match outcome {
            Ok((status, _)) if status.is_success() => {
                self.ok += 1;
                self.latencies.push(latency);
            }
            Ok((status, body)) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| {
                    format!("{status}: {}", String::from_utf8_lossy(&body[..body.len().min(200)]))
                });
            }
            Err(error) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| format!("{error:#}"));
            }
        }
    }

    fn merge(&mut self, other: Lane) {
        for latency in other.latencies.values() {
            self.latencies.push_ms(*latency);
        }
        self.ok += other.ok;
        self.errors += other.errors;
        self.last_done = match (self.last_done, other.last_done) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}
