//! `erase-account`: the Lambda function behind `DELETE /account`, and the only one allowed to
//! delete events.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    todo_platform::config::init_tracing();
    let service = account::ErasureService::from_env().await?;
    let service = &service;
    todo_platform::observe::run_http("erase-account", move |request| account::http::erase_account(service, request))
        .await
}
