//! Live updates on the local stack: `GET /live?token=<ID token>` opens a WebSocket on which the
//! caller receives every change to their todos as it lands in the read model (the message of
//! [`todo_platform::live`]). On AWS the WebSocket API and the `notifier` do this job; in DynamoDB
//! mode the notifier does it here too (see [`LiveHub`]).
//!
//! The token is checked by the API's own authorizer before the upgrade: a missing or refused token
//! is a plain 401, and no socket is opened. Each connection has a bounded queue. The projector only
//! ever enqueues (it never waits for a client); a connection whose queue is full is told to re-read
//! ([`REREAD_MESSAGE`]) and closed, so a slow or dead client slows neither the projector nor the
//! user's other sessions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use events_schema::{Timestamp, Todo, UserId};
use live::push::{PushError, Pusher};
use serde_json::json;
use todo_platform::live::{LiveMessage, LiveSink, REREAD_MESSAGE};
use todo_platform::store::{Connection, ConnectionId, ConnectionStore, ErasureFence, StoreError, UserData, UserEraser};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument as _;
use uuid::Uuid;

use crate::auth::verify::TokenVerifier;
use crate::logging::RequestId;

/// Where the socket is served.
pub const LIVE_PATH: &str = "/live";
/// How many messages may wait for one connection before it is dropped as fallen behind.
pub const QUEUE_CAPACITY: usize = 64;
/// How long a dropped connection's last words (re-read, close) may take before the socket is cut.
const FAREWELL_TIMEOUT: Duration = Duration::from_secs(1);
/// The close code of a connection that fell behind: 1013, "try again later".
const FELL_BEHIND_CODE: u16 = 1013;
/// Clients have nothing to say on the socket; anything bigger than this is not one of ours.
const MAX_CLIENT_MESSAGE_BYTES: usize = 4096;

/// Every open connection, by user.
///
/// Two paths feed it. Embedded, it is the projector's [`LiveSink`]: each row the projector writes
/// goes to the user's sessions. On DynamoDB (`--dynamodb-endpoint`), the path is the one on AWS: the
/// hub records each connection in the connections table ([`LiveHub::record_in`]) as
/// `live-connections` does, and the `notifier`, on the read model's stream, posts each change to
/// the recorded connections through the hub (its [`Pusher`], in place of API Gateway's
/// `PostToConnection`).
#[derive(Default)]
pub struct LiveHub {
    sessions: Mutex<Sessions>,
    /// Where connections are recorded for the notifier (DynamoDB mode only).
    registry: OnceLock<Arc<dyn ConnectionStore>>,
    /// Refuses a connection of an account being erased (as `live-connections` does on AWS).
    fence: OnceLock<Arc<ErasureFence>>,
}

#[derive(Default)]
struct Sessions {
    by_user: HashMap<UserId, Vec<Session>>,
    /// Whose each connection is: the notifier posts by connection id alone.
    owner: HashMap<ConnectionId, UserId>,
}

impl Sessions {
    fn insert(&mut self, user: UserId, session: Session) -> usize {
        self.owner.insert(session.id.clone(), user.clone());
        let open = self.by_user.entry(user).or_default();
        open.push(session);
        open.len()
    }

    fn remove(&mut self, id: &ConnectionId) -> Option<Session> {
        let user = self.owner.remove(id)?;
        let open = self.by_user.get_mut(&user)?;
        let session = open.iter().position(|session| &session.id == id).map(|at| open.swap_remove(at));
        if open.is_empty() {
            self.by_user.remove(&user);
        }
        session
    }

    /// Queues `text` for the connection, or takes it out of the hub when it cannot take it (a full
    /// queue is a client that fell behind; a closed one, a connection on its way out).
    fn deliver(&mut self, id: &ConnectionId, text: &Utf8Bytes) -> Result<(), PushError> {
        let user = self.owner.get(id).ok_or(PushError::Gone)?;
        let session = self.by_user.get(user).and_then(|open| open.iter().find(|session| &session.id == id));
        match session.map(|session| session.queue.try_send(text.clone())) {
            Some(Ok(())) => Ok(()),
            Some(Err(_)) | None => {
                if let Some(session) = self.remove(id) {
                    // The connection may be gone already; then nobody needs telling.
                    let _ = session.fell_behind.send(());
                }
                Err(PushError::Gone)
            }
        }
    }
}

