//! This crate only holds tests (`tests/api`).
