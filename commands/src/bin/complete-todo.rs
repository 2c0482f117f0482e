//! `complete-todo`: the Lambda function behind `POST /item/{id}/done`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = commands::CommandService::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|request| async {
        Ok::<_, std::convert::Infallible>(commands::http::complete_todo(&service, request).await)
    }))
    .await
}