/// The hub's end of one connection.
struct Session {
    id: ConnectionId,
    queue: mpsc::Sender<Utf8Bytes>,
    /// Fired when the hub lets go of the connection because its queue was full.
    fell_behind: oneshot::Sender<()>,
}

impl std::fmt::Debug for LiveHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveHub").finish_non_exhaustive()
    }
}

impl LiveHub {
    pub fn new() -> Self {
        Self::default()
    }

    /// From now on, records each connection in `registry` while it is open (and only then may a
    /// notifier reach it). Set once, before the stack serves; a second registry is refused.
    pub fn record_in(&self, registry: Arc<dyn ConnectionStore>) -> anyhow::Result<()> {
        self.registry.set(registry).map_err(|_| anyhow::anyhow!("the live hub already records its connections"))
    }

    /// From now on, refuses connections of accounts being erased or erased. Set once.
    pub fn fence_with(&self, fence: ErasureFence) -> anyhow::Result<()> {
        self.fence.set(Arc::new(fence)).map_err(|_| anyhow::anyhow!("the live hub already has a fence"))
    }

    /// `Err(AccountErased)` for an account being erased (a stale token).
    async fn check_fence(&self, user: &UserId) -> Result<(), StoreError> {
        match self.fence.get() {
            Some(fence) => fence.check(user).await,
            None => Ok(()),
        }
    }

    /// How many connections `user` has open.
    pub fn connections(&self, user: &UserId) -> usize {
        self.sessions().by_user.get(user).map_or(0, Vec::len)
    }

    fn sessions(&self) -> MutexGuard<'_, Sessions> {
        // Nothing under this lock can panic halfway through a change; a poisoned map is still whole.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a connection of `user`; it receives every change from now on. Its id is random,
    /// as API Gateway's are: a record left by an earlier run never names a connection of this one.
    fn subscribe(self: &Arc<Self>, user: UserId) -> Subscription {
        let id = ConnectionId::parse(&Uuid::new_v4().simple().to_string()).expect("a UUID is a connection id");
        let (queue, messages) = mpsc::channel(QUEUE_CAPACITY);
        let (fell_behind, dropped) = oneshot::channel();
        let connections = self.sessions().insert(user.clone(), Session { id: id.clone(), queue, fell_behind });
        Subscription { hub: Arc::clone(self), user, id, connections, messages, dropped }
    }

    /// Records the connection for the notifier, when the hub has a registry.
    async fn record(&self, subscription: &Subscription) -> Result<(), StoreError> {
        let Some(registry) = self.registry.get() else { return Ok(()) };
        let connection = Connection {
            user: subscription.user.clone(),
            id: subscription.id.clone(),
            connected_at: Timestamp::from_datetime(chrono::Utc::now()),
        };
        registry.put_connection(&connection).await
    }

    fn unsubscribe(&self, user: &UserId, id: &ConnectionId) {
        self.sessions().remove(id);
        let Some(registry) = self.registry.get().cloned() else { return };
        let (user, id) = (user.clone(), id.clone());
        // Dropped on the runtime (a connection's task); as on AWS, a record left behind by a
        // failure here expires with its TTL, and a push to it is answered "gone".
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = registry.remove_connection(&user, &id).await {
                    tracing::warn!(connectionId = %id, error = %anyhow::Error::from(error), "live: the record stays");
                }
            });
        }
    }
}

impl LiveSink for LiveHub {
    fn changed(&self, user: &UserId, before: &Todo, after: &Todo) {
        let mut sessions = self.sessions();
        let Some(open) = sessions.by_user.get(user) else { return };
        let Some(message) = LiveMessage::between(before, after) else { return };
        let text = Utf8Bytes::from(message.to_json());
        let ids: Vec<ConnectionId> = open.iter().map(|session| session.id.clone()).collect();
        for id in ids {
            // A connection that cannot take it is dropped and told to re-read.
            let _ = sessions.deliver(&id, &text);
        }
    }
}

