//! The API Gateway REST (v1) Lambda proxy event for a request, as AWS builds it, and its
//! conversion into the `lambda_http::Request` a handler receives.

use std::collections::BTreeMap;
use std::net::IpAddr;

use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::auth::verify::AuthorizerClaims;

/// The stage name of the local "deployment" (`requestContext.stage`).
pub const STAGE: &str = "local";
const ACCOUNT_ID: &str = "000000000000";
const API_ID: &str = "local";

/// What the router knows about a matched, authorized request.
#[derive(Debug)]
pub struct ProxyRequest<'a> {
    pub request_id: Uuid,
    pub method: &'a str,
    /// The resource template, e.g. `/item/{id}`.
    pub resource: &'a str,
    /// The request path without the stage (`/item/123`).
    pub path: &'a str,
    pub raw_query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub path_parameters: &'a BTreeMap<String, String>,
    pub claims: &'a AuthorizerClaims,
    pub source_ip: IpAddr,
    pub received_at: DateTime<Utc>,
    /// `X-Amzn-Trace-Id` as API Gateway (with tracing on) passes it to the function: the client's,
    /// or a new trace.
    pub trace_header: String,
}

/// The client's `X-Amzn-Trace-Id` when it names a trace, else a new one in X-Ray's format
/// (`Root=1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>`), as API Gateway does.
pub fn trace_header(headers: &HeaderMap, now: DateTime<Utc>) -> String {
    let given = headers.get("x-amzn-trace-id").and_then(|value| value.to_str().ok());
    match given.filter(|header| todo_platform::http::xray_root(header).is_some()) {
        Some(header) => header.to_owned(),
        None => {
            let random = Uuid::new_v4().simple().to_string();
            format!("Root=1-{:08x}-{};Sampled=1", now.timestamp(), &random[..24])
        }
    }
}

impl ProxyRequest<'_> {
    /// The event JSON, field for field as API Gateway sends it to a proxy integration.
    pub fn event(&self) -> Value {
        let (headers, multi_value_headers) = self.event_headers();
        let (query, multi_value_query) = self.event_query();
        let (body, is_base64_encoded) = match self.body {
            [] => (Value::Null, false),
            bytes => match std::str::from_utf8(bytes) {
                Ok(text) => (Value::String(text.to_owned()), false),
                Err(_) => (Value::String(STANDARD.encode(bytes)), true),
            },
        };
        let path_parameters = if self.path_parameters.is_empty() { Value::Null } else { json!(self.path_parameters) };
        let user_agent = self.headers.get("user-agent").and_then(|value| value.to_str().ok());
        let host = self.headers.get("host").and_then(|value| value.to_str().ok());
        json!({
            "resource": self.resource,
            "path": self.path,
            "httpMethod": self.method,
            "headers": headers,
            "multiValueHeaders": multi_value_headers,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_value_query,
            "pathParameters": path_parameters,
            "stageVariables": null,
            "requestContext": {
                "accountId": ACCOUNT_ID,
                "apiId": API_ID,
                "resourceId": self.resource,
                "resourcePath": self.resource,
                "httpMethod": self.method,
                "extendedRequestId": self.request_id.to_string(),
                "requestId": self.request_id.to_string(),
                "requestTime": self.received_at.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
                "requestTimeEpoch": self.received_at.timestamp_millis(),
                // What the client called: the API is mounted at /api, as a custom domain's base
                // path mapping would put it (then API Gateway gives the public path here, not /stage).
                "path": format!("/api{}", self.path),
                "protocol": "HTTP/1.1",
                "stage": STAGE,
                "domainName": host,
                "domainPrefix": host.and_then(|host| host.split('.').next()),
                "identity": {
                    "sourceIp": self.source_ip.to_string(),
                    "userAgent": user_agent,
                    "accountId": null,
                    "apiKey": null,
                    "caller": null,
                    "cognitoAuthenticationProvider": null,
                    "cognitoAuthenticationType": null,
                    "cognitoIdentityId": null,
                    "cognitoIdentityPoolId": null,
                    "user": null,
                    "userArn": null
                },
                "authorizer": { "claims": self.claims }
            },
            "body": body,
            "isBase64Encoded": is_base64_encoded
        })
    }

    /// The request as the handler sees it on AWS: the event parsed by `lambda_http` itself.
    pub fn lambda_request(&self) -> Result<lambda_http::Request, serde_json::Error> {
        lambda_http::request::from_str(&self.event().to_string())
    }

    /// API Gateway passes the client's headers on and adds the `X-Forwarded-*` ones. `headers`
    /// keeps the last value of a repeated header, `multiValueHeaders` all of them.
    fn event_headers(&self) -> (Value, Value) {
        let mut single = Map::new();
        let mut multi: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (name, value) in self.headers {
            if matches!(name.as_str(), "x-forwarded-for" | "x-forwarded-proto" | "x-forwarded-port" | "x-amzn-trace-id")
            {
                continue;
            }
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            single.insert(name.as_str().to_owned(), Value::String(value.clone()));
            multi.entry(name.as_str().to_owned()).or_default().push(Value::String(value));
        }
        let port = self
            .headers
            .get("host")
            .and_then(|host| host.to_str().ok())
            .and_then(|host| host.rsplit_once(':'))
            .map_or_else(|| "80".to_owned(), |(_, port)| port.to_owned());
        for (name, value) in [
            ("X-Amzn-Trace-Id", self.trace_header.clone()),
            ("X-Forwarded-For", self.source_ip.to_string()),
            ("X-Forwarded-Proto", "http".to_owned()),
            ("X-Forwarded-Port", port),
        ] {
            single.insert(name.to_owned(), Value::String(value.clone()));
            multi.insert(name.to_owned(), vec![Value::String(value)]);
        }
        (Value::Object(single), json!(multi))
    }

    /// Decoded query parameters; `null` when there are none, as on AWS.
    fn event_query(&self) -> (Value, Value) {
        let Some(query) = self.raw_query.filter(|query| !query.is_empty()) else {
            return (Value::Null, Value::Null);
        };
        let mut single = Map::new();
        let mut multi: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            single.insert(name.to_string(), Value::String(value.to_string()));
            multi.entry(name.into_owned()).or_default().push(Value::String(value.into_owned()));
        }
        if single.is_empty() {
            return (Value::Null, Value::Null);
        }
        (Value::Object(single), json!(multi))
    }
}
