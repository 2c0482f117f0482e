//! `get-history`: the Lambda function behind `GET /history`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = queries::QueryService::event_table_from_env().await?;
    let service = &service;
    todo_platform::observe::run_http("get-history", move |request| queries::http::get_history(service, request)).await
}
