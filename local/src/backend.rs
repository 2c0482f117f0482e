//! The functions behind the API, wired to a store: the one place that knows which handler
//! serves which manifest binary, and which store and change feed the stack runs on.
//!
//! - Embedded (default): [`SqliteStore`] in the data dir, its change feed driving the projector.
//! - DynamoDB (`--dynamodb-endpoint`): the real tables (created if missing, named by
//!   `EVENTS_TABLE_NAME` / `TODO_TABLE_NAME` / `STATS_TABLE_NAME` / `SNAPSHOTS_TABLE_NAME`, default
//!   `EventsTable` / `TodoTable` / `StatsTable` / `SnapshotsTable`) and their stream, polled and
//!   handed to the projector in the batches Lambda would deliver.
//!
//! Live updates (`/live`): embedded, the projector hands each row it writes to the stack's live hub.
//! On DynamoDB the path is the one on AWS: the hub records its connections in `ConnectionsTable`
//! (`CONNECTIONS_TABLE_NAME`), and the `notifier` follows the read model's stream and posts each
//! change to the recorded connections of its user, through the hub.

use std::sync::Arc;
use std::time::Duration;

use account::ErasureService;
use anyhow::Context as _;
use audit::AuditService;
use aws_config::BehaviorVersion;
use aws_lambda_events::event::dynamodb::Event as StreamBatch;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use commands::CommandService;
use live::notifier::Notifier;
use projector::Projector;
use projector::stream::StreamPoller;
use queries::QueryService;
use todo_platform::http::Edge;
use todo_platform::manifest::{
    CONNECTIONS_TABLE_NAME, ERASURE_KEY, ERASURE_TABLE_NAME, EVENTS_TABLE_NAME, SNAPSHOTS_TABLE_NAME, STATS_TABLE_NAME,
    TODO_TABLE_NAME,
};
use todo_platform::store::dynamo::{
    DynamoStore, create_connections_table, create_erasure_table, create_snapshots_table, create_stats_table,
    create_tables,
};
use todo_platform::store::{ErasureFence, ErasureKey, FENCE_REMEMBER, UserEraser};

use crate::app::StackContext;
use crate::gateway::functions::Functions;
use crate::lambda;
use crate::sqlite::SqliteStore;

/// The handlers for the running stack, with the projector started in the background.
pub async fn functions(stack: &StackContext) -> anyhow::Result<Functions> {
    let edge = Edge::new(&stack.origin)?;
    let (commands, queries, audit, account) = match &stack.dynamodb_endpoint {
        None => embedded(stack, edge)?,
        Some(endpoint) => dynamodb(endpoint, edge, stack).await?,
    };
    Ok(Functions::new()
        .with("create-todo", lambda!(commands, commands::http::create_todo))?
        .with("update-todo", lambda!(commands, commands::http::update_todo))?
        .with("complete-todo", lambda!(commands, commands::http::complete_todo))?
        .with("delete-todo", lambda!(commands, commands::http::delete_todo))?
        .with("list-todos", lambda!(queries, queries::http::list_todos))?
        .with("get-todo", lambda!(queries, queries::http::get_todo))?
        .with("get-todo-history", lambda!(queries, queries::http::get_todo_history))?
        .with("get-history", lambda!(queries, queries::http::get_history))?
        .with("get-stats", lambda!(queries, queries::http::get_stats))?
        .with("get-history-digest", lambda!(audit, audit::http::get_history_digest))?
        .with("export-data", lambda!(audit, audit::http::export_data))?
        .with("erase-account", lambda!(account, account::http::erase_account))?)
}

type Services = (Arc<CommandService>, Arc<QueryService>, Arc<AuditService>, Arc<ErasureService>);

fn embedded(stack: &StackContext, edge: Edge) -> anyhow::Result<Services> {
    let store = SqliteStore::open(&stack.data_dir)?;
    tracing::info!(path = %stack.data_dir.join("todo.sqlite3").display(), "embedded store");
    let shared = Arc::new(store.clone());
    let key = store.erasure_key();
    let projector = Projector::new(shared.clone(), shared.clone())
        .with_stats(shared.clone())
        .with_snapshots(shared.clone(), shared.clone())
        .with_live(stack.live.clone())
        .with_erasures(shared.clone(), key.clone(), shared.clone());
    tokio::spawn(crate::feed::follow(store, projector));
    // The SQLite store refuses an erased user's appends and projection writes in the same
    // transaction that checks the marker: no fence in the commands, nothing to settle.
    stack.live.fence_with(ErasureFence::new(shared.clone(), key.clone(), Duration::ZERO))?;
    let holders: Vec<Arc<dyn UserEraser>> = vec![shared.clone(), stack.live.clone()];
    let account = ErasureService::new(shared.clone(), key, holders, edge.clone()).with_settle(Duration::ZERO);
    Ok((
        Arc::new(CommandService::new(shared.clone(), edge.clone())),
        Arc::new(QueryService::with_store(shared.clone(), edge.clone()).with_snapshots(shared.clone())),
        Arc::new(AuditService::new(shared, edge)),
        Arc::new(account),
    ))
}

