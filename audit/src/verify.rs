//! `todo-audit verify`: walks the event table (all users, or one) and checks every todo's hash
//! chain, and optionally that one user's history extends a digest taken earlier.
//!
//! Streams the table page by page, holding one todo's position (and, with a digest, one head) at a
//! time, so memory does not grow with the number of events.

use events_schema::integrity::{ChainChecker, DigestBuilder, Finding, FindingKind, is_no_later_than};
use events_schema::{HistoryDigest, UserId};
use todo_platform::store::{EventScan, ScanCursor, StoreError};

#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Only this user's events; every user when `None`.
    pub user: Option<UserId>,
    /// Also prove that the user's history up to the digest's `asOf` is the digested one (needs `user`).
    pub digest: Option<HistoryDigest>,
    /// Items read per request.
    pub page_size: usize,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self { user: None, digest: None, page_size: 1000 }
    }
}

/// Findings kept in a report; the counts are always complete.
pub const MAX_FINDINGS: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    pub events: u64,
    pub todos: u64,
    /// Broken links and unreadable items (each is in `findings`, up to [`MAX_FINDINGS`]).
    pub broken: u64,
    /// Todos whose chain starts after version 1 because earlier events predate hashing.
    pub chains_starting_late: u64,
    pub findings: Vec<Finding>,
    /// With a digest: the same digest recomputed now over the events up to its `asOf`.
    pub recomputed: Option<HistoryDigest>,
}

impl VerifyReport {
    /// Whether the recomputed digest is the one given (`None` without a digest).
    pub fn digest_matches(&self, given: Option<&HistoryDigest>) -> Option<bool> {
        let (given, recomputed) = (given?, self.recomputed.as_ref()?);
        Some(given.digest == recomputed.digest && given.todos == recomputed.todos && given.events == recomputed.events)
    }

    /// Clean: no break, and the digest (if any) matches.
    pub fn is_clean(&self, given: Option<&HistoryDigest>) -> bool {
        self.broken == 0 && self.digest_matches(given) != Some(false)
    }

    pub(crate) fn record_finding(&mut self, finding: Finding) {
        match finding.kind.is_break() {
            true => self.broken += 1,
            false => self.chains_starting_late += 1,
        }
        if self.findings.len() < MAX_FINDINGS {
            self.findings.push(finding);
        }
    }
}

/// Where a verification is, for progress output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub events: u64,
    pub todos: u64,
    pub broken: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("a digest belongs to one user's history: give --user with --digest")]
    DigestWithoutUser,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn verify(
    events: &dyn EventScan,
    options: &VerifyOptions,
    mut progress: impl FnMut(Progress),
) -> Result<VerifyReport, VerifyError> {
    if options.digest.is_some() && options.user.is_none() {
        return Err(VerifyError::DigestWithoutUser);
    }
    let mut report = VerifyReport::default();
    let mut checker = ChainChecker::new();
    let as_of = options.digest.as_ref().map(|d| d.as_of);
    let mut digest = as_of.map(|_| DigestBuilder::new());
    let mut last_todo: Option<(String, String)> = None;
    let mut cursor: Option<ScanCursor> = None;
    loop {
        let page = events.scan_records(options.user.as_ref().into(), options.page_size, cursor).await?;
        metrics::counter!("AuditEvents").increment(page.items.len() as u64);
        for stored in page.items {
            report.events += 1;
            let record = match stored {
                Ok(record) => record,
                Err(unreadable) => {
                    let (todo_id, version) = unreadable
                        .event_key
                        .split_once('#')
                        .map(|(todo, version)| (todo.to_owned(), version.parse().unwrap_or(0)))
                        .unwrap_or_else(|| (unreadable.event_key.clone(), 0));
                    report.record_finding(Finding {
                        user_id: unreadable.user_id,
                        todo_id,
                        version,
                        kind: FindingKind::Unreadable { detail: unreadable.detail },
                    });
                    continue;
                }
            };
            let todo = (record.user_id.clone(), record.todo_id.clone());
            if last_todo.as_ref() != Some(&todo) {
                report.todos += 1;
                last_todo = Some(todo);
            }
            for finding in checker.check(&record) {
                report.record_finding(finding);
            }
            if let (Some(digest), Some(as_of)) = (&mut digest, as_of)
                && is_no_later_than(&record, as_of)
            {
                digest.push_record(&record);
            }
        }
        progress(Progress { events: report.events, todos: report.todos, broken: report.broken });
        cursor = page.next;
        if cursor.is_none() {
            report.recomputed = digest.zip(as_of).map(|(digest, as_of)| digest.finish(as_of));
            return Ok(report);
        }
    }
}
