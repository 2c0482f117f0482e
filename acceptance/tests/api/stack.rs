//! One stack per test: fresh tables in the process's DynamoDB Local, the command and query services,
//! the erasure, and the projector fed from the event table's stream.

use std::sync::Arc;
use std::time::Duration;

use account::ErasureService;

use commands::CommandService;
use lambda_http::{Body, Response};
use projector::Projector;
use projector::stream::StreamPoller;
use queries::QueryService;
use serde_json::Value;
use todo_platform::http::Edge;
use todo_platform::store::{ErasureFence, ErasureKey, UserEraser};
use todo_testkit::dynamodb::{Tables, sdk_config};
use todo_testkit::{ApiEvent, response_json};
use tokio::sync::Mutex;

pub const ORIGIN: &str = "https://todo.example.com";

pub struct Stack {
    pub tables: Tables,
    /// The live connections' and the erasures' tables (beside `tables`).
    pub connections: String,
    pub erasures: String,
    pub key: ErasureKey,
    pub store: Arc<todo_platform::store::dynamo::DynamoStore>,
    commands: CommandService,
    queries: QueryService,
    pub projector: Projector,
    pub erasure: ErasureService,
    stream: Mutex<StreamPoller>,
}

/// How long a fence in these tests remembers a "not erased" answer, and how long an erasure
/// settles: the commands here run in-process and take milliseconds, not the 10 s a Lambda may.
pub const FENCE_REMEMBER: Duration = Duration::from_millis(200);
pub const SETTLE: Duration = Duration::from_secs(2);

/// A user of the API.
#[derive(Clone, Copy)]
pub struct User {
    pub sub: &'static str,
    pub email: &'static str,
}

pub const ANN: User = User { sub: "4f1c2e9a-ann0-4b8e-9a55-0a1b2c3d4e5f", email: "ann@example.com" };
pub const BOB: User = User { sub: "7d3b1a0c-bob0-4c2d-8e77-6f5e4d3c2b1a", email: "bob@example.com" };

/// A response, read.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub response: Response<Body>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.headers().get(name).and_then(|v| v.to_str().ok())
    }
}

impl Stack {
    pub async fn new() -> Self {
        Self::with_holders(|store| vec![store]).await
    }

    /// A stack whose erasure reaches the stores through `holders` (given the stack's store).
    pub async fn with_holders(
        holders: impl FnOnce(Arc<todo_platform::store::dynamo::DynamoStore>) -> Vec<Arc<dyn UserEraser>>,
    ) -> Self {
        let tables = Tables::fresh().await;
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let (connections, erasures) = (format!("Connections-{suffix}"), format!("Erasures-{suffix}"));
        todo_platform::store::dynamo::create_connections_table(&tables.client, &connections)
            .await
            .expect("create the connections table");
        todo_platform::store::dynamo::create_erasure_table(&tables.client, &erasures)
            .await
            .expect("create the erasure table");
        let store =
            Arc::new(tables.store().with_connections_table(connections.as_str()).with_erasure_table(erasures.as_str()));
        let key = ErasureKey::generate();
        let edge = Edge::new(ORIGIN).expect("valid origin");
        let stream = StreamPoller::open(&sdk_config().await, &tables.events).await.expect("open the stream");
        let fence = ErasureFence::new(store.clone(), key.clone(), FENCE_REMEMBER);
        let erasure =
            ErasureService::new(store.clone(), key.clone(), holders(store.clone()), edge.clone()).with_settle(SETTLE);
        Self {
            commands: CommandService::new(store.clone(), edge.clone()).with_fence(fence),
            queries: QueryService::with_store(store.clone(), edge.clone()).with_snapshots(store.clone()),
            projector: Projector::new(store.clone(), store.clone())
                .with_stats(store.clone())
                .with_snapshots(store.clone(), store.clone())
                .with_erasures(store.clone(), key.clone(), store.clone()),
            erasure,
            stream: Mutex::new(stream),
            tables,
            connections,
            erasures,
            key,
            store,
        }
    }

