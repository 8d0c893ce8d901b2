//! Robust statistics over daily cost series.
//!
//! All functions take plain slices, never panic, and ignore nothing: callers
//! pass finite values (costs). Empty input gives `NaN` where no value makes
//! sense, so a detector comparing against it simply does not fire.

/// Scale factor that makes the MAD a consistent estimator of the standard
/// deviation for normally distributed data.
pub const MAD_SCALE: f64 = 1.4826;

/// The `q`-quantile of `v` (reordered in place) with linear interpolation between order
/// statistics: the two neighbouring order statistics are selected, not sorted for, which
/// keeps a median of the thousands of pairwise slopes of [`theil_sen_slope`] linear.
fn quantile_in_place(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let (_, &mut low, above) = v.select_nth_unstable_by(lo, f64::total_cmp);
    if pos == lo as f64 {
        return low;
    }
    let high = above.iter().copied().min_by(f64::total_cmp).unwrap_or(low);
    low + (high - low) * (pos - lo as f64)
}

/// The `q`-quantile (0..=1) with linear interpolation between order statistics.
pub fn quantile(xs: &[f64], q: f64) -> f64 {
    quantile_in_place(&mut xs.to_vec(), q)
}

/// The median (`NaN` for an empty slice).
pub fn median(xs: &[f64]) -> f64 {
    quantile(xs, 0.5)
}

/// Median absolute deviation from the median, scaled by [`MAD_SCALE`] so it
/// estimates a standard deviation.
pub fn mad(xs: &[f64]) -> f64 {
    let m = median(xs);
    let mut dev: Vec<f64> = xs.iter().map(|x| (x - m).abs()).collect();
    MAD_SCALE * quantile_in_place(&mut dev, 0.5)
}

/// Arithmetic mean (`NaN` for an empty slice).
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Exponentially weighted moving average, oldest first; returns the final
/// smoothed value. `alpha` in (0, 1] is the weight of each new observation.
pub fn ewma(xs: &[f64], alpha: f64) -> f64 {
    let mut it = xs.iter();
    let Some(&first) = it.next() else {
        return f64::NAN;
    };
    it.fold(first, |acc, &x| acc + alpha * (x - acc))
}

/// The last `n` elements (all of them when the slice is shorter).
pub fn trailing(xs: &[f64], n: usize) -> &[f64] {
    &xs[xs.len().saturating_sub(n)..]
}

/// The `n` elements that end `skip` elements before the end: the window
/// `xs[len-skip-n .. len-skip]`, clamped at the start.
pub fn trailing_before(xs: &[f64], skip: usize, n: usize) -> &[f64] {
    trailing(&xs[..xs.len().saturating_sub(skip)], n)
}

/// Weekday (0 = Monday) of element `i` of a series whose last element falls on
/// `last_weekday`.
pub fn weekday_of(i: usize, len: usize, last_weekday: u8) -> usize {
    let back = (len - 1 - i) % 7;
    (last_weekday as usize + 7 - back) % 7
}

/// Multiplicative weekday profile (0 = Monday), by ratio to a centered 7-day
/// moving average: for each weekday the median ratio of its days to the
/// average of the week around them, normalised to a mean of 1. Comparing each
/// day with its own week keeps trends and level changes out of the profile.
///
/// The factors are shrunk towards 1 by how much of their spread the sampling
/// noise of a median could explain (James–Stein style, conservatively: three
/// times the expected noise spread), so a series without real weekday
/// seasonality gets a flat profile instead of one fitted to its noise.
/// Returns all ones with fewer than two full weeks or no spend. Factors are
/// floored at `0.05` so a normally idle weekday keeps a small, finite expectation.
pub fn weekday_profile(xs: &[f64], last_weekday: u8) -> [f64; 7] {
    let flat = [1.0; 7];
    let n = xs.len();
    if n < 14 {
        return flat;
    }
    let weekday = |i: usize| weekday_of(i, n, last_weekday);
    let mut ratios: [Vec<f64>; 7] = Default::default();
    for i in 3..n - 3 {
        let week = mean(&xs[i - 3..=i + 3]);
        if week > 0.0 {
            ratios[weekday(i)].push(xs[i] / week);
        }
    }
    if ratios.iter().any(|r| r.len() < 2) {
        return flat;
    }
    let medians: Vec<f64> = ratios.iter().map(|r| median(r)).collect();
    let norm = mean(&medians);
    if norm <= 0.0 || !norm.is_finite() {
        return flat;
    }
    let raw: Vec<f64> = medians.iter().map(|m| m / norm).collect();
    let residuals: Vec<f64> = (0..7)
        .flat_map(|w| {
            let f = raw[w];
            ratios[w].iter().map(move |r| r / norm - f)
        })
        .collect();
    // Variance of one weekday's median under noise alone, vs the factors' spread.
    let noise = 1.2533 * mad(&residuals);
    let fewest = ratios.iter().map(Vec::len).min().unwrap_or(1) as f64;
    let sampling = noise * noise / fewest;
    let spread = raw.iter().map(|f| (f - 1.0).powi(2)).sum::<f64>() / 7.0;
    let shrink = if spread > 0.0 {
        (1.0 - 3.0 * sampling / spread).max(0.0)
    } else {
        0.0
    };
    let mut profile = flat;
    for (p, f) in profile.iter_mut().zip(&raw) {
        *p = (1.0 + shrink * (f - 1.0)).max(0.05);
    }
    profile
}

