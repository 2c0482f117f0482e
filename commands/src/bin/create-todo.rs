//! `create-todo`: the Lambda function behind `POST /item`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = commands::CommandService::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|request| async {
        Ok::<_, std::convert::Infallible>(commands::http::create_todo(&service, request).await)
    }))
    .await
}
