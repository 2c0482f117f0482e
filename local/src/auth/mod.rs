//! The development sign-in: an OIDC provider mounted under `/auth` that speaks the
//! authorization code + PKCE (S256) flow as Cognito's managed login does, and issues
//! Cognito-shaped ID tokens.
//!
//! | route | does |
//! | --- | --- |
//! | `GET /.well-known/openid-configuration` | discovery |
//! | `GET /.well-known/jwks.json` | the signing key |
//! | `GET /authorize` | the sign-in page (validates the request first) |
//! | `POST /authorize` | "Sign in" or "Create account", then a redirect with a one-time code |
//! | `POST /token` | `authorization_code` (+ `code_verifier`) and `refresh_token` grants |
//! | `GET /logout` | ends the sign-in, redirects to `post_logout_redirect_uri` |

pub mod codes;
pub mod keys;
pub mod pages;
pub mod password;
pub mod refresh;
pub mod tokens;
pub mod users;
pub mod verify;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, RawForm, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use url::Url;
use uuid::Uuid;

use self::codes::{CodeError, CodeStore, PendingCode, pkce_verifier_matches};
use self::keys::SigningKey;
use self::pages::{HiddenFields, SignInPage, error_page};
use self::refresh::{RefreshError, RefreshTokens};
use self::tokens::{IssuedTokens, Session, TokenIssuer};
use self::users::{CreateAccountError, Email, MIN_PASSWORD_CHARS, SignInError, User, UserStore};
use self::verify::TokenVerifier;
use crate::clock::now_unix;

/// The app client of the SPA (the template's user pool client is configured alike).
pub const DEV_CLIENT_ID: &str = "todo-spa";
/// What the SPA asks for.
/// What the SPA asks for: `aws.cognito.signin.user.admin` lets its access token call Cognito's own
/// API for the signed-in user (the SPA uses it for `DeleteUser` only).
pub const DEFAULT_SCOPE: &str = "openid email profile aws.cognito.signin.user.admin";
const SUPPORTED_SCOPES: &[&str] = &["openid", "email", "profile", ADMIN_SCOPE];
/// The scope Cognito requires of an access token for `DeleteUser`.
const ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";
/// Where Cognito's own API (`DeleteUser`) is emulated, under this router.
pub const COGNITO_IDP_PATH: &str = "/cognito-idp";
const MAX_PARAM_LEN: usize = 2048;

/// The parts of the sign-in that depend on where the stack listens.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `http://127.0.0.1:<port>`
    pub origin: String,
    /// Where this router is mounted, e.g. `/auth`.
    pub base_path: String,
    pub client_id: String,
    /// Exact-match list, as Cognito's callback and sign-out URLs.
    pub redirect_uris: Vec<String>,
    /// Origins allowed to call the token endpoint and read discovery and the JWKS from a page.
    pub cors_origins: Vec<String>,
}

impl AuthSettings {
    /// `http://127.0.0.1:<port>/auth`
    pub fn issuer(&self) -> String {
        format!("{}{}", self.origin, self.base_path)
    }
}

/// Everything the sign-in keeps: the signing key, accounts, codes and refresh tokens.
#[derive(Clone)]
pub struct AuthState {
    inner: Arc<Inner>,
}

struct Inner {
    settings: AuthSettings,
    key: Arc<SigningKey>,
    issuer: TokenIssuer,
    verifier: TokenVerifier,
    users: UserStore,
    codes: CodeStore,
    refresh_tokens: RefreshTokens,
}

impl AuthState {
    /// Opens (or creates) the sign-in's files in `auth_dir`.
    pub fn open(settings: AuthSettings, auth_dir: &Path) -> anyhow::Result<Self> {
        let key = Arc::new(SigningKey::load_or_generate(auth_dir)?);
        let issuer = TokenIssuer::new(settings.issuer(), settings.client_id.clone(), key.clone());
        let verifier = TokenVerifier::new(settings.issuer(), settings.client_id.clone(), &key.jwks())?;
        Ok(Self {
            inner: Arc::new(Inner {
                issuer,
                verifier,
                key,
                users: UserStore::open(auth_dir)?,
                codes: CodeStore::default(),
                refresh_tokens: RefreshTokens::open(auth_dir)?,
                settings,
            }),
        })
    }

    /// The verifier for this sign-in's ID tokens (the API's authorizer in dev mode).
    pub fn verifier(&self) -> TokenVerifier {
        self.inner.verifier.clone()
    }

