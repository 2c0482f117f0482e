//! `export-data`: the Lambda function behind `GET /export`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = audit::AuditService::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|request| async {
        Ok::<_, std::convert::Infallible>(audit::http::export_data(&service, request).await)
    }))
    .await
}
