//! The HTTP edge every API function shares: who is calling (from the authorizer's claims only), how
//! a request body is read and limited, and the one mapping from errors to responses, with CORS
//! headers and the request id on every response.

use base64::Engine as _;
use events_schema::{EventMetadata, Timestamp, TodoId, UserId};

use crate::store::StoreError;
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Page size when the client does not ask for one, and the largest it may ask for.
pub const DEFAULT_PAGE_SIZE: usize = 50;
pub const MAX_PAGE_SIZE: usize = 100;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Everything a handler can answer that is not a success. The HTTP status, the error code and the
/// message are decided here and nowhere else.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("the request carries no verified identity")]
    Unauthorized,
    #[error("no such todo")]
    NotFound,
    /// A 404 that says more than "no such todo" (a past state that did not exist at that moment).
    #[error("{message}")]
    NotFoundBecause { code: &'static str, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("the request body is {0} bytes; the limit is {MAX_BODY_BYTES}")]
    PayloadTooLarge(usize),
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// The caller's account is being erased or was: nothing more is written for it.
    #[error("this account has been deleted")]
    AccountErased,
    /// DynamoDB throttled, failed or timed out even after the SDK's retries: try again shortly.
    #[error("the service is busy right now; try again in a moment")]
    Unavailable(#[source] anyhow::Error),
    /// A fault of ours: logged with its cause, answered with an opaque 500.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Seconds a client should wait before retrying a 503.
pub const RETRY_AFTER_SECONDS: u32 = 1;

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable { .. } => Self::Unavailable(error.into()),
            StoreError::AccountErased => Self::AccountErased,
            other => Self::Internal(other.into()),
        }
    }
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest { code, message: message.into() }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound | Self::NotFoundBecause { .. } => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::AccountErased => StatusCode::GONE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } => code,
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not_found",
            Self::NotFoundBecause { code, .. } => code,
            Self::Conflict(_) => "conflict",
            Self::PreconditionFailed(_) => "precondition_failed",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::AccountErased => "account_erased",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal_error",
        }
    }
}

/// A successful answer, before the edge adds CORS and the request id.
#[derive(Debug)]
pub struct Reply {
    status: StatusCode,
    /// Text, never binary: API Gateway REST would pass a base64-encoded body through as is.
    body: Option<String>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Reply {
    pub fn json(status: StatusCode, value: &impl Serialize) -> Result<Self, ApiError> {
        let body = serde_json::to_string(value).map_err(ApiError::internal)?;
        Ok(Self { status, body: Some(body), headers: Vec::new() })
    }

    pub fn no_content() -> Self {
        Self { status: StatusCode::NO_CONTENT, body: None, headers: Vec::new() }
    }

    /// `ETag: "<version>"`, what `If-Match` sends back.
    pub fn with_etag(mut self, version: u64) -> Self {
        if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
            self.headers.push((header::ETAG, value));
        }
        self
    }