    pub fn settings(&self) -> &AuthSettings {
        &self.inner.settings
    }
}

/// The `/auth` routes.
pub fn router(state: AuthState) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery).options(preflight))
        .route("/.well-known/jwks.json", get(jwks).options(preflight))
        .route("/authorize", get(authorize_page).post(authorize_submit))
        .route("/token", axum::routing::post(token).options(preflight))
        .route("/logout", get(logout))
        .route(COGNITO_IDP_PATH, axum::routing::post(cognito_idp).options(preflight))
        .with_state(state)
}

/// An ID token for `email` (created with a random password if missing), as `todo-local token`
/// prints it: signed with the data dir's key for `issuer`.
pub fn issue_token_for(auth_dir: &Path, issuer: &str, email: &str) -> anyhow::Result<String> {
    let email = Email::parse(email).with_context(|| format!("{email:?} is not an email address"))?;
    let user = UserStore::open(auth_dir)?.find_or_create_without_password(&email)?;
    let key = Arc::new(SigningKey::load_or_generate(auth_dir)?);
    let now = now_unix();
    let session = Session { user, auth_time: now, origin_jti: Uuid::new_v4(), scope: DEFAULT_SCOPE.into() };
    let tokens =
        TokenIssuer::new(issuer, DEV_CLIENT_ID, key).issue(&session, None, now).context("signing the token")?;
    Ok(tokens.id_token)
}

async fn discovery(State(state): State<AuthState>, headers: HeaderMap) -> Response {
    let issuer = state.settings().issuer();
    let document = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": SUPPORTED_SCOPES,
        "token_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "email", "email_verified",
            "cognito:username", "token_use"
        ],
    });
    with_cors(&state, &headers, Json(document).into_response())
}

async fn jwks(State(state): State<AuthState>, headers: HeaderMap) -> Response {
    with_cors(&state, &headers, Json(state.inner.key.jwks()).into_response())
}

async fn preflight(State(state): State<AuthState>, headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
    response_headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, Content-Type, X-Amz-Target"),
    );
    response_headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    with_cors(&state, &headers, response)
}

/// Echoes the request's `Origin` when it is one of the SPA's.
fn with_cors(state: &AuthState, request_headers: &HeaderMap, mut response: Response) -> Response {
    response.headers_mut().append(header::VARY, HeaderValue::from_static("Origin"));
    let allowed = request_headers
        .get(header::ORIGIN)
        .and_then(|origin| origin.to_str().ok())
        .filter(|origin| state.settings().cors_origins.iter().any(|allowed| allowed == origin))
        .and_then(|origin| HeaderValue::from_str(origin).ok());
    if let Some(origin) = allowed {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    response
}

// ---------------------------------------------------------------------------------------------
// authorize

/// A validated authorize request.
#[derive(Debug, Clone)]
struct AuthorizeRequest {
    redirect_uri: String,
    scope: String,
    state: String,
    nonce: Option<String>,
    code_challenge: String,
}

enum AuthorizeRejection {
    /// Unknown client or redirect URI: the error cannot be sent back to the app.
    Page(String),
    /// Everything else is reported to the app through its redirect URI (RFC 6749 4.1.2.1).
    Redirect { redirect_uri: String, error: &'static str, description: String, state: Option<String> },
}

impl AuthorizeRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Page(message) => error_page(StatusCode::BAD_REQUEST, "This sign-in link is not valid", &message),
            Self::Redirect { redirect_uri, error, description, state } => {
                let mut params = vec![("error", error.to_owned()), ("error_description", description)];
                if let Some(state) = state {
                    params.push(("state", state));
                }
                redirect_with(&redirect_uri, &params)
            }
        }
    }
}

