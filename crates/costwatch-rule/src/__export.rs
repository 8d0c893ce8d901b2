//! What [`export_rule!`](crate::export_rule) expands to call: the rule built from its config
//! on every call, and crashes reported to the host before the guest stops.

use crate::{Config, Context, Finding, Rule, RuleError, RuleInfo, Series, Value};

/// Reports panics to the host (`report-crash`), which quotes them in the rule's failure, and
/// to its log.
fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            crate::error(&format!("panicked: {info}"));
            report(&crate::Crash {
                kind: "panic".into(),
                message,
                location,
                trace: None,
            });
        }))
    });
}

#[cfg(target_arch = "wasm32")]
fn report(crash: &crate::Crash) {
    crate::bindings::costwatch::rule::host::report_crash(crash);
}

/// Natively (a plugin's own `cargo test`) there is no host to tell.
#[cfg(not(target_arch = "wasm32"))]
fn report(_: &crate::Crash) {}

/// `info`: the rule's info and settings.
pub fn info<R: Rule>() -> RuleInfo {
    init();
    let info = R::info();
    RuleInfo {
        id: info.id,
        version: info.version,
        description: info.description,
        config_schema: R::schema(),
        needs: crate::Needs {
            history_days: info.history_days,
            dimensions: info.dimensions,
            usage_types: info.usage_types,
        },
    }
}

/// `validate-config`.
pub fn validate<R: Rule>(entries: Vec<(String, Value)>) -> Result<(), RuleError> {
    init();
    build::<R>(entries).map(|_| ())
}

/// `evaluate`.
pub fn evaluate<R: Rule>(ctx: Context, batch: Vec<Series>) -> Result<Vec<Finding>, RuleError> {
    init();
    let rule = build::<R>(ctx.config.clone())?;
    rule.evaluate(&ctx, &batch)
}

/// The rule of a config table, read and validated as on every call.
pub fn build<R: Rule>(entries: Vec<(String, Value)>) -> Result<R, RuleError> {
    let rule = R::from_config(&Config::new(entries))?;
    rule.validate()?;
    Ok(rule)
}
