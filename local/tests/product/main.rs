//! The product as a user runs it: the real `todo-local` binary, tokens from its dev sign-in, every
//! route over HTTP, on both stores; durability across `kill -9`.

mod durability;
mod dynamodb_mode;
mod process;
mod routes;
mod tracing;
