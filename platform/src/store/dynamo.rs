//! The DynamoDB adapter: the event table (`EventsTable`), the read model (`TodoTable`), the stats
//! (`StatsTable`), the list snapshots (`SnapshotsTable`), the live connections
//! (`ConnectionsTable`) and the account erasures (`ErasureTable`), laid out as `DESIGN.md` and
//! `template.yaml` fix them.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, DeleteRequest, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    Projection, ProjectionType, Put, ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
    TransactWriteItem, WriteRequest,
};
use events_schema::{Event, EventRecord, Timestamp, Todo, TodoId, TodoItem, UserId, event_key, event_key_range};
use serde::{Deserialize, Serialize};

use super::*;
use crate::manifest::{
    CONNECTION_ID_KEY, CONNECTIONS_TTL_ATTRIBUTE, EVENT_KEY, OCCURRED_AT_KEY, SNAPSHOT_KEY, TODO_ID_KEY,
    TODO_TABLE_TTL_ATTRIBUTE, USER_ID_KEY, USER_KEY, USER_TIMELINE_INDEX,
};

type Item = HashMap<String, AttributeValue>;

/// How many rows [`ProjectionStore::put_many`] writes at once.
pub const CONCURRENT_PUTS: usize = 16;

/// The stack's tables, through one shared client.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    events_table: String,
    todo_table: String,
    stats_table: String,
    snapshots_table: String,
    connections_table: String,
    erasure_table: String,
}

impl DynamoStore {
    /// `events_table` or `todo_table` may be empty for a function that does not use that table.
    pub fn new(client: Client, events_table: impl Into<String>, todo_table: impl Into<String>) -> Self {
        Self {
            client,
            events_table: events_table.into(),
            todo_table: todo_table.into(),
            stats_table: String::new(),
            snapshots_table: String::new(),
            connections_table: String::new(),
            erasure_table: String::new(),
        }
    }

    /// The same store, with the stats projection's table.
    pub fn with_stats_table(mut self, stats_table: impl Into<String>) -> Self {
        self.stats_table = stats_table.into();
        self
    }

    /// The same store, with the list snapshots' table.
    pub fn with_snapshots_table(mut self, snapshots_table: impl Into<String>) -> Self {
        self.snapshots_table = snapshots_table.into();
        self
    }

    /// The same store, also keeping the live updates' connections in `connections_table`.
    pub fn with_connections_table(mut self, connections_table: impl Into<String>) -> Self {
        self.connections_table = connections_table.into();
        self
    }

    /// The same store, also keeping the account erasures' markers and receipts in `erasure_table`.
    pub fn with_erasure_table(mut self, erasure_table: impl Into<String>) -> Self {
        self.erasure_table = erasure_table.into();
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A consistent Query of one todo's events, in version order.
    fn one_todo_query(&self, user: &UserId, todo: &TodoId) -> QueryFluentBuilder {
        let (low, high) = event_key_range(todo);
        self.client
            .query()
            .table_name(&self.events_table)
            .consistent_read(true)
            .key_condition_expression("userId = :user AND eventKey BETWEEN :low AND :high")
            .expression_attribute_values(":user", s(user.as_str()))
            .expression_attribute_values(":low", s(low))
            .expression_attribute_values(":high", s(high))
    }
}

/// DynamoDB's error codes for "too much, too fast" and for its own faults: worth retrying later.
const TRANSIENT_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
];