/// Divide each value by its weekday factor (see [`weekday_profile`]).
pub fn deseasonalize(xs: &[f64], last_weekday: u8, profile: &[f64; 7]) -> Vec<f64> {
    xs.iter()
        .enumerate()
        .map(|(i, &x)| x / profile[weekday_of(i, xs.len(), last_weekday)])
        .collect()
}

/// Theil–Sen slope of `ys` against their index: the median of all pairwise
/// slopes. Robust to roughly 29% outliers; `NaN` for fewer than two points.
pub fn theil_sen_slope(ys: &[f64]) -> f64 {
    let n = ys.len();
    let mut slopes = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            slopes.push((ys[j] - ys[i]) / (j - i) as f64);
        }
    }
    quantile_in_place(&mut slopes, 0.5)
}

/// Robust daily growth rate: the Theil–Sen slope of `ln(max(y, floor))`.
/// 0.03 means about +3% per day. `floor` keeps zero days finite.
pub fn log_linear_slope(ys: &[f64], floor: f64) -> f64 {
    let logs: Vec<f64> = ys.iter().map(|&y| y.max(floor).ln()).collect();
    theil_sen_slope(&logs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn median_and_quantile() {
        assert!(close(median(&[3.0, 1.0, 2.0]), 2.0));
        assert!(close(median(&[4.0, 1.0, 2.0, 3.0]), 2.5));
        assert!(median(&[]).is_nan());
        assert!(close(quantile(&[0.0, 10.0], 0.25), 2.5));
        assert!(close(quantile(&[5.0, 1.0, 3.0], 1.0), 5.0));
        assert!(close(quantile(&[5.0, 1.0, 3.0], 0.0), 1.0));
    }

    #[test]
    fn mad_is_robust_and_scaled() {
        assert!(close(mad(&[1.0, 2.0, 3.0, 4.0, 1000.0]), MAD_SCALE));
        assert!(close(mad(&[7.0; 10]), 0.0));
    }

    #[test]
    fn ewma_and_mean() {
        assert!(close(ewma(&[0.0, 10.0], 0.5), 5.0));
        assert!(close(ewma(&[2.0], 0.3), 2.0));
        assert!(ewma(&[], 0.3).is_nan());
        assert!(close(mean(&[1.0, 2.0, 3.0]), 2.0));
    }

    #[test]
    fn windows() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(trailing(&xs, 2), &[4.0, 5.0]);
        assert_eq!(trailing(&xs, 9), &xs);
        assert_eq!(trailing_before(&xs, 1, 2), &[3.0, 4.0]);
        assert_eq!(trailing_before(&xs, 4, 3), &[1.0]);
        assert!(trailing_before(&xs, 9, 3).is_empty());
    }

    #[test]
    fn weekday_profile_finds_weekends() {
        // 8 weeks ending on a Sunday (weekday 6): weekends at half the weekday level.
        let xs: Vec<f64> = (0..56)
            .map(|i| {
                if weekday_of(i, 56, 6) >= 5 {
                    50.0
                } else {
                    100.0
                }
            })
            .collect();
        let p = weekday_profile(&xs, 6);
        let level = (5.0 * 100.0 + 2.0 * 50.0) / 7.0;
        assert!(close(p[0], 100.0 / level));
        assert!(close(p[6], 50.0 / level));
        let flat = deseasonalize(&xs, 6, &p);
        assert!(flat.iter().all(|&v| close(v, level)));
        assert_eq!(weekday_profile(&xs[..10], 6), [1.0; 7]);
        assert_eq!(weekday_profile(&[0.0; 28], 6), [1.0; 7]);
    }

    #[test]
    fn slopes() {
        let line: Vec<f64> = (0..20).map(|i| 3.0 + 0.5 * i as f64).collect();
        assert!(close(theil_sen_slope(&line), 0.5));
        let mut spiky = line.clone();
        spiky[7] = 1000.0;
        spiky[12] = -50.0;
        assert!(close(theil_sen_slope(&spiky), 0.5));
        let growth: Vec<f64> = (0..20).map(|i| 10.0 * 1.03f64.powi(i)).collect();
        assert!(close(log_linear_slope(&growth, 1e-6), 1.03f64.ln()));
        assert!(theil_sen_slope(&[1.0]).is_nan());
    }
}
