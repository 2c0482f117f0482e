//! The one log line per request (the subscriber is the platform's: readable, on stderr, so
//! that stdout carries only the "listening" line).

use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use uuid::Uuid;

use crate::gateway::API_PREFIX;

/// The id of one request: API Gateway's `requestContext.requestId` for the API, and the
/// `x-request-id` of everything else the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(pub Uuid);

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives the request its id and logs method, path, status, duration and id when it is answered.
/// The query string is left out of the log: it carries codes and tokens on the sign-in routes.
pub async fn log_request(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = RequestId(Uuid::new_v4());
    request.extensions_mut().insert(id);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();

    let mut response = next.run(request).await;

    // API responses are the functions' own, passed through untouched as on AWS; the rest of the
    // server's responses get the id here.
    let is_api = path == API_PREFIX || path.starts_with(&format!("{API_PREFIX}/"));
    if !is_api
        && !response.headers().contains_key(&X_REQUEST_ID)
        && let Ok(value) = HeaderValue::from_str(&id.0.to_string())
    {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    tracing::info!(
        target: "todo_local::request",
        request_id = %id.0,
        "{method} {path} {} {}ms",
        response.status().as_u16(),
        started.elapsed().as_millis()
    );
    response
}
