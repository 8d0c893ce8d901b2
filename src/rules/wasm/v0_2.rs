//! `costwatch:rule@0.2.0` (`wit/v0.2.0`), the interface this host speaks: its types are the
//! host's own, and plugins built for older interfaces are converted to them.

wasmtime::component::bindgen!({
    world: "rule-plugin",
    path: "wit/v0.2.0",
});

pub use self::costwatch::rule::host::Level;
pub use self::costwatch::rule::types::{
    Action, Context, Crash, Dimension, Finding, Needs, RuleError, RuleInfo, Series, SeriesKey,
    Setting, SettingKind, Severity, Value,
};
