//! `live-connections`: the Lambda integration of the WebSocket API's `$connect` and `$disconnect`.

use aws_lambda_events::event::apigw::ApiGatewayWebsocketProxyRequest;
use lambda_runtime::{LambdaEvent, service_fn};
use todo_platform::observe;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    todo_platform::config::init_tracing();
    let service = live::connections::ConnectionsService::from_env().await?;
    let metrics = observe::init_metrics(&observe::function_name("live-connections"), None);
    let service = &service;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
        let answer = live::invocation(&event.context, "ConnectionsFault", service.handle(event.payload)).await;
        observe::flush(metrics);
        answer
    }))
    .await
}
