//! Samples within one run (percentiles) and figures across runs (a median with its spread).

use std::time::Duration;

use serde::Serialize;

/// Latencies of one run, in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Samples(Vec<f64>);

impl Samples {
    pub fn with_capacity(capacity: usize) -> Self {
        Self(Vec::with_capacity(capacity))
    }

    pub fn push(&mut self, latency: Duration) {
        self.0.push(latency.as_secs_f64() * 1e3);
    }

    pub fn push_ms(&mut self, millis: f64) {
        self.0.push(millis);
    }

    pub fn values(&self) -> &[f64] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Nearest-rank percentile (`p` in 0..=100); `None` without samples.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        if self.0.is_empty() {
            return None;
        }
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        Some(sorted[rank.clamp(1, sorted.len()) - 1])
    }

    pub fn p50(&self) -> Option<f64> {
        self.percentile(50.0)
    }

    pub fn p99(&self) -> Option<f64> {
        self.percentile(99.0)
    }

    pub fn max(&self) -> Option<f64> {
        self.0.iter().copied().max_by(f64::total_cmp)
    }
}

/// One figure over repeated runs: the median, the lowest and highest run, and every run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: Vec<f64>,
}

impl Spread {
    /// `None` when no run produced the figure.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let runs: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        if runs.is_empty() {
            return None;
        }
        let mut sorted = runs.clone();
        sorted.sort_by(f64::total_cmp);
        let middle = sorted.len() / 2;
        let median = match sorted.len() % 2 {
            1 => sorted[middle],
            _ => (sorted[middle - 1] + sorted[middle]) / 2.0,
        };
        Some(Self { median, min: sorted[0], max: sorted[sorted.len() - 1], runs })
    }

    /// Each run's value divided by the floor's value of the same run.
    pub fn ratio(values: &[f64], floors: &[f64]) -> Option<Self> {
        Self::of(values.iter().zip(floors).filter(|(_, f)| **f > 0.0).map(|(v, f)| v / f))
    }

    /// `1.23 (1.10–1.40)` with `decimals` digits.
    pub fn show(&self, decimals: usize) -> String {
        if self.runs.len() == 1 {
            return format!("{:.decimals$}", self.median);
        }
        format!("{:.decimals$} ({:.decimals$}–{:.decimals$})", self.median, self.min, self.max)
    }
}

/// `show` for an optional figure: `n/a` when it is missing.
pub fn show(spread: &Option<Spread>, decimals: usize) -> String {
    spread.as_ref().map_or_else(|| "n/a".to_owned(), |s| s.show(decimals))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples = Samples::default();
        for ms in 1..=100 {
            samples.push_ms(f64::from(ms));
        }
        assert_eq!(samples.p50(), Some(50.0));
        assert_eq!(samples.p99(), Some(99.0));
        assert_eq!(samples.percentile(100.0), Some(100.0));
        assert_eq!(Samples::default().p50(), None);
    }

    #[test]
    fn spread_is_the_median_and_the_extremes() {
        let spread = Spread::of([3.0, 1.0, 2.0]).unwrap();
        assert_eq!((spread.median, spread.min, spread.max), (2.0, 1.0, 3.0));
        assert_eq!(Spread::of([1.0, 2.0, 3.0, 4.0]).unwrap().median, 2.5);
        assert_eq!(Spread::ratio(&[2.0, 4.0], &[1.0, 2.0]).unwrap().median, 2.0);
        assert_eq!(spread.show(1), "2.0 (1.0–3.0)");
    }
}