/// An erasure's way to a user's open sockets: each is told to re-read and closed (the SPA signs
/// out; a stale token cannot reconnect to anything that changes). Counted here on the embedded
/// store only; in DynamoDB mode the connections table's records are what the erasure counts.
#[async_trait::async_trait]
impl UserEraser for LiveHub {
    async fn erase_some(&self, user: &UserId, what: UserData, _limit: usize) -> Result<usize, StoreError> {
        if what != UserData::Connections {
            return Ok(0);
        }
        let closed = {
            let mut sessions = self.sessions();
            let ids: Vec<ConnectionId> =
                sessions.by_user.get(user).map(|open| open.iter().map(|s| s.id.clone()).collect()).unwrap_or_default();
            ids.iter().filter_map(|id| sessions.remove(id)).collect::<Vec<_>>()
        };
        let count = closed.len();
        for session in closed {
            let _ = session.fell_behind.send(());
        }
        Ok(if self.registry.get().is_some() { 0 } else { count })
    }
}

/// The notifier's way to a connection: it is on this stack's hub, or it is gone.
#[async_trait::async_trait]
impl Pusher for LiveHub {
    async fn push(&self, connection: &ConnectionId, message: &str) -> Result<(), PushError> {
        self.sessions().deliver(connection, &Utf8Bytes::from(message))
    }
}

/// The connection's end: its queue, and its place in the hub until dropped.
struct Subscription {
    hub: Arc<LiveHub>,
    user: UserId,
    id: ConnectionId,
    /// The user's open connections, this one included, when it subscribed.
    connections: usize,
    messages: mpsc::Receiver<Utf8Bytes>,
    dropped: oneshot::Receiver<()>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unsubscribe(&self.user, &self.id);
    }
}

/// What the `/live` route needs: the hub, and the authorizer the API uses.
#[derive(Clone)]
pub struct LiveRoute {
    pub hub: Arc<LiveHub>,
    pub authorizer: TokenVerifier,
}

/// `GET /live?token=<ID token>`: the token is checked first (401 without an upgrade), then the
/// connection is registered (so that nothing written after the 101 is missed) and upgraded.
pub async fn connect(
    State(route): State<LiveRoute>,
    request_id: Option<Extension<RequestId>>,
    RawQuery(query): RawQuery,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let request_id = request_id.map_or_else(Uuid::new_v4, |Extension(id)| id.0);
    let token = query.as_deref().and_then(|query| {
        form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name == "token").map(|(_, token)| token.into_owned())
    });
    let Some(token) = token.filter(|token| !token.is_empty()) else {
        return error(StatusCode::UNAUTHORIZED, "unauthorized", "sign in: pass the ID token as ?token=<ID token>");
    };
    let claims = match route.authorizer.verify(&token) {
        Ok(claims) => claims,
        Err(rejected) => {
            tracing::info!(%request_id, reason = %rejected, "live: the authorizer refused the token");
            return error(StatusCode::UNAUTHORIZED, "unauthorized", &rejected.to_string());
        }
    };
    let Some(user) = claims.get("sub").and_then(|sub| UserId::parse(sub).ok()) else {
        return error(StatusCode::UNAUTHORIZED, "unauthorized", "the token names no user (sub)");
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => return error(rejection.status(), "not_a_websocket", &rejection.body_text()),
    };
    match route.hub.check_fence(&user).await {
        Ok(()) => {}
        Err(StoreError::AccountErased) => {
            tracing::info!(%request_id, "live: refused, the account is erased");
            return error(StatusCode::FORBIDDEN, "account_erased", "this account has been deleted");
        }
        Err(failed) => {
            let cause = anyhow::Error::from(failed);
            tracing::error!(%request_id, error = format!("{cause:#}"), "live: the erasure marker could not be read");
            return error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "live updates are unavailable; try again");
        }
    }
    let subscription = route.hub.subscribe(user);
    if let Err(failed) = route.hub.record(&subscription).await {
        let cause = anyhow::Error::from(failed);
        tracing::error!(%request_id, error = format!("{cause:#}"), "live: the connection could not be recorded");
        return error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "live updates are unavailable; try again");
    }
    let span = tracing::info_span!("live", request_id = %request_id);
    upgrade
        .max_message_size(MAX_CLIENT_MESSAGE_BYTES)
        .max_frame_size(MAX_CLIENT_MESSAGE_BYTES)
        .on_upgrade(move |socket| serve(socket, subscription).instrument(span))
}

