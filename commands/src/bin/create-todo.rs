//! `create-todo`: the Lambda function behind `POST /item`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = commands::CommandService::from_env().await?;
    let service = &service;
    todo_platform::observe::run_http("create-todo", move |request| commands::http::create_todo(service, request)).await
}