/// Maps an SDK error (after the SDK's own retries) to a store error: throttling, DynamoDB's own
/// faults, timeouts and dropped connections are [`StoreError::Unavailable`] (the API answers 503
/// with `Retry-After`); anything else is a fault of ours.
fn sdk_error<E>(operation: &'static str) -> impl FnOnce(SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |error| {
        let transient = match &error {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
            SdkError::ServiceError(service) => {
                service.raw().status().is_server_error()
                    || service.err().code().is_some_and(|code| TRANSIENT_CODES.contains(&code))
            }
            _ => false,
        };
        match transient {
            true => StoreError::unavailable(operation, error),
            false => StoreError::backend(operation, error),
        }
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn decode_event(item: Item) -> Result<Event, StoreError> {
    let key = item.get(EVENT_KEY).and_then(|v| v.as_s().ok()).cloned().unwrap_or_else(|| "<no eventKey>".into());
    let record: EventRecord = serde_dynamo::from_item(item)
        .map_err(|e| StoreError::CorruptRow { key: key.clone(), detail: e.to_string() })?;
    Event::from_record(record).map_err(|source| StoreError::Corrupt { key, source })
}

/// An item as the record it claims to be, without decoding the event (the audit reads it as stored).
fn read_record(item: Item) -> StoredRecord {
    let key = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    let (user_id, event_key) = (key(USER_ID_KEY), key(EVENT_KEY));
    serde_dynamo::from_item(item).map_err(|e| UnreadableItem { user_id, event_key, detail: e.to_string() })
}

fn encode_event(event: &Event) -> Result<Item, StoreError> {
    serde_dynamo::to_item(event.to_record()).map_err(|e| StoreError::backend("encode event", e))
}

/// A read-model row: the todo's fields, its version, and the tombstone marker.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TodoRow {
    user_id: String,
    todo_id: TodoId,
    title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
    completed: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    completed_at: Option<Timestamp>,
    version: u64,
    deleted: bool,
    /// Epoch seconds after which DynamoDB may remove a tombstone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

impl TodoRow {
    fn from_row(row: &Row) -> Self {
        let item = &row.item;
        let expires_at = row
            .deleted
            .then(|| (item.updated_at.as_datetime() + chrono::Duration::days(TOMBSTONE_TTL_DAYS)).timestamp());
        Self {
            user_id: row.user.to_string(),
            todo_id: item.id,
            title: item.title.clone(),
            notes: item.notes.clone(),
            completed: item.completed,
            created_at: item.created_at,
            updated_at: item.updated_at,
            completed_at: item.completed_at,
            version: item.version,
            deleted: row.deleted,
            expires_at,
        }
    }
}

/// A read-model row as its table's stream carries it (a record's `OldImage` or `NewImage`, as
/// Lambda delivers it or as the SDK reads it): the row's user and the todo's state.
pub fn todo_state_from_image(image: impl Into<serde_dynamo::Item>) -> Result<(UserId, Todo), StoreError> {
    let item: Item = image.into().into();
    let row = decode_row(item)?;
    let state = row.state();
    Ok((row.user, state))
}

fn decode_row(item: Item) -> Result<Row, StoreError> {
    let key = format!("{:?}/{:?}", item.get(USER_ID_KEY), item.get(TODO_ID_KEY));
    let corrupt = |detail: String| StoreError::CorruptRow { key: key.clone(), detail };
    let row: TodoRow = serde_dynamo::from_item(item).map_err(|e| corrupt(e.to_string()))?;
    Ok(Row {
        user: UserId::parse(&row.user_id).map_err(|e| corrupt(e.to_string()))?,
        item: TodoItem {
            id: row.todo_id,
            title: row.title,
            notes: row.notes,
            completed: row.completed,
            created_at: row.created_at,
            updated_at: row.updated_at,
            completed_at: row.completed_at,
            version: row.version,
        },
        deleted: row.deleted,
    })
}

fn number(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

#[async_trait]
impl EventLog for DynamoStore {
    async fn load(&self, user: &UserId, todo: &TodoId) -> Result<Vec<Event>, StoreError> {
        let mut events = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .one_todo_query(user, todo)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_error("Query EventsTable (one todo)"))?;
            for item in page.items.unwrap_or_default() {
                events.push(decode_event(item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(events);
            }
        }
    }

    async fn append(&self, events: &[Event]) -> Result<(), AppendError> {
        const NEW_KEY: &str = "attribute_not_exists(eventKey)";
        match events {
            [] => Ok(()),
            [event] => {
                let result = self
                    .client
                    .put_item()
                    .table_name(&self.events_table)
                    .set_item(Some(encode_event(event)?))
                    .condition_expression(NEW_KEY)
                    .send()
                    .await;
                match result {
                    Ok(_) => Ok(()),
                    Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                        Err(AppendError::Conflict)
                    }
                    Err(e) => Err(sdk_error("PutItem EventsTable")(e).into()),
                }
            }
            several => {
                let mut writes = Vec::with_capacity(several.len());
                for event in several {
                    let put = Put::builder()
                        .table_name(&self.events_table)
                        .set_item(Some(encode_event(event)?))
                        .condition_expression(NEW_KEY)
                        .build()
                        .map_err(|e| StoreError::backend("build Put", e))?;
                    writes.push(TransactWriteItem::builder().put(put).build());
                }
                let result = self.client.transact_write_items().set_transact_items(Some(writes)).send().await;
                match result {
                    Ok(_) => Ok(()),
                    Err(e) => {
                        use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
                        // Another writer took a version (or holds the item in its own transaction):
                        // re-read and re-decide, as for a single append.
                        let conflict = match e.as_service_error() {
                            Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
                                .cancellation_reasons()
                                .iter()
                                .any(|r| matches!(r.code(), Some("ConditionalCheckFailed" | "TransactionConflict"))),
                            _ => false,
                        };
                        if conflict {
                            Err(AppendError::Conflict)
                        } else {
                            Err(sdk_error("TransactWriteItems EventsTable")(e).into())
                        }
                    }
                }
            }
        }
    }

    async fn has_events(&self, user: &UserId, todo: &TodoId) -> Result<bool, StoreError> {
        let page = self
            .one_todo_query(user, todo)
            .limit(1)
            .projection_expression(EVENT_KEY)
            .send()
            .await
            .map_err(sdk_error("Query EventsTable (one key)"))?;
        Ok(page.count > 0)
    }
}

#[async_trait]
impl EventTimeline for DynamoStore {
    async fn user_history(
        &self,
        user: &UserId,
        until: Option<Timestamp>,
        limit: usize,
        after: Option<HistoryCursor>,
    ) -> Result<Page<Event, HistoryCursor>, StoreError> {
        let start = after.map(|c| {
            HashMap::from([
                (USER_ID_KEY.to_owned(), s(user.as_str())),
                (OCCURRED_AT_KEY.to_owned(), s(c.occurred_at.to_string())),
                (EVENT_KEY.to_owned(), s(event_key(&c.todo_id, c.version))),
            ])
        });
        let mut query = self
            .client
            .query()
            .table_name(&self.events_table)
            .index_name(USER_TIMELINE_INDEX)
            .key_condition_expression("userId = :user")
            .expression_attribute_values(":user", s(user.as_str()));
        if let Some(until) = until {
            query = query
                .key_condition_expression("userId = :user AND occurredAt <= :until")
                .expression_attribute_values(":until", s(until.to_string()));
        }
        let page = query
            .limit(clamp_limit(limit))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(sdk_error("Query EventsTable UserTimeline"))?;
        let items = page.items.unwrap_or_default().into_iter().map(decode_event).collect::<Result<Vec<_>, _>>()?;
        let next = page.last_evaluated_key.and_then(|_| items.last().map(HistoryCursor::after));
        Ok(Page { items, next })
    }
}

#[async_trait]
impl EventScan for DynamoStore {
    async fn scan_records(
        &self,
        scope: Scope<'_>,
        limit: usize,
        after: Option<ScanCursor>,
    ) -> Result<Page<StoredRecord, ScanCursor>, StoreError> {
        let start = after
            .map(|c| HashMap::from([(USER_ID_KEY.to_owned(), s(c.user_id)), (EVENT_KEY.to_owned(), s(c.event_key))]));
        let (items, last) = self.read_scope(&self.events_table, scope, limit, start).await?;
        let items: Vec<StoredRecord> = items.into_iter().map(read_record).collect();
        let next = last.and_then(|_| items.last().map(ScanCursor::after_record));
        Ok(Page { items, next })
    }
}

impl DynamoStore {
    /// One page of a whole table or one of its segments (a Scan, for replay and the audit), or of
    /// one user's partition (a Query): items and where the next page starts.
    async fn read_scope(
        &self,
        table: &str,
        scope: Scope<'_>,
        limit: usize,
        start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let (items, last) = match scope {
            Scope::User(user) => {
                let page = self
                    .client
                    .query()
                    .table_name(table)
                    .consistent_read(true)
                    .key_condition_expression("userId = :user")
                    .expression_attribute_values(":user", s(user.as_str()))
                    .limit(clamp_limit(limit))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(sdk_error("Query (one user's partition)"))?;
                (page.items, page.last_evaluated_key)
            }
            Scope::All | Scope::Segment(_) => {
                let mut scan = self
                    .client
                    .scan()
                    .table_name(table)
                    .consistent_read(true)
                    .limit(clamp_limit(limit))
                    .set_exclusive_start_key(start);
                if let Scope::Segment(segment) = scope {
                    scan = scan.segment(segment.index() as i32).total_segments(segment.total() as i32);
                }
                let page = scan.send().await.map_err(sdk_error("Scan"))?;
                (page.items, page.last_evaluated_key)
            }
        };
        Ok((items.unwrap_or_default(), last))
    }
}

impl DynamoStore {
    /// Writes a per-todo row (read model or stats) unless the stored one is newer: `false` when it
    /// was kept (see [`WriteGuard`]).
    async fn guarded_put(
        &self,
        table: &str,
        item: Item,
        version: u64,
        guard: WriteGuard,
        operation: &'static str,
    ) -> Result<bool, StoreError> {
        let condition = match guard {
            WriteGuard::NewerOnly => "attribute_not_exists(todoId) OR version < :version",
            WriteGuard::NotOlder => "attribute_not_exists(todoId) OR version <= :version",
        };
        let result = self
            .client
            .put_item()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(condition)
            .expression_attribute_values(":version", number(version))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => Ok(false),
            Err(e) => Err(sdk_error(operation)(e)),
        }
    }
}

