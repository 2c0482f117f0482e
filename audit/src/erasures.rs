//! `todo-audit erasures`: the account erasures of `ErasureTable`, receipts and erasures still under
//! way, a page at a time.
//!
//! What it prints holds no personal data, because the table holds none: each erasure is known by the
//! keyed hash of the user id (`userKey`), with its times, the request that asked for it and the counts
//! erased. With the stack's erasure key (`ERASURE_KEY`), `--user` finds one user id's erasure by
//! hashing it as the stack does, so an operator can answer "was this account erased?" without the
//! table ever naming anyone.

use events_schema::Timestamp;
use serde_json::{Value, json};
use todo_platform::store::{ErasedCounts, Erasure, ErasureLog, StoreError, UserKey};

/// What a listing found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErasureSummary {
    /// Receipts: erasures that finished.
    pub erased: u64,
    /// Markers: erasures under way, or stopped before they finished (the account is fenced, but rows
    /// remain until `DELETE /account` is asked again).
    pub erasing: u64,
    /// When the oldest erasure still under way was asked for.
    pub oldest_erasing: Option<Timestamp>,
}

impl ErasureSummary {
    pub fn total(&self) -> u64 {
        self.erased + self.erasing
    }

    fn count(&mut self, erasure: &Erasure) {
        match erasure {
            Erasure::Erased(_) => self.erased += 1,
            Erasure::Erasing { requested_at, .. } => {
                self.erasing += 1;
                if self.oldest_erasing.is_none_or(|oldest| *requested_at < oldest) {
                    self.oldest_erasing = Some(*requested_at);
                }
            }
        }
    }

    /// One line: `3 erasure(s): 2 erased, 1 still erasing (the oldest asked for at ...)`.
    pub fn line(&self) -> String {
        let mut line = format!("{} erasure(s): {} erased, {} still erasing", self.total(), self.erased, self.erasing);
        if let Some(oldest) = self.oldest_erasing {
            line.push_str(&format!(" (the oldest asked for at {oldest})"));
        }
        line
    }

    pub fn to_json(&self) -> Value {
        json!({
            "erasures": self.total(),
            "erased": self.erased,
            "erasing": self.erasing,
            "oldestErasingRequestedAt": self.oldest_erasing,
        })
    }
}

/// The counts of `erasures`.
pub fn summarize(erasures: &[Erasure]) -> ErasureSummary {
    let mut summary = ErasureSummary::default();
    erasures.iter().for_each(|erasure| summary.count(erasure));
    summary
}

/// Every erasure of `log`, `page_size` items per request, each handed to `each` as it is read (the
/// table only grows: nothing is held but the counts). In the store's order: for DynamoDB, the order
/// of the keys' hashes.
pub async fn each_erasure(
    log: &dyn ErasureLog,
    page_size: usize,
    mut each: impl FnMut(&Erasure),
) -> Result<ErasureSummary, StoreError> {
    let mut summary = ErasureSummary::default();
    let mut after: Option<UserKey> = None;
    loop {
        let page = log.erasures(page_size.max(1), after.clone()).await?;
        for erasure in &page.items {
            summary.count(erasure);
            each(erasure);
        }
        match page.next {
            // A cursor that does not move would list the same page for ever.
            Some(next) if after.as_ref() != Some(&next) => after = Some(next),
            _ => return Ok(summary),
        }
    }
}

/// One erasure as one line of text.
pub fn line(erasure: &Erasure) -> String {
    match erasure {
        Erasure::Erased(receipt) => format!(
            "erased   {} requested {} erased {} request {}: {}",
            receipt.user_key,
            receipt.requested_at,
            receipt.erased_at,
            receipt.request_id,
            counts(&receipt.erased)
        ),
        Erasure::Erasing { user_key, requested_at, request_id, erased } => {
            format!("erasing  {user_key} requested {requested_at} request {request_id}: so far {}", counts(erased))
        }
    }
}

/// One erasure as one JSON object: a receipt as `DELETE /account` answers it (`userKey`,
/// `requestedAt`, `erasedAt`, `requestId`, `erased`) with `"status": "erased"`; an erasure under way
/// the same without `erasedAt`, with `"status": "erasing"`.
pub fn to_json(erasure: &Erasure) -> Value {
    match erasure {
        Erasure::Erased(receipt) => json!({
            "status": "erased",
            "userKey": receipt.user_key,
            "requestedAt": receipt.requested_at,
            "erasedAt": receipt.erased_at,
            "requestId": receipt.request_id,
            "erased": receipt.erased,
        }),
        Erasure::Erasing { user_key, requested_at, request_id, erased } => json!({
            "status": "erasing",
            "userKey": user_key,
            "requestedAt": requested_at,
            "requestId": request_id,
            "erased": erased,
        }),
    }
}

fn counts(erased: &ErasedCounts) -> String {
    format!(
        "{} events, {} todos, {} stats, {} snapshots, {} connections",
        erased.events, erased.todos, erased.stats, erased.snapshots, erased.connections
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_platform::store::ErasureReceipt;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn key(n: u8) -> UserKey {
        UserKey::parse(&format!("{n:02x}").repeat(32)).unwrap()
    }

    #[test]
    fn the_summary_counts_each_kind_and_the_oldest_erasure_under_way() {
        let counts = ErasedCounts { events: 3, todos: 1, stats: 1, snapshots: 0, connections: 2 };
        let mut summary = ErasureSummary::default();
        summary.count(&Erasure::Erased(ErasureReceipt {
            user_key: key(1),
            requested_at: at("2026-01-01T00:00:00Z"),
            erased_at: at("2026-01-01T00:00:20Z"),
            request_id: "r1".into(),
            erased: counts,
        }));
        for (n, when) in [(2, "2026-02-02T00:00:00Z"), (3, "2026-01-15T00:00:00Z")] {
            summary.count(&Erasure::Erasing {
                user_key: key(n),
                requested_at: at(when),
                request_id: format!("r{n}"),
                erased: counts,
            });
        }
        assert_eq!((summary.total(), summary.erased, summary.erasing), (3, 1, 2));
        assert_eq!(summary.oldest_erasing, Some(at("2026-01-15T00:00:00Z")));
        assert_eq!(
            summary.line(),
            "3 erasure(s): 1 erased, 2 still erasing (the oldest asked for at 2026-01-15T00:00:00.000000Z)"
        );
        assert_eq!(ErasureSummary::default().line(), "0 erasure(s): 0 erased, 0 still erasing");
    }
}
