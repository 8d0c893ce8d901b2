//! How many series go into one call: as many as fit the plugin's memory limit, from what an
//! instance takes before any data (measured when the plugin is loaded) and how many bytes of
//! memory the plugin uses per byte of series pushed (at first what its language needs, then
//! the most any large call of it used).

use super::language::Language;
use super::v0_2::Series;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Share of the memory left after the baseline that a batch is sized to use.
const HEADROOM: f64 = 0.75;
/// Calls pushing less than this teach nothing: fixed costs dominate them.
const MIN_MEASURED_BYTES: usize = 1 << 20;

/// A plugin's memory model.
pub struct Sizing {
    /// The memory limit of an instance.
    limit: usize,
    /// Memory an instance takes after `info`, before any data.
    baseline: usize,
    model: Mutex<Model>,
}

/// What a plugin's calls taught: bytes of memory per byte of lowered series.
#[derive(Debug, Clone, Copy)]
pub struct Model {
    /// What batches are sized with.
    pub factor: f64,
    /// The most a large call used, if one ran.
    pub measured: Option<f64>,
}

impl Sizing {
    /// The model of a plugin in `language` whose fresh instance took `baseline` bytes.
    ///
    /// Rust lifts a lowered `list<f64>` in place (the batch, its records and the rule's own
    /// working copies: 2×); CPython makes each value a 24-byte float object behind an 8-byte
    /// list slot, next to the lowered copy (measured 4.2×, docs/plugins.md); JavaScript and
    /// unknown runtimes are given more room until a large call measures them.
    pub fn new(language: Language, limit: usize, baseline: usize) -> Self {
        let factor = match language {
            Language::Rust => 2.0,
            Language::Python => 6.0,
            Language::JavaScript | Language::Other => 8.0,
        };
        Self {
            limit,
            baseline,
            model: Mutex::new(Model {
                factor,
                measured: None,
            }),
        }
    }

    /// Takes the next batch off the front of `rest`: as many series as fit, at least one.
    pub fn next_batch(&self, rest: &mut VecDeque<Series>) -> Vec<Series> {
        let budget =
            self.limit.saturating_sub(self.baseline) as f64 * HEADROOM / self.model().factor;
        let mut bytes = 0.0;
        let mut batch = Vec::new();
        while let Some(s) = rest.front() {
            let size = lowered_size(s) as f64;
            if !batch.is_empty() && bytes + size > budget {
                break;
            }
            bytes += size;
            batch.extend(rest.pop_front());
        }
        batch
    }

    /// Learns from a call that pushed `batch` and peaked at `peak` bytes of memory.
    pub fn measured(&self, batch: &[Series], peak: usize) {
        let bytes: usize = batch.iter().map(lowered_size).sum();
        if bytes >= MIN_MEASURED_BYTES {
            let used = peak.saturating_sub(self.baseline) as f64 / bytes as f64;
            let mut model = self.model.lock().unwrap_or_else(|e| e.into_inner());
            model.factor = model.factor.max(used);
            model.measured = Some(model.measured.unwrap_or(0.0).max(used));
        }
    }

    /// After a batch ran out of memory: batches half as large from now on.
    pub fn halve(&self) {
        self.model.lock().unwrap_or_else(|e| e.into_inner()).factor *= 2.0;
    }

    /// What the calls so far taught.
    pub fn model(&self) -> Model {
        *self.model.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Memory an instance takes before any data.
    pub fn baseline(&self) -> usize {
        self.baseline
    }
}

/// Bytes a series takes in the guest's memory once lowered (canonical ABI record + data).
pub fn lowered_size(s: &Series) -> usize {
    let k = &s.key;
    56 + 8 * s.amounts.len()
        + k.account.len()
        + k.service.len()
        + k.service_name.len()
        + k.usage_type.len()
        + k.region.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::wasm::v0_2::SeriesKey;

    fn series(n: usize) -> Series {
        Series {
            key: SeriesKey {
                account: String::new(),
                service: String::new(),
                service_name: String::new(),
                usage_type: String::new(),
                region: String::new(),
            },
            amounts: vec![0.0; n],
            known_from: 0,
        }
    }

    #[test]
    fn batches_fit_the_memory_left_after_the_baseline() {
        // 10 MiB limit, 2 MiB baseline: 6 MiB for Rust (2×) is 3 MiB of series.
        let sizing = Sizing::new(Language::Rust, 10 << 20, 2 << 20);
        let mut rest: VecDeque<Series> = (0..10).map(|_| series(100_000)).collect();
        let sizes: Vec<usize> =
            std::iter::from_fn(|| (!rest.is_empty()).then(|| sizing.next_batch(&mut rest).len()))
                .collect();
        assert_eq!(sizes, vec![3, 3, 3, 1]);
        // A plugin that used 4× its input makes the next batches smaller; so does running out.
        sizing.measured(&[series(200_000)], (2 << 20) + 4 * 1_600_056);
        let mut rest: VecDeque<Series> = (0..4).map(|_| series(100_000)).collect();
        assert_eq!(sizing.next_batch(&mut rest).len(), 1);
        sizing.halve();
        assert_eq!(sizing.next_batch(&mut rest).len(), 1, "at least one series");
    }
}
