//! What becomes of findings: one open finding per scope, updated, escalated or resolved
//! ([`lifecycle`]), the root cause told with each alert ([`root_cause`]), and what people
//! silenced ([`Silence`]).

pub mod lifecycle;
pub mod root_cause;
mod silences;

pub use silences::Silence;
