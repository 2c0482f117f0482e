//! Live updates on AWS: an API Gateway WebSocket API through which every open session of a user
//! hears of each change to their todos, as it lands in the read model.
//!
//! - [`authorizer`]: `live-authorizer`, the REQUEST authorizer of `$connect` (the Cognito ID token
//!   in the `token` query parameter, checked as the REST API's Cognito authorizer checks it);
//! - [`connections`]: `live-connections`, which records `$connect` and removes `$disconnect` in
//!   `ConnectionsTable`;
//! - [`notifier`]: `notifier`, on the read model's stream, which posts each change
//!   ([`todo_platform::live::LiveMessage`]) to the user's connections through [`push`].

pub mod authorizer;
pub mod connections;
pub mod notifier;
pub mod push;

/// The key of the authorizer's context that names the user (the token's `sub`): API Gateway hands
/// the context to `live-connections` on `$connect` and on `$disconnect`.
pub const USER_CONTEXT_KEY: &str = "sub";

/// Runs one invocation of a WebSocket function with its X-Ray trace id on every line it logs (API
/// Gateway's request id comes from the event, in the handler's own span); a fault of ours is
/// reported to Lambda as `kind` (an invocation error: the function's `Errors` metric), its cause
/// chain logged. API Gateway answers it with a 500, and the client tries again later.
pub async fn invocation<T, E: Into<anyhow::Error>>(
    context: &lambda_runtime::Context,
    kind: &'static str,
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, lambda_runtime::Diagnostic> {
    use tracing::Instrument as _;
    let span = tracing::info_span!("invocation", traceId = %context.xray_trace_id.as_deref().unwrap_or_default());
    async {
        work.await.map_err(|error| {
            let chain = format!("{:#}", error.into());
            tracing::error!(error = %chain, "{kind}");
            lambda_runtime::Diagnostic { error_type: kind.to_owned(), error_message: chain }
        })
    }
    .instrument(span)
    .await
}

/// The span of one stream batch: Lambda's request id and the X-Ray trace id on every line it logs.
pub fn batch_span(context: &lambda_runtime::Context) -> tracing::Span {
    tracing::info_span!(
        "batch",
        requestId = %context.request_id,
        traceId = %context.xray_trace_id.as_deref().unwrap_or_default()
    )
}
