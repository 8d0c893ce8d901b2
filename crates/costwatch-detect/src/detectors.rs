//! The built-in detectors. Each evaluates the last day of one [`DailySeries`].

use crate::stats::{
    mad, mean, median, quantile, theil_sen_slope, trailing, weekday_of, weekday_profile,
};
use crate::{DAYS_PER_MONTH, DailySeries, Detection, Kind, Params, Severity};

/// Robust baseline of a history window, on log cost with the weekday effect
/// divided out: `ln(cost / weekday_factor + offset)`. The offset (the common
/// spend floor) keeps zero days finite and makes cents-sized series look flat.
struct Baseline {
    /// Median of the transformed window.
    level: f64,
    /// Robust noise scale of the transformed window.
    sigma: f64,
    /// Weekday factors (0 = Monday).
    profile: [f64; 7],
    offset: f64,
}

impl Baseline {
    /// Baseline of `hist`, whose last day falls on `last_weekday`: the level is
    /// the median of the last `window` days, the noise scale comes from the
    /// last `max(window, season_days)` days and is the largest of the MAD, the
    /// upper spreads (85th and 95th percentiles over the median, which see
    /// heavy upper tails the MAD misses) and `floor`.
    ///
    /// When more than a quarter of the days are idle (no spend) the series is
    /// intermittent and only the days with spend count: "when it runs, it
    /// costs about this much".
    fn new(hist: &[f64], last_weekday: u8, window: usize, p: &Params, floor: f64) -> Self {
        let profile = weekday_profile(trailing(hist, p.season_days), last_weekday);
        let mut b = Baseline {
            level: 0.0,
            sigma: 0.0,
            profile,
            offset: p.min_daily_spend.max(0.01),
        };
        let long = window.max(p.season_days);
        let logs = b.active_logs(trailing(hist, long), last_weekday, p);
        let level_logs = b.active_logs(trailing(hist, window), last_weekday, p);
        b.level = median(&level_logs);
        let center = median(&logs);
        let spread85 = (quantile(&logs, 0.85) - center) / 1.036;
        let spread95 = (quantile(&logs, 0.95) - center) / 1.645;
        b.sigma = mad(&logs)
            .max(spread85)
            .max(spread95)
            .max(floor)
            .max(1e-3);
        b
    }

    /// Transformed values of a window, without its idle days when more than a
    /// quarter of them are idle (and at least three days have spend).
    fn active_logs(&self, xs: &[f64], last_weekday: u8, p: &Params) -> Vec<f64> {
        let logs = self.logs(xs, last_weekday);
        if established(xs, p) {
            return logs;
        }
        let active: Vec<f64> = logs
            .iter()
            .zip(xs)
            .filter(|(_, x)| **x > p.new_spend.max_prior_daily)
            .map(|(l, _)| *l)
            .collect();
        if active.len() >= 3 { active } else { logs }
    }

    /// Transformed value of a cost on a weekday (`None`: no weekday adjustment).
    fn log_of(&self, cost: f64, weekday: Option<usize>) -> f64 {
        let factor = weekday.map_or(1.0, |w| self.profile[w % 7]);
        (cost / factor + self.offset).max(1e-9).ln()
    }

    /// Transformed values of a window whose last day falls on `last_weekday`.
    fn logs(&self, xs: &[f64], last_weekday: u8) -> Vec<f64> {
        (0..xs.len())
            .map(|i| self.log_of(xs[i], Some(weekday_of(i, xs.len(), last_weekday))))
            .collect()
    }

    /// Cost per day for a transformed value on a weekday (`None`: an average day).
    fn cost_of(&self, log: f64, weekday: Option<usize>) -> f64 {
        let factor = weekday.map_or(1.0, |w| self.profile[w % 7]);
        (log.exp() - self.offset).max(0.0) * factor
    }
}

/// Weekday of the day `back` days before the one on `weekday`.
fn weekday_before(weekday: u8, back: usize) -> u8 {
    ((weekday as usize + 7 - back % 7) % 7) as u8
}

fn detection(p: &Params, kind: Kind, observed: f64, expected: f64, score: f64) -> Detection {
    let monthly_impact = (observed - expected) * DAYS_PER_MONTH;
    Detection {
        kind,
        severity: p.severity.classify(monthly_impact),
        observed,
        expected,
        score,
        monthly_impact,
    }
}

/// True when the history holds (essentially) no spend: what [`new_spend`] is for.
fn no_history(hist: &[f64], p: &Params) -> bool {
    hist.iter().all(|&v| v <= p.new_spend.max_prior_daily)
}

