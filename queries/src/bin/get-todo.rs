//! `get-todo`: the Lambda function behind `GET /item/{id}`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = queries::QueryService::read_model_from_env().await?;
    lambda_http::run(lambda_http::service_fn(|request| async {
        Ok::<_, std::convert::Infallible>(queries::http::get_todo(&service, request).await)
    }))
    .await
}