    /// `Retry-After: <seconds>`: when to ask again (an answer that is not final yet).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.headers.push((header::RETRY_AFTER, HeaderValue::from(seconds)));
        self
    }

    pub fn with_location(mut self, path: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(path) {
            self.headers.push((header::LOCATION, value));
        }
        self
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// The response side of every API function: one CORS origin, one error mapping.
#[derive(Debug, Clone)]
pub struct Edge {
    allowed_origin: HeaderValue,
}

impl Edge {
    pub fn new(allowed_origin: &str) -> anyhow::Result<Self> {
        let allowed_origin = HeaderValue::from_str(allowed_origin)
            .map_err(|_| anyhow::anyhow!("CORS origin `{allowed_origin}` is not a valid header value"))?;
        Ok(Self { allowed_origin })
    }

    /// From `CORS_ALLOWED_ORIGIN`: fails at start-up when it is missing.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::new(&crate::config::required_env(crate::manifest::CORS_ALLOWED_ORIGIN)?)
    }

    /// Turns a handler's result into the response, logging faults of ours with their cause.
    /// Runs one request's work inside a span naming its request id and trace id (so that every log
    /// line it writes carries both), and answers with its outcome.
    pub async fn serve(
        &self,
        request: &Request,
        work: impl std::future::Future<Output = Result<Reply, ApiError>>,
    ) -> Response<Body> {
        use tracing::Instrument as _;
        let request_id = request_id(request);
        let trace_id = trace_id(request).unwrap_or_default();
        let span = tracing::info_span!(
            "request",
            requestId = %request_id,
            traceId = %trace_id,
            todoId = tracing::field::Empty,
            eventId = tracing::field::Empty
        );
        let result = work.instrument(span.clone()).await;
        let _inside = span.enter();
        self.respond(&request_id, result)
    }

    pub fn respond(&self, request_id: &str, result: Result<Reply, ApiError>) -> Response<Body> {
        let reply = match result {
            Ok(reply) => reply,
            Err(error) => {
                let mut headers = Vec::new();
                if let ApiError::Internal(cause) = &error {
                    tracing::error!(request_id, error = format!("{cause:#}"), "request failed");
                } else if let ApiError::Unavailable(cause) = &error {
                    tracing::warn!(
                        request_id,
                        error = format!("{cause:#}"),
                        "request answered 503: the store is unavailable"
                    );
                    metrics::counter!("Unavailable").increment(1);
                    headers.push((header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS)));
                } else {
                    tracing::info!(
                        request_id,
                        status = error.status().as_u16(),
                        code = error.code(),
                        "request rejected"
                    );
                }
                let message = error.to_string();
                let body = serde_json::json!({ "error": { "code": error.code(), "message": message } });
                Reply { status: error.status(), body: Some(body.to_string()), headers }
            }
        };
        let mut response = Response::new(match reply.body {
            Some(text) => Body::Text(text),
            None => Body::Empty,
        });
        *response.status_mut() = reply.status;
        let headers = response.headers_mut();
        if response_has_body(reply.status) {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        for (name, value) in reply.headers {
            headers.insert(name, value);
        }
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, self.allowed_origin.clone());
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("ETag, Location, x-request-id, Retry-After"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        if let Ok(id) = HeaderValue::from_str(request_id) {
            headers.insert(REQUEST_ID_HEADER, id);
        }
        response
    }
}

fn response_has_body(status: StatusCode) -> bool {
    status != StatusCode::NO_CONTENT
}

/// The caller as API Gateway's Cognito authorizer verified it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub user: UserId,
    /// Who and where, recorded with every event the caller causes.
    pub metadata: EventMetadata,
}

fn api_gateway_context(
    request: &Request,
) -> Option<&lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV1(context) => Some(context),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// API Gateway's request id, which is also the `x-request-id` of the response.
pub fn request_id(request: &Request) -> String {
    api_gateway_context(request)
        .and_then(|c| c.request_id.clone())
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// The X-Ray trace id of the request (`1-5759e988-bd862e3fe1be46a994272793`): from the Lambda
/// context on AWS, else from the `X-Amzn-Trace-Id` header API Gateway passes on (the local stack
/// sets it as API Gateway does).
pub fn trace_id(request: &Request) -> Option<String> {
    let from_header = || request.headers().get("x-amzn-trace-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let header = request
        .lambda_context_ref()
        .and_then(|context| context.xray_trace_id.clone())
        .filter(|header| !header.is_empty())
        .or_else(from_header)?;
    xray_root(&header)
}

/// The `Root=` part of an X-Ray trace header (`Root=1-...;Parent=...;Sampled=1`), or the header
/// itself when it is only a root.
pub fn xray_root(header: &str) -> Option<String> {
    let root = header
        .split(';')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("Root="))
        .or_else(|| header.starts_with("1-").then_some(header.trim()))?;
    let valid = root.len() <= 64 && root.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    valid.then(|| root.to_owned())
}

/// The path the client called, as it sees it: on AWS `requestContext.path` includes the stage
/// (`/prod/item`), which the route alone (`/item`) does not.
pub fn public_path(request: &Request) -> String {
    api_gateway_context(request)
        .and_then(|c| c.path.clone())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| request.uri().path().to_owned())
}

