//! The query routes.

use chrono::Utc;
use events_schema::{Event, EventRecord, Timestamp, TodoItem};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use todo_platform::http::{
    ApiError, Caller, Reply, as_of_param, cursor_param, encode_cursor, page_limit, query_param, todo_id_param,
};
use todo_platform::store::{HistoryCursor, ListCursor, StatusFilter};

use crate::QueryService;
use crate::past::{Moment, NoPastState, list_as_of, todo_at};
use crate::stats::{DEFAULT_WEEKS, MAX_WEEKS, stats_of};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TodoPage {
    items: Vec<TodoItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

/// An event as the history routes show it: the stored record without its table keys.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HistoryEntry {
    event_id: String,
    todo_id: String,
    version: u64,
    #[serde(rename = "type")]
    event_type: String,
    schema_version: u32,
    occurred_at: String,
    data: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hash: Option<String>,
}

impl From<&Event> for HistoryEntry {
    fn from(event: &Event) -> Self {
        let EventRecord {
            event_id,
            todo_id,
            version,
            event_type,
            schema_version,
            occurred_at,
            data,
            metadata,
            prev_hash,
            hash,
            ..
        } = event.to_record();
        Self {
            event_id,
            todo_id,
            version,
            event_type,
            schema_version,
            occurred_at,
            data,
            request_id: metadata.request_id,
            actor: metadata.actor,
            prev_hash,
            hash,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HistoryPage {
    events: Vec<HistoryEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

pub async fn list_todos(service: &QueryService, request: Request) -> Response<Body> {
    service.edge.serve(&request, list(service, &request)).await
}

async fn list(service: &QueryService, request: &Request) -> Result<Reply, ApiError> {
    let caller = Caller::from_request(request)?;
    let status = match query_param(request, "status").as_deref() {
        None | Some("all") => StatusFilter::All,
        Some("active") => StatusFilter::Active,
        Some("completed") => StatusFilter::Completed,
        Some(_) => {
            return Err(ApiError::bad_request("invalid_status", "status must be all, active or completed"));
        }
    };
    let limit = page_limit(request)?;
    let after: Option<ListCursor> = cursor_param(request)?;
    let page = match as_of_param(request, now())? {
        Some(as_of) => {
            let snapshots = service.snapshots.as_deref();
            list_as_of(service.timeline.as_ref(), snapshots, &caller.user, as_of, status, limit, after).await
        }
        None => service.todos.list(&caller.user, status, limit, after).await,
    }?;
    let body = TodoPage { items: page.items, next_cursor: page.next.as_ref().map(encode_cursor) };
    Reply::json(StatusCode::OK, &body)
}

pub async fn get_todo(service: &QueryService, request: Request) -> Response<Body> {
    service.edge.serve(&request, get(service, &request)).await
}

fn now() -> Timestamp {
    Timestamp::from_datetime(Utc::now())
}

/// `?asOf=` or `?version=` (one at most).
fn moment_param(request: &Request) -> Result<Option<Moment>, ApiError> {
    let as_of = as_of_param(request, now())?;
    let version = match query_param(request, "version") {
        None => None,
        Some(raw) => Some(raw.parse::<u64>().ok().filter(|v| *v >= 1).ok_or_else(|| {
            ApiError::bad_request("invalid_version", "version must be a whole number from 1 to the todo's version")
        })?),
    };
    match (as_of, version) {
        (Some(_), Some(_)) => Err(ApiError::bad_request("invalid_query", "give asOf or version, not both")),
        (Some(at), None) => Ok(Some(Moment::AsOf(at))),
        (None, Some(version)) => Ok(Some(Moment::Version(version))),
        (None, None) => Ok(None),
    }
}

impl From<NoPastState> for ApiError {
    fn from(why: NoPastState) -> Self {
        match why {
            NoPastState::Unknown => ApiError::NotFound,
            NoPastState::NotYetCreated { created_at } => ApiError::NotFoundBecause {
                code: "not_yet_created",
                message: format!("the todo did not exist yet at that moment: it was created at {created_at}"),
            },
            NoPastState::Deleted { at, version } => ApiError::NotFoundBecause {
                code: "deleted",
                message: format!("the todo had been deleted at that moment: deleted at {at} (version {version})"),
            },
            NoPastState::NoSuchVersion { current } => ApiError::bad_request(
                "invalid_version",
                format!("the todo has versions 1 to {current}; there is no later version"),
            ),
        }
    }
}

async fn get(service: &QueryService, request: &Request) -> Result<Reply, ApiError> {
    let caller = Caller::from_request(request)?;
    let id = todo_id_param(request)?;
    if let Some(moment) = moment_param(request)? {
        // A past state: no ETag, since it is not a version a command could apply to.
        let item = todo_at(service.events.as_ref(), &caller.user, &id, moment).await??;
        return Reply::json(StatusCode::OK, &item);
    }
    let item = service.todos.get(&caller.user, &id).await?.ok_or(ApiError::NotFound)?;
    Ok(Reply::json(StatusCode::OK, &item)?.with_etag(item.version))
}

pub async fn get_todo_history(service: &QueryService, request: Request) -> Response<Body> {
    service.edge.serve(&request, item_history(service, &request)).await
}

async fn item_history(service: &QueryService, request: &Request) -> Result<Reply, ApiError> {
    let caller = Caller::from_request(request)?;
    let id = todo_id_param(request)?;
    let events = service.events.load(&caller.user, &id).await?;
    if events.is_empty() {
        return Err(ApiError::NotFound);
    }
    let body = HistoryPage { events: events.iter().map(HistoryEntry::from).collect(), next_cursor: None };
    Reply::json(StatusCode::OK, &body)
}

pub async fn get_history(service: &QueryService, request: Request) -> Response<Body> {
    service.edge.serve(&request, user_history(service, &request)).await
}

async fn user_history(service: &QueryService, request: &Request) -> Result<Reply, ApiError> {
    let caller = Caller::from_request(request)?;
    let limit = page_limit(request)?;
    let after: Option<HistoryCursor> = cursor_param(request)?;
    let page = service.timeline.user_history(&caller.user, None, limit, after).await?;
    let body = HistoryPage {
        events: page.items.iter().map(HistoryEntry::from).collect(),
        next_cursor: page.next.as_ref().map(encode_cursor),
    };
    Reply::json(StatusCode::OK, &body)
}

pub async fn get_stats(service: &QueryService, request: Request) -> Response<Body> {
    service.edge.serve(&request, stats(service, &request)).await
}

async fn stats(service: &QueryService, request: &Request) -> Result<Reply, ApiError> {
    let caller = Caller::from_request(request)?;
    let weeks = match query_param(request, "weeks") {
        None => DEFAULT_WEEKS,
        Some(raw) => raw.parse::<u32>().ok().filter(|w| (1..=MAX_WEEKS).contains(w)).ok_or_else(|| {
            ApiError::bad_request("invalid_weeks", format!("weeks must be a whole number from 1 to {MAX_WEEKS}"))
        })?,
    };
    let facts = service.stats.user_facts(&caller.user).await?;
    Reply::json(StatusCode::OK, &stats_of(&facts, now(), weeks))
}
