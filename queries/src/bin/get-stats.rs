//! `get-stats`: the Lambda function behind `GET /stats`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = queries::QueryService::stats_from_env().await?;
    lambda_http::run(lambda_http::service_fn(|request| async {
        Ok::<_, std::convert::Infallible>(queries::http::get_stats(&service, request).await)
    }))
    .await
}
