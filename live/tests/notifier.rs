//! The notifier on the read model's stream: rows written to `TodoTable` in DynamoDB Local, its real
//! stream (`NEW_AND_OLD_IMAGES`) read and handed over as Lambda delivers it, and the management
//! API's `PostToConnection` answered by a local HTTP server through the SDK's own endpoint setting.
//! Each change reaches every open session of its user and nobody else's; a gone session (410) is
//! removed; a failed post fails its record, reported as a batch item failure.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::event::dynamodb::Event as StreamBatch;
use events_schema::{Timestamp, Todo, TodoId, TodoItem, UserId};
use live::notifier::Notifier;
use live::push::ManagementApi;
use serde_json::{Value, json};
use todo_platform::store::dynamo::{DynamoStore, create_connections_table};
use todo_platform::store::{Connection, ConnectionId, ConnectionStore, ProjectionStore, WriteGuard};
use todo_testkit::dynamodb::Tables;

const ANN: &str = "4f1c2e9a-0000-4b8e-9a55-0a1b2c3d4e5f";
const BOB: &str = "7d3b1a0c-0000-4c2d-8e77-6f5e4d3c2b1a";

// --------------------------------------------------------------------- the fake management API

/// What the stand-in for API Gateway's management API answers for a connection.
#[derive(Clone, Copy)]
enum Answer {
    Gone,
    Broken,
}

#[derive(Default)]
struct Received {
    /// Every post, in arrival order: connection id and body.
    posts: Vec<(String, String)>,
}

#[derive(Clone)]
struct ManagementApiStub {
    received: Arc<Mutex<Received>>,
    answers: Arc<HashMap<String, Answer>>,
}

