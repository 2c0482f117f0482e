//! The built SPA (`www/dist`) and its runtime configuration, `/config.json`.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Json, Response};
use serde::Serialize;

use crate::live::LIVE_PATH;

/// What the SPA reads at start-up to find the API, the sign-in and the live-updates socket.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SpaConfig {
    pub api_base_url: String,
    pub authority: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub post_logout_redirect_uri: String,
    pub scope: String,
    /// Set when the authority has no `end_session_endpoint` (Cognito's hosted `/logout`).
    pub logout_url: Option<String>,
    /// The live-updates socket, `ws://<host>/live`. Served as the browser named this server (see
    /// [`live_url`]); this one when the request does not say.
    pub live_url: String,
    /// Where the SPA calls Cognito's own API (`DeleteUser`): the dev sign-in's emulation. Absent
    /// with a real user pool: the SPA then uses the authority's origin, as Cognito's endpoint is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cognito_endpoint: Option<String>,
}

pub async fn config(State(config): State<Arc<SpaConfig>>, uri: Uri, headers: HeaderMap) -> Response {
    let mut config = config.as_ref().clone();
    if let Some(url) = live_url(&uri, &headers) {
        config.live_url = url;
    }
    let mut response = Json(config).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The socket on the host the browser asked for (its `Host`, or an HTTP/2 request's authority), so
/// that it is right whatever the port or the name; `wss:` when a TLS-terminating proxy in front
/// says the page came over https (`X-Forwarded-Proto`). `None` without a usable host.
pub fn live_url(uri: &Uri, headers: &HeaderMap) -> Option<String> {
    let host = match headers.get(header::HOST) {
        Some(host) => host.to_str().ok()?.parse::<Authority>().ok()?,
        None => uri.authority()?.clone(),
    };
    if host.as_str().contains('@') {
        return None;
    }
    let forwarded_proto = headers.get("x-forwarded-proto").and_then(|value| value.to_str().ok());
    let https = forwarded_proto
        .and_then(|protos| protos.split(',').next())
        .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    Some(live_url_on(&format!("{}://{host}", if https { "https" } else { "http" })))
}

/// `http://h:p` -> `ws://h:p/live`; `https://h` -> `wss://h/live`.
pub fn live_url_on(origin: &str) -> String {
    match origin.strip_prefix("https://") {
        Some(authority) => format!("wss://{authority}{LIVE_PATH}"),
        None => format!("ws://{}{LIVE_PATH}", origin.strip_prefix("http://").unwrap_or(origin)),
    }
}

/// Serves files of the SPA folder; a path without a file extension that names no file gets
/// `index.html` (client-side routes).
pub async fn serve(www_dir: Arc<PathBuf>, request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut response = (StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n").into_response();
        response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let path = request.uri().path();
    let Some(relative) = safe_relative_path(path) else {
        return (StatusCode::NOT_FOUND, "Not Found\n").into_response();
    };
    // `/` and client-side routes (`/todos/123`) are the app; `/missing.js` is a missing file.
    let has_extension = path != "/" && relative.extension().is_some();
    if !tokio::fs::metadata(www_dir.as_path()).await.is_ok_and(|metadata| metadata.is_dir()) {
        return if has_extension {
            (StatusCode::NOT_FOUND, "Not Found\n").into_response()
        } else {
            not_built(&www_dir)
        };
    }
    let candidate = www_dir.join(&relative);
    if tokio::fs::metadata(&candidate).await.is_ok_and(|metadata| metadata.is_file()) {
        return file_response(&candidate, path).await;
    }
    if has_extension {
        return (StatusCode::NOT_FOUND, "Not Found\n").into_response();
    }
    file_response(&www_dir.join("index.html"), "/index.html").await
}

async fn file_response(file: &Path, request_path: &str) -> Response {
    match tokio::fs::read(file).await {
        Ok(bytes) => {
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(file)));
            headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            // Vite fingerprints what it puts in assets/; everything else may change on rebuild.
            let cache =
                if request_path.starts_with("/assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
            response
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            (StatusCode::NOT_FOUND, "Not Found\n").into_response()
        }
        Err(error) => {
            tracing::error!(file = %file.display(), %error, "reading a file of the SPA failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error\n").into_response()
        }
    }
}

/// `/a/b.js` -> `a/b.js`; `/` -> `index.html`; anything that could leave the folder -> `None`.
fn safe_relative_path(path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(path)?;
    let mut relative = PathBuf::new();
    for component in Path::new(&decoded).components() {
        match component {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(part) if !part.to_string_lossy().contains('\\') => relative.push(part),
            _ => return None,
        }
    }
    if relative.as_os_str().is_empty() {
        relative.push("index.html");
    }
    Some(relative)
}

fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            decoded.push(u8::from_str_radix(path.get(index + 1..index + 3)?, 16).ok()?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    let decoded = String::from_utf8(decoded).ok()?;
    (!decoded.contains('\0')).then_some(decoded)
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|extension| extension.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn not_built(www_dir: &Path) -> Response {
    let folder = crate::auth::pages::escape(&www_dir.display().to_string());
    let body = format!(
        r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>To Do (local): the SPA is not built</title></head>
<body>
  <main>
    <h1>The SPA is not built yet</h1>
    <p>The local stack serves the web app from <code>{folder}</code>, which does not exist.</p>
    <p>Build it and start the stack with <code>make run</code>, or build it alone with
       <code>npm --prefix www ci &amp;&amp; npm --prefix www run build</code> and reload this page.</p>
    <p>The API is up meanwhile: <a href="/config.json">/config.json</a>,
       <a href="/auth/.well-known/openid-configuration">the sign-in's discovery document</a>.</p>
  </main>
</body>
</html>
"#
    );
    (StatusCode::SERVICE_UNAVAILABLE, Html(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_url_names_the_host_the_browser_used() {
        let url = |headers: &[(&'static str, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in headers {
                map.insert(*name, HeaderValue::from_str(value).unwrap());
            }
            live_url(&Uri::from_static("/config.json"), &map)
        };
        assert_eq!(url(&[("host", "127.0.0.1:8080")]).as_deref(), Some("ws://127.0.0.1:8080/live"));
        assert_eq!(url(&[("host", "localhost:5173")]).as_deref(), Some("ws://localhost:5173/live"));
        let behind_tls = url(&[("host", "todo.example.com"), ("x-forwarded-proto", "https")]);
        assert_eq!(behind_tls.as_deref(), Some("wss://todo.example.com/live"));
        assert_eq!(url(&[("host", "evil.example/path")]), None);
        assert_eq!(url(&[("host", "user@evil.example")]), None);
        assert_eq!(url(&[]), None);
        let http2 = live_url(&Uri::from_static("http://127.0.0.1:9000/config.json"), &HeaderMap::new());
        assert_eq!(http2.as_deref(), Some("ws://127.0.0.1:9000/live"));
        assert_eq!(live_url_on("https://todo.example.com"), "wss://todo.example.com/live");
    }

    #[test]
    fn paths_cannot_leave_the_spa_folder() {
        assert_eq!(safe_relative_path("/"), Some(PathBuf::from("index.html")));
        assert_eq!(safe_relative_path("/assets/app.js"), Some(PathBuf::from("assets/app.js")));
        assert_eq!(safe_relative_path("/a%20b.txt"), Some(PathBuf::from("a b.txt")));
        for escape in ["/../secret", "/assets/%2e%2e/%2e%2e/etc/passwd", "/a/../../b", "/x%00.js", "/a\\..\\b"] {
            assert_eq!(safe_relative_path(escape), None, "{escape}");
        }
    }
}
