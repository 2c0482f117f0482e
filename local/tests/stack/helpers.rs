//! One running stack per test: port 0, a temp data dir, echo functions behind the router (or the
//! real ones on the embedded store, [`TestStack::start_embedded`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use tempfile::TempDir;
use todo_local::app::{BoundStack, ServeConfig, dev_issuer};
use todo_local::gateway::functions::Functions;
use todo_local::live::LiveHub;
use todo_platform::manifest::FUNCTIONS;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::Url;

pub const CLIENT_ID: &str = "todo-spa";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestStack {
    pub origin: String,
    pub port: u16,
    pub data_dir: PathBuf,
    pub client: reqwest::Client,
    /// The stack's `/live` connections.
    pub live: Arc<LiveHub>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    _temp: Option<TempDir>,
}

impl TestStack {
    /// A fresh stack: temp data dir, free port, every API function an echo.
    pub async fn start() -> Self {
        let temp = tempfile::tempdir().unwrap();
        let mut stack = Self::start_with(temp.path(), 0, echo_functions()).await;
        stack._temp = Some(temp);
        stack
    }

    /// A fresh stack with the real functions on the embedded store, its projector running.
    pub async fn start_embedded() -> Self {
        let temp = tempfile::tempdir().unwrap();
        let bound = BoundStack::bind(serve_config(temp.path(), 0)).await.unwrap();
        let functions = todo_local::backend::functions(&bound.context()).await.unwrap();
        let mut stack = Self::serve(bound, functions, temp.path());
        stack._temp = Some(temp);
        stack
    }

    pub async fn start_with(data_dir: &Path, port: u16, functions: Functions) -> Self {
        let bound = BoundStack::bind(serve_config(data_dir, port)).await.unwrap();
        Self::serve(bound, functions, data_dir)
    }

    fn serve(bound: BoundStack, functions: Functions, data_dir: &Path) -> Self {
        let live = bound.context().live;
        let app = bound.with_functions(functions).unwrap();
        let (shutdown, stopped) = oneshot::channel();
        let (origin, port) = (app.origin(), app.port());
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Self {
            origin,
            port,
            data_dir: data_dir.to_path_buf(),
            client: reqwest::Client::builder().redirect(Policy::none()).build().unwrap(),
            live,
            shutdown: Some(shutdown),
            server: Some(server),
            _temp: None,
        }
    }

    /// Stops the server and waits until it has let go of its port.
    pub async fn stop(mut self) -> Option<TempDir> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        self._temp.take()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    pub fn redirect_uri(&self) -> String {
        format!("{}/", self.origin)
    }

    pub fn auth_dir(&self) -> PathBuf {
        self.data_dir.join("auth")
    }

    /// An ID token for `email` that this stack accepts, as `todo-local token` makes one.
    pub fn token(&self, email: &str) -> String {
        todo_local::auth::issue_token_for(&self.auth_dir(), &dev_issuer(self.port), email).unwrap()
    }

    pub async fn api(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.request(method, self.url(&format!("/api{path}")));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.send().await.unwrap()
    }

    /// The authorize query of the SPA, with its PKCE challenge.
    pub fn authorize_params(&self, pkce: &Pkce, state: &str, nonce: &str) -> Vec<(&'static str, String)> {
        vec![
            ("client_id", CLIENT_ID.to_owned()),
            ("redirect_uri", self.redirect_uri()),
            ("response_type", "code".to_owned()),
            ("scope", "openid email profile".to_owned()),
            ("state", state.to_owned()),
            ("nonce", nonce.to_owned()),
            ("code_challenge", pkce.challenge.clone()),
            ("code_challenge_method", "S256".to_owned()),
        ]
    }

