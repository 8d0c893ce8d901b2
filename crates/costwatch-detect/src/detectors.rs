//! The built-in detectors. Each evaluates the last day of one [`DailySeries`].
//!
//! Spike, shift and creep work on weekday-adjusted log cost,
//! `ln(cost / weekday_factor + offset)` with the spend floor as offset: daily
//! cost noise is multiplicative, the log makes it symmetric, and the offset
//! keeps zero days finite and makes cents-sized series look flat.
//!
//! Long: the detectors share the [`Baseline`] and its quick checks; apart, each would
//! need the baseline's internals.

use crate::stats::{
    mad, mean, median, quantile, theil_sen_slope, trailing, weekday_of, weekday_profile,
};
use crate::{DAYS_PER_MONTH, DailySeries, Detection, Kind, Params, Severity};

/// Robust baseline of a history, on weekday-adjusted log cost.
struct Baseline {
    /// Expected log cost on the last day of the history.
    level: f64,
    /// Normal trend per day (clamped to the organic range).
    slope: f64,
    /// Robust noise scale of one day.
    sigma: f64,
    /// Weekday factors (0 = Monday).
    profile: [f64; 7],
    offset: f64,
}

impl Baseline {
    /// The scale alone (weekday profile and offset), without level, trend or noise: what
    /// the detectors' quick checks need before they fit the baseline.
    fn scale(hist: &[f64], last_weekday: u8, window: usize, p: &Params) -> Self {
        let long = trailing(hist, window.max(p.season_days));
        Self::with_profile(weekday_profile(long, last_weekday), p)
    }

    fn with_profile(profile: [f64; 7], p: &Params) -> Self {
        Baseline {
            level: 0.0,
            slope: 0.0,
            sigma: 0.0,
            profile,
            offset: p.min_daily_spend.max(0.01),
        }
    }

    /// Fits level, trend and noise to `logs`, the transformed values of `long` (the last
    /// `max(window, season_days)` days of a history).
    ///
    /// Over `long`: the robust trend (Theil–Sen, clamped to ±`max_organic_growth`) and the
    /// noise, the largest of the MAD, the upper spreads (85th and 95th percentile over the
    /// median, which see heavy upper tails the MAD misses) and `floor`. The level is the
    /// median of the last `window` days after removing the trend, projected to the last day.
    ///
    /// When more than a quarter of the days are idle (no spend) the series is
    /// intermittent: level and noise come from the days with spend only
    /// ("when it runs, it costs about this much"), without trend.
    fn fit(&mut self, logs: &[f64], long: &[f64], window: usize, p: &Params, floor: f64) {
        let resid = if established(long, p) {
            let trend = theil_sen_slope(logs);
            self.slope = trend.clamp(-p.max_organic_growth, p.max_organic_growth);
            let flat = detrend(logs, self.slope);
            self.level = median(trailing(&flat, window)) + self.slope * (flat.len() - 1) as f64;
            detrend(logs, trend)
        } else {
            let active: Vec<f64> = logs
                .iter()
                .zip(long)
                .filter(|(_, x)| **x > p.new_spend.max_prior_daily)
                .map(|(l, _)| *l)
                .collect();
            let active = if active.len() >= 3 {
                active
            } else {
                logs.to_vec()
            };
            self.level = median(&active);
            active
        };
        let center = median(&resid);
        let spread85 = (quantile(&resid, 0.85) - center) / 1.036;
        let spread95 = (quantile(&resid, 0.95) - center) / 1.645;
        self.sigma = mad(&resid).max(spread85).max(spread95).max(floor).max(1e-3);
    }

    /// The lowest the fitted level (projected `ahead` days) can be, for an established
    /// history whose transformed values are `logs`: the level is a median over the last
    /// `window` days of values detrended by a slope within the organic range.
    fn level_bound(logs: &[f64], window: usize, ahead: f64, p: &Params) -> f64 {
        let reach = (window.min(logs.len()).max(1) - 1) as f64 + ahead.max(0.0);
        // Less a hair, for the rounding of the fitted level's own arithmetic.
        median(trailing(logs, window)) - p.max_organic_growth * reach - 1e-9
    }

