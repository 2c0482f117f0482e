//! `live-connections` with API Gateway's own WebSocket events against DynamoDB Local: `$connect`
//! records the connection under the authorizer's user with a TTL at API Gateway's two-hour limit,
//! `$disconnect` removes it.

use std::sync::Arc;

use aws_lambda_events::event::apigw::ApiGatewayWebsocketProxyRequest;
use aws_sdk_dynamodb::types::AttributeValue;
use events_schema::{Timestamp, UserId};
use live::connections::ConnectionsService;
use serde_json::{Value, json};
use todo_platform::manifest::CONNECTIONS_TTL_ATTRIBUTE;
use todo_platform::store::ConnectionStore as _;
use todo_platform::store::dynamo::{DynamoStore, create_connections_table};

const SUB: &str = "4f1c2e9a-0000-4b8e-9a55-0a1b2c3d4e5f";
const CONNECTION_ID: &str = "Zx1QdcuMoAMCIxw=";

struct Fixture {
    client: aws_sdk_dynamodb::Client,
    table: String,
    store: Arc<DynamoStore>,
    service: ConnectionsService,
}

async fn fixture() -> Fixture {
    let client = todo_testkit::dynamodb::client().await;
    let table = format!("Connections-{}", uuid::Uuid::new_v4().simple());
    create_connections_table(&client, &table).await.expect("the connections table");
    let store = Arc::new(DynamoStore::new(client.clone(), "", "").with_connections_table(&table));
    Fixture { client, table, service: ConnectionsService::new(store.clone()), store }
}

impl Fixture {
    async fn items(&self) -> Vec<std::collections::HashMap<String, AttributeValue>> {
        let scanned = self.client.scan().table_name(&self.table).consistent_read(true).send().await.expect("scan");
        scanned.items.unwrap_or_default()
    }
}

/// What API Gateway's authorizer context looks like on every route of a connection that
/// `live-authorizer` allowed: its principal, its context, and API Gateway's own latency figure.
fn authorizer_context() -> Value {
    json!({"principalId": SUB, "sub": SUB, "integrationLatency": 142})
}

/// A `$connect` as API Gateway hands it to a Lambda proxy integration.
fn connect_event(connected_at_ms: i64, authorizer: Option<Value>) -> ApiGatewayWebsocketProxyRequest {
    let mut event = json!({
        "headers": {
            "Host": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "Origin": "https://d111111abcdef8.cloudfront.net",
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
            "X-Amzn-Trace-Id": "Root=1-6748f8b0-0e1c2d3b4a5968778695a4b3",
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Port": "443",
            "X-Forwarded-Proto": "https"
        },
        "multiValueHeaders": {
            "Host": ["abcdef1234.execute-api.eu-west-1.amazonaws.com"],
            "Sec-WebSocket-Version": ["13"]
        },
        "queryStringParameters": {"token": "eyJraWQiOiJrZXktMSJ9.eyJzdWIiOiJhbm4ifQ.c2ln"},
        "multiValueQueryStringParameters": {"token": ["eyJraWQiOiJrZXktMSJ9.eyJzdWIiOiJhbm4ifQ.c2ln"]},
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "extendedRequestId": "B4NLLGsoIAMF5Yw=",
            "requestTime": "29/Nov/2026:21:00:00 +0000",
            "messageDirection": "IN",
            "stage": "prod",
            "connectedAt": connected_at_ms,
            "requestTimeEpoch": connected_at_ms + 12,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "Mozilla/5.0"},
            "requestId": "B4NLLGsoIAMF5Yw=",
            "domainName": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "connectionId": CONNECTION_ID,
            "apiId": "abcdef1234"
        },
        "isBase64Encoded": false
    });
    if let Some(authorizer) = authorizer {
        event["requestContext"]["authorizer"] = authorizer;
    }
    serde_json::from_value(event).expect("a WebSocket $connect event")
}

/// A `$disconnect` as API Gateway hands it over when the client closed the socket.
fn disconnect_event(connected_at_ms: i64, authorizer: Option<Value>) -> ApiGatewayWebsocketProxyRequest {
    let mut event = json!({
        "headers": {
            "Host": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "x-api-key": "",
            "X-Forwarded-For": "",
            "x-restapi": ""
        },
        "multiValueHeaders": {
            "Host": ["abcdef1234.execute-api.eu-west-1.amazonaws.com"],
            "x-api-key": [""],
            "X-Forwarded-For": [""],
            "x-restapi": [""]
        },
        "requestContext": {
            "routeKey": "$disconnect",
            "disconnectStatusCode": 1001,
            "eventType": "DISCONNECT",
            "extendedRequestId": "C5OMMHtpJBNG6Zx=",
            "requestTime": "29/Nov/2026:21:05:00 +0000",
            "messageDirection": "IN",
            "disconnectReason": "Going away",
            "stage": "prod",
            "connectedAt": connected_at_ms,
            "requestTimeEpoch": connected_at_ms + 300_000,
            "identity": {"sourceIp": "203.0.113.7", "userAgent": "Mozilla/5.0"},
            "requestId": "C5OMMHtpJBNG6Zx=",
            "domainName": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
            "connectionId": CONNECTION_ID,
            "apiId": "abcdef1234"
        },
        "isBase64Encoded": false
    });
    if let Some(authorizer) = authorizer {
        event["requestContext"]["authorizer"] = authorizer;
    }
    serde_json::from_value(event).expect("a WebSocket $disconnect event")
}

