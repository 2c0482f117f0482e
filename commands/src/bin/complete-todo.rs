//! `complete-todo`: the Lambda function behind `POST /item/{id}/done`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = commands::CommandService::from_env().await?;
    let service = &service;
    todo_platform::observe::run_http("complete-todo", move |request| commands::http::complete_todo(service, request))
        .await
}