    /// Expected log cost `days` days after the last day of the history.
    fn at(&self, days: f64) -> f64 {
        self.level + self.slope * days
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

/// The series from its first day with spend on: days before a series first
/// spent (or before its data begins) say nothing about its level or noise.
fn since_first_spend<'a>(s: &DailySeries<'a>, p: &Params) -> DailySeries<'a> {
    let first = s
        .amounts
        .iter()
        .position(|&v| v > p.new_spend.max_prior_daily)
        .unwrap_or(s.amounts.len());
    DailySeries {
        amounts: &s.amounts[first..],
        last_weekday: s.last_weekday,
    }
}

/// True when the history holds (essentially) no spend: what [`new_spend`] is for.
fn no_history(hist: &[f64], p: &Params) -> bool {
    hist.iter().all(|&v| v <= p.new_spend.max_prior_daily)
}

/// At most a quarter of the days are (essentially) without spend.
fn established(xs: &[f64], p: &Params) -> bool {
    let idle = xs
        .iter()
        .filter(|&&v| v <= p.new_spend.max_prior_daily)
        .count();
    4 * idle <= xs.len()
}

/// Both the absolute and the relative threshold are crossed.
fn big_enough(observed: f64, expected: f64, min_abs: f64, min_relative: f64) -> bool {
    let delta = observed - expected;
    delta >= min_abs && delta >= min_relative * expected
}

/// `ys[i] - slope * i`.
fn detrend(ys: &[f64], slope: f64) -> Vec<f64> {
    ys.iter()
        .enumerate()
        .map(|(i, y)| y - slope * i as f64)
        .collect()
}

/// A single day well above its expectation.
///
/// The expectation is the trend-projected robust level of the trailing
/// `window_days` (see the module docs for the scale), or the median of the
/// last week when that is higher, so a series already climbing fast (a creep)
/// does not read as a spike. Fires when the day's cost reaches the spend floor,
/// its excess crosses `min_abs_delta` and `min_relative`, and its robust
/// z-score reaches `k`, unless the series has been there before: half today's
/// excess (on log cost) on the same day of one or two months earlier
/// (`skip_monthly_recurring`: a monthly charge or job, whose size varies), or
/// 60% of it within the `lookback_days` before the last three days (heavy-tailed
/// noise).
pub fn spike(s: &DailySeries, p: &Params) -> Option<Detection> {
    let s = &since_first_spend(s, p);
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
    let mut b = Baseline::scale(hist, hist_weekday, sp.window_days, p);
    let logs = b.logs(hist, hist_weekday);
    let weekday = Some(s.last_weekday as usize);
    // The expectation is at least the last week's median: a day not big enough against
    // that is no spike, and most days are settled without fitting the baseline.
    let last_week = median(trailing(&logs, 7));
    if !big_enough(
        x,
        b.cost_of(last_week, weekday),
        sp.min_abs_delta,
        sp.min_relative,
    ) {
        return None;
    }
    let long = trailing(hist, sp.window_days.max(p.season_days));
    b.fit(
        trailing(&logs, long.len()),
        long,
        sp.window_days,
        p,
        sp.noise_floor_relative,
    );
    let level = b.at(1.0).max(last_week);
    let today = b.log_of(x, weekday);
    let expected = b.cost_of(level, weekday);
    let z = (today - level) / b.sigma;
    if z < sp.k || !big_enough(x, expected, sp.min_abs_delta, sp.min_relative) {
        return None;
    }
    // A monthly job's size varies: half today's rise on the same day of one or two months
    // earlier is the job, not news.
    let monthly = sp.skip_monthly_recurring
        && month_lags().any(|lag| {
            lag <= logs.len() && logs[logs.len() - lag] >= level + 0.5 * (today - level)
        });
    let similar = level + 0.6 * (today - level);
    let earlier = trailing(&logs[..logs.len().saturating_sub(3)], sp.lookback_days);
    if monthly || earlier.iter().any(|&v| v >= similar) {
        return None;
    }
    Some(detection(p, Kind::Spike, x, expected, z))
}

