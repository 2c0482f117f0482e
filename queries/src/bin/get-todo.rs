//! `get-todo`: the Lambda function behind `GET /item/{id}`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = queries::QueryService::read_model_from_env().await?;
    let service = &service;
    todo_platform::observe::run_http("get-todo", move |request| queries::http::get_todo(service, request)).await
}