/// Both the absolute and the relative threshold are crossed.
fn big_enough(observed: f64, expected: f64, min_abs: f64, min_relative: f64) -> bool {
    let delta = observed - expected;
    delta >= min_abs && delta >= min_relative * expected
}

/// A single day well above its expectation.
///
/// The expectation is the robust level of the trailing `window_days` (median
/// of weekday-adjusted log cost), or of the last week when that is higher, so
/// a series that is already trending up does not read as a spike; the noise is
/// the window's MAD. Fires when the day's cost reaches the spend floor, its
/// excess crosses `min_abs_delta` and `min_relative`, and its robust z-score
/// reaches `k`. Optionally stays quiet when a similar excess happened about a
/// month earlier (monthly charges and jobs).
pub fn spike(s: &DailySeries, p: &Params) -> Option<Detection> {
    let sp = &p.spike;
    let n = s.amounts.len();
    if !sp.enabled || n < sp.min_history_days + 1 {
        return None;
    }
    let x = s.amounts[n - 1];
    let hist = &s.amounts[..n - 1];
    if x < p.min_daily_spend || no_history(hist, p) {
        return None;
    }
    let hist_weekday = weekday_before(s.last_weekday, 1);
    let b = Baseline::new(
        hist,
        hist_weekday,
        sp.window_days,
        p,
        sp.noise_floor_relative,
    );
    let last_week = median(&b.logs(trailing(hist, 7), hist_weekday));
    let level = b.level.max(last_week);
    let weekday = Some(s.last_weekday as usize);
    let expected = b.cost_of(level, weekday);
    let z = (b.log_of(x, weekday) - level) / b.sigma;
    if z < sp.k || !big_enough(x, expected, sp.min_abs_delta, sp.min_relative) {
        return None;
    }
    if sp.skip_monthly_recurring && recurred_monthly(hist, expected + 0.5 * (x - expected)) {
        return None;
    }
    Some(detection(p, Kind::Spike, x, expected, z))
}

/// Whether a day 27 to 32 days before the evaluated one reached `threshold`.
fn recurred_monthly(hist: &[f64], threshold: f64) -> bool {
    let n = hist.len();
    // hist[n - 1] is one day back, so `lag` days back is hist[n - lag].
    (27..=32)
        .filter(|&lag| lag <= n)
        .any(|lag| hist[n - lag] >= threshold)
}

/// A lasting step up.
///
/// Each of the last `recent_days` days (weekday-adjusted log cost) must be at
/// least `k` robust deviations above the baseline of the `window_days` before
/// them, their median must exceed the baseline by both thresholds, and the
/// week before them must still be near the baseline (a step, not a ramp: see
/// [`creep`]). `observed` and `expected` are weekday-adjusted cost per day.
pub fn shift(s: &DailySeries, p: &Params) -> Option<Detection> {
    let sp = &p.shift;
    let n = s.amounts.len();
    let m = sp.recent_days.max(1);
    if !sp.enabled || n < sp.min_history_days + m {
        return None;
    }
    let hist = &s.amounts[..n - m];
    if s.amounts[n - 1] < p.min_daily_spend || no_history(hist, p) {
        return None;
    }
    let hist_weekday = weekday_before(s.last_weekday, m);
    let b = Baseline::new(
        hist,
        hist_weekday,
        sp.window_days,
        p,
        sp.noise_floor_relative,
    );
    let recent = b.logs(&s.amounts[n - m..], s.last_weekday);
    let level = median(&recent);
    let low = recent.iter().copied().fold(f64::INFINITY, f64::min);
    let before = median(&b.logs(trailing(hist, 7), hist_weekday));
    let rise = level - b.level;
    let observed = b.cost_of(level, None);
    let expected = b.cost_of(b.level, None);
    if low - b.level < sp.k * b.sigma
        || before - b.level > sp.max_prior_rise * rise
        || !big_enough(observed, expected, sp.min_abs_delta, sp.min_relative)
    {
        return None;
    }
    Some(detection(
        p,
        Kind::Shift,
        observed,
        expected,
        (low - b.level) / b.sigma,
    ))
}