fn validate_authorize(
    settings: &AuthSettings,
    params: &HashMap<String, String>,
) -> Result<AuthorizeRequest, AuthorizeRejection> {
    let param = |name: &str| params.get(name).map(String::as_str).filter(|value| !value.is_empty());
    if param("client_id") != Some(settings.client_id.as_str()) {
        return Err(AuthorizeRejection::Page(format!(
            "The client_id must be {:?}; this request has {:?}.",
            settings.client_id,
            param("client_id").unwrap_or("")
        )));
    }
    let redirect_uri = match param("redirect_uri") {
        Some(uri) if settings.redirect_uris.iter().any(|allowed| allowed == uri) => uri.to_owned(),
        other => {
            return Err(AuthorizeRejection::Page(format!(
                "The redirect_uri {:?} is not one of this stack's: {}.",
                other.unwrap_or(""),
                settings.redirect_uris.join(", ")
            )));
        }
    };
    let state = param("state").map(str::to_owned);
    let reject = |error: &'static str, description: &str| AuthorizeRejection::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        description: description.to_owned(),
        state: state.clone().filter(|state| is_safe_param(state)),
    };

    if param("response_type") != Some("code") {
        return Err(reject("unsupported_response_type", "response_type must be \"code\""));
    }
    let scope = param("scope").unwrap_or("");
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    if !scopes.contains(&"openid") {
        return Err(reject("invalid_scope", "scope must include \"openid\""));
    }
    if let Some(unknown) = scopes.iter().find(|scope| !SUPPORTED_SCOPES.contains(scope)) {
        return Err(reject("invalid_scope", &format!("unsupported scope {unknown:?}")));
    }
    let Some(state_value) = state.clone().filter(|state| is_safe_param(state)) else {
        return Err(reject("invalid_request", "state is required (printable ASCII, at most 2048 characters)"));
    };
    let nonce = param("nonce").map(str::to_owned);
    if nonce.as_deref().is_some_and(|nonce| !is_safe_param(nonce)) {
        return Err(reject("invalid_request", "nonce must be printable ASCII, at most 2048 characters"));
    }
    // There is no single-sign-on session to reuse: a silent (iframe) sign-in always needs the page.
    if param("prompt").is_some_and(|prompt| prompt.split_whitespace().any(|value| value == "none")) {
        return Err(reject("login_required", "prompt=none: the user must sign in"));
    }
    if param("code_challenge_method") != Some("S256") {
        return Err(reject("invalid_request", "PKCE is required: code_challenge_method must be \"S256\""));
    }
    let code_challenge = match param("code_challenge") {
        Some(challenge)
            if challenge.len() == 43
                && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            challenge.to_owned()
        }
        _ => return Err(reject("invalid_request", "code_challenge must be BASE64URL(SHA256(code_verifier))")),
    };
    Ok(AuthorizeRequest { redirect_uri, scope: scopes.join(" "), state: state_value, nonce, code_challenge })
}

fn is_safe_param(value: &str) -> bool {
    !value.is_empty() && value.len() <= MAX_PARAM_LEN && value.bytes().all(|b| (0x20..0x7f).contains(&b))
}

impl AuthorizeRequest {
    fn hidden_fields(&self, client_id: &str) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("client_id", client_id.to_owned()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("response_type", "code".to_owned()),
            ("scope", self.scope.clone()),
            ("state", self.state.clone()),
            ("code_challenge", self.code_challenge.clone()),
            ("code_challenge_method", "S256".to_owned()),
        ];
        if let Some(nonce) = &self.nonce {
            fields.push(("nonce", nonce.clone()));
        }
        fields
    }
}

fn sign_in_page(
    state: &AuthState,
    request: &AuthorizeRequest,
    email: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let fields = request.hidden_fields(&state.settings().client_id);
    let action = format!("{}/authorize", state.settings().base_path);
    SignInPage {
        form_action: &action,
        hidden: HiddenFields(fields.iter().map(|(name, value)| (*name, value.as_str())).collect()),
        email,
        error,
        min_password_chars: MIN_PASSWORD_CHARS,
    }
    .render(status)
}

async fn authorize_page(State(state): State<AuthState>, Query(params): Query<HashMap<String, String>>) -> Response {
    match validate_authorize(state.settings(), &params) {
        Ok(request) => sign_in_page(&state, &request, "", None, StatusCode::OK),
        Err(rejection) => rejection.into_response(),
    }
}

