//! `delete-todo`: the Lambda function behind `DELETE /item/{id}`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = commands::CommandService::from_env().await?;
    let service = &service;
    todo_platform::observe::run_http("delete-todo", move |request| commands::http::delete_todo(service, request)).await
}
