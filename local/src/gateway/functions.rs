//! The Lambda handlers behind the API, keyed by their manifest binary name.
//!
//! A handler receives exactly the `lambda_http::Request` that `lambda_http` builds from an API
//! Gateway REST proxy event on AWS, and answers a `lambda_http::Response<Body>`.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use todo_platform::manifest::FUNCTIONS;

pub type LambdaFuture = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

/// One function's handler. Any `Fn(Request) -> impl Future<Output = Response<Body>>` is one;
/// [`lambda!`](crate::lambda) adapts the `handler(&Service, Request)` shape of the application crates.
pub trait LambdaHandler: Send + Sync + 'static {
    fn call(&self, request: Request) -> LambdaFuture;
}

impl<F, Fut> LambdaHandler for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    fn call(&self, request: Request) -> LambdaFuture {
        Box::pin(self(request))
    }
}

/// Adapts `async fn handler(&Service, lambda_http::Request) -> Response<Body>` and a shared
/// service to a [`LambdaHandler`]:
///
/// ```text
/// let commands = Arc::new(commands::CommandService::new(/* stores */));
/// Functions::new().with("create-todo", todo_local::lambda!(commands, commands::http::create_todo))?
/// ```
#[macro_export]
macro_rules! lambda {
    ($service:expr, $handler:path) => {{
        let service = ::std::sync::Arc::clone(&$service);
        move |request: ::lambda_http::Request| {
            let service = ::std::sync::Arc::clone(&service);
            async move { $handler(&service, request).await }
        }
    }};
}

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a function with an HTTP route in the manifest")]
pub struct NotAnApiFunction(pub String);

/// The handlers the router dispatches to, by binary name (`create-todo`, ...).
#[derive(Clone, Default)]
pub struct Functions {
    by_binary: HashMap<&'static str, Arc<dyn LambdaHandler>>,
}

impl fmt::Debug for Functions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wired: Vec<_> = self.by_binary.keys().collect();
        wired.sort();
        f.debug_struct("Functions").field("wired", &wired).finish()
    }
}

impl Functions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Wires `binary` (a manifest function with a route) to `handler`.
    pub fn with(mut self, binary: &str, handler: impl LambdaHandler) -> Result<Self, NotAnApiFunction> {
        let function = FUNCTIONS
            .iter()
            .find(|function| function.binary == binary && function.route.is_some())
            .ok_or_else(|| NotAnApiFunction(binary.to_owned()))?;
        self.by_binary.insert(function.binary, Arc::new(handler));
        Ok(self)
    }

    pub fn get(&self, binary: &str) -> Option<Arc<dyn LambdaHandler>> {
        self.by_binary.get(binary).cloned()
    }

    /// The manifest's API functions that have no handler yet.
    pub fn unwired(&self) -> Vec<&'static str> {
        FUNCTIONS
            .iter()
            .filter(|function| function.route.is_some() && !self.by_binary.contains_key(function.binary))
            .map(|function| function.binary)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Greeter {
        greeting: &'static str,
    }

    async fn greet(service: &Greeter, _request: Request) -> Response<Body> {
        Response::new(Body::from(service.greeting))
    }

    #[tokio::test]
    async fn a_service_handler_is_wired_by_binary_name() {
        let greeter = Arc::new(Greeter { greeting: "hello" });
        let functions = Functions::new().with("list-todos", crate::lambda!(greeter, greet)).unwrap();

        let response = functions.get("list-todos").unwrap().call(Request::default()).await;
        assert_eq!(response.body(), &Body::from("hello"));
        assert!(functions.unwired().contains(&"create-todo"));
        assert!(!functions.unwired().contains(&"list-todos"));
    }

    #[test]
    fn only_api_functions_can_be_wired() {
        let echo = |_request: Request| async { Response::new(Body::Empty) };
        assert!(Functions::new().with("projector", echo).is_err());
        assert!(Functions::new().with("no-such-function", echo).is_err());
    }
}