fn clamp_limit(limit: usize) -> i32 {
    i32::try_from(limit.max(1)).unwrap_or(i32::MAX)
}

fn row_key(user: &UserId, todo: &TodoId) -> Item {
    HashMap::from([(USER_ID_KEY.to_owned(), s(user.as_str())), (TODO_ID_KEY.to_owned(), s(todo.to_string()))])
}

#[async_trait]
impl ReadModel for DynamoStore {
    async fn get(&self, user: &UserId, todo: &TodoId) -> Result<Option<TodoItem>, StoreError> {
        Ok(self.state(user, todo).await?.live().cloned())
    }

    async fn list(
        &self,
        user: &UserId,
        status: StatusFilter,
        limit: usize,
        after: Option<ListCursor>,
    ) -> Result<Page<TodoItem, ListCursor>, StoreError> {
        let filter = match status {
            StatusFilter::All => "deleted = :no",
            StatusFilter::Active => "deleted = :no AND completed = :no",
            StatusFilter::Completed => "deleted = :no AND completed = :yes",
        };
        let mut start = after.map(|c| row_key(user, &c.after));
        let mut items = Vec::with_capacity(limit);
        // The filter runs after DynamoDB's own limit, so a page may come back short: keep reading
        // until the page is full or the user's rows are exhausted.
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.todo_table)
                .consistent_read(true)
                .key_condition_expression("userId = :user")
                .filter_expression(filter)
                .expression_attribute_values(":user", s(user.as_str()))
                .expression_attribute_values(":no", AttributeValue::Bool(false))
                .limit(clamp_limit(limit - items.len() + 1))
                .set_exclusive_start_key(start);
            if status == StatusFilter::Completed {
                query = query.expression_attribute_values(":yes", AttributeValue::Bool(true));
            }
            let page = query.send().await.map_err(sdk_error("Query TodoTable"))?;
            for row in page.items.unwrap_or_default() {
                let row = decode_row(row)?;
                if !row.deleted {
                    items.push(row.item);
                }
            }
            start = page.last_evaluated_key;
            if items.len() > limit {
                items.truncate(limit);
                let next = items.last().map(|item| ListCursor { after: item.id });
                return Ok(Page { items, next });
            }
            if start.is_none() {
                return Ok(Page { items, next: None });
            }
        }
    }
}

