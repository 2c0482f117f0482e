//! The API as a client sees it, through the real handler entry points of the Lambda functions, fed
//! with API Gateway REST (v1) proxy events carrying a Cognito authorizer's claims, on DynamoDB Local,
//! with the read model maintained by the projector from the table's real stream.

mod bad_input;
mod concurrency;
mod erasure;
mod isolation;
mod past;
mod routes;
mod stack;
mod stats;
