//! What operators see: JSON log lines and CloudWatch metrics in the embedded metric format (EMF).
//!
//! Every log line on Lambda is one flat JSON object carrying the fields of the spans it was
//! written in: a request's `requestId` and `traceId` (and `todoId`, `eventId` where known, see
//! `Edge::serve`), an event's in the projector. Metrics go through the `metrics` facade to
//! `metrics_cloudwatch_embedded`, namespace [`NAMESPACE`], each with a `Function` dimension, and
//! are written as EMF lines after each invocation (CloudWatch turns them into metrics). Without a
//! recorder (tests) the facade's calls do nothing.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use metrics_cloudwatch_embedded::Collector;

/// This process's metrics, once [`init_metrics`] installed them.
static COLLECTOR: OnceLock<&'static Collector> = OnceLock::new();

/// Histogram values recorded since the last flush. The collector holds at most 100 of them (EMF's
/// limit of values per metric in one document) and drops the rest, so [`record_histogram`] flushes
/// before that: a projector batch can hold more records, and `todo-local` flushes only now and then.
static UNFLUSHED_VALUES: AtomicUsize = AtomicUsize::new(0);
const FLUSH_AFTER_VALUES: usize = 90;

/// The CloudWatch namespace of every custom metric (`template.yaml`'s dashboard and alarms).
pub const NAMESPACE: &str = "TodoApp";

/// Whether this process is a Lambda function.
pub fn on_lambda() -> bool {
    std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
}

/// Logs for Lambda (flat JSON on stdout: CloudWatch adds the time) or for a terminal (text on
/// stderr, span fields in braces). The level comes from `RUST_LOG` (default `info`).
pub fn init_tracing() {
    use tracing_subscriber::prelude::*;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if on_lambda() {
        tracing_subscriber::registry().with(filter).with(tracing_flat_json::FlatJsonLayer::new(std::io::stdout)).init();
    } else {
        use std::io::IsTerminal as _;
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .init();
    }
}

/// The metrics of this process, `function` its `Function` dimension (the Lambda function's name
/// on AWS). On Lambda they are written after each invocation ([`flush`]); elsewhere (`todo-local`,
/// the command-line tools) every `every` to stderr, where a person can read the same lines.
pub fn init_metrics(function: &str, every: Option<Duration>) -> Option<&'static Collector> {
    let mut builder = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(NAMESPACE)
        .with_dimension("Function", function.to_owned());
    if let Some(every) = every {
        builder = builder.with_auto_flush_writer(every, std::io::stderr);
    }
    let collector = match builder.init() {
        Ok(collector) => collector,
        Err(error) => {
            tracing::warn!(error = %error, "metrics are off: the recorder could not be installed");
            return None;
        }
    };
    describe();
    let _ = COLLECTOR.set(collector);
    Some(collector)
}

/// Records one value of a histogram (`ProjectorLag`), flushing first when the collector's buffer
/// would otherwise overflow.
pub fn record_histogram(name: &'static str, value: f64) {
    if UNFLUSHED_VALUES.fetch_add(1, Ordering::Relaxed) + 1 >= FLUSH_AFTER_VALUES {
        flush(COLLECTOR.get().copied());
    }
    metrics::histogram!(name).record(value);
}

fn describe() {
    use metrics::Unit;
    metrics::describe_counter!("Commands", Unit::Count, "commands by route and outcome");
    metrics::describe_counter!("CommandsRejected", Unit::Count, "4xx commands by route and reason");
    metrics::describe_counter!(
        "Unavailable",
        Unit::Count,
        "requests answered 503: DynamoDB throttled, failed or timed out"
    );
    metrics::describe_histogram!("ProjectorLag", Unit::Milliseconds, "now minus the event's time, per stream record");
    metrics::describe_counter!("ProjectorBatchFailures", Unit::Count, "records reported failed");
    metrics::describe_counter!("ProjectorGapRepairs", Unit::Count, "todos folded from the event table after a gap");
    metrics::describe_counter!("ReplayEvents", Unit::Count, "events replayed or verified");
    metrics::describe_counter!("AuditEvents", Unit::Count, "events whose hash chain was verified");
    metrics::describe_counter!("LivePushesSent", Unit::Count, "live messages posted to a session");
    metrics::describe_counter!("LivePushesGone", Unit::Count, "posts to a session that had gone (410): removed");
    metrics::describe_counter!(
        "LivePushesFailed",
        Unit::Count,
        "posts that failed otherwise (their record is retried)"
    );
    metrics::describe_histogram!("LivePushLag", Unit::Milliseconds, "now minus the todo's change, per message sent");
    metrics::describe_counter!("NotifierBatchFailures", Unit::Count, "read-model stream records reported failed");
    metrics::describe_counter!("LiveConnectsDenied", Unit::Count, "WebSocket $connect refused: no valid ID token");
}

/// Writes what was recorded since the last flush (one EMF document per dimension set): to stdout
/// on Lambda, where CloudWatch reads them, to stderr elsewhere, so that a tool's output stays its own.
pub fn flush(collector: Option<&'static Collector>) {
    let Some(collector) = collector else { return };
    UNFLUSHED_VALUES.store(0, Ordering::Relaxed);
    let written = match on_lambda() {
        true => collector.flush(std::io::stdout()),
        false => collector.flush(std::io::stderr()),
    };
    if let Err(error) = written {
        tracing::warn!(error = %error, "writing the metrics failed");
    }
}

/// This function's name for the `Function` dimension: Lambda's, else the binary's.
pub fn function_name(binary: &str) -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| binary.to_owned())
}

/// Runs an HTTP function on Lambda: every invocation's metrics written when it is answered.
pub async fn run_http<F, Fut>(binary: &str, handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(lambda_http::Request) -> Fut,
    Fut: std::future::Future<Output = lambda_http::Response<lambda_http::Body>> + Send,
{
    let metrics = init_metrics(&function_name(binary), None);
    lambda_http::run(lambda_http::service_fn(|request| {
        let response = handler(request);
        async move {
            let response = response.await;
            flush(metrics);
            Ok::<_, std::convert::Infallible>(response)
        }
    }))
    .await
}
