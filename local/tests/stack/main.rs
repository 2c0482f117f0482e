//! The local stack over HTTP: each test starts its own server on a free port with a temp data dir.

mod helpers;

mod account;
mod binary;
mod discovery;
mod forged_tokens;
mod gateway;
mod live;
mod sign_in;
mod spa;
mod storage;
