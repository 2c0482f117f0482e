//! `notifier`: the Lambda function on the read model's stream that pushes each change to the
//! user's open sessions.

use aws_lambda_events::event::dynamodb::Event as StreamBatch;
use lambda_runtime::{LambdaEvent, service_fn};
use todo_platform::observe;
use tracing::Instrument as _;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    todo_platform::config::init_tracing();
    let notifier = live::notifier::Notifier::from_env().await?;
    let metrics = observe::init_metrics(&observe::function_name("notifier"), None);
    let notifier = &notifier;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<StreamBatch>| async move {
        let response = notifier.handle_batch(event.payload).instrument(live::batch_span(&event.context)).await;
        observe::flush(metrics);
        Ok::<_, std::convert::Infallible>(response)
    }))
    .await
}