async fn authorize_submit(State(state): State<AuthState>, headers: HeaderMap, RawForm(form): RawForm) -> Response {
    // A form posted from another site is a login-CSRF attempt.
    let origin = headers.get(header::ORIGIN).and_then(|origin| origin.to_str().ok());
    if origin.is_some_and(|origin| origin != state.settings().origin) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Sign-in refused",
            &format!("The form must be posted from {}.", state.settings().origin),
        );
    }
    let params: HashMap<String, String> = form_urlencoded::parse(&form).into_owned().collect();
    let request = match validate_authorize(state.settings(), &params) {
        Ok(request) => request,
        Err(rejection) => return rejection.into_response(),
    };
    let raw_email = params.get("email").map(String::as_str).unwrap_or("");
    let password = params.get("password").cloned().unwrap_or_default();
    let page = |error: &str, status| sign_in_page(&state, &request, raw_email, Some(error), status);

    let email = match Email::parse(raw_email) {
        Ok(email) => email,
        Err(invalid) => return page(&invalid.to_string(), StatusCode::BAD_REQUEST),
    };
    if password.is_empty() {
        return page("Enter your password.", StatusCode::BAD_REQUEST);
    }
    let users = state.inner.users.clone();
    let outcome = match params.get("action").map(String::as_str) {
        Some("sign-in") => {
            blocking(move || {
                users.sign_in(&email, &password).map_err(|error| match error {
                    SignInError::IncorrectCredentials => Rejected::User(StatusCode::UNAUTHORIZED, error.to_string()),
                    SignInError::Store(error) => Rejected::Fault(error),
                })
            })
            .await
        }
        Some("create-account") => {
            blocking(move || {
                users.create_account(&email, &password).map_err(|error| match error {
                    CreateAccountError::AlreadyExists => Rejected::User(StatusCode::CONFLICT, error.to_string()),
                    CreateAccountError::PasswordTooShort | CreateAccountError::PasswordTooLong => {
                        Rejected::User(StatusCode::BAD_REQUEST, error.to_string())
                    }
                    CreateAccountError::Store(error) => Rejected::Fault(error),
                })
            })
            .await
        }
        _ => return page("Choose \"Sign in\" or \"Create account\".", StatusCode::BAD_REQUEST),
    };
    let user = match outcome {
        Ok(user) => user,
        Err(Rejected::User(status, message)) => return page(&message, status),
        Err(Rejected::Fault(error)) => {
            tracing::error!(error = format!("{error:#}"), "the sign-in failed");
            return page("Something went wrong on our side. Try again.", StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    complete_sign_in(&state, request, user)
}

enum Rejected {
    User(StatusCode, String),
    Fault(anyhow::Error),
}

/// Runs slow or blocking work (the password KDF, locked file I/O) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Rejected> + Send + 'static,
) -> Result<T, Rejected> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|join_error| {
        Err(Rejected::Fault(anyhow::Error::new(join_error).context("a blocking task failed")))
    })
}

fn complete_sign_in(state: &AuthState, request: AuthorizeRequest, user: User) -> Response {
    let now = now_unix();
    let session = Session { user, auth_time: now, origin_jti: Uuid::new_v4(), scope: request.scope.clone() };
    let pending = PendingCode {
        client_id: state.settings().client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        session,
    };
    match state.inner.codes.issue(pending, now) {
        Ok(code) => redirect_with(&request.redirect_uri, &[("code", code), ("state", request.state)]),
        Err(error) => {
            tracing::error!(%error, "issuing an authorization code failed");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sign-in failed",
                "Something went wrong on our side. Try again.",
            )
        }
    }
}

/// A 302 to `base` with `params` added to its query (302, as Cognito answers: never 307, which
/// would re-post the password).
fn redirect_with(base: &str, params: &[(&str, String)]) -> Response {
    let Ok(mut url) = Url::parse(base) else {
        return error_page(StatusCode::BAD_REQUEST, "This sign-in link is not valid", "The redirect URI is not a URL.");
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in params {
            query.append_pair(name, value);
        }
    }
    redirect(url.as_str())
}

