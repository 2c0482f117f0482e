//! `live-authorizer`: the Lambda REQUEST authorizer of the WebSocket API's `$connect`.

use aws_lambda_events::event::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest as AuthorizerRequest;
use lambda_runtime::{LambdaEvent, service_fn};
use todo_platform::observe;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    todo_platform::config::init_tracing();
    let authorizer = live::authorizer::Authorizer::from_env().await?;
    let metrics = observe::init_metrics(&observe::function_name("live-authorizer"), None);
    let authorizer = &authorizer;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<AuthorizerRequest>| async move {
        let answer = live::invocation(&event.context, "AuthorizerFault", authorizer.authorize(event.payload)).await;
        observe::flush(metrics);
        answer
    }))
    .await
}
