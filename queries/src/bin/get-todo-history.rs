//! `get-todo-history`: the Lambda function behind `GET /item/{id}/history`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = queries::QueryService::event_table_from_env().await?;
    let service = &service;
    todo_platform::observe::run_http("get-todo-history", move |request| {
        queries::http::get_todo_history(service, request)
    })
    .await
}
