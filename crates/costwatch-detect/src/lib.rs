//! Anomaly detectors over dense daily cost series.
//!
//! Pure and dependency-free, shared by the costwatch host and the rule guest
//! SDK. Every detector looks at one series (e.g. one account × service × usage
//! type), evaluates its last day and returns at most one [`Detection`]. The
//! caller keeps one open finding per series, so detectors fire at the start of
//! an anomaly and may keep firing while it lasts.
//!
//! All detectors share the same guards: the evaluated cost must reach
//! [`Params::min_daily_spend`], and both an absolute (dollars per day) and a
//! relative threshold must be crossed, on top of a noise-scaled score.

pub mod detectors;
pub mod stats;

pub use detectors::{budget, creep, detect, month_projection, new_spend, pace, shift, spike};

/// Days per month used to turn a daily delta into a monthly impact.
pub const DAYS_PER_MONTH: f64 = 30.4;

/// One series' daily cost, oldest first; the last element is the day being
/// evaluated. Days with no spend are `0.0`. Only usage belongs here: fees,
/// credits, refunds and tax are kept out by the host.
#[derive(Clone, Copy, Debug)]
pub struct DailySeries<'a> {
    /// Cost per day, one value per calendar day with no gaps.
    pub amounts: &'a [f64],
    /// Weekday of the last element, 0 = Monday … 6 = Sunday.
    pub last_weekday: u8,
}

/// How loudly a detection (and the finding it becomes) is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum Severity {
    /// Worth knowing; below the warning impact.
    Info,
    /// Worth acting on this week.
    Warning,
    /// Worth acting on today.
    Critical,
}

impl Severity {
    /// The stored and printed name: `info`, `warning`, `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    /// Parses a stored name; anything unknown reads as `info`.
    pub fn parse(s: &str) -> Self {
        match s {
            "critical" => Self::Critical,
            "warning" => Self::Warning,
            _ => Self::Info,
        }
    }
}

/// `$1,234.56` style, as costwatch prints money.
pub fn money(x: f64) -> String {
    let cents = (x.abs() * 100.0).round() as u64;
    let (whole, frac) = (cents / 100, cents % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}${grouped}.{frac:02}", if x < 0.0 { "-" } else { "" })
}

/// What kind of anomaly a detection is; the built-in rules are named after them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "kebab-case")
)]
pub enum Kind {
    /// One day well above its expected value.
    Spike,
    /// A step up that has lasted several days.
    Shift,
    /// Sustained growth that no single day makes obvious.
    Creep,
    /// Spend on a series that had (essentially) none before.
    NewSpend,
    /// A month heading well above the previous month's cost.
    Pace,
    /// A month heading past its budget.
    Budget,
}

impl Kind {
    /// Every kind, in the order the built-in rules run.
    pub const ALL: [Kind; 6] = [
        Kind::Spike,
        Kind::Shift,
        Kind::Creep,
        Kind::NewSpend,
        Kind::Pace,
        Kind::Budget,
    ];

    /// The name of the built-in rule: `spike`, `shift`, `creep`, `new-spend`, `pace`, `budget`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Spike => "spike",
            Kind::Shift => "shift",
            Kind::Creep => "creep",
            Kind::NewSpend => "new-spend",
            Kind::Pace => "pace",
            Kind::Budget => "budget",
        }
    }
}

/// One anomaly found on the evaluated day.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// The kind of anomaly.
    pub kind: Kind,
    /// How loudly to report it.
    pub severity: Severity,
    /// Cost per day on the evaluated day (recent window mean for shift and creep).
    pub observed: f64,
    /// Baseline cost per day the observation is compared with.
    pub expected: f64,
    /// Robust z-score (or similar strength measure; higher is stronger).
    pub score: f64,
    /// Extra cost per month: `(observed - expected) * 30.4`, or the creep's
    /// projected extra over the next month.
    pub monthly_impact: f64,
}

/// Tuning for all detectors. `Params::default()` is tuned for real billing data.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    /// No detector fires when the evaluated cost per day is below this (dollars).
    pub min_daily_spend: f64,
    /// Days of history used to estimate the weekday profile, the trend and the noise.
    pub season_days: usize,
    /// Largest daily growth (or decline) rate learned as a normal trend and
    /// projected forward; faster growth is never learned as normal.
    pub max_organic_growth: f64,
    /// The spike detector.
    pub spike: SpikeParams,
    /// The shift detector.
    pub shift: ShiftParams,
    /// The creep detector.
    pub creep: CreepParams,
    /// The new-spend detector.
    pub new_spend: NewSpendParams,
    /// The month-pace detector.
    pub pace: PaceParams,
    /// The budget detector.
    pub budget: BudgetParams,
    /// Severity from the monthly impact.
    pub severity: SeverityParams,
}