    /// Sends an event to the handler of its route, as API Gateway would invoke that function.
    pub async fn send(&self, event: ApiEvent) -> Answer {
        let request = event.request();
        let resource = serde_json::from_str::<Value>(&event.to_json()).expect("json")["resource"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let method = request.method().as_str().to_owned();
        let response = match (method.as_str(), resource.as_str()) {
            ("POST", "/item") => commands::http::create_todo(&self.commands, request).await,
            ("PUT", "/item/{id}") => commands::http::update_todo(&self.commands, request).await,
            ("POST", "/item/{id}/done") => commands::http::complete_todo(&self.commands, request).await,
            ("DELETE", "/item/{id}") => commands::http::delete_todo(&self.commands, request).await,
            ("GET", "/item") => queries::http::list_todos(&self.queries, request).await,
            ("GET", "/item/{id}") => queries::http::get_todo(&self.queries, request).await,
            ("GET", "/item/{id}/history") => queries::http::get_todo_history(&self.queries, request).await,
            ("GET", "/history") => queries::http::get_history(&self.queries, request).await,
            ("GET", "/stats") => queries::http::get_stats(&self.queries, request).await,
            ("DELETE", "/account") => account::http::erase_account(&self.erasure, request).await,
            other => panic!("no function for route {other:?}"),
        };
        let status = response.status().as_u16();
        let body = response_json(&response);
        Answer { status, body, response }
    }

    /// One poll of the event table's stream, not handed to anyone (to replay it later).
    pub async fn poll(&self) -> aws_lambda_events::event::dynamodb::Event {
        self.stream.lock().await.poll().await.expect("poll the stream")
    }

    /// Reads the event table's stream until it is drained and hands each batch to the projector,
    /// as the event source mapping would. Panics if the projector reports a failed record.
    pub async fn project(&self) -> usize {
        let mut stream = self.stream.lock().await;
        let mut applied = 0;
        let mut empty_polls = 0;
        while empty_polls < 2 {
            let batch = stream.poll().await.expect("poll the stream");
            if batch.records.is_empty() {
                empty_polls += 1;
                continue;
            }
            empty_polls = 0;
            applied += batch.records.len();
            let response = self.projector.handle_batch(batch).await;
            assert!(response.batch_item_failures.is_empty(), "projector failures: {:?}", response.batch_item_failures);
        }
        applied
    }
}

// --- requests ---

pub fn create(user: User, body: Value) -> ApiEvent {
    ApiEvent::new("POST", "/item", "/item").signed_in(user.sub, user.email).json(&body)
}

pub fn list(user: User) -> ApiEvent {
    ApiEvent::new("GET", "/item", "/item").signed_in(user.sub, user.email)
}

pub fn get(user: User, id: &str) -> ApiEvent {
    ApiEvent::new("GET", "/item/{id}", &format!("/item/{id}")).signed_in(user.sub, user.email).path_param("id", id)
}

pub fn update(user: User, id: &str, body: Value) -> ApiEvent {
    ApiEvent::new("PUT", "/item/{id}", &format!("/item/{id}"))
        .signed_in(user.sub, user.email)
        .path_param("id", id)
        .json(&body)
}

pub fn complete(user: User, id: &str) -> ApiEvent {
    ApiEvent::new("POST", "/item/{id}/done", &format!("/item/{id}/done"))
        .signed_in(user.sub, user.email)
        .path_param("id", id)
}

pub fn delete(user: User, id: &str) -> ApiEvent {
    ApiEvent::new("DELETE", "/item/{id}", &format!("/item/{id}")).signed_in(user.sub, user.email).path_param("id", id)
}

pub fn item_history(user: User, id: &str) -> ApiEvent {
    ApiEvent::new("GET", "/item/{id}/history", &format!("/item/{id}/history"))
        .signed_in(user.sub, user.email)
        .path_param("id", id)
}

pub fn stats(user: User) -> ApiEvent {
    ApiEvent::new("GET", "/stats", "/stats").signed_in(user.sub, user.email)
}

pub fn erase_account(user: User) -> ApiEvent {
    ApiEvent::new("DELETE", "/account", "/account").signed_in(user.sub, user.email)
}

pub fn history(user: User) -> ApiEvent {
    ApiEvent::new("GET", "/history", "/history").signed_in(user.sub, user.email)
}

/// Creates a todo and returns its id.
pub async fn created(stack: &Stack, user: User, title: &str) -> String {
    let answer = stack.send(create(user, serde_json::json!({ "title": title }))).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    answer.body["id"].as_str().expect("id").to_owned()
}

/// Every response carries the CORS origin and a request id.
pub fn assert_edge_headers(answer: &Answer) {
    assert_eq!(answer.header("access-control-allow-origin"), Some(ORIGIN), "CORS origin on {}", answer.status);
    assert!(answer.header("x-request-id").is_some_and(|id| !id.is_empty()), "request id on {}", answer.status);
}

/// An error response: the status, a JSON error with a code and message, and the edge headers.
pub fn assert_error(answer: &Answer, status: u16) {
    assert_eq!(answer.status, status, "body: {}", answer.body);
    assert!(answer.body["error"]["code"].is_string(), "error code in {}", answer.body);
    assert!(answer.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "message in {}", answer.body);
    assert_edge_headers(answer);
}
