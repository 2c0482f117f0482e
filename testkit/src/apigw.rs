use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

/// An API Gateway REST (v1) proxy event, as API Gateway sends it to a Lambda proxy integration
/// behind a Cognito user pool authorizer.
#[derive(Debug, Clone)]
pub struct ApiEvent {
    event: Value,
}

impl ApiEvent {
    /// `resource` is the route (`/item/{id}`), `path` the concrete path (`/item/0193...`).
    pub fn new(method: &str, resource: &str, path: &str) -> Self {
        let request_id = uuid::Uuid::new_v4().to_string();
        Self {
            event: json!({
                "resource": resource,
                "path": path,
                "httpMethod": method,
                "headers": {"Accept": "application/json", "Host": "abc123.execute-api.us-east-1.amazonaws.com"},
                "multiValueHeaders": {"Accept": ["application/json"], "Host": ["abc123.execute-api.us-east-1.amazonaws.com"]},
                "queryStringParameters": null,
                "multiValueQueryStringParameters": null,
                "pathParameters": null,
                "stageVariables": null,
                "requestContext": {
                    "resourceId": "abc1de",
                    "resourcePath": resource,
                    "httpMethod": method,
                    "extendedRequestId": "Xyz=",
                    "requestTime": "25/Nov/2026:19:44:06 +0000",
                    "path": format!("/prod{path}"),
                    "accountId": "123456789012",
                    "protocol": "HTTP/1.1",
                    "stage": "prod",
                    "domainPrefix": "abc123",
                    "requestTimeEpoch": 1795636800000i64,
                    "requestId": request_id,
                    "identity": {"sourceIp": "203.0.113.7", "userAgent": "todo-tests"},
                    "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
                    "apiId": "abc123"
                },
                "body": null,
                "isBase64Encoded": false
            }),
        }
    }

    /// Claims as the Cognito authorizer passes them: every value a string.
    pub fn signed_in(mut self, sub: &str, email: &str) -> Self {
        self.event["requestContext"]["authorizer"] = json!({
            "claims": {
                "sub": sub,
                "email": email,
                "email_verified": "true",
                "cognito:username": sub,
                "token_use": "id",
                "aud": "testclientid",
                "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST",
                "auth_time": "1795636800",
                "exp": "Wed Nov 25 20:44:06 UTC 2026",
                "iat": "Wed Nov 25 19:44:06 UTC 2026"
            }
        });
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.event["headers"][name] = json!(value);
        self.event["multiValueHeaders"][name] = json!([value]);
        self
    }

    pub fn path_param(mut self, name: &str, value: &str) -> Self {
        if self.event["pathParameters"].is_null() {
            self.event["pathParameters"] = json!({});
        }
        self.event["pathParameters"][name] = json!(value);
        self
    }

    pub fn query(mut self, name: &str, value: &str) -> Self {
        if self.event["queryStringParameters"].is_null() {
            self.event["queryStringParameters"] = json!({});
            self.event["multiValueQueryStringParameters"] = json!({});
        }
        self.event["queryStringParameters"][name] = json!(value);
        self.event["multiValueQueryStringParameters"][name] = json!([value]);
        self
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(self, body: &Value) -> Self {
        self.header("Content-Type", "application/json").raw_body(&body.to_string())
    }

    pub fn raw_body(mut self, body: &str) -> Self {
        self.event["body"] = json!(body);
        self
    }

    pub fn request_id(&self) -> &str {
        self.event["requestContext"]["requestId"].as_str().unwrap_or_default()
    }

    pub fn to_json(&self) -> String {
        self.event.to_string()
    }

    /// The request exactly as `lambda_http` hands it to a handler in Lambda.
    pub fn request(&self) -> Request {
        lambda_http::request::from_str(&self.to_json()).expect("a valid API Gateway event")
    }
}

/// A response's body as JSON (`Null` for an empty body).
pub fn response_json(response: &Response<Body>) -> Value {
    let bytes = response.body().as_ref();
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("response body is not JSON ({e}): {bytes:?}"))
}
