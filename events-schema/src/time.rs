use std::fmt;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant in UTC with microsecond precision, written as fixed-width RFC 3339
/// (`2026-11-25T19:44:06.123456Z`) so that string order is time order: the event table's
/// `UserTimeline` index sorts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
#[schemars(with = "String")]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        Self(at.trunc_subsecs(6))
    }

    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }

    pub fn parse(raw: &str) -> Result<Self, chrono::ParseError> {
        DateTime::parse_from_rfc3339(raw).map(|at| Self::from_datetime(at.with_timezone(&Utc)))
    }

    /// The next representable instant: events of one command get strictly increasing times.
    pub fn next(self) -> Self {
        Self(self.0 + chrono::Duration::microseconds(1))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Micros, true))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_so_strings_sort_like_instants() {
        let whole = Timestamp::parse("2026-11-25T19:44:06Z").unwrap();
        let later = Timestamp::parse("2026-11-25T19:44:06.000001Z").unwrap();
        assert_eq!(whole.to_string(), "2026-11-25T19:44:06.000000Z");
        assert!(whole.to_string() < later.to_string());
        assert_eq!(whole.next(), later);
    }

    #[test]
    fn offsets_are_normalised_to_utc() {
        let t = Timestamp::parse("2026-11-25T20:44:06.5+01:00").unwrap();
        assert_eq!(t.to_string(), "2026-11-25T19:44:06.500000Z");
    }
}