fn redirect(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => {
            let mut response = StatusCode::FOUND.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => {
            error_page(StatusCode::BAD_REQUEST, "Redirect refused", "The redirect URI is not a valid header value.")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// token

/// RFC 6749 section 5.2.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    fn invalid_request(description: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, error: "invalid_request", description: description.into() }
    }

    fn invalid_grant(description: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, error: "invalid_grant", description: description.into() }
    }

    fn server_error(error: anyhow::Error) -> Self {
        tracing::error!(error = format!("{error:#}"), "the token endpoint failed");
        Self { status: StatusCode::INTERNAL_SERVER_ERROR, error: "server_error", description: "internal error".into() }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        no_store(
            (self.status, Json(json!({ "error": self.error, "error_description": self.description }))).into_response(),
        )
    }
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

async fn token(State(state): State<AuthState>, headers: HeaderMap, body: Bytes) -> Response {
    let response = match exchange(&state, &body).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    with_cors(&state, &headers, response)
}

async fn exchange(state: &AuthState, body: &[u8]) -> Result<Response, OAuthError> {
    let mut params: HashMap<String, String> = HashMap::new();
    for (name, value) in form_urlencoded::parse(body) {
        if params.insert(name.to_string(), value.into_owned()).is_some() {
            return Err(OAuthError::invalid_request(format!("the parameter {name} is repeated")));
        }
    }
    let param = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| OAuthError::invalid_request(format!("the parameter {name} is missing")))
    };
    let client_id = param("client_id")?;
    if client_id != state.settings().client_id {
        return Err(OAuthError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: format!("unknown client_id {client_id:?}"),
        });
    }
    let now = now_unix();
    match param("grant_type")? {
        "authorization_code" => {
            let pending = match state.inner.codes.redeem(param("code")?, now) {
                Ok(pending) => pending,
                Err(CodeError::Reused { origin_jti }) => {
                    // RFC 6749 4.1.2: a replayed code revokes what the first exchange issued.
                    let refresh_tokens = state.inner.refresh_tokens.clone();
                    run_blocking(move || refresh_tokens.revoke_sign_in(origin_jti, now)).await?;
                    return Err(OAuthError::invalid_grant(CodeError::Reused { origin_jti }.to_string()));
                }
                Err(error) => return Err(OAuthError::invalid_grant(error.to_string())),
            };
            if pending.client_id != client_id || pending.redirect_uri != param("redirect_uri")? {
                return Err(OAuthError::invalid_grant("redirect_uri or client_id differ from the authorize request"));
            }
            if !pkce_verifier_matches(param("code_verifier")?, &pending.code_challenge) {
                return Err(OAuthError::invalid_grant("the code_verifier does not match the code_challenge"));
            }
            let tokens = state
                .inner
                .issuer
                .issue(&pending.session, pending.nonce.as_deref(), now)
                .map_err(|error| OAuthError::server_error(anyhow::Error::new(error).context("signing tokens")))?;
            let refresh_tokens = state.inner.refresh_tokens.clone();
            let session = pending.session.clone();
            let client = client_id.to_owned();
            let refresh_token = run_blocking(move || refresh_tokens.issue(&session, &client, now)).await?;
            Ok(token_response(tokens, refresh_token))
        }
        "refresh_token" => {
            let refresh_tokens = state.inner.refresh_tokens.clone();
            let presented = param("refresh_token")?.to_owned();
            let client = client_id.to_owned();
            let rotated = tokio::task::spawn_blocking(move || refresh_tokens.rotate(&presented, &client, now))
                .await
                .map_err(|error| OAuthError::server_error(anyhow::Error::new(error)))?;
            let (session, refresh_token) = match rotated {
                Ok(rotated) => rotated,
                Err(RefreshError::Store(error)) => return Err(OAuthError::server_error(error)),
                Err(rejected) => return Err(OAuthError::invalid_grant(rejected.to_string())),
            };
            // A sign-in outlives a deleted account only until it next refreshes.
            let (users, sub) = (state.inner.users.clone(), session.user.sub);
            if !run_blocking(move || users.exists(sub)).await? {
                return Err(OAuthError::invalid_grant("the account has been deleted"));
            }
            let tokens = state
                .inner
                .issuer
                .issue(&session, None, now)
                .map_err(|error| OAuthError::server_error(anyhow::Error::new(error).context("signing tokens")))?;
            Ok(token_response(tokens, refresh_token))
        }
        other => Err(OAuthError {
            status: StatusCode::BAD_REQUEST,
            error: "unsupported_grant_type",
            description: format!("grant_type {other:?} is not supported"),
        }),
    }
}

async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, OAuthError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(OAuthError::server_error(error)),
        Err(error) => Err(OAuthError::server_error(anyhow::Error::new(error))),
    }
}

fn token_response(tokens: IssuedTokens, refresh_token: String) -> Response {
    no_store(
        Json(json!({
            "id_token": tokens.id_token,
            "access_token": tokens.access_token,
            "refresh_token": refresh_token,
            "token_type": "Bearer",
            "expires_in": tokens.expires_in,
        }))
        .into_response(),
    )
}

// ---------------------------------------------------------------------------------------------
// Cognito's own API, as far as the SPA uses it

/// `POST /auth/cognito-idp` with `X-Amz-Target: AWSCognitoIdentityProviderService.DeleteUser` and
/// `{"AccessToken": ...}`: deletes the signed-in account as Cognito's `DeleteUser` does (the
/// access token must carry `aws.cognito.signin.user.admin`), and ends its sign-in. Answers in
/// Cognito's JSON protocol: 200 `{}`, or 400 `{"__type": ..., "message": ...}`.
async fn cognito_idp(State(state): State<AuthState>, headers: HeaderMap, body: Bytes) -> Response {
    let response = match delete_user(&state, &headers, &body).await {
        Ok(()) => cognito_answer(StatusCode::OK, json!({})),
        Err((status, kind, message)) => cognito_answer(status, json!({ "__type": kind, "message": message })),
    };
    with_cors(&state, &headers, response)
}

