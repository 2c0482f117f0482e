//! `live-connections`: the integration of the WebSocket API's `$connect` and `$disconnect`.
//!
//! `$connect` (already allowed by `live-authorizer`) records the connection under the user the
//! authorizer named; `$disconnect` removes it. API Gateway hands the authorizer's context to every
//! route of a connection, `$disconnect` included, so the removal knows the user without a lookup.
//! Should a `$disconnect` ever come without it, or never come at all (API Gateway calls it on a
//! best-effort basis), the connection is removed anyway, later: by the notifier at its first push
//! (API Gateway answers 410 Gone), and by the table's TTL two hours after it opened, when API
//! Gateway closes every connection.

use std::sync::Arc;

use aws_lambda_events::event::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use events_schema::{Timestamp, UserId};
use todo_platform::store::{Connection, ConnectionId, ConnectionStore, ErasureFence, ErasureKey, StoreError};

use crate::USER_CONTEXT_KEY;

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("the request names no user in its authorizer context: is live-authorizer attached to $connect?")]
    NoUser,
    #[error("the request has no valid connection id")]
    NoConnectionId,
    #[error("the account is being erased or was: a stale token")]
    AccountErased,
    #[error("the route {0:?} is not served by live-connections")]
    UnknownRoute(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records and removes the connections of the WebSocket API.
#[derive(Clone)]
pub struct ConnectionsService {
    store: Arc<dyn ConnectionStore>,
    /// Refuses `$connect` of an account being erased (a token outlives its account by up to an
    /// hour). A connection recorded just before the marker is deleted by the erasure's last sweep.
    fence: Option<Arc<ErasureFence>>,
}

impl ConnectionsService {
    pub fn new(store: Arc<dyn ConnectionStore>) -> Self {
        Self { store, fence: None }
    }

    pub fn with_fence(mut self, fence: ErasureFence) -> Self {
        self.fence = Some(Arc::new(fence));
        self
    }

    /// For the Lambda: `CONNECTIONS_TABLE_NAME`, `ERASURE_TABLE_NAME`, `ERASURE_KEY` and the SDK's
    /// own configuration.
    pub async fn from_env() -> anyhow::Result<Self> {
        use todo_platform::config::Tables;
        let (table, erasures) = (Tables::connections_from_env()?, Tables::erasure_from_env()?);
        let key = ErasureKey::from_env()?;
        let client = todo_platform::config::dynamodb_client().await;
        let store = Arc::new(
            todo_platform::store::dynamo::DynamoStore::new(client, "", "")
                .with_connections_table(table)
                .with_erasure_table(erasures),
        );
        let fence = ErasureFence::new(store.clone(), key, todo_platform::store::FENCE_REMEMBER);
        Ok(Self::new(store).with_fence(fence))
    }

    /// Answers one route invocation. A fault of ours is an `Err`: on `$connect` API Gateway then
    /// refuses the connection with a 500, and the client tries again later.
    pub async fn handle(
        &self,
        request: ApiGatewayWebsocketProxyRequest,
    ) -> Result<ApiGatewayProxyResponse, ConnectionError> {
        use tracing::Instrument as _;
        let context = &request.request_context;
        let span = tracing::info_span!(
            "route",
            requestId = %context.request_id.as_deref().unwrap_or_default(),
            routeKey = %context.route_key.as_deref().unwrap_or_default(),
            connectionId = %context.connection_id.as_deref().unwrap_or_default(),
        );
        self.route(request).instrument(span).await
    }

    async fn route(
        &self,
        request: ApiGatewayWebsocketProxyRequest,
    ) -> Result<ApiGatewayProxyResponse, ConnectionError> {
        let context = request.request_context;
        let id = context.connection_id.as_deref().and_then(|id| ConnectionId::parse(id).ok());
        let user = context
            .authorizer
            .fields
            .get(USER_CONTEXT_KEY)
            .and_then(|sub| sub.as_str())
            .and_then(|sub| UserId::parse(sub).ok());
        match context.route_key.as_deref().unwrap_or_default() {
            "$connect" => {
                let (user, id) = match (user, id) {
                    (Some(user), Some(id)) => (user, id),
                    (_, None) => return Ok(refused(ConnectionError::NoConnectionId)),
                    (None, _) => return Ok(refused(ConnectionError::NoUser)),
                };
                if let Some(fence) = &self.fence {
                    match fence.check(&user).await {
                        Ok(()) => {}
                        Err(StoreError::AccountErased) => return Ok(refused(ConnectionError::AccountErased)),
                        Err(error) => return Err(error.into()),
                    }
                }
                let connected_at = instant_of(context.connected_at);
                self.store.put_connection(&Connection { user, id, connected_at }).await?;
                tracing::info!("connection recorded");
                Ok(answer(200))
            }
            "$disconnect" => {
                match (user, id) {
                    (Some(user), Some(id)) => {
                        self.store.remove_connection(&user, &id).await?;
                        tracing::info!(
                            status = context.disconnect_status_code.unwrap_or_default(),
                            "connection removed"
                        );
                    }
                    _ => tracing::warn!(
                        "$disconnect without a user or connection id: the connection is left to the notifier (410) and the TTL"
                    ),
                }
                Ok(answer(200))
            }
            other => Err(ConnectionError::UnknownRoute(other.to_owned())),
        }
    }
}

/// An instant from API Gateway's epoch milliseconds (`connectedAt`); now if it is out of range.
fn instant_of(epoch_millis: i64) -> Timestamp {
    let at = chrono::DateTime::from_timestamp_millis(epoch_millis).unwrap_or_else(chrono::Utc::now);
    Timestamp::from_datetime(at)
}

/// A `$connect` refused with a 403: API Gateway does not complete the upgrade.
fn refused(error: ConnectionError) -> ApiGatewayProxyResponse {
    tracing::error!(error = %error, "$connect refused");
    answer(403)
}

fn answer(status: i64) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response
}
