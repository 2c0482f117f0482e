//! `update-todo`: the Lambda function behind `PUT /item/{id}`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = commands::CommandService::from_env().await?;
    let service = &service;
    todo_platform::observe::run_http("update-todo", move |request| commands::http::update_todo(service, request)).await
}