#[async_trait]
impl ProjectionStore for DynamoStore {
    async fn state(&self, user: &UserId, todo: &TodoId) -> Result<Todo, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.todo_table)
            .consistent_read(true)
            .set_key(Some(row_key(user, todo)))
            .send()
            .await
            .map_err(sdk_error("GetItem TodoTable"))?;
        match output.item {
            Some(item) => Ok(decode_row(item)?.state()),
            None => Ok(Todo::NotCreated),
        }
    }

    async fn put(&self, user: &UserId, state: &Todo, guard: WriteGuard) -> Result<bool, StoreError> {
        let Some(row) = Row::from_state(user, state) else {
            return Ok(false);
        };
        let row = TodoRow::from_row(&row);
        let version = row.version;
        let item: Item = serde_dynamo::to_item(row).map_err(|e| StoreError::backend("encode row", e))?;
        self.guarded_put(&self.todo_table, item, version, guard, "PutItem TodoTable").await
    }

    /// Conditional writes cannot be batched (BatchWriteItem takes no condition): up to
    /// [`CONCURRENT_PUTS`] PutItem calls are in flight at once instead.
    async fn put_many(&self, rows: &[(UserId, Todo)], guard: WriteGuard) -> Result<Vec<bool>, StoreError> {
        use futures::{StreamExt as _, TryStreamExt as _};
        // Collected first (futures start only when polled): a closure inside the stream would be
        // asked to work for any lifetime, which async_trait's boxed futures cannot promise.
        let puts: Vec<_> = rows.iter().map(|(user, state)| self.put(user, state, guard)).collect();
        futures::stream::iter(puts).buffered(CONCURRENT_PUTS).try_collect().await
    }

    async fn remove(&self, user: &UserId, todo: &TodoId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.todo_table)
            .set_key(Some(row_key(user, todo)))
            .send()
            .await
            .map_err(sdk_error("DeleteItem TodoTable"))?;
        Ok(())
    }

    async fn scan_rows(
        &self,
        scope: Scope<'_>,
        limit: usize,
        after: Option<(UserId, TodoId)>,
    ) -> Result<Page<Row, (UserId, TodoId)>, StoreError> {
        let start = after.map(|(u, t)| row_key(&u, &t));
        let (items, last) = self.read_scope(&self.todo_table, scope, limit, start).await?;
        let rows = items.into_iter().map(decode_row).collect::<Result<Vec<_>, _>>()?;
        let next = last.and_then(|_| rows.last().map(Row::key));
        Ok(Page { items: rows, next })
    }
}

/// A stats row: a todo's facts under the user's partition.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FactsRow {
    user_id: String,
    #[serde(flatten)]
    facts: TodoFacts,
}

fn decode_facts(item: Item) -> Result<(UserId, TodoFacts), StoreError> {
    let key = format!("{:?}/{:?}", item.get(USER_ID_KEY), item.get(TODO_ID_KEY));
    let corrupt = |detail: String| StoreError::CorruptRow { key: key.clone(), detail };
    let row: FactsRow = serde_dynamo::from_item(item).map_err(|e| corrupt(e.to_string()))?;
    Ok((UserId::parse(&row.user_id).map_err(|e| corrupt(e.to_string()))?, row.facts))
}

#[async_trait]
impl StatsStore for DynamoStore {
    async fn put_facts(&self, user: &UserId, facts: &TodoFacts, guard: WriteGuard) -> Result<bool, StoreError> {
        let row = FactsRow { user_id: user.to_string(), facts: facts.clone() };
        let item: Item = serde_dynamo::to_item(row).map_err(|e| StoreError::backend("encode stats row", e))?;
        self.guarded_put(&self.stats_table, item, facts.version, guard, "PutItem StatsTable").await
    }

    /// Up to [`CONCURRENT_PUTS`] conditional PutItem calls in flight, as for the read model.
    async fn put_many_facts(&self, rows: &[(UserId, TodoFacts)], guard: WriteGuard) -> Result<Vec<bool>, StoreError> {
        use futures::{StreamExt as _, TryStreamExt as _};
        let puts: Vec<_> = rows.iter().map(|(user, facts)| self.put_facts(user, facts, guard)).collect();
        futures::stream::iter(puts).buffered(CONCURRENT_PUTS).try_collect().await
    }

    async fn facts(&self, user: &UserId, todo: &TodoId) -> Result<Option<TodoFacts>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.stats_table)
            .consistent_read(true)
            .set_key(Some(row_key(user, todo)))
            .send()
            .await
            .map_err(sdk_error("GetItem StatsTable"))?;
        output.item.map(|item| decode_facts(item).map(|(_, facts)| facts)).transpose()
    }

    async fn user_facts(&self, user: &UserId) -> Result<Vec<TodoFacts>, StoreError> {
        let mut facts = Vec::new();
        let mut start = None;
        loop {
            let (items, last) = self.read_scope(&self.stats_table, Scope::User(user), 1000, start).await?;
            for item in items {
                facts.push(decode_facts(item)?.1);
            }
            start = last;
            if start.is_none() {
                return Ok(facts);
            }
        }
    }

    async fn scan_facts(
        &self,
        scope: Scope<'_>,
        limit: usize,
        after: Option<(UserId, TodoId)>,
    ) -> Result<Page<(UserId, TodoFacts), (UserId, TodoId)>, StoreError> {
        let start = after.map(|(u, t)| row_key(&u, &t));
        let (items, last) = self.read_scope(&self.stats_table, scope, limit, start).await?;
        let rows = items.into_iter().map(decode_facts).collect::<Result<Vec<_>, _>>()?;
        let next = last.and_then(|_| rows.last().map(|(user, facts)| (user.clone(), facts.todo_id)));
        Ok(Page { items: rows, next })
    }

    async fn remove_facts(&self, user: &UserId, todo: &TodoId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.stats_table)
            .set_key(Some(row_key(user, todo)))
            .send()
            .await
            .map_err(sdk_error("DeleteItem StatsTable"))?;
        Ok(())
    }
}

/// The most a snapshot item's `body` holds, in bytes: DynamoDB's items are at most 400 KB.
const SNAPSHOT_PART_BYTES: usize = 300_000;
/// Parts are numbered with 4 digits.
const MAX_SNAPSHOT_PARTS: usize = 10_000;
/// How many of a user's latest snapshots at or before an instant are looked at before a list as
/// of it folds from the first event: one a writer left incomplete is skipped for the one before.
const SNAPSHOT_TRIES: usize = 3;

/// `<instant>#<part, 4 digits>`: the instant is fixed-width RFC 3339 (microseconds, UTC), so a
/// user's items sort by instant, then by part.
fn snapshot_key(at: &Timestamp, part: usize) -> String {
    format!("{at}#{part:04}")
}

