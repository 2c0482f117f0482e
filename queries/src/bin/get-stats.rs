//! `get-stats`: the Lambda function behind `GET /stats`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = queries::QueryService::stats_from_env().await?;
    let service = &service;
    todo_platform::observe::run_http("get-stats", move |request| queries::http::get_stats(service, request)).await
}