/// A lasting step up.
///
/// For the last `m` days, `m` from `min_days` to `recent_days` (by default a step is
/// told on its third day: two days up are as often a burst, which is the spike's news):
/// their mean must stand `k` standard errors above the
/// trend-projected baseline of the `window_days` before them, each of them at
/// least `min_each_z` robust deviations and half the mean rise above it (a
/// level, not one spike), the mean must exceed the baseline by both
/// thresholds, and the week before them must have risen by at most
/// `max_prior_rise` of the step (a step, not a ramp: see [`creep`]).
/// `observed` and `expected` are weekday-adjusted cost per day.
pub fn shift(s: &DailySeries, p: &Params) -> Option<Detection> {
    let s = &since_first_spend(s, p);
    let sp = &p.shift;
    let last = s.amounts.last().copied().unwrap_or(0.0);
    if !sp.enabled || last < p.min_daily_spend {
        return None;
    }
    let mut fired = None;
    for m in sp.min_days.max(1)..=sp.recent_days.max(sp.min_days) {
        match shift_over(s, p, m) {
            // The same days a month earlier were as high: a monthly job, whatever `m`.
            Step::Recurring => return None,
            Step::Fired(d) if fired.is_none() => fired = Some(d),
            _ => {}
        }
    }
    fired
}

/// How many days back the same days of one or two months earlier are (a monthly job's
/// size varies: last month's run may have been a small one).
fn month_lags() -> impl Iterator<Item = usize> {
    (27..=32).chain(55..=63)
}

/// What [`shift_over`] saw.
enum Step {
    None,
    Fired(Detection),
    /// A step as high as the same days of about a month earlier.
    Recurring,
}

/// [`shift`] with the last `m` days as the new level.
fn shift_over(s: &DailySeries, p: &Params, m: usize) -> Step {
    shift_detection(s, p, m).unwrap_or(Step::None)
}

/// [`shift_over`], `None` for no step.
fn shift_detection(s: &DailySeries, p: &Params, m: usize) -> Option<Step> {
    let sp = &p.shift;
    let n = s.amounts.len();
    if n < sp.min_history_days + m {
        return None;
    }
    let hist = &s.amounts[..n - m];
    if no_history(hist, p) {
        return None;
    }
    let hist_weekday = weekday_before(s.last_weekday, m);
    let mut b = Baseline::scale(hist, hist_weekday, sp.window_days, p);
    let long = trailing(hist, sp.window_days.max(p.season_days));
    let logs = b.logs(long, hist_weekday);
    let recent = b.logs(&s.amounts[n - m..], s.last_weekday);
    let level = mean(&recent);
    let ahead = (m as f64 + 1.0) / 2.0;
    // Not big enough against the lowest level the baseline can fit to: no step, and most
    // series are settled without fitting it.
    if established(long, p) {
        let lowest = Baseline::level_bound(&logs, sp.window_days, ahead, p);
        let (observed, lowest) = (b.cost_of(level, None), b.cost_of(lowest, None));
        if !big_enough(observed, lowest, sp.min_abs_delta, sp.min_relative) {
            return None;
        }
    }
    b.fit(&logs, long, sp.window_days, p, sp.noise_floor_relative);
    let base = b.at(ahead);
    let low = recent.iter().copied().fold(f64::INFINITY, f64::min);
    let before = median(&b.logs(trailing(hist, 7), hist_weekday)) - b.at(-3.0);
    let rise = level - base;
    // Standard error of the mean of m days minus a median of the window.
    let window = sp.window_days.min(hist.len()).max(1) as f64;
    let z = rise / (b.sigma * (1.0 / m as f64 + 1.57 / window).sqrt());
    let observed = b.cost_of(level, None);
    let expected = b.cost_of(base, None);
    if z < sp.k
        || low - base < (sp.min_each_z * b.sigma).max(0.5 * rise)
        || before > sp.max_prior_rise * rise
        || !big_enough(observed, expected, sp.min_abs_delta, sp.min_relative)
    {
        return None;
    }
    // The same days of a month earlier about as high (monthly jobs vary in size): a
    // month-end (or monthly) job, not a step.
    let similar = base + 0.5 * rise;
    let months = b.logs(trailing(hist, 63), hist_weekday);
    let monthly = sp.skip_monthly_recurring
        && month_lags().any(|lag| {
            lag <= months.len()
                && mean(&months[months.len() - lag..months.len() - lag + m]) >= similar
        });
    if monthly {
        return Some(Step::Recurring);
    }
    Some(Step::Fired(detection(
        p,
        Kind::Shift,
        observed,
        expected,
        z,
    )))
}