/// One part of a stored snapshot: the JSON of [`ListSnapshot::encode_todos`], cut into bodies of
/// at most [`SNAPSHOT_PART_BYTES`] (at character boundaries), one item each.
///
/// Every part of one write carries that write's `writeId`: a replacement written over a
/// snapshot of the same instant (or one that died halfway through it) leaves parts of two writes
/// side by side, and only the parts of the write part 0 names make a snapshot.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotPart {
    user_id: String,
    snapshot_key: String,
    at: Timestamp,
    part: usize,
    parts: usize,
    events: u64,
    write_id: String,
    body: String,
}

fn decode_snapshot_part(item: Item) -> Result<SnapshotPart, StoreError> {
    let key = format!("{:?}/{:?}", item.get(USER_ID_KEY), item.get(SNAPSHOT_KEY));
    serde_dynamo::from_item(item).map_err(|e| StoreError::CorruptRow { key, detail: e.to_string() })
}

/// `body` in pieces of at most [`SNAPSHOT_PART_BYTES`], none splitting a character.
fn split_body(body: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = body;
    while rest.len() > SNAPSHOT_PART_BYTES {
        let (piece, tail) = rest.split_at(rest.floor_char_boundary(SNAPSHOT_PART_BYTES));
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    pieces
}

/// The snapshot the parts of one instant (in key order) make: those of the write part 0 names,
/// all of them; `None` when one is missing (its writer died halfway, or is still writing).
fn assemble(user: &UserId, parts: Vec<SnapshotPart>) -> Result<Option<ListSnapshot>, StoreError> {
    let Some(head) = parts.first().filter(|head| head.part == 0) else {
        return Ok(None);
    };
    let (count, write_id) = (head.parts, head.write_id.clone());
    let ours: Vec<&SnapshotPart> = parts.iter().filter(|part| part.write_id == write_id).collect();
    let complete = ours.len() >= count
        && ours.iter().take(count).enumerate().all(|(index, part)| part.part == index && part.parts == count);
    if !complete {
        return Ok(None);
    }
    let body: String = ours.iter().take(count).map(|part| part.body.as_str()).collect();
    let todos = ListSnapshot::decode_todos(&format!("{user}/{}", head.snapshot_key), [body.as_str()])?;
    Ok(Some(ListSnapshot { user: user.clone(), at: head.at, events: head.events, todos }))
}

impl DynamoStore {
    /// The user's highest-sorted snapshot item whose key satisfies `condition` against `:key`.
    async fn last_snapshot_part(
        &self,
        user: &UserId,
        condition: &str,
        key: String,
    ) -> Result<Option<SnapshotPart>, StoreError> {
        let page = self
            .client
            .query()
            .table_name(&self.snapshots_table)
            .key_condition_expression(format!("userId = :user AND snapshotKey {condition} :key"))
            .expression_attribute_values(":user", s(user.as_str()))
            .expression_attribute_values(":key", s(key))
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .map_err(sdk_error("Query SnapshotsTable (latest)"))?;
        page.items.unwrap_or_default().into_iter().next().map(decode_snapshot_part).transpose()
    }

    /// Every part stored for the user's snapshot at `at`, in key order.
    async fn snapshot_parts(&self, user: &UserId, at: &Timestamp) -> Result<Vec<SnapshotPart>, StoreError> {
        let mut parts = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.snapshots_table)
                .key_condition_expression("userId = :user AND snapshotKey BETWEEN :first AND :last")
                .expression_attribute_values(":user", s(user.as_str()))
                .expression_attribute_values(":first", s(snapshot_key(at, 0)))
                .expression_attribute_values(":last", s(snapshot_key(at, MAX_SNAPSHOT_PARTS - 1)))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_error("Query SnapshotsTable (one snapshot)"))?;
            for item in page.items.unwrap_or_default() {
                parts.push(decode_snapshot_part(item)?);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(parts);
            }
        }
    }
}

/// Reads are eventually consistent: a part not seen yet makes its snapshot incomplete, so it is
/// skipped for the one before, never misread.
#[async_trait]
impl SnapshotStore for DynamoStore {
    async fn latest_snapshot(&self, user: &UserId, at: Timestamp) -> Result<Option<ListSnapshot>, StoreError> {
        let (mut condition, mut key) = ("<=", snapshot_key(&at, MAX_SNAPSHOT_PARTS - 1));
        for _ in 0..SNAPSHOT_TRIES {
            let Some(last) = self.last_snapshot_part(user, condition, key).await? else {
                return Ok(None);
            };
            // The highest part of its instant: a lone part 0 is the whole snapshot.
            if last.part == 0 && last.parts == 1 {
                return assemble(user, vec![last]);
            }
            let parts = self.snapshot_parts(user, &last.at).await?;
            if let Some(snapshot) = assemble(user, parts)? {
                return Ok(Some(snapshot));
            }
            // Incomplete: the latest before this instant.
            (condition, key) = ("<", format!("{}#", last.at));
        }
        Ok(None)
    }

    async fn put_snapshot(&self, snapshot: &ListSnapshot) -> Result<(), StoreError> {
        const OPERATION: &str = "PutItem SnapshotsTable";
        let body = ListSnapshot::encode_todos(&snapshot.todos)?;
        let bodies = split_body(&body);
        if bodies.len() > MAX_SNAPSHOT_PARTS {
            return Err(StoreError::backend(
                OPERATION,
                format!("a list snapshot of {} bytes needs more than {MAX_SNAPSHOT_PARTS} parts", body.len()),
            ));
        }
        let write_id = uuid::Uuid::new_v4().to_string();
        // In order: a reader that finds part 0 of this write and not the rest skips the snapshot.
        for (index, piece) in bodies.iter().enumerate() {
            let part = SnapshotPart {
                user_id: snapshot.user.to_string(),
                snapshot_key: snapshot_key(&snapshot.at, index),
                at: snapshot.at,
                part: index,
                parts: bodies.len(),
                events: snapshot.events,
                write_id: write_id.clone(),
                body: (*piece).to_owned(),
            };
            let item: Item =
                serde_dynamo::to_item(part).map_err(|e| StoreError::backend("encode a list snapshot", e))?;
            self.client
                .put_item()
                .table_name(&self.snapshots_table)
                .set_item(Some(item))
                .send()
                .await
                .map_err(sdk_error(OPERATION))?;
        }
        Ok(())
    }
}