/// A single day well above its weekday-adjusted robust baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct SpikeParams {
    /// Whether the detector runs.
    pub enabled: bool,
    /// Trailing days (before the evaluated day) the baseline median/MAD uses.
    pub window_days: usize,
    /// Fewer days of history than this: no verdict.
    pub min_history_days: usize,
    /// Minimum excess over the expectation, dollars per day.
    pub min_abs_delta: f64,
    /// Minimum excess relative to the expectation (1.0 = double).
    pub min_relative: f64,
    /// Minimum robust z-score.
    pub k: f64,
    /// Noise is never assumed below this fraction of the expectation
    /// (the scores are computed on log cost, so this is a log-scale floor).
    pub noise_floor_relative: f64,
    /// Stay quiet when a similar excess happened about one month earlier
    /// (a monthly charge or job, not an anomaly).
    pub skip_monthly_recurring: bool,
    /// Stay quiet when a day in this many days before the last three reached
    /// a similar excess (60% of today's, on log cost): the series has heavy
    /// tails. 0 disables the check.
    pub lookback_days: usize,
}

/// A lasting step up: the last few days together clearly above the baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct ShiftParams {
    /// Whether the detector runs.
    pub enabled: bool,
    /// The new level is judged over the last `min_days` ..= `recent_days` days
    /// (including the evaluated day).
    pub recent_days: usize,
    /// Days a new level must have lasted before it is told (fewer are a burst).
    pub min_days: usize,
    /// Trailing days before the recent ones that form the baseline.
    pub window_days: usize,
    /// Fewer days of history than this: no verdict.
    pub min_history_days: usize,
    /// Minimum excess of the recent level, dollars per day.
    pub min_abs_delta: f64,
    /// Minimum excess of the recent level relative to the baseline.
    pub min_relative: f64,
    /// The recent days' mean must be `k` standard errors above the baseline.
    pub k: f64,
    /// Each recent day must be at least this many robust deviations above the baseline.
    pub min_each_z: f64,
    /// Noise is never assumed below this fraction of the expectation.
    pub noise_floor_relative: f64,
    /// A step, not a ramp: the week before the recent days may have risen by at
    /// most this fraction of the recent rise (on log cost).
    pub max_prior_rise: f64,
    /// Stay quiet when the same days of about a month earlier were about as high (half the
    /// rise, on log cost): a month-end or monthly job, not a lasting step.
    pub skip_monthly_recurring: bool,
}

/// Sustained growth: the recent level has risen well above the trend of the
/// long window, and is still rising.
#[derive(Clone, Debug, PartialEq)]
pub struct CreepParams {
    /// Whether the detector runs.
    pub enabled: bool,
    /// Days over which the recent growth rate is measured.
    pub short_days: usize,
    /// Days before the short window that give the baseline, normal trend and noise.
    pub long_days: usize,
    /// Days whose median is the current level (`observed`).
    pub level_days: usize,
    /// Minimum recent daily growth rate above the normal trend (0.005 = 0.5%/day).
    pub min_growth: f64,
    /// The current level must be `k` standard errors above the projected baseline.
    pub k: f64,
    /// Minimum rise of the current level over the projected baseline, relative.
    pub min_relative: f64,
    /// Minimum rise of the current level over the projected baseline, dollars per day.
    pub min_abs_delta: f64,
    /// Slow creep (a few percent a week, below `min_growth`): days of history its trend is
    /// fitted over, at most (0 disables it; rules see `[detection] history_days` at most).
    pub slow_days: usize,
    /// Slow creep: fewer days than this since the series first spent, no verdict.
    pub slow_min_days: usize,
    /// Slow creep: minimum growth per week above the trend before it began (log scale).
    pub slow_min_weekly_growth: f64,
    /// Slow creep: the rise must be `slow_k` standard errors.
    pub slow_k: f64,
    /// Slow creep: minimum rise over where the trend before it would have led, relative.
    pub slow_min_relative: f64,
}

/// Month-to-date pace: the month's projected cost against the previous month's.
#[derive(Clone, Debug, PartialEq)]
pub struct PaceParams {
    /// Whether the detector runs.
    pub enabled: bool,
    /// No verdict before this day of the month (too little of it to project).
    pub min_elapsed_days: usize,
    /// The rest of the month is projected at the median cost of this many recent days.
    pub recent_days: usize,
    /// Minimum projected excess over the previous month, relative (0.25 = 25% more).
    pub min_relative: f64,
    /// Minimum projected excess over the previous month, dollars per month.
    pub min_abs_monthly: f64,
}

