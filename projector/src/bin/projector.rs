//! `projector`: the Lambda function on the event table's stream that maintains `TodoTable`.

use aws_lambda_events::event::dynamodb::Event as StreamBatch;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    todo_platform::config::init_tracing();
    let projector = projector::Projector::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<StreamBatch>| async {
        Ok::<_, std::convert::Infallible>(projector.handle_batch(event.payload).await)
    }))
    .await
}
