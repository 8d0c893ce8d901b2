//! Cross-account offsets: a workload that moves from one linked account to another raises
//! one series and lowers its siblings (the same service and usage type in the other
//! accounts) by about as much. The organisation's cost did not change, so the rise is not
//! news; a rise with no matching drop is.

use super::{SeriesView, Snapshot};
use costwatch_detect::stats::{mean, median, trailing};
use std::collections::HashMap;

/// Share of a rise the siblings' drops must make up for it to count as moved.
const OFFSET_SHARE: f64 = 0.5;
/// A sibling's drop counts from this share of its level (smaller ones are noise).
const MIN_DROP: f64 = 0.2;
/// Days before the recent ones whose median is a sibling's level before the move.
const BEFORE_DAYS: usize = 28;

/// The siblings of every series of a snapshot.
pub struct Siblings<'a> {
    series: &'a [SeriesView<'a>],
    by_usage: HashMap<(&'a str, &'a str), Vec<usize>>,
}

impl<'a> Siblings<'a> {
    /// Indexes the series of `snapshot` by service and usage type.
    pub fn new(snapshot: &'a Snapshot<'a>) -> Self {
        let mut by_usage: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        for (i, s) in snapshot.series.iter().enumerate() {
            let key = (s.scope.service_code.as_str(), s.scope.usage_type.as_str());
            by_usage.entry(key).or_default().push(i);
        }
        Self {
            series: &snapshot.series,
            by_usage,
        }
    }

    /// Whether the rise of series `i` (`rise` dollars a day, begun within its last
    /// `recent` days) is made up for by its siblings' drops since then.
    pub fn offset(&self, i: usize, recent: usize, rise: f64) -> bool {
        let scope = self.series[i].scope;
        let key = (scope.service_code.as_str(), scope.usage_type.as_str());
        let dropped: f64 = (self.by_usage.get(&key).into_iter().flatten())
            .filter(|&&j| j != i)
            .map(|&j| largest_drop(self.series[j].known(), recent))
            .sum();
        rise > 0.0 && dropped >= OFFSET_SHARE * rise
    }
}

/// How much lower the last `recent` days of `amounts` are than the `BEFORE_DAYS` before
/// them, each day against the median of its weekday there (a series that idles at weekends
/// has not dropped on a Saturday, nor has a weekday that falls back to it moved nothing);
/// 0 unless it is a real drop (a fifth of the level, not noise).
fn drop(amounts: &[f64], recent: usize) -> f64 {
    if amounts.len() <= recent {
        return 0.0;
    }
    let (before, now) = amounts.split_at(amounts.len() - recent);
    let before = trailing(before, BEFORE_DAYS);
    // The median of each weekday of the days before: day `i` of `before` and `now` laid
    // end to end belongs to weekday `i % 7`.
    let weekday_levels: Vec<f64> = (0..7)
        .map(|w| {
            let days: Vec<f64> = before.iter().skip(w).step_by(7).copied().collect();
            if days.is_empty() {
                median(before)
            } else {
                median(&days)
            }
        })
        .collect();
    let usual: Vec<f64> = (0..now.len())
        .map(|j| weekday_levels[(before.len() + j) % 7])
        .collect();
    let level = mean(&usual);
    let dropped = level - mean(now);
    if dropped >= MIN_DROP * level {
        dropped
    } else {
        0.0
    }
}

/// The largest [`drop`] over the last 1 to `recent` days: the drop of a move that happened
/// any time in them.
fn largest_drop(amounts: &[f64], recent: usize) -> f64 {
    (1..=recent.max(1))
        .map(|r| drop(amounts, r))
        .fold(0.0, f64::max)
}

/// Whether an account's rise (`rise` dollars a day) is made up for by the other accounts'
/// `drops`.
pub fn accounts_offset(rise: f64, drops: impl Iterator<Item = f64>) -> bool {
    rise > 0.0 && drops.sum::<f64>() >= OFFSET_SHARE * rise
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_are_measured_against_the_days_before() {
        let mut moved = vec![100.0; 40];
        moved.extend([40.0, 40.0]);
        assert_eq!(drop(&moved, 2), 60.0);
        assert_eq!(largest_drop(&moved, 14), 60.0, "found whenever it happened");
        assert_eq!(drop(&[100.0; 42], 2), 0.0);
        let mut noise = vec![100.0; 40];
        noise.extend([90.0, 90.0]);
        assert_eq!(drop(&noise, 2), 0.0, "a tenth is noise, not a move");
        // Weekdays at 100, weekends at 20: a weekend is no drop, a weekday at 40 is one.
        let week = |i: usize| if i % 7 >= 5 { 20.0 } else { 100.0 };
        let weekends: Vec<f64> = (0..35).map(week).collect();
        assert_eq!(drop(&weekends, 2), 0.0, "{:?}", &weekends[33..]);
        let mut moved: Vec<f64> = (0..36).map(week).collect();
        moved.push(40.0);
        assert_eq!(drop(&moved, 1), 60.0);
        assert!(accounts_offset(60.0, [45.0].into_iter()));
        assert!(!accounts_offset(60.0, [25.0].into_iter()));
    }
}