    /// Posts the sign-in form as the page's buttons do.
    pub async fn submit_form(&self, pkce: &Pkce, action: &str, email: &str, password: &str) -> reqwest::Response {
        let mut form = self.authorize_params(pkce, "state-123", "nonce-456");
        form.push(("email", email.to_owned()));
        form.push(("password", password.to_owned()));
        form.push(("action", action.to_owned()));
        self.client.post(self.url("/auth/authorize")).header("origin", &self.origin).form(&form).send().await.unwrap()
    }

    /// The code in a successful authorize redirect (checking `state` came back).
    pub fn code_from(&self, response: &reqwest::Response) -> String {
        assert_eq!(response.status(), 302, "expected a redirect back to the app");
        let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
        assert_eq!(format!("{}{}", location.origin().ascii_serialization(), location.path()), self.redirect_uri());
        let query: Vec<(String, String)> = location.query_pairs().into_owned().collect();
        assert!(query.contains(&("state".into(), "state-123".into())), "state not returned: {query:?}");
        query.into_iter().find(|(name, _)| name == "code").map(|(_, code)| code).expect("no code")
    }

    pub async fn exchange(&self, code: &str, verifier: &str) -> reqwest::Response {
        self.client
            .post(self.url("/auth/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", CLIENT_ID),
                ("code", code),
                ("redirect_uri", &self.redirect_uri()),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .unwrap()
    }

    pub async fn refresh(&self, refresh_token: &str) -> reqwest::Response {
        self.client
            .post(self.url("/auth/token"))
            .form(&[("grant_type", "refresh_token"), ("client_id", CLIENT_ID), ("refresh_token", refresh_token)])
            .send()
            .await
            .unwrap()
    }

    /// Creates an account through the form and returns the token response.
    pub async fn sign_up(&self, email: &str) -> Value {
        let pkce = Pkce::new();
        let redirect = self.submit_form(&pkce, "create-account", email, PASSWORD).await;
        let code = self.code_from(&redirect);
        let response = self.exchange(&code, &pkce.verifier).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }
}

fn serve_config(data_dir: &Path, port: u16) -> ServeConfig {
    ServeConfig {
        port,
        data_dir: data_dir.to_path_buf(),
        www_dir: data_dir.join("www"),
        extra_redirect_uris: Vec::new(),
        cognito: None,
        dynamodb_endpoint: None,
    }
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Self {
        let verifier = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        let challenge = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
        Self { verifier, challenge }
    }
}

/// A function that answers with what it received, and stamps the request id as the real
/// handlers do.
pub fn echo(binary: &'static str) -> impl Fn(Request) -> std::future::Ready<Response<Body>> + Send + Sync + 'static {
    move |request: Request| {
        let context = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV1(context)) => context.clone(),
            other => panic!("expected an API Gateway REST context, got {other:?}"),
        };
        let request_id = context.request_id.clone().unwrap_or_default();
        let body = json!({
            "function": binary,
            "method": request.method().as_str(),
            "uri": request.uri().to_string(),
            "pathParameters": request.path_parameters().iter().collect::<std::collections::BTreeMap<_, _>>(),
            "query": request.query_string_parameters().iter().collect::<std::collections::BTreeMap<_, _>>(),
            "requestId": request_id,
            "stage": context.stage,
            "resourcePath": context.resource_path,
            "sourceIp": context.identity.source_ip,
            "claims": context.authorizer.fields.get("claims"),
            "body": String::from_utf8_lossy(request.body().as_ref()),
            "contentType": request.headers().get("content-type").map(|value| value.to_str().unwrap().to_owned()),
        });
        let response = Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("x-request-id", request_id)
            .body(Body::from(body.to_string()))
            .unwrap();
        std::future::ready(response)
    }
}

pub fn echo_functions() -> Functions {
    FUNCTIONS
        .iter()
        .filter(|function| function.route.is_some())
        .fold(Functions::new(), |functions, function| functions.with(function.binary, echo(function.binary)).unwrap())
}

/// The claims part of a JWT, undecoded by any verifier.
pub fn payload(token: &str) -> Value {
    let segment = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

pub fn header(token: &str) -> Value {
    let segment = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}
