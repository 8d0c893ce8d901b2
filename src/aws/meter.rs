//! Every AWS request a source makes, counted where the SDK sends it: an interceptor on each
//! client sees every attempt (SDK retries too), so a source that fails half-way still reports
//! the requests it paid for, and which operations it called (what its IAM policy must allow).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Error codes AWS answers a throttled request with (not charged; the SDK retries them).
const THROTTLING: [&str; 7] = [
    "LimitExceededException",
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestThrottled",
];

/// The requests of one source in one run.
#[derive(Debug, Default)]
pub struct Meter {
    requests: AtomicU32,
    throttled: AtomicU32,
    /// In millionths of a dollar.
    cost: AtomicU64,
    /// Attempts by operation, `Service Operation` (e.g. `S3 GetObject`).
    operations: Mutex<BTreeMap<String, u32>>,
}

impl Meter {
    /// An interceptor for one client; `price` gives what a request of an operation (by
    /// name, e.g. `GetCostAndUsage`) costs, in dollars.
    pub fn interceptor(self: &Arc<Self>, price: fn(&str) -> f64) -> Metered {
        Metered {
            meter: Arc::clone(self),
            price,
        }
    }

    /// Adds a cost not counted per request (e.g. an Athena query's scanned bytes).
    pub fn add_cost(&self, dollars: f64) {
        let micros = (dollars * 1e6).round().max(0.0) as u64;
        self.cost.fetch_add(micros, Ordering::Relaxed);
    }

    /// Requests answered, attempts throttled, and their cost in dollars so far.
    pub fn read(&self) -> (u32, u32, f64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.throttled.load(Ordering::Relaxed),
            self.cost.load(Ordering::Relaxed) as f64 / 1e6,
        )
    }

    /// The operations called so far, `Service Operation` (e.g. `Cost Explorer
    /// GetCostAndUsage`), with their attempts (answered or not).
    pub fn operations(&self) -> BTreeMap<String, u32> {
        self.operations
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The interceptor counting one client's requests into a [`Meter`].
#[derive(Debug)]
pub struct Metered {
    meter: Arc<Meter>,
    price: fn(&str) -> f64,
}

impl Intercept for Metered {
    fn name(&self) -> &'static str {
        "costwatch::aws::Metered"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let metadata = cfg.load::<Metadata>();
        if let Some(m) = metadata {
            let mut operations = self
                .meter
                .operations
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            *operations
                .entry(format!("{} {}", m.service(), m.name()))
                .or_default() += 1;
        }
        // No response: AWS was not reached, and nothing is charged.
        let Some(response) = context.response() else {
            return Ok(());
        };
        let status = response.status().as_u16();
        let error_type = response.headers().get("x-amzn-errortype").unwrap_or("");
        let body = response.body().bytes().unwrap_or(&[]);
        let throttled = status == 429
            || (status == 400
                && THROTTLING
                    .iter()
                    .any(|code| error_type.starts_with(code) || contains(body, code.as_bytes())));
        if throttled {
            self.meter.throttled.fetch_add(1, Ordering::Relaxed);
        } else {
            self.meter.requests.fetch_add(1, Ordering::Relaxed);
            let operation = metadata.map_or("", |m| m.name());
            self.meter.add_cost((self.price)(operation));
        }
        Ok(())
    }
}

/// Whether `haystack` holds `needle` as a quoted JSON or XML value (`"Code"`, `>Code<`).
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len() + 2).any(|w| {
        let (open, close) = (w[0], w[w.len() - 1]);
        &w[1..w.len() - 1] == needle
            && matches!((open, close), (b'"', b'"') | (b'>', b'<') | (b'#', b'"'))
    })
}