impl ManagementApiStub {
    /// Serves `POST /prod/@connections/{connectionId}` on a free port: 200 unless `answers` says otherwise.
    async fn start(answers: &[(&str, Answer)]) -> (Self, String) {
        let stub = Self {
            received: Arc::default(),
            answers: Arc::new(answers.iter().map(|(id, answer)| ((*id).to_owned(), *answer)).collect()),
        };
        let state = stub.clone();
        let app =
            axum::Router::new().fallback(move |method: axum::http::Method, uri: axum::http::Uri, body: String| {
                let state = state.clone();
                async move { state.answer(method, uri, body) }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let address = listener.local_addr().expect("its address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (stub, format!("http://{address}/prod"))
    }

    fn answer(&self, method: axum::http::Method, uri: axum::http::Uri, body: String) -> axum::response::Response {
        use axum::response::IntoResponse as _;
        let path = uri.path();
        let id = ["/prod/@connections/", "/prod/%40connections/"].iter().find_map(|prefix| path.strip_prefix(prefix));
        let (Some(id), axum::http::Method::POST) = (id, method) else {
            return (axum::http::StatusCode::NOT_FOUND, "no such route").into_response();
        };
        let id = percent_decode(id);
        self.received.lock().unwrap().posts.push((id.clone(), body));
        let error = |status: u16, kind: &str| {
            let status = axum::http::StatusCode::from_u16(status).unwrap();
            let headers = [("x-amzn-errortype", kind.to_owned()), ("content-type", "application/json".to_owned())];
            (status, headers, json!({"message": kind}).to_string()).into_response()
        };
        match self.answers.get(&id) {
            Some(Answer::Gone) => error(410, "GoneException"),
            Some(Answer::Broken) => error(500, "InternalServerErrorException"),
            None => axum::http::StatusCode::OK.into_response(),
        }
    }

    /// The messages each connection was sent, in order.
    fn by_connection(&self) -> BTreeMap<String, Vec<Value>> {
        let mut messages: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (id, body) in &self.received.lock().unwrap().posts {
            messages.entry(id.clone()).or_default().push(serde_json::from_str(body).expect("each message is JSON"));
        }
        messages
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match (bytes[index], text.get(index + 1..index + 3).and_then(|hex| u8::from_str_radix(hex, 16).ok())) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8(decoded).expect("UTF-8")
}

// --------------------------------------------------------------------- tables, stream, connections

struct Stack {
    tables: Tables,
    connections: Arc<DynamoStore>,
    stub: ManagementApiStub,
    notifier: Notifier,
}

async fn stack(answers: &[(&str, Answer)]) -> Stack {
    let tables = Tables::fresh().await;
    let table = format!("Connections-{}", uuid::Uuid::new_v4().simple());
    create_connections_table(&tables.client, &table).await.expect("the connections table");
    let connections = Arc::new(DynamoStore::new(tables.client.clone(), "", "").with_connections_table(&table));
    let (stub, endpoint) = ManagementApiStub::start(answers).await;
    let config = todo_testkit::dynamodb::sdk_config().await;
    let builder = aws_sdk_apigatewaymanagement::config::Builder::from(&config).endpoint_url(endpoint);
    let client = aws_sdk_apigatewaymanagement::Client::from_conf(live::push::settings(builder).build());
    let notifier = Notifier::new(connections.clone(), Arc::new(ManagementApi::new(client)));
    Stack { tables, connections, stub, notifier }
}

impl Stack {
    async fn connect(&self, user: &str, id: &str) {
        let connection = Connection {
            user: UserId::parse(user).unwrap(),
            id: ConnectionId::parse(id).unwrap(),
            connected_at: Timestamp::from_datetime(chrono::Utc::now()),
        };
        self.connections.put_connection(&connection).await.expect("a connection");
    }

    async fn connection_ids(&self, user: &str) -> Vec<String> {
        let now = Timestamp::from_datetime(chrono::Utc::now());
        let listed = self.connections.user_connections(&UserId::parse(user).unwrap(), now).await.expect("list");
        listed.iter().map(|c| c.id.to_string()).collect()
    }

    /// Writes a row as the projector does.
    async fn project(&self, user: &str, state: &Todo) {
        let written = self.tables.store().put(&UserId::parse(user).unwrap(), state, WriteGuard::NewerOnly).await;
        assert!(written.expect("a row"), "the row moved forward");
    }

    /// Every record of the read model's stream so far (at least `expected`), as one Lambda batch.
    async fn stream_batch(&self, expected: usize) -> StreamBatch {
        use aws_sdk_dynamodbstreams::types::ShardIteratorType;
        let config = todo_testkit::dynamodb::sdk_config().await;
        let described = self.tables.client.describe_table().table_name(&self.tables.todos).send().await.unwrap();
        let arn = described.table.and_then(|t| t.latest_stream_arn).expect("TodoTable has a stream");
        let streams = aws_sdk_dynamodbstreams::Client::new(&config);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut records = Vec::new();
            let description = streams.describe_stream().stream_arn(&arn).send().await.unwrap().stream_description;
            for shard in description.and_then(|d| d.shards).unwrap_or_default() {
                let mut iterator = streams
                    .get_shard_iterator()
                    .stream_arn(&arn)
                    .shard_id(shard.shard_id.unwrap_or_default())
                    .shard_iterator_type(ShardIteratorType::TrimHorizon)
                    .send()
                    .await
                    .unwrap()
                    .shard_iterator;
                while let Some(current) = iterator {
                    let output = streams.get_records().shard_iterator(current).send().await.unwrap();
                    let page = output.records.unwrap_or_default();
                    if page.is_empty() {
                        break;
                    }
                    records.extend(page.into_iter().map(|record| lambda_record(record, &arn)));
                    iterator = output.next_shard_iterator;
                }
            }
            if records.len() >= expected || Instant::now() > deadline {
                assert_eq!(records.len(), expected, "the stream holds one record per write");
                return serde_json::from_value(json!({ "Records": records })).expect("a Lambda DynamoDB stream event");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A stream record in the JSON Lambda delivers, both images included.
fn lambda_record(record: aws_sdk_dynamodbstreams::types::Record, arn: &str) -> Value {
    type StreamItem = HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>;
    let change = record.dynamodb.expect("a change");
    let image =
        |item: Option<StreamItem>| serde_json::to_value(serde_dynamo::Item::from(item.unwrap_or_default())).unwrap();
    json!({
        "eventID": record.event_id,
        "eventName": record.event_name.map(|n| n.as_str().to_owned()),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": arn,
        "dynamodb": {
            "ApproximateCreationDateTime": change.approximate_creation_date_time.map(|t| t.secs()),
            "Keys": image(change.keys),
            "OldImage": image(change.old_image),
            "NewImage": image(change.new_image),
            "SequenceNumber": change.sequence_number,
            "SizeBytes": change.size_bytes,
            "StreamViewType": "NEW_AND_OLD_IMAGES"
        }
    })
}

// --------------------------------------------------------------------- todos

fn todo_id(n: u128) -> TodoId {
    TodoId::from_uuid(uuid::Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0000 | n))
}

fn item(n: u128, title: &str, version: u64, completed: bool) -> TodoItem {
    let at = Timestamp::from_datetime(chrono::Utc::now());
    TodoItem {
        id: todo_id(n),
        title: title.into(),
        notes: None,
        completed,
        created_at: at,
        updated_at: at,
        completed_at: completed.then_some(at),
        version,
    }
}

fn summary(message: &Value) -> (String, u64, Option<String>) {
    let change = message["change"].as_str().expect("a change").to_owned();
    let version = message["version"].as_u64().expect("a version");
    (change, version, message["todo"]["title"].as_str().map(str::to_owned))
}

// --------------------------------------------------------------------- tests

#[tokio::test]
async fn each_change_reaches_every_session_of_its_user_only_and_a_gone_one_is_removed() {
    let stack = stack(&[("ann-gone=", Answer::Gone)]).await;
    for id in ["ann-laptop=", "ann-phone=", "ann-gone="] {
        stack.connect(ANN, id).await;
    }
    stack.connect(BOB, "bob-laptop=").await;

    stack.project(ANN, &Todo::Live(item(1, "Buy milk", 1, false))).await;
    stack.project(BOB, &Todo::Live(item(2, "Walk the dog", 1, false))).await;
    stack.project(ANN, &Todo::Live(item(1, "Buy milk", 2, true))).await;
    stack.project(ANN, &Todo::Deleted(item(1, "Buy milk", 3, true))).await;
    // The tombstone expires (or replay removes the row): nothing a session shows changes.
    stack.tables.store().remove(&UserId::parse(ANN).unwrap(), &todo_id(1)).await.expect("remove");

    let response = stack.notifier.handle_batch(stack.stream_batch(5).await).await;
    assert!(response.batch_item_failures.is_empty(), "every record was pushed: {:?}", response.batch_item_failures);

    let received = stack.stub.by_connection();
    let anns = vec![
        ("created".to_owned(), 1, Some("Buy milk".to_owned())),
        ("completed".to_owned(), 2, Some("Buy milk".to_owned())),
        ("deleted".to_owned(), 3, None),
    ];
    for session in ["ann-laptop=", "ann-phone="] {
        let messages = &received[session];
        assert_eq!(messages.iter().map(summary).collect::<Vec<_>>(), anns, "{session}: each change once, in order");
        assert!(messages.iter().all(|m| m["type"] == "todo" && m["id"] == json!(todo_id(1))));
    }
    let first = &received["ann-laptop="][0];
    assert_eq!(first["todo"]["id"], json!(todo_id(1)));
    assert_eq!(first["todo"]["completed"], false);
    assert_eq!(first["todo"]["version"], 1);
    assert_eq!(
        received["bob-laptop="].iter().map(summary).collect::<Vec<_>>(),
        [("created".to_owned(), 1, Some("Walk the dog".to_owned()))],
        "bob hears of his own todo, and of nothing of ann's"
    );
    assert_eq!(received["ann-gone="].len(), 1, "tried once; gone (410), so removed before the next change");
    assert_eq!(received.len(), 4, "no post to anything but the users' connections");
    assert_eq!(stack.connection_ids(ANN).await, ["ann-laptop=", "ann-phone="], "the gone connection is removed");
    assert_eq!(stack.connection_ids(BOB).await, ["bob-laptop="]);
}

#[tokio::test]
async fn a_failed_post_fails_its_record_and_the_later_changes_of_its_todo_but_not_the_others() {
    let stack = stack(&[("ann-broken=", Answer::Broken)]).await;
    stack.connect(ANN, "ann-broken=").await;
    stack.connect(ANN, "ann-laptop=").await;
    stack.connect(BOB, "bob-laptop=").await;

    stack.project(ANN, &Todo::Live(item(1, "Buy milk", 1, false))).await;
    stack.project(BOB, &Todo::Live(item(2, "Walk the dog", 1, false))).await;
    stack.project(ANN, &Todo::Live(item(1, "Buy oat milk", 2, false))).await;
    let batch = stack.stream_batch(3).await;
    let sequence_numbers: Vec<Option<String>> =
        batch.records.iter().map(|record| record.change.sequence_number.clone()).collect();

    let response = stack.notifier.handle_batch(batch).await;
    let failed: Vec<Option<String>> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(
        failed,
        [sequence_numbers[0].clone(), sequence_numbers[2].clone()],
        "ann's first change failed, so her next one waits for the retry; bob's went through"
    );
    assert_eq!(
        serde_json::to_value(&response).unwrap()["batchItemFailures"][0],
        json!({"itemIdentifier": sequence_numbers[0]}),
        "the answer ReportBatchItemFailures expects"
    );
    let received = stack.stub.by_connection();
    assert_eq!(received["bob-laptop="].len(), 1);
    assert_eq!(received["ann-laptop="].iter().map(summary).collect::<Vec<_>>()[0].1, 1);
    assert!(
        received["ann-laptop="].iter().all(|m| m["version"] == 1),
        "ann's second change is not pushed ahead of her first"
    );
    assert_eq!(stack.connection_ids(ANN).await, ["ann-broken=", "ann-laptop="], "a failing session is kept");
}

#[tokio::test]
async fn records_that_cannot_be_read_are_reported_and_the_rest_pushed() {
    let stack = stack(&[]).await;
    stack.connect(BOB, "bob-laptop=").await;
    stack.project(BOB, &Todo::Live(item(2, "Walk the dog", 1, false))).await;
    let mut batch = stack.stream_batch(1).await;
    let mut bad = batch.records[0].clone();
    bad.change.sequence_number = Some("1".into());
    bad.change.new_image.insert("version".into(), serde_dynamo::AttributeValue::S("not a number".into()));
    batch.records.insert(0, bad);

    let response = stack.notifier.handle_batch(batch).await;
    let failed: Vec<_> = response.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, [Some("1".to_owned())]);
    assert_eq!(stack.stub.by_connection()["bob-laptop="].len(), 1);
}
