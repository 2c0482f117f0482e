//! The command routes: parse at the edge, [`execute`](crate::execute), answer with the new state.

use events_schema::{Changes, Command, Context, DomainError, Notes, Title, Todo, TodoId, TodoItem};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use todo_platform::http::{ApiError, Caller, Reply, if_match, json_body, public_path, todo_id_param};

use crate::{CommandError, CommandService, execute};

/// `POST /item`: `{title, notes?, id?}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    title: String,
    #[serde(default, deserialize_with = "present")]
    notes: Option<String>,
    /// A client-chosen UUID makes retries idempotent.
    #[serde(default, deserialize_with = "present")]
    id: Option<String>,
}

/// `PUT /item/{id}`: any of `{title, notes, completed}`; `notes: null` or `""` clears the notes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    title: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    notes: Option<String>,
    #[serde(default, deserialize_with = "present")]
    completed: Option<bool>,
}

/// An optional field that, when present, must hold a value: `null` is a 400, not "absent" (only
/// `notes` on an update gives `null` a meaning).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// A present `null` becomes `Some("")` (clear), an absent field stays `None` (keep).
fn null_as_empty<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Some(Option::<String>::deserialize(deserializer)?.unwrap_or_default()))
}

fn invalid_field(error: events_schema::FieldError) -> ApiError {
    ApiError::bad_request("invalid_field", error.to_string())
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::Domain(DomainError::NotFound) => ApiError::NotFound,
            CommandError::Domain(DomainError::IdTaken) => {
                ApiError::Conflict("a todo with this id already exists with other content".into())
            }
            CommandError::Domain(DomainError::VersionMismatch { expected, actual }) => ApiError::PreconditionFailed(
                format!("the todo is at version {actual}, not {expected}: it changed since you read it"),
            ),
            CommandError::CreatedThenDeleted => ApiError::Conflict(
                "a todo with this id was created by an earlier request and has since been deleted".into(),
            ),
            CommandError::Contended => {
                ApiError::Conflict("the todo was changed by another request at the same time; try again".into())
            }
            CommandError::Store(error) => error.into(),
        }
    }
}

fn live(state: Todo) -> Result<TodoItem, ApiError> {
    match state {
        Todo::Live(item) => Ok(item),
        // A successful command on a live todo leaves it live; anything else is a bug of ours.
        other => Err(ApiError::internal(anyhow::anyhow!("command left the todo in state {other:?}"))),
    }
}

/// Executes a command, and says what it did in the request's log line and metrics.
async fn run(
    service: &CommandService,
    route: &'static str,
    caller: &Caller,
    id: TodoId,
    command: Command,
    context: Context,
) -> Result<Todo, ApiError> {
    let span = tracing::Span::current();
    span.record("todoId", tracing::field::display(id));
    service.check_fence(&caller.user).await?;
    let executed = execute(service.events.as_ref(), caller, id, command, &context).await?;
    let outcome = if executed.appended.is_empty() { "no_change" } else { "accepted" };
    if let Some(last) = executed.appended.last() {
        span.record("eventId", tracing::field::display(last.event_id));
    }
    let event_ids: Vec<String> = executed.appended.iter().map(|e| e.event_id.to_string()).collect();
    tracing::info!(route, outcome, version = executed.state.version(), ?event_ids, "command executed");
    metrics::counter!("Commands", "Route" => route, "Outcome" => outcome).increment(1);
    Ok(executed.state)
}

/// Counts a command that did not execute, by route and outcome (and the reason of a 4xx).
async fn observed(
    route: &'static str,
    work: impl std::future::Future<Output = Result<Reply, ApiError>>,
) -> Result<Reply, ApiError> {
    let result = work.await;
    if let Err(error) = &result {
        let outcome = match error {
            ApiError::NotFound | ApiError::NotFoundBecause { .. } => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::PreconditionFailed(_) => "precondition_failed",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::AccountErased => "account_erased",
            ApiError::Internal(_) => "error",
            ApiError::BadRequest { .. }
            | ApiError::Unauthorized
            | ApiError::PayloadTooLarge(_)
            | ApiError::UnsupportedMediaType => {
                metrics::counter!("CommandsRejected", "Route" => route, "Reason" => error.code()).increment(1);
                "rejected"
            }
        };
        metrics::counter!("Commands", "Route" => route, "Outcome" => outcome).increment(1);
    }
    result
}

pub async fn create_todo(service: &CommandService, request: Request) -> Response<Body> {
    service.edge.serve(&request, observed("create", create(service, &request))).await
}

async fn create(service: &CommandService, request: &Request) -> Result<Reply, ApiError> {
    let caller = Caller::from_request(request)?;
    let body: CreateBody = json_body(request)?;
    let title = Title::parse(&body.title).map_err(invalid_field)?;
    let notes = body.notes.as_deref().map(Notes::parse).transpose().map_err(invalid_field)?;
    let id = match body.id.as_deref() {
        Some(raw) => TodoId::parse(raw).map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))?,
        None => TodoId::from_uuid(uuid::Uuid::now_v7()),
    };
    let item = live(run(service, "create", &caller, id, Command::Create { title, notes }, Context::default()).await?)?;
    Ok(Reply::json(StatusCode::CREATED, &item)?.with_etag(item.version).with_location(&format!(
        "{}/{}",
        public_path(request),
        item.id
    )))
}

pub async fn update_todo(service: &CommandService, request: Request) -> Response<Body> {
    service.edge.serve(&request, observed("update", update(service, &request))).await
}

async fn update(service: &CommandService, request: &Request) -> Result<Reply, ApiError> {
    let caller = Caller::from_request(request)?;
    let id = todo_id_param(request)?;
    let expected_version = if_match(request)?;
    let body: UpdateBody = json_body(request)?;
    let changes = Changes {
        title: body.title.as_deref().map(Title::parse).transpose().map_err(invalid_field)?,
        notes: body.notes.as_deref().map(Notes::parse).transpose().map_err(invalid_field)?,
        completed: body.completed,
    };
    let item =
        live(run(service, "update", &caller, id, Command::Update(changes), Context { expected_version }).await?)?;
    Ok(Reply::json(StatusCode::OK, &item)?.with_etag(item.version))
}

pub async fn complete_todo(service: &CommandService, request: Request) -> Response<Body> {
    service.edge.serve(&request, observed("complete", complete(service, &request))).await
}

async fn complete(service: &CommandService, request: &Request) -> Result<Reply, ApiError> {
    let caller = Caller::from_request(request)?;
    let id = todo_id_param(request)?;
    let expected_version = if_match(request)?;
    let item = live(run(service, "complete", &caller, id, Command::Complete, Context { expected_version }).await?)?;
    Ok(Reply::json(StatusCode::OK, &item)?.with_etag(item.version))
}

pub async fn delete_todo(service: &CommandService, request: Request) -> Response<Body> {
    service.edge.serve(&request, observed("delete", delete(service, &request))).await
}

async fn delete(service: &CommandService, request: &Request) -> Result<Reply, ApiError> {
    let caller = Caller::from_request(request)?;
    let id = todo_id_param(request)?;
    let expected_version = if_match(request)?;
    run(service, "delete", &caller, id, Command::Delete, Context { expected_version }).await?;
    Ok(Reply::no_content())
}