/// Sustained growth that no single day makes obvious.
///
/// The `long_days` before the last `short_days` give the baseline: robust
/// trend (Theil–Sen, clamped to `0..=max_organic_growth` so fast growth is
/// never learned as normal), level and noise. A robust line through the short
/// window's excess over the projected baseline gives the extra growth (its
/// slope) and the current rise (its end). Fires when the rise is `k` standard
/// errors above zero (counting the noise of the line's end, of the baseline
/// level and of the projected trend), the extra growth is at least
/// `min_growth` per day, and the current level (median of the last
/// `level_days`, `observed`) crosses both thresholds over the projected
/// baseline (`expected`). `monthly_impact` projects the growth over the next
/// month; severity is at most Warning, creep being slow by nature. Quiet while the last
/// days are a monthly job's run (`recurring_tail`).
pub fn creep(s: &DailySeries, p: &Params) -> Option<Detection> {
    fast_creep(s, p)
        .or_else(|| slow_creep(s, p))
        .filter(|_| !recurring_tail(since_first_spend(s, p).amounts))
}

/// Whether the last one to four days stand well above the four weeks before them (a third
/// and more) the way the same days of about a month earlier did: a monthly (month-end) job,
/// which a creep's window would read as growth. The creep is looked at again once it is over.
fn recurring_tail(amounts: &[f64]) -> bool {
    let logs: Vec<f64> = amounts.iter().map(|&x| x.max(1e-6).ln()).collect();
    let n = logs.len();
    (1..=4).any(|m| {
        if n < m + 32 {
            return false;
        }
        let base = median(trailing(&logs[..n - m], 28));
        let rise = mean(&logs[n - m..]) - base;
        rise > 0.3
            && month_lags()
                .any(|lag| lag + m <= n && mean(&logs[n - m - lag..n - lag]) >= base + 0.5 * rise)
    })
}

