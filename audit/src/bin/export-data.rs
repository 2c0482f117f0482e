//! `export-data`: the Lambda function behind `GET /export`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = audit::AuditService::from_env().await?;
    let service = &service;
    todo_platform::observe::run_http("export-data", move |request| audit::http::export_data(service, request)).await
}
