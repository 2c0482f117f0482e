//! `replay` as one job of a distributed run: what the replay state machine's Map state sends each
//! invocation of the `replay` Lambda function, and what each answers. The Map runs segments
//! `0..segments` in parallel; the state machine sums the answers.

use serde::{Deserialize, Serialize};

/// Which projection a replay rebuilds or checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Projection {
    /// The `TodoTable` read model.
    #[default]
    Todos,
    /// The user's stats (`StatsTable`).
    Stats,
    /// Both.
    All,
}

impl Projection {
    pub fn todos(self) -> bool {
        matches!(self, Self::Todos | Self::All)
    }

    pub fn stats(self) -> bool {
        matches!(self, Self::Stats | Self::All)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Todos => "todos",
            Self::Stats => "stats",
            Self::All => "all",
        }
    }
}

/// One invocation's input: `{"projection": "todos|stats|all", "verify": bool, "segments": N, "segment": I}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SegmentJob {
    pub projection: Projection,
    pub verify: bool,
    /// How many parallel Scan segments the table is split into (1 to 1,000,000, DynamoDB's bound).
    pub segments: u32,
    /// Which one this invocation processes, `0..segments`.
    pub segment: u32,
}

/// One invocation's answer; the state machine adds these up across segments.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentReport {
    pub segment: u32,
    pub events: u64,
    pub todos: u64,
    /// Rows written (rebuild only).
    pub written: u64,
    /// Rows no event backs, removed (rebuild only).
    pub removed: u64,
    /// Rows that differ from the fold (verify), or could not be brought in line (rebuild).
    pub drift: u64,
}