async fn dynamodb(endpoint: &str, edge: Edge, stack: &StackContext) -> anyhow::Result<Services> {
    let live = stack.live.clone();
    let table = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_owned());
    let (events, todos) = (table(EVENTS_TABLE_NAME, "EventsTable"), table(TODO_TABLE_NAME, "TodoTable"));
    let stats = table(STATS_TABLE_NAME, "StatsTable");
    let snapshots = table(SNAPSHOTS_TABLE_NAME, "SnapshotsTable");
    let connections = table(CONNECTIONS_TABLE_NAME, "ConnectionsTable");
    let erasures = table(ERASURE_TABLE_NAME, "ErasureTable");
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).endpoint_url(endpoint);
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none() {
        loader = loader.region(aws_config::Region::new("us-east-1"));
    }
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() && std::env::var_os("AWS_PROFILE").is_none() {
        // DynamoDB Local accepts any credentials; a real endpoint gets the SDK's usual chain.
        loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local",
            "local",
            None,
            None,
            "todo-local",
        ));
    }
    let config = loader.load().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    create_tables(&client, &events, &todos).await.with_context(|| format!("preparing the tables at {endpoint}"))?;
    create_stats_table(&client, &stats).await.with_context(|| format!("preparing the stats table at {endpoint}"))?;
    create_snapshots_table(&client, &snapshots)
        .await
        .with_context(|| format!("preparing the snapshots table at {endpoint}"))?;
    create_connections_table(&client, &connections)
        .await
        .with_context(|| format!("preparing the connections table at {endpoint}"))?;
    create_erasure_table(&client, &erasures)
        .await
        .with_context(|| format!("preparing the erasure table at {endpoint}"))?;
    tracing::info!(endpoint, events, todos, stats, snapshots, connections, erasures, "DynamoDB store");
    let key = erasure_key(&stack.data_dir)?;

    let store = Arc::new(
        DynamoStore::new(client, events.clone(), todos.clone())
            .with_stats_table(stats)
            .with_snapshots_table(snapshots)
            .with_connections_table(connections)
            .with_erasure_table(erasures),
    );
    let projector = Projector::new(store.clone(), store.clone())
        .with_stats(store.clone())
        .with_snapshots(store.clone(), store.clone())
        .with_erasures(store.clone(), key.clone(), store.clone());
    let events_stream = StreamPoller::open(&config, &events).await?;
    tokio::spawn(follow_stream("projector", events_stream, move |batch| {
        let projector = projector.clone();
        async move { projector.handle_batch(batch).await }
    }));
    live.record_in(store.clone())?;
    let notifier = Notifier::new(store.clone(), live.clone());
    let read_model_stream = StreamPoller::open(&config, &todos).await?;
    tokio::spawn(follow_stream("notifier", read_model_stream, move |batch| {
        let notifier = notifier.clone();
        async move { notifier.handle_batch(batch).await }
    }));
    // As on AWS: the commands read the marker through a fence; the erasure settles.
    let fence = ErasureFence::new(store.clone(), key.clone(), FENCE_REMEMBER);
    live.fence_with(ErasureFence::new(store.clone(), key.clone(), FENCE_REMEMBER))?;
    let holders: Vec<Arc<dyn UserEraser>> = vec![store.clone(), live];
    let account = ErasureService::new(store.clone(), key, holders, edge.clone());
    Ok((
        Arc::new(CommandService::new(store.clone(), edge.clone()).with_fence(fence)),
        Arc::new(QueryService::with_store(store.clone(), edge.clone()).with_snapshots(store.clone())),
        Arc::new(AuditService::new(store, edge)),
        Arc::new(account),
    ))
}

/// The erasure key in DynamoDB mode: `ERASURE_KEY` if set (as on AWS), else the data dir's
/// `erasure.key`, made once.
fn erasure_key(data_dir: &std::path::Path) -> anyhow::Result<ErasureKey> {
    if std::env::var_os(ERASURE_KEY).is_some() {
        return ErasureKey::from_env();
    }
    let path = data_dir.join("erasure.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => ErasureKey::from_hex(&text).with_context(|| format!("{} is not an erasure key", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = ErasureKey::generate();
            std::fs::create_dir_all(data_dir)?;
            std::fs::write(&path, key.to_hex()).with_context(|| format!("writing {}", path.display()))?;
            Ok(key)
        }
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

/// Polls a table's stream as Lambda's event source mapping would, and hands each batch to
/// `handler` (the projector on the event table's, the notifier on the read model's). A record the
/// handler reports as failed is logged by it and left: `replay` repairs the read model from the
/// events, and a missed push is caught up by the client's re-read on its next version gap.
async fn follow_stream<F, R>(function: &'static str, mut poller: StreamPoller, handler: F)
where
    F: Fn(StreamBatch) -> R,
    R: Future<Output = DynamoDbEventResponse>,
{
    loop {
        match poller.poll().await {
            Ok(batch) if batch.records.is_empty() => tokio::time::sleep(Duration::from_millis(50)).await,
            Ok(batch) => {
                let response = handler(batch).await;
                if !response.batch_item_failures.is_empty() {
                    tracing::error!(function, failed = response.batch_item_failures.len(), "records not handled");
                }
            }
            Err(error) => {
                tracing::error!(function, error = format!("{error:#}"), "reading the stream failed, retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
