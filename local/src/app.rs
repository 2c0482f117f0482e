//! The local server: binds, opens the sign-in, then serves `/auth`, `/config.json`, `/api`,
//! `/live` and the SPA on one origin.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::routing::{any, get};
use tokio::net::TcpListener;
use url::Url;

use crate::auth::verify::{TokenVerifier, cognito_issuer, read_jwks};
use crate::auth::{self, AuthSettings, AuthState, DEFAULT_SCOPE, DEV_CLIENT_ID};
use crate::files::{PRIVATE_FILE_MODE, ensure_private_dir, write_atomically};
use crate::gateway::functions::Functions;
use crate::gateway::{self, API_PREFIX, Gateway};
use crate::live::{self, LIVE_PATH, LiveHub, LiveRoute};
use crate::logging;
use crate::spa::{self, SpaConfig};

const AUTH_PREFIX: &str = "/auth";
/// Where the server leaves its issuer, for `todo-local token` to sign tokens it accepts.
const ISSUER_FILE: &str = "issuer";

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// 0 picks a free port.
    pub port: u16,
    pub data_dir: PathBuf,
    pub www_dir: PathBuf,
    /// Redirect URIs allowed besides `<origin>/` (e.g. a Vite dev server's).
    pub extra_redirect_uris: Vec<Url>,
    /// Verify real Cognito tokens instead of the dev sign-in's.
    pub cognito: Option<CognitoSettings>,
    /// Use DynamoDB at this endpoint instead of the embedded store.
    pub dynamodb_endpoint: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CognitoSettings {
    pub user_pool_id: String,
    pub client_id: String,
    /// A saved copy of the pool's `/.well-known/jwks.json`.
    pub jwks_file: PathBuf,
}

/// The auth dir of a data dir: signing key, accounts, refresh tokens.
pub fn auth_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("auth")
}

/// The issuer the last server started on `data_dir` announced, if any.
pub fn recorded_issuer(data_dir: &Path) -> anyhow::Result<Option<String>> {
    let path = auth_dir(data_dir).join(ISSUER_FILE);
    match std::fs::read_to_string(&path) {
        Ok(issuer) => Ok(Some(issuer.trim().to_owned())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

/// `http://127.0.0.1:<port>/auth`
pub fn dev_issuer(port: u16) -> String {
    format!("http://{}:{port}{AUTH_PREFIX}", Ipv4Addr::LOCALHOST)
}

/// What the functions' wiring may need to know about the running stack.
#[derive(Debug, Clone)]
pub struct StackContext {
    /// `http://127.0.0.1:<port>`: the SPA's origin, for the handlers' CORS.
    pub origin: String,
    pub data_dir: PathBuf,
    pub dynamodb_endpoint: Option<String>,
    /// The open `/live` connections, which the projector feeds.
    pub live: Arc<LiveHub>,
}

/// A server bound to its port, with the sign-in open, waiting for its functions.
pub struct BoundStack {
    listener: TcpListener,
    port: u16,
    config: ServeConfig,
    auth: AuthState,
    live: Arc<LiveHub>,
}

impl BoundStack {
    pub async fn bind(config: ServeConfig) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", config.port))?;
        let port = listener.local_addr().context("reading the bound address")?.port();
        let origin = format!("http://{}:{port}", Ipv4Addr::LOCALHOST);

        let mut redirect_uris = vec![format!("{origin}/")];
        let mut cors_origins = vec![origin.clone()];
        for uri in &config.extra_redirect_uris {
            redirect_uris.push(uri.to_string());
            let extra_origin = uri.origin().ascii_serialization();
            if !cors_origins.contains(&extra_origin) {
                cors_origins.push(extra_origin);
            }
        }
        let settings = AuthSettings {
            origin,
            base_path: AUTH_PREFIX.to_owned(),
            client_id: DEV_CLIENT_ID.to_owned(),
            redirect_uris,
            cors_origins,
        };
        let dir = auth_dir(&config.data_dir);
        ensure_private_dir(&dir)?;
        let auth = AuthState::open(settings, &dir)?;
        write_atomically(
            &dir.join(ISSUER_FILE),
            format!("{}\n", auth.settings().issuer()).as_bytes(),
            PRIVATE_FILE_MODE,
        )?;
        Ok(Self { listener, port, config, auth, live: Arc::new(LiveHub::new()) })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn context(&self) -> StackContext {
        StackContext {
            origin: self.auth.settings().origin.clone(),
            data_dir: self.config.data_dir.clone(),
            dynamodb_endpoint: self.config.dynamodb_endpoint.clone(),
            live: self.live.clone(),
        }
    }

    /// Builds the router around `functions`.
    pub fn with_functions(self, functions: Functions) -> anyhow::Result<Application> {
        let unwired = functions.unwired();
        if !unwired.is_empty() {
            tracing::warn!(?unwired, "these API functions have no handler: their routes answer 501");
        }
        let origin = self.auth.settings().origin.clone();
        let (authorizer, spa_config) = match &self.config.cognito {
            None => (self.auth.verifier(), dev_spa_config(&origin)),
            Some(cognito) => {
                let jwks = read_jwks(&cognito.jwks_file)?;
                let verifier = TokenVerifier::for_cognito(&cognito.user_pool_id, &cognito.client_id, &jwks)?;
                let config = SpaConfig {
                    authority: cognito_issuer(&cognito.user_pool_id)?,
                    client_id: cognito.client_id.clone(),
                    cognito_endpoint: None,
                    ..dev_spa_config(&origin)
                };
                (verifier, config)
            }
        };
        let live = LiveRoute { hub: self.live, authorizer: authorizer.clone() };
        let gateway = Gateway::new(&origin, authorizer, functions)?;
        let www_dir = Arc::new(self.config.www_dir.clone());
        let router = Router::new()
            .nest(AUTH_PREFIX, auth::router(self.auth.clone()))
            .route("/config.json", get(spa::config).with_state(Arc::new(spa_config)))
            .route(API_PREFIX, any(gateway::handle).with_state(gateway.clone()))
            .route(&format!("{API_PREFIX}/{{*path}}"), any(gateway::handle).with_state(gateway))
            .route(LIVE_PATH, get(live::connect).with_state(live))
            .fallback(move |request: axum::extract::Request| spa::serve(www_dir.clone(), request))
            .layer(axum::middleware::from_fn(logging::log_request));
        Ok(Application { listener: self.listener, port: self.port, router })
    }
}

fn dev_spa_config(origin: &str) -> SpaConfig {
    SpaConfig {
        api_base_url: format!("{origin}{API_PREFIX}"),
        authority: format!("{origin}{AUTH_PREFIX}"),
        client_id: DEV_CLIENT_ID.to_owned(),
        redirect_uri: format!("{origin}/"),
        post_logout_redirect_uri: format!("{origin}/"),
        scope: DEFAULT_SCOPE.to_owned(),
        logout_url: None,
        live_url: spa::live_url_on(origin),
        cognito_endpoint: Some(format!("{origin}{AUTH_PREFIX}{}", auth::COGNITO_IDP_PATH)),
    }
}

/// The server, ready to accept connections.
pub struct Application {
    listener: TcpListener,
    port: u16,
    router: Router,
}

impl Application {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`
    pub fn origin(&self) -> String {
        format!("http://{}:{}", Ipv4Addr::LOCALHOST, self.port)
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown)
            .await
            .context("serving")
    }
}