/// Creates the stats projection's table as `template.yaml` declares it (for DynamoDB Local and the
/// tests), and waits until it is active. An existing table is left as it is.
pub async fn create_stats_table(client: &Client, stats_table: &str) -> anyhow::Result<()> {
    create_user_table_if_missing(client, stats_table, TODO_ID_KEY).await
}

/// Creates the list snapshots' table as `template.yaml` declares it (for DynamoDB Local and the
/// tests), and waits until it is active. An existing table is left as it is.
pub async fn create_snapshots_table(client: &Client, snapshots_table: &str) -> anyhow::Result<()> {
    create_user_table_if_missing(client, snapshots_table, SNAPSHOT_KEY).await
}

async fn create_user_table_if_missing(client: &Client, table: &str, sort_key: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let existing = client.list_tables().send().await.context("ListTables")?.table_names.unwrap_or_default();
    if !existing.iter().any(|t| t == table) {
        create_user_table(client, table, sort_key, None).await?;
    }
    wait_until_active(client, table).await
}

/// A table of a user's items (`userId`, then the string `sort_key`): the read model's and the
/// stats' (one row per todo, `todoId`), the snapshots' (`snapshotKey`), the connections'
/// (`connectionId`); with a stream of that view when there is one.
async fn create_user_table(
    client: &Client,
    table: &str,
    sort_key: &str,
    stream: Option<StreamViewType>,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let key = |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    let attribute =
        |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build();
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(USER_ID_KEY, KeyType::Hash)?)
        .key_schema(key(sort_key, KeyType::Range)?)
        .attribute_definitions(attribute(USER_ID_KEY)?)
        .attribute_definitions(attribute(sort_key)?)
        .set_stream_specification(
            stream
                .map(|view| StreamSpecification::builder().stream_enabled(true).stream_view_type(view).build())
                .transpose()?,
        )
        .send()
        .await
        .with_context(|| format!("CreateTable {table}"))?;
    Ok(())
}

/// Creates `ConnectionsTable` as `template.yaml` declares it (TTL on `expiresAt`) unless it exists,
/// and waits until it is active.
pub async fn create_connections_table(client: &Client, connections_table: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let existing = client.list_tables().send().await.context("ListTables")?.table_names.unwrap_or_default();
    if !existing.iter().any(|t| t == connections_table) {
        create_user_table(client, connections_table, CONNECTION_ID_KEY, None).await?;
        client
            .update_time_to_live()
            .table_name(connections_table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().enabled(true).attribute_name(CONNECTIONS_TTL_ATTRIBUTE).build()?,
            )
            .send()
            .await
            .with_context(|| format!("UpdateTimeToLive {connections_table}"))?;
    }
    wait_until_active(client, connections_table).await
}

/// Creates `ErasureTable` as `template.yaml` declares it (partition key `userKey`, no sort key) unless
/// it exists, and waits until it is active.
pub async fn create_erasure_table(client: &Client, erasure_table: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let existing = client.list_tables().send().await.context("ListTables")?.table_names.unwrap_or_default();
    if !existing.iter().any(|t| t == erasure_table) {
        client
            .create_table()
            .table_name(erasure_table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(KeySchemaElement::builder().attribute_name(USER_KEY).key_type(KeyType::Hash).build()?)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(USER_KEY)
                    .attribute_type(ScalarAttributeType::S)
                    .build()?,
            )
            .send()
            .await
            .with_context(|| format!("CreateTable {erasure_table}"))?;
    }
    wait_until_active(client, erasure_table).await
}

/// Creates both tables as `template.yaml` declares them (for DynamoDB Local and the tests), and
/// waits until they are active. Existing tables are left as they are.
pub async fn create_tables(client: &Client, events_table: &str, todo_table: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let key = |name: &str, kind: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kind).build();
    let attribute =
        |name: &str| AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build();

    let existing = client.list_tables().send().await.context("ListTables")?.table_names.unwrap_or_default();

    if !existing.iter().any(|t| t == events_table) {
        client
            .create_table()
            .table_name(events_table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key(USER_ID_KEY, KeyType::Hash)?)
            .key_schema(key(EVENT_KEY, KeyType::Range)?)
            .attribute_definitions(attribute(USER_ID_KEY)?)
            .attribute_definitions(attribute(EVENT_KEY)?)
            .attribute_definitions(attribute(OCCURRED_AT_KEY)?)
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(USER_TIMELINE_INDEX)
                    .key_schema(key(USER_ID_KEY, KeyType::Hash)?)
                    .key_schema(key(OCCURRED_AT_KEY, KeyType::Range)?)
                    .projection(Projection::builder().projection_type(ProjectionType::All).build())
                    .build()?,
            )
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewImage)
                    .build()?,
            )
            .send()
            .await
            .with_context(|| format!("CreateTable {events_table}"))?;
    }
    if !existing.iter().any(|t| t == todo_table) {
        // The read model's stream carries both images: the notifier pushes each change from them.
        create_user_table(client, todo_table, TODO_ID_KEY, Some(StreamViewType::NewAndOldImages)).await?;
        client
            .update_time_to_live()
            .table_name(todo_table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().enabled(true).attribute_name(TODO_TABLE_TTL_ATTRIBUTE).build()?,
            )
            .send()
            .await
            .with_context(|| format!("UpdateTimeToLive {todo_table}"))?;
    }
    for table in [events_table, todo_table] {
        wait_until_active(client, table).await?;
    }
    Ok(())
}

