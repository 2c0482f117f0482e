//! A fault-injecting proxy in front of DynamoDB Local: throttling and server errors in DynamoDB's
//! own error shape, connections dropped before or after the request reached the table, and
//! answers delayed past the SDK's attempt timeout (so the write happened but the caller cannot
//! know). Point an SDK client's endpoint at [`FaultProxy::endpoint`].
//!
//! It speaks just enough HTTP/1.1 for the SDK's requests (a head, then a `Content-Length` body),
//! and decides each request's fate from a fixed cycle of [`Fault`]s, so that a run exercises every
//! fault whatever the timing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forwarded, answered.
    None,
    /// `400 ThrottlingException`, not forwarded.
    Throttle,
    /// `500 InternalServerError`, not forwarded.
    ServerError,
    /// The connection closes before the request is forwarded.
    DropBefore,
    /// Forwarded (the table changed), then the connection closes without an answer.
    DropAfter,
    /// Forwarded, answered only after this long (longer than the caller waits).
    DelayAfter(Duration),
}

/// The mix the fault-injection test and benchmark use: about one request in three meets a fault,
/// every kind in every 20, the late one answered past the SDK's attempt timeout as deployed.
pub fn mixed_cycle() -> Vec<Fault> {
    let late = Fault::DelayAfter(todo_platform::config::DYNAMODB_ATTEMPT_TIMEOUT + Duration::from_millis(300));
    use Fault::*;
    vec![
        Throttle,
        None,
        None,
        DropAfter,
        None,
        ServerError,
        None,
        None,
        late,
        None,
        Throttle,
        None,
        DropBefore,
        None,
        None,
        DropAfter,
        None,
        None,
        None,
        None,
    ]
}

/// How often each fault struck.
#[derive(Debug, Default)]
pub struct FaultCounts {
    pub requests: AtomicU64,
    pub throttled: AtomicU64,
    pub server_errors: AtomicU64,
    pub dropped_before: AtomicU64,
    pub dropped_after: AtomicU64,
    pub delayed: AtomicU64,
}

impl FaultCounts {
    pub fn injected(&self) -> u64 {
        [&self.throttled, &self.server_errors, &self.dropped_before, &self.dropped_after, &self.delayed]
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
}

pub struct FaultProxy {
    pub endpoint: String,
    pub counts: Arc<FaultCounts>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    /// Starts the proxy on a free port in front of `upstream` (`http://127.0.0.1:<port>`); request
    /// `n` meets `cycle[n % cycle.len()]`.
    pub async fn start(upstream: &str, cycle: Vec<Fault>) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.context("binding the fault proxy")?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let counts = Arc::new(FaultCounts::default());
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            cycle,
            next: AtomicUsize::new(0),
            counts: counts.clone(),
            client: reqwest::Client::new(),
        });
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    // A connection ends when the client or a fault closes it.
                    let _ = serve(stream, &shared).await;
                });
            }
        });
        Ok(Self { endpoint, counts, task })
    }
}

struct Shared {
    upstream: String,
    cycle: Vec<Fault>,
    next: AtomicUsize,
    counts: Arc<FaultCounts>,
    client: reqwest::Client,
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn serve(stream: TcpStream, shared: &Shared) -> anyhow::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    loop {
        let Some(request) = read_request(&mut reader).await? else { return Ok(()) };
        shared.counts.requests.fetch_add(1, Ordering::Relaxed);
        let fault = match shared.cycle.is_empty() {
            true => Fault::None,
            false => shared.cycle[shared.next.fetch_add(1, Ordering::Relaxed) % shared.cycle.len()],
        };
        let counts = &shared.counts;
        match fault {
            Fault::Throttle => {
                counts.throttled.fetch_add(1, Ordering::Relaxed);
                let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#;
                write_response(&mut writer, 400, &[], body.as_bytes()).await?;
                continue;
            }
            Fault::ServerError => {
                counts.server_errors.fetch_add(1, Ordering::Relaxed);
                let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}"#;
                write_response(&mut writer, 500, &[], body.as_bytes()).await?;
                continue;
            }
            Fault::DropBefore => {
                counts.dropped_before.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            _ => {}
        }
        let (status, headers, body) = forward(shared, request).await?;
        match fault {
            Fault::DropAfter => {
                counts.dropped_after.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            Fault::DelayAfter(delay) => {
                counts.delayed.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(delay).await;
            }
            _ => {}
        }
        write_response(&mut writer, status, &headers, &body).await?;
    }
}

async fn read_request(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> anyhow::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else { bail!("not an HTTP request: {line:?}") };
    let (method, path) = (method.to_owned(), path.to_owned());
    let mut headers = Vec::new();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).await?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else { bail!("a bad header: {header:?}") };
        let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().context("Content-Length")?;
        }
        headers.push((name, value));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some(Request { method, path, headers, body }))
}

async fn forward(shared: &Shared, request: Request) -> anyhow::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
    let method = reqwest::Method::from_bytes(request.method.as_bytes())?;
    let mut upstream = shared.client.request(method, format!("{}{}", shared.upstream, request.path));
    for (name, value) in &request.headers {
        if !["host", "content-length", "connection"].iter().any(|h| name.eq_ignore_ascii_case(h)) {
            upstream = upstream.header(name, value);
        }
    }
    let response = upstream.body(request.body).send().await.context("forwarding to DynamoDB Local")?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| !["content-length", "transfer-encoding", "connection"].contains(&name.as_str()))
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect();
    let body = response.bytes().await?.to_vec();
    Ok((status, headers, body))
}

async fn write_response(
    writer: &mut tokio::net::tcp::OwnedWriteHalf,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> anyhow::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", if status < 400 { "OK" } else { "Error" });
    let has_type = headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
    if !has_type {
        head.push_str("content-type: application/x-amz-json-1.0\r\n");
    }
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("x-amzn-requestid")) {
        head.push_str(&format!("x-amzn-requestid: {}\r\n", uuid::Uuid::new_v4()));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    writer.write_all(head.as_bytes()).await?;
    writer.write_all(body).await?;
    writer.flush().await?;
    Ok(())
}
