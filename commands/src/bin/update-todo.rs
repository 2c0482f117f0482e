//! `update-todo`: the Lambda function behind `PUT /item/{id}`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = commands::CommandService::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|request| async {
        Ok::<_, std::convert::Infallible>(commands::http::update_todo(&service, request).await)
    }))
    .await
}
