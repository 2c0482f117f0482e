//! `get-todo-history`: the Lambda function behind `GET /item/{id}/history`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = queries::QueryService::event_table_from_env().await?;
    lambda_http::run(lambda_http::service_fn(|request| async {
        Ok::<_, std::convert::Infallible>(queries::http::get_todo_history(&service, request).await)
    }))
    .await
}
