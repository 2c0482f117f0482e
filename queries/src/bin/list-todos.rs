//! `list-todos`: the Lambda function behind `GET /item`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = queries::QueryService::list_from_env().await?;
    let service = &service;
    todo_platform::observe::run_http("list-todos", move |request| queries::http::list_todos(service, request)).await
}
