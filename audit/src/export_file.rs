//! `todo-audit verify-export FILE`: checks a file saved from `GET /export` (the SPA's "Download my
//! data") with nothing but the file: every event's hash, every chain link, and the closing digest.
//!
//! The file is JSON Lines: one event per line as the API sent it, then `{"digest": {...}}`.

use std::io::BufRead;

use events_schema::integrity::{ChainChecker, DigestBuilder, Finding, FindingKind, record_hash};
use events_schema::{EventRecord, HistoryDigest, event_key_string};
use serde::Deserialize;

use crate::verify::VerifyReport;

#[derive(Debug, thiserror::Error)]
pub enum ExportFileError {
    #[error("reading the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("line {line}: {detail}")]
    Malformed { line: usize, detail: String },
    #[error("the export has no closing digest line (`{{\"digest\": ...}}`): it is incomplete")]
    NoDigest,
}

/// What checking an export found; `digest` is the file's own closing digest.
#[derive(Debug)]
pub struct ExportCheck {
    pub report: VerifyReport,
    pub digest: HistoryDigest,
}

impl ExportCheck {
    pub fn is_clean(&self) -> bool {
        self.report.is_clean(Some(&self.digest))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DigestLine {
    digest: HistoryDigest,
}

pub fn check_export(reader: impl BufRead) -> Result<ExportCheck, ExportFileError> {
    let mut report = VerifyReport::default();
    let mut checker = ChainChecker::new();
    let mut digest = DigestBuilder::new();
    let mut closing: Option<HistoryDigest> = None;
    let mut last_todo: Option<(String, String)> = None;
    for (index, line) in reader.lines().enumerate() {
        let line_number = index + 1;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let malformed = |detail: String| ExportFileError::Malformed { line: line_number, detail };
        if closing.is_some() {
            return Err(malformed("nothing may follow the closing digest".into()));
        }
        let mut fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&line).map_err(|e| malformed(format!("not a JSON object: {e}")))?;
        if fields.contains_key("digest") {
            let parsed: DigestLine = serde_json::from_value(serde_json::Value::Object(fields))
                .map_err(|e| malformed(format!("not a digest line: {e}")))?;
            closing = Some(parsed.digest);
            continue;
        }
        report.events += 1;
        // The export leaves out the sort key; put it back as the table holds it.
        let todo_id = fields.get("todoId").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let version = fields.get("version").and_then(|v| v.as_u64()).unwrap_or(0);
        fields.insert("eventKey".into(), event_key_string(&todo_id, version).into());
        let user_id = fields.get("userId").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let record: EventRecord = match serde_json::from_value(serde_json::Value::Object(fields)) {
            Ok(record) => record,
            Err(e) => {
                report_finding(
                    &mut report,
                    user_id,
                    todo_id,
                    version,
                    FindingKind::Unreadable { detail: e.to_string() },
                );
                continue;
            }
        };
        let todo = (record.user_id.clone(), record.todo_id.clone());
        if last_todo.as_ref() != Some(&todo) {
            report.todos += 1;
            last_todo = Some(todo);
        }
        for finding in checker.check(&record) {
            report_finding(&mut report, finding.user_id, finding.todo_id, finding.version, finding.kind);
        }
        // Every exported event is no later than the export's instant.
        digest.push(&record.todo_id, record.version, record_hash(&record));
    }
    let closing = closing.ok_or(ExportFileError::NoDigest)?;
    report.recomputed = Some(digest.finish(closing.as_of));
    Ok(ExportCheck { report, digest: closing })
}

fn report_finding(report: &mut VerifyReport, user_id: String, todo_id: String, version: u64, kind: FindingKind) {
    report.record_finding(Finding { user_id, todo_id, version, kind });
}
