//! Start-up configuration: read once, fail fast, with a message that says what is missing.

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
    aws_sdk_dynamodb::Client::new(&config)
}

/// Logs for Lambda (JSON, no colours, no timestamps: CloudWatch adds them) or for a terminal.
/// The level comes from `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some() {
        builder.json().without_time().with_ansi(false).init();
    } else {
        use std::io::IsTerminal as _;
        builder.with_ansi(std::io::stderr().is_terminal()).with_writer(std::io::stderr).init();
    }
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

    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self { events: Self::events_from_env()?, todos: Self::todos_from_env()? })
    }
}
