//! What every function of the stack shares: the storage ports and their DynamoDB and in-memory
//! adapters, the HTTP edge (identity from claims, errors, CORS, body limits), configuration and
//! logging, and the manifest of deployable functions.

pub mod config;
pub mod http;
pub mod live;
pub mod manifest;
pub mod observe;
pub mod store;
