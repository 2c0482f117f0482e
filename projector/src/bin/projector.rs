//! `projector`: the Lambda function on the event table's stream that maintains `TodoTable` and the
//! stats projection.

use aws_lambda_events::event::dynamodb::Event as StreamBatch;
use lambda_runtime::{LambdaEvent, service_fn};
use todo_platform::observe;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    todo_platform::config::init_tracing();
    let projector = projector::Projector::from_env().await?;
    let metrics = observe::init_metrics(&observe::function_name("projector"), None);
    lambda_runtime::run(service_fn(|event: LambdaEvent<StreamBatch>| async {
        let response = projector.handle_batch(event.payload).await;
        observe::flush(metrics);
        Ok::<_, std::convert::Infallible>(response)
    }))
    .await
}