async fn wait_until_active(client: &Client, table: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use aws_sdk_dynamodb::types::TableStatus;
    for _ in 0..600 {
        let described =
            client.describe_table().table_name(table).send().await.with_context(|| format!("DescribeTable {table}"))?;
        if described.table.and_then(|t| t.table_status) == Some(TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("table {table} did not become active within a minute")
}

/// One connection as `ConnectionsTable` holds it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionItem {
    user_id: String,
    connection_id: String,
    connected_at: Timestamp,
    /// Epoch seconds after which DynamoDB may remove the item (API Gateway has closed it by then).
    expires_at: i64,
}

#[async_trait]
impl ConnectionStore for DynamoStore {
    async fn put_connection(&self, connection: &Connection) -> Result<(), StoreError> {
        let item = ConnectionItem {
            user_id: connection.user.to_string(),
            connection_id: connection.id.to_string(),
            connected_at: connection.connected_at,
            expires_at: connection.expires_at().as_datetime().timestamp(),
        };
        let item: Item = serde_dynamo::to_item(item).map_err(|e| StoreError::backend("encode a connection", e))?;
        self.client
            .put_item()
            .table_name(&self.connections_table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(sdk_error("PutItem ConnectionsTable"))?;
        Ok(())
    }

    async fn remove_connection(&self, user: &UserId, id: &ConnectionId) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.connections_table)
            .key(USER_ID_KEY, s(user.as_str()))
            .key(CONNECTION_ID_KEY, s(id.as_str()))
            .send()
            .await
            .map_err(sdk_error("DeleteItem ConnectionsTable"))?;
        Ok(())
    }

    async fn user_connections(&self, user: &UserId, now: Timestamp) -> Result<Vec<Connection>, StoreError> {
        let mut connections = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.connections_table)
                .consistent_read(true)
                .key_condition_expression("userId = :user")
                .expression_attribute_values(":user", s(user.as_str()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(sdk_error("Query ConnectionsTable"))?;
            for item in page.items.unwrap_or_default() {
                let key = format!("connection {user} {:?}", item.get(CONNECTION_ID_KEY));
                let corrupt = |detail: String| StoreError::CorruptRow { key: key.clone(), detail };
                let stored: ConnectionItem = serde_dynamo::from_item(item).map_err(|e| corrupt(e.to_string()))?;
                let connection = Connection {
                    user: user.clone(),
                    id: ConnectionId::parse(&stored.connection_id).map_err(|e| corrupt(e.to_string()))?,
                    connected_at: stored.connected_at,
                };
                if connection.is_open_at(now) {
                    connections.push(connection);
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(connections);
            }
        }
    }
}

/// Whether an erasure is under way or done, as `ErasureTable` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ErasureStatus {
    Erasing,
    Erased,
}

/// One item of `ErasureTable`: the keyed hash of the user id, times, the request id and the counts
/// (top-level numbers, readable in the console). Nothing else, so nothing personal.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErasureItem {
    user_key: String,
    status: ErasureStatus,
    requested_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    erased_at: Option<Timestamp>,
    request_id: String,
    #[serde(flatten)]
    erased: ErasedCounts,
}

fn encode_erasure(erasure: &Erasure) -> Result<Item, StoreError> {
    let item = match erasure {
        Erasure::Erasing { user_key, requested_at, request_id, erased } => ErasureItem {
            user_key: user_key.to_string(),
            status: ErasureStatus::Erasing,
            requested_at: *requested_at,
            erased_at: None,
            request_id: request_id.clone(),
            erased: *erased,
        },
        Erasure::Erased(receipt) => ErasureItem {
            user_key: receipt.user_key.to_string(),
            status: ErasureStatus::Erased,
            requested_at: receipt.requested_at,
            erased_at: Some(receipt.erased_at),
            request_id: receipt.request_id.clone(),
            erased: receipt.erased,
        },
    };
    serde_dynamo::to_item(item).map_err(|e| StoreError::backend("encode an erasure", e))
}

fn decode_erasure(item: Item) -> Result<Erasure, StoreError> {
    let key = format!("erasure {:?}", item.get(USER_KEY));
    let corrupt = |detail: String| StoreError::CorruptRow { key: key.clone(), detail };
    let stored: ErasureItem = serde_dynamo::from_item(item).map_err(|e| corrupt(e.to_string()))?;
    let user_key = UserKey::parse(&stored.user_key).ok_or_else(|| corrupt("the key is no user key".into()))?;
    Ok(match (stored.status, stored.erased_at) {
        (ErasureStatus::Erasing, _) => Erasure::Erasing {
            user_key,
            requested_at: stored.requested_at,
            request_id: stored.request_id,
            erased: stored.erased,
        },
        (ErasureStatus::Erased, Some(erased_at)) => Erasure::Erased(ErasureReceipt {
            user_key,
            requested_at: stored.requested_at,
            erased_at,
            request_id: stored.request_id,
            erased: stored.erased,
        }),
        (ErasureStatus::Erased, None) => return Err(corrupt("a receipt without erasedAt".into())),
    })
}

fn erasure_key(user: &UserKey) -> Item {
    HashMap::from([(USER_KEY.to_owned(), s(user.as_str()))])
}

fn is_conditional_check_failed<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    error.as_service_error().and_then(ProvideErrorMetadata::code) == Some("ConditionalCheckFailedException")
}

