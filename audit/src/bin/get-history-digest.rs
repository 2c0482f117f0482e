//! `get-history-digest`: the Lambda function behind `GET /history/digest`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = audit::AuditService::from_env().await?;
    let service = &service;
    todo_platform::observe::run_http("get-history-digest", move |request| {
        audit::http::get_history_digest(service, request)
    })
    .await
}