type CognitoError = (StatusCode, &'static str, String);

async fn delete_user(state: &AuthState, headers: &HeaderMap, body: &[u8]) -> Result<(), CognitoError> {
    let invalid = |message: &str| (StatusCode::BAD_REQUEST, "InvalidParameterException", message.to_owned());
    let target = headers.get("x-amz-target").and_then(|value| value.to_str().ok()).unwrap_or_default();
    if target != "AWSCognitoIdentityProviderService.DeleteUser" {
        return Err((StatusCode::BAD_REQUEST, "UnknownOperationException", format!("{target:?} is not emulated here")));
    }
    let request: serde_json::Value = serde_json::from_slice(body).map_err(|_| invalid("the body is not JSON"))?;
    let token = request["AccessToken"].as_str().ok_or_else(|| invalid("AccessToken is required"))?;
    let not_authorized = |message: String| (StatusCode::BAD_REQUEST, "NotAuthorizedException", message);
    let sub = state.inner.verifier.verify_access(token, ADMIN_SCOPE).map_err(|e| not_authorized(e.to_string()))?;
    let origin_jti = unverified_claim(token, "origin_jti").and_then(|jti| jti.parse().ok());
    let (users, refresh_tokens) = (state.inner.users.clone(), state.inner.refresh_tokens.clone());
    let deleted = tokio::task::spawn_blocking(move || -> anyhow::Result<bool> {
        let deleted = users.delete(sub)?;
        if let Some(origin_jti) = origin_jti {
            refresh_tokens.revoke_sign_in(origin_jti, now_unix())?;
        }
        Ok(deleted)
    })
    .await
    .map_err(anyhow::Error::new)
    .and_then(|deleted| deleted)
    .map_err(|error| {
        tracing::error!(error = format!("{error:#}"), "DeleteUser failed");
        (StatusCode::INTERNAL_SERVER_ERROR, "InternalErrorException", "internal error".to_owned())
    })?;
    match deleted {
        true => {
            tracing::info!(%sub, "DeleteUser: the account is deleted");
            Ok(())
        }
        false => Err((StatusCode::BAD_REQUEST, "UserNotFoundException", "User does not exist.".to_owned())),
    }
}

/// A claim of a token whose signature was checked already.
fn unverified_claim(token: &str, name: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims.get(name)?.as_str().map(str::to_owned)
}

fn cognito_answer(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.1"));
    response
}

// ---------------------------------------------------------------------------------------------
// logout

async fn logout(State(state): State<AuthState>, Query(params): Query<HashMap<String, String>>) -> Response {
    let param = |name: &str| params.get(name).map(String::as_str).filter(|value| !value.is_empty());
    let settings = state.settings();
    if let Some(client_id) = param("client_id")
        && client_id != settings.client_id
    {
        return error_page(StatusCode::BAD_REQUEST, "Sign-out refused", &format!("Unknown client_id {client_id:?}."));
    }
    // Ending the sign-in: its refresh tokens stop working, as after Cognito's revocation.
    if let Some(hint) = param("id_token_hint")
        && let Some(origin_jti) = state.inner.verifier.sign_in_of(hint)
    {
        let refresh_tokens = state.inner.refresh_tokens.clone();
        let now = now_unix();
        if let Err(error) = run_blocking(move || refresh_tokens.revoke_sign_in(origin_jti, now)).await {
            return error.into_response();
        }
    }
    // OIDC RP-initiated logout names it post_logout_redirect_uri; Cognito's /logout, logout_uri.
    match param("post_logout_redirect_uri").or_else(|| param("logout_uri")) {
        Some(uri) if settings.redirect_uris.iter().any(|allowed| allowed == uri) => {
            let params: Vec<(&str, String)> =
                param("state").map(|state| ("state", state.to_owned())).into_iter().collect();
            redirect_with(uri, &params)
        }
        Some(uri) => error_page(
            StatusCode::BAD_REQUEST,
            "Sign-out refused",
            &format!("{uri:?} is not one of this stack's sign-out URLs: {}.", settings.redirect_uris.join(", ")),
        ),
        None => error_page(StatusCode::OK, "Signed out", "You are signed out. You can close this page."),
    }
}
