//! API Gateway (REST API, Lambda proxy integration, Cognito authorizer) for `/api/*`.
//!
//! In API Gateway's order: match the route, answer preflights, run the authorizer (401 before
//! any Lambda runs), build the proxy event, invoke the function, pass its response through.
//!
//! One deliberate difference: an unknown route answers 404 with a message naming it (and 405 for
//! a known resource with another method), where API Gateway answers 403 "Missing Authentication
//! Token" to both.

pub mod event;
pub mod functions;
pub mod routes;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use uuid::Uuid;

use self::event::ProxyRequest;
use self::functions::Functions;
use self::routes::{RouteMatch, RouteTable};
use crate::auth::verify::{RejectedToken, TokenVerifier, token_from_authorization};
use crate::logging::RequestId;

/// Where the API is mounted on the local server (the "stage URL").
pub const API_PREFIX: &str = "/api";
/// API Gateway's REST payload limit.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
pub const ALLOWED_METHODS: &str = "GET, POST, PUT, DELETE, OPTIONS";
pub const ALLOWED_HEADERS: &str = "Authorization, Content-Type, If-Match";
pub const EXPOSED_HEADERS: &str = "ETag, Location, x-request-id, Retry-After";
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// API Gateway stamps its request id on every response under this name.
const X_AMZN_REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");

/// The emulated REST API: routes from the manifest, one authorizer, the functions.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<GatewayInner>,
}

struct GatewayInner {
    /// The SPA's origin, allowed by CORS.
    origin: HeaderValue,
    authorizer: TokenVerifier,
    routes: RouteTable,
    functions: Functions,
}

impl Gateway {
    pub fn new(origin: &str, authorizer: TokenVerifier, functions: Functions) -> anyhow::Result<Self> {
        Ok(Self {
            inner: Arc::new(GatewayInner {
                origin: HeaderValue::from_str(origin)?,
                authorizer,
                routes: RouteTable::from_manifest(),
                functions,
            }),
        })
    }
}

/// Handles every request under [`API_PREFIX`].
pub async fn handle(State(gateway): State<Gateway>, request: Request) -> Response {
    let request_id = request.extensions().get::<RequestId>().map_or_else(Uuid::new_v4, |id| id.0);
    let gateway = &gateway.inner;
    let mut response = route(gateway, request_id, request).await;
    if let Ok(id) = HeaderValue::from_str(&request_id.to_string()) {
        response.headers_mut().insert(X_AMZN_REQUEST_ID, id);
    }
    response
}

async fn route(gateway: &GatewayInner, request_id: Uuid, request: Request) -> Response {
    let error = |status, code, message: String| gateway.error(request_id, status, code, &message);
    let full_path = request.uri().path().to_owned();
    let path = match full_path.strip_prefix(API_PREFIX) {
        Some(rest) if rest.starts_with('/') => rest.to_owned(),
        _ => "/".to_owned(),
    };
    let method = request.method().clone();

    if method == Method::OPTIONS {
        return if gateway.routes.has_resource(&path) {
            gateway.preflight()
        } else {
            error(StatusCode::NOT_FOUND, "not_found", format!("no API resource at {full_path}"))
        };
    }
    let (route, path_parameters) = match gateway.routes.resolve(method.as_str(), &path) {
        RouteMatch::Found { route, path_parameters } => (route, path_parameters),
        RouteMatch::MethodNotAllowed { resource, allowed } => {
            let mut response = error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("{resource} does not accept {method}; it accepts {}", allowed.join(", ")),
            );
            if let Ok(allow) = HeaderValue::from_str(&allowed.join(", ")) {
                response.headers_mut().insert(header::ALLOW, allow);
            }
            return response;
        }
        RouteMatch::NotFound => {
            return error(
                StatusCode::NOT_FOUND,
                "not_found",
                format!(
                    "no API route for {method} {full_path} (API Gateway itself answers 403 \"Missing Authentication Token\")"
                ),
            );
        }
    };

    // The Cognito authorizer, before any function runs.
    let claims = match request.headers().get(header::AUTHORIZATION) {
        None => {
            return error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "sign in: send the ID token as \"Authorization: Bearer <token>\"".into(),
            );
        }
        Some(value) => {
            let verdict = value
                .to_str()
                .ok()
                .and_then(token_from_authorization)
                .ok_or(RejectedToken::Malformed)
                .and_then(|token| gateway.authorizer.verify(token));
            match verdict {
                Ok(claims) => claims,
                Err(rejected) => {
                    tracing::info!(%request_id, reason = %rejected, "the authorizer refused the token");
                    return error(StatusCode::UNAUTHORIZED, "unauthorized", rejected.to_string());
                }
            }
        }
    };

    let source_ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |info| info.0.ip());
    let raw_query = request.uri().query().map(str::to_owned);
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(_) => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the request body is over API Gateway's {MAX_BODY_BYTES} bytes"),
            );
        }
    };
    let received_at = chrono::Utc::now();
    let proxy = ProxyRequest {
        request_id,
        method: method.as_str(),
        resource: route.resource,
        path: &path,
        raw_query: raw_query.as_deref(),
        headers: &parts.headers,
        body: &body,
        path_parameters: &path_parameters,
        claims: &claims,
        source_ip,
        received_at,
        trace_header: event::trace_header(&parts.headers, received_at),
    };
    let lambda_request = match proxy.lambda_request() {
        Ok(request) => request,
        Err(parse_error) => {
            tracing::error!(%request_id, error = %parse_error, "lambda_http rejected the proxy event");
            return error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the local gateway built a bad event".into());
        }
    };

    let Some(handler) = gateway.functions.get(route.binary) else {
        return error(
            StatusCode::NOT_IMPLEMENTED,
            "not_implemented",
            format!("the local stack has no handler wired for {} yet", route.binary),
        );
    };
    // A panicking function is a 502, as when a Lambda crashes behind API Gateway.
    match tokio::spawn(handler.call(lambda_request)).await {
        Ok(response) => from_lambda_response(response),
        Err(join_error) => {
            tracing::error!(%request_id, function = route.binary, error = %join_error, "the function crashed");
            error(StatusCode::BAD_GATEWAY, "bad_gateway", format!("{} failed: internal server error", route.binary))
        }
    }
}

impl GatewayInner {
    /// A response made by the gateway itself (no function ran): the API's error shape, CORS and
    /// the request id, as the template's gateway responses are configured on AWS.
    fn error(&self, request_id: Uuid, status: StatusCode, code: &str, message: &str) -> Response {
        let mut response =
            (status, axum::Json(json!({ "error": { "code": code, "message": message } }))).into_response();
        self.add_cors(response.headers_mut());
        if let Ok(id) = HeaderValue::from_str(&request_id.to_string()) {
            response.headers_mut().insert(X_REQUEST_ID, id);
        }
        response
    }

    fn preflight(&self) -> Response {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        self.add_cors(headers);
        headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOWED_METHODS));
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOWED_HEADERS));
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        response
    }

    fn add_cors(&self, headers: &mut HeaderMap) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, self.origin.clone());
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// A function's response, passed through as API Gateway's proxy integration does.
fn from_lambda_response(response: lambda_http::Response<lambda_http::Body>) -> Response {
    let (parts, body) = response.into_parts();
    let body = match body {
        lambda_http::Body::Empty => Body::empty(),
        lambda_http::Body::Text(text) => Body::from(text),
        lambda_http::Body::Binary(bytes) => Body::from(bytes),
        other => Body::from(other.as_ref().to_vec()),
    };
    Response::from_parts(parts, body)
}
