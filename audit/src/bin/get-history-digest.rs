//! `get-history-digest`: the Lambda function behind `GET /history/digest`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = audit::AuditService::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|request| async {
        Ok::<_, std::convert::Infallible>(audit::http::get_history_digest(&service, request).await)
    }))
    .await
}
