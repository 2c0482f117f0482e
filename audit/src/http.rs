//! `GET /history/digest` and `GET /export`.

use chrono::Utc;
use events_schema::integrity::is_no_later_than;
use events_schema::{EventRecord, HistoryDigest, Timestamp};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use todo_platform::http::{ApiError, Caller, Reply, cursor_param, encode_cursor, limit_param};
use todo_platform::store::{ScanCursor, Scope, StoreError};

use crate::{AuditService, digest_of};

/// Events per export page unless `?limit=` says otherwise, and the most it may say.
pub const EXPORT_PAGE: usize = 500;
pub const MAX_EXPORT_PAGE: usize = 1000;

fn now() -> Timestamp {
    Timestamp::from_datetime(Utc::now())
}

pub async fn get_history_digest(service: &AuditService, request: Request) -> Response<Body> {
    service.edge.serve(&request, digest(service, &request)).await
}

async fn digest(service: &AuditService, request: &Request) -> Result<Reply, ApiError> {
    let caller = Caller::from_request(request)?;
    let digest = digest_of(service.events.as_ref(), &caller.user, now()).await?;
    Reply::json(StatusCode::OK, &digest)
}

/// Where an export resumes. The instant is fixed by the first page, so that every page and the
/// closing digest describe the same history even while the user keeps working.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ExportCursor {
    as_of: Timestamp,
    /// The last event key sent (within the caller's own partition).
    after: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportPage {
    /// Each event exactly as stored, without the table's sort key.
    events: Vec<serde_json::Map<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    /// On the last page only: the digest of everything exported.
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<HistoryDigest>,
}

pub async fn export_data(service: &AuditService, request: Request) -> Response<Body> {
    service.edge.serve(&request, export(service, &request)).await
}

async fn export(service: &AuditService, request: &Request) -> Result<Reply, ApiError> {
    let caller = Caller::from_request(request)?;
    let limit = limit_param(request, EXPORT_PAGE, MAX_EXPORT_PAGE)?;
    let cursor: Option<ExportCursor> = cursor_param(request)?;
    let (as_of, after) = match cursor {
        Some(cursor) => (cursor.as_of, Some(cursor.after)),
        None => (now(), None),
    };

    let mut events = Vec::with_capacity(limit);
    // The cursor only ever names a key in the caller's own partition.
    let mut start = after.map(|event_key| ScanCursor { user_id: caller.user.to_string(), event_key });
    let mut consumed: Option<String> = None;
    let resume = 'pages: loop {
        // One more than needed: a page that ends exactly at the last event then says so.
        let page = service.events.scan_records(Scope::User(&caller.user), limit - events.len() + 1, start).await?;
        for stored in page.items {
            let record = stored.map_err(StoreError::from)?;
            if events.len() == limit {
                break 'pages consumed;
            }
            consumed = Some(record.event_key.clone());
            if is_no_later_than(&record, as_of) {
                events.push(exported(&record)?);
            }
        }
        match page.next {
            None => break None,
            next => start = next,
        }
    };
    let body = match resume {
        Some(after) => {
            ExportPage { events, next_cursor: Some(encode_cursor(&ExportCursor { as_of, after })), digest: None }
        }
        None => {
            let digest = digest_of(service.events.as_ref(), &caller.user, as_of).await?;
            ExportPage { events, next_cursor: None, digest: Some(digest) }
        }
    };
    Reply::json(StatusCode::OK, &body)
}

/// An event as exported: the stored record without `eventKey` (it repeats `todoId` and `version`).
fn exported(record: &EventRecord) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    match serde_json::to_value(record).map_err(ApiError::internal)? {
        serde_json::Value::Object(mut fields) => {
            fields.remove("eventKey");
            Ok(fields)
        }
        other => Err(ApiError::internal(anyhow::anyhow!("an event record serialised as {other}"))),
    }
}
