//! `GET /stats`: a user's figures, computed from the stats projection's facts (one row per todo).
//!
//! The projection stores facts rather than the figures themselves because every figure is a
//! function of each todo's latest state: a version-guarded row per todo makes the projection
//! idempotent and order-robust exactly like the read model, and a median is not something one can
//! add to or subtract from. Computing the figures from a user's rows is one Query and a sort.

use chrono::{Datelike, Duration, NaiveDate};
use events_schema::Timestamp;
use serde::Serialize;
use todo_platform::store::TodoFacts;

/// Weeks shown unless `?weeks=` says otherwise, and the most it may ask for.
pub const DEFAULT_WEEKS: u32 = 12;
pub const MAX_WEEKS: u32 = 52;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserStats {
    /// Live todos not completed.
    pub open: u64,
    /// Live todos completed.
    pub completed: u64,
    /// The median of completion time minus creation time over every todo that is completed (or
    /// was when it was deleted); `null` when none is.
    pub median_completion_seconds: Option<f64>,
    /// The last weeks, oldest first, ending with the current one (ISO 8601 weeks, UTC).
    pub weeks: Vec<WeekFigures>,
    pub as_of: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WeekFigures {
    /// The ISO 8601 week date, `2026-W48`.
    pub week: String,
    /// Its Monday.
    pub start: NaiveDate,
    /// Todos created that week (deleted since or not).
    pub created: u64,
    /// Todos whose completion falls in that week (deleted since or not).
    pub completed: u64,
}

fn monday_of(at: Timestamp) -> NaiveDate {
    let day = at.as_datetime().date_naive();
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

fn iso_week_name(monday: NaiveDate) -> String {
    let week = monday.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

/// The figures of one user's facts as of `now`, over the last `weeks` weeks.
pub fn stats_of(facts: &[TodoFacts], now: Timestamp, weeks: u32) -> UserStats {
    let live = facts.iter().filter(|f| !f.deleted);
    let completed = live.clone().filter(|f| f.completed_at.is_some()).count() as u64;
    let open = live.count() as u64 - completed;

    let this_monday = monday_of(now);
    let mut figures: Vec<WeekFigures> = (0..i64::from(weeks))
        .rev()
        .map(|back| {
            let start = this_monday - Duration::weeks(back);
            WeekFigures { week: iso_week_name(start), start, created: 0, completed: 0 }
        })
        .collect();
    let first = figures.first().map(|w| w.start);
    let week_of = |at: Timestamp| {
        let monday = monday_of(at);
        first
            .filter(|first| monday >= *first && monday <= this_monday)
            .map(|first| ((monday - first).num_weeks()) as usize)
    };
    for fact in facts {
        if let Some(index) = week_of(fact.created_at) {
            figures[index].created += 1;
        }
        if let Some(index) = fact.completed_at.and_then(week_of) {
            figures[index].completed += 1;
        }
    }

    let mut durations: Vec<f64> = facts
        .iter()
        .filter_map(|f| f.completed_at.map(|done| done.as_datetime() - f.created_at.as_datetime()))
        .map(|d| d.num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6)
        .collect();
    durations.sort_by(f64::total_cmp);
    let median = match durations.len() {
        0 => None,
        n if n % 2 == 1 => Some(durations[n / 2]),
        n => Some((durations[n / 2 - 1] + durations[n / 2]) / 2.0),
    };
    UserStats { open, completed, median_completion_seconds: median, weeks: figures, as_of: now }
}

#[cfg(test)]
mod tests {
    use events_schema::TodoId;

    use super::*;

    fn at(raw: &str) -> Timestamp {
        Timestamp::parse(raw).unwrap()
    }

    fn fact(n: u128, created: &str, completed: Option<&str>, deleted: bool) -> TodoFacts {
        TodoFacts {
            todo_id: TodoId::from_uuid(uuid::Uuid::from_u128(n)),
            version: 1,
            created_at: at(created),
            completed_at: completed.map(at),
            deleted,
        }
    }

    #[test]
    fn counts_weeks_and_the_median() {
        let now = at("2026-11-29T18:00:00Z"); // a Sunday: week 2026-W48 (Monday 23 November)
        let facts = vec![
            fact(1, "2026-11-23T09:00:00Z", Some("2026-11-23T10:00:00Z"), false), // 1 h
            fact(2, "2026-11-20T09:00:00Z", Some("2026-11-24T09:00:00Z"), true),  // 4 days, deleted since
            fact(3, "2026-11-29T17:00:00Z", None, false),
            fact(4, "2026-11-16T08:00:00Z", None, true),
            fact(5, "2025-01-01T08:00:00Z", Some("2025-01-01T08:30:00Z"), false), // 30 min, long ago
        ];
        let stats = stats_of(&facts, now, 12);
        assert_eq!((stats.open, stats.completed), (1, 2));
        assert_eq!(stats.weeks.len(), 12);
        let last = stats.weeks.last().unwrap();
        assert_eq!((last.week.as_str(), last.start.to_string().as_str()), ("2026-W48", "2026-11-23"));
        assert_eq!((last.created, last.completed), (2, 2));
        let before = &stats.weeks[10];
        assert_eq!((before.week.as_str(), before.created, before.completed), ("2026-W47", 2, 0));
        assert_eq!(stats.weeks[0].week, "2026-W37");
        assert_eq!(stats.median_completion_seconds, Some(3600.0), "median of 30 min, 1 h and 4 days");
    }

    #[test]
    fn week_names_follow_iso_8601_across_the_year_boundary() {
        let stats = stats_of(&[], at("2027-01-01T12:00:00Z"), 2);
        let names: Vec<&str> = stats.weeks.iter().map(|w| w.week.as_str()).collect();
        assert_eq!(names, vec!["2026-W52", "2026-W53"], "1 January 2027 is in 2026's week 53");
        assert_eq!(stats.median_completion_seconds, None);
        assert_eq!((stats.open, stats.completed), (0, 0));
        let even = stats_of(
            &[
                fact(1, "2026-11-23T09:00:00Z", Some("2026-11-23T09:00:10Z"), false),
                fact(2, "2026-11-23T09:00:00Z", Some("2026-11-23T09:00:20Z"), false),
            ],
            at("2026-11-29T18:00:00Z"),
            1,
        );
        assert_eq!(even.median_completion_seconds, Some(15.0));
    }
}