impl Default for PaceParams {
    fn default() -> Self {
        PaceParams {
            enabled: true,
            min_elapsed_days: 7,
            recent_days: 7,
            min_relative: 0.25,
            min_abs_monthly: 500.0,
        }
    }
}

/// Forecast against a monthly budget.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetParams {
    /// The budget, dollars per month; 0 disables the detector.
    pub monthly_limit: f64,
    /// Alert when the projection reaches this share of the limit (0.8 = 80%).
    pub alert_at: f64,
    /// No verdict before this day of the month.
    pub min_elapsed_days: usize,
    /// The rest of the month is projected at the median cost of this many recent days.
    pub recent_days: usize,
}

impl Default for BudgetParams {
    fn default() -> Self {
        BudgetParams {
            monthly_limit: 0.0,
            alert_at: 1.0,
            min_elapsed_days: 3,
            recent_days: 7,
        }
    }
}

/// Spend appearing on a series with (essentially) no earlier spend.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSpendParams {
    /// Whether the detector runs.
    pub enabled: bool,
    /// Days of (near-)zero history needed before spend counts as new.
    pub min_history_days: usize,
    /// The spend may have ramped up over this many days (it still counts as new).
    pub ramp_days: usize,
    /// Minimum cost on the evaluated day, dollars.
    pub min_daily: f64,
    /// Earlier days may have spent up to this much per day (dollars) …
    pub max_prior_daily: f64,
    /// … or up to this fraction of the evaluated day's cost.
    pub max_prior_fraction: f64,
}

/// Severity from the monthly impact.
#[derive(Clone, Debug, PartialEq)]
pub struct SeverityParams {
    /// Monthly impact (dollars) from which a detection is a Warning.
    pub warning_monthly: f64,
    /// Monthly impact (dollars) from which a detection is Critical.
    pub critical_monthly: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            min_daily_spend: 1.0,
            season_days: 56,
            max_organic_growth: 0.005,
            spike: SpikeParams::default(),
            shift: ShiftParams::default(),
            creep: CreepParams::default(),
            new_spend: NewSpendParams::default(),
            pace: PaceParams::default(),
            budget: BudgetParams::default(),
            severity: SeverityParams::default(),
        }
    }
}

impl Default for SpikeParams {
    fn default() -> Self {
        SpikeParams {
            enabled: true,
            window_days: 28,
            min_history_days: 14,
            min_abs_delta: 10.0,
            min_relative: 1.0,
            k: 4.0,
            noise_floor_relative: 0.05,
            skip_monthly_recurring: true,
            lookback_days: 56,
        }
    }
}

impl Default for ShiftParams {
    fn default() -> Self {
        ShiftParams {
            enabled: true,
            recent_days: 3,
            min_days: 3,
            window_days: 28,
            min_history_days: 14,
            min_abs_delta: 5.0,
            min_relative: 0.3,
            k: 5.0,
            min_each_z: 1.0,
            noise_floor_relative: 0.05,
            max_prior_rise: 0.33,
            skip_monthly_recurring: true,
        }
    }
}

impl Default for CreepParams {
    fn default() -> Self {
        CreepParams {
            enabled: true,
            short_days: 14,
            long_days: 56,
            level_days: 7,
            min_growth: 0.005,
            k: 5.0,
            min_relative: 0.15,
            min_abs_delta: 1.0,
            slow_days: 180,
            slow_min_days: 56,
            slow_min_weekly_growth: 0.01,
            slow_k: 3.5,
            slow_min_relative: 0.15,
        }
    }
}

impl Default for NewSpendParams {
    fn default() -> Self {
        NewSpendParams {
            enabled: true,
            min_history_days: 14,
            ramp_days: 3,
            min_daily: 5.0,
            max_prior_daily: 0.05,
            max_prior_fraction: 0.02,
        }
    }
}

impl Default for SeverityParams {
    fn default() -> Self {
        SeverityParams {
            warning_monthly: 100.0,
            critical_monthly: 1000.0,
        }
    }
}

impl SeverityParams {
    /// Severity for a detection with this monthly impact.
    pub fn classify(&self, monthly_impact: f64) -> Severity {
        if monthly_impact >= self.critical_monthly {
            Severity::Critical
        } else if monthly_impact >= self.warning_monthly {
            Severity::Warning
        } else {
            Severity::Info
        }
    }
}
