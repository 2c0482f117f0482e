//! The sign-in page: plain HTML, no script, labelled inputs, errors announced to screen readers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The authorize request's parameters, carried through the form as hidden fields.
pub struct HiddenFields<'a>(pub Vec<(&'static str, &'a str)>);

pub struct SignInPage<'a> {
    pub form_action: &'a str,
    pub hidden: HiddenFields<'a>,
    pub email: &'a str,
    pub error: Option<&'a str>,
    pub min_password_chars: usize,
}

const STYLE: &str = "
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; display: grid; place-items: center; min-height: 100vh; }
  main { width: min(24rem, calc(100% - 2rem)); }
  h1 { font-size: 1.5rem; }
  label { display: block; font-weight: 600; margin-top: 1rem; }
  input { box-sizing: border-box; width: 100%; padding: .6rem; font-size: 1rem; margin-top: .25rem; }
  .hint { font-size: .875rem; margin: .25rem 0 0; }
  .error { border-left: .25rem solid #c62828; padding: .5rem .75rem; background: rgba(198, 40, 40, .1); }
  .actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
  button { flex: 1; padding: .7rem; font-size: 1rem; cursor: pointer; }
  .note { font-size: .875rem; opacity: .8; margin-top: 2rem; }
";

impl SignInPage<'_> {
    pub fn render(&self, status: StatusCode) -> Response {
        let hidden: String = self
            .hidden
            .0
            .iter()
            .map(|(name, value)| format!(r#"<input type="hidden" name="{name}" value="{}">"#, escape(value)))
            .collect::<Vec<_>>()
            .join("\n      ");
        let error = self
            .error
            .map(|message| format!(r#"<p class="error" role="alert" id="form-error">{}</p>"#, escape(message)))
            .unwrap_or_default();
        // First visit: start at the email. After an error: the password, which is to be retyped.
        let (email_focus, password_focus) = if self.error.is_some() { ("", " autofocus") } else { (" autofocus", "") };
        let body = format!(
            r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Sign in · To Do (local)</title>
  <style>{STYLE}</style>
</head>
<body>
  <main>
    <h1>Sign in to To Do</h1>
    {error}
    <form method="post" action="{action}">
      {hidden}
      <label for="email">Email</label>
      <input id="email" name="email" type="email" autocomplete="username" required value="{email}"{email_focus}>
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required aria-describedby="password-hint"{password_focus}>
      <p class="hint" id="password-hint">New accounts need at least {min} characters.</p>
      <div class="actions">
        <button type="submit" name="action" value="sign-in">Sign in</button>
        <button type="submit" name="action" value="create-account">Create account</button>
      </div>
    </form>
    <p class="note">This is the local stack's development sign-in. Accounts live in its data folder on this machine.</p>
  </main>
</body>
</html>
"#,
            action = escape(self.form_action),
            email = escape(self.email),
            min = self.min_password_chars,
        );
        html_response(status, body)
    }
}

/// A page for a request that cannot be sent back to the app (unknown client or redirect URI).
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} · To Do (local)</title>
  <style>{STYLE}</style>
</head>
<body>
  <main>
    <h1>{title}</h1>
    <p role="alert">{message}</p>
  </main>
</body>
</html>
"#,
        title = escape(title),
        message = escape(message),
    );
    html_response(status, body)
}

fn html_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    // The page carries the authorize parameters: never cache it, never leak it in a Referer to
    // another site (same-origin keeps the form post's Origin header, which the post is checked by),
    // never let another site frame it.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    response
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        assert_eq!(escape(r#"<script>"&'"#), "&lt;script&gt;&quot;&amp;&#39;");
    }
}