/// The API's error shape, for the answers given instead of an upgrade.
fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "error": { "code": code, "message": message } }))).into_response()
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The client closed the socket or went away.
    ClientLeft,
    /// Its queue filled up: told to re-read, and closed.
    FellBehind,
}

/// Sends the connection its messages until the client leaves or falls behind.
async fn serve(mut socket: WebSocket, mut subscription: Subscription) {
    let opened = Instant::now();
    tracing::info!(connections = subscription.connections, "live: connected");
    let mut sent = 0_u64;
    let ending = loop {
        tokio::select! {
            biased;
            _ = &mut subscription.dropped => break Ending::FellBehind,
            message = subscription.messages.recv() => {
                let Some(text) = message else { break Ending::FellBehind };
                // A client that stops reading blocks this send; the hub then lets go of it.
                tokio::select! {
                    biased;
                    _ = &mut subscription.dropped => break Ending::FellBehind,
                    outcome = socket.send(Message::Text(text)) => match outcome {
                        Ok(()) => sent += 1,
                        Err(_) => break Ending::ClientLeft,
                    },
                }
            }
            // Reading answers pings and the closing handshake; clients send nothing else we use.
            incoming = socket.recv() => if matches!(incoming, None | Some(Err(_))) {
                break Ending::ClientLeft;
            },
        }
    };
    drop(subscription);
    if ending == Ending::FellBehind {
        let farewell = async {
            socket.send(Message::Text(Utf8Bytes::from_static(REREAD_MESSAGE))).await?;
            let reason = Utf8Bytes::from_static("fell behind: re-read the list");
            socket.send(Message::Close(Some(CloseFrame { code: FELL_BEHIND_CODE, reason }))).await
        };
        // Best effort: a client that stopped reading will not take even these.
        let _ = tokio::time::timeout(FAREWELL_TIMEOUT, farewell).await;
    }
    let seconds = opened.elapsed().as_secs_f64();
    match ending {
        Ending::ClientLeft => tracing::info!(sent, seconds, "live: disconnected"),
        Ending::FellBehind => {
            tracing::warn!(
                sent,
                seconds,
                queue = QUEUE_CAPACITY,
                "live: the client fell behind; told to re-read, closed"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use events_schema::{TodoId, TodoItem};

    use super::*;

    fn item(version: u64) -> Todo {
        let at = Timestamp::parse("2026-11-29T10:00:00Z").unwrap();
        Todo::Live(TodoItem {
            id: TodoId::from_uuid(Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001)),
            title: "Buy milk".into(),
            notes: None,
            completed: false,
            created_at: at,
            updated_at: at,
            completed_at: None,
            version,
        })
    }

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap()
    }

    #[test]
    fn a_change_reaches_every_connection_of_its_user_and_no_one_else() {
        let hub = Arc::new(LiveHub::new());
        let (mut ann, mut ann_too, mut bob) =
            (hub.subscribe(user("ann")), hub.subscribe(user("ann")), hub.subscribe(user("bob")));
        hub.changed(&user("ann"), &Todo::NotCreated, &item(1));
        for connection in [&mut ann, &mut ann_too] {
            let text = connection.messages.try_recv().unwrap();
            assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap()["change"], "created");
        }
        assert!(bob.messages.try_recv().is_err());
        hub.changed(&user("ann"), &item(1), &item(1));
        assert!(ann.messages.try_recv().is_err(), "nothing moved, nothing sent");
    }

    #[test]
    fn a_full_queue_drops_that_connection_only() {
        let hub = Arc::new(LiveHub::new());
        let (mut slow, mut fast) = (hub.subscribe(user("ann")), hub.subscribe(user("ann")));
        for version in 1..=QUEUE_CAPACITY as u64 + 1 {
            hub.changed(&user("ann"), &item(version - 1), &item(version));
            while fast.messages.try_recv().is_ok() {}
        }
        assert_eq!(slow.dropped.try_recv(), Ok(()), "told it fell behind");
        assert!(fast.dropped.try_recv().is_err());
        assert_eq!(hub.connections(&user("ann")), 1);
        drop(fast);
        assert_eq!(hub.connections(&user("ann")), 0, "a closed connection leaves the hub");
        assert!(hub.sessions().by_user.is_empty() && hub.sessions().owner.is_empty());
    }
}
