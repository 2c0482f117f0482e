//! Posting a message to one WebSocket connection: the port the notifier pushes through, and its
//! adapter, API Gateway's management API (`PostToConnection`).

use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use aws_sdk_apigatewaymanagement::primitives::Blob;
use todo_platform::manifest::LIVE_MANAGEMENT_ENDPOINT;
use todo_platform::store::ConnectionId;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The connection is closed (API Gateway answered 410 Gone): it will never take a message again.
    #[error("the connection is gone")]
    Gone,
    /// Anything else: throttled, a fault of API Gateway's, a timeout, a refused permission.
    #[error("posting to the connection failed")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Sends one message to one connection.
#[async_trait]
pub trait Pusher: Send + Sync {
    async fn push(&self, connection: &ConnectionId, message: &str) -> Result<(), PushError>;
}

/// How long one post may take, with its retries: a slow post holds up its record's batch.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The WebSocket API's management endpoint, through the AWS SDK.
#[derive(Clone)]
pub struct ManagementApi {
    client: aws_sdk_apigatewaymanagement::Client,
}

impl ManagementApi {
    pub fn new(client: aws_sdk_apigatewaymanagement::Client) -> Self {
        Self { client }
    }

    /// For the Lambda: the endpoint from `LIVE_MANAGEMENT_ENDPOINT`, region and credentials from
    /// the SDK's own configuration.
    pub async fn from_env() -> anyhow::Result<Self> {
        let endpoint = todo_platform::config::required_env(LIVE_MANAGEMENT_ENDPOINT)?;
        url_of(&endpoint)
            .with_context(|| format!("{LIVE_MANAGEMENT_ENDPOINT} must be the https:// URL of the stage"))?;
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let builder = aws_sdk_apigatewaymanagement::config::Builder::from(&config).endpoint_url(endpoint);
        Ok(Self::new(aws_sdk_apigatewaymanagement::Client::from_conf(settings(builder).build())))
    }
}

/// The SDK settings every notifier runs with, and the tests too: two attempts (the standard mode
/// retries throttling and API Gateway's 5xx, never a 410), and timeouts per attempt and per call.
pub fn settings(
    builder: aws_sdk_apigatewaymanagement::config::Builder,
) -> aws_sdk_apigatewaymanagement::config::Builder {
    use aws_sdk_apigatewaymanagement::config::retry::RetryConfig;
    use aws_sdk_apigatewaymanagement::config::timeout::TimeoutConfig;
    builder.retry_config(RetryConfig::standard().with_max_attempts(2)).timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(1))
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(CALL_TIMEOUT)
            .build(),
    )
}

fn url_of(endpoint: &str) -> anyhow::Result<()> {
    let rest = endpoint
        .strip_prefix("https://")
        .or_else(|| endpoint.strip_prefix("http://"))
        .context("no http(s):// scheme")?;
    anyhow::ensure!(!rest.is_empty() && !rest.contains(char::is_whitespace), "no host");
    Ok(())
}

#[async_trait]
impl Pusher for ManagementApi {
    async fn push(&self, connection: &ConnectionId, message: &str) -> Result<(), PushError> {
        let sent = self
            .client
            .post_to_connection()
            .connection_id(connection.as_str())
            .data(Blob::new(message.as_bytes()))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(error) => {
                let gone = error.as_service_error().is_some_and(|e| e.is_gone_exception())
                    || error.raw_response().is_some_and(|raw| raw.status().as_u16() == 410);
                match gone {
                    true => Err(PushError::Gone),
                    false => Err(PushError::Failed(Box::new(error))),
                }
            }
        }
    }
}
