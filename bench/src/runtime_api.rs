//! A Lambda Runtime API emulator on loopback: the `2018-06-01` protocol a custom runtime
//! (`provided.al2023`) speaks, enough to run the real binaries as Lambda would.
//!
//! `GET /runtime/invocation/next` long-polls for the next queued event and hands it over with
//! Lambda's headers; `POST /runtime/invocation/{id}/response` (or `/error`) completes it;
//! `POST /runtime/init/error` reports a failed start. The emulator records when each request
//! arrived, which is what the cold-start figures are made of.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};
use tokio::task::{JoinHandle, JoinSet};

const PREFIX: &str = "/2018-06-01/runtime";
/// How long an invocation may run: Lambda's deadline header.
const TIMEOUT: Duration = Duration::from_secs(30);

/// How an invocation ended.
#[derive(Debug)]
pub struct Completion {
    /// When the function's `response` (or `error`) request arrived.
    pub at: Instant,
    /// `false` when the function reported an invocation error.
    pub ok: bool,
    pub body: Bytes,
}

struct Queued {
    id: String,
    payload: Bytes,
}

struct Shared {
    function_arn: String,
    pending: Mutex<VecDeque<Queued>>,
    queued: Notify,
    waiting: Mutex<HashMap<String, oneshot::Sender<Completion>>>,
    first_next: OnceLock<Instant>,
    init_error: Mutex<Option<String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One emulated execution environment's Runtime API; stops serving when dropped.
pub struct RuntimeApi {
    address: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start(function_name: &str) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.context("binding the Runtime API")?;
        let address = listener.local_addr().context("Runtime API address")?;
        let shared = Arc::new(Shared {
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}"),
            pending: Mutex::new(VecDeque::new()),
            queued: Notify::new(),
            waiting: Mutex::new(HashMap::new()),
            first_next: OnceLock::new(),
            init_error: Mutex::new(None),
        });
        let server = tokio::spawn(serve(listener, shared.clone()));
        Ok(Self { address, shared, server })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn host_port(&self) -> String {
        self.address.to_string()
    }

    /// Queues an event; the receiver completes when the function has answered it.
    pub fn invoke(&self, payload: impl Into<Bytes>) -> oneshot::Receiver<Completion> {
        let id = uuid::Uuid::new_v4().to_string();
        let (sender, receiver) = oneshot::channel();
        lock(&self.shared.waiting).insert(id.clone(), sender);
        lock(&self.shared.pending).push_back(Queued { id, payload: payload.into() });
        self.shared.queued.notify_one();
        receiver
    }

    /// Queues an event and waits for its answer, at most `limit`.
    pub async fn invoke_and_wait(&self, payload: impl Into<Bytes>, limit: Duration) -> anyhow::Result<Completion> {
        let answer = self.invoke(payload);
        self.wait(answer, limit).await
    }

    pub async fn wait(&self, answer: oneshot::Receiver<Completion>, limit: Duration) -> anyhow::Result<Completion> {
        match tokio::time::timeout(limit, answer).await {
            Ok(Ok(completion)) => Ok(completion),
            Ok(Err(_)) => anyhow::bail!("the Runtime API emulator stopped"),
            Err(_) => match lock(&self.shared.init_error).clone() {
                Some(error) => anyhow::bail!("the function failed to start: {error}"),
                None => anyhow::bail!("no answer within {limit:?}"),
            },
        }
    }

    /// When the function first asked for an invocation: the end of its init phase.
    pub fn ready_at(&self) -> Option<Instant> {
        self.shared.first_next.get().copied()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    // Dropping the set (when the server task is aborted) aborts every connection, long polls included.
    let mut connections = JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| handle(shared.clone(), request));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
        while connections.try_join_next().is_some() {}
    }
}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let arrived = Instant::now();
    let path = request.uri().path().to_owned();
    let Some(route) = path.strip_prefix(PREFIX) else {
        return Ok(reply(StatusCode::NOT_FOUND, "{\"errorMessage\":\"unknown path\"}"));
    };
    match (request.method(), route) {
        (&Method::GET, "/invocation/next") => {
            let _ = shared.first_next.set(arrived);
            Ok(next_invocation(&shared).await)
        }
        (&Method::POST, "/init/error") => {
            let body = read_body(request).await;
            *lock(&shared.init_error) = Some(String::from_utf8_lossy(&body).into_owned());
            Ok(reply(StatusCode::ACCEPTED, "{\"status\":\"OK\"}"))
        }
        (&Method::POST, route) => {
            let Some(rest) = route.strip_prefix("/invocation/") else {
                return Ok(reply(StatusCode::NOT_FOUND, "{\"errorMessage\":\"unknown path\"}"));
            };
            let (id, ok) = match (rest.strip_suffix("/response"), rest.strip_suffix("/error")) {
                (Some(id), _) => (id.to_owned(), true),
                (_, Some(id)) => (id.to_owned(), false),
                _ => return Ok(reply(StatusCode::NOT_FOUND, "{\"errorMessage\":\"unknown path\"}")),
            };
            let body = read_body(request).await;
            match lock(&shared.waiting).remove(&id) {
                Some(waiter) => {
                    let _ = waiter.send(Completion { at: arrived, ok, body });
                    Ok(reply(StatusCode::ACCEPTED, "{\"status\":\"OK\"}"))
                }
                None => Ok(reply(StatusCode::BAD_REQUEST, "{\"errorMessage\":\"unknown request id\"}")),
            }
        }
        _ => Ok(reply(StatusCode::METHOD_NOT_ALLOWED, "{\"errorMessage\":\"method not allowed\"}")),
    }
}

async fn next_invocation(shared: &Shared) -> Response<Full<Bytes>> {
    let queued = loop {
        let next = lock(&shared.pending).pop_front();
        match next {
            Some(queued) => break queued,
            // notify_one keeps a permit when nobody waits yet, so an event queued between the
            // check and the wait is not missed.
            None => shared.queued.notified().await,
        }
    };
    let deadline = SystemTime::now().checked_add(TIMEOUT).unwrap_or(UNIX_EPOCH);
    let deadline_ms = deadline.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    let hex = queued.id.replace('-', "");
    let trace = format!("Root=1-{:08x}-{};Parent={};Sampled=0", deadline_ms / 1000, &hex[..24], &hex[8..24]);
    let mut response = Response::new(Full::new(queued.payload));
    let headers = response.headers_mut();
    let pairs = [
        ("lambda-runtime-aws-request-id", queued.id.as_str()),
        ("lambda-runtime-deadline-ms", &deadline_ms.to_string()),
        ("lambda-runtime-invoked-function-arn", shared.function_arn.as_str()),
        ("lambda-runtime-trace-id", &trace),
        ("content-type", "application/json"),
    ];
    for (name, value) in pairs {
        if let Ok(value) = hyper::header::HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    response
}

async fn read_body(request: Request<Incoming>) -> Bytes {
    request.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default()
}

fn reply(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
}