impl Caller {
    /// The caller, from `requestContext.authorizer.claims` only: never from the path, query or body.
    /// No claims, or no `sub`, is a 401.
    pub fn from_request(request: &Request) -> Result<Self, ApiError> {
        let context = api_gateway_context(request).ok_or(ApiError::Unauthorized)?;
        let claims = match context.authorizer.fields.get("claims") {
            Some(serde_json::Value::Object(claims)) => claims,
            _ => return Err(ApiError::Unauthorized),
        };
        let claim = |name: &str| claims.get(name).and_then(|v| v.as_str()).filter(|v| !v.is_empty());
        let user = claim("sub").and_then(|sub| UserId::parse(sub).ok()).ok_or(ApiError::Unauthorized)?;
        let metadata = EventMetadata {
            request_id: context.request_id.clone(),
            actor: claim("cognito:username").or_else(|| claim("email")).map(str::to_owned),
            source_ip: context.identity.source_ip.clone(),
            trace_id: trace_id(request),
        };
        Ok(Self { user, metadata })
    }
}

/// The body as `T`, a JSON object. Unknown fields are an error when `T` denies them.
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge(bytes.len()));
    }
    let content_type = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let is_json = content_type.is_some_and(|ct| {
        let essence = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        essence == "application/json" || essence.ends_with("+json")
    });
    if !is_json {
        return Err(ApiError::UnsupportedMediaType);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("invalid_body", "the request body is empty; a JSON object is expected"));
    }
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("the request body is not valid JSON: {e}")))?;
    // serde would also read a struct from an array of its fields; the API takes objects only.
    if !value.is_object() {
        return Err(ApiError::bad_request("invalid_body", "the request body must be a JSON object"));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request("invalid_body", format!("invalid request body: {e}")))
}

/// The `{id}` of the path, a UUID.
pub fn todo_id_param(request: &Request) -> Result<TodoId, ApiError> {
    let parameters = request.path_parameters();
    let raw = parameters.first("id").ok_or_else(|| ApiError::bad_request("invalid_id", "the path has no todo id"))?;
    TodoId::parse(raw).map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))
}

/// The version in `If-Match: "<version>"`; `None` without the header or with `*`.
pub fn if_match(request: &Request) -> Result<Option<u64>, ApiError> {
    let Some(value) = request.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let invalid =
        || ApiError::bad_request("invalid_if_match", "If-Match must be one ETag as sent by the API, e.g. \"3\"");
    let raw = value.to_str().map_err(|_| invalid())?.trim();
    if raw == "*" {
        return Ok(None);
    }
    let raw = raw.strip_prefix("W/").unwrap_or(raw);
    let version = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')).ok_or_else(invalid)?;
    version.parse::<u64>().map(Some).map_err(|_| invalid())
}

/// One query-string parameter.
pub fn query_param(request: &Request, name: &str) -> Option<String> {
    request.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_owned)
}

/// `?limit=`: 1..=MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE when absent.
pub fn page_limit(request: &Request) -> Result<usize, ApiError> {
    limit_param(request, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
}

/// `?limit=`: 1..=max, `default` when absent.
pub fn limit_param(request: &Request, default: usize, max: usize) -> Result<usize, ApiError> {
    match query_param(request, "limit") {
        None => Ok(default),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request("invalid_limit", format!("limit must be a whole number from 1 to {max}"))),
        },
    }
}

/// `?asOf=`: an RFC 3339 instant, not in the future (`now`, the server's clock).
pub fn as_of_param(request: &Request, now: Timestamp) -> Result<Option<Timestamp>, ApiError> {
    let Some(raw) = query_param(request, "asOf") else {
        return Ok(None);
    };
    let at = Timestamp::parse(&raw).map_err(|_| {
        ApiError::bad_request(
            "invalid_as_of",
            format!("asOf must be an RFC 3339 instant such as 2026-11-29T17:30:00Z, not `{}`", truncated(&raw)),
        )
    })?;
    if at > now {
        return Err(ApiError::bad_request(
            "invalid_as_of",
            format!("asOf {at} is in the future (it is now {now}): the past only"),
        ));
    }
    Ok(Some(at))
}