#[async_trait]
impl ErasureLog for DynamoStore {
    async fn erasure(&self, user: &UserKey) -> Result<Option<Erasure>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.erasure_table)
            .consistent_read(true)
            .set_key(Some(erasure_key(user)))
            .send()
            .await
            .map_err(sdk_error("GetItem ErasureTable"))?;
        output.item.map(decode_erasure).transpose()
    }

    async fn begin_erasure(
        &self,
        user: &UserKey,
        requested_at: Timestamp,
        request_id: &str,
    ) -> Result<Erasure, StoreError> {
        let marker = Erasure::Erasing {
            user_key: user.clone(),
            requested_at,
            request_id: request_id.to_owned(),
            erased: ErasedCounts::default(),
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.erasure_table)
            .set_item(Some(encode_erasure(&marker)?))
            .condition_expression("attribute_not_exists(userKey)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(marker),
            // Asked before: what the first request stored (items of this table are never deleted).
            Err(e) if is_conditional_check_failed(&e) => self.erasure(user).await?.ok_or_else(|| {
                StoreError::backend("PutItem ErasureTable", format!("the erasure of {user} is there and then not"))
            }),
            Err(e) => Err(sdk_error("PutItem ErasureTable")(e)),
        }
    }

    async fn record_erasure(&self, erasure: &Erasure) -> Result<(), StoreError> {
        let mut put = self.client.put_item().table_name(&self.erasure_table).set_item(Some(encode_erasure(erasure)?));
        if let Erasure::Erasing { .. } = erasure {
            // Progress never overwrites a receipt (a slower run of the same erasure reporting late).
            put = put
                .condition_expression("attribute_not_exists(userKey) OR #status <> :erased")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":erased", s("erased"));
        }
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_conditional_check_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error("PutItem ErasureTable")(e)),
        }
    }

    /// A Scan: in the table's order (by the hash of the key), not the keys' own.
    async fn erasures(&self, limit: usize, after: Option<UserKey>) -> Result<Page<Erasure, UserKey>, StoreError> {
        let page = self
            .client
            .scan()
            .table_name(&self.erasure_table)
            .consistent_read(true)
            .limit(clamp_limit(limit))
            .set_exclusive_start_key(after.as_ref().map(erasure_key))
            .send()
            .await
            .map_err(sdk_error("Scan ErasureTable"))?;
        let items = page.items.unwrap_or_default().into_iter().map(decode_erasure).collect::<Result<Vec<_>, _>>()?;
        let next = page.last_evaluated_key.and_then(|_| items.last().map(|erasure| erasure.user_key().clone()));
        Ok(Page { items, next })
    }
}

/// The most delete requests one BatchWriteItem takes.
const BATCH_WRITE_MAX: usize = 25;
/// How often a batch's unprocessed items are sent again before the store counts as unavailable.
const BATCH_WRITE_TRIES: u32 = 8;
/// The wait before the first retry of unprocessed items; it doubles each time, to at most a second.
const BATCH_WRITE_BACKOFF: std::time::Duration = std::time::Duration::from_millis(25);

impl DynamoStore {
    /// The table that holds `what` of a user, and its sort key; `None` when this store was built
    /// without it.
    fn user_table(&self, what: UserData) -> Option<(&str, &'static str)> {
        let (table, sort_key) = match what {
            UserData::Connections => (&self.connections_table, CONNECTION_ID_KEY),
            UserData::Events => (&self.events_table, EVENT_KEY),
            UserData::Todos => (&self.todo_table, TODO_ID_KEY),
            UserData::Stats => (&self.stats_table, TODO_ID_KEY),
            UserData::Snapshots => (&self.snapshots_table, SNAPSHOT_KEY),
        };
        (!table.is_empty()).then_some((table.as_str(), sort_key))
    }

    /// Deletes `keys` from `table`, [`BATCH_WRITE_MAX`] per request, sending what DynamoDB leaves
    /// unprocessed again after a short wait.
    async fn delete_keys(&self, table: &str, keys: Vec<Item>) -> Result<(), StoreError> {
        const OPERATION: &str = "BatchWriteItem (erase a user)";
        let mut keys = keys.into_iter();
        loop {
            let mut requests = Vec::with_capacity(BATCH_WRITE_MAX);
            for key in keys.by_ref().take(BATCH_WRITE_MAX) {
                let delete = DeleteRequest::builder()
                    .set_key(Some(key))
                    .build()
                    .map_err(|e| StoreError::backend(OPERATION, e))?;
                requests.push(WriteRequest::builder().delete_request(delete).build());
            }
            if requests.is_empty() {
                return Ok(());
            }
            let mut backoff = BATCH_WRITE_BACKOFF;
            for attempt in 1.. {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(table, requests)
                    .send()
                    .await
                    .map_err(sdk_error(OPERATION))?;
                requests = output.unprocessed_items.and_then(|mut left| left.remove(table)).unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                if attempt >= BATCH_WRITE_TRIES {
                    return Err(StoreError::unavailable(
                        OPERATION,
                        format!("{} deletes still unprocessed after {attempt} tries", requests.len()),
                    ));
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(std::time::Duration::from_secs(1));
            }
        }
    }
}

/// A page of the user's keys (a consistent Query of their partition, the keys only), then those
/// keys deleted in batches. Only `erase-account` is allowed to do this to the event table.
#[async_trait]
impl UserEraser for DynamoStore {
    async fn erase_some(&self, user: &UserId, what: UserData, limit: usize) -> Result<usize, StoreError> {
        let Some((table, sort_key)) = self.user_table(what) else {
            return Ok(0);
        };
        if limit == 0 {
            return Ok(0);
        }
        let page = self
            .client
            .query()
            .table_name(table)
            .consistent_read(true)
            .key_condition_expression("#user = :user")
            .expression_attribute_names("#user", USER_ID_KEY)
            .expression_attribute_names("#sort", sort_key)
            .expression_attribute_values(":user", s(user.as_str()))
            .projection_expression("#user, #sort")
            .limit(clamp_limit(limit))
            .send()
            .await
            .map_err(sdk_error("Query (the keys of one user's partition)"))?;
        let keys = page.items.unwrap_or_default();
        let erased = keys.len();
        self.delete_keys(table, keys).await?;
        Ok(erased)
    }
}
