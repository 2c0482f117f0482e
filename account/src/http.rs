//! `DELETE /account`.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;
use todo_platform::http::{ApiError, Caller, Reply, request_id};

use crate::{ErasureService, Outcome, REQUEST_BUDGET};

/// Erases everything of the caller (only ever the caller: the user comes from the verified
/// claims). 200 with the receipt when done, the same receipt for every repeat; 202 with the
/// counts so far and `Retry-After` while the erasure goes on.
pub async fn erase_account(service: &ErasureService, request: Request) -> Response<Body> {
    service.edge.serve(&request, erase(service, &request)).await
}

async fn erase(service: &ErasureService, request: &Request) -> Result<Reply, ApiError> {
    let caller = Caller::from_request(request)?;
    match service.erase(&caller.user, &request_id(request), REQUEST_BUDGET).await? {
        Outcome::Erased(receipt) => Reply::json(StatusCode::OK, &json!({ "receipt": receipt })),
        Outcome::Erasing { erased, retry_after } => {
            Ok(Reply::json(StatusCode::ACCEPTED, &json!({ "status": "erasing", "erased": erased }))?
                .with_retry_after(retry_after.as_secs_f64().ceil() as u64))
        }
    }
}