fn truncated(raw: &str) -> String {
    raw.chars().take(64).collect()
}

/// Cursors are opaque to clients: base64url of a small JSON document.
pub fn encode_cursor(cursor: &impl Serialize) -> String {
    let json = serde_json::to_vec(cursor).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
}

/// `?cursor=` as given by a previous page.
pub fn cursor_param<T: DeserializeOwned>(request: &Request) -> Result<Option<T>, ApiError> {
    let Some(raw) = query_param(request, "cursor") else {
        return Ok(None);
    };
    let invalid = || ApiError::bad_request("invalid_cursor", "cursor is not one this API returned");
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw.as_bytes()).map_err(|_| invalid())?;
    serde_json::from_slice(&json).map(Some).map_err(|_| invalid())
}

/// Whether a request is a CORS preflight (answered by API Gateway on AWS, by the router locally).
pub fn is_preflight(request: &Request) -> bool {
    request.method() == Method::OPTIONS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: serde_json::Value) -> Request {
        lambda_http::request::from_str(&json.to_string()).unwrap()
    }

    fn event(claims: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "resource": "/item", "path": "/item", "httpMethod": "GET",
            "headers": {}, "multiValueHeaders": {},
            "requestContext": {
                "requestId": "req-7", "httpMethod": "GET", "resourcePath": "/item", "stage": "prod",
                "identity": {"sourceIp": "203.0.113.9"},
                "authorizer": {"claims": claims}
            },
            "body": null, "isBase64Encoded": false
        })
    }

    #[test]
    fn the_caller_comes_from_the_authorizer_claims() {
        let caller = Caller::from_request(&request(event(
            serde_json::json!({"sub": "u-1", "cognito:username": "ann", "email": "ann@example.com"}),
        )))
        .unwrap();
        assert_eq!(caller.user.as_str(), "u-1");
        assert_eq!(caller.metadata.actor.as_deref(), Some("ann"));
        assert_eq!(caller.metadata.request_id.as_deref(), Some("req-7"));
        assert_eq!(caller.metadata.source_ip.as_deref(), Some("203.0.113.9"));
    }

    #[test]
    fn no_claims_or_no_sub_is_unauthorized() {
        let mut no_authorizer = event(serde_json::json!({}));
        no_authorizer["requestContext"].as_object_mut().unwrap().remove("authorizer");
        assert!(matches!(Caller::from_request(&request(no_authorizer)), Err(ApiError::Unauthorized)));
        let no_sub = event(serde_json::json!({"email": "ann@example.com"}));
        assert!(matches!(Caller::from_request(&request(no_sub)), Err(ApiError::Unauthorized)));
    }

    #[test]
    fn if_match_takes_strong_weak_and_star() {
        let with = |value: &str| {
            let mut e = event(serde_json::json!({"sub": "u"}));
            e["headers"]["If-Match"] = serde_json::json!(value);
            if_match(&request(e))
        };
        assert_eq!(with("\"3\"").unwrap(), Some(3));
        assert_eq!(with("W/\"4\"").unwrap(), Some(4));
        assert_eq!(with("*").unwrap(), None);
        assert!(with("3").is_err());
        assert!(with("\"three\"").is_err());
    }

    #[test]
    fn errors_are_json_with_cors_and_request_id() {
        let edge = Edge::new("https://app.example.com").unwrap();
        let response = edge.respond("req-9", Err(ApiError::NotFound));
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["access-control-allow-origin"], "https://app.example.com");
        assert_eq!(response.headers()["x-request-id"], "req-9");
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["error"]["code"], "not_found");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let edge = Edge::new("http://localhost").unwrap();
        let response = edge.respond("r", Err(ApiError::internal(anyhow::anyhow!("table secret-name missing"))));
        let body = String::from_utf8(response.body().to_vec()).unwrap();
        assert!(!body.contains("secret-name"));
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