#[tokio::test]
async fn connect_records_the_connection_with_a_two_hour_ttl_and_disconnect_removes_it() {
    let fixture = fixture().await;
    let connected_at = chrono::Utc::now().timestamp_millis();

    let answer =
        fixture.service.handle(connect_event(connected_at, Some(authorizer_context()))).await.expect("connect");
    assert_eq!(answer.status_code, 200, "a 2xx lets API Gateway complete the upgrade");

    let items = fixture.items().await;
    assert_eq!(items.len(), 1);
    let attribute = |name: &str| items[0].get(name).cloned().unwrap_or_else(|| panic!("no {name} in {:?}", items[0]));
    assert_eq!(attribute("userId"), AttributeValue::S(SUB.into()), "under the authorizer's user");
    assert_eq!(attribute("connectionId"), AttributeValue::S(CONNECTION_ID.into()));
    let expires_at: i64 =
        attribute(CONNECTIONS_TTL_ATTRIBUTE).as_n().expect("a number").parse().expect("epoch seconds");
    let two_hours_ahead = chrono::Utc::now().timestamp() + 2 * 3600;
    assert!(
        (two_hours_ahead - 60..=two_hours_ahead).contains(&expires_at),
        "the TTL is API Gateway's limit, two hours after the connection opened: {expires_at} vs {two_hours_ahead}"
    );
    let user = UserId::parse(SUB).expect("user");
    let now = Timestamp::from_datetime(chrono::Utc::now());
    let listed = fixture.store.user_connections(&user, now).await.expect("list");
    assert_eq!(listed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [CONNECTION_ID]);
    assert_eq!(listed[0].connected_at.as_datetime().timestamp_millis(), connected_at);

    let answer =
        fixture.service.handle(disconnect_event(connected_at, Some(authorizer_context()))).await.expect("disconnect");
    assert_eq!(answer.status_code, 200);
    assert!(fixture.items().await.is_empty(), "the connection is gone from the table");
    assert!(fixture.store.user_connections(&user, now).await.expect("list").is_empty());
}

#[tokio::test]
async fn a_connect_without_the_authorizers_user_is_refused_and_records_nothing() {
    let fixture = fixture().await;
    let now = chrono::Utc::now().timestamp_millis();
    let answer = fixture.service.handle(connect_event(now, None)).await.expect("an answer");
    assert_eq!(answer.status_code, 403);
    let answer = fixture.service.handle(connect_event(now, Some(json!({"principalId": "anonymous"})))).await.unwrap();
    assert_eq!(answer.status_code, 403);
    assert!(fixture.items().await.is_empty());
}

#[tokio::test]
async fn a_connect_of_an_account_being_erased_is_refused_and_records_nothing() {
    use todo_platform::store::{ErasureFence, ErasureKey, ErasureLog as _};
    let fixture = fixture().await;
    let erasures = format!("Erasures-{}", uuid::Uuid::new_v4().simple());
    todo_platform::store::dynamo::create_erasure_table(&fixture.client, &erasures).await.expect("the erasure table");
    let store = Arc::new(
        DynamoStore::new(fixture.client.clone(), "", "")
            .with_connections_table(&fixture.table)
            .with_erasure_table(&erasures),
    );
    let key = ErasureKey::generate();
    let fence = ErasureFence::new(store.clone(), key.clone(), std::time::Duration::ZERO);
    let service = ConnectionsService::new(store.clone()).with_fence(fence);
    let now = chrono::Utc::now().timestamp_millis();
    let answer = service.handle(connect_event(now, Some(authorizer_context()))).await.expect("an answer");
    assert_eq!(answer.status_code, 200, "not erased: recorded");
    assert_eq!(fixture.items().await.len(), 1);

    let user = UserId::parse(SUB).unwrap();
    store.begin_erasure(&key.user_key(&user), Timestamp::from_datetime(chrono::Utc::now()), "req").await.unwrap();
    store.remove_connection(&user, &todo_platform::store::ConnectionId::parse(CONNECTION_ID).unwrap()).await.unwrap();
    let answer = service.handle(connect_event(now, Some(authorizer_context()))).await.expect("an answer");
    assert_eq!(answer.status_code, 403, "a stale token of an account being erased");
    assert!(fixture.items().await.is_empty(), "nothing recorded");
}

/// Should API Gateway ever send a `$disconnect` without the authorizer's context, the connection
/// stays until the notifier's first push to it (410) or its TTL: nothing fails.
#[tokio::test]
async fn a_disconnect_without_the_authorizers_user_leaves_the_connection_to_its_ttl() {
    let fixture = fixture().await;
    let now = chrono::Utc::now().timestamp_millis();
    fixture.service.handle(connect_event(now, Some(authorizer_context()))).await.expect("connect");
    let answer = fixture.service.handle(disconnect_event(now, None)).await.expect("an answer");
    assert_eq!(answer.status_code, 200);
    assert_eq!(fixture.items().await.len(), 1);
}

#[tokio::test]
async fn a_route_other_than_connect_and_disconnect_is_an_error() {
    let fixture = fixture().await;
    let mut event = connect_event(chrono::Utc::now().timestamp_millis(), Some(authorizer_context()));
    event.request_context.route_key = Some("$default".into());
    assert!(fixture.service.handle(event).await.is_err());
    assert!(fixture.items().await.is_empty());
}