/// Sustained growth that no single day makes obvious.
///
/// The `long_days` before the last `short_days` give a baseline: their robust
/// trend (Theil–Sen on weekday-adjusted log cost, clamped to
/// `0..=max_organic_growth` so fast growth is never learned as normal), level
/// and noise. Fires when the current level (median of the last `level_days`)
/// stands `k` standard errors above the projected baseline, crosses both
/// thresholds, and is still rising by at least `min_growth` per day over the
/// short window. `monthly_impact` projects that growth over the next month.
/// Severity is at most Warning: creep is slow by nature.
pub fn creep(s: &DailySeries, p: &Params) -> Option<Detection> {
    let c = &p.creep;
    let n = s.amounts.len();
    let short = c.short_days.max(3);
    let level_days = c.level_days.clamp(1, short);
    if !c.enabled || n < short + 28 {
        return None;
    }
    let before = &s.amounts[..n - short];
    if s.amounts[n - 1] < p.min_daily_spend || no_history(before, p) {
        return None;
    }
    let before_weekday = weekday_before(s.last_weekday, short);
    let b = Baseline::new(before, before_weekday, c.long_days, p, 0.0);
    let all = b.logs(before, before_weekday);
    let long = trailing(&all, c.long_days);
    if !established(trailing(before, c.long_days), p) {
        return None;
    }
    let recent = b.logs(&s.amounts[n - short..], s.last_weekday);

    // Normal trend and level from the long window; noise from all the history
    // before the short window, around its own trend.
    let long_slope = theil_sen_slope(long);
    let trend = long_slope.clamp(0.0, c.max_organic_growth);
    let intercept = median(&detrend(long, trend));
    let noise = mad(&detrend(&all, theil_sen_slope(&all))).max(0.02);
    let projected = |j: usize| intercept + trend * (long.len() + j) as f64;
    let excess: Vec<f64> = recent
        .iter()
        .enumerate()
        .map(|(j, v)| v - projected(j))
        .collect();

    let rise = median(trailing(&excess, level_days));
    let stderr = 1.2533 * noise * (1.0 / level_days as f64 + 1.0 / long.len() as f64).sqrt();
    let growth = theil_sen_slope(&excess);
    let center = short - (level_days + 1) / 2;
    let observed = b.cost_of(median(trailing(&recent, level_days)), None);
    let expected = b.cost_of(projected(center), None);
    if std::env::var("CW_DEBUG").is_ok() {
        eprintln!(
            "creep long_slope={long_slope} noise={noise} rise={rise} stderr={stderr} growth={growth} profile={:?} obs={observed} exp={expected}",
            b.profile
        );
    }
    if rise < c.k * stderr
        || growth < c.min_growth
        || !big_enough(observed, expected, c.min_abs_delta, c.min_relative)
    {
        return None;
    }
    // Average level over the next month if the growth continues (capped at 5%/day).
    let g = growth.min(0.05);
    let future = observed * (1..=30).map(|d| (g * d as f64).exp()).sum::<f64>() / 30.0;
    let mut d = detection(p, Kind::Creep, observed, expected, rise / stderr);
    d.monthly_impact = (future - expected) * DAYS_PER_MONTH;
    d.severity = p.severity.classify(d.monthly_impact).min(Severity::Warning);
    Some(d)
}

/// `ys[i] - slope * i`.
fn detrend(ys: &[f64], slope: f64) -> Vec<f64> {
    ys.iter()
        .enumerate()
        .map(|(i, y)| y - slope * i as f64)
        .collect()
}

/// At most a quarter of the days are (essentially) without spend.
fn established(xs: &[f64], p: &Params) -> bool {
    let idle = xs
        .iter()
        .filter(|&&v| v <= p.new_spend.max_prior_daily)
        .count();
    4 * idle <= xs.len()
}

/// Spend on a series that had (essentially) none.
///
/// Fires while the evaluated day costs at least `min_daily` (and the common
/// floor) and every day before the last `ramp_days` stayed at or below
/// `max_prior_daily` or `max_prior_fraction` of today's cost, over at least
/// `min_history_days` days.
pub fn new_spend(s: &DailySeries, p: &Params) -> Option<Detection> {
    let np = &p.new_spend;
    let n = s.amounts.len();
    let ramp = np.ramp_days.max(1);
    if !np.enabled || n < np.min_history_days + ramp {
        return None;
    }
    let x = s.amounts[n - 1];
    if x < p.min_daily_spend || x < np.min_daily {
        return None;
    }
    let prior = &s.amounts[..n - ramp];
    let allowed = np.max_prior_daily.max(np.max_prior_fraction * x);
    let prior_max = prior.iter().copied().fold(0.0, f64::max);
    if prior_max > allowed {
        return None;
    }
    let expected = mean(prior).max(0.0);
    Some(detection(
        p,
        Kind::NewSpend,
        x,
        expected,
        x / prior_max.max(0.01),
    ))
}

/// Run all detectors and return the most telling one: new spend, then shift,
/// then spike, then creep. A host that keeps one finding per series can call
/// this instead of the four detectors.
pub fn detect(s: &DailySeries, p: &Params) -> Option<Detection> {
    new_spend(s, p)
        .or_else(|| shift(s, p))
        .or_else(|| spike(s, p))
        .or_else(|| creep(s, p))
}