/// [`creep`] over the short window: growth of half a percent a day and more.
fn fast_creep(s: &DailySeries, p: &Params) -> Option<Detection> {
    let s = &since_first_spend(s, p);
    let c = &p.creep;
    let n = s.amounts.len();
    let short = c.short_days.max(3);
    let level_days = c.level_days.clamp(1, short);
    if !c.enabled || n < short + 28 || s.amounts[n - 1] < p.min_daily_spend {
        return None;
    }
    let before = &s.amounts[..n - short];
    if !established(trailing(before, c.long_days), p) {
        return None;
    }
    let before_weekday = weekday_before(s.last_weekday, short);
    // The ratio-to-week profile is not thrown by growth: use the recent days too.
    let profile = weekday_profile(trailing(s.amounts, c.long_days + short), s.last_weekday);
    let b = Baseline::with_profile(profile, p);
    let long = b.logs(trailing(before, c.long_days), before_weekday);
    let recent = b.logs(&s.amounts[n - short..], s.last_weekday);
    let observed = b.cost_of(median(trailing(&recent, level_days)), None);
    // The projected baseline is at least the long window's median (its trend is never
    // negative): a level not big enough against that is no creep.
    let lowest = b.cost_of(median(&long) - 1e-9, None);
    if !big_enough(observed, lowest, c.min_abs_delta, c.min_relative) {
        return None;
    }

    let long_slope = theil_sen_slope(&long);
    let trend = long_slope.clamp(0.0, p.max_organic_growth);
    let intercept = median(&detrend(&long, trend));
    let noise = mad(&detrend(&long, long_slope)).max(0.02);
    let big_l = long.len() as f64;
    let projected = |j: usize| intercept + trend * (big_l + j as f64);
    let excess: Vec<f64> = recent
        .iter()
        .enumerate()
        .map(|(j, v)| v - projected(j))
        .collect();

    let growth = theil_sen_slope(&excess);
    let m = short as f64;
    let rise = median(&detrend(&excess, growth)) + growth * (m - 1.0);
    // Variance (in units of noise²) of the line's end, the baseline level and
    // the projected trend at the end of the short window.
    let end_var = 1.0 / m + 3.0 * (m - 1.0) / (m * (m + 1.0));
    let distance = (big_l - 1.0) / 2.0 + m;
    let trend_var = distance * distance * 12.0 / (big_l * big_l * big_l - big_l);
    let stderr = 1.1 * noise * (end_var + 1.0 / big_l + trend_var).sqrt();

    let expected = b.cost_of(projected(short - level_days.div_ceil(2)), None);
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

/// Slow creep: growth of one to a few percent a week, which no short window shows, seen
/// over the whole history (up to `slow_days`) on weekday-adjusted log cost as a [`Hinge`]:
/// the days before the creep's start on their own trend, then a line. The start is tried
/// week by week, from `MIN_BEFORE_DAYS` after the window's first day to `MIN_CREEP_DAYS`
/// before its end. Growth the series had all along is normal (the trend before, within
/// `max_organic_growth`), so a series that grew from its first day is no creep however far
/// it has come; one that was flat and then grows is, however slowly. The best hinge must
/// grow `slow_min_weekly_growth` a week faster than before, start near the level before (a
/// jump is a shift's news), end `slow_min_relative` above where the trend before leads, and
/// that rise must be `slow_k` standard errors (from the residuals, allowing for noise that
/// runs in streaks). Only series whose last two weeks stand that far above the window's
/// first four are fitted. `observed` is the last two weeks' level; severity is at most
/// Warning.
fn slow_creep(s: &DailySeries, p: &Params) -> Option<Detection> {
    let s = &since_first_spend(s, p);
    let c = &p.creep;
    let xs = trailing(s.amounts, c.slow_days);
    let n = xs.len();
    if !c.enabled
        || c.slow_days == 0
        || s.amounts.len() < c.slow_min_days
        || n < MIN_BEFORE_DAYS + MIN_CREEP_DAYS
        || xs[n - 1] < p.min_daily_spend
        || !established(xs, p)
    {
        return None;
    }
    let b = Baseline::with_profile(weekday_profile(xs, s.last_weekday), p);
    let mut logs = b.logs(xs, s.last_weekday);
    let min_rise = (1.0 + c.slow_min_relative).ln();
    if median(trailing(&logs, 14)) - median(&logs[..28]) < min_rise {
        return None;
    }
    // Least squares on values clipped to the bulk of the window: a day's burst (a spike,
    // a month-end job) moves a line no more than a typical day does.
    let center = median(&logs);
    let reach = 4.0 * mad(&logs).max(0.02);
    for y in &mut logs {
        *y = y.clamp(center - reach, center + reach);
    }
    let best = (MIN_BEFORE_DAYS..=n.saturating_sub(MIN_CREEP_DAYS))
        .step_by(7)
        .map(|start| Hinge::fit(&logs, start, p.max_organic_growth))
        .filter(|h| {
            (h.slope - h.organic) * 7.0 >= c.slow_min_weekly_growth && h.jump <= 0.5 * h.rise
        })
        .max_by(|a, b| a.z.total_cmp(&b.z))?;
    if best.z < c.slow_k || best.rise - best.grown < min_rise {
        return None;
    }
    // The level now: the last two weeks (a line's end would overshoot a step it was bent over).
    let observed = b.cost_of(median(trailing(&logs, 14)), None);
    let expected = b.cost_of(best.flat + best.grown, None);
    if !big_enough(observed, expected, c.min_abs_delta, c.slow_min_relative) {
        return None;
    }
    let g = best.slope.min(0.05);
    let future = observed * (1..=30).map(|d| (g * d as f64).exp()).sum::<f64>() / 30.0;
    let mut d = detection(p, Kind::Creep, observed, expected, best.z);
    d.monthly_impact = (future - expected) * DAYS_PER_MONTH;
    d.severity = p.severity.classify(d.monthly_impact).min(Severity::Warning);
    Some(d)
}

/// A slow creep's fit needs this many days before its start, to learn their trend.
const MIN_BEFORE_DAYS: usize = 42;
/// A slow creep's line spans at least this many days.
const MIN_CREEP_DAYS: usize = 21;

/// A least-squares line through `ys` against their index.
struct Line {
    intercept: f64,
    slope: f64,
}

impl Line {
    fn fit(ys: &[f64]) -> Self {
        let n = ys.len() as f64;
        let t_mean = (n - 1.0) / 2.0;
        let y_mean = mean(ys);
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, y) in ys.iter().enumerate() {
            let dt = i as f64 - t_mean;
            sxy += dt * (y - y_mean);
            sxx += dt * dt;
        }
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        Line {
            intercept: y_mean - slope * t_mean,
            slope,
        }
    }

    fn at(&self, i: usize) -> f64 {
        self.intercept + self.slope * i as f64
    }

    fn residuals(&self, ys: &[f64]) -> Vec<f64> {
        ys.iter().enumerate().map(|(i, y)| y - self.at(i)).collect()
    }
}

