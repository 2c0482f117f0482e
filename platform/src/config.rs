//! Start-up configuration: read once, fail fast, with a message that says what is missing.

use std::time::Duration;

use anyhow::Context as _;

/// A required environment variable, or an error naming it.
pub fn required_env(name: &str) -> anyhow::Result<String> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        Ok(_) => anyhow::bail!("environment variable {name} is empty"),
        Err(_) => anyhow::bail!("environment variable {name} is not set"),
    }
}

/// The DynamoDB client for this process, built once at start-up and shared by every invocation.
/// Region, credentials and endpoint come from the SDK's own configuration chain, so DynamoDB Local
/// is selected with `AWS_ENDPOINT_URL_DYNAMODB` (or `AWS_ENDPOINT_URL`) and no variable of ours.
pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_dynamodb::Client::from_conf(deployed_settings((&config).into()).build())
}

/// How long one DynamoDB attempt may take, and one call with its retries: short enough that a
/// slow table answers 503 well inside API Gateway's 29 seconds, long enough for a 1 MB page.
pub const DYNAMODB_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
pub const DYNAMODB_CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The SDK settings every function runs with, and the fault-injection tests too: the standard
/// retry mode (3 attempts, exponential backoff with jitter; it retries throttling, DynamoDB's 5xx,
/// timeouts and dropped connections) and timeouts per attempt and per call. What still fails after
/// that is `StoreError::Unavailable`: a 503 with `Retry-After`.
pub fn deployed_settings(builder: aws_sdk_dynamodb::config::Builder) -> aws_sdk_dynamodb::config::Builder {
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    builder.retry_config(RetryConfig::standard().with_max_attempts(3)).timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(1))
            .operation_attempt_timeout(DYNAMODB_ATTEMPT_TIMEOUT)
            .operation_timeout(DYNAMODB_CALL_TIMEOUT)
            .build(),
    )
}

/// Logs for Lambda or a terminal (see [`crate::observe::init_tracing`]).
pub fn init_tracing() {
    crate::observe::init_tracing();
}

/// The two table names, for the functions that need them.
#[derive(Debug, Clone)]
pub struct Tables {
    pub events: String,
    pub todos: String,
}

impl Tables {
    pub fn events_from_env() -> anyhow::Result<String> {
        required_env(crate::manifest::EVENTS_TABLE_NAME).context("the event table's name is required")
    }

    pub fn todos_from_env() -> anyhow::Result<String> {
        required_env(crate::manifest::TODO_TABLE_NAME).context("the read model table's name is required")
    }

    pub fn stats_from_env() -> anyhow::Result<String> {
        required_env(crate::manifest::STATS_TABLE_NAME).context("the stats table's name is required")
    }

    pub fn snapshots_from_env() -> anyhow::Result<String> {
        required_env(crate::manifest::SNAPSHOTS_TABLE_NAME).context("the list snapshots table's name is required")
    }

    pub fn connections_from_env() -> anyhow::Result<String> {
        required_env(crate::manifest::CONNECTIONS_TABLE_NAME).context("the live connections table's name is required")
    }

    pub fn erasure_from_env() -> anyhow::Result<String> {
        required_env(crate::manifest::ERASURE_TABLE_NAME).context("the account erasures' table's name is required")
    }

    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self { events: Self::events_from_env()?, todos: Self::todos_from_env()? })
    }
}
