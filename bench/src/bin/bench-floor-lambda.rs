//! `bench-floor-lambda`: the cold-start floor. A Lambda function on the same runtime
//! (`lambda_runtime`) and the same SDK client set-up as the stack's functions, that makes one
//! consistent GetItem on `TODO_TABLE_NAME` per invocation (`{"userId", "todoId"}`) and does
//! nothing else: no tracing, no HTTP edge, no decoding.

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::{LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let table = todo_platform::config::required_env(todo_platform::manifest::TODO_TABLE_NAME)?;
    let client = todo_platform::config::dynamodb_client().await;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (client, table) = (&client, &table);
        async move {
            let key = |name: &str| AttributeValue::S(event.payload[name].as_str().unwrap_or_default().to_owned());
            let found = client
                .get_item()
                .table_name(table)
                .consistent_read(true)
                .key("userId", key("userId"))
                .key("todoId", key("todoId"))
                .send()
                .await?
                .item
                .is_some();
            Ok::<_, lambda_runtime::Error>(json!({ "found": found }))
        }
    }))
    .await
}