/// The days before `start` with their own trend (within `0..=max_organic_growth`: growth
/// the series had all along is normal), then a line: the shape of a creep that began at
/// `start`.
struct Hinge {
    /// The level the trend before `start` reached on its last day.
    flat: f64,
    /// Growth per day of the line.
    slope: f64,
    /// Where the line starts above the flat level.
    jump: f64,
    /// Where the line ends above the flat level.
    rise: f64,
    /// Growth per day learned as normal: the trend before `start`, within the organic range.
    organic: f64,
    /// Where that normal growth takes the flat level by the line's end.
    grown: f64,
    /// `rise - grown` in standard errors.
    z: f64,
}

impl Hinge {
    fn fit(ys: &[f64], start: usize, max_organic: f64) -> Self {
        let (before, after) = ys.split_at(start);
        let pre = Line::fit(before);
        let line = Line::fit(after);
        let organic = pre.slope.clamp(0.0, max_organic);
        // The days before, on a line of the organic slope through their mean.
        let flat = mean(before) + organic * (start - 1) as f64 / 2.0;
        let len = after.len();
        let end = line.at(len - 1);
        let pre_residuals = pre.residuals(before);
        let squares: f64 = (pre_residuals.iter().chain(&line.residuals(after)))
            .map(|r| r * r)
            .sum();
        let sigma = (squares / (ys.len() - 4) as f64).sqrt().max(0.02);
        // Noise that runs in streaks counts for less: the lag-1 correlation of the days
        // before (the creep cannot bend them).
        let lagged: f64 = pre_residuals.windows(2).map(|w| w[0] * w[1]).sum();
        let own: f64 = pre_residuals.iter().map(|r| r * r).sum();
        let rho = (lagged / own.max(1e-12)).clamp(0.0, 0.8);
        let streaks = ((1.0 + rho) / (1.0 - rho)).sqrt();
        let stderr = streaks * sigma * (1.0 / start as f64 + 4.0 / len as f64).sqrt();
        let rise = end - flat;
        let grown = organic * len as f64;
        Hinge {
            flat,
            slope: line.slope,
            jump: line.intercept - flat,
            rise,
            organic,
            grown,
            z: (rise - grown) / stderr,
        }
    }
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

/// Month-to-date pace of a total (e.g. an account's usage): the month-to-date cost plus the
/// rest of the month at the median of the recent days, against the previous month. Both the
/// projection and the recent rate must exceed the previous month's by `min_relative`. `s` ends on
/// the evaluated day, day `day_of_month` of a month of `days_in_month` days, and must hold the
/// whole previous month (`prev_month_days` days, each with spend). `observed` and `expected`
/// are the projected and the previous month's cost per day; the impact is the projected
/// excess over the month.
pub fn pace(
    s: &DailySeries,
    day_of_month: usize,
    days_in_month: usize,
    prev_month_days: usize,
    p: &Params,
) -> Option<Detection> {
    let c = &p.pace;
    let n = s.amounts.len();
    if !c.enabled || day_of_month < c.min_elapsed_days.max(1) || n < day_of_month + prev_month_days
    {
        return None;
    }
    let (before, month) = s.amounts.split_at(n - day_of_month);
    let previous = &before[before.len() - prev_month_days..];
    if previous.iter().any(|&x| x <= 0.0) {
        return None;
    }
    let (projected, recent) = month_projection(month, days_in_month, c.recent_days);
    let observed = projected / days_in_month as f64;
    let expected = previous.iter().sum::<f64>() / prev_month_days as f64;
    let excess = (observed - expected) * days_in_month as f64;
    // The recent rate must be above too: a spike already over is the spike rule's news.
    if observed < p.min_daily_spend
        || observed < expected * (1.0 + c.min_relative)
        || recent < expected * (1.0 + c.min_relative)
        || excess < c.min_abs_monthly
    {
        return None;
    }
    Some(Detection {
        kind: Kind::Pace,
        severity: p.severity.classify(excess),
        observed,
        expected,
        score: observed / expected,
        monthly_impact: excess,
    })
}

/// The month's projected cost from its days so far (`month`, ending on the evaluated day):
/// their sum plus the rest of the month at the median of the last `recent_days`. Returns the
/// projection and that recent daily rate.
pub fn month_projection(month: &[f64], days_in_month: usize, recent_days: usize) -> (f64, f64) {
    let recent = median(&month[month.len().saturating_sub(recent_days.max(1))..]);
    let rest = days_in_month.saturating_sub(month.len()) as f64;
    (month.iter().sum::<f64>() + recent * rest, recent)
}

/// Forecast against a monthly budget: the month's projection ([`month_projection`]) of a
/// total reaching `alert_at` of `monthly_limit`. `s` ends on the evaluated day, day
/// `day_of_month` of a month of `days_in_month` days. `observed` and `expected` are the
/// projected and the budgeted cost per day; the impact is the projected overrun (0 when the
/// projection is still under the limit).
pub fn budget(
    s: &DailySeries,
    day_of_month: usize,
    days_in_month: usize,
    p: &Params,
) -> Option<Detection> {
    let b = &p.budget;
    let n = s.amounts.len();
    if b.monthly_limit <= 0.0 || day_of_month < b.min_elapsed_days.max(1) || n < day_of_month {
        return None;
    }
    let month = &s.amounts[n - day_of_month..];
    let (projected, _) = month_projection(month, days_in_month, b.recent_days);
    if projected < b.alert_at * b.monthly_limit {
        return None;
    }
    let overrun = (projected - b.monthly_limit).max(0.0);
    Some(Detection {
        kind: Kind::Budget,
        severity: p.severity.classify(overrun).max(Severity::Warning),
        observed: projected / days_in_month as f64,
        expected: b.monthly_limit / days_in_month as f64,
        score: projected / b.monthly_limit,
        monthly_impact: overrun,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pace_of(previous: f64, month: &[f64]) -> Option<Detection> {
        let mut amounts = vec![previous; 31];
        amounts.extend_from_slice(month);
        let s = DailySeries {
            amounts: &amounts,
            last_weekday: 0,
        };
        pace(&s, month.len(), 30, 31, &Params::default())
    }

    /// 100 days at $100 with a deterministic ±8% wobble, and a month-end job of four days
    /// on days 37-40 (3×, two months before the end) and 66-69 (only 1.5×: a small run).
    fn month_end_jobs() -> Vec<f64> {
        let mut days: Vec<f64> = (0..100)
            .map(|i| 100.0 * (1.0 + 0.08 * ((i * 7 % 11) as f64 / 5.0 - 1.0)))
            .collect();
        days[37..41].iter_mut().for_each(|d| *d *= 3.0);
        days[66..70].iter_mut().for_each(|d| *d *= 1.5);
        days
    }

    #[test]
    fn a_month_end_job_as_high_as_two_months_ago_is_no_step_and_no_creep() {
        let p = Params::default();
        let mut days = month_end_jobs();
        days.extend([300.0; 3]); // this month's run, three days in
        let s = DailySeries {
            amounts: &days,
            last_weekday: 0,
        };
        assert!(recurring_tail(&days));
        assert!(shift(&s, &p).is_none());
        assert!(creep(&s, &p).is_none());
        // Without the run two months ago, it is a step.
        let mut fresh = month_end_jobs();
        fresh[37..41].iter_mut().for_each(|d| *d /= 3.0);
        fresh.extend([300.0; 3]);
        assert!(!recurring_tail(&fresh));
        let s = DailySeries {
            amounts: &fresh,
            last_weekday: 0,
        };
        assert!(shift(&s, &p).is_some());
    }

    /// `days` costs around $100 with log-normal noise of `sigma` (a fixed seed) and a daily
    /// growth factor from `growth(i)`.
    fn noisy(days: usize, sigma: f64, growth: impl Fn(usize) -> f64) -> Vec<f64> {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut uniform = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        (0..days)
            .map(|i| {
                let gauss =
                    (-2.0 * uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform()).cos();
                100.0 * growth(i) * (sigma * gauss).exp()
            })
            .collect()
    }

    #[test]
    fn a_slow_creep_under_heavy_noise_is_caught_and_growth_from_the_first_day_is_not() {
        let p = Params::default();
        let weekly = |rate: f64, from: usize| {
            move |i: usize| (1.0 + rate).powf(i.saturating_sub(from) as f64 / 7.0)
        };
        // 60 flat days, then 3 % a week for 60 days under 20 % daily noise: 1.28x by now,
        // which no two weeks make plain.
        let days = noisy(120, 0.2, weekly(0.03, 60));
        let s = DailySeries {
            amounts: &days,
            last_weekday: 0,
        };
        let d = slow_creep(&s, &p).expect("a creep");
        assert!(d.observed > 1.15 * d.expected, "{d:?}");
        // Before it has come far, quiet.
        let early = DailySeries {
            amounts: &days[..75],
            last_weekday: 0,
        };
        assert!(slow_creep(&early, &p).is_none());
        // Storage that has grown 1.5 % a week since its first day: 1.3x over the window,
        // but that growth is the series' normal.
        let days = noisy(120, 0.03, weekly(0.015, 0));
        let s = DailySeries {
            amounts: &days,
            last_weekday: 0,
        };
        assert!(creep(&s, &p).is_none());
    }

    #[test]
    fn a_two_day_burst_is_no_step_but_three_days_are() {
        let p = Params::default();
        let mut days = noisy(60, 0.05, |_| 1.0);
        days.extend([250.0; 2]);
        let s = DailySeries {
            amounts: &days,
            last_weekday: 0,
        };
        assert!(shift(&s, &p).is_none());
        days.push(250.0);
        let s = DailySeries {
            amounts: &days,
            last_weekday: 0,
        };
        assert!(shift(&s, &p).is_some());
    }

    #[test]
    fn pace_projects_the_month_from_the_recent_days() {
        // Ten days at last month's $100/day: on pace, quiet.
        assert!(pace_of(100.0, &[100.0; 10]).is_none());
        // A step to $150/day five days ago: the rest of the month at $150.
        let mut month = vec![100.0; 5];
        month.extend([150.0; 5]);
        let d = pace_of(100.0, &month).expect("on course for more");
        assert!((d.observed - (1250.0 + 150.0 * 20.0) / 30.0).abs() < 1e-9);
        // Two days of it are not yet a rate: the recent median is still $100.
        let mut month = vec![100.0; 8];
        month.extend([150.0; 2]);
        assert!(pace_of(100.0, &month).is_none());
        assert!((d.monthly_impact - (d.observed - 100.0) * 30.0).abs() < 1e-9);
        // A spike already over is not a pace: the recent days are back to normal.
        let mut month = vec![100.0; 9];
        month.push(900.0);
        assert!(pace_of(100.0, &month).is_none());
        // Too early in the month to say.
        assert!(pace_of(100.0, &[200.0; 5]).is_none());
    }

    #[test]
    fn budget_compares_the_projection_with_the_limit() {
        let mut p = Params::default();
        let month = [100.0; 10];
        let s = DailySeries {
            amounts: &month,
            last_weekday: 0,
        };
        // No limit configured: nothing to say.
        assert!(budget(&s, 10, 30, &p).is_none());
        p.budget.monthly_limit = 2500.0;
        let d = budget(&s, 10, 30, &p).expect("on course for $3,000 of $2,500");
        assert!((d.observed * 30.0 - 3000.0).abs() < 1e-9);
        assert!((d.monthly_impact - 500.0).abs() < 1e-9);
        p.budget.monthly_limit = 3500.0;
        assert!(budget(&s, 10, 30, &p).is_none());
        // Warned at 80% of the limit, with no overrun yet.
        p.budget.alert_at = 0.8;
        let d = budget(&s, 10, 30, &p).expect("past 80% of $3,500");
        assert_eq!(d.monthly_impact, 0.0);
    }
}
